"""Folding upsampling into the convolution after it: exact, faster inference rewrites.

``conv(upsample(x))`` with a fixed upsampler (nearest, linear) at an integer scale equals one
convolution of ``x`` with ``prod(scale)`` times the output channels followed by an interleave
(pixel shuffle), computed at the low resolution: nearest x2 then a 3x3 convolution costs 4
instead of 9 multiply-adds per output, and the large upsampled tensor is never written.
:func:`fold` applies the rewrite to a model; :class:`FoldedConv` is the layer it inserts. The
arithmetic, the border rules and the measured speed: docs/fold.md.

The package itself is callable: ``upsamplekit.fold(model)`` is :func:`fold`, so the name works
the same whether a program reaches the function or the package.

>>> import torch
>>> import upsamplekit
>>> model = torch.nn.Sequential(torch.nn.Upsample(scale_factor=2), torch.nn.Conv2d(3, 3, 3, padding=1))
>>> type(upsamplekit.fold(model)[1]).__name__
'FoldedConv'
"""

from __future__ import annotations

import inspect
import sys
import types
from typing import Any

from .api import Folded, FoldReport, LeftAlone, fold
from .module import FoldedConv, FoldSpec

__all__ = ["fold", "FoldReport", "Folded", "LeftAlone", "FoldedConv", "FoldSpec"]


class _CallablePackage(types.ModuleType):
    """``upsamplekit.fold`` is both this package and the function: calling it calls :func:`fold`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return fold(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
__signature__ = inspect.signature(fold)
