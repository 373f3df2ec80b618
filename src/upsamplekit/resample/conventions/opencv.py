"""OpenCV ``cv2.resize``.

INTER_NEAREST (``nearest``) is asymmetric floor: ``floor(i * in / out)``;
INTER_NEAREST_EXACT (``nearest-exact``) samples pixel centres. INTER_LINEAR, INTER_CUBIC
(Keys ``a = -0.75``) and INTER_LANCZOS4 (``lanczos4``, 8 taps, normalised) use half-pixel
centres with edge replication and never antialias. INTER_AREA averages the exact
overlap of each output cell, shrinking or enlarging. With ``fx``/``fy`` the output
length is ``round(in * f)`` and the coordinates use ``f`` itself.
"""

from __future__ import annotations

from typing import Any

from ..spec import Resampling
from . import convention
from ._common import GENERIC_METHODS

_METHODS = {
    **{name: GENERIC_METHODS[name] for name in ("nearest", "linear", "bilinear", "cubic", "bicubic", "area",
                                                "lanczos4")},
    "nearest-exact": ("nearest", {}),
}


@convention("opencv", options=(), methods=tuple(_METHODS))
def opencv_preset(method: str, options: dict[str, Any]) -> Resampling:
    kernel, extra = _METHODS[method]
    common: dict[str, Any] = {"size_rounding": "round"}
    if method == "nearest":
        return Resampling(kernel="nearest", coordinates="asymmetric", nearest_mode="floor", **common)
    if method == "nearest-exact":
        return Resampling(kernel="nearest", coordinates="half_pixel", nearest_mode="round_prefer_ceil", **common)
    if kernel == "area":
        return Resampling(kernel="area", coordinates="half_pixel", border="replicate", **common)
    return Resampling(kernel=kernel, coordinates="half_pixel", cubic_a=-0.75, border="replicate",  # type: ignore[arg-type]
                      **common, **extra)
