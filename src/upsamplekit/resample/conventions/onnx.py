"""ONNX ``Resize`` (opset 19): the spec is its attributes, nearly one to one.

``method`` is the node's ``mode`` (``nearest``, ``linear``, ``cubic``); the other
attributes are keyword options of :func:`upsamplekit.resize` with their ONNX names and
defaults, and ``axes`` and ``roi`` are per-call arguments. ``size`` and ``scale_factor``
are the ``sizes`` and ``scales`` inputs restricted to the resized axes (the spatial axes,
or one entry per axis in ``axes``).

Semantics, per resized axis of input length ``in`` and output length ``out``:

* ``scale`` is the ``scales`` value given, else ``out / in`` (``sizes``), else the common
  scale of ``keep_aspect_ratio_policy``. From a scale, ``out = floor(in * scale)``; the
  roi does not enter (the operator text says ``floor(in * (end - start) * scale)`` for
  ``tf_crop_and_resize``, but onnx's reference, its shape inference and onnxruntime all
  ignore roi). ``keep_aspect_ratio_policy`` (``sizes`` only): ``not_larger`` /
  ``not_smaller`` take ``s = min`` / ``max`` of ``sizes / in`` over the resized axes and
  ``out = floor(s * in + 0.5)``; ``stretch`` (default) takes ``sizes`` as they are. The
  resized axes are ONNX's ``axes``; a node without ``axes`` resizes every axis, so there
  the batch and channel axes (ratio 1) take part: pass ``axes=range(rank)`` to match it.
* ``coordinate_transformation_mode`` maps output index ``i`` to input coordinate ``x``:
  ``half_pixel`` (default) ``(i + 0.5) / scale - 0.5``; ``pytorch_half_pixel`` the same
  but ``0`` when ``out == 1``; ``align_corners`` ``i * (in - 1) / (out - 1)`` (``0`` when
  ``out == 1``); ``asymmetric`` ``i / scale``; ``half_pixel_symmetric`` ``half_pixel``
  shifted by ``in / 2 * (1 - out / (scale * in))`` so that the flooring of the output
  length is spread over both ends; ``tf_crop_and_resize`` ``start * (in - 1) + i * (end -
  start) * (in - 1) / (out - 1)`` (centre of the roi when ``out == 1``), with
  ``extrapolation_value`` wherever ``x`` falls outside ``[0, in - 1]``;
  ``tf_half_pixel_for_nn`` ``(i + 0.5) / scale`` (opset 11 only, removed in 13).
* ``nearest`` rounds ``x`` by ``nearest_mode`` (``round_prefer_floor`` default,
  ``round_prefer_ceil``, ``floor``, ``ceil``) and clamps to ``[0, in - 1]``.
* ``linear`` (taps ``floor(x) + {0, 1}``) and ``cubic`` (Keys, ``cubic_coeff_a`` default
  -0.75, taps ``floor(x) + {-1 .. 2}``) replicate the edge pixel for taps outside,
  unless ``exclude_outside=1`` drops them and renormalises the rest.
* ``antialias=1`` (linear and cubic) widens the filter by ``max(1, 1 / scale)`` with the
  same ``scale`` (also under ``align_corners`` and ``tf_crop_and_resize``) and normalises
  its weights to sum to one.
* Computed in float64; integer images are rounded half to even and saturated.

The onnx reference (``onnx.reference``) and onnxruntime (CPU) disagree in places; this
convention follows:

* the operator text and onnxruntime where the reference departs from the text:
  ``pytorch_half_pixel`` with ``out == 1`` samples ``x = 0`` (the reference uses -0.5),
  and ``align_corners``, ``tf_crop_and_resize`` and the ``out == 1`` test use the integer
  output length where the reference uses the fractional ``in * scale``;
* the reference (float64, exact) where onnxruntime computes in float32: nearest indices at
  a rounding boundary (``x`` exactly an integer for ``floor``/``ceil``, exactly half-way
  for the round modes, when the scale is not a power of two), output lengths where
  ``in * scale`` lies within float32 rounding below an integer (onnxruntime takes
  ``int(float32(scale) * in)``; upsamplekit floors the float64 product of the value
  given, so ``scale_factor=0.7`` on 10 gives 7, as onnxruntime does, while a model's
  ``scales`` tensor holds ``float32(0.7)``, on which the reference gives 6), and the
  ``keep_aspect_ratio_policy`` rounding;
* the reference for integer images (onnxruntime truncates linear uint8/int8 results toward
  zero; antialiased, it rounds half up in fixed point after every pass, clipping cubic
  overshoot between passes, and clamps int8 results to [0, 255]);
* the text and the reference where onnxruntime copies an axis whose output length equals
  its input length, ignoring its scale and roi: when no axis changes length (the whole
  tensor is copied), under ``antialias=1`` and under ``tf_crop_and_resize``; it also copies
  axes whose scale is 1, which differs from the formula only for ``tf_half_pixel_for_nn``
  with ``round_prefer_ceil`` or ``ceil``.

The reference itself has float32 steps (cubic coefficients, as ``cubic_coeff_a`` is read as
float32, and ``start * (in - 1)`` of ``tf_crop_and_resize``: differences near 1e-7), and
an artefact: where its float64 ``x`` lies a few ulps above an integer, adding its edge pad
rounds ``x`` down onto the integer and its taps move one pixel left of its weights.

Attribute combinations: ``antialias=1`` and ``exclude_outside=1`` do not apply to
``nearest`` and are errors (onnxruntime rejects them; the reference returns 0 where the
nearest pixel is outside). ``exclude_outside=1`` with non-antialiased ``linear`` is
accepted (the reference runs it, onnxruntime rejects it) and changes nothing, since
linear taps fall outside only beyond the edge pixel: the spec records
``border='replicate'``. onnxruntime also runs cubic on 4-D inputs only and has no float64
kernel. ``tf_half_pixel_for_nn`` is not implemented by the onnx reference at any opset;
onnxruntime runs it (tested at opset 11).

>>> import torch
>>> from upsamplekit import resize
>>> x = torch.arange(4.0).view(1, 1, 4)
>>> resize(x, size=2, method="nearest", convention="onnx")  # half_pixel, round_prefer_floor
tensor([[[0., 2.]]])
>>> resize(x, size=2, method="nearest", convention="onnx", nearest_mode="round_prefer_ceil")
tensor([[[1., 3.]]])
>>> resize(x, scale_factor=0.5, method="linear", convention="onnx", antialias=1)
tensor([[[0.6250, 2.3750]]])
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from ...errors import InvalidArgumentError, InvalidTypeError, unknown_choice
from ..fields import ASPECT_POLICIES, NEAREST_MODES, AspectPolicy, CoordinateMode, MethodTable, NearestMode, SpecFields
from ._common import flag
from .registry import convention

if TYPE_CHECKING:
    from ..spec import Resampling

__all__ = ["ATTRIBUTES", "NODE_ATTRIBUTES", "MODES", "COORDINATE_MODES", "METHODS", "onnx_preset", "onnx_fields",
           "onnx_attributes"]

ATTRIBUTES = ("coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside", "antialias",
              "extrapolation_value", "keep_aspect_ratio_policy")
"""The Resize attributes :func:`upsamplekit.resize` takes as keyword options (``mode`` is ``method``)."""

CALL_INPUTS = ("axes", "roi")
NODE_ATTRIBUTES = ("mode", *ATTRIBUTES, "axes")
"""Every attribute of a Resize node (opset 19)."""

MODES = ("nearest", "linear", "cubic")
COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                    "tf_crop_and_resize", "tf_half_pixel_for_nn")
METHODS: MethodTable = {"nearest": ("nearest", {}), "linear": ("linear", {}), "bilinear": ("linear", {}),
                        "trilinear": ("linear", {}), "cubic": ("cubic", {}), "bicubic": ("cubic", {})}
_DEFAULTS: dict[str, Any] = {
    "coordinate_transformation_mode": "half_pixel",
    "nearest_mode": "round_prefer_floor",
    "cubic_coeff_a": -0.75,
    "exclude_outside": 0,
    "antialias": 0,
    "extrapolation_value": 0.0,
    "keep_aspect_ratio_policy": "stretch",
}


@convention("onnx", options=(*ATTRIBUTES, *CALL_INPUTS), methods=tuple(METHODS))
def onnx_preset(method: str, options: dict[str, Any]) -> SpecFields:
    """The spec of a Resize node with ``mode=method`` and these attributes (ONNX defaults for the rest)."""
    for name in CALL_INPUTS:
        if name in options:
            raise InvalidArgumentError(
                f"{name}={options[name]!r} is an input of each call, not part of the spec: pass it to "
                f"upsamplekit.resize(..., {name}=...) instead"
            )
    for name in options:
        options[name] = _plain(options[name])
    kernel = METHODS[method][0]
    coordinates = cast(CoordinateMode, _choice(options, "coordinate_transformation_mode", COORDINATE_MODES))
    nearest_mode = cast(NearestMode, _choice(options, "nearest_mode", NEAREST_MODES))
    policy = cast(AspectPolicy, _choice(options, "keep_aspect_ratio_policy", ASPECT_POLICIES))
    antialias = flag(options, "antialias", False)
    exclude_outside = flag(options, "exclude_outside", False)
    if kernel == "nearest":
        for name, value in (("antialias", antialias), ("exclude_outside", exclude_outside)):
            if value:
                raise InvalidArgumentError(
                    f"{name}=1 does not apply to mode 'nearest': ONNX antialiases and excludes outside taps for "
                    "linear and cubic only (onnxruntime rejects the model); leave it 0"
                )
    # Plain linear taps fall outside only beyond the edge pixel, where dropping them and
    # replicating the edge agree: record the canonical replicate.
    drops = exclude_outside and (kernel == "cubic" or antialias)
    return {
        "kernel": kernel,
        "coordinates": coordinates,
        "nearest_mode": nearest_mode,
        "cubic_a": _number(options, "cubic_coeff_a"),
        "antialias": antialias,
        "border": "renormalize" if drops else "replicate",
        "extrapolation_value": _number(options, "extrapolation_value"),
        "keep_aspect_ratio_policy": policy,
    }


def onnx_fields(attrs: Mapping[str, Any]) -> SpecFields:
    """The spec fields of a Resize node given its attribute dict (``mode`` included, defaults filled).

    Values may be as stored in a ``NodeProto`` (bytes strings) or NumPy scalars. ``axes``
    is accepted and left out of the spec: pass it to :func:`upsamplekit.resize`.
    """
    if not isinstance(attrs, Mapping):
        raise InvalidTypeError(
            f"attrs must be a mapping of Resize attribute names to values, but got {type(attrs).__name__}; "
            "from a NodeProto use {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}"
        )
    values = {str(name): _plain(value) for name, value in attrs.items()}
    for name in values:
        if name not in NODE_ATTRIBUTES:
            raise unknown_choice("ONNX Resize attribute", name, NODE_ATTRIBUTES)
    mode = values.pop("mode", "nearest")
    if mode not in MODES:
        raise unknown_choice("mode", mode, MODES)
    values.pop("axes", None)
    return onnx_preset(mode, values)


def onnx_attributes(spec: Resampling) -> dict[str, Any]:
    """The opset-19 Resize attributes computing ``spec`` (see :meth:`Resampling.to_onnx`)."""
    problems = _unsupported(spec)
    if problems:
        raise InvalidArgumentError(
            "this Resampling has no ONNX Resize equivalent: " + "; ".join(problems) + f". Spec: {spec!r}"
        )
    coordinates, nearest_mode = spec.coordinates, spec.nearest_mode
    if coordinates == "tf_half_pixel_for_nn":
        # floor((i + 0.5) / s) == round_prefer_ceil of the half-pixel x; ceil(... - 0.5) likewise.
        coordinates, nearest_mode = "half_pixel", _HALF_PIXEL_FOR_NN[spec.nearest_mode]
    # Linear taps fall outside only past the edge pixel, where dropping them or replicating the
    # edge gives the same value; exclude_outside=1 there is also a model onnxruntime rejects.
    exclude = spec.border == "renormalize" and (spec.kernel == "cubic" or spec.kernel == "linear" and spec.antialias)
    return {
        "mode": spec.kernel,
        "coordinate_transformation_mode": coordinates,
        "nearest_mode": nearest_mode,
        "cubic_coeff_a": float(spec.cubic_a),
        "exclude_outside": int(exclude),
        "antialias": int(spec.antialias),
        "extrapolation_value": float(spec.extrapolation_value),
        "keep_aspect_ratio_policy": spec.keep_aspect_ratio_policy,
    }


# tf_half_pixel_for_nn rounding -> the half_pixel rounding that picks the same pixel.
_HALF_PIXEL_FOR_NN: dict[str, NearestMode] = {"floor": "round_prefer_ceil", "round_prefer_floor": "ceil"}


def _unsupported(spec: Resampling) -> list[str]:
    problems = []
    if spec.kernel not in MODES:
        problems.append(f"kernel={spec.kernel!r} (ONNX has nearest, linear and cubic)")
    if spec.coordinates not in COORDINATE_MODES:
        problems.append(f"coordinates={spec.coordinates!r} (not an ONNX coordinate_transformation_mode)")
    if spec.coordinates == "tf_half_pixel_for_nn" and (spec.kernel != "nearest" or
                                                       spec.nearest_mode not in _HALF_PIXEL_FOR_NN):
        problems.append(f"coordinates='tf_half_pixel_for_nn' with kernel={spec.kernel!r} and "
                        f"nearest_mode={spec.nearest_mode!r} (opset 19 has no tf_half_pixel_for_nn; only nearest "
                        "floor and round_prefer_floor have a half_pixel equivalent)")
    if spec.border == "zero" and spec.kernel != "nearest":
        problems.append("border='zero' (ONNX replicates the edge or drops outside taps)")
    return problems


def _choice(options: dict[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = _plain(options.pop(name, _DEFAULTS[name]))
    if value not in choices:
        raise unknown_choice(name, value, choices)
    return str(value)


def _number(options: dict[str, Any], name: str) -> float:
    value = _plain(options.pop(name, _DEFAULTS[name]))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{name} must be a number, but got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise InvalidArgumentError(f"{name} must be a number a float can hold, but got {value!r}") from None


def _plain(value: Any) -> Any:
    """Decode NodeProto bytes and unwrap NumPy scalars."""
    if isinstance(value, bytes):
        return value.decode()
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        return item()
    return value
