"""The registry of every framework's callees, and reading, re-building and writing calls with it.

:data:`SIGNATURES` gathers each framework module's signatures (one module per framework, each
the one source of truth for its calls). :func:`parse_call` matches a call's callee to its
signature, binds the arguments and builds the :class:`~upsamplekit.explainer.calls.Call`;
:func:`rebuild` changes options (the fix search) and :func:`render` writes a call back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...checks import compact
from ...errors import InvalidArgumentError, closest
from ..calls import Call, Request
from ..parse import CallParseError, Nested, RawCall, Symbol, read_call
from . import convtranspose, jax, keras, onnx, opencv, pillow, tensorflow, torch, upsamplekit
from .common import MISSING, Built, OptionError, Signature, show

__all__ = ["SIGNATURES", "NOT_UPSAMPLING", "owner", "parse_call", "rebuild", "render", "request_options"]

_MODULES = (torch, convtranspose, keras, tensorflow, jax, onnx, opencv, pillow, upsamplekit)

#: Every callee of the vocabulary by its key (``torch.Upsample``, ``cv2.resize``, ...).
SIGNATURES: dict[str, Signature] = {sig.key: sig for module in _MODULES for sig in module.SIGNATURES}

#: Callees that are not upsamplings (by their last name), and what they are.
NOT_UPSAMPLING: dict[str, str] = {**torch.NOT_UPSAMPLING, **keras.NOT_UPSAMPLING}


#: Module names that say which framework a dotted callee comes from (``cv2.resize``: cv2), by its first name.
_OWNERS: dict[str, str] = {
    "cv2": "cv2", "tf": "tf", "tensorflow": "tf", "jax": "jax", "torch": "torch", "nn": "torch",
    "F": "torch", "keras": "keras", "layers": "keras", "onnx": "onnx", "upsamplekit": "upsamplekit",
    "uk": "upsamplekit", "PIL": "pillow", "Image": "pillow",
}
_LIBRARIES = {"cv2": "OpenCV", "tf": "TensorFlow", "jax": "JAX", "torch": "PyTorch", "keras": "Keras",
              "onnx": "ONNX", "upsamplekit": "upsamplekit", "pillow": "Pillow"}


def owner(callee: str) -> str | None:
    """The framework whose module a dotted callee names (``tf.keras.layers.X`` is Keras), or None.

    >>> owner("cv2.resize"), owner("tf.keras.layers.Resizing"), owner("img.resize")
    ('cv2', 'keras', None)
    """
    names = callee.split(".")
    if len(names) < 2:
        return None
    if "keras" in names[:-1]:
        return "keras"
    return _OWNERS.get(names[0].removesuffix("()"))


def _match(raw: RawCall) -> Signature:
    callee = raw.callee
    last = callee.split(".")[-1]
    candidates = [s for s in SIGNATURES.values() if raw.framework in (None, s.framework)]
    for sig in candidates:
        if callee in sig.spellings:
            return sig
    other = owner(callee)
    if raw.framework is not None and other is not None and other != raw.framework:
        # tf: cv2.resize(x, (16, 8)) is OpenCV's call, whose size is (width, height): never read it as tf's
        calls = sorted({s.function for s in SIGNATURES.values() if s.framework == raw.framework})
        raise raw.error(f"{callee} belongs to {_LIBRARIES.get(other, other)} (prefix '{other}:'), not to the "
                        f"prefix '{raw.framework}:' it is written with: write '{other}: {callee}(...)', or one of "
                        f"{raw.framework}'s calls ({', '.join(calls)})")
    numpy = {"numpy", "np", "jnp"} & set(callee.split(".")[:-1])  # jnp.resize repeats the array: not a resize
    for sig in candidates if not numpy else ():  # a different module path: match on the last name
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
    if last in NOT_UPSAMPLING:
        raise raw.error(f"{callee} is not an upsampling call: it is {NOT_UPSAMPLING[last]}")
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
               raw: RawCall | None = None, tensor: str | None = None) -> Call:
    """The :class:`Call` of ``sig`` with these argument values; ``source`` defaults to its canonical text."""
    options = {**{k: v for k, v in sig.defaults.items() if v is not MISSING}, **values}
    try:
        built: Built = sig.build(options)
    except OptionError as error:
        if raw is None:
            raise InvalidArgumentError(error.message) from None
        column = (columns or {}).get(error.option or "", raw.column)
        raise raw.error(error.message, column) from None
    if sig.tensor is not None and tensor is None:
        tensor = str(values.get(sig.tensor, "x"))
    call = Call(sig.framework, sig.function, tuple(values.items()), source, built.spec, built.request,
                built.transposed, built.layout, built.size_order, built.notes, sig.key,
                tensor=tensor if sig.tensor is not None else None)
    text = render(call)
    return replace(call, text=text, source=source or text)


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
        if t is None:
            raise InvalidArgumentError(f"{call.source!r} has no transposed convolution to re-build")
        given = options
        options = {"kernel": compact(t.kernel), "stride": compact(t.stride), "padding": given.get("padding", 0)}
        if given.get("output_padding"):
            options["output_padding"] = given["output_padding"]
        sig = SIGNATURES["convtranspose.bilinear"]
    for key, value in changes.items():
        if value is None and sig.defaults.get(key, MISSING) is not None:
            options.pop(key, None)
        else:
            options[key] = value
    return _construct(sig, options, "", tensor=(call.tensor or "x") if sig.tensor else None)


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
        parts.append(f"{key}={show(value)}")
    return f"{sig.framework}: {sig.function}({', '.join(parts)})"


def request_options(call: Call, request: Request) -> list[dict[str, Any]]:
    """Option changes that make ``call`` ask for ``request`` in its own words (may be empty)."""
    sig = SIGNATURES[call.signature]
    return sig.request(request) if sig.request is not None else []
