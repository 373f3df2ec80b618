"""Run a study end to end: prepare, run the pending trials on an engine, summarise, write the report."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from .analysis import summarize
from .config import StudyConfig
from .core import Workbench
from .engine.base import Engine, TrialFailure, TrialSpec
from .results import Candidate, StudySummary, TrialResult

__all__ = ["run_study", "StudyRun", "open_engine", "machine_info"]


@dataclass
class StudyRun:
    """What :func:`run_study` returns: the summary, the files written, and failed trials."""

    summary: StudySummary
    files: dict[str, Path]
    failures: list[TrialFailure]
    ran: int


def open_engine(config: StudyConfig) -> Engine:
    """The Optuna engine on ``config.storage``, or on ``study.db`` in the output folder."""
    from .engine.optuna import OptunaEngine

    storage = config.storage or f"sqlite:///{Path(config.out) / 'study.db'}"
    return OptunaEngine(storage, config.study_name, config.trial_settings(), __version__)


def machine_info() -> dict[str, str]:
    return {
        "upsamplekit": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": str(os.cpu_count()),
        "torch threads": str(torch.get_num_threads()),
    }


def _save_png(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    Image.fromarray((image.clip(0, 1) * 255 + 0.5).astype(np.uint8)).save(tmp)
    tmp.replace(path)


def _load_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as handle:
        return np.asarray(handle.convert("RGB"), dtype=np.float32) / 255.0


def run_study(config: StudyConfig, progress: bool = True) -> StudyRun:
    """Run (or resume) the study ``config`` describes and write its report into ``config.out``.

    Finished trials in the storage are never run again; a trial that raises is stored as
    failed and the others go on; on ``KeyboardInterrupt`` the report of what is finished is
    written before the interrupt propagates.
    """
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    if config.threads:
        torch.set_num_threads(config.threads)
    engine = open_engine(config)
    bench = Workbench.prepare(config)
    candidates = config.candidates()
    bench.check(candidates)
    todo = [TrialSpec(c, seed) for seed in range(config.seeds) for c in candidates]
    done = {(r.candidate, r.seed) for r in engine.results()}
    pending = [s for s in todo if (s.candidate, s.seed) not in done]
    images_dir = out / "images"
    ran = 0

    from tqdm.auto import tqdm

    bar = tqdm(total=len(pending) * config.steps, unit="step", disable=not progress or not pending, file=sys.stderr,
               desc=f"study ({len(done & {(s.candidate, s.seed) for s in todo})}/{len(todo)} trials done)",
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps [{elapsed}<{remaining}] {postfix}")

    def evaluate(spec: TrialSpec) -> TrialResult:
        bar.set_postfix_str(f"{spec.candidate.label} seed {spec.seed}")
        result, picture = bench.run_trial(spec.candidate, spec.seed, on_step=lambda step, loss: bar.update(1))
        if spec.seed == 0:
            _save_png(picture, images_dir / f"{spec.candidate.key}.png")
        return result

    def on_done(outcome: TrialResult | TrialFailure) -> None:
        nonlocal ran
        ran += 1
        bar.set_description(f"study ({len(todo) - len(pending) + ran}/{len(todo)} trials done)")
        if isinstance(outcome, TrialFailure):
            bar.write(f"trial failed: {outcome.spec.candidate.label} seed {outcome.spec.seed}: {outcome.message}")

    try:
        engine.run(todo, evaluate, on_done)
    finally:
        bar.close()
        run = _write(config, engine, bench, candidates, images_dir, len(todo), ran)
    return run


def _write(config: StudyConfig, engine: Engine, bench: Workbench, candidates: list[Candidate], images_dir: Path,
           total: int, ran: int) -> StudyRun:
    from .report import write_report

    results = engine.results()
    wanted = set(candidates)
    images: dict[str, np.ndarray] = dict(bench.pictures())
    for candidate in candidates:
        path = images_dir / f"{candidate.key}.png"
        if path.is_file():
            images[candidate.key] = _load_png(path)
    finished = sum(1 for r in results if r.candidate in wanted and r.seed < config.seeds)
    summary = summarize(candidates, [r for r in results if r.seed < config.seeds], config=config.to_dict(),
                        baseline=bench.baseline(), images=images, machine=machine_info(),
                        pending=total - finished)
    files = write_report(summary, config.out)
    failures = [f for f in engine.failures() if f.spec.candidate in wanted and f.spec.seed < config.seeds]
    return StudyRun(summary, files, failures, ran)
