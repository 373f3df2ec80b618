"""The distributed-study benchmark runs (bookkeeping on all three storages) and writes only its own section."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_distributed_quick_writes_its_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_distributed.py"), "--quick", "--out", str(doc)],
                   check=True, capture_output=True, timeout=300)
    text = doc.read_text()
    assert "## Other\n\nkept" in text and "## Distributed study (`upsamplekit worker`)" in text
    for storage in ("| SQLite (one process) |", "| journal file |", "| PostgreSQL "):
        assert storage in text
    assert "Scale-out: skipped with --quick." in text
