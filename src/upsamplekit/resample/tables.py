"""Per-axis (index, weight) tables: the whole of a separable resize along one axis.

Output sample ``i`` along an axis is ``sum_t weight[i, t] * x[index[i, t]]``. Tables are
built once in float64 from a spec and the axis lengths, cached, and applied by
:mod:`upsamplekit.resample.apply`. Their transpose (also a gather table) is the exact
backward pass, so gradients are computed by gathers only: deterministic on every device.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from .conventions import jax, opencv, pillow, tensorflow
from .conventions import torch as torch_convention  # not the torch library
from .coordinates import input_step, source_positions
from .kernels import kernel_function
from .spec import Resampling

__all__ = ["AxisTable", "axis_table", "call_rules", "table_bytes"]

ArithmeticTable = Callable[[Resampling, int, int, float], tuple[np.ndarray, np.ndarray] | None]
CallRules = Callable[[Resampling, list[int], list[int], list[float]], tuple[Resampling, list[float]]]

# coordinate_precision values whose tables the convention module of that name builds
# (its ``arithmetic_table``), copying the framework's own floating-point steps.
FRAMEWORK_ARITHMETIC: dict[str, ArithmeticTable] = {
    "opencv": opencv.arithmetic_table,
    "pillow": pillow.arithmetic_table,
    "jax": jax.arithmetic_table,
    "torch": torch_convention.arithmetic_table,
    "float32": tensorflow.arithmetic_table,  # TF's float32 steps: resize_bicubic's table (cubic_tf_table) only
}
# Frameworks whose whole-image rules change the spec or the scales of a call.
FRAMEWORK_CALL_RULES: dict[str, CallRules] = {"opencv": opencv.call_rules}


@dataclass(frozen=True, eq=False)
class AxisTable:
    """Gather table for one axis: ``y[i] = sum_t weight[i, t] * x[index[i, t]]``.

    ``outside`` marks outputs that take the extrapolation value instead (ONNX
    ``tf_crop_and_resize``); it is None when there are none.
    """

    index: np.ndarray
    weight: np.ndarray
    in_len: int
    outside: np.ndarray | None = None

    @property
    def out_len(self) -> int:
        return int(self.index.shape[0])

    @property
    def taps(self) -> int:
        return int(self.index.shape[1])

    @cached_property
    def is_selection(self) -> bool:
        """True when every output copies exactly one input (nearest): exact for any dtype."""
        return self.taps == 1 and bool(np.all(self.weight == 1.0))

    @cached_property
    def is_identity(self) -> bool:
        """True when the table copies the input unchanged (the axis can be skipped)."""
        return (self.is_selection and self.outside is None and self.out_len == self.in_len
                and bool(np.array_equal(self.index[:, 0], np.arange(self.in_len))))

    @cached_property
    def transposed(self) -> AxisTable:
        """The adjoint as a gather table: ``gx[j] = sum_t weight[j, t] * gy[index[j, t]]``."""
        rows = np.repeat(np.arange(self.out_len), self.taps)
        cols = self.index.reshape(-1)
        vals = self.weight.reshape(-1)
        if self.outside is not None:
            vals = np.where(np.repeat(self.outside, self.taps), 0.0, vals)
        keep = vals != 0.0
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        order = np.argsort(cols, kind="stable")
        rows, cols, vals = rows[order], cols[order], vals[order]
        counts = np.bincount(cols, minlength=self.in_len)
        taps = max(int(counts.max(initial=0)), 1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(cols.size) - starts[cols]
        index = np.zeros((self.in_len, taps), dtype=np.int64)
        weight = np.zeros((self.in_len, taps), dtype=np.float64)
        index[cols, slot] = rows
        weight[cols, slot] = vals
        return AxisTable(index=index, weight=weight, in_len=self.out_len)

    def dense(self) -> np.ndarray:
        """The (out, in) matrix this table applies: for tests and small axes only."""
        matrix = np.zeros((self.out_len, self.in_len))
        np.add.at(matrix, (np.repeat(np.arange(self.out_len), self.taps), self.index.reshape(-1)),
                  self.weight.reshape(-1))
        if self.outside is not None:
            matrix[self.outside] = 0.0
        return matrix


def axis_table(
    spec: Resampling,
    in_len: int,
    out_len: int,
    scale: float,
    roi: tuple[float, float] | None = None,
) -> AxisTable:
    """The cached gather table for one axis of a resize.

    >>> t = axis_table(Resampling(kernel="linear"), 2, 4, 2.0)
    >>> t.index.tolist(), t.weight.tolist()
    ([[0, 0], [0, 1], [0, 1], [1, 1]], [[0.25, 0.75], [0.75, 0.25], [0.25, 0.75], [0.75, 0.25]])
    """
    return _cached_table(_axis_key(spec), in_len, out_len, float(scale), roi)


def call_rules(
    spec: Resampling, in_sizes: Sequence[int], out_sizes: Sequence[int], scales: Sequence[float]
) -> tuple[Resampling, list[float]]:
    """The spec and coordinate scales for one call, after the framework's whole-image rules.

    Only frameworks with ``coordinate_precision`` in :data:`FRAMEWORK_ARITHMETIC` have such
    rules (their convention module's ``call_rules``): OpenCV copies an image whose size is
    unchanged and switches INTER_AREA to its enlarging formula on every axis when any axis grows.
    """
    rules = FRAMEWORK_CALL_RULES.get(spec.coordinate_precision)
    if rules is None:
        return spec, list(scales)
    return rules(spec, list(in_sizes), list(out_sizes), list(scales))


@lru_cache(maxsize=512)  # spec.replace validates a new spec: ~10 us on every table lookup
def _axis_key(spec: Resampling) -> Resampling:
    """Drop the fields that do not affect one axis's table, so the cache is shared."""
    return spec.replace(size_rounding="floor", recompute_scale=False, keep_aspect_ratio_policy="stretch",
                        extrapolation_value=0.0, integer_output="round", float_output="keep")


@lru_cache(maxsize=1024)
def _cached_table(
    spec: Resampling, in_len: int, out_len: int, scale: float, roi: tuple[float, float] | None
) -> AxisTable:
    x = source_positions(spec.coordinates, in_len, out_len, scale, roi, spec.coordinate_precision)
    outside = None
    if spec.coordinates == "tf_crop_and_resize":
        flags = (x < 0) | (x > in_len - 1)
        outside = flags if flags.any() else None
    step = input_step(spec.coordinates, in_len, out_len, scale)
    arithmetic = FRAMEWORK_ARITHMETIC.get(spec.coordinate_precision)
    built = None if arithmetic is None else arithmetic(spec, in_len, out_len, scale)
    if built is not None:
        index, weight = built
    elif spec.kernel == "nearest":
        index, weight = _nearest(x, in_len, spec.nearest_mode)
    elif spec.kernel == "area":
        if spec.coordinates == "align_corners":
            # TF1 resize_area(align_corners=True): cell i is [i*s, (i+1)*s) with s = (in-1)/(out-1)
            # (s = in when out == 1), past the last pixel edge-replicated.
            step = (in_len - 1) / (out_len - 1) if out_len > 1 else float(in_len)
            x = (np.arange(out_len) + 0.5) * step - 0.5
        index, weight = _exact_area(x, step, in_len, spec.border)
    elif spec.coordinate_precision == "float32" and spec.coordinates == "half_pixel":
        index, weight = _filter_float32(spec, x, scale, in_len)
    elif spec.kernel == "adaptive_area":
        index, weight = _adaptive_area(in_len, out_len)
    else:
        index, weight = _filter(spec, x, step, in_len)
    for array in (index, weight):
        array.setflags(write=False)
    return AxisTable(index=index, weight=weight, in_len=in_len, outside=outside)


_ROUNDERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "floor": np.floor,
    "ceil": np.ceil,
    "round_prefer_floor": lambda x: np.ceil(x - 0.5),
    "round_prefer_ceil": lambda x: np.floor(x + 0.5),
}


def _nearest(x: np.ndarray, in_len: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    index = np.clip(_ROUNDERS[mode](x), 0, in_len - 1).astype(np.int64)[:, None]
    return index, np.ones(index.shape)


def _filter(spec: Resampling, x: np.ndarray, step: float, in_len: int) -> tuple[np.ndarray, np.ndarray]:
    kernel = kernel_function(spec.kernel, spec.cubic_a, spec.lanczos_a)
    widen = max(step, 1.0) if spec.antialias else 1.0
    support = kernel.radius * widen
    # Taps j with x - support < j <= x + support: every j where the kernel can be non-zero.
    first = np.floor(x - support) + 1
    taps = max(int(np.max(np.floor(x + support) - first)) + 1, 1)
    j = first[:, None] + np.arange(taps)[None, :]
    weight = kernel.weight((j - x[:, None]) / widen)
    return _apply_border(j, weight, in_len, spec.border)


def _filter_float32(spec: Resampling, x: np.ndarray, scale: float, in_len: int) -> tuple[np.ndarray, np.ndarray]:
    """TF's scale_and_translate arithmetic: spans and kernel arguments rounded to float32.

    Only the tap set and the kernel arguments matter (the weights are evaluated in float64):
    they decide on which side of a kernel's jump (gaussian's at 1.5) a tap at a tie falls.
    """
    f32 = np.float32
    kernel = kernel_function(spec.kernel, spec.cubic_a, spec.lanczos_a)
    inverse = f32(1.0 / float(f32(scale)))
    widen = max(inverse, f32(1.0)) if spec.antialias else f32(1.0)
    reach = f32(kernel.radius) * widen
    sample = (x + 0.5).astype(f32)  # exact: float32 positions are stored minus 0.5
    first = np.ceil(sample - reach - f32(0.5)).astype(np.int64)
    last = np.floor(sample + reach - f32(0.5)).astype(np.int64)
    taps = max(int(np.max(last - first)) + 1, 1)
    j = first[:, None] + np.arange(taps)[None, :]
    argument = ((j.astype(f32) + f32(0.5)) - sample[:, None]) * (f32(1.0) / widen)
    weight = np.where(j <= last[:, None], kernel.weight(argument.astype(np.float64)), 0.0)
    return _apply_border(j, weight, in_len, spec.border)


def _exact_area(x: np.ndarray, step: float, in_len: int, border: str) -> tuple[np.ndarray, np.ndarray]:
    # Output cell i covers [c - step/2, c + step/2] with c = x + 0.5 in continuous
    # coordinates, where input pixel j covers [j, j + 1).
    if step == 0.0:  # zero-width cells (align_corners from a length-1 axis): the pixel under the point
        index = np.clip(np.floor(x + 0.5), 0, in_len - 1).astype(np.int64)[:, None]
        return index, np.ones(index.shape)
    low = x + 0.5 - step / 2
    high = x + 0.5 + step / 2
    first = np.floor(low)
    taps = max(int(np.max(np.ceil(high) - first)), 1)
    j = first[:, None] + np.arange(taps)[None, :]
    overlap = np.minimum(high[:, None], j + 1) - np.maximum(low[:, None], j)
    return _apply_border(j, np.clip(overlap, 0.0, None), in_len, border)


def _adaptive_area(in_len: int, out_len: int) -> tuple[np.ndarray, np.ndarray]:
    # torch's adaptive average pooling windows: [floor(i*in/out), ceil((i+1)*in/out)).
    i = np.arange(out_len)
    start = (i * in_len) // out_len
    end = -((-(i + 1) * in_len) // out_len)
    taps = int(np.max(end - start))
    j = start[:, None] + np.arange(taps)[None, :]
    inside = j < end[:, None]
    weight = np.where(inside, 1.0 / (end - start)[:, None], 0.0)
    return np.where(inside, j, start[:, None]).astype(np.int64), weight


def _apply_border(j: np.ndarray, weight: np.ndarray, in_len: int, border: str) -> tuple[np.ndarray, np.ndarray]:
    inside = (j >= 0) & (j < in_len)
    total = weight.sum(axis=1, keepdims=True)
    if border == "renormalize":
        weight = np.where(inside, weight, 0.0)
        total = weight.sum(axis=1, keepdims=True)
    elif border == "zero":
        weight = np.where(inside, weight, 0.0)
    weight = np.divide(weight, total, out=np.zeros_like(weight), where=total != 0)
    return np.clip(j, 0, in_len - 1).astype(np.int64), weight


# Peak bytes that building a table takes, per output sample and tap, plus per output sample:
# measured on tables of 400,000 outputs for every convention (the float64 positions, tap
# indices, weights and their temporaries; OpenCV's area table is the dearest per output).
_BYTES_PER_TAP = 64
_BYTES_PER_OUTPUT = 256
# The filters' support radii (kernels.py), without building a kernel (TF's cubic builds its table):
# plain Python, so that torch.compile traces the estimate without tracing NumPy.
_RADIUS = {"linear": 1.0, "cubic": 2.0, "cubic_tf_table": 2.0, "box": 0.5, "hamming": 1.0, "gaussian": 1.5,
           "mitchell": 2.0}


def table_bytes(spec: Resampling, in_len: int, out_len: int, scale: float) -> int:
    """An estimate of the peak memory building one axis's table takes, without building it.

    Taps per output: the kernel's support times the antialias widening (``2 * radius * step``
    when shrinking with antialias), the input cells an area output covers, or one for nearest,
    plus two for the ends. O(1): :func:`upsamplekit.resize` checks it against
    ``max_output_bytes`` before any table is built.

    >>> round(table_bytes(Resampling(kernel="lanczos", lanczos_a=3), 4, 4_000_000, 1e6) / 2**30, 2)  # GiB
    2.86
    """
    step = max(input_step(spec.coordinates, in_len, out_len, scale), in_len / max(out_len, 1), 0.0)
    if spec.kernel == "nearest":
        taps = 1.0
    elif spec.kernel in ("area", "adaptive_area"):
        taps = math.ceil(max(step, 1.0)) + 2.0
    else:
        radius = float(spec.lanczos_a) if spec.kernel == "lanczos" else _RADIUS.get(spec.kernel, 2.0)
        widen = max(step, 1.0) if spec.antialias else 1.0
        taps = math.ceil(2.0 * radius * widen) + 2.0
    return int(out_len * (taps * _BYTES_PER_TAP + _BYTES_PER_OUTPUT))
