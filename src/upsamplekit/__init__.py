"""upsamplekit: upsampling for neural-network decoders.

The public surface is small: :func:`resize` reproduces every framework's resize in any
dimension, :class:`Resampling` is the spec each framework preset resolves to, and
:class:`UpsampleError` is the root of every error the library raises.
"""

from __future__ import annotations

from .arith import conv_output_size, conv_transpose_output_size, solve_conv, solve_conv_transpose
from .costs import count_macs, count_params
from .errors import UpsampleError
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
    "__version__",
]
__version__ = "0.1.0"
