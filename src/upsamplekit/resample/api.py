"""`resize`: one function that reproduces every framework's resize, in any dimension."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from ..checks import is_integer, is_real, per_axis, sequence_items
from ..errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError
from .apply import resample_axes
from .coordinates import axis_plan
from .fast import native_resize
from .spec import Resampling
from .tables import axis_table, call_rules, table_bytes

__all__ = ["resize", "DEFAULT_MAX_OUTPUT_BYTES"]

DEFAULT_MAX_OUTPUT_BYTES = int(os.environ.get("UPSAMPLEKIT_MAX_OUTPUT_BYTES", 4 * 2**30))

_FLOAT_TYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_INTEGER_TYPES = (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
                  torch.uint16, torch.uint32, torch.uint64)
_DTYPES = frozenset(_FLOAT_TYPES + _INTEGER_TYPES)
# NumPy dtypes torch.from_numpy shares memory with, and that resize computes.
_NUMPY_KINDS = frozenset("biuf")
# Integers whose values float64 does not hold exactly past 2**53: filters refuse such values.
_WIDE_INTEGERS = (torch.int64, torch.uint64)
_EXACT_FLOAT64 = 2**53
# No axis can be longer than this (2**53 elements is 32 PiB of bytes): longer is refused as too large.
_MAX_LENGTH = 2**53


def resize(
    x: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    *,
    method: str = "linear",
    convention: str = "torch",
    antialias: bool | None = None,
    align_corners: bool | None = None,
    channels_last: bool = False,
    recompute_scale_factor: bool | None = None,
    spec: Resampling | None = None,
    max_output_bytes: int | None = None,
    **attributes: Any,
) -> Any:
    """Resize the spatial axes of ``x`` exactly as a framework does.

    Args:
        x: a torch tensor or NumPy array laid out (N, C, *spatial), or (N, *spatial, C)
            with ``channels_last=True``; one or more spatial axes. NumPy in, NumPy out.
        size: output length of every spatial axis (an int applies to all).
        scale_factor: output/input scale per spatial axis (a number applies to all).
            Give exactly one of ``size`` and ``scale_factor``.
        method: ``nearest``, ``linear``, ``cubic``, ``area``, ``lanczos3``/``4``/``5``,
            ``box``, or the convention's own names (``bilinear``, ``nearest-exact``,
            ``mitchellcubic``, ``gaussian``, ``hamming``, ...).
        convention: ``torch``, ``tf``, ``tf1``, ``keras``, ``jax``, ``onnx``, ``opencv``
            or ``pillow``: whose semantics to reproduce (see :class:`Resampling`).
        antialias, align_corners, recompute_scale_factor: the framework's own flags,
            where that framework has them (None keeps its default).
        spec: a :class:`Resampling` to use instead of ``method`` and ``convention``.
        max_output_bytes: refuse outputs larger than this before allocating anything
            (default 4 GiB, or ``UPSAMPLEKIT_MAX_OUTPUT_BYTES``).
        **attributes: convention options, such as ONNX Resize attributes
            (``coordinate_transformation_mode``, ``nearest_mode``, ``cubic_coeff_a``,
            ``exclude_outside``, ``extrapolation_value``, ``keep_aspect_ratio_policy``,
            ``axes``, ``roi``) or TF1's ``half_pixel_centers``.

    Floating results keep the input dtype (float16 and bfloat16 go through torch's own kernel
    where one computes the spec, else the tables run in float32),
    or are float32 where the framework returns that (TF, Keras); integer images are rounded
    and saturated to their dtype's range (computed in float64, clamped before the cast: never
    wrapped), or returned as float32 where the framework does that (TF, JAX); nearest copies
    values of any dtype exactly. A filter on int64 (or NumPy uint64) images whose values pass
    ``2**53`` in magnitude, where float64 stops holding every integer, raises
    :class:`~upsamplekit.errors.InvalidArgumentError` rather than return rounded values.

    ``x`` may be any real torch dtype (float16/bfloat16/float32/float64, bool, uint8 to uint64,
    int8 to int64) or the NumPy dtypes ``torch.from_numpy`` shares (bool, int8 to int64, uint8 to
    uint64, float16/32/64) in native byte order; others (complex, longdouble, object, strings,
    byte-swapped) are an :class:`~upsamplekit.errors.InvalidTypeError`. A resized axis of
    length 0 is an error (there is nothing to interpolate); an empty batch or channel axis gives
    an empty result, as in torch. Flags (``channels_last``, ``antialias``, ...) take True or False
    (or 0 and 1, as torch does); anything else, a string included, is an error.

    >>> import torch
    >>> x = torch.tensor([[[0.0, 1.0]]])
    >>> resize(x, scale_factor=2, method="linear")
    tensor([[[0.0000, 0.2500, 0.7500, 1.0000]]])
    >>> resize(x, scale_factor=2, method="linear", align_corners=True)
    tensor([[[0.0000, 0.3333, 0.6667, 1.0000]]])
    >>> resize(torch.arange(5.0).view(1, 1, 5), size=3, method="area")  # torch: adaptive pooling
    tensor([[[0.5000, 2.0000, 3.5000]]])
    >>> resize(torch.arange(5.0).view(1, 1, 5), size=3, method="area", convention="tf")  # exact overlap
    tensor([[[0.4000, 2.0000, 3.6000]]])
    """
    tensor, from_numpy = _as_tensor(x)
    arguments = (method, convention, antialias, align_corners, channels_last, recompute_scale_factor, spec,
                 max_output_bytes)
    key = _call_key(tensor, size, scale_factor, arguments, attributes)
    known = _CALLS.get(key) if key is not None else None
    if known is not None:  # the same shape, dtype and arguments were validated and planned before
        result = _resize_tensor(tensor, *known)
        return result.detach().numpy() if from_numpy else result
    channels_last = _flag("channels_last", channels_last)
    limit = _limit(max_output_bytes)
    axes, roi = _call_axes(tensor, channels_last, convention, spec, attributes)
    if spec is None:
        options = {"antialias": antialias, "align_corners": align_corners,
                   "recompute_scale_factor": recompute_scale_factor, **attributes}
        spec = _preset(convention, method, options)
    elif not isinstance(spec, Resampling):
        raise InvalidTypeError(f"spec must be an upsamplekit.Resampling, but got {type(spec).__name__}")
    else:
        given = {"antialias": antialias, "align_corners": align_corners,
                 "recompute_scale_factor": recompute_scale_factor, **attributes}
        extra = sorted(k for k, v in given.items() if v is not None)
        if extra:
            raise InvalidArgumentError(
                f"spec= fixes every resampling knob, so {extra[0]}={given[extra[0]]!r} cannot be combined with it; "
                f"change the spec instead (spec.replace(...))"
            )
    in_sizes = [int(tensor.shape[a]) for a in axes]  # int(): jit.trace gives sizes as tensors
    _check_lengths(tensor, axes, in_sizes)
    out_sizes, scales = _plan(in_sizes, size, scale_factor, spec, roi)
    spec, scales = call_rules(spec, in_sizes, out_sizes, scales)  # OpenCV's whole-image rules
    out_dtype = _output_dtype(tensor.dtype, spec)
    _guard(tensor, axes, in_sizes, out_sizes, scales, spec, out_dtype, limit)
    if key is not None:
        _remember(key, (axes, in_sizes, out_sizes, scales, spec, roi, out_dtype))
    result = _resize_tensor(tensor, axes, in_sizes, out_sizes, scales, spec, roi, out_dtype)
    if from_numpy:
        return result.detach().numpy()
    return result


# ------------------------------------------------------------------------ call plans
# Validated plans of recent calls, keyed by everything they depend on: a repeated call (a
# decoder's forward pass) skips validation, preset resolution and planning (~15 us).
_CALLS: dict[Any, tuple[Any, ...]] = {}
_CALLS_MAX = 1024
_KEYABLE = (bool, int, float, str, bytes, type(None), np.number, Resampling)


def _frozen(value: Any) -> Any:
    """A hashable stand-in for an argument that keeps its type (``size=True`` must not reuse
    the plan of ``size=1``); TypeError for anything but numbers, strings, specs and sequences."""
    if isinstance(value, (list, tuple)):  # torch.Size included
        return type(value), tuple([_frozen(v) for v in value])
    if isinstance(value, _KEYABLE):
        return type(value), value
    raise TypeError(type(value).__name__)


def _call_key(tensor: torch.Tensor, size: Any, scale_factor: Any, options: tuple[Any, ...],
              attributes: dict[str, Any]) -> tuple[Any, ...] | None:
    """The call's plan key, or None (not cached) when an argument is not a plain value, or while
    ``torch.compile`` traces the call: Dynamo would guard on every entry of the cache (seconds to
    trace once it holds many plans, and a recompile whenever a plan is added)."""
    if torch.compiler.is_compiling():
        return None
    try:
        key = [tensor.shape, tensor.dtype, DEFAULT_MAX_OUTPUT_BYTES, _frozen(size), _frozen(scale_factor)]
        key += [(type(v), v) if v is None or isinstance(v, _KEYABLE) else _frozen(v) for v in options]
        if attributes:
            key.append(_frozen(tuple(attributes.items())))
        return tuple(key)
    except TypeError:
        return None


def _remember(key: tuple[Any, ...], plan: tuple[Any, ...]) -> None:
    if len(_CALLS) >= _CALLS_MAX:
        _CALLS.clear()
    _CALLS[key] = plan


# ---------------------------------------------------------------------------- inputs
def _preset(convention: Any, method: Any, options: dict[str, Any]) -> Resampling:
    """``Resampling.preset``, cached: a preset is a pure function of its arguments.

    The key holds each option's type, so ``antialias=1.0`` is still validated (and refused)
    after ``antialias=1`` was cached; unhashable options are resolved uncached.
    """
    key = (convention, method, tuple((k, type(v), v) for k, v in sorted(options.items(), key=lambda kv: kv[0])))
    try:
        hash(key)
    except TypeError:
        return Resampling.preset(convention, method, **options)
    return _cached_preset(key)


@lru_cache(maxsize=512)
def _cached_preset(key: tuple[Any, Any, tuple[tuple[str, type, Any], ...]]) -> Resampling:
    convention, method, options = key
    return Resampling.preset(convention, method, **{k: v for k, _, v in options})


def _as_tensor(x: Any) -> tuple[torch.Tensor, bool]:
    if isinstance(x, torch.Tensor):
        tensor, from_numpy = x, False
    elif isinstance(x, np.ndarray):
        _check_numpy_dtype(x.dtype)
        tensor, from_numpy = torch.from_numpy(np.ascontiguousarray(x)), True
    else:
        raise InvalidTypeError(f"x must be a torch.Tensor or numpy.ndarray, but got {type(x).__name__}")
    if tensor.dim() < 3:
        raise InvalidArgumentError(
            f"x must have a batch axis, a channel axis and at least one spatial axis, (N, C, *spatial), "
            f"but got shape {tuple(tensor.shape)}"
        )
    if tensor.dtype not in _DTYPES:
        if tensor.is_complex():
            raise InvalidTypeError(f"x must be real-valued, but got dtype {tensor.dtype}")
        raise InvalidTypeError(
            f"x must have a floating-point, integer or bool dtype, but got dtype {tensor.dtype}; "
            f"convert it first (x.float())"
        )
    if tensor.layout != torch.strided:
        raise InvalidTypeError(f"x must be a dense (strided) tensor, but got layout {tensor.layout}; "
                               f"use x.to_dense()")
    return tensor, from_numpy


def _check_numpy_dtype(dtype: np.dtype) -> None:
    """A NumPy dtype ``resize`` computes: bool, integers and float16/32/64 in native byte order."""
    if dtype.kind == "c":
        raise InvalidTypeError(f"x must be real-valued, but got dtype {dtype}")
    if dtype.kind not in _NUMPY_KINDS or dtype.itemsize > 8:  # object, strings, datetimes, longdouble, ...
        raise InvalidTypeError(
            f"x must have a NumPy dtype of kind bool, integer or float (at most 64 bits), but got dtype "
            f"{dtype} ({dtype.name}); convert it first (x.astype(np.float64))"
        )
    if not dtype.isnative:
        raise InvalidTypeError(
            f"x must be in native byte order, but got dtype {dtype.str!r} (byte-swapped {dtype.name}); "
            f"convert it first (x.astype(x.dtype.newbyteorder('=')))"
        )


def _flag(name: str, value: Any) -> bool:
    """A boolean argument: True or False, or 0 and 1 as torch takes them (the conventions' rule)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InvalidTypeError(f"{name} must be True or False, but got {value!r}")


def _limit(max_output_bytes: Any) -> float:
    """``max_output_bytes`` as a number of bytes: a non-negative number (inf: no limit), or the default."""
    if max_output_bytes is None:
        return DEFAULT_MAX_OUTPUT_BYTES
    if not is_real(max_output_bytes):
        raise InvalidTypeError(
            f"max_output_bytes must be a number of bytes (or None for the default), but got "
            f"{type(max_output_bytes).__name__}: {max_output_bytes!r}"
        )
    if math.isnan(max_output_bytes) or max_output_bytes < 0:
        raise InvalidArgumentError(
            f"max_output_bytes must be a number of bytes >= 0 (math.inf for no limit), but got {max_output_bytes!r}"
        )
    return max_output_bytes  # type: ignore[return-value]


def _check_lengths(tensor: torch.Tensor, axes: list[int], in_sizes: list[int]) -> None:
    for a, n in zip(axes, in_sizes):
        if n == 0:
            raise InvalidArgumentError(
                f"x must have at least one sample on every resized axis, but got length 0 on dim {a} "
                f"(shape {tuple(tensor.shape)}): there is nothing to interpolate from"
            )


def _call_axes(
    tensor: torch.Tensor,
    channels_last: bool,
    convention: str,
    spec: Resampling | None,
    attributes: dict[str, Any],
) -> tuple[list[int], list[tuple[float, float]] | None]:
    """The axes to resize and, for tf_crop_and_resize, the (start, end) roi per axis."""
    ndim = tensor.dim()
    axes = list(range(1, ndim - 1)) if channels_last else list(range(2, ndim))
    onnx_call = spec is not None or str(convention).lower() == "onnx"
    raw_axes = attributes.pop("axes", None)
    raw_roi = attributes.pop("roi", None)
    for name, value in (("axes", raw_axes), ("roi", raw_roi)):
        if value is not None and not onnx_call:
            raise InvalidArgumentError(
                f"{name}={value!r} is an ONNX Resize input; use it with convention='onnx' (or spec=), "
                f"not convention={convention!r}"
            )
    if raw_axes is not None:
        if channels_last:
            raise InvalidArgumentError("axes= names the axes to resize itself, so channels_last=True cannot be combined with it")
        items = sequence_items(raw_axes)
        if items is None:
            raise InvalidTypeError(f"axes must be a sequence of integers (ONNX Resize's axes), but got {raw_axes!r}")
        axes = []
        for a in items:
            if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -ndim <= int(a) < ndim:
                raise InvalidArgumentError(f"axes must hold integers in [{-ndim}, {ndim - 1}], but got {raw_axes!r}")
            axes.append(int(a) % ndim)
        if len(set(axes)) != len(axes):
            raise InvalidArgumentError(f"axes must not repeat an axis, but got {raw_axes!r}")
    roi = None
    if raw_roi is not None:
        items = raw_roi.tolist() if isinstance(raw_roi, (np.ndarray, torch.Tensor)) else sequence_items(raw_roi)
        if not isinstance(items, list) or not all(is_real(v) and math.isfinite(v) for v in items):
            raise InvalidArgumentError(
                f"roi must be a sequence of finite numbers (starts then ends of the resized axes), but got {raw_roi!r}"
            )
        values = [float(v) for v in items]
        if len(values) != 2 * len(axes):
            raise InvalidArgumentError(
                f"roi must hold {2 * len(axes)} numbers (starts then ends of the {len(axes)} resized axes), "
                f"but got {len(values)}: {raw_roi!r}"
            )
        roi = list(zip(values[: len(axes)], values[len(axes):]))
    return axes, roi


def _one_per_resized_axis(name: str, count: int) -> str:
    return f"{name} must have one entry per resized axis ({count})"


def _plan(
    in_sizes: list[int],
    size: Any,
    scale_factor: Any,
    spec: Resampling,
    roi: list[tuple[float, float]] | None,
) -> tuple[list[int], list[float]]:
    if (size is None) == (scale_factor is None):
        given = "both" if size is not None else "neither"
        raise InvalidArgumentError(f"exactly one of size and scale_factor must be given, but got {given}")
    sizes = scales = None
    if size is not None:
        sizes = per_axis("size", size, len(in_sizes), rule=_one_per_resized_axis("size", len(in_sizes)))
        for s in sizes:
            if not is_integer(s) or s <= 0:
                raise InvalidArgumentError(f"size must hold positive integers, but got {size!r}")
        sizes = [int(s) for s in sizes]
        for s in sizes:
            if s > _MAX_LENGTH:
                raise OutputTooLargeError(f"size {s} is longer than any output can be (at most 2**53 per axis), "
                                          f"in size={size!r}")
        if spec.keep_aspect_ratio_policy != "stretch" and scale_factor is not None:
            raise InvalidArgumentError("keep_aspect_ratio_policy applies to size=, not scale_factor=")
    else:
        if spec.keep_aspect_ratio_policy != "stretch":
            raise InvalidArgumentError(
                f"keep_aspect_ratio_policy={spec.keep_aspect_ratio_policy!r} needs size=, but scale_factor= was given"
            )
        scales = per_axis("scale_factor", scale_factor, len(in_sizes),
                          rule=_one_per_resized_axis("scale_factor", len(in_sizes)))
        floats = []
        for s in scales:
            value = _as_float(s) if is_real(s) else math.nan
            if math.isnan(value) or value <= 0 or value == math.inf and not is_integer(s):
                raise InvalidArgumentError(f"scale_factor must hold finite positive numbers, but got {scale_factor!r}")
            floats.append(value)
        scales = floats
        for i, s in zip(in_sizes, scales):
            if i * s > _MAX_LENGTH:  # before any rounding: 1e308 would overflow it
                raise OutputTooLargeError(
                    f"scale_factor {s!r} on an axis of length {i} gives an output length of about {i * s:.3g}, longer "
                    f"than any output can be (at most 2**53 per axis), in scale_factor={scale_factor!r}"
                )
    # ONNX's text says floor(in * (roi_end - roi_start) * scale) for tf_crop_and_resize, but its
    # reference, shape inference and onnxruntime all give floor(in * scale): roi does not change lengths.
    outs, coord_scales = axis_plan(list(in_sizes), sizes, scales, rounding=spec.size_rounding,
                                   recompute_scale=spec.recompute_scale,
                                   keep_aspect_ratio_policy=spec.keep_aspect_ratio_policy)
    for i, o, s in zip(in_sizes, outs, scales or coord_scales):
        if o < 1:
            source = (f"scale_factor {s!r}" if scales is not None else
                      f"keep_aspect_ratio_policy={spec.keep_aspect_ratio_policy!r} (common scale {s!r})")
            raise InvalidArgumentError(
                f"{source} on an axis of length {i} gives an output length of {o}; it must be at least 1"
            )
    return outs, coord_scales


def _as_float(value: Any) -> float:
    """``float(value)``, or inf for an integer too large for a float (10**400)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _output_dtype(dtype: torch.dtype, spec: Resampling) -> torch.dtype:
    if dtype in _FLOAT_TYPES:
        return torch.float32 if spec.float_output == "float32" else dtype
    if spec.kernel == "nearest":
        return dtype
    if dtype == torch.bool:
        raise InvalidTypeError(
            f"bool images can only be resized with nearest, but the spec uses kernel {spec.kernel!r}"
        )
    return torch.float32 if spec.integer_output == "float32" else dtype


def _guard(
    tensor: torch.Tensor,
    axes: list[int],
    in_sizes: list[int],
    out_sizes: list[int],
    scales: list[float],
    spec: Resampling,
    dtype: torch.dtype,
    limit: float,
) -> None:
    """Refuse a call whose output, plus the weight tables built for it, would pass ``limit`` bytes.

    The tables take memory in proportion to each axis's output length times its taps (a 1-D
    lanczos3 to 4,000,000 samples builds ~1 GiB of them for a 16 MB output): they are estimated
    (:func:`~upsamplekit.resample.tables.table_bytes`) before anything is built.
    """
    shape = _output_shape(tensor, axes, out_sizes)
    nbytes = math.prod(shape) * dtype.itemsize
    tables = sum(table_bytes(spec, i, o, s) for i, o, s in zip(in_sizes, out_sizes, scales))
    if nbytes + tables > limit:
        building = f" and building its weight tables about {tables / 2**30:.2f} GiB more" if tables else ""
        raise OutputTooLargeError(
            f"the output of shape {tuple(shape)} ({dtype}) would take {nbytes / 2**30:.2f} GiB{building}, more than "
            f"max_output_bytes={limit} ({limit / 2**30:.2f} GiB); pass a larger max_output_bytes to allow it"
        )


def _output_shape(x: torch.Tensor, axes: list[int], out_sizes: list[int]) -> list[int]:
    shape = list(x.shape)
    for axis, size in zip(axes, out_sizes):
        shape[axis] = size
    return shape


# ------------------------------------------------------------------------ computing
def _resize_tensor(
    x: torch.Tensor,
    axes: list[int],
    in_sizes: list[int],
    out_sizes: list[int],
    scales: list[float],
    spec: Resampling,
    roi: list[tuple[float, float]] | None,
    out_dtype: torch.dtype,
) -> torch.Tensor:
    if x.numel() == 0:  # an empty batch or channel axis (torch's kernels refuse C == 0)
        return torch.empty(_output_shape(x, axes, out_sizes), dtype=out_dtype, device=x.device)
    if out_dtype.is_floating_point and x.dtype != out_dtype:
        x = x.to(out_dtype)  # the framework computes and returns float32 (TF, Keras, JAX)
    native = _native(x, axes, out_sizes, scales, spec)
    if native is not None:
        return native
    if torch.compiler.is_compiling():  # dynamo would trace the NumPy that builds the tables
        return _eager_tables()(x, axes, in_sizes, out_sizes, scales, spec, roi, out_dtype)
    return _tables(x, axes, in_sizes, out_sizes, scales, spec, roi, out_dtype)


def _tables(
    x: torch.Tensor,
    axes: list[int],
    in_sizes: list[int],
    out_sizes: list[int],
    scales: list[float],
    spec: Resampling,
    roi: list[tuple[float, float]] | None,
    out_dtype: torch.dtype,
) -> torch.Tensor:
    """The gather-table engine: every spec, every dtype."""
    rois: list[tuple[float, float] | None] = list(roi) if roi is not None else [None] * len(axes)
    tables = [axis_table(spec, i, o, s, r) for i, o, s, r in zip(in_sizes, out_sizes, scales, rois)]
    exact_copy = all(t.is_selection and t.outside is None for t in tables)
    if x.dtype in _FLOAT_TYPES:
        work = x if x.dtype in (torch.float32, torch.float64) else x.float()
    elif exact_copy:
        work = x
    else:
        if x.dtype in _WIDE_INTEGERS:
            _check_exact_in_float64(x)
        work = x.double()  # integer results are rounded: float32 error would flip the .5 ties
    # resample_axes skips identity tables, orders the axes by estimated cost, fills `outside`.
    work = resample_axes(work, axes, tables, spec.extrapolation_value)
    return _finish(work, out_dtype, x.dtype)


@lru_cache(maxsize=None)
def _eager_tables() -> Callable[..., torch.Tensor]:
    """The table engine for compiled callers: it runs eagerly (a graph break), since its tables are
    NumPy arrays built from the sizes and its kernels take them as constants. Made on first use:
    ``torch.compiler.disable`` imports torch._dynamo (seconds), which a plain import must not pay."""
    return torch.compiler.disable(_tables)


def _check_exact_in_float64(x: torch.Tensor) -> None:
    """Refuse int64/uint64 values that float64 cannot hold exactly (past 2**53 in magnitude)."""
    if x.numel() == 0 or x.device.type == "meta":
        return
    low, high = torch.aminmax(x.view(torch.int64) if x.dtype == torch.uint64 else x)
    if x.dtype == torch.uint64:  # viewed as int64: values past 2**63 - 1 are negative
        bad = bool(high > _EXACT_FLOAT64) or bool(low < 0)
        largest = "a value past 2**63" if bool(low < 0) else int(high)
    else:
        bad = bool(high > _EXACT_FLOAT64) or bool(low < -_EXACT_FLOAT64)
        largest = int(high) if int(high) > -int(low) else int(low)
    if bad:
        raise InvalidArgumentError(
            f"x ({x.dtype}) holds values beyond +-2**53 (largest magnitude: {largest}), which a filter cannot "
            f"weigh exactly in float64; resize with method='nearest' (exact for every dtype), or convert x to "
            f"float64 first to accept float64 rounding"
        )


def _native(
    x: torch.Tensor, axes: list[int], out_sizes: list[int], scales: list[float], spec: Resampling
) -> torch.Tensor | None:
    """F.interpolate's kernels, when the layout and spec allow them."""
    ndim = x.dim()
    if axes == list(range(2, ndim)):
        return native_resize(x, spec, out_sizes, scales)
    if axes == list(range(1, ndim - 1)):  # channels last: a permuted view is channels_last memory
        perm = [0, ndim - 1, *range(1, ndim - 1)]
        out = native_resize(x.permute(perm), spec, out_sizes, scales)
        if out is None:
            return None
        return out.permute([0, *range(2, ndim), 1])
    return None


def _finish(work: torch.Tensor, out_dtype: torch.dtype, in_dtype: torch.dtype) -> torch.Tensor:
    if work.dtype == out_dtype:
        return work
    if out_dtype.is_floating_point:
        return work.to(out_dtype)
    # Saturate: clamp in float64 before the cast (a float past the range wraps or is undefined when
    # cast). int64/uint64 inputs hold at most 2**53 in magnitude (_check_exact_in_float64), so their
    # results stay far inside the range; the clamp bound is the largest float64 below it all the same.
    info = torch.iinfo(out_dtype)
    high = float(info.max) if info.bits < 64 else math.nextafter(float(info.max), 0.0)
    return work.round().clamp_(float(info.min), high).to(out_dtype)
