"""Small helpers the layer tests share: per-axis scales and parameters moved far from their init."""

from __future__ import annotations

import torch
from torch import nn


def per_axis(scale: int | tuple[int, ...], d: int) -> tuple[int, ...]:
    """``scale`` as one factor per spatial axis."""
    return scale if isinstance(scale, tuple) else (scale,) * d


def randomise(module: nn.Module, seed: int, std: float = 0.5) -> None:
    """Parameters far from the init (seeded float64 normals times ``std``, cast to each parameter's
    dtype), so kernels are far from uniform and every weight matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64).to(p.dtype) * std)
