"""The study benchmark runs and writes only its own section of a Markdown file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_study_quick_writes_its_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_study.py"), "--quick", "--out", str(doc)],
                   check=True, capture_output=True, timeout=300)
    text = doc.read_text()
    assert "## Other\n\nkept" in text and "## Study (`upsamplekit study`)" in text
    assert "| `upsamplekit study --upsamplers bilinear" in text and "of its time on anything but training" in text
