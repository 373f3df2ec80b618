"""Timing an original layer or model against its folded copy: the one interleaved loop.

Both sides run in the same rounds, back to back, alternating which goes first (so that a
load spike on a shared machine, or a warm cache left by the other side, weighs on both), under
``torch.no_grad()``, after one warm-up call of each. On CUDA every timed call waits for the
device to finish (``torch.cuda.synchronize``), so the clock measures the work, not its launch.
:func:`paired_round` is one such round;
:func:`interleaved` runs the rounds; :func:`time_at_shape` is what :func:`~upsamplekit.fold`
times each candidate rewrite with, :func:`time_side_by_side` what ``upsamplekit fold`` reports.

>>> slow, fast = interleaved(lambda: sum(range(2000)), lambda: None, rounds=3)
>>> len(slow), len(fast), min(slow) > 0.0
(3, 3, True)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import torch

from .devices import synchronised, synchronizer

__all__ = ["elapsed_ms", "paired_round", "interleaved", "time_at_shape", "Timing", "time_side_by_side"]


def elapsed_ms(fn: Callable[[], Any]) -> float:
    """Wall time of one call of ``fn()``, in milliseconds."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def paired_round(first: Callable[[], Any], second: Callable[[], Any], index: int) -> tuple[float, float]:
    """Round ``index`` of an interleaved timing: ``first()`` and ``second()`` back to back,
    ``first`` first in even rounds and second in odd ones; their times (ms) in argument order."""
    if index % 2 == 0:
        a = elapsed_ms(first)
        return a, elapsed_ms(second)
    b = elapsed_ms(second)
    return elapsed_ms(first), b


def interleaved(first: Callable[[], Any], second: Callable[[], Any], rounds: int, *, min_rounds: int | None = None,
                budget_ms: float | None = None) -> tuple[list[float], list[float]]:
    """Per-round times (ms) of ``first()`` and ``second()`` (no gradients): one warm-up call of
    each, then up to ``rounds`` :func:`paired_round` rounds. With ``budget_ms``, the rounds stop
    once ``min_rounds`` (default: all) have run and both sides together have taken longer."""
    times: tuple[list[float], list[float]] = ([], [])
    least = rounds if min_rounds is None else min_rounds
    with torch.no_grad():
        first(), second()
        spent = 0.0
        for r in range(rounds):
            a, b = paired_round(first, second, r)
            times[0].append(a)
            times[1].append(b)
            spent += a + b
            if budget_ms is not None and r + 1 >= least and spent > budget_ms:
                break
    return times


def time_at_shape(original: Callable[[torch.Tensor], Any], folded: Callable[[torch.Tensor], Any],
                  shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> tuple[float, float, float]:
    """Forward times (ms, no gradients) of ``original`` and ``folded`` on a random input of
    ``shape``: medians, and the median of the per-round ratios (original over folded). At least
    7 rounds, more for quick layers (up to 31, about 0.2 s in all). On ``device``: on CUDA each
    call is synchronised (the device finishes before the clock is read)."""
    x = torch.randn(shape, dtype=dtype, device=device)
    sync = synchronizer(device)
    if sync is not None:
        sync()  # the input's own initialisation is not charged to the first call
    before, after = interleaved(synchronised(lambda: original(x), sync), synchronised(lambda: folded(x), sync),
                                rounds=31, min_rounds=7, budget_ms=200.0)
    ratios = [a / b for a, b in zip(before, after)]
    return statistics.median(before), statistics.median(after), statistics.median(ratios)


class Timing(NamedTuple):
    """Median forward times (ms) of two models measured side by side, and the settings."""

    original_ms: float
    folded_ms: float
    repeats: int
    threads: int

    @property
    def speedup(self) -> float:
        return self.original_ms / self.folded_ms


def time_side_by_side(original: Callable[[], Any], folded: Callable[[], Any], repeats: int = 5,
                      device: torch.device | str = "cpu") -> Timing:
    """Median wall times of ``original()`` and ``folded()`` over ``repeats`` :func:`interleaved` rounds,
    each call synchronised with ``device`` (on CUDA: the clock waits for the device's work)."""
    sync = synchronizer(device)
    before, after = interleaved(synchronised(original, sync), synchronised(folded, sync), rounds=repeats)
    return Timing(statistics.median(before), statistics.median(after), repeats, torch.get_num_threads())
