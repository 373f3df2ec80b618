"""Parity of convention ``jax`` with ``jax.image.resize`` (jax 0.10.2, CPU).

``jax.image.resize`` takes any layout: each case gives it the spatial-only array and the
spatial output shape, and compares ``upsamplekit.resize`` on the same array with a batch and
a channel axis added. Cases are seeded random draws over 1-D to 4-D shapes whose axes grow,
shrink, keep their length or have length 1. Every JAX call with a new shape compiles (about
half a second here), so each test draws only a few shapes.

Tolerances (inputs in [0, 1), or scaled by the value range for integer images):

* nearest: 0. JAX copies pixels; upsamplekit repeats XLA's float32 index arithmetic.
* ``f32_tolerance``: JAX computes sample positions, kernel weights, their normalisation and
  the contraction in float32 (``jax_enable_x64`` is off); upsamplekit uses float64 weights.
  A float32 position ``(i + 0.5) / s - 0.5`` errs by up to ``2**-24 * in``, which moves a
  weight by at most the kernel's slope (<= 1.5) times that; each of an axis's
  ``2 * radius * max(in / out, 1) + 1`` taps also carries a float32 rounding. Summed over
  the axes this bounds the difference (loosely: typical errors are ~1e-7).
"""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import upsamplekit
from upsamplekit import Resampling
from upsamplekit.resample.conventions.jax import arithmetic_table

from tests.conftest import assert_close, on_device, random_image, to_numpy

METHODS = ("nearest", "linear", "cubic", "lanczos3", "lanczos5", "cubic-pytorch", "area")
RADIUS = {"nearest": 0.5, "linear": 1.0, "cubic": 2.0, "lanczos3": 3.0, "lanczos5": 5.0, "cubic-pytorch": 2.0,
          "area": 1.0}
WHY = "JAX computes positions, weights and sums in float32 (bound: taps * 2**-24 * (1.5 * in + 2) per axis)"


def f32_tolerance(method: str, shape: tuple[int, ...], size: tuple[int, ...]) -> float:
    """The float32 bound for one resize of [0, 1) values (see the module docstring)."""
    total = 2.0**-24
    for n, o in zip(shape, size):
        taps = 2 * RADIUS[method] * max(n / o, 1.0) + 1
        total += taps * 2.0**-24 * (1.5 * n + 2)
    return total


def draw_case(rng: np.random.Generator, ndim: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Spatial in/out shapes: every axis grows, shrinks, stays or has length 1, at random."""
    shape, size = [], []
    for _ in range(ndim):
        kind = rng.choice(["grow", "shrink", "same", "one"])
        n = int(rng.integers(2, 9 if ndim > 2 else 14))
        if kind == "grow":
            shape.append(n), size.append(int(n * rng.integers(2, 4) + rng.integers(0, 3)))
        elif kind == "shrink":
            shape.append(n + 7), size.append(int(rng.integers(1, n)))
        elif kind == "same":
            shape.append(n), size.append(n)
        else:
            one = int(rng.integers(0, 2))
            shape.append(1 if one else n), size.append(n if one else 1)
    return tuple(shape), tuple(size)


def jax_resize(x: np.ndarray, size: tuple[int, ...], method: str, antialias: bool = True) -> np.ndarray:
    return np.asarray(jax.image.resize(jnp.asarray(x), size, method=method, antialias=antialias))


def uk(x: np.ndarray, size: tuple[int, ...], method: str, device: str = "cpu", **options: object) -> np.ndarray:
    batch = on_device(x[None, None], device)
    return to_numpy(upsamplekit.resize(batch, size=size, method=method, convention="jax", **options))[0, 0]


@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("method", METHODS)
def test_every_method_in_one_to_four_dimensions(method: str, antialias: bool, device: str) -> None:
    """antialias=True covers 2-D and 4-D images, antialias=False 1-D and 3-D (nearest and area ignore it).
    On CUDA too (upsamplekit on the device, JAX on the CPU): the same float32 bound, the same selection."""
    rng = np.random.default_rng([METHODS.index(method), antialias])
    for ndim in ((2, 4) if antialias else (1, 3)):
        shape, size = draw_case(rng, ndim)
        x = random_image(rng, shape, "float32")
        expected = jax_resize(x, size, method, antialias)
        actual = uk(x, size, method, device, antialias=antialias)
        assert actual.dtype == expected.dtype == np.float32
        if method == "nearest":
            np.testing.assert_array_equal(actual, expected)
        else:
            assert_close(actual, expected, f32_tolerance(method, shape, size), WHY)


@pytest.mark.parametrize("dtype", ["uint8", "int16"])
def test_integer_images(dtype: str) -> None:
    """nearest keeps the dtype; every filter returns float32 (JAX promotes to its default float)."""
    rng = np.random.default_rng(1)
    shape, size = (5, 9), (11, 4)
    x = random_image(rng, shape, dtype)
    span = float(np.abs(x.astype(np.float64)).max()) + 1.0
    for method in ("nearest", "linear", "cubic", "area"):
        expected = jax_resize(x, size, method)
        actual = uk(x, size, method)
        assert expected.dtype == (x.dtype if method == "nearest" else np.float32)
        assert actual.dtype == expected.dtype
        if method == "nearest":
            np.testing.assert_array_equal(actual, expected)
        else:
            assert_close(actual, expected, f32_tolerance(method, shape, size) * span,
                         f"{WHY}, scaled by the value range {span:g}")


def _tie_sizes(limit: int) -> list[tuple[int, int]]:
    """(in, out) where XLA's float32 nearest and the exact centre rule pick different pixels."""
    found = []
    for n_in in range(2, 9):
        for n_out in range(2, 300):
            index = arithmetic_table(Resampling.preset("jax", "nearest"), n_in, n_out, n_out / n_in)[0][:, 0]
            exact = np.minimum(((2 * np.arange(n_out) + 1) * n_in) // (2 * n_out), n_in - 1)
            if np.any(index != exact):
                found.append((n_in, n_out))
                break
        if len(found) >= limit:
            break
    return found


@pytest.mark.parametrize(("n_in", "n_out"), [*_tie_sizes(4), (12345, 23456)])
def test_nearest_follows_xla_float32_arithmetic(n_in: int, n_out: int) -> None:
    """XLA folds ``(i + 0.5) * in / out`` into ``(i + 0.5f) * (float32(in) * (1.0f / out))``.

    At exact ties and on large images that picks other pixels than the exact centre rule
    ``floor((i + 0.5) * in / out)``; upsamplekit picks JAX's.
    """
    x = np.arange(n_in, dtype=np.float32)
    expected = jax_resize(x, (n_out,), "nearest")
    np.testing.assert_array_equal(uk(x, (n_out,), "nearest"), expected)
    exact = np.minimum(((2 * np.arange(n_out) + 1) * n_in) // (2 * n_out), n_in - 1)
    assert np.any(exact != expected)


def test_cubic_pytorch_is_plain_cubic_when_antialiased() -> None:
    """JAX swaps ``cubic-pytorch`` for ``cubic`` (a = -0.5, dropped taps) whenever antialias is on."""
    rng = np.random.default_rng(2)
    shape, size = (6, 5), (13, 3)
    x = random_image(rng, shape, "float32")
    expected = jax_resize(x, size, "cubic-pytorch", antialias=True)
    assert_close(uk(x, size, "cubic-pytorch"), expected, f32_tolerance("cubic", shape, size), WHY)
    np.testing.assert_array_equal(uk(x, size, "cubic-pytorch"), uk(x, size, "cubic"))
    torch_like = jax_resize(x, size, "cubic-pytorch", antialias=False)
    assert np.abs(torch_like - expected).max() > 1e-3  # a = -0.75 with the edge replicated instead
    assert_close(uk(x, size, "cubic-pytorch", antialias=False), torch_like, f32_tolerance("cubic", shape, size), WHY)
