"""Tables as banded matrix products: how :mod:`upsamplekit.resample.apply` runs on a GPU.

On CUDA, gathers and ``embedding_bag`` are slow next to what the card does best, matrix
products (measured on an H200: the table engine's lanczos3 x2 took 3.5 ms where one dense
matrix product per axis took 0.37 ms in float32 and 0.095 ms in bfloat16). A table is the
(out x in) matrix ``AxisTable.dense()``; here it is cut into blocks of :data:`BLOCK` outputs,
each of which reads one window of ``width`` consecutive inputs, so the product skips the zeros
far from the diagonal: ``y[block] = matrix[block] @ x[start[block] : start[block] + width]``.
A table whose band would save less than half the work of the dense matrix is one block.

An axis is applied as one batched matrix product over the blocks (:func:`apply_bands`):

* the axis stored innermost, as one block (W of NCHW, short axes): ``x @ matrix.T``, with no
  copy and the result in the input's memory order;
* otherwise the windows are gathered with the axis moved outermost in memory, one copy of the
  input, and the product writes the output in that order; the caller restores the layout.

The products include the band's zero entries, so ``0 * inf`` would spread a NaN to outputs
that never read it. :func:`engine_for` therefore leaves inputs that hold a NaN or an infinity
to the gather engine, as it does float32 when TF32 matmuls are allowed (they would round the
inputs to 10 bits) and deterministic mode (cuBLAS needs a workspace setting to be
deterministic); those rules are pure functions of what they are given (:func:`_uses_bands`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .tables import AxisTable

__all__ = ["BLOCK", "Bands", "apply_bands", "bands_of", "engine_for", "tf32_matmuls"]

# Outputs per block: a multiple of the tensor cores' tile sides, with a halo of a few taps
# on windows of ~BLOCK / scale inputs. Not yet tuned on a GPU.
BLOCK = 128
_ALIGN = 8  # window widths are padded to a multiple of this: aligned rows for the products
# Device types on which the banded products are the engine (ROCm devices are "cuda" too).
_BAND_DEVICES = frozenset({"cuda"})


@dataclass(frozen=True, eq=False)  # hashed by identity, as bands_of caches them
class Bands:
    """A table as ``blocks`` matrices of (``block`` outputs x ``width`` inputs), block ``b``
    reading inputs ``starts[b]`` to ``starts[b] + width``; the last block's rows past
    ``out_len`` are zero."""

    matrices: np.ndarray  # (blocks, block, width) float64
    starts: np.ndarray  # (blocks,) int64
    out_len: int
    in_len: int

    @property
    def blocks(self) -> int:
        return int(self.matrices.shape[0])

    @property
    def block(self) -> int:
        return int(self.matrices.shape[1])

    @property
    def width(self) -> int:
        return int(self.matrices.shape[2])

    def dense(self) -> np.ndarray:
        """The (out, in) matrix the bands hold: equal to the table's ``dense()``."""
        matrix = np.zeros((self.blocks * self.block, self.in_len))
        for b in range(self.blocks):
            rows = slice(b * self.block, (b + 1) * self.block)
            matrix[rows, self.starts[b]:self.starts[b] + self.width] = self.matrices[b]
        return matrix[:self.out_len]


@lru_cache(maxsize=512)
def bands_of(table: AxisTable, block: int | None = None) -> Bands:
    """``table`` as banded blocks of ``block`` outputs (default :data:`BLOCK`), or as one dense
    block when banding would not halve the work.

    >>> from upsamplekit.resample.spec import Resampling
    >>> from upsamplekit.resample.tables import axis_table
    >>> bands = bands_of(axis_table(Resampling.preset("pillow", "bicubic"), 1024, 2048, 2.0))
    >>> bands.blocks, bands.block, bands.width
    (16, 128, 72)
    >>> bool((bands.dense() == axis_table(Resampling.preset("pillow", "bicubic"), 1024, 2048, 2.0).dense()).all())
    True
    """
    block = BLOCK if block is None else block
    out_len, in_len = table.out_len, table.in_len
    rows = np.repeat(np.arange(out_len), table.taps)
    cols = table.index.reshape(-1).astype(np.int64)
    vals = table.weight.reshape(-1)
    keep = vals != 0.0
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    blocks = max(1, -(-out_len // block))
    which = rows // block
    low = np.full(blocks, in_len, dtype=np.int64)
    high = np.zeros(blocks, dtype=np.int64)
    np.minimum.at(low, which, cols)
    np.maximum.at(high, which, cols + 1)
    empty = high == 0  # blocks without a non-zero tap (outside outputs): any window will do
    low[empty], high[empty] = 0, 0
    width = -(-max(int((high - low).max(initial=0)), 1) // _ALIGN) * _ALIGN
    if blocks == 1 or 2 * blocks * block * width > out_len * in_len or width >= in_len:
        block, blocks, width, which = out_len, 1, in_len, np.zeros_like(rows)
        low = np.zeros(1, dtype=np.int64)
    starts = np.minimum(low, in_len - width)  # a window ending past the axis slides back inside it
    matrices = np.zeros((blocks, block, width))
    np.add.at(matrices, (which, rows - which * block, cols - starts[which]), vals)
    return Bands(matrices, starts, out_len, in_len)


def _uses_bands(device_type: str, dtype: torch.dtype, finite: bool, deterministic: bool, tf32: bool) -> bool:
    """The routing rule, pure: banded products on a band device for a floating input without a
    NaN or an infinity, outside deterministic mode, and for float32 only with TF32 matmuls off."""
    return (device_type in _BAND_DEVICES and dtype.is_floating_point and finite and not deterministic
            and not (tf32 and dtype == torch.float32))


def tf32_matmuls() -> bool:
    """Whether CUDA may compute float32 matrix products in TF32 (10-bit mantissa). torch 2.9's
    ``fp32_precision`` flag is read where torch has it: it follows both APIs, while reading the
    legacy ``allow_tf32`` raises once the new API has been used.

    >>> tf32_matmuls()  # torch's default
    False
    """
    precision = getattr(torch.backends.cuda.matmul, "fp32_precision", None)
    return precision == "tf32" if precision is not None else bool(torch.backends.cuda.matmul.allow_tf32)


def engine_for(x: torch.Tensor) -> str:
    """``"bands"`` or ``"gather"``: the engine that applies tables to ``x`` (see the module).

    On a band device this reads ``x`` once to look for a NaN or an infinity, and waits for it.

    >>> engine_for(torch.ones(2, 3))
    'gather'
    """
    if x.device.type not in _BAND_DEVICES or not x.is_floating_point() or x.numel() == 0:
        return "gather"
    tf32 = x.device.type == "cuda" and tf32_matmuls()
    deterministic = torch.are_deterministic_algorithms_enabled()
    finite = bool(torch.isfinite(x).all())
    return "bands" if _uses_bands(x.device.type, x.dtype, finite, deterministic, tf32) else "gather"


@lru_cache(maxsize=256)
def _tensors(bands: Bands, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """(matrices, window indices) on ``device``: (blocks, block, width) and (blocks * width,)."""
    windows = bands.starts[:, None] + np.arange(bands.width)[None, :]
    return (torch.as_tensor(bands.matrices, device=device, dtype=dtype),
            torch.as_tensor(windows.reshape(-1), device=device))


def apply_bands(dense: torch.Tensor, axis: int, table: AxisTable) -> tuple[torch.Tensor, bool]:
    """``table`` applied along ``axis`` of the contiguous ``dense``; returns the result and
    whether the axis was moved outermost in memory (the result is then (out, *rest) with the
    other axes in their order, else it has ``dense``'s shape with the axis resized)."""
    shape = list(dense.shape)
    rows, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
    bands = bands_of(table)
    cached = _tensors.__wrapped__ if torch.jit.is_tracing() else _tensors
    matrices, windows = cached(bands, dense.device, dense.dtype)
    if bands.blocks == 1 and inner == 1:
        shape[axis] = table.out_len
        return (dense.reshape(rows, table.in_len) @ matrices[0].t()).view(shape), False
    stacked = dense.reshape(rows, table.in_len, inner).transpose(0, 1)  # (in, rows, inner), a view
    gathered = stacked if bands.blocks == 1 else stacked.index_select(0, windows)
    gathered = gathered.reshape(bands.blocks, bands.width, rows * inner)  # a copy when the axis moves
    out = torch.bmm(matrices, gathered).view(bands.blocks * bands.block, *shape[:axis], *shape[axis + 1:])
    return out[:table.out_len], True
