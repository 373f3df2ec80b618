"""JAX ``jax.image.resize`` (checked against jax 0.10.2 on CPU): any number of dimensions.

JAX resizes every axis whose length changes, with the scale ``out / in`` (sizes only) and
half-pixel centres; an axis whose length is unchanged is left alone.

* ``nearest``: ``floor((i + 0.5) * in / out)``, in float32: JAX writes
  ``(i + 0.5f) * in / out`` and XLA (CPU) folds it into ``(i + 0.5f) * c`` with the float32
  constant ``c = float32(in) * (1.0f / out)``. Exact ties (the centre ``(i + 0.5) * in / out``
  an integer) then fall either way with the constant's round-off (2 -> 41 maps output 20, whose
  centre is exactly pixel 1's edge, to pixel 0), and on large images (12345 -> 23456) other
  products land across an integer too. upsamplekit repeats these float32 steps
  (``coordinate_precision='jax'``). Returns the input dtype.
* ``linear``, ``cubic`` (Keys ``a = -0.5``), ``lanczos3``, ``lanczos5`` go through
  ``scale_and_translate``: taps outside the input are dropped and the rest renormalised; with
  ``antialias=True`` (the default) the kernel widens by ``in / out`` when shrinking.
* ``cubic-pytorch``: with ``antialias=False``, Keys ``a = -0.75`` with the edge replicated
  (torch's bicubic); with ``antialias=True`` (the default!) JAX replaces it by plain ``cubic``
  (``a = -0.5``, dropped taps), enlarging or not.
* ``area``: the exact overlap of each output cell with the input pixels, renormalised.
* ``nearest`` and ``area`` ignore ``antialias`` (both values are accepted, as in JAX).

Everything but ``nearest`` promotes integer images to float32 and computes in float32 (weights
included), so results agree with upsamplekit's float64 weights to float32 round-off (about
``1e-6`` for values in [0, 1)). With ``jax_enable_x64`` off (the default), JAX also turns
float64 images into float32; upsamplekit keeps float64. float16 and bfloat16 images stay in
their dtype in both, but JAX computes in it (weights included) while upsamplekit computes in
float32 and rounds once, so they differ by about one unit of the 16-bit format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..fields import MethodTable, SpecFields
from ._common import GENERIC_METHODS, flag
from .registry import convention

if TYPE_CHECKING:
    from ..spec import Resampling

__all__ = ["METHODS", "jax_preset", "arithmetic_table"]

METHODS: MethodTable = {
    name: GENERIC_METHODS[name]
    for name in ("nearest", "linear", "bilinear", "trilinear", "cubic", "bicubic", "tricubic", "lanczos3",
                 "lanczos5", "area")
}
METHODS["triangle"] = GENERIC_METHODS["linear"]
METHODS["cubic-pytorch"] = ("cubic", {"cubic_a": -0.75})
METHODS["bicubic-pytorch"] = ("cubic", {"cubic_a": -0.75})

_COMMON: SpecFields = {"coordinates": "half_pixel", "recompute_scale": True, "coordinate_precision": "jax"}


@convention("jax", options=("antialias",), methods=tuple(METHODS))
def jax_preset(method: str, options: dict[str, Any]) -> SpecFields:
    kernel, extra = METHODS[method]
    antialias = flag(options, "antialias", True)
    if kernel == "nearest":  # antialias is ignored, as in JAX
        return {"kernel": "nearest", "nearest_mode": "round_prefer_ceil", **_COMMON}
    if kernel == "area":
        return {"kernel": "area", "border": "renormalize", "integer_output": "float32", **_COMMON}
    if method.endswith("cubic-pytorch") and not antialias:
        return {"kernel": "cubic", "cubic_a": -0.75, "border": "replicate", "integer_output": "float32", **_COMMON}
    if method.endswith("cubic-pytorch"):
        extra = {}  # JAX swaps in its plain cubic (a = -0.5) whenever antialias is on
    return {"kernel": kernel, "cubic_a": -0.5, "antialias": antialias, "border": "renormalize",
            "integer_output": "float32", **_COMMON, **extra}


def arithmetic_table(spec: Resampling, in_len: int, out_len: int, scale: float
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """JAX's float32 nearest indices; None (the float64 formulas) for every filter.

    >>> from upsamplekit import Resampling
    >>> arithmetic_table(Resampling.preset("jax", "nearest"), 3, 4, 4 / 3)[0][:, 0].tolist()
    [0, 1, 1, 2]
    """
    if spec.kernel != "nearest" or spec.coordinates != "half_pixel" or spec.nearest_mode != "round_prefer_ceil":
        return None
    f32 = np.float32
    step = f32(in_len) * (f32(1) / f32(out_len))  # XLA folds "* in / out" into this float32 constant
    offsets = (np.arange(out_len, dtype=f32) + f32(0.5)) * step
    index = np.clip(np.floor(offsets), 0, in_len - 1).astype(np.int64)[:, None]
    return index, np.ones(index.shape)
