"""TensorFlow ``tf.image.resize`` (v2), the TF1 compat flags, and Keras 3 (TensorFlow backend).

tf (v2): half-pixel centres; nearest samples ``floor((i + 0.5) * in / out)``; bilinear
replicates edges; bicubic is Keys with ``a = -0.5`` dropping taps outside and
renormalising; lanczos3/5, gaussian and mitchellcubic go through ``scale_and_translate``
(taps outside dropped); ``area`` averages the exact overlap; ``antialias=True`` widens
the filter when shrinking. Non-nearest results are float32, as TF returns them.

tf1: ``align_corners`` and ``half_pixel_centers`` flags of ``tf.compat.v1.image.resize_*``;
with neither, coordinates are asymmetric (``i * in / out``) and cubic uses ``a = -0.75``.

keras: ``UpSampling2D`` / ``Resizing`` as the TensorFlow backend computes them: the layer
casts to float32, nearest repeats pixels (identical to half-pixel nearest at integer
factors), every other method is ``tf.image.resize`` with ``antialias=False``.
"""

from __future__ import annotations

from typing import Any

from ..spec import Resampling
from . import convention
from ._common import GENERIC_METHODS, flag, not_for

_TF_METHODS = {
    **GENERIC_METHODS,
    "gaussian": ("gaussian", {}),
    "mitchellcubic": ("mitchell", {}),
}


def _v2(method: str, antialias: bool, integer_output: str) -> Resampling:
    kernel, extra = _TF_METHODS[method]
    if kernel == "nearest":
        if antialias:
            raise not_for("antialias", True, method, "nearest has no filter to widen")
        return Resampling(kernel="nearest", coordinates="half_pixel", nearest_mode="round_prefer_ceil",
                          recompute_scale=True, integer_output=integer_output)  # type: ignore[arg-type]
    if kernel == "area":
        # TF: "antialias has no effect when used with area interpolation; it always anti-aliases".
        return Resampling(kernel="area", coordinates="half_pixel", border="renormalize", recompute_scale=True,
                          integer_output="float32")
    border = "replicate" if kernel == "linear" and not antialias else "renormalize"
    return Resampling(
        kernel=kernel,  # type: ignore[arg-type]
        coordinates="half_pixel",
        cubic_a=-0.5,
        antialias=antialias,
        border=border,  # type: ignore[arg-type]
        recompute_scale=True,
        integer_output="float32",
        **extra,
    )


@convention("tf", options=("antialias",), methods=tuple(_TF_METHODS))
def tf_preset(method: str, options: dict[str, Any]) -> Resampling:
    return _v2(method, flag(options, "antialias", False), "round")


_KERAS_METHODS = ("nearest", "bilinear", "linear", "bicubic", "cubic", "lanczos3", "lanczos5", "area",
                  "gaussian", "mitchellcubic")


@convention("keras", options=("antialias",), methods=_KERAS_METHODS)
def keras_preset(method: str, options: dict[str, Any]) -> Resampling:
    return _v2(method, flag(options, "antialias", False), "float32")


_TF1_METHODS = ("nearest", "bilinear", "linear", "bicubic", "cubic", "area")


@convention("tf1", options=("align_corners", "half_pixel_centers"), methods=_TF1_METHODS)
def tf1_preset(method: str, options: dict[str, Any]) -> Resampling:
    align_corners = flag(options, "align_corners", False)
    half_pixel = flag(options, "half_pixel_centers", False)
    if align_corners and half_pixel:
        raise not_for("half_pixel_centers", True, method,
                      "TF1 rejects align_corners=True together with half_pixel_centers=True")
    kernel = GENERIC_METHODS[method][0]
    common: dict[str, Any] = {"recompute_scale": True}
    if kernel == "nearest":
        if align_corners:
            return Resampling(kernel="nearest", coordinates="align_corners", nearest_mode="round_prefer_ceil", **common)
        if half_pixel:
            return Resampling(kernel="nearest", coordinates="tf_half_pixel_for_nn", nearest_mode="floor", **common)
        return Resampling(kernel="nearest", coordinates="asymmetric", nearest_mode="floor", **common)
    common["integer_output"] = "float32"
    if kernel == "area":
        if half_pixel:
            raise not_for("half_pixel_centers", True, method, "TF1 resize_area has no half_pixel_centers flag")
        return Resampling(kernel="area", coordinates="half_pixel", border="renormalize", **common)
    coordinates = "align_corners" if align_corners else "half_pixel" if half_pixel else "asymmetric"
    if kernel == "cubic" and half_pixel:
        return Resampling(kernel="cubic", coordinates="half_pixel", cubic_a=-0.5, border="renormalize", **common)
    return Resampling(kernel=kernel, coordinates=coordinates, cubic_a=-0.75, **common)  # type: ignore[arg-type]
