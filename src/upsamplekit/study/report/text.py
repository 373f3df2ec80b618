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
    budget_line,
    check_summary,
    checkerboard,
    confidence_lines,
    finite,
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

__all__ = ["format_table", "markdown_text"]


def _fronts(c: CandidateSummary) -> str:
    """``M L P`` marks: on the Pareto front against MACs, latency, peak memory (``.`` where not)."""
    return "".join(letter if c.pareto.get(cost) else "." for cost, letter in zip(COSTS, "MLP"))


def format_table(summary: StudySummary, width: int | None = None) -> str:
    """The candidates as an aligned plain-text table, best mean PSNR first, with a legend.

    ``width``: the most columns a line may take (default 120; at least 60). Less important
    columns are dropped, then labels shortened, to fit. Marks: ``*`` recommended, ``=`` not
    separable from the best PSNR; ``M L P``: on the Pareto front against MACs, latency, peak memory.
    The candidates not ranked (with ``--budget halving``: stopped at a rung, or still at a lower
    one) come last, without a rank, marked ``stopped at rung 2/3`` or ``in progress (rung 1/3)``;
    a ``steps`` column shows each candidate's training steps when they differ.

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

    A halving study's stopped candidate:

    >>> rows[1].ranked, rows[1].tied_with_best, rows[1].pareto = False, False, {}
    >>> rows[1].rung, rows[1].steps, rows[1].stopped = 0, 44, "stopped after rung 1 of 3 (44 steps): ..."
    >>> rows[0].rung, rows[0].steps = 2, 400
    >>> summary.budget = {"policy": "halving", "steps_spent": 1200, "steps_full": 1600, "finalists": 1,
    ...                   "candidates": 2, "eta": 3, "rung_steps": [44, 133, 400]}
    >>> print(format_table(summary, width=90))
    #  candidate     PSNR dB       MACs  lat ms (IQR)  mem MiB  steps  marks
    1  subpixel [2]  24.50 ± 0.10    2M  1.50 (0.100)     1.00    400  *= ML.
       bilinear [2]  24.40 ± 0.10    1M  1.50 (0.100)     1.00     44  stopped at rung 1/3
    marks: * recommended, = not separable from the best PSNR; M L P: on the Pareto front of
    PSNR against MACs, latency, peak memory. Rows without a rank are not compared with the
    others (they trained fewer steps): a rung of --budget halving stopped them, separably
    worse than the best there. Incomplete study: 2 trials pending.
    """
    summary = check_summary(summary)
    if width is None:
        width = 120
    if isinstance(width, bool) or not isinstance(width, int) or width < 60:
        raise InvalidArgumentError(f"width must be an integer >= 60, but got width={width!r}")
    rec = recommended_key(summary)
    ranks = rank_labels(summary)
    # (header, right-aligned, drop priority: higher is dropped first, cell)
    columns: list[tuple[str, bool, int, Callable[[int, CandidateSummary], str]]] = [
        ("#", True, 0, lambda i, c: ranks[i]),
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
        ("steps", True, 0, lambda i, c: str(c.steps) if c.steps > 0 else "-"),
        ("marks", False, 0, lambda i, c: ("*" if c.candidate.key == rec else " ")
         + ("=" if c.tied_with_best else " ") + " " + _fronts(c) if c.ranked else standing(c, summary, steps=False)),
    ]
    if summary.candidates and len({len(c.seeds) for c in summary.candidates}) == 1:
        columns = [col for col in columns if col[0] != "seeds"]  # every candidate has the same count
    if not steps_differ(summary):
        columns = [col for col in columns if col[0] != "steps"]
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
    unranked = [c for c in summary.candidates if not c.ranked]
    if unranked:
        notes.append(_unranked_note(unranked))
    if base is not None:
        notes.append(f"Baseline {base[0]}: {base[1]:.2f} dB.")
    if summary.pending > 0:
        notes.append(f"Incomplete study: {plural(summary.pending, 'trial')} pending.")
    out += textwrap.wrap(" ".join(notes), min(width, 100))
    return "\n".join(out)


def _unranked_note(unranked: list[CandidateSummary]) -> str:
    """What the rows without a rank are, for the tables' notes."""
    stopped = any(c.stopped for c in unranked)
    going = any(not c.stopped for c in unranked)
    why = "; or ".join(w for w, on in (("a rung of --budget halving stopped them, separably worse than the best there",
                                         stopped), ("they are still training at a lower rung", going)) if on)
    return f"Rows without a rank are not compared with the others (they trained fewer steps): {why}."


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_text(summary: StudySummary, top: int = 5) -> str:
    """``recommendation.md``: the confidence's verdict (the first paragraph under the title) and its
    facts as a list (the budget among them), then the overview, the recommendation's reasons, the
    ``top`` candidates (and the recommended one) as a table, the candidates not ranked (each
    one's ``stopped`` sentence, or where it stands), and the baseline."""
    rec = summary.recommendation
    lines = [f"# Recommendation: {rec.candidate.label}" if rec else "# No recommendation", ""]
    verdict = confidence_lines(summary)
    if verdict:
        lines += [verdict[0], ""] + [f"- {fact}" for fact in verdict[1:]] + ([""] if verdict[1:] else [])
    lines += [overview(summary), ""]
    budget = budget_line(summary)
    if budget is not None and not verdict:  # else among the confidence's facts
        lines += [budget, ""]
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
        ranks = dict(zip((c.candidate for c in summary.candidates), rank_labels(summary)))
        steps = steps_differ(summary)
        lines += ["| # | candidate | PSNR (dB) | SSIM | checkerboard | MACs | latency (ms) | memory (MiB) | "
                  + ("steps | " if steps else "") + "marks |",
                  "|--:|---|--:|--:|--:|--:|--:|--:|" + ("--:|" if steps else "") + "---|"]
        for c in shown:
            marks = ", ".join(m for m, on in (("recommended", rec is not None and c.candidate == rec.candidate),
                                              ("tied with best", c.tied_with_best)) if on)
            front = [cost for cost in COSTS if c.pareto.get(cost)]
            if front:
                marks += ("; " if marks else "") + "front: " + "/".join(front)
            if not c.ranked:
                marks = standing(c, summary, steps=not steps)
            lines.append(f"| {ranks[c.candidate]} | {_md_cell(c.candidate.label)} | {stat(c.psnr, 2)} | "
                         f"{stat(c.ssim, 3)} | {checkerboard(c)} | {si(c.macs)} | {num(c.latency_ms)} | "
                         f"{num(c.peak_memory_bytes / MIB)} | " + (f"{c.steps or '-'} | " if steps else "")
                         + f"{marks} |")
        lines.append("")
        if len(summary.candidates) > len(shown):
            more = plural(len(summary.candidates) - len(shown), "more candidate")
            lines += [f"{more} in `results.csv` and `report.html`.", ""]
    unranked = [c for c in summary.candidates if not c.ranked]
    if unranked:
        lines += [_unranked_note(unranked), ""]
        lines += [f"- {_md_cell(c.candidate.label)} {c.stopped}" for c in unranked if c.stopped]
        lines += [f"- {_md_cell(c.candidate.label)}: {standing(c, summary)}" for c in unranked if not c.stopped]
        lines.append("")
    base = baseline(summary)
    if base is not None:
        lines += [f"Baseline {base[0]}: {base[1]:.2f} dB PSNR.", ""]
    return "\n".join(lines)
