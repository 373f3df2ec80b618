"""Every knob on which two calls differ, in words, and how much each one matters.

The knobs are the five of :class:`~upsamplekit.Resampling` (coordinate mode, kernel and its
``a``, borders, antialias, output-size rule) plus how the call is written (the size it asks
for, the tensor layout, the order of sizes, dtype handling) and the framework's own float
arithmetic. Knobs that cannot change the result are left out (the cubic ``a`` of a linear
kernel, the border rule of nearest sampling, linear interpolation's ``renormalize`` vs
``replicate``, which agree). For each numeric knob, :func:`differing_knobs` also runs B with
that knob set as in A (everything else unchanged) and reports the largest difference left,
so the knob that accounts for the difference stands out.

>>> from upsamplekit.explainer.vocab import parse_call
>>> a = parse_call("torch: nn.Upsample(scale_factor=2, mode='bicubic')")
>>> b = parse_call("tf: tf.image.resize(x, (16, 16), method='bicubic')")
>>> [k.name for k in differing_knobs(a, b)]
['output size', 'cubic a', 'borders', 'layout', 'dtype handling', 'arithmetic']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import UpsampleError
from ..resample import Resampling
from .calls import Call, Request, Transposed, run_call

__all__ = ["Knob", "differing_knobs", "kernel_words", "coordinate_words"]


@dataclass(frozen=True)
class Knob:
    """One knob that differs: its ``name``, the setting in A and in B (short), a sentence,
    and ``aligned_max_diff``: the largest difference left when B takes A's setting of this knob
    alone (None when that cannot be run: interface knobs, or no spec)."""

    name: str
    a: str
    b: str
    words: str
    aligned_max_diff: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "a": self.a, "b": self.b, "words": self.words,
                "aligned_max_diff": self.aligned_max_diff}


_COORDINATES = {
    "half_pixel": "pixel centres: output i samples x = (i + 0.5) / s - 0.5",
    "pytorch_half_pixel": "pixel centres, x = (i + 0.5) / s - 0.5 (0 when the output has length 1)",
    "align_corners": "corners aligned: x = i * (in - 1) / (out - 1), the corner pixels are kept and the grid "
                     "is stretched",
    "asymmetric": "x = i / s: output 0 sits on input 0 and the grid leans towards the end (half a pixel off "
                  "the centres)",
    "half_pixel_symmetric": "pixel centres with the rounding of the length spread over both ends",
    "tf_half_pixel_for_nn": "x = (i + 0.5) / s",
    "pytorch_antialias_align_corners": "pixel centres with the corner-to-corner scale (torch's antialias with "
                                       "align_corners=True)",
    "opencv_area": "OpenCV's INTER_AREA when enlarging (floor(i / s) and the covered fraction)",
}
_NEAREST_RULES = {
    ("asymmetric", "floor"): ("floor(i * in / out)", "the legacy rule: shifted half a pixel towards the start"),
    ("half_pixel", "round_prefer_ceil"): ("floor((i + 0.5) * in / out)", "the pixel whose centre is nearest"),
    ("tf_half_pixel_for_nn", "floor"): ("floor((i + 0.5) * in / out)", "the pixel whose centre is nearest"),
    ("half_pixel", "round_prefer_floor"): ("round-half-down((i + 0.5) * in / out - 0.5)",
                                           "pixel centres, exact ties to the lower pixel (ONNX's default)"),
    ("half_pixel", "ceil"): ("ceil((i + 0.5) * in / out - 0.5)", "pixel centres rounded up"),
    ("tf_half_pixel_for_nn", "round_prefer_floor"): ("ceil((i + 0.5) * in / out - 0.5)", "pixel centres rounded up"),
    ("half_pixel", "floor"): ("floor((i + 0.5) * in / out - 0.5)", "pixel centres rounded down (shifted)"),
    ("align_corners", "round_prefer_ceil"): ("round(i * (in - 1) / (out - 1))", "corners aligned, rounded"),
    ("align_corners", "round_prefer_floor"): ("round-half-down(i * (in - 1) / (out - 1))", "corners aligned"),
    ("asymmetric", "round_prefer_floor"): ("round-half-down(i * in / out)", "asymmetric, rounded"),
    ("asymmetric", "round_prefer_ceil"): ("round(i * in / out)", "asymmetric, rounded"),
}
_BORDERS = {
    "replicate": "repeats the edge pixel outward",
    "renormalize": "drops the taps outside the image and renormalises the rest",
    "zero": "treats the outside as zeros (a darker border ring)",
}
_LAYOUTS = {"channels_first": "(N, C, H, W)", "channels_last": "(N, H, W, C)", "image": "an (H, W) image"}


def kernel_words(spec: Resampling) -> str:
    """The kernel of ``spec`` in words.

    >>> kernel_words(Resampling(kernel="cubic", cubic_a=-0.5))
    'cubic (Keys a=-0.5, 4 taps)'
    """
    return {
        "nearest": "nearest",
        "linear": "linear (triangle, 2 taps)",
        "cubic": f"cubic (Keys a={spec.cubic_a:g}, 4 taps)",
        "cubic_tf_table": f"cubic (Keys a={spec.cubic_a:g}, 4 taps, read from TensorFlow's 1024-entry table)",
        "lanczos": f"lanczos{spec.lanczos_a} ({2 * spec.lanczos_a} taps)",
        "area": "area (exact overlap average)",
        "adaptive_area": "area (adaptive average pooling windows)",
        "box": "box",
        "hamming": "hamming-windowed sinc",
        "gaussian": "gaussian (sigma 0.5)",
        "mitchell": "mitchell-netravali cubic (B=C=1/3)",
    }[spec.kernel]


def coordinate_words(spec: Resampling) -> tuple[str, str]:
    """``(short, long)`` description of where outputs sample the input (nearest: with its rounding)."""
    if spec.kernel == "nearest":
        rule = _NEAREST_RULES.get((spec.coordinates, spec.nearest_mode))
        if rule is not None:
            return rule
        return (f"{spec.coordinates} + {spec.nearest_mode}", f"{spec.coordinates} coordinates rounded "
                                                             f"{spec.nearest_mode}")
    return spec.coordinates, _COORDINATES.get(spec.coordinates, spec.coordinates)


# ---------------------------------------------------------------------------- per-call views
def _request_words(call: Call) -> str:
    if call.transposed is not None:
        t = call.transposed
        parts = []
        for axis in (0, 1):
            s, k = t.stride[axis], t.kernel[axis]
            extra = k - s - t.crop_start[axis] - t.crop_end[axis]
            parts.append(f"{s} * in" + (f" {'+' if extra > 0 else '-'} {abs(extra)}" if extra else ""))
        shown = parts[0] if parts[0] == parts[1] else f"({parts[0]}, {parts[1]})"
        return f"{shown} (transposed convolution arithmetic)"
    if call.request is None:
        return "none (takes the other call's)"
    kind, values = call.request
    if kind == "size":
        return f"a fixed {int(values[0])}x{int(values[1])} output"
    assert call.spec is not None
    rule = {"floor": "floor", "round": "round", "round_half_up": "round half up", "ceil": "ceil"}[
        call.spec.size_rounding]
    shown = f"{values[0]:g}" if values[0] == values[1] else f"({values[0]:g}, {values[1]:g})"
    return f"scale {shown}, length {rule}(in * scale)"


def _transposed_kernel(t: Transposed) -> tuple[Any, str]:
    tri = [t.triangle(a) for a in (0, 1)]
    if all(tr is not None and tr[0] == s for tr, s in zip(tri, t.stride)):
        return ("linear",), "linear (triangle, 2 taps): a bilinear-filled transposed convolution"
    gains = [t.gain(a) for a in (0, 1)]
    shape = "triangle" if all(tr is not None for tr in tri) else "non-triangular"
    halves = [f"{tr[0]:g}" if tr else "?" for tr in tri]
    return (("transposed", t.taps, t.stride),
            f"{shape} filter of half-width {'/'.join(halves)} output pixels at stride {'/'.join(map(str, t.stride))}: "
            f"not an interpolation (a constant 1 becomes {gains[0] * gains[1]:g} inside)")


def _view(call: Call) -> dict[str, tuple[Any, str, str]]:
    """knob -> (comparison key, short value, words) for one call."""
    view: dict[str, tuple[Any, str, str]] = {}
    request = _request_words(call)
    view["output size"] = ((call.request, call.transposed and call.transposed.output_size((7, 7))),
                           request, request)
    spec = call.semantic_spec()
    if call.transposed is not None and spec is None:
        key, words = _transposed_kernel(call.transposed)
        view["kernel"] = (key, words.split(":")[0], words)
        shift_h, shift_w = (call.transposed.shift(a) for a in (0, 1))
        if shift_h is not None and shift_w is not None:
            shifts = [shift_h, shift_w]
            shown = "pixel centres" if all(abs(s) < 1e-12 for s in shifts) else (
                f"pixel centres shifted by {shifts[0]:+g} input pixels")
            view["coordinates"] = (tuple(shifts), shown, f"x = (i + 0.5) / s - 0.5 {shifts[0]:+g}")
        view["borders"] = (call.transposed.border, call.transposed.border, _BORDERS[call.transposed.border])
    elif spec is not None:
        if spec.kernel in ("cubic", "cubic_tf_table"):
            kernel_key: Any = (spec.kernel, spec.cubic_a)
        elif spec.kernel == "lanczos":
            kernel_key = ("lanczos", spec.lanczos_a)
        else:
            kernel_key = (spec.kernel,)
        short, long = coordinate_words(spec)
        kernel_short = f"nearest: {short}" if spec.kernel == "nearest" else kernel_words(spec)
        kernel_long = long if spec.kernel == "nearest" else kernel_short
        view["kernel"] = (kernel_key, kernel_short, kernel_long)
        key = short if spec.kernel == "nearest" else spec.coordinates
        view["coordinates"] = (key, short, long)
        if spec.kernel != "nearest":
            border = spec.border
            if spec.kernel == "linear" and not spec.antialias and border == "renormalize":
                border = "replicate"  # linear taps leave the image only past the edge pixel: the same values
            view["borders"] = (border, spec.border, _BORDERS[spec.border])
            view["antialias"] = (spec.antialias, "on" if spec.antialias else "off",
                                 "widens the kernel when shrinking" if spec.antialias else "no antialias")
        if call.request is not None and call.request[0] == "scale" or call.request is None:
            view["size rounding"] = ((spec.size_rounding, spec.recompute_scale),
                                     f"{spec.size_rounding}{', scale recomputed' if spec.recompute_scale else ''}",
                                     f"output length {spec.size_rounding}(in * scale)" +
                                     (", coordinates from out / in" if spec.recompute_scale else
                                      ", coordinates from the given scale"))
        float_kept = spec.float_output == "keep"
        ints = "rounded back to their dtype" if spec.integer_output == "round" or spec.kernel == "nearest" else \
            "returned as float32"
        floats = "keep their dtype" if float_kept else "come back as float32"
        dtype_words = f"float inputs {floats}, integer inputs {ints}"
        view["dtype handling"] = ((spec.float_output, spec.integer_output if spec.kernel != "nearest" else "copy"),
                                  "keeps dtype" if float_kept else "float32 out", dtype_words)
        view["arithmetic"] = (spec.coordinate_precision, spec.coordinate_precision,
                              {"float64": "exact (float64) positions", "float32": "float32 positions (TensorFlow)"}.get(
                                  spec.coordinate_precision, f"{spec.coordinate_precision}'s own float steps"))
    if call.transposed is not None:
        view["dtype handling"] = (("keep", "n/a"), "keeps dtype", "float inputs keep their dtype (float only)")
        view["arithmetic"] = ("torch-conv", "conv_transpose2d", "a torch convolution (float sums)")
    view["layout"] = (call.layout, call.layout, f"takes {_LAYOUTS[call.layout]}")
    view["size order"] = (call.size_order, "(width, height)" if call.size_order == "wh" else "(height, width)",
                          "writes sizes as " + ("(width, height)" if call.size_order == "wh" else "(height, width)"))
    return view


_ORDER = ("output size", "size rounding", "kernel", "coordinates", "borders", "antialias", "layout", "size order",
          "dtype handling", "arithmetic")
# Spec fields that set each numeric knob (B takes A's to measure the knob alone).
_FIELDS: dict[str, tuple[str, ...]] = {
    "kernel": ("kernel", "cubic_a", "lanczos_a", "nearest_mode"),
    "coordinates": ("coordinates", "nearest_mode"),
    "borders": ("border",),
    "antialias": ("antialias",),
    "size rounding": ("size_rounding", "recompute_scale"),
    "arithmetic": ("coordinate_precision",),
}


def differing_knobs(a: Call, b: Call, sizes: Sequence[tuple[int, int]] = (),
                    outputs_a: Sequence[torch.Tensor] = (), request_b: Request | None = None,
                    seed: int = 0) -> list[Knob]:
    """The knobs on which ``a`` and ``b`` differ, A's value first.

    With ``sizes`` and A's probe outputs there (``outputs_a``), each numeric knob is measured:
    B is run with A's setting of that knob alone (:attr:`Knob.aligned_max_diff`).
    """
    va, vb = _view(a), _view(b)
    spec_a, spec_b = a.semantic_spec(), b.semantic_spec()
    one_nearest = (spec_a is not None and spec_b is not None and
                   (spec_a.kernel == "nearest") != (spec_b.kernel == "nearest"))
    knobs: list[Knob] = []
    for name in _ORDER:
        if name not in va or name not in vb or va[name][0] == vb[name][0]:
            continue
        if name == "output size":
            knob = _output_size_knob(a, b, va[name], vb[name], sizes)
            if knob is not None:
                knobs.append(knob)
            continue
        if name == "coordinates" and one_nearest:
            continue  # nearest's rounding rule is part of its kernel knob
        if name in ("size rounding",) and (a.transposed is not None or b.transposed is not None):
            continue
        if name == "arithmetic" and (spec_a is None or spec_b is None):
            continue
        label = name
        if name == "kernel" and spec_a is not None and spec_b is not None and spec_a.cubic_a != spec_b.cubic_a \
                and {spec_a.kernel, spec_b.kernel} <= {"cubic", "cubic_tf_table"}:
            label = "cubic a"
        words = _sentence(label, va[name], vb[name])
        aligned = None
        if name in _FIELDS and spec_a is not None and spec_b is not None and sizes and outputs_a:
            aligned = _aligned(name, spec_a, spec_b, b, sizes, outputs_a, request_b, seed)
        knobs.append(Knob(label, va[name][1], vb[name][1], words, aligned))
    return knobs


# Input sizes at which two calls' output-size rules are compared (with the probed sizes).
_SIZE_CHECKS = ((1, 1), (2, 3), (5, 7), (8, 8), (13, 11), (28, 28), (33, 20))


def _output_size_knob(a: Call, b: Call, va: tuple[Any, str, str], vb: tuple[Any, str, str],
                      sizes: Sequence[tuple[int, int]]) -> Knob | None:
    """The output-size knob when the two rules give different sizes somewhere (None otherwise);
    its ``aligned_max_diff`` is 0 when they agree at every probed size (so it changes nothing there)."""
    from .calls import output_size
    from .compare import resolve_requests

    if a.request is None and a.transposed is None or b.request is None and b.transposed is None:
        return None
    ra, rb = resolve_requests(a, b)

    def shapes(size: tuple[int, int]) -> tuple[Any, Any]:
        try:
            return output_size(a, size, ra), output_size(b, size, rb)
        except (UpsampleError, RuntimeError):
            return None, None

    disagree = [size for size in (*_SIZE_CHECKS, *sizes) if (lambda p: p[0] != p[1])(shapes(size))]
    if not disagree:
        return None
    probed_same = bool(sizes) and all((lambda p: p[0] == p[1] and p[0] is not None)(shapes(s)) for s in sizes)
    words = _sentence("output size", va, vb)
    if probed_same:
        h, w = disagree[0]
        oa, ob = shapes(disagree[0])
        words += (f"; the same at the inputs probed, not in general (input {h}x{w}: "
                  f"{'x'.join(map(str, oa)) if oa else '-'} against {'x'.join(map(str, ob)) if ob else '-'})")
    return Knob("output size", va[1], vb[1], words, 0.0 if probed_same else None)


def _sentence(name: str, a: tuple[Any, str, str], b: tuple[Any, str, str]) -> str:
    if name == "cubic a":
        table = [side for side, view in (("A", a), ("B", b)) if view[0][0] == "cubic_tf_table"]
        return (f"the cubic kernel's a: A uses {a[0][1]:g}, B {b[0][1]:g} (a = -0.75 is sharper and overshoots "
                f"more, a = -0.5 is smoother; torch, OpenCV and ONNX use -0.75, TF, JAX and Pillow -0.5)"
                + (f"; {' and '.join(table)} read{'s' if len(table) == 1 else ''} it from TensorFlow's 1024-entry "
                   f"table" if len(table) == 1 else ""))
    if name == "output size":
        return f"output size: A asks for {a[2]}, B for {b[2]}"
    if name == "layout":
        return (f"layout: A {a[2]}, B {b[2]}: transpose when feeding one's tensors to the other "
                f"(x.permute(0, 2, 3, 1) for (N, C, H, W) -> (N, H, W, C)); the values do not change")
    if name == "size order":
        return f"size order: A {a[2]}, B {b[2]}: a (64, 48) in one is (48, 64) in the other"
    if name == "dtype handling":
        return f"dtype handling: A: {a[2]}; B: {b[2]}"
    if name == "arithmetic":
        return f"arithmetic: A uses {a[2]}, B {b[2]} (matters only at exact rounding ties)"
    def side(view: tuple[Any, str, str]) -> str:
        return view[1] if view[1] == view[2] else f"{view[1]} ({view[2]})"

    return f"{name}: A {side(a)}; B {side(b)}"


def _aligned(name: str, spec_a: Resampling, spec_b: Resampling, b: Call, sizes: Sequence[tuple[int, int]],
             outputs_a: Sequence[torch.Tensor], request_b: Request | None, seed: int) -> float | None:
    from .compare import probes

    fields = _FIELDS[name]
    if name == "kernel" and "nearest" in (spec_a.kernel, spec_b.kernel):
        fields = fields + ("coordinates",)  # nearest's rule is its coordinates and rounding together
    changes = {f: getattr(spec_a, f) for f in fields}
    if spec_a.kernel != "nearest":
        changes.pop("nearest_mode", None)
    try:
        aligned = spec_b.replace(**changes)
    except (UpsampleError, TypeError, ValueError):
        return None
    request = request_b or b.request
    if request is None and b.transposed is not None:
        request = ("scale", (float(b.transposed.stride[0]), float(b.transposed.stride[1])))
    if request is None:
        return None
    probe_call = Call(b.framework, b.function, b.options, b.source, spec=aligned, request=request,
                      signature=b.signature, text=b.text)
    worst = 0.0
    compared = False
    for size, out_a in zip(sizes, outputs_a):
        try:
            out_b = run_call(probe_call, probes(size, seed), request)
        except UpsampleError:
            return None
        if tuple(out_b.shape) != tuple(out_a.shape):
            continue
        compared = True
        worst = max(worst, float(np.abs(out_a.double().numpy() - out_b.double().numpy()).max()))
    return worst if compared else None
