"""upsamplekit: ``Resampling(...)``, ``Resampling.preset(convention, method, ...)``, ``resize(x, ...)``,
``nn.Interpolate(...)`` and ``nn.TransposedConv(C, C, scale, init='bilinear')``.

>>> from upsamplekit.explainer.vocab import parse_call
>>> parse_call("upsamplekit: resize(x, scale_factor=2, method='cubic', convention='pillow')").spec.cubic_a
-0.5
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ...errors import UpsampleError, closest
from ...resample import Resampling
from ...resample.fields import BORDERS, NEAREST_MODES
from ..calls import MAX_TAPS, Request, Transposed
from .common import MISSING, METHOD_COST, Built, OptionError, Signature, flag, int_pair, named_option, preset, \
    scale_request, size
from .torch import request_options as torch_request_options

__all__ = ["SIGNATURES"]

_FIELDS = tuple(f.name for f in dataclasses.fields(Resampling))
_NO_SIZE = "a Resampling spec fixes no size: the other call's output size is used"
_METHODS = ("nearest", "linear", "cubic")


#: Options that are flags wherever upsamplekit takes them (None, where allowed, means "not given").
_FLAGS = ("antialias", "recompute_scale", "align_corners", "recompute_scale_factor", "exact_borders")


def _flags(o: dict[str, Any]) -> None:
    """Every flag given is True or False (``antialias='yes'`` is refused, never truthy)."""
    for key in _FLAGS:
        if o.get(key, MISSING) not in (MISSING, None):
            flag(key, o[key])


def resampling(o: dict[str, Any]) -> Built:
    """``Resampling(field=value, ...)``: the spec itself, no size."""
    fields = {k: v for k, v in o.items() if v is not MISSING}
    _flags(fields)
    unknown = sorted(set(fields) - set(_FIELDS))
    if unknown:
        suggestion = closest(unknown[0], _FIELDS)
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        raise OptionError(unknown[0], f"Resampling has no field {unknown[0]!r}{hint}")
    try:
        spec = Resampling(**fields)
    except UpsampleError as error:
        raise OptionError(named_option(str(error), list(fields)), str(error)) from None
    return Built(spec, None, notes=(_NO_SIZE,))


def resize(o: dict[str, Any]) -> Built:
    """``resize(x, size, scale_factor, method, convention, **options)``."""
    extra = {k: v for k, v in o.items() if k not in ("x", "size", "scale_factor", "method", "convention")}
    _flags(extra)
    if "spec" in extra:
        raise OptionError("spec", "write the spec itself: 'upsamplekit: Resampling(...)'")
    spec = preset("method", str(o.get("convention", "torch")), str(o.get("method")), **extra)
    size_value, scale = o.get("size"), o.get("scale_factor")
    if size_value is not None and scale is not None:
        raise OptionError("size", "give size or scale_factor, not both")
    request: Request | None = None
    if size_value is not None:
        request = ("size", size("size", size_value))
    elif scale is not None:
        request = scale_request("scale_factor", scale)
    return Built(spec, request)


def preset_call(o: dict[str, Any]) -> Built:
    """``Resampling.preset(convention, method, **options)``: a spec, no size."""
    extra = {k: v for k, v in o.items() if k not in ("convention", "method")}
    _flags(extra)
    return Built(preset("method", str(o.get("convention")), str(o.get("method")), **extra), None, notes=(_NO_SIZE,))


def transposed_conv(o: dict[str, Any]) -> Built:
    """``TransposedConv(C, C, scale, init='bilinear')``: its bilinear initialisation as a fixed upsampling."""
    if o.get("init", "default") != "bilinear":
        raise OptionError("init", "TransposedConv with init='default' has random, learned weights: it is not a fixed "
                                  "upsampling; use init='bilinear' to compare its bilinear initialisation")
    if o.get("dims", 2) != 2:
        raise OptionError("dims", "explain compares 2-D upsampling (dims=2)")
    scale = int_pair("scale", o.get("scale"), 1, MAX_TAPS // 2)
    kernel = None if o.get("kernel_size") is None else int_pair("kernel_size", o["kernel_size"], 1, MAX_TAPS)
    flag("bias", o.get("bias", True))
    t = Transposed.upsamplekit(scale, kernel, flag("exact_borders", o.get("exact_borders", False)))
    return Built(request=("scale", (float(scale[0]), float(scale[1]))), transposed=t)


SIGNATURES = (
    Signature(
        "upsamplekit.Resampling", "upsamplekit", "Resampling", ("Resampling", "upsamplekit.Resampling"),
        (), {f: MISSING for f in _FIELDS}, resampling, varkw=False,
        choices={"coordinates": ("half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"),
                 "border": BORDERS, "antialias": (False, True), "cubic_a": (-0.75, -0.5),
                 "nearest_mode": NEAREST_MODES, "kernel": _METHODS},
        cost={"kernel": METHOD_COST}),
    Signature(
        "upsamplekit.resize", "upsamplekit", "resize", ("resize", "upsamplekit.resize", "uk.resize"),
        ("x", "size", "scale_factor"), {"size": None, "scale_factor": None, "method": "linear", "convention": "torch"},
        resize, tensor="x", varkw=True, choices={"method": _METHODS},
        cost={"method": METHOD_COST}, request=torch_request_options),
    Signature(
        "upsamplekit.Interpolate", "upsamplekit", "Interpolate",
        ("Interpolate", "upsamplekit.nn.Interpolate", "nn.Interpolate"),
        ("scale_factor", "size", "method", "convention", "in_channels", "out_channels", "dims"),
        {"scale_factor": None, "size": None, "method": "nearest", "convention": "torch", "in_channels": None,
         "out_channels": None, "dims": 2},
        lambda o: resize({k: v for k, v in o.items() if k not in ("in_channels", "out_channels", "dims")}),
        varkw=True, choices={"method": _METHODS}, cost={"method": METHOD_COST},
        request=torch_request_options),
    Signature(
        "upsamplekit.preset", "upsamplekit", "Resampling.preset",
        ("Resampling.preset", "upsamplekit.Resampling.preset"),
        ("convention", "method"), {}, preset_call, varkw=True),
    Signature(
        "upsamplekit.TransposedConv", "upsamplekit", "TransposedConv",
        ("TransposedConv", "upsamplekit.nn.TransposedConv", "nn.TransposedConv"),
        ("in_channels", "out_channels", "scale", "dims", "kernel_size", "init", "exact_borders", "bias"),
        {"dims": 2, "kernel_size": None, "init": "default", "exact_borders": False, "bias": True},
        transposed_conv, symbolic=("in_channels", "out_channels"), choices={"exact_borders": (False, True)}),
)
