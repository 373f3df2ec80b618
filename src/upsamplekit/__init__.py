"""upsamplekit: upsampling for neural-network decoders.

The public surface is small: :func:`resize` reproduces every framework's resize in any
dimension, :class:`Resampling` is the spec each framework preset resolves to,
:func:`build_upsampler` builds any registered upsampling layer (:mod:`upsamplekit.nn`),
:func:`count_macs` counts what they cost, the ``conv*_output_size`` / ``solve_conv*``
functions do the shape arithmetic, and :class:`UpsampleError` is the root of every error.
"""

from __future__ import annotations

__version__ = "0.1.0"  # first: submodules read it while the package initialises

from .arith import conv_output_size, conv_transpose_output_size, solve_conv, solve_conv_transpose
from .costs import count_macs, count_params
from .errors import UpsampleError
from . import explain  # the package, callable: explain(a, b) is upsamplekit.explain.explain(a, b)
from . import fold  # the package, callable: fold(model) is upsamplekit.fold.fold(model)
from .nn.registry import build_upsampler, list_upsamplers, register_upsampler
from .resample import Resampling, resize

__all__ = [
    "resize",
    "Resampling",
    "UpsampleError",
    "conv_output_size",
    "conv_transpose_output_size",
    "solve_conv",
    "solve_conv_transpose",
    "count_macs",
    "count_params",
    "build_upsampler",
    "list_upsamplers",
    "register_upsampler",
    "explain",
    "fold",
    "__version__",
]
