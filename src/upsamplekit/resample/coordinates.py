"""Where each output sample lands in input coordinates, and how long the output is.

All positions are in input pixel-index units: input pixel ``j`` is centred at ``j``.
Computed in float64 with NumPy; tables built from them are cached.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import InvalidArgumentError

__all__ = ["source_positions", "input_step", "output_length", "axis_plan"]


def source_positions(
    mode: str,
    in_len: int,
    out_len: int,
    scale: float,
    roi: tuple[float, float] | None = None,
    precision: str = "float64",
) -> np.ndarray:
    """Input coordinate of every output sample along one axis (float64, length ``out_len``).

    ``scale`` is the output/input scale used by the mapping: the user's scale factor when
    one was given and not recomputed, else ``out_len / in_len``. ``precision="float32"``
    computes the position as TensorFlow's kernels do (see :func:`_float32_positions`).

    >>> source_positions("half_pixel", 2, 4, 2.0).tolist()
    [-0.25, 0.25, 0.75, 1.25]
    >>> source_positions("align_corners", 2, 4, 2.0).tolist()
    [0.0, 0.3333333333333333, 0.6666666666666666, 1.0]
    >>> source_positions("asymmetric", 5, 7, 1.5).tolist()[-1]
    4.0
    """
    if precision == "float32":
        return _float32_positions(mode, in_len, out_len, scale)
    i = np.arange(out_len, dtype=np.float64)
    if mode == "half_pixel":
        return (i + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (i + 0.5) / scale - 0.5 if out_len > 1 else np.zeros(1)
    if mode == "align_corners":
        if out_len == 1:
            return np.zeros(1)
        # Multiply first: an exact integer divided once is exact wherever the position is a pixel.
        return i * (in_len - 1) / (out_len - 1)
    if mode == "asymmetric":
        return i / scale
    if mode == "half_pixel_symmetric":
        adjustment = out_len / (scale * in_len)
        center = in_len / 2
        return center * (1 - adjustment) + (i + 0.5) / scale - 0.5
    if mode == "tf_half_pixel_for_nn":
        return (i + 0.5) / scale
    if mode == "tf_crop_and_resize":
        start, end = roi if roi is not None else (0.0, 1.0)
        if out_len == 1:
            return np.full(1, 0.5 * (start + end) * (in_len - 1))
        return start * (in_len - 1) + i * (end - start) * (in_len - 1) / (out_len - 1)
    if mode == "pytorch_antialias_align_corners":
        step = (in_len - 1) / (out_len - 1) if out_len > 1 else 0.0
        return (i + 0.5) * step - 0.5
    if mode == "opencv_area":
        # OpenCV's INTER_AREA when a call enlarges: cell [i/s, (i+1)/s) starts in pixel floor(i/s);
        # the fraction of the cell past that pixel's right edge is the linear weight of the next one.
        first = np.floor(i / scale)
        past = (i + 1) - (first + 1) * scale
        return first + np.where(past <= 0, 0.0, past - np.floor(past))
    raise InvalidArgumentError(f"unknown coordinate mode {mode!r}")


def _float32_positions(mode: str, in_len: int, out_len: int, scale: float) -> np.ndarray:
    """TensorFlow's float32 position arithmetic, each operation rounded to float32.

    Nearest (``resize_nearest_neighbor``): ``(float(i) + 0.5f) * s`` (half-pixel) or
    ``float(i) * s`` with ``s = float32(in / out)``, or ``s = float32(in - 1) / float32(out - 1)``
    for ``align_corners``. Half-pixel filters (``scale_and_translate``): the sample point
    ``(i + 0.5f) * float32(1.0 / float32(out / in))``, returned minus 0.5 (exactly, in float64),
    so ``x + 0.5`` recovers TF's float32 sample point.

    >>> float(_float32_positions("tf_half_pixel_for_nn", 2, 41, 41 / 2)[20])  # exactly 1 in real numbers
    0.9999999403953552
    """
    f32 = np.float32
    i = np.arange(out_len, dtype=f32)
    if mode == "align_corners":
        if out_len == 1:
            return np.zeros(1)
        return (i * (f32(in_len - 1) / f32(out_len - 1))).astype(np.float64)
    if mode == "half_pixel":
        inverse = f32(1.0 / float(f32(scale)))
        return ((i + f32(0.5)) * inverse).astype(np.float64) - 0.5
    step = f32(1.0 / scale)
    if mode == "tf_half_pixel_for_nn":
        return ((i + f32(0.5)) * step).astype(np.float64)
    if mode == "asymmetric":
        return (i * step).astype(np.float64)
    raise InvalidArgumentError(f"coordinate mode {mode!r} has no float32 form")


def input_step(mode: str, in_len: int, out_len: int, scale: float) -> float:
    """How many input pixels one output pixel spans: the antialias widening factor source.

    >>> input_step("half_pixel", 10, 5, 0.5)
    2.0
    """
    if mode == "pytorch_antialias_align_corners":
        return (in_len - 1) / (out_len - 1) if out_len > 1 else 0.0
    return 1.0 / scale


def output_length(in_len: int, scale: float, rounding: str) -> int:
    """Output length for a scale factor under a rounding rule.

    >>> output_length(88, 120 / 88, "floor"), output_length(5, 1.5, "round"), output_length(5, 1.5, "ceil")
    (119, 8, 8)
    """
    value = in_len * scale
    if rounding == "floor":
        return int(math.floor(value))
    if rounding == "ceil":
        return int(math.ceil(value))
    if rounding == "round":
        return int(round(value))
    if rounding == "round_half_up":
        return int(math.floor(value + 0.5))
    raise InvalidArgumentError(f"unknown size rounding {rounding!r}")


def axis_plan(
    in_sizes: Sequence[int],
    size: Sequence[int] | None,
    scale_factor: Sequence[float] | None,
    *,
    rounding: str,
    recompute_scale: bool,
    keep_aspect_ratio_policy: str = "stretch",
) -> tuple[list[int], list[float]]:
    """Output lengths and the coordinate scale of each resized axis.

    Exactly one of ``size`` and ``scale_factor`` is given (validated by the caller).

    >>> axis_plan([5], None, [1.5], rounding="floor", recompute_scale=False)
    ([7], [1.5])
    >>> axis_plan([5], None, [1.5], rounding="floor", recompute_scale=True)
    ([7], [1.4])
    >>> axis_plan([4, 8], [6, 6], None, rounding="floor", recompute_scale=False,
    ...           keep_aspect_ratio_policy="not_larger")
    ([3, 6], [0.75, 0.75])
    """
    if size is not None:
        if keep_aspect_ratio_policy == "stretch":
            return list(size), [o / i for o, i in zip(size, in_sizes)]
        ratios = [o / i for o, i in zip(size, in_sizes)]
        common = min(ratios) if keep_aspect_ratio_policy == "not_larger" else max(ratios)
        outs = [int(math.floor(common * i + 0.5)) for i in in_sizes]
        return outs, [common] * len(in_sizes)
    assert scale_factor is not None  # guaranteed by the caller's validation
    outs = [output_length(i, s, rounding) for i, s in zip(in_sizes, scale_factor)]
    if recompute_scale:
        return outs, [o / i for o, i in zip(outs, in_sizes)]
    return outs, [float(s) for s in scale_factor]
