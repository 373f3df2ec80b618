"""Write the report's four files: each renderer's text, into one folder, each file whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import InvalidArgumentError, InvalidTypeError
from ..results import StudySummary
from .exports import csv_text, json_text
from .formatting import check_summary
from .html import html_text
from .svg import curves_svg, pareto_svg
from .text import markdown_text

__all__ = ["output_folder", "write_report"]


def write_report(summary: StudySummary, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.html``, ``results.csv``, ``results.json`` and ``recommendation.md`` into ``out_dir``.

    ``out_dir`` is created if needed; existing files of these names are replaced. Returns the
    paths by kind: ``{"html": ..., "csv": ..., "json": ..., "markdown": ...}``. ``report.html``
    needs no server and no network: styles, plots (SVG) and images (PNG data URIs) are inline.
    ``results.json`` holds the config, machine, device, confidence, candidates with their
    statistics and learning curves, every trial (:meth:`TrialResult.to_dict
    <upsamplekit.study.results.TrialResult.to_dict>`), the recommendation and the baseline; nan
    and infinities are written as null.
    """
    summary = check_summary(summary)
    out = output_folder(out_dir, name="out_dir")
    texts = {
        "html": ("report.html", html_text(summary, pareto_svg, curves_svg)),
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


def output_folder(out: object, *, create: bool = True, name: str = "out") -> Path:
    """``out`` as a writable folder, created with its parents if needed (``create``); else an error
    naming ``name``, the rule and the path. Nothing is created when the path cannot be a folder.

    An empty path is refused (it would write into the current directory), as is a path that is a
    file, lies under a file, or cannot be written. With ``create=False`` only what can be said
    without creating anything is checked (the name, and no file on the way).

    >>> output_folder("")
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: out must name a folder, but got '' (an empty path would write into the current directory)
    """
    if not isinstance(out, (str, Path)):
        raise InvalidTypeError(f"{name} must be a str or pathlib.Path, but got {type(out).__name__}")
    if not str(out).strip():
        raise InvalidArgumentError(f"{name} must name a folder, but got {str(out)!r} (an empty path would write "
                                   "into the current directory)")
    path = Path(out)
    existing = next((p for p in (path, *path.parents) if p.exists() or p.is_symlink()), Path("."))
    if not existing.is_dir():
        where = "is a file" if existing == path else f"lies under {str(existing)!r}, which is a file"
        raise InvalidArgumentError(f"{name} must be a directory, but {str(path)!r} {where}")
    if not create:
        return path
    if existing != path and not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidArgumentError(f"{name} {str(path)!r} cannot be created: {str(existing)!r} is not writable")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidArgumentError(f"{name} {str(path)!r} cannot be created: {error.strerror or error}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InvalidArgumentError(f"{name} must be a writable directory, but {str(path)!r} is not writable")
    return path
