"""The Optuna engine: every trial is an Optuna trial in a storage that any number of worker
processes, on any number of machines, can share.

Storages (:func:`open_storage`):

- ``sqlite:///path/study.db``: one process (the default, in the output folder). A lock file
  next to the database refuses a second process; what a killed process left running is queued
  again by the next one.
- ``postgresql://user:password@host:port/database`` (or ``mysql://...``): many workers.
- ``journal:/shared/disk/study.log``: Optuna's JournalStorage, a file on a disk all workers see.

With shared storage every worker sends a heartbeat while it runs a trial; a trial whose worker is
silent for :data:`GRACE_BEATS` heartbeats (killed, preempted, out of memory) is marked failed by
whichever worker notices first, and Optuna's ``RetryHeartbeatStaleTrialCallback`` queues it again
(at most :data:`MAX_RETRY` times).

Layout in the storage: the study's user attributes are the engine's ``meta`` (the runner keeps the
settings, the candidate grid, the heartbeat interval and the upsamplekit version there). Each trial
has user attributes ``candidate`` (key), ``seed``, ``worker`` (host:pid) and, when complete,
``result`` (a :class:`TrialResult` as a dict) and ``picture`` (base64 PNG, optional); a failed
trial has ``error`` (its message), ``interrupted`` (stopped by Ctrl-C, queued again) or
``duplicate_of`` (the same spec was queued twice; the lower trial number runs), or none of them
(its worker stopped sending heartbeats). Values are (PSNR, MACs, latency ms, peak memory bytes)
for the directions (maximize, minimize, minimize, minimize). Pending work is queued as WAITING
trials; workers pop them atomically, so a trial runs in one worker only.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import socket
import sqlite3
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import optuna
import sqlalchemy.exc
from optuna.storages._heartbeat import BaseHeartbeat  # optuna's heartbeat interface has no public name
from optuna.storages.journal import JournalFileBackend

from ..results import Candidate, TrialResult
from .checkpoints import CheckpointStore, FolderCheckpoints, TableCheckpoints
from .base import COLLAPSED, Engine, Finished, Progress, StorageError, StudyNotFoundError, TrialFailure, TrialSpec
from .storage import describe, storage_file, storage_kind

__all__ = ["OptunaEngine", "open_storage", "DIRECTIONS", "GRACE_BEATS", "MAX_RETRY"]

#: The directions of a trial's values: (PSNR, MACs, latency ms, peak memory bytes).
DIRECTIONS: tuple[Literal["maximize", "minimize"], ...] = ("maximize", "minimize", "minimize", "minimize")
#: A trial whose worker has been silent for this many heartbeat intervals is failed and retried.
GRACE_BEATS = 3
#: How often a trial whose worker died is queued again before it is reported as failed.
MAX_RETRY = 3
#: How often a worker with nothing queued looks again (for retries, and to exit soon after the last result).
POLL_SECONDS = 1.0
_log = logging.getLogger("upsamplekit.study")
_BEAT = "upsamplekit:heartbeat"  # the journal's heartbeat, a trial system attribute


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        logger.setLevel(level)


def open_storage(url: str, heartbeat: int | None = None) -> Any:
    """An Optuna storage for ``url`` (see the module docstring), with heartbeats every
    ``heartbeat`` seconds (None: none) and stale trials retried; :class:`StorageError` when it
    cannot be opened, naming the storage (never its password) and the reason."""
    kind = storage_kind(url)
    try:
        with _quiet_optuna():
            retry = _retry_callback() if heartbeat else None
            if kind == "journal":
                path = storage_file(url)
                if path is None or not path.parent.is_dir():
                    raise StorageError(f"storage {describe(url)}: the folder of the journal file must exist "
                                       f"(a disk every worker sees), but {str(path and path.parent)!r} does not")
                backend = JournalFileBackend(str(path))
                return _HeartbeatJournalStorage(backend, heartbeat, retry)
            kwargs: dict[str, Any] = {"engine_kwargs": _engine_kwargs(url)}
            if heartbeat:
                kwargs.update(heartbeat_interval=heartbeat, grace_period=GRACE_BEATS * heartbeat,
                              heartbeat_stale_trial_callback=retry)
            return optuna.storages.RDBStorage(url, **kwargs)
    except ModuleNotFoundError as error:
        hint = "pip install 'upsamplekit[postgres]'" if "psycopg" in str(error.name) else f"pip install {error.name}"
        raise StorageError(f"storage {describe(url)} needs the database driver {error.name!r}, which is not "
                           f"installed: {hint}") from None
    except (sqlalchemy.exc.SQLAlchemyError, OSError, ValueError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        advice = ("check the URL, that the server runs and is reachable from here, and the user name and password"
                  if kind == "rdb" else "move it aside, or choose another --out / --storage")
        raise StorageError(f"the study storage {describe(url)} cannot be opened "
                           f"({reason[0] if reason else type(error).__name__}); it was left untouched: {advice}") from None


def _engine_kwargs(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    # Fail fast on an unreachable server; check pooled connections before use (long trials).
    return {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}


def _retry_callback() -> Callable[[optuna.Study, optuna.trial.FrozenTrial], None]:
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        trial.system_attrs.pop(_BEAT, None)  # the copy must not inherit the dead worker's last beat
        tries = len(trial.system_attrs.get("retry_history", [])) + 1
        again = "queued again" if tries <= MAX_RETRY else f"not queued again ({tries} lost runs)"
        _log.warning("trial %d (%s seed %s) lost its worker %s (no heartbeat): %s", trial.number,
                     trial.user_attrs.get("candidate"), trial.user_attrs.get("seed"), trial.user_attrs.get("worker"),
                     again)
        retry(study, trial)

    return callback


class _HeartbeatJournalStorage(optuna.storages.JournalStorage, BaseHeartbeat):
    """JournalStorage with heartbeats (Optuna 5 has them for RDB storages only): the worker's
    clock in a trial system attribute, so the workers' clocks must agree (NTP)."""

    def __init__(self, backend: Any, heartbeat: int | None, callback: Any) -> None:
        super().__init__(backend)
        self._interval, self._callback = heartbeat, callback

    def record_heartbeat(self, trial_id: int) -> None:
        self.set_trial_system_attr(trial_id, _BEAT, time.time())

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        grace, now = GRACE_BEATS * (self._interval or 0), time.time()
        running = self.get_all_trials(study_id, deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        return [t._trial_id for t in running if _BEAT in t.system_attrs and now - t.system_attrs[_BEAT] > grace]

    def get_heartbeat_interval(self) -> int | None:
        return self._interval

    def get_heartbeat_stale_trial_callback(self) -> Any:
        return self._callback


class _Lock:
    """An exclusive lock on ``path`` (flock), held while one process uses a SQLite study."""

    def __init__(self, path: Path, db: str) -> None:
        import fcntl

        try:
            self._file = open(path, "a+")  # noqa: SIM115  (held until release)
        except OSError as error:
            raise StorageError(f"the lock file {str(path)!r} of the SQLite study {db} cannot be opened "
                               f"({error.strerror or error}); the study was left untouched: remove or move aside "
                               f"what is at {str(path)!r}, or choose another --out / --storage") from None
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "another process"
            self._file.close()
            raise StorageError(
                f"the SQLite study {db} is in use by {holder}: SQLite is for one process at a time (concurrent "
                "writers fail with 'database is locked'). Wait for it to finish, or use a PostgreSQL URL or "
                "journal:/shared/path/study.log as --storage to run several workers") from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{_worker_id()}\n")
        self._file.flush()

    def release(self) -> None:
        if not self._file.closed:
            self._file.close()


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class OptunaEngine(Engine):
    """The study ``study_name`` in the storage ``url``.

    ``create=True`` (``upsamplekit study``) creates the study or opens it for more work; with a
    SQLite URL it takes the study's lock (one process) and queues again what a killed process
    left running. ``create=False`` opens an existing study (:class:`StudyNotFoundError`
    otherwise). ``heartbeat`` seconds (shared storages only) turns on heartbeats and the retry of
    trials whose worker died; ``worker=True`` refuses SQLite (use it for extra worker processes).
    """

    def __init__(self, url: str, study_name: str, *, create: bool, heartbeat: int | None = None,
                 worker: bool = False) -> None:
        self._state = optuna.trial.TrialState
        self.url, self.study_name = url, study_name
        self.kind = storage_kind(url)
        if worker and self.kind == "sqlite":
            raise StorageError(f"a worker cannot join a study on SQLite ({describe(url)}): SQLite is for one "
                               "process (concurrent writers fail with 'database is locked'). Create the study with "
                               "--storage postgresql://... or --storage journal:/shared/path/study.log")
        self._lock: _Lock | None = None
        self._checkpoints: CheckpointStore | None = None
        path = storage_file(url)
        if path is not None and path.is_dir():
            raise StorageError(f"the study storage {describe(url)} must be a file, but it is a directory; it was "
                               "left untouched: move it aside, or choose another --out / --storage")
        if not create and path is not None and not path.is_file():
            raise StudyNotFoundError(f"there is no study storage at {describe(url)} (no such file): create the study "
                                     "with `upsamplekit study` first, or check --out / --storage")
        if create and self.kind == "sqlite" and path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _Lock(path.with_name(path.name + ".lock"), describe(url))
        try:
            if self.kind == "sqlite" and path is not None:
                _check_sqlite_file(path, url)
            self._storage = open_storage(url, heartbeat if self.kind != "sqlite" else None)
            self._beat = heartbeat if self.kind != "sqlite" else None
            with _quiet_optuna():
                if create:
                    self.study = optuna.create_study(study_name=study_name, storage=self._storage,
                                                     directions=list(DIRECTIONS), load_if_exists=True)
                else:
                    try:
                        self.study = optuna.load_study(study_name=study_name, storage=self._storage)
                    except KeyError:
                        names = optuna.get_all_study_names(self._storage)
                        raise StudyNotFoundError(
                            f"study_name {study_name!r} is not a study in {describe(url)} (it has "
                            f"{', '.join(map(repr, names)) or 'no studies'}): create it with `upsamplekit study "
                            f"--storage URL --study-name {study_name}`") from None
            self._study_id = self._storage.get_study_id_from_name(study_name)
            self._check_readable()
            if self._lock is not None:
                self._requeue_leftovers()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if isinstance(getattr(self, "_storage", None), optuna.storages.RDBStorage):
            self._storage.remove_session()
            self._storage.engine.dispose()  # the connection pool: a server counts its connections
        if self._lock is not None:
            self._lock.release()

    def _check_readable(self) -> None:
        """Read everything the study holds once, before anything is written: a tampered storage
        (invalid JSON, NULL values, attributes of the wrong kind) is refused here, untouched,
        instead of failing halfway through a run."""
        try:
            self.meta()
            for trial in self._trials():
                _key(trial)
                trial.values  # noqa: B018  (reading them is the check)
                if trial.state == self._state.COMPLETE and "result" in trial.user_attrs:
                    result = trial.user_attrs["result"]
                    if not isinstance(result, dict):
                        raise ValueError(f"trial {trial.number}: result is not a table but {result!r}")
                    TrialResult.from_dict(result)
                if "picture" in trial.user_attrs:
                    base64.b64decode(trial.user_attrs["picture"], validate=True)
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError, ValueError, TypeError,
                KeyError, LookupError, AttributeError, AssertionError, binascii.Error) as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()
            raise StorageError(f"the study storage {describe(self.url)} cannot be opened (it is damaged: "
                               f"{type(error).__name__}: {reason[0] if reason else 'a value Optuna cannot read'}); it was left "
                               "untouched: move it aside, or choose another --out / --storage") from None

    @property
    def checkpoints(self) -> CheckpointStore:
        """A table in the study's database, or for a journal a folder next to its file."""
        if self._checkpoints is None:
            if self.kind == "journal":
                path = storage_file(self.url)
                assert path is not None  # open_storage refused a journal URL without a file
                self._checkpoints = FolderCheckpoints(path.with_name(path.name + ".checkpoints") / self.study_name)
            else:
                self._checkpoints = TableCheckpoints(self._storage.engine, self.study_name)
        return self._checkpoints

    # ------------------------------------------------------------------------------ meta
    def meta(self) -> dict[str, Any]:
        return dict(self._storage.get_study_user_attrs(self._study_id))

    def set_meta(self, **values: Any) -> None:
        for key, value in values.items():
            self._storage.set_study_user_attr(self._study_id, key, value)

    # ------------------------------------------------------------------------------ reading
    def _trials(self, *states: Any) -> list[optuna.trial.FrozenTrial]:
        # Through the study: for RDB storages Optuna caches finished trials, so a scan fetches only new ones.
        return self.study.get_trials(deepcopy=False, states=states or None)

    def results(self) -> list[TrialResult]:
        done: dict[tuple[str, int, int], TrialResult] = {}
        for trial in self._trials(self._state.COMPLETE):
            if "result" in trial.user_attrs:
                result = TrialResult.from_dict(trial.user_attrs["result"])
                done.setdefault((result.candidate.key, result.seed, result.rung), result)
        return list(done.values())

    def pictures(self) -> dict[str, bytes]:
        return {trial.user_attrs["candidate"]: base64.b64decode(trial.user_attrs["picture"])
                for trial in self._trials(self._state.COMPLETE)
                if "picture" in trial.user_attrs and trial.user_attrs.get("seed") == 0}

    def workers(self) -> dict[str, int]:
        return dict(Counter(str(t.user_attrs.get("worker", "?")).rsplit(":", 1)[0]
                            for t in self._trials(self._state.COMPLETE)))

    def failures(self) -> list[TrialFailure]:
        settled: set[tuple[str, int, int]] = set()
        last: dict[tuple[str, int, int], Any] = {}
        for trial in self._trials():
            key = _key(trial)
            if key is None:
                continue
            if trial.state != self._state.FAIL:
                settled.add(key)
            elif "duplicate_of" not in trial.user_attrs and "interrupted" not in trial.user_attrs:
                last[key] = trial
        out = []
        for key, trial in last.items():
            if key in settled:
                continue
            message = trial.user_attrs.get("error") or (
                f"the worker running it ({trial.user_attrs.get('worker', '?')}) stopped sending heartbeats "
                f"{len(trial.system_attrs.get('retry_history', [])) + 1} times (killed, preempted or out of memory?)")
            out.append(TrialFailure(TrialSpec(Candidate.from_key(key[0]), key[1], key[2]), message))
        return out

    def progress(self) -> Progress:
        trials = self._trials()
        counts = Counter(t.state for t in trials)
        finished = {_key(t) for t in trials if t.state == self._state.COMPLETE and "result" in t.user_attrs}
        return Progress(len(finished), counts[self._state.RUNNING], counts[self._state.WAITING])

    # ------------------------------------------------------------------------------ queueing
    def _enqueue(self, spec: TrialSpec) -> None:
        template = optuna.trial.create_trial(
            state=self._state.WAITING, user_attrs={"candidate": spec.candidate.key, "seed": spec.seed, "rung": spec.rung})
        self._storage.create_new_trial(self._study_id, template_trial=template)

    def submit(self, todo: list[TrialSpec]) -> list[TrialSpec]:
        live = {_key(t) for t in self._trials(self._state.COMPLETE, self._state.RUNNING, self._state.WAITING)}
        live |= {_key(t) for t in self._trials(self._state.FAIL)  # a collapse is final: its rerun would collapse again
                 if str(t.user_attrs.get("error", "")).startswith(COLLAPSED)}
        new = [spec for spec in todo if spec.key not in live]
        for spec in new:
            self._enqueue(spec)
        return new

    def _requeue_leftovers(self) -> None:
        """One process owns a SQLite study (its lock is held): what is RUNNING was left by a process
        that died, and what is WAITING by one that stopped; mark them interrupted (``submit``
        queues what the current grid still needs)."""
        for trial in self._trials(self._state.RUNNING, self._state.WAITING):
            self._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
            self._storage.set_trial_state_values(trial._trial_id, self._state.FAIL)

    def _pop(self) -> Any | None:
        for trial in self._trials(self._state.WAITING):
            try:
                if self._storage.set_trial_state_values(trial._trial_id, self._state.RUNNING):
                    return trial
            except optuna.exceptions.UpdateFinishedTrialError:
                continue
        return None

    def _duplicate_of(self, trial: Any) -> int | None:
        """The trial that runs this spec instead: one complete, or queued/running with a lower number."""
        key = _key(trial)
        for other in self._trials():
            if other.number != trial.number and _key(other) == key and (
                    other.state == self._state.COMPLETE
                    or other.state != self._state.FAIL and other.number < trial.number):
                return int(other.number)
        return None

    # ------------------------------------------------------------------------------ running
    def work(self, evaluate: Callable[[TrialSpec], Finished],
             on_done: Callable[[TrialResult | TrialFailure], None] | None = None,
             on_wait: Callable[[Progress], None] | None = None,
             follow_up: Callable[[], bool] | None = None) -> int:
        from optuna.storages import fail_stale_trials

        ran = 0
        while True:
            if self._beat:
                with _quiet_optuna():
                    fail_stale_trials(self.study)
            trial = self._pop()
            if trial is None:
                progress = self.progress()
                if not progress.running and not progress.waiting:
                    if follow_up is not None and follow_up():
                        continue
                    return ran
                if on_wait is not None:
                    on_wait(progress)
                time.sleep(POLL_SECONDS)
                continue
            tid = trial._trial_id
            spec = TrialSpec(Candidate.from_key(trial.user_attrs["candidate"]), int(trial.user_attrs["seed"]),
                             int(trial.user_attrs.get("rung", 0)))
            finished: Finished | BaseException
            try:  # an interrupt anywhere from here on queues the trial again (not only during evaluate)
                with self._heartbeat(tid):
                    self._storage.set_trial_user_attr(tid, "worker", _worker_id())
                    duplicate = self._duplicate_of(trial)
                    if duplicate is not None:
                        self._storage.set_trial_user_attr(tid, "duplicate_of", duplicate)
                        self._storage.set_trial_state_values(tid, self._state.FAIL)
                        continue
                    try:
                        finished = evaluate(spec)
                    except KeyboardInterrupt:
                        raise
                    except Exception as error:  # stored, reported, and the study goes on
                        finished = error
            except KeyboardInterrupt as interrupt:  # kept as it is: SIGTERM's subclass must reach the command
                finished = interrupt
            outcome: TrialResult | TrialFailure
            if isinstance(finished, KeyboardInterrupt):
                self._finish(tid, {"interrupted": True})
                self._enqueue(spec)  # for another worker, or for the next run
                raise finished
            if isinstance(finished, BaseException):
                outcome = TrialFailure(spec, f"{type(finished).__name__}: {finished}")
                self._finish(tid, {"error": outcome.message})
            else:
                outcome = finished.result
                attrs: dict[str, Any] = {"result": outcome.to_dict()}
                if finished.picture is not None:
                    attrs["picture"] = base64.b64encode(finished.picture).decode()
                self._finish(tid, attrs, values=[outcome.psnr, outcome.macs, outcome.latency_ms,
                                                 outcome.peak_memory_bytes])
            ran += 1
            if follow_up is not None:
                follow_up()
            if on_done is not None:
                on_done(outcome)

    def _finish(self, trial_id: int, attrs: dict[str, Any], values: list[float] | None = None) -> None:
        """Store ``attrs``, then the state: COMPLETE with ``values``, or FAIL without. A trial that
        another worker declared lost meanwhile (no heartbeat) has been queued again: this outcome
        is dropped with a warning."""
        try:
            for key, value in attrs.items():
                self._storage.set_trial_user_attr(trial_id, key, value)
            state = self._state.FAIL if values is None else self._state.COMPLETE
            self._storage.set_trial_state_values(trial_id, state, values)
        except optuna.exceptions.UpdateFinishedTrialError:
            warnings.warn(f"trial {trial_id} was declared lost by another worker (no heartbeat for "
                          f"{GRACE_BEATS * (self._beat or 0)} s) and queued again; this run's outcome is dropped",
                          stacklevel=2)

    @contextmanager
    def _heartbeat(self, trial_id: int) -> Iterator[None]:
        """Send heartbeats for ``trial_id`` from a thread while the trial runs (shared storages)."""
        if not self._beat:
            yield
            return
        interval = self._beat
        self._storage.record_heartbeat(trial_id)
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(interval):
                try:
                    self._storage.record_heartbeat(trial_id)
                except Exception as error:  # a storage hiccup: the next beat may get through
                    _log.warning("heartbeat of trial %s failed: %s", trial_id, error)

        thread = threading.Thread(target=beat, name=f"upsamplekit-heartbeat-{trial_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def _key(trial: Any) -> tuple[str, int, int] | None:
    """A trial's (candidate key, seed, rung), None for a trial that is not one of ours; ValueError
    for a candidate, seed or rung of the wrong kind (a tampered storage)."""
    candidate, seed = trial.user_attrs.get("candidate"), trial.user_attrs.get("seed")
    rung = trial.user_attrs.get("rung", 0)
    if candidate is None or seed is None:
        return None
    if not isinstance(candidate, str) or any(isinstance(v, bool) or not isinstance(v, int) or v < 0
                                             for v in (seed, rung)):
        raise ValueError(f"trial {trial.number}: candidate {candidate!r}, seed {seed!r} and rung {rung!r} must be a "
                         "string and integers >= 0")
    Candidate.from_key(candidate)
    return (candidate, seed, rung)


def _check_sqlite_file(path: Path, url: str) -> None:
    """Refuse a damaged SQLite file (zeroed or truncated pages) before Optuna opens it: ``PRAGMA
    quick_check`` on a read-only connection. Errors other than damage (a hot journal left by a
    killed process, which needs a writer to roll it back) are left to Optuna."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = connection.execute("PRAGMA quick_check").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        if getattr(error, "sqlite_errorname", "") not in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
            return
        rows = [(str(error),)]
    if rows != [("ok",)]:
        raise StorageError(f"the study storage {describe(url)} cannot be opened (it is damaged: {rows[0][0]}); it "
                           "was left untouched: move it aside, or choose another --out / --storage")
