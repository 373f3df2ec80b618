"""The Optuna engine: resume without re-running, failures, SIGKILL mid-trial, settings and storage errors."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from upsamplekit.study.engine.base import TrialFailure, TrialSpec
from upsamplekit.study.engine.optuna import OptunaEngine, SettingsMismatchError, StorageError
from upsamplekit.study.results import Candidate, TrialResult

SETTINGS = {"steps": 10, "lr": 0.01}
SPECS = [TrialSpec(Candidate(name, (2,)), seed) for seed in (0, 1) for name in ("bilinear", "subpixel", "nearest")]


def fake(spec: TrialSpec) -> TrialResult:
    """A result whose numbers encode the spec, so that a mix-up would show."""
    code = {"bilinear": 0, "subpixel": 1, "nearest": 2}.get(spec.candidate.upsampler, 3)
    return TrialResult(spec.candidate, spec.seed, 20.0 + code + spec.seed / 10, 0.5, 0.01, 100 + code, 1000 * code,
                       1.5, 0.1, 2048, 1.0, 0.1, 0.02)


def engine(tmp_path: Path, settings: dict = SETTINGS, version: str = "1.0") -> OptunaEngine:
    return OptunaEngine(f"sqlite:///{tmp_path / 'study.db'}", "s", settings, version)


def test_run_stores_every_result_and_resume_runs_nothing(tmp_path: Path) -> None:
    calls: list[TrialSpec] = []
    done: list[object] = []
    engine(tmp_path).run(SPECS, lambda s: calls.append(s) or fake(s), done.append)
    assert calls == SPECS and len(done) == len(SPECS)
    again = engine(tmp_path)
    assert sorted(r.to_dict().items() for r in again.results()) == sorted(fake(s).to_dict().items() for s in SPECS)
    again.run(SPECS, lambda s: pytest.fail(f"re-ran {s}"))
    more = SPECS + [TrialSpec(Candidate("bicubic", (2,)), 0)]
    again.run(more, lambda s: calls.append(s) or fake(s) if s.candidate.upsampler == "bicubic" else pytest.fail())
    assert calls[-1] == more[-1] and len(again.results()) == len(more)


def test_a_failing_trial_is_stored_and_the_others_go_on(tmp_path: Path) -> None:
    def flaky(spec: TrialSpec) -> TrialResult:
        if spec == SPECS[1]:
            raise RuntimeError("diverged")
        return fake(spec)

    outcomes: list[object] = []
    first = engine(tmp_path)
    first.run(SPECS, flaky, outcomes.append)
    assert [type(o) for o in outcomes].count(TrialFailure) == 1
    assert first.failures() == [TrialFailure(SPECS[1], "RuntimeError: diverged")]
    assert len(first.results()) == len(SPECS) - 1
    calls: list[TrialSpec] = []
    engine(tmp_path).run(SPECS, lambda s: calls.append(s) or fake(s))
    assert calls == [SPECS[1]]  # only the failed one is retried
    assert engine(tmp_path).failures() == []


def test_sigkill_mid_trial_loses_only_that_trial(tmp_path: Path) -> None:
    started = tmp_path / "third-started"
    script = textwrap.dedent(f"""
        import time, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_engine import SPECS, engine, fake
        from pathlib import Path

        def slow(spec):
            if spec == SPECS[2]:
                Path({str(started)!r}).write_text("x")
                time.sleep(120)
            return fake(spec)

        engine(Path({str(tmp_path)!r})).run(SPECS, slow)
    """)
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not started.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the worker never reached the third trial"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    survivor = engine(tmp_path)
    assert sorted((r.candidate, r.seed) for r in survivor.results()) == sorted((s.candidate, s.seed) for s in SPECS[:2])
    calls: list[TrialSpec] = []
    survivor.run(SPECS, lambda s: calls.append(s) or fake(s))
    assert calls == SPECS[2:]  # the trial in flight and the ones never started; nothing else
    assert len(survivor.results()) == len(SPECS) and survivor.failures() == []


def test_other_settings_or_version_are_refused_with_the_difference(tmp_path: Path) -> None:
    engine(tmp_path).run(SPECS[:1], fake)
    with pytest.raises(SettingsMismatchError, match=r"steps: stored 10, now 20.*another --out"):
        engine(tmp_path, {"steps": 20, "lr": 0.01})
    with pytest.raises(SettingsMismatchError, match=r"upsamplekit version: stored '1.0', now '2.0'"):
        engine(tmp_path, version="2.0")
    assert len(engine(tmp_path).results()) == 1  # the stored study is intact


def test_a_corrupt_database_is_an_error_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "study.db"
    path.write_bytes(os.urandom(4096))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StorageError, match=r"study.db' cannot be opened \(.*not a database.*left untouched"):
        engine(tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
