"""jax: ``jax.image.resize(image, shape, method, antialias)``.

The method names are the jax convention's (:mod:`upsamplekit.resample.conventions.jax`).

>>> from upsamplekit.explainer.vocab import parse_call
>>> call = parse_call("jax: jax.image.resize(x, (1, 3, 64, 64), method='linear')")
>>> call.request, call.layout
(('size', (64, 64)), 'channels_first')
"""

from __future__ import annotations

from typing import Any

from ...resample.conventions import convention_methods
from ..calls import Layout, Request
from ..parse import Symbol
from .common import MISSING, METHOD_COST, Built, OptionError, Signature, enum_or_name, flag, preset, \
    size, size_request

__all__ = ["SIGNATURES", "METHODS", "CONSTANTS"]

#: ``jax.image.resize``'s methods.
METHODS = convention_methods("jax")

#: ``jax.image.ResizeMethod``'s members and the method each names.
CONSTANTS = {"NEAREST": "nearest", "LINEAR": "linear", "CUBIC": "cubic", "LANCZOS3": "lanczos3",
             "LANCZOS5": "lanczos5", "CUBIC_PYTORCH": "cubic-pytorch", "AREA": "area"}


def method(value: Any) -> str:
    """A method string or a ``jax.image.ResizeMethod.X`` constant, as the method's name."""
    if value is MISSING:
        raise OptionError(None, "jax.image.resize needs method (it has no default)")
    return enum_or_name(value, "jax.image.ResizeMethod", CONSTANTS, METHODS)


def resize(o: dict[str, Any]) -> Built:
    """``jax.image.resize``; a 3-D or 4-D ``shape`` is read as (H, W, C), (N, H, W, C) or (N, C, H, W)."""
    name = method(o.get("method", MISSING))
    spec = preset("method", "jax", name, antialias=flag("antialias", o.get("antialias", True)))
    shape = o.get("shape")
    notes = ["jax.image.resize resizes every axis whose length changes; antialias defaults to True (it matters "
             "only when an axis shrinks, and for 'cubic-pytorch', which it turns into 'cubic')"]
    layout: Layout = "channels_last"
    request: Request | None = None
    if shape is None:
        raise OptionError(None, "jax.image.resize needs shape")
    if not isinstance(shape, Symbol):
        if not isinstance(shape, tuple) or not all(isinstance(v, int) and not isinstance(v, bool) for v in shape):
            raise OptionError("shape", f"shape must be a tuple of integers, but got {shape!r}")
        if len(shape) == 2:
            hw, layout = shape, "image"
        elif len(shape) == 3:
            hw = shape[:2]
            notes.append(f"shape {shape} read as (H, W, C)")
        elif len(shape) == 4:
            if shape[1] <= 4 < shape[3]:
                hw, layout = shape[2:], "channels_first"
                notes.append(f"shape {shape} read as (N, C, H, W)")
            else:
                hw = shape[1:3]
                notes.append(f"shape {shape} read as (N, H, W, C)")
        else:
            raise OptionError("shape", f"shape must have 2 to 4 entries (an image), but got {shape!r}: explain "
                                       f"compares 2-D upsampling")
        request = ("size", size("shape", tuple(hw)))
    return Built(spec, request, layout=layout, notes=tuple(notes))


SIGNATURES = (
    Signature(
        "jax.resize", "jax", "jax.image.resize", ("jax.image.resize", "image.resize"),
        ("image", "shape", "method", "antialias", "precision"), {"antialias": True, "precision": None},
        resize, tensor="image", symbolic=("shape", "precision"),
        # the fix search tries one spelling per rule (bilinear is linear, ...)
        choices={"method": ("nearest", "linear", "cubic", "lanczos3", "lanczos5", "cubic-pytorch"),
                 "antialias": (True, False)},
        cost={"method": METHOD_COST}, request=size_request("shape")),
)
