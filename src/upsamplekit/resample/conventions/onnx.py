"""ONNX ``Resize`` (opset 19): the spec is its attributes, nearly one to one.

``mode`` is the method (nearest, linear, cubic); ``coordinate_transformation_mode``,
``nearest_mode``, ``cubic_coeff_a``, ``exclude_outside`` (1: drop taps outside and
renormalise), ``antialias``, ``extrapolation_value`` and ``keep_aspect_ratio_policy``
map to the fields of the same meaning. ``axes`` and ``roi`` are per-call arguments of
:func:`upsamplekit.resize` under this convention.
"""

from __future__ import annotations

from typing import Any

from ...errors import InvalidArgumentError, unknown_choice
from ..spec import COORDINATE_MODES, NEAREST_MODES, Resampling
from . import convention
from ._common import flag

ATTRIBUTES = ("coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside", "antialias",
              "extrapolation_value", "keep_aspect_ratio_policy")
_METHODS = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "trilinear": "linear",
            "cubic": "cubic", "bicubic": "cubic"}
_ONNX_COORDINATES = tuple(m for m in COORDINATE_MODES if m != "pytorch_antialias_align_corners")


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


@convention("onnx", options=ATTRIBUTES, methods=tuple(_METHODS))
def onnx_preset(method: str, options: dict[str, Any]) -> Resampling:
    kernel = _METHODS[method]
    coordinates = _text(options.pop("coordinate_transformation_mode", "half_pixel"))
    if coordinates not in _ONNX_COORDINATES:
        raise unknown_choice("coordinate_transformation_mode", coordinates, _ONNX_COORDINATES)
    nearest_mode = _text(options.pop("nearest_mode", "round_prefer_floor"))
    if nearest_mode not in NEAREST_MODES:
        raise unknown_choice("nearest_mode", nearest_mode, NEAREST_MODES)
    antialias = flag(options, "antialias", False)
    exclude_outside = flag(options, "exclude_outside", False)
    if antialias and kernel == "nearest":
        raise InvalidArgumentError("antialias=1 does not apply to mode 'nearest': ONNX antialiases linear and cubic only")
    return Resampling(
        kernel=kernel,  # type: ignore[arg-type]
        coordinates=coordinates,
        nearest_mode=nearest_mode,
        cubic_a=float(options.pop("cubic_coeff_a", -0.75)),
        antialias=antialias,
        border="renormalize" if exclude_outside else "replicate",
        extrapolation_value=float(options.pop("extrapolation_value", 0.0)),
        keep_aspect_ratio_policy=_text(options.pop("keep_aspect_ratio_policy", "stretch")),
    )


def onnx_spec(attrs: dict[str, Any]) -> Resampling:
    """The spec for a Resize node's attribute dict (``mode`` included, defaults filled)."""
    mode = _text(attrs.pop("mode", "nearest"))
    if mode not in ("nearest", "linear", "cubic"):
        raise unknown_choice("mode", mode, ("nearest", "linear", "cubic"))
    unknown = sorted(set(attrs) - set(ATTRIBUTES) - {"axes"})
    if unknown:
        raise unknown_choice("ONNX Resize attribute", unknown[0], ATTRIBUTES)
    attrs.pop("axes", None)
    return onnx_preset(mode, attrs)
