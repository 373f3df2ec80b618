"""Every script in docs/examples runs to completion (exit status 0) in a fresh interpreter.

The scripts are globbed, so a new example is tested without listing it here. Each runs in a
temporary working directory; pictures go to a temporary folder (the scripts' default or
``--out``), never into the repository. The timeout is generous because the machines that run
the suite are shared; each script is meant to take well under a minute on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.py"))
TIMEOUT_S = 300


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 4, EXAMPLES


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    env = {**os.environ, "MPLBACKEND": "Agg", "TMPDIR": str(tmp),
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT_S)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.stdout.strip(), f"{script.name} printed nothing"
    assert not list(cwd.iterdir()), f"{script.name} wrote into its working directory: {list(cwd.iterdir())}"
