"""The study's optional dependencies: reading its settings needs none of them, and using it
without the ``study`` extra fails with one error that names ``pip install 'upsamplekit[study]'``.

A missing package is simulated with ``sys.modules[name] = None`` (Python's own way of blocking
an import), in this process with ``monkeypatch`` or in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from upsamplekit.errors import MissingDependencyError
from upsamplekit.study.report import write_report
from upsamplekit.study.results import Candidate, CandidateSummary, Stat, StudySummary
from upsamplekit.study.runner import run_worker, write_study_report

EXTRA = "pip install 'upsamplekit[study]'"


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_importing_the_config_loads_no_optional_dependency_and_no_torch() -> None:
    done = _python("""
        import sys
        import upsamplekit.study.config
        heavy = ("optuna", "sqlalchemy", "tqdm", "matplotlib", "skimage", "PIL", "torch")
        print(sorted(name for name in heavy if name in sys.modules))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_opening_a_study_without_optuna_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)
    message = f"the study's trial storage needs the Python package 'optuna', which is not installed: {EXTRA}"
    with pytest.raises(MissingDependencyError) as raised:
        write_study_report(tmp_path)
    assert str(raised.value) == message
    with pytest.raises(MissingDependencyError, match=r"'optuna', which is not installed: pip install 'upsamplekit\[study\]'"):
        run_worker(f"journal:{tmp_path / 'study.log'}", "demo", progress=False)


def test_report_pictures_without_pillow_name_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    row = CandidateSummary(Candidate("bilinear", (2,)), False, [0], Stat.of([20.0]), Stat.of([0.5]),
                           Stat.of([0.1]), Stat.of([1.0]), 0, 1000, 0.5, 0.01, 2048)
    image = np.zeros((8, 8, 3))
    summary = StudySummary({}, [row], None, [], images={"target": image, row.candidate.key: image})
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.delitem(sys.modules, "PIL.Image", raising=False)
    with pytest.raises(MissingDependencyError, match=r"needs the Python package 'Pillow', which is not installed: "
                                                     r"pip install 'upsamplekit\[study\]'"):
        write_report(summary, tmp_path)


def test_the_command_line_says_it_in_one_line(tmp_path: Path) -> None:
    done = _python(f"""
        import sys
        sys.modules["optuna"] = None
        from upsamplekit.cli import main
        sys.argv = ["upsamplekit", "report", "--out", {str(tmp_path)!r}]
        main()
    """)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert EXTRA in done.stderr
