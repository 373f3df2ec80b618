"""Parity of convention ``pillow`` with ``PIL.Image.resize`` (Pillow 13).

Every case builds a Pillow image ('F' float32, 'L' uint8 or 'RGB' uint8) from a NumPy array,
resizes it, and compares ``upsamplekit.resize(..., convention="pillow")`` on the same array
(channels-last for 'RGB'). Cases are drawn by hypothesis (derandomized, bounded) over shapes
with length-1 axes, odd lengths, large enlargements and strong reductions; the tie sizes are
found by search, not listed.

Tolerances:

* NEAREST: 0, in every mode. upsamplekit repeats Pillow's float64 running sum, ties included.
* ``f32_tolerance`` for 'F' images with values in [0, 1): Pillow sums each pass in float64 and
  stores float32 between passes; upsamplekit builds the same float64 coefficients
  (``precompute_coeffs``) and sums their float32 roundings in float32. A float32 sum of ``n``
  products errs by at most ``n * 2**-24`` times the sum of their magnitudes (<= 1.3 here), so
  the bound grows with the taps of both passes: ``2 * radius * max(in / out, 1) + 2`` each.
* 1 for 'L' and 'RGB': Pillow weighs with 22-bit fixed-point coefficients and rounds (and
  clips to 0..255) after each of its two passes; upsamplekit rounds the exact result once. The
  first pass's rounding moves the result by at most 1/2 times the second pass's sum of
  ``|weights|`` (< 1.3), so the final values differ by at most 1, as long as the first pass
  stays inside 0..255. BICUBIC and LANCZOS overshoot: their uint8 cases use values in
  [64, 192), which no pass can push out of range.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import upsamplekit
from upsamplekit import Resampling
from upsamplekit.resample.conventions.pillow import running_centres
from upsamplekit.resample.tables import axis_table

from tests.conftest import DEVICES, assert_close, on_device, random_image, to_numpy

FILTERS = {
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "hamming": Image.Resampling.HAMMING,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}
ALL = {"nearest": Image.Resampling.NEAREST, **FILTERS}
OVERSHOOTING = ("bicubic", "lanczos")
RADIUS = {"nearest": 0.5, "box": 0.5, "bilinear": 1.0, "hamming": 1.0, "bicubic": 2.0, "lanczos": 3.0}
WHY = {
    "f32": "float32 round-off: Pillow sums in float64 and stores float32 per pass; upsamplekit sums in float32 "
           "(<= taps * 2**-24 * 1.3 per pass)",
    "uint8": "Pillow's 22-bit fixed-point weights round after each pass; upsamplekit rounds once",
}

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
Case = tuple[tuple[int, int], tuple[int, int]]


def _pair(lo: int, hi: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(st.integers(lo, hi), st.integers(lo, hi))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """An input (height, width) and an output (height, width)."""
    kind = draw(st.sampled_from(["mixed", "ones", "large_up", "down"]))
    if kind == "mixed":
        return draw(_pair(1, 23)), draw(_pair(1, 41))
    if kind == "ones":
        lengths = [*draw(_pair(1, 11)), *draw(_pair(1, 19))]
        ones = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True))
        h, w, oh, ow = (1 if k in ones else n for k, n in enumerate(lengths))
        return (h, w), (oh, ow)
    if kind == "large_up":
        (h, w), (fh, fw) = draw(_pair(1, 5)), draw(_pair(7, 19))
        return (h, w), (h * fh + draw(st.integers(0, 2)), w * fw + draw(st.integers(0, 2)))
    return draw(_pair(17, 71)), draw(_pair(1, 9))


def _image(shape: tuple[int, ...], mode: str, seed: int = 0, low: int = 0, high: int = 256) -> np.ndarray:
    rng = np.random.default_rng([seed, *shape])
    if mode == "F":
        return random_image(rng, shape, "float32")
    return rng.integers(low, high, size=shape, dtype=np.uint8)


def f32_tolerance(method: str, shape: tuple[int, ...], size: tuple[int, ...]) -> float:
    """The float32 summation bound for one resize of [0, 1) values (see the module docstring)."""
    taps = sum(2 * RADIUS[method] * max(n / o, 1.0) + 2 for n, o in zip(shape, size))
    return (taps + 2) * 2.0**-24 * 1.3


def pil(x: np.ndarray, method: str, size: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(x, mode="F") if x.dtype == np.float32 else Image.fromarray(x)
    return np.asarray(image.resize((size[1], size[0]), ALL[method]))


def uk(x: np.ndarray, method: str, size: tuple[int, int], spec: Resampling | None = None,
       device: str = "cpu") -> np.ndarray:
    batch = on_device(x[None] if x.ndim == 3 else x[None, :, :, None], device)
    if spec is not None:
        out = upsamplekit.resize(batch, size=size, spec=spec, channels_last=True)
    else:
        out = upsamplekit.resize(batch, size=size, method=method, convention="pillow", channels_last=True)
    out = to_numpy(out)
    return out[0] if x.ndim == 3 else out[0, :, :, 0]


# ------------------------------------------------------------------------ 'F' images
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", ALL)
@settings(SETTINGS)
@given(case=cases())
def test_float_images_match(method: str, case: Case, device: str) -> None:
    """On CUDA too (upsamplekit on the device, Pillow on the CPU): the float32 bound holds for any
    summation order, and nearest selects the same pixels."""
    shape, size = case
    x = _image(shape, "F")
    expected = pil(x, method, size)
    actual = uk(x, method, size, device=device)
    assert actual.dtype == expected.dtype == np.float32
    if method == "nearest":
        np.testing.assert_array_equal(actual, expected)
    else:
        assert_close(actual, expected, f32_tolerance(method, shape, size), WHY["f32"])


# ------------------------------------------------------------------------ 8-bit images
@pytest.mark.parametrize("mode", ["L", "RGB"])
@pytest.mark.parametrize("method", ALL)
@settings(SETTINGS, max_examples=15)
@given(case=cases())
def test_8bit_images_within_one(method: str, mode: str, case: Case) -> None:
    shape, size = case
    low, high = (64, 192) if method in OVERSHOOTING else (0, 256)
    x = _image((*shape, 3) if mode == "RGB" else shape, mode, seed=1, low=low, high=high)
    expected = pil(x, method, size)
    actual = uk(x, method, size)
    assert actual.dtype == expected.dtype == np.uint8
    if method == "nearest":
        np.testing.assert_array_equal(actual, expected)
    else:
        assert_close(actual, expected, 1, WHY["uint8"])


# ---------------------------------------------------------------------- NEAREST ties
def _tie_pairs(limit: int) -> list[tuple[int, int]]:
    """(in, out) where Pillow's running sum and the exact centre rule pick different pixels."""
    found = []
    for n_in in range(2, 40):
        for n_out in range(1, 200):
            exact = np.minimum(((2 * np.arange(n_out) + 1) * n_in) // (2 * n_out), n_in - 1)
            if np.any(exact != running_centres(n_in, n_out)):
                found.append((n_in, n_out))
                break
        if len(found) >= limit:
            break
    return found


def test_nearest_ties_follow_pillows_running_sum() -> None:
    """2 -> 7: output 3's centre is exactly pixel 1's edge, and Pillow takes pixel 0.

    The exact centre rule (``floor((i + 0.5) * in / out)``, the float64 spec) takes pixel 1;
    upsamplekit's Pillow arithmetic takes Pillow's pixel at every such tie.
    """
    pairs = _tie_pairs(10)
    assert len(pairs) == 10 and (2, 7) in pairs
    exact_spec = Resampling.preset("pillow", "nearest").replace(coordinate_precision="float64")
    for n_in, n_out in pairs:
        for shape, size in (((n_in, 3), (n_out, 3)), ((2, n_in), (2, n_out))):
            x = _image(shape, "F")
            expected = pil(x, "nearest", size)
            np.testing.assert_array_equal(uk(x, "nearest", size), expected)
            assert not np.array_equal(uk(x, "nearest", size, spec=exact_spec), expected)


# -------------------------------------------------------------- kernels vs Pillow's C
def pillow_weights(method: str, n_in: int, n_out: int) -> np.ndarray:
    """Pillow's (out, in) weight matrix for one axis: resize the identity along its width."""
    return pil(np.eye(n_in, dtype=np.float32), method, (n_in, n_out)).T.astype(np.float64)


def table(spec: Resampling, n_in: int, n_out: int) -> np.ndarray:
    return axis_table(spec, n_in, n_out, n_out / n_in).dense()


WEIGHT = 1.2e-7  # Pillow stores its float64 weights' products with the identity as float32


@pytest.mark.parametrize("method", FILTERS)
def test_the_shared_kernels_have_pillows_supports(method: str) -> None:
    """kernels.py's filters (half-open box (-0.5, 0.5], lanczos [-3, 3)), under the float64 formulas.

    Away from exact BOX ties (odd lengths in and out have none) their weights are Pillow's to
    float32 round-off; HAMMING's float32 constants 0.54f/0.46f move a weight by ~2e-8.
    """
    exact = Resampling.preset("pillow", method).replace(coordinate_precision="float64")
    rng = np.random.default_rng(8)
    for _ in range(25):
        n_in, n_out = (int(2 * v + 1) for v in rng.integers(0, 30, 2))
        expected = pillow_weights(method, n_in, n_out)
        assert_close(table(exact, n_in, n_out), expected, WEIGHT, "Pillow's weights stored as float32")
        assert_close(table(Resampling.preset("pillow", method), n_in, n_out), expected, WEIGHT,
                     "Pillow's weights stored as float32")


def test_box_ties_need_pillows_arithmetic() -> None:
    """Where a BOX cell edge falls on a pixel centre, float round-off decides which cell it joins.

    Pillow computes ``(j - centre + 0.5) * (1 / scale)``; the float64 formulas
    ``(j - x) / scale`` land on the other side of 0.5 for some sizes. The Pillow arithmetic
    gives Pillow's weights at every size tried.
    """
    pillow = Resampling.preset("pillow", "box")
    exact = pillow.replace(coordinate_precision="float64")
    disagree = 0
    for n_in in range(1, 41):
        for n_out in range(1, 41):
            expected = pillow_weights("box", n_in, n_out)
            assert_close(table(pillow, n_in, n_out), expected, WEIGHT, "Pillow's weights stored as float32")
            disagree += not np.allclose(table(exact, n_in, n_out), expected, atol=1e-3)
    assert disagree > 0


def test_box_is_not_an_area_average() -> None:
    """3 -> 2: a pixel counts fully when its centre is in the cell [0, 1.5) or [1.5, 3).

    Pixel 1's centre is on the shared edge; the half-open box (-0.5, 0.5] gives it to output 0
    alone: [(p0 + p1) / 2, p2], where the area average would be [(p0 + p1/2) / 1.5, (p1/2 + p2) / 1.5].
    """
    x = np.array([[0.0, 1.0, 2.0]], dtype=np.float32)
    expected = pil(x, "box", (1, 2))
    assert_close(expected, [[0.5, 2.0]], 1e-7, "exact in float32")
    assert_close(uk(x, "box", (1, 2)), expected, f32_tolerance("box", (1, 3), (1, 2)), WHY["f32"])


# ------------------------------------------------------------------------------ sizes
def test_unchanged_axes_are_not_resampled() -> None:
    """Only the axis whose length changes is filtered (Pillow skips the other pass)."""
    rng = np.random.default_rng(10)
    for method in ALL:
        x = random_image(rng, (7, 9), "float32")
        np.testing.assert_array_equal(pil(x, method, (7, 9)), x)
        np.testing.assert_array_equal(uk(x, method, (7, 9)), x)
        expected = pil(x, method, (7, 4))
        assert_close(uk(x, method, (7, 4)), expected, f32_tolerance(method, (7, 9), (7, 4)), WHY["f32"])


def test_scale_factor_rounds_the_length_like_imageops_scale() -> None:
    """``ImageOps.scale`` sizes ``round(in * factor)``; the filters then use out/in."""
    from PIL import ImageOps

    rng = np.random.default_rng(11)
    for (h, w), factor in (((5, 7), 1.5), ((9, 4), 0.5), ((3, 11), 2.5), ((13, 13), 0.3)):
        x = (random_image(rng, (h, w), "float32") * 255).astype(np.uint8)
        expected = np.asarray(ImageOps.scale(Image.fromarray(x), factor, Image.Resampling.BILINEAR))
        actual = upsamplekit.resize(x[None, None], scale_factor=factor, method="bilinear", convention="pillow")[0, 0]
        assert actual.shape == expected.shape
        assert_close(actual, expected, 1, WHY["uint8"])
