"""Write the report's four files: each renderer's text, into one folder, each file whole or not at all."""

from __future__ import annotations

from pathlib import Path

from ...errors import InvalidArgumentError, InvalidTypeError
from ..results import StudySummary
from .exports import csv_text, json_text
from .formatting import check_summary
from .html import html_text
from .svg import pareto_svg
from .text import markdown_text

__all__ = ["write_report"]


def write_report(summary: StudySummary, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.html``, ``results.csv``, ``results.json`` and ``recommendation.md`` into ``out_dir``.

    ``out_dir`` is created if needed; existing files of these names are replaced. Returns the
    paths by kind: ``{"html": ..., "csv": ..., "json": ..., "markdown": ...}``. ``report.html``
    needs no server and no network: styles, plots (SVG) and images (PNG data URIs) are inline.
    ``results.json`` holds the config, machine, candidates with their statistics, every trial
    (:meth:`TrialResult.to_dict <upsamplekit.study.results.TrialResult.to_dict>`), the
    recommendation and the baseline; nan and infinities are written as null.
    """
    summary = check_summary(summary)
    if not isinstance(out_dir, (str, Path)):
        raise InvalidTypeError(f"out_dir must be a str or pathlib.Path, but got {type(out_dir).__name__}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidArgumentError(f"out_dir must be a directory, but {str(out)!r} is a file")
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "html": ("report.html", html_text(summary, pareto_svg)),
        "csv": ("results.csv", csv_text(summary)),
        "json": ("results.json", json_text(summary)),
        "markdown": ("recommendation.md", markdown_text(summary)),
    }
    paths = {}
    for kind, (name, text) in texts.items():
        paths[kind] = out / name
        tmp = out / f".{name}.tmp"  # write, then rename: an interrupted run leaves the previous file whole
        tmp.write_text(text, encoding="utf-8", newline="\n")
        tmp.replace(paths[kind])
    return paths
