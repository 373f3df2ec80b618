"""Apply :class:`AxisTable` s to tensors, fast, with a gather-only backward.

Output sample ``i`` along an axis is ``sum_t weight[i, t] * x[index[i, t]]`` over the taps
whose weight is not zero. Each axis is computed in the tensor's own memory layout (no
transposes), by one of three kernels chosen from the size ``Q`` of the axes stored inside it:

* a selection table (nearest) is one ``index_select``: exact for every dtype;
* ``Q >= 8`` (an axis with whole rows inside it, such as H of NCHW): one
  ``embedding_bag(mode="sum", per_sample_weights=...)`` over the rows, which gathers and
  weighs every tap of every output row in a single fused pass;
* ``Q < 8`` (W of NCHW, W of a channels-last image with few channels): the table is a
  banded matrix, applied as a few small dense blocks (``B`` outputs by the window of inputs
  they read, B <= 128, or the whole axis when it is at most 64 long) with ``torch.mm`` on
  strided views, written straight into the output.

The blocks multiply the zeros of the band too, so a NaN or Inf would reach more outputs
than its taps; when the input is not all finite the exact tap kernel is used instead, so
non-finite values reach exactly the outputs whose non-zero taps read them.

When several axes are resized, :func:`resample_axes` orders them by an estimated cost.
The backward applies the transposed table the same way (no scatter-add, so no atomics and
bit-for-bit reproducible gradients), and is itself differentiable.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InvalidArgumentError, InvalidTypeError
from .tables import AxisTable

__all__ = ["resample_axis", "resample_axes"]

# An axis with at least this many elements stored inside it goes through embedding_bag.
_BAG_MIN_INNER = 8
# Blocks of the banded-matrix kernel: outputs per block, and the axis length up to which one
# dense block may cover the whole axis.
_BLOCK_SIZES = (4, 8, 16, 32, 64, 128)
_DENSE_AXIS_MAX = 64
# Rough costs (nanoseconds, one core) used to choose block sizes and the axis order.
_NS_PER_CALL = 6000.0  # one torch.mm call from Python, or one kernel launch
_NS_PER_MAC = 0.04  # inside torch.mm on small blocks
_NS_PER_BAG_TAP = 1.5  # embedding_bag: per output row and tap
_NS_PER_BAG_ELEMENT = 0.1  # embedding_bag: per output element and tap
_NS_PER_COPY = 0.5  # index_select: per output element


# --------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class _Taps:
    """The non-zero taps of a table as flat (index, weight) with per-output offsets."""

    index: np.ndarray  # (nnz,) int64
    weight: np.ndarray  # (nnz,) float64
    offsets: np.ndarray  # (out,) int64: output i owns entries offsets[i]:offsets[i+1]
    row_lo: np.ndarray  # (out,) first input read by output i (in_len when it reads none)
    row_hi: np.ndarray  # (out,) one past the last input read by output i (0 when none)


@lru_cache(maxsize=512)
def _taps(table: AxisTable) -> _Taps:
    keep = table.weight != 0.0
    index = table.index[keep].astype(np.int64)
    weight = table.weight[keep].astype(np.float64)
    counts = keep.sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    row_lo = np.where(keep, table.index, table.in_len).min(axis=1)
    row_hi = np.where(keep, table.index + 1, 0).max(axis=1)
    return _Taps(index, weight, offsets, row_lo, row_hi)


@dataclass(frozen=True)
class _Blocks:
    """A banded table cut into dense blocks: outputs starts[b]:ends[b] read inputs lo[b]:hi[b]."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    lo: tuple[int, ...]
    hi: tuple[int, ...]

    def macs(self) -> int:
        return sum((e - s) * (h - lo) for s, e, lo, h in zip(self.starts, self.ends, self.lo, self.hi))


def _cut(taps: _Taps, out_len: int, size: int) -> _Blocks:
    starts = np.arange(0, out_len, size)
    ends = np.minimum(starts + size, out_len)
    lo = np.minimum.reduceat(taps.row_lo, starts)
    hi = np.maximum.reduceat(taps.row_hi, starts)
    hi = np.maximum(hi, lo)  # a block reading nothing gets an empty window
    return _Blocks(tuple(starts.tolist()), tuple(ends.tolist()), tuple(lo.tolist()), tuple(hi.tolist()))


@lru_cache(maxsize=512)
def _blocks(table: AxisTable, rows: int, inner: int) -> _Blocks:
    """The block cut minimising the estimated time for ``rows`` outer rows of ``inner`` elements."""
    taps = _taps(table)
    sizes = [b for b in _BLOCK_SIZES if b < table.out_len] + [table.out_len]
    best: tuple[float, _Blocks] | None = None
    for size in sizes:
        if size > _BLOCK_SIZES[-1] and table.in_len > _DENSE_AXIS_MAX:
            continue  # never a dense block wider than 128 outputs on a long axis
        blocks = _cut(taps, table.out_len, size)
        cost = len(blocks.starts) * _NS_PER_CALL + rows * inner * inner * blocks.macs() * _NS_PER_MAC
        if best is None or cost < best[0]:
            best = (cost, blocks)
    assert best is not None  # sizes is never empty
    return best[1]


@lru_cache(maxsize=128)
def _block_matrices(
    table: AxisTable, rows: int, inner: int, device: torch.device, dtype: torch.dtype
) -> tuple[_Blocks, tuple[torch.Tensor, ...]]:
    """The blocks and, for each, its (window * inner, outputs * inner) matrix."""
    blocks = _blocks(table, rows, inner)
    taps = _taps(table)
    counts = np.diff(np.append(taps.offsets, taps.index.size))
    owner = np.repeat(np.arange(table.out_len), counts)
    eye = np.eye(inner)
    matrices = []
    for s, e, lo, hi in zip(blocks.starts, blocks.ends, blocks.lo, blocks.hi):
        mine = (owner >= s) & (owner < e)
        dense = np.zeros((hi - lo, e - s))
        np.add.at(dense, (taps.index[mine] - lo, owner[mine] - s), taps.weight[mine])
        if inner > 1:
            dense = np.kron(dense, eye)  # the axis interleaved with `inner` independent channels
        matrices.append(torch.as_tensor(dense, dtype=dtype, device=device))
    return blocks, tuple(matrices)


@lru_cache(maxsize=64)
def _bag_arrays(
    table: AxisTable, rows: int, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(indices, offsets, weights) for embedding_bag over ``rows`` stacked copies of the axis."""
    taps = _taps(table)
    nnz = taps.index.size
    index_dtype = torch.int32 if rows * max(table.in_len, nnz) < 2**31 else torch.int64
    index = torch.as_tensor(taps.index, device=device)
    offsets = torch.as_tensor(taps.offsets, device=device)
    weight = torch.as_tensor(taps.weight, device=device, dtype=dtype)
    row = torch.arange(rows, device=device)
    index = (index[None, :] + row[:, None] * table.in_len).reshape(-1).to(index_dtype)
    offsets = (offsets[None, :] + row[:, None] * nnz).reshape(-1).to(index_dtype)
    return index, offsets, weight.expand(rows, nnz).reshape(-1)


@lru_cache(maxsize=512)
def _selection_index(table: AxisTable, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(table.index[:, 0].copy(), device=device)


# --------------------------------------------------------------------------- kernels
def _memory_order(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``x`` as a dense tensor and its dims from outermost to innermost in memory."""
    if x.is_contiguous():
        return x, tuple(range(x.dim()))
    order = tuple(sorted(range(x.dim()), key=lambda d: (-x.stride(d), -d)))
    if x.permute(order).is_contiguous():
        return x, order
    return x.contiguous(), tuple(range(x.dim()))


def _kernel(table: AxisTable, inner: int) -> str:
    if table.is_selection:
        return "select"
    return "bag" if inner >= _BAG_MIN_INNER else "blocks"


def _apply(x: torch.Tensor, dim: int, table: AxisTable) -> torch.Tensor:
    """The forward of one axis, in ``x``'s own memory layout."""
    if table.in_len != x.shape[dim]:
        raise InvalidArgumentError(
            f"the table resamples an axis of length {table.in_len}, but x has length {x.shape[dim]} on dim {dim}"
        )
    x, order = _memory_order(x)
    dense = x.permute(order)  # contiguous
    axis = order.index(dim)
    shape = list(dense.shape)
    rows, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
    shape[axis] = table.out_len
    kernel = _kernel(table, inner)
    if kernel != "select" and not x.is_floating_point():
        raise InvalidTypeError(f"only nearest (selection) tables apply to {x.dtype} tensors; convert x to float first")
    if kernel == "select" or dense.numel() == 0 or table.out_len == 0:
        out = dense.reshape(rows, table.in_len, inner).index_select(1, _selection_index(table, x.device))
        if kernel != "select":
            out = out.new_zeros(out.shape)
    elif kernel == "blocks" and bool(torch.isfinite(dense.sum())):
        out = _by_blocks(dense.reshape(rows, table.in_len * inner), table, inner)
    else:
        out = _by_bags(dense.reshape(rows * table.in_len, inner), table, rows)
    inverse = [order.index(d) for d in range(len(order))]
    return out.view(shape).permute(inverse)


def _by_bags(stacked: torch.Tensor, table: AxisTable, rows: int) -> torch.Tensor:
    index, offsets, weight = _bag_arrays(table, rows, stacked.device, stacked.dtype)
    return F.embedding_bag(index, stacked, offsets, mode="sum", per_sample_weights=weight)


def _by_blocks(flat: torch.Tensor, table: AxisTable, inner: int) -> torch.Tensor:
    blocks, matrices = _block_matrices(table, flat.shape[0], inner, flat.device, flat.dtype)
    out = flat.new_empty(flat.shape[0], table.out_len * inner)
    for s, e, lo, hi, matrix in zip(blocks.starts, blocks.ends, blocks.lo, blocks.hi, matrices):
        target = out[:, s * inner:e * inner]
        if hi == lo:
            target.zero_()
        else:
            torch.mm(flat[:, lo * inner:hi * inner], matrix, out=target)
    return out


class _ResampleAxis(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, dim: int, table: AxisTable) -> torch.Tensor:  # type: ignore[override]
        ctx.dim = dim
        ctx.table = table
        return _apply(x, dim, table)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, None, None]:  # type: ignore[override]
        if not ctx.needs_input_grad[0]:
            return None, None, None
        return _ResampleAxis.apply(grad, ctx.dim, ctx.table.transposed), None, None


def resample_axis(x: torch.Tensor, dim: int, table: AxisTable) -> torch.Tensor:
    """Resample ``x`` along ``dim`` with ``table``; differentiable for floating ``x``.

    The result keeps ``x``'s memory layout (a channels-last ``x`` gives a channels-last result).

    >>> import torch
    >>> from upsamplekit.resample.spec import Resampling
    >>> from upsamplekit.resample.tables import axis_table
    >>> resample_axis(torch.tensor([[0.0, 1.0]]), 1, axis_table(Resampling(), 2, 4, 2.0))
    tensor([[0.0000, 0.2500, 0.7500, 1.0000]])
    """
    if x.is_floating_point():
        return _ResampleAxis.apply(x, dim, table)
    return _apply(x, dim, table)


# --------------------------------------------------------------------------- several axes
def resample_axes(
    x: torch.Tensor,
    dims: Sequence[int],
    tables: Sequence[AxisTable],
    extrapolation_value: float = 0.0,
) -> torch.Tensor:
    """Resample ``x`` along each of ``dims`` with its table, in the cheapest order.

    Tables that copy their axis unchanged are skipped; outputs a table marks ``outside``
    (``tf_crop_and_resize``) are set to ``extrapolation_value``.

    >>> import torch
    >>> from upsamplekit.resample.spec import Resampling
    >>> from upsamplekit.resample.tables import axis_table
    >>> t = axis_table(Resampling(), 2, 4, 2.0)
    >>> resample_axes(torch.tensor([[[0.0, 1.0], [1.0, 2.0]]]), [1, 2], [t, t])[0, 0]
    tensor([0.0000, 0.2500, 0.7500, 1.0000])
    """
    work = [(d, t) for d, t in zip(dims, tables) if not t.is_identity]
    dense, order = _memory_order(x)
    position = {d: order.index(d) for d, _ in work}
    plan = _axis_order(tuple(dense.permute(order).shape), tuple((position[d], t) for d, t in work))
    for k in plan:
        dim, table = work[k]
        x = resample_axis(x, dim, table)
        if table.outside is not None:
            shape = [1] * x.dim()
            shape[dim] = table.out_len
            mask = torch.from_numpy(table.outside).to(x.device).view(shape)
            x = x.masked_fill(mask, extrapolation_value)
    return x


@lru_cache(maxsize=1024)
def _axis_order(shape: tuple[int, ...], steps: tuple[tuple[int, AxisTable], ...]) -> tuple[int, ...]:
    """The order of ``steps`` (memory position, table) with the least estimated time."""
    if len(steps) <= 1:
        return tuple(range(len(steps)))
    if len(steps) > 4:  # too many orders to try: shrink first, so later axes work on fewer samples
        return tuple(sorted(range(len(steps)), key=lambda k: steps[k][1].out_len / steps[k][1].in_len))
    best: tuple[float, tuple[int, ...]] | None = None
    for perm in itertools.permutations(range(len(steps))):
        sizes, cost = list(shape), 0.0
        for k in perm:
            axis, table = steps[k]
            rows, inner = math.prod(sizes[:axis]), math.prod(sizes[axis + 1:])
            cost += _step_cost(table, rows, inner)
            sizes[axis] = table.out_len
        if best is None or cost < best[0]:
            best = (cost, perm)
    assert best is not None
    return best[1]


def _step_cost(table: AxisTable, rows: int, inner: int) -> float:
    kernel = _kernel(table, inner)
    outputs = rows * table.out_len * inner
    if kernel == "select":
        return outputs * _NS_PER_COPY
    if kernel == "bag":
        nnz = _taps(table).index.size
        return rows * nnz * (_NS_PER_BAG_TAP + inner * _NS_PER_BAG_ELEMENT)
    blocks = _blocks(table, rows, inner)
    return len(blocks.starts) * _NS_PER_CALL + rows * inner * inner * blocks.macs() * _NS_PER_MAC
