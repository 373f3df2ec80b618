"""bench_recipe's quick path runs as a script and writes only its own section (no numbers asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_run_writes_its_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_recipe.py"), "--quick", "--out", str(doc)],
                   check=True, capture_output=True, timeout=300)
    text = doc.read_text()
    assert "## Other\n\nkept" in text and "## Training recipe (`upsamplekit study`)" in text
    assert "| subpixel [4] | before |" in text and "| subpixel [4] | recipe |" in text
