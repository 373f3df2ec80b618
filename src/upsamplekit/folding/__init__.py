"""Folding upsampling into the convolution after it: exact, faster inference rewrites.

``conv(upsample(x))`` with a fixed upsampler (nearest, linear) at an integer scale equals one
convolution of ``x`` with ``prod(scale)`` times the output channels followed by an interleave
(pixel shuffle), computed at the low resolution: nearest x2 then a 3x3 convolution costs 4
instead of 9 multiply-adds per output, and the large upsampled tensor is never written.
:func:`fold` applies the rewrite to a model; :class:`FoldedConv` is the layer it inserts. The
arithmetic, the border rules and the measured speed: docs/fold.md.

``upsamplekit.fold(model)`` is this package's :func:`fold`.

>>> import torch
>>> import upsamplekit
>>> model = torch.nn.Sequential(torch.nn.Upsample(scale_factor=2), torch.nn.Conv2d(3, 3, 3, padding=1))
>>> type(upsamplekit.fold(model)[1]).__name__
'FoldedConv'
"""

from __future__ import annotations

from .api import Folded, FoldReport, LeftAlone, fold
from .module import FoldedConv, FoldSpec

__all__ = ["fold", "FoldReport", "Folded", "LeftAlone", "FoldedConv", "FoldSpec"]

