"""Smoke test of benchmarks/bench_fold.py: the quick path, its section writer and verdict lines.
No timing assertions (the numbers are for docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import torch

torch.set_num_threads(1)



@pytest.fixture(scope="module")
def bench(load_benchmark) -> ModuleType:
    return load_benchmark("bench_fold")


def test_quick_run_writes_its_section(bench: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n## Upsampling layers\n\nkept\n\n## Resampling core\n\nkept too\n")
    assert bench.main(["--quick", "--repeats", "1", "--out", str(out)]) == 0
    text = out.read_text()
    kept = "# Benchmarks\n\n## Upsampling layers\n\nkept\n\n## Resampling core\n\nkept too\n\n"
    assert text.startswith(kept + "## Fold\n")
    for heading in ("### Layers at decoder shapes", "### Where the time goes", "### Study decoders, end to end",
                    "### ONNX (onnxruntime)"):
        assert heading in text
    assert "- command: `python benchmarks/bench_fold.py --quick --repeats 1 --out" in text
    assert "torch threads: 1" in text
    assert "- nearest x2 + 3x3 against nn.Upsample + nn.Conv2d: median ratio" in text
    assert "Goal >= 1.2x" in text
    errors = [float(line.rsplit("|", 2)[1]) for line in text.splitlines()
              if line.startswith(("| nearest |", "| bilinear |"))]
    assert errors and max(errors) <= 1e-5  # the folded layers agree with the originals
    assert bench.main(["--quick", "--repeats", "1", "--no-onnx", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.count("## Fold") == 1 and "### ONNX" not in text and "kept too" in text


def test_relative_error_and_verdicts(bench: ModuleType) -> None:
    assert bench.relative_error(torch.ones(3), torch.ones(3) * 2) == 0.5
    pair = bench.Pair("nearest x2 + 3x3", "nearest", (1, 1, 1, 1), lambda: None, lambda: None,
                      original_ms=[4.0, 4.0], folded_ms=[2.0, 1.0], error=1e-7)
    lines = bench.verdicts([pair])
    assert lines[0].startswith("- nearest x2 + 3x3 against nn.Upsample + nn.Conv2d: median ratio 2.67x over 1 shapes")
    assert lines[0].endswith("Goal >= 2.0x: met.")
