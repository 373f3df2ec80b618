"""Apply :class:`AxisTable` s to tensors, fast, with a gather-only backward.

Output sample ``i`` along an axis is ``sum_t weight[i, t] * x[index[i, t]]`` over the taps
whose weight is not zero (so a NaN or Inf reaches exactly the outputs whose taps read it).
Each axis is one fused kernel on the tensor's memory layout, seen as (rows, axis, inner)
where ``inner`` is the number of elements stored inside the axis:

* a selection table (nearest) is one ``index_select``: exact for every dtype;
* any other table is one ``embedding_bag(mode="sum", per_sample_weights=...)`` whose bags
  are the output rows: every tap of every output row is gathered and weighed in one pass
  (FBGEMM on CPU). It needs whole rows inside the axis, so an axis with ``inner < 8``
  (W of NCHW, W of a channels-last image with few channels) is first moved outward in
  memory, just past enough axes, by one copy;
* except that such an axis whose table has at most two non-zero taps per output (linear)
  is a short loop of ``index_select`` and multiply-add instead: cheaper than the copies.

When several axes are resized, :func:`resample_axes` tries every axis order (up to four
axes) on an estimated cost, counting the copies, and returns the input's memory layout.
The backward applies the transposed table the same way (no scatter-add, so no atomics and
bit-for-bit reproducible gradients), and is itself differentiable.

That is the "gather" engine, the CPU's. On CUDA the "bands" engine runs instead: each axis
as one batched product of banded matrices (:mod:`~upsamplekit.resample.bands`, which also
says when it leaves an input to the gathers); a nearest table stays one ``index_select``.
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
from .bands import apply_bands, engine_for
from .tables import AxisTable

__all__ = ["resample_axis", "resample_axes"]

# embedding_bag wants whole rows: an axis with fewer elements stored inside it is moved outward,
# unless its table has at most _LOOP_MAX_TAPS taps per output (then a loop of index_select).
_MIN_INNER = 8
_LOOP_MAX_TAPS = 2
# Rough costs in nanoseconds on one core, to choose the axis order (measured on the
# benchmark machine; only their ratios matter).
_NS_PER_COPY = 1.0  # a permuting copy, per element
_NS_PER_SELECT = 0.5  # index_select, per output element
_NS_PER_TAP = 0.1  # embedding_bag, per output element and tap
_NS_PER_ROW_TAP = 3.0  # embedding_bag, per output row and tap
_NS_PER_LOOP_TAP = 1.2  # index_select and multiply-add, per output element and tap
_ENGINES = ("gather", "bands")


# --------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class _Taps:
    """The non-zero taps of a table, flat, with where each output's taps start."""

    index: np.ndarray  # (nnz,) int64
    weight: np.ndarray  # (nnz,) float64
    offsets: np.ndarray  # (out,) int64: output i owns entries offsets[i]:offsets[i + 1]


@lru_cache(maxsize=512)
def _taps(table: AxisTable) -> _Taps:
    keep = table.weight != 0.0
    counts = keep.sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return _Taps(table.index[keep].astype(np.int64), table.weight[keep].astype(np.float64), offsets)


@lru_cache(maxsize=16)  # each holds about (output elements * taps / inner) entries
def _bag_arrays(
    table: AxisTable, rows: int, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(indices, offsets, weights) for one embedding_bag over ``rows`` stacked copies of the axis."""
    taps = _taps(table)
    nnz = taps.index.size
    index_dtype = torch.int32 if rows * max(table.in_len, nnz, 1) < 2**31 else torch.int64
    row = torch.arange(rows, device=device)
    index = torch.as_tensor(taps.index, device=device)
    offsets = torch.as_tensor(taps.offsets, device=device)
    weight = torch.as_tensor(taps.weight, device=device, dtype=dtype)
    index = (index[None, :] + row[:, None] * table.in_len).reshape(-1).to(index_dtype)
    offsets = (offsets[None, :] + row[:, None] * nnz).reshape(-1).to(index_dtype)
    return index, offsets, weight.expand(rows, nnz).reshape(-1)


@lru_cache(maxsize=512)
def _tap_columns(table: AxisTable) -> tuple[np.ndarray, np.ndarray] | None:
    """The table as (taps, out) index and weight columns holding every non-zero tap, or None
    when an output has more than ``_LOOP_MAX_TAPS`` of them or none. A padding entry has weight
    0 and repeats an index its output reads anyway, so it cannot spread a NaN or Inf further."""
    keep = table.weight != 0.0
    counts = keep.sum(axis=1)
    if counts.size == 0 or counts.min() == 0 or counts.max() > _LOOP_MAX_TAPS:
        return None
    width = int(counts.max())
    slot = np.cumsum(keep, axis=1) - 1  # position of each kept tap among its row's kept taps
    rows, cols = np.nonzero(keep)
    index = np.repeat(table.index[np.arange(table.out_len), keep.argmax(axis=1)][None, :], width, axis=0)
    weight = np.zeros((width, table.out_len))
    index[slot[rows, cols], rows] = table.index[rows, cols]
    weight[slot[rows, cols], rows] = table.weight[rows, cols]
    return index, weight


def _loop_width(table: AxisTable) -> int:
    columns = _tap_columns(table)
    return 0 if columns is None else int(columns[0].shape[0])


@lru_cache(maxsize=256)
def _loop_arrays(table: AxisTable, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    columns = _tap_columns(table)
    assert columns is not None  # _kernel chose "loop" only for such tables
    return torch.as_tensor(columns[0], device=device), torch.as_tensor(columns[1], device=device, dtype=dtype)


@lru_cache(maxsize=512)
def _selection_index(table: AxisTable, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(table.index[:, 0].copy(), device=device)


def _tensors(cached: Any, *args: Any) -> Any:
    """``cached(*args)``; under ``torch.jit.trace``, built afresh: a trace records how a tensor is
    made, and the trace check's second run must record the same steps as the first."""
    return cached.__wrapped__(*args) if torch.jit.is_tracing() else cached(*args)


# --------------------------------------------------------------------------- layouts
Order = tuple[int, ...]  # logical dims from outermost to innermost in memory


def _memory_order(x: torch.Tensor) -> tuple[torch.Tensor, Order]:
    """``x`` as a dense tensor (a copy only if it has gaps or overlaps) and its memory order."""
    if x.is_contiguous():
        return x, tuple(range(x.dim()))
    strides = x.stride()
    order = tuple(sorted(range(x.dim()), key=lambda d: (-strides[d], -d)))
    if x.permute(order).is_contiguous():
        return x, order
    return x.contiguous(), tuple(range(x.dim()))


def _in_order(x: torch.Tensor, order: Order) -> torch.Tensor:
    """``x`` (same logical shape) stored in memory ``order``; no copy when it already is."""
    inverse = [order.index(d) for d in range(len(order))]
    return x.permute(order).contiguous().permute(inverse)


def _kernel(shape: Sequence[int], order: Order, dim: int, table: AxisTable) -> tuple[str, Order]:
    """The kernel for one axis ("select", "bag" or "loop") and the memory order it runs in:
    ``order``, or for "bag" with ``dim`` moved outward just past enough axes to hold
    ``_MIN_INNER`` elements inside it."""
    if table.is_selection:
        return "select", order
    position = order.index(dim)
    inner = math.prod(shape[d] for d in order[position + 1:])
    if inner >= _MIN_INNER:
        return "bag", order
    if _tap_columns(table) is not None:
        return "loop", order
    target = position
    while inner < _MIN_INNER and target > 0:
        target -= 1
        inner *= shape[order[target]]
    rest = [d for d in order if d != dim]
    return "bag", tuple(rest[:target] + [dim] + rest[target:])


# --------------------------------------------------------------------------- one axis
def _apply(x: torch.Tensor, dim: int, table: AxisTable, engine: str) -> torch.Tensor:
    """The forward of one axis; the result is stored in the memory order it was computed in."""
    if table.in_len != x.shape[dim]:
        raise InvalidArgumentError(
            f"the table resamples an axis of length {table.in_len}, but x has length {x.shape[dim]} on dim {dim}"
        )
    if not table.is_selection and not x.is_floating_point():
        raise InvalidTypeError(f"only nearest (selection) tables apply to {x.dtype} tensors; convert x to float first")
    x, order = _memory_order(x)
    if engine == "bands" and not table.is_selection and x.numel():
        dense = x.permute(order)  # contiguous
        out, moved = apply_bands(dense, order.index(dim), table)
        stored = (dim, *(d for d in order if d != dim)) if moved else order
        return out.permute([stored.index(d) for d in range(len(stored))])
    kernel, working = _kernel(x.shape, order, dim, table)
    if working != order:
        x = _in_order(x, working)
    identity = working == tuple(range(x.dim()))
    dense = x if identity else x.permute(working)  # contiguous
    axis = working.index(dim)
    shape = list(dense.shape)
    rows, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
    shape[axis] = table.out_len
    if kernel == "select":
        out = dense.reshape(rows, table.in_len, inner).index_select(1, _tensors(_selection_index, table, x.device))
    elif dense.numel() == 0:
        out = dense.new_zeros(shape)
    elif kernel == "loop":
        index, weight = _tensors(_loop_arrays, table, x.device, x.dtype)
        stacked = dense.reshape(rows, table.in_len, inner)
        out = stacked.index_select(1, index[0]).mul_(weight[0].view(-1, 1))
        for k in range(1, index.shape[0]):
            out.addcmul_(stacked.index_select(1, index[k]), weight[k].view(-1, 1))
    else:
        index, offsets, weight = _tensors(_bag_arrays, table, rows, x.device, x.dtype)
        stacked = dense.reshape(rows * table.in_len, inner)
        out = F.embedding_bag(index, stacked, offsets, mode="sum", per_sample_weights=weight)
    if identity:
        return out.view(shape)
    return out.view(shape).permute([working.index(d) for d in range(len(working))])


class _ResampleAxis(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, dim: int, table: AxisTable, engine: str) -> torch.Tensor:
        ctx.dim = dim
        ctx.table = table
        return _apply(x, dim, table, engine)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, None, None, None]:
        if not ctx.needs_input_grad[0]:
            return None, None, None, None
        return resample_axis(grad, ctx.dim, ctx.table.transposed), None, None, None


def resample_axis(x: torch.Tensor, dim: int, table: AxisTable, engine: str | None = None) -> torch.Tensor:
    """Resample ``x`` along ``dim`` with ``table``; differentiable for floating ``x``.

    ``engine`` is "gather" or "bands" (:mod:`~upsamplekit.resample.bands`); by default the one
    :func:`~upsamplekit.resample.bands.engine_for` picks for ``x``'s device and values. The
    result may be stored in another memory order than ``x`` (the axis moved outward);
    :func:`resample_axes` restores the input's.

    >>> import torch
    >>> from upsamplekit.resample.spec import Resampling
    >>> from upsamplekit.resample.tables import axis_table
    >>> resample_axis(torch.tensor([[0.0, 1.0]]), 1, axis_table(Resampling(), 2, 4, 2.0))
    tensor([[0.0000, 0.2500, 0.7500, 1.0000]])
    """
    engine = engine_for(x) if engine is None else engine
    if engine not in _ENGINES:
        raise InvalidArgumentError(f"engine must be one of {_ENGINES}, but got {engine!r}")
    if x.requires_grad and torch.is_grad_enabled():
        return _ResampleAxis.apply(x, dim, table, engine)
    return _apply(x, dim, table, engine)  # no graph to record: skip autograd.Function's overhead


# --------------------------------------------------------------------------- several axes
def resample_axes(
    x: torch.Tensor,
    dims: Sequence[int],
    tables: Sequence[AxisTable],
    extrapolation_value: float = 0.0,
) -> torch.Tensor:
    """Resample ``x`` along each of ``dims`` with its table, in the cheapest order.

    Tables that copy their axis unchanged are skipped; outputs a table marks ``outside``
    (``tf_crop_and_resize``) are set to ``extrapolation_value``. The result has ``x``'s
    memory layout (channels-last in, channels-last out). On the gather engine, axes stored
    outside every resized axis (N and C of NCHW) are cut into chunks of a few MiB that are
    resized one after the other, so intermediates stay in cache and large buffers are not
    faulted in twice.

    >>> import torch
    >>> from upsamplekit.resample.spec import Resampling
    >>> from upsamplekit.resample.tables import axis_table
    >>> t = axis_table(Resampling(), 2, 4, 2.0)
    >>> resample_axes(torch.tensor([[[0.0, 1.0], [1.0, 2.0]]]), [1, 2], [t, t])[0, 0]
    tensor([0.0000, 0.2500, 0.7500, 1.0000])
    """
    steps = tuple((d, t) for d, t in zip(dims, tables) if not t.is_identity)
    if not steps:
        return x
    x, order = _memory_order(x)
    identity = order == tuple(range(x.dim()))
    dense = x if identity else x.permute(order)  # contiguous
    engine = "gather" if all(t.is_selection for _, t in steps) else engine_for(x)
    plan = _plan(tuple(dense.shape), tuple((order.index(d), t) for d, t in steps), x.element_size(), engine)
    batched = dense.reshape(plan.batch, *dense.shape[plan.prefix:])
    starts = range(0, max(plan.batch, 1), plan.chunk)
    pieces = [_run(batched[start:start + plan.chunk], plan, extrapolation_value) for start in starts]
    if len(pieces) == 1:
        out = pieces[0].contiguous()
    else:
        out = pieces[0].new_empty((plan.batch, *pieces[0].shape[1:]))
        for start, piece in zip(starts, pieces):
            out[start:start + plan.chunk].copy_(piece)  # restores the memory order as it copies
    out = out.reshape(*dense.shape[:plan.prefix], *out.shape[1:])
    return out if identity else out.permute([order.index(d) for d in range(len(order))])


@dataclass(frozen=True)
class _Plan:
    """How :func:`resample_axes` runs: on ``x`` in memory order, viewed as (batch, *rest)."""

    prefix: int  # leading memory axes that are not resized, flattened into `batch`
    batch: int
    chunk: int  # batch entries per piece
    steps: tuple[tuple[int, AxisTable], ...]  # (dim of the batched view, table), in run order
    engine: str  # "gather" or "bands"


# Chunk when an intermediate would exceed _CHUNK_ABOVE_BYTES (buffers that large are fresh,
# page-faulted memory each call), into pieces of about _CHUNK_BYTES (which malloc reuses).
_CHUNK_ABOVE_BYTES = 16 * 2**20
_CHUNK_BYTES = 4 * 2**20


@lru_cache(maxsize=1024)
def _plan(shape: tuple[int, ...], steps: tuple[tuple[int, AxisTable], ...], element_size: int,
          engine: str = "gather") -> _Plan:
    """Plan ``steps`` (memory position, table) on a contiguous tensor of ``shape``. The banded
    products (a GPU's engine) run the shrinking axes first and in one piece: cache sizes and
    copies are the gather engine's costs."""
    resized = {position for position, _ in steps}
    prefix = 0
    while prefix < len(shape) and prefix not in resized:
        prefix += 1
    batch = math.prod(shape[:prefix])
    rest = (1, *shape[prefix:])  # one batch entry
    moved = tuple((position - prefix + 1, table) for position, table in steps)
    if engine == "bands":
        ordered = tuple(sorted(moved, key=lambda step: step[1].out_len / step[1].in_len))
        return _Plan(prefix, batch, max(batch, 1), ordered, engine)
    ordered = tuple(moved[k] for k in _axis_order(rest, moved))
    # Intermediates: the input (copied when its first axis is moved) and every step's output but the last.
    sizes, intermediate = list(rest), math.prod(rest)
    for dim, table in ordered[:-1]:
        sizes[dim] = table.out_len
        intermediate = max(intermediate, math.prod(sizes))
    sizes[ordered[-1][0]] = ordered[-1][1].out_len
    largest = max(intermediate, math.prod(sizes))
    if batch * intermediate * element_size <= _CHUNK_ABOVE_BYTES:
        return _Plan(prefix, batch, max(batch, 1), ordered, engine)
    chunk = max(1, min(batch, _CHUNK_BYTES // max(largest * element_size, 1)))
    return _Plan(prefix, batch, chunk, ordered, engine)


def _run(piece: torch.Tensor, plan: _Plan, extrapolation_value: float) -> torch.Tensor:
    for dim, table in plan.steps:
        piece = resample_axis(piece, dim, table, plan.engine)
        if table.outside is not None:
            shape = [1] * piece.dim()
            shape[dim] = table.out_len
            mask = torch.from_numpy(table.outside).to(piece.device).view(shape)
            piece = piece.masked_fill(mask, extrapolation_value)
    return piece


def _axis_order(shape: tuple[int, ...], steps: tuple[tuple[int, AxisTable], ...]) -> tuple[int, ...]:
    """The order of ``steps`` (dim, table) on a contiguous tensor with the least estimated time."""
    if len(steps) > 4:  # too many orders to try: shrink first, so later axes work on fewer samples
        return tuple(sorted(range(len(steps)), key=lambda k: steps[k][1].out_len / steps[k][1].in_len))
    order = tuple(range(len(shape)))
    costs = {perm: _plan_cost(shape, order, [steps[k] for k in perm])
             for perm in itertools.permutations(range(len(steps)))}
    return min(costs, key=costs.__getitem__)


def _plan_cost(shape: Sequence[int], order: Order, steps: Sequence[tuple[int, AxisTable]]) -> float:
    sizes, current, cost = list(shape), order, 0.0
    for dim, table in steps:
        kernel, working = _kernel(sizes, current, dim, table)
        if working != current:
            cost += math.prod(sizes) * _NS_PER_COPY
        position = working.index(dim)
        rows = math.prod(sizes[d] for d in working[:position])
        inner = math.prod(sizes[d] for d in working[position + 1:])
        if kernel == "select":
            cost += rows * table.out_len * inner * _NS_PER_SELECT
        elif kernel == "loop":
            width = _loop_width(table)
            cost += rows * table.out_len * inner * width * _NS_PER_LOOP_TAP
        else:
            cost += rows * _taps(table).index.size * (_NS_PER_ROW_TAP + inner * _NS_PER_TAP)
        sizes[dim] = table.out_len
        current = working
    if current != order:
        cost += math.prod(sizes) * _NS_PER_COPY
    return cost
