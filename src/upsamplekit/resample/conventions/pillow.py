"""Pillow ``Image.resize`` (checked against Pillow 13; ``reducing_gap=None``, the default).

Sizes only: the coordinate scale is always ``out / in`` (an output length from a scale is
rounded, as ``ImageOps.scale`` does). An axis whose length does not change is not resampled,
and an image whose size does not change is copied.

* NEAREST samples pixel centres with a float64 running sum (``ImagingScaleAffine``):
  ``x = in/out * 0.5``, then ``x += in/out`` per output pixel, truncated. At an exact tie
  (``(i + 0.5) * in / out`` an integer) the sum's round-off decides: 2 -> 7 maps output 3
  to pixel 0 although the centre is exactly 1. upsamplekit repeats the same sum.
* BOX, BILINEAR, HAMMING, BICUBIC (Keys ``a = -0.5``) and LANCZOS (``a = 3``) are always
  antialiased (``precompute_coeffs``): the centre is ``(i + 0.5) * in / out``, the support
  ``R * max(in / out, 1)``, taps ``j`` from ``int(centre - support + 0.5)`` up to (not
  including) ``int(centre + support + 0.5)``, clipped to the image, weighted
  ``K((j - centre + 0.5) * (1 / max(in / out, 1)))`` and renormalised over the taps inside. The
  supports are half-open as in Pillow's C filters: BOX is 1 on ``(-0.5, 0.5]``, LANCZOS is
  non-zero on ``[-3, 3)``, the others vanish at their radius. BOX is therefore not an area
  average: a pixel counts fully when its centre lies in the output cell (3 -> 2 gives
  ``[(p0 + p1) / 2, p2]``: pixel 1's centre is the cells' shared edge). HAMMING uses the float32 constants ``0.54f`` and
  ``0.46f``. upsamplekit copies these float64 steps (``coordinate_precision='pillow'``), which
  decide whether a BOX edge pixel counts when the cell boundary falls exactly on its centre.

Each axis is a separate pass (Pillow 13 picks which goes first). 'F' images are summed in
float64 and stored as float32 after each pass. 8-bit images ('L', 'RGB') use 22-bit
fixed-point weights and round to uint8, clipping to 0..255, after each pass; upsamplekit
rounds once, so results differ by at most 1 wherever the first pass stays inside 0..255
(BICUBIC and LANCZOS overshoot on sharp edges, and their clipped first pass then differs by
more). Modes 'P' and '1' always use NEAREST; 'RGBA' and 'LA' are resampled premultiplied; an
image over 100 times taller than wide whose height shrinks is resized in two calls, height
first (which matters for 8-bit rounding only); ``reducing_gap`` (off by default) first shrinks
by an integer factor with ``Image.reduce``, which upsamplekit does not reproduce.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..fields import MethodTable, SpecFields
from ._common import GENERIC_METHODS
from .registry import convention

if TYPE_CHECKING:
    from ..spec import Resampling

__all__ = ["METHODS", "pillow_preset", "running_centres", "arithmetic_table"]

METHODS: MethodTable = {
    **{name: GENERIC_METHODS[name] for name in ("nearest", "linear", "bilinear", "cubic", "bicubic", "lanczos3",
                                                "box")},
    "lanczos": ("lanczos", {"lanczos_a": 3}),
    "hamming": ("hamming", {}),
}


@convention("pillow", options=(), methods=tuple(METHODS))
def pillow_preset(method: str, options: dict[str, Any]) -> SpecFields:
    kernel, extra = METHODS[method]
    common: SpecFields = {"coordinates": "half_pixel", "size_rounding": "round", "recompute_scale": True,
                          "coordinate_precision": "pillow"}
    if kernel == "nearest":
        return {"kernel": "nearest", "nearest_mode": "round_prefer_ceil", **common}
    return {"kernel": kernel, "cubic_a": -0.5, "antialias": True, "border": "renormalize", **common, **extra}


def running_centres(in_len: int, out_len: int) -> np.ndarray:
    """Pillow's NEAREST source pixels: the float64 running sum ``in/out * (i + 0.5)``, truncated.

    >>> running_centres(2, 7).tolist()  # output 3 sits exactly on pixel 1's edge; the sum falls short
    [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    """
    step = in_len / out_len
    steps = np.full(out_len, step)
    steps[0] = step * 0.5
    return np.trunc(np.add.accumulate(steps))


def arithmetic_table(spec: Resampling, in_len: int, out_len: int, scale: float
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """One axis's (index, weight) table as Pillow's ``ImagingResample`` builds it.

    Returns None for specs Pillow has no filter for (other kernels, coordinates or borders).

    >>> from upsamplekit import Resampling
    >>> index, weight = arithmetic_table(Resampling.preset("pillow", "box"), 3, 2, 2 / 3)
    >>> index[0].tolist(), weight[0].tolist()
    ([0, 1, 0], [0.5, 0.5, 0.0])
    """
    if spec.coordinates != "half_pixel":
        return None
    if spec.kernel == "nearest":
        if spec.nearest_mode != "round_prefer_ceil":
            return None
        index = np.clip(running_centres(in_len, out_len), 0, in_len - 1).astype(np.int64)[:, None]
        return index, np.ones(index.shape)
    filter_ = _filter(spec)
    if filter_ is None or not spec.antialias or spec.border != "renormalize":
        return None
    return _precompute_coeffs(in_len, out_len, *filter_)


def _filter(spec: Resampling) -> tuple[Callable[[np.ndarray], np.ndarray], float] | None:
    if spec.kernel == "cubic" and spec.cubic_a == -0.5:
        return _bicubic, 2.0
    if spec.kernel == "lanczos" and spec.lanczos_a == 3:
        return _lanczos, 3.0
    return _FILTERS.get(spec.kernel)


def _precompute_coeffs(in_len: int, out_len: int, kernel: Callable[[np.ndarray], np.ndarray], radius: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Resample.c's ``precompute_coeffs`` (box = (0, in)), vectorised over the output pixels."""
    scale = in_len / out_len
    filterscale = max(scale, 1.0)
    support = radius * filterscale
    taps = int(math.ceil(support)) * 2 + 1
    centre = (np.arange(out_len) + 0.5) * scale
    xmin = np.maximum(np.trunc(centre - support + 0.5), 0).astype(np.int64)
    xmax = np.minimum(np.trunc(centre + support + 0.5).astype(np.int64), in_len) - xmin
    j = xmin[:, None] + np.arange(taps)[None, :]
    inside = np.arange(taps)[None, :] < xmax[:, None]
    weight = np.where(inside, kernel((j - centre[:, None] + 0.5) * (1.0 / filterscale)), 0.0)
    total = np.cumsum(weight, axis=1)[:, -1:]  # C's left-to-right sum
    weight = np.divide(weight, total, out=np.zeros_like(weight), where=total != 0.0)
    return np.where(inside, j, xmin[:, None]).clip(0, in_len - 1), weight


def _box(x: np.ndarray) -> np.ndarray:
    return ((x > -0.5) & (x <= 0.5)).astype(np.float64)


def _bilinear(x: np.ndarray) -> np.ndarray:
    return np.maximum(1.0 - np.abs(x), 0.0)


def _hamming(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    arg = x * np.pi
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.sin(arg) / arg * (float(np.float32(0.54)) + float(np.float32(0.46)) * np.cos(arg))
    return np.where(x == 0.0, 1.0, np.where(x >= 1.0, 0.0, value))


def _bicubic(x: np.ndarray) -> np.ndarray:
    a = -0.5
    x = np.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def _sinc(x: np.ndarray) -> np.ndarray:
    arg = x * np.pi
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0.0, 1.0, np.sin(arg) / arg)


def _lanczos(x: np.ndarray) -> np.ndarray:
    return np.where((x >= -3.0) & (x < 3.0), _sinc(x) * _sinc(x / 3), 0.0)


_FILTERS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float]] = {
    "box": (_box, 0.5),
    "linear": (_bilinear, 1.0),
    "hamming": (_hamming, 1.0),
}
