"""``resize`` and ``Resampling`` under hostile input: nothing silently wrong, no raw traceback.

* Integer images saturate to their dtype's range (clamped in float64 before the cast), checked
  against a float64 reference (``F.interpolate`` on the image in float64, rounded and clamped) for
  every integer dtype torch and NumPy offer; int64/uint64 values past 2**53, which float64 does
  not hold, are refused by filters (nearest copies them exactly).
* Every argument is type- and value-checked: flags are booleans, sizes and scales finite numbers,
  ``roi``/``axes`` sequences, unsupported dtypes an error naming ``x`` and the dtype.
* Zero-length resized axes are an error; empty batches and channels give torch's empty result.
* The output guard covers huge scales (1e308) and the weight tables, before anything is built.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsamplekit
from upsamplekit import Resampling
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError, UpsampleError
from upsamplekit.resample.conventions import convention_names
from upsamplekit.resample.fast import _tables_only

X = torch.rand(1, 2, 4, 5, generator=torch.Generator().manual_seed(0))

# ------------------------------------------------------------------------------------ integer results
TORCH_INTEGERS = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.uint16, torch.uint32,
                  torch.uint64]


def _range(dtype: torch.dtype) -> tuple[int, int]:
    """The dtype's range, cut to +-2**53 for the 64-bit dtypes (what a filter accepts)."""
    info = torch.iinfo(dtype)
    return max(info.min, -(2**53)), min(info.max, 2**53)


def _reference(x: torch.Tensor, size: Any, mode: str, dtype: torch.dtype) -> torch.Tensor:
    """F.interpolate in float64, rounded half to even and clamped to the dtype's range (as float64)."""
    info = torch.iinfo(dtype)
    exact = F.interpolate(x.double(), size=size, mode=mode)
    return exact.round().clamp(float(info.min), float(info.max))


@pytest.mark.parametrize("dtype", TORCH_INTEGERS, ids=str)
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_integer_results_saturate_to_the_dtype_range(dtype: torch.dtype, mode: str) -> None:
    """A min/max checkerboard step: bicubic overshoots past both ends of the range (and linear
    reaches them exactly); the result equals the float64 reference, rounded and clamped."""
    low, high = _range(dtype)
    image = torch.full((1, 1, 6, 8), high, dtype=torch.float64)
    image[..., :, 4:] = low
    image[..., 3:, :] = low + high - image[..., 3:, :]
    x = image.to(dtype)
    size = (11, 13)
    method = "cubic" if mode == "bicubic" else "linear"
    expected = _reference(x, size, mode, dtype)
    if mode == "bicubic":
        overshoot = F.interpolate(x.double(), size=size, mode=mode)
        assert overshoot.max() > high + 0.5 and overshoot.min() < low - 0.5  # overshoot on both sides
    for tables in (False, True):
        if tables:
            with _tables_only():
                actual = upsamplekit.resize(x, size=size, method=method)
        else:
            actual = upsamplekit.resize(x, size=size, method=method)
        assert actual.dtype == dtype
        if dtype == torch.uint8 and not tables:
            continue  # torch's own uint8 kernels (fixed-point): tests/test_dtypes.py
        # Near 2**53 float64 holds integers 1 or 2 apart: the reference's float64 weights and sums and the
        # tables' differ there by float64 round-off (1e-14 relative); elsewhere only an exact half (the
        # midpoint of min and max) may round either way.
        difference = (actual.double() - expected).abs()
        if high > 2**32:
            assert float(difference.max()) <= 1e-14 * 2**53, (dtype, mode, float(difference.max()))
        else:
            exact = F.interpolate(x.double(), size=size, mode=mode)
            tie = (exact - exact.floor() - 0.5).abs() < 1e-9 + 1e-14 * float(exact.abs().max())
            assert float(difference[~tie].max()) == 0.0, (dtype, mode, float(difference.max()))
            assert float(difference.max()) <= 1.0
            assert float(actual.double().max()) == high and float(actual.double().min()) == low  # saturated
        info = torch.iinfo(dtype)
        assert int(actual.double().min()) >= info.min and int(actual.double().max()) <= info.max


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64"])
def test_numpy_integers_saturate_and_keep_their_dtype(dtype: str) -> None:
    info = np.iinfo(dtype)
    high = min(int(info.max), 2**53)
    x = np.zeros((1, 1, 2, 8), dtype=dtype)
    x[..., 4:] = high
    actual = upsamplekit.resize(x, size=(2, 13), method="cubic")
    assert isinstance(actual, np.ndarray) and actual.dtype == np.dtype(dtype)
    exact = F.interpolate(torch.from_numpy(x.astype(np.float64)), size=(2, 13), mode="bicubic").numpy()
    expected = np.clip(np.round(exact), float(info.min), float(info.max))
    atol = 1e-14 * 2**53 if high > 2**32 else 0
    np.testing.assert_allclose(actual.astype(np.float64), expected, rtol=0, atol=atol)
    if high == info.max:  # the overshoot saturates
        assert actual.max() == info.max


def test_int64_max_is_refused_by_filters_and_copied_by_nearest() -> None:
    """The issue's case: 2**63 - 1 came back as -2**63 (a float64 2**63 cast to int64)."""
    x = torch.full((1, 1, 4), 2**63 - 1)
    for method, scale in (("linear", 2), ("cubic", 2), ("area", 0.5), ("lanczos3", 2)):
        with pytest.raises(InvalidArgumentError, match=r"x \(torch.int64\) holds values beyond \+-2\*\*53 \(largest "
                                                       r"magnitude: 9223372036854775807\).*method='nearest'"):
            upsamplekit.resize(x, scale_factor=scale, method=method)
    # Copies are exact for any value: nearest, and area enlarging by an integer factor (adaptive pooling
    # windows of one pixel).
    assert torch.equal(upsamplekit.resize(x, scale_factor=2, method="area"), torch.full((1, 1, 8), 2**63 - 1))
    assert torch.equal(upsamplekit.resize(x, scale_factor=2, method="nearest"), torch.full((1, 1, 8), 2**63 - 1))
    with pytest.raises(InvalidArgumentError, match=r"largest magnitude: -9223372036854775808"):
        upsamplekit.resize(torch.full((1, 1, 4), -(2**63)), scale_factor=2)
    with pytest.raises(InvalidArgumentError, match=r"torch.uint64.*a value past 2\*\*63"):
        upsamplekit.resize(np.full((1, 1, 4), 2**64 - 1, dtype=np.uint64), scale_factor=2, method="cubic")


def test_int64_values_up_to_2_53_are_computed_in_float64_and_past_it_an_error() -> None:
    """A constant 2**53 + 1 came back as 2**53: now refused. Up to 2**53 the values are exact in
    float64 and the result is the float64 computation rounded: within float64 round-off (1e-15
    relative, a few units near 2**53; weights that sum to 1 in real numbers need not in float64),
    exact where that round-off stays under one half (2**40 here)."""
    with pytest.raises(InvalidArgumentError, match=r"largest magnitude: 9007199254740993"):
        upsamplekit.resize(torch.full((1, 1, 4), 2**53 + 1), scale_factor=2, method="linear")
    for convention, method in (("torch", "linear"), ("torch", "cubic"), ("torch", "lanczos3"), ("pillow", "cubic"),
                               ("opencv", "cubic"), ("onnx", "cubic")):
        for value in (2**53, -(2**53), 2**53 - 1, 2**40 + 1, -(2**40) - 3):
            x = torch.full((1, 1, 3, 4), value)
            out = upsamplekit.resize(x, scale_factor=2.5, method=method, convention=convention)
            assert out.dtype == torch.int64
            error = float((out - value).abs().max())
            assert error == 0 if abs(value) < 2**41 else error <= 1e-15 * 2**53, (convention, method, value, error)


# ------------------------------------------------------------------------------------ flags
BAD_FLAGS = ["False", "yes", "", 2, -1, 1.0, 0.0, np.bool_(True), np.array(True), [True], torch.tensor(True)]


@pytest.mark.parametrize("name", ["channels_last", "antialias", "align_corners", "recompute_scale_factor"])
@pytest.mark.parametrize("value", BAD_FLAGS, ids=repr)
def test_flags_must_be_booleans(name: str, value: Any) -> None:
    method = "bicubic" if name != "channels_last" else "nearest"
    with pytest.raises(InvalidTypeError, match=rf"{name} must be True or False, but got "):
        upsamplekit.resize(X, scale_factor=2, method=method, **{name: value})


@pytest.mark.parametrize("name", ["channels_last", "antialias", "align_corners"])
def test_flags_take_booleans_and_0_or_1_as_torch_does(name: str) -> None:
    for value, same in ((True, 1), (False, 0)):
        a = upsamplekit.resize(X, scale_factor=2, method="bilinear", **{name: value})
        b = upsamplekit.resize(X, scale_factor=2, method="bilinear", **{name: same})
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", ["antialias", "recompute_scale"])
@pytest.mark.parametrize("value", ["False", 1, 0, None, np.bool_(False)], ids=repr)
def test_resampling_flags_must_be_booleans(name: str, value: Any) -> None:
    with pytest.raises(InvalidTypeError, match=rf"Resampling.{name} must be True or False, but got "):
        Resampling(**{name: value})


def test_resampling_takes_numpy_numbers_as_the_python_numbers_they_equal() -> None:
    spec = Resampling(kernel="cubic", cubic_a=np.float32(-0.5), extrapolation_value=np.float64(2))
    assert spec == Resampling(kernel="cubic", cubic_a=-0.5, extrapolation_value=2.0)
    assert type(spec.cubic_a) is float and type(spec.extrapolation_value) is float
    lanczos = Resampling(kernel="lanczos", lanczos_a=np.int64(4))
    assert type(lanczos.lanczos_a) is int and lanczos == Resampling(kernel="lanczos", lanczos_a=4)
    for field, value in (("cubic_a", np.nan), ("cubic_a", "1"), ("lanczos_a", np.float64(3)),
                         ("extrapolation_value", "0"), ("kernel", np.array(["linear", "cubic"]))):
        with pytest.raises(InvalidArgumentError, match=field):
            Resampling(**{field: value})
    # NaN is a fill value ONNX allows for tf_crop_and_resize: accepted on purpose (docs/errors.md).
    assert math.isnan(Resampling(extrapolation_value=math.nan).extrapolation_value)


# ------------------------------------------------------------------------------------ sizes, scales, guard
@pytest.mark.parametrize("size", [math.nan, math.inf, 0, -3, 2.0, True, "8", b"8", np.array(8), torch.tensor(8),
                                  np.array([[8, 8]]), (8, math.nan), (8,), (8, 8, 8), [[8], [8]], None], ids=repr)
def test_bad_sizes_are_refused(size: Any) -> None:
    with pytest.raises(UpsampleError, match=r"size"):
        upsamplekit.resize(X, size=size, scale_factor=None if size is not None else None)


@pytest.mark.parametrize("scale", [math.nan, math.inf, -math.inf, 0, -2, 0.0, True, "2", 2j, np.complex128(2),
                                   np.array(2.0), torch.tensor(2.0), (2, math.nan), (2,), [[2], [2]]], ids=repr)
def test_bad_scales_are_refused(scale: Any) -> None:
    with pytest.raises(UpsampleError, match=r"scale_factor"):
        upsamplekit.resize(X, scale_factor=scale)


@pytest.mark.parametrize("target", [{"scale_factor": 1e308}, {"scale_factor": 10**400}, {"scale_factor": (2, 1e300)},
                                    {"size": 2**60}, {"size": 10**400}, {"size": (2, 2**54)}], ids=str)
def test_huge_outputs_hit_the_guard_before_anything_is_built(target: dict) -> None:
    start = time.perf_counter()
    with pytest.raises(OutputTooLargeError):
        upsamplekit.resize(X, **target)
    with pytest.raises(OutputTooLargeError):
        upsamplekit.resize(X, **target, max_output_bytes=math.inf)
    assert time.perf_counter() - start < 1.0


def test_the_guard_covers_the_weight_tables() -> None:
    """A 1-D lanczos3 to 4,000,000 samples: a 16 MB output, but its tables took 1.7 GiB to build."""
    x = torch.rand(1, 1, 4)
    tracemalloc.start()
    try:
        with pytest.raises(OutputTooLargeError, match=r"\(torch.float32\) would take 0.01 GiB and building its "
                                                      r"weight tables about 2.\d\d GiB more, more than "
                                                      r"max_output_bytes=20000000 "):
            upsamplekit.resize(x, size=4_000_000, method="lanczos3", convention="pillow", max_output_bytes=20_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # nothing was built
    # Shrinking with antialias: a tiny output, wide tables (taps grow with the step).
    with pytest.raises(OutputTooLargeError, match="weight tables"):
        upsamplekit.resize(torch.rand(1, 1, 1_000_000), size=10, method="lanczos3", convention="pillow",
                           max_output_bytes=2**20)
    # What the guard lets through is built within its estimate.
    tracemalloc.start()
    try:
        out = upsamplekit.resize(x, size=100_000, method="lanczos3", convention="pillow", max_output_bytes=10**8)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.shape == (1, 1, 100_000) and peak < 10**8


@pytest.mark.parametrize("limit", ["5", -1, math.nan, True, [10], None.__class__], ids=repr)
def test_bad_max_output_bytes_are_refused(limit: Any) -> None:
    with pytest.raises(UpsampleError, match=r"max_output_bytes must be a number of bytes"):
        upsamplekit.resize(X, scale_factor=2, max_output_bytes=limit)


def test_max_output_bytes_takes_any_non_negative_number() -> None:
    assert upsamplekit.resize(X, scale_factor=2, max_output_bytes=math.inf).shape == (1, 2, 8, 10)
    assert upsamplekit.resize(X, scale_factor=2, max_output_bytes=1e6).shape == (1, 2, 8, 10)
    with pytest.raises(OutputTooLargeError):
        upsamplekit.resize(X, scale_factor=2, max_output_bytes=0)


# ------------------------------------------------------------------------------------ roi and axes
ONNX_CROP = {"convention": "onnx", "coordinate_transformation_mode": "tf_crop_and_resize"}


@pytest.mark.parametrize("roi", [3, "ab", [math.nan, 0, 1, 1], [0, 0, math.inf, 1], [0, 0, "1", 1], np.array(0.5),
                                 [0, 0, 1], [[0, 0], [1, 1]]], ids=repr)
def test_bad_rois_are_refused(roi: Any) -> None:
    with pytest.raises(InvalidArgumentError, match=r"roi must"):
        upsamplekit.resize(X, size=(6, 6), roi=roi, **ONNX_CROP)


def test_rois_take_arrays_and_tensors() -> None:
    expected = upsamplekit.resize(X, size=(6, 6), roi=[0.1, 0.2, 0.9, 0.8], **ONNX_CROP)
    for roi in (np.array([0.1, 0.2, 0.9, 0.8]), torch.tensor([0.1, 0.2, 0.9, 0.8], dtype=torch.float64),
                (np.float64(0.1), 0.2, 0.9, 0.8)):
        assert torch.equal(upsamplekit.resize(X, size=(6, 6), roi=roi, **ONNX_CROP), expected)


@pytest.mark.parametrize("axes", [2, "2", np.array(2), None.__class__, [2.0, 3], [True, 3], [2, 2], [2, 9]], ids=repr)
def test_bad_axes_are_refused(axes: Any) -> None:
    with pytest.raises(UpsampleError, match=r"axes must"):
        upsamplekit.resize(X, size=(6, 6), convention="onnx", axes=axes)


# ------------------------------------------------------------------------------------ empty tensors
@pytest.mark.parametrize("convention", convention_names())
def test_a_zero_length_resized_axis_is_an_error(convention: str) -> None:
    for shape in ((1, 1, 0, 4), (1, 1, 4, 0)):
        for target in ({"size": (3, 3)}, {"scale_factor": 2}):
            with pytest.raises(InvalidArgumentError, match=r"at least one sample on every resized axis, but got "
                                                           r"length 0 on dim [23]"):
                upsamplekit.resize(torch.zeros(shape), method="bilinear", convention=convention, **target)


@pytest.mark.parametrize("convention", convention_names())
@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_empty_batches_and_channels_give_an_empty_result(convention: str, method: str, dtype: torch.dtype) -> None:
    """As torch gives for an empty batch (F.interpolate's shape); torch 2.13's kernels refuse C == 0
    ("Non-empty 4D data tensor expected"), upsamplekit returns the empty result of the same rule
    (docs/errors.md)."""
    for shape, channels_last in (((0, 3, 4, 5), False), ((2, 0, 4, 5), False), ((2, 4, 5, 0), True)):
        x = torch.zeros(shape, dtype=dtype)
        out = upsamplekit.resize(x, size=(6, 7), method=method, convention=convention, channels_last=channels_last)
        expected = (shape[0], 6, 7, 0) if channels_last else (*shape[:2], 6, 7)
        assert tuple(out.shape) == expected and out.numel() == 0
    if convention == "torch":
        empty = torch.zeros(0, 3, 4, 5, dtype=dtype)
        reference = F.interpolate(empty, size=(6, 7), mode=method)
        assert reference.shape == upsamplekit.resize(empty, size=(6, 7), method=method).shape


# ------------------------------------------------------------------------------------ dtypes
@pytest.mark.parametrize(("dtype", "pattern"), [
    (np.longdouble, r"x must have a NumPy dtype of kind bool, integer or float \(at most 64 bits\), but got dtype "
                    r"float128"),
    (object, r"but got dtype object"),
    ("U3", r"but got dtype <U3"),
    ("M8[s]", r"but got dtype datetime64\[s\]"),
    (">f4", r"x must be in native byte order, but got dtype '>f4' \(byte-swapped float32\)"),
    (">i2", r"x must be in native byte order, but got dtype '>i2'"),
    (np.complex64, r"x must be real-valued, but got dtype complex64"),
    (np.complex128, r"x must be real-valued, but got dtype complex128"),
])
def test_unsupported_numpy_dtypes_are_refused(dtype: Any, pattern: str) -> None:
    if dtype is np.longdouble and np.dtype(np.longdouble).itemsize == 8:
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(InvalidTypeError, match=pattern):
        upsamplekit.resize(np.zeros((1, 1, 4, 4), dtype=dtype), scale_factor=2)


def test_unsupported_torch_dtypes_and_layouts_are_refused() -> None:
    with pytest.raises(InvalidTypeError, match=r"x must have a floating-point, integer or bool dtype, but got dtype "
                                               r"torch.float8_e4m3fn"):
        upsamplekit.resize(torch.zeros(1, 1, 4, 4, dtype=torch.float8_e4m3fn), scale_factor=2)
    with pytest.raises(InvalidTypeError, match=r"x must be a dense \(strided\) tensor, but got layout torch.sparse_coo"):
        upsamplekit.resize(torch.zeros(1, 1, 4, 4).to_sparse(), scale_factor=2)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64",
                                   "float16", "float32", "float64"])
def test_every_supported_numpy_dtype_round_trips(dtype: str) -> None:
    x = (np.arange(16).reshape(1, 1, 4, 4) % 2).astype(dtype)
    out = upsamplekit.resize(x, scale_factor=2, method="nearest")
    assert isinstance(out, np.ndarray) and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, x.repeat(2, axis=2).repeat(2, axis=3))


@pytest.mark.parametrize("method", ["bilinear", "bicubic"])
def test_torch_uint8_filters_off_the_cpu_are_refused_naming_the_device(method: str) -> None:
    """torch's uint8 filters are fixed-point CPU kernels; elsewhere the tables would round the exact result
    instead, another answer than the CPU's, so the call is refused (a meta tensor stands in for CUDA)."""
    x = torch.zeros(1, 3, 8, 8, dtype=torch.uint8, device="meta")
    with pytest.raises(InvalidTypeError, match=r"uint8 tensor on meta, .* runs on the CPU only; resize x on the CPU"):
        upsamplekit.resize(x, scale_factor=2, method=method)
    assert upsamplekit.resize(x, scale_factor=2, method="nearest").shape == (1, 3, 16, 16), "a copy needs no filter"
    assert upsamplekit.resize(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), scale_factor=2,
                              method=method).dtype == torch.uint8, "on the CPU: torch's own kernel"
