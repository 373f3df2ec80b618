"""Upsampling layers and the registry that builds them by name."""

from __future__ import annotations

from .registry import UpsamplerInfo, build_upsampler, list_upsamplers, register_alias, register_upsampler, upsampler_info

__all__ = ["UpsamplerInfo", "build_upsampler", "list_upsamplers", "register_alias", "register_upsampler",
           "upsampler_info"]
