"""`ResizeConv`: resize, then a "same" convolution (Odena et al. 2016)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..errors import InvalidArgumentError
from ..resample.spec import Resampling
from .base import Upsampler, build_layer
from .catalog import register_upsampler
from .functional import conv_same, interpolate
from .interpolate import PER_CALL

__all__ = ["ResizeConv"]


class ResizeConv(Upsampler):
    """``conv(resize(x, scale_factor=scale, method=method, convention=convention))``.

    The resize is :func:`upsamplekit.resize` (default: torch's ``nearest``, as Odena et
    al. propose to avoid checkerboards); ``scale`` may be fractional and per axis, and the
    output length is the convention's (``floor(in * scale)`` for torch). The convolution
    has stride 1 and zero "same" padding (``(K - 1) // 2`` before, the rest after), so it
    keeps the resized size; it is initialised as ``nn.Conv``. Options (``align_corners``,
    ``antialias``, ONNX attributes, ...) go to the resize. Exports to ONNX as
    :class:`Interpolate` does, followed by a Conv node.

    >>> import torch
    >>> ResizeConv(4, 2, scale=2, method="linear")(torch.zeros(1, 4, 5, 6)).shape
    torch.Size([1, 2, 10, 12])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: float | Sequence[float],
        method: str = "nearest",
        kernel_size: int | Sequence[int] = 3,
        dims: int = 2,
        convention: str = "torch",
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        **options: Any,
    ) -> None:
        super().__init__(dims)
        self.in_channels = self.check_positive("in_channels", in_channels)
        self.out_channels = self.check_positive("out_channels", out_channels)
        self.scale = self.check_positive_scale(scale)
        self.kernel_size = self.check_sizes("kernel_size", kernel_size)
        for key in PER_CALL:
            if key in options:
                raise InvalidArgumentError(f"{self.layer_name}: {key}= is a per-call argument of upsamplekit.resize, "
                                           f"not a layer option")
        bias = self.check_bool("bias", bias)
        self.spec = Resampling.preset(convention, method, **options)  # validates now
        self.method, self.convention, self.options = method, convention, dict(options)
        self.check_parameter_bytes({
            "weight": (self.out_channels, self.in_channels, *self.kernel_size),
            "bias": (self.out_channels,) if bias else (0,),
        }, dtype)
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(self.out_channels, self.in_channels, *self.kernel_size, **factory))
        self.bias = nn.Parameter(torch.empty(self.out_channels, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Conv``'s initialisation."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_channels * math.prod(self.kernel_size))
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.check_input(x, self.in_channels)
        y = interpolate(x, scale_factor=self.scale, method=self.method, convention=self.convention, **self.options)
        if y.dtype != self.weight.dtype:
            y = y.to(self.weight.dtype)  # conventions that return float32 (TF, Keras)
        return conv_same(y, self.weight, self.bias)


@register_upsampler("resizeconv", learned=True, dims=(1, 2, 3), scales="any",
                    description="resize (nearest by default) then a same-padded convolution")
def _build_resizeconv(in_channels: int, out_channels: int, scale: Any, dims: int = 2, **options: Any) -> ResizeConv:
    return build_layer(ResizeConv, options, in_channels=in_channels, out_channels=out_channels, scale=scale, dims=dims)
