"""Many workers on one study, for real: `upsamplekit study --submit-only`, several `upsamplekit worker`
processes (one killed with SIGKILL mid-trial), `upsamplekit report` while they run and after, on a real
PostgreSQL server (tests/study/conftest.py starts it) and on a journal file; and the bad input of issue 7.

Each scenario checks the storage itself with Optuna: every (candidate, seed) has exactly one complete trial
with a complete result, the killed worker's trial is failed and its retry complete, nothing is left queued
or running, and the numbers equal those of a single-process run with the same seeds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
from click.testing import CliRunner

import upsamplekit
from upsamplekit.cli import app
from upsamplekit.study.config import StudyConfig

pytestmark = pytest.mark.slow

SETTINGS = ["--upsamplers", "bilinear,subpixel", "--schedules", "2", "--scale", "2", "--steps", "120", "--seeds", "3",
            "--batch-size", "4", "--crop", "16", "--val-crops", "1", "--val-size", "16", "--latency-size", "8",
            "--threads", "1", "--heartbeat", "1"]
SPECS = {(name, seed) for name in ("bilinear@2", "subpixel@2") for seed in range(3)}
#: Numbers that do not depend on the machine's load (latency and timings do).
EXACT = ("psnr", "ssim", "checkerboard", "params", "macs", "peak_memory_bytes", "final_loss")


def cli(*args: str) -> subprocess.Popen[str]:
    """``upsamplekit ARGS`` in a new process (as a user on another machine would start it)."""
    return subprocess.Popen([sys.executable, "-m", "upsamplekit", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stderr


def load(storage: str, name: str = "s") -> optuna.Study:
    if storage.startswith("journal:"):
        backend = optuna.storages.journal.JournalFileBackend(storage[len("journal:"):])
        return optuna.load_study(study_name=name, storage=optuna.storages.JournalStorage(backend))
    return optuna.load_study(study_name=name, storage=storage)


@pytest.fixture(scope="module")
def single_process(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], dict]:
    """The same study run by one process on SQLite: the reference numbers."""
    out = tmp_path_factory.mktemp("single")
    code, stderr = invoke("study", *SETTINGS, "--out", str(out), "--no-progress")
    assert code == 0, stderr
    trials = json.loads((out / "results.json").read_text())["trials"]
    return {(t["candidate"], t["seed"]): t for t in trials}


def run_workers_and_kill_one(storage: str, tmp_path: Path, single: dict, workers: int) -> None:
    code, stderr = invoke("study", *SETTINGS, "--storage", storage, "--study-name", "s", "--submit-only",
                          "--out", str(tmp_path / "submitter"))
    assert code == 0, stderr
    assert "6 trials queued in study 's'" in stderr and "upsamplekit worker --storage" in stderr
    processes = [cli("worker", "--storage", storage, "--study-name", "s", "--threads", "1", "--no-progress")
                 for _ in range(workers)]
    victim = processes[0]
    owner = f"{socket.gethostname()}:{victim.pid}"
    study = load(storage)
    deadline = time.monotonic() + 120
    killed = None
    while killed is None:
        assert time.monotonic() < deadline and victim.poll() is None, "the victim never started a trial"
        running = [t for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
                   if t.user_attrs.get("worker") == owner]
        if running:
            os.kill(victim.pid, signal.SIGKILL)
            killed = running[0].number
        time.sleep(0.02)
    victim.wait()
    # A report while the others work: written from the storage, with the unfinished trials as pending.
    code, stderr = invoke("report", "--storage", storage, "--study-name", "s", "--out", str(tmp_path / "during"))
    assert code == 0, stderr
    during = json.loads((tmp_path / "during" / "results.json").read_text())
    assert during["pending"] >= 1 and len(during["trials"]) + during["pending"] == 6
    for process in processes[1:]:
        code, _, stderr = finish(process)
        assert code == 0, stderr
        assert "the study has 6 of 6 trials done" in stderr

    trials = load(storage).get_trials()
    states = Counter(t.state.name for t in trials)
    assert states["WAITING"] == states["RUNNING"] == 0
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    keys = [(t.user_attrs["candidate"], t.user_attrs["seed"]) for t in complete]
    assert sorted(keys) == sorted(SPECS)  # every spec exactly once
    lost = trials[killed]
    assert lost.state.name == "FAIL" and lost.user_attrs["worker"] == owner and "result" not in lost.user_attrs
    retry = [t for t in complete if t.system_attrs.get("failed_trial") == killed]
    assert len(retry) == 1 and retry[0].user_attrs["worker"] != owner
    assert (retry[0].user_attrs["candidate"], retry[0].user_attrs["seed"]) == \
        (lost.user_attrs["candidate"], lost.user_attrs["seed"])
    # Complete results, equal to the single-process run's.
    for trial in complete:
        result = trial.user_attrs["result"]
        reference = single[(trial.user_attrs["candidate"], trial.user_attrs["seed"])]
        assert {k: result[k] for k in EXACT} == {k: reference[k] for k in EXACT}
        assert trial.values == [result["psnr"], result["macs"], result["latency_ms"], result["peak_memory_bytes"]]
        assert ("picture" in trial.user_attrs) == (trial.user_attrs["seed"] == 0)

    code, stderr = invoke("report", "--storage", storage, "--study-name", "s", "--out", str(tmp_path / "after"))
    assert code == 0, stderr
    after = json.loads((tmp_path / "after" / "results.json").read_text())
    assert after["pending"] == 0 and len(after["trials"]) == 6 and after["recommendation"] is not None
    html = (tmp_path / "after" / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4  # input, target and both candidates' reconstructions
    # A worker joining a finished study has nothing to do.
    code, _, stderr = finish(cli("worker", "--storage", storage, "--study-name", "s", "--no-progress"))
    assert code == 0 and "ran 0 trials here; the study has 6 of 6 trials done" in stderr


def test_postgresql_three_workers_one_killed(postgres_url: str, tmp_path: Path, single_process: dict) -> None:
    run_workers_and_kill_one(postgres_url, tmp_path, single_process, workers=3)


def test_journal_two_workers_one_killed(tmp_path: Path, single_process: dict) -> None:
    run_workers_and_kill_one(f"journal:{tmp_path / 'study.log'}", tmp_path, single_process, workers=3)


def test_study_command_works_alongside_a_worker(postgres_url: str, tmp_path: Path, single_process: dict) -> None:
    """`upsamplekit study --storage` is itself a worker: with one more worker, both run trials, the study
    command waits for the last one and writes the full report."""
    helper = cli("worker", "--storage", postgres_url, "--study-name", "s", "--threads", "1", "--no-progress")
    code, stderr = invoke("study", *SETTINGS, "--storage", postgres_url, "--study-name", "s",
                          "--out", str(tmp_path), "--no-progress")
    assert code == 0, stderr
    code, _, worker_err = finish(helper)
    assert code == 0, worker_err
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["pending"] == 0 and len(data["trials"]) == 6
    workers = Counter(t.user_attrs["worker"] for t in load(postgres_url).get_trials() if t.state.name == "COMPLETE")
    assert sum(workers.values()) == 6
    for trial in data["trials"]:
        reference = single_process[(trial["candidate"], trial["seed"])]
        assert {k: trial[k] for k in EXACT} == {k: reference[k] for k in EXACT}


def test_sigterm_queues_the_trial_in_flight_again_at_once(tmp_path: Path) -> None:
    """A scheduler's SIGTERM (preemption, scancel, a deleted pod) stops a worker like Ctrl-C: its trial is
    queued again immediately, without waiting for the heartbeat to go stale."""
    storage = f"journal:{tmp_path / 'study.log'}"
    code, stderr = invoke("study", *SETTINGS, "--storage", storage, "--study-name", "s", "--submit-only",
                          "--heartbeat", "60", "--out", str(tmp_path))
    assert code == 0, stderr
    worker = cli("worker", "--storage", storage, "--study-name", "s", "--threads", "1", "--no-progress")
    owner, deadline = f"{socket.gethostname()}:{worker.pid}", time.monotonic() + 120
    while not [t for t in load(storage).get_trials(states=(optuna.trial.TrialState.RUNNING,))
               if t.user_attrs.get("worker") == owner]:
        assert time.monotonic() < deadline and worker.poll() is None, "the worker never started a trial"
        time.sleep(0.02)
    worker.send_signal(signal.SIGTERM)
    code, _, stderr = finish(worker, timeout=60)
    assert code == 130 and "queued again" in stderr, stderr
    trials = load(storage).get_trials()
    stopped = [t for t in trials if t.state.name == "FAIL"]
    assert len(stopped) == 1 and stopped[0].user_attrs["interrupted"] is True
    spec = (stopped[0].user_attrs["candidate"], stopped[0].user_attrs["seed"])
    queued = {(t.user_attrs["candidate"], t.user_attrs["seed"]) for t in trials if t.state.name == "WAITING"}
    done = {(t.user_attrs["candidate"], t.user_attrs["seed"]) for t in trials if t.state.name == "COMPLETE"}
    assert spec in queued and queued | done == SPECS and not queued & done


# ----------------------------------------------------------------------------------------- bad input
def test_unreachable_server_and_wrong_password_are_clear_errors(postgres, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    unreachable = f"postgresql://user:hunter2@127.0.0.1:{closed}/db"
    for command in (["study", *SETTINGS, "--out", str(tmp_path)], ["worker"], ["report", "--out", str(tmp_path)]):
        code, stderr = invoke(*command, "--storage", unreachable, "--study-name", "s")
        assert code == 2 and "Error: the study storage " in stderr, stderr
        assert f"'postgresql://user@127.0.0.1:{closed}/db' cannot be opened" in stderr
        assert "Connection refused); it was left untouched: check the URL, that the server runs" in stderr
        assert "hunter2" not in stderr
    wrong = postgres.wrong_password_url("postgres")
    code, stderr = invoke("worker", "--storage", wrong, "--study-name", "s")
    assert code == 2 and "password authentication failed" in stderr and postgres.password not in stderr


def test_a_different_configuration_or_version_is_refused_and_the_study_kept(postgres_url: str,
                                                                           tmp_path: Path) -> None:
    code, stderr = invoke("study", *SETTINGS, "--storage", postgres_url, "--study-name", "s", "--submit-only",
                          "--out", str(tmp_path))
    assert code == 0, stderr
    before = load(postgres_url)
    trials, attrs = len(before.get_trials()), before.user_attrs
    changed = [a if a != "120" else "99" for a in SETTINGS]  # --steps 99
    code, stderr = invoke("study", *changed, "--lr", "0.01", "--storage", postgres_url, "--study-name", "s",
                          "--out", str(tmp_path))
    assert code == 2 and "was made with other settings" in stderr
    assert "steps: stored 120, now 99" in stderr and f"lr: stored {StudyConfig().lr!r}, now 0.01" in stderr
    before.set_user_attr("upsamplekit_version", "0.0.1")
    attrs["upsamplekit_version"] = "0.0.1"
    code, stderr = invoke("worker", "--storage", postgres_url, "--study-name", "s")
    assert code == 2 and f"this worker has upsamplekit {upsamplekit.__version__} but study 's'" in stderr
    assert "made with 0.0.1: install upsamplekit==0.0.1" in stderr
    code, stderr = invoke("worker", "--storage", postgres_url, "--study-name", "other")
    assert code == 2 and "study_name 'other' is not a study in" in stderr and "(it has 's')" in stderr
    after = load(postgres_url)
    assert len(after.get_trials()) == trials and after.user_attrs == attrs
    assert all(t.state.name == "WAITING" for t in after.get_trials())  # nothing was popped or failed


def test_sqlite_is_for_one_process(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    code, stderr = invoke("worker", "--storage", storage, "--study-name", "s")
    assert code == 2 and "a worker cannot join a study on SQLite" in stderr and "journal:" in stderr
    code, stderr = invoke("study", *SETTINGS, "--out", str(tmp_path), "--submit-only")
    assert code == 2 and "submit_only needs shared storage" in stderr
    assert not (tmp_path / "study.db").exists()


def test_a_worker_without_the_studys_images_says_so(tmp_path: Path) -> None:
    from PIL import Image

    images = tmp_path / "photos"
    images.mkdir()
    for i in range(3):
        Image.new("RGB", (40, 40 + i), (10 * i, 80, 160)).save(images / f"p{i}.png")
    storage = f"journal:{tmp_path / 'study.log'}"
    code, stderr = invoke("study", *SETTINGS, "--images", str(images), "--storage", storage, "--study-name", "s",
                          "--submit-only", "--out", str(tmp_path / "out"))
    assert code == 0, stderr
    images.rename(tmp_path / "elsewhere")  # as on a machine without the shared disk
    code, stderr = invoke("worker", "--storage", storage, "--study-name", "s")
    assert code == 2 and "study 's' cannot run on this machine: images must be an existing folder" in stderr
    assert "at the same paths" in stderr
    assert all(t.state.name == "WAITING" for t in load(storage).get_trials())


# ----------------------------------------------------------------------------------------- halving
HALVING = ["--upsamplers", "bilinear,subpixel,nearest", "--schedules", "2", "--scale", "2", "--steps", "120",
           "--seeds", "2", "--budget", "halving", "--eta", "2", "--rungs", "3", "--batch-size", "4", "--crop", "16",
           "--val-crops", "1", "--val-size", "16", "--latency-size", "8", "--threads", "1", "--heartbeat", "1"]
HALVING_EXACT = (*EXACT, "curve", "rung")


@pytest.fixture(scope="module")
def single_halving(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """The halving study run by one process on SQLite: its trials by (candidate, seed, rung), and its decisions."""
    out = tmp_path_factory.mktemp("single-halving")
    code, stderr = invoke("study", *HALVING, "--out", str(out), "--no-progress")
    assert code == 0, stderr
    trials = json.loads((out / "results.json").read_text())["trials"]
    decisions = {k: v for k, v in load(f"sqlite:///{out / 'study.db'}", "upsamplekit-study").user_attrs.items()
                 if k.startswith("halving_rung_")}
    return {(t["candidate"], t["seed"], t["rung"]): t for t in trials}, decisions


def rung_key(trial: optuna.trial.FrozenTrial) -> tuple[str, int, int]:
    return (trial.user_attrs["candidate"], trial.user_attrs["seed"], trial.user_attrs.get("rung", 0))


def halving_workers_one_killed_mid_rung(storage: str, tmp_path: Path, single: tuple[dict, dict], workers: int) -> None:
    """Workers share the rungs: every (candidate, seed, rung) runs once, each rung is decided once (as one
    process decides it), and the worker SIGKILLed in a trial of a later rung loses only that rung of that
    trial: another worker continues it from the previous rung's checkpoint, to the same numbers."""
    reference, decisions = single
    code, stderr = invoke("study", *HALVING, "--storage", storage, "--study-name", "s", "--submit-only",
                          "--out", str(tmp_path / "submitter"))
    assert code == 0, stderr
    processes = {p.pid: p for p in (cli("worker", "--storage", storage, "--study-name", "s", "--threads", "1",
                                        "--no-progress") for _ in range(workers))}
    host, deadline, killed = socket.gethostname(), time.monotonic() + 180, None
    while killed is None:  # SIGKILL whichever worker first runs a trial of rung 1 or 2
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes.values()), \
            "no worker reached a later rung"
        for trial in load(storage).get_trials(states=(optuna.trial.TrialState.RUNNING,)):
            worker = str(trial.user_attrs.get("worker", ""))
            if trial.user_attrs.get("rung", 0) >= 1 and worker.startswith(f"{host}:"):
                victim = processes[int(worker.rsplit(":", 1)[1])]
                os.kill(victim.pid, signal.SIGKILL)
                killed, owner = trial.number, worker
                break
        time.sleep(0.02)
    victim.wait()
    for process in processes.values():
        if process is not victim:
            code, _, stderr = finish(process)
            assert code == 0, stderr

    study = load(storage)
    trials = study.get_trials()
    states = Counter(t.state.name for t in trials)
    assert states["WAITING"] == states["RUNNING"] == 0
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert sorted(rung_key(t) for t in complete) == sorted(reference)  # every rung of every trial exactly once
    lost = trials[killed]
    assert lost.state.name == "FAIL" and lost.user_attrs["worker"] == owner and lost.user_attrs["rung"] >= 1
    retry = [t for t in complete if t.system_attrs.get("failed_trial") == killed]
    assert len(retry) == 1 and retry[0].user_attrs["worker"] != owner and rung_key(retry[0]) == rung_key(lost)
    for trial in complete:
        result = trial.user_attrs["result"]
        assert {k: result[k] for k in HALVING_EXACT} == {k: reference[rung_key(trial)][k] for k in HALVING_EXACT}
    assert {k: v for k, v in study.user_attrs.items() if k.startswith("halving_rung_")} == decisions

    code, stderr = invoke("report", "--storage", storage, "--study-name", "s", "--out", str(tmp_path / "after"))
    assert code == 0, stderr
    after = json.loads((tmp_path / "after" / "results.json").read_text())
    assert after["pending"] == 0 and after["recommendation"] is not None


def test_postgresql_halving_workers_share_the_rungs_one_killed(postgres_url: str, tmp_path: Path,
                                                               single_halving: tuple[dict, dict]) -> None:
    halving_workers_one_killed_mid_rung(postgres_url, tmp_path, single_halving, workers=3)
    import sqlalchemy as sa

    with sa.create_engine(postgres_url).connect() as connection:  # the checkpoints live in the study's database
        names = {row[0] for row in connection.execute(sa.text("SELECT name FROM upsamplekit_checkpoints"))}
    assert names == {f"{c}/seed{s}/rung{r}" for c, s, r in single_halving[0] if r < 2}


def test_journal_halving_workers_share_the_rungs_one_killed(tmp_path: Path, single_halving: tuple[dict, dict]) -> None:
    halving_workers_one_killed_mid_rung(f"journal:{tmp_path / 'study.log'}", tmp_path, single_halving, workers=2)
    files = list((tmp_path / "study.log.checkpoints" / "s").iterdir())
    assert len(files) == sum(r < 2 for _, _, r in single_halving[0])
