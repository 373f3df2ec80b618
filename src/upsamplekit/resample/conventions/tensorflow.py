"""TensorFlow ``tf.image.resize`` (v2), the TF1 ``tf.compat.v1.image.resize_*`` ops, and Keras 3 layers.

Every TF resize kernel computes positions in float32 (``coordinate_precision="float32"``):
the scale is ``float32(in) / float32(out)``, so a nearest index or a gaussian tap that sits
exactly on a boundary in real numbers falls where float32 rounding puts it (2 -> 41 nearest
takes input 0 for output 20, not input 1). TF takes sizes, never scale factors: a
``scale_factor`` here gives ``floor(in * scale)`` and the coordinates use ``out / in``.

tf (``tf.image.resize``, 2-D NHWC: pass ``channels_last=True`` for that layout):

* ``nearest``: ``min(floor((i + 0.5) * in / out), in - 1)``; keeps the input dtype.
* ``bilinear``: half-pixel centres, edge replicated (``resize_bilinear``).
* ``bicubic``: Keys ``a = -0.5``, half-pixel, taps outside dropped and the rest renormalised
  (``resize_bicubic(half_pixel_centers=True)``). TF reads the weights from a float32 table of
  the kernel at multiples of 1/1024, at ``lrintf(delta * 1024)`` (the fractional offset
  rounded half to even): kernel ``cubic_tf_table`` reads the same entries at the same float32
  offsets (:func:`arithmetic_table`), so results agree to float32 round-off (the exact kernel,
  ``kernel="cubic"``, differs by up to ~2e-3 of the value range). With ``antialias=True`` TF
  uses ``scale_and_translate``, which evaluates the kernel exactly: ``kernel="cubic"``. ONNX
  Resize has no quantised cubic: ``to_onnx()`` refuses a ``cubic_tf_table`` spec.
* ``area``: the exact-overlap average of cell ``[i * in/out, (i + 1) * in/out)``
  (``resize_area``); ``antialias`` has no effect on it.
* ``lanczos3``, ``lanczos5``, ``gaussian`` (sigma 0.5, zero from ``|t| >= 1.5``),
  ``mitchellcubic`` (Mitchell-Netravali B = C = 1/3), and bilinear / bicubic with
  ``antialias=True``: ``scale_and_translate`` with the triangle / Keys kernels. Half-pixel
  centres; taps outside the image are dropped and the weights renormalised; with
  ``antialias=True`` the kernel widens by ``in / out`` when shrinking. Enlarging,
  ``antialias`` changes nothing.
* ``antialias=True`` is accepted for ``nearest`` and ignored, as TF does.
* Every method but nearest returns float32 for every input dtype (float16, float64 and
  integers included), computed from the input converted to float32.

tf1 (``tf.compat.v1.image.resize_nearest_neighbor / resize_bilinear / resize_bicubic /
resize_area`` with ``align_corners`` and ``half_pixel_centers``; both True is an error, as in TF):

* neither flag: asymmetric ``x = i * in / out``; nearest floors; bicubic is Keys ``a = -0.75``
  with edge-replicated taps and unnormalised weights (``cubic_tf_table`` too: TF's a = -0.75 table).
* ``align_corners=True``: ``x = i * (in - 1) / (out - 1)`` (0 when out is 1); nearest rounds
  half away from zero (``roundf``); ``resize_area`` averages cell ``[i * s, (i + 1) * s)`` with
  ``s = (in - 1) / (out - 1)``, the part past the last pixel replicating it (so 5 -> 3 gives
  ``[0.5, 2.5, 4]``).
* ``half_pixel_centers=True``: nearest ``floor((i + 0.5) * in / out)``; bilinear half-pixel;
  bicubic switches to TF2's Keys ``a = -0.5`` table with dropped, renormalised taps. ``resize_area``
  has no such flag.
* Outputs are float32 except nearest, which keeps the dtype.

keras (Keras 3 ``layers.UpSampling2D(size, interpolation)`` and ``layers.Resizing(height,
width, interpolation, antialias)`` on the TensorFlow backend, default float32 dtype policy):

* UpSampling2D ``nearest`` repeats pixels, which is ``tf``'s nearest at integer factors; its
  other interpolations, and Resizing, call ``tf.image.resize``. The TensorFlow backend accepts
  ``bilinear``, ``nearest``, ``bicubic``, ``area``, ``lanczos3`` and ``lanczos5`` (not gaussian
  or mitchellcubic).
* Floating inputs are cast to float32 by the layer, so every method (nearest too) returns
  float32; integer inputs keep their dtype: the float32 result is rounded half to even and
  saturated (nearest copies). Values within float32 round-off of a .5 tie may round the
  other way here (upsamplekit's sums are not TF's float32 sums).
* Not reproduced: Resizing's ``crop_to_aspect_ratio`` / ``pad_to_aspect_ratio`` (crop or pad,
  then resize), and ``keras.ops.image.resize``, which casts float results back to the input
  dtype instead of float32.

``linear`` and ``cubic`` are accepted as aliases of ``bilinear`` and ``bicubic``.

>>> import numpy as np
>>> from upsamplekit import resize
>>> x = np.array([0.0, 1.0], np.float32).reshape(1, 2, 1, 1)  # NHWC
>>> resize(x, size=(41, 1), method="nearest", convention="tf", channels_last=True)[0, 19:22, 0, 0]
array([0., 0., 1.], dtype=float32)
>>> x = np.arange(5.0).reshape(1, 5, 1, 1)
>>> resize(x, size=(3, 1), method="area", convention="tf1", align_corners=True, channels_last=True).ravel()
array([0.5, 2.5, 4. ], dtype=float32)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..fields import CoordinateMode, MethodTable, SpecFields
from ..kernels import kernel_function
from ._common import flag, not_for
from .registry import convention

if TYPE_CHECKING:
    from ..spec import Resampling

__all__ = ["TF_METHODS", "KERAS_METHODS", "TF1_METHODS", "tf_preset", "keras_preset", "tf1_preset",
           "arithmetic_table"]

TF_METHODS: MethodTable = {
    "nearest": ("nearest", {}),
    "bilinear": ("linear", {}),
    "linear": ("linear", {}),
    "bicubic": ("cubic", {}),
    "cubic": ("cubic", {}),
    "area": ("area", {}),
    "lanczos3": ("lanczos", {"lanczos_a": 3}),
    "lanczos5": ("lanczos", {"lanczos_a": 5}),
    "gaussian": ("gaussian", {}),
    "mitchellcubic": ("mitchell", {}),
}
# Keras layers and TF1's resize_* take fewer methods than tf.image.resize, with the same meaning.
KERAS_METHODS: MethodTable = {name: TF_METHODS[name] for name in ("nearest", "bilinear", "linear", "bicubic", "cubic",
                                                                  "area", "lanczos3", "lanczos5")}
TF1_METHODS: MethodTable = {name: TF_METHODS[name] for name in ("nearest", "bilinear", "linear", "bicubic", "cubic",
                                                                "area")}

# TF derives every scale from the sizes, in float32.
_COMMON: SpecFields = {"recompute_scale": True, "coordinate_precision": "float32"}


def _v2(method: str, antialias: bool, outputs: SpecFields) -> SpecFields:
    kernel, extra = TF_METHODS[method]
    if kernel == "nearest":
        return {"kernel": "nearest", "coordinates": "tf_half_pixel_for_nn", "nearest_mode": "floor", **_COMMON,
                **outputs}
    if kernel == "area":
        # TF: "antialias has no effect when used with area interpolation; it always anti-aliases".
        return {"kernel": "area", "coordinates": "half_pixel", "border": "renormalize", **_COMMON, **outputs}
    if kernel == "cubic":
        # Keys' a = -0.5, in resize_bicubic and scale_and_translate alike; resize_bicubic (no
        # antialias) reads it from its 1024-entry table, scale_and_translate evaluates it.
        extra = {"cubic_a": -0.5}
        if not antialias:
            kernel = "cubic_tf_table"
    return {
        "kernel": kernel,
        "coordinates": "half_pixel",
        "antialias": antialias,
        "border": "replicate" if kernel == "linear" and not antialias else "renormalize",
        **_COMMON,
        **outputs,
        **extra,
    }


@convention("tf", options=("antialias",), methods=tuple(TF_METHODS))
def tf_preset(method: str, options: dict[str, Any]) -> SpecFields:
    """``tf.image.resize``: float32 out, except nearest, which keeps the dtype."""
    outputs: SpecFields = {} if method == "nearest" else {"integer_output": "float32", "float_output": "float32"}
    return _v2(method, flag(options, "antialias", False), outputs)


@convention("keras", options=("antialias",), methods=tuple(KERAS_METHODS))
def keras_preset(method: str, options: dict[str, Any]) -> SpecFields:
    """Keras layers: floats cast to float32 first; integer results rounded back to the dtype."""
    return _v2(method, flag(options, "antialias", False), {"integer_output": "round", "float_output": "float32"})


@convention("tf1", options=("align_corners", "half_pixel_centers"), methods=tuple(TF1_METHODS))
def tf1_preset(method: str, options: dict[str, Any]) -> SpecFields:
    """``tf.compat.v1.image.resize_*``: the pixel grid is chosen by the two flags."""
    align_corners = flag(options, "align_corners", False)
    half_pixel = flag(options, "half_pixel_centers", False)
    if align_corners and half_pixel:
        raise not_for("half_pixel_centers", True, method,
                      "TF1 rejects align_corners=True together with half_pixel_centers=True")
    kernel = TF1_METHODS[method][0]
    coordinates: CoordinateMode
    if kernel == "nearest":
        if align_corners:  # roundf: half away from zero, which is round_prefer_ceil for x >= 0
            return {"kernel": "nearest", "coordinates": "align_corners", "nearest_mode": "round_prefer_ceil",
                    **_COMMON}
        coordinates = "tf_half_pixel_for_nn" if half_pixel else "asymmetric"
        return {"kernel": "nearest", "coordinates": coordinates, "nearest_mode": "floor", **_COMMON}
    common: SpecFields = {**_COMMON, "integer_output": "float32", "float_output": "float32"}
    if kernel == "area":
        if half_pixel:
            raise not_for("half_pixel_centers", True, method, "TF1 resize_area has no half_pixel_centers flag")
        coordinates = "align_corners" if align_corners else "half_pixel"
        return {"kernel": "area", "coordinates": coordinates, "border": "replicate", **common}
    coordinates = "align_corners" if align_corners else "half_pixel" if half_pixel else "asymmetric"
    if kernel == "cubic" and half_pixel:
        return {"kernel": "cubic_tf_table", "coordinates": "half_pixel", "cubic_a": -0.5, "border": "renormalize",
                **common}
    if kernel == "cubic":
        return {"kernel": "cubic_tf_table", "coordinates": coordinates, "cubic_a": -0.75, **common}
    return {"kernel": kernel, "coordinates": coordinates, "cubic_a": -0.75, **common}


def arithmetic_table(spec: Resampling, in_len: int, out_len: int, scale: float
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """``resize_bicubic``'s taps and weights for a ``cubic_tf_table`` spec; None for any other.

    Repeats TF's float32 steps (``CalculateResizeScale``, the scalers, ``GetWeightsAndIndices``):
    the ratio ``r = float(in) / float(out)`` (``float(in - 1) / float(out - 1)`` for
    ``align_corners`` when both lengths exceed 1; ``float32(1 / scale)`` for a spec given another
    scale), the position ``x = (float(i) + 0.5f) * r - 0.5f`` (half-pixel) or ``float(i) * r``,
    each operation rounded to float32; taps ``floor(x) - 1 .. floor(x) + 2`` weighted by the
    table kernel at ``j - x``. ``renormalize`` (``half_pixel_centers=True``) zeroes the taps
    outside and multiplies the rest by ``1.0f / sum`` in float32, unless ``|sum|`` is below
    ``1000 * FLT_MIN``; ``replicate`` (legacy) clamps the indices and keeps the table's weights
    unnormalised; ``zero`` zeroes the taps outside. Antialiased specs and other coordinate modes
    take the generic tables with the same kernel.

    >>> from upsamplekit import Resampling
    >>> index, weight = arithmetic_table(Resampling.preset("tf1", "bicubic"), 4, 8, 2.0)
    >>> index[1].tolist(), weight[1].tolist()  # x = 0.5: the table's entries 1536, 512, 512, 1536
    ([0, 0, 1, 2], [-0.09375, 0.59375, 0.59375, -0.09375])
    """
    if (spec.kernel != "cubic_tf_table" or spec.antialias
            or spec.coordinates not in ("half_pixel", "asymmetric", "align_corners")):
        return None
    f32 = np.float32
    if spec.coordinates == "align_corners" and in_len > 1 and out_len > 1:
        ratio = f32(in_len - 1) / f32(out_len - 1)
    elif spec.coordinates == "align_corners" or scale == out_len / in_len:
        ratio = f32(in_len) / f32(out_len)
    else:
        ratio = f32(1.0 / scale)
    i = np.arange(out_len).astype(f32)
    x = (i + f32(0.5)) * ratio - f32(0.5) if spec.coordinates == "half_pixel" else i * ratio
    first = np.floor(x).astype(np.int64) - 1
    j = first[:, None] + np.arange(4)[None, :]
    weight = kernel_function(spec.kernel, spec.cubic_a).weight(j - x.astype(np.float64)[:, None]).astype(f32)
    inside = (j >= 0) & (j < in_len)
    if spec.border != "replicate":
        weight = np.where(inside, weight, f32(0.0))
    if spec.border == "renormalize":
        total = ((weight[:, 0] + weight[:, 1]) + weight[:, 2]) + weight[:, 3]
        scaled = np.abs(total) >= f32(1000.0) * np.finfo(f32).tiny
        factor = np.where(scaled, f32(1.0) / np.where(scaled, total, f32(1.0)), f32(1.0)).astype(f32)
        weight = weight * factor[:, None]
    return np.clip(j, 0, in_len - 1), weight.astype(np.float64)
