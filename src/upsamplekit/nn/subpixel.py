"""`SubPixelConv`: convolution to ``C_out * prod(scale)`` channels, then N-D pixel shuffle (ESPCN)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .base import Upsampler, build_layer
from .catalog import register_alias, register_upsampler
from .functional import conv_same, icnr_weight, pixel_shuffle, shift_blur

__all__ = ["SubPixelConv"]

INITS = ("icnr", "default")


class SubPixelConv(Upsampler):
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
        super().__init__(dims)
        self.in_channels = self.check_positive("in_channels", in_channels)
        self.out_channels = self.check_positive("out_channels", out_channels)
        self.scale = self.check_integer_scale(scale)
        self.kernel_size = self.check_sizes("kernel_size", kernel_size)
        self.init = self.check_choice("init", init, INITS)
        self.blur = self.check_bool("blur", blur)
        bias = self.check_bool("bias", bias)
        block = math.prod(self.scale)
        self.check_parameter_bytes({
            "weight": (self.out_channels * block, self.in_channels, *self.kernel_size),
            "bias": (self.out_channels * block,) if bias else (0,),
        }, dtype)
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
                weight = icnr_weight(weight, self.scale)
                bias = icnr_weight(bias, self.scale, self.dims)
            self.weight.copy_(weight)
            if self.bias is not None:
                self.bias.copy_(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.check_input(x, self.in_channels)
        y = pixel_shuffle(conv_same(x, self.weight, self.bias), self.scale, self.dims)
        if self.blur:
            y = shift_blur(y, [s > 1 for s in self.scale])
        return y


@register_upsampler("subpixel", learned=True, dims=(1, 2, 3), scales="integer",
                    description="sub-pixel convolution: conv then N-D pixel shuffle, ICNR init")
def _build_subpixel(in_channels: int, out_channels: int, scale: Any, dims: int = 2, **options: Any) -> SubPixelConv:
    return build_layer(SubPixelConv, options, in_channels=in_channels, out_channels=out_channels, scale=scale, dims=dims)


register_alias("pixelshuffle", "subpixel", description="sub-pixel convolution (alias of 'subpixel')")
