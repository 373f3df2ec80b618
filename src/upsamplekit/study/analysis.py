"""From trials to conclusions: statistics over seeds, ties with the best, Pareto fronts, and the
recommendation with its reasons.

Two candidates are *separable* when the difference of their mean PSNRs exceeds twice its
standard error, ``2 * sqrt(s1^2/n1 + s2^2/n2)`` (s: standard deviation over seeds, n: seeds),
and at least :data:`MIN_SEPARATION` dB. The recommendation is the cheapest candidate (fewest
MACs, then lowest latency) among those not separable from the best, preferring one whose
checkerboard score is low: at most :data:`CHECKERBOARD_RATIO` times the lowest score of the study
(the score's absolute level depends on the validation crop size, see
:func:`~upsamplekit.study.metrics.checkerboard_noise_floor`, so candidates are compared with each other).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any

from ..nn.registry import upsampler_info
from .results import COSTS, Candidate, CandidateSummary, Recommendation, Stat, StudySummary, TrialResult

__all__ = ["summarize", "pareto_flags", "separable", "CHECKERBOARD_RATIO", "MIN_SEPARATION"]

#: A checkerboard score more than this many times the study's lowest is high.
CHECKERBOARD_RATIO = 2.0
#: Mean PSNR differences smaller than this many dB are never called separable.
MIN_SEPARATION = 0.02


def separable(a: Stat, b: Stat) -> bool:
    """Whether two PSNR statistics differ by more than twice the standard error of the difference.

    >>> separable(Stat(25.0, 0.1, 3), Stat(24.0, 0.1, 3))
    True
    >>> separable(Stat(25.0, 0.4, 2), Stat(24.7, 0.3, 2))
    False
    """
    margin = 2 * math.sqrt(a.std**2 / max(a.n, 1) + b.std**2 / max(b.n, 1))
    return abs(a.mean - b.mean) > max(margin, MIN_SEPARATION)


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
    by_candidate: dict[Candidate, list[TrialResult]] = defaultdict(list)
    for trial in trials:
        by_candidate[trial.candidate].append(trial)
    out = []
    for candidate in candidates:
        runs = sorted(by_candidate.get(candidate, []), key=lambda t: t.seed)
        if not runs:
            continue
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
        ))
    return sorted(out, key=lambda s: -s.psnr.mean)


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
    if others:
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
              machine: dict[str, str] | None = None, pending: int = 0) -> StudySummary:
    """Summaries per candidate (only those in ``candidates``), ties, fronts and the recommendation."""
    wanted = set(candidates)
    trials = [t for t in trials if t.candidate in wanted]
    rows = _summaries(candidates, trials)
    if rows:
        best = rows[0]
        for row in rows:
            row.tied_with_best = row is best or not separable(best.psnr, row.psnr)
        for cost in COSTS:
            flags = pareto_flags([(r.psnr.mean, r.cost(cost)) for r in rows])
            for row, flag in zip(rows, flags):
                row.pareto[cost] = flag
    return StudySummary(config=config, candidates=rows, recommendation=_recommend(rows, baseline), trials=trials,
                        baseline=baseline, images=dict(images or {}), machine=dict(machine or {}), pending=pending)


def _mega(n: float) -> str:
    return f"{n / 1e9:.2f} G" if n >= 1e9 else f"{n / 1e6:.1f} M"


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def _ratio(reference: float, value: float) -> str:
    if value <= 0 or reference <= 0:
        return "n/a"
    r = value / reference
    return f"{r:.2f}x"
