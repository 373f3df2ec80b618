"""The HTML page of the study report: the reconstruction grid, the table, the plots, the page.

Private to :mod:`upsamplekit.study.report`, which calls :func:`html_text`; split out only to keep
each module readable.
"""

from __future__ import annotations

import base64
import io
import math
import json
from html import escape
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from . import _svg
from .report import (_MIB, COSTS, _baseline, _ckb, _finite, _jsonable, _num, _overview, _plural, _recommended_key, _si,
                     _stat, pareto_plot_data)
from .results import StudySummary

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


def html_text(summary: StudySummary) -> str:
    from .._version import __version__

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
