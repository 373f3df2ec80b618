"""Parity with ``torch.nn.functional.interpolate`` (torch 2.13, CPU) for ``convention="torch"``.

Two engines are checked against F.interpolate:

* the native path (``upsamplekit.resample.fast``) calls the very aten kernel F.interpolate
  calls, so it must agree exactly (atol=0), in float64 and float32, channels-last included;
* the gather-table engine, forced with ``fast._tables_only()``, builds float64 tables from the
  spec. Filters must agree to float64 round-off (atol=1e-12 on values in [0, 1): torch and
  upsamplekit evaluate the weights by different formulas and sum in different orders).
  Nearest must agree exactly: the tables repeat aten's float32 index arithmetic, so its
  references run in float32 on float32-representable values (a selection copies them exactly).

Torch has no 4-D or 5-D resize: there the reference applies torch's 1-D operation along each
axis in turn (every mode here is separable).

The central checks also run on CUDA where there is a GPU (``DEVICES``): the native path against
F.interpolate on the same device (the same aten kernel, so the same bounds), the table engine on the
device against the CPU reference (float64 tables: the same round-off; nearest: the same selection).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import upsamplekit
from upsamplekit import Resampling
from upsamplekit.resample import fast
from upsamplekit.resample.fast import _tables_only
from upsamplekit.resample.tables import axis_table

from tests.conftest import DEVICES, assert_close, random_image

SETTINGS = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
ROUND_OFF = 1e-12


@dataclass(frozen=True)
class Mode:
    """One F.interpolate mode, the spatial ranks torch has it for, and its flags."""

    method: str
    dims: tuple[int, ...]
    options: dict[str, bool] = field(default_factory=dict)

    @property
    def antialias(self) -> bool:
        return self.options.get("antialias", False)

    def __repr__(self) -> str:
        flags = "".join(f",{k}" for k, v in self.options.items() if v)
        return f"{self.method}{flags}"


AC = {"align_corners": True}
AA = {"antialias": True}
MODES = [
    Mode("nearest", (1, 2, 3)),
    Mode("nearest-exact", (1, 2, 3)),
    Mode("linear", (1,)), Mode("linear", (1,), AC),
    Mode("bilinear", (2,)), Mode("bilinear", (2,), AC),
    Mode("trilinear", (3,)), Mode("trilinear", (3,), AC),
    Mode("bicubic", (2,)), Mode("bicubic", (2,), AC),
    Mode("bilinear", (2,), AA), Mode("bilinear", (2,), {**AA, **AC}),
    Mode("bicubic", (2,), AA), Mode("bicubic", (2,), {**AA, **AC}),
    Mode("area", (1, 2, 3)),
]
# Scales that users write, non-integers whose products land on or near integers, large factors.
SCALES = (0.37, 0.5, 1.0, 1.2, 1.5, 2.0, 7 / 3, 3.0, 4.0, 16.0, 1 / 3, 0.7)


@dataclass(frozen=True)
class Case:
    mode: Mode
    shape: tuple[int, ...]
    size: tuple[int, ...] | None = None
    scale: tuple[float, ...] | None = None
    recompute: bool | None = None

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments F.interpolate and upsamplekit.resize share."""
        size = None if self.size is None else list(self.size)
        scale = None if self.scale is None else list(self.scale)
        return {"size": size, "scale_factor": scale, "recompute_scale_factor": self.recompute, **self.mode.options}


@st.composite
def cases(draw: st.DrawFn, modes: list[Mode] = MODES, dims: tuple[int, ...] | None = None) -> Case:
    mode = draw(st.sampled_from(modes))
    nd = draw(st.sampled_from(dims or mode.dims))
    longest, out_cap = {1: (40, 400), 2: (13, 100), 3: (6, 20), 4: (4, 8), 5: (3, 5)}[nd]
    ins = tuple(draw(st.integers(1, longest)) for _ in range(nd))
    shape = (draw(st.integers(1, 2)), draw(st.sampled_from([1, 2, 3, 5])), *ins)
    if draw(st.booleans()):
        size = tuple(draw(st.integers(1, min(16 * i, out_cap))) for i in ins)
        return Case(mode, shape, size=size)
    factor = st.sampled_from(SCALES) | st.floats(0.05, 16.0)
    scale = tuple(draw(factor.filter(lambda s, i=i: 1 <= int(i * s) <= out_cap)) for i in ins)
    return Case(mode, shape, scale=scale, recompute=draw(st.sampled_from([None, False, True])))


# ------------------------------------------------------------------------------ references
def interpolate(x: torch.Tensor, case: Case) -> torch.Tensor:
    """F.interpolate, except where torch 2.13's antialias kernel is wrong.

    Its channels-first antialiased kernels repeat the first output row when the output width
    is 1 (see test_antialias_width_one_bug): such calls run on torch's channels-last kernel,
    with the channels doubled so that C > 1 (with C == 1 both layouts are the same memory).
    """
    out = F.interpolate(x, mode=case.mode.method, **case.kwargs())
    if not (case.mode.antialias and out.shape[-1] == 1 and out.shape[-2] != x.shape[-2]):
        return out
    doubled = x.repeat(1, 2, 1, 1).contiguous(memory_format=torch.channels_last)
    return F.interpolate(doubled, mode=case.mode.method, **case.kwargs())[:, : x.shape[1]]


def along_axes(x: torch.Tensor, case: Case) -> torch.Tensor:
    """torch's 1-D resize applied along each spatial axis in turn (any spatial rank).

    Modes torch has in 2-D only (bicubic, antialias) resize the width of a height-1 image:
    the unchanged height is skipped (antialias) or copied exactly (cubic at position i).
    """
    nd = x.dim() - 2
    for k in range(nd):
        moved = x.movedim(2 + k, -1)
        flat = moved.reshape(-1, 1, 1, moved.shape[-1])
        size = None if case.size is None else case.size[k]
        scale = None if case.scale is None else case.scale[k]
        options = {"recompute_scale_factor": case.recompute, **case.mode.options}
        if case.mode.method == "bicubic" or case.mode.antialias:
            out = F.interpolate(flat, size=None if size is None else [1, size],
                                scale_factor=None if scale is None else [1.0, scale],
                                mode=case.mode.method, **options)[:, :, 0]
        else:
            method = "linear" if case.mode.method in ("bilinear", "trilinear") else case.mode.method
            out = F.interpolate(flat[:, :, 0], size=size, scale_factor=scale, mode=method, **options)
        x = out.reshape(*moved.shape[:-1], out.shape[-1]).movedim(-1, 2 + k)
    return x


def float32_values(rng: np.random.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    """A float64 image whose values float32 holds exactly."""
    return torch.from_numpy(random_image(rng, shape, "float32").astype(np.float64))


def resize(x: Any, case: Case, **extra: Any) -> Any:
    return upsamplekit.resize(x, method=case.mode.method, **case.kwargs(), **extra)


# ------------------------------------------------------------------------------ native path
@pytest.mark.parametrize("device", DEVICES)
@settings(SETTINGS)
@given(case=cases(), dtype=st.sampled_from([torch.float64, torch.float32]))
def test_native_path_is_interpolate(case: Case, dtype: torch.dtype, device: str) -> None:
    x = torch.from_numpy(random_image(np.random.default_rng(1), case.shape, "float64")).to(dtype).to(device)
    expected = interpolate(x, case).cpu()  # F.interpolate on the same device: the same aten kernel
    # An antialiased output of width 1 is torch's two passes against its channels-last kernel.
    width_one = case.mode.antialias and expected.shape[-1] == 1
    atol = (ROUND_OFF if dtype == torch.float64 else 1e-6) if width_one else 0.0
    assert_close(resize(x, case).cpu(), expected, atol=atol,
                 why="the same aten kernel (width-1 antialias: same passes)")


@pytest.mark.parametrize("mode", MODES, ids=repr)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.uint8])
def test_native_path_is_taken_wherever_torch_has_the_kernel(mode: Mode, dtype: torch.dtype) -> None:
    """The fast path serves every mode, rank and dtype F.interpolate serves, and nothing else."""
    spec = Resampling.preset("torch", mode.method, **mode.options)
    linear = {1: "linear", 2: "bilinear", 3: "trilinear", 4: "linear"}
    for nd in (1, 2, 3, 4):
        x = torch.zeros((1, 2) + (5,) * nd, dtype=dtype)
        torch_mode = linear[nd] if mode.method in linear.values() else mode.method
        try:
            F.interpolate(x, size=[7] * nd, mode=torch_mode, **mode.options)
            torch_has_it = True
        except (RuntimeError, NotImplementedError, ValueError):
            torch_has_it = False
        taken = fast.native_resize(x, spec, [7] * nd, [7 / 5] * nd) is not None
        assert taken == torch_has_it, f"{nd}-D {dtype}: torch has it: {torch_has_it}, native path taken: {taken}"


@settings(SETTINGS, max_examples=60)
@given(case=cases(modes=[m for m in MODES if 2 in m.dims or 3 in m.dims]))
def test_channels_last_is_interpolate_on_the_permuted_tensor(case: Case) -> None:
    nd = len(case.shape) - 2
    assume(nd > 1)  # channels-last memory formats are 2-D and 3-D
    nhwc = torch.from_numpy(random_image(np.random.default_rng(2), (case.shape[0], *case.shape[2:], case.shape[1])))
    to_first, to_last = [0, nd + 1, *range(1, nd + 1)], [0, *range(2, nd + 2), 1]
    expected = interpolate(nhwc.permute(to_first), case).permute(to_last)
    width_one = case.mode.antialias and expected.shape[-2] == 1
    assert_close(resize(nhwc, case, channels_last=True), expected, atol=1e-6 if width_one else 0.0,
                 why="the same aten kernel on channels-last memory (width-1 antialias: float32 passes)")


@settings(SETTINGS, max_examples=40)
@given(case=cases())
def test_numpy_in_numpy_out(case: Case) -> None:
    x = random_image(np.random.default_rng(3), case.shape, "float32")
    actual = resize(x, case)
    assert isinstance(actual, np.ndarray) and actual.dtype == np.float32
    assert_close(actual, resize(torch.from_numpy(x), case).numpy(), atol=0, why="the same computation")


# ------------------------------------------------------------------------------ table engine
@pytest.mark.parametrize("device", DEVICES)
@settings(SETTINGS, max_examples=300)
@given(case=cases())
def test_table_engine_matches_interpolate(case: Case, device: str) -> None:
    x = float32_values(np.random.default_rng(4), case.shape)
    with _tables_only():  # float64 tables on the device; the references run on the CPU
        actual = resize(x.to(device), case).cpu()
    if case.mode.method.startswith("nearest"):
        # torch's float32 indices (its generic kernel, which 1-D calls always take).
        expected = along_axes(x.float(), case).double()
        assert_close(actual, expected, atol=0, why="the same float32 index arithmetic selects the same pixels")
    else:
        assert_close(actual, interpolate(x, case), atol=ROUND_OFF, why="float64 round-off")


@settings(SETTINGS, max_examples=100)
@given(case=cases(dims=(4, 5)))
def test_four_and_five_spatial_dims_compose_torch_1d(case: Case) -> None:
    x = float32_values(np.random.default_rng(5), case.shape)
    nearest = case.mode.method.startswith("nearest")
    expected = along_axes(x.float(), case).double() if nearest else along_axes(x, case)
    assert_close(resize(x, case), expected, atol=0 if nearest else ROUND_OFF,
                 why="separable: exact selection for nearest, float64 round-off for filters")


@pytest.mark.parametrize("mode", [m for m in MODES if m.method != "area"], ids=repr)
def test_unchanged_length_with_a_scale_follows_torch(mode: Mode) -> None:
    """An axis whose length stays (4 * 1.2 -> 4) is copied by torch's linear and antialiased
    kernels (and by align_corners, which ignores the scale) and resampled at i / 1.2 by cubic
    and by nearest's generic kernel; both engines do what torch does."""
    nd = mode.dims[0]
    x = float32_values(np.random.default_rng(6), (1, 2) + (4,) * nd)
    case = Case(mode, tuple(x.shape), scale=(1.2,) * nd)
    nearest = mode.method.startswith("nearest")
    reference = along_axes(x.float(), case).double() if nearest else interpolate(x, case)
    copies = mode.method in ("linear", "bilinear", "trilinear") or bool(mode.options)  # align_corners: i -> i
    assert torch.equal(reference, x) == copies
    assert_close(resize(x, case), interpolate(x, case), atol=0, why="native: the same kernel")
    with _tables_only():
        assert_close(resize(x, case), reference, atol=0 if nearest else ROUND_OFF, why="float64 round-off")


@pytest.mark.parametrize("method", ["nearest", "nearest-exact"])
def test_nearest_tables_repeat_aten_float32_indices(method: str) -> None:
    """Every length pair up to 48 -> 160 and 400 random scale factors: the table's indices are
    those F.interpolate picks for float32 (1-D: its generic kernel), including the exact ties
    where float64 positions pick another pixel (the grid holds such ties, checked below)."""
    spec = Resampling.preset("torch", method)
    float64 = spec.replace(coordinate_precision="float64")
    rng = np.random.default_rng(9)
    calls = [(n, m, None) for n in range(1, 49) for m in range(1, 161)]
    calls += [(int(n), None, float(s)) for n, s in zip(rng.integers(1, 49, 400), rng.uniform(0.05, 16, 400))]
    ties = 0
    for n, m, s in calls:
        if m is None and int(n * s) < 1:
            continue
        expected = F.interpolate(torch.arange(n, dtype=torch.float32).view(1, 1, n), size=m, scale_factor=s,
                                 mode=method)[0, 0].long().numpy()
        out = expected.size
        scale = out / n if s is None else s
        index = axis_table(spec, n, out, scale).index[:, 0]
        np.testing.assert_array_equal(index, expected, err_msg=f"{n} -> {out} (scale_factor {s})")
        ties += not np.array_equal(axis_table(float64, n, out, scale).index[:, 0], expected)
    assert ties > 50, "the grid must hold cases where float64 positions pick another pixel"


# ------------------------------------------------------------------------------ torch's quirks
def test_nearest_indices_use_float32_and_depend_on_the_kernel() -> None:
    """aten's nearest indices come from float32 products, and which float32 steps (and special
    cases) depends on the dtype and the kernel aten picks; the native path returns what
    F.interpolate returns, the tables repeat the generic float32 kernel."""
    ramp = torch.arange(2, dtype=torch.float32).view(1, 1, 2)
    # 41 * float32(2 / 82) = 0.99999994: pixel 0, where exact arithmetic (and float64) gives 1.
    assert F.interpolate(ramp, size=82, mode="nearest")[0, 0, 41] == 0
    assert F.interpolate(ramp.double(), size=82, mode="nearest")[0, 0, 41] == 1
    # (20 + 0.5) * 2 / 41 = 1 exactly: the generic kernel (1-D; 2-D with H + W > 128) fuses
    # s * (i + 0.5) - 0.5 and gets 1; the channels-last kernel (2-D, H + W <= 128) rounds the
    # product to float32 first and gets 0.
    image = torch.arange(2, dtype=torch.float32).expand(1, 1, 2, 2)
    assert F.interpolate(ramp, size=41, mode="nearest-exact")[0, 0, 20] == 1
    assert F.interpolate(image, size=(200, 41), mode="nearest-exact")[0, 0, 0, 20] == 1
    assert F.interpolate(image, size=(41, 41), mode="nearest-exact")[0, 0, 0, 20] == 0
    # The channels-last kernel also copies an unchanged length and halves out == 2 * in, whatever
    # the scale; the generic kernel applies it (4 * 1.2 -> 4 samples at i / 1.2, 4 * 2.2 -> 8).
    row = torch.arange(4, dtype=torch.float32).view(1, 1, 1, 4)
    assert F.interpolate(row, scale_factor=(1, 1.2), mode="nearest").flatten().tolist() == [0, 1, 2, 3]
    assert F.interpolate(row[0], scale_factor=1.2, mode="nearest").flatten().tolist() == [0, 0, 1, 2]
    assert F.interpolate(row, scale_factor=(1, 2.2), mode="nearest").flatten().tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert F.interpolate(row[0], scale_factor=2.2, mode="nearest").flatten().tolist() == [0, 0, 0, 1, 1, 2, 2, 3]
    for method, size, i, pixel in (("nearest", 82, 41, 0), ("nearest-exact", 41, 20, 1)):
        with _tables_only():
            assert upsamplekit.resize(ramp.double(), size=size, method=method)[0, 0, i] == pixel
        assert upsamplekit.resize(image, size=(41, 41), method=method).equal(
            F.interpolate(image, size=(41, 41), mode=method))  # native: the kernel torch picks
    for scale in (1.2, 2.2):
        native = upsamplekit.resize(row, scale_factor=(1, scale), method="nearest")
        assert native.equal(F.interpolate(row, scale_factor=(1, scale), mode="nearest"))
        with _tables_only():
            tables = upsamplekit.resize(row, scale_factor=(1, scale), method="nearest")
        assert tables.flatten().equal(F.interpolate(row[0], scale_factor=scale, mode="nearest").flatten())


@pytest.mark.parametrize("method", ["bilinear", "bicubic"])
def test_antialias_with_align_corners_keeps_half_pixel_centres(method: str) -> None:
    """torch's antialias path with align_corners=True changes only the scale to (in-1)/(out-1):
    corners are not kept (unlike align_corners without antialias)."""
    ramp = torch.linspace(0, 1, 6, dtype=torch.float64).expand(1, 1, 6, 6)
    torch_result = F.interpolate(ramp, size=(3, 3), mode=method, antialias=True, align_corners=True)
    assert abs(float(torch_result[0, 0, 0, 0])) > 1e-3
    spec = Resampling.preset("torch", method, antialias=True, align_corners=True)
    assert spec.coordinates == "pytorch_antialias_align_corners"
    for native in (True, False):
        with nullcontext() if native else _tables_only():
            actual = upsamplekit.resize(ramp, size=3, method=method, antialias=True, align_corners=True)
        assert_close(actual, torch_result, atol=ROUND_OFF, why="float64 round-off")


def test_antialias_width_one_bug() -> None:
    """torch 2.13: a channels-first antialiased resize to width 1 repeats the first output row
    (its vertical pass ignores the weight strides). upsamplekit returns the correct result, which
    is torch's own channels-last kernel's (uint8 included: see also tests/test_dtypes.py)."""
    x = torch.from_numpy(random_image(np.random.default_rng(7), (1, 3, 9, 5), "float64"))
    wrong = F.interpolate(x, size=(4, 1), mode="bilinear", antialias=True)
    assert torch.equal(wrong, wrong[:, :, :1].expand_as(wrong))
    right = F.interpolate(x.contiguous(memory_format=torch.channels_last), size=(4, 1), mode="bilinear", antialias=True)
    assert not torch.equal(right, wrong)
    assert_close(upsamplekit.resize(x, size=(4, 1), method="bilinear", antialias=True), right, atol=ROUND_OFF,
                 why="float64 round-off between torch's two kernels")
    image = torch.from_numpy(random_image(np.random.default_rng(8), (1, 3, 9, 5), "uint8"))
    doubled = image.repeat(1, 2, 1, 1).contiguous(memory_format=torch.channels_last)
    assert torch.equal(upsamplekit.resize(image, size=(4, 1), method="bicubic", antialias=True),
                       F.interpolate(doubled, size=(4, 1), mode="bicubic", antialias=True)[:, :3])


def test_recompute_scale_factor_changes_the_coordinates() -> None:
    """Without recompute, 5 -> 7 with scale 1.5 samples at i / 1.5; with it, at i * 5 / 7."""
    x = torch.arange(5, dtype=torch.float64).view(1, 1, 5)
    kept = upsamplekit.resize(x, scale_factor=1.5, method="linear", align_corners=False)
    recomputed = upsamplekit.resize(x, scale_factor=1.5, method="linear", recompute_scale_factor=True)
    assert kept.shape == recomputed.shape == (1, 1, 7)
    assert not torch.allclose(kept, recomputed)
    assert torch.equal(kept, F.interpolate(x, scale_factor=1.5, mode="linear"))
    assert torch.equal(recomputed, F.interpolate(x, size=7, mode="linear"))


