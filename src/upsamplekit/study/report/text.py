"""The text renderer of the report: the table the command line prints, and ``recommendation.md``.

Depends on the shared formatting (:mod:`.formatting`) only.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from ...errors import InvalidArgumentError
from ..results import COSTS, CandidateSummary, StudySummary
from .formatting import (
    MIB,
    baseline,
    check_summary,
    checkerboard,
    confidence_lines,
    finite,
    num,
    overview,
    plural,
    recommended_key,
    si,
    stat,
)

__all__ = ["format_table", "markdown_text"]


def _fronts(c: CandidateSummary) -> str:
    """``M L P`` marks: on the Pareto front against MACs, latency, peak memory (``.`` where not)."""
    return "".join(letter if c.pareto.get(cost) else "." for cost, letter in zip(COSTS, "MLP"))


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
    summary = check_summary(summary)
    if width is None:
        width = 120
    if isinstance(width, bool) or not isinstance(width, int) or width < 60:
        raise InvalidArgumentError(f"width must be an integer >= 60, but got width={width!r}")
    rec = recommended_key(summary)
    # (header, right-aligned, drop priority: higher is dropped first, cell)
    columns: list[tuple[str, bool, int, Callable[[int, CandidateSummary], str]]] = [
        ("#", True, 0, lambda i, c: str(i + 1)),
        ("candidate", False, 0, lambda i, c: c.candidate.label),
        ("kind", False, 7, lambda i, c: "guided" if c.guided else "learned" if c.learned else "fixed"),
        ("PSNR dB", False, 0, lambda i, c: stat(c.psnr, 2)),
        ("SSIM", False, 4, lambda i, c: stat(c.ssim, 3)),
        ("ckb", True, 3, lambda i, c: checkerboard(c)),
        ("params", True, 2, lambda i, c: si(c.params)),
        ("MACs", True, 1, lambda i, c: si(c.macs)),
        ("lat ms (IQR)", True, 1, lambda i, c: f"{num(c.latency_ms)} ({num(c.latency_iqr_ms)})"
         if finite(c.latency_iqr_ms) else num(c.latency_ms)),
        ("mem MiB", True, 2, lambda i, c: num(c.peak_memory_bytes / MIB)),
        ("train s", True, 6, lambda i, c: num(c.train_seconds.mean)),
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
    base = baseline(summary)
    notes = ["marks: * recommended, = not separable from the best PSNR; M L P: on the Pareto front of PSNR",
             "against MACs, latency, peak memory."]
    if base is not None:
        notes.append(f"Baseline {base[0]}: {base[1]:.2f} dB.")
    if summary.pending > 0:
        notes.append(f"Incomplete study: {plural(summary.pending, 'trial')} pending.")
    out += textwrap.wrap(" ".join(notes), min(width, 100))
    return "\n".join(out)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_text(summary: StudySummary, top: int = 5) -> str:
    """``recommendation.md``: the confidence's verdict (the first paragraph under the title) and its
    facts as a list, then the overview, the recommendation's reasons, the ``top`` candidates (and
    the recommended one) as a table, and the baseline."""
    rec = summary.recommendation
    lines = [f"# Recommendation: {rec.candidate.label}" if rec else "# No recommendation", ""]
    verdict = confidence_lines(summary)
    if verdict:
        lines += [verdict[0], ""] + [f"- {fact}" for fact in verdict[1:]] + ([""] if verdict[1:] else [])
    lines += [overview(summary), ""]
    if rec is not None:
        lines += [f"- {reason}" for reason in rec.reasons] + [""]
    else:
        lines += ["The study has not recommended a candidate" + (" yet: it is incomplete." if summary.pending else "."),
                  ""]
    if summary.pending > 0:
        lines += [(f"**Incomplete study:** {plural(summary.pending, 'trial')} pending; the numbers cover finished "
                   "trials only."), ""]
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
            lines.append(f"| {rank} | {_md_cell(c.candidate.label)} | {stat(c.psnr, 2)} | {stat(c.ssim, 3)} | "
                         f"{checkerboard(c)} | {si(c.macs)} | {num(c.latency_ms)} | "
                         f"{num(c.peak_memory_bytes / MIB)} | {marks} |")
        lines.append("")
        if len(summary.candidates) > len(shown):
            more = plural(len(summary.candidates) - len(shown), "more candidate")
            lines += [f"{more} in `results.csv` and `report.html`.", ""]
    base = baseline(summary)
    if base is not None:
        lines += [f"Baseline {base[0]}: {base[1]:.2f} dB PSNR.", ""]
    return "\n".join(lines)
