"""Use PyTorch's native upsampling kernels when they compute exactly the spec.

``native_resize`` returns None when no aten kernel computes the requested spec; the
caller then applies gather tables. The aten overloads used take both the output size and
the scale, so the coordinate scale can differ from ``out / in`` as the spec requires.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from .coordinates import input_step
from .spec import Resampling

__all__ = ["native_resize"]

_aten = torch.ops.aten
_FLOATS = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
# uint8 only for nearest: aten's uint8 filters use fixed-point weights and round (and clip) between
# passes, not the round(exact result) that integer_output="round" promises.
_UINT8 = (torch.uint8,)

NativeCall = Callable[[torch.Tensor, list[int], list[float]], torch.Tensor]


def _nearest(nd: int) -> NativeCall:
    op = {1: _aten.upsample_nearest1d, 2: _aten.upsample_nearest2d, 3: _aten.upsample_nearest3d}[nd]
    return lambda x, size, scales: op(x, size, *scales)


def _nearest_exact(nd: int) -> NativeCall:
    op = {1: _aten._upsample_nearest_exact1d, 2: _aten._upsample_nearest_exact2d,
          3: _aten._upsample_nearest_exact3d}[nd]
    return lambda x, size, scales: op(x, size, *scales)


def _linear(nd: int, align_corners: bool) -> NativeCall:
    op = {1: _aten.upsample_linear1d, 2: _aten.upsample_bilinear2d, 3: _aten.upsample_trilinear3d}[nd]
    return lambda x, size, scales: op(x, size, align_corners, *scales)


def _bicubic(align_corners: bool) -> NativeCall:
    return lambda x, size, scales: _aten.upsample_bicubic2d(x, size, align_corners, *scales)


def _aa(op: Callable[..., torch.Tensor], align_corners: bool) -> NativeCall:
    return lambda x, size, scales: op(x, size, align_corners, *scales)


def _adaptive(nd: int) -> NativeCall:
    pool = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[nd]
    return lambda x, size, scales: pool(x, size)


def _select(
    spec: Resampling, nd: int, shrinks: bool, width_one: bool = False
) -> tuple[NativeCall, tuple[torch.dtype, ...]] | None:
    """The aten call computing ``spec`` on ``nd`` spatial dims, with the dtypes it accepts."""
    if nd > 3:
        return None
    kernel, coords = spec.kernel, spec.coordinates
    antialias = spec.antialias and shrinks  # widening by max(step, 1) is a no-op when enlarging
    if kernel == "nearest":
        if coords == "asymmetric" and spec.nearest_mode == "floor":
            return _nearest(nd), _FLOATS + _UINT8
        if (coords, spec.nearest_mode) in (("half_pixel", "round_prefer_ceil"), ("tf_half_pixel_for_nn", "floor")):
            return _nearest_exact(nd), _FLOATS + _UINT8
        return None
    if kernel == "adaptive_area":
        return _adaptive(nd), _FLOATS
    if kernel == "linear" and not antialias and spec.border in ("replicate", "renormalize"):
        # Linear taps fall outside only past the edge sample, where both borders give the edge.
        if coords in ("half_pixel", "align_corners"):
            return _linear(nd, coords == "align_corners"), _FLOATS
        return None
    if nd != 2:
        return None
    if kernel == "cubic" and not antialias and spec.border == "replicate" and spec.cubic_a == -0.75:
        if coords in ("half_pixel", "align_corners"):
            return _bicubic(coords == "align_corners"), _FLOATS
        return None
    aa_coords = {"half_pixel": False, "pytorch_antialias_align_corners": True}
    # The _aa kernels widen the filter whenever shrinking, and (torch 2.13) skip the height pass when
    # the output width is 1: use them only where neither changes the spec's result.
    if spec.border == "renormalize" and coords in aa_coords and (spec.antialias or not shrinks) and not width_one:
        # torch's antialias path is Pillow's filter; enlarging, it is the plain filter with dropped taps.
        if kernel == "linear":
            return _aa(_aten._upsample_bilinear2d_aa, aa_coords[coords]), (torch.float32, torch.float64)
        if kernel == "cubic" and spec.cubic_a == -0.5:
            return _aa(_aten._upsample_bicubic2d_aa, aa_coords[coords]), (torch.float32, torch.float64)
    return None


def native_resize(
    x: torch.Tensor,
    spec: Resampling,
    out_sizes: Sequence[int],
    scales: Sequence[float],
) -> torch.Tensor | None:
    """Resize the spatial dims of a channels-first ``x`` with aten, or return None.

    ``x`` is (N, C, *spatial); every spatial axis is resized.
    """
    in_sizes = x.shape[2:]
    if spec.coordinates == "tf_crop_and_resize":
        return None
    if spec.coordinate_precision in ("opencv", "pillow", "jax"):
        return None  # that framework's own arithmetic builds the tables (aten's float32 picks other ties)
    if any(i == o and s != 1.0 for i, o, s in zip(in_sizes, out_sizes, scales)):
        return None  # aten's linear kernels copy an axis whose length is unchanged, whatever its scale
    shrinks = any(
        input_step(spec.coordinates, i, o, s) > 1.0 for i, o, s in zip(in_sizes, out_sizes, scales)
    )
    chosen = _select(spec, len(in_sizes), shrinks, width_one=out_sizes[-1] == 1)
    if chosen is None:
        return None
    call, dtypes = chosen
    if x.dtype not in dtypes or x.dim() != len(in_sizes) + 2:
        return None
    if spec.coordinates == "pytorch_antialias_align_corners" or spec.kernel == "adaptive_area":
        native_scales: list[float | None] = [None] * len(scales)
    else:
        native_scales = [float(s) for s in scales]
    return call(x, list(out_sizes), native_scales)  # type: ignore[arg-type]
