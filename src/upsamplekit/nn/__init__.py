"""Upsampling layers and the registry that builds them by name."""

from __future__ import annotations

from .carafe import CARAFE
from .dysample import DySample
from .interpolate import Interpolate
from .registry import UpsamplerInfo, build_upsampler, list_upsamplers, register_alias, register_upsampler, upsampler_info
from .resizeconv import ResizeConv
from .subpixel import SubPixelConv
from .transposed import TransposedConv

__all__ = ["Interpolate", "TransposedConv", "SubPixelConv", "ResizeConv", "CARAFE", "DySample", "UpsamplerInfo",
           "build_upsampler",
           "list_upsamplers", "register_alias", "register_upsampler", "upsampler_info"]
