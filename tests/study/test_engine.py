"""The Optuna engine: resume without re-running, failures, SIGKILL mid-trial, settings and storage errors,
the SQLite lock, queueing twice, and the journal's heartbeats (in-process; tests/study/test_distributed.py
runs real worker processes on PostgreSQL and on a journal file)."""

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

from upsamplekit.study.engine.base import (Finished, SettingsMismatchError, StorageError, StudyNotFoundError,
                                           TrialFailure, TrialSpec)
from upsamplekit.study.engine.optuna import OptunaEngine
from upsamplekit.study.engine.storage import storage_kind
from upsamplekit.study.results import Candidate, TrialResult

SETTINGS = {"steps": 10, "lr": 0.01}
SPECS = [TrialSpec(Candidate(name, (2,)), seed) for seed in (0, 1) for name in ("bilinear", "subpixel", "nearest")]


def fake(spec: TrialSpec) -> TrialResult:
    """A result whose numbers encode the spec, so that a mix-up would show."""
    code = {"bilinear": 0, "subpixel": 1, "nearest": 2}.get(spec.candidate.upsampler, 3)
    return TrialResult(spec.candidate, spec.seed, 20.0 + code + spec.seed / 10, 0.5, 0.01, 100 + code, 1000 * code,
                       1.5, 0.1, 2048, 1.0, 0.1, 0.02)


def done(spec: TrialSpec) -> Finished:
    return Finished(fake(spec))


def engine(tmp_path: Path, settings: dict = SETTINGS, version: str = "1.0") -> OptunaEngine:
    """The study command's engine on SQLite in ``tmp_path`` (holds the study's lock until closed)."""
    opened = OptunaEngine(f"sqlite:///{tmp_path / 'study.db'}", "s", create=True)
    try:
        opened.check_settings(settings, version)
    except BaseException:
        opened.close()
        raise
    return opened


def test_run_stores_every_result_and_resume_runs_nothing(tmp_path: Path) -> None:
    calls: list[TrialSpec] = []
    outcomes: list[object] = []
    with engine(tmp_path) as first:
        assert first.run(SPECS, lambda s: calls.append(s) or done(s), outcomes.append) == len(SPECS)
    assert calls == SPECS and len(outcomes) == len(SPECS)
    with engine(tmp_path) as again:
        assert sorted(r.to_dict().items() for r in again.results()) == sorted(fake(s).to_dict().items() for s in SPECS)
        assert again.run(SPECS, lambda s: pytest.fail(f"re-ran {s}")) == 0
        more = SPECS + [TrialSpec(Candidate("bicubic", (2,)), 0)]
        again.run(more, lambda s: calls.append(s) or done(s) if s.candidate.upsampler == "bicubic" else pytest.fail())
        assert calls[-1] == more[-1] and len(again.results()) == len(more)


def test_a_failing_trial_is_stored_and_the_others_go_on(tmp_path: Path) -> None:
    def flaky(spec: TrialSpec) -> Finished:
        if spec == SPECS[1]:
            raise RuntimeError("diverged")
        return done(spec)

    outcomes: list[object] = []
    with engine(tmp_path) as first:
        first.run(SPECS, flaky, outcomes.append)
        assert [type(o) for o in outcomes].count(TrialFailure) == 1
        assert first.failures() == [TrialFailure(SPECS[1], "RuntimeError: diverged")]
        assert len(first.results()) == len(SPECS) - 1
    calls: list[TrialSpec] = []
    with engine(tmp_path) as second:
        second.run(SPECS, lambda s: calls.append(s) or done(s))
        assert calls == [SPECS[1]]  # only the failed one is retried
        assert second.failures() == []


def test_sigkill_mid_trial_loses_only_that_trial(tmp_path: Path) -> None:
    started = tmp_path / "third-started"
    script = textwrap.dedent(f"""
        import time, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_engine import SPECS, engine, done
        from pathlib import Path

        def slow(spec):
            if spec == SPECS[2]:
                Path({str(started)!r}).write_text("x")
                time.sleep(120)
            return done(spec)

        engine(Path({str(tmp_path)!r})).run(SPECS, slow)
    """)
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not started.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the worker never reached the third trial"
        time.sleep(0.05)
    with pytest.raises(StorageError, match=r"is in use by .*:%d: SQLite is for one process" % process.pid):
        engine(tmp_path)  # the lock refuses a second process while the first is alive
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with engine(tmp_path) as survivor:  # the lock died with the process
        assert sorted((r.candidate, r.seed) for r in survivor.results()) == \
            sorted((s.candidate, s.seed) for s in SPECS[:2])
        calls: list[TrialSpec] = []
        survivor.run(SPECS, lambda s: calls.append(s) or done(s))
        assert calls == SPECS[2:]  # the trial in flight and the ones never started; nothing else
        assert len(survivor.results()) == len(SPECS) and survivor.failures() == []


def test_ctrl_c_queues_the_trial_in_flight_again(tmp_path: Path) -> None:
    def interrupted(spec: TrialSpec) -> Finished:
        if spec == SPECS[1]:
            raise KeyboardInterrupt
        return done(spec)

    with engine(tmp_path) as first, pytest.raises(KeyboardInterrupt):
        first.run(SPECS, interrupted)
    with engine(tmp_path) as second:
        assert second.failures() == []  # interrupted is not failed
        calls: list[TrialSpec] = []
        second.run(SPECS, lambda s: calls.append(s) or done(s))
        assert calls == SPECS[1:]


def test_submitting_twice_queues_once_and_a_duplicate_never_runs(tmp_path: Path) -> None:
    with engine(tmp_path) as first:
        assert first.submit(SPECS) == SPECS
        assert first.submit(SPECS) == []  # queued already
        first._enqueue(SPECS[0])  # as if two processes had queued it at the same moment
        calls: list[TrialSpec] = []
        assert first.work(lambda s: calls.append(s) or done(s)) == len(SPECS)
        assert calls == SPECS and first.failures() == [] and len(first.results()) == len(SPECS)
        last = first.study.get_trials()[-1]
        assert last.state.name == "FAIL" and last.user_attrs["duplicate_of"] == 0


def test_other_settings_or_version_are_refused_with_the_difference(tmp_path: Path) -> None:
    with engine(tmp_path) as first:
        first.run(SPECS[:1], done)
    with pytest.raises(SettingsMismatchError, match=r"steps: stored 10, now 20.*another --out"):
        engine(tmp_path, {"steps": 20, "lr": 0.01})
    with pytest.raises(SettingsMismatchError, match=r"upsamplekit version: stored '1.0', now '2.0'"):
        engine(tmp_path, version="2.0")
    with engine(tmp_path) as intact:
        assert len(intact.results()) == 1 and intact.meta()["settings"] == SETTINGS


def test_a_corrupt_database_is_an_error_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "study.db"
    path.write_bytes(os.urandom(4096))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StorageError, match=r"study.db' cannot be opened \(.*not a database.*left untouched"):
        engine(tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_storage_urls_and_joining_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"storage must be one of postgresql://.*but got 'redis://h/0'"):
        storage_kind("redis://h/0")
    with pytest.raises(StorageError, match=r"a worker cannot join a study on SQLite .*journal:"):
        OptunaEngine(f"sqlite:///{tmp_path / 'study.db'}", "s", create=False, worker=True)
    with pytest.raises(StorageError, match=r"folder of the journal file must exist.*'/no/such/dir'"):
        OptunaEngine("journal:/no/such/dir/s.log", "s", create=True)
    with engine(tmp_path):
        pass
    with pytest.raises(StudyNotFoundError, match=r"study_name 'other' is not a study in .* \(it has 's'\)"):
        OptunaEngine(f"sqlite:///{tmp_path / 'study.db'}", "other", create=False)
    for missing in (f"sqlite:///{tmp_path / 'none.db'}", f"journal:{tmp_path / 'none.log'}"):
        with pytest.raises(StudyNotFoundError, match=r"there is no study storage at .*none.* \(no such file\)"):
            OptunaEngine(missing, "s", create=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.db", "study.db.lock"]  # nothing was created


def test_journal_heartbeat_fails_a_silent_trial_and_another_worker_retries_it(tmp_path: Path) -> None:
    """In one process: a 'worker' pops a trial, beats once and falls silent; a second engine on the
    same journal notices after GRACE_BEATS heartbeats, fails it, and runs the retry."""
    url = f"journal:{tmp_path / 'study.log'}"
    lost = OptunaEngine(url, "s", create=True, heartbeat=1)
    lost.submit(SPECS[:2])
    trial = lost._pop()
    lost._storage.record_heartbeat(trial._trial_id)
    started = time.monotonic()
    helper = OptunaEngine(url, "s", create=False, heartbeat=1, worker=True)
    calls: list[TrialSpec] = []
    assert helper.work(lambda s: calls.append(s) or done(s)) == 2
    assert time.monotonic() - started >= 3  # not before 3 missed heartbeats
    assert calls == [SPECS[1], SPECS[0]]  # the free one first, then the lost one's retry
    states = [(t.number, t.state.name, t.system_attrs.get("failed_trial")) for t in helper.study.get_trials()]
    assert states == [(0, "FAIL", None), (1, "COMPLETE", None), (2, "COMPLETE", 0)]
    assert helper.failures() == [] and len(helper.results()) == 2
