"""PyTorch ``F.interpolate`` / ``nn.Upsample`` (checked against torch 2.13 on CPU).

* ``nearest`` is the legacy, shifted mode: ``floor(i * s)`` with ``s = in / out`` (ONNX
  asymmetric + floor). ``nearest-exact`` samples pixel centres: ``floor((i + 0.5) * s)``.
  aten computes ``s`` and the position in float32 (``s = float(in) / out``, or
  ``float(1 / scale_factor)``), so where ``i * in / out`` is an integer the float32 product
  can fall just below it: 2 -> 82 maps output 41 to pixel 0, not 1. Which float steps depends
  on the kernel aten picks: float64 tensors are indexed in float64 by its generic kernel
  (pixel 1 above); its channels-last kernel (2-D outputs with ``H + W <= 128``, channels-last
  inputs with ``C > 3``) rounds ``(i + 0.5) * s`` to float32 where the generic kernel rounds
  ``(i + 0.5) * s - 0.5`` once (a fused multiply-add), so 2 -> 41 maps output 20 to pixel 0
  there and to pixel 1 in the generic kernel; and the channels-last kernel copies an axis whose
  length is unchanged and maps ``out == 2 * in`` to ``i // 2``, whatever ``scale_factor`` says.
  The gather tables repeat the generic kernel's float32 steps; the native path calls aten
  itself, so it returns F.interpolate's result for the same tensor and layout.
* linear and cubic: half-pixel centres (or ``align_corners``), cubic ``a = -0.75``; linear
  clamps positions below 0 to 0, cubic clamps its tap indices (edge replicate). With
  ``antialias=True`` torch switches to Pillow's filter (``a = -0.5``, taps outside dropped
  and renormalised; also when enlarging) and, with ``align_corners``, keeps half-pixel
  centres but changes the scale to ``(in-1)/(out-1)``, so corners are not kept.
* An axis whose length does not change is copied, whatever ``scale_factor`` says, by the
  linear and antialiased kernels (4 samples at ``scale_factor=1.2`` stay a copy); cubic
  without antialias applies the scale.
* ``area`` is adaptive average pooling (windows ``[floor(i*in/out), ceil((i+1)*in/out))``).
* Output length ``floor(in * scale)``; the coordinates use the given scale unless
  ``recompute_scale_factor=True``.
* dtypes: uint8 works for nearest (1-3-D), bilinear, bicubic and antialiased 2-D, with int16
  fixed-point weights, rounded and clamped to [0, 255] after each pass (bicubic overshoot
  saturates between passes, so results can differ from the rounded exact result by tens);
  upsamplekit calls those kernels (on CPU). float16 and bfloat16 work for every mode but
  antialias, with weights stored in that dtype. Elsewhere (uint8 1-D/3-D linear and area,
  other integer dtypes, 4-D and 5-D inputs) upsamplekit computes the exact result (rounded
  and saturated for integers; nearest copies any dtype).
* Two torch 2.13 bugs are not repeated. Its separable channels-first kernels (every antialiased
  call; uint8 bilinear and bicubic with C > 4, or without AVX2) give every output row the first
  row's value when the output width is 1; and its AVX2 uint8 kernel fails an internal assert
  for C == 3 and a 1 x 1 output. upsamplekit runs such calls as torch's two passes, one at a
  time (see ``_width_one`` in :mod:`upsamplekit.resample.fast`), which is what torch's
  channels-last kernel returns.

Methods torch does not have (lanczos, box) are computed in torch's style.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..fields import CoordinateMode, MethodTable, SpecFields
from ._common import FILTER_KERNELS, GENERIC_METHODS, flag, not_for
from .registry import convention

if TYPE_CHECKING:
    from ..spec import Resampling

__all__ = ["METHODS", "torch_preset", "arithmetic_table"]

METHODS: MethodTable = {**GENERIC_METHODS, "nearest-exact": ("nearest", {}), "area": ("adaptive_area", {})}
_F32 = np.float32


@convention(
    "torch",
    options=("antialias", "align_corners", "recompute_scale_factor"),
    methods=tuple(METHODS),
)
def torch_preset(method: str, options: dict[str, Any]) -> SpecFields:
    kernel, extra = METHODS[method]
    if kernel not in FILTER_KERNELS:
        if options.get("align_corners") is not None:
            raise not_for("align_corners", options["align_corners"], method,
                          "torch accepts align_corners only for linear and cubic filters (leave it None)")
        if options.get("antialias"):
            raise not_for("antialias", True, method, "torch antialiases only linear and cubic filters")
    antialias = flag(options, "antialias", False)
    align_corners = flag(options, "align_corners", False)
    recompute = flag(options, "recompute_scale_factor", False)
    common: SpecFields = {"recompute_scale": recompute, "coordinate_precision": "torch", **extra}
    if kernel == "nearest":
        if method == "nearest-exact":
            return {"kernel": "nearest", "coordinates": "half_pixel", "nearest_mode": "round_prefer_ceil", **common}
        return {"kernel": "nearest", "coordinates": "asymmetric", "nearest_mode": "floor", **common}
    if kernel == "adaptive_area":
        return {"kernel": "adaptive_area", "coordinates": "half_pixel", **common}
    coordinates: CoordinateMode
    if align_corners and antialias:
        coordinates = "pytorch_antialias_align_corners"
    elif align_corners:
        coordinates = "align_corners"
    else:
        coordinates = "half_pixel"
    return {
        "kernel": kernel,
        "coordinates": coordinates,
        "cubic_a": -0.5 if antialias else -0.75,
        "antialias": antialias,
        "border": "renormalize" if antialias else "replicate",
        **common,
    }


# ------------------------------------------------------------------------ the tables
def arithmetic_table(spec: Resampling, in_len: int, out_len: int, scale: float
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """One axis's (index, weight) table where aten departs from the float64 formulas, else None.

    >>> from upsamplekit import Resampling
    >>> index, _ = arithmetic_table(Resampling.preset("torch", "nearest"), 2, 82, 41.0)
    >>> int(index[41, 0])  # 41 * float32(2 / 82) = 0.99999994
    0
    >>> index, weight = arithmetic_table(Resampling.preset("torch", "linear"), 4, 4, 1.2)
    >>> index[:, 0].tolist(), weight[:, 0].tolist()  # an unchanged length is copied
    ([0, 1, 2, 3], [1.0, 1.0, 1.0, 1.0])
    """
    if spec.kernel == "nearest" and (spec.coordinates, spec.nearest_mode) in _NEAREST:
        index = np.minimum(_NEAREST[spec.coordinates, spec.nearest_mode](in_len, out_len, scale), in_len - 1)
    elif in_len == out_len and (spec.kernel == "linear" or spec.antialias and spec.kernel == "cubic"):
        index = np.arange(out_len)
    else:
        return None
    index = index.astype(np.int64)[:, None]
    return index, np.ones(index.shape)


def _inverse_scale(in_len: int, out_len: int, scale: float) -> np.float32:
    """aten's ``compute_scales_value<float>``: ``float(1 / scale)``, or ``float(in) / out`` from sizes."""
    if scale == out_len / in_len:
        return _F32(in_len) / _F32(out_len)
    return _F32(1.0 / scale)


def _nearest_floor(in_len: int, out_len: int, scale: float) -> np.ndarray:
    """``floorf(float(i) * s)``: one float32 product."""
    return np.floor(np.arange(out_len, dtype=_F32) * _inverse_scale(in_len, out_len, scale))


def _nearest_exact(in_len: int, out_len: int, scale: float) -> np.ndarray:
    """``floorf(float(max(s * (i + 0.5f) - 0.5f, 0)) + 0.5)``, the product and difference fused
    (one rounding, as the compiler contracts them into an FMA); the sum rounded to float32."""
    s = np.float64(_inverse_scale(in_len, out_len, scale))
    position = ((np.arange(out_len) + 0.5) * s - 0.5).astype(_F32)  # exact in float64, then rounded
    position = np.maximum(position, _F32(0))
    return np.floor((position.astype(np.float64) + 0.5).astype(_F32))


_NEAREST = {("asymmetric", "floor"): _nearest_floor, ("half_pixel", "round_prefer_ceil"): _nearest_exact}
