"""OpenCV ``cv2.resize`` (checked against opencv-python 5.0; 2-D HW or HWC images).

Output size: ``dsize`` as given, or ``round(in * f)`` for ``fx``/``fy`` (``cvRound``: ties to
even, so 5 * 0.5 gives 2 and 7 * 0.5 gives 4). The coordinates then use ``f`` itself, not
``out / in`` (``scale_factor=`` here; ``size=`` uses ``out / in``). An image whose size does
not change is copied unchanged, whatever ``f`` is.

Methods (every one edge-replicates, none antialiases):

* ``nearest`` (INTER_NEAREST): ``floor(i * (1 / s))`` in float64. Where ``i * in / out`` is an
  integer the product can round just below it and pick the pixel before (6 -> 34 maps output
  17 to pixel 2, not 3); this is reproduced.
* ``nearest-exact`` (INTER_NEAREST_EXACT): pixel centres, computed from the sizes only (``fx``
  does not enter), with exactly Pillow's NEAREST picks: a float64 running sum
  ``in/out * (i + 0.5)``, truncated. Exact ties (``(i + 0.5) * in / out`` an integer) go either
  way with the sum's round-off (2 -> 7 maps output 3 to pixel 0), and this is reproduced. The
  16-bit fixed-point ``resizeNN_bitexact`` of OpenCV 4.x's source drifted by a pixel on large
  factors (opencv issues 22204, 27191); 5.0 does not (checked up to 100003 -> 7 and 7 -> 100003).
* ``linear``, ``cubic`` (Keys ``a = -0.75``), ``lanczos4`` (8 taps, normalised to sum 1):
  half-pixel centres ``(i + 0.5) / s - 0.5``, computed in float64 and rounded to float32, and
  float32 coefficients (so float64 images carry float32 weights too). The pip wheels hand
  float32 LINEAR/CUBIC/LANCZOS4 and float64 LINEAR to Intel IPP, whose own float32 positions
  move results by up to ~2**-22 times the longest axis; upsamplekit follows OpenCV's own code
  (what ``cv2.ipp.setUseIPP(False)`` runs), to float32 round-off.
* ``area`` (INTER_AREA): when no axis grows, the exact overlap of each output cell
  ``[i / s, (i + 1) / s)`` with the pixels (the last cell measured up to the image edge), in
  float32 weights, except that a partial pixel overlapping a cell by at most 1e-3 of a pixel
  is dropped, and the weights then sum to up to 1e-3 less than 1 (1003 -> 1002, say).
  When any axis grows, every axis uses OpenCV's enlarging rule instead (``coordinates=
  'opencv_area'``): linear taps at ``floor(i / s)`` with the fraction of the output cell past
  that pixel's edge as the weight of the next one. On a growing axis this is the exact overlap;
  on a shrinking axis of such a call it is not an average at all (10 -> 4 weighs pixels 0 and 1
  by 0.4 and 0.6).

uint8 images use 11-bit fixed-point weights (INTER_RESIZE_COEF_BITS) and round once at the
end: upsamplekit, which rounds the exact result, is within 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..fields import MethodTable, SpecFields
from ._common import GENERIC_METHODS
from .pillow import running_centres
from .registry import convention

if TYPE_CHECKING:
    from ..spec import Resampling

__all__ = ["METHODS", "opencv_preset", "call_rules", "arithmetic_table"]

METHODS: MethodTable = {
    **{name: GENERIC_METHODS[name] for name in ("nearest", "linear", "bilinear", "cubic", "bicubic", "area",
                                                "lanczos4")},
    "nearest-exact": ("nearest", {}),
}
_F32 = np.float32


@convention("opencv", options=(), methods=tuple(METHODS))
def opencv_preset(method: str, options: dict[str, Any]) -> SpecFields:
    kernel, extra = METHODS[method]
    common: SpecFields = {"size_rounding": "round", "coordinate_precision": "opencv"}
    if method == "nearest":
        return {"kernel": "nearest", "coordinates": "asymmetric", "nearest_mode": "floor", **common}
    if method == "nearest-exact":  # from the sizes only: fx does not enter
        return {"kernel": "nearest", "coordinates": "half_pixel", "nearest_mode": "round_prefer_ceil",
                "recompute_scale": True, **common}
    if kernel == "area":
        return {"kernel": "area", "coordinates": "half_pixel", "border": "replicate", **common}
    return {"kernel": kernel, "coordinates": "half_pixel", "cubic_a": -0.75, "border": "replicate", **common,
            **extra}


# ------------------------------------------------------------------ whole-image rules
def call_rules(
    spec: Resampling, in_sizes: list[int], out_sizes: list[int], scales: list[float]
) -> tuple[Resampling, list[float]]:
    """cv::resize's decisions that look at every axis at once.

    >>> from upsamplekit import Resampling
    >>> spec = Resampling.preset("opencv", "area")
    >>> call_rules(spec, [10, 10], [4, 20], [0.4, 2.0])[0].coordinates
    'opencv_area'
    >>> call_rules(spec, [10, 10], [10, 10], [1.04, 1.04])[1]
    [1.0, 1.0]
    """
    if list(out_sizes) == list(in_sizes):
        return spec, [1.0] * len(scales)  # cv::resize copies an image whose size is unchanged
    if spec.kernel == "area" and any(1.0 / s < 1.0 for s in scales):
        # "true area" only when no axis grows; otherwise the enlarging formula on every axis
        return spec.replace(kernel="linear", coordinates="opencv_area"), scales
    return spec, scales


# ------------------------------------------------------------------------ the tables
def arithmetic_table(spec: Resampling, in_len: int, out_len: int, scale: float
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """One axis's (index, weight) table as cv::resize computes it, or None outside its methods.

    ``scale`` is OpenCV's ``inv_scale`` (``out / in``, or ``fx``); its ``scale_x`` is ``1 / scale``.

    >>> from upsamplekit import Resampling
    >>> index, weight = arithmetic_table(Resampling.preset("opencv", "nearest"), 6, 34, 34 / 6)
    >>> int(index[17, 0])  # 17 * (1 / (34 / 6)) = 2.9999999999999996
    2
    """
    if spec.kernel == "nearest":
        rule = (spec.coordinates, spec.nearest_mode)
        if rule == ("asymmetric", "floor"):  # INTER_NEAREST
            src = np.floor(np.arange(out_len) * (1.0 / scale))
        elif rule == ("half_pixel", "round_prefer_ceil"):  # INTER_NEAREST_EXACT
            src = running_centres(in_len, out_len)
        else:
            return None
        index = np.clip(src, 0, in_len - 1).astype(np.int64)[:, None]
        return index, np.ones(index.shape)
    if spec.kernel == "area" and spec.coordinates == "half_pixel":
        return _area_table(in_len, out_len, 1.0 / scale)
    if spec.kernel == "linear" and spec.coordinates == "opencv_area":
        first, fraction = _area_linear_positions(in_len, out_len, scale)
        return _taps(first, _linear_weights(fraction), in_len)
    if spec.coordinates == "half_pixel" and spec.kernel in _COEFFICIENTS and not spec.antialias:
        if spec.kernel == "cubic" and spec.cubic_a != -0.75 or spec.kernel == "lanczos" and spec.lanczos_a != 4:
            return None
        first, fraction = _half_pixel_positions(in_len, out_len, scale, clamp=spec.kernel == "linear")
        weights, offset = _COEFFICIENTS[spec.kernel](fraction)
        return _taps(first - offset, weights, in_len)
    return None


def _half_pixel_positions(in_len: int, out_len: int, scale: float, clamp: bool) -> tuple[np.ndarray, np.ndarray]:
    """``fx = (float)((dx + 0.5) * scale_x - 0.5)``, split into ``floor`` and float32 fraction."""
    position = ((np.arange(out_len) + 0.5) * (1.0 / scale) - 0.5).astype(_F32)
    first = np.floor(position)
    fraction = (position - first).astype(_F32)
    first = first.astype(np.int64)
    if clamp:  # INTER_LINEAR only: before the first pixel or past the last, weight the edge alone
        outside = (first < 0) | (first >= in_len - 1)
        fraction = np.where(outside, _F32(0), fraction)
        first = np.clip(first, 0, in_len - 1)
    return first, fraction


def _area_linear_positions(in_len: int, out_len: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """INTER_AREA when a call enlarges: ``sx = floor(dx * scale_x)``, ``fx = (dx+1) - (sx+1) * inv_scale``."""
    i = np.arange(out_len)
    first = np.floor(i * (1.0 / scale))
    past = ((i + 1) - (first + 1) * scale).astype(_F32)
    fraction = np.where(past <= 0, _F32(0), (past - np.floor(past)).astype(_F32))
    first = first.astype(np.int64)
    last = first >= in_len - 1
    return np.where(last, in_len - 1, first), np.where(last, _F32(0), fraction).astype(_F32)


def _linear_weights(fraction: np.ndarray) -> np.ndarray:
    return np.stack([_F32(1) - fraction, fraction], axis=1)


def _cubic_weights(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``interpolateCubic`` in float32: taps ``sx - 1 .. sx + 2``."""
    a, one = _F32(-0.75), _F32(1)
    x1, y = x + one, one - x
    c0 = ((a * x1 - _F32(5) * a) * x1 + _F32(8) * a) * x1 - _F32(4) * a
    c1 = ((a + _F32(2)) * x - (a + _F32(3))) * x * x + one
    c2 = ((a + _F32(2)) * y - (a + _F32(3))) * y * y + one
    c3 = one - c0 - c1 - c2
    return np.stack([c0, c1, c2, c3], axis=1), 1


_S45 = 0.70710678118654752440084436210485
_LANCZOS_CS = np.array([[1, 0], [-_S45, -_S45], [0, 1], [_S45, -_S45], [-1, 0], [_S45, _S45], [0, -1], [-_S45, _S45]])


def _lanczos4_weights(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``interpolateLanczos4``: float64 trigonometry, float32 coefficients and sum; taps ``sx - 3 .. sx + 4``."""
    y0 = -(x + _F32(3)).astype(np.float64) * np.pi * 0.25
    s0, c0 = np.sin(y0), np.cos(y0)
    coeffs = np.empty((x.size, 8), dtype=_F32)
    total = np.zeros(x.size, dtype=_F32)
    for k in range(8):
        offset = x + _F32(3) - _F32(k)
        y = -offset.astype(np.float64) * np.pi * 0.25
        with np.errstate(divide="ignore", invalid="ignore"):
            value = ((_LANCZOS_CS[k, 0] * s0 + _LANCZOS_CS[k, 1] * c0) / (y * y)).astype(_F32)
        coeffs[:, k] = np.where(np.abs(offset) >= _F32(1e-6), value, _F32(1e30))
        total = (total + coeffs[:, k]).astype(_F32)
    return coeffs * (_F32(1) / total)[:, None], 3


_COEFFICIENTS = {
    "linear": lambda x: (_linear_weights(x), 0),
    "cubic": _cubic_weights,
    "lanczos": _lanczos4_weights,
}


def _taps(first: np.ndarray, weights: np.ndarray, in_len: int) -> tuple[np.ndarray, np.ndarray]:
    index = first[:, None] + np.arange(weights.shape[1])[None, :]
    return np.clip(index, 0, in_len - 1).astype(np.int64), weights.astype(np.float64)


def _area_table(in_len: int, out_len: int, step: float) -> tuple[np.ndarray, np.ndarray]:
    """``computeResizeAreaTab``: cell ``[dx * step, dx * step + step)``, float32 weights.

    A partial pixel at either end of a cell enters only when it covers more than 1e-3 of a
    pixel, and the last cell is measured up to the image's edge (``cellWidth``).
    """
    rows: list[list[tuple[int, float]]] = []
    for dx in range(out_len):
        low = dx * step
        high = low + step
        width = min(step, in_len - low)
        sx2 = min(int(np.floor(high)), in_len - 1)
        sx1 = min(int(np.ceil(low)), sx2)
        row = []
        if sx1 - low > 1e-3:
            row.append((sx1 - 1, float(_F32((sx1 - low) / width))))
        row.extend((sx, float(_F32(1.0 / width))) for sx in range(sx1, sx2))
        if high - sx2 > 1e-3:
            row.append((sx2, float(_F32(min(min(high - sx2, 1.0), width) / width))))
        rows.append(row)
    taps = max(len(row) for row in rows)
    index = np.zeros((out_len, taps), dtype=np.int64)
    weight = np.zeros((out_len, taps))
    for dx, row in enumerate(rows):
        for t, (sx, w) in enumerate(row):
            index[dx, t], weight[dx, t] = sx, w
        index[dx, len(row):] = row[0][0] if row else 0
    return index, weight
