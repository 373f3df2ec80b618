"""``resize``'s Python-layer caches (preset resolution, whole-call plans) change no result and
skip no validation.

A repeated call reuses the plan of the first (same shape, dtype and arguments): its result must
equal an uncached call's bit for bit, and an argument that differs only in type (``size=True``
after ``size=1``, ``antialias=1.0`` after ``antialias=1``) must still be refused. Calls are drawn
by hypothesis over conventions, methods, sizes and scales.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import upsamplekit
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError
from upsamplekit.resample import api

from tests.conftest import random_image

CALLS = [("torch", "bilinear", {}), ("torch", "bicubic", {"antialias": True}), ("torch", "nearest", {}),
         ("jax", "lanczos3", {}), ("pillow", "bicubic", {}), ("opencv", "area", {}),
         ("onnx", "cubic", {"exclude_outside": 1, "coordinate_transformation_mode": "half_pixel_symmetric"})]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(call=st.sampled_from(CALLS), shape=st.tuples(st.integers(3, 12), st.integers(3, 12)),  # scale 0.37 keeps >= 1
       by_size=st.booleans(), factor=st.sampled_from([0.37, 0.5, 1.5, 2.0, 3.0]), seed=st.integers(0, 2**16))
def test_cached_calls_equal_uncached_calls(call: tuple[str, str, dict[str, Any]], shape: tuple[int, int],
                                           by_size: bool, factor: float, seed: int) -> None:
    convention, method, options = call
    x = torch.from_numpy(random_image(np.random.default_rng(seed), (1, 2, *shape), "float32"))
    sizes = [max(1, round(n * factor)) for n in shape]
    target: dict[str, Any] = {"size": sizes} if by_size else {"scale_factor": factor}
    api._CALLS.clear()
    api._cached_preset.cache_clear()
    first = upsamplekit.resize(x, method=method, convention=convention, **target, **options)
    assert len(api._CALLS) == 1, "the call was planned and remembered"
    again = upsamplekit.resize(x, method=method, convention=convention, **target, **options)
    assert torch.equal(first, again)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api, "_call_key", lambda *args: None)  # no plan cache
        api._cached_preset.cache_clear()
        uncached = upsamplekit.resize(x, method=method, convention=convention, **target, **options)
    assert torch.equal(first, uncached)


def test_an_argument_of_another_type_is_validated_again() -> None:
    x = torch.zeros(1, 1, 4, 4)
    upsamplekit.resize(x, size=1)
    with pytest.raises(InvalidArgumentError, match="size must hold positive integers"):
        upsamplekit.resize(x, size=True)  # bool is an int to Python, not a length
    upsamplekit.resize(x, size=2, method="bilinear", antialias=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="antialias must be True or False"):
        upsamplekit.resize(x, size=2, method="bilinear", antialias=1.0)  # type: ignore[arg-type]


def test_the_output_guard_follows_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.zeros(1, 1, 4, 4)
    upsamplekit.resize(x, size=8)
    monkeypatch.setattr(api, "DEFAULT_MAX_OUTPUT_BYTES", 16)
    with pytest.raises(OutputTooLargeError):
        upsamplekit.resize(x, size=8)


def test_unhashable_arguments_are_planned_every_time() -> None:
    x = torch.rand(1, 1, 4, 4)
    scale = np.array([2.0, 3.0])
    api._CALLS.clear()
    out = upsamplekit.resize(x, scale_factor=scale, method="bilinear")  # type: ignore[arg-type]
    assert out.shape == (1, 1, 8, 12) and not api._CALLS
