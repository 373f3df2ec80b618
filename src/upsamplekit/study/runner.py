"""Run a study: create or resume it, work on its trials, and write the report from the storage.

Three entry points, one per command: :func:`run_study` (``upsamplekit study``) creates or resumes
the study, queues its trials, works on them until none is left anywhere and writes the report;
:func:`run_worker` (``upsamplekit worker``) joins a study in shared storage and works on it;
:func:`write_study_report` (``upsamplekit report``) writes the report from the storage alone, at
any time. Everything the report needs (settings, grid, baseline, pictures, results) is kept in
the storage, so it can be written anywhere the storage is reachable.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import torch

from .._version import __version__
from ..errors import InvalidArgumentError, UpsampleError
from ..optional import require
from .analysis import summarize
from .budget import Decision, account, plan, rung_steps, stopped, trial_steps
from .config import StudyConfig
from .core import Workbench
from .engine.base import Engine, Finished, Progress, SettingsMismatchError, StorageError, TrialFailure, TrialSpec
from .engine.factory import get_engine
from .engine.storage import describe, storage_kind
from .report import write_report
from .report.write import output_folder
from .results import Candidate, StudySummary, TrialResult

__all__ = ["run_study", "run_worker", "write_study_report", "StudyRun", "open_engine", "machine_info",
           "VersionMismatchError"]


class VersionMismatchError(SettingsMismatchError):
    """A worker's upsamplekit version differs from the study's."""


@dataclass
class StudyRun:
    """What :func:`run_study` and :func:`write_study_report` return: the summary, the files
    written, failed trials, and how many trials ran in this process."""

    summary: StudySummary
    files: dict[str, Path]
    failures: list[TrialFailure]
    ran: int


def open_engine(config: StudyConfig, create: bool = True, worker: bool = False) -> Engine:
    """The engine on ``config.storage``, or on ``study.db`` in the output folder
    (:func:`~upsamplekit.study.engine.factory.get_engine`)."""
    storage = config.storage or f"sqlite:///{Path(config.out) / 'study.db'}"
    return get_engine(storage, config.study_name, create=create, heartbeat=config.heartbeat, worker=worker)


def machine_info(device: torch.device | None = None) -> dict[str, str]:
    """Versions, CPU and threads of this machine, and the device the study trains on, for the report."""
    info = {
        "upsamplekit": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": str(os.cpu_count()),
        "torch threads": str(torch.get_num_threads()),
    }
    if device is not None:
        info["device"] = device.type
        if device.type == "cuda":
            info["gpu"] = torch.cuda.get_device_name(device)
            info["cuda"] = str(torch.version.cuda)
    return info


def _png(image: np.ndarray) -> bytes:
    """``image`` (H, W, 3) in [0, 1] as PNG bytes (8 bits, rounded), to keep in the storage."""
    pil = require("PIL.Image", "study", "the study's pictures")
    buffer = io.BytesIO()
    pil.fromarray((image.clip(0, 1) * 255 + 0.5).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _unpng(data: bytes) -> np.ndarray:
    """The PNG bytes of :func:`_png` as float32 (H, W, 3) in [0, 1]."""
    pil = require("PIL.Image", "study", "the study's pictures")
    with pil.open(io.BytesIO(data)) as handle:
        return np.asarray(handle.convert("RGB"), dtype=np.float32) / 255.0


def run_study(config: StudyConfig, progress: bool = True, submit_only: bool = False) -> StudyRun:
    """Run (or resume) the study ``config`` describes and write its report into ``config.out``.

    Finished trials in the storage are never run again; a trial that raises is stored as
    failed and the others go on. With shared storage, other processes may work on the same
    study (:func:`run_worker`); this one works until no trial is queued or running anywhere.
    ``submit_only`` queues the trials and returns without running any. On ``KeyboardInterrupt``
    the report of what is finished is written before the interrupt propagates.
    """
    if submit_only and storage_kind(config.storage or "sqlite:") == "sqlite":
        raise InvalidArgumentError("submit_only needs shared storage (--storage postgresql://... or "
                                   "journal:/shared/path/study.log): workers cannot join the default SQLite study")
    settings = config.trial_settings()  # resolves the device: one missing here is an error before anything is made
    output_folder(config.out)
    if config.threads:
        torch.set_num_threads(config.threads)
    with open_engine(config) as engine:
        engine.check_settings(settings, __version__, store=False)
        bench = Workbench.prepare(config)  # every input is checked before the storage is written to
        candidates = config.candidates()
        bench.check(candidates)
        engine.check_settings(settings, __version__)
        engine.set_meta(config=config.shared_dict(), candidates=[c.key for c in candidates], seeds=config.seeds,
                        baseline=bench.baseline(), machine=machine_info(bench.device), device=bench.device.type,
                        pictures={k: base64.b64encode(_png(v)).decode() for k, v in bench.pictures().items()})
        engine.submit(_planned(engine, config, candidates, retry=True))
        ran = 0
        try:
            if not submit_only:
                ran = _work(engine, bench, progress)
        finally:
            run = _report(engine, config.out, ran)
    return run


def run_worker(storage: str, study_name: str, threads: int = 0, progress: bool = True) -> StudyRun:
    """Join the study ``study_name`` in shared ``storage`` and work on it until no trial is
    queued or running anywhere; return what this worker ran (``files`` is empty: the report is
    written by :func:`write_study_report` or the ``study`` command).

    The study's settings come from the storage; this process must have the same upsamplekit
    version, and see the same ``images`` folder and ``decoder`` module, as the study says.
    """
    with get_engine(storage, study_name, create=False, worker=True) as probe:  # for the settings
        meta = _meta(probe)
    if meta.get("upsamplekit_version") != __version__:
        raise VersionMismatchError(
            f"this worker has upsamplekit {__version__} but study {study_name!r} in {describe(storage)} was made "
            f"with {meta.get('upsamplekit_version')}: install upsamplekit=={meta.get('upsamplekit_version')} here "
            "(results of different versions are not comparable); the study was not changed")
    config = StudyConfig.from_shared(meta["config"], storage=storage, threads=threads)
    if threads:
        torch.set_num_threads(threads)
    try:
        bench = Workbench.prepare(config)
    except UpsampleError as error:
        raise type(error)(f"study {study_name!r} cannot run on this machine: {error}. A worker needs the study's "
                          "--images folder and --decoder module at the same paths as where it was made, and its "
                          "kind of device") from None
    with open_engine(config, create=False, worker=True) as engine:
        engine.check_settings(config.trial_settings(), __version__, store=False)  # the same kind of device
        ran = _work(engine, bench, progress)
        summary, failures = _summary(engine)
    return StudyRun(summary, {}, failures, ran)


def write_study_report(out: str | Path, storage: str = "", study_name: str = "upsamplekit-study") -> StudyRun:
    """Write the report of ``study_name`` in ``storage`` (default: ``study.db`` in ``out``) into
    ``out``, from the storage alone; workers may still be running (pending trials are counted)."""
    output_folder(out, create=False)
    config = StudyConfig(out=str(out), storage=storage, study_name=study_name)
    with open_engine(config, create=False) as engine:
        return _report(engine, out, 0)


def _planned(engine: Engine, config: StudyConfig, candidates: list[Candidate], retry: bool) -> list[TrialSpec]:
    """The trials the study needs now: every (candidate, seed) with the full budget; with halving,
    the first rung's and those of every rung decided so far (:func:`~upsamplekit.study.budget.plan`;
    new decisions are stored here). ``retry``: include trials that failed (not collapsed), as a
    new run does; while a run goes on they are not queued again."""
    if config.budget != "halving":
        return [TrialSpec(c, seed) for seed in range(config.seeds) for c in candidates]
    decisions = _decisions(engine)
    failures = engine.failures()
    specs, new = plan(candidates, config.seeds, config.rungs, engine.results(),
                      [f.spec.key for f in failures], decisions)
    if new:
        engine.set_meta(**{f"{DECISION}{rung}": decision.to_dict() for rung, decision in new.items()})
    if not retry:
        failed = {f.spec.key for f in failures}
        specs = [spec for spec in specs if spec.key not in failed]
    return specs


#: How the study's meta names the decision of a rung (followed by the rung's number).
DECISION = "halving_rung_"


def _decisions(engine: Engine) -> dict[int, Decision]:
    """The rung decisions kept with the study, by rung."""
    decisions = {}
    for key, value in engine.meta().items():
        if key.startswith(DECISION):
            try:
                decision = Decision.from_dict(value)
            except ValueError as error:
                _damaged(engine, f"its {key!r}: {error}")
            decisions[decision.rung] = decision
    return decisions


def _work(engine: Engine, bench: Workbench, progress: bool) -> int:
    """Work on the queued trials with a progress bar (in training steps; trials finished by other
    workers count at the mean trial length) until none is queued or running anywhere; with
    halving, queue each rung's survivors as its decision is taken."""
    tqdm = require("tqdm.auto", "study", "the study's progress bar").tqdm
    logging_redirect_tqdm = require("tqdm.contrib.logging", "study", "the study's progress bar").logging_redirect_tqdm

    config = bench.config
    halving = config.budget == "halving"
    ends = rung_steps(config.steps, config.eta, config.rungs) if halving else [config.steps]
    start = engine.progress()
    todo = start.running + start.waiting
    queued = todo  # trials queued or running when this process started, plus those queued since
    mean_steps = config.steps if not halving else sum(trial_steps(ends, r) for r in range(len(ends))) / len(ends)
    # The trials queued now are mostly the first rung's (a new study); later rungs add theirs when queued.
    bar = tqdm(total=todo * trial_steps(ends, 0), unit="step", disable=not progress or not todo, file=sys.stderr,
               bar_format="{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps [{elapsed}<{remaining}]"
                          "{postfix}")
    done_here = partial = steps_here = 0  # trials finished and steps trained here, steps of the trial in flight
    candidates = [Candidate.from_key(key) for key in engine.meta()["candidates"]]

    def show(now: Progress) -> None:
        elsewhere = max(0, now.finished - start.finished - done_here)
        bar.n = min(bar.total, round(elsewhere * mean_steps) + steps_here + partial)
        others = f", {now.running} running" if now.running else ""
        total = start.finished + queued
        bar.set_description(f"study ({now.finished}/{total} trials done{others})", refresh=False)
        bar.refresh()

    def step(number: int) -> None:
        nonlocal partial
        partial += 1
        bar.update(1)

    def evaluate(spec: TrialSpec) -> Finished:
        nonlocal partial
        partial = 0
        rung = f" rung {spec.rung + 1}/{len(ends)}" if halving else ""
        bar.set_postfix_str(f"{spec.candidate.label} seed {spec.seed}{rung}")
        result, picture = bench.run_trial(spec.candidate, spec.seed, on_step=step, rung=spec.rung,
                                          checkpoints=engine.checkpoints if halving else None)
        return Finished(result, _png(picture) if spec.seed == 0 else None)

    def on_done(outcome: TrialResult | TrialFailure) -> None:
        nonlocal partial, done_here, steps_here
        steps_here, partial, done_here = steps_here + partial, 0, done_here + 1
        if isinstance(outcome, TrialFailure):
            kind = "collapsed" if outcome.collapsed else "failed"
            bar.write(f"trial {kind}: {outcome.spec.candidate.label} seed {outcome.spec.seed}: {outcome.message}")
        show(engine.progress())

    def follow_up() -> bool:
        nonlocal queued
        new = engine.submit(_planned(engine, config, candidates, retry=False))
        queued += len(new)
        bar.total += sum(trial_steps(ends, spec.rung) for spec in new)
        return bool(new)

    show(start)
    try:
        with logging_redirect_tqdm([logging.getLogger("upsamplekit.study")]):  # "trial 3 lost its worker" lines
            return engine.work(evaluate, on_done, on_wait=show, follow_up=follow_up if halving else None)
    finally:
        bar.close()


def _meta(engine: Engine) -> dict[str, Any]:
    meta = engine.meta()
    if "config" not in meta or "candidates" not in meta:
        raise SettingsMismatchError(f"study {engine.study_name!r} in {describe(engine.url)} was not made by "
                                    "`upsamplekit study` (it has no upsamplekit settings)")
    kinds = {"config": dict, "candidates": list, "seeds": int, "pictures": dict, "baseline": dict, "machine": dict,
             "device": str}
    for key, kind in kinds.items():
        if key in meta and (not isinstance(meta[key], kind) or isinstance(meta[key], bool)):
            _damaged(engine, f"its {key!r} is not a {kind.__name__} but {meta[key]!r:.80}")
    return meta


def _damaged(engine: Engine, reason: str) -> NoReturn:
    raise StorageError(f"the study storage {describe(engine.url)} cannot be read (it is damaged: {reason}); it was "
                       "left untouched: move it aside, or choose another --out / --storage")


def _summary(engine: Engine) -> tuple[StudySummary, list[TrialFailure]]:
    """The summary of the study's grid (as last submitted) and the failures in it."""
    meta = _meta(engine)
    try:
        candidates = [Candidate.from_key(key) for key in meta["candidates"]]
        wanted, seeds = set(candidates), int(meta["seeds"])
        images = {k: _unpng(base64.b64decode(v, validate=True)) for k, v in meta.get("pictures", {}).items()}
    except (KeyError, ValueError, TypeError, OSError, binascii.Error) as error:  # Pillow's errors are OSErrors
        _damaged(engine, f"{type(error).__name__}: {error}")
    results = [r for r in engine.results() if r.candidate in wanted and r.seed < seeds]
    try:
        images.update({k: _unpng(v) for k, v in engine.pictures().items() if Candidate.from_key(k) in wanted})
    except (ValueError, OSError) as error:
        _damaged(engine, f"a trial's picture: {type(error).__name__}: {error}")
    machine = dict(meta.get("machine", {}))
    workers = engine.workers()
    if len(workers) > 1 or workers and next(iter(workers)) != platform.node():
        machine["trials ran on"] = ", ".join(f"{host} ({n})" for host, n in sorted(workers.items()))
    failures = [f for f in engine.failures() if f.spec.candidate in wanted and f.spec.seed < seeds]
    collapsed = [(f.spec.candidate, f.spec.seed, f.message.partition(" collapsed: ")[2] or f.message)
                 for f in failures if f.collapsed]
    config = meta["config"]
    halving = config.get("budget") == "halving"
    ends = rung_steps(config["steps"], config["eta"], config["rungs"]) if halving else [config["steps"]]
    why = stopped(candidates, seeds, ends, results, _decisions(engine)) if halving else {}
    progress = engine.progress()
    pending = (progress.running + progress.waiting if halving  # later rungs are not known yet
               else len(candidates) * seeds - len(results) - len(collapsed))
    budget = account(config, candidates, seeds, results,
                     [f.spec.key for f in failures if f.collapsed]) if "steps" in config else None
    summary = summarize(candidates, results, config=config, baseline=meta.get("baseline"), images=images,
                        machine=machine, pending=pending, device=meta.get("device", "cpu"), collapsed=collapsed,
                        stopped=why, budget=budget)
    return summary, failures


def _report(engine: Engine, out: str | Path, ran: int) -> StudyRun:
    summary, failures = _summary(engine)
    return StudyRun(summary, write_report(summary, out), failures, ran)
