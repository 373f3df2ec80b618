"""``convtranspose: bilinear(kernel, stride, padding, output_padding, border)``: a depthwise transposed
convolution with FCN's bilinear filler, the form every bilinear transposed convolution is re-built in.

>>> from upsamplekit.explainer.vocab import parse_call
>>> parse_call("convtranspose: bilinear(stride=2)").transposed.description  # Caffe's kernel and padding
'bilinear transposed convolution (kernel 4, stride 2, padding 1)'
"""

from __future__ import annotations

import math
from typing import Any

from ...errors import InvalidArgumentError
from ..calls import MAX_TAPS, Transposed
from .common import METHOD_COST, Built, OptionError, Signature, choice, int_pair

__all__ = ["SIGNATURES", "bilinear_transposed"]

BORDERS = ("zero", "replicate")


def bilinear_transposed(o: dict[str, Any]) -> Built:
    """The transposed convolution of ``bilinear(...)``; ``kernel`` and ``padding`` default to
    Caffe's (``2f - f % 2`` and ``ceil((f - 1) / 2)`` for stride ``f``)."""
    if o.get("stride") is None:
        raise OptionError(None, "bilinear(...) needs stride= (the upsampling factor)")
    stride = int_pair("stride", o["stride"], 1, MAX_TAPS)
    if max(stride) == 1:
        raise OptionError("stride", "a transposed convolution with stride 1 is not an upsampling: it keeps the size "
                                    "(use the upsampling factor as the stride)")
    kernel = ((2 * stride[0] - stride[0] % 2, 2 * stride[1] - stride[1] % 2) if o.get("kernel") is None
              else int_pair("kernel", o["kernel"], 1, MAX_TAPS))
    padding = ((math.ceil((stride[0] - 1) / 2), math.ceil((stride[1] - 1) / 2)) if o.get("padding") is None
               else int_pair("padding", o["padding"]))
    output_padding = int_pair("output_padding", o.get("output_padding", 0))
    for p, s in zip(output_padding, stride):
        if p >= s:
            raise OptionError("output_padding", f"output_padding must be smaller than the stride (torch's rule), but "
                                                f"got output_padding={o.get('output_padding')!r} with stride={stride}")
    border = choice("border", o.get("border", "zero"), BORDERS)
    t = Transposed.bilinear(kernel, stride, padding, output_padding, "replicate" if border == "replicate" else "zero")
    for n in (1, 2):
        try:
            t.output_size((n, n))
        except InvalidArgumentError as error:
            raise OptionError("padding", str(error)) from None
    notes = []
    if border == "replicate":
        pad = t.replicate_pad()
        notes.append(f"border='replicate': F.pad(x, ({pad[1]}, {pad[1]}, {pad[0]}, {pad[0]}), mode='replicate') "
                     f"first, and padding + {pad[0]} * stride in conv_transpose2d")
    return Built(request=("scale", (float(stride[0]), float(stride[1]))), transposed=t, notes=tuple(notes))


SIGNATURES = (
    Signature(
        "convtranspose.bilinear", "convtranspose", "bilinear", ("bilinear",),
        ("kernel", "stride", "padding", "output_padding", "border"),
        {"kernel": None, "stride": None, "padding": None, "output_padding": 0, "border": "zero"},
        bilinear_transposed,
        choices={"padding": (0, 1, 2, 3, 4), "output_padding": (0, 1, 2, 3), "border": BORDERS,
                 "kernel": (2, 3, 4, 5, 6, 7, 8)},
        cost={"kernel": METHOD_COST}),
)
