"""The vocabulary of a :class:`~upsamplekit.resample.spec.Resampling`: its fields' closed value sets.

Each ``Literal`` type names the values one field takes, and the tuple beside it lists them
(for checks and messages). :class:`SpecFields` is the keyword dict a framework convention
resolves a method and its options to, ``Resampling(**fields)``; the conventions depend on
this module only, never on the spec class, so the spec can call them.

>>> "cubic" in KERNELS, "half_pixel" in COORDINATE_MODES
(True, True)
"""

from __future__ import annotations

from typing import Literal, TypedDict, get_args

__all__ = [
    "Kernel", "CoordinateMode", "NearestMode", "Border", "Rounding", "IntegerOutput", "FloatOutput", "Precision",
    "AspectPolicy", "KERNELS", "COORDINATE_MODES", "NEAREST_MODES", "BORDERS", "ROUNDINGS", "INTEGER_OUTPUTS",
    "ASPECT_POLICIES", "FLOAT_OUTPUTS", "PRECISIONS", "FLOAT32_MODES", "SpecFields", "MethodTable",
]

Kernel = Literal[
    "nearest",
    "linear",
    "cubic",
    "cubic_tf_table",
    "lanczos",
    "area",
    "adaptive_area",
    "box",
    "hamming",
    "gaussian",
    "mitchell",
]
CoordinateMode = Literal[
    "half_pixel",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "half_pixel_symmetric",
    "tf_half_pixel_for_nn",
    "tf_crop_and_resize",
    "pytorch_antialias_align_corners",
    "opencv_area",
]
NearestMode = Literal["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
Border = Literal["replicate", "renormalize", "zero"]
Rounding = Literal["floor", "round", "round_half_up", "ceil"]
IntegerOutput = Literal["round", "float32"]
FloatOutput = Literal["keep", "float32"]
Precision = Literal["float64", "float32", "opencv", "pillow", "jax", "torch"]
AspectPolicy = Literal["stretch", "not_larger", "not_smaller"]

KERNELS: tuple[str, ...] = get_args(Kernel)
COORDINATE_MODES: tuple[str, ...] = get_args(CoordinateMode)
NEAREST_MODES: tuple[str, ...] = get_args(NearestMode)
BORDERS: tuple[str, ...] = get_args(Border)
ROUNDINGS: tuple[str, ...] = get_args(Rounding)
INTEGER_OUTPUTS: tuple[str, ...] = get_args(IntegerOutput)
ASPECT_POLICIES: tuple[str, ...] = get_args(AspectPolicy)
FLOAT_OUTPUTS: tuple[str, ...] = get_args(FloatOutput)
PRECISIONS: tuple[str, ...] = get_args(Precision)
# The coordinate modes whose float32 arithmetic is defined (TensorFlow's resize kernels).
FLOAT32_MODES = ("half_pixel", "tf_half_pixel_for_nn", "asymmetric", "align_corners")


class SpecFields(TypedDict, total=False):
    """Keyword arguments of :class:`~upsamplekit.resample.spec.Resampling` (fields left out keep their defaults)."""

    kernel: Kernel
    coordinates: CoordinateMode
    nearest_mode: NearestMode
    cubic_a: float
    lanczos_a: int
    antialias: bool
    border: Border
    size_rounding: Rounding
    recompute_scale: bool
    keep_aspect_ratio_policy: AspectPolicy
    extrapolation_value: float
    integer_output: IntegerOutput
    float_output: FloatOutput
    coordinate_precision: Precision


# A convention's methods: method name -> (kernel, the other fields that method fixes).
MethodTable = dict[str, tuple[Kernel, SpecFields]]
