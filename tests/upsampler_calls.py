"""Calling any registered upsampler the way its kind needs: ``layer(x)``, or ``layer(x, guide)`` for a guided one.

Tests parametrized over ``list_upsamplers()`` call every entry through :func:`call_upsampler` (or build
the argument tuple with :func:`upsampler_inputs`), so a guided entry (``UpsamplerInfo.guided``) gets a
guide: a random encoder feature of ``layer.guide_channels`` channels at the output size
``x.shape[2:] * layer.scale``, with ``x``'s dtype and device (the contract of guided layers).
"""

from __future__ import annotations

import torch
from torch import nn

from upsamplekit.nn import upsampler_info
from upsamplekit.nn.catalog import UpsamplerInfo


def _info(entry: str | UpsamplerInfo) -> UpsamplerInfo:
    return upsampler_info(entry) if isinstance(entry, str) else entry


def guide_for(layer: nn.Module, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random guide for ``layer(x, guide)``: (N, layer.guide_channels, *(x.shape[2:] * layer.scale))."""
    nd = x.dim() - 2
    scale = layer.scale if isinstance(layer.scale, tuple) else (layer.scale,) * nd
    shape = (x.shape[0], int(layer.guide_channels), *[int(n) * int(s) for n, s in zip(x.shape[2:], scale)])
    if x.device.type == "meta":
        return torch.empty(shape, dtype=x.dtype, device=x.device)
    return torch.randn(shape, generator=generator).to(dtype=x.dtype, device=x.device)


def upsampler_inputs(layer: nn.Module, x: torch.Tensor, entry: str | UpsamplerInfo,
                     generator: torch.Generator | None = None) -> tuple[torch.Tensor, ...]:
    """``(x, guide)`` for a guided registry entry (a name or its info), else ``(x,)``."""
    return (x, guide_for(layer, x, generator)) if _info(entry).guided else (x,)


def call_upsampler(layer: nn.Module, x: torch.Tensor, entry: str | UpsamplerInfo,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """``layer(x)``, or ``layer(x, guide)`` with a random guide when the entry is guided."""
    return layer(*upsampler_inputs(layer, x, entry, generator))
