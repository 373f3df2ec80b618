"""pillow: ``img.resize(size, resample, box, reducing_gap)``, ``size`` as (width, height).

>>> from upsamplekit.explainer.vocab import parse_call
>>> parse_call("pillow: img.resize((64, 48), Image.Resampling.LANCZOS)").spec.kernel
'lanczos'
"""

from __future__ import annotations

from typing import Any

from ..parse import Constant
from .common import METHOD_COST, Built, OptionError, Signature, preset, size, size_request

__all__ = ["SIGNATURES", "FILTERS"]

#: The ``Image.X`` filters and the pillow convention's method of each.
FILTERS = {"NEAREST": "nearest", "BOX": "box", "BILINEAR": "bilinear", "HAMMING": "hamming", "BICUBIC": "bicubic",
           "LANCZOS": "lanczos"}
#: The filters' integer values (6 and 7 are Pillow's reducing filters, not resize filters).
NUMBERS = {0: "NEAREST", 1: "LANCZOS", 2: "BILINEAR", 3: "BICUBIC", 4: "BOX", 5: "HAMMING", 6: "MKS2013",
           7: "MKS2021"}


def resample_filter(value: Any) -> str:
    """``resample`` (``Image.X``, ``Image.Resampling.X`` or its integer; None is bicubic) as a method."""
    if value is None:
        return "bicubic"
    name = NUMBERS.get(value) if isinstance(value, int) and not isinstance(value, bool) else (
        value.split(".")[-1] if isinstance(value, Constant) else None)
    if name == "ANTIALIAS":
        raise OptionError("resample", "Image.ANTIALIAS was removed in Pillow 10; it was Image.LANCZOS")
    if name not in FILTERS:
        choices = ", ".join(f"Image.{c}" for c in FILTERS)
        raise OptionError("resample", f"resample must be one of {choices}, but got {value!r}")
    return FILTERS[name]


def resize(o: dict[str, Any]) -> Built:
    """``Image.resize``; ``box`` and ``reducing_gap`` are not reproduced."""
    for name in ("box", "reducing_gap"):
        if o.get(name) is not None:
            raise OptionError(name, f"{name}= is not reproduced by upsamplekit (leave it None)")
    if o.get("size") is None:
        raise OptionError(None, "Image.resize needs size=(width, height)")
    spec = preset("resample", "pillow", resample_filter(o.get("resample")))
    notes = ["Pillow's resize takes size as (width, height); float images ('F' mode) are computed exactly, 8-bit "
             "ones in fixed point (within 1 of the exact result)"]
    if o.get("resample") is None:
        notes.append("resample not given: Image.BICUBIC (Pillow's default for resize since 7.0)")
    return Built(spec, ("size", size("size", o["size"], order="wh")), layout="image", size_order="wh",
                 notes=tuple(notes))


SIGNATURES = (
    Signature(
        "pillow.resize", "pillow", "img.resize", ("resize",),
        ("size", "resample", "box", "reducing_gap"), {"resample": None, "box": None, "reducing_gap": None},
        resize, choices={"resample": tuple(Constant(f"Image.{c}") for c in FILTERS)},
        cost={"resample": METHOD_COST}, request=size_request("size", "wh")),
)
