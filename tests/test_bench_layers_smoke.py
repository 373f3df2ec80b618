"""Smoke test of benchmarks/bench_layers.py: the quick path on one tiny case, its memory tracker,
the unfold CARAFE it compares against, and the section writer. No timing assertions."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import torch

from upsamplekit.nn import CARAFE

torch.set_num_threads(1)



@pytest.fixture(scope="module")
def bench(load_benchmark) -> ModuleType:
    return load_benchmark("bench_layers")


def test_quick_run_writes_its_section(bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n## Resampling core\n\nkept as it is\n")
    assert bench.main(["--quick", "--names", "bilinear", "--repeats", "1", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Benchmarks\n\n## Resampling core\n\nkept as it is\n\n## Upsampling layers\n")
    rows = [line for line in text.splitlines() if line.startswith("| bilinear")]
    assert len(rows) == 1 and "| 0 | 0.0 |" in rows[0]  # 1 * 8 * 16 * 16 * 4 MACs = 0.0 MMACs
    assert "- command: `python benchmarks/bench_layers.py --quick --names bilinear" in text
    # Running again replaces the section instead of adding a second one.
    bench.main(["--quick", "--names", "nearest", "--repeats", "1", "--out", str(out)])
    text = out.read_text()
    assert text.count("## Upsampling layers") == 1 and "| nearest" in text and "| bilinear" not in text
    assert "kept as it is" in text


def test_section_writer_creates_a_missing_file_and_keeps_later_sections(bench: ModuleType, load_benchmark,
                                                                       tmp_path: Path) -> None:
    write_section = load_benchmark("_common").write_section  # shared by every benchmark script
    path = tmp_path / "new.md"
    write_section(str(path), bench.SECTION, "## Upsampling layers\n\nA\n")
    assert path.read_text() == "## Upsampling layers\n\nA\n"
    path.write_text("## Upsampling layers\n\nold\n\n### detail\n\nold too\n\n## Resampling core\n\nB\n")
    write_section(str(path), bench.SECTION, "## Upsampling layers\n\nnew\n")
    assert path.read_text() == "## Upsampling layers\n\nnew\n\n## Resampling core\n\nB\n"


def test_live_bytes_tracks_tensors_created_until_freed(bench: ModuleType) -> None:
    outside = torch.zeros(10_000)

    def work() -> None:
        a = torch.empty(1000)  # 4000 bytes
        b = torch.empty(2000)  # 8000 bytes: 12000 live
        view = b.view(2, 1000)  # the same storage: not counted again
        view.add_(1.0)  # in place: nothing new
        del a
        c = torch.empty(500)  # 2000 bytes: 10000 live
        d = outside[:5000] * 1.0  # 20000 bytes: 30000 live, the peak
        del b, view, c, d
        e = outside.view(100, 100)  # a view of an ignored storage: not counted
        del e

    with bench.LiveBytes([outside]) as tracker:
        work()
    assert tracker.peak == 30_000
    with bench.LiveBytes([outside]) as tracker:
        torch.empty(10)  # freed before the next op: counted at its own op
        torch.empty(3)
    assert tracker.peak == 40


def test_unfold_carafe_computes_what_carafe_computes(bench: ModuleType) -> None:
    torch.manual_seed(0)
    layer = CARAFE(4, 3, k_up=3, compressed_channels=5, dtype=torch.float64)
    with torch.no_grad():
        layer.content_encoder.weight.normal_()
    x = torch.randn(2, 4, 5, 6, dtype=torch.float64)
    torch.testing.assert_close(bench.UnfoldCARAFE(layer)(x), layer(x), rtol=0, atol=1e-12)
