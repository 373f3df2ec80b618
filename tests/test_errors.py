"""Bad input: every error names the argument, the rule and the value given."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest
import torch

import upsamplekit
from upsamplekit import Resampling, UpsampleError, resize
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError

X = torch.rand(1, 2, 5, 6)


def test_error_classes_share_one_root_and_the_builtin_bases() -> None:
    assert issubclass(InvalidArgumentError, UpsampleError) and issubclass(InvalidArgumentError, ValueError)
    assert issubclass(InvalidTypeError, UpsampleError) and issubclass(InvalidTypeError, TypeError)
    assert issubclass(OutputTooLargeError, InvalidArgumentError)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({}, r"exactly one of size and scale_factor must be given, but got neither"),
        ({"size": 4, "scale_factor": 2}, r"exactly one of size and scale_factor must be given, but got both"),
    ],
)
def test_size_and_scale_exactly_one(kwargs: dict, pattern: str) -> None:
    with pytest.raises(InvalidArgumentError, match=pattern):
        resize(X, **kwargs)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, (4, 0), (4, -1)])
def test_size_must_hold_positive_integers(bad: object) -> None:
    with pytest.raises(InvalidArgumentError, match=r"size must hold positive integers, but got " + _re(bad)):
        resize(X, size=bad)


@pytest.mark.parametrize("bad", [0, -2.0, math.nan, math.inf, -math.inf, (2.0, math.nan), "2"])
def test_scale_must_hold_finite_positive_numbers(bad: object) -> None:
    with pytest.raises(InvalidArgumentError, match=r"scale_factor must hold finite positive numbers, but got "):
        resize(X, scale_factor=bad)


def test_scale_that_rounds_to_an_empty_axis() -> None:
    with pytest.raises(InvalidArgumentError, match=r"scale_factor 0\.1 on an axis of length 5 gives an output length of 0"):
        resize(X, scale_factor=0.1)


@pytest.mark.parametrize(("name", "value"), [("size", (4, 4, 4)), ("scale_factor", (2.0,))])
def test_per_axis_lists_must_match_the_spatial_axes(name: str, value: tuple) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"{name} must have one entry per resized axis \(2\), but got {len(value)}"):
        resize(X, **{name: value})


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"method": "nearest", "align_corners": True}, r"align_corners=True does not apply to method 'nearest'"),
        ({"method": "nearest", "align_corners": False}, r"align_corners=False does not apply to method 'nearest'"),
        ({"method": "nearest", "antialias": True}, r"antialias=True does not apply to method 'nearest'"),
        ({"method": "area", "antialias": True}, r"antialias=True does not apply to method 'area'"),
        ({"method": "bilinear", "antialias": "yes"}, r"antialias must be True or False, but got 'yes'"),
        ({"coordinate_transformation_mode": "asymmetric"},
         r"coordinate_transformation_mode='asymmetric' is not an option of convention 'torch' \(its options: "),
        ({"convention": "pillow", "antialias": False}, r"antialias=False is not an option of convention 'pillow'"),
        ({"roi": (0, 0, 1, 1)}, r"roi=\(0, 0, 1, 1\) is an ONNX Resize input; use it with convention='onnx'"),
    ],
)
def test_options_that_do_not_apply(kwargs: dict, pattern: str) -> None:
    with pytest.raises(UpsampleError, match=pattern):
        resize(X, scale_factor=2, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"method": "bilenear"}, r"method \(convention 'torch'\) must be one of .*but got 'bilenear'; did you mean 'bilinear'\?"),
        ({"method": "lancsoz3", "convention": "pillow"}, r"but got 'lancsoz3'; did you mean 'lanczos3'\?"),
        ({"convention": "tensorflw"}, r"convention must be one of .*but got 'tensorflw'"),
        ({"convention": "pytorch"}, r"convention must be one of .*but got 'pytorch'; did you mean 'torch'\?"),
    ],
)
def test_misspelt_names_get_the_closest_valid_name(kwargs: dict, pattern: str) -> None:
    with pytest.raises(InvalidArgumentError, match=pattern):
        resize(X, scale_factor=2, **kwargs)


def test_output_guard_raises_before_allocating() -> None:
    start = time.perf_counter()
    with pytest.raises(OutputTooLargeError, match=r"output of shape \(1, 2, 500000, 600000\).*more than max_output_bytes="):
        resize(X, scale_factor=100000)
    assert time.perf_counter() - start < 1.0  # nothing of that size was allocated
    with pytest.raises(OutputTooLargeError, match=r"max_output_bytes=1000 "):
        resize(X, scale_factor=4, max_output_bytes=1000)
    assert resize(X, scale_factor=4, max_output_bytes=10**6).shape == (1, 2, 20, 24)


@pytest.mark.parametrize(
    ("x", "error", "pattern"),
    [
        ([[1.0, 2.0]], InvalidTypeError, r"x must be a torch.Tensor or numpy.ndarray, but got list"),
        (torch.rand(3, 4), InvalidArgumentError, r"\(N, C, \*spatial\), but got shape \(3, 4\)"),
        (np.zeros((2, 2)), InvalidArgumentError, r"but got shape \(2, 2\)"),
        (torch.zeros(1, 1, 4, dtype=torch.complex64), InvalidTypeError, r"x must be real-valued"),
    ],
)
def test_bad_inputs(x: object, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        resize(x, scale_factor=2)


def test_bool_images_resize_with_nearest_only() -> None:
    mask = torch.rand(1, 1, 3, 3) > 0.5
    assert torch.equal(resize(mask, scale_factor=2, method="nearest"), mask.repeat_interleave(2, 2).repeat_interleave(2, 3))
    with pytest.raises(InvalidTypeError, match=r"bool images can only be resized with nearest, but the spec uses kernel 'linear'"):
        resize(mask, scale_factor=2, method="linear")


def test_spec_rejects_extra_knobs_and_non_specs() -> None:
    spec = Resampling.preset("torch", "bilinear")
    with pytest.raises(InvalidArgumentError, match=r"spec= fixes every resampling knob, so align_corners=True cannot"):
        resize(X, scale_factor=2, spec=spec, align_corners=True)
    with pytest.raises(InvalidTypeError, match=r"spec must be an upsamplekit.Resampling, but got dict"):
        resize(X, scale_factor=2, spec={"kernel": "linear"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "pattern"),
    [
        ({"kernel": "bilinear"}, r"Resampling.kernel must be one of .*but got 'bilinear'; did you mean 'linear'\?"),
        ({"coordinates": "half-pixel"}, r"Resampling.coordinates must be one of .*did you mean 'half_pixel'\?"),
        ({"cubic_a": math.nan}, r"cubic_a must be a finite number, but got nan"),
        ({"lanczos_a": 0}, r"lanczos_a must be an integer >= 1, but got 0"),
        ({"kernel": "nearest", "antialias": True}, r"antialias applies to filter kernels only, not to kernel='nearest'"),
    ],
)
def test_spec_validates_its_fields(fields: dict, pattern: str) -> None:
    with pytest.raises(InvalidArgumentError, match=pattern):
        Resampling(**fields)


def test_spec_is_frozen_printable_and_replaceable() -> None:
    spec = Resampling.preset("torch", "bicubic", align_corners=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.kernel = "linear"  # type: ignore[misc]
    assert repr(spec) == "Resampling(kernel='cubic', coordinates='align_corners', coordinate_precision='torch')"
    assert eval(repr(spec), {"Resampling": Resampling}) == spec
    assert spec.replace(cubic_a=-0.5).cubic_a == -0.5
    assert "Keys a=-0.75" in spec.describe()
    with pytest.raises(InvalidArgumentError, match=r"did you mean 'replicate'"):
        spec.replace(border="replicat")


def test_public_surface_is_small() -> None:
    assert set(upsamplekit.__all__) >= {"resize", "Resampling", "UpsampleError"}
    assert len(upsamplekit.__all__) <= 16


def _re(value: object) -> str:
    import re

    return re.escape(repr(value))
