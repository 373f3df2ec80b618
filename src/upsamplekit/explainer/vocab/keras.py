"""keras: Keras 3's ``layers.UpSampling2D`` and ``layers.Resizing`` (TensorFlow backend).

The interpolation names are the keras convention's (:mod:`upsamplekit.resample.conventions.tensorflow`),
less the generic aliases upsamplekit adds.

>>> from upsamplekit.explainer.vocab import parse_call
>>> parse_call("keras: Resizing(64, 48)").request
('size', (64, 48))
"""

from __future__ import annotations

from typing import Any

from ...resample.conventions import convention_methods
from ..calls import Layout, Request
from .common import METHOD_COST, Built, OptionError, Signature, choice, flag, pair, preset, \
    size, tidy
from .tensorflow import BICUBIC_NOTE, GENERIC_ALIASES

__all__ = ["SIGNATURES", "NOT_UPSAMPLING", "INTERPOLATIONS"]

#: The ``interpolation`` values of the layers.
INTERPOLATIONS = tuple(m for m in convention_methods("keras") if m not in GENERIC_ALIASES)

_NOTE = ("Keras 3 on the TensorFlow backend (tf.image.resize); on the JAX or torch backend, non-nearest "
         "interpolations go through jax.image.resize or F.interpolate instead")

#: Keras callees that are not (2-D) upsamplings, and what they are.
NOT_UPSAMPLING = {
    "Conv2DTranspose": "a transposed convolution with learned (random) weights, not a fixed upsampling; write "
                       "'convtranspose: bilinear(kernel=4, stride=2, padding=1)' for the bilinear filler",
    "UpSampling1D": "a 1-D upsampling: explain compares 2-D (image) upsampling",
    "UpSampling3D": "a 3-D upsampling: explain compares 2-D (image) upsampling",
}


def layout(value: Any) -> Layout:
    """``data_format`` (None is Keras's default, ``channels_last``)."""
    fmt = choice("data_format", "channels_last" if value is None else value, ("channels_last", "channels_first"))
    return "channels_first" if fmt == "channels_first" else "channels_last"


def upsampling2d(o: dict[str, Any]) -> Built:
    """``UpSampling2D(size, data_format, interpolation)``."""
    factors = pair("size", o.get("size", (2, 2)), integer=True)
    interpolation = choice("interpolation", o.get("interpolation", "nearest"), INTERPOLATIONS)
    spec = preset("interpolation", "keras", interpolation)
    notes: tuple[str, ...] = (_NOTE,) if interpolation != "nearest" else (
        "Keras UpSampling2D 'nearest' repeats each pixel (ops.repeat), whatever the backend",)
    if interpolation == "bicubic":
        notes += (BICUBIC_NOTE,)
    return Built(spec, ("scale", factors), layout=layout(o.get("data_format")), notes=notes)


def _upsampling2d_request(request: Request) -> list[dict[str, Any]]:
    kind, values = request
    if kind == "scale" and all(float(v) == int(v) for v in values):
        return [{"size": tidy(values, integer=True)}]
    return []


def resizing(o: dict[str, Any]) -> Built:
    """``Resizing(height, width, interpolation, ..., antialias, data_format)``."""
    for name in ("crop_to_aspect_ratio", "pad_to_aspect_ratio"):
        if o.get(name):
            raise OptionError(name, f"{name}=True crops or pads before resizing; explain compares the resize "
                                    f"itself (leave it False)")
    if o.get("height") is None or o.get("width") is None:
        raise OptionError(None, "Resizing needs height and width")
    hw = size("height", (o["height"], o["width"]))
    interpolation = choice("interpolation", o.get("interpolation", "bilinear"), INTERPOLATIONS)
    antialias = flag("antialias", o.get("antialias", False))
    spec = preset("interpolation", "keras", interpolation, antialias=antialias)
    notes = (_NOTE,) + ((BICUBIC_NOTE,) if interpolation == "bicubic" and not antialias else ())
    return Built(spec, ("size", hw), layout=layout(o.get("data_format")), notes=notes)


def _resizing_request(request: Request) -> list[dict[str, Any]]:
    kind, values = request
    if kind == "size":
        return [{"height": int(values[0]), "width": int(values[1])}]
    return []


SIGNATURES = (
    Signature(
        "keras.UpSampling2D", "keras", "UpSampling2D",
        ("UpSampling2D", "layers.UpSampling2D", "keras.layers.UpSampling2D", "tf.keras.layers.UpSampling2D",
         "tensorflow.keras.layers.UpSampling2D"),
        ("size", "data_format", "interpolation"), {"size": (2, 2), "data_format": None, "interpolation": "nearest"},
        upsampling2d, choices={"interpolation": INTERPOLATIONS}, cost={"interpolation": METHOD_COST},
        request=_upsampling2d_request),
    Signature(
        "keras.Resizing", "keras", "Resizing",
        ("Resizing", "layers.Resizing", "keras.layers.Resizing", "tf.keras.layers.Resizing"),
        ("height", "width", "interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio", "fill_mode",
         "fill_value", "antialias", "data_format"),
        {"interpolation": "bilinear", "crop_to_aspect_ratio": False, "pad_to_aspect_ratio": False,
         "fill_mode": "constant", "fill_value": 0.0, "antialias": False, "data_format": None},
        resizing, choices={"interpolation": INTERPOLATIONS, "antialias": (False, True)},
        cost={"interpolation": METHOD_COST}, request=_resizing_request),
)
