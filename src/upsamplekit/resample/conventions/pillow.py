"""Pillow ``Image.resize``: always antialiased, half-pixel centres, taps outside dropped.

Filters: NEAREST (pixel centres, ``floor((i + 0.5) * in / out)``), BOX, BILINEAR,
HAMMING, BICUBIC (Keys ``a = -0.5``) and LANCZOS (``a = 3``). The filter support widens
by ``in / out`` when shrinking and weights are renormalised over the taps inside the
image. An output length from a scale is rounded (as ``ImageOps.scale`` does).
"""

from __future__ import annotations

from typing import Any

from ..spec import Resampling
from . import convention
from ._common import GENERIC_METHODS

_METHODS = {
    **{name: GENERIC_METHODS[name] for name in ("nearest", "linear", "bilinear", "cubic", "bicubic", "lanczos3",
                                                "box", "area")},
    "lanczos": ("lanczos", {"lanczos_a": 3}),
    "hamming": ("hamming", {}),
}


@convention("pillow", options=(), methods=tuple(_METHODS))
def pillow_preset(method: str, options: dict[str, Any]) -> Resampling:
    kernel, extra = _METHODS[method]
    common: dict[str, Any] = {"coordinates": "half_pixel", "size_rounding": "round", "recompute_scale": True}
    if kernel == "nearest":
        return Resampling(kernel="nearest", nearest_mode="round_prefer_ceil", **common)
    if kernel == "area":
        return Resampling(kernel="area", border="renormalize", **common)
    return Resampling(kernel=kernel, cubic_a=-0.5, antialias=True, border="renormalize",  # type: ignore[arg-type]
                      **common, **extra)
