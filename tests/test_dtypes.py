"""Dtypes under ``convention="torch"``, against F.interpolate (torch 2.13, CPU) where torch has
the dtype and against a rounded, saturated float64 reference where it does not.

* float16 / bfloat16: the native path runs torch's own kernel on the tensor (torch stores the
  weights in that dtype and sums in float32): exact. The table engine sums float32 products of
  float64-derived weights and rounds once: within one machine epsilon of the dtype on values in
  [0, 1) (that is two units in the last place near 1). Antialias, which torch lacks for these
  dtypes, is F.interpolate in float32, rounded: within the same epsilon.
* uint8: torch's nearest, bilinear, bicubic and antialiased kernels (int16 fixed-point weights,
  rounded and clamped after each pass) run as they are: exact. Where torch has no uint8 kernel,
  the exact result is rounded half to even and clamped: exact, except within 1e-9 of a half
  (float64 round-off decides those ties), where 1 is allowed.
* int16 / int32 / int64 / bool: nearest copies values exactly (checked against NumPy fancy
  indexing, with values beyond 2**53 that any float conversion would change); filters on other
  integer dtypes round and clamp like uint8; bool with a filter is an error.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import upsamplekit
from upsamplekit.errors import InvalidTypeError
from upsamplekit.resample.fast import _tables_only

from tests.conftest import assert_close, random_image

# (upsamplekit method, F.interpolate mode per spatial rank, flags)
FILTERS = [
    ("linear", {1: "linear", 2: "bilinear", 3: "trilinear"}, {}),
    ("linear", {1: "linear", 2: "bilinear", 3: "trilinear"}, {"align_corners": True}),
    ("cubic", {2: "bicubic"}, {}),
    ("cubic", {2: "bicubic"}, {"align_corners": True}),
    ("linear", {2: "bilinear"}, {"antialias": True}),
    ("cubic", {2: "bicubic"}, {"antialias": True}),
    ("cubic", {2: "bicubic"}, {"antialias": True, "align_corners": True}),
    ("area", {1: "area", 2: "area", 3: "area"}, {}),
]
NEAREST = [("nearest", {1: "nearest", 2: "nearest", 3: "nearest"}, {}),
           ("nearest-exact", {1: "nearest-exact", 2: "nearest-exact", 3: "nearest-exact"}, {})]
MODES = NEAREST + FILTERS
IDS = [f"{m}{''.join('-' + k for k, v in o.items() if v)}" for m, _, o in MODES]


def _calls(rng: np.random.Generator, dims: list[int], count: int) -> list[tuple[int, tuple[int, ...], Any, Any]]:
    """Seeded (rank, input shape, size, scale_factor) draws: length-1 and odd axes, shrinking,
    enlarging up to 16x, non-integer scales."""
    found = []
    for _ in range(count):
        nd = int(rng.choice(dims))
        longest = {1: 30, 2: 12, 3: 6}[nd]
        ins = tuple(int(v) for v in rng.integers(1, longest + 1, nd))
        shape = (int(rng.integers(1, 3)), int(rng.choice([1, 2, 3, 5])), *ins)
        if rng.random() < 0.5:
            size = [int(rng.integers(1, min(16 * i, 3 * longest) + 1)) for i in ins]
            found.append((nd, shape, size, None))
        else:
            scale = [float(rng.choice([0.37, 0.5, 1.5, 2.0, 7 / 3, 4.0])) for _ in ins]
            if all(int(i * s) >= 1 for i, s in zip(ins, scale)):
                found.append((nd, shape, None, scale))
    return found


def _interpolate(x: torch.Tensor, mode: str, size: Any, scale: Any, options: dict[str, bool]) -> torch.Tensor:
    """F.interpolate; a 2-D call of output width 1 on torch's separable kernels (antialias; uint8
    bilinear and bicubic) runs on its channels-last kernel, with C > 1: the channels-first one
    repeats the first row there (see test_uint8_output_width_one_is_torchs_correct_kernel)."""
    separable = options.get("antialias") or x.dtype == torch.uint8 and mode in ("bilinear", "bicubic")
    shape = F.interpolate(x[:1, :1], size=size, scale_factor=scale, mode=mode, **options).shape
    if not (separable and shape[-1] == 1 and shape[-2] != x.shape[-2]):
        return F.interpolate(x, size=size, scale_factor=scale, mode=mode, **options)
    doubled = x.repeat(1, 2, 1, 1).contiguous(memory_format=torch.channels_last)
    return F.interpolate(doubled, size=size, scale_factor=scale, mode=mode, **options)[:, : x.shape[1]]


def _torch_has(dtype: torch.dtype, mode: str, nd: int, options: dict[str, bool]) -> bool:
    try:
        F.interpolate(torch.zeros((1, 1) + (4,) * nd, dtype=dtype), size=[6] * nd, mode=mode, **options)
    except (RuntimeError, NotImplementedError):
        return False
    return True


# ------------------------------------------------------------------------- float16, bfloat16
@pytest.mark.parametrize(("method", "modes", "options"), MODES, ids=IDS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_as_torch_computes_it(method: str, modes: dict[int, str],
                                                         options: dict[str, bool], dtype: torch.dtype) -> None:
    rng = np.random.default_rng(0)
    eps = torch.finfo(dtype).eps
    for nd, shape, size, scale in _calls(rng, list(modes), 16):
        x = torch.from_numpy(random_image(rng, shape, "float32")).to(dtype)
        native = _torch_has(dtype, modes[nd], nd, options)
        expected = _interpolate(x if native else x.float(), modes[nd], size, scale, options).to(dtype)
        actual = upsamplekit.resize(x, size=size, scale_factor=scale, method=method, **options)
        assert actual.dtype == dtype
        assert_close(actual.double(), expected.double(), atol=0 if native else eps,
                     why="torch's own kernel" if native else "float32, rounded once (torch lacks the dtype)")
        if method.startswith("nearest"):
            continue  # the tables' indices: tests/parity/test_torch.py (a selection is exact in any dtype)
        with _tables_only():
            tables = upsamplekit.resize(x, size=size, scale_factor=scale, method=method, **options)
        assert_close(tables.double(), expected.double(), atol=eps, why=f"float32 sums of float64 weights vs "
                     f"{dtype} weights" if native else "float32 sums, float64 vs float32 weights")


# ------------------------------------------------------------------------- uint8
@pytest.mark.parametrize(("method", "modes", "options"), MODES, ids=IDS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_uint8_is_torch_where_torch_has_it_else_rounded_and_saturated(
        method: str, modes: dict[int, str], options: dict[str, bool], channels_last: bool) -> None:
    rng = np.random.default_rng(1)
    for nd, shape, size, scale in _calls(rng, list(modes), 40):
        x = torch.from_numpy(random_image(rng, shape, "uint8"))
        kwargs = {"size": size, "scale_factor": scale, "method": method, **options}
        if channels_last:
            if nd == 1:
                continue
            # The reference sees the same memory: an (N, *spatial, C) image viewed as NC*spatial.
            x = x.permute([0, *range(2, nd + 2), 1]).contiguous().permute([0, nd + 1, *range(1, nd + 1)])
            actual = upsamplekit.resize(x.permute([0, *range(2, nd + 2), 1]), channels_last=True, **kwargs)
            actual = actual.permute([0, nd + 1, *range(1, nd + 1)])
        else:
            actual = upsamplekit.resize(x, **kwargs)
        assert actual.dtype == torch.uint8
        if _torch_has(torch.uint8, modes[nd], nd, options):
            expected = _interpolate(x, modes[nd], size, scale, options)
            assert torch.equal(actual, expected), f"{nd}-D {shape} -> {tuple(expected.shape)}"
            continue
        exact = F.interpolate(x.double(), size=size, scale_factor=scale, mode=modes[nd], **options)
        _assert_rounded_and_saturated(actual, exact, 0, 255)


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5])
def test_uint8_output_width_one_is_torchs_correct_kernel(channels: int) -> None:
    """torch 2.13's uint8 bilinear and bicubic (antialiased or not) to an output width of 1: the
    separable channels-first kernel (C > 4; any C without AVX2) repeats the first output row, and
    the AVX2 kernel fails an internal assert for C == 3 and a 1 x 1 output (checked on AVX2 CPUs). upsamplekit returns
    what torch's channels-last kernel returns (channels doubled, so that C > 1) in every case."""
    rng = np.random.default_rng(4)
    for method, aa, ac in itertools.product(("bilinear", "bicubic"), (False, True), (False, True)):
        for _ in range(3):
            h, w, oh = (int(v) for v in rng.integers(1, 20, 3))
            x = torch.from_numpy(random_image(rng, (2, channels, h + 1, w), "uint8"))
            size = (oh if oh != h + 1 else oh + 1, 1)
            options = {"antialias": aa, "align_corners": ac}
            expected = F.interpolate(x.repeat(1, 2, 1, 1).contiguous(memory_format=torch.channels_last), size=size,
                                     mode=method, **options)[:, :channels]
            actual = upsamplekit.resize(x, size=size, method="cubic" if method == "bicubic" else "linear", **options)
            assert torch.equal(actual, expected), f"{method} {options} {tuple(x.shape)} -> {size}"
    x = torch.from_numpy(random_image(rng, (1, channels, 9, 4), "uint8"))
    if channels > 4:
        wrong = F.interpolate(x, size=(5, 1), mode="bilinear")
        assert torch.equal(wrong, wrong[:, :, :1].expand_as(wrong))
        assert not torch.equal(upsamplekit.resize(x, size=(5, 1), method="linear"), wrong)
    if channels == 3:
        if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):
            with pytest.raises(RuntimeError, match="INTERNAL ASSERT"):
                F.interpolate(x, size=(1, 1), mode="bilinear")
        expected = F.interpolate(x.repeat(1, 2, 1, 1).contiguous(memory_format=torch.channels_last), size=(1, 1),
                                 mode="bilinear")[:, :3]
        assert torch.equal(upsamplekit.resize(x, size=(1, 1), method="linear"), expected)


def _assert_rounded_and_saturated(actual: torch.Tensor, exact: torch.Tensor, low: int, high: int) -> None:
    expected = exact.round().clamp(low, high)
    # Within float64 round-off of a half (relative to the largest value), either neighbour.
    tie = (exact - exact.floor() - 0.5).abs() < 1e-9 + 1e-14 * float(exact.abs().max())
    assert torch.equal(actual.double()[~tie], expected[~tie])
    assert_close(actual.double()[tie].numpy(), expected[tie].numpy(), atol=1, why="a half rounds either way")


@pytest.mark.parametrize("antialias", [False, True])
def test_uint8_bicubic_overshoot_saturates_in_torch_and_upsamplekit(antialias: bool) -> None:
    """A 0/255 step overshoots below 0 and above 255 in bicubic; torch's uint8 kernel saturates
    (after each pass), and upsamplekit's integer path clamps before it casts (no wrap-around)."""
    step = torch.zeros(1, 1, 6, 8, dtype=torch.uint8)
    step[..., 4:] = 255
    step[..., 3:, :] = 255 - step[..., 3:, :]
    size = (6, 13) if not antialias else (5, 7)
    exact = F.interpolate(step.double(), size=size, mode="bicubic", antialias=antialias)
    assert exact.min() < -1 and exact.max() > 256  # the overshoot
    torch_uint8 = F.interpolate(step, size=size, mode="bicubic", antialias=antialias)
    under, over = exact < -0.5, exact > 255.5
    assert torch.all(torch_uint8[under] == 0) and torch.all(torch_uint8[over] == 255)
    assert torch.equal(upsamplekit.resize(step, size=size, method="bicubic", antialias=antialias), torch_uint8)
    with _tables_only():
        tables = upsamplekit.resize(step, size=size, method="bicubic", antialias=antialias)
    assert torch.all(tables[under] == 0) and torch.all(tables[over] == 255)
    _assert_rounded_and_saturated(tables, exact, 0, 255)
    wide = step.to(torch.int16) * 128  # 0 / 32640: the overshoot passes int16's 32767
    wide_exact = F.interpolate(wide.double(), size=size, mode="bicubic", antialias=antialias)
    assert wide_exact.max() > 32767.5
    clamped = upsamplekit.resize(wide, size=size, method="bicubic", antialias=antialias)
    assert clamped.dtype == torch.int16 and int(clamped.max()) == 32767
    _assert_rounded_and_saturated(clamped, wide_exact, -32768, 32767)


@pytest.mark.parametrize("dtype", [torch.int8, torch.int16, torch.int32])
def test_other_integer_dtypes_round_and_saturate_filters(dtype: torch.dtype) -> None:
    """torch has no filter for these dtypes: the exact result, rounded half to even and clamped."""
    rng = np.random.default_rng(2)
    info = torch.iinfo(dtype)
    for method, modes, options in FILTERS:
        for nd, shape, size, scale in _calls(rng, list(modes), 4):
            x = torch.from_numpy(random_image(rng, shape, str(dtype).split(".")[-1]))
            actual = upsamplekit.resize(x, size=size, scale_factor=scale, method=method, **options)
            assert actual.dtype == dtype
            exact = _interpolate(x.double(), modes[nd], size, scale, options)
            _assert_rounded_and_saturated(actual, exact, info.min, info.max)


# ------------------------------------------------------------------------- exact copies
@pytest.mark.parametrize("method", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "bool"])
def test_nearest_copies_every_dtype_exactly(method: str, dtype: str) -> None:
    rng = np.random.default_rng(3)
    for nd, shape, size, scale in _calls(rng, [1, 2, 3], 10) + _four_d(rng):
        x = random_image(rng, shape, dtype)
        actual = upsamplekit.resize(x, size=size, scale_factor=scale, method=method)
        assert isinstance(actual, np.ndarray) and actual.dtype == x.dtype
        expected = x
        for k in range(nd):  # torch's float32 indices of each axis, applied by NumPy
            n = x.shape[2 + k]
            ramp = torch.arange(n, dtype=torch.float32).view(1, 1, n)
            index = F.interpolate(ramp, size=None if size is None else size[k],
                                  scale_factor=None if scale is None else scale[k], mode=method)[0, 0].long()
            expected = np.take(expected, index.numpy(), axis=2 + k)
        np.testing.assert_array_equal(actual, expected)


def _four_d(rng: np.random.Generator) -> list[tuple[int, tuple[int, ...], Any, Any]]:
    return [(4, (1, 2, 3, 1, 4, 2), [5, 2, 2, 7], None), (4, (2, 1, 2, 3, 5, 1), None, [1.5, 0.37, 2.0, 3.0])]


def test_int64_values_beyond_float_precision_survive_nearest() -> None:
    x = torch.tensor([[[2**62 + 1, -(2**61) - 3, 2**53 + 1]]], dtype=torch.int64)
    for method in ("nearest", "nearest-exact"):
        out = upsamplekit.resize(x, scale_factor=2, method=method)
        assert out.dtype == torch.int64
        assert torch.equal(out, x.repeat_interleave(2, dim=2))


@pytest.mark.parametrize("method", ["linear", "bilinear", "cubic", "area"])
def test_bool_with_a_filter_is_an_error(method: str) -> None:
    mask = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    with pytest.raises(InvalidTypeError, match=r"bool images can only be resized with nearest, but the spec uses "
                                               r"kernel '(linear|cubic|adaptive_area)'"):
        upsamplekit.resize(mask, scale_factor=2, method=method)
