"""`SubPixelConv`: convolution to ``C_out * prod(scale)`` channels, then N-D pixel shuffle (ESPCN)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..errors import unknown_choice
from . import functional as UF
from .registry import register_alias, register_upsampler

__all__ = ["SubPixelConv"]

_INITS = ("icnr", "default")


class SubPixelConv(nn.Module):
    """Sub-pixel convolution (Shi et al. 2016): ``pixel_shuffle(conv(x), scale)`` in 1-D, 2-D, 3-D.

    The convolution (stride 1, zero "same" padding, ``kernel_size`` per axis) has
    ``out_channels * prod(scale)`` outputs; :func:`~upsamplekit.nn.functional.pixel_shuffle`
    (``nn.PixelShuffle``'s channel order, any dims, per-axis scales) spreads each group of
    ``prod(scale)`` channels over a ``scale`` block.

    ``init="icnr"`` (Aitken et al. 2017, fastai's ``icnr_init``): a ``C_out``-channel
    convolution ``W0, b0`` is initialised as ``nn.Conv`` does, and every filter and bias is
    repeated ``prod(scale)`` times (:func:`~upsamplekit.nn.functional.icnr_weight`). At
    initialisation the layer is then exactly ``resize(conv(x, W0, b0), scale_factor=scale,
    method="nearest")``: every ``scale`` block is constant, with no checkerboard.
    ``init="default"`` initialises the whole convolution as ``nn.Conv`` does.

    ``blur=True`` appends fastai's blur: along every upsampled axis, replicate-pad one
    sample before and average neighbouring pairs (``ReplicationPad2d((1, 0, 1, 0))`` +
    ``AvgPool2d(2, stride=1)`` in 2-D; replicate, not zero, padding, so borders are not
    darkened). Axes with scale 1 are left alone.

    >>> import torch
    >>> up = SubPixelConv(2, 3, scale=2)
    >>> y = up(torch.randn(1, 2, 4, 4))
    >>> y.shape
    torch.Size([1, 3, 8, 8])
    >>> bool((y[..., 0::2, 0::2] == y[..., 1::2, 1::2]).all())  # ICNR: constant 2x2 blocks
    True
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int | Sequence[int],
        dims: int = 2,
        kernel_size: int | Sequence[int] = 3,
        init: str = "icnr",
        blur: bool = False,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.dims = UF.check_dims(name, dims)
        self.in_channels = UF._positive_int(name, "in_channels", in_channels)
        self.out_channels = UF._positive_int(name, "out_channels", out_channels)
        self.scale = UF.integer_scale(name, scale, self.dims)
        self.kernel_size = UF._sizes(name, "kernel_size", kernel_size, self.dims)
        if init not in _INITS:
            raise unknown_choice(f"{name}: init", init, _INITS)
        self.init = init
        self.blur = bool(blur)
        block = math.prod(self.scale)
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(self.out_channels * block, self.in_channels, *self.kernel_size,
                                               **factory))
        self.bias = nn.Parameter(torch.empty(self.out_channels * block, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """ICNR or ``nn.Conv``'s initialisation, as ``init`` says."""
        block = math.prod(self.scale)
        rows = self.out_channels if self.init == "icnr" else self.out_channels * block
        with torch.no_grad():
            weight = torch.empty(rows, *self.weight.shape[1:], dtype=self.weight.dtype, device=self.weight.device)
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5))  # nn.Conv's scheme
            bound = 1 / math.sqrt(self.in_channels * math.prod(self.kernel_size))
            bias = torch.empty(rows, dtype=self.weight.dtype, device=self.weight.device).uniform_(-bound, bound)
            if self.init == "icnr":
                weight = UF.icnr_weight(weight, self.scale)
                bias = UF.icnr_weight(bias, self.scale, self.dims)
            self.weight.copy_(weight)
            if self.bias is not None:
                self.bias.copy_(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = UF.check_input(type(self).__name__, x, self.dims, self.in_channels)
        y = UF.pixel_shuffle(UF.conv_same(x, self.weight, self.bias), self.scale, self.dims)
        if self.blur:
            y = UF.shift_blur(y, [s > 1 for s in self.scale])
        return y

    def extra_repr(self) -> str:
        scale = UF.compact(self.scale)
        kernel = UF.compact(self.kernel_size)
        return (f"{self.in_channels}, {self.out_channels}, scale={scale}, dims={self.dims}, kernel_size={kernel}, "
                f"init={self.init!r}, blur={self.blur}, bias={self.bias is not None}")


@register_upsampler("subpixel", learned=True, dims=(1, 2, 3), scales="integer",
                    description="sub-pixel convolution: conv then N-D pixel shuffle, ICNR init")
def _build_subpixel(in_channels: int, out_channels: int, scale: Any, dims: int = 2, **options: Any) -> SubPixelConv:
    return SubPixelConv(in_channels, out_channels, scale, dims=dims, **options)


register_alias("pixelshuffle", "subpixel", description="sub-pixel convolution (alias of 'subpixel')")
