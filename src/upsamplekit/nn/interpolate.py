"""`Interpolate`: fixed interpolation as a layer, any framework's semantics, optional channel change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..checks import sequence_items
from ..errors import InvalidArgumentError
from ..resample.spec import Resampling
from .base import Upsampler, build_layer, channel_projection
from .catalog import register_alias, register_upsampler
from .functional import interpolate

__all__ = ["Interpolate"]

# resize() arguments that belong to one call, not to a layer over (N, C, *spatial) tensors.
PER_CALL = ("axes", "roi", "channels_last", "spec", "max_output_bytes")


class Interpolate(Upsampler):
    """Resize every spatial axis with :func:`upsamplekit.resize`: ``nn.Upsample`` and more.

    ``Interpolate(scale_factor=2, method="linear")`` computes what
    ``nn.Upsample(scale_factor=2, mode="bilinear")`` computes, bit for bit, for every torch
    mode (``nearest``, ``nearest-exact``, ``linear``/``bilinear``/``trilinear``,
    ``bicubic``, ``area``) and flag (``align_corners``, ``recompute_scale_factor``,
    ``antialias``), in 1-D, 2-D and 3-D. ``convention`` switches to another framework's
    semantics: ``Interpolate(scale_factor=2, method="nearest", convention="keras")`` is
    Keras ``UpSampling2D(size=2)`` on (N, C, H, W) tensors (Keras is channels-last: permute
    its NHWC arrays; like Keras, the keras convention returns float32). Methods and options
    are those of :func:`~upsamplekit.resize` for the convention (cubic works in 1-D and 3-D
    too, with torch's ``a = -0.75`` and edge replication).

    Channels: with ``out_channels`` different from ``in_channels`` a 1x1 convolution
    (``nn.ConvNd(in_channels, out_channels, 1)``, stored as ``proj``) follows the resize, so
    a fixed upsampler can sit wherever a learned one changes the channel count. Otherwise
    there are no parameters; ``in_channels``, when given, is checked against the input.

    ONNX (``torch.onnx.export(..., opset_version=17, dynamo=False)``): nearest (every
    convention's rounding), linear in any dims and cubic in 2-D export as one ``Resize``
    node; other specs (area, lanczos, antialias, cubic in 1-D/3-D) export as one
    interpolation matrix per axis for the traced spatial size (see
    :func:`upsamplekit.nn.functional.interpolate`).

    >>> import torch
    >>> x = torch.tensor([[[0.0, 1.0]]])
    >>> Interpolate(scale_factor=2, method="linear", dims=1)(x)
    tensor([[[0.0000, 0.2500, 0.7500, 1.0000]]])
    >>> Interpolate(scale_factor=2, dims=1)(x)  # nearest, as nn.Upsample
    tensor([[[0., 0., 1., 1.]]])
    >>> Interpolate(scale_factor=2, in_channels=1, out_channels=3, dims=1)(x).shape
    torch.Size([1, 3, 4])
    """

    def __init__(
        self,
        scale_factor: float | Sequence[float] | None = None,
        size: int | Sequence[int] | None = None,
        method: str = "nearest",
        convention: str = "torch",
        in_channels: int | None = None,
        out_channels: int | None = None,
        dims: int = 2,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        **options: Any,
    ) -> None:
        super().__init__(dims)
        name = self.layer_name
        if (size is None) == (scale_factor is None):
            given = "both" if size is not None else "neither"
            raise InvalidArgumentError(f"{name}: exactly one of scale_factor and size must be given, but got {given}")
        self.scale_factor = None if scale_factor is None else self.check_positive_scale(scale_factor)
        self.size: int | tuple[int, ...] | None = None
        if size is not None:  # one length for every axis stays one, as resize broadcasts it
            self.size = self.check_positive("size", size) if sequence_items(size) is None \
                else self.check_sizes("size", size)
        per_call = sorted(set(options) & set(PER_CALL))
        if per_call:
            raise InvalidArgumentError(
                f"{name}: {per_call[0]}= is a per-call argument of upsamplekit.resize; the layer resizes every "
                f"spatial axis of (N, C, *spatial) tensors (call resize for other layouts)"
            )
        # Validates method, convention and options now, not at the first forward.
        self.spec = Resampling.preset(convention, method, **options)
        self.method, self.convention, self.options = method, convention, dict(options)
        self.in_channels = None if in_channels is None else self.check_positive("in_channels", in_channels)
        self.out_channels = self.in_channels if out_channels is None else \
            self.check_positive("out_channels", out_channels)
        self.proj: nn.Conv1d | nn.Conv2d | nn.Conv3d | None = None
        if self.out_channels != self.in_channels:
            if self.in_channels is None or self.out_channels is None:
                raise InvalidArgumentError(
                    f"{name}: out_channels={out_channels} needs in_channels to build the 1x1 convolution that "
                    f"changes the channel count, but in_channels is None"
                )
            self.check_parameter_bytes({"proj": (self.out_channels, self.in_channels + 1)}, dtype)
            self.proj = channel_projection(self.dims, self.in_channels, self.out_channels, device, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.check_input(x, self.in_channels)
        y = interpolate(x, self.size, self.scale_factor, method=self.method, convention=self.convention,
                        **self.options)
        if self.proj is not None:
            dtype = self.proj.weight.dtype
            y = self.proj(y if y.dtype == dtype else y.to(dtype))  # keras/tf conventions return float32
        return y


# ------------------------------------------------------------------------------ registry
@register_upsampler("interpolate", learned=False, dims=(1, 2, 3), scales="any",
                    description="fixed interpolation (upsamplekit.resize); 1x1 conv when channels change")
def _build_interpolate(
    in_channels: int, out_channels: int, scale: Any, dims: int = 2, method: str = "nearest", **options: Any
) -> Interpolate:
    return build_layer(Interpolate, options, scale_factor=scale, method=method, in_channels=in_channels,
                       out_channels=out_channels, dims=dims)


register_alias("nearest", "interpolate", description="nearest-neighbour upsampling (torch's nearest)",
               method="nearest")
register_alias("bilinear", "interpolate", description="linear interpolation in every axis (half-pixel centres)",
               method="linear")
register_alias("bicubic", "interpolate", description="cubic interpolation in every axis (Keys a=-0.75)",
               method="cubic")
