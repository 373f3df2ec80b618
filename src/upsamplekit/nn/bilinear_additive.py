"""`BilinearAdditive`: bilinear upsampling, then the sum of groups of consecutive channels
(Wojna et al., "The Devil is in the Decoder", BMVC 2017 / IJCV 2019), and its residual form.

The sum commutes with the interpolation (both are linear, and the interpolation treats every
channel alike), so the layer sums first and interpolates ``out_channels`` channels: the paper's
result, to float rounding, for ``in_channels / out_channels`` times fewer multiply-adds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from ..checks import integer_scale, positive_int
from ..errors import InvalidArgumentError
from .base import Upsampler, build_layer
from .catalog import register_upsampler
from .functional import interpolate
from .layout import check_input, check_rank
from .transposed import TransposedConv

__all__ = ["BilinearAdditive", "bilinear_additive"]

# Above this many input channels the error does not look for the nearest divisors (an O(sqrt) scan).
_MAX_DIVISOR_SEARCH = 10**10


def _nearest_divisors(n: int, target: int) -> list[int]:
    """The divisors of ``n`` closest to ``target`` from below and above (one of them when equal)."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    every = sorted(set(small) | {n // d for d in small})
    below = [d for d in every if d <= target]
    above = [d for d in every if d >= target]
    return sorted({*below[-1:], *above[:1]}, reverse=True)


def _group(where: str, in_channels: int, out_channels: int) -> int:
    """``in_channels // out_channels``, the channels each output channel sums; an error unless exact."""
    if in_channels % out_channels == 0:
        return in_channels // out_channels
    hint = ""
    if in_channels <= _MAX_DIVISOR_SEARCH:
        valid = " or ".join(map(str, _nearest_divisors(in_channels, out_channels)))
        hint = f"; the closest valid out_channels: {valid} (divisors of {in_channels})"
    raise InvalidArgumentError(
        f"{where}: in_channels must be a multiple of out_channels (each output channel sums "
        f"in_channels // out_channels consecutive upsampled channels), but got in_channels={in_channels}, "
        f"out_channels={out_channels}{hint}"
    )


def _sum_then_upsample(x: torch.Tensor, out_channels: int, scale: Sequence[int]) -> torch.Tensor:
    n, c, *spatial = x.shape
    group = c // out_channels
    if group > 1:
        x = x.reshape(n, out_channels, group, *spatial).sum(2)
    return interpolate(x, scale_factor=tuple(scale), method="linear", convention="torch")


def bilinear_additive(x: torch.Tensor, out_channels: int, scale: int | Sequence[int]) -> torch.Tensor:
    """Bilinear additive upsampling of a (N, C, *S) tensor to (N, ``out_channels``, *(S * scale)).

    ``out[c] = sum_{j < g} bilinear(x)[c * g + j]`` with ``g = C // out_channels`` (``C`` must
    be a multiple of ``out_channels``): every output channel is the sum of ``g`` consecutive
    channels of the upsampled input. ``bilinear`` is :func:`upsamplekit.resize` with
    ``method="linear"`` in every spatial axis, torch's convention (half-pixel centres,
    ``align_corners=False``, edge samples clamped): ``nn.Upsample(mode="bilinear")`` in 2-D,
    ``linear``/``trilinear`` in 1-D/3-D. ``scale`` is an integer >= 1 or one per axis.
    The sum is taken before the interpolation (the same result, up to float rounding, for
    ``g`` times fewer multiply-adds); with ``g = 1`` this is the interpolation bit for bit.

    >>> import torch
    >>> x = torch.tensor([[[0.0, 4.0], [10.0, 20.0]]])  # 2 channels, length 2
    >>> bilinear_additive(x, 1, 2)  # (0, 1, 3, 4) + (10, 12.5, 17.5, 20)
    tensor([[[10.0000, 13.5000, 20.5000, 24.0000]]])
    """
    nd = check_rank("bilinear_additive", x, None)
    x = check_input("bilinear_additive", x, nd)
    out_channels = positive_int("out_channels", out_channels, where="bilinear_additive")
    factors = integer_scale("scale", scale, nd, where="bilinear_additive")
    _group("bilinear_additive", int(x.shape[1]), out_channels)
    return _sum_then_upsample(x, out_channels, factors)


# -------------------------------------------------------------------------------- layer
class BilinearAdditive(Upsampler):
    """Bilinear additive upsampling (Wojna et al. 2017), optionally as a residual block, 1-D to 3-D.

    ``residual=False`` (no parameters): ``out = BA(x)`` with

        BA(x)[c] = sum_{j < g} bilinear(x)[c * g + j],   g = in_channels // out_channels,

    the bilinear upsampling by ``scale`` (:func:`upsamplekit.resize`, ``method="linear"``,
    torch's convention: half-pixel centres, ``align_corners=False``) followed by the sum of
    every ``g`` consecutive channels (:func:`bilinear_additive`). ``in_channels`` must be a
    multiple of ``out_channels``. With ``out_channels == in_channels`` it is plain
    bilinear upsampling, bit for bit.

    ``residual=True`` (the paper's residual connections for decoders): the bilinear
    additive upsampling is the shortcut and a learned upsampler the residual branch,

        out = BA(x) + T(x),

    ``T`` a :class:`TransposedConv` ``in_channels -> out_channels`` with stride ``scale``,
    its default kernel (``2 * scale``) and initialisation (``nn.ConvTranspose``'s), stored
    as ``branch``. With ``T``'s weight and bias zero the layer is ``BA`` exactly.

    ``scale`` is an integer >= 1 or one per spatial axis; the output is exactly
    ``in * scale``. ``device`` and ``dtype`` place the residual branch (the plain layer has
    nothing to place and takes any floating dtype).

    >>> import torch
    >>> up = BilinearAdditive(8, 2, scale=2)
    >>> up(torch.randn(1, 8, 5, 5)).shape
    torch.Size([1, 2, 10, 10])
    >>> x = torch.tensor([[[0.0, 4.0], [10.0, 20.0]]])
    >>> BilinearAdditive(2, 1, 2, dims=1)(x)
    tensor([[[10.0000, 13.5000, 20.5000, 24.0000]]])
    >>> sum(p.numel() for p in BilinearAdditive(8, 2, 2, residual=True).parameters())  # 8 * 2 * 4 * 4 + 2
    258
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int | Sequence[int],
        dims: int = 2,
        *,
        residual: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(dims)
        self.in_channels = self.check_positive("in_channels", in_channels)
        self.out_channels = self.check_positive("out_channels", out_channels)
        self.scale = self.check_integer_scale(scale)
        self.residual = self.check_bool("residual", residual)
        self.group = _group(self.layer_name, self.in_channels, self.out_channels)
        kernel = tuple(2 * s for s in self.scale)  # TransposedConv's default
        self.check_parameter_bytes({
            "branch.weight": (self.in_channels, self.out_channels, *kernel) if self.residual else (0,),
            "branch.bias": (self.out_channels,) if self.residual else (0,),
        }, dtype)
        self.branch: TransposedConv | None = None
        if self.residual:
            self.branch = TransposedConv(self.in_channels, self.out_channels, self.scale, self.dims,
                                         device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.check_input(x, self.in_channels)
        y = _sum_then_upsample(x, self.out_channels, self.scale)
        if self.branch is not None:
            y = y + self.branch(x)
        return y


@register_upsampler("bilinear_additive", learned=False, dims=(1, 2, 3), scales="integer",
                    description="bilinear upsampling, then the sum of in/out consecutive channels (Wojna et al.); "
                                "residual=True adds a transposed convolution")
def _build_bilinear_additive(in_channels: int, out_channels: int, scale: Any, dims: int = 2,
                             **options: Any) -> BilinearAdditive:
    return build_layer(BilinearAdditive, options, in_channels=in_channels, out_channels=out_channels, scale=scale,
                       dims=dims)
