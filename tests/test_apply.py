"""The table engine (``resample/apply.py``) against the dense matrix of each table.

A table is the matrix ``AxisTable.dense()`` (out x in); resampling an axis is that matrix
applied along the axis. The engine computes it with index_select (nearest) or embedding_bag
(every other kernel), moving short-inner axes outward in memory, ordering the axes by cost and
cutting large batches into chunks; none of that may change the numbers:

* float64 inputs match ``numpy.tensordot(dense, x)`` to 1e-12 (round-off of sums of at most a
  few dozen products of values in [0, 1) with weights of magnitude <= 1.3);
* float32 inputs match the float64 result to 2e-6 (float32 weights and sums: a few ulp of
  values of magnitude <= 1.3);
* nearest tables copy values exactly, integers beyond 2**53 included;
* a NaN or Inf reaches exactly the outputs whose non-zero taps read it;
* the result keeps the input's memory layout (resample_axes), and the backward is the dense
  transpose, bit-for-bit reproducible.

Each of these runs on both engines: the gathers (CPU) and the banded matrix products (CUDA's,
``resample/bands.py``), the latter on the CPU here with blocks of 4 outputs and unpadded windows so that the small
tables drawn are cut into several bands.

Cases are drawn by hypothesis (fixed example counts, no deadline) over every convention's
kernels, length-1 and odd axes, large factors, shrinking, and contiguous, channels-last,
permuted and strided (non-dense) layouts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from upsamplekit import Resampling
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError
from upsamplekit.resample import apply, bands
from upsamplekit.resample.apply import resample_axes, resample_axis
from upsamplekit.resample.tables import AxisTable, axis_table

from tests.conftest import assert_close, random_image

SPECS = [
    Resampling.preset("torch", "bilinear"),
    Resampling.preset("torch", "nearest"),
    Resampling.preset("torch", "area"),
    Resampling.preset("jax", "lanczos3"),
    Resampling.preset("jax", "cubic", antialias=False),
    Resampling.preset("pillow", "bicubic"),
    Resampling.preset("pillow", "box"),
    Resampling.preset("opencv", "lanczos4"),
    Resampling.preset("opencv", "area"),
    Resampling.preset("tf", "gaussian", antialias=True),
    Resampling.preset("onnx", "nearest", nearest_mode="round_prefer_floor"),
    Resampling.preset("onnx", "cubic", coordinate_transformation_mode="half_pixel_symmetric", exclude_outside=1),
    Resampling.preset("onnx", "linear", coordinate_transformation_mode="asymmetric"),
    Resampling.preset("tf1", "bilinear", align_corners=True),
    Resampling(kernel="cubic", border="zero", antialias=True),
]
EXACT = "float64 sums of a few dozen products of values < 1 and weights <= 1.3: round-off only"
SINGLE = "float32 weights and sums: a few ulp of values of magnitude <= 1.3"
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)
ENGINES = ["gather", "bands"]


@contextmanager
def engine(name: str) -> Iterator[None]:
    """Run the engine ``name`` on the CPU: "bands" makes the CPU a band device, with blocks of 4."""
    with pytest.MonkeyPatch.context() as patch:
        if name == "bands":
            patch.setattr(bands, "_BAND_DEVICES", frozenset({"cpu"}))
            patch.setattr(bands, "BLOCK", 4)
            patch.setattr(bands, "_ALIGN", 1)
        for cache in (bands.bands_of, bands._tensors, apply._plan):
            cache.cache_clear()
        try:
            yield
        finally:
            for cache in (bands.bands_of, bands._tensors, apply._plan):
                cache.cache_clear()


def _dense_reference(x: np.ndarray, dim: int, table: AxisTable) -> np.ndarray:
    return np.moveaxis(np.tensordot(table.dense(), np.moveaxis(x.astype(np.float64), dim, 0), axes=1), 0, dim)


@st.composite
def _tables(draw: st.DrawFn, longest: int = 24) -> AxisTable:
    spec = draw(st.sampled_from(SPECS))
    in_len = draw(st.integers(1, longest))
    out_len = draw(st.one_of(st.integers(1, longest), st.integers(1, 8 * in_len)))
    return axis_table(spec, in_len, out_len, out_len / in_len)


def _layout(x: torch.Tensor, kind: str) -> torch.Tensor:
    """The same values stored another way: contiguous, channels-last-like (axis 1 innermost),
    reversed dims, or a strided slice of a larger tensor (not dense)."""
    if kind == "last-inner":
        order = [0, *range(2, x.dim()), 1]
        return x.permute(order).contiguous().permute([order.index(d) for d in range(x.dim())])
    if kind == "reversed":
        order = list(range(x.dim()))[::-1]
        return x.permute(order).contiguous().permute(order)
    if kind == "strided":
        big = torch.zeros([2 * s for s in x.shape], dtype=x.dtype)
        view = big[tuple(slice(None, None, 2) for _ in x.shape)]
        view.copy_(x)
        return view
    return x


LAYOUTS = st.sampled_from(["contiguous", "last-inner", "reversed", "strided"])


@pytest.mark.parametrize("name", ENGINES)
@SETTINGS
@given(table=_tables(), rank=st.integers(2, 5), data=st.data(), layout=LAYOUTS, seed=st.integers(0, 2**16))
def test_axis_matches_dense_matrix(name: str, table: AxisTable, rank: int, data: Any, layout: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(0, rank - 1))
    shape = [int(v) for v in rng.integers(1, 7, rank)]
    shape[dim] = table.in_len
    x = random_image(rng, tuple(shape), "float64")
    expected = _dense_reference(x, dim, table)
    with engine(name):
        actual = resample_axis(_layout(torch.from_numpy(x), layout), dim, table)
        single = resample_axis(_layout(torch.from_numpy(x.astype(np.float32)), layout), dim, table)
    assert_close(actual.numpy(), expected, atol=1e-12, why=EXACT)
    assert single.dtype == torch.float32
    assert_close(single.numpy(), expected, atol=2e-6, why=SINGLE)


@pytest.mark.parametrize("name", ENGINES)
@SETTINGS
@given(tables=st.lists(_tables(longest=16), min_size=1, max_size=3),
       batch=st.tuples(st.integers(1, 3), st.integers(1, 9)), layout=LAYOUTS, chunked=st.booleans(), seed=st.integers(0, 2**16))
def test_axes_match_dense_and_keep_layout(name: str, tables: list[AxisTable], batch: tuple[int, int], layout: str,
                                          chunked: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = random_image(rng, (*batch, *(t.in_len for t in tables)), "float64")
    dims = list(range(2, 2 + len(tables)))
    given_x = _layout(torch.from_numpy(x), layout)
    with engine(name), pytest.MonkeyPatch.context() as patch:
        if chunked:  # force the chunked path on tiny tensors: pieces of one batch entry (gathers only)
            patch.setattr(apply, "_CHUNK_ABOVE_BYTES", 0)
            patch.setattr(apply, "_CHUNK_BYTES", 1)
        actual = resample_axes(given_x, dims, tables)
    expected = x
    for dim, table in zip(dims, tables):
        expected = _dense_reference(expected, dim, table)
    assert_close(actual.numpy(), expected, atol=1e-12, why=EXACT)
    if layout != "strided" and not any(t.is_identity for t in tables):
        order = list(range(x.ndim))
        if not given_x.is_contiguous():
            strides = given_x.stride()
            order = sorted(order, key=lambda d: (-strides[d], -d))
        assert actual.permute(order).is_contiguous(), "the result keeps the input's memory order"


@pytest.mark.parametrize("name", ENGINES)
@SETTINGS
@given(table=_tables(), seed=st.integers(0, 2**16), inner=st.sampled_from([1, 3, 16]))
def test_nonfinite_reaches_exactly_the_outputs_that_read_it(name: str, table: AxisTable, seed: int, inner: int) -> None:
    rng = np.random.default_rng(seed)
    x = random_image(rng, (2, table.in_len, inner), "float32")
    bad = rng.random(x.shape) < 0.15
    x[bad] = rng.choice([np.nan, np.inf, -np.inf], size=int(bad.sum()))
    with engine(name):  # the band engine leaves non-finite inputs to the gathers
        y = resample_axis(torch.from_numpy(x), 1, table).numpy()
    reads = np.zeros((table.out_len, table.in_len), dtype=bool)  # the non-zero taps, as the engine reads them
    rows = np.repeat(np.arange(table.out_len), table.taps)
    np.logical_or.at(reads, (rows, table.index.reshape(-1)), table.weight.reshape(-1) != 0)
    expected = np.einsum("oi,bic->boc", reads.astype(np.int64), bad.astype(np.int64)) > 0
    np.testing.assert_array_equal(~np.isfinite(y), expected)


@pytest.mark.parametrize("dtype", [torch.int64, torch.uint8, torch.bool, torch.float16])
def test_nearest_copies_any_dtype_exactly(dtype: torch.dtype, rng: np.random.Generator) -> None:
    table = axis_table(Resampling.preset("onnx", "nearest"), 13, 31, 31 / 13)
    if dtype == torch.int64:
        x = torch.from_numpy(rng.integers(2**60, 2**62, size=(2, 13, 5)))  # beyond float64's integers
    elif dtype == torch.bool:
        x = torch.from_numpy(rng.random((2, 13, 5)) < 0.5)
    else:
        x = torch.from_numpy(rng.integers(0, 256, size=(2, 13, 5))).to(dtype)
    index = torch.from_numpy(table.index[:, 0].copy())
    assert torch.equal(resample_axis(x, 1, table), x[:, index])


@pytest.mark.parametrize("name", ENGINES)
def test_backward_is_the_dense_transpose_and_reproducible(name: str, rng: np.random.Generator) -> None:
    tables = [axis_table(SPECS[3], 9, 23, 23 / 9), axis_table(SPECS[5], 17, 6, 6 / 17)]
    x = torch.from_numpy(random_image(rng, (2, 3, 9, 17), "float64")).requires_grad_()
    grad = torch.from_numpy(random_image(rng, (2, 3, 23, 6), "float64"))
    small = torch.from_numpy(random_image(rng, (1, 2, 4, 5), "float64")).requires_grad_()
    small_tables = [axis_table(SPECS[3], 4, 7, 7 / 4), axis_table(SPECS[4], 5, 3, 3 / 5)]
    with engine(name):
        first = torch.autograd.grad(resample_axes(x, [2, 3], tables), x, grad)[0]
        again = torch.autograd.grad(resample_axes(x, [2, 3], tables), x, grad)[0]
        assert torch.autograd.gradgradcheck(lambda v: resample_axes(v, [2, 3], small_tables), (small,))
    assert torch.equal(first, again), "no atomics: the same bits every time"
    expected = np.einsum("oh,pw,ncop->nchw", tables[0].dense(), tables[1].dense(), grad.numpy())
    assert_close(first.numpy(), expected, atol=1e-12, why=EXACT)


@pytest.mark.parametrize("name", ENGINES)
def test_outside_outputs_take_the_extrapolation_value(name: str, rng: np.random.Generator) -> None:
    spec = Resampling.preset("onnx", "linear", coordinate_transformation_mode="tf_crop_and_resize")
    table = axis_table(spec, 6, 9, 1.5, roi=(-0.5, 1.25))
    assert table.outside is not None and table.outside.any()
    x = torch.from_numpy(random_image(rng, (1, 2, 6, 6), "float64"))
    with engine(name):
        y = resample_axes(x, [2], [table], extrapolation_value=-7.0)
    assert torch.all(y[:, :, torch.from_numpy(table.outside)] == -7.0)
    inside = torch.from_numpy(~table.outside)
    expected = _dense_reference(x.numpy(), 2, table)
    assert_close(y[:, :, inside].numpy(), expected[:, :, inside.numpy()], atol=1e-12, why=EXACT)


def test_kernel_choice_moves_short_inner_axes_outward_just_enough() -> None:
    table = axis_table(SPECS[3], 10, 20, 2.0)  # lanczos3: 6 taps
    # W of NCHW: moved past H (inner H = 10 >= 8); H of NCHW stays (inner W = 10).
    assert apply._kernel((2, 3, 10, 10), (0, 1, 2, 3), 3, table) == ("bag", (0, 1, 3, 2))
    assert apply._kernel((2, 3, 10, 10), (0, 1, 2, 3), 2, table) == ("bag", (0, 1, 2, 3))
    # W of a 3-channel channels-last image: moved past H (inner H * C).
    assert apply._kernel((1, 3, 10, 10), (0, 2, 3, 1), 3, table) == ("bag", (0, 3, 2, 1))
    # A 1-D signal with 2 channels: moved past C and N.
    assert apply._kernel((4, 2, 10), (0, 1, 2), 2, table) == ("bag", (2, 0, 1))
    # Two taps (linear) on a short inner axis: a loop, in place; nearest: one index_select.
    linear = axis_table(Resampling.preset("onnx", "linear"), 10, 20, 2.0)
    assert apply._kernel((2, 3, 10, 10), (0, 1, 2, 3), 3, linear) == ("loop", (0, 1, 2, 3))
    nearest = axis_table(Resampling.preset("onnx", "nearest"), 10, 20, 2.0)
    assert apply._kernel((2, 3, 10, 10), (0, 1, 2, 3), 3, nearest) == ("select", (0, 1, 2, 3))


def test_bad_inputs_are_refused() -> None:
    table = axis_table(SPECS[0], 4, 8, 2.0)
    with pytest.raises(InvalidTypeError, match="only nearest"):
        resample_axis(torch.zeros(1, 4, dtype=torch.int32), 1, table)
    with pytest.raises(InvalidArgumentError, match="length 4, but x has length 5"):
        resample_axis(torch.zeros(1, 5), 1, table)
