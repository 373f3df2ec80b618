"""Summaries, ties with the best, Pareto fronts and the recommendation, on planted numbers."""

from __future__ import annotations

import numpy as np
import pytest

from upsamplekit.study.analysis import pareto_flags, separable, summarize
from upsamplekit.study.results import Candidate, Stat, TrialResult


def trial(name: str, schedule: tuple[int, ...], seed: int, psnr: float, macs: int, checker: float = 0.01,
          latency: float = 1.0, memory: int = 1000) -> TrialResult:
    return TrialResult(Candidate(name, schedule), seed, psnr, 0.8, checker, 10, macs, latency, 0.1, memory,
                       5.0, 0.2, 0.05)


@pytest.mark.parametrize("seed", range(5))
def test_pareto_flags_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = [(float(q), float(c)) for q, c in rng.integers(0, 6, size=(12, 2))]
    flags = pareto_flags(points)
    for (q, c), flag in zip(points, flags):
        better = [(q2, c2) for q2, c2 in points if (q2, c2) != (q, c) and q2 >= q and c2 <= c]
        assert flag == (not better)


def test_separable_uses_standard_errors() -> None:
    assert separable(Stat(30.0, 0.0, 2), Stat(29.9, 0.0, 2))
    assert not separable(Stat(30.0, 0.2, 2), Stat(29.9, 0.2, 2))  # 0.1 < 2 * sqrt(0.02 + 0.02)
    assert not separable(Stat(30.0, 0.0, 1), Stat(29.99, 0.0, 1))  # below MIN_SEPARATION


def test_recommendation_is_the_cheapest_tied_candidate_without_checkerboards() -> None:
    trials = []
    for seed in (0, 1):
        jitter = 0.05 * (seed - 0.5)
        trials += [
            trial("subpixel", (4,), seed, 25.0 + jitter, 100),
            trial("transposed", (4,), seed, 24.98 - jitter, 50, checker=0.3),  # cheapest tie, but checkerboards
            trial("bilinear", (2, 2), seed, 24.97 + jitter, 80),                # cheapest smooth tie
            trial("nearest", (4,), seed, 22.0 + jitter, 10),                    # separably worse
        ]
    candidates = [Candidate(n, s) for n, s in [("subpixel", (4,)), ("transposed", (4,)), ("bilinear", (2, 2)),
                                                  ("nearest", (4,))]]
    summary = summarize(candidates, trials, config={}, baseline={"name": "bicubic", "psnr": 23.0, "ssim": 0.7})
    rows = {r.candidate.upsampler: r for r in summary.candidates}
    assert [r.candidate.upsampler for r in summary.candidates] == ["subpixel", "transposed", "bilinear", "nearest"]
    assert rows["subpixel"].tied_with_best and rows["transposed"].tied_with_best and rows["bilinear"].tied_with_best
    assert not rows["nearest"].tied_with_best
    assert rows["nearest"].pareto["macs"] and rows["transposed"].pareto["macs"] and rows["subpixel"].pareto["macs"]
    assert not rows["bilinear"].pareto["macs"]  # transposed is as good and cheaper
    assert rows["subpixel"].psnr.n == 2 and rows["subpixel"].psnr.mean == pytest.approx(25.0)
    rec = summary.recommendation
    assert rec is not None and rec.candidate == Candidate("bilinear", (2, 2))
    text = " ".join(rec.reasons)
    assert "transposed [4] (0.3000)" in text and "low: 0.0100" in text
    assert "+1.97 dB" in text  # against the bicubic baseline


def test_candidates_outside_the_grid_and_missing_ones_are_left_out() -> None:
    trials = [trial("a", (2,), 0, 20.0, 1)]
    summary = summarize([Candidate("bilinear", (2,))], trials, config={}, pending=2)
    assert summary.candidates == [] and summary.recommendation is None and summary.pending == 2


def test_one_seed_only_the_best_is_tied() -> None:
    names = ["bilinear", "subpixel", "nearest"]
    trials = [trial(n, (2,), 0, 20.0 + i, 10 * i + 1) for i, n in enumerate(names)]
    summary = summarize([Candidate(n, (2,)) for n in names], trials, config={})
    assert [r.tied_with_best for r in summary.candidates] == [True, False, False]
    assert all(r.pareto["macs"] for r in summary.candidates)  # better ones cost more: all on the front
