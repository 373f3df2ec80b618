"""`TransposedConv`: a transposed convolution that upsamples by exactly ``scale``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..errors import InvalidArgumentError
from .base import Upsampler, build_layer
from .catalog import register_alias, register_upsampler
from .functional import bilinear_kernel, transposed_upsample

__all__ = ["TransposedConv"]

INITS = ("default", "bilinear")


class TransposedConv(Upsampler):
    """Transposed convolution with stride ``scale``; the output is exactly ``in * scale``.

    The kernel defaults to ``2 * scale`` per axis: every output sample then gathers the same
    number of kernel taps (uniform overlap), so constant weights give a constant output.
    ``kernel_size % scale != 0`` overlaps unevenly and checkerboards (Odena et al. 2016):
    the layer warns. ``kernel_size < scale`` is an error (some outputs would see no input).
    The full transposed convolution is cropped by ``floor((K - s) / 2)`` at the start and
    ``ceil((K - s) / 2)`` at the end (for odd ``K - s`` the extra sample is cut at the end,
    so ``K = 2s`` with odd ``s`` is half a sample off-centre; Caffe's ``K = 2s - 1`` is not).

    ``init="default"`` is ``nn.ConvTranspose``'s initialisation. ``init="bilinear"`` is the
    Caffe ``BilinearFiller`` in N-D (:func:`upsamplekit.nn.functional.bilinear_kernel`):
    the weight is a full (C, C, *K) transposed convolution with the bilinear filter on the
    diagonal and zeros elsewhere (as FCN's ``surgery.interp`` fills it, not Caffe's
    depthwise ``group: C``), and a zero bias: channels do not mix at initialisation, and
    training may mix them. It needs ``out_channels == in_channels`` and ``kernel_size >=
    2 * scale - scale % 2``. Away from the borders it is ``resize(x, scale_factor=scale,
    method="linear")`` (torch's bilinear, ``align_corners=False``), to float64 round-off.

    ``exact_borders=True`` replicates the edge samples before the transposed convolution
    (one per side for ``K = 2s``) and crops ``s`` more outputs per replicated sample. With
    ``init="bilinear"`` the layer then equals ``resize(x, scale_factor=scale,
    method="linear", convention="torch")`` everywhere, borders included; without it the
    border ring is darker, because a transposed convolution treats the outside as zeros
    (seed 003: a constant 1 image gives 0.5625 in the corner at x2).

    Weights are laid out as ``nn.ConvTranspose``'s, (C_in, C_out, *K).

    >>> import torch
    >>> up = TransposedConv(1, 1, 2, dims=1, init="bilinear", exact_borders=True)
    >>> up(torch.tensor([[[0.0, 1.0]]])).tolist()
    [[[0.0, 0.25, 0.75, 1.0]]]
    >>> TransposedConv(8, 4, 2)(torch.zeros(1, 8, 16, 16)).shape
    torch.Size([1, 4, 32, 32])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int | Sequence[int],
        dims: int = 2,
        kernel_size: int | Sequence[int] | None = None,
        init: str = "default",
        exact_borders: bool = False,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(dims)
        name = self.layer_name
        self.in_channels = self.check_positive("in_channels", in_channels)
        self.out_channels = self.check_positive("out_channels", out_channels)
        self.scale = self.check_integer_scale(scale)
        if kernel_size is None:
            self.kernel_size = tuple(2 * s for s in self.scale)
        else:
            self.kernel_size = self.check_sizes("kernel_size", kernel_size)
        self.init = self.check_choice("init", init, INITS)
        self.exact_borders = self.check_bool("exact_borders", exact_borders)
        bias = self.check_bool("bias", bias)
        small = [(k, s) for k, s in zip(self.kernel_size, self.scale) if k < s]
        if small:
            raise InvalidArgumentError(
                f"{name}: kernel_size must be >= scale (the stride) on every axis, or some output samples receive "
                f"no input, but got kernel_size={self.kernel_size} with scale={self.scale}"
            )
        uneven = [(k, s) for k, s in zip(self.kernel_size, self.scale) if k % s]
        if uneven:
            k, s = uneven[0]
            warnings.warn(
                f"{name}: kernel_size {k} is not a multiple of the stride {s} (the scale), so the kernel overlaps "
                f"unevenly and the output will show a checkerboard pattern (Odena et al. 2016); kernel_size "
                f"{2 * s} (the default, 2 * scale) overlaps evenly",
                UserWarning,
                stacklevel=2,
            )
        self.check_parameter_bytes({
            "weight": (self.in_channels, self.out_channels, *self.kernel_size),
            "bias": (self.out_channels,) if bias else (0,),
        }, dtype)
        if init == "bilinear":
            if self.out_channels != self.in_channels:
                raise InvalidArgumentError(
                    f"{name}: init='bilinear' puts the bilinear filter on the channel diagonal, so out_channels must "
                    f"equal in_channels, but got in_channels={in_channels}, out_channels={out_channels}; add a 1x1 "
                    f"convolution (or use Interpolate/ResizeConv with out_channels) to change the channel count"
                )
            bilinear_kernel(self.scale, self.dims, self.kernel_size)  # checks the kernel holds the filter
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(self.in_channels, self.out_channels, *self.kernel_size, **factory))
        self.bias = nn.Parameter(torch.empty(self.out_channels, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fill the weights as ``init`` says (``nn.ConvTranspose``'s own scheme for ``default``)."""
        with torch.no_grad():
            if self.init == "bilinear":
                self.weight.zero_()
                kernel = bilinear_kernel(self.scale, self.dims, self.kernel_size,
                                            dtype=self.weight.dtype, device=self.weight.device)
                for c in range(self.in_channels):
                    self.weight[c, c] = kernel
                if self.bias is not None:
                    self.bias.zero_()
                return
            nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
            if self.bias is not None:
                fan_in = self.out_channels * math.prod(self.kernel_size)  # torch's fan_in of (C_in, C_out, *K)
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.check_input(x, self.in_channels)
        return transposed_upsample(x, self.weight, self.bias, self.scale, exact_borders=self.exact_borders)


@register_upsampler("transposed", learned=True, dims=(1, 2, 3), scales="integer",
                    description="transposed convolution, kernel 2*scale, output exactly in*scale")
def _build_transposed(in_channels: int, out_channels: int, scale: Any, dims: int = 2, **options: Any) -> TransposedConv:
    return build_layer(TransposedConv, options, in_channels=in_channels, out_channels=out_channels, scale=scale,
                       dims=dims)


register_alias("deconv", "transposed", description="transposed convolution (alias of 'transposed')")
