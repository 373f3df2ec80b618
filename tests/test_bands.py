"""The band engine (``resample/bands.py``): tables as blocked matrix products, CUDA's engine.

There is no GPU here, so the CPU is made a band device (``bands._BAND_DEVICES``) and the
engine's numbers are checked against the gather engine and the float64 dense matrix of each
table, with blocks small enough that long tables are cut into many bands. On a CUDA machine
``test_cuda_resize_matches_the_cpu`` runs the real thing.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

import upsamplekit
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.resample import apply, bands
from upsamplekit.resample.apply import resample_axis
from upsamplekit.resample.fast import _tables_only
from upsamplekit.resample.tables import axis_table

from tests.conftest import assert_close, random_image
from tests.test_apply import EXACT, SINGLE, SPECS

CALLS = [  # (convention, method, options): each convention's table-engine kernels
    ("pillow", "lanczos3", {}), ("pillow", "bicubic", {}), ("pillow", "box", {}),
    ("opencv", "area", {}), ("opencv", "cubic", {}), ("opencv", "lanczos4", {}),
    ("tf", "bicubic", {}), ("tf", "lanczos3", {"antialias": True}), ("tf", "gaussian", {"antialias": True}),
    ("jax", "cubic", {}), ("jax", "lanczos5", {}), ("tf1", "bilinear", {}),
    ("torch", "bilinear", {"antialias": True}), ("onnx", "cubic", {}),
]
SIZES = [(150, 40), (33, 203), (70, 90)]  # from (70, 90): grow one axis and shrink the other, odd factors, identity


@pytest.fixture
def cpu_bands() -> Iterator[None]:
    """The CPU as a band device, blocks of 16 outputs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bands, "_BAND_DEVICES", frozenset({"cpu"}))
        patch.setattr(bands, "BLOCK", 16)
        _clear()
        yield
    _clear()


def _clear() -> None:
    for cache in (bands.bands_of, bands._tensors, apply._plan):
        cache.cache_clear()


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@pytest.mark.parametrize("lengths", [(300, 700), (700, 300), (64, 64), (5, 400), (400, 5), (1, 9)])
@pytest.mark.parametrize("block", [16, 128])
def test_bands_hold_exactly_the_table(spec: upsamplekit.Resampling, lengths: tuple[int, int], block: int) -> None:
    table = axis_table(spec, lengths[0], lengths[1], lengths[1] / lengths[0])
    held = bands.bands_of(table, block)
    np.testing.assert_array_equal(held.dense(), table.dense())
    assert (held.starts >= 0).all() and (held.starts + held.width <= table.in_len).all()
    if held.blocks > 1:
        assert 2 * held.blocks * held.block * held.width <= table.out_len * table.in_len, "banded only when it halves the work"


def test_long_axes_are_banded_short_ones_dense() -> None:
    spec = upsamplekit.Resampling.preset("pillow", "lanczos3")
    long = bands.bands_of(axis_table(spec, 1024, 2048, 2.0))
    assert (long.blocks, long.block) == (16, 128)
    assert long.width == 72, "64 inputs per 128 outputs, a 3-tap halo each side, padded to 8"
    short = bands.bands_of(axis_table(spec, 128, 256, 2.0))
    assert (short.blocks, short.width) == (1, 128), "two bands would not halve the work"


@pytest.mark.parametrize(("convention", "method", "options"), CALLS, ids=lambda v: str(v) if not isinstance(v, dict) else "")
@pytest.mark.parametrize("size", SIZES, ids=str)
def test_resize_on_bands_equals_the_gathers(convention: str, method: str, options: dict, size: tuple[int, int],
                                            rng: np.random.Generator, cpu_bands: None) -> None:
    x = torch.from_numpy(random_image(rng, (2, 3, 70, 90), "float64"))
    with _tables_only():
        expected = upsamplekit.resize(x, size, method=method, convention=convention, **options)
        single = upsamplekit.resize(x.float(), size, method=method, convention=convention, **options)
        channels_last = upsamplekit.resize(x.float().to(memory_format=torch.channels_last), size, method=method,
                                           convention=convention, **options)
        assert bands.engine_for(x) == "bands"
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bands, "_BAND_DEVICES", frozenset())
            gathered = upsamplekit.resize(x, size, method=method, convention=convention, **options)
    if expected.dtype == torch.float64:  # some conventions (TF) answer in float32: the round-off is theirs
        assert_close(expected.numpy(), gathered.numpy(), atol=1e-12, why=EXACT)
    assert_close(single.numpy(), gathered.numpy(), atol=2e-6, why=SINGLE)
    assert channels_last.is_contiguous(memory_format=torch.channels_last)
    assert_close(channels_last.numpy(), gathered.numpy(), atol=2e-6, why=SINGLE)


def test_backward_on_bands_equals_the_gathers(rng: np.random.Generator, cpu_bands: None) -> None:
    x = torch.from_numpy(random_image(rng, (2, 3, 70, 90), "float64")).requires_grad_()
    grad = torch.from_numpy(random_image(rng, (2, 3, 150, 40), "float64"))
    with _tables_only():
        banded = torch.autograd.grad(upsamplekit.resize(x, (150, 40), method="lanczos3", convention="pillow"), x, grad)[0]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bands, "_BAND_DEVICES", frozenset())
            gathered = torch.autograd.grad(upsamplekit.resize(x, (150, 40), method="lanczos3", convention="pillow"),
                                           x, grad)[0]
    assert_close(banded.numpy(), gathered.numpy(), atol=1e-12, why=EXACT)


@pytest.mark.parametrize("device_type", ["cuda", "cpu", "mps", "meta"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16, torch.uint8])
def test_routing_rule(device_type: str, dtype: torch.dtype) -> None:
    for finite in (True, False):
        for deterministic in (True, False):
            for tf32 in (True, False):
                expected = (device_type == "cuda" and dtype != torch.uint8 and finite and not deterministic
                            and not (tf32 and dtype == torch.float32))
                assert bands._uses_bands(device_type, dtype, finite, deterministic, tf32) == expected


def test_engine_for_reads_the_values_and_the_mode(cpu_bands: None) -> None:
    x = torch.rand(2, 3, 8, 8)
    assert bands.engine_for(x) == "bands"
    for bad in (float("nan"), float("inf"), -float("inf")):
        y = x.clone()
        y[1, 2, 3, 4] = bad
        assert bands.engine_for(y) == "gather", "a NaN or an infinity must reach only the outputs that read it"
    assert bands.engine_for(torch.zeros(2, 3, dtype=torch.uint8)) == "gather"
    assert bands.engine_for(torch.zeros(0, 3)) == "gather"
    torch.use_deterministic_algorithms(True)
    try:
        assert bands.engine_for(x) == "gather"
    finally:
        torch.use_deterministic_algorithms(False)


def test_the_cpu_runs_the_gathers() -> None:
    assert bands.engine_for(torch.rand(2, 3)) == "gather"


def test_an_unknown_engine_is_refused() -> None:
    table = axis_table(SPECS[3], 4, 8, 2.0)
    with pytest.raises(InvalidArgumentError, match=r"engine must be one of \('gather', 'bands'\), but got 'matmul'"):
        resample_axis(torch.zeros(1, 4), 1, table, engine="matmul")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize(("convention", "method", "options"), CALLS, ids=lambda v: str(v) if not isinstance(v, dict) else "")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_cuda_resize_matches_the_cpu(convention: str, method: str, options: dict, dtype: torch.dtype,
                                     rng: np.random.Generator) -> None:
    x = torch.from_numpy(random_image(rng, (2, 3, 70, 90), "float32"))
    with _tables_only():
        expected = upsamplekit.resize(x.double(), (150, 40), method=method, convention=convention, **options)
        got = upsamplekit.resize(x.to("cuda", dtype), (150, 40), method=method, convention=convention, **options)
    assert got.device.type == "cuda" and bands.engine_for(x.to("cuda", dtype)) == "bands"
    atol = 2e-6 if dtype == torch.float32 else 2e-2  # bfloat16: 8 bits of the weights and the values
    assert_close(got.float().cpu().numpy(), expected.float().numpy(), atol=atol, why=SINGLE)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_inputs_on_bands(dtype: torch.dtype, rng: np.random.Generator, cpu_bands: None) -> None:
    """resample_axis applies bands in the input's dtype (resize itself computes halves in float32)."""
    table = axis_table(SPECS[3], 90, 200, 200 / 90)  # jax lanczos3, x2.2: several bands of 16
    x = random_image(rng, (3, 90, 5), "float64")
    got = resample_axis(torch.from_numpy(x).to(dtype), 1, table)
    assert got.dtype == dtype and bands.bands_of(table).blocks > 1
    expected = np.einsum("oi,bic->boc", table.dense(), x)
    atol = 3 * 2.0**-8 if dtype == torch.bfloat16 else 3 * 2.0**-11  # 3 units of 8 or 11 bits: values, weights, result
    assert_close(got.double().numpy(), expected, atol=atol, why="half-precision values and weights")
