"""Smoke test of benchmarks/bench_import.py: its pieces run on this checkout and on an exported commit.

No timing is asserted (that is the benchmark's job, on a quiet machine); the census is: the root
import of this checkout loads no optional dependency and only a handful of the package's modules.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_census_of_this_checkout(load_benchmark) -> None:
    bench = load_benchmark("bench_import")
    total, loaded, heavy = bench.census(ROOT / "src")
    assert heavy == "none"
    assert 0 < loaded <= 6 < total


def test_a_commit_is_exported_and_timed(load_benchmark, tmp_path: Path) -> None:
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    bench = load_benchmark("bench_import")
    src = bench.export("HEAD", tmp_path)
    assert (src / "upsamplekit" / "__init__.py").is_file()
    assert bench.run_once(src, ["-m", "upsamplekit", "shapes", "conv", "8", "-k", "3"]) > 0
    assert bench.quartiles([3.0, 1.0, 2.0])[1] == 2.0
