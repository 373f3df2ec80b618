"""The (N, C, *spatial) tensor layout of every layer and op in :mod:`upsamplekit.nn`, and its checks.

Batch first, channels second, then 1, 2 or 3 spatial axes. The checks raise errors that name
the layer or function and show the expected and the actual shape.

>>> import torch
>>> check_input("SubPixelConv", torch.zeros(1, 4, 3, 3), 2, channels=4).shape
torch.Size([1, 4, 3, 3])
>>> check_input("SubPixelConv", torch.zeros(1, 4, 3), 2)
Traceback (most recent call last):
...
upsamplekit.errors.InvalidArgumentError: SubPixelConv(dims=2) expects input of shape (N, C, H, W), a 4-D tensor, but got a 3-D tensor of shape (1, 4, 3)
"""

from __future__ import annotations

import torch

from ..checks import check_dims, per_axis, positive_int
from ..errors import InvalidArgumentError, InvalidTypeError

__all__ = ["SHAPES", "check_input", "check_rank", "spatial_sizes"]

# The layout of each spatial rank, as the errors write it.
SHAPES = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


def check_input(module: str, x: object, dims: int, channels: int | None = None) -> torch.Tensor:
    """Check that ``x`` is a floating (N, C, *spatial) tensor with ``dims`` spatial axes,
    ``channels`` channels (when given) and no empty spatial axis; errors name ``module``."""
    if not isinstance(x, torch.Tensor):
        raise InvalidTypeError(f"{module}: the input must be a torch.Tensor, but got {type(x).__name__}")
    if x.dim() != dims + 2:
        raise InvalidArgumentError(
            f"{module}(dims={dims}) expects input of shape {SHAPES[dims]}, a {dims + 2}-D tensor, "
            f"but got a {x.dim()}-D tensor of shape {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise InvalidTypeError(f"{module}: the input must be a floating-point tensor, but got dtype {x.dtype}")
    if channels is not None and x.shape[1] != channels:
        raise InvalidArgumentError(
            f"{module}(in_channels={channels}) expects {channels} input channels (dim 1), "
            f"but got {x.shape[1]} in an input of shape {tuple(x.shape)}"
        )
    if any(int(s) < 1 for s in x.shape[2:]):
        raise InvalidArgumentError(f"{module}: every spatial axis of the input must have length >= 1, but got "
                                   f"shape {tuple(x.shape)}")
    return x


def check_rank(name: str, x: object, dims: int | None) -> int:
    """The number of spatial axes of ``x``, a (N, C, *spatial) tensor: ``dims`` when given
    (and matching), else ``x.dim() - 2``; it must be 1, 2 or 3. Errors name ``name``."""
    if not isinstance(x, torch.Tensor):
        raise InvalidTypeError(f"{name}: x must be a torch.Tensor, but got {type(x).__name__}")
    nd = x.dim() - 2 if dims is None else check_dims(dims, where=name)
    if nd not in (1, 2, 3) or x.dim() != nd + 2:
        raise InvalidArgumentError(
            f"{name}(dims={nd}) expects a tensor (N, C, *spatial) with 1 to 3 spatial axes matching dims, "
            f"but got shape {tuple(x.shape)}"
        )
    return nd


def spatial_sizes(name: str, value: object, dims: int, *, where: str | None = None) -> tuple[int, ...]:
    """``value`` (a positive integer, or one per spatial axis) as a ``dims``-tuple of ints >= 1.

    For per-axis lengths such as ``kernel_size``; errors name ``where`` and ``name``.

    >>> spatial_sizes("kernel_size", 3, 2), spatial_sizes("kernel_size", (3, 5), 2)
    ((3, 3), (3, 5))
    >>> spatial_sizes("kernel_size", (3, 0), 2, where="SubPixelConv")
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: SubPixelConv: kernel_size must be a positive integer, but got 0
    """
    rule = f"{name} must be an integer or {dims} integers (dims={dims})"
    return tuple(positive_int(name, v, where=where) for v in per_axis(name, value, dims, where=where, rule=rule))
