"""The per-axis arithmetic of the fold: stencils read from the resize tables, window and kernel
matrices, torch's padding modes and which low-resolution padding reproduces them (the rules of
docs/fold.md, checked against torch itself)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from upsamplekit import Resampling
from upsamplekit.folding.interp import phases_of
from upsamplekit.folding.plan import AxisPlan, border_extent, exact_extension, hr_source

NEAREST2 = (((0, 1.0),), ((0, 1.0),))
LINEAR2 = (((-1, 0.25), (0, 0.75)), ((0, 0.75), (1, 0.25)))


@pytest.mark.parametrize(("convention", "method", "options", "scale", "expected"), [
    ("torch", "nearest", {}, 3, (((0, 1.0),),) * 3),
    ("torch", "nearest-exact", {}, 4, (((0, 1.0),),) * 4),
    ("keras", "nearest", {}, 2, NEAREST2),
    ("tf", "nearest", {}, 2, NEAREST2),
    ("opencv", "nearest", {}, 3, (((0, 1.0),),) * 3),
    ("torch", "linear", {}, 2, LINEAR2),
    ("keras", "bilinear", {}, 2, LINEAR2),
    # ONNX asymmetric + round_prefer_floor at x3: positions 0, 1/3, 2/3 round to 0, 0, 1 (periodic, not o // 3)
    ("onnx", "nearest", {"coordinate_transformation_mode": "asymmetric", "nearest_mode": "round_prefer_floor"}, 3,
     (((0, 1.0),), ((0, 1.0),), ((1, 1.0),))),
    ("torch", "area", {}, 2, NEAREST2),  # adaptive average pooling enlarging by 2: one input per output
])
def test_stencils_are_read_from_the_resize_tables(convention: str, method: str, options: dict, scale: int,
                                                 expected: tuple) -> None:
    found = phases_of(Resampling.preset(convention, method, **options), scale)
    assert not isinstance(found, str), found
    assert len(found) == scale
    for got, want in zip(found, expected):
        assert [t for t, _ in got] == [t for t, _ in want]
        np.testing.assert_allclose([w for _, w in got], [w for _, w in want], rtol=0, atol=1e-7)


def test_the_stencil_reproduces_torch() -> None:
    """The x3 linear stencil, applied with edge clamping, is F.interpolate (float64, 1e-14)."""
    phases = phases_of(Resampling.preset("torch", "linear"), 3)
    x = torch.randn(1, 1, 7, dtype=torch.float64)
    want = F.interpolate(x, scale_factor=3, mode="linear")[0, 0]
    got = torch.zeros(21, dtype=torch.float64)
    for a, taps in enumerate(phases):
        for t, w in taps:
            got[a::3] += w * x[0, 0, (torch.arange(7) + t).clamp(0, 6)]
    torch.testing.assert_close(got, want, rtol=0, atol=1e-14)  # torch rounds each position once


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "zeros"])
def test_hr_source_is_torch_padding(mode: str) -> None:
    x = torch.arange(1.0, 6.0).view(1, 1, 5)
    pad = 4 if mode != "circular" else 5
    want = F.pad(x, (pad, pad), mode="constant" if mode == "zeros" else mode)[0, 0].tolist()
    got = [0.0 if (i := hr_source(h, 5, mode)) is None else float(i + 1) for h in range(-pad, 5 + pad)]
    assert got == want


def test_windows_matrices_and_runs() -> None:
    nearest = AxisPlan(2, NEAREST2, kernel=3, dilation=1, pad_lo=1, pad_hi=1)
    assert nearest.starts == (-1, 0) and nearest.width == 2 and nearest.runs == ((0, 2, 0, 1),)
    np.testing.assert_array_equal(nearest.matrix[1], [[1, 1, 0], [0, 0, 1]])  # R_1 of docs/fold.md
    x4 = AxisPlan(4, (((0, 1.0),),) * 4, kernel=3, dilation=1, pad_lo=1, pad_hi=1)
    # phase starts -1, 0, 0, 0: not affine in the phase, so two runs (two strided copies)
    assert x4.starts == (-1, 0, 0, 0) and x4.width == 2 and x4.runs == ((0, 2, 0, 1), (2, 4, 1, 0))
    assert x4.macs_ratio() == 2 / 3
    linear = AxisPlan(2, LINEAR2, kernel=3, dilation=1, pad_lo=1, pad_hi=1)
    assert linear.width == 3 and linear.macs_ratio() == 1.0


@pytest.mark.parametrize(("phases", "mode", "pad", "expected"), [
    (NEAREST2, "zeros", 1, "zeros"),
    (NEAREST2, "replicate", 2, "replicate"),
    (NEAREST2, "circular", 3, "circular"),
    (NEAREST2, "reflect", 1, "replicate"),  # HR reflect is LR replicate while the pad is below the scale
    (NEAREST2, "reflect", 2, None),
    (LINEAR2, "replicate", 1, "replicate"),
    (LINEAR2, "zeros", 1, None),
    (LINEAR2, "circular", 1, None),
    (LINEAR2, "reflect", 1, None),
])
def test_which_low_resolution_padding_is_exact(phases: tuple, mode: str, pad: int, expected: str | None) -> None:
    plan = AxisPlan(2, phases, kernel=2 * pad + 1, dilation=1, pad_lo=pad, pad_hi=pad, hr_mode=mode)
    assert exact_extension(plan) == expected


def test_border_extents() -> None:
    linear = AxisPlan(2, LINEAR2, kernel=3, dilation=1, pad_lo=1, pad_hi=1, hr_mode="zeros")
    assert border_extent(linear, "replicate") == (1, 1)  # only the padded sample differs
    assert border_extent(linear, "zeros") == (2, 2)  # and the edge sample reads the zero outside
    reflect = AxisPlan(2, NEAREST2, kernel=5, dilation=1, pad_lo=2, pad_hi=2, hr_mode="reflect")
    assert border_extent(reflect, "replicate") == (1, 1)
    plan = AxisPlan(2, LINEAR2, kernel=3, dilation=1, pad_lo=1, pad_hi=1, hr_mode="zeros", extension="zeros",
                    border=(2, 2))
    assert plan.bands(10) == [(0, 2), (18, 20)] and plan.bands(1) == [(0, 2)]
