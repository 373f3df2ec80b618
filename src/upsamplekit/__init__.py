"""upsamplekit: upsampling for neural-network decoders.

The public surface is small: :func:`resize` reproduces every framework's resize in any
dimension, :class:`Resampling` is the spec each framework preset resolves to,
:func:`build_upsampler` builds any registered upsampling layer (:mod:`upsamplekit.nn`),
:func:`count_macs` counts what they cost, the ``conv*_output_size`` / ``solve_conv*``
functions do the shape arithmetic, :func:`explain` says why two upsampling calls differ,
:func:`fold` rewrites upsample-then-convolve into one exact convolution, and
:class:`UpsampleError` is the root of every error.

The names are resolved on first use (PEP 562), so ``import upsamplekit`` loads neither torch
nor any optional dependency until a name that needs it is used.

>>> import upsamplekit
>>> upsamplekit.conv_transpose_output_size(16, kernel_size=4, stride=2, padding=1)
32
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import UpsampleError

if TYPE_CHECKING:
    from .arith import conv_output_size, conv_transpose_output_size, solve_conv, solve_conv_transpose
    from .costs import count_macs, count_params
    from .explainer.api import explain
    from .folding.api import fold
    from .nn.registry import build_upsampler, list_upsamplers, register_upsampler
    from .resample.api import resize
    from .resample.spec import Resampling

#: Each public name and the module that defines it.
_LAZY = {
    "resize": "resample.api",
    "Resampling": "resample.spec",
    "conv_output_size": "arith",
    "conv_transpose_output_size": "arith",
    "solve_conv": "arith",
    "solve_conv_transpose": "arith",
    "count_macs": "costs",
    "count_params": "costs",
    "build_upsampler": "nn.registry",
    "list_upsamplers": "nn.registry",
    "register_upsampler": "nn.registry",
    "explain": "explainer.api",
    "fold": "folding.api",
}

__all__ = ["__version__", "UpsampleError", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'upsamplekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # resolved once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
