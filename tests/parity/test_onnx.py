"""Parity of ``convention="onnx"`` with ONNX Resize (opset 19): the onnx reference and onnxruntime.

Every case is a Resize node built with ``onnx.helper`` and run by both
``onnx.reference.ReferenceEvaluator`` and an onnxruntime ``InferenceSession`` (CPU), and
compared with ``upsamplekit.resize`` under the same attributes. Where the two runtimes
disagree, the convention's choice (documented in ``conventions/onnx.py``) is asserted
exactly and the other runtime is checked within its actual difference, or skipped with
the reason (see ``_reference_departure`` and ``_ort_unsupported``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

# The reference's own coordinate function, to find where its float64 arithmetic sits a few
# ulps off a pixel boundary (private to onnx; pinned by the parity extra's onnx version).
from onnx.reference.ops.op_resize import _compute_x_ori

import upsamplekit
from upsamplekit import Resampling
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError
from upsamplekit.resample.coordinates import source_positions

from tests.conftest import assert_close, random_image

MODES = ("nearest", "linear", "cubic")
COORDINATE_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric",
                    "tf_crop_and_resize")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
POLICIES = ("stretch", "not_larger", "not_smaller")
# Scales whose float32 value is exact, so the reference (which reads float32 scales) sees the value given.
DYADIC_SCALES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)
ONNX_TYPES = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("float64"): TensorProto.DOUBLE,
              np.dtype("uint8"): TensorProto.UINT8, np.dtype("int8"): TensorProto.INT8}

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

ort.set_default_logger_severity(3)


# ------------------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    """One Resize: an input shape, the node's attributes and its sizes/scales/roi/axes."""

    shape: tuple[int, ...]
    mode: str
    attrs: dict[str, Any] = field(default_factory=dict)
    axes: tuple[int, ...] | None = None  # None: the spatial axes, without an ONNX axes attribute
    sizes: tuple[int, ...] | None = None
    scales: tuple[float, ...] | None = None
    roi: tuple[float, ...] | None = None  # starts then ends of the resized axes

    @property
    def resized(self) -> tuple[int, ...]:
        return self.axes if self.axes is not None else tuple(range(2, len(self.shape)))

    @property
    def ctm(self) -> str:
        return str(self.attrs.get("coordinate_transformation_mode", "half_pixel"))

    def with_roi(self, roi: tuple[float, ...] | None) -> Case:
        return replace(self, roi=roi)

    def axis_rois(self) -> list[tuple[float, float] | None]:
        if self.roi is None:
            return [None] * len(self.resized)
        k = len(self.resized)
        return list(zip(self.roi[:k], self.roi[k:]))


def _node_inputs(case: Case) -> dict[str, Any]:
    """sizes/scales/roi as the node takes them: per axis in ``axes``, or over every axis.

    upsamplekit's aspect policy spans the resized axes, which is ONNX's with ``axes`` set to
    them: without ``axes`` ONNX also counts the batch and channel axes (ratio 1).
    """
    policy = case.attrs.get("keep_aspect_ratio_policy", "stretch")
    if case.axes is not None or policy != "stretch":
        return {"sizes": case.sizes, "scales": case.scales, "roi": case.roi, "axes": list(case.resized)}
    rank, k = len(case.shape), len(case.resized)
    sizes = None if case.sizes is None else [*case.shape[:2], *case.sizes]
    scales = None if case.scales is None else [1.0, 1.0, *case.scales]
    roi = None if case.roi is None else [0.0, 0.0, *case.roi[:k], 1.0, 1.0, *case.roi[k:]]
    assert rank == k + 2
    return {"sizes": sizes, "scales": scales, "roi": roi, "axes": None}


def onnx_model(dtype: np.dtype, case: Case, opset: int = 19) -> onnx.ModelProto:
    """A one-node Resize model for ``case`` (Resize-11 takes roi and scales as required inputs)."""
    given = _node_inputs(case)
    initializers = []
    names = ["X", "", "", ""]

    def constant(slot: int, name: str, values: Any, dtype_: type) -> None:
        initializers.append(numpy_helper.from_array(np.asarray(values, dtype_), name))
        names[slot] = name

    if given["roi"] is not None or opset < 13:
        constant(1, "roi", given["roi"] if given["roi"] is not None else [], np.float32)
    if given["scales"] is not None or opset < 13:
        constant(2, "scales", given["scales"] if given["scales"] is not None else [], np.float32)
    if given["sizes"] is not None:
        constant(3, "sizes", given["sizes"], np.int64)
    while names[-1] == "":
        names.pop()
    attrs = dict(case.attrs, mode=case.mode)
    if given["axes"] is not None:
        attrs["axes"] = given["axes"]
    node = helper.make_node("Resize", names, ["Y"], **attrs)
    graph = helper.make_graph(
        [node], "resize", [helper.make_tensor_value_info("X", ONNX_TYPES[dtype], list(case.shape))],
        [helper.make_tensor_value_info("Y", ONNX_TYPES[dtype], None)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def run_reference(x: np.ndarray, case: Case) -> np.ndarray:
    return ReferenceEvaluator(onnx_model(x.dtype, case)).run(None, {"X": x})[0]


def run_onnxruntime(x: np.ndarray, case: Case, opset: int = 19) -> np.ndarray:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(onnx_model(x.dtype, case, opset).SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return session.run(None, {"X": x})[0]


def run_upsamplekit(x: np.ndarray, case: Case) -> np.ndarray:
    return upsamplekit.resize(
        x, size=None if case.sizes is None else list(case.sizes),
        scale_factor=None if case.scales is None else list(case.scales), method=case.mode, convention="onnx",
        axes=None if case.axes is None else list(case.axes), roi=None if case.roi is None else list(case.roi),
        **case.attrs)


@st.composite
def cases(draw: st.DrawFn, modes: tuple[str, ...] = MODES, ranks: tuple[int, ...] = (3, 4, 5),
          coordinate_modes: tuple[str, ...] = COORDINATE_MODES, with_axes: bool = True,
          onnxruntime: bool = False) -> Case:
    """Shapes with odd and length-1 axes, up and down scaling, sizes or scales, every attribute.

    ``onnxruntime=True`` draws mostly what onnxruntime runs (cubic on 4-D inputs,
    exclude_outside only where it applies), so that fewer cases are filtered out.
    """
    mode = draw(st.sampled_from(modes))
    rank = 4 if onnxruntime and mode == "cubic" else draw(st.sampled_from(ranks))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *(draw(st.integers(1, 9)) for _ in range(rank - 2)))
    axes = None
    if with_axes and draw(st.integers(0, 2)) == 0:  # a third resize chosen axes, batch and channel included
        chosen = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
        axes = tuple(chosen)
    ctm = draw(st.sampled_from(coordinate_modes))
    attrs: dict[str, Any] = {"coordinate_transformation_mode": ctm}
    if mode == "nearest":
        attrs["nearest_mode"] = draw(st.sampled_from(NEAREST_MODES))
    else:
        attrs["antialias"] = draw(st.integers(0, 1))
        if mode == "cubic":
            attrs["cubic_coeff_a"] = draw(st.sampled_from((-0.75, -0.5, float(np.float32(-0.6)))))
        if not onnxruntime or mode == "cubic" or attrs["antialias"]:
            attrs["exclude_outside"] = draw(st.integers(0, 1))
    resized = axes if axes is not None else tuple(range(2, rank))
    in_sizes = [shape[a] for a in resized]
    sizes = scales = None
    if draw(st.booleans()):
        sizes = tuple(draw(st.integers(1, 16)) for _ in resized)
        attrs["keep_aspect_ratio_policy"] = draw(st.sampled_from(POLICIES))
    else:
        scales = tuple(draw(st.sampled_from(DYADIC_SCALES)) for _ in resized)
        assume(all(math.floor(n * s) >= 1 for n, s in zip(in_sizes, scales)))
    if sizes is not None:
        assume(min(_planned(Case(shape, mode, attrs, axes, sizes))[0]) >= 1)  # the policy can round to 0
    roi = None
    if ctm == "tf_crop_and_resize":
        whole = draw(st.booleans())
        starts = [0.0 if whole else float(np.float32(draw(st.floats(-0.3, 0.6)))) for _ in resized]
        ends = [1.0 if whole else float(np.float32(draw(st.floats(0.4, 1.3)))) for _ in resized]
        roi = (*starts, *ends)
        attrs["extrapolation_value"] = float(np.float32(draw(st.floats(-2.0, 2.0))))
    elif draw(st.integers(0, 5)) == 0:  # roi is read by tf_crop_and_resize only
        roi = (*(0.5 for _ in resized), *(0.75 for _ in resized))
    case = Case(shape, mode, attrs, axes, sizes, scales, roi)
    for label in (mode, case.ctm, f"rank {rank}", "sizes" if sizes else "scales", "axes" if axes else "spatial",
                  "antialias" if attrs.get("antialias") else "plain"):
        event(label)  # coverage, shown by --hypothesis-show-statistics
    return case


# ------------------------------------------------------------------ where runtimes differ
def _planned(case: Case) -> tuple[list[int], list[float]]:
    """Output lengths and coordinate scales of the resized axes, as the ONNX text defines them."""
    ins = [case.shape[a] for a in case.resized]
    if case.scales is not None:
        return [math.floor(n * s) for n, s in zip(ins, case.scales)], list(case.scales)
    assert case.sizes is not None
    policy = case.attrs.get("keep_aspect_ratio_policy", "stretch")
    if policy == "stretch":
        return list(case.sizes), [o / n for o, n in zip(case.sizes, ins)]
    ratios = [o / n for o, n in zip(case.sizes, ins)]
    common = min(ratios) if policy == "not_larger" else max(ratios)
    return [int(common * n + 0.5) for n in ins], [common] * len(ins)


def _filter_taps(case: Case, scale: float) -> int:
    """How many taps the reference uses on an axis (it centres them with an edge pad of half that)."""
    if case.mode == "nearest":
        return 2
    support = 1 if case.mode == "linear" else 2
    widen = min(scale, 1.0) if case.attrs.get("antialias") else 1.0
    start = math.floor(-support / widen) + 1
    return 2 - 2 * start


def _rounding_index(case: Case, x: np.ndarray) -> np.ndarray:
    mode = case.attrs.get("nearest_mode", "round_prefer_floor")
    return {"floor": np.floor, "ceil": np.ceil, "round_prefer_floor": lambda v: np.ceil(v - 0.5),
            "round_prefer_ceil": lambda v: np.floor(v + 0.5)}[mode](x)


def _reference_ulp_mask(case: Case) -> list[np.ndarray]:
    """Per resized axis, the outputs where the reference's arithmetic, a few ulps off upsamplekit's,
    selects other pixels: its edge-pad shift ``x + pad`` rounds a position just above an integer
    down onto it, and its taps move one pixel left of its weights (an onnx reference artefact),
    or the two positions fall on either side of a rounding or extrapolation boundary."""
    outs, scales = _planned(case)
    tolerance = 1e-6 if case.ctm == "tf_crop_and_resize" else 1e-9  # the reference's roi arithmetic is float32
    masks = []
    for axis, out, scale, roi in zip(case.resized, outs, scales, case.axis_rois()):
        n = case.shape[axis]
        reference_roi = None if roi is None else [np.float32(roi[0]), np.float32(roi[1])]
        x_ref, _ = _compute_x_ori(case.ctm, np.arange(out, dtype=np.float64), scale, n, scale * n, out,
                                  reference_roi if case.ctm == "tf_crop_and_resize" else None)
        x_uk = source_positions(case.ctm, n, out, scale, roi)
        pad = math.ceil(_filter_taps(case, scale) / 2)
        shifted = (x_ref != np.floor(x_ref)) & (x_ref + pad == np.floor(x_ref + pad))
        near = np.abs(x_ref - x_uk) < tolerance
        flips = near & (_rounding_index(case, x_ref) != _rounding_index(case, x_uk)) if case.mode == "nearest" \
            else np.zeros(out, bool)
        edge = near & (((x_ref < 0) | (x_ref > n - 1)) != ((x_uk < 0) | (x_uk > n - 1))) \
            if case.ctm == "tf_crop_and_resize" else np.zeros(out, bool)
        masks.append(shifted | flips | edge)
    return masks


def _reference_departure(case: Case) -> str | None:
    """Why the convention departs from the reference on this case (it follows onnxruntime there), or None."""
    outs, scales = _planned(case)
    ins = [case.shape[a] for a in case.resized]
    if case.ctm in ("align_corners", "tf_crop_and_resize", "pytorch_half_pixel"):
        if any(n * s != out for n, s, out in zip(ins, scales, outs)):
            return (f"{case.ctm} where in * scale is not the output length (a scale, or the aspect policy's common "
                    "scale): the reference uses the fractional in * scale, the text and onnxruntime the length")
    if case.ctm == "pytorch_half_pixel" and 1 in outs and (case.mode == "cubic" or case.attrs.get("antialias")):
        return "pytorch_half_pixel with an output length of 1: the reference samples -0.5, the text and onnxruntime 0"
    return None


REFERENCE_WHY = ("both compute in float64, except that the reference evaluates its cubic coefficients in float32 "
                 "(cubic_coeff_a is a float32 attribute) and start * (in - 1) of tf_crop_and_resize in float32")


def _reference_atol(case: Case) -> float:
    """1e-12 for float64 against float64; 1e-5 where the reference has float32 steps (float32
    coefficients are off by up to ~1e-6 of the value per resized axis; data in [0, 1))."""
    return 1e-5 if case.mode == "cubic" or case.ctm == "tf_crop_and_resize" else 1e-12


def _expand_axes_mask(shape: tuple[int, ...], resized: tuple[int, ...], masks: list[np.ndarray]) -> np.ndarray:
    """Output elements to leave out: those whose index on any resized axis is flagged."""
    out = np.zeros(shape, bool)
    for axis, mask in zip(resized, masks):
        view = [1] * len(shape)
        view[axis] = shape[axis]
        out |= mask.reshape(view)
    return out


def _ort_unsupported(case: Case, dtype: np.dtype) -> str | None:
    """onnxruntime's CPU Resize limits (upsamplebase.h ScalesValidation and the kernel registrations)."""
    if dtype == np.float64:
        return "onnxruntime has no float64 Resize kernel on CPU"
    _, scales = _planned(case)
    full = [1.0] * len(case.shape)
    for axis, scale in zip(case.resized, scales):
        full[axis] = float(np.float32(scale))
    rank, aa = len(case.shape), bool(case.attrs.get("antialias"))
    if case.attrs.get("exclude_outside") and not (case.mode == "cubic" or case.mode == "linear" and aa):
        return "onnxruntime accepts exclude_outside=1 only for cubic and antialiased linear"
    if case.mode == "linear":
        ok = rank == 3 or full[0] == full[1] == 1 or rank == 4 and full[0] == full[3] == 1
        return None if ok else f"onnxruntime's linear mode does not resize these axes (scales {full})"
    if case.mode == "cubic":
        if rank != 4:
            return "onnxruntime runs cubic on 4-D inputs only"
        if dtype.kind in "iu" and not aa:
            return "onnxruntime's cubic kernel without antialias has no integer implementation"
        ok = full[0] == full[1] == 1 or full[0] == full[3] == 1 and (aa or full[1] >= 1 and full[2] >= 1)
        return None if ok else f"onnxruntime's cubic mode does not resize these axes (scales {full})"
    return None


def _ort_float32_unsafe(case: Case, n: int, scale: float) -> bool:
    """Whether onnxruntime's float32 coordinate arithmetic can differ from exact on this axis."""
    if case.ctm == "align_corners":
        return False  # i * (in - 1) / (out - 1): small integers, one correctly rounded division
    power_of_two = math.frexp(np.float32(scale))[0] == 0.5  # dividing by it is exact
    if case.ctm in ("half_pixel", "pytorch_half_pixel", "asymmetric", "tf_half_pixel_for_nn"):
        return not power_of_two
    if case.ctm == "half_pixel_symmetric":  # half_pixel when in * scale is a whole length
        return not (power_of_two and n * scale == math.floor(n * scale))
    return True


def _ort_boundary_mask(case: Case) -> list[np.ndarray]:
    """Per resized axis, nearest outputs whose exact position lies on a rounding boundary where
    onnxruntime's float32 arithmetic can land either side (1e-4 covers float32 error at these lengths)."""
    outs, scales = _planned(case)
    masks = []
    for axis, out, scale, roi in zip(case.resized, outs, scales, case.axis_rois()):
        n = case.shape[axis]
        x = source_positions(case.ctm, n, out, scale, roi)
        if case.mode == "nearest" and _ort_float32_unsafe(case, n, scale):
            mode = case.attrs.get("nearest_mode", "round_prefer_floor")
            offset = 0.0 if mode in ("floor", "ceil") else 0.5
            masks.append(np.abs((x - offset) - np.round(x - offset)) < 1e-4)
        elif case.ctm == "tf_crop_and_resize":
            masks.append((np.abs(x) < 1e-4) | (np.abs(x - (n - 1)) < 1e-4))
        else:
            masks.append(np.zeros(out, bool))
    return masks


def _ort_float32_lengths(case: Case) -> list[int]:
    """onnxruntime's output lengths: ``int(float32(scale) * in)`` in float32, and the aspect
    policy's ``round(float32 scale * in)``."""
    ins = [case.shape[a] for a in case.resized]
    f32 = np.float32
    if case.scales is not None:
        return [int(f32(s) * f32(n)) for n, s in zip(ins, case.scales)]
    assert case.sizes is not None
    policy = case.attrs.get("keep_aspect_ratio_policy", "stretch")
    if policy == "stretch":
        return list(case.sizes)
    ratios = [f32(o) / f32(n) for o, n in zip(case.sizes, ins)]
    common = min(ratios) if policy == "not_larger" else max(ratios)
    return [int(np.sign(v) * np.floor(np.abs(v) + f32(0.5))) for v in (common * f32(n) for n in ins)]


def _as_onnxruntime_computes(case: Case) -> Case | None:
    """The case onnxruntime actually computes: it copies an axis whose output length equals its
    input length, ignoring that axis's scale and roi, when every axis keeps its length, under
    antialias, and under tf_crop_and_resize (None where that is not a case upsamplekit can state:
    the aspect policy's common scale on such an axis)."""
    outs, scales = _planned(case)
    kept = [out == case.shape[axis] for axis, out in zip(case.resized, outs)]
    if not any(kept) or not (all(kept) or case.attrs.get("antialias") or case.ctm == "tf_crop_and_resize"):
        return case
    if case.sizes is not None:
        if any(k and s != 1.0 for k, s in zip(kept, scales)):
            return None
        new_scales = None
    else:
        new_scales = tuple(1.0 if k else s for k, s in zip(kept, scales))
    roi = case.roi
    if roi is not None:
        n = len(case.resized)
        roi = (*(0.0 if k else r for k, r in zip(kept, roi[:n])), *(1.0 if k else r for k, r in zip(kept, roi[n:])))
    return replace(case, scales=new_scales, roi=roi)


# ------------------------------------------------------------------------ float parity
@settings(SETTINGS, max_examples=200)
@given(case=cases())
def test_matches_onnx_reference(case: Case) -> None:
    reason = _reference_departure(case)
    assume(reason is None)
    x = random_image(np.random.default_rng(abs(hash(case.shape)) % 2**32), case.shape, "float64")
    expected = run_reference(x, case)
    actual = run_upsamplekit(x, case)
    assert actual.shape == expected.shape, "output lengths: floor(in * scale), or the aspect policy's rounding"
    keep = ~_expand_axes_mask(actual.shape, case.resized, _reference_ulp_mask(case))
    assert_close(actual[keep], expected[keep], atol=_reference_atol(case), why=REFERENCE_WHY)


@SETTINGS
@given(case=cases(onnxruntime=True))
def test_matches_onnxruntime(case: Case) -> None:
    reason = _ort_unsupported(case, np.dtype("float32"))
    assume(reason is None)
    computed = _as_onnxruntime_computes(case)
    assume(computed is not None)
    x = random_image(np.random.default_rng(abs(hash(case.shape)) % 2**32), case.shape, "float32")
    expected = run_onnxruntime(x, case)
    actual = run_upsamplekit(x, computed)
    outs, _ = _planned(case)
    if list(expected.shape[a] for a in case.resized) != outs:
        # onnxruntime multiplies in float32: only its float32 lengths may differ from floor(in * scale).
        assert [expected.shape[a] for a in case.resized] == _ort_float32_lengths(case)
        assert [actual.shape[a] for a in case.resized] == outs
        return
    keep = ~_expand_axes_mask(actual.shape, case.resized, _ort_boundary_mask(case))
    assert_close(actual[keep], expected[keep], atol=2e-5,
                 why="onnxruntime computes coordinates and weights in float32 (data in [0, 1))")


def test_onnxruntime_deviations_are_what_the_docstring_says() -> None:
    """The cases the parity tests route around, shown on fixed inputs."""
    x = random_image(np.random.default_rng(1), (1, 1, 4, 5), "float32")
    # roi ignored on an axis that keeps its length.
    case = Case(x.shape, "linear", {"coordinate_transformation_mode": "tf_crop_and_resize"}, sizes=(4, 7),
                roi=(0.2, 0.1, 0.8, 0.9))
    ort_result = run_onnxruntime(x, case)
    assert not np.allclose(ort_result, run_upsamplekit(x, case), atol=1e-3)
    assert_close(ort_result, run_upsamplekit(x, _as_onnxruntime_computes(case)), atol=1e-5, why="float32 runtime")
    assert_close(run_reference(x.astype(np.float64), case), run_upsamplekit(x.astype(np.float64), case),
                 atol=1e-6, why="float32 roi arithmetic in the reference")
    # pytorch_half_pixel, output length 1: onnxruntime samples x = 0, the reference x = -0.5.
    case = Case(x.shape, "cubic", {"coordinate_transformation_mode": "pytorch_half_pixel"}, sizes=(1, 5))
    assert_close(run_onnxruntime(x, case), run_upsamplekit(x, case), atol=1e-5, why="float32 runtime")
    assert not np.allclose(run_reference(x, case), run_upsamplekit(x, case), atol=1e-3)
    # Lengths kept: onnxruntime copies the whole tensor, and under antialias any such axis.
    case = Case(x.shape, "linear", {"coordinate_transformation_mode": "asymmetric"}, scales=(1.2, 1.0))
    np.testing.assert_array_equal(run_onnxruntime(x, case), x)
    assert not np.allclose(run_upsamplekit(x, case), x, atol=1e-3)
    assert_close(run_reference(x, case), run_upsamplekit(x, case), atol=1e-6, why="float32 input")
    case = Case(x.shape, "linear", {"antialias": 1}, scales=(1.2, 0.5))
    assert_close(run_onnxruntime(x, case), run_upsamplekit(x, replace(case, scales=(1.0, 0.5))), atol=1e-5,
                 why="float32 runtime")
    assert_close(run_reference(x, case), run_upsamplekit(x, case), atol=1e-6, why="float32 input")
    # No float64 kernel.
    with pytest.raises(Exception, match="NOT_IMPLEMENTED"):
        run_onnxruntime(x.astype(np.float64), Case(x.shape, "linear", sizes=(3, 3)))
    # Output length from scales: onnxruntime's float32 product; the reference's float64 on float32(0.7).
    ramp = np.zeros((1, 1, 10), np.float32)
    case = Case(ramp.shape, "nearest", scales=(0.7,))
    assert run_onnxruntime(ramp, case).shape[-1] == run_upsamplekit(ramp, case).shape[-1] == 7
    assert run_reference(ramp, case).shape[-1] == 6 == math.floor(float(np.float32(0.7)) * 10)


@pytest.mark.parametrize("nearest_mode", NEAREST_MODES)
@pytest.mark.parametrize("ctm", ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"])
def test_nearest_ties_match_both_runtimes_exactly(ctm: str, nearest_mode: str) -> None:
    """Power-of-two scales put positions exactly on ties, where every nearest_mode is exact in float32."""
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 8, 9):
        for scale in (0.25, 0.5, 2.0, 4.0):
            if math.floor(n * scale) < 1:
                continue
            case = Case((1, 2, n), "nearest", {"coordinate_transformation_mode": ctm, "nearest_mode": nearest_mode},
                        scales=(scale,))
            x = random_image(rng, case.shape, "float32")
            actual = run_upsamplekit(x, case)
            np.testing.assert_array_equal(actual, run_onnxruntime(x, case))
            if _reference_departure(case) is None:
                np.testing.assert_array_equal(actual, run_reference(x, case))


# ------------------------------------------------------------------------------- axes
@settings(SETTINGS, max_examples=40)
@given(case=cases(with_axes=False), data=st.data())
def test_negative_and_reordered_axes(case: Case, data: st.DataObject) -> None:
    """axes=[-1, -2] is axes=[rank-1, rank-2]; upsamplekit takes sizes/scales/roi per entry of axes."""
    rank = len(case.shape)
    order = data.draw(st.permutations(case.resized))
    position = {a: j for j, a in enumerate(case.resized)}
    pick = [position[a] for a in order]

    def per_axis(values: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        return None if values is None else tuple(values[j] for j in pick)

    k = len(pick)
    roi = None if case.roi is None else (*(case.roi[j] for j in pick), *(case.roi[k + j] for j in pick))
    reordered = replace(case, axes=tuple(order), sizes=per_axis(case.sizes), scales=per_axis(case.scales), roi=roi)
    negative = replace(reordered, axes=tuple(a - rank for a in order))
    x = random_image(np.random.default_rng(5), case.shape, "float64")
    expected = run_upsamplekit(x, case)
    assert_close(run_upsamplekit(x, negative), expected, atol=1e-12, why="the same resize, axes renamed")
    if _reference_departure(reordered) is None:
        keep = ~_expand_axes_mask(expected.shape, case.resized, _reference_ulp_mask(case))
        assert_close(expected[keep], run_reference(x, reordered)[keep], atol=_reference_atol(case), why=REFERENCE_WHY)


# ---------------------------------------------------------------------- output lengths
@settings(SETTINGS, max_examples=200)
@given(n=st.integers(1, 300), scale=st.floats(0.05, 8.0), whole=st.booleans())
def test_output_length_from_scales(n: int, scale: float, whole: bool) -> None:
    """floor(in * scale), roi ignored; the reference and shape inference see float32(scale)."""
    scale = float(np.float32(scale))
    assume(math.floor(n * scale) >= 1)
    roi = (0.0, 1.0) if whole else (0.25, 0.5)
    case = Case((1, 1, n), "linear", {"coordinate_transformation_mode": "tf_crop_and_resize"}, scales=(scale,),
                roi=roi)
    x = np.zeros(case.shape, np.float32)
    length = run_upsamplekit(x, case).shape[-1]
    assert length == math.floor(n * scale)
    assert run_reference(x, case).shape[-1] == length
    inferred = onnx.shape_inference.infer_shapes(onnx_model(x.dtype, case))
    assert inferred.graph.output[0].type.tensor_type.shape.dim[2].dim_value == length
    assert run_onnxruntime(x, case).shape[-1] in (length, _ort_float32_lengths(case)[0])


@settings(SETTINGS, max_examples=100)
@given(ins=st.lists(st.integers(1, 25), min_size=2, max_size=3), outs=st.lists(st.integers(1, 30), min_size=3,
       max_size=3), policy=st.sampled_from(POLICIES[1:]))
def test_keep_aspect_ratio_policy_lengths(ins: list[int], outs: list[int], policy: str) -> None:
    """s = min or max of sizes / in; out = floor(s * in + 0.5) (the reference's round_int)."""
    case = Case((1, 1, *ins), "nearest", {"keep_aspect_ratio_policy": policy}, sizes=tuple(outs[: len(ins)]))
    x = np.zeros(case.shape, np.float32)
    ratios = [o / n for o, n in zip(case.sizes or (), ins)]
    common = min(ratios) if policy == "not_larger" else max(ratios)
    lengths = [math.floor(common * n + 0.5) for n in ins]
    if min(lengths) < 1:  # ONNX would produce an empty axis (its reference fails on it)
        with pytest.raises(InvalidArgumentError, match="gives an output length of 0; it must be at least 1"):
            run_upsamplekit(x, case)
        return
    actual = run_upsamplekit(x, case).shape[2:]
    assert list(actual) == lengths
    assert run_reference(x, case).shape[2:] == actual
    ort_lengths = list(run_onnxruntime(x, case).shape[2:])
    assert ort_lengths in (list(actual), _ort_float32_lengths(case)), "onnxruntime rounds in float32"


# --------------------------------------------------------------------------- dtypes
@settings(SETTINGS, max_examples=60)
@given(case=cases(), dtype=st.sampled_from(["uint8", "int8"]))
def test_integer_images_match_reference(case: Case, dtype: str) -> None:
    """The reference rounds its float64 result half to even and saturates: so does upsamplekit."""
    assume(_reference_departure(case) is None)
    if "extrapolation_value" in case.attrs:  # an integral extrapolation value, within the dtype
        value = float(round(case.attrs["extrapolation_value"] * 50))
        case = replace(case, attrs={**case.attrs, "extrapolation_value": value})
    x = random_image(np.random.default_rng(7), case.shape, dtype)
    actual = run_upsamplekit(x, case)
    assert actual.dtype == x.dtype
    expected = run_reference(x, case)
    exact = run_upsamplekit(x.astype(np.float64), case)
    # Values half-way between integers in real arithmetic (weights in sixths, say) land a few ulps
    # either side in the two computations (they resize the axes in different orders), and the
    # reference's float32 steps (below) move values by up to 1e-4 on this 0..255 scale.
    tie = np.abs(np.abs(exact - np.floor(exact)) - 0.5) < (1e-9 if _reference_atol(case) < 1e-9 else 1e-3)
    keep = ~_expand_axes_mask(actual.shape, case.resized, _reference_ulp_mask(case))
    np.testing.assert_array_equal(actual[keep & ~tie], expected[keep & ~tie])
    assert_close(actual[keep & tie], expected[keep & tie], atol=1, why="a half-way value rounds either way")


@settings(SETTINGS, max_examples=80)
@given(case=cases(coordinate_modes=("half_pixel", "align_corners", "asymmetric"), onnxruntime=True),
       dtype=st.sampled_from(["uint8", "int8"]))
def test_integer_images_against_onnxruntime(case: Case, dtype: str) -> None:
    """onnxruntime's integer rounding: nearest copies; linear truncates toward zero (within 1);
    antialiased, it rounds half up in fixed point after each pass (within 0.5 per pass)."""
    assume(_ort_unsupported(case, np.dtype(dtype)) is None)
    computed = _as_onnxruntime_computes(case)
    assume(computed is not None)
    antialias = bool(case.attrs.get("antialias"))
    outs, _ = _planned(case)
    passes = sum(case.shape[a] != out for a, out in zip(case.resized, outs))
    # Skipped: int8 antialiasing clamps results to [0, 255] (negative values come out as 0), and
    # antialiased cubic clips its overshoot to the integer range between passes (off by up to ~40).
    assume(not (antialias and dtype == "int8"))
    assume(not (case.mode == "cubic" and passes > 1))
    event(f"compared {case.mode}{' antialias' if antialias else ''} {dtype}")
    x = random_image(np.random.default_rng(11), case.shape, dtype)
    expected = run_onnxruntime(x, case).astype(np.float64)
    case = computed
    actual = run_upsamplekit(x, case).astype(np.float64)
    keep = ~_expand_axes_mask(actual.shape, case.resized, _ort_boundary_mask(case))
    if case.mode == "nearest":
        np.testing.assert_array_equal(actual[keep], expected[keep])
        return
    info = np.iinfo(dtype)
    exact = np.clip(run_upsamplekit(x.astype(np.float64), case), info.min, info.max)
    if not antialias:  # the rule: truncation of the exact value, wherever that is clear of an integer
        clear = keep & (np.abs(exact - np.round(exact)) > 1e-3)
        np.testing.assert_array_equal(expected[clear], np.trunc(exact[clear]))
        assert_close(actual[keep], expected[keep], atol=1, why="onnxruntime truncates, upsamplekit rounds")
        return
    if passes == 1:  # the rule: half up, wherever the exact value is clear of a tie
        clear = keep & (np.abs(np.abs(exact - np.floor(exact)) - 0.5) > 1e-3)
        np.testing.assert_array_equal(expected[clear], np.floor(exact[clear] + 0.5))
    assert_close(actual[keep], expected[keep], atol=math.floor(0.5 * (passes + 1)),
                 why="onnxruntime rounds to integers after each of its passes")


@settings(SETTINGS, max_examples=30)
@given(case=cases(modes=("linear", "cubic"), ranks=(4,), with_axes=False))
def test_float_dtypes_are_kept(case: Case) -> None:
    """float64 in, float64 out (checked against the reference above; onnxruntime has no float64 kernel)."""
    assume(_reference_departure(case) is None)
    x = random_image(np.random.default_rng(13), case.shape, "float64")
    actual = run_upsamplekit(x, case)
    assert actual.dtype == np.float64
    single = run_upsamplekit(x.astype(np.float32), case)
    assert single.dtype == np.float32
    assert_close(single, actual, atol=1e-5, why="float32 storage of the same computation")


# ---------------------------------------------------------------- tf_half_pixel_for_nn
@pytest.mark.parametrize("nearest_mode", NEAREST_MODES)
def test_tf_half_pixel_for_nn_against_onnxruntime_opset11(nearest_mode: str) -> None:
    """Opset 11 only (removed in 13); the onnx reference never implemented it, onnxruntime runs it."""
    rng = np.random.default_rng(17)
    for n in (1, 3, 4, 7, 9):
        for sizes, scales in (((5,), None), ((2,), None), ((13,), None), (None, (2.0,)), (None, (0.5,)),
                              (None, (3.0,))):
            if scales is not None and math.floor(n * scales[0]) < 1:
                continue
            # One spatial axis: onnxruntime copies axes whose scale is 1, where the formula would shift
            # round_prefer_ceil and ceil by a pixel ((i + 0.5) / 1 rounds up).
            case = Case((2, 3, n), "nearest", {"coordinate_transformation_mode": "tf_half_pixel_for_nn",
                                               "nearest_mode": nearest_mode}, sizes=sizes, scales=scales)
            x = random_image(rng, case.shape, "float32")
            expected = run_onnxruntime(x, case, opset=11)
            actual = run_upsamplekit(x, case)
            keep = ~_expand_axes_mask(actual.shape, case.resized, _ort_boundary_mask(case))
            np.testing.assert_array_equal(actual[keep], expected[keep])
    with pytest.raises(Exception, match="tf_half_pixel_for_nn"):
        run_reference(np.zeros((1, 1, 3), np.float32),
                      Case((1, 1, 3), "nearest", {"coordinate_transformation_mode": "tf_half_pixel_for_nn"},
                           sizes=(5,)))


# --------------------------------------------------------------------- to/from onnx
@settings(SETTINGS, max_examples=80)
@given(case=cases())
def test_from_onnx_to_onnx_round_trip(case: Case) -> None:
    spec = Resampling.preset("onnx", case.mode, **case.attrs)
    attrs = spec.to_onnx()
    assert Resampling.from_onnx(attrs) == spec
    # As stored in a NodeProto: strings come back as bytes.
    node = helper.make_node("Resize", ["X"], ["Y"], **attrs)
    stored = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert any(isinstance(v, bytes) for v in stored.values())
    assert Resampling.from_onnx(stored) == spec
    x = random_image(np.random.default_rng(19), case.shape, "float64")
    assert_close(upsamplekit.resize(x, size=case.sizes, scale_factor=case.scales, spec=spec, axes=case.axes,
                                    roi=case.roi), run_upsamplekit(x, case), atol=0, why="the same spec")


EXPORTED = [
    ("torch", "bilinear", {}),
    ("torch", "nearest-exact", {}),
    ("torch", "nearest", {}),
    ("torch", "bicubic", {"align_corners": True}),
    ("torch", "bicubic", {}),
    ("torch", "bilinear", {"align_corners": True}),
    ("torch", "bilinear", {"antialias": True}),
    ("torch", "bicubic", {"antialias": True}),
    ("tf", "bilinear", {}),
    ("tf", "nearest", {}),
    ("tf", "bicubic", {"antialias": True}),
    ("tf1", "nearest", {"half_pixel_centers": True}),
    ("tf1", "bilinear", {"align_corners": True}),
    ("jax", "linear", {}),
    ("pillow", "bicubic", {}),
    ("opencv", "bilinear", {}),
]


@pytest.mark.parametrize(("convention", "method", "options"), EXPORTED)
def test_exported_spec_runs_in_onnxruntime_as_upsamplekit(convention: str, method: str, options: dict[str, Any]
                                                          ) -> None:
    """A spec from another convention, exported with to_onnx, computes in onnxruntime what resize(spec=) does."""
    spec = Resampling.preset(convention, method, **options)
    attrs = spec.to_onnx()
    rng = np.random.default_rng(23)
    for shape, size, scale in (((1, 2, 5, 7), (9, 4), None), ((2, 1, 8, 6), (3, 12), None),
                               ((1, 1, 1, 5), (4, 1), None), ((1, 3, 6, 9), None, (2.0, 0.5)),
                               ((1, 1, 7, 4), None, (1.5, 3.0))):
        if scale is not None and (spec.recompute_scale or spec.size_rounding != "floor"):
            continue  # the coordinate scale is out/in: feed ONNX sizes (covered by the size cases)
        case = Case(shape, attrs["mode"], {k: v for k, v in attrs.items() if k != "mode"}, sizes=size, scales=scale)
        x = random_image(rng, shape, "float32")
        actual = upsamplekit.resize(x, size=size, scale_factor=scale, spec=spec)
        keep = ~_expand_axes_mask(actual.shape, case.resized, _ort_boundary_mask(case))
        assert_close(actual[keep], run_onnxruntime(x, case)[keep], atol=2e-5,
                     why="onnxruntime computes in float32")


@pytest.mark.parametrize(("convention", "method", "options", "reason"), [
    ("torch", "area", {}, "kernel='adaptive_area'"),
    ("pillow", "lanczos", {}, "kernel='lanczos'"),
    ("torch", "bilinear", {"antialias": True, "align_corners": True}, "pytorch_antialias_align_corners"),
    ("tf", "lanczos3", {}, "kernel='lanczos'"),
    ("tf", "bicubic", {}, "kernel='cubic_tf_table'"),
    ("tf1", "bilinear", {"half_pixel_centers": True, "align_corners": False}, None),
])
def test_to_onnx_refuses_what_onnx_cannot_express(convention: str, method: str, options: dict[str, Any],
                                                  reason: str | None) -> None:
    spec = Resampling.preset(convention, method, **options)
    if reason is None:
        assert Resampling.from_onnx(spec.to_onnx()).kernel == spec.kernel
        return
    with pytest.raises(InvalidArgumentError, match=f"no ONNX Resize equivalent: .*{reason}"):
        spec.to_onnx()
    with pytest.raises(InvalidArgumentError, match="border='zero'"):
        spec.replace(kernel="linear", coordinates="half_pixel", antialias=False, border="zero").to_onnx()


def test_tf_half_pixel_for_nn_exports_as_its_half_pixel_equivalent() -> None:
    rng = np.random.default_rng(29)
    for nearest_mode in ("floor", "round_prefer_floor"):
        spec = Resampling.from_onnx({"coordinate_transformation_mode": "tf_half_pixel_for_nn",
                                     "nearest_mode": nearest_mode})
        exported = Resampling.from_onnx(spec.to_onnx())
        assert exported.coordinates == "half_pixel"
        for n, out in ((5, 7), (7, 3), (4, 8), (9, 2), (1, 4)):
            x = random_image(rng, (1, 1, n), "float64")
            np.testing.assert_array_equal(upsamplekit.resize(x, size=out, spec=spec),
                                          upsamplekit.resize(x, size=out, spec=exported))
    with pytest.raises(InvalidArgumentError, match="tf_half_pixel_for_nn"):
        Resampling.from_onnx({"coordinate_transformation_mode": "tf_half_pixel_for_nn", "nearest_mode": "ceil"}
                             ).to_onnx()


# ---------------------------------------------------------------------------- errors
X4 = torch.zeros(1, 2, 4, 5)


def _resize(**kwargs: Any) -> Any:
    kwargs.setdefault("size", (3, 3))
    return upsamplekit.resize(X4, method=kwargs.pop("method", "linear"), convention="onnx", **kwargs)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"coordinate_transform_mode": "align_corners"}, InvalidArgumentError,
     "coordinate_transform_mode=.* is not an option of convention 'onnx'.*"
     "did you mean 'coordinate_transformation_mode'"),
    ({"exclude_outsides": 1}, InvalidArgumentError, "did you mean 'exclude_outside'"),
    ({"axis": [2]}, InvalidArgumentError, "did you mean 'axes'"),
    ({"coordinate_transformation_mode": "half_pixels"}, InvalidArgumentError,
     "coordinate_transformation_mode must be one of .* but got 'half_pixels'; did you mean 'half_pixel'"),
    ({"nearest_mode": "round_prefer_flor", "method": "nearest"}, InvalidArgumentError,
     "did you mean 'round_prefer_floor'"),
    ({"keep_aspect_ratio_policy": "not_large"}, InvalidArgumentError, "did you mean 'not_larger'"),
    ({"antialias": 1, "method": "nearest"}, InvalidArgumentError, "antialias=1 does not apply to mode 'nearest'"),
    ({"exclude_outside": 1, "method": "nearest"}, InvalidArgumentError,
     "exclude_outside=1 does not apply to mode 'nearest'"),
    ({"antialias": 2}, InvalidTypeError, "antialias must be True or False, but got 2"),
    ({"cubic_coeff_a": "soft", "method": "cubic"}, InvalidTypeError, "cubic_coeff_a must be a number, but got 'soft'"),
    ({"coordinate_transformation_mode": "tf_crop_and_resize", "roi": [0.0, 0.1, 1.0]}, InvalidArgumentError,
     r"roi must hold 4 numbers \(starts then ends of the 2 resized axes\), but got 3"),
    ({"axes": [2, 3], "roi": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]}, InvalidArgumentError,
     "roi must hold 4 numbers"),
    ({"axes": [2, 4]}, InvalidArgumentError, r"axes must hold integers in \[-4, 3\], but got \[2, 4\]"),
    ({"axes": [-5]}, InvalidArgumentError, r"axes must hold integers in \[-4, 3\]"),
    ({"axes": [2, -2]}, InvalidArgumentError, r"axes must not repeat an axis, but got \[2, -2\]"),
    ({"axes": [3], "size": (3, 3)}, InvalidArgumentError, r"size must have one entry per resized axis \(1\)"),
    ({"size": None, "scale_factor": 2.0, "keep_aspect_ratio_policy": "not_larger"}, InvalidArgumentError,
     "keep_aspect_ratio_policy='not_larger' needs size="),
    ({"align_corners": True}, InvalidArgumentError, "align_corners=True is not an option of convention 'onnx'"),
])
def test_bad_input_is_a_clear_error(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        _resize(**kwargs)


@pytest.mark.parametrize(("attrs", "error", "match"), [
    ({"mode": "linear", "coordinate_transfomation_mode": "asymmetric"}, InvalidArgumentError,
     "ONNX Resize attribute must be one of .* but got 'coordinate_transfomation_mode'; "
     "did you mean 'coordinate_transformation_mode'"),
    ({"mode": "bilinear"}, InvalidArgumentError,
     "mode must be one of 'nearest', 'linear', 'cubic', but got 'bilinear'"),
    ({"mode": "nearest", "antialias": 1}, InvalidArgumentError, "antialias=1 does not apply to mode 'nearest'"),
    ([("mode", "linear")], InvalidTypeError, "attrs must be a mapping"),
])
def test_from_onnx_rejects_bad_attributes(attrs: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Resampling.from_onnx(attrs)


def test_call_inputs_are_not_spec_options() -> None:
    with pytest.raises(InvalidArgumentError, match="axes=.* is an input of each call, not part of the spec"):
        Resampling.preset("onnx", "linear", axes=[2])
    with pytest.raises(InvalidArgumentError, match="roi=.* is an ONNX Resize input; use it with convention='onnx'"):
        upsamplekit.resize(X4, size=3, convention="torch", roi=[0.0, 0.0, 1.0, 1.0])


def test_reference_behaviour_behind_the_nearest_exclude_outside_error() -> None:
    """The reference drops an outside nearest pixel and returns 0; onnxruntime refuses the model."""
    x = np.full((1, 1, 4), 5.0)
    case = Case(x.shape, "nearest", {"coordinate_transformation_mode": "half_pixel", "nearest_mode": "floor",
                                     "exclude_outside": 1}, sizes=(8,))
    assert run_reference(x, case)[0, 0, 0] == 0.0
    with pytest.raises(Exception, match="exclude_outside"):
        run_onnxruntime(x.astype(np.float32), case)
