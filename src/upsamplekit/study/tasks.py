"""The study's tasks: what the decoder is given and what it must reproduce.

* ``sr`` (super-resolution): the input is the high-resolution crop area-downsampled by the
  total scale (mean of each scale x scale block); the decoder maps it back to the crop.
* ``autoencoder``: a small fixed encoder (the same for every candidate, trained jointly)
  downsamples the crop to a latent of ``latent_channels`` channels at 1/scale resolution; the
  decoder under study upsamples it back.
* ``denoise``: the input is the crop with Gaussian noise of standard deviation ``noise``; the
  model is a :class:`~upsamplekit.decoder.UNet` whose decoder stages use the candidate upsampler
  and merge the encoder's features (a guided upsampler takes them as its guide).

The costs (MACs, latency, memory) are those of the decoder alone (for ``denoise``, of the U-Net).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..decoder import Decoder, UNet, decoder_from_factory, resolve_schedule
from ..errors import InvalidArgumentError, unknown_choice
from ..resample import resize
from .config import TASKS
from .results import Candidate

__all__ = ["Task", "Encoder", "AutoEncoder", "Centered", "make_task", "downsample"]


def downsample(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Area downsampling: the mean of each ``scale`` x ``scale`` block."""
    return F.avg_pool2d(hr, scale)


class Encoder(nn.Sequential):
    """3x3 convolution and ReLU, one stride-f convolution and ReLU per prime factor f of the
    scale, and a 1x1 projection to the latent."""

    def __init__(self, in_channels: int, latent_channels: int, scale: int, width: int = 16) -> None:
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU()]
        for factor in resolve_schedule(scale):
            layers += [nn.Conv2d(width, width, factor, stride=factor), nn.ReLU()]
        layers.append(nn.Conv2d(width, latent_channels, 1))
        super().__init__(*layers)


class AutoEncoder(nn.Module):
    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class Centered(nn.Module):
    """``model(x - 0.5) + 0.5``: the network works on zero-centred pixels (which trains much faster
    from a standard initialisation than pixels in [0, 1]).

    With ``skip_scale`` it is a global residual instead: ``bicubic(x) + model(x - 0.5)``, and the
    model starts at exactly the no-network baseline: :meth:`Task.build` zeroes the default decoder's
    head; a model whose head the study cannot know (``gain=True``: a user's decoder) is multiplied by
    a learned scalar that starts at 0. Every candidate then starts from the same point, its curve
    from 0 dB over the baseline, and one that learns nothing is seen exactly.
    """

    def __init__(self, model: nn.Module, skip_scale: int | None = None, gain: bool = False) -> None:
        super().__init__()
        self.model = model
        self.skip_scale = skip_scale
        self.gain = nn.Parameter(torch.zeros(())) if skip_scale is not None and gain else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.skip_scale is None:
            return self.model(x - 0.5) + 0.5
        detail = self.model(x - 0.5)
        if self.gain is not None:
            detail = detail * self.gain
        base = x if self.skip_scale == 1 else resize(x, scale_factor=self.skip_scale, method="bicubic")
        return detail + base


@dataclass(frozen=True)
class Task:
    """How to build a candidate's model and make (input, target) pairs from high-resolution crops."""

    name: str
    scale: int
    width: int
    latent_channels: int
    factory: Callable[..., nn.Module] | None = None
    skip: bool = False
    depth: int = 0
    widths: tuple[int, ...] = ()
    noise: float = 0.1
    merge: str = "concat"

    @property
    def decoder_channels(self) -> int:
        """Channels of the decoder's input (for ``denoise``, the U-Net's)."""
        return self.latent_channels if self.name == "autoencoder" else 3

    @property
    def input_scale(self) -> int:
        """How much larger the model's output is than its input (1 for ``denoise``)."""
        return 1 if self.name == "denoise" else self.scale

    def build_decoder(self, candidate: Candidate) -> nn.Module:
        schedule = list(candidate.schedule)
        if self.name == "denoise":
            return UNet(3, 3, schedule, candidate.upsampler, channels=list(self.widths) or self.width,
                        merge=self.merge)
        if self.factory is not None:
            return decoder_from_factory(self.factory, candidate.upsampler, in_channels=self.decoder_channels,
                                        out_channels=3, schedule=schedule)
        return Decoder(self.decoder_channels, 3, self.scale, schedule, candidate.upsampler,
                       channels=list(self.widths) or self.width, depth=self.depth)

    def build(self, candidate: Candidate) -> nn.Module:
        """The trainable model, on zero-centred pixels: the decoder, or encoder + decoder."""
        decoder = self.build_decoder(candidate)
        if self.name in ("sr", "denoise"):
            if self.skip and isinstance(decoder, (Decoder, UNet)):
                nn.init.zeros_(decoder.head.weight)
                if decoder.head.bias is not None:
                    nn.init.zeros_(decoder.head.bias)
            return Centered(decoder, self.input_scale if self.skip else None,
                            gain=self.skip and self.factory is not None)
        return Centered(AutoEncoder(Encoder(3, self.latent_channels, self.scale), decoder))

    def decoder_of(self, model: nn.Module) -> nn.Module:
        """The decoder under study inside a model of :meth:`build` (its costs are the study's)."""
        inner = model.model if isinstance(model, Centered) else model
        return inner.decoder if isinstance(inner, AutoEncoder) else inner

    def pair(self, hr: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(model input, target)`` for a batch of high-resolution crops. ``denoise`` adds Gaussian
        noise of standard deviation ``noise`` drawn with ``generator`` (a generator on the crops'
        device), or, without one, the same noise every call (seed 2026: the validation crops')."""
        if self.name == "sr":
            return downsample(hr, self.scale), hr
        if self.name == "denoise":
            if generator is None:
                generator = torch.Generator(device=hr.device).manual_seed(2026)
            noise = torch.randn(hr.shape, generator=generator, device=hr.device, dtype=hr.dtype)
            return hr + self.noise * noise, hr
        return hr, hr

    def decoder_input(self, side: int, batch: int = 1) -> torch.Tensor:
        """A decoder input of ``side`` x ``side`` for measuring costs."""
        return torch.rand(batch, self.decoder_channels, side, side, generator=torch.Generator().manual_seed(0))


def make_task(name: str, scale: int, width: int, latent_channels: int,
              factory: Callable[..., Any] | None = None, skip: bool = False, depth: int = 0,
              widths: tuple[int, ...] = (), noise: float = 0.1, merge: str = "concat") -> Task:
    if name not in TASKS:
        raise unknown_choice("task", name, TASKS)
    if name == "denoise" and factory is not None:
        raise InvalidArgumentError("task 'denoise' studies the upsamplers of its own U-Net; --decoder (your own "
                                   "decoder) works with the 'sr' and 'autoencoder' tasks")
    return Task(name, scale, width, latent_channels, factory, skip, depth, tuple(widths), noise, merge)
