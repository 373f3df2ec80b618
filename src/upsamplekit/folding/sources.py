"""Recognising what folds: upsampling layers and calls, convolutions after them, standalone layers.

:func:`upsampler_of` reads an upsampling module's settings (``nn.Upsample``,
:class:`~upsamplekit.nn.Interpolate`); :func:`interpolate_call` reads an ``F.interpolate``
call's; both give an :class:`~upsamplekit.folding.interp.Upsampling`, or the reason it cannot
fold, or None for a module that does not upsample. :func:`fold_layer` folds a layer that
holds its own convolution (:class:`~upsamplekit.nn.ResizeConv`, transposed convolutions).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch.nn.functional as F
from torch import nn

from ..nn import CARAFE, DySample, Interpolate, ResizeConv, SubPixelConv
from .interp import ConvInfo, Upsampling, fold_conv, upsampling
from .module import FoldedConv
from .transposed import fold_transposed, is_transposed

__all__ = ["upsampler_of", "other_upsampler", "interpolate_call", "fold_layer", "INTERPOLATE_FUNCTIONS"]

INTERPOLATE_FUNCTIONS = (F.interpolate, F.upsample)
_SIGNATURE = inspect.signature(F.interpolate)


def _torch(mode: str, scale: Any, dims: int, **flags: Any) -> Upsampling | str:
    if not isinstance(mode, str):
        return f"mode {mode!r} is not a string"
    return upsampling(mode, (mode, "torch", {k: v for k, v in flags.items() if v is not None}), scale, dims)


def upsampler_of(module: nn.Module, dims: int) -> Upsampling | str | None:
    """The fixed upsampler ``module`` is (for a convolution with ``dims`` spatial axes), the
    reason it cannot fold, or None when it is not an upsampling module."""
    if isinstance(module, nn.Upsample):
        if module.size is not None:
            return (f"size={module.size!r}: a fixed output size, so the scale depends on the input "
                    "(use scale_factor)")
        return _torch(module.mode, module.scale_factor, dims, align_corners=module.align_corners,
                      recompute_scale_factor=module.recompute_scale_factor)
    if isinstance(module, Interpolate):
        if module.size is not None:
            return f"size={module.size!r}: a fixed output size, so the scale depends on the input"
        if module.dims != dims:
            return f"it resizes {module.dims} axes but the convolution after it has {dims}"
        name = module.method if module.convention == "torch" else f"{module.convention} {module.method}"
        return upsampling(name, (module.method, module.convention, module.options), module.scale_factor, dims,
                          proj=module.proj)
    return None


def other_upsampler(module: nn.Module) -> str | None:
    """Why a registered upsampler that is not fixed interpolation does not fold (None: not one)."""
    if isinstance(module, SubPixelConv):
        return "a sub-pixel convolution already: its convolution runs on the low-resolution input"
    if isinstance(module, (CARAFE, DySample)):
        return f"{type(module).__name__} is content-aware: its kernels depend on the input, not a fixed convolution"
    return None


def interpolate_call(args: tuple[Any, ...], kwargs: dict[str, Any], dims: int) -> Upsampling | str:
    """The upsampler of an ``F.interpolate(*args, **kwargs)`` call, or why it cannot fold."""
    try:
        bound = _SIGNATURE.bind(*args, **kwargs)
    except TypeError as error:
        return f"F.interpolate call not understood: {error}"
    bound.apply_defaults()
    values = bound.arguments
    if values["size"] is not None:
        return "size= given: a fixed output size, so the scale depends on the input"
    settings = {k: values[k] for k in ("scale_factor", "mode", "align_corners", "recompute_scale_factor",
                                       "antialias")}
    if any(hasattr(v, "op") and hasattr(v, "graph") for v in settings.values()):
        return "its arguments are computed in the forward pass, not constants"
    flags = {"align_corners": settings["align_corners"], "recompute_scale_factor": settings["recompute_scale_factor"],
             "antialias": settings["antialias"] or None}
    return _torch(settings["mode"], settings["scale_factor"], dims, **flags)


def fold_layer(module: nn.Module) -> FoldedConv | str | None:
    """A layer that upsamples and convolves by itself, folded (None: not such a layer)."""
    if isinstance(module, ResizeConv):
        method = module.method if module.convention == "torch" else f"{module.convention} {module.method}"
        up = upsampling(f"ResizeConv {method}", (module.method, module.convention, module.options), module.scale,
                        module.dims)
        if isinstance(up, str):
            return up
        pads = tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in module.kernel_size)
        info = ConvInfo(module.weight, module.bias, (1,) * module.dims, pads, "zeros", 1, "conv")
        return fold_conv(up, info, cast_input=True)
    if is_transposed(module):
        return fold_transposed(module)
    return None
