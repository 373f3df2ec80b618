"""``upsamplekit study``: which upsampler and which factor schedule is best for a decoder?

Its options are generated from :class:`upsamplekit.study.config.StudyConfig`, so the help, the
TOML keys and the library agree.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from typing import Any

import click

from ..study.config import QUICK, StudyConfig

_EPILOG = """\b
Examples:
  upsamplekit study                              # the default study on the bundled photographs
  upsamplekit study --quick --out first-look     # about a minute
  upsamplekit study --config study.toml --seeds 3
  upsamplekit study --images photos/ --upsamplers bilinear,subpixel --schedules 4,2x2
Rerunning the same command resumes: finished trials are never run again.
"""


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join("x".join(map(str, v)) if isinstance(v, list) else str(v) for v in value) or "(all)"
    return repr(value) if value == "" else str(value)


def _config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for f in reversed(dataclasses.fields(StudyConfig)):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default  # type: ignore[misc]
        quick = f" (--quick: {_show(QUICK[f.name])})" if f.name in QUICK else ""
        command = click.option(f"--{f.name.replace('_', '-')}", f.name, default=None, metavar="VALUE",
                               help=f"{f.metadata['help']} [default: {_show(default)}{quick}]")(command)
    return command


@click.command(epilog=_EPILOG)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="TOML file of settings (keys as below, with underscores); options given here override it.")
@click.option("--quick", is_flag=True, help="A small preset for a first look (about a minute).")
@click.option("--progress/--no-progress", default=True, help="Show the progress bar.")
@_config_options
def study(config_file: str | None, quick: bool, progress: bool, **options: Any) -> None:
    """Train candidate decoders (upsampler x factor schedule, several seeds) on real photographs and
    report quality (PSNR, SSIM, checkerboard), costs (MACs, latency, memory), the Pareto fronts and
    a recommendation: report.html, results.csv, results.json and recommendation.md in --out."""
    from ..study.report import format_table
    from ..study.runner import run_study

    config = StudyConfig.build(config_file, options, quick=quick)
    candidates = config.candidates()
    click.echo(f"{len(candidates)} candidates x {config.seeds} seeds, {config.steps} steps each, "
               f"task {config.task} x{config.scale}; output in {config.out}/", err=True)
    try:
        run = run_study(config, progress=progress)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: finished trials are stored; rerun the same command to resume "
                   f"(partial report in {config.out}/report.html)", err=True)
        raise SystemExit(130) from None
    if not run.ran:
        click.echo("every trial was already finished: nothing to run (the report is rewritten)", err=True)
    click.echo(format_table(run.summary, width=min(shutil.get_terminal_size().columns, 140)))
    if run.summary.recommendation is not None:
        rec = run.summary.recommendation
        click.echo(f"\nRecommendation: {rec.candidate.label}")
        for reason in rec.reasons:
            click.echo(f"  - {reason}")
    for failure in run.failures:
        click.echo(f"failed: {failure.spec.candidate.label} seed {failure.spec.seed}: {failure.message}", err=True)
    click.echo(f"\nReport: {run.files['html']}")
    if run.failures:
        raise SystemExit(1)
