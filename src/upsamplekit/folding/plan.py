"""The per-axis arithmetic of folding "upsample by s, then convolve" into one low-resolution convolution.

One spatial axis is described by an :class:`AxisPlan`: the upsampler as a stencil per output
phase (high-resolution sample ``s * j + a`` is ``sum(w * x[j + t] for t, w in phases[a])``, the
input continued past its ends as ``extension`` says), and the convolution that follows (kernel
``kernel``, ``dilation``, ``pad_lo`` samples before the high-resolution signal, ``pad_hi``
after, stride 1). Output sample ``s * J + b`` of the convolution then reads low-resolution
samples ``J + r`` only: phase ``b`` is a small convolution on the low-resolution input, and
all ``s`` phases together are one convolution with ``s`` times the output channels followed by
an interleave. :attr:`AxisPlan.matrix` holds, for every phase, which convolution tap lands on
which low-resolution offset: the folded kernel of a d-dimensional convolution is the original
kernel contracted with one such matrix per axis.

The convolution's own border padding (``hr_mode``, in the high-resolution signal) is not
always a padding of the low-resolution input; :func:`exact_extension` finds the
low-resolution extension that reproduces it, or None, in which case the few output samples
the fold gets wrong (:func:`border_extent`, :meth:`AxisPlan.bands`) are recomputed exactly.

>>> nearest = ((0, ((0, 1.0),)), (0, ((0, 1.0),)))  # x2 nearest: both phases copy x[j]
>>> plan = AxisPlan(2, tuple(p for _, p in nearest), kernel=3, dilation=1, pad_lo=1, pad_hi=1)
>>> plan.starts, plan.width   # phase 0 reads x[J-1], x[J]; phase 1 reads x[J], x[J+1]
((-1, 0), 2)
>>> plan.matrix[0].tolist()   # phase 0: tap 0 on offset -1, taps 1 and 2 on offset 0
[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["AxisPlan", "Phases", "exact_extension", "border_extent", "hr_source", "pad_is_valid", "EXTENSIONS",
           "HR_MODES"]

# Taps of one high-resolution phase: (low-resolution offset, weight) pairs.
Phases = tuple[tuple[tuple[int, float], ...], ...]
EXTENSIONS = ("zeros", "replicate", "circular")
HR_MODES = ("zeros", "replicate", "reflect", "circular")


@dataclass(frozen=True)
class AxisPlan:
    """One spatial axis of a fold: the upsampler's phases and the convolution that follows.

    ``phases[a]`` are the taps of high-resolution phase ``a`` (``scale`` phases); the input is
    continued past its ends by ``extension`` (``replicate`` is the clamping every resize
    does; ``zeros`` is the transposed convolution's). ``hr_mode`` is the convolution's padding
    of the high-resolution signal (``zeros``, ``replicate``, ``reflect``, ``circular``), or
    ``none`` when the extension already defines every sample (transposed convolution).
    ``border``: how many outputs at each end the fold gets wrong (their window reads a
    padded sample that ``extension`` does not reproduce, see :func:`border_extent`), which
    are recomputed exactly; (0, 0) when ``extension`` reproduces ``hr_mode``.
    """

    scale: int
    phases: Phases
    kernel: int
    dilation: int
    pad_lo: int
    pad_hi: int
    extension: str = "replicate"
    hr_mode: str = "none"
    border: tuple[int, int] = (0, 0)

    # ------------------------------------------------------------------ the stencil
    @cached_property
    def reads(self) -> tuple[tuple[tuple[int, int, float], ...], ...]:
        """Per output phase ``b``: (low-resolution offset r, conv tap q, weight) triples."""
        out = []
        for b in range(self.scale):
            found = []
            for q in range(self.kernel):
                m, a = divmod(b - self.pad_lo + q * self.dilation, self.scale)
                found += [(m + t, q, w) for t, w in self.phases[a] if w != 0.0]
            out.append(tuple(found))
        return tuple(out)

    @cached_property
    def _windows(self) -> tuple[tuple[int, ...], int]:
        lows = [min(r for r, _, _ in reads) if reads else None for reads in self.reads]
        highs = [max(r for r, _, _ in reads) if reads else None for reads in self.reads]
        known = [v for v in lows if v is not None]
        if not known:  # nothing is read at all (a zero upsampler): one zero tap
            return tuple(0 for _ in lows), 1
        width = max(h - lo + 1 for lo, h in zip(lows, highs) if lo is not None and h is not None)
        starts: list[int] = []
        for lo in lows:  # a phase that reads nothing copies its neighbour's window (fewer runs)
            starts.append(lo if lo is not None else (starts[-1] if starts else min(known)))
        return tuple(starts), width

    @property
    def starts(self) -> tuple[int, ...]:
        """Per output phase, the first low-resolution offset its window reads."""
        return self._windows[0]

    @property
    def width(self) -> int:
        """The folded kernel's length on this axis (the widest phase window)."""
        return self._windows[1]

    @cached_property
    def matrix(self) -> np.ndarray:
        """(scale, width, kernel) float64: weight of conv tap q at window offset r of phase b."""
        out = np.zeros((self.scale, self.width, self.kernel))
        for b, reads in enumerate(self.reads):
            for r, q, w in reads:
                out[b, r - self.starts[b], q] += w
        return out

    @cached_property
    def runs(self) -> tuple[tuple[int, int, int, int], ...]:
        """Phases ``b0 <= b < b1`` whose window start is ``shift + step * (b - b0)`` above the
        smallest: (b0, b1, shift, step). One run when the starts are affine in the phase
        (always for scale 2), so the interleave is one strided copy."""
        low = min(self.starts)
        shifts = [s - low for s in self.starts]
        runs: list[tuple[int, int, int, int]] = []
        b0 = 0
        while b0 < self.scale:
            b1 = b0 + 1
            step = shifts[b1] - shifts[b0] if b1 < self.scale else 0
            while b1 < self.scale and shifts[b1] - shifts[b1 - 1] == step:
                b1 += 1
            if step < 0 and b1 - b0 > 1:  # keep strides non-negative: split a decreasing run
                b1, step = b0 + 1, 0
            runs.append((b0, b1, shifts[b0], step if b1 - b0 > 1 else 0))
            b0 = b1
        return tuple(runs)

    # ------------------------------------------------------------------ lengths
    def out_len(self, length: int) -> int:
        """The convolution's output length for a low-resolution input of ``length``."""
        return self.scale * length + self.pad_lo + self.pad_hi - self.dilation * (self.kernel - 1)

    def lr_range(self, length: int) -> tuple[int, int, int]:
        """(blocks, first, last): output blocks ``ceil(out / s)`` and the low-resolution indices
        ``first..last`` (inclusive, possibly outside the input) the folded convolution reads."""
        blocks = -(-self.out_len(length) // self.scale)
        return blocks, min(self.starts), blocks - 1 + max(self.starts) + self.width - 1

    def macs_ratio(self) -> float:
        """Folded multiply-adds over the original's on this axis (per output sample)."""
        return self.width / self.kernel

    # ------------------------------------------------------------------ borders
    @property
    def correct(self) -> bool:
        """Whether border bands are recomputed."""
        return self.border != (0, 0)

    def bands(self, length: int) -> list[tuple[int, int]]:
        """Output ranges ``[o0, o1)`` at the ends that the fold gets wrong (see ``border``);
        overlapping bands are merged."""
        total = self.out_len(length)
        n_lo, n_hi = (min(n, total) for n in self.border)
        if n_lo + n_hi >= total:
            return [(0, total)] if total > 0 and (n_lo or n_hi) else []
        return [r for r in ((0, n_lo), (total - n_hi, total)) if r[1] > r[0]]

    def hr_rows(self, length: int, o0: int, o1: int) -> list[int | None]:
        """The high-resolution samples (after the convolution's padding) that outputs
        ``o0..o1-1`` read, as indices into the unpadded signal (None: a zero)."""
        hr = self.scale * length
        first = o0 - self.pad_lo
        last = o1 - 1 - self.pad_lo + self.dilation * (self.kernel - 1)
        return [hr_source(h, hr, self.hr_mode) for h in range(first, last + 1)]

    def interpolation(self, length: int, rows: list[int | None]) -> np.ndarray:
        """The exact upsampler restricted to ``rows``: a (len(rows), length) matrix, the input
        clamped at its ends as a resize does (a None row is zero)."""
        matrix = np.zeros((len(rows), length))
        for i, h in enumerate(rows):
            if h is None:
                continue
            j, a = divmod(h, self.scale)
            for t, w in self.phases[a]:
                matrix[i, min(max(j + t, 0), length - 1)] += w
        return matrix


def hr_source(h: int, length: int, mode: str) -> int | None:
    """Which sample of a ``length``-long signal the padded sample ``h`` is (None: a zero).

    Torch's padding modes: ``reflect`` mirrors without repeating the edge, ``replicate``
    clamps, ``circular`` wraps.

    >>> [hr_source(h, 4, "reflect") for h in (-2, -1, 4, 5)]
    [2, 1, 2, 1]
    >>> [hr_source(h, 4, "circular") for h in (-1, 4)], hr_source(-1, 4, "zeros")
    ([3, 0], None)
    """
    if 0 <= h < length:
        return h
    if mode in ("zeros", "none"):
        return None
    if mode == "replicate":
        return min(max(h, 0), length - 1)
    if mode == "circular":
        return h % length
    if mode == "reflect":
        period = 2 * (length - 1)
        if period == 0:
            return 0
        h = h % period
        return h if h < length else period - h
    raise ValueError(f"unknown padding mode {mode!r}")


def pad_is_valid(mode: str, pad: int, length: int) -> bool:
    """Whether torch accepts padding ``pad`` of a ``length``-long axis in ``mode``."""
    if mode == "reflect":
        return pad < length
    if mode == "circular":
        return pad <= length
    return True


def _reach(plan: AxisPlan) -> int:
    """A length past which the two borders no longer interact."""
    reach = max((abs(t) for phase in plan.phases for t, _ in phase), default=0)
    span = abs(plan.pad_lo) + abs(plan.pad_hi) + plan.dilation * plan.kernel
    return 2 * (-(-span // plan.scale) + reach) + 4


def exact_extension(plan: AxisPlan, candidates: tuple[str, ...] = EXTENSIONS) -> str | None:
    """The first low-resolution extension under which the fold reproduces the convolution's
    high-resolution padding ``plan.hr_mode`` exactly, or None.

    Checked numerically, in float64 on random inputs, for every input length from 1 to past
    where the two borders stop interacting: the padded high-resolution samples the
    convolution reads must equal the upsampler applied to the extended input.

    >>> up = ((0, ((0, 1.0),)), (0, ((0, 1.0),)))
    >>> nearest = lambda mode, pad: AxisPlan(2, tuple(p for _, p in up), 3, 1, pad, pad, hr_mode=mode)
    >>> exact_extension(nearest("reflect", 1)), exact_extension(nearest("reflect", 2))
    ('replicate', None)
    >>> linear = AxisPlan(2, (((-1, 0.25), (0, 0.75)), ((0, 0.75), (1, 0.25))), 3, 1, 1, 1, hr_mode="zeros")
    >>> exact_extension(linear) is None  # bilinear then zero padding: the border ring differs
    True
    """
    rng = np.random.default_rng(0)
    for mode in candidates:
        if all(not any(_mismatches(plan, mode, n, rng)) for n in range(1, _reach(plan) + 1)):
            return mode
    return None


def border_extent(plan: AxisPlan, mode: str) -> tuple[int, int]:
    """How many padded high-resolution samples at each end the fold with extension ``mode``
    gets wrong (up to the last wrong one), which is also how many outputs at each end read one.

    >>> linear = AxisPlan(2, (((-1, 0.25), (0, 0.75)), ((0, 0.75), (1, 0.25))), 3, 1, 1, 1, hr_mode="zeros")
    >>> border_extent(linear, "replicate"), border_extent(linear, "zeros")
    ((1, 1), (2, 2))
    """
    length = 2 * _reach(plan) + 8
    wrong = _mismatches(plan, mode, length, np.random.default_rng(0))
    if not any(wrong):
        return (0, 0)
    half = len(wrong) // 2
    lo = max((i + 1 for i in range(half) if wrong[i]), default=0)
    hi = max((len(wrong) - i for i in range(half, len(wrong)) if wrong[i]), default=0)
    if any(wrong[lo:len(wrong) - hi]):
        raise ValueError(f"the fold of {plan} is wrong away from the borders")  # the plan is not periodic
    return (lo, hi)


def _mismatches(plan: AxisPlan, mode: str, length: int, rng: np.random.Generator) -> list[bool]:
    """Per padded high-resolution sample the convolution reads: does the fold (the upsampler
    on the input extended by ``mode``) get it wrong? Empty when torch rejects the length."""
    s = plan.scale
    hr = s * length
    total = plan.out_len(length)
    if total < 1 or not (pad_is_valid(plan.hr_mode, plan.pad_lo, hr) and pad_is_valid(plan.hr_mode, plan.pad_hi, hr)):
        return []  # the original convolution rejects this length: nothing to reproduce
    x = rng.standard_normal(length)

    def extended(i: int) -> float:
        if 0 <= i < length:
            return float(x[i])
        if mode == "zeros":
            return 0.0
        if mode == "circular":
            return float(x[i % length])
        return float(x[min(max(i, 0), length - 1)])

    def upsampled(h: int, clamp: bool) -> float:
        j, a = divmod(h, s)
        if clamp:
            return sum(w * float(x[min(max(j + t, 0), length - 1)]) for t, w in plan.phases[a])
        return sum(w * extended(j + t) for t, w in plan.phases[a])

    first = -plan.pad_lo
    last = total - 1 - plan.pad_lo + plan.dilation * (plan.kernel - 1)
    out = []
    for h in range(first, last + 1):
        source = hr_source(h, hr, plan.hr_mode)
        want = 0.0 if source is None else upsampled(source, clamp=True)
        out.append(not math.isclose(want, upsampled(h, clamp=False), rel_tol=1e-12, abs_tol=1e-12))
    return out
