"""Upsampling layers, their shared base and the registry that builds them by name."""

from __future__ import annotations

from .base import Upsampler
from .bilinear_additive import BilinearAdditive
from .carafe import CARAFE
from .dysample import DySample
from .fade import FADE
from .interpolate import Interpolate
from .registry import (
    UpsamplerInfo,
    build_upsampler,
    list_upsamplers,
    register_alias,
    register_upsampler,
    unregister_upsampler,
    upsampler_info,
)
from .resizeconv import ResizeConv
from .sapa import SAPA
from .subpixel import SubPixelConv
from .transposed import TransposedConv

__all__ = ["Interpolate", "TransposedConv", "SubPixelConv", "ResizeConv", "CARAFE", "DySample", "Upsampler",
           "UpsamplerInfo", "build_upsampler", "list_upsamplers", "register_alias", "register_upsampler",
           "unregister_upsampler", "upsampler_info", "SAPA",
           "BilinearAdditive", "FADE"]
