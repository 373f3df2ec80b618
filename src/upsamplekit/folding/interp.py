"""Fixed upsamplers (nearest, linear, ...) followed by a convolution: when they fold, and how.

An upsampler folds when, at its integer scale, every output phase is the same stencil of
the input everywhere, with the input clamped at its ends: ``o // s`` for nearest (torch's
``nearest`` and ``nearest-exact``, TensorFlow's and Keras's nearest), two fixed taps per phase
for linear with half-pixel centres. This is read off the resize's own gather tables
(:func:`upsamplekit.resample.tables.axis_table`, the tables :func:`upsamplekit.resize` is
tested against every framework with) and checked on every length from 1 to 40 and on 257
and 4096: :func:`phases_of` returns the stencil or the reason there is none.

>>> from upsamplekit import Resampling
>>> phases_of(Resampling.preset("torch", "nearest"), 2)
(((0, 1.0),), ((0, 1.0),))
>>> phases_of(Resampling.preset("torch", "bilinear"), 2)
(((-1, 0.25), (0, 0.75)), ((0, 0.75), (1, 0.25)))
>>> print(phases_of(Resampling.preset("torch", "bilinear", align_corners=True), 2))
align_corners=True places output i at i * (in - 1) / (out - 1): the stencil changes along the axis (it depends on the input length), so there is no fixed sub-pixel kernel
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import UpsampleError
from ..resample import Resampling
from ..resample.tables import axis_table, call_rules
from .module import FoldedConv, FoldSpec
from .plan import HR_MODES, AxisPlan, Phases, border_extent, exact_extension

__all__ = ["Upsampling", "ConvInfo", "phases_of", "upsampling", "conv_info", "fold_conv", "integer_scales"]

_CHECK_LENGTHS = (*range(1, 41), 257, 4096)
# The input extension used when none is exact and border bands are recomputed: replicate (the
# resize's own clamping) leaves only the padded samples wrong, one output per band for linear
# then a 3x3 convolution, for one padded copy of the input; zeros lets the convolution pad by
# itself but doubles the bands. Measured within noise of each other at decoder shapes.
BAND_EXTENSION = "replicate"


@dataclass(frozen=True)
class Upsampling:
    """A fixed upsampler as :func:`fold_conv` needs it: its spec, per-axis integer scales and
    phases, the resize call that computes it (method, convention, options: the border bands
    call it), the 1x1 projection that follows it (or None) and a short name for reports."""

    name: str
    spec: Resampling
    scales: tuple[int, ...]
    phases: tuple[Phases, ...]
    call: tuple[str, str, tuple[tuple[str, Any], ...]]
    proj: nn.Module | None = None


@lru_cache(maxsize=256)
def phases_of(spec: Resampling, scale: int) -> Phases | str:
    """The per-phase stencil of ``spec`` upsampling by the integer ``scale``, or why there is none."""
    if spec.coordinates in ("align_corners", "pytorch_antialias_align_corners") and scale > 1:
        return ("align_corners=True places output i at i * (in - 1) / (out - 1): the stencil changes along the "
                "axis (it depends on the input length), so there is no fixed sub-pixel kernel")
    if spec.coordinates == "tf_crop_and_resize":
        return "tf_crop_and_resize samples a region of interest, not the whole input"
    middle = 16  # rows j = 8 +- reach stay clear of both ends; small j keeps position round-off small
    table = _table(spec, middle, scale)
    phases = []
    for a in range(scale):
        row = scale * (middle // 2) + a
        taps: dict[int, float] = {}
        for index, weight in zip(table.index[row], table.weight[row]):
            if weight != 0.0:
                taps[int(index) - middle // 2] = taps.get(int(index) - middle // 2, 0.0) + float(weight)
        phases.append(tuple(sorted((t, w) for t, w in taps.items() if w != 0.0)))
    found: Phases = tuple(phases)
    tol = 1e-6 if spec.coordinate_precision == "float32" or spec.float_output == "float32" else 1e-12
    rng = np.random.default_rng(0)
    for length in _CHECK_LENGTHS:
        table = _table(spec, length, scale)
        x = rng.standard_normal(length)
        if table.outside is not None or not np.allclose(_apply(table.index, table.weight, x),
                                                        _periodic(found, scale, x), rtol=tol, atol=tol):
            why = (" (positions are rounded to float32, TensorFlow's arithmetic, so the weights drift along the axis)"
                   if spec.coordinate_precision == "float32" else "")
            return (f"{_describe(spec)} is not the same stencil at every output phase at scale {scale}{why}, so it "
                    f"has no fixed sub-pixel kernel (checked on an input of length {length})")
    return found


def _table(spec: Resampling, length: int, scale: int) -> Any:
    rules, scales = call_rules(spec, [length], [length * scale], [float(scale)])
    return axis_table(rules, length, length * scale, scales[0])


def _apply(index: np.ndarray, weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (x[index] * weight).sum(axis=1)


def _periodic(phases: Phases, scale: int, x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    out = np.zeros(n * scale)
    j = np.arange(n)
    for a, taps in enumerate(phases):
        for t, w in taps:
            out[a::scale] += w * x[np.clip(j + t, 0, n - 1)]
    return out


def _describe(spec: Resampling) -> str:
    return f"kernel {spec.kernel} with coordinates {spec.coordinates} and borders {spec.border}"


def integer_scales(scale: object, dims: int) -> tuple[int, ...] | str:
    """Per-axis integer scales >= 1 from a scale factor (a number or one per axis), or why not."""
    items = list(scale) if isinstance(scale, (tuple, list, torch.Size)) else [scale] * dims
    if len(items) != dims:
        return f"scale_factor {scale!r} has {len(items)} values for {dims} spatial axes"
    out = []
    for s in items:
        value = float(s) if isinstance(s, numbers.Real) and not isinstance(s, bool) else math.nan
        if not math.isfinite(value) or value != int(value) or value < 1:
            return f"scale_factor {scale!r} is not an integer >= 1 on every axis (the phases would not repeat)"
        out.append(int(value))
    if all(s == 1 for s in out):
        return "scale_factor 1 does not upsample"
    return tuple(out)


def upsampling(name: str, call: tuple[str, str, dict[str, Any]], scale: object, dims: int,
               proj: nn.Module | None = None) -> Upsampling | str:
    """The :class:`Upsampling` of ``resize(x, scale_factor=scale, method=, convention=, **options)``
    (``call``) over ``dims`` axes, or the reason it cannot fold."""
    method, convention, options = call
    try:
        spec = Resampling.preset(convention, method, **options)
    except UpsampleError as error:
        return str(error)
    scales = integer_scales(scale, dims)
    if isinstance(scales, str):
        return scales
    phases = []
    for s in scales:
        found = phases_of(spec, s)
        if isinstance(found, str):
            return found
        phases.append(found)
    shown = scales[0] if len(set(scales)) == 1 else "x".join(map(str, scales))
    frozen = (method, convention, tuple(sorted(options.items())))
    return Upsampling(f"{name} x{shown}", spec, scales, tuple(phases), frozen, proj)


# ------------------------------------------------------------------------------ the conv
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass(frozen=True, eq=False)
class ConvInfo:
    """A stride-1 convolution as :func:`fold_conv` needs it (from an ``nn.ConvNd`` or the
    convolution inside a :class:`~upsamplekit.nn.ResizeConv`)."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    mode: str
    groups: int
    name: str

    @property
    def dims(self) -> int:
        return self.weight.dim() - 2


def conv_info(conv: object) -> ConvInfo | str:
    """The :class:`ConvInfo` of an ``nn.Conv1d/2d/3d`` that :func:`fold_conv` can take, or why not."""
    if not isinstance(conv, _CONVS) or type(conv).forward is not _CONVS[len(conv.kernel_size) - 1].forward:
        return f"it is followed by {type(conv).__name__}, not a plain nn.Conv1d/2d/3d"
    if any(s != 1 for s in conv.stride):
        return f"the convolution after it has stride {tuple(conv.stride)} (the fold needs stride 1)"
    if conv.padding_mode not in HR_MODES:
        return f"the convolution after it pads with {conv.padding_mode!r}"
    dims = len(conv.kernel_size)
    if isinstance(conv.padding, str):
        totals = [0 if conv.padding == "valid" else d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size)]
        pads = tuple((t // 2, t - t // 2) for t in totals)  # torch puts the odd sample after
    else:
        pads = tuple((int(p), int(p)) for p in conv.padding)
    return ConvInfo(conv.weight, conv.bias, tuple(int(d) for d in conv.dilation), pads, conv.padding_mode,
                    conv.groups, f"Conv{dims}d")


def fold_conv(up: Upsampling, conv: ConvInfo, *, cast_input: bool = False, costlier: bool = False
              ) -> FoldedConv | str:
    """``conv(up(x))`` as a :class:`FoldedConv`, or the reason it is left alone (``costlier=True``
    folds even when the folded convolution has more multiply-adds: for tests)."""
    dims = conv.dims
    if len(up.scales) != dims:
        return f"it upsamples {len(up.scales)} axes but the convolution after it has {dims}"
    axes = []
    kernel = tuple(int(k) for k in conv.weight.shape[2:])
    for s, phases, k, d, (lo, hi) in zip(up.scales, up.phases, kernel, conv.dilation, conv.padding):
        plan = AxisPlan(s, phases, k, d, lo, hi, hr_mode=conv.mode)
        extension = exact_extension(plan)
        if extension is None:  # no padding of the input is exact: recompute the border bands
            extension = BAND_EXTENSION
            plan = replace(plan, border=border_extent(replace(plan, extension=extension), extension))
        axes.append(replace(plan, extension=extension))
    float32_input = up.spec.float_output == "float32"
    selection = all(taps in ((), ((0, 1.0),)) for phases in up.phases for taps in phases)
    if float32_input and (up.proj is not None or (not selection and conv.weight.dtype != torch.float32)):
        return (f"{up.name} returns float32 (the convention's float_output) before a {conv.weight.dtype} "
                "layer: the fold would not round where the original does")
    out_channels, in_channels = conv.weight.shape[0], conv.weight.shape[1] * conv.groups
    spec = FoldSpec(dims=dims, in_channels=in_channels, out_channels=out_channels, groups=conv.groups,
                    axes=tuple(axes), cast_input=cast_input or float32_input, float32_input=float32_input,
                    resample=up.call)
    ratio = spec.macs_ratio()
    shown = "x".join(map(str, kernel))
    widths = "x".join(map(str, spec.widths))
    if ratio > 1.0 and not costlier:
        return (f"folding costs more: each phase needs a {widths} kernel on the low-resolution input, "
                f"{ratio:.2f}x the multiply-adds of the {shown} convolution")
    saving = ("as many multiply-adds, no upsampling pass" if ratio == 1.0 else
              f"{1 / ratio:.2f}x fewer multiply-adds" if ratio < 1.0 else f"{ratio:.2f}x the multiply-adds")
    borders = ", border bands recomputed" if spec.corrects_borders else ""
    description = (f"{up.name} + {conv.name} {shown} {conv.mode} -> Conv{dims}d {in_channels}->"
                   f"{out_channels * math.prod(up.scales)} {widths} on the low-resolution input, {saving}{borders}")
    return FoldedConv(replace(spec, description=description), conv.weight, conv.bias, pre=up.proj)
