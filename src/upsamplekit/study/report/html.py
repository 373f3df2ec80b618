"""The HTML renderer of the report: the page, its confidence, recommendation, learning curves,
plots, table and reconstruction grid.

:func:`html_text` renders one self-contained page (inline CSS, PNG images as data URIs, no
network) from a summary, the plot data (:mod:`.plots`) and the grid data (:mod:`.grid`). The
plots are drawn by the functions it is given (the SVG renderer's :func:`.svg.pareto_svg` and
:func:`.svg.curves_svg`): this module knows no drawing code and no other renderer.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Callable
from html import escape
from typing import Any

import numpy as np

from ..._version import __version__
from ...optional import require
from ..results import COSTS, CandidateSummary, StudySummary
from .formatting import (
    MIB,
    baseline,
    budget_line,
    checkerboard,
    confidence_lines,
    confidence_outcome,
    finite,
    jsonable,
    num,
    overview,
    plural,
    rank_labels,
    recommended_key,
    si,
    standing,
    stat,
    steps_differ,
)
from .grid import grid_data
from .plots import CurvePlotData, PlotData, curve_plot_data, pareto_plot_data

__all__ = ["html_text", "png_uri"]


def png_uri(rgb: np.ndarray, zoom: int = 1) -> str:
    """A ``data:image/png;base64,...`` URI of ``rgb`` (float [0, 1]), enlarged ``zoom`` times by nearest."""
    image = require("PIL.Image", "study", "the study report's pictures")
    pixels = np.round(rgb * 255.0).astype(np.uint8)
    if zoom > 1:
        pixels = pixels.repeat(zoom, axis=0).repeat(zoom, axis=1)
    buf = io.BytesIO()
    image.fromarray(pixels, "RGB").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _grid_html(summary: StudySummary) -> str:
    """The reconstruction grid: input, target, then each candidate with a zoom on one region."""
    grid = grid_data(summary)
    if not grid.tiles:
        return '<p class="note">No images were recorded for this study.</p>'
    top, left, size = grid.zoom
    h, w = grid.tiles[0].rgb.shape[:2]
    box = (f"left:{100 * left / w:.3f}%;top:{100 * top / h:.3f}%;"
           f"width:{100 * size / w:.3f}%;height:{100 * size / h:.3f}%")
    out = [f'<p class="note">{escape(grid.why)}</p>', f'<div class="grid" data-zoom="{top},{left},{size}">']
    for title, caption, img in grid.tiles:
        out.append(
            f'<figure class="tile"><div class="frame"><img src="{png_uri(img)}" alt="{escape(title)}">'
            f'<span class="zoombox" style="{box}"></span></div>'
            f'<img class="zoom" src="{png_uri(img[top:top + size, left:left + size], grid.zoom_factor)}" '
            f'alt="{escape(title)}, zoomed">'
            f'<figcaption><b>{escape(title)}</b><span>{escape(caption)}</span></figcaption></figure>')
    out.append("</div>")
    if grid.missing:
        out.append(f'<p class="note">No reconstruction recorded for: {escape(", ".join(grid.missing))}.</p>')
    return "".join(out)


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
.conf{border:1px solid var(--line);border-left:6px solid #888;border-radius:8px;padding:.9rem 1.3rem;margin:1rem 0;
background:var(--soft)}
.conf.confident{border-left-color:var(--ok);background:#eef8f4}
.conf.unsure{border-left-color:#E69F00;background:#fff8ea}
.conf.negative{border-left-color:#b3261e;background:#fdefee}
.conf h2{border:0;margin:0;padding:0;font-size:.85rem;text-transform:uppercase;letter-spacing:.08em;color:var(--muted)}
.conf .verdict{font-size:1.1rem;margin:.25rem 0 .4rem;max-width:none}
.conf ul{margin:.3rem 0 0;padding-left:1.2rem;color:#33333b;font-variant-numeric:tabular-nums}
.wide{border:1px solid var(--line);border-radius:8px;padding:8px 8px 4px;max-width:1000px}
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
tr.unranked td{color:var(--muted)}
tfoot td{color:var(--muted);font-style:italic}
.badge{display:inline-block;font-size:.72rem;line-height:1.35;padding:0 .35rem;border-radius:9px;margin-right:.2rem;
border:1px solid #bbb;color:#333;background:#fff}
.badge.brec{border-color:var(--accent);color:#a1430a;background:#fff1e8;font-weight:600}
.badge.btie{border-color:var(--ok);color:#006e50;border-style:dashed}
.badge.bstop{border-color:#999;color:#555;background:#f3f3f5;cursor:help}
.badge.bprog{border-color:#E69F00;color:#7a4f00;border-style:dotted}
.badge.bfirst{border-color:#E69F00;color:#7a4f00;background:#fff4e0;text-transform:none;letter-spacing:0;
font-weight:600;margin-left:.5rem;vertical-align:.1em}
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
@media print{th{position:static}.rec,.conf,.pending{break-inside:avoid}}
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
    v = text if sort is None else (sort if finite(sort) else "")
    t = f' title="{escape(title)}"' if title else ""
    aside = f' <small>{escape(extra)}</small>' if extra else ""
    mark = '<span class="front" title="on the Pareto front">◆</span>' if front else ""
    return f'<td data-v="{escape(str(v))}"{t}>{escape(text)}{aside}{mark}</td>'


def _marks_html(summary: StudySummary, c: CandidateSummary, rec: str | None) -> str:
    """The marks cell's badges: recommended, tied with the best; for a candidate not ranked, where
    it stands (``stopped at rung 2/3 (133 steps)`` with the ``stopped`` sentence as its tooltip, or
    ``in progress (rung 1/3, 44 steps)``)."""
    if not c.ranked:
        why = f"{c.candidate.label} {c.stopped}" if c.stopped else "still training at a lower rung than the finalists"
        kind = "bstop" if c.stopped else "bprog"
        return f'<span class="badge {kind}" title="{escape(why)}">{escape(standing(c, summary))}</span>'
    return ('<span class="badge brec">recommended</span>' if c.candidate.key == rec else "") + (
        '<span class="badge btie">≈ best</span>' if c.tied_with_best else "")


def _table_html(summary: StudySummary) -> str:
    """The table of every candidate: the ranked ones first, then the others without a rank, each
    badged with where it stands; a steps column when their training steps differ."""
    rec = recommended_key(summary)
    steps = steps_differ(summary)
    heads = ["#", "candidate", "learned", "PSNR<small>dB</small>", "SSIM", "checker-<br>board", "params", "MACs",
             "latency<small>ms (IQR)</small>", "peak mem<small>MiB</small>", "train<small>s</small>", "seeds",
             *(["steps"] if steps else []), "marks"]
    rows = []
    for i, (rank, c) in enumerate(zip(rank_labels(summary), summary.candidates), start=1):
        marks = _marks_html(summary, c, rec)
        front = {cost: bool(c.pareto.get(cost)) for cost in COSTS}
        cells = [
            _td(rank, i), _td(c.candidate.label, title=c.candidate.key),
            _td("yes, guided" if c.guided else "yes" if c.learned else "no"),
            _td(stat(c.psnr, 2), c.psnr.mean), _td(stat(c.ssim, 3), c.ssim.mean),
            _td(checkerboard(c), c.checkerboard.mean,
                title=f"std {c.checkerboard.std:.3f}"),
            _td(si(c.params), c.params, f"{c.params:,}"),
            _td(si(c.macs), c.macs, f"{c.macs:,}", front["macs"]),
            _td(num(c.latency_ms), c.latency_ms, front=front["latency"],
                extra=f"({num(c.latency_iqr_ms)})" if finite(c.latency_iqr_ms) else ""),
            _td(num(c.peak_memory_bytes / MIB), c.peak_memory_bytes, f"{c.peak_memory_bytes:,} bytes",
                front["memory"]),
            _td(num(c.train_seconds.mean), c.train_seconds.mean),
            _td(str(len(c.seeds)), len(c.seeds), "seeds " + ", ".join(map(str, c.seeds))),
            *([_td(str(c.steps) if c.steps > 0 else "-", c.steps,
                   f"rung {c.rung + 1}" if summary.budget and summary.budget.get("rung_steps") else "")]
              if steps else []),
            f'<td data-v="{(c.candidate.key == rec) * 2 + c.tied_with_best - (not c.ranked)}">{marks}</td>',
        ]
        cls = ' class="recommended"' if c.candidate.key == rec else "" if c.ranked else ' class="unranked"'
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    foot = ""
    base = baseline(summary)
    if base is not None:
        ssim = (summary.baseline or {}).get("ssim", math.nan)
        foot = (f'<tfoot><tr><td></td><td>{escape(base[0])}</td><td>no</td><td>{base[1]:.2f}</td>'
                f'<td>{f"{ssim:.3f}" if finite(ssim) else "-"}</td>' + "<td>-</td>" * (7 + steps)
                + "<td>baseline</td></tr></tfoot>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(heads)}">No finished candidates yet.</td></tr>')
    legend = ('<p class="note"><span class="badge brec">recommended</span> the recommended candidate; '
              '<span class="badge btie">≈ best</span> mean PSNR not separable from the best candidate\'s over the '
              'seeds; <span class="front">◆</span> after a cost: on the Pareto front of PSNR against that cost (no '
              'other candidate is both cheaper and better). PSNR and SSIM: mean ± standard deviation over seeds (the '
              'mean alone for one seed). Checkerboard: share of the error energy periodic with the upsampling period '
              '(0 to 1, lower is better). Costs are for one inference forward pass. Click a column header to sort.'
              + _unranked_legend(summary) + '</p>')
    return (f'<div class="scroll"><table class="sortable"><thead><tr>{"".join(f"<th>{h}</th>" for h in heads)}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody>{foot}</table></div>{legend}')


def _unranked_legend(summary: StudySummary) -> str:
    """The table legend's sentence on the rows without a rank ("" when every row is ranked)."""
    unranked = [c for c in summary.candidates if not c.ranked]
    if not unranked:
        return ""
    text = (" Rows without a rank are not compared with the others: their numbers come from fewer training "
            "steps (the steps column).")
    if any(c.stopped for c in unranked):
        text += (' <span class="badge bstop">stopped at rung …</span> a rung of --budget halving stopped it, '
                 "separably worse than the best there (hover for the numbers).")
    if any(not c.stopped for c in unranked):
        text += ' <span class="badge bprog">in progress</span> still training at a lower rung.'
    return text


def _stopped_html(summary: StudySummary) -> str:
    """The candidates that a rung stopped, each with the sentence saying why ("" when none)."""
    stopped = [c for c in summary.candidates if c.stopped]
    if not stopped:
        return ""
    items = "".join(f"<li>{escape(c.candidate.label)} {escape(c.stopped)}</li>" for c in stopped)
    return (f'<div class="note"><p><b>Stopped by --budget halving, not ranked</b> (separably worse than the best at '
            f"a rung; more steps were not spent on them):</p><ul>{items}</ul></div>")


def _kv_table(title: str, data: dict[str, Any]) -> str:
    if not data:
        return ""
    rows = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(v if isinstance(v, str) else json.dumps(jsonable(v)))}"
                   "</td></tr>" for k, v in data.items())
    return f"<div><h3>{escape(title)}</h3><table>{rows}</table></div>"


def _recommendation_html(summary: StudySummary) -> str:
    rec = summary.recommendation
    if rec is None:
        why = (f"The study is incomplete ({plural(summary.pending, 'trial')} pending)." if summary.pending
               else "The study made no recommendation.")
        return f'<section class="rec"><h2>Recommendation</h2><p class="pick">None yet</p><p>{why}</p></section>'
    facts = ""
    for c in summary.candidates:
        if c.candidate == rec.candidate:
            facts = (f'<p class="facts">PSNR {stat(c.psnr, 2)} dB · SSIM {stat(c.ssim, 3)} · checkerboard '
                     f'{c.checkerboard.mean:.3f} · {si(c.macs)} MACs · {num(c.latency_ms)} ms · '
                     f'{num(c.peak_memory_bytes / MIB)} MiB · {si(c.params)} params</p>')
    reasons = "".join(f"<li>{escape(r)}</li>" for r in rec.reasons)
    return (f'<section class="rec"><h2>Recommendation</h2><p class="pick">{escape(rec.candidate.label)}</p>'
            f"{facts}<ul>{reasons}</ul></section>")


def _confidence_html(summary: StudySummary) -> str:
    """The confidence box: the verdict in bold, then one fact a line; coloured by outcome (its
    class: ``confident``, ``unsure`` or ``negative``), badged when it is a first look. Empty
    without a confidence."""
    conf = summary.confidence
    lines = confidence_lines(summary)
    if conf is None or not lines:
        return ""
    outcome = confidence_outcome(conf)
    first = '<span class="badge bfirst">first look</span>' if conf.first_look else ""
    facts = "".join(f"<li>{escape(line)}</li>" for line in lines[1:])
    return (f'<section class="conf {outcome}" id="confidence" data-outcome="{outcome}"><h2>Confidence{first}</h2>'
            f'<p class="verdict"><b>{escape(lines[0])}</b></p><ul>{facts}</ul></section>')


def _curves_html(summary: StudySummary, draw: Callable[[CurvePlotData], str]) -> str:
    """The learning-curves section: caption, the plot (when any candidate has a curve) and the
    candidates left out for want of one."""
    data = curve_plot_data(summary)
    conf = summary.confidence
    tau = (f" (Kendall's tau {conf.rank_stability:.2f})"
           if conf is not None and conf.rank_stability is not None and finite(conf.rank_stability) else "")
    where = ("half the training budget" if data.half_label == "half budget"
             else f"{data.half_label} (the checkpoint nearest half the budget)")
    half = (f" The dotted vertical line marks {where}: the candidates' ranking there is compared "
            f"with the ranking at the end{tau}; when it still changes, more training steps could change the answer."
            if data.half_step is not None else "")
    stopped = (" A cross ends the curve of a candidate that --budget halving stopped at a rung, separably worse than "
               "the best there (hover for the numbers); its line is pale." if any(line.stopped for line in data.lines)
               else "")
    stopped += (" A pale line ending in a marker: a candidate still training at a lower rung."
                if any(not line.ranked and not line.stopped for line in data.lines) else "")
    if (summary.budget or {}).get("policy") == "halving":
        stopped += " With --budget halving, the points after step 0 are the models decayed at the end of each rung."
    base = " The dashed horizontal line is the no-network baseline." if data.baseline is not None else ""
    caption = ('<p class="note">Validation PSNR at each training checkpoint. The line is the mean over seeds, the '
               "shaded band ± one standard deviation; colour: upsampler, dash: factor schedule. A marker shows where "
               "each curve ends (its last trained step): a dot for a learned upsampler, a square for a fixed one, "
               f"ringed for the recommended candidate.{stopped}{base}{half}</p>")
    left_out = (f'<p class="note">Not drawn (no learning curve recorded): {escape(", ".join(data.omitted))}.</p>'
                if data.omitted else "")
    if not data.lines:
        body = left_out or '<p class="note">No finished candidates yet.</p>'
        return f'<section id="curves"><h2>Learning curves</h2>{body}</section>'
    return (f'<section id="curves"><h2>Learning curves</h2>{caption}<figure class="wide">{draw(data)}</figure>'
            f"{left_out}</section>")


def _collapsed_html(summary: StudySummary) -> str:
    if not summary.collapsed:
        return ""
    items = "".join(f"<li>{escape(c.label)} seed {seed}: {escape(reason)}</li>" for c, seed, reason in summary.collapsed)
    return (f'<div class="note"><p><b>Collapsed in training, not ranked</b> (a finding about the candidate under '
            f"this budget; more --steps may change it):</p><ul>{items}</ul></div>")


def html_text(summary: StudySummary, draw: Callable[[PlotData], str],
              draw_curves: Callable[[CurvePlotData], str]) -> str:
    """The report page of ``summary``; ``draw`` renders each Pareto plot's data as inline markup
    (SVG), ``draw_curves`` the learning curves' data.

    The page opens with the title and the confidence (the verdict first), then the overview, the
    recommendation, the learning curves, quality against cost, the table and the reconstructions.
    """
    plots = [pareto_plot_data(summary, cost) for cost in COSTS]
    figures = []
    for p in plots:
        left_out = (f'<p class="note">Not plotted (no value): {escape(", ".join(p.omitted))}.</p>'
                    if p.omitted else "")
        figures.append(f"<figure><figcaption>{escape(p.title)}{' (log scale)' if p.x_log else ''}</figcaption>"
                       f"{draw(p)}{left_out}</figure>")
    cands = summary.candidates
    entries = [("learned", "learned upsampler", any(c.learned for c in cands)),
               ("fixed", "fixed (non-learned) upsampler", any(not c.learned for c in cands)),
               ("rec", "recommended", summary.recommendation is not None),
               ("tie", "not separable from the best", any(c.tied_with_best for c in cands)),
               ("front", "Pareto front", bool(cands))]
    legend = [f"<span>{_ICONS[icon]} {text}</span>" for icon, text, shown in entries if shown]
    if plots[0].baseline is not None:
        legend.append(f'<span>{_ICONS["base"]} {escape(plots[0].baseline[0])}</span>')
    unranked = ('<p class="note">Not plotted (not ranked, fewer training steps): '
                f'{escape(", ".join(plots[0].unranked))}.</p>' if plots[0].unranked else "")
    scale = summary.config.get("scale")
    title = "Upsampling study" + (f": ×{scale}" if scale else "")
    pending = (f'<p class="pending" role="status"><b>Incomplete study:</b> {plural(summary.pending, "trial")} '
               "pending. The numbers cover the finished trials only; some "
               "candidates may have fewer seeds or no reconstruction yet.</p>" if summary.pending > 0 else "")
    budget = budget_line(summary)
    lede = overview(summary) + ("" if summary.confidence is not None else
                                f" Trained on {summary.device}." + (f" {budget}" if budget else ""))
    body = [
        f"<header><h1>{escape(title)}</h1></header>", _confidence_html(summary),
        f'<p class="lede">{escape(lede)}</p>', pending,
        _recommendation_html(summary),
        _curves_html(summary, draw_curves),
        ('<section><h2>Quality against cost</h2><div class="plots"><div class="key"><p>Each point is one candidate: '
         "mean PSNR over its seeds, bars ± one standard deviation. Up is better, left is cheaper. The step line "
         "joins the Pareto-optimal candidates: no other candidate is both cheaper and better.</p>"
         f'<div class="legend">{"".join(legend)}</div>{unranked}</div>{"".join(figures)}</div></section>'),
        (f"<section><h2>All candidates</h2>{_table_html(summary)}{_stopped_html(summary)}"
         f"{_collapsed_html(summary)}</section>"),
        f"<section><h2>Reconstructions</h2>{_grid_html(summary)}</section>",
        (f"<footer><div class=\"meta\">{_kv_table('Configuration', summary.config)}"
         f"{_kv_table('Machine', summary.machine)}</div>"
         f"<p>Generated by upsamplekit {escape(__version__)}. Data: results.csv, results.json.</p></footer>"),
    ]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main>{''.join(body)}</main>"
            f"<script>{_JS}</script></body></html>\n")
