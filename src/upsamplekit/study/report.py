"""The study's report: plot data first, files second.

:func:`pareto_plot_data` computes what one quality-against-cost plot shows as plain data
(:class:`PlotData`); :func:`format_table` is the plain-text table the CLI prints;
:func:`write_report` writes ``report.html`` (one self-contained file: inline CSS, inline SVG
plots, PNG images as data URIs, no network), ``results.csv``, ``results.json`` and
``recommendation.md``. Everything is rendered from a :class:`~upsamplekit.study.results.StudySummary`
alone, so partial results (pending trials, missing images, one seed) render too.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import textwrap
from collections.abc import Callable
from html import escape
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


# ---------------------------------------------------------------------------------------- images


def _rgb(key: str, image: Any) -> np.ndarray:
    """``summary.images[key]`` as float32 (H, W, 3) clipped to [0, 1] for display."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] != 3 or min(a.shape[:2]) < 1:
        raise InvalidArgumentError(
            f"summary.images[{key!r}] must be an array of shape (H, W, 3), (H, W, 1) or (H, W), "
            f"but got shape {tuple(np.shape(image))}")
    return np.clip(np.nan_to_num(a, nan=0.0), 0.0, 1.0)


def _png_uri(rgb: np.ndarray, zoom: int = 1) -> str:
    """A ``data:image/png;base64,...`` URI of ``rgb`` (float [0, 1]), enlarged ``zoom`` times by nearest."""
    from PIL import Image

    pixels = np.round(rgb * 255.0).astype(np.uint8)
    if zoom > 1:
        pixels = pixels.repeat(zoom, axis=0).repeat(zoom, axis=1)
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _nearest_to(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``rgb`` enlarged to ``shape`` (H, W) by nearest neighbour (integer repeats when they fit)."""
    h, w = rgb.shape[:2]
    if shape[0] % h == 0 and shape[1] % w == 0:
        return rgb.repeat(shape[0] // h, axis=0).repeat(shape[1] // w, axis=1)
    rows = (np.arange(shape[0]) * h) // shape[0]
    cols = (np.arange(shape[1]) * w) // shape[1]
    return rgb[rows][:, cols]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def _zoom_region(residual: np.ndarray, period: int, size: int) -> tuple[int, int, int]:
    """``(top, left, size)`` of the square patch whose ``residual`` (output - target, (H, W) or
    (H, W, C)) has the most energy in its component periodic with ``period`` pixels.

    Patches start on multiples of ``period`` and are ``size`` rounded to a multiple of it.
    Within a patch, the periodic component is the mean of the residual at each of the
    ``period x period`` sub-pixel phases minus the patch mean; its energy is the squared
    deviation summed over the patch (and channels). With ``period`` 1 there are no phases and
    the plain residual energy decides.

    >>> r = np.zeros((64, 64)); r[40:56, 8:24] = np.indices((16, 16)).sum(0) % 2 - 0.5
    >>> _zoom_region(r + 0.2 * np.random.default_rng(0).standard_normal((64, 64)), 2, 16)
    (40, 8, 16)
    """
    r = residual[:, :, None] if residual.ndim == 2 else residual
    h, w = r.shape[:2]
    s = max(1, min(int(period), h, w))
    k = max(1, min(round(size / s), h // s, w // s))
    hb, wb = h // s, w // s
    blocks = r[: hb * s, : wb * s].reshape(hb, s, wb, s, -1).transpose(1, 3, 0, 2, 4).astype(np.float64)
    if s == 1:
        blocks = blocks**2
    # Box sums of k x k blocks for every phase, from a zero-padded cumulative sum.
    c = np.zeros((s, s, hb + 1, wb + 1, blocks.shape[-1]))
    c[:, :, 1:, 1:] = blocks.cumsum(2).cumsum(3)
    sums = c[:, :, k:, k:] - c[:, :, :-k, k:] - c[:, :, k:, :-k] + c[:, :, :-k, :-k]
    if s == 1:
        energy = sums[0, 0].sum(-1)
    else:
        means = sums / (k * k)
        energy = (k * k) * ((means - means.mean(axis=(0, 1), keepdims=True)) ** 2).sum(axis=(0, 1, 4))
    i, j = np.unravel_index(int(np.argmax(energy)), energy.shape)
    return int(i) * s, int(j) * s, k * s


def _grid_html(summary: StudySummary) -> str:
    """The reconstruction grid: input, target, then each candidate with a zoom on one region."""
    images = summary.images
    target = _rgb("target", images["target"]) if "target" in images else None
    with_image = [c for c in summary.candidates if c.candidate.key in images]
    recons = {c.candidate.key: _rgb(c.candidate.key, images[c.candidate.key]) for c in with_image}
    ref = target if target is not None else next(iter(recons.values()), None)
    if ref is None and "input" not in images:
        return '<p class="note">No images were recorded for this study.</p>'
    tiles: list[tuple[str, str, np.ndarray]] = []  # (title, caption, rgb at output size)
    if "input" in images:
        inp = _rgb("input", images["input"])
        if ref is None:
            ref = inp
        factor = ref.shape[0] / inp.shape[0]
        tiles.append(("input", f"nearest ×{factor:.3g}" if factor != 1 else "decoder input",
                      _nearest_to(inp, ref.shape[:2])))
    if target is not None:
        tiles.append(("target", "ground truth", target))
    for c in with_image:
        img = recons[c.candidate.key]
        if img.shape != ref.shape:
            raise InvalidArgumentError(f"summary.images[{c.candidate.key!r}] must have the target's shape "
                                       f"{ref.shape}, but got {img.shape}")
        here = f"{_psnr(img, target):.2f} dB on this image · " if target is not None else ""
        tiles.append((c.candidate.label, f"{here}mean {_stat(c.psnr, 2)} dB", img))
    h, w = ref.shape[:2]
    size = min(32, max(16, min(h, w) // 4), h, w)
    scored = [c for c in with_image if _finite(c.checkerboard.mean)]
    worst = max(scored, key=lambda c: c.checkerboard.mean) if scored else None
    if worst is not None and target is not None:
        period = math.prod(worst.candidate.schedule)
        top, left, size = _zoom_region(recons[worst.candidate.key] - target, period, size)
        why = (f"where {escape(worst.candidate.label)}, the candidate with the highest checkerboard score "
               f"({worst.checkerboard.mean:.3f}), has the most error energy repeating with its {period}-pixel "
               "upsampling period.")
    else:
        top, left = (h - size) // 2, (w - size) // 2
        why = "the image centre (no reconstruction and target to locate artifacts in)."
    zoom = max(2, round(128 / size))  # zoomed patches of about 128 pixels
    why = f"Below each image, the framed {size}×{size} region enlarged {zoom}× by nearest neighbour: {why}"
    box = (f"left:{100 * left / w:.3f}%;top:{100 * top / h:.3f}%;"
           f"width:{100 * size / w:.3f}%;height:{100 * size / h:.3f}%")
    out = [f'<p class="note">{why}</p>', f'<div class="grid" data-zoom="{top},{left},{size}">']
    for title, caption, img in tiles:
        out.append(
            f'<figure class="tile"><div class="frame"><img src="{_png_uri(img)}" alt="{escape(title)}">'
            f'<span class="zoombox" style="{box}"></span></div>'
            f'<img class="zoom" src="{_png_uri(img[top:top + size, left:left + size], zoom)}" '
            f'alt="{escape(title)}, zoomed">'
            f'<figcaption><b>{escape(title)}</b><span>{escape(caption)}</span></figcaption></figure>')
    out.append("</div>")
    missing = [c.candidate.label for c in summary.candidates if c.candidate.key not in images]
    if missing:
        out.append(f'<p class="note">No reconstruction recorded for: {escape(", ".join(missing))}.</p>')
    return "".join(out)


# ---------------------------------------------------------------------------------------- HTML

_CSS = """
:root{--ink:#1d1d22;--muted:#5b5b66;--line:#dedee6;--bg:#fff;--soft:#f5f6f9;--accent:#D55E00;--ok:#009E73}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:28px 20px 40px}
h1{font-size:1.7rem;margin:0 0 .4rem;letter-spacing:-.01em}
h2{font-size:1.2rem;margin:2.2rem 0 .6rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
p{margin:.4rem 0 .8rem;max-width:80ch}
.lede{color:#33333b}
.note{color:var(--muted);font-size:.92rem}
.pending{background:#fff4e5;border:1px solid #f0c68a;border-left:5px solid var(--accent);padding:.6rem .9rem;
border-radius:6px;max-width:none}
.rec{background:var(--soft);border:1px solid var(--line);border-left:6px solid var(--accent);border-radius:8px;
padding:1rem 1.3rem;margin:1.2rem 0}
.rec h2{border:0;margin:0;padding:0;font-size:.85rem;text-transform:uppercase;letter-spacing:.08em;color:var(--muted)}
.rec .pick{font-size:1.6rem;font-weight:700;margin:.15rem 0 .3rem}
.rec .facts{color:#33333b;font-variant-numeric:tabular-nums}
.rec ul{margin:.5rem 0 0;padding-left:1.2rem}
.key{padding:.4rem .6rem;font-size:.92rem;color:#33333b}
.legend{display:flex;flex-direction:column;gap:.35rem;font-size:.9rem;margin:.6rem 0}
.legend span{display:flex;align-items:center;gap:.5rem}
.legend svg{flex:0 0 28px}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(460px,100%),1fr));gap:14px}
figure{margin:0}
.plots figure{border:1px solid var(--line);border-radius:8px;padding:8px 8px 4px}
.plots figcaption{font-weight:600;font-size:.92rem;padding:0 4px}
svg.plot{width:100%;height:auto;display:block;font-family:inherit}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums;width:100%}
th,td{padding:.3rem .45rem;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{vertical-align:bottom;line-height:1.25}th small{display:block;font-weight:400;color:var(--muted)}
th{background:var(--soft);font-weight:600;cursor:pointer;user-select:none;position:sticky;top:0}
th:nth-child(2),td:nth-child(2),th:last-child,td:last-child{text-align:left}
tbody tr:hover{background:#f0f4fa}
td small{color:var(--muted);font-size:.85em}
tr.recommended{background:#fff1e8}
tfoot td{color:var(--muted);font-style:italic}
.badge{display:inline-block;font-size:.72rem;line-height:1.35;padding:0 .35rem;border-radius:9px;margin-right:.2rem;
border:1px solid #bbb;color:#333;background:#fff}
.badge.brec{border-color:var(--accent);color:#a1430a;background:#fff1e8;font-weight:600}
.badge.btie{border-color:var(--ok);color:#006e50;border-style:dashed}
.front{color:#555;font-size:.7em;margin-left:.3em;vertical-align:.1em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(170px,45%),1fr));gap:14px}
.tile .frame{position:relative;line-height:0}
.tile img{width:100%;height:auto;image-rendering:pixelated;display:block;border-radius:3px}
.tile img.zoom{margin-top:6px}
.zoombox{position:absolute;outline:2px solid #fff;box-shadow:0 0 0 3px #D55E00}
.tile figcaption{font-size:.84rem;line-height:1.3;margin-top:.3rem}
.tile figcaption span{display:block;color:var(--muted);font-variant-numeric:tabular-nums}
footer{margin-top:2.5rem;color:var(--muted);font-size:.84rem}
footer .meta{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(320px,100%),1fr));gap:0 2rem}
footer h3{font-size:.95rem;color:#33333b}
footer table{width:auto;font-size:.82rem;margin-bottom:1rem}
footer td,footer th{text-align:left;white-space:normal;cursor:auto;background:none;position:static}
footer td:first-child{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#33333b}
@media print{th{position:static}.rec,.pending{break-inside:avoid}}
"""

# Click a column header to sort; numbers sort by the data-v attribute of each cell.
_JS = """
document.querySelectorAll("table.sortable").forEach(function(t){var b=t.tBodies[0];
t.querySelectorAll("thead th").forEach(function(th,i){th.title="click to sort";th.addEventListener("click",function(){
var d=th.dataset.dir==="asc"?-1:1;th.dataset.dir=d>0?"asc":"desc";
Array.from(b.rows).sort(function(r,s){var a=r.cells[i].dataset.v,c=s.cells[i].dataset.v,x=parseFloat(a),y=parseFloat(c);
return (isNaN(x)||isNaN(y)?String(a).localeCompare(String(c)):x-y)*d;})
.forEach(function(r){b.appendChild(r);});});});});
"""

_ICONS = {
    "learned": '<svg width="14" height="14"><circle cx="7" cy="7" r="4.5" fill="#0072B2"/></svg>',
    "fixed": '<svg width="14" height="14"><rect x="3" y="3" width="8" height="8" fill="#E69F00" stroke="#333"/></svg>',
    "rec": '<svg width="24" height="24"><circle cx="12" cy="12" r="9.5" fill="none" stroke="#D55E00" '
           'stroke-width="2.5"/><circle cx="12" cy="12" r="4" fill="#0072B2"/></svg>',
    "tie": '<svg width="20" height="20"><circle cx="10" cy="10" r="7" fill="none" stroke="#009E73" '
           'stroke-width="1.6" stroke-dasharray="2.5 1.5"/><circle cx="10" cy="10" r="4" fill="#0072B2"/></svg>',
    "front": '<svg width="28" height="14"><path d="M2,12H12V4H26" fill="none" stroke="#555" stroke-width="1.5"/></svg>',
    "base": '<svg width="28" height="14"><path d="M2,7H26" stroke="#CC79A7" stroke-width="1.6" '
            'stroke-dasharray="6 4"/></svg>',
}


def _td(text: str, sort: Any = None, title: str = "", front: bool = False, extra: str = "") -> str:
    """One cell; ``sort`` is the number the sorting script uses, ``front`` adds the Pareto mark,
    ``extra`` a muted aside (the latency's IQR)."""
    v = text if sort is None else (sort if _finite(sort) else "")
    t = f' title="{escape(title)}"' if title else ""
    aside = f' <small>{escape(extra)}</small>' if extra else ""
    mark = '<span class="front" title="on the Pareto front">◆</span>' if front else ""
    return f'<td data-v="{escape(str(v))}"{t}>{escape(text)}{aside}{mark}</td>'


def _table_html(summary: StudySummary) -> str:
    rec = _recommended_key(summary)
    heads = ["#", "candidate", "learned", "PSNR<small>dB</small>", "SSIM", "checker-<br>board", "params", "MACs",
             "latency<small>ms (IQR)</small>", "peak mem<small>MiB</small>", "train<small>s</small>", "seeds",
             "marks"]
    rows = []
    for rank, c in enumerate(summary.candidates, start=1):
        marks = ('<span class="badge brec">recommended</span>' if c.candidate.key == rec else "") + (
            '<span class="badge btie">≈ best</span>' if c.tied_with_best else "")
        front = {cost: bool(c.pareto.get(cost)) for cost in COSTS}
        cells = [
            _td(str(rank), rank), _td(c.candidate.label, title=c.candidate.key), _td("yes" if c.learned else "no"),
            _td(_stat(c.psnr, 2), c.psnr.mean), _td(_stat(c.ssim, 3), c.ssim.mean),
            _td(_ckb(c), c.checkerboard.mean,
                title=f"std {c.checkerboard.std:.3f}"),
            _td(_si(c.params), c.params, f"{c.params:,}"),
            _td(_si(c.macs), c.macs, f"{c.macs:,}", front["macs"]),
            _td(_num(c.latency_ms), c.latency_ms, front=front["latency"],
                extra=f"({_num(c.latency_iqr_ms)})" if _finite(c.latency_iqr_ms) else ""),
            _td(_num(c.peak_memory_bytes / _MIB), c.peak_memory_bytes, f"{c.peak_memory_bytes:,} bytes",
                front["memory"]),
            _td(_num(c.train_seconds.mean), c.train_seconds.mean),
            _td(str(len(c.seeds)), len(c.seeds), "seeds " + ", ".join(map(str, c.seeds))),
            f'<td data-v="{(c.candidate.key == rec) * 2 + c.tied_with_best}">{marks}</td>',
        ]
        cls = ' class="recommended"' if c.candidate.key == rec else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    foot = ""
    base = _baseline(summary)
    if base is not None:
        ssim = (summary.baseline or {}).get("ssim", math.nan)
        foot = (f'<tfoot><tr><td></td><td>{escape(base[0])}</td><td>no</td><td>{base[1]:.2f}</td>'
                f'<td>{f"{ssim:.3f}" if _finite(ssim) else "-"}</td>' + "<td>-</td>" * 7
                + "<td>baseline</td></tr></tfoot>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(heads)}">No finished candidates yet.</td></tr>')
    legend = ('<p class="note"><span class="badge brec">recommended</span> the recommended candidate; '
              '<span class="badge btie">≈ best</span> mean PSNR not separable from the best candidate\'s over the '
              'seeds; <span class="front">◆</span> after a cost: on the Pareto front of PSNR against that cost (no '
              'other candidate is both cheaper and better). PSNR and SSIM: mean ± standard deviation over seeds (the '
              'mean alone for one seed). Checkerboard: share of the error energy periodic with the upsampling period '
              '(0 to 1, lower is better). Costs are for one inference forward pass. Click a column header to sort.</p>')
    return (f'<div class="scroll"><table class="sortable"><thead><tr>{"".join(f"<th>{h}</th>" for h in heads)}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody>{foot}</table></div>{legend}')


def _kv_table(title: str, data: dict[str, Any]) -> str:
    if not data:
        return ""
    rows = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(v if isinstance(v, str) else json.dumps(_jsonable(v)))}"
                   "</td></tr>" for k, v in data.items())
    return f"<div><h3>{escape(title)}</h3><table>{rows}</table></div>"


def _recommendation_html(summary: StudySummary) -> str:
    rec = summary.recommendation
    if rec is None:
        why = (f"The study is incomplete ({_plural(summary.pending, 'trial')} pending)." if summary.pending
               else "The study made no recommendation.")
        return f'<section class="rec"><h2>Recommendation</h2><p class="pick">None yet</p><p>{why}</p></section>'
    facts = ""
    for c in summary.candidates:
        if c.candidate == rec.candidate:
            facts = (f'<p class="facts">PSNR {_stat(c.psnr, 2)} dB · SSIM {_stat(c.ssim, 3)} · checkerboard '
                     f'{c.checkerboard.mean:.3f} · {_si(c.macs)} MACs · {_num(c.latency_ms)} ms · '
                     f'{_num(c.peak_memory_bytes / _MIB)} MiB · {_si(c.params)} params</p>')
    reasons = "".join(f"<li>{escape(r)}</li>" for r in rec.reasons)
    return (f'<section class="rec"><h2>Recommendation</h2><p class="pick">{escape(rec.candidate.label)}</p>'
            f"{facts}<ul>{reasons}</ul></section>")


def _html_text(summary: StudySummary) -> str:
    from .. import __version__

    plots = [pareto_plot_data(summary, cost) for cost in COSTS]
    figures = []
    for p in plots:
        left_out = (f'<p class="note">Not plotted (no value): {escape(", ".join(p.omitted))}.</p>'
                    if p.omitted else "")
        figures.append(f"<figure><figcaption>{escape(p.title)}{' (log scale)' if p.x_log else ''}</figcaption>"
                       f"{_svg.pareto_svg(p)}{left_out}</figure>")
    cands = summary.candidates
    entries = [("learned", "learned upsampler", any(c.learned for c in cands)),
               ("fixed", "fixed (non-learned) upsampler", any(not c.learned for c in cands)),
               ("rec", "recommended", summary.recommendation is not None),
               ("tie", "not separable from the best", any(c.tied_with_best for c in cands)),
               ("front", "Pareto front", bool(cands))]
    legend = [f"<span>{_ICONS[icon]} {text}</span>" for icon, text, shown in entries if shown]
    if plots[0].baseline is not None:
        legend.append(f'<span>{_ICONS["base"]} {escape(plots[0].baseline[0])}</span>')
    scale = summary.config.get("scale")
    title = "Upsampling study" + (f": ×{scale}" if scale else "")
    pending = (f'<p class="pending" role="status"><b>Incomplete study:</b> {summary.pending} trial'
               f'{"s" if summary.pending != 1 else ""} pending. The numbers cover the finished trials only; some '
               "candidates may have fewer seeds or no reconstruction yet.</p>" if summary.pending > 0 else "")
    body = [
        f"<header><h1>{escape(title)}</h1><p class=\"lede\">{escape(_overview(summary))}</p></header>", pending,
        _recommendation_html(summary),
        '<section><h2>Quality against cost</h2><div class="plots"><div class="key"><p>Each point is one candidate: '
        "mean PSNR over its seeds, bars ± one standard deviation. Up is better, left is cheaper. The step line "
        "joins the Pareto-optimal candidates: no other candidate is both cheaper and better.</p>"
        f'<div class="legend">{"".join(legend)}</div></div>{"".join(figures)}</div></section>',
        f"<section><h2>All candidates</h2>{_table_html(summary)}</section>",
        f"<section><h2>Reconstructions</h2>{_grid_html(summary)}</section>",
        f"<footer><div class=\"meta\">{_kv_table('Configuration', summary.config)}"
        f"{_kv_table('Machine', summary.machine)}</div>"
        f"<p>Generated by upsamplekit {escape(__version__)}. Data: results.csv, results.json.</p></footer>",
    ]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main>{''.join(body)}</main>"
            f"<script>{_JS}</script></body></html>\n")


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
    texts = {
        "html": ("report.html", _html_text(summary)),
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
