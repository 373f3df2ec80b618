"""Run two calls on probe images and say where their outputs differ.

Probes (float32, values in [0, 1], one channel each): ``random`` (uniform, seeded),
``constant`` (all 1: shows how borders are treated), ``ramp`` (a diagonal linear ramp:
interpolation reproduces it exactly away from the borders), ``step`` (a vertical edge:
shows overshoot) and ``checkerboard`` (the highest frequency). Where the outputs differ is
one of:

* ``output size``: the two calls give different output shapes (reported first);
* ``nowhere``: the largest difference is within ``atol``;
* ``border ring``: only the outer ``ring_width`` rows and columns differ;
* ``phase``: inside the image, the difference repeats with the sub-pixel phase (the output
  position modulo the upsampling period) and vanishes at some phases;
* ``everywhere``: the interior differs too.

>>> import torch
>>> from upsamplekit.explainer.vocab import parse_call
>>> a = parse_call("torch: nn.Upsample(scale_factor=2, mode='bilinear')")
>>> b = parse_call("convtranspose: bilinear(kernel=4, stride=2, padding=1)")
>>> c = compare_at(a, b, (8, 8), a.request, b.request)
>>> c.where, c.ring_width, round(c.max_diff, 4)
('border ring', 1, 0.4375)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .calls import Call, Request, run_call

__all__ = ["PROBES", "probes", "SizeComparison", "compare_at", "resolve_requests", "default_sizes",
           "CATEGORIES"]

PROBES = ("random", "constant", "ramp", "step", "checkerboard")
CATEGORIES = ("nowhere", "border ring", "phase", "everywhere", "output size")  # in increasing severity
DEFAULT_SCALE: Request = ("scale", (2.0, 2.0))


def probes(size: tuple[int, int], seed: int = 0) -> torch.Tensor:
    """The probe images at (h, w), stacked as a (5, 1, h, w) float32 batch in :data:`PROBES` order.

    >>> probes((2, 3))[:, 0, 0].tolist()[1:]  # first rows of constant, ramp, step, checkerboard
    [[1.0, 1.0, 1.0], [0.0, 0.25, 0.5], [0.0, 1.0, 1.0], [0.0, 1.0, 0.0]]
    """
    h, w = size
    rng = np.random.default_rng(seed)
    i = np.arange(h, dtype=np.float64)[:, None]
    j = np.arange(w, dtype=np.float64)[None, :]
    ramp = (i / max(h - 1, 1) + j / max(w - 1, 1)) / 2
    images = [
        rng.random((h, w)),
        np.ones((h, w)),
        ramp,
        np.broadcast_to(j >= w // 2, (h, w)).astype(np.float64),
        ((i + j) % 2).astype(np.float64),
    ]
    return torch.from_numpy(np.stack(images)[:, None].astype(np.float32))


@dataclass(frozen=True)
class SizeComparison:
    """The two calls compared at one input size.

    ``max_diff`` / ``mean_diff``: of ``|A - B|`` over every probe and pixel (None when the
    output sizes differ). ``per_probe``: the largest difference per probe. ``profile``: the
    largest difference at each distance from the nearest image edge (0 is the outer ring).
    ``period`` / ``phases``: the output period of the sampling grid per axis and the largest
    interior difference at each phase (None when the period is 1 or too long to tabulate).
    ``outputs`` holds the probe outputs (A, B) for plots.
    """

    input_size: tuple[int, int]
    output_a: tuple[int, int]
    output_b: tuple[int, int]
    max_diff: float | None
    mean_diff: float | None
    where: str
    words: str
    per_probe: dict[str, float] = field(default_factory=dict)
    ring_width: int | None = None
    profile: tuple[float, ...] = ()
    period: tuple[int, int] | None = None
    phases: tuple[tuple[float, ...], ...] | None = None
    outputs: tuple[Any, Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": list(self.input_size), "output_a": list(self.output_a), "output_b": list(self.output_b),
            "max_diff": self.max_diff, "mean_diff": self.mean_diff, "where": self.where, "words": self.words,
            "per_probe": dict(self.per_probe), "ring_width": self.ring_width, "profile": list(self.profile),
            "period": list(self.period) if self.period else None,
            "phases": [list(r) for r in self.phases] if self.phases is not None else None,
        }


def resolve_requests(a: Call, b: Call) -> tuple[Request, Request]:
    """Each call's size request; a call that gives none takes the other's (scale 2 when neither does)."""
    ra = a.request or b.request or DEFAULT_SCALE
    rb = b.request or a.request or DEFAULT_SCALE
    return ra, rb


def default_sizes(a: Call, b: Call) -> list[tuple[int, int]]:
    """Input sizes at which both calls are meant to agree in shape.

    A fixed output size and a scale meet at ``size / scale``; two fixed sizes are probed at
    half and a third of the first; two scales at 8x8 and 5x7 (odd lengths expose rounding).

    >>> from upsamplekit.explainer.vocab import parse_call
    >>> default_sizes(parse_call("torch: F.interpolate(x, size=(56, 56))"),
    ...               parse_call("torch: nn.Upsample(scale_factor=2)"))
    [(28, 28)]
    """
    requests = [r for r in (a.request, b.request) if r is not None]
    sizes = [r[1] for r in requests if r[0] == "size"]
    scales = [r[1] for r in requests if r[0] == "scale"]
    if sizes and scales:
        (oh, ow), (sh, sw) = sizes[0], scales[0]
        return [(max(1, round(oh / sh)), max(1, round(ow / sw)))]
    if sizes:
        first = sizes[0]
        half = (max(1, int(first[0]) // 2), max(1, int(first[1]) // 2))
        third = (max(1, int(first[0]) // 3), max(1, int(first[1]) // 3))
        return [half, third]
    return [(8, 8), (5, 7)]


def compare_at(a: Call, b: Call, size: tuple[int, int], request_a: Request | None = None,
               request_b: Request | None = None, atol: float = 1e-5, seed: int = 0,
               outputs_a: torch.Tensor | None = None) -> SizeComparison:
    """Run both calls on the probes at input ``size`` and locate their differences."""
    ra, rb = resolve_requests(a, b)
    request_a = request_a or ra
    request_b = request_b or rb
    x = probes(size, seed)
    out_a = outputs_a if outputs_a is not None else run_call(a, x, request_a)
    out_b = run_call(b, x, request_b)
    return locate(size, out_a, out_b, atol)


def locate(size: tuple[int, int], out_a: torch.Tensor, out_b: torch.Tensor, atol: float) -> SizeComparison:
    """Compare two probe batches (5, 1, H, W) computed from inputs of ``size``."""
    shape_a = (int(out_a.shape[2]), int(out_a.shape[3]))
    shape_b = (int(out_b.shape[2]), int(out_b.shape[3]))
    outputs = (out_a.detach().double().numpy(), out_b.detach().double().numpy())
    if shape_a != shape_b:
        words = (f"output sizes differ: at input {_hw(size)}, A gives {_hw(shape_a)} and B gives {_hw(shape_b)}")
        return SizeComparison(size, shape_a, shape_b, None, None, "output size", words,
                              outputs=outputs)
    diff = np.abs(outputs[0] - outputs[1])
    per_probe = {name: float(diff[k].max()) for k, name in enumerate(PROBES)}
    dmap = diff.max(axis=(0, 1))
    h_out, w_out = dmap.shape
    distance = _distance(h_out, w_out)
    profile = tuple(float(dmap[distance == d].max()) for d in range(int(distance.max()) + 1))
    max_diff, mean_diff = float(diff.max()), float(diff.mean())
    common: dict[str, Any] = {"per_probe": per_probe, "profile": profile, "outputs": outputs}
    worst = max(per_probe, key=lambda name: per_probe[name])
    if max_diff <= atol:
        return SizeComparison(size, shape_a, shape_b, max_diff, mean_diff, "nowhere",
                              f"at input {_hw(size)} -> {_hw(shape_a)} the outputs agree (max {max_diff:.3g} <= "
                              f"atol {atol:g})", **common)
    ring = 1 + max(d for d, v in enumerate(profile) if v > atol)
    if (h_out - 2 * ring) * (w_out - 2 * ring) >= 0.25 * h_out * w_out:
        interior = max([v for d, v in enumerate(profile) if d >= ring], default=0.0)
        words = (f"at input {_hw(size)} -> {_hw(shape_a)} only the border ring differs: the outer {ring} "
                 f"row{'s' if ring > 1 else ''}/column{'s' if ring > 1 else ''} (max {max_diff:.4g}, on the "
                 f"{worst} probe); the interior agrees to {interior:.1g}")
        return SizeComparison(size, shape_a, shape_b, max_diff, mean_diff, "border ring",
                              words, ring_width=ring, **common)
    period = (shape_a[0] // math.gcd(shape_a[0], size[0]), shape_a[1] // math.gcd(shape_a[1], size[1]))
    phases = _phases(dmap, distance, period, size, shape_a)
    if phases is not None:
        flat = [v for row in phases for v in row]
        agree = sum(v <= atol for v in flat)
        if 0 < agree < len(flat):
            words = (f"at input {_hw(size)} -> {_hw(shape_a)} the difference follows the sub-pixel phase: the grid "
                     f"repeats every {period[0]}x{period[1]} output pixels, and {agree} of the {len(flat)} phases "
                     f"agree while the others differ by up to {max(flat):.4g} (max {max_diff:.4g} overall, on the "
                     f"{worst} probe)")
            return SizeComparison(size, shape_a, shape_b, max_diff, mean_diff, "phase", words,
                                  period=period, phases=phases, **common)
    centre = profile[-1]
    edge = profile[0]
    shape_words = ("largest at the border" if edge > 2 * max(centre, atol) else
                   "largest in the centre" if centre > 2 * max(edge, atol) else "about as large everywhere")
    words = (f"at input {_hw(size)} -> {_hw(shape_a)} the outputs differ everywhere, {shape_words} (max "
             f"{max_diff:.4g} on the {worst} probe, mean {mean_diff:.3g}; {edge:.3g} in the outer ring, "
             f"{centre:.3g} in the centre)")
    return SizeComparison(size, shape_a, shape_b, max_diff, mean_diff, "everywhere", words,
                          period=period if phases is not None else None,
                          phases=phases, **common)


def _distance(h: int, w: int) -> np.ndarray:
    i = np.arange(h)[:, None]
    j = np.arange(w)[None, :]
    return np.minimum(np.minimum(i, h - 1 - i), np.minimum(j, w - 1 - j))


def _phases(dmap: np.ndarray, distance: np.ndarray, period: tuple[int, int], size: tuple[int, int],
            shape: tuple[int, int]) -> tuple[tuple[float, ...], ...] | None:
    """The largest interior difference per sub-pixel phase, or None (no period, or too long)."""
    ph, pw = period
    if ph * pw <= 1 or ph * pw > 64:
        return None
    margin = 2 * max(math.ceil(o / i) for o, i in zip(shape, size)) + 1
    inside = distance >= margin
    if not inside.any() or inside.sum() < ph * pw:
        inside = distance >= 0
    i = np.arange(shape[0])[:, None] % ph
    j = np.arange(shape[1])[None, :] % pw
    table = []
    for a in range(ph):
        row = []
        for b in range(pw):
            mask = inside & (i == a) & (j == b)
            row.append(float(dmap[mask].max()) if mask.any() else 0.0)
        table.append(tuple(row))
    return tuple(table)


def _hw(size: tuple[int, ...]) -> str:
    return "x".join(str(int(s)) for s in size)
