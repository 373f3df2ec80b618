"""The study's report: plot data first, files second.

:func:`pareto_plot_data` computes what one quality-against-cost plot shows as plain data
(:class:`PlotData`); :func:`format_table` is the plain-text table the CLI prints;
:func:`write_report` writes ``report.html`` (one self-contained file: inline CSS, inline SVG
plots, PNG images as data URIs, no network), ``results.csv``, ``results.json`` and
``recommendation.md``. Everything is rendered from a :class:`~upsamplekit.study.results.StudySummary`
alone, so partial results (pending trials, missing images, one seed) render too.
"""

from __future__ import annotations

import csv
import io
import json
import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..errors import InvalidArgumentError, InvalidTypeError, unknown_choice
from . import _svg
from .results import Candidate, CandidateSummary, Stat, StudySummary

__all__ = ["write_report", "format_table", "pareto_plot_data", "PlotData", "PlotPoint", "COSTS"]

#: The costs a Pareto plot can put on its x axis.
COSTS = ("macs", "latency", "memory")

_COST_VALUE: dict[str, Callable[[CandidateSummary], float]] = {
    "macs": lambda c: float(c.macs),
    "latency": lambda c: float(c.latency_ms),
    "memory": lambda c: float(c.peak_memory_bytes),
}
_MIB = 2.0**20


class PlotPoint(NamedTuple):
    """One candidate in a Pareto plot: ``x`` in the axis unit, ``y`` the mean PSNR, ``y_err`` its std."""

    key: str
    label: str
    x: float
    y: float
    y_err: float
    learned: bool
    tied_with_best: bool
    pareto: bool
    recommended: bool


class PlotData(NamedTuple):
    """Everything one quality-against-cost plot shows.

    ``x = raw cost / x_divisor`` (MACs in ``x_unit`` M/G MAC, latency in ms, memory in MiB).
    ``front``: the ``(x, y)`` of the candidates flagged Pareto-optimal for ``cost``, by
    increasing cost. ``baseline``: ``(name, psnr)`` of the no-network reference, or None.
    ``omitted``: labels of candidates without a finite cost or PSNR (not drawn).
    """

    cost: str
    title: str
    x_title: str
    x_unit: str
    x_divisor: float
    x_log: bool
    x_range: tuple[float, float]
    y_title: str
    y_range: tuple[float, float]
    points: list[PlotPoint]
    front: list[tuple[float, float]]
    baseline: tuple[str, float] | None
    omitted: list[str]


def _recommended_key(summary: StudySummary) -> str | None:
    return summary.recommendation.candidate.key if summary.recommendation is not None else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _baseline(summary: StudySummary) -> tuple[str, float] | None:
    b = summary.baseline
    if not b or not _finite(b.get("psnr", math.nan)):
        return None  # the name is the engine's, e.g. "bicubic resize (no network)"
    return str(b.get("name", "baseline (no network)")), float(b["psnr"])


def pareto_plot_data(summary: StudySummary, cost: str) -> PlotData:
    """The data behind the plot of mean PSNR (± std over seeds) against ``cost``.

    ``cost`` is ``"macs"``, ``"latency"`` or ``"memory"``. The x axis is logarithmic when every
    cost is positive and the largest is at least 10 times the smallest.

    >>> from upsamplekit.study.results import Candidate, CandidateSummary, Stat, StudySummary
    >>> def row(name, psnr, macs, front):
    ...     return CandidateSummary(Candidate(name, (2,)), True, [0, 1], Stat(psnr, 0.1, 2), Stat(0.9, 0.0, 2),
    ...                             Stat(0.1, 0.0, 2), Stat(9.0, 0.5, 2), 1000, macs, 1.0, 0.1, 2**20,
    ...                             pareto={"macs": front})
    >>> summary = StudySummary({}, [row("a", 24.0, 3 * 10**9, True), row("b", 23.0, 4 * 10**9, False)], None, [])
    >>> data = pareto_plot_data(summary, "macs")
    >>> data.x_title, data.x_log, data.front
    ('multiply-adds per forward (GMAC)', False, [(3.0, 24.0)])
    """
    if not isinstance(summary, StudySummary):
        raise InvalidTypeError(f"summary must be a StudySummary, but got {type(summary).__name__}")
    if cost not in COSTS:
        raise unknown_choice("cost", cost, COSTS)
    raw = [_COST_VALUE[cost](c) for c in summary.candidates]
    if cost == "macs":
        top = max((v for v in raw if _finite(v)), default=0.0)
        divisor, unit = next(((d, u) for d, u in ((1e9, "GMAC"), (1e6, "MMAC"), (1e3, "kMAC")) if top >= d),
                             (1.0, "MAC"))
        x_title, title = f"multiply-adds per forward ({unit})", "PSNR against MACs"
    elif cost == "latency":
        divisor, unit, x_title, title = 1.0, "ms", "latency, median (ms)", "PSNR against latency"
    else:
        divisor, unit, x_title, title = _MIB, "MiB", "peak activation memory (MiB)", "PSNR against peak memory"
    rec = _recommended_key(summary)
    points: list[PlotPoint] = []
    omitted: list[str] = []
    for c, v in zip(summary.candidates, raw):
        if not (_finite(v) and _finite(c.psnr.mean)):
            omitted.append(c.candidate.label)
            continue
        err = c.psnr.std if _finite(c.psnr.std) and c.psnr.n > 1 else 0.0
        points.append(PlotPoint(c.candidate.key, c.candidate.label, v / divisor, c.psnr.mean, err, c.learned,
                                c.tied_with_best, bool(c.pareto.get(cost, False)), c.candidate.key == rec))
    xs = [p.x for p in points]
    x_log = bool(xs) and min(xs) > 0 and max(xs) >= 10 * min(xs)
    ys = [p.y + s * p.y_err for p in points for s in (-1, 1)]
    baseline = _baseline(summary)
    if baseline is not None:
        ys.append(baseline[1])
    y_range = _svg.padded_range(ys, log=False, pad=0.1)
    front = sorted((p.x, p.y) for p in points if p.pareto)
    return PlotData(cost, title, x_title, unit, divisor, x_log, _svg.padded_range(xs, x_log), "PSNR (dB)",
                    y_range, points, front, baseline, omitted)


# ---------------------------------------------------------------------------------------- numbers


def _num(v: float) -> str:
    """Decimals by magnitude: 1234, 123, 12.3, 1.23, 0.123, 1.2e-03."""
    if not _finite(v):
        return "-"
    a = abs(v)
    if a >= 100 or v == 0:
        return f"{v:.0f}"
    return f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 1 else f"{v:.3f}" if a >= 0.01 else f"{v:.1e}"


def _si(v: float) -> str:
    """Counts with an SI suffix: 950, 12.3k, 1.23M, 4.5G."""
    if not _finite(v):
        return "-"
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.0f}"


def _stat(s: Stat, digits: int) -> str:
    """``mean ± std``; the mean alone for one seed (its spread is unknown)."""
    if not _finite(s.mean):
        return "-"
    return f"{s.mean:.{digits}f}" if s.n < 2 or not _finite(s.std) else f"{s.mean:.{digits}f} ± {s.std:.{digits}f}"


def _ckb(c: CandidateSummary) -> str:
    return f"{c.checkerboard.mean:.3f}" if _finite(c.checkerboard.mean) else "-"


def _fronts(c: CandidateSummary) -> str:
    return "".join(letter if c.pareto.get(cost) else "." for cost, letter in zip(COSTS, "MLP"))


# ---------------------------------------------------------------------------------------- text table


def format_table(summary: StudySummary, width: int | None = None) -> str:
    """The candidates as an aligned plain-text table, best mean PSNR first, with a legend.

    ``width``: the most columns a line may take (default 120; at least 60). Less important
    columns are dropped, then labels shortened, to fit. Marks: ``*`` recommended, ``=`` not
    separable from the best PSNR; ``M L P``: on the Pareto front against MACs, latency, peak memory.

    >>> from upsamplekit.study.results import Candidate, CandidateSummary, Recommendation, Stat, StudySummary
    >>> def row(name, psnr, macs, learned=True):
    ...     return CandidateSummary(Candidate(name, (2,)), learned, [0, 1], Stat(psnr, 0.1, 2), Stat(0.9, 0.01, 2),
    ...                             Stat(0.02, 0.01, 2), Stat(10.0, 1.0, 2), 1000, macs, 1.5, 0.1, 2**20,
    ...                             tied_with_best=True, pareto={"macs": True, "latency": learned})
    >>> rows = [row("subpixel", 24.5, 2_000_000), row("bilinear", 24.4, 1_000_000, learned=False)]
    >>> summary = StudySummary({}, rows, Recommendation(rows[0].candidate, ["best PSNR"]), [], pending=2)
    >>> print(format_table(summary, width=90))  # too narrow for train time, kind and SSIM
    #  candidate     PSNR dB         ckb  params  MACs  lat ms (IQR)  mem MiB  marks
    1  subpixel [2]  24.50 ± 0.10  0.020      1k    2M  1.50 (0.100)     1.00  *= ML.
    2  bilinear [2]  24.40 ± 0.10  0.020      1k    1M  1.50 (0.100)     1.00   = M..
    marks: * recommended, = not separable from the best PSNR; M L P: on the Pareto front of
    PSNR against MACs, latency, peak memory. Incomplete study: 2 trials pending.
    """
    if not isinstance(summary, StudySummary):
        raise InvalidTypeError(f"summary must be a StudySummary, but got {type(summary).__name__}")
    if width is None:
        width = 120
    if isinstance(width, bool) or not isinstance(width, int) or width < 60:
        raise InvalidArgumentError(f"width must be an integer >= 60, but got width={width!r}")
    rec = _recommended_key(summary)
    # (header, right-aligned, drop priority: higher is dropped first, cell)
    columns: list[tuple[str, bool, int, Callable[[int, CandidateSummary], str]]] = [
        ("#", True, 0, lambda i, c: str(i + 1)),
        ("candidate", False, 0, lambda i, c: c.candidate.label),
        ("kind", False, 7, lambda i, c: "learned" if c.learned else "fixed"),
        ("PSNR dB", False, 0, lambda i, c: _stat(c.psnr, 2)),
        ("SSIM", False, 4, lambda i, c: _stat(c.ssim, 3)),
        ("ckb", True, 3, lambda i, c: _ckb(c)),
        ("params", True, 2, lambda i, c: _si(c.params)),
        ("MACs", True, 1, lambda i, c: _si(c.macs)),
        ("lat ms (IQR)", True, 1, lambda i, c: f"{_num(c.latency_ms)} ({_num(c.latency_iqr_ms)})"
         if _finite(c.latency_iqr_ms) else _num(c.latency_ms)),
        ("mem MiB", True, 2, lambda i, c: _num(c.peak_memory_bytes / _MIB)),
        ("train s", True, 6, lambda i, c: _num(c.train_seconds.mean)),
        ("seeds", True, 5, lambda i, c: str(len(c.seeds))),
        ("marks", False, 0, lambda i, c: ("*" if c.candidate.key == rec else " ")
         + ("=" if c.tied_with_best else " ") + " " + _fronts(c)),
    ]
    if summary.candidates and len({len(c.seeds) for c in summary.candidates}) == 1:
        columns = [col for col in columns if col[0] != "seeds"]  # every candidate has the same count
    cells = [[fn(i, c) for i, c in enumerate(summary.candidates)] for _, _, _, fn in columns]

    def widths() -> list[int]:
        return [max([len(h), *map(len, col)]) for (h, *_), col in zip(columns, cells)]

    while sum(widths()) + 2 * (len(columns) - 1) > width and any(p > 0 for _, _, p, _ in columns):
        drop = max(range(len(columns)), key=lambda j: columns[j][2])
        del columns[drop], cells[drop]
    over = sum(widths()) + 2 * (len(columns) - 1) - width
    if over > 0:  # shorten the labels, keeping their start
        keep = max(len("candidate"), widths()[1] - over)
        cells[1] = [s if len(s) <= keep else s[: keep - 1] + "~" for s in cells[1]]
    ws = widths()

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if col[1] else v.ljust(w) for v, w, col in zip(values, ws, columns)).rstrip()

    out = [line([h for h, *_ in columns])]
    out += [line([col[r] for col in cells]) for r in range(len(summary.candidates))]
    if not summary.candidates:
        out.append("(no finished candidates yet)")
    base = _baseline(summary)
    notes = ["marks: * recommended, = not separable from the best PSNR; M L P: on the Pareto front of PSNR",
             "against MACs, latency, peak memory."]
    if base is not None:
        notes.append(f"Baseline {base[0]}: {base[1]:.2f} dB.")
    if summary.pending > 0:
        notes.append(f"Incomplete study: {_plural(summary.pending, 'trial')} pending.")
    out += textwrap.wrap(" ".join(notes), min(width, 100))
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- CSV, JSON, Markdown

_CSV_COLUMNS = [
    "rank", "key", "label", "upsampler", "schedule", "learned", "n_seeds", "seeds",
    "psnr_mean", "psnr_std", "ssim_mean", "ssim_std", "checkerboard_mean", "checkerboard_std",
    "train_seconds_mean", "train_seconds_std", "params", "macs", "latency_ms", "latency_iqr_ms",
    "peak_memory_bytes", "tied_with_best", "pareto_macs", "pareto_latency", "pareto_memory", "recommended",
]


def _csv_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""  # repr round-trips exactly; empty cell for nan/inf
    return str(v)


def _csv_text(summary: StudySummary) -> str:
    rec = _recommended_key(summary)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for rank, c in enumerate(summary.candidates, start=1):
        row: dict[str, Any] = {
            "rank": rank, "key": c.candidate.key, "label": c.candidate.label, "upsampler": c.candidate.upsampler,
            "schedule": "x".join(map(str, c.candidate.schedule)), "learned": c.learned, "n_seeds": len(c.seeds),
            "seeds": ";".join(map(str, c.seeds)), "params": c.params, "macs": c.macs,
            "latency_ms": float(c.latency_ms), "latency_iqr_ms": float(c.latency_iqr_ms),
            "peak_memory_bytes": c.peak_memory_bytes, "tied_with_best": c.tied_with_best,
            "recommended": c.candidate.key == rec,
        }
        for name in ("psnr", "ssim", "checkerboard", "train_seconds"):
            stat: Stat = getattr(c, name)
            row[f"{name}_mean"], row[f"{name}_std"] = float(stat.mean), float(stat.std)
        for cost in COSTS:
            row[f"pareto_{cost}"] = bool(c.pareto.get(cost, False))
        writer.writerow([_csv_value(row[k]) for k in _CSV_COLUMNS])
    return buf.getvalue()


def _jsonable(obj: Any) -> Any:
    """Plain JSON values: nan/inf become null, tuples lists, numpy scalars Python numbers."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in (sorted(obj, key=str) if isinstance(obj, (set, frozenset)) else obj)]
    if isinstance(obj, Candidate):
        return obj.key
    return str(obj)


def _json_text(summary: StudySummary) -> str:
    rec = summary.recommendation
    candidates = []
    for c in summary.candidates:
        candidates.append({
            "key": c.candidate.key, "label": c.candidate.label, "upsampler": c.candidate.upsampler,
            "schedule": list(c.candidate.schedule), "learned": c.learned, "seeds": list(c.seeds),
            **{name: {"mean": getattr(c, name).mean, "std": getattr(c, name).std, "n": getattr(c, name).n}
               for name in ("psnr", "ssim", "checkerboard", "train_seconds")},
            "params": c.params, "macs": c.macs, "latency_ms": c.latency_ms, "latency_iqr_ms": c.latency_iqr_ms,
            "peak_memory_bytes": c.peak_memory_bytes, "tied_with_best": c.tied_with_best,
            "pareto": {cost: bool(c.pareto.get(cost, False)) for cost in COSTS},
            "recommended": rec is not None and c.candidate == rec.candidate,
        })
    doc = {
        "format": "upsamplekit-study-results", "version": 1,
        "config": summary.config, "machine": summary.machine, "pending": summary.pending,
        "candidates": candidates,
        "trials": [t.to_dict() for t in summary.trials],
        "recommendation": None if rec is None else {"candidate": rec.candidate.key, "label": rec.candidate.label,
                                                     "reasons": list(rec.reasons)},
        "baseline": summary.baseline,
        "images": sorted(summary.images),
    }
    return json.dumps(_jsonable(doc), indent=2, allow_nan=False) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown_text(summary: StudySummary, top: int = 5) -> str:
    rec = summary.recommendation
    lines = [f"# Recommendation: {rec.candidate.label}" if rec else "# No recommendation", "", _overview(summary), ""]
    if rec is not None:
        lines += [f"- {reason}" for reason in rec.reasons] + [""]
    else:
        lines += ["The study has not recommended a candidate" + (" yet: it is incomplete." if summary.pending else "."),
                  ""]
    if summary.pending > 0:
        lines += [f"**Incomplete study:** {_plural(summary.pending, 'trial')} pending; the numbers cover finished "
                  "trials only.", ""]
    shown = summary.candidates[:top]
    if rec is not None and all(c.candidate != rec.candidate for c in shown):
        shown += [c for c in summary.candidates if c.candidate == rec.candidate]
    if shown:
        lines += ["| # | candidate | PSNR (dB) | SSIM | checkerboard | MACs | latency (ms) | memory (MiB) | marks |",
                  "|--:|---|--:|--:|--:|--:|--:|--:|---|"]
        for c in shown:
            rank = summary.candidates.index(c) + 1
            marks = ", ".join(m for m, on in (("recommended", rec is not None and c.candidate == rec.candidate),
                                              ("tied with best", c.tied_with_best)) if on)
            front = [cost for cost in COSTS if c.pareto.get(cost)]
            if front:
                marks += ("; " if marks else "") + "front: " + "/".join(front)
            lines.append(f"| {rank} | {_md_cell(c.candidate.label)} | {_stat(c.psnr, 2)} | {_stat(c.ssim, 3)} | "
                         f"{_ckb(c)} | {_si(c.macs)} | {_num(c.latency_ms)} | "
                         f"{_num(c.peak_memory_bytes / _MIB)} | {marks} |")
        lines.append("")
        if len(summary.candidates) > len(shown):
            more = _plural(len(summary.candidates) - len(shown), "more candidate")
            lines += [f"{more} in `results.csv` and `report.html`.", ""]
    base = _baseline(summary)
    if base is not None:
        lines += [f"Baseline {base[0]}: {base[1]:.2f} dB PSNR.", ""]
    return "\n".join(lines)


_TASKS = {"sr": "super-resolution of area-downsampled photographs",
          "autoencoder": "an autoencoder (a fixed encoder downsamples, the decoder under study upsamples back)"}


def _overview(summary: StudySummary) -> str:
    """One paragraph: task, scale, candidates, seeds, steps, data, how quality and costs are measured, progress.

    Reads the study config's ``task``, ``scale``, ``seeds``, ``steps``, ``batch_size``, ``crop``,
    ``images``, ``val_crops``, ``val_size`` and ``latency_size`` where present.
    """
    cfg, cands = summary.config, summary.candidates
    scales = {math.prod(c.candidate.schedule) for c in cands}
    scale = cfg.get("scale", scales.pop() if len(scales) == 1 else None)
    ups = sorted({c.candidate.upsampler for c in cands})
    text = f"This study compared {_plural(len(cands), 'decoder candidate')}"
    if cfg.get("task"):
        text += f" for {_TASKS.get(cfg['task'], cfg['task'])}"
    text += f" at ×{scale}" if scale else ""
    if cands:
        text += (f": {_plural(len(ups), 'upsampler')} ({', '.join(ups)}) and "
                 f"{_plural(len({c.candidate.schedule for c in cands}), 'factor schedule')}")
    counts = sorted({len(c.seeds) for c in cands})
    seeds = cfg.get("seeds", f"{counts[0]}-{counts[-1]}" if len(counts) > 1 else counts[0] if counts else None)
    train = [f"{seeds} seeds each" if seeds is not None else "",
             f"{cfg['steps']} steps per run" if "steps" in cfg else ""]
    text += (", trained with " + " and ".join(t for t in train if t)) if any(train) else ""
    if "batch_size" in cfg and "crop" in cfg:
        text += f" (batches of {cfg['batch_size']} crops of {cfg['crop']}×{cfg['crop']})"
    if "images" in cfg:
        bundled = " on the photographs bundled with scikit-image"
        text += f" on the images in {cfg['images']}" if cfg["images"] else bundled
    text += ". Quality (PSNR, SSIM, checkerboard score) is measured on held-out validation images"
    if "val_crops" in cfg and "val_size" in cfg:
        text += f" ({cfg['val_crops']} crops of {cfg['val_size']}×{cfg['val_size']} each)"
    text += "; costs (MACs, latency, peak activation memory) on one inference forward pass"
    if "latency_size" in cfg:
        text += f" of a {cfg['latency_size']}×{cfg['latency_size']} decoder input"
    text += f". {_plural(len(summary.trials), 'trial')} finished" + (f", {summary.pending} pending." if summary.pending
                                                                      else ".")
    return text


# ---------------------------------------------------------------------------------------- entry point


def write_report(summary: StudySummary, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.html``, ``results.csv``, ``results.json`` and ``recommendation.md`` into ``out_dir``.

    ``out_dir`` is created if needed; existing files of these names are replaced. Returns the
    paths by kind: ``{"html": ..., "csv": ..., "json": ..., "markdown": ...}``. ``report.html``
    needs no server and no network: styles, plots (SVG) and images (PNG data URIs) are inline.
    ``results.json`` holds the config, machine, candidates with their statistics, every trial
    (:meth:`TrialResult.to_dict <upsamplekit.study.results.TrialResult.to_dict>`), the
    recommendation and the baseline; nan and infinities are written as null.
    """
    if not isinstance(summary, StudySummary):
        raise InvalidTypeError(f"summary must be a StudySummary, but got {type(summary).__name__}")
    if not isinstance(out_dir, (str, Path)):
        raise InvalidTypeError(f"out_dir must be a str or pathlib.Path, but got {type(out_dir).__name__}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidArgumentError(f"out_dir must be a directory, but {str(out)!r} is a file")
    out.mkdir(parents=True, exist_ok=True)
    from ._html import html_text

    texts = {
        "html": ("report.html", html_text(summary)),
        "csv": ("results.csv", _csv_text(summary)),
        "json": ("results.json", _json_text(summary)),
        "markdown": ("recommendation.md", _markdown_text(summary)),
    }
    paths = {}
    for kind, (name, text) in texts.items():
        paths[kind] = out / name
        tmp = out / f".{name}.tmp"  # write, then rename: an interrupted run leaves the previous file whole
        tmp.write_text(text, encoding="utf-8", newline="\n")
        tmp.replace(paths[kind])
    return paths
