"""The report's plots as data: what one quality-against-cost plot shows, before anyone draws it.

:func:`pareto_plot_data` turns a summary into a :class:`PlotData` (points, front, baseline, axis
ranges and units); the SVG renderer (:mod:`.svg`) only draws it, and the tests check the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from ...errors import unknown_choice
from ..results import COSTS, StudySummary
from .formatting import MIB, baseline, check_summary, finite, recommended_key

__all__ = ["PlotPoint", "PlotData", "pareto_plot_data", "padded_range"]


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


def padded_range(values: Sequence[float], log: bool, pad: float = 0.08) -> tuple[float, float]:
    """The data range of ``values`` widened by ``pad`` of its span (in log space for a log axis).

    >>> padded_range([1.0, 2.0], log=False, pad=0.1)
    (0.9, 2.1)
    >>> padded_range([], log=True)
    (1.0, 10.0)
    """
    finite_values = [v for v in values if math.isfinite(v) and (v > 0 or not log)]
    if not finite_values:
        return (1.0, 10.0) if log else (0.0, 1.0)
    lo, hi = min(finite_values), max(finite_values)
    if log:
        a, b = math.log10(lo), math.log10(hi)
        span = (b - a) or 0.5
        return 10 ** (a - pad * span), 10 ** (b + pad * span)
    span = (hi - lo) or (abs(hi) * 0.1 or 1.0)
    return lo - pad * span, hi + pad * span


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
    summary = check_summary(summary)
    if cost not in COSTS:
        raise unknown_choice("cost", cost, tuple(COSTS))
    raw = [c.cost(cost) for c in summary.candidates]
    if cost == "macs":
        top = max((v for v in raw if finite(v)), default=0.0)
        divisor, unit = next(((d, u) for d, u in ((1e9, "GMAC"), (1e6, "MMAC"), (1e3, "kMAC")) if top >= d),
                             (1.0, "MAC"))
        x_title, title = f"multiply-adds per forward ({unit})", "PSNR against MACs"
    elif cost == "latency":
        divisor, unit, x_title, title = 1.0, "ms", "latency, median (ms)", "PSNR against latency"
    else:
        divisor, unit, x_title, title = MIB, "MiB", "peak activation memory (MiB)", "PSNR against peak memory"
    rec = recommended_key(summary)
    points: list[PlotPoint] = []
    omitted: list[str] = []
    for c, v in zip(summary.candidates, raw):
        if not (finite(v) and finite(c.psnr.mean)):
            omitted.append(c.candidate.label)
            continue
        err = c.psnr.std if finite(c.psnr.std) and c.psnr.n > 1 else 0.0
        points.append(PlotPoint(c.candidate.key, c.candidate.label, v / divisor, c.psnr.mean, err, c.learned,
                                c.tied_with_best, bool(c.pareto.get(cost, False)), c.candidate.key == rec))
    xs = [p.x for p in points]
    x_log = bool(xs) and min(xs) > 0 and max(xs) >= 10 * min(xs)
    ys = [p.y + s * p.y_err for p in points for s in (-1, 1)]
    base = baseline(summary)
    if base is not None:
        ys.append(base[1])
    y_range = padded_range(ys, log=False, pad=0.1)
    front = sorted((p.x, p.y) for p in points if p.pareto)
    return PlotData(cost, title, x_title, unit, divisor, x_log, padded_range(xs, x_log), "PSNR (dB)",
                    y_range, points, front, base, omitted)
