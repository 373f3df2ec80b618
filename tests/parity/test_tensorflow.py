"""Parity of conventions ``tf``, ``tf1`` and ``keras`` with TensorFlow and Keras 3 (TF backend).

Every case runs the real op (``tf.image.resize``, ``tf.compat.v1.image.resize_*``, or a Keras
``UpSampling2D`` / ``Resizing`` layer) on an NHWC array and compares ``upsamplekit.resize`` with
``channels_last=True`` (or channels-first input against the transposed TF output). Cases are
drawn by hypothesis (derandomized, bounded) over shapes with length-1 axes, odd lengths, large
enlargements and strong reductions; the float32-tie sizes are found by search, not listed.
Not covered (upsamplekit does not reproduce them): ``preserve_aspect_ratio``, Keras Resizing's
``crop_to_aspect_ratio`` / ``pad_to_aspect_ratio``, and ``keras.ops.image.resize`` (which casts
float results back to the input dtype, unlike the layers).

Tolerances (inputs in [0, 1) unless said otherwise):

* ``F32``: TF computes weights and sums in float32; upsamplekit computes the
  same weights in float64 and applies them in float32, so the two differ by float32 round-off.
* ``AREA``: resize_area accumulates up to ~(in/out)^2 float32 products per output.
* ``BICUBIC``: resize_bicubic (tf and keras without antialias, every tf1 bicubic) reads its
  weights from a 1024 + 1 entry table at ``lrintf(delta * 1024)``; upsamplekit's
  ``cubic_tf_table`` kernel reads the same float32 entries (bit for bit, tested below) at the
  same float32 offsets, so only the order of the float32 sums differs: 16 products of values
  in [0, 1) with weights summing to 1 (|w| sums to at most ~1.6 per axis), about 4 ulps of 1.2
  (3.6e-7 measured over 1,200 random cases); 1e-6 is that with a margin.
"""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "tensorflow"

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import upsamplekit
from upsamplekit import Resampling
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.resample.kernels import kernel_function, tf_cubic_table

from tests.conftest import DEVICES, assert_close, on_device, random_image, to_numpy

tf1 = tf.compat.v1.image

TF_METHODS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
KERAS_METHODS = ("nearest", "bilinear", "bicubic", "area", "lanczos3", "lanczos5")
TF1_OPS = {"nearest": tf1.resize_nearest_neighbor, "bilinear": tf1.resize_bilinear, "bicubic": tf1.resize_bicubic}
TF1_FLAGS = ((False, False), (True, False), (False, True))  # (align_corners, half_pixel_centers)

F32 = 2e-6
AREA = 1e-5
BICUBIC = 1e-6
WHY = {
    "f32": "float32 round-off: TF and upsamplekit apply the same weights in a different order",
    "area": "float32 round-off accumulated over every input pixel of a resize_area cell",
    "bicubic": "float32 round-off only: the same table weights (TF's own float32 entries), summed in another order",
}

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _tolerance(method: str) -> tuple[float, str]:
    """The tolerance for ``method`` and the reason."""
    if method == "nearest":
        return 0.0, "nearest copies input values"
    if method == "bicubic":
        return BICUBIC, WHY["bicubic"]
    if method == "area":
        return AREA, WHY["area"]
    return F32, WHY["f32"]


# ------------------------------------------------------------------------------ cases
def _pair(lo: int, hi: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(st.integers(lo, hi), st.integers(lo, hi))


@st.composite
def shapes(draw: st.DrawFn) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """An NHWC input shape and an output (height, width): mixed, length-1, large-up or strong-down."""
    kind = draw(st.sampled_from(["mixed", "ones", "large_up", "down"]))
    if kind == "mixed":
        (h, w), (oh, ow) = draw(_pair(1, 13)), draw(_pair(1, 31))
    elif kind == "ones":  # at least one of the four lengths is 1
        lengths = [*draw(_pair(1, 9)), *draw(_pair(1, 17))]
        ones = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True))
        h, w, oh, ow = (1 if k in ones else n for k, n in enumerate(lengths))
    elif kind == "large_up":
        (h, w), (fh, fw) = draw(_pair(1, 4)), draw(_pair(8, 19))
        oh, ow = h * fh + draw(st.integers(0, 2)), w * fw + draw(st.integers(0, 2))
    else:
        (h, w), (oh, ow) = draw(_pair(17, 47)), draw(_pair(1, 7))
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return (batch, h, w, channels), (oh, ow)


def _image(shape: tuple[int, ...], dtype: str = "float32", seed: int = 0) -> np.ndarray:
    return random_image(np.random.default_rng([seed, *shape]), shape, dtype)


def _value_scale(x: np.ndarray) -> float:
    """1 for [0, 1) floats; for integers a bound on both their range and their magnitude."""
    return 1.0 if x.dtype.kind == "f" else 2.0 * float(np.abs(x.astype(np.float64)).max()) + 1.0


def _uk(x: np.ndarray, size: tuple[int, int], method: str, convention: str, device: str = "cpu",
        **options: object) -> np.ndarray:
    return to_numpy(upsamplekit.resize(on_device(x, device), size=size, method=method, convention=convention,
                                       channels_last=True, **options))


# --------------------------------------------------------------------------- tf (v2)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("method", TF_METHODS)
@settings(SETTINGS)
@given(case=shapes())
def test_tf_resize_matches(method: str, antialias: bool, case: tuple[tuple[int, ...], tuple[int, int]],
                           device: str) -> None:
    """On CUDA too (upsamplekit on the device, TensorFlow on the CPU), with the same bounds."""
    shape, size = case
    x = _image(shape)
    expected = tf.image.resize(x, size, method=method, antialias=antialias).numpy()
    actual = _uk(x, size, method, "tf", device, antialias=antialias)
    assert actual.dtype == expected.dtype == np.float32
    assert_close(actual, expected, *_tolerance(method))


@pytest.mark.parametrize("method", TF_METHODS)
@settings(SETTINGS, max_examples=6)
@given(case=shapes(), antialias=st.booleans())
def test_tf_channels_first_input_matches_transposed_tf(
    method: str, case: tuple[tuple[int, ...], tuple[int, int]], antialias: bool
) -> None:
    shape, size = case
    x = _image(shape)
    expected = tf.image.resize(x, size, method=method, antialias=antialias).numpy().transpose(0, 3, 1, 2)
    nchw = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    actual = upsamplekit.resize(nchw, size=size, method=method, convention="tf", antialias=antialias)
    assert isinstance(actual, torch.Tensor)
    assert_close(actual.numpy(), expected, *_tolerance(method))


@pytest.mark.parametrize("dtype", ["float16", "float64", "uint8", "int16"])
@pytest.mark.parametrize("method", TF_METHODS)
@settings(SETTINGS, max_examples=3)
@given(case=shapes(), antialias=st.booleans())
def test_tf_dtypes(method: str, dtype: str, case: tuple[tuple[int, ...], tuple[int, int]], antialias: bool) -> None:
    """TF returns float32 (computed from the values converted to float32) except for nearest."""
    shape, size = case
    x = _image(shape, dtype)
    expected = tf.image.resize(x, size, method=method, antialias=antialias).numpy()
    actual = _uk(x, size, method, "tf", antialias=antialias)
    assert expected.dtype == (x.dtype if method == "nearest" else np.float32)
    assert actual.dtype == expected.dtype
    span = _value_scale(x)
    atol, why = _tolerance(method)
    assert_close(actual, expected, atol * span, f"{why}, scaled by the value range {span:g}")


def test_tf_area_is_exact_overlap_not_adaptive_pooling() -> None:
    """TF's area weighs partly covered pixels by their overlap (torch's area does not)."""
    x = np.arange(5, dtype=np.float32).reshape(1, 5, 1, 1)
    expected = tf.image.resize(x, (3, 1), method="area").numpy()
    assert_close(_uk(x, (3, 1), "area", "tf"), expected, F32, WHY["f32"])
    assert not np.allclose(_uk(x, (3, 1), "area", "torch"), expected)


# ---------------------------------------------------------------- float32 position ties
def _float32_tie_sizes(kind: str, limit: int = 6) -> list[tuple[int, int]]:
    """(in, out) pairs where TF's float32 nearest position and the exact one floor differently."""
    found = []
    for n_in in range(2, 7):
        for n_out in range(2, 200):
            i = np.arange(n_out)
            if kind == "align_corners":
                exact = np.floor(i * (n_in - 1) / (n_out - 1) + 0.5)
                single = np.floor((i.astype(np.float32) * (np.float32(n_in - 1) / np.float32(n_out - 1)))
                                  .astype(np.float64) + 0.5)
            else:
                offset = 0.5 if kind == "half_pixel" else 0.0
                exact = np.floor((i + offset) * n_in / n_out)
                single = np.floor((i.astype(np.float32) + np.float32(offset)) * (np.float32(n_in) / np.float32(n_out)))
            if np.any(np.minimum(exact, n_in - 1) != np.minimum(single, n_in - 1)):
                found.append((n_in, n_out))
                break
        if len(found) >= limit:
            break
    return found


@pytest.mark.parametrize("dtype", ["float32", "int16"])  # float32 runs aten's kernel, int16 the gather tables
@pytest.mark.parametrize("flags", TF1_FLAGS + ("tf",))
def test_nearest_ties_follow_tf_float32_positions(flags: tuple[bool, bool] | str, dtype: str) -> None:
    """At sizes where in/out rounds in float32 across a pixel boundary, upsamplekit takes TF's pixel.

    The float64 variant of the same spec takes the other pixel somewhere: the float32 positions
    are what make the difference.
    """
    align_corners, half_pixel = (False, True) if flags == "tf" else flags
    kind = "align_corners" if align_corners else "half_pixel" if half_pixel else "asymmetric"
    sizes = _float32_tie_sizes(kind)
    assert sizes, f"no float32 tie found for {kind}"
    float64_differs = False
    for n_in, n_out in sizes:
        x = np.arange(n_in * 2, dtype=dtype).reshape(1, n_in, 2, 1)
        if flags == "tf":
            expected = tf.image.resize(x, (n_out, 2), method="nearest").numpy()
            spec = Resampling.preset("tf", "nearest")
            actual = _uk(x, (n_out, 2), "nearest", "tf")
        else:
            expected = TF1_OPS["nearest"](x, (n_out, 2), align_corners=align_corners,
                                          half_pixel_centers=half_pixel).numpy()
            spec = Resampling.preset("tf1", "nearest", align_corners=align_corners, half_pixel_centers=half_pixel)
            actual = _uk(x, (n_out, 2), "nearest", "tf1", align_corners=align_corners, half_pixel_centers=half_pixel)
        assert actual.dtype == expected.dtype
        np.testing.assert_array_equal(actual, expected, err_msg=f"{kind} {n_in} -> {n_out}")
        exact = upsamplekit.resize(x, size=(n_out, 2), spec=spec.replace(coordinate_precision="float64"),
                                   channels_last=True)
        float64_differs |= not np.array_equal(exact, expected)
    if dtype == "int16":  # the aten path computes in float32 itself; the tables follow the spec
        assert float64_differs, "float64 positions matched TF everywhere: the float32 knob would be unneeded"


def _gaussian_tie_sizes(antialias: bool) -> list[tuple[int, int]]:
    """(in, out) where some tap sits exactly 1.5 (kernel units) from a sample: gaussian's jump."""
    found = []
    for n_in in range(2, 24):
        for n_out in range(2, 24):
            widen = antialias and n_in > n_out
            # sample (i + 0.5) * in / out; tap j at (j + 0.5); distance in kernel units
            # (j + 0.5 - sample) * (out / in if widened else 1) == 1.5, in integers:
            i, j = np.meshgrid(np.arange(n_out), np.arange(n_in), indexing="ij")
            num = (2 * j + 1) * n_out - (2 * i + 1) * n_in  # = 2 * out * distance (unwidened)
            target = 3 * n_in if widen else 3 * n_out
            if np.any(np.abs(num) == target):
                found.append((n_in, n_out))
    return found


@pytest.mark.parametrize("antialias", [False, True])
def test_gaussian_taps_at_the_cutoff_follow_tf_float32(antialias: bool) -> None:
    """TF's gaussian is exp(-2 t^2) for |t| < 1.5 and 0 beyond: a tap at exactly 1.5 has a
    0.011 weight or none depending on TF's float32 rounding of the sample point."""
    sizes = _gaussian_tie_sizes(antialias)
    rng = np.random.default_rng(7)
    picks = [sizes[k] for k in rng.choice(len(sizes), size=12, replace=False)]
    float64_differs = False
    for n_in, n_out in picks:
        x = _image((1, n_in, 3, 1), seed=n_out)
        expected = tf.image.resize(x, (n_out, 3), method="gaussian", antialias=antialias).numpy()
        assert_close(_uk(x, (n_out, 3), "gaussian", "tf", antialias=antialias), expected, F32, WHY["f32"])
        spec = Resampling.preset("tf", "gaussian", antialias=antialias).replace(coordinate_precision="float64")
        exact = upsamplekit.resize(x, size=(n_out, 3), spec=spec, channels_last=True)
        float64_differs |= not np.allclose(exact, expected, atol=1e-4)
    assert float64_differs, "float64 kernel arguments matched TF at every tie"


SCALE_AND_TRANSLATE = {  # TF kernel_type -> upsamplekit kernel name and options
    "triangle": ("linear", {}),
    "keyscubic": ("cubic", {"cubic_a": -0.5}),
    "lanczos3": ("lanczos", {"lanczos_a": 3}),
    "lanczos5": ("lanczos", {"lanczos_a": 5}),
    "gaussian": ("gaussian", {}),
    "mitchellcubic": ("mitchell", {}),
}


@pytest.mark.parametrize("kernel_type", SCALE_AND_TRANSLATE)
def test_kernels_match_scale_and_translate(kernel_type: str) -> None:
    """kernels.py's filters are TF's: an interior delta, shifted by ``translation``, gives
    K(j - i + t) / sum_j K(j - i + t). The offsets include every support edge (|t| = 1, 1.5,
    2, 3, 5), where closed and open supports would differ."""
    name, options = SCALE_AND_TRANSLATE[kernel_type]
    kernel = kernel_function(name, **options)
    length, spike = 40, 20
    x = np.zeros((1, 1, length, 1), np.float32)
    x[0, 0, spike, 0] = 1.0
    outputs = np.arange(10, 30)
    for shift in np.arange(-1.0, 1.0 + 1e-9, 0.125):
        response = tf.raw_ops.ScaleAndTranslate(
            images=x, size=[1, length], scale=[1.0, 1.0], translation=[0.0, float(shift)],
            kernel_type=kernel_type, antialias=False,
        ).numpy()[0, 0, outputs, 0]
        weights = kernel.weight(np.arange(length)[None, :] - outputs[:, None] + shift)
        assert_close(response, weights[:, spike] / weights.sum(axis=1), F32,
                     f"{WHY['f32']} (TF evaluates its kernels in float32), shift {shift}")


# ------------------------------------------------------------------------------- tf1
def test_tf1_align_corners_nearest_rounds_ties_away_from_zero() -> None:
    """roundf: where i * (in-1)/(out-1) is exactly k + 0.5, TF1 takes k + 1."""
    ties = [(n_in, n_out) for n_in in range(2, 9) for n_out in range(3, 12)
            if any(2 * i * (n_in - 1) % (2 * (n_out - 1)) == n_out - 1 for i in range(n_out))]
    assert len(ties) >= 5
    for n_in, n_out in ties:
        x = np.arange(n_in, dtype=np.float32).reshape(1, n_in, 1, 1)
        expected = tf1.resize_nearest_neighbor(x, (n_out, 1), align_corners=True).numpy()
        actual = _uk(x, (n_out, 1), "nearest", "tf1", align_corners=True)
        np.testing.assert_array_equal(actual, expected, err_msg=f"{n_in} -> {n_out}")
        spec = Resampling.preset("tf1", "nearest", align_corners=True).replace(nearest_mode="round_prefer_floor")
        floor_ties = upsamplekit.resize(x, size=(n_out, 1), spec=spec, channels_last=True)
        assert not np.array_equal(floor_ties, expected), "ties rounding down would match TF too"


@pytest.mark.parametrize("flags", TF1_FLAGS)
@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic"])
@settings(SETTINGS)
@given(case=shapes())
def test_tf1_resize_matches(method: str, flags: tuple[bool, bool], case: tuple[tuple[int, ...], tuple[int, int]]) -> None:
    shape, size = case
    align_corners, half_pixel = flags
    x = _image(shape)
    expected = TF1_OPS[method](x, size, align_corners=align_corners, half_pixel_centers=half_pixel).numpy()
    actual = _uk(x, size, method, "tf1", align_corners=align_corners, half_pixel_centers=half_pixel)
    assert actual.dtype == expected.dtype == np.float32
    assert_close(actual, expected, *_tolerance(method))


@pytest.mark.parametrize("align_corners", [False, True])
@settings(SETTINGS, max_examples=20)
@given(case=shapes())
def test_tf1_resize_area_matches(align_corners: bool, case: tuple[tuple[int, ...], tuple[int, int]]) -> None:
    """align_corners: cells [i*s, (i+1)*s) with s = (in-1)/(out-1), the overhang replicating the edge."""
    shape, size = case
    x = _image(shape)
    expected = tf1.resize_area(x, size, align_corners=align_corners).numpy()
    assert_close(_uk(x, size, "area", "tf1", align_corners=align_corners), expected, AREA, WHY["area"])


@pytest.mark.parametrize("dtype", ["float64", "float16", "uint8", "int16"])
@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic", "area"])
def test_tf1_dtypes(method: str, dtype: str) -> None:
    """TF1 ops return float32 except nearest, which keeps the dtype."""
    x = _image((1, 5, 3, 2), dtype)
    for flags in TF1_FLAGS if method != "area" else ((False, False), (True, False)):
        options = {"align_corners": flags[0]} if method == "area" else dict(zip(("align_corners", "half_pixel_centers"), flags))
        op = tf1.resize_area if method == "area" else TF1_OPS[method]
        expected = op(x, (8, 2), **options).numpy()
        actual = _uk(x, (8, 2), method, "tf1", **options)
        assert expected.dtype == (x.dtype if method == "nearest" else np.float32)
        assert actual.dtype == expected.dtype
        span = _value_scale(x)
        atol, why = _tolerance(method)
        assert_close(actual, expected, atol * span, f"{why}, scaled by the value range {span:g}")


@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic"])
def test_tf1_align_corners_with_half_pixel_centers_is_an_error_in_both(method: str) -> None:
    x = _image((1, 3, 3, 1))
    with pytest.raises(tf.errors.InvalidArgumentError, match="half_pixel_centers"):
        TF1_OPS[method](x, (5, 5), align_corners=True, half_pixel_centers=True)
    with pytest.raises(InvalidArgumentError, match="half_pixel_centers"):
        _uk(x, (5, 5), method, "tf1", align_corners=True, half_pixel_centers=True)


def test_tf1_resize_area_has_no_half_pixel_centers() -> None:
    x = _image((1, 3, 3, 1))
    with pytest.raises(TypeError):
        tf1.resize_area(x, (5, 5), half_pixel_centers=True)  # type: ignore[call-arg]
    with pytest.raises(InvalidArgumentError, match="half_pixel_centers"):
        _uk(x, (5, 5), "area", "tf1", half_pixel_centers=True)


# ------------------------------------------------------------------------------ keras
@st.composite
def factors(draw: st.DrawFn) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """An NHWC shape and UpSampling2D's per-axis integer size (large ones included)."""
    (h, w), batch, channels = draw(_pair(1, 9)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    size = draw(st.one_of(_pair(1, 4), _pair(5, 12)))
    return (batch, h, w, channels), size


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("interpolation", KERAS_METHODS)
@settings(SETTINGS, max_examples=6)
@given(case=factors())
def test_keras_upsampling2d_matches(interpolation: str, data_format: str, case: tuple[tuple[int, ...], tuple[int, int]]) -> None:
    shape, size = case
    x = _image(shape)
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    layer = keras.layers.UpSampling2D(size=size, data_format=data_format, interpolation=interpolation)
    expected = np.asarray(layer(x))
    actual = upsamplekit.resize(x, scale_factor=size, method=interpolation, convention="keras",
                                channels_last=data_format == "channels_last")
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    assert_close(actual, expected, *_tolerance(interpolation))


@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("interpolation", KERAS_METHODS)
@settings(SETTINGS, max_examples=6)
@given(case=shapes(), channels_first=st.booleans())
def test_keras_resizing_matches(
    interpolation: str, antialias: bool, case: tuple[tuple[int, ...], tuple[int, int]], channels_first: bool
) -> None:
    shape, size = case
    x = _image(shape)
    data_format = "channels_first" if channels_first else "channels_last"
    if channels_first:
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    layer = keras.layers.Resizing(*size, interpolation=interpolation, antialias=antialias, data_format=data_format)
    expected = np.asarray(layer(x))
    actual = upsamplekit.resize(x, size=size, method=interpolation, convention="keras", antialias=antialias,
                                channels_last=not channels_first)
    assert_close(actual, expected, *_tolerance(interpolation))


@pytest.mark.parametrize("dtype", ["float16", "float64"])
@pytest.mark.parametrize("interpolation", KERAS_METHODS)
def test_keras_float_inputs_come_back_float32(interpolation: str, dtype: str) -> None:
    """The layers cast floating inputs to their float32 compute dtype, nearest included."""
    x = _image((2, 5, 3, 2), dtype)
    for layer, call in (
        (keras.layers.UpSampling2D((3, 2), interpolation=interpolation), {"scale_factor": (3, 2)}),
        (keras.layers.Resizing(4, 7, interpolation=interpolation), {"size": (4, 7)}),
    ):
        expected = np.asarray(layer(x))
        actual = upsamplekit.resize(x, method=interpolation, convention="keras", channels_last=True, **call)
        assert expected.dtype == actual.dtype == np.float32
        assert_close(actual, expected, *_tolerance(interpolation))


@pytest.mark.parametrize("interpolation", KERAS_METHODS)
@settings(SETTINGS, max_examples=6)
@given(case=shapes(), antialias=st.booleans())
def test_keras_integer_inputs_round_back_to_their_dtype(
    interpolation: str, case: tuple[tuple[int, ...], tuple[int, int]], antialias: bool
) -> None:
    """Keras rounds TF's float32 result half to even and saturates to the input's integer dtype.

    upsamplekit rounds its own result: the two agree except where the value is within float32
    round-off of a .5 tie, where they may differ by one.
    """
    shape, size = case
    x = _image(shape, "uint8")
    expected = np.asarray(keras.layers.Resizing(*size, interpolation=interpolation, antialias=antialias)(x))
    actual = _uk(x, size, interpolation, "keras", antialias=antialias)
    assert expected.dtype == actual.dtype == np.uint8
    if interpolation == "nearest":
        np.testing.assert_array_equal(actual, expected)
        return
    unrounded = tf.image.resize(x, size, method=interpolation, antialias=antialias).numpy()
    atol, _ = _tolerance(interpolation)
    near_tie = np.abs(np.abs(unrounded - np.floor(unrounded)) - 0.5) <= max(atol * 255, 1e-3)
    differs = actual.astype(np.int64) != expected.astype(np.int64)
    assert np.all(np.abs(actual.astype(np.int64) - expected.astype(np.int64)) <= 1)
    assert not np.any(differs & ~near_tie), "a rounding difference away from a .5 tie"


@pytest.mark.parametrize("interpolation", ["gaussian", "mitchellcubic"])
def test_keras_rejects_what_its_tf_backend_rejects(interpolation: str) -> None:
    x = _image((1, 3, 3, 1))
    with pytest.raises(ValueError, match="interpolation"):
        keras.layers.Resizing(5, 5, interpolation=interpolation)(x)
    with pytest.raises(InvalidArgumentError, match="method"):
        _uk(x, (5, 5), interpolation, "keras")


# ------------------------------------------------------------------- bicubic coefficient table
def _spike(n_in: int) -> np.ndarray:
    """A one-column image with a single 1 at row ``n_in // 2``: its resize is one weight per output."""
    x = np.zeros((1, n_in, 1, 1), np.float32)
    x[0, n_in // 2, 0, 0] = 1.0
    return x


def _table_entry_per_output(table: np.ndarray, x: np.ndarray, spike: int) -> np.ndarray:
    """The table entry TF weighs pixel ``spike`` by at positions ``x`` (float32; 0 where not a tap)."""
    in_loc = np.floor(x).astype(np.int64)
    offset = np.rint((x - in_loc).astype(np.float64) * 1024).astype(np.int64)  # lrintf: ties to even
    entry = {spike + 1: offset + 1024, spike: offset, spike - 1: 1024 - offset, spike - 2: 2048 - offset}
    out = np.zeros(x.shape, np.float32)
    for loc, k in entry.items():
        out[in_loc == loc] = table[k[in_loc == loc]]
    return out


def test_bicubic_table_entries_are_tensorflows_bit_for_bit() -> None:
    """The legacy resize_bicubic (no normalisation) of a spike, 8 -> 8192 rows, reads every entry of
    TF's a = -0.75 table once per tap: kernels.tf_cubic_table holds the same float32 numbers, and
    upsamplekit's resize returns the same output bit for bit."""
    x = _spike(8)
    expected = tf1.resize_bicubic(x, (8192, 1)).numpy()[0, :, 0, 0]
    positions = np.arange(8192, dtype=np.float32) * np.float32(8 / 8192)
    table = tf_cubic_table(-0.75)
    np.testing.assert_array_equal(expected, _table_entry_per_output(table, positions, 4))
    assert len(np.unique(expected)) > 2000  # every entry showed up (the near and far halves)
    np.testing.assert_array_equal(_uk(x, (8192, 1), "bicubic", "tf1")[0, :, 0, 0], expected)


@pytest.mark.parametrize("flags", TF1_FLAGS[:1] + TF1_FLAGS[2:])  # legacy (a = -0.75), half_pixel_centers (a = -0.5)
def test_bicubic_offset_ties_round_half_to_even(flags: tuple[bool, bool]) -> None:
    """Where delta * 1024 is exactly k + 0.5, TF takes the even entry (lrintf), and so does upsamplekit.

    Legacy 8 -> 16384 puts every odd output on a tie; half-pixel 8 -> 8192 puts every output on one.
    Rounding the ties up instead would change the weights by up to ~1.5e-3: far above BICUBIC.
    """
    align_corners, half_pixel = flags
    n_out = 8192 if half_pixel else 16384
    x = _spike(8)
    expected = tf1.resize_bicubic(x, (n_out, 1), align_corners=align_corners,
                                  half_pixel_centers=half_pixel).numpy()[0, :, 0, 0]
    actual = _uk(x, (n_out, 1), "bicubic", "tf1", align_corners=align_corners, half_pixel_centers=half_pixel)
    np.testing.assert_array_equal(actual[0, :, 0, 0], expected)
    if half_pixel:
        return  # TF renormalises there: the legacy case below checks the raw entries
    f32 = np.float32
    positions = np.arange(n_out, dtype=f32) * f32(8 / n_out)
    ties = (positions * f32(1024)) % 1 == 0.5
    assert ties.sum() == n_out // 2
    table = tf_cubic_table(-0.75)
    even = _table_entry_per_output(table, positions, 4)
    up = _table_entry_per_output(table, positions + f32(1 / 2048 / 2), 4)  # nudged past the tie: rounds up
    np.testing.assert_array_equal(expected, even)
    assert np.abs(expected - up)[ties].max() > 1e-4, "ties rounded up would match TF too"


@st.composite
def bicubic_cases(draw: st.DrawFn) -> tuple[tuple[int, int, int, int], tuple[float, float]]:
    """An NHWC shape and a per-axis factor: x2, x3, fractional up or down, or a length of 1."""
    (h, w), batch, channels = draw(_pair(1, 24)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    factor = st.sampled_from([2.0, 3.0, 1.5, 2.5, 7 / 3, 1.25, 0.5, 1 / 3, 0.3, 0.75, 4.0, 1.0])
    return (batch, h, w, channels), (draw(factor), draw(factor))


BICUBIC_CALLS = ["tf", "tf1", "tf1-align_corners", "tf1-half_pixel_centers", "keras-Resizing", "keras-UpSampling2D"]


@pytest.mark.parametrize("call", BICUBIC_CALLS)
@settings(SETTINGS, max_examples=25)
@given(case=bicubic_cases())
def test_bicubic_generated_cases_match_tensorflow(call: str, case: tuple[tuple[int, ...], tuple[float, float]]
                                                   ) -> None:
    """Every TF path through the table, over sizes up and down (x2, x3, fractional, to length 1)."""
    shape, (fh, fw) = case
    x = _image(shape, seed=7)
    h, w = shape[1:3]
    size = (max(int(h * fh), 1), max(int(w * fw), 1))
    if call == "tf":
        expected = tf.image.resize(x, size, method="bicubic").numpy()
        actual = _uk(x, size, "bicubic", "tf")
    elif call.startswith("tf1"):
        flags = {"align_corners": call.endswith("align_corners"), "half_pixel_centers": call.endswith("centers")}
        expected = tf1.resize_bicubic(x, size, **flags).numpy()
        actual = _uk(x, size, "bicubic", "tf1", **flags)
    elif call == "keras-Resizing":
        expected = np.asarray(keras.layers.Resizing(*size, interpolation="bicubic")(x))
        actual = _uk(x, size, "bicubic", "keras")
    else:
        factors = (max(round(fh), 1), max(round(fw), 1))
        expected = np.asarray(keras.layers.UpSampling2D(factors, interpolation="bicubic")(x))
        actual = upsamplekit.resize(x, scale_factor=factors, method="bicubic", convention="keras", channels_last=True)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype == np.float32
    assert_close(actual, expected, BICUBIC, WHY["bicubic"])


def test_bicubic_exact_kernel_would_miss_tensorflow() -> None:
    """The same spec with the exact Keys kernel is off by ~1e-3: the table is what matches."""
    x = _image((1, 7, 9, 2), seed=3)
    expected = tf.image.resize(x, (17, 20), method="bicubic").numpy()
    spec = Resampling.preset("tf", "bicubic")
    assert_close(upsamplekit.resize(x, size=(17, 20), spec=spec, channels_last=True), expected, BICUBIC,
                 WHY["bicubic"])
    exact = upsamplekit.resize(x, size=(17, 20), spec=spec.replace(kernel="cubic"), channels_last=True)
    assert np.abs(exact - expected).max() > 1e-4


@pytest.mark.parametrize(("convention", "options", "table"), [
    ("tf", {}, True), ("tf", {"antialias": True}, False), ("keras", {}, True), ("keras", {"antialias": True}, False),
    ("tf1", {}, True), ("tf1", {"align_corners": True}, True), ("tf1", {"half_pixel_centers": True}, True),
])
def test_bicubic_presets_name_the_table(convention: str, options: dict[str, bool], table: bool) -> None:
    """The table is the kernel wherever TF uses resize_bicubic; scale_and_translate (antialias) is exact.
    The spec says so in its repr and describe(), and refuses ONNX export (ONNX has no quantised cubic)."""
    spec = Resampling.preset(convention, "bicubic", **options)
    assert spec.kernel == ("cubic_tf_table" if table else "cubic")
    assert ("cubic_tf_table" in repr(spec)) == table
    assert ("TensorFlow's 1024-entry table" in spec.describe()) == table
    if table:
        with pytest.raises(InvalidArgumentError, match="cubic_tf_table"):
            spec.to_onnx()
        assert spec.replace(kernel="cubic").to_onnx()["mode"] == "cubic"  # the exact kernel exports
