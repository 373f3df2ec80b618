"""What every renderer of the report writes the same way: numbers, units, plurals, statistics,
and the facts of a summary they all show (its confidence, its baseline, its recommended
candidate, its overview, its budget, where an unranked candidate stands).

The HTML page, the SVG plots and the text files depend on this module and on the plot data
(:mod:`.plots`), never on each other.

>>> num(1234.5), num(12.34), num(0.01234), num(float("nan"))
('1234', '12.3', '0.012', '-')
>>> si(950), si(12_300), si(4.5e9)
('950', '12.3k', '4.5G')
>>> stat(Stat(24.5, 0.1, 2), 2), stat(Stat(24.5, 0.0, 1), 2)
('24.50 ± 0.10', '24.50')
>>> plural(1, "trial"), plural(2, "trial")
('1 trial', '2 trials')
>>> and_list([44, 133, 400]), and_list(["a", "b"]), and_list([7])
('44, 133 and 400', 'a and b', '7')
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...checks import require_type
from ..results import Candidate, CandidateSummary, Confidence, Stat, StudySummary

__all__ = [
    "MIB",
    "TASKS",
    "and_list",
    "baseline",
    "budget_line",
    "check_summary",
    "checkerboard",
    "confidence_lines",
    "confidence_outcome",
    "finite",
    "jsonable",
    "num",
    "overview",
    "plural",
    "rank_labels",
    "recommended_key",
    "rung_count",
    "si",
    "standing",
    "stat",
    "steps_differ",
]

#: Bytes in a mebibyte: memory is shown in MiB.
MIB = 2.0**20

#: How the overview names each task.
TASKS = {"sr": "super-resolution of area-downsampled photographs",
         "autoencoder": "an autoencoder (a fixed encoder downsamples, the decoder under study upsamples back)"}


def check_summary(summary: object) -> StudySummary:
    """``summary`` if it is a :class:`StudySummary`, else an :class:`~upsamplekit.errors.InvalidTypeError`."""
    checked: StudySummary = require_type("summary", summary, StudySummary, "a StudySummary")
    return checked


def finite(x: Any) -> bool:
    """A finite int or float (nan, infinities and non-numbers are not)."""
    return isinstance(x, (int, float)) and math.isfinite(x)


def plural(n: int, word: str) -> str:
    """``n`` and ``word``, with an ``s`` unless ``n`` is 1."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def and_list(items: list[Any]) -> str:
    """``items`` as words: ``a``, ``a and b``, ``a, b and c``."""
    words = [str(item) for item in items]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def num(v: float) -> str:
    """Decimals by magnitude: 1234, 123, 12.3, 1.23, 0.123, 1.2e-03; ``-`` for no value."""
    if not finite(v):
        return "-"
    a = abs(v)
    if a >= 100 or v == 0:
        return f"{v:.0f}"
    return f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 1 else f"{v:.3f}" if a >= 0.01 else f"{v:.1e}"


def si(v: float) -> str:
    """Counts with an SI suffix: 950, 12.3k, 1.23M, 4.5G; ``-`` for no value."""
    if not finite(v):
        return "-"
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.0f}"


def stat(s: Stat, digits: int) -> str:
    """``mean ± std``; the mean alone for one seed (its spread is unknown); ``-`` for no value."""
    if not finite(s.mean):
        return "-"
    return f"{s.mean:.{digits}f}" if s.n < 2 or not finite(s.std) else f"{s.mean:.{digits}f} ± {s.std:.{digits}f}"


def checkerboard(c: CandidateSummary) -> str:
    """The candidate's mean checkerboard score with 3 decimals, or ``-``."""
    return f"{c.checkerboard.mean:.3f}" if finite(c.checkerboard.mean) else "-"


def jsonable(obj: Any) -> Any:
    """Plain JSON values: nan/inf become null, tuples lists, numpy scalars Python numbers, sets
    sorted lists, candidates their keys, anything else its ``str``.

    >>> jsonable({"a": (1.0, float("nan")), "b": np.float32(0.5)})
    {'a': [1.0, None], 'b': 0.5}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in (sorted(obj, key=str) if isinstance(obj, (set, frozenset)) else obj)]
    if isinstance(obj, Candidate):
        return obj.key
    return str(obj)


def recommended_key(summary: StudySummary) -> str | None:
    """The key of the recommended candidate, or None."""
    return summary.recommendation.candidate.key if summary.recommendation is not None else None


def rung_count(summary: StudySummary) -> int | None:
    """How many rungs the summary's budget policy has (``len(budget["rung_steps"])``), or None
    without rungs (``--budget full``, or no budget recorded)."""
    ends = (summary.budget or {}).get("rung_steps")
    return len(ends) if isinstance(ends, list) and ends else None


def standing(c: CandidateSummary, summary: StudySummary, steps: bool = True) -> str:
    """Where a candidate that is not ranked stands: ``stopped at rung 2/3 (133 steps)`` when a
    rung's decision stopped it (its :attr:`~upsamplekit.study.results.CandidateSummary.stopped`
    sentence says why), ``in progress (rung 1/3, 44 steps)`` when it is still training at a lower
    rung than the candidates compared; "" for a ranked candidate. ``steps``: say its training steps.

    >>> from upsamplekit.study.results import Candidate, CandidateSummary, Stat, StudySummary
    >>> def row(rung, steps, stopped=""):
    ...     return CandidateSummary(Candidate("nearest", (2,)), False, [0, 1], Stat(24.0, 0.1, 2), Stat(0.9, 0.0, 2),
    ...                             Stat(0.1, 0.0, 2), Stat(9.0, 0.5, 2), 1000, 10**6, 1.0, 0.1, 2**20,
    ...                             rung=rung, steps=steps, ranked=False, stopped=stopped)
    >>> summary = StudySummary({}, [], None, [], budget={"policy": "halving", "rung_steps": [44, 133, 400]})
    >>> standing(row(1, 133, "stopped after rung 2 of 3 (133 steps): ..."), summary)
    'stopped at rung 2/3 (133 steps)'
    >>> standing(row(0, 44), summary), standing(row(0, 44), summary, steps=False)
    ('in progress (rung 1/3, 44 steps)', 'in progress (rung 1/3)')
    """
    if c.ranked:
        return ""
    total = rung_count(summary)
    rung = f"rung {c.rung + 1}" + (f"/{total}" if total else "")
    trained = plural(c.steps, "step") if steps and c.steps > 0 else ""
    if c.stopped:
        return f"stopped at {rung}" + (f" ({trained})" if trained else "")
    return f"in progress ({rung}" + (f", {trained})" if trained else ")")


def rank_labels(summary: StudySummary) -> list[str]:
    """The rank each candidate row shows, in the summary's order: ``1``, ``2``, ... for the ranked
    candidates (they come first), "" for the others (stopped by a rung, or still at a lower one)."""
    out, rank = [], 0
    for c in summary.candidates:
        rank += c.ranked
        out.append(str(rank) if c.ranked else "")
    return out


def steps_differ(summary: StudySummary) -> bool:
    """Whether the candidates' training steps differ (then the tables show a steps column)."""
    return len({c.steps for c in summary.candidates}) > 1


def budget_line(summary: StudySummary) -> str | None:
    """The budget the study spent, in one sentence (None when the summary records no budget):
    the policy, the training steps spent (every trained step, the decays branched off at each rung
    included) against what ``--budget full`` takes, and for ``halving`` how many candidates
    reached the last rung. Every renderer says the budget with this sentence.

    >>> halving = {"policy": "halving", "steps_spent": 5210, "steps_full": 12800, "finalists": 4, "candidates": 16,
    ...            "eta": 3, "rung_steps": [44, 133, 400]}
    >>> print(budget_line(StudySummary({"steps": 400, "seeds": 2}, [], None, [], budget=halving)))
    ... # doctest: +NORMALIZE_WHITESPACE
    Budget: halving (eta 3, rungs end at 44, 133 and 400 steps): 5,210 training steps, 41% of the 12,800
    that --budget full takes; 4 of 16 candidates reached the last rung.
    >>> full = {"policy": "full", "steps_spent": 12800, "steps_full": 12800, "finalists": 16, "candidates": 16}
    >>> print(budget_line(StudySummary({"steps": 400, "seeds": 2}, [], None, [], budget=full)))
    Budget: full: 12,800 training steps (16 candidates × 2 seeds × 400 steps).
    >>> print(budget_line(StudySummary({"steps": 400, "seeds": 2}, [], None, [], pending=3,
    ...                                budget=dict(full, steps_spent=11600))))
    Budget: full: 11,600 of 12,800 training steps so far (16 candidates × 2 seeds × 400 steps).
    >>> budget_line(StudySummary({}, [], None, [])) is None
    True
    """
    budget = summary.budget
    if not budget:
        return None
    policy = str(budget.get("policy", "full"))
    spent, full = budget.get("steps_spent"), budget.get("steps_full")
    candidates, finalists = budget.get("candidates"), budget.get("finalists")
    so_far = " so far" if summary.pending > 0 else ""
    if not isinstance(spent, int):
        return f"Budget: {policy}."
    if policy == "halving":
        ends = budget.get("rung_steps")
        how = [f"eta {budget['eta']}" if "eta" in budget else "",
               f"rungs end at {and_list(ends)} steps" if isinstance(ends, list) and ends else ""]
        text = f"Budget: halving{' (' + ', '.join(h for h in how if h) + ')' if any(how) else ''}: "
        text += f"{spent:,} training steps{so_far}"
        if isinstance(full, int) and full > 0:
            text += f", {100 * spent / full:.0f}% of the {full:,} that --budget full takes"
        if isinstance(finalists, int) and isinstance(candidates, int):
            text += f"; {finalists} of {plural(candidates, 'candidate')} reached the last rung"
        return text + "."
    text = f"Budget: {policy}: "
    text += f"{spent:,} of {full:,} training steps{so_far}" if isinstance(full, int) and full != spent else \
        f"{spent:,} training steps{so_far}"
    seeds, steps = summary.config.get("seeds"), summary.config.get("steps")
    if (isinstance(candidates, int) and isinstance(seeds, int) and isinstance(steps, int)
            and candidates * seeds * steps == full):
        text += f" ({plural(candidates, 'candidate')} × {plural(seeds, 'seed')} × {plural(steps, 'step')})"
    return text + "."


def baseline(summary: StudySummary) -> tuple[str, float] | None:
    """``(name, psnr)`` of the no-network reference, or None when the summary has no finite one."""
    b = summary.baseline
    if not b or not finite(b.get("psnr", math.nan)):
        return None  # the name is the engine's, e.g. "bicubic resize (no network)"
    return str(b.get("name", "baseline (no network)")), float(b["psnr"])


def overview(summary: StudySummary) -> str:
    """One paragraph: task, scale, candidates, seeds, steps, data, how quality and costs are measured, progress.

    Reads the study config's ``task``, ``scale``, ``seeds``, ``steps``, ``batch_size``, ``crop``,
    ``images``, ``val_crops``, ``val_size`` and ``latency_size`` where present.

    >>> text = overview(StudySummary({"task": "sr", "scale": 4}, [], None, [], pending=3))
    >>> text[:len("This study compared 0 decoder candidates for super-resolution")]
    'This study compared 0 decoder candidates for super-resolution'
    >>> text[-len("0 trials finished, 3 pending."):]
    '0 trials finished, 3 pending.'
    """
    cfg, cands = summary.config, summary.candidates
    scales = {math.prod(c.candidate.schedule) for c in cands}
    scale = cfg.get("scale", scales.pop() if len(scales) == 1 else None)
    ups = sorted({c.candidate.upsampler for c in cands})
    text = f"This study compared {plural(len(cands), 'decoder candidate')}"
    if cfg.get("task"):
        text += f" for {TASKS.get(cfg['task'], cfg['task'])}"
    text += f" at ×{scale}" if scale else ""
    if cands:
        text += (f": {plural(len(ups), 'upsampler')} ({', '.join(ups)}) and "
                 f"{plural(len({c.candidate.schedule for c in cands}), 'factor schedule')}")
    counts = sorted({len(c.seeds) for c in cands})
    seeds = cfg.get("seeds", f"{counts[0]}-{counts[-1]}" if len(counts) > 1 else counts[0] if counts else None)
    halving = (summary.budget or {}).get("policy") == "halving"
    per_run = f"up to {cfg.get('steps')} steps per run with --budget halving" if halving else \
        f"{cfg.get('steps')} steps per run"
    train = [f"{seeds} seeds each" if seeds is not None else "", per_run if "steps" in cfg else ""]
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
    text += f". {plural(len(summary.trials), 'trial')} finished" + (f", {summary.pending} pending." if summary.pending
                                                                     else ".")
    return text


def confidence_outcome(confidence: Confidence) -> str:
    """How the confidence box is coloured: ``"confident"`` (the recommendation beats the baseline
    separably and the ranking has settled), ``"negative"`` (it is no better than the no-network
    baseline) or ``"unsure"`` (anything else). Only classifies; the verdict says it in words.

    >>> c = Confidence("Confident: ...", 0.9, True, None, 0.45, True, 3, None)
    >>> confidence_outcome(c)
    'confident'
    >>> confidence_outcome(Confidence("Unsure: ...", 0.9, True, None, -0.2, False, 0, None))
    'negative'
    """
    if confidence.beats_baseline and confidence.settled:
        return "confident"
    margin = confidence.baseline_margin_db
    if margin is not None and finite(margin) and margin <= 0:
        return "negative"
    return "unsure"


def confidence_lines(summary: StudySummary) -> list[str]:
    """The study's confidence as plain text, one fact a line: the verdict first, then the rank
    stability, the margin over the baseline, how many candidates are separably worse than the
    best, the seeds that would separate the best from the runner-up, the budget
    (:func:`budget_line`) and the device. Empty when the summary has no confidence (old results,
    nothing finished).

    Only the ranked candidates are counted and compared (with ``--budget halving``, those at the
    highest rung reached: "of the 4 finalists"); the ones a rung stopped are not.

    The verdict is the summary's own sentences, not recomputed (it says when the study is a first
    look). The command line prints these lines before its table; ``recommendation.md`` and
    ``report.html`` open with them.

    >>> from upsamplekit.study.results import Candidate, CandidateSummary, Confidence, Stat, StudySummary
    >>> def row(name, psnr, tied):
    ...     return CandidateSummary(Candidate(name, (4,)), True, [0, 1, 2], Stat(psnr, 0.1, 3), Stat(0.9, 0.0, 3),
    ...                             Stat(0.1, 0.0, 3), Stat(9.0, 0.5, 3), 1000, 10**6, 1.0, 0.1, 2**20,
    ...                             tied_with_best=tied)
    >>> conf = Confidence("Confident: subpixel [4] beats bicubic resizing (no network) by +0.45 dB, separably.",
    ...                   0.87, True, None, 0.45, True, 1, 5)
    >>> rows = [row("subpixel", 24.0, True), row("carafe", 23.95, True), row("nearest", 22.0, False)]
    >>> summary = StudySummary({}, rows, None, [],
    ...                        baseline={"name": "bicubic resizing (no network)", "psnr": 23.55},
    ...                        confidence=conf)
    >>> print("\\n".join(confidence_lines(summary)))
    Confident: subpixel [4] beats bicubic resizing (no network) by +0.45 dB, separably.
    Kendall tau 0.87 between half and full budget: settled
    +0.45 dB over bicubic resizing (no network), separable
    1 of 3 candidates is separably worse than the best
    about 5 seeds per candidate would separate the best from the runner-up (this study has 3)
    trained on cpu
    >>> confidence_lines(StudySummary({}, [], None, []))
    []
    """
    summary = check_summary(summary)
    conf = summary.confidence
    if conf is None:
        return []
    ranked = [c for c in summary.candidates if c.ranked]
    lines = [conf.verdict.strip()]
    if conf.rank_stability is not None and finite(conf.rank_stability):
        steps = summary.config.get("steps")
        at = conf.compared_at
        where = f"step {at}" if at is not None and isinstance(steps, int) and 2 * at != steps else "half budget"
        tau = f"Kendall tau {conf.rank_stability:.2f} between {'half' if where == 'half budget' else where} and " \
              "full budget"
        if conf.settled:
            lines.append(f"{tau}: settled")
        else:
            more = f"; raise --steps to about {conf.steps_suggested}" if conf.steps_suggested else ""
            lines.append(f"{tau}: still moving{more}")
        if conf.separable_orders_held is not None and finite(conf.separable_orders_held):
            lines.append(f"{100 * conf.separable_orders_held:.0f}% of the orderings between separable candidates "
                         f"already held at {where}")
    elif len(ranked) > 1:
        lines.append("rank stability not measured (no checkpoint at half the budget)")
    if conf.baseline_margin_db is not None and finite(conf.baseline_margin_db):
        base = summary.baseline or {}
        name = str(base.get("name", "the no-network baseline"))
        margin = conf.baseline_margin_db
        if margin > 0:
            lines.append(f"{margin:+.2f} dB over {name}, {'separable' if conf.beats_baseline else 'not separable'}")
        else:
            lines.append(f"{margin:+.2f} dB against {name}: no better")
    n = len(ranked)
    if n > 1:
        k = conf.separable_from_best
        lines.append(f"{k} of {_compared(summary, ranked)} {'is' if k == 1 else 'are'} separably worse than the best")
        runner_up = ranked[1]
        seeds = min(len(c.seeds) for c in ranked[:2])
        if not runner_up.tied_with_best:
            lines.append("the best is already separable from the runner-up")
        elif conf.seeds_needed is not None:
            lines.append(f"about {conf.seeds_needed} seeds per candidate would separate the best from the "
                         f"runner-up (this study has {seeds})")
        else:
            lines.append("the best is not separable from the runner-up (the seeds needed cannot be estimated)")
    budget = budget_line(summary)
    if budget is not None:
        lines.append(budget)
    lines.append(f"trained on {summary.device}")
    return lines


def _compared(summary: StudySummary, ranked: list[CandidateSummary]) -> str:
    """The candidates compared, counted: ``6 candidates`` when every one is ranked, else ``the 4
    finalists`` (at the last rung) or ``the 4 candidates at rung 2/3`` (a partial study)."""
    n = len(ranked)
    if n == len(summary.candidates):
        return plural(n, "candidate")
    total, rung = rung_count(summary), ranked[0].rung if ranked else 0
    if total is None or rung == total - 1:
        return f"the {plural(n, 'finalist')}"
    return f"the {plural(n, 'candidate')} at rung {rung + 1}/{total}"
