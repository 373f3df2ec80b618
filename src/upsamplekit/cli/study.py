"""``upsamplekit study``: which upsampler and which factor schedule is best for a decoder?
``upsamplekit worker`` joins a study in shared storage; ``upsamplekit report`` writes its report.

The study's options are generated from :class:`upsamplekit.study.config.StudyConfig`, so the help, the
TOML keys and the library agree.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import click

from ..study.config import QUICK, StudyConfig

_EPILOG = """\b
Examples:
  upsamplekit study                              # the default study on the bundled photographs
  upsamplekit study --quick --out first-look     # about a minute
  upsamplekit study --config study.toml --seeds 3
  upsamplekit study --budget halving --steps 800   # the contenders train longer
  upsamplekit study --images photos/ --upsamplers bilinear,subpixel --schedules 4,2x2
Rerunning the same command resumes: finished trials are never run again.
Many machines: --storage postgresql://... --study-name NAME here, then `upsamplekit worker` on each
machine (docs/distributed.md).
"""


#: The storage URL can come from this environment variable (keeps a password out of `ps` and shell history).
STORAGE_ENV = "UPSAMPLEKIT_STORAGE"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join("x".join(map(str, v)) if isinstance(v, list) else str(v) for v in value) or "(all)"
    return repr(value) if value == "" else str(value)


def _config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for f in reversed(dataclasses.fields(StudyConfig)):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        quick = f" (--quick: {_show(QUICK[f.name])})" if f.name in QUICK else ""
        env: dict[str, Any] = {"envvar": STORAGE_ENV, "show_envvar": True} if f.name == "storage" else {}
        command = click.option(f"--{f.name.replace('_', '-')}", f.name, default=None, metavar="VALUE",
                               help=f"{f.metadata['help']} [default: {_show(default)}{quick}]", **env)(command)
    return command


@click.command(epilog=_EPILOG)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="TOML file of settings (keys as below, with underscores); options given here override it.")
@click.option("--quick", is_flag=True, help="A small preset for a first look (about a minute).")
@click.option("--submit-only", is_flag=True,
              help="Create or extend the study in --storage and queue its trials, then exit: "
                   "`upsamplekit worker` processes run them.")
@click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
@_config_options
def study(config_file: str | None, quick: bool, submit_only: bool, progress: bool, **options: Any) -> None:
    """Train candidate decoders (upsampler x factor schedule, several seeds) on real photographs and
    report quality (PSNR, SSIM, checkerboard), costs (MACs, latency, memory), the Pareto fronts and
    a recommendation: report.html, results.csv, results.json and recommendation.md in --out."""
    from ..study.runner import run_study

    config = StudyConfig.build(config_file, options, quick=quick)
    candidates = config.candidates()
    if config.budget == "halving":
        from ..study.budget import rung_steps

        ends = ", ".join(map(str, rung_steps(config.steps, config.eta, config.rungs)))
        budget = f"successive halving (rungs end at {ends} steps; the separably worse stop at each)"
    else:
        budget = f"{config.steps} steps each"
    click.echo(f"{len(candidates)} candidates x {config.seeds} seeds, {budget}, "
               f"task {config.task} x{config.scale}, device {config.device}, {config.precision}; "
               f"output in {config.out}/", err=True)
    try:
        with _sigterm_as_interrupt():
            run = run_study(config, progress=progress, submit_only=submit_only)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: finished trials are stored; rerun the same command to resume "
                   f"(partial report in {config.out}/report.html)", err=True)
        raise SystemExit(130) from None
    if submit_only:
        from ..study.engine.storage import describe

        shown = describe(config.storage)
        password = " (with its password)" if shown.strip("'") != config.storage else ""
        click.echo(f"{run.summary.pending} trials queued in study {config.study_name!r}; run them with{password}:\n"
                   f"  upsamplekit worker --storage {shown} --study-name {config.study_name}", err=True)
        return
    if not run.ran:
        click.echo("every trial was already finished: nothing to run (the report is rewritten)", err=True)
    _show_results(run)


@click.command(epilog="""\b
Example:
  upsamplekit worker --storage postgresql://me:secret@db.lab:5432/studies --study-name flowers
Start as many as you like, on any machines that reach the storage; each takes queued trials
until none is left. A worker killed mid-trial loses that trial only: another worker runs it
again after 3 missed heartbeats.
""")
@click.option("--storage", required=True, metavar="URL", envvar=STORAGE_ENV, show_envvar=True,
              help="The study's shared storage: postgresql://user:password@host/db, mysql://..., or "
                   "journal:/shared/path/study.log (SQLite is for one process).")
@click.option("--study-name", required=True, metavar="NAME", help="The study to join (made by `upsamplekit study`).")
@click.option("--threads", type=click.IntRange(min=0), default=0, show_default=True,
              help="Torch CPU threads (0: torch's default).")
@click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
def worker(storage: str, study_name: str, threads: int, progress: bool) -> None:
    """Join a study in shared storage and run its queued trials until none is left anywhere.
    The settings come from the study; this machine needs the same upsamplekit version, and the
    study's --images folder and --decoder module at the same paths."""
    from ..study.runner import run_worker

    try:
        with _sigterm_as_interrupt():
            run = run_worker(storage, study_name, threads=threads, progress=progress)
    except KeyboardInterrupt:
        click.echo("\ninterrupted: the trial in flight is queued again for another worker", err=True)
        raise SystemExit(130) from None
    done = len(run.summary.trials)
    click.echo(f"worker finished: ran {run.ran} trials here; the study has {done} of "
               f"{done + run.summary.pending} trials done", err=True)
    _show_failures(run.failures)
    if any(not failure.collapsed for failure in run.failures):
        raise SystemExit(1)


@click.command(epilog="""\b
Examples:
  upsamplekit report --out upsamplekit-study          # a local study (its study.db)
  upsamplekit report --storage journal:/shared/s.log --study-name flowers --out flowers-report
""")
@click.option("--out", default="upsamplekit-study", show_default=True, metavar="DIR",
              help="Where to write the report (and, without --storage, the folder holding study.db).")
@click.option("--storage", default="", metavar="URL", envvar=STORAGE_ENV, show_envvar=True, help="The study's storage (default: sqlite in --out).")
@click.option("--study-name", default="upsamplekit-study", show_default=True, metavar="NAME",
              help="Name of the study in the storage.")
def report(out: str, storage: str, study_name: str) -> None:
    """Write a study's report (report.html, results.csv, results.json, recommendation.md) from its
    storage alone, at any time: while workers run, the trials not yet finished are counted as pending."""
    from ..study.runner import write_study_report

    run = write_study_report(out, storage, study_name)
    if run.summary.pending:
        click.echo(f"{run.summary.pending} trials still pending: this report shows the "
                   f"{len(run.summary.trials)} finished ones", err=True)
    _show_results(run, fail=False)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's ``KeyboardInterrupt`` would be, and caught by the same handlers.

    A subclass on purpose: CPython remembers a bare ``KeyboardInterrupt`` that passes through code
    run by ``PyRun_String`` (some C extensions evaluate snippets that way) and then ends the process
    with SIGINT (status -2) even after the interrupt was handled and ``SystemExit(130)`` raised. It
    compares the exception type exactly, so a subclass keeps the exit status ours."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler preempting or cancelling the job: SLURM, Kubernetes) stops like Ctrl-C: the
    trial in flight is queued again at once instead of waiting for its heartbeat to go stale."""
    def interrupt(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _show_failures(failures: list[Any]) -> None:
    """One line per failed trial; a collapse is a finding about the candidate, any other failure an error."""
    for failure in failures:
        kind = "collapsed" if failure.collapsed else "failed"
        click.echo(f"{kind}: {failure.spec.candidate.label} seed {failure.spec.seed}: {failure.message}", err=True)


def _show_results(run: Any, fail: bool = True) -> None:
    from ..study.report import format_table
    from ..study.report.formatting import confidence_lines

    lines = confidence_lines(run.summary)
    if lines:  # the verdict first: a negative or unsure answer is never buried under the table
        click.echo(lines[0])
        for line in lines[1:]:
            click.echo(f"  - {line}")
        click.echo("")
    click.echo(format_table(run.summary, width=min(shutil.get_terminal_size().columns, 140)))
    if run.summary.recommendation is not None:
        rec = run.summary.recommendation
        click.echo(f"\nRecommendation: {rec.candidate.label}")
        for reason in rec.reasons:
            click.echo(f"  - {reason}")
    _show_failures(run.failures)
    click.echo(f"\nReport: {run.files['html']}")
    if fail and any(not failure.collapsed for failure in run.failures):
        raise SystemExit(1)
