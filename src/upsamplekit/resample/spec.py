"""`Resampling`: the frozen specification every framework preset resolves to.

A resize is fully described by five knobs, each a field here:

* where output samples land in input coordinates (``coordinates``, plus ``nearest_mode``
  for nearest-neighbour rounding),
* which kernel weighs the neighbours (``kernel``, ``cubic_a``, ``lanczos_a``),
* what happens at the borders (``border``),
* whether the kernel widens when shrinking (``antialias``),
* how an output length is derived from a scale (``size_rounding``, ``recompute_scale``).

Two more fields say how integer images are returned (``integer_output``) and what
``tf_crop_and_resize`` writes outside the region (``extrapolation_value``);
``float_output`` says whether float16/bfloat16/float64 images come back as float32 (TF,
Keras) and ``coordinate_precision`` whether positions are computed in float32 as
TensorFlow's kernels do (which moves nearest indices and gaussian taps at exact ties), or
with OpenCV's, Pillow's, JAX's or PyTorch's own floating-point steps (``"opencv"``,
``"pillow"``, ``"jax"``, ``"torch"``: the tables are then built by that convention module, see
:func:`~upsamplekit.resample.tables.axis_table`; ``"torch"`` also runs aten's own uint8 kernels).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..checks import is_integer, is_real
from ..errors import InvalidArgumentError, InvalidTypeError, unknown_choice
from .conventions import resolve
from .conventions.onnx import onnx_attributes, onnx_fields
from .fields import (
    ASPECT_POLICIES,
    BORDERS,
    COORDINATE_MODES,
    FLOAT32_MODES,
    FLOAT_OUTPUTS,
    INTEGER_OUTPUTS,
    KERNELS,
    NEAREST_MODES,
    PRECISIONS,
    ROUNDINGS,
    AspectPolicy,
    Border,
    CoordinateMode,
    FloatOutput,
    IntegerOutput,
    Kernel,
    NearestMode,
    Precision,
    Rounding,
)

# The field vocabularies (upsamplekit.resample.fields) stay importable from here.
__all__ = ["Resampling", "Kernel", "CoordinateMode", "NearestMode", "Border", "Rounding", "KERNELS",
           "COORDINATE_MODES", "NEAREST_MODES", "BORDERS", "ROUNDINGS", "ASPECT_POLICIES"]

@dataclass(frozen=True)
class Resampling:
    """A complete, framework-neutral description of one resize.

    Every ``convention`` of :func:`upsamplekit.resize` resolves to one of these
    (see :meth:`preset`); pass one as ``spec=`` to resize exactly as described.

    Coordinates are ONNX's ``coordinate_transformation_mode`` names, in input pixel
    index units (pixel ``j`` has its centre at ``j``): ``half_pixel`` maps output ``i``
    to ``(i + 0.5) / s - 0.5``, ``align_corners`` to ``i * (in - 1) / (out - 1)``,
    ``asymmetric`` to ``i / s``; ``pytorch_antialias_align_corners`` is what torch's
    antialiased path does with ``align_corners=True`` (half-pixel centres with the
    corner-to-corner scale); ``opencv_area`` is OpenCV's INTER_AREA when a call enlarges
    (``floor(i / s)`` plus the fraction of the output cell past that pixel's right edge).

    Borders: ``replicate`` clamps tap indices to the edge; ``renormalize`` drops taps
    outside the input and rescales the rest to sum to one; ``zero`` treats the outside
    as zeros.

    >>> spec = Resampling.preset("torch", "bilinear", align_corners=True)
    >>> spec.coordinates, spec.kernel, spec.border
    ('align_corners', 'linear', 'replicate')
    >>> Resampling.preset("pillow", "bicubic").cubic_a
    -0.5
    """

    kernel: Kernel = "linear"
    coordinates: CoordinateMode = "half_pixel"
    nearest_mode: NearestMode = "round_prefer_floor"
    cubic_a: float = -0.75
    lanczos_a: int = 3
    antialias: bool = False
    border: Border = "replicate"
    size_rounding: Rounding = "floor"
    recompute_scale: bool = False
    keep_aspect_ratio_policy: AspectPolicy = "stretch"
    extrapolation_value: float = 0.0
    integer_output: IntegerOutput = "round"
    float_output: FloatOutput = "keep"
    coordinate_precision: Precision = "float64"

    def __post_init__(self) -> None:
        _check_choice("kernel", self.kernel, KERNELS)
        _check_choice("coordinates", self.coordinates, COORDINATE_MODES)
        _check_choice("nearest_mode", self.nearest_mode, NEAREST_MODES)
        _check_choice("border", self.border, BORDERS)
        _check_choice("size_rounding", self.size_rounding, ROUNDINGS)
        _check_choice("integer_output", self.integer_output, INTEGER_OUTPUTS)
        _check_choice("keep_aspect_ratio_policy", self.keep_aspect_ratio_policy, ASPECT_POLICIES)
        _check_choice("float_output", self.float_output, FLOAT_OUTPUTS)
        _check_choice("coordinate_precision", self.coordinate_precision, PRECISIONS)
        if self.coordinate_precision == "float32" and self.coordinates not in FLOAT32_MODES:
            raise InvalidArgumentError(
                f"coordinate_precision='float32' is defined for coordinates {', '.join(map(repr, FLOAT32_MODES))}, "
                f"but got coordinates={self.coordinates!r}; use coordinate_precision='float64'"
            )
        if not (is_real(self.cubic_a) and math.isfinite(self.cubic_a)):
            raise InvalidArgumentError(f"cubic_a must be a finite number, but got {self.cubic_a!r}")
        if not is_integer(self.lanczos_a) or self.lanczos_a < 1:
            raise InvalidArgumentError(f"lanczos_a must be an integer >= 1, but got {self.lanczos_a!r}")
        if not is_real(self.extrapolation_value):  # NaN and inf are fill values too (docs/errors.md)
            raise InvalidArgumentError(
                f"extrapolation_value must be a number, but got {self.extrapolation_value!r}"
            )
        for name in ("antialias", "recompute_scale"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidTypeError(f"Resampling.{name} must be True or False, but got {getattr(self, name)!r}")
        _plain_numbers(self)
        if self.antialias and self.kernel in ("nearest", "area", "adaptive_area"):
            raise InvalidArgumentError(
                f"antialias applies to filter kernels only, not to kernel={self.kernel!r}; "
                "area kernels already average every covered pixel and nearest has no filter to widen"
            )

    # ------------------------------------------------------------------ presets
    @classmethod
    def preset(cls, convention: str, method: str, **options: Any) -> Resampling:
        """Resolve a framework's ``method`` and options into a spec.

        ``convention`` is one of ``torch``, ``tf``, ``tf1``, ``keras``, ``jax``, ``onnx``,
        ``opencv``, ``pillow``. ``options`` are that framework's own knobs (for example
        ``align_corners=True`` for torch, ``half_pixel_centers=True`` for tf1, ONNX
        Resize attributes for onnx); an option the convention does not have is an error.

        >>> Resampling.preset("torch", "nearest")
        Resampling(kernel='nearest', coordinates='asymmetric', nearest_mode='floor', coordinate_precision='torch')
        """
        return cls(**resolve(convention, method, options))

    # --------------------------------------------------------------------- ONNX
    def to_onnx(self) -> dict[str, Any]:
        """The ONNX ``Resize`` (opset 19) attributes that compute this spec, ``mode`` included.

        Feed the node ``sizes`` for ``resize(size=...)`` calls, and ``scales`` (1 on the axes
        not resized) for ``scale_factor`` calls of a spec that floors ``in * scale`` and keeps
        the scale (``size_rounding='floor'``, ``recompute_scale=False``). A recomputing spec
        takes the output lengths upsamplekit computes as ``sizes``; one that rounds lengths
        otherwise yet keeps the given scale (OpenCV's ``fx``) has no ONNX form for
        ``scale_factor`` calls. Output dtypes are not
        attributes: ONNX returns the input dtype (``integer_output='float32'`` specs match
        for float inputs only), and runtimes use their own float arithmetic. Two
        equivalences are applied: ``tf_half_pixel_for_nn`` (gone in opset 13) with
        ``floor`` / ``round_prefer_floor`` becomes ``half_pixel`` with ``round_prefer_ceil``
        / ``ceil``, and ``exclude_outside`` is set only where it changes the result (cubic,
        antialiased linear), so that onnxruntime accepts the model.

        Raises :class:`~upsamplekit.errors.InvalidArgumentError` when ONNX has no
        equivalent (lanczos, area, zero borders, torch's antialias with align_corners, ...).
        A framework's own float arithmetic (``coordinate_precision``) is not an attribute
        either: ONNX runtimes use theirs, which differs only at exact ties.

        >>> Resampling.preset("torch", "nearest-exact").to_onnx()["nearest_mode"]
        'round_prefer_ceil'
        >>> bicubic = Resampling.preset("torch", "bicubic")
        >>> Resampling.from_onnx(bicubic.to_onnx()) == bicubic.replace(coordinate_precision="float64")
        True
        """
        return onnx_attributes(self)

    @classmethod
    def from_onnx(cls, attrs: Mapping[str, Any]) -> Resampling:
        """Build the spec an ONNX ``Resize`` node with these attributes computes.

        Missing attributes take ONNX's defaults (``mode`` is ``nearest``); bytes values (as
        stored in a ``NodeProto``) are decoded; ``axes`` is accepted but belongs to each
        call (``resize(..., axes=...)``). Unknown attributes and values are errors.

        >>> Resampling.from_onnx({"mode": "linear"}).coordinates
        'half_pixel'
        >>> Resampling.from_onnx({"mode": b"cubic", "exclude_outside": 1}).border
        'renormalize'
        """
        return cls(**onnx_fields(attrs))

    # ------------------------------------------------------------------- display
    def replace(self, **changes: Any) -> Resampling:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        """Show only the fields that differ from the defaults, so specs read like calls."""
        default = _DEFAULT
        parts = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if f.name == "kernel" or getattr(self, f.name) != getattr(default, f.name)
        ]
        return f"Resampling({', '.join(parts)})"

    def describe(self) -> str:
        """A one-paragraph plain-English description of every knob.

        >>> print(Resampling.preset("torch", "bilinear").describe())
        kernel linear (triangle, 2 taps), coordinates half_pixel, borders replicate, no antialias, output length floor(in * scale), positions and weights in torch's own arithmetic
        """
        kernel = {
            "nearest": f"nearest ({self.nearest_mode})",
            "linear": "linear (triangle, 2 taps)",
            "cubic": f"cubic (Keys a={self.cubic_a:g}, 4 taps)",
            "cubic_tf_table": f"cubic from TensorFlow's 1024-entry table (Keys a={self.cubic_a:g}, offset rounded "
                              "half to even to 1/1024, 4 taps)",
            "lanczos": f"lanczos{self.lanczos_a} ({2 * self.lanczos_a} taps)",
            "area": "area (exact overlap average)",
            "adaptive_area": "area (adaptive average pooling windows)",
            "box": "box",
            "hamming": "hamming-windowed sinc",
            "gaussian": "gaussian (sigma 0.5, radius 1.5)",
            "mitchell": "mitchell-netravali cubic (B=C=1/3)",
        }[self.kernel]
        rounding = {
            "floor": "floor(in * scale)",
            "round": "round(in * scale), ties to even",
            "round_half_up": "floor(in * scale + 0.5)",
            "ceil": "ceil(in * scale)",
        }[self.size_rounding]
        parts = [
            f"kernel {kernel}",
            f"coordinates {self.coordinates}",
            f"borders {self.border}",
            "antialias when shrinking" if self.antialias else "no antialias",
            f"output length {rounding}",
        ]
        if self.recompute_scale:
            parts.append("scale recomputed as out/in")
        if self.coordinate_precision == "float32":
            parts.append("positions in float32 (TensorFlow's arithmetic)")
        elif self.coordinate_precision != "float64":
            parts.append(f"positions and weights in {self.coordinate_precision}'s own arithmetic")
        if self.float_output == "float32":
            parts.append("float results as float32")
        return ", ".join(parts)


def _check_choice(argument: str, value: object, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise unknown_choice(f"Resampling.{argument}", value, choices)


def _plain_numbers(spec: Resampling) -> None:
    """Store NumPy scalars (``np.float32(-0.5)``) as the Python numbers they equal."""
    for name, kind in (("cubic_a", float), ("lanczos_a", int), ("extrapolation_value", float)):
        value = getattr(spec, name)
        if type(value) not in (int, float):
            object.__setattr__(spec, name, kind(value))  # frozen: the one place a field is normalised


_DEFAULT = Resampling()
