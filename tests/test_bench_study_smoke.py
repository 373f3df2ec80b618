"""The study benchmarks (bench_study: one process; bench_budget: full against halving; bench_distributed:
shared storage) run their quick path as scripts and write only their own section of a Markdown file. No
timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = {
    "bench_budget": ["## Budget: full against successive halving (`upsamplekit study --budget`)",
                     "--budget full --steps 8` |", "--budget halving --steps 16` |",
                     "--budget halving --steps 16 --seeds 3` |", "- Goal (about the same wall-clock time"],
    "bench_study": ["## Study (`upsamplekit study`)", "| `upsamplekit study --upsamplers bilinear",
                    "| `upsamplekit study --upsamplers bilinear", "On a CUDA GPU: not measured yet"],
    "bench_distributed": ["## Distributed study (`upsamplekit worker`)", "| SQLite (one process) |",
                          "| journal file |", "| PostgreSQL ", "Scale-out: skipped with --quick."],
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_quick_run_writes_its_section(script: str, tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{script}.py"), "--quick", "--out", str(doc)],
                   check=True, capture_output=True, timeout=300)
    text = doc.read_text()
    assert "## Other\n\nkept" in text
    for line in EXPECTED[script]:
        assert line in text
