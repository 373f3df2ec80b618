"""`ResizeConv`: resize, then a "same" convolution (Odena et al. 2016)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..errors import InvalidArgumentError
from ..resample import Resampling
from . import functional as UF
from .registry import register_upsampler

__all__ = ["ResizeConv"]


class ResizeConv(nn.Module):
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
        super().__init__()
        name = type(self).__name__
        self.dims = UF.check_dims(name, dims)
        self.in_channels = UF._positive_int(name, "in_channels", in_channels)
        self.out_channels = UF._positive_int(name, "out_channels", out_channels)
        self.scale = UF.positive_scale(name, scale, self.dims)
        self.kernel_size = UF._sizes(name, "kernel_size", kernel_size, self.dims)
        for key in ("axes", "roi", "channels_last", "spec", "max_output_bytes"):
            if key in options:
                raise InvalidArgumentError(f"{name}: {key}= is a per-call argument of upsamplekit.resize, not a "
                                           f"layer option")
        self.spec = Resampling.preset(convention, method, **options)  # validates now
        self.method, self.convention, self.options = method, convention, dict(options)
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
        x = UF.check_input(type(self).__name__, x, self.dims, self.in_channels)
        y = UF.interpolate(x, scale_factor=self.scale, method=self.method, convention=self.convention, **self.options)
        if y.dtype != self.weight.dtype:
            y = y.to(self.weight.dtype)  # conventions that return float32 (TF, Keras)
        return UF.conv_same(y, self.weight, self.bias)

    def extra_repr(self) -> str:
        kernel = UF.compact(self.kernel_size)
        parts = [f"{self.in_channels}, {self.out_channels}, scale={self.scale!r}, method={self.method!r}",
                 f"kernel_size={kernel}", f"dims={self.dims}", f"convention={self.convention!r}",
                 f"bias={self.bias is not None}"]
        parts += [f"{k}={v!r}" for k, v in self.options.items()]
        return ", ".join(parts)


@register_upsampler("resizeconv", learned=True, dims=(1, 2, 3), scales="any",
                    description="resize (nearest by default) then a same-padded convolution")
def _build_resizeconv(in_channels: int, out_channels: int, scale: Any, dims: int = 2, **options: Any) -> ResizeConv:
    return ResizeConv(in_channels, out_channels, scale, dims=dims, **options)
