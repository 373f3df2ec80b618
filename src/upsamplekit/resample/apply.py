"""Apply an :class:`AxisTable` to one axis of a tensor, with a gather-only backward.

The forward is ``taps`` gathers along the axis, each scaled by its weight column and
summed. The backward applies the transposed table the same way (no scatter-add, so no
atomics and bit-for-bit reproducible gradients), and is itself differentiable.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import torch

from .tables import AxisTable

__all__ = ["resample_axis"]


@lru_cache(maxsize=2048)
def _torch_table(table: AxisTable, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    index = torch.as_tensor(table.index.copy(), device=device)
    weight = torch.as_tensor(table.weight.copy(), device=device, dtype=dtype)
    return index, weight


def _gather(x: torch.Tensor, dim: int, table: AxisTable) -> torch.Tensor:
    index, weight = _torch_table(table, x.device, x.dtype)
    if table.is_selection:
        return x.index_select(dim, index[:, 0])
    view = [1] * x.dim()
    view[dim] = table.out_len
    out: torch.Tensor | None = None
    for t in range(table.taps):
        term = x.index_select(dim, index[:, t]).mul_(weight[:, t].view(view))
        out = term if out is None else out.add_(term)
    assert out is not None
    return out


class _ResampleAxis(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, dim: int, table: AxisTable) -> torch.Tensor:  # type: ignore[override]
        ctx.dim = dim
        ctx.table = table
        return _gather(x, dim, table)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, None, None]:  # type: ignore[override]
        if not ctx.needs_input_grad[0]:
            return None, None, None
        return _ResampleAxis.apply(grad, ctx.dim, ctx.table.transposed), None, None


def resample_axis(x: torch.Tensor, dim: int, table: AxisTable) -> torch.Tensor:
    """Resample ``x`` along ``dim`` with ``table``; differentiable for floating ``x``.

    >>> import torch
    >>> from upsamplekit.resample.spec import Resampling
    >>> from upsamplekit.resample.tables import axis_table
    >>> resample_axis(torch.tensor([[0.0, 1.0]]), 1, axis_table(Resampling(), 2, 4, 2.0))
    tensor([[0.0000, 0.2500, 0.7500, 1.0000]])
    """
    if x.is_floating_point():
        return _ResampleAxis.apply(x, dim, table)
    return _gather(x, dim, table)
