"""JAX ``jax.image.resize``: any number of dimensions, half-pixel centres.

nearest samples ``floor((i + 0.5) * in / out)``; linear, cubic (``a = -0.5``) and
lanczos3/5 go through ``scale_and_translate``: taps outside the input are dropped and
the rest renormalised, and with ``antialias=True`` (the default) the filter widens when
shrinking. ``cubic-pytorch`` is Keys ``a = -0.75`` with edge replication; ``area`` is
the exact-overlap average. Integer inputs come back as float32.
"""

from __future__ import annotations

from typing import Any

from ..spec import Resampling
from . import convention
from ._common import GENERIC_METHODS, flag, not_for

_METHODS = {
    name: GENERIC_METHODS[name]
    for name in ("nearest", "linear", "bilinear", "trilinear", "cubic", "bicubic", "tricubic", "lanczos3",
                 "lanczos5", "area")
}
_METHODS["cubic-pytorch"] = ("cubic", {"cubic_a": -0.75})


@convention("jax", options=("antialias",), methods=tuple(_METHODS))
def jax_preset(method: str, options: dict[str, Any]) -> Resampling:
    kernel, extra = _METHODS[method]
    if kernel in ("nearest", "area"):
        if options.get("antialias"):
            raise not_for("antialias", True, method, "jax applies antialias to filter kernels only")
        options.pop("antialias", None)
        if kernel == "nearest":
            return Resampling(kernel="nearest", coordinates="half_pixel", nearest_mode="round_prefer_ceil",
                              recompute_scale=True)
        return Resampling(kernel="area", coordinates="half_pixel", border="renormalize", recompute_scale=True,
                          integer_output="float32")
    antialias = flag(options, "antialias", True)
    if method == "cubic-pytorch":
        return Resampling(kernel="cubic", coordinates="half_pixel", antialias=antialias, border="replicate",
                          recompute_scale=True, integer_output="float32", **extra)
    return Resampling(kernel=kernel, coordinates="half_pixel", cubic_a=-0.5, antialias=antialias,  # type: ignore[arg-type]
                      border="renormalize", recompute_scale=True, integer_output="float32", **extra)
