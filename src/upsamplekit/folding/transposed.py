"""Transposed convolution as sub-pixel convolution (Shi et al. 2016, arXiv 1609.07009).

A transposed convolution with stride ``s`` is a convolution (the kernel flipped, input and
output channels swapped) of the input with ``s - 1`` zeros inserted between samples: a
"zero-stuffing" upsampler whose phase 0 copies ``x[j]`` and whose other phases are zero,
followed by a convolution. The fold of :mod:`upsamplekit.folding.plan` turns it into ``s^d``
ordinary convolutions of the input (one per output phase), run as one, and an interleave.
It saves no multiply-adds: whether it is faster than the native transposed convolution
depends on the shape, so :func:`upsamplekit.fold` uses it only where it measures it faster.

>>> import torch
>>> from torch import nn
>>> deconv = nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1)
>>> folded = fold_transposed(deconv)
>>> folded
FoldedConv(ConvTranspose2d 4x4 stride 2 -> Conv2d 4->12 2x2 on the low-resolution input)
>>> x = torch.randn(2, 4, 5, 6)
>>> bool(torch.allclose(folded(x), deconv(x), atol=1e-5))
True
"""

from __future__ import annotations

from dataclasses import replace

from torch import nn

from ..checks import compact
from ..nn import TransposedConv
from .module import FoldedConv, FoldSpec
from .plan import AxisPlan

__all__ = ["fold_transposed", "is_transposed", "TORCH_TRANSPOSED"]

TORCH_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def is_transposed(module: nn.Module) -> bool:
    """Whether ``module`` is a transposed convolution (torch's or :class:`~upsamplekit.nn.TransposedConv`),
    the layers :func:`fold_transposed` is for."""
    return isinstance(module, (TransposedConv, *TORCH_TRANSPOSED))


def _stuffing(scale: int) -> tuple[tuple[tuple[int, float], ...], ...]:
    return ((((0, 1.0),),) + ((),) * (scale - 1))


def fold_transposed(layer: nn.Module) -> FoldedConv | str:
    """An ``nn.ConvTranspose1d/2d/3d`` or a :class:`~upsamplekit.nn.TransposedConv` as a
    :class:`FoldedConv`, or the reason it is left alone."""
    if isinstance(layer, TransposedConv):
        dims = layer.dims
        axes = []
        for s, k in zip(layer.scale, layer.kernel_size):
            lo = (k - s) // 2  # the crop at the start, see transposed_crops
            axes.append(AxisPlan(s, _stuffing(s), k, 1, k - 1 - lo, lo,
                                 extension="replicate" if layer.exact_borders else "zeros"))
        groups, in_channels, out_channels = 1, layer.in_channels, layer.out_channels
        source = f"TransposedConv {'x'.join(map(str, layer.kernel_size))} stride {compact(layer.scale)}"
        cast = False
    elif (isinstance(layer, TORCH_TRANSPOSED)
          and type(layer).forward is TORCH_TRANSPOSED[len(layer.kernel_size) - 1].forward):
        if isinstance(layer.padding, str):  # torch's transposed convolutions take numbers only
            return f"padding {layer.padding!r} is not a number of samples"
        if layer.padding_mode != "zeros":
            return f"padding_mode {layer.padding_mode!r} (torch's transposed convolutions pad with zeros only)"
        if all(s == 1 for s in layer.stride):
            return "stride 1: it does not upsample"
        dims = len(layer.kernel_size)
        axes = []
        for s, k, d, p, op in zip(layer.stride, layer.kernel_size, layer.dilation, layer.padding,
                                  layer.output_padding):
            reach = d * (k - 1)
            axes.append(AxisPlan(s, _stuffing(s), k, d, reach - p, reach - p + op - (s - 1), extension="zeros"))
        groups, in_channels, out_channels = layer.groups, layer.in_channels, layer.out_channels
        stride = layer.stride[0] if len(set(layer.stride)) == 1 else "x".join(map(str, layer.stride))
        source = f"{type(layer).__name__} {'x'.join(map(str, layer.kernel_size))} stride {stride}"
        cast = False
    else:
        return f"{type(layer).__name__} is not a transposed convolution this fold knows"
    spec = FoldSpec(dims=dims, in_channels=in_channels, out_channels=out_channels, groups=groups, axes=tuple(axes),
                    transposed=True, cast_input=cast)
    blocks = 1
    for a in axes:
        blocks *= a.scale
    description = (f"{source} -> Conv{dims}d {in_channels}->{out_channels * blocks} "
                   f"{'x'.join(map(str, spec.widths))} on the low-resolution input")
    return FoldedConv(replace(spec, description=description), layer.weight, layer.bias)
