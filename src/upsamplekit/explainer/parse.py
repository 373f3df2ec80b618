"""Read an upsampling call written in a framework's own words, with Python's ``ast`` (never ``eval``).

A call is written ``FRAMEWORK: CALL``, for example ``torch: nn.Upsample(scale_factor=2,
mode='bilinear')``; the prefix may be left out where the callee names its framework
(``cv2.resize``, ``jax.image.resize``, ``UpSampling2D``, ...). A pasted line such as
``out = F.interpolate(x, scale_factor=2)`` or ``nn.Upsample(scale_factor=2)(x)`` is read too.

This module only turns the text into a :class:`RawCall`: the framework, the callee as a
dotted name, and every argument as a literal value with its column in the text. The
vocabulary (:mod:`upsamplekit.explainer.vocab`) decides what the arguments mean. Argument
values must be literals (numbers, strings, True/False/None, tuples and lists of them, and
dotted constants such as ``cv2.INTER_AREA``); a plain name (``x``, ``shape``) is kept as a
:class:`Symbol`, a nested call (``make_bilinear_weights(4, 1)``) as a :class:`Nested` call, and
anything else is an error that points at it.

>>> raw = read_call("torch: nn.Upsample(scale_factor=2, mode='bilinear')")
>>> raw.framework, raw.callee, raw.keywords["mode"].value, raw.keywords["mode"].column
('torch', 'nn.Upsample', 'bilinear', 40)
>>> read_call("cv2.resize(x, (64, 48), interpolation=cv2.INTER_AREA)").framework
'cv2'
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import InvalidArgumentError, InvalidTypeError, closest

__all__ = ["CallParseError", "RawCall", "Argument", "Symbol", "Constant", "Nested", "read_call", "FRAMEWORKS",
           "FORMS", "MAX_CALL_LENGTH", "MAX_NESTING"]

T = TypeVar("T")

#: The longest call text read (characters). The longest form written out in full (an ONNX ``Resize``
#: with every attribute) is about 300; a pasted line with long names fits several times over.
MAX_CALL_LENGTH = 2000
#: The deepest nesting read: brackets inside brackets, plus a run of signs (``--2``). A call needs 3 or 4.
#: Both limits are checked before ``ast.parse``, whose recursion a deeper text would exhaust.
MAX_NESTING = 32

# Framework prefixes (and the spellings users write) -> the canonical framework name.
FRAMEWORKS: dict[str, str] = {
    "torch": "torch", "pytorch": "torch",
    "keras": "keras",
    "tf": "tf", "tensorflow": "tf", "tf1": "tf",
    "jax": "jax",
    "onnx": "onnx",
    "cv2": "cv2", "opencv": "cv2",
    "pillow": "pillow", "pil": "pillow",
    "convtranspose": "convtranspose", "deconv": "convtranspose", "transposed": "convtranspose",
    "upsamplekit": "upsamplekit",
}

# One example per accepted form: listed in every parse error.
FORMS: tuple[str, ...] = (
    "torch: nn.Upsample(size=None, scale_factor=None, mode='nearest', align_corners=None)",
    "torch: F.interpolate(x, size=None, scale_factor=None, mode='nearest', align_corners=None, antialias=False)",
    "torch: F.upsample(...), nn.UpsamplingBilinear2d(...), nn.UpsamplingNearest2d(...)",
    "torch: F.conv_transpose2d(x, make_bilinear_weights(4, 1), stride=2, padding=1)",
    "keras: UpSampling2D(size=(2, 2), interpolation='nearest')",
    "keras: Resizing(height, width, interpolation='bilinear', antialias=False)",
    "tf: tf.image.resize(x, (64, 64), method='bilinear', antialias=False)",
    "tf: tf.compat.v1.image.resize_bilinear(x, (64, 64), align_corners=False, half_pixel_centers=False)",
    "jax: jax.image.resize(x, shape, method='linear', antialias=True)",
    "onnx: Resize(mode='nearest', coordinate_transformation_mode='half_pixel', ..., scales=(2, 2))",
    "cv2: cv2.resize(x, (width, height), fx=None, fy=None, interpolation=cv2.INTER_LINEAR)",
    "pillow: img.resize((width, height), Image.BICUBIC)",
    "convtranspose: bilinear(kernel=4, stride=2, padding=1, output_padding=0, border='zero')",
    "upsamplekit: Resampling(kernel='linear', coordinates='half_pixel', ...), resize(x, scale_factor=2, ...), "
    "TransposedConv(C, C, 2, init='bilinear')",
)

_PREFIX = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*:")


class CallParseError(InvalidArgumentError):
    """A call that cannot be read: the message points at the column and lists the accepted forms.

    ``text`` is the call as given and ``column`` the 0-based position of the problem in it.
    """

    def __init__(self, message: str, text: str = "", column: int | None = None, label: str = "",
                 forms: bool = True) -> None:
        self.text, self.column, self.reason = text, column, message
        lead = f"{label}: " if label else ""
        lines = [f"{lead}{message}"]
        if text:
            lines.append(f"  {text}")
            if column is not None:
                lines.append("  " + " " * column + f"^ (column {column})")
        if forms:
            lines.append("accepted forms:")
            lines.extend(f"  {form}" for form in FORMS)
        super().__init__("\n".join(lines))

    def labelled(self, label: str) -> CallParseError:
        """The same error with ``label`` (``A`` or ``B``) in front."""
        return CallParseError(self.reason, self.text, self.column, label, forms="accepted forms" in str(self))


class Symbol(str):
    """A name that is not a literal (``x``, ``shape``): accepted only where its value does not matter."""


class Constant(str):
    """A dotted constant (``cv2.INTER_AREA``, ``Image.BICUBIC``); the vocabulary maps it to a value."""


@dataclass(frozen=True)
class Nested:
    """A call inside an argument (``make_bilinear_weights(4, 1)``): its callee and literal arguments."""

    callee: str
    positional: tuple[Any, ...]
    keywords: dict[str, Any]
    source: str


@dataclass(frozen=True)
class Argument:
    """One argument: its literal value and where it starts and ends in the text (0-based columns)."""

    value: Any
    column: int
    end: int
    name_column: int | None = None  # where a keyword argument's name starts


@dataclass(frozen=True)
class RawCall:
    """A call as written: the framework (``None`` when neither given nor implied), the dotted
    callee, and the arguments with their columns in ``text``."""

    text: str
    framework: str | None
    callee: str
    column: int
    positional: tuple[Argument, ...]
    keywords: dict[str, Argument] = field(default_factory=dict)

    def error(self, message: str, column: int | None = None, forms: bool = False) -> CallParseError:
        """A :class:`CallParseError` about this call, pointing at ``column`` (the callee by default)."""
        return CallParseError(message, self.text, self.column if column is None else column, forms=forms)


def read_call(text: str) -> RawCall:
    """Parse ``text`` (``FRAMEWORK: CALL`` or a bare call) into a :class:`RawCall`.

    >>> read_call("pillow: img.resize((64, 48), Image.BICUBIC)").positional[1].value
    'Image.BICUBIC'
    >>> read_call("torch: nn.Upsample(scale_factor=2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upsamplekit.explainer.parse.CallParseError: cannot parse the call: '(' was never closed
      torch: nn.Upsample(scale_factor=2
                        ^ (column 18)
    accepted forms:
    ...
    """
    if not isinstance(text, str):
        raise InvalidTypeError(f"an upsampling call must be a string such as {FORMS[0]!r}, but got "
                               f"{type(text).__name__}")
    if len(text) > MAX_CALL_LENGTH:
        raise CallParseError(f"a call must be at most {MAX_CALL_LENGTH} characters long (MAX_CALL_LENGTH), but got "
                             f"{len(text)} characters starting {text[:40]!r}", forms=False)
    flat = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    framework: str | None = None
    start = 0
    match = _PREFIX.match(flat)
    if match and "(" not in flat[: match.end()]:
        name = match.group(1)
        if name.lower() not in FRAMEWORKS:
            suggestion = closest(name.lower(), sorted(FRAMEWORKS))
            hint = f"; did you mean {suggestion!r}?" if suggestion else ""
            choices = ", ".join(sorted(set(FRAMEWORKS)))
            raise CallParseError(f"the framework prefix must be one of {choices}, but got {name!r}{hint}", flat,
                                 match.start(1))
        framework = FRAMEWORKS[name.lower()]
        start = match.end()
    start += len(flat[start:]) - len(flat[start:].lstrip())
    flat = flat.rstrip()
    body = flat[start:]
    if not body.strip():
        raise CallParseError("there is no call after the framework prefix", flat, len(flat))
    _check_nesting(body, start, flat)
    try:
        module = ast.parse(body, mode="exec")
    except SyntaxError as error:
        column = start + max((error.offset or 1) - 1, 0)
        raise CallParseError(f"cannot parse the call: {error.msg}", flat, min(column, len(flat))) from None
    except (RecursionError, MemoryError):  # a chain of operators the bounds above let through
        raise CallParseError(f"the call is nested too deeply to read (at most {MAX_NESTING} levels, MAX_NESTING)",
                             flat, start, forms=False) from None
    if len(module.body) != 1 or not isinstance(module.body[0], (ast.Expr, ast.Assign, ast.AnnAssign)):
        raise CallParseError("expected one call (or one assignment of a call)", flat, start)
    node = module.body[0].value
    if node is None:
        raise CallParseError("expected a call after '='", flat, len(flat))
    # nn.Upsample(scale_factor=2)(x), UpSampling2D(size=2)(x): the layer's constructor is the call.
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Call):
        node = node.func
    if not isinstance(node, ast.Call):
        raise CallParseError(f"expected a call such as {FORMS[0].split(': ', 1)[1]!r}, but got "
                             f"{_kind(node)}", flat, start + node.col_offset)
    callee = _dotted(node.func)
    if callee is None:
        raise CallParseError("the callee must be a name or a dotted name (nn.Upsample, cv2.resize, img.resize)",
                             flat, start + node.func.col_offset)
    positional = tuple(_argument(arg, body, start, flat) for arg in node.args)
    def read(keyword: ast.keyword) -> Argument:
        argument = _argument(keyword.value, body, start, flat)
        return Argument(argument.value, argument.column, argument.end, start + keyword.col_offset)

    keywords = _keywords(node, read, start, flat)
    if framework is None:
        framework = implied_framework(callee)
    return RawCall(flat, framework, callee, start + node.func.col_offset, positional, keywords)


def _check_nesting(body: str, start: int, flat: str) -> None:
    """Refuse a text nested deeper than :data:`MAX_NESTING` (brackets, plus runs of signs), read token by
    token (strings are skipped whole); a text the tokenizer cannot read is left to ``ast.parse`` to report."""
    depth = signs = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(body).readline):
            text = token.string
            if token.type == tokenize.OP and text in "([{":
                depth += 1
            elif token.type == tokenize.OP and text in ")]}":
                depth = max(depth - 1, 0)
            signs = signs + 1 if text in ("-", "+", "~", "not") else 0
            if depth + signs > MAX_NESTING:
                raise CallParseError(f"a call may nest at most {MAX_NESTING} levels (brackets and signs, "
                                     f"MAX_NESTING), but this one nests deeper", flat, start + token.start[1],
                                     forms=False)
    except (tokenize.TokenError, SyntaxError):
        return


def _keywords(node: ast.Call, read: Callable[[ast.keyword], T], start: int, flat: str) -> dict[str, T]:
    """A call's keyword arguments by name, each read by ``read``; ``**kwargs`` and a repeated keyword
    (which Python itself refuses) are errors pointing at the text."""
    keywords: dict[str, T] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise CallParseError("**kwargs cannot be read; write each argument out", flat,
                                 start + keyword.value.col_offset - 2)
        if keyword.arg in keywords:
            raise _repeated(keyword, start, flat)
        keywords[keyword.arg] = read(keyword)
    return keywords


def _repeated(keyword: ast.keyword, start: int, flat: str) -> CallParseError:
    """Python refuses a call that gives a keyword twice (``f(a=1, a=2)``), and so does explain."""
    return CallParseError(f"keyword argument repeated: {keyword.arg!r} is given twice (Python refuses such a call)",
                          flat, start + keyword.col_offset, forms=False)


def implied_framework(callee: str) -> str | None:
    """The framework a callee names on its own, or None when it needs a prefix.

    >>> implied_framework("F.interpolate"), implied_framework("layers.UpSampling2D"), implied_framework("f")
    ('torch', 'keras', None)
    """
    last = callee.split(".")[-1]
    head = callee.split(".")[0]
    if head in ("torch", "nn", "F") or last in ("interpolate", "upsample", "Upsample", "UpsamplingBilinear2d",
                                                "UpsamplingNearest2d", "conv_transpose2d"):
        return "torch"
    if last in ("UpSampling2D", "Resizing", "UpSampling1D", "UpSampling3D") or head == "keras":
        return "keras"
    if head == "tf":
        return "tf"
    if head == "jax":
        return "jax"
    if head == "cv2":
        return "cv2"
    if last == "Resize" or head == "onnx":
        return "onnx"
    if last in ("Resampling", "resize_spec", "Interpolate", "TransposedConv") or head == "upsamplekit":
        return "upsamplekit"
    if last == "bilinear":
        return "convtranspose"
    if last == "resize" and head not in ("tf", "jax", "cv2", "upsamplekit"):
        return "pillow"
    return None


def _kind(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return f"the name {node.id!r}"
    if isinstance(node, ast.Attribute):
        return f"the attribute {_dotted(node)!r}"
    if isinstance(node, ast.Constant):
        return f"the constant {node.value!r}"
    return f"a {type(node).__name__} expression"


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a dotted name, a call on the way kept as ``()`` (``Image.open(path).resize`` is
    ``Image.open().resize``, an unreadable callee inside it ``<call>``); None for anything else.
    Iterative, so a long chain ``a().b().c()...`` needs no recursion."""
    segments: list[str | None] = []  # outermost first; None marks a call of what follows
    while True:
        while isinstance(node, ast.Attribute):
            segments.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            segments.append(node.id)
            break
        if not isinstance(node, ast.Call):
            if None not in segments:
                return None
            while segments.pop() is not None:  # what the innermost call calls cannot be named
                pass
            segments.append("<call>")
            break
        segments.append(None)
        node = node.func
    parts: list[str] = []
    for segment in reversed(segments):
        if segment is None:
            parts[-1] += "()"
        else:
            parts.append(segment)
    return ".".join(parts)


def _argument(node: ast.expr, body: str, start: int, flat: str) -> Argument:
    column = start + node.col_offset
    end = start + (node.end_col_offset if node.end_col_offset is not None else node.col_offset)
    return Argument(_literal(node, body, start, flat), column, end)


def _literal(node: ast.expr, body: str, start: int, flat: str) -> Any:
    """The value of a literal node; names become Symbol, dotted names Constant, calls Nested."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_literal(e, body, start, flat) for e in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand, body, start, flat)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Name):
        return Symbol(node.id)
    if isinstance(node, ast.Attribute):
        dotted = _dotted(node)
        if dotted is not None and "(" not in dotted:
            return Constant(dotted)
    if isinstance(node, ast.Call):
        callee = _dotted(node.func)
        if callee is not None:
            positional = tuple(_literal(a, body, start, flat) for a in node.args)
            keywords = _keywords(node, lambda k: _literal(k.value, body, start, flat), start, flat)
            source = ast.get_source_segment(body, node) or callee
            return Nested(callee, positional, keywords, source)
    segment = ast.get_source_segment(body, node) or type(node).__name__
    raise CallParseError(
        f"argument values must be literals (numbers, strings, True/False/None, tuples of them, or constants such "
        f"as cv2.INTER_AREA), but got {segment!r}; the call is read, never run",
        flat, start + node.col_offset)
