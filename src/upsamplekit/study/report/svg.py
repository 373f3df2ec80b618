"""The SVG renderer of the report: draws a :class:`~upsamplekit.study.report.plots.PlotData`
(:func:`pareto_svg`) and a :class:`~upsamplekit.study.report.plots.CurvePlotData` (:func:`curves_svg`).

Scales, ticks, label placement, the Pareto plot and the learning curves. Everything returns
strings of SVG markup with no external references, so the report stays one self-contained file.
Plots use a ``viewBox`` and ``width: 100%`` so they scale with the page. Depends on the plot data only.

>>> nice_ticks(0.0, 1.0)
[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
>>> log_ticks(3.0, 700.0)[0]
[10.0, 100.0]
>>> spread([10.0, 11.0, 50.0], gap=6.0, lo=0.0, hi=100.0)
[7.5, 13.5, 50.0]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from html import escape
from typing import NamedTuple

from .plots import CurvePlotData, PlotData, PlotPoint

__all__ = [
    "LINE_COLOURS",
    "LINE_DASHES",
    "Box",
    "Scale",
    "curves_svg",
    "fmt_tick",
    "log_ticks",
    "nice_ticks",
    "pareto_svg",
    "place_labels",
    "spread",
]

# Okabe-Ito palette: distinguishable under the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#555555"

#: The learning curves: one colour per upsampler (the purple is the baseline's), one dash per schedule.
LINE_COLOURS = [BLUE, ORANGE, GREEN, VERMILLION, "#56B4E9", "#222222", "#A88F00", "#8C564B"]
LINE_DASHES = ["", "7 3", "2 2.5", "9 3 2 3"]

WIDTH, HEIGHT = 560, 400
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 62, 18, 16, 52
FONT = 11.0
CHAR_W = 0.6 * FONT  # a generous estimate of one character's advance in a sans-serif face


def esc(text: object) -> str:
    """Escape ``text`` for use in SVG/HTML text and attribute values."""
    return escape(str(text), quote=True)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    return [float(f"{i * step:.12g}") for i in range(first, math.floor(hi / step + 1e-9) + 1)]


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[float]]:
    """Major (labelled) and minor ticks of a log axis over ``[lo, hi]`` (both > 0).

    Decades are major; when the range spans fewer than two decades, 2x and 5x are labelled too.
    """
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    major: list[float] = []
    minor: list[float] = []
    few = math.log10(hi / lo) < 2.0
    for exponent in range(first, last + 1):
        for m in range(1, 10):
            v = m * 10.0**exponent
            if not lo <= v <= hi:
                continue
            if m == 1 or (few and m in (2, 5)):
                major.append(v)
            else:
                minor.append(v)
    if len(major) < 2:  # less than a decade without 1/2/5 marks: fall back to round linear values
        major = [v for v in nice_ticks(lo, hi, 4) if v > 0]
    return major, minor


def fmt_tick(value: float) -> str:
    """A short tick label: ``0.5``, ``12``, ``1e+04`` style only for extreme values."""
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.0e}"
    return f"{value:.3g}"


class Scale:
    """Map data values to pixels, linearly or logarithmically."""

    def __init__(self, lo: float, hi: float, p0: float, p1: float, log: bool = False) -> None:
        self.log = log
        self.lo, self.hi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
        self.p0, self.p1 = p0, p1

    def __call__(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        span = self.hi - self.lo or 1.0
        return self.p0 + (v - self.lo) / span * (self.p1 - self.p0)


class Box(NamedTuple):
    """A rectangle in pixels: left, top, right, bottom."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlap(self, other: Box) -> float:
        """The area both boxes cover."""
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0


def place_labels(anchors: Sequence[tuple[float, float]], texts: Sequence[str], bounds: Box,
                 obstacles: Sequence[Box] = (), gap: float = 7.0) -> list[tuple[float, float, str]]:
    """Greedy label placement: for each anchor in order, the first of 8 positions around it (at
    two distances) that overlaps no placed label, obstacle or the outside of ``bounds``; when
    none is free, the position with the least overlap. Returns ``(x, baseline_y, text-anchor)``.
    """
    placed: list[Box] = list(obstacles)
    out: list[tuple[float, float, str]] = []
    for (ax, ay), text in zip(anchors, texts):
        w, h = CHAR_W * len(text), FONT
        options: list[tuple[float, int, tuple[float, float, str], Box]] = []
        for d in (gap, 2.4 * gap):
            # (dx, dy) of the label's anchor point; text-anchor decides which side it grows to.
            for dx, dy, anchor in ((d, 0, "start"), (-d, 0, "end"), (0, -d, "middle"), (0, d + h * 0.6, "middle"),
                                   (d * 0.7, -d * 0.7, "start"), (d * 0.7, d * 0.7 + h * 0.5, "start"),
                                   (-d * 0.7, -d * 0.7, "end"), (-d * 0.7, d * 0.7 + h * 0.5, "end")):
                x, base = ax + dx, ay + dy + h * 0.35
                x0 = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
                box = Box(x0, base - h * 0.85, x0 + w, base + h * 0.2)
                inside = Box(max(box.x0, bounds.x0), max(box.y0, bounds.y0),
                             min(box.x1, bounds.x1), min(box.y1, bounds.y1)).overlap(box)
                cost = sum(box.overlap(b) for b in placed) + 4 * (w * h - inside) + (0.5 if d > gap else 0.0)
                options.append((cost, len(options), (x, base, anchor), box))
                if cost == 0:
                    break
            if options[-1][0] == 0:
                break
        cost, _, spot, box = min(options)
        placed.append(box)
        out.append(spot)
    return out


def _axes(area: Box, sx: Scale, sy: Scale, x_major: Sequence[float], x_minor: Sequence[float],
          y_ticks: Sequence[float], x_title: str, y_title: str, height: float) -> list[str]:
    """The plot area's background, grid lines, ticks with labels and axis titles (``area`` is
    left, top, right, bottom in pixels; ``height`` the whole plot's, for the x title)."""
    x0, y1, x1, y0 = area
    out = [f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" fill="#fbfbfd" stroke="#c8c8d0"/>']
    for v in x_minor:
        px = sx(v)
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y0}" y2="{y0 + 3}" stroke="#888"/>')
    for v in x_major:
        px = sx(v)
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y1}" y2="{y0}" stroke="#e6e6ec"/>'
                   f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y0}" y2="{y0 + 5}" stroke="#666"/>'
                   f'<text x="{px:.1f}" y="{y0 + 17}" text-anchor="middle" fill="#333">{esc(fmt_tick(v))}</text>')
    for v in y_ticks:
        py = sy(v)
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{py:.1f}" y2="{py:.1f}" stroke="#e6e6ec"/>'
                   f'<line x1="{x0 - 5}" x2="{x0}" y1="{py:.1f}" y2="{py:.1f}" stroke="#666"/>'
                   f'<text x="{x0 - 8}" y="{py + 4:.1f}" text-anchor="end" fill="#333">{esc(fmt_tick(v))}</text>')
    out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{height - 12}" text-anchor="middle" font-size="12" '
               f'fill="#222">{esc(x_title)}</text>')
    out.append(f'<text transform="translate(15 {(y0 + y1) / 2:.1f}) rotate(-90)" text-anchor="middle" '
               f'font-size="12" fill="#222">{esc(y_title)}</text>')
    return out


def spread(values: Sequence[float], gap: float, lo: float, hi: float) -> list[float]:
    """Positions as close to ``values`` as they can be while at least ``gap`` apart, within
    ``[lo, hi]``, in the same order: the y of labels stacked in a column beside their lines.

    Overlapping neighbours are merged into clusters centred where their members want to be;
    when everything does not fit, the gap shrinks to ``(hi - lo) / (n - 1)``.
    """
    n = len(values)
    if n == 0:
        return []
    if n > 1:
        gap = min(gap, (hi - lo) / (n - 1))
    order = sorted(range(n), key=lambda i: values[i])
    clusters: list[list[int]] = []  # runs of positions in ``order``, laid out gap apart
    starts: list[float] = []
    for rank in range(n):
        clusters.append([rank])
        starts.append(min(max(values[order[rank]], lo), hi))
        while True:
            members = clusters[-1]
            start = sum(values[order[r]] - j * gap for j, r in enumerate(members)) / len(members)
            starts[-1] = min(max(start, lo), hi - (len(members) - 1) * gap)
            if len(clusters) < 2 or starts[-2] + len(clusters[-2]) * gap <= starts[-1] + 1e-9:
                break
            tail = clusters.pop()
            clusters[-1] += tail
            starts.pop()
    out = [0.0] * n
    for members, start in zip(clusters, starts):
        for j, r in enumerate(members):
            out[order[r]] = start + j * gap
    return out


def _marker(p: PlotPoint, x: float, y: float, unit: str) -> str:
    spread = f" ± {p.y_err:.2f}" if p.y_err > 0 else ""
    tip = f"<title>{esc(p.label)}: PSNR {p.y:.2f}{spread} dB at {p.x:.3g} {esc(unit)}</title>"
    parts = []
    if p.recommended:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="10" fill="none" stroke="{VERMILLION}" stroke-width="2.5"/>')
    if p.tied_with_best:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="none" stroke="{GREEN}" stroke-width="1.6" '
                     'stroke-dasharray="2.5 1.5"/>')
    if p.learned:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.2" fill="{BLUE}" stroke="#fff" '
                     f'stroke-width="0.8">{tip}</circle>')
    else:
        parts.append(f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{ORANGE}" stroke="#333" '
                     f'stroke-width="0.8">{tip}</rect>')
    return "".join(parts)


def pareto_svg(plot: PlotData) -> str:
    """Draw one :class:`~upsamplekit.study.report.plots.PlotData` as an inline ``<svg class="plot">``."""
    x0, x1 = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    y0, y1 = HEIGHT - MARGIN_BOTTOM, MARGIN_TOP
    sx = Scale(*plot.x_range, x0, x1, log=plot.x_log)
    sy = Scale(*plot.y_range, y0, y1)
    out = [(f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{esc(plot.title)}" '
            f'font-size="{FONT}">')]
    major, minor = log_ticks(*plot.x_range) if plot.x_log else (nice_ticks(*plot.x_range), [])
    out += _axes(Box(x0, y1, x1, y0), sx, sy, major, minor, nice_ticks(*plot.y_range, count=6), plot.x_title,
                 plot.y_title, HEIGHT)
    obstacles: list[Box] = []
    # Baseline.
    if plot.baseline is not None:
        name, value = plot.baseline
        py = sy(value)
        text = f"{name} {value:.2f} dB"
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{py:.1f}" y2="{py:.1f}" stroke="{PURPLE}" stroke-width="1.6" '
                   f'stroke-dasharray="6 4"/><text x="{x1 - 4}" y="{py - 5:.1f}" text-anchor="end" '
                   f'fill="#7a3a66">{esc(text)}</text>')
        obstacles.append(Box(x1 - 4 - CHAR_W * len(text), py - 5 - FONT, x1 - 4, py - 3))
    # Pareto front as a staircase: better quality costs more, so each step goes right, then up.
    if plot.front:
        pts = [(sx(x), sy(y)) for x, y in plot.front]
        path = [f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"]
        for (px, py), (qx, qy) in itertools.pairwise(pts):
            path.append(f"H{qx:.1f}V{qy:.1f}")
            obstacles += [Box(px, py - 1.5, qx, py + 1.5), Box(qx - 1.5, min(py, qy), qx + 1.5, max(py, qy))]
        path.append(f"H{x1:.1f}")
        obstacles.append(Box(pts[-1][0], pts[-1][1] - 1.5, x1, pts[-1][1] + 1.5))
        out.append(f'<path d="{"".join(path)}" fill="none" stroke="{GREY}" stroke-width="1.5" stroke-opacity="0.8"/>')
    # Error bars, then markers, then labels (placed around everything already drawn).
    coords = [(sx(p.x), sy(p.y)) for p in plot.points]
    for p, (px, py) in zip(plot.points, coords):
        if p.y_err > 0 and math.isfinite(p.y_err):
            lo, hi = sy(p.y - p.y_err), sy(p.y + p.y_err)
            colour = BLUE if p.learned else ORANGE
            out.append(f'<path d="M{px:.1f},{lo:.1f}V{hi:.1f}M{px - 3:.1f},{lo:.1f}h6M{px - 3:.1f},{hi:.1f}h6" '
                       f'stroke="{colour}" stroke-width="1.2" stroke-opacity="0.75"/>')
            obstacles.append(Box(px - 3, hi, px + 3, lo))
        obstacles.append(Box(px - 5, py - 5, px + 5, py + 5))
    for p, (px, py) in zip(plot.points, coords):
        out.append(_marker(p, px, py, plot.x_unit))
    order = sorted(range(len(plot.points)), key=lambda i: (not plot.points[i].recommended,
                                                            not plot.points[i].pareto, -plot.points[i].y))
    spots = place_labels([coords[i] for i in order], [plot.points[i].label for i in order],
                         Box(x0, y1, x1, y0), obstacles)
    for i, (tx, ty, anchor) in zip(order, spots):
        out.append(_label(tx, ty, anchor, plot.points[i].label, plot.points[i].recommended))
    return _close(out, bool(plot.points), Box(x0, y1, x1, y0), "no finished candidates to plot")


def _label(x: float, y: float, anchor: str, text: str, bold: bool, extra: str = "") -> str:
    """A plot label: dark text with a halo, bold for the recommended candidate."""
    weight = ' font-weight="700"' if bold else ""
    return (f'<text{extra} x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{weight} fill="#1d1d22" '
            f'paint-order="stroke" stroke="#fbfbfd" stroke-width="3">{esc(text)}</text>')


def _close(out: list[str], drawn: bool, box: Box, empty: str) -> str:
    """The SVG's last elements: the ``empty`` message in the middle of ``box`` when nothing was drawn."""
    if not drawn:
        out.append(f'<text x="{(box.x0 + box.x1) / 2:.1f}" y="{(box.y0 + box.y1) / 2:.1f}" text-anchor="middle" '
                   f'fill="#777">{esc(empty)}</text>')
    out.append("</svg>")
    return "".join(out)


def _end_marker(x: float, y: float, colour: str, learned: bool, recommended: bool, tied: bool, tip: str) -> str:
    """Where a learning curve ends: a dot (learned upsampler) or square (fixed), ringed when recommended."""
    parts = []
    if recommended:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8" fill="none" stroke="{VERMILLION}" stroke-width="2.2"/>')
    if tied:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.6" fill="none" stroke="{GREEN}" stroke-width="1.3" '
                     'stroke-dasharray="2.5 1.5"/>')
    title = f"<title>{esc(tip)}</title>"
    if learned:
        parts.append(f'<circle class="end" cx="{x:.1f}" cy="{y:.1f}" r="3.4" fill="{colour}" stroke="#fff" '
                     f'stroke-width="0.8">{title}</circle>')
    else:
        parts.append(f'<rect class="end" x="{x - 3.2:.1f}" y="{y - 3.2:.1f}" width="6.4" height="6.4" fill="{colour}" '
                     f'stroke="#333" stroke-width="0.8">{title}</rect>')
    return "".join(parts)


def _cross(x: float, y: float, colour: str, tip: str) -> str:
    """Where the curve of a candidate that a rung stopped ends: a cross in its colour, on a white halo."""
    d = f"M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}M{x - 4:.1f},{y + 4:.1f}L{x + 4:.1f},{y - 4:.1f}"
    return (f'<path d="{d}" stroke="#fff" stroke-width="4.4" stroke-linecap="round"/>'
            f'<path class="end stopped" d="{d}" stroke="{colour}" stroke-width="2.2" stroke-linecap="round">'
            f"<title>{esc(tip)}</title></path>")


def curves_svg(plot: CurvePlotData) -> str:
    """Draw a :class:`~upsamplekit.study.report.plots.CurvePlotData` as an inline ``<svg class="plot curves">``.

    Each candidate is its mean line with a translucent band of ± one standard deviation over
    seeds, in its upsampler's colour (:data:`LINE_COLOURS`) and its schedule's dash
    (:data:`LINE_DASHES`), ending in a marker. Curves that run to the last step are labelled in a
    column on the right, spread apart and joined to their ends; curves that end earlier are
    labelled beside their end by :func:`place_labels`. The baseline is a dashed horizontal line,
    half the budget a dotted vertical one. Taller with many candidates, so labels keep their room.
    Candidates not ranked (``--budget halving``) are drawn pale and thin; the curve of one that a
    rung stopped ends in a cross (``class="end stopped"``) whose tooltip says why.
    """
    last = plot.x_range[1]
    column = [i for i, line in enumerate(plot.lines) if line.end[0] >= last]
    label_w = max((CHAR_W * len(plot.lines[i].label) for i in column), default=0.0)
    right = 1.1 * label_w + 38 if column else MARGIN_RIGHT  # room for a bold label
    width = round(MARGIN_LEFT + 520 + right)
    height = round(max(HEIGHT, MARGIN_TOP + MARGIN_BOTTOM + (FONT + 2) * len(column) + 12))
    x0, x1 = MARGIN_LEFT, width - right
    y0, y1 = height - MARGIN_BOTTOM, MARGIN_TOP
    sx, sy = Scale(*plot.x_range, x0, x1), Scale(*plot.y_range, y0, y1)
    out = [(f'<svg class="plot curves" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(plot.title)}" '
            f'font-size="{FONT}">')]
    out += _axes(Box(x0, y1, x1, y0), sx, sy, nice_ticks(*plot.x_range, count=6), [],
                 nice_ticks(*plot.y_range, count=6), plot.x_title, plot.y_title, height)
    obstacles: list[Box] = []
    if plot.half_step is not None:
        px = sx(plot.half_step)
        text = plot.half_label
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y1}" y2="{y0}" stroke="{GREY}" stroke-width="1" '
                   f'stroke-dasharray="1.5 3"/><text x="{px + 4:.1f}" y="{y1 + 12}" fill="{GREY}">{text}</text>')
        obstacles.append(Box(px + 4, y1 + 12 - FONT, px + 4 + CHAR_W * len(text), y1 + 14))
    if plot.baseline is not None:
        name, value = plot.baseline
        py = sy(value)
        text = f"{name} {value:.2f} dB"
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{py:.1f}" y2="{py:.1f}" stroke="{PURPLE}" stroke-width="1.6" '
                   f'stroke-dasharray="6 4"/><text x="{x0 + 6}" y="{py - 5:.1f}" fill="#7a3a66">{esc(text)}</text>')
        obstacles.append(Box(x0 + 6, py - 5 - FONT, x0 + 6 + CHAR_W * len(text), py - 3))
    colours = [LINE_COLOURS[line.colour % len(LINE_COLOURS)] for line in plot.lines]
    dashes = [LINE_DASHES[line.dash % len(LINE_DASHES)] for line in plot.lines]
    # Bands first (under every line), then lines (the recommended one last, on top), then end markers.
    for line, colour in zip(plot.lines, colours):
        if len(line.points) > 1 and any(err > 0 for _, _, err in line.points):
            upper = [f"{sx(x):.1f},{sy(y + err):.1f}" for x, y, err in line.points]
            lower = [f"{sx(x):.1f},{sy(y - err):.1f}" for x, y, err in reversed(line.points)]
            out.append(f'<polygon class="band" points="{" ".join(upper + lower)}" fill="{colour}" '
                       f'fill-opacity="{0.1 if line.ranked else 0.05}" stroke="none"/>')
    order = sorted(range(len(plot.lines)), key=lambda i: (plot.lines[i].ranked, plot.lines[i].recommended))
    for i in order:
        line = plot.lines[i]
        pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y, _ in line.points)
        dash = f' stroke-dasharray="{dashes[i]}"' if dashes[i] else ""
        pale = "" if line.ranked else ' stroke-opacity="0.45"'
        tip = line.label if line.ranked else f"{line.label}: {line.stopped or line.standing}"
        out.append(f'<polyline class="{"curve" if line.ranked else "curve unranked"}" data-key="{esc(line.key)}" '
                   f'points="{pts}" fill="none" stroke="{colours[i]}" '
                   f'stroke-width="{2.6 if line.recommended else 1.5 if line.ranked else 1.2}"{dash}{pale} '
                   f'stroke-linejoin="round"><title>{esc(tip)}</title></polyline>')
    ends = [(sx(line.end[0]), sy(line.end[1])) for line in plot.lines]
    for i in order:
        line, (ex, ey) = plot.lines[i], ends[i]
        err = line.points[-1][2]
        tip = f"{line.label}: {line.end[1]:.2f}{f' ± {err:.2f}' if err > 0 else ''} dB at step {line.end[0]:.0f}"
        if line.stopped:
            out.append(_cross(ex, ey, colours[i], f"{line.label} {line.stopped}"))
        else:
            tip += "" if line.ranked else f"; {line.standing}"
            out.append(_end_marker(ex, ey, colours[i], line.learned, line.recommended, line.tied_with_best, tip))
        obstacles.append(Box(ex - 5, ey - 5, ex + 5, ey + 5))
    # Labels: a column beside the right edge for curves that reach it, placed labels for the others.
    spots = spread([ends[i][1] + FONT * 0.35 for i in column], FONT + 1.5, y1 + FONT, y0 + 4)
    for i, ty in zip(column, spots):
        line = plot.lines[i]
        dash = f' stroke-dasharray="{dashes[i]}"' if dashes[i] else ""
        weight = ' font-weight="700"' if line.recommended else ""
        out.append(f'<path d="M{x1 + 2:.1f},{ends[i][1]:.1f}L{x1 + 10:.1f},{ty - FONT * 0.35:.1f}h14" fill="none" '
                   f'stroke="{colours[i]}" stroke-width="1.5"{dash}/>'
                   f'<text class="label" x="{x1 + 28:.1f}" y="{ty:.1f}"{weight} fill="#1d1d22">{esc(line.label)}</text>')
    early = sorted((i for i in range(len(plot.lines)) if i not in column),
                   key=lambda i: (not plot.lines[i].recommended, -plot.lines[i].end[1]))
    placed = place_labels([ends[i] for i in early], [plot.lines[i].label for i in early], Box(x0, y1, x1, y0),
                          obstacles)
    for i, (tx, ty, anchor) in zip(early, placed):
        pale = "" if plot.lines[i].ranked else ' fill-opacity="0.7"'
        out.append(_label(tx, ty, anchor, plot.lines[i].label, plot.lines[i].recommended, ' class="label"' + pale))
    return _close(out, bool(plot.lines), Box(x0, y1, x1, y0), "no learning curves recorded")
