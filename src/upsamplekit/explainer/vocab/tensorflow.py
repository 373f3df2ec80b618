"""tf: ``tf.image.resize`` (TF2) and the TF1 ops ``tf.compat.v1.image.resize_bilinear`` /
``resize_nearest_neighbor`` / ``resize_bicubic`` / ``resize_area``.

The method names are the tf convention's (:mod:`upsamplekit.resample.conventions.tensorflow`),
less the generic aliases upsamplekit adds and TF does not take.

>>> from upsamplekit.explainer.vocab import parse_call
>>> parse_call("tf: tf.image.resize(x, (8, 8), method=tf.image.ResizeMethod.AREA)").spec.kernel
'area'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...resample.conventions import convention_methods
from ..calls import Request
from ..parse import Symbol
from .common import METHOD_COST, Built, OptionError, Signature, enum_or_name, flag, preset, size, \
    size_request

__all__ = ["SIGNATURES", "METHODS", "BICUBIC_NOTE", "GENERIC_ALIASES"]

#: Names upsamplekit's TF conventions accept besides TF's own (``linear`` for ``bilinear``,
#: ``cubic`` for ``bicubic``); TF itself rejects them.
GENERIC_ALIASES = ("linear", "cubic")

#: ``tf.image.resize``'s methods.
METHODS = tuple(m for m in convention_methods("tf") if m not in GENERIC_ALIASES)

#: ``tf.image.ResizeMethod``'s members and the method each names.
CONSTANTS = {"BILINEAR": "bilinear", "NEAREST_NEIGHBOR": "nearest", "BICUBIC": "bicubic", "AREA": "area",
             "LANCZOS3": "lanczos3", "LANCZOS5": "lanczos5", "GAUSSIAN": "gaussian", "MITCHELLCUBIC": "mitchellcubic"}

#: The TF1 ops and the method of each (a method of the tf1 convention).
TF1_OPS = {"resize_bilinear": "bilinear", "resize_nearest_neighbor": "nearest", "resize_bicubic": "bicubic",
           "resize_area": "area"}

BICUBIC_NOTE = ("TensorFlow's bicubic reads its weights from a 1024-entry table (offsets rounded to 1/1024): they "
                "differ from the exact Keys cubic by up to ~2e-3 of the value range")


def method(value: Any) -> str:
    """A method string or a ``tf.image.ResizeMethod.X`` constant, as the method's name."""
    return enum_or_name(value, "tf.image.ResizeMethod", CONSTANTS, METHODS)


def requested_size(o: dict[str, Any]) -> Request | None:
    """The ``size`` argument (height, width) as a request; None when it is a name."""
    value = o.get("size")
    if isinstance(value, Symbol):
        return None
    if value is None:
        raise OptionError(None, "tf.image.resize needs size=(height, width)")
    return ("size", size("size", value))


def resize(o: dict[str, Any]) -> Built:
    """``tf.image.resize(images, size, method, preserve_aspect_ratio, antialias)``."""
    if o.get("preserve_aspect_ratio"):
        raise OptionError("preserve_aspect_ratio", "preserve_aspect_ratio=True changes the size to keep the aspect; "
                                                   "explain compares the resize itself (leave it False)")
    name = method(o.get("method", "bilinear"))
    spec = preset("method", "tf", name, antialias=flag("antialias", o.get("antialias", False)))
    notes = (BICUBIC_NOTE,) if name == "bicubic" and not o.get("antialias") else ()
    return Built(spec, requested_size(o), layout="channels_last", notes=notes)


def tf1(name: str) -> Callable[[dict[str, Any]], Built]:
    """The build function of the TF1 op computing ``name``."""
    def build(o: dict[str, Any]) -> Built:
        flags = {"align_corners": flag("align_corners", o.get("align_corners", False))}
        if name != "area":
            flags["half_pixel_centers"] = flag("half_pixel_centers", o.get("half_pixel_centers", False))
        spec = preset("align_corners", "tf1", name, **flags)
        notes = ("TF1 ops default to align_corners=False and half_pixel_centers=False: asymmetric coordinates "
                 "x = i * in / out, not pixel centres",) if not any(flags.values()) else ()
        return Built(spec, requested_size(o), layout="channels_last", notes=notes)
    return build


def _tf1_signature(op: str, name: str) -> Signature:
    half_pixel = name != "area"  # resize_area has no half_pixel_centers
    return Signature(
        f"tf1.{op}", "tf", f"tf.compat.v1.image.{op}",
        (f"tf.compat.v1.image.{op}", f"compat.v1.image.{op}", f"tf.image.{op}", f"v1.image.{op}", op),
        ("images", "size", "align_corners", "name") + (("half_pixel_centers",) if half_pixel else ()),
        {"align_corners": False, "name": None, "half_pixel_centers": False},
        tf1(name), tensor="images", symbolic=("size",),
        choices={"align_corners": (False, True), **({"half_pixel_centers": (False, True)} if half_pixel else {})},
        request=size_request("size"))


SIGNATURES = (
    Signature(
        "tf.resize", "tf", "tf.image.resize", ("tf.image.resize", "tensorflow.image.resize", "image.resize"),
        ("images", "size", "method", "preserve_aspect_ratio", "antialias", "name"),
        {"method": "bilinear", "preserve_aspect_ratio": False, "antialias": False, "name": None},
        resize, tensor="images", symbolic=("size",), choices={"method": METHODS, "antialias": (False, True)},
        cost={"method": METHOD_COST}, request=size_request("size")),
    *(_tf1_signature(op, name) for op, name in TF1_OPS.items()),
)
