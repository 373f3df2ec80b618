"""Parity of convention ``opencv`` with ``cv2.resize`` (opencv-python-headless 5.0).

Every case runs ``cv2.resize`` on an HW or HWC array, with ``dsize`` or with ``fx``/``fy``, and
compares ``upsamplekit.resize(..., convention="opencv", channels_last=True)`` on the same array
with a batch axis added. Cases are drawn by hypothesis (derandomized, bounded) over shapes with
length-1 axes, odd lengths, large enlargements and strong reductions, 1, 3 or 4 channels;
the sizes that expose OpenCV's float quirks are found by search, not listed.

Tolerances (float inputs in [0, 1), uint8 inputs over 0..255):

* nearest and nearest-exact: 0. They copy pixels, and upsamplekit repeats OpenCV's float64
  index arithmetic, ties included.
* ``F32``: OpenCV's own code (IPP off) rounds positions to float32 and keeps float32
  coefficients; upsamplekit builds the same coefficients, so only the order of the float32
  sums differs: a few float32 ulps.
* ``F64``: float64 images carry the same float32 coefficients, computed in float64 by both,
  so cubic and lanczos4 agree to float64 round-off. Linear and area are a little looser: the
  vertical pass does not clamp an edge row's fraction, weighting it by ``(1 - f) + f``, which
  differs from 1 by float32 round-off, and area's integer-factor path multiplies by
  ``float32(1 / k**2)``; both err by at most ~6e-8 per unit of value.
* ``ipp``: the pip wheels run float32 LINEAR/CUBIC/LANCZOS4 and float64 LINEAR through Intel
  IPP, which computes source positions in its own float32 arithmetic: a position errs by up
  to ~2**-24 times the axis length, and an output by the kernel's slope (<= 1.5 per tap) times
  that, i.e. at most ``2**-22 * longest axis``.
* uint8: 1. OpenCV weighs with 11-bit fixed-point coefficients (INTER_RESIZE_COEF_BITS) and
  rounds once (area: float weights, cvRound; its 2x2 integer path rounds half up);
  upsamplekit rounds the exact result, so the two can land on either side of a .5.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import upsamplekit
from upsamplekit import Resampling
from upsamplekit.resample.conventions.pillow import running_centres

from tests.conftest import DEVICES, assert_close, on_device, random_image, to_numpy

FLAGS = {
    "nearest": cv2.INTER_NEAREST,
    "nearest-exact": cv2.INTER_NEAREST_EXACT,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos4": cv2.INTER_LANCZOS4,
}
NEAREST = ("nearest", "nearest-exact")
FILTERS = ("linear", "cubic", "area", "lanczos4")
F32 = 1e-6
F64 = {"cubic": 1e-14, "lanczos4": 1e-14, "linear": 2e-7, "area": 2e-7}
WHY = {
    "f32": "float32 round-off: the same float32 coefficients, summed in another order",
    "f64": "float64 round-off of OpenCV's float32 coefficients (linear/area: an unclamped edge row "
           "weighted (1 - f) + f, area's float32(1/k^2): <= ~6e-8)",
    "ipp": "IPP computes source positions in its own float32 arithmetic (<= 2**-22 * longest axis)",
    "uint8": "OpenCV's 11-bit fixed-point weights round once; upsamplekit rounds the exact result",
}

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------ cases
Case = tuple[tuple[int, ...], "tuple[int, int] | None", "tuple[float, float] | None"]


def _pair(lo: int, hi: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(st.integers(lo, hi), st.integers(lo, hi))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """An HW/HWC shape and either dsize ``(oh, ow)`` or ``(fy, fx)``."""
    kind = draw(st.sampled_from(["mixed", "ones", "large_up", "down"]))
    if kind == "mixed":
        (h, w), (oh, ow) = draw(_pair(1, 23)), draw(_pair(1, 41))
    elif kind == "ones":
        lengths = [*draw(_pair(1, 11)), *draw(_pair(1, 19))]
        ones = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True))
        h, w, oh, ow = (1 if k in ones else n for k, n in enumerate(lengths))
    elif kind == "large_up":
        (h, w), (fh, fw) = draw(_pair(1, 5)), draw(_pair(7, 19))
        oh, ow = h * fh + draw(st.integers(0, 2)), w * fw + draw(st.integers(0, 2))
    else:
        (h, w), (oh, ow) = draw(_pair(17, 61)), draw(_pair(1, 9))
    channels = draw(st.sampled_from([0, 3, 4]))
    shape = (h, w, channels) if channels else (h, w)
    if draw(st.booleans()):
        return shape, (oh, ow), None
    # fx/fy near the drawn sizes, or simple fractions (which hit the integer-factor paths)
    factors = draw(st.tuples(*(st.one_of(st.sampled_from([0.5, 1 / 3, 0.25, 2.0, 3.0, 1.5, 2.5, 0.75]),
                                         st.floats(0.9, 1.1).map(lambda f, o=o, n=n: f * o / n))
                               for o, n in ((oh, h), (ow, w)))))
    sizes = [round(n * f) for n, f in zip((h, w), factors)]
    if min(sizes) < 1:
        return shape, (oh, ow), None
    return shape, None, factors


def _image(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    return random_image(np.random.default_rng([seed, *shape]), shape, dtype)


def cv(x: np.ndarray, method: str, size: tuple[int, int] | None = None,
       factors: tuple[float, float] | None = None) -> np.ndarray:
    if size is not None:
        return cv2.resize(x, (size[1], size[0]), interpolation=FLAGS[method])
    assert factors is not None
    return cv2.resize(x, None, fx=factors[1], fy=factors[0], interpolation=FLAGS[method])


def uk(x: np.ndarray, method: str, size: tuple[int, int] | None = None,
       factors: tuple[float, float] | None = None, device: str = "cpu") -> np.ndarray:
    batch = on_device(x[None] if x.ndim == 3 else x[None, :, :, None], device)
    out = to_numpy(upsamplekit.resize(batch, size=size, scale_factor=factors, method=method, convention="opencv",
                                      channels_last=True))
    return out[0] if x.ndim == 3 else out[0, :, :, 0]


@contextmanager
def opencv_own_code() -> Iterator[None]:
    """OpenCV's own code path (the wheels otherwise send some float resizes to Intel IPP)."""
    before = cv2.ipp.useIPP()
    cv2.ipp.setUseIPP(False)
    try:
        yield
    finally:
        cv2.ipp.setUseIPP(before)


@pytest.fixture
def ipp_off() -> Iterator[None]:
    with opencv_own_code():
        yield


def _longest(x: np.ndarray, y: np.ndarray) -> int:
    return max(*x.shape[:2], *y.shape[:2])


# --------------------------------------------------------------------------- nearest
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
@pytest.mark.parametrize("method", NEAREST)
@settings(SETTINGS)
@given(case=cases())
def test_nearest_copies_the_same_pixels(method: str, dtype: str, case: Case, device: str) -> None:
    """On CUDA too (upsamplekit on the device, OpenCV on the CPU): a selection, exact anywhere."""
    shape, size, factors = case
    x = _image(shape, dtype)
    expected = cv(x, method, size, factors)
    actual = uk(x, method, size, factors, device=device)
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)


def _first_pairs(predicate: Any, limit: int, lengths: range = range(1, 40), outs: range = range(1, 120)
                 ) -> list[tuple[int, int]]:
    found = []
    for n_in in lengths:
        for n_out in outs:
            if predicate(n_in, n_out):
                found.append((n_in, n_out))
                break
        if len(found) >= limit:
            break
    return found


def test_inter_nearest_rounds_integer_products_down() -> None:
    """floor(i * (1/s)) in float64 falls one pixel short where i * in / out is an integer (6 -> 34)."""
    def short(n_in: int, n_out: int) -> bool:
        i = np.arange(n_out)
        return bool(np.any(np.floor(i * (1.0 / (n_out / n_in))) != (i * n_in) // n_out))

    pairs = _first_pairs(short, 8)
    assert len(pairs) == 8
    for n_in, n_out in pairs:
        x = np.arange(n_in, dtype=np.float32)[None, :]
        expected = cv(x, "nearest", (1, n_out))[0]
        exact = np.minimum((np.arange(n_out) * n_in) // n_out, n_in - 1)
        assert np.any(expected != exact), (n_in, n_out)  # OpenCV really takes the pixel before
        np.testing.assert_array_equal(uk(x, "nearest", (1, n_out))[0], expected)


def test_inter_nearest_exact_breaks_ties_with_a_running_sum() -> None:
    """INTER_NEAREST_EXACT is Pillow's NEAREST: at an exact tie the float64 running sum decides."""
    def tie_goes_down(n_in: int, n_out: int) -> bool:
        exact = ((2 * np.arange(n_out) + 1) * n_in) // (2 * n_out)
        return bool(np.any(np.minimum(exact, n_in - 1) != running_centres(n_in, n_out)))

    pairs = _first_pairs(tie_goes_down, 8)
    assert len(pairs) == 8
    for n_in, n_out in pairs:
        x = np.arange(n_in, dtype=np.float32)[:, None]
        expected = cv(x, "nearest-exact", (n_out, 1))[:, 0]
        exact = np.minimum(((2 * np.arange(n_out) + 1) * n_in) // (2 * n_out), n_in - 1)
        assert np.any(expected != exact), (n_in, n_out)
        np.testing.assert_array_equal(uk(x, "nearest-exact", (n_out, 1))[:, 0], expected)


def _fixed_point_4x(n_in: int, n_out: int) -> np.ndarray:
    """OpenCV 4.x's INTER_NEAREST_EXACT: 16-bit fixed point (drifts on large factors)."""
    step = ((n_in << 16) + n_out // 2) // n_out
    i = np.arange(n_out, dtype=np.int64)
    return np.minimum((step * i + step // 2 - n_in % 2) >> 16, n_in - 1)


@pytest.mark.parametrize(("n_in", "n_out"), [(3, 65539), (7, 100003), (2, 131073), (65537, 3), (100003, 7)])
def test_inter_nearest_exact_does_not_drift_on_large_factors(n_in: int, n_out: int) -> None:
    """The 16-bit drift of opencv issues 22204 / 27191 is gone in 5.0 and not reproduced.

    Pixels differ from the exact centre rule only at exact ties, and upsamplekit picks every
    pixel OpenCV picks.
    """
    x = np.arange(n_in, dtype=np.float32)[None, :]
    expected = cv(x, "nearest-exact", (1, n_out))[0].astype(np.int64)
    np.testing.assert_array_equal(uk(x, "nearest-exact", (1, n_out))[0], expected)
    i = np.arange(n_out)
    centre_numerator = (2 * i + 1) * n_in
    exact = np.minimum(centre_numerator // (2 * n_out), n_in - 1)
    off = expected != exact
    assert np.all(centre_numerator[off] % (2 * n_out) == 0), "only exact ties may differ"


def test_opencv_4x_fixed_point_would_drift_on_those_factors() -> None:
    """Evidence that 5.0 changed INTER_NEAREST_EXACT: 4.x's 16-bit formula picks other pixels there."""
    drifted = 0
    for n_in, n_out in ((3, 65539), (7, 100003), (65537, 3), (100003, 7)):
        x = np.arange(n_in, dtype=np.float32)[None, :]
        drifted += bool(np.any(_fixed_point_4x(n_in, n_out) != cv(x, "nearest-exact", (1, n_out))[0]))
    assert drifted >= 2


# --------------------------------------------------------------------------- filters
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("method", FILTERS)
@settings(SETTINGS)
@given(case=cases())
def test_filters_match_opencvs_own_code(method: str, dtype: str, case: Case, device: str) -> None:
    """On CUDA too: the same coefficients summed in yet another order, within the same bounds."""
    shape, size, factors = case
    x = _image(shape, dtype)
    with opencv_own_code():
        expected = cv(x, method, size, factors)
    actual = uk(x, method, size, factors, device=device)
    assert actual.dtype == expected.dtype
    if dtype == "float32":
        assert_close(actual, expected, F32, WHY["f32"])
    else:
        assert_close(actual, expected, F64[method], WHY["f64"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("method", FILTERS)
@settings(SETTINGS, max_examples=12)
@given(case=cases())
def test_filters_match_the_default_ipp_build(method: str, dtype: str, case: Case) -> None:
    shape, size, factors = case
    x = _image(shape, dtype, seed=1)
    expected = cv(x, method, size, factors)
    actual = uk(x, method, size, factors)
    assert_close(actual, expected, F32 + 2.0**-22 * _longest(x, expected), WHY["ipp"])


def test_ipp_tolerance_holds_on_large_images() -> None:
    rng = np.random.default_rng(11)
    for (h, w), (oh, ow) in (((494, 591), (460, 885)), ((477, 530), (810, 541)), ((300, 7), (900, 13))):
        for method in ("linear", "cubic"):
            x = random_image(rng, (h, w), "float32")
            expected = cv(x, method, (oh, ow))
            assert_close(uk(x, method, (oh, ow)), expected, F32 + 2.0**-22 * _longest(x, expected), WHY["ipp"])


@pytest.mark.parametrize("method", FILTERS)
@settings(SETTINGS)
@given(case=cases())
def test_uint8_within_one(method: str, case: Case) -> None:
    shape, size, factors = case
    x = _image(shape, "uint8", seed=2)
    expected = cv(x, method, size, factors)
    actual = uk(x, method, size, factors)
    assert actual.dtype == np.uint8
    assert_close(actual, expected, 1, WHY["uint8"])


# ---------------------------------------------------------------------------- sizes
def test_fx_output_length_rounds_half_to_even_and_coordinates_use_fx(ipp_off: None) -> None:
    """round(in * f), ties to even (cvRound): 5 * 0.5 -> 2, 7 * 0.5 -> 4; then f, not out/in, maps."""
    ties = [(n, f) for n in range(1, 16) for f in (0.5, 1.5, 2.5, 0.25, 0.75)
            if (n * f) % 1 == 0.5 and n * f > 1]
    assert len(ties) > 10
    rng = np.random.default_rng(3)
    for n, f in ties:
        x = random_image(rng, (n, 4), "float32")
        expected = cv(x, "linear", factors=(f, 1.0))
        assert expected.shape[0] == round(n * f)  # Python's round is also half-to-even
        actual = uk(x, "linear", factors=(f, 1.0))
        assert_close(actual, expected, F32, WHY["f32"])
        recomputed = uk(x, "linear", size=expected.shape[:2])  # the scale out/in instead of f
        if n > 1 and expected.shape[0] not in (1, n):  # same size: copied (see the next test)
            assert not np.allclose(recomputed, expected, atol=1e-3), (n, f)


def test_an_unchanged_size_is_copied_whatever_f_is(ipp_off: None) -> None:
    rng = np.random.default_rng(4)
    for method in ("linear", "cubic", "area", "nearest", "lanczos4"):
        for h, w, fy, fx in ((10, 10, 1.04, 0.97), (1, 7, 1.3, 1.05), (9, 3, 0.95, 1.1)):
            x = random_image(rng, (h, w, 3), "float32")
            expected = cv(x, method, factors=(fy, fx))
            np.testing.assert_array_equal(expected, x)
            np.testing.assert_array_equal(uk(x, method, factors=(fy, fx)), x)
        # one axis keeps its length but not its scale: that axis is resampled with f
        x = random_image(rng, (10, 12), "float32")
        expected = cv(x, method, factors=(1.04, 2.0))
        assert expected.shape == (10, 24)
        if method != "nearest":
            assert not np.allclose(expected[:, ::2], x[:, :], atol=1e-3)
        assert_close(uk(x, method, factors=(1.04, 2.0)), expected, F32, WHY["f32"])


# ----------------------------------------------------------------------------- area
def _area_case(rng: np.random.Generator, regime: str) -> tuple[tuple[int, int], tuple[int, int]]:
    if regime == "integer_shrink":
        k = rng.integers(2, 5, 2)
        out = rng.integers(1, 9, 2)
        return (int(out[0] * k[0]), int(out[1] * k[1])), (int(out[0]), int(out[1]))
    if regime == "fraction_shrink":
        n = rng.integers(9, 50, 2)
        return (int(n[0]), int(n[1])), (int(rng.integers(1, n[0])), int(rng.integers(1, n[1])))
    if regime == "enlarge":
        n = rng.integers(1, 12, 2)
        return (int(n[0]), int(n[1])), (int(n[0] * rng.integers(1, 5) + rng.integers(0, 4)),
                                        int(n[1] * rng.integers(2, 5) + rng.integers(0, 4)))
    h, w = (int(v) for v in rng.integers(5, 30, 2))  # mixed: height shrinks, width grows
    return (h, w), (int(rng.integers(1, h)), int(w + rng.integers(1, 3 * w)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("regime", ["integer_shrink", "fraction_shrink", "enlarge", "mixed"])
def test_area_in_every_regime(regime: str, dtype: str, ipp_off: None) -> None:
    rng = np.random.default_rng([5, len(regime)])
    for _ in range(12):
        shape, size = _area_case(rng, regime)
        x = random_image(rng, shape, dtype)
        expected = cv(x, "area", size)
        assert_close(uk(x, "area", size), expected, F32 if dtype == "float32" else F64["area"], WHY[
            "f32" if dtype == "float32" else "f64"])
    fx = (0.5, 1 / 3) if regime.endswith("shrink") else (2.5, 3.0) if regime == "enlarge" else (0.4, 2.0)
    x = random_image(rng, (13, 11), dtype)  # fx form: partial last cells, the integer path
    assert_close(uk(x, "area", factors=fx), cv(x, "area", factors=fx), F32 if dtype == "float32" else F64["area"],
                 WHY["f32" if dtype == "float32" else "f64"])


def test_area_on_a_mixed_call_is_not_an_average_on_the_shrinking_axis(ipp_off: None) -> None:
    """10 -> 4 rows while the width grows: OpenCV weighs rows 0 and 1 by 0.4 and 0.6."""
    x = np.arange(10, dtype=np.float64)[:, None].repeat(3, axis=1)
    expected = cv(x, "area", (4, 6))
    assert_close(expected[:, 0], [0.6, 2.8, 5.6, 7.8], 1e-6, "OpenCV's float32 fractions")
    assert_close(uk(x, "area", (4, 6)), expected, F64["area"], WHY["f64"])
    shrink_only = cv(x, "area", (4, 3))  # width unchanged: true area
    assert_close(shrink_only[:, 0], [0.8, 3.2, 5.8, 8.2], 1e-6, "exact overlap average")  # (0 + 1 + 2/2) / 2.5


def test_area_drops_partial_pixels_under_a_thousandth(ipp_off: None) -> None:
    """computeResizeAreaTab skips a partial pixel covering <= 1e-3: the weights then miss up to 1e-3."""
    def drops(n_in: int, n_out: int) -> bool:
        step = 1.0 / (n_out / n_in)
        low = np.arange(n_out) * step
        part = np.ceil(low) - low
        return bool(np.any((part > 1e-9) & (part <= 1e-3)))

    pairs = [(n_in, n_out) for n_in in range(1001, 1200, 23) for n_out in range(n_in - 30, n_in)
             if drops(n_in, n_out)][:4]
    assert len(pairs) == 4
    rng = np.random.default_rng(6)
    for n_in, n_out in pairs:
        x = random_image(rng, (2, n_in), "float64")
        expected = cv(x, "area", (2, n_out))
        assert_close(uk(x, "area", (2, n_out)), expected, F64["area"], WHY["f64"])
        exact = upsamplekit.resize(x[None, None], size=(2, n_out),
                                   spec=Resampling.preset("opencv", "area").replace(coordinate_precision="float64"))
        assert np.abs(exact[0, 0] - expected).max() > 1e-5  # the exact overlap would not match OpenCV
