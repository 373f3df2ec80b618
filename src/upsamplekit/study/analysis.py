"""From trials to conclusions: statistics over seeds, ties with the best, Pareto fronts, and the
recommendation with its reasons.

Two candidates are *separable* when the difference of their mean PSNRs exceeds twice its
standard error, ``2 * sqrt(s1^2/n1 + s2^2/n2)`` (s: standard deviation over seeds, n: seeds),
and at least :data:`MIN_SEPARATION` dB. The recommendation is the cheapest candidate (fewest
MACs, then lowest latency) among those not separable from the best, preferring one whose
checkerboard score is low: at most :data:`CHECKERBOARD_RATIO` times the lowest score of the study
(the score's absolute level depends on the validation crop size, see
:func:`~upsamplekit.study.metrics.checkerboard_noise_floor`, so candidates are compared with each other).

How far the answer can be trusted (:class:`~upsamplekit.study.results.Confidence`, see
:func:`confidence`): whether the recommendation beats the no-network baseline separably, how many
candidates are separable from the best, the rank stability (Kendall's tau between the ranking at
half the budget and at the whole budget, from every trial's validation curve), and the seeds
that would separate the best from the runner-up.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any

from ..nn.registry import upsampler_info
from .results import (COSTS, Candidate, CandidateSummary, Confidence, Recommendation, Stat, StudySummary,
                      TrialResult)

__all__ = ["summarize", "pareto_flags", "separable", "kendall_tau", "seeds_to_separate", "confidence",
           "CHECKERBOARD_RATIO", "MIN_SEPARATION", "SETTLED_TAU", "FIRST_LOOK_STEPS"]

#: A checkerboard score more than this many times the study's lowest is high.
CHECKERBOARD_RATIO = 2.0
#: Mean PSNR differences smaller than this many dB are never called separable.
MIN_SEPARATION = 0.02
#: The ranking is settled when Kendall's tau between half and whole budget is at least this.
SETTLED_TAU = 0.8
#: A study training fewer steps per trial than this is a first look (``--quick``), said first in its verdict.
FIRST_LOOK_STEPS = 200


def separable(a: Stat, b: Stat) -> bool:
    """Whether two PSNR statistics differ by more than twice the standard error of the difference.

    >>> separable(Stat(25.0, 0.1, 3), Stat(24.0, 0.1, 3))
    True
    >>> separable(Stat(25.0, 0.4, 2), Stat(24.7, 0.3, 2))
    False
    """
    margin = 2 * math.sqrt(a.std**2 / max(a.n, 1) + b.std**2 / max(b.n, 1))
    return abs(a.mean - b.mean) > max(margin, MIN_SEPARATION)


def kendall_tau(a: list[float], b: list[float]) -> float | None:
    """Kendall's tau-b between two scorings of the same items (ties counted as in ``scipy.stats.kendalltau``):
    1 for the same order, -1 for the reverse; None with fewer than two items or no order at all.

    >>> kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]), kendall_tau([1, 2, 3, 4], [10, 30, 20, 40])
    (1.0, 0.6666666666666666)
    """
    if len(a) != len(b):
        raise ValueError(f"kendall_tau needs two scorings of the same items, but got {len(a)} and {len(b)} values")
    concordant = discordant = ties_a = ties_b = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            da, db = a[i] - a[j], b[i] - b[j]
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif (da > 0) == (db > 0):
                concordant += 1
            else:
                discordant += 1
    pairs = concordant + discordant
    denominator = math.sqrt((pairs + ties_a) * (pairs + ties_b))
    return (concordant - discordant) / denominator if denominator else None


def seeds_to_separate(a: Stat, b: Stat) -> int | None:
    """Seeds per candidate at which the difference of ``a`` and ``b`` would be separable (:func:`separable`),
    if their means and spreads stayed as observed: the smallest ``n >= 2`` with
    ``|d| > 2 sqrt((s_a^2 + s_b^2) / n)``. None when it cannot be estimated: a difference below
    :data:`MIN_SEPARATION` (never separable), or no spread measured (one seed each).

    >>> seeds_to_separate(Stat(25.0, 0.2, 2), Stat(24.8, 0.2, 2))  # 2 * sqrt(0.08 / 9) < 0.2 <= 2 * sqrt(0.08 / 8)
    9
    >>> seeds_to_separate(Stat(25.0, 0.0, 1), Stat(24.0, 0.0, 1)) is None
    True
    """
    difference = abs(a.mean - b.mean)
    spread = a.std**2 + b.std**2
    if difference < MIN_SEPARATION or not spread > 0 or not math.isfinite(difference + spread):
        return None
    return max(2, math.floor(4 * spread / difference**2) + 1)


def pareto_flags(points: list[tuple[float, float]]) -> list[bool]:
    """For (quality, cost) points, whether each is on the front (no other point has quality >= and
    cost <= with one of them strict).

    >>> pareto_flags([(30, 10), (31, 20), (29, 20), (31, 30)])
    [True, True, False, False]
    """
    flags = []
    for q, c in points:
        dominated = any(q2 >= q and c2 <= c and (q2 > q or c2 < c) for q2, c2 in points)
        flags.append(not dominated)
    return flags


def _summaries(candidates: list[Candidate], trials: list[TrialResult]) -> list[CandidateSummary]:
    """One row per candidate with results, from its trials of the highest rung that as many seeds
    finished as any of its rungs (rung 0 without a budget policy's rungs)."""
    by_candidate: dict[Candidate, dict[int, list[TrialResult]]] = defaultdict(lambda: defaultdict(list))
    for trial in trials:
        by_candidate[trial.candidate][trial.rung].append(trial)
    out = []
    for candidate in candidates:
        rungs = by_candidate.get(candidate)
        if not rungs:
            continue
        most = max(len(runs) for runs in rungs.values())
        rung = max(r for r, runs in rungs.items() if len(runs) == most)
        runs = sorted(rungs[rung], key=lambda t: t.seed)
        out.append(CandidateSummary(
            candidate=candidate,
            learned=upsampler_info(candidate.upsampler).learned,
            seeds=[t.seed for t in runs],
            psnr=Stat.of([t.psnr for t in runs]),
            ssim=Stat.of([t.ssim for t in runs]),
            checkerboard=Stat.of([t.checkerboard for t in runs]),
            train_seconds=Stat.of([t.train_seconds for t in runs]),
            params=runs[0].params,
            macs=runs[0].macs,
            latency_ms=statistics.median(t.latency_ms for t in runs),
            latency_iqr_ms=statistics.median(t.latency_iqr_ms for t in runs),
            peak_memory_bytes=max(t.peak_memory_bytes for t in runs),
            curve=_mean_curve(runs),
            guided=upsampler_info(candidate.upsampler).guided,
            rung=rung,
            steps=max(t.steps for t in runs),
        ))
    return sorted(out, key=lambda s: -s.psnr.mean)


def _mean_curve(runs: list[TrialResult]) -> list[tuple[int, Stat]]:
    """PSNR over seeds at each checkpoint step every run reached."""
    steps = set.intersection(*({int(step) for step, _ in run.curve} for run in runs)) if runs else set()
    values = {step: [v for run in runs for s, v in run.curve if int(s) == step] for step in steps}
    return [(step, Stat.of(values[step])) for step in sorted(steps)]


def _rank_stability(rows: list[CandidateSummary], steps: int) -> tuple[float | None, int | None, float | None, int,
                                                                      int | None]:
    """Kendall's tau between the ranking at the checkpoint nearest half of ``steps`` and at ``steps``,
    over the candidates with both; the budget at which the curves suggest the ranking settles
    (None when it has): the earliest checkpoint from which every later ranking is within
    :data:`SETTLED_TAU` of the final one, doubled (rankings settle by about half the budget); and,
    of the pairs of candidates separable at ``steps`` (their count is the last value), the share
    already in the same order at half the budget; and the checkpoint used as half the budget (with
    ``--budget halving``, the previous rung's end)."""
    at = [{step: stat for step, stat in row.curve} for row in rows]
    full = [a for a in at if steps in a]
    checkpoints = sorted({step for a in full for step in a if step < steps and all(step in b for b in full)})
    if len(full) < 2 or not checkpoints:
        return None, None, None, 0, None
    half = min(checkpoints, key=lambda step: (abs(step - steps / 2), step))
    final = [a[steps].mean for a in full]
    taus = {step: kendall_tau([a[step].mean for a in full], final) for step in checkpoints}
    pairs = [(a, b) for i, a in enumerate(full) for b in full[i + 1:] if separable(a[steps], b[steps])]
    held = sum((a[half].mean - b[half].mean) * (a[steps].mean - b[steps].mean) > 0 for a, b in pairs)
    share = held / len(pairs) if pairs else None
    tau = taus[half]
    if tau is None or tau >= SETTLED_TAU:
        return tau, None, share, len(pairs), half
    settles = steps
    for step in sorted(checkpoints, reverse=True):
        value = taus[step]
        if value is None or value < SETTLED_TAU:
            break
        settles = step
    return tau, _round_steps(2 * max(settles, half + 1)), share, len(pairs), half


def _round_steps(n: float) -> int:
    """``n`` rounded up to two significant digits: a budget people would type."""
    digits = max(0, len(str(int(n))) - 2)
    return int(math.ceil(n / 10**digits) * 10**digits)


def confidence(rows: list[CandidateSummary], recommendation: Recommendation | None,
               baseline: dict[str, Any] | None, steps: int,
               collapsed: list[tuple[Candidate, int, str]] | None = None) -> Confidence | None:
    """How far the recommendation can be trusted; ``rows`` sorted best first, ``steps`` the training
    budget, ``collapsed`` the trials that collapsed (named in the verdict)."""
    if recommendation is None or not rows:
        return None
    pick = next(r for r in rows if r.candidate == recommendation.candidate)
    best = rows[0]
    tau, suggested, held, separable_pairs, half = _rank_stability(rows, steps)
    between = f"between {half} and {steps} steps"
    settled = tau is not None and tau >= SETTLED_TAU
    base_psnr = None if baseline is None else float(baseline["psnr"])
    margin = None if base_psnr is None else pick.psnr.mean - base_psnr
    beats = base_psnr is not None and pick.psnr.mean > base_psnr and separable(pick.psnr, Stat(base_psnr, 0.0, 1))
    worse = sum(1 for r in rows if not r.tied_with_best)
    runner = rows[1] if len(rows) > 1 else None
    seeds = seeds_to_separate(best.psnr, runner.psnr) if runner is not None else None
    first_look = steps < FIRST_LOOK_STEPS

    sentences = []
    base_name = str(baseline.get("name", "the baseline")) if baseline is not None else ""
    label = pick.candidate.label
    if margin is None or base_psnr is None:
        sentences.append(f"{label} is recommended; there is no no-network baseline to compare it with.")
    elif beats and settled:
        sentences.append(f"Confident: {label} beats {base_name} by {margin:+.2f} dB, separably, and the ranking "
                         f"has settled (Kendall tau {tau:.2f} {between}).")
    elif beats:
        moving = ("its rank stability is unknown (fewer than two ranked candidates with curves)" if tau is None else
                  f"the ranking is still moving (Kendall tau {tau:.2f} {between}): raise "
                  f"--steps to about {suggested}")
        sentences.append(f"Unsure: {label} beats {base_name} by {margin:+.2f} dB, separably, but {moving}.")
        if held is not None and tau is not None:
            sentences.append(f"Of the {separable_pairs} pairs of candidates it can separate at the whole budget, "
                             f"{100 * held:.0f}% were already in that order at {half}: the ranking moves "
                             f"{'mostly ' if held >= SETTLED_TAU else ''}among candidates within the seed spread.")
    elif margin > 0:
        sentences.append(f"Unsure: {label} is {margin:+.2f} dB over {base_name}, within its seed-to-seed spread "
                         "(not separable): more seeds or more --steps would tell.")
    else:
        best_margin = best.psnr.mean - base_psnr
        sentences.append(f"Negative: no candidate beats {base_name} ({base_psnr:.2f} dB); the best, "
                         f"{best.candidate.label}, is {best_margin:+.2f} dB from it. These decoders are undertrained "
                         "for this task: raise --steps or --width, or keep --skip 1.")
    if first_look:
        sentences[0] = f"First look ({steps} steps per trial, too few to trust): " + sentences[0]
    if worse == len(rows) - 1 and len(rows) > 1:
        sentences.append(f"Every other candidate is separably worse than the best ({best.candidate.label}).")
    elif len(rows) > 1:
        sentences.append(f"{len(rows) - 1 - worse} of the other {len(rows) - 1} candidates cannot be separated "
                         f"from the best ({best.candidate.label}).")
    if collapsed:
        seeds_of: dict[Candidate, list[int]] = defaultdict(list)
        for candidate, seed, _ in collapsed:
            seeds_of[candidate].append(seed)
        named = ", ".join(f"{c.label} (seed{'s' * (len(s) > 1)} {', '.join(map(str, sorted(s)))})"
                          for c, s in seeds_of.items())
        sentences.append(f"Collapsed in training and not ranked: {named}; see the report for why.")
    return Confidence(verdict=" ".join(sentences), rank_stability=tau, settled=settled, steps_suggested=suggested,
                      separable_orders_held=held,
                      baseline_margin_db=margin, beats_baseline=beats, separable_from_best=worse,
                      seeds_needed=seeds, first_look=first_look, compared_at=half)


def _recommend(rows: list[CandidateSummary], baseline: dict[str, Any] | None) -> Recommendation | None:
    if not rows:
        return None
    best = rows[0]
    top = [r for r in rows if r.tied_with_best]
    by_cost = sorted(top, key=lambda r: (r.macs, r.latency_ms))
    lowest = min(r.checkerboard.mean for r in rows)
    high = CHECKERBOARD_RATIO * lowest
    smooth = [r for r in by_cost if r.checkerboard.mean <= high]
    pick = (smooth or by_cost)[0]
    c = pick.candidate
    reasons = [f"Best mean PSNR: {best.candidate.label}, {best.psnr.mean:.2f} ± {best.psnr.std:.2f} dB "
               f"over {best.psnr.n} seed{'s' * (best.psnr.n != 1)}."]
    others = [r.candidate.label for r in top if r is not best]
    if len(rows) == 1:
        reasons.append("It is the only candidate compared at this budget.")
    elif others:
        reasons.append(f"Not separable from it (PSNR difference within twice its standard error): "
                       f"{', '.join(others)}.")
    else:
        reasons.append("Every other candidate is separably worse (PSNR difference beyond twice its standard error).")
    if pick is best:
        reasons.append(f"{c.label} is also the cheapest of the candidates tied with the best: "
                       f"{_mega(pick.macs)} MACs, {pick.latency_ms:.2f} ms, {_mib(pick.peak_memory_bytes)} peak memory.")
    else:
        reasons.append(
            f"{c.label} reaches {pick.psnr.mean:.2f} ± {pick.psnr.std:.2f} dB for {_mega(pick.macs)} MACs "
            f"({_ratio(best.macs, pick.macs)} the best's), {pick.latency_ms:.2f} ms "
            f"({_ratio(best.latency_ms, pick.latency_ms)}) and {_mib(pick.peak_memory_bytes)} peak memory: "
            "the cheapest of the candidates tied with the best.")
    if pick.checkerboard.mean <= high:
        reasons.append(f"Its checkerboard score is low: {pick.checkerboard.mean:.4f}, within {CHECKERBOARD_RATIO:g}x "
                       f"the study's lowest ({lowest:.4f}).")
    else:
        reasons.append(f"Its checkerboard score is high ({pick.checkerboard.mean:.4f}, over {CHECKERBOARD_RATIO:g}x the "
                       f"study's lowest, {lowest:.4f}), and so is every candidate tied with the best: look at the "
                       "zoomed reconstructions.")
    skipped = [r for r in by_cost if r.checkerboard.mean > high and r.macs <= pick.macs and r is not pick]
    if skipped and smooth:
        reasons.append(f"Passed over for checkerboard artifacts despite lower cost: "
                       f"{', '.join(f'{r.candidate.label} ({r.checkerboard.mean:.4f})' for r in skipped)}.")
    if baseline is not None:
        reasons.append(f"Bicubic resizing without a network reaches {baseline['psnr']:.2f} dB "
                       f"({pick.psnr.mean - baseline['psnr']:+.2f} dB for the recommendation).")
    same = [r for r in rows if r.candidate.upsampler == c.upsampler and r is not pick]
    if same:
        alt = ", ".join(f"{list(r.candidate.schedule)}: {r.psnr.mean:.2f} dB" for r in same)
        reasons.append(f"Other schedules with {c.upsampler}: {alt}.")
    return Recommendation(c, reasons)


def summarize(candidates: list[Candidate], trials: list[TrialResult], *, config: dict[str, Any],
              baseline: dict[str, Any] | None = None, images: dict[str, Any] | None = None,
              machine: dict[str, str] | None = None, pending: int = 0, device: str = "cpu",
              collapsed: list[tuple[Candidate, int, str]] | None = None,
              stopped: dict[Candidate, str] | None = None, budget: dict[str, Any] | None = None) -> StudySummary:
    """Summaries per candidate (only those in ``candidates``), ties, fronts, the recommendation and
    the confidence in it (``config["steps"]`` is the budget the curves are read against).

    With a budget policy's rungs (``trials`` of several rungs), only the candidates at the highest
    rung reached are ranked (ties, fronts, recommendation, confidence); ``stopped`` gives, for each
    candidate that a rung's decision stopped, why; ``budget`` is kept for the report."""
    wanted = set(candidates)
    trials = [t for t in trials if t.candidate in wanted]
    stopped = {c: why for c, why in (stopped or {}).items() if c in wanted}
    rows = _summaries(candidates, trials)
    going = [r for r in rows if r.candidate not in stopped]
    top = max((r.rung for r in going), default=0)
    ranked = [r for r in going if r.rung == top]
    for row in rows:
        row.ranked = row in ranked
        row.stopped = stopped.get(row.candidate, "")
    rows = ranked + sorted((r for r in rows if not r.ranked), key=lambda r: (-r.rung, -r.psnr.mean))
    if ranked:
        best = ranked[0]
        for row in ranked:
            row.tied_with_best = row is best or not separable(best.psnr, row.psnr)
        for cost in COSTS:
            flags = pareto_flags([(r.psnr.mean, r.cost(cost)) for r in ranked])
            for row, flag in zip(ranked, flags):
                row.pareto[cost] = flag
    recommendation = _recommend(ranked, baseline)
    if recommendation is not None and stopped:
        recommendation.reasons.insert(2, f"Stopped at earlier rungs, separably worse than that rung's best: "
                                         f"{', '.join(c.label for c in stopped)}.")
    steps = config.get("steps")
    collapsed = [c for c in collapsed or [] if c[0] in wanted]
    trust = confidence(ranked, recommendation, baseline, steps, collapsed) if isinstance(steps, int) else None
    return StudySummary(config=config, candidates=rows, recommendation=recommendation, trials=trials,
                        baseline=baseline, images=dict(images or {}), machine=dict(machine or {}), pending=pending,
                        confidence=trust, device=device, collapsed=collapsed, budget=budget)


def _mega(n: float) -> str:
    return f"{n / 1e9:.2f} G" if n >= 1e9 else f"{n / 1e6:.1f} M"


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def _ratio(reference: float, value: float) -> str:
    if value <= 0 or reference <= 0:
        return "n/a"
    r = value / reference
    return f"{r:.2f}x"
