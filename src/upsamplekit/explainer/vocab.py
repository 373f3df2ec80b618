"""The vocabulary: each framework's upsampling calls, their arguments and defaults, and what they compute.

A :class:`Signature` lists a callee's parameters in positional order with their defaults, and
a ``build`` function that turns the argument values into a :class:`~upsamplekit.explainer.calls.Call`
(a :class:`~upsamplekit.Resampling` through the framework's preset, or a transposed
convolution). The same signatures re-build a call with changed options (the fix search) and
write it back (:func:`render`).

>>> call = parse_call("torch: nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)")
>>> call.spec.coordinates, call.request
('align_corners', ('scale', (2.0, 2.0)))
>>> parse_call("cv2: cv2.resize(x, (64, 48), interpolation=cv2.INTER_AREA)").request  # (width, height)
('size', (48, 64))
>>> rebuild(call, {"align_corners": None}).text
"torch: nn.Upsample(scale_factor=2, mode='bilinear')"
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import InvalidArgumentError, UpsampleError, closest
from ..resample import Resampling
from .calls import Call, Request, Transposed
from .parse import CallParseError, Constant, Nested, RawCall, Symbol, read_call

__all__ = ["Signature", "SIGNATURES", "parse_call", "rebuild", "render", "request_options", "OptionError"]

MISSING = object()


class OptionError(Exception):
    """Raised by a builder: ``option`` (a parameter name, or None for the call) has a bad value;
    :func:`parse_call` turns it into a :class:`CallParseError` pointing at that argument."""

    def __init__(self, option: str | None, message: str) -> None:
        super().__init__(message)
        self.option, self.message = option, message


@dataclass(frozen=True)
class Built:
    spec: Resampling | None = None
    request: Request | None = None
    transposed: Transposed | None = None
    layout: str = "channels_first"
    size_order: str = "hw"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signature:
    """A callee of the vocabulary.

    ``params``: parameter names in positional order (the tensor first where there is one);
    ``defaults``: values of the parameters that may be left out; ``tensor``: the input
    parameter, whose value is never read; ``symbolic``: parameters that may be a plain name
    (their value is then unknown); ``varkw``: extra keywords go to ``build`` (upsamplekit's
    ``**options``); ``choices``: the values the fix search tries per option; ``cost``: how much
    changing an option counts (changing the method counts more than a flag).
    """

    key: str
    framework: str
    function: str
    spellings: tuple[str, ...]
    params: tuple[str, ...]
    defaults: dict[str, Any]
    build: Callable[[dict[str, Any]], Built]
    tensor: str | None = None
    symbolic: tuple[str, ...] = ()
    varkw: bool = False
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)
    request: Callable[[Request], list[dict[str, Any]]] | None = None
    upgrade: str | None = None
    implied: dict[str, Any] = field(default_factory=dict)


SIGNATURES: dict[str, Signature] = {}


def _register(sig: Signature) -> Signature:
    SIGNATURES[sig.key] = sig
    return sig


# --------------------------------------------------------------------------- value helpers
def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _pair(name: str, value: Any, integer: bool = False) -> tuple[float, float]:
    """One number or two (height, width) as a pair; ``integer`` requires ints."""
    items = list(value) if isinstance(value, tuple) else [value, value]
    kind = "integers" if integer else "numbers"
    if len(items) != 2 or not all(_is_number(v) for v in items):
        if len(items) != 2 and all(_is_number(v) for v in items):
            raise OptionError(name, f"{name} must be one value or two (height, width), but got {len(items)} values "
                                    f"{value!r}: explain compares 2-D (image) upsampling")
        raise OptionError(name, f"{name} must be a number or two {kind}, but got {value!r}")
    if integer and not all(float(v) == int(v) for v in items):
        raise OptionError(name, f"{name} must hold integers, but got {value!r}")
    if not all(float(v) > 0 for v in items):
        raise OptionError(name, f"{name} must be positive, but got {value!r}")
    return (float(items[0]), float(items[1]))


def _size(name: str, value: Any, order: str = "hw") -> tuple[int, int]:
    h, w = (int(v) for v in _pair(name, value, integer=True))
    return (w, h) if order == "wh" else (h, w)


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    raise OptionError(name, f"{name} must be True or False, but got {value!r}")


def _choice(name: str, value: Any, choices: Sequence[str], what: str = "") -> str:
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        hint = ""
        if isinstance(value, str):
            suggestion = closest(value, choices)
            hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        raise OptionError(name, f"{name} must be one of {listed}{what}, but got {value!r}{hint}")
    return value


def _named(message: str, keys: Sequence[str]) -> str | None:
    """The option an error message is about: the longest option name it mentions."""
    found = sorted((k for k in keys if k in message), key=len, reverse=True)
    return found[0] if found else None


def _preset(option: str, convention: str, method: str, **options: Any) -> Resampling:
    """``Resampling.preset``, its errors re-raised against ``option`` (or the option they name)."""
    try:
        return Resampling.preset(convention, method, **options)
    except UpsampleError as error:
        message = str(error)
        named = _named(message, [k for k in options if f"{k}=" in message or message.startswith(k)])
        raise OptionError(named or option, message) from None


def _scale_request(name: str, value: Any) -> Request:
    return ("scale", _pair(name, value))


# ------------------------------------------------------------------------------------ torch
_TORCH_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic", "area")
_TORCH_NOTE_NEAREST = ("torch's 'nearest' is the legacy rule floor(i * in / out) (shifted by half a pixel); "
                       "'nearest-exact' samples pixel centres; the two agree at integer factors")
_TORCH_NOTE_DEFAULT = ("align_corners was not given: it is False for bilinear and bicubic since PyTorch 0.4.0 "
                       "(before, bilinear aligned the corners, as outputs printed in older posts show)")


def _torch_resize(o: dict[str, Any], antialias: bool = True, fixed: dict[str, Any] | None = None,
                  note: str = "") -> Built:
    size, scale = o.get("size"), o.get("scale_factor")
    if (size is None) == (scale is None):
        raise OptionError("size" if size is not None else None,
                          "exactly one of size and scale_factor must be given (torch raises otherwise), but got "
                          + ("both" if size is not None else "neither"))
    mode = (fixed or {}).get("mode", o.get("mode"))
    if mode in ("linear", "trilinear"):
        raise OptionError("mode", f"mode={mode!r} needs a {'3' if mode == 'linear' else '5'}-D input; for images "
                                  f"(N, C, H, W) torch takes 'bilinear' (explain compares 2-D upsampling)")
    mode = _choice("mode", mode, _TORCH_MODES, " for images (N, C, H, W)")
    align = (fixed or {}).get("align_corners", o.get("align_corners"))
    flags: dict[str, Any] = {"align_corners": None if align is None else _flag("align_corners", align)}
    if o.get("recompute_scale_factor") is not None:
        flags["recompute_scale_factor"] = _flag("recompute_scale_factor", o["recompute_scale_factor"])
    if antialias:
        flags["antialias"] = _flag("antialias", o.get("antialias", False))
    spec = _preset("mode", "torch", mode, **flags)
    request = ("size", _size("size", size)) if size is not None else _scale_request("scale_factor", scale)
    notes = [note] if note else []
    if mode == "nearest":
        notes.append(_TORCH_NOTE_NEAREST)
    elif mode in ("bilinear", "bicubic") and align is None and not fixed:
        notes.append(_TORCH_NOTE_DEFAULT)
    return Built(spec, request, notes=tuple(notes))


def _torch_request(request: Request) -> list[dict[str, Any]]:
    kind, values = request
    if kind == "size":
        return [{"size": _tidy(values, integer=True), "scale_factor": None}]
    return [{"scale_factor": _tidy(values), "size": None}]


_TORCH_CHOICES = {"mode": _TORCH_MODES, "align_corners": (None, True), "antialias": (False, True),
                  "recompute_scale_factor": (None, True)}
_METHOD_COST = 1.5

_register(Signature(
    "torch.Upsample", "torch", "nn.Upsample", ("nn.Upsample", "torch.nn.Upsample", "Upsample"),
    ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
    {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None, "recompute_scale_factor": None},
    lambda o: _torch_resize(o, antialias=False),
    choices={k: v for k, v in _TORCH_CHOICES.items() if k != "antialias"}, cost={"mode": _METHOD_COST},
    request=_torch_request, upgrade="torch.interpolate"))
_register(Signature(
    "torch.interpolate", "torch", "F.interpolate",
    ("F.interpolate", "torch.nn.functional.interpolate", "nn.functional.interpolate", "functional.interpolate",
     "interpolate"),
    ("input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias"),
    {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None, "recompute_scale_factor": None,
     "antialias": False},
    _torch_resize, tensor="input", choices=_TORCH_CHOICES, cost={"mode": _METHOD_COST}, request=_torch_request))
_register(Signature(
    "torch.upsample", "torch", "F.upsample",
    ("F.upsample", "torch.nn.functional.upsample", "nn.functional.upsample", "functional.upsample", "upsample"),
    ("input", "size", "scale_factor", "mode", "align_corners"),
    {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None},
    lambda o: _torch_resize(o, antialias=False, note="F.upsample is deprecated: it is F.interpolate"),
    tensor="input", choices={k: v for k, v in _TORCH_CHOICES.items() if k in ("mode", "align_corners")},
    cost={"mode": _METHOD_COST}, request=_torch_request, upgrade="torch.interpolate"))
for _name, _mode, _align in (("UpsamplingBilinear2d", "bilinear", True), ("UpsamplingNearest2d", "nearest", None)):
    _register(Signature(
        f"torch.{_name}", "torch", f"nn.{_name}", (f"nn.{_name}", f"torch.nn.{_name}", _name),
        ("size", "scale_factor"), {"size": None, "scale_factor": None},
        (lambda m, a: lambda o: _torch_resize(
            o, antialias=False, fixed={"mode": m, "align_corners": a},
            note=("nn.UpsamplingBilinear2d is bilinear with align_corners=True" if a else
                  "nn.UpsamplingNearest2d is nearest") + " (deprecated: use nn.Upsample)"))(_mode, _align),
        request=_torch_request, upgrade="torch.Upsample",
        implied={"mode": _mode, **({"align_corners": _align} if _align else {})}))
for _name, _mode, _align in (("upsample_bilinear", "bilinear", True), ("upsample_nearest", "nearest", None)):
    _register(Signature(
        f"torch.{_name}", "torch", f"F.{_name}", (f"F.{_name}", f"torch.nn.functional.{_name}", _name),
        ("input", "size", "scale_factor"), {"size": None, "scale_factor": None},
        (lambda m, a: lambda o: _torch_resize(
            o, antialias=False, fixed={"mode": m, "align_corners": a},
            note=f"F.{'upsample_bilinear aligns corners (align_corners=True)' if a else 'upsample_nearest is nearest'}"
                 " (deprecated: use F.interpolate)"))(_mode, _align),
        tensor="input", request=_torch_request, upgrade="torch.interpolate",
        implied={"mode": _mode, **({"align_corners": _align} if _align else {})}))


# ----------------------------------------------------------------- transposed convolution
def _int_pair(name: str, value: Any, minimum: int = 0) -> tuple[int, int]:
    items = list(value) if isinstance(value, tuple) else [value, value]
    if len(items) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise OptionError(name, f"{name} must be an integer or two (height, width), but got {value!r}")
    if min(items) < minimum:
        raise OptionError(name, f"{name} must be >= {minimum}, but got {value!r}")
    return (items[0], items[1])


def _bilinear_transposed(o: dict[str, Any]) -> Built:
    if o.get("stride") is None:
        raise OptionError(None, "bilinear(...) needs stride= (the upsampling factor)")
    stride = _int_pair("stride", o["stride"], 1)
    if max(stride) == 1:
        raise OptionError("stride", "a transposed convolution with stride 1 is not an upsampling: it keeps the size "
                                    "(use the upsampling factor as the stride)")
    kernel = tuple(2 * s - s % 2 for s in stride) if o.get("kernel") is None else _int_pair("kernel", o["kernel"], 1)
    padding = (tuple(math.ceil((s - 1) / 2) for s in stride) if o.get("padding") is None
               else _int_pair("padding", o["padding"]))
    output_padding = _int_pair("output_padding", o.get("output_padding", 0))
    for p, s in zip(output_padding, stride):
        if p >= s:
            raise OptionError("output_padding", f"output_padding must be smaller than the stride (torch's rule), but "
                                                f"got output_padding={o.get('output_padding')!r} with stride={stride}")
    border = _choice("border", o.get("border", "zero"), ("zero", "replicate"))
    t = Transposed.bilinear(kernel, stride, padding, output_padding, border)  # type: ignore[arg-type]
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


def _bilinear_choices() -> dict[str, tuple[Any, ...]]:
    return {"padding": (0, 1, 2, 3, 4), "output_padding": (0, 1, 2, 3), "border": ("zero", "replicate"),
            "kernel": (2, 3, 4, 5, 6, 7, 8)}


_register(Signature(
    "convtranspose.bilinear", "convtranspose", "bilinear", ("bilinear",),
    ("kernel", "stride", "padding", "output_padding", "border"),
    {"kernel": None, "stride": None, "padding": None, "output_padding": 0, "border": "zero"},
    _bilinear_transposed, choices=_bilinear_choices(), cost={"kernel": _METHOD_COST}))


def _weights_kernel(value: Any) -> int:
    """The kernel size of a bilinear-filler call (``make_bilinear_weights(4, 1)``), unwrapping
    ``Variable(...)``, ``torch.from_numpy(...)`` and the like."""
    while isinstance(value, Nested):
        if "bilinear" in value.callee.lower() or "upsampling_weight" in value.callee.lower():
            given = [v for v in value.positional if isinstance(v, int) and not isinstance(v, bool)]
            for key in ("size", "kernel_size", "kernel"):
                if isinstance(value.keywords.get(key), int):
                    return int(value.keywords[key])
            # get_upsampling_weight(in_channels, out_channels, kernel_size) takes the size last
            if "upsampling_weight" in value.callee.lower() and len(given) >= 3:
                return given[2]
            if given:
                return given[0]
            break
        inner = [v for v in value.positional if isinstance(v, Nested)]
        if len(inner) != 1:
            break
        value = inner[0]
    raise OptionError("weight", "a transposed convolution is a fixed upsampling only with known weights: pass the "
                                "bilinear filler, e.g. make_bilinear_weights(4, C), or write "
                                "'convtranspose: bilinear(kernel=4, stride=2, padding=1)'")


def _conv_transpose2d(o: dict[str, Any]) -> Built:
    kernel = _weights_kernel(o.get("weight"))
    if o.get("bias") is not None:
        raise OptionError("bias", "a bias adds a constant: pass bias=None to compare the upsampling itself")
    if o.get("dilation", 1) not in (1, (1, 1)):
        raise OptionError("dilation", "dilation must be 1 for a bilinear transposed convolution")
    return _bilinear_transposed({"kernel": kernel, "stride": o.get("stride", 1), "padding": o.get("padding", 0),
                                 "output_padding": o.get("output_padding", 0)})


_register(Signature(
    "torch.conv_transpose2d", "torch", "F.conv_transpose2d",
    ("F.conv_transpose2d", "torch.nn.functional.conv_transpose2d", "nn.functional.conv_transpose2d",
     "conv_transpose2d", "torch.conv_transpose2d"),
    ("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"),
    {"bias": None, "stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "dilation": 1},
    _conv_transpose2d, tensor="input", symbolic=("groups",)))


# ------------------------------------------------------------------------------------ keras
_TF_BICUBIC_NOTE = ("TensorFlow's bicubic reads its weights from a 1024-entry table: real results differ from the "
                    "exact kernel by up to ~2e-3 of the value range (not a knob)")
_KERAS_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")
_KERAS_NOTE = ("Keras 3 on the TensorFlow backend (tf.image.resize); on the JAX or torch backend, non-nearest "
               "interpolations go through jax.image.resize or F.interpolate instead")


def _keras_layout(value: Any) -> str:
    fmt = _choice("data_format", "channels_last" if value is None else value, ("channels_last", "channels_first"))
    return fmt


def _upsampling2d(o: dict[str, Any]) -> Built:
    size = _pair("size", o.get("size", (2, 2)), integer=True)
    interpolation = _choice("interpolation", o.get("interpolation", "nearest"), _KERAS_INTERPOLATIONS)
    spec = _preset("interpolation", "keras", interpolation)
    notes = (_KERAS_NOTE,) if interpolation != "nearest" else (
        "Keras UpSampling2D 'nearest' repeats each pixel (ops.repeat), whatever the backend",)
    if interpolation == "bicubic":
        notes += (_TF_BICUBIC_NOTE,)
    return Built(spec, ("scale", size), layout=_keras_layout(o.get("data_format")), notes=notes)


def _keras_request(request: Request) -> list[dict[str, Any]]:
    kind, values = request
    if kind == "scale" and all(float(v) == int(v) for v in values):
        return [{"size": _tidy(values, integer=True)}]
    return []


_register(Signature(
    "keras.UpSampling2D", "keras", "UpSampling2D",
    ("UpSampling2D", "layers.UpSampling2D", "keras.layers.UpSampling2D", "tf.keras.layers.UpSampling2D",
     "tensorflow.keras.layers.UpSampling2D"),
    ("size", "data_format", "interpolation"), {"size": (2, 2), "data_format": None, "interpolation": "nearest"},
    _upsampling2d, choices={"interpolation": _KERAS_INTERPOLATIONS}, cost={"interpolation": _METHOD_COST},
    request=_keras_request))


def _resizing(o: dict[str, Any]) -> Built:
    for name in ("crop_to_aspect_ratio", "pad_to_aspect_ratio"):
        if o.get(name):
            raise OptionError(name, f"{name}=True crops or pads before resizing; explain compares the resize "
                                    f"itself (leave it False)")
    if o.get("height") is None or o.get("width") is None:
        raise OptionError(None, "Resizing needs height and width")
    size = _size("height", (o["height"], o["width"]))
    interpolation = _choice("interpolation", o.get("interpolation", "bilinear"), _KERAS_INTERPOLATIONS)
    antialias = _flag("antialias", o.get("antialias", False))
    spec = _preset("interpolation", "keras", interpolation, antialias=antialias)
    notes = (_KERAS_NOTE,) + ((_TF_BICUBIC_NOTE,) if interpolation == "bicubic" and not antialias else ())
    return Built(spec, ("size", size), layout=_keras_layout(o.get("data_format")), notes=notes)


def _resizing_request(request: Request) -> list[dict[str, Any]]:
    kind, values = request
    if kind == "size":
        return [{"height": int(values[0]), "width": int(values[1])}]
    return []


_register(Signature(
    "keras.Resizing", "keras", "Resizing",
    ("Resizing", "layers.Resizing", "keras.layers.Resizing", "tf.keras.layers.Resizing"),
    ("height", "width", "interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio", "fill_mode", "fill_value",
     "antialias", "data_format"),
    {"interpolation": "bilinear", "crop_to_aspect_ratio": False, "pad_to_aspect_ratio": False,
     "fill_mode": "constant", "fill_value": 0.0, "antialias": False, "data_format": None},
    _resizing, choices={"interpolation": _KERAS_INTERPOLATIONS, "antialias": (False, True)},
    cost={"interpolation": _METHOD_COST}, request=_resizing_request))


# --------------------------------------------------------------------------------------- tf
_TF_METHODS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
_TF_CONSTANTS = {"BILINEAR": "bilinear", "NEAREST_NEIGHBOR": "nearest", "BICUBIC": "bicubic", "AREA": "area",
                 "LANCZOS3": "lanczos3", "LANCZOS5": "lanczos5", "GAUSSIAN": "gaussian",
                 "MITCHELLCUBIC": "mitchellcubic"}


def _tf_method(value: Any) -> str:
    if isinstance(value, Constant):
        last = value.split(".")[-1]
        if last not in _TF_CONSTANTS:
            raise OptionError("method", f"method must be a tf.image.ResizeMethod ({', '.join(_TF_CONSTANTS)}), "
                                        f"but got {value}")
        return _TF_CONSTANTS[last]
    return _choice("method", value, _TF_METHODS)


def _tf_size(o: dict[str, Any]) -> Request | None:
    size = o.get("size")
    if isinstance(size, Symbol):
        return None
    if size is None:
        raise OptionError(None, "tf.image.resize needs size=(height, width)")
    return ("size", _size("size", size))


def _tf_resize(o: dict[str, Any]) -> Built:
    if o.get("preserve_aspect_ratio"):
        raise OptionError("preserve_aspect_ratio", "preserve_aspect_ratio=True changes the size to keep the aspect; "
                                                   "explain compares the resize itself (leave it False)")
    method = _tf_method(o.get("method", "bilinear"))
    spec = _preset("method", "tf", method, antialias=_flag("antialias", o.get("antialias", False)))
    notes = (_TF_BICUBIC_NOTE,) if method == "bicubic" and not o.get("antialias") else ()
    return Built(spec, _tf_size(o), layout="channels_last", notes=notes)


def _size_request(key: str, order: str = "hw") -> Callable[[Request], list[dict[str, Any]]]:
    def options(request: Request) -> list[dict[str, Any]]:
        kind, values = request
        if kind != "size":
            return []
        h, w = int(values[0]), int(values[1])
        return [{key: (w, h) if order == "wh" else (h, w)}]
    return options


_register(Signature(
    "tf.resize", "tf", "tf.image.resize", ("tf.image.resize", "tensorflow.image.resize", "image.resize"),
    ("images", "size", "method", "preserve_aspect_ratio", "antialias", "name"),
    {"method": "bilinear", "preserve_aspect_ratio": False, "antialias": False, "name": None},
    _tf_resize, tensor="images", symbolic=("size",), choices={"method": _TF_METHODS, "antialias": (False, True)},
    cost={"method": _METHOD_COST}, request=_size_request("size")))

_TF1_OPS = {"resize_bilinear": "bilinear", "resize_nearest_neighbor": "nearest", "resize_bicubic": "bicubic",
            "resize_area": "area"}


def _tf1(method: str) -> Callable[[dict[str, Any]], Built]:
    def build(o: dict[str, Any]) -> Built:
        flags = {"align_corners": _flag("align_corners", o.get("align_corners", False))}
        if method != "area":
            flags["half_pixel_centers"] = _flag("half_pixel_centers", o.get("half_pixel_centers", False))
        spec = _preset("align_corners", "tf1", method, **flags)
        notes = ("TF1 ops default to align_corners=False and half_pixel_centers=False: asymmetric coordinates "
                 "x = i * in / out, not pixel centres",) if not any(flags.values()) else ()
        return Built(spec, _tf_size(o), layout="channels_last", notes=notes)
    return build


for _op, _method in _TF1_OPS.items():
    _params = ("images", "size", "align_corners", "name") + (("half_pixel_centers",) if _method != "area" else ())
    _register(Signature(
        f"tf1.{_op}", "tf", f"tf.compat.v1.image.{_op}",
        (f"tf.compat.v1.image.{_op}", f"compat.v1.image.{_op}", f"tf.image.{_op}", f"v1.image.{_op}", _op),
        _params, {"align_corners": False, "name": None, "half_pixel_centers": False},
        _tf1(_method), tensor="images", symbolic=("size",),
        choices={"align_corners": (False, True),
                 **({"half_pixel_centers": (False, True)} if _method != "area" else {})},
        request=_size_request("size")))


# -------------------------------------------------------------------------------------- jax
_JAX_METHODS = ("nearest", "linear", "bilinear", "trilinear", "triangle", "cubic", "bicubic", "tricubic", "lanczos3",
                "lanczos5", "cubic-pytorch", "bicubic-pytorch", "area")
_JAX_CONSTANTS = {"NEAREST": "nearest", "LINEAR": "linear", "CUBIC": "cubic", "LANCZOS3": "lanczos3",
                  "LANCZOS5": "lanczos5", "CUBIC_PYTORCH": "cubic-pytorch", "AREA": "area"}


def _jax_resize(o: dict[str, Any]) -> Built:
    method = o.get("method", MISSING)
    if method is MISSING:
        raise OptionError(None, "jax.image.resize needs method (it has no default)")
    if isinstance(method, Constant):
        last = method.split(".")[-1]
        if last not in _JAX_CONSTANTS:
            raise OptionError("method", f"method must be a jax.image.ResizeMethod ({', '.join(_JAX_CONSTANTS)}), "
                                        f"but got {method}")
        method = _JAX_CONSTANTS[last]
    method = _choice("method", method, _JAX_METHODS)
    spec = _preset("method", "jax", method, antialias=_flag("antialias", o.get("antialias", True)))
    shape = o.get("shape")
    notes = ["jax.image.resize resizes every axis whose length changes; antialias defaults to True (it matters "
             "only when an axis shrinks, and for 'cubic-pytorch', which it turns into 'cubic')"]
    layout = "channels_last"
    request: Request | None = None
    if shape is None:
        raise OptionError(None, "jax.image.resize needs shape")
    if not isinstance(shape, Symbol):
        if not isinstance(shape, tuple) or not all(isinstance(v, int) and not isinstance(v, bool) for v in shape):
            raise OptionError("shape", f"shape must be a tuple of integers, but got {shape!r}")
        if len(shape) == 2:
            hw, layout = shape, "image"
        elif len(shape) == 3:
            hw = shape[:2]
            notes.append(f"shape {shape} read as (H, W, C)")
        elif len(shape) == 4:
            if shape[1] <= 4 < shape[3]:
                hw, layout = shape[2:], "channels_first"
                notes.append(f"shape {shape} read as (N, C, H, W)")
            else:
                hw = shape[1:3]
                notes.append(f"shape {shape} read as (N, H, W, C)")
        else:
            raise OptionError("shape", f"shape must have 2 to 4 entries (an image), but got {shape!r}: explain "
                                       f"compares 2-D upsampling")
        request = ("size", _size("shape", tuple(hw)))
    return Built(spec, request, layout=layout, notes=tuple(notes))


_register(Signature(
    "jax.resize", "jax", "jax.image.resize", ("jax.image.resize", "image.resize"),
    ("image", "shape", "method", "antialias", "precision"), {"antialias": True, "precision": None},
    _jax_resize, tensor="image", symbolic=("shape", "precision"),
    choices={"method": ("nearest", "linear", "cubic", "lanczos3", "lanczos5", "cubic-pytorch"),
             "antialias": (True, False)},
    cost={"method": _METHOD_COST}, request=_size_request("shape")))


# ------------------------------------------------------------------------------------- onnx
_ONNX_ATTRS = ("mode", "coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside", "antialias",
               "extrapolation_value", "keep_aspect_ratio_policy", "nearest_mode", "axes")


def _onnx_resize(o: dict[str, Any]) -> Built:
    attrs = {k: v for k, v in o.items() if k in _ONNX_ATTRS and v is not MISSING}
    if "axes" in attrs:
        raise OptionError("axes", "axes= picks the resized axes; explain resizes the two spatial axes (leave it out)")
    if attrs.get("coordinate_transformation_mode") == "tf_crop_and_resize":
        raise OptionError("coordinate_transformation_mode", "tf_crop_and_resize needs a roi; explain compares plain "
                                                            "resizes")
    try:
        spec = Resampling.from_onnx(attrs)
    except UpsampleError as error:
        message = str(error)
        raise OptionError(_named(message, list(attrs)) or "mode", message) from None
    scales, sizes = o.get("scales"), o.get("sizes")
    if scales is not None and sizes is not None:
        raise OptionError("sizes", "give scales or sizes, not both (ONNX Resize takes one)")
    request: Request | None = None
    if scales is not None:
        values = scales[-2:] if isinstance(scales, tuple) and len(scales) == 4 else scales
        request = _scale_request("scales", values)
    elif sizes is not None:
        values = sizes[-2:] if isinstance(sizes, tuple) and len(sizes) == 4 else sizes
        request = ("size", _size("sizes", values))
    notes = () if request is not None else (
        "no scales or sizes given: the other call's output size is used",)
    return Built(spec, request, notes=notes)


def _onnx_request(request: Request) -> list[dict[str, Any]]:
    kind, values = request
    if kind == "size":
        return [{"sizes": _tidy(values, integer=True), "scales": None}]
    return [{"scales": _tidy(values), "sizes": None}]


_register(Signature(
    "onnx.Resize", "onnx", "Resize", ("Resize", "onnx.Resize", "ops.Resize", "op.Resize"),
    (), {**{k: MISSING for k in _ONNX_ATTRS}, "scales": None, "sizes": None},
    _onnx_resize,
    choices={"mode": ("nearest", "linear", "cubic"),
             "coordinate_transformation_mode": ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                                "half_pixel_symmetric"),
             "nearest_mode": ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"),
             "cubic_coeff_a": (-0.75, -0.5), "exclude_outside": (0, 1), "antialias": (0, 1)},
    cost={"mode": _METHOD_COST}, request=_onnx_request))


# -------------------------------------------------------------------------------------- cv2
_CV2_CONSTANTS = {"INTER_NEAREST": "nearest", "INTER_LINEAR": "linear", "INTER_CUBIC": "cubic", "INTER_AREA": "area",
                  "INTER_LANCZOS4": "lanczos4", "INTER_LINEAR_EXACT": None, "INTER_NEAREST_EXACT": "nearest-exact"}
_CV2_NUMBERS = {0: "INTER_NEAREST", 1: "INTER_LINEAR", 2: "INTER_CUBIC", 3: "INTER_AREA", 4: "INTER_LANCZOS4",
                5: "INTER_LINEAR_EXACT", 6: "INTER_NEAREST_EXACT"}


def _cv2_interpolation(value: Any) -> str:
    name = _CV2_NUMBERS.get(value) if isinstance(value, int) and not isinstance(value, bool) else (
        value.split(".")[-1] if isinstance(value, Constant) else None)
    if name not in _CV2_CONSTANTS:
        choices = ", ".join(f"cv2.{c}" for c in _CV2_CONSTANTS)
        raise OptionError("interpolation", f"interpolation must be one of {choices}, but got {value!r}")
    method = _CV2_CONSTANTS[name]
    if method is None:
        raise OptionError("interpolation", f"cv2.{name} (fixed-point bit-exact bilinear) is not reproduced by "
                                           f"upsamplekit; cv2.INTER_LINEAR is its float counterpart")
    return method


def _cv2_resize(o: dict[str, Any]) -> Built:
    method = _cv2_interpolation(o.get("interpolation", Constant("cv2.INTER_LINEAR")))
    spec = _preset("interpolation", "opencv", method)
    dsize, fx, fy = o.get("dsize"), o.get("fx"), o.get("fy")
    if isinstance(dsize, Symbol):
        request: Request | None = None
    elif dsize is not None and dsize != (0, 0):
        request = ("size", _size("dsize", dsize, order="wh"))
    else:
        if not fx or not fy:
            raise OptionError("fx", "with dsize None (or (0, 0)) cv2.resize needs fx and fy, both positive")
        request = ("scale", (_pair("fy", fy)[0], _pair("fx", fx)[0]))
    notes = ["cv2.resize takes dsize as (width, height) and HWC images"]
    if method == "nearest":
        notes.append("cv2.INTER_NEAREST is asymmetric: floor(i * in / out), not pixel centres "
                     "(cv2.INTER_NEAREST_EXACT is)")
    return Built(spec, request, layout="channels_last", size_order="wh", notes=tuple(notes))


def _cv2_request(request: Request) -> list[dict[str, Any]]:
    kind, values = request
    if kind == "size":
        return [{"dsize": (int(values[1]), int(values[0])), "fx": None, "fy": None}]
    return [{"dsize": None, "fx": _tidy1(values[1]), "fy": _tidy1(values[0])}]


_register(Signature(
    "cv2.resize", "cv2", "cv2.resize", ("cv2.resize",),
    ("src", "dsize", "dst", "fx", "fy", "interpolation"),
    {"dst": None, "fx": None, "fy": None, "interpolation": Constant("cv2.INTER_LINEAR")},
    _cv2_resize, tensor="src", symbolic=("dst", "dsize"),
    choices={"interpolation": tuple(Constant(f"cv2.{c}") for c in _CV2_CONSTANTS if _CV2_CONSTANTS[c])},
    cost={"interpolation": _METHOD_COST}, request=_cv2_request))


# ----------------------------------------------------------------------------------- pillow
_PIL_FILTERS = {"NEAREST": "nearest", "BOX": "box", "BILINEAR": "bilinear", "HAMMING": "hamming",
                "BICUBIC": "bicubic", "LANCZOS": "lanczos"}
_PIL_NUMBERS = {0: "NEAREST", 1: "LANCZOS", 2: "BILINEAR", 3: "BICUBIC", 4: "BOX", 5: "HAMMING", 6: "MKS2013",
                7: "MKS2021"}


def _pil_filter(value: Any) -> str:
    if value is None:
        return "bicubic"
    name = _PIL_NUMBERS.get(value) if isinstance(value, int) and not isinstance(value, bool) else (
        value.split(".")[-1] if isinstance(value, Constant) else None)
    if name == "ANTIALIAS":
        raise OptionError("resample", "Image.ANTIALIAS was removed in Pillow 10; it was Image.LANCZOS")
    if name not in _PIL_FILTERS:
        choices = ", ".join(f"Image.{c}" for c in _PIL_FILTERS)
        raise OptionError("resample", f"resample must be one of {choices}, but got {value!r}")
    return _PIL_FILTERS[name]


def _pil_resize(o: dict[str, Any]) -> Built:
    for name in ("box", "reducing_gap"):
        if o.get(name) is not None:
            raise OptionError(name, f"{name}= is not reproduced by upsamplekit (leave it None)")
    if o.get("size") is None:
        raise OptionError(None, "Image.resize needs size=(width, height)")
    spec = _preset("resample", "pillow", _pil_filter(o.get("resample")))
    notes = ["Pillow's resize takes size as (width, height); float images ('F' mode) are computed exactly, 8-bit "
             "ones in fixed point (within 1 of the exact result)"]
    if o.get("resample") is None:
        notes.append("resample not given: Image.BICUBIC (Pillow's default for resize since 7.0)")
    return Built(spec, ("size", _size("size", o["size"], order="wh")), layout="image", size_order="wh",
                 notes=tuple(notes))


_register(Signature(
    "pillow.resize", "pillow", "img.resize", ("resize",),
    ("size", "resample", "box", "reducing_gap"), {"resample": None, "box": None, "reducing_gap": None},
    _pil_resize, choices={"resample": tuple(Constant(f"Image.{c}") for c in _PIL_FILTERS)},
    cost={"resample": _METHOD_COST}, request=_size_request("size", "wh")))


# ------------------------------------------------------------------------------ upsamplekit
_SPEC_FIELDS = tuple(f for f in Resampling.__dataclass_fields__)


def _resampling(o: dict[str, Any]) -> Built:
    fields = {k: v for k, v in o.items() if v is not MISSING}
    unknown = sorted(set(fields) - set(_SPEC_FIELDS))
    if unknown:
        suggestion = closest(unknown[0], _SPEC_FIELDS)
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        raise OptionError(unknown[0], f"Resampling has no field {unknown[0]!r}{hint}")
    try:
        spec = Resampling(**fields)
    except UpsampleError as error:
        raise OptionError(_named(str(error), list(fields)), str(error)) from None
    return Built(spec, None, notes=("a Resampling spec fixes no size: the other call's output size is used",))


_register(Signature(
    "upsamplekit.Resampling", "upsamplekit", "Resampling", ("Resampling", "upsamplekit.Resampling"),
    (), {f: MISSING for f in _SPEC_FIELDS}, _resampling, varkw=False,
    choices={"coordinates": ("half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"),
             "border": ("replicate", "renormalize", "zero"), "antialias": (False, True),
             "cubic_a": (-0.75, -0.5), "nearest_mode": ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"),
             "kernel": ("nearest", "linear", "cubic")},
    cost={"kernel": _METHOD_COST}))


def _uk_resize(o: dict[str, Any], size_key: str = "size") -> Built:
    extra = {k: v for k, v in o.items() if k not in ("x", "size", "scale_factor", "method", "convention")}
    if "spec" in extra:
        raise OptionError("spec", "write the spec itself: 'upsamplekit: Resampling(...)'")
    spec = _preset("method", str(o.get("convention", "torch")), str(o.get("method")), **extra)
    size, scale = o.get("size"), o.get("scale_factor")
    if size is not None and scale is not None:
        raise OptionError("size", "give size or scale_factor, not both")
    request: Request | None = None
    if size is not None:
        request = ("size", _size("size", size))
    elif scale is not None:
        request = _scale_request("scale_factor", scale)
    return Built(spec, request)


_register(Signature(
    "upsamplekit.resize", "upsamplekit", "resize", ("resize", "upsamplekit.resize", "uk.resize"),
    ("x", "size", "scale_factor"), {"size": None, "scale_factor": None, "method": "linear", "convention": "torch"},
    _uk_resize, tensor="x", varkw=True, choices={"method": ("nearest", "linear", "cubic")},
    cost={"method": _METHOD_COST}, request=_torch_request))
_register(Signature(
    "upsamplekit.Interpolate", "upsamplekit", "Interpolate", ("Interpolate", "upsamplekit.nn.Interpolate",
                                                               "nn.Interpolate"),
    ("scale_factor", "size", "method", "convention", "in_channels", "out_channels", "dims"),
    {"scale_factor": None, "size": None, "method": "nearest", "convention": "torch", "in_channels": None,
     "out_channels": None, "dims": 2},
    lambda o: _uk_resize({k: v for k, v in o.items() if k not in ("in_channels", "out_channels", "dims")}),
    varkw=True, choices={"method": ("nearest", "linear", "cubic")}, cost={"method": _METHOD_COST},
    request=_torch_request))


def _uk_preset(o: dict[str, Any]) -> Built:
    extra = {k: v for k, v in o.items() if k not in ("convention", "method")}
    return Built(_preset("method", str(o.get("convention")), str(o.get("method")), **extra), None,
                 notes=("a Resampling spec fixes no size: the other call's output size is used",))


_register(Signature(
    "upsamplekit.preset", "upsamplekit", "Resampling.preset", ("Resampling.preset", "upsamplekit.Resampling.preset"),
    ("convention", "method"), {}, _uk_preset, varkw=True))


def _uk_transposed(o: dict[str, Any]) -> Built:
    if o.get("init", "default") != "bilinear":
        raise OptionError("init", "TransposedConv with init='default' has random, learned weights: it is not a fixed "
                                  "upsampling; use init='bilinear' to compare its bilinear initialisation")
    if o.get("dims", 2) != 2:
        raise OptionError("dims", "explain compares 2-D upsampling (dims=2)")
    scale = _int_pair("scale", o.get("scale"), 1)
    kernel = None if o.get("kernel_size") is None else _int_pair("kernel_size", o["kernel_size"], 1)
    t = Transposed.upsamplekit(scale, kernel, _flag("exact_borders", o.get("exact_borders", False)))
    return Built(request=("scale", (float(scale[0]), float(scale[1]))), transposed=t)


_register(Signature(
    "upsamplekit.TransposedConv", "upsamplekit", "TransposedConv",
    ("TransposedConv", "upsamplekit.nn.TransposedConv", "nn.TransposedConv"),
    ("in_channels", "out_channels", "scale", "dims", "kernel_size", "init", "exact_borders", "bias"),
    {"dims": 2, "kernel_size": None, "init": "default", "exact_borders": False, "bias": True},
    _uk_transposed, symbolic=("in_channels", "out_channels"), choices={"exact_borders": (False, True)}))


# ---------------------------------------------------------------------- not upsampling calls
_NOT_UPSAMPLING = {
    "Conv2d": "a convolution (it keeps or shrinks the size)", "conv2d": "a convolution (it keeps or shrinks the size)",
    "MaxPool2d": "a pooling (it shrinks the size)", "AvgPool2d": "a pooling (it shrinks the size)",
    "max_pool2d": "a pooling (it shrinks the size)", "avg_pool2d": "a pooling (it shrinks the size)",
    "PixelShuffle": "a pixel shuffle: it moves channels into space and does not interpolate each channel",
    "pixel_shuffle": "a pixel shuffle: it moves channels into space and does not interpolate each channel",
    "ConvTranspose2d": "a transposed convolution with learned (random) weights, not a fixed upsampling; write "
                       "'convtranspose: bilinear(kernel=4, stride=2, padding=1)' for the bilinear filler",
    "Conv2DTranspose": "a transposed convolution with learned (random) weights, not a fixed upsampling; write "
                       "'convtranspose: bilinear(kernel=4, stride=2, padding=1)' for the bilinear filler",
    "UpSampling1D": "a 1-D upsampling: explain compares 2-D (image) upsampling",
    "UpSampling3D": "a 3-D upsampling: explain compares 2-D (image) upsampling",
    "pad": "a padding", "Linear": "a linear layer", "reshape": "a reshape",
}


# ------------------------------------------------------------------------------------- API
def _match(raw: RawCall) -> Signature:
    callee = raw.callee
    last = callee.split(".")[-1]
    candidates = [s for s in SIGNATURES.values() if raw.framework in (None, s.framework)]
    for sig in candidates:
        if callee in sig.spellings:
            return sig
    for sig in candidates:  # a different module path: match on the last name
        if sig.key != "pillow.resize" and last in {sp.split(".")[-1] for sp in sig.spellings} and \
                not (sig.framework == "upsamplekit" and last == "resize" and raw.framework != "upsamplekit"):
            return sig
    if raw.framework == "pillow" and last == "resize":
        return SIGNATURES["pillow.resize"]
    if raw.framework == "onnx" and last == "make_node":
        raise raw.error("write the Resize node's attributes as a call: 'onnx: Resize(mode=..., ...)'")
    if raw.framework is None:
        raise raw.error(f"cannot tell which framework {callee!r} belongs to: write the prefix, for example "
                        f"'torch: {callee}(...)'", forms=True)
    if last in _NOT_UPSAMPLING:
        raise raw.error(f"{callee} is not an upsampling call: it is {_NOT_UPSAMPLING[last]}")
    names = sorted({s.function for s in SIGNATURES.values() if s.framework == raw.framework})
    suggestion = closest(callee, [sp for s in SIGNATURES.values() if s.framework == raw.framework
                                  for sp in s.spellings])
    hint = f"; did you mean {suggestion!r}?" if suggestion else ""
    raise raw.error(f"{callee} is not an upsampling call of {raw.framework} that explain knows (its calls: "
                    f"{', '.join(names)}){hint}", forms=True)


def _bind(raw: RawCall, sig: Signature) -> tuple[dict[str, Any], dict[str, int]]:
    """Arguments by parameter name (literals), and the column of each given argument."""
    values: dict[str, Any] = {}
    columns: dict[str, int] = {}
    params = list(sig.params)
    if len(raw.positional) > len(params):
        extra = raw.positional[len(params)]
        raise raw.error(f"{sig.function} takes at most {len(params)} positional arguments "
                        f"({', '.join(params) or 'keywords only'}), but got {len(raw.positional)}", extra.column)
    for name, arg in zip(params, raw.positional):
        values[name], columns[name] = arg.value, arg.column
    for name, arg in raw.keywords.items():
        if name in values:
            raise raw.error(f"{sig.function} got {name!r} twice (positionally and as a keyword)", arg.column)
        if name not in sig.params and name not in sig.defaults and not sig.varkw:
            suggestion = closest(name, [p for p in (*sig.params, *sig.defaults) if p])
            hint = f"; did you mean {suggestion!r}?" if suggestion else ""
            raise raw.error(f"{sig.function} has no argument {name!r}{hint}",
                            arg.name_column if arg.name_column is not None else arg.column)
        values[name], columns[name] = arg.value, arg.column
    for name, value in values.items():
        if name == sig.tensor or name in sig.symbolic or name == "weight":
            continue
        if isinstance(value, Symbol):
            raise raw.error(f"{name}={value} is a variable: its value is not in the text; write the value itself "
                            f"(the call is read, never run)", columns[name])
        if isinstance(value, Nested):
            raise raw.error(f"{name}={value.source} is a call: write its value itself (the call is read, never run)",
                            columns[name])
    return values, columns


def parse_call(text: str | Call, label: str = "") -> Call:
    """Read one upsampling call (see :mod:`upsamplekit.explainer.parse` for the forms) into a :class:`Call`.

    Errors are :class:`~upsamplekit.explainer.parse.CallParseError` (a ``ValueError``) that point
    at the column of the problem; ``label`` (``A`` / ``B``) prefixes them.

    >>> parse_call("keras: UpSampling2D(size=(2, 2), interpolation='bilinear')").spec.coordinates
    'half_pixel'
    >>> parse_call("torch: nn.PixelShuffle(2)")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upsamplekit.explainer.parse.CallParseError: nn.PixelShuffle is not an upsampling call: it is a pixel shuffle...
      torch: nn.PixelShuffle(2)
             ^ (column 7)
    """
    if isinstance(text, Call):
        return text
    try:
        raw = read_call(text)
        sig = _match(raw)
        values, columns = _bind(raw, sig)
        return _construct(sig, values, raw.text, columns, raw)
    except CallParseError as error:
        raise (error.labelled(label) if label else error) from None


def _construct(sig: Signature, values: dict[str, Any], source: str, columns: dict[str, int] | None = None,
               raw: RawCall | None = None) -> Call:
    options = {**{k: v for k, v in sig.defaults.items() if v is not MISSING}, **values}
    try:
        built = sig.build(options)
    except OptionError as error:
        if raw is None:
            raise InvalidArgumentError(error.message) from None
        column = (columns or {}).get(error.option or "", raw.column)
        raise raw.error(error.message, column) from None
    given = tuple((k, v) for k, v in values.items())
    return Call(sig.framework, sig.function, given, source, built.spec, built.request, built.transposed,
                built.layout, built.size_order, built.notes, sig.key,  # type: ignore[arg-type]
                tensor=str(values.get(sig.tensor, "x")) if sig.tensor else None)


def rebuild(call: Call, changes: dict[str, Any], signature: str | None = None) -> Call:
    """``call`` with some options changed (``None`` removes an option where None is not a value of it).

    ``signature``: move the call to another callee of its framework that takes the same
    arguments and more (``nn.Upsample`` -> ``F.interpolate``, which has ``antialias``). A
    changed ``F.conv_transpose2d`` call becomes the ``convtranspose: bilinear(...)`` form,
    which has every knob (``border='replicate'`` has no conv_transpose2d argument).
    Raises :class:`~upsamplekit.errors.InvalidArgumentError` for an invalid combination.
    """
    sig = SIGNATURES[call.signature]
    options = call.option_dict
    if signature is not None and signature != sig.key:
        target = SIGNATURES[signature]
        options = {**sig.implied, **{k: v for k, v in options.items() if k in target.params and k != sig.tensor}}
        sig = target
    if sig.key == "torch.conv_transpose2d":
        t = call.transposed
        assert t is not None
        base = SIGNATURES["convtranspose.bilinear"]
        given = options
        options = {"kernel": _compact(t.kernel), "stride": _compact(t.stride), "padding": given.get("padding", 0)}
        if given.get("output_padding"):
            options["output_padding"] = given["output_padding"]
        sig = base
    for key, value in changes.items():
        if value is None and sig.defaults.get(key, MISSING) is not None:
            options.pop(key, None)
        else:
            options[key] = value
    built = _construct(sig, options, "")
    built = replace(built, tensor=(call.tensor or "x") if sig.tensor else None)
    return replace(built, source=render(built))


def render(call: Call) -> str:
    """The call in its framework's words, every given option as a keyword.

    >>> render(parse_call("pillow: img.resize((64, 48), Image.BICUBIC)"))
    'pillow: img.resize(size=(64, 48), resample=Image.BICUBIC)'
    """
    sig = SIGNATURES[call.signature]
    parts = [call.tensor or "x"] if sig.tensor else []
    options = call.option_dict
    ordered = [p for p in sig.params if p in options] + [k for k in options if k not in sig.params]
    for key in ordered:
        value = options[key]
        if key == sig.tensor or value is None and sig.defaults.get(key, MISSING) is None:
            continue
        parts.append(f"{key}={_show(value)}")
    return f"{sig.framework}: {sig.function}({', '.join(parts)})"


def request_options(call: Call, request: Request) -> list[dict[str, Any]]:
    """Option changes that make ``call`` ask for ``request`` in its own words (may be empty)."""
    sig = SIGNATURES[call.signature]
    return sig.request(request) if sig.request is not None else []


def _show(value: Any) -> str:
    if isinstance(value, (Constant, Symbol)):
        return str(value)
    if isinstance(value, Nested):
        return value.source
    if isinstance(value, tuple):
        inner = ", ".join(_show(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _compact(values: Sequence[int]) -> int | tuple[int, ...]:
    return int(values[0]) if len(set(values)) == 1 else tuple(int(v) for v in values)


def _tidy1(value: float) -> int | float:
    return int(value) if float(value) == int(value) else float(value)


def _tidy(values: Sequence[float], integer: bool = False) -> Any:
    items = tuple(int(v) if integer or float(v) == int(v) else float(v) for v in values)
    return items[0] if len(set(items)) == 1 and not integer else items
