"""benchmarks/bench_gpu.py runs its quick path as a script and writes only its own section ("## GPU") of
a Markdown file. Without CUDA the section says what is not measured yet and the command that measures it;
``--device cpu`` runs the measuring code itself on the CPU (labelled as not GPU numbers). No timing is
asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_gpu.py"


def run(tmp_path: Path, *extra: str) -> str:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Other\n\nkept\n\n## After\n\nkept too\n")
    subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(doc), *extra], check=True,
                   capture_output=True, timeout=300, cwd=tmp_path)
    text = doc.read_text()
    assert "## Other\n\nkept\n" in text and "## After\n\nkept too" in text
    assert text.count("## GPU\n") == 1
    return text


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="with CUDA the section is measured")
def test_without_cuda_the_section_says_what_is_not_measured(tmp_path: Path) -> None:
    text = run(tmp_path)
    assert "Not measured yet: this machine has no CUDA GPU" in text
    assert "    python benchmarks/bench_gpu.py --out docs/benchmarks.md\n" in text
    assert "- CPU: " in text and "- GPU: none" in text
    assert "- command: `python benchmarks/bench_gpu.py --quick --out " in text


@pytest.mark.slow
def test_the_measurements_run_on_the_cpu(tmp_path: Path) -> None:
    text = run(tmp_path, "--device", "cpu")
    assert "Not measured yet" not in text
    assert "- device: cpu (not a GPU" in text
    for heading in ("### Resize per mode", "### Every registered layer", "### Fold"):
        assert heading in text
    assert "| bilinear | (1, 3, 16, 16) -> (32, 32) |" in text
    assert "| carafe |" in text
    assert "| nearest x2 + 3x3 | bfloat16 |" in text


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_the_gpu_check_script_refuses_a_machine_without_cuda(tmp_path: Path) -> None:
    """scripts/gpu_check.sh runs the CUDA tests and this benchmark on a GPU; without one it stops at once,
    saying why, and writes nothing."""
    env = {"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "OUT": str(tmp_path / "out")}
    result = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh")], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1 and "no CUDA GPU here" in result.stderr
    assert not any((tmp_path / "out").iterdir())
