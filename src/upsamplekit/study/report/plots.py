"""The report's plots as data: what each plot shows, before anyone draws it.

:func:`pareto_plot_data` turns a summary into a :class:`PlotData` (points, front, baseline, axis
ranges and units) for one quality-against-cost plot; :func:`curve_plot_data` into a
:class:`CurvePlotData` (each candidate's validation PSNR over the training steps, mean ± std over
seeds). The SVG renderer (:mod:`.svg`) only draws them, and the tests check the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from ...errors import unknown_choice
from ..results import COSTS, StudySummary
from .formatting import MIB, baseline, check_summary, finite, recommended_key, standing

__all__ = [
    "CurveLine",
    "CurvePlotData",
    "PlotData",
    "PlotPoint",
    "curve_plot_data",
    "padded_range",
    "pareto_plot_data",
]


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
    ``omitted``: labels of candidates without a finite cost or PSNR (not drawn). ``unranked``:
    labels of the candidates not ranked (with ``--budget halving``, stopped at a rung or still at a
    lower one: their PSNR is from fewer training steps), not drawn either.
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
    unranked: list[str]


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
    cost is positive and the largest is at least 10 times the smallest. Only the ranked candidates
    are points: the others' PSNR comes from fewer training steps (``unranked``).

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
    ranked = [c for c in summary.candidates if c.ranked]
    raw = [c.cost(cost) for c in ranked]
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
    for c, v in zip(ranked, raw):
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
                    y_range, points, front, base, omitted,
                    [c.candidate.label for c in summary.candidates if not c.ranked])


class CurveLine(NamedTuple):
    """One candidate's learning curve: ``points`` are ``(step, mean PSNR, std)`` over its seeds in
    step order (std 0 for one seed); ``end`` is ``(step, mean)`` of its last point, where the
    curve stops (the end of training, or earlier when a study stopped the candidate early).

    ``colour`` indexes the candidate's upsampler and ``dash`` its factor schedule among those of
    the plot (both in sorted order), so one colour is one upsampler and one dash one schedule.
    ``ranked``: among the candidates compared; when not (``--budget halving``), ``standing`` says
    where it stands (``stopped at rung 2/3 (133 steps)``, ``in progress (rung 1/3, 44 steps)``) and
    ``stopped`` why a rung stopped it ("" when none did): its curve ends at that rung.
    """

    key: str
    label: str
    points: list[tuple[float, float, float]]
    end: tuple[float, float]
    learned: bool
    recommended: bool
    tied_with_best: bool
    colour: int
    dash: int
    ranked: bool = True
    standing: str = ""
    stopped: str = ""


class CurvePlotData(NamedTuple):
    """Everything the learning-curves plot shows: validation PSNR against training step.

    ``x_range`` is ``(0, the last step of any curve)``; ``y_range`` covers every mean ± std and
    the baseline, padded. ``baseline``: ``(name, psnr)`` of the no-network reference (a
    horizontal line), or None. ``half_step``: where the ranking is compared with the final one
    (rank stability): the confidence's ``compared_at`` when it has one (with ``--budget halving``
    the previous rung's end), else half the training budget (the study's ``steps``, else the last
    step); None without curves. ``half_label``: what the plot calls it (``half budget``, or
    ``step 133`` when it is not half). ``upsamplers`` and ``schedules``: what the ``colour`` and ``dash``
    indices of the lines stand for. ``omitted``: labels of candidates without a curve (results
    from before curves were recorded), not drawn.
    """

    title: str
    x_title: str
    x_range: tuple[float, float]
    y_title: str
    y_range: tuple[float, float]
    lines: list[CurveLine]
    baseline: tuple[str, float] | None
    half_step: float | None
    upsamplers: list[str]
    schedules: list[tuple[int, ...]]
    omitted: list[str]
    half_label: str = "half budget"


def curve_plot_data(summary: StudySummary) -> CurvePlotData:
    """The data behind the learning-curves plot: one line per candidate with a curve, in the
    summary's order (the ranked candidates by mean PSNR, best first, then the others); points
    without a finite mean are left out.

    >>> from upsamplekit.study.results import Candidate, CandidateSummary, Stat, StudySummary
    >>> def row(name, curve):
    ...     return CandidateSummary(Candidate(name, (2,)), True, [0, 1], Stat(24.0, 0.1, 2), Stat(0.9, 0.0, 2),
    ...                             Stat(0.1, 0.0, 2), Stat(9.0, 0.5, 2), 1000, 10**6, 1.0, 0.1, 2**20,
    ...                             curve=curve)
    >>> rows = [row("subpixel", [(50, Stat(20.0, 0.5, 2)), (100, Stat(24.0, 0.1, 2))]), row("carafe", [])]
    >>> data = curve_plot_data(StudySummary({"steps": 100}, rows, None, []))
    >>> data.lines[0].points, data.lines[0].end, data.x_range, data.half_step, data.omitted
    ([(50.0, 20.0, 0.5), (100.0, 24.0, 0.1)], (100.0, 24.0), (0.0, 100.0), 50.0, ['carafe [2]'])
    """
    summary = check_summary(summary)
    rec = recommended_key(summary)
    drawn = []
    omitted: list[str] = []
    for c in summary.candidates:
        points = sorted((float(step), s.mean, s.std if s.n > 1 and finite(s.std) else 0.0)
                        for step, s in c.curve if finite(step) and finite(s.mean))
        if points:
            drawn.append((c, points))
        else:
            omitted.append(c.candidate.label)
    upsamplers = sorted({c.candidate.upsampler for c, _ in drawn})
    schedules = sorted({c.candidate.schedule for c, _ in drawn})
    lines = [CurveLine(c.candidate.key, c.candidate.label, points, (points[-1][0], points[-1][1]), c.learned,
                       c.candidate.key == rec, c.tied_with_best, upsamplers.index(c.candidate.upsampler),
                       schedules.index(c.candidate.schedule), c.ranked, standing(c, summary), c.stopped)
             for c, points in drawn]
    last = max((line.end[0] for line in lines), default=0.0)
    ys = [y + s * err for line in lines for _, y, err in line.points for s in (-1, 1)]
    base = baseline(summary)
    if base is not None:
        ys.append(base[1])
    steps: Any = summary.config.get("steps")
    budget = float(steps) if finite(steps) and not isinstance(steps, bool) and steps > 0 else last
    at = summary.confidence.compared_at if summary.confidence is not None else None
    step = float(at) if at is not None and finite(at) and 0 < at <= last else budget / 2
    half = step if lines and step <= last else None
    label = "half budget" if step == budget / 2 else f"step {step:.0f}"
    return CurvePlotData("Validation PSNR during training", "training step", (0.0, last or 1.0), "PSNR (dB)",
                         padded_range(ys, log=False, pad=0.06), lines, base, half, upsamplers, schedules, omitted,
                         label)
