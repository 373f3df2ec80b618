"""torch: ``nn.Upsample``, ``F.interpolate``, the deprecated ``F.upsample`` / ``nn.UpsamplingBilinear2d`` /
``nn.UpsamplingNearest2d`` / ``F.upsample_bilinear`` / ``F.upsample_nearest``, and ``F.conv_transpose2d``
with a bilinear filler as its weights.

>>> from upsamplekit.explainer.vocab import parse_call
>>> parse_call("torch: nn.UpsamplingBilinear2d(scale_factor=2)").spec.coordinates
'align_corners'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..calls import Request
from ..parse import Nested
from .common import (METHOD_COST, Built, OptionError, Signature, choice, flag, preset,
                     scale_request, size, tidy)
from .convtranspose import bilinear_transposed

__all__ = ["SIGNATURES", "NOT_UPSAMPLING", "MODES"]

#: F.interpolate's modes for images (N, C, H, W): the torch convention's methods that torch itself has in 2-D
#: (the convention also computes lanczos, box, ... in torch's style).
MODES = ("nearest", "nearest-exact", "bilinear", "bicubic", "area")

_NOTE_NEAREST = ("torch's 'nearest' is the legacy rule floor(i * in / out) (shifted by half a pixel); "
                 "'nearest-exact' samples pixel centres; the two agree at integer factors")
_NOTE_DEFAULT = ("align_corners was not given: it is False for bilinear and bicubic since PyTorch 0.4.0 "
                 "(before, bilinear aligned the corners, as outputs printed in older posts show)")

_CONVOLUTION = "a convolution (it keeps or shrinks the size)"
_POOLING = "a pooling (it shrinks the size)"
_SHUFFLE = "a pixel shuffle: it moves channels into space and does not interpolate each channel"
#: torch callees that are not upsamplings, and what they are.
NOT_UPSAMPLING = {
    "Conv2d": _CONVOLUTION, "conv2d": _CONVOLUTION,
    "MaxPool2d": _POOLING, "AvgPool2d": _POOLING, "max_pool2d": _POOLING, "avg_pool2d": _POOLING,
    "PixelShuffle": _SHUFFLE, "pixel_shuffle": _SHUFFLE,
    "ConvTranspose2d": "a transposed convolution with learned (random) weights, not a fixed upsampling; write "
                       "'convtranspose: bilinear(kernel=4, stride=2, padding=1)' for the bilinear filler",
    "pad": "a padding", "Linear": "a linear layer", "reshape": "a reshape",
}


def resize(o: dict[str, Any], antialias: bool = True, fixed: dict[str, Any] | None = None,
           note: str = "") -> Built:
    """What an ``F.interpolate``-like call computes; ``fixed``: options its name implies."""
    size_value, scale = o.get("size"), o.get("scale_factor")
    if (size_value is None) == (scale is None):
        raise OptionError("size" if size_value is not None else None,
                          "exactly one of size and scale_factor must be given (torch raises otherwise), but got "
                          + ("both" if size_value is not None else "neither"))
    mode = (fixed or {}).get("mode", o.get("mode"))
    if mode in ("linear", "trilinear"):
        raise OptionError("mode", f"mode={mode!r} needs a {'3' if mode == 'linear' else '5'}-D input; for images "
                                  f"(N, C, H, W) torch takes 'bilinear' (explain compares 2-D upsampling)")
    mode = choice("mode", mode, MODES, " for images (N, C, H, W)")
    align = (fixed or {}).get("align_corners", o.get("align_corners"))
    flags: dict[str, Any] = {"align_corners": None if align is None else flag("align_corners", align)}
    if o.get("recompute_scale_factor") is not None:
        flags["recompute_scale_factor"] = flag("recompute_scale_factor", o["recompute_scale_factor"])
    if antialias:
        flags["antialias"] = flag("antialias", o.get("antialias", False))
    spec = preset("mode", "torch", mode, **flags)
    request: Request = ("size", size("size", size_value)) if size_value is not None else scale_request("scale_factor", scale)
    notes = [note] if note else []
    if mode == "nearest":
        notes.append(_NOTE_NEAREST)
    elif mode in ("bilinear", "bicubic") and align is None and not fixed:
        notes.append(_NOTE_DEFAULT)
    return Built(spec, request, notes=tuple(notes))


def request_options(request: Request) -> list[dict[str, Any]]:
    """``size=`` for a size, ``scale_factor=`` for a scale (the other one cleared)."""
    kind, values = request
    if kind == "size":
        return [{"size": tidy(values, integer=True), "scale_factor": None}]
    return [{"scale_factor": tidy(values), "size": None}]


_CHOICES: dict[str, tuple[Any, ...]] = {"mode": MODES, "align_corners": (None, True), "antialias": (False, True),
                                        "recompute_scale_factor": (None, True)}


def _fixed(mode: str, align: bool | None, note: str) -> Callable[[dict[str, Any]], Built]:
    return lambda o: resize(o, antialias=False, fixed={"mode": mode, "align_corners": align}, note=note)


def weights_kernel(value: Any) -> int:
    """The kernel size of a bilinear-filler call (``make_bilinear_weights(4, 1)``), unwrapping
    ``Variable(...)``, ``torch.from_numpy(...)`` and the like."""
    while isinstance(value, Nested):
        callee = value.callee.lower()
        if "bilinear" in callee or "upsampling_weight" in callee:
            given = [v for v in value.positional if isinstance(v, int) and not isinstance(v, bool)]
            for key in ("size", "kernel_size", "kernel"):
                if isinstance(value.keywords.get(key), int):
                    return int(value.keywords[key])
            # get_upsampling_weight(in_channels, out_channels, kernel_size) takes the size last
            if "upsampling_weight" in callee and len(given) >= 3:
                return int(given[2])
            if given:
                return int(given[0])
            break
        inner = [v for v in value.positional if isinstance(v, Nested)]
        if len(inner) != 1:
            break
        value = inner[0]
    raise OptionError("weight", "a transposed convolution is a fixed upsampling only with known weights: pass the "
                                "bilinear filler, e.g. make_bilinear_weights(4, C), or write "
                                "'convtranspose: bilinear(kernel=4, stride=2, padding=1)'")


def conv_transpose2d(o: dict[str, Any]) -> Built:
    """``F.conv_transpose2d(x, filler, stride, padding, output_padding)`` as ``bilinear(...)``."""
    kernel = weights_kernel(o.get("weight"))
    if o.get("bias") is not None:
        raise OptionError("bias", "a bias adds a constant: pass bias=None to compare the upsampling itself")
    if o.get("dilation", 1) not in (1, (1, 1)):
        raise OptionError("dilation", "dilation must be 1 for a bilinear transposed convolution")
    return bilinear_transposed({"kernel": kernel, "stride": o.get("stride", 1), "padding": o.get("padding", 0),
                                "output_padding": o.get("output_padding", 0)})


def _deprecated_layer(name: str, mode: str, align: bool | None) -> Signature:
    note = (f"nn.{name} is bilinear with align_corners=True" if align else f"nn.{name} is nearest")
    return Signature(
        f"torch.{name}", "torch", f"nn.{name}", (f"nn.{name}", f"torch.nn.{name}", name),
        ("size", "scale_factor"), {"size": None, "scale_factor": None},
        _fixed(mode, align, note + " (deprecated: use nn.Upsample)"),
        request=request_options, upgrade="torch.Upsample",
        implied={"mode": mode, **({"align_corners": align} if align else {})})


def _deprecated_function(name: str, mode: str, align: bool | None) -> Signature:
    note = f"F.{'upsample_bilinear aligns corners (align_corners=True)' if align else 'upsample_nearest is nearest'}"
    return Signature(
        f"torch.{name}", "torch", f"F.{name}", (f"F.{name}", f"torch.nn.functional.{name}", name),
        ("input", "size", "scale_factor"), {"size": None, "scale_factor": None},
        _fixed(mode, align, note + " (deprecated: use F.interpolate)"),
        tensor="input", request=request_options, upgrade="torch.interpolate",
        implied={"mode": mode, **({"align_corners": align} if align else {})})


SIGNATURES = (
    Signature(
        "torch.Upsample", "torch", "nn.Upsample", ("nn.Upsample", "torch.nn.Upsample", "Upsample"),
        ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
        {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None, "recompute_scale_factor": None},
        lambda o: resize(o, antialias=False),
        choices={k: v for k, v in _CHOICES.items() if k != "antialias"}, cost={"mode": METHOD_COST},
        request=request_options, upgrade="torch.interpolate"),
    Signature(
        "torch.interpolate", "torch", "F.interpolate",
        ("F.interpolate", "torch.nn.functional.interpolate", "nn.functional.interpolate", "functional.interpolate",
         "interpolate"),
        ("input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias"),
        {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None, "recompute_scale_factor": None,
         "antialias": False},
        resize, tensor="input", choices=_CHOICES, cost={"mode": METHOD_COST}, request=request_options),
    Signature(
        "torch.upsample", "torch", "F.upsample",
        ("F.upsample", "torch.nn.functional.upsample", "nn.functional.upsample", "functional.upsample", "upsample"),
        ("input", "size", "scale_factor", "mode", "align_corners"),
        {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None},
        lambda o: resize(o, antialias=False, note="F.upsample is deprecated: it is F.interpolate"),
        tensor="input", choices={k: v for k, v in _CHOICES.items() if k in ("mode", "align_corners")},
        cost={"mode": METHOD_COST}, request=request_options, upgrade="torch.interpolate"),
    _deprecated_layer("UpsamplingBilinear2d", "bilinear", True),
    _deprecated_layer("UpsamplingNearest2d", "nearest", None),
    _deprecated_function("upsample_bilinear", "bilinear", True),
    _deprecated_function("upsample_nearest", "nearest", None),
    Signature(
        "torch.conv_transpose2d", "torch", "F.conv_transpose2d",
        ("F.conv_transpose2d", "torch.nn.functional.conv_transpose2d", "nn.functional.conv_transpose2d",
         "conv_transpose2d", "torch.conv_transpose2d"),
        ("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"),
        {"bias": None, "stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "dilation": 1},
        conv_transpose2d, tensor="input", symbolic=("groups",)),
)
