"""onnx: a ``Resize`` node written as a call of its attributes, ``Resize(mode=..., ..., scales=...)``.

The attribute names and values are the onnx convention's (:mod:`upsamplekit.resample.conventions.onnx`).

>>> from upsamplekit.explainer.vocab import parse_call
>>> parse_call("onnx: Resize(mode='linear', scales=(1, 1, 2, 2))").request
('scale', (2.0, 2.0))
"""

from __future__ import annotations

from typing import Any

from ...errors import UpsampleError
from ...resample import Resampling
from ...resample.conventions.onnx import COORDINATE_MODES, MODES, NODE_ATTRIBUTES
from ...resample.fields import NEAREST_MODES
from ..calls import Request
from .common import MISSING, METHOD_COST, Built, OptionError, Signature, named_option, scale_request, size, tidy

__all__ = ["SIGNATURES"]

#: The coordinate modes the fix search tries: all but TF's (crop_and_resize needs a roi; tf_half_pixel_for_nn
#: is for nearest only).
_COORDINATE_CHOICES = tuple(m for m in COORDINATE_MODES if not m.startswith("tf_"))


def resize(o: dict[str, Any]) -> Built:
    """The spec of the node's attributes, and ``scales`` / ``sizes`` (4 values: the last two are H, W)."""
    attrs = {k: v for k, v in o.items() if k in NODE_ATTRIBUTES and v is not MISSING}
    if "axes" in attrs:
        raise OptionError("axes", "axes= picks the resized axes; explain resizes the two spatial axes (leave it out)")
    if attrs.get("coordinate_transformation_mode") == "tf_crop_and_resize":
        raise OptionError("coordinate_transformation_mode", "tf_crop_and_resize needs a roi; explain compares plain "
                                                            "resizes")
    try:
        spec = Resampling.from_onnx(attrs)
    except UpsampleError as error:
        message = str(error)
        raise OptionError(named_option(message, list(attrs)) or "mode", message) from None
    scales, sizes = o.get("scales"), o.get("sizes")
    if scales is not None and sizes is not None:
        raise OptionError("sizes", "give scales or sizes, not both (ONNX Resize takes one)")
    request: Request | None = None
    if scales is not None:
        values = scales[-2:] if isinstance(scales, tuple) and len(scales) == 4 else scales
        request = scale_request("scales", values)
    elif sizes is not None:
        values = sizes[-2:] if isinstance(sizes, tuple) and len(sizes) == 4 else sizes
        request = ("size", size("sizes", values))
    notes = () if request is not None else ("no scales or sizes given: the other call's output size is used",)
    return Built(spec, request, notes=notes)


def _request(request: Request) -> list[dict[str, Any]]:
    kind, values = request
    if kind == "size":
        return [{"sizes": tidy(values, integer=True), "scales": None}]
    return [{"scales": tidy(values), "sizes": None}]


SIGNATURES = (
    Signature(
        "onnx.Resize", "onnx", "Resize", ("Resize", "onnx.Resize", "ops.Resize", "op.Resize"),
        (), {**{k: MISSING for k in NODE_ATTRIBUTES}, "scales": None, "sizes": None},
        resize,
        choices={"mode": MODES, "coordinate_transformation_mode": _COORDINATE_CHOICES, "nearest_mode": NEAREST_MODES,
                 "cubic_coeff_a": (-0.75, -0.5), "exclude_outside": (0, 1), "antialias": (0, 1)},
        cost={"mode": METHOD_COST}, request=_request),
)
