"""`FADE`: fusing the assets of decoder and encoder (Lu et al., ECCV 2022), a guided upsampler, N-D.

A guided upsampler takes two inputs: ``x``, the decoder feature at low resolution, and
``guide``, the encoder feature at the output resolution (a U-Net's skip connection). FADE
blends the guide with a CARAFE reassembly of ``x`` whose kernels are predicted from both,
and lets a gate predicted from ``x`` choose, per output location, how much of each to keep.

Upstream (poppinace/fade) is 2-D and x2 only, and needs mmcv's CUDA CARAFE or an unfold
version that builds (N, C * 25, H, W). This one runs in 1-D to 3-D at any integer scale
(per axis too), on the CPU, on :func:`upsamplekit.nn.carafe.carafe` (no unfold tensor).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import compact, is_integer
from ..errors import InvalidArgumentError, InvalidTypeError
from .base import CONV, Upsampler, build_layer, channel_projection
from .carafe import carafe
from .catalog import register_upsampler
from .functional import pixel_shuffle

__all__ = ["FADE", "nearest_repeat"]


def nearest_repeat(x: torch.Tensor, scale: Sequence[int]) -> torch.Tensor:
    """Nearest upsampling by integer factors: ``out[..., l'] = x[..., floor(l' / scale)]``, any rank.

    An expand and a pixel shuffle (reshapes only): exact, differentiable, and exported to ONNX as
    Expand + Reshape + Transpose. ``x`` is (N, C, *S) and ``scale`` one factor per spatial axis.

    >>> import torch
    >>> nearest_repeat(torch.tensor([[[1.0, 2.0]]]), (3,))
    tensor([[[1., 1., 1., 2., 2., 2.]]])
    """
    n, c, *spatial = x.shape
    block = math.prod(scale)
    if block == 1:
        return x
    copies = x.unsqueeze(2).expand(n, c, block, *spatial).reshape(n, c * block, *spatial)
    return pixel_shuffle(copies, scale, len(spatial))


def _odd(where: str, name: str, value: object, why: str) -> int:
    if not is_integer(value) or int(value) < 1 or int(value) % 2 == 0:
        raise InvalidArgumentError(f"{where}: {name} must be an odd integer >= 1 ({why}), but got {value!r}")
    return int(value)


def _autocasting(device_type: str) -> bool:
    """Whether ``torch.autocast`` is on for ``device_type`` (False for types autocast does not know)."""
    try:
        return torch.is_autocast_enabled(device_type)
    except RuntimeError:
        return False


class FADE(Upsampler):
    """FADE (Lu et al., ECCV 2022): a gated blend of the guide and a CARAFE reassembly of ``x``, 1-D to 3-D.

    Called as ``layer(x, guide)``: ``x`` is (N, ``in_channels``, *S), the decoder feature;
    ``guide`` is (N, ``guide_channels``, *(S * scale)), the encoder feature at the output
    resolution. The output, (N, ``out_channels``, *(S * scale)), at location ``l'`` with source
    pixel ``l = floor(l' / scale)`` is::

        out[l'] = g[l'] * guide_proj(guide)[l'] + (1 - g[l']) * proj(sum_n W_l'(n) x[l + n])
        W_l'    = softmax_n(E(guide_compressor(guide))[n, l'] + E(channel_compressor(x))[n, l])
        g[l']   = sigmoid(gate(x)[l])

    ``n`` runs over the ``k_up^d`` neighbourhood centred on the source pixel, with zeros
    outside the input (CARAFE's border; :func:`~upsamplekit.nn.carafe.carafe` computes it
    without the unfold tensor). ``E`` is ``content_encoder``, one ``k_enc`` convolution
    (zero "same" padding, ``compressed_channels -> k_up^d``) applied, with the same weights
    and bias, to the compressed guide at the output resolution and to the compressed ``x``
    at the input resolution, whose result is repeated over each ``scale`` block (nearest
    upsampling): the paper's *semi-shift convolution*, which upstream computes at x2 as a
    stride-2 convolution over four shifted paddings of the guide. ``gate`` is a 1x1
    convolution ``in_channels -> 1``, also repeated over each block. The compressors are 1x1
    convolutions to ``compressed_channels``: ``guide_compressor`` with a bias,
    ``channel_compressor`` (for ``x``) without one, as upstream.

    Channel counts: ``guide_channels=None`` means ``in_channels``. When ``out_channels``
    differs from ``in_channels``, ``proj`` (a 1x1 convolution, ``nn.ConvNd`` initialisation)
    maps the reassembled ``x`` to ``out_channels``; when ``guide_channels`` differs from
    ``out_channels``, ``guide_proj`` (likewise) maps the guide. Otherwise they are None and
    the terms are used as they are (upstream's case: all three equal).

    Initialisation as upstream: Xavier-uniform ``gate`` and compressors with zero biases,
    Xavier-normal ``content_encoder`` with a zero bias. Known operators: with every kernel
    parameter zero (``guide_compressor``'s and ``content_encoder``'s weights and biases) the
    kernels are uniform, so the second term is a ``k_up``-wide box average (the zeros outside
    count) followed by nearest upsampling; a gate bias of ``-inf`` removes the guide term and
    ``+inf`` leaves only the guide; with zero ``guide_compressor`` the layer is
    :class:`~upsamplekit.nn.CARAFE` of ``x`` (its encoder weights repeated over the
    sub-positions, its bias doubled) blended with the guide. Upstream's names map as
    ``gate_generator.conv`` -> ``gate``, ``kernel_generator.conv1_en`` -> ``guide_compressor``,
    ``kernel_generator.conv1_de`` -> ``channel_compressor``, ``kernel_generator.conv2_kernels``
    / ``conv2_bias`` -> ``content_encoder.weight`` / ``.bias``.

    >>> import torch
    >>> up = FADE(16, 16, scale=2)
    >>> x, guide = torch.randn(1, 16, 4, 4), torch.randn(1, 16, 8, 8)
    >>> up(x, guide).shape
    torch.Size([1, 16, 8, 8])
    >>> sum(p.numel() for p in FADE(256, 256, 2).parameters())  # 47.5K, as in the DySample paper's table
    47514
    >>> up(x)
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: FADE: the guide argument is missing: call layer(x, guide) with the encoder feature at the output size (1, 16, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int | Sequence[int],
        dims: int = 2,
        *,
        guide_channels: int | None = None,
        k_up: int = 5,
        k_enc: int = 3,
        compressed_channels: int = 64,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(dims)
        name = self.layer_name
        self.in_channels = self.check_positive("in_channels", in_channels)
        self.out_channels = self.check_positive("out_channels", out_channels)
        self.scale = self.check_integer_scale(scale)
        self.guide_channels = self.in_channels if guide_channels is None else \
            self.check_positive("guide_channels", guide_channels)
        self.k_up = _odd(name, "k_up", k_up, "the reassembly kernel is centred on the source pixel")
        self.k_enc = _odd(name, "k_enc", k_enc, "the encoder is a same-padded convolution")
        self.compressed_channels = self.check_positive("compressed_channels", compressed_channels)
        taps, cm = self.k_up ** self.dims, self.compressed_channels
        self.check_parameter_bytes({
            "gate": (1, self.in_channels + 1),
            "guide_compressor": (cm, self.guide_channels + 1),
            "channel_compressor": (cm, self.in_channels),
            "content_encoder": (taps, cm * self.k_enc ** self.dims + 1),
            "proj": (self.out_channels, self.in_channels + 1) if self.out_channels != self.in_channels else (0,),
            "guide_proj": (self.out_channels, self.guide_channels + 1)
            if self.out_channels != self.guide_channels else (0,),
        }, dtype)
        conv = CONV[self.dims]
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        self.gate = conv(self.in_channels, 1, 1, **factory)
        self.guide_compressor = conv(self.guide_channels, cm, 1, **factory)
        self.channel_compressor = conv(self.in_channels, cm, 1, bias=False, **factory)
        self.content_encoder = conv(cm, taps, self.k_enc, padding=(self.k_enc - 1) // 2, **factory)
        self.proj = channel_projection(self.dims, self.in_channels, self.out_channels, **factory)
        self.guide_proj = channel_projection(self.dims, self.guide_channels, self.out_channels, **factory)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Upstream's initialisation; ``proj`` and ``guide_proj`` keep ``nn.ConvNd``'s."""
        for conv in (self.gate, self.guide_compressor, self.channel_compressor):
            nn.init.xavier_uniform_(conv.weight)
        nn.init.xavier_normal_(self.content_encoder.weight)
        for conv in (self.gate, self.guide_compressor, self.content_encoder):
            if conv.bias is not None:  # built with a bias
                nn.init.zeros_(conv.bias)
        for proj in (self.proj, self.guide_proj):
            if proj is not None:
                proj.reset_parameters()

    def check_guide(self, x: torch.Tensor, guide: object) -> torch.Tensor:
        """``guide`` if it is a floating (N, ``guide_channels``, *(S * scale)) tensor matching ``x``
        (batch, dtype and device; the dtype is not compared under ``torch.autocast``)."""
        name = self.layer_name
        out = [int(n) * s for n, s in zip(x.shape[2:], self.scale)]
        expected = (int(x.shape[0]), self.guide_channels, *out)
        if guide is None:
            raise InvalidArgumentError(
                f"{name}: the guide argument is missing: call layer(x, guide) with the encoder feature at the output "
                f"size {expected}"
            )
        if not isinstance(guide, torch.Tensor):
            raise InvalidTypeError(f"{name}: the guide must be a torch.Tensor, but got {type(guide).__name__}")
        if not guide.is_floating_point():
            raise InvalidTypeError(f"{name}: the guide must be a floating-point tensor, but got dtype {guide.dtype}")
        if tuple(guide.shape) != expected:
            raise InvalidArgumentError(
                f"{name}: the guide must have shape (N, guide_channels, *x.shape[2:] * scale) = {expected} for x of "
                f"shape {tuple(x.shape)} and scale={compact(self.scale)}, but got a guide of shape {tuple(guide.shape)}"
            )
        if guide.device != x.device:
            raise InvalidArgumentError(f"{name}: the guide must be on the device of x, but got the guide on "
                                       f"{guide.device} and x on {x.device}; move one of them with .to()")
        if guide.dtype != x.dtype and not _autocasting(x.device.type):
            raise InvalidTypeError(f"{name}: the guide must have the dtype of x, but got the guide of {guide.dtype} "
                                   f"and x of {x.dtype}; convert one of them with .to()")
        return guide

    def forward(self, x: torch.Tensor, guide: torch.Tensor | None = None) -> torch.Tensor:
        x = self.check_input(x, self.in_channels)
        guide = self.check_guide(x, guide)
        logits = self.content_encoder(self.guide_compressor(guide)) + \
            nearest_repeat(self.content_encoder(self.channel_compressor(x)), self.scale)
        y = carafe(x, F.softmax(logits, dim=1), self.scale)
        if self.proj is not None:
            y = self.proj(y)
        if self.guide_proj is not None:
            guide = self.guide_proj(guide)
        g = nearest_repeat(torch.sigmoid(self.gate(x)), self.scale)  # (N, 1, *output): one gate for every channel
        return g * guide + (1 - g) * y


@register_upsampler("fade", learned=True, guided=True, dims=(1, 2, 3), scales="integer",
                    description="FADE: gated blend of the guide and a CARAFE reassembly with kernels from both")
def _build_fade(in_channels: int, out_channels: int, scale: Any, dims: int = 2, **options: Any) -> FADE:
    return build_layer(FADE, options, in_channels=in_channels, out_channels=out_channels, scale=scale, dims=dims)
