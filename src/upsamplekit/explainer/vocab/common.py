"""The machinery every framework module of the vocabulary shares.

A :class:`Signature` describes one callee; its ``build`` function turns the call's argument
values into a :class:`Built` (a :class:`~upsamplekit.Resampling` through the framework's
preset, or a transposed convolution), raising :class:`OptionError` for a bad value. The value
helpers below read the usual argument shapes ("one value or two (height, width)", a flag, one
of a few names) with the shared rules of :mod:`upsamplekit.checks` and say which argument is wrong.

>>> pair("scale_factor", 2)
(2.0, 2.0)
>>> size("dsize", (64, 48), order="wh")  # OpenCV and Pillow write (width, height)
(48, 64)
>>> pair("scale_factor", (2, 2, 2))
Traceback (most recent call last):
...
upsamplekit.explainer.vocab.common.OptionError: scale_factor must be one value or two (height, width): explain compares 2-D (image) upsampling, but got 3: (2, 2, 2)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ...checks import is_finite, is_integer, is_real, per_axis
from ...errors import InvalidArgumentError, UpsampleError, closest
from ...resample import Resampling
from ..calls import Layout, Request, Transposed
from ..parse import Constant, Nested, Symbol

__all__ = ["MISSING", "METHOD_COST", "OptionError", "Built", "Signature", "pair", "size",
           "int_pair", "flag", "choice", "named_option", "preset", "scale_request", "size_request", "tidy",
           "tidy_one", "show"]

#: The default of a parameter that has none (it is then left out of the spec, not set to None).
MISSING: Any = object()

#: What changing the method (mode, interpolation, ...) counts in the fix search; any other option counts 1.
METHOD_COST = 1.5


class OptionError(Exception):
    """Raised by a builder: ``option`` (a parameter name, or None for the call) has a bad value;
    :func:`~upsamplekit.explainer.vocab.parse_call` turns it into a
    :class:`~upsamplekit.explainer.parse.CallParseError` pointing at that argument."""

    def __init__(self, option: str | None, message: str) -> None:
        super().__init__(message)
        self.option, self.message = option, message


@dataclass(frozen=True)
class Built:
    """What a call computes, as its ``build`` function reads it from the arguments."""

    spec: Resampling | None = None
    request: Request | None = None
    transposed: Transposed | None = None
    layout: Layout = "channels_first"
    size_order: Literal["hw", "wh"] = "hw"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signature:
    """A callee of the vocabulary.

    ``key``: its name in the registry (``torch.Upsample``); ``framework``: the prefix it is
    written with; ``function``: its name as written back; ``spellings``: the dotted names that
    call it. ``params``: parameter names in positional order (the tensor first where there is
    one); ``defaults``: values of the parameters that may be left out; ``tensor``: the input
    parameter, whose value is never read; ``symbolic``: parameters that may be a plain name
    (their value is then unknown); ``varkw``: extra keywords go to ``build`` (upsamplekit's
    ``**options``); ``choices``: the values the fix search tries per option; ``cost``: how much
    changing an option counts (changing the method counts more than a flag); ``request``: the
    option changes that make the call ask for a given size or scale; ``upgrade``: the key of a
    fuller callee that takes the same arguments and more; ``implied``: the options its name
    fixes (``nn.UpsamplingBilinear2d`` is ``mode='bilinear', align_corners=True``).
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


# --------------------------------------------------------------------------- value helpers
def pair(name: str, value: Any, integer: bool = False) -> tuple[float, float]:
    """One positive number or two (height, width) as a pair; ``integer`` requires integral values."""
    items = _two(name, value, f"{name} must be one value or two (height, width): explain compares 2-D (image) "
                              f"upsampling")
    if not all(is_real(v) for v in items):
        raise OptionError(name, f"{name} must be a number or two {'integers' if integer else 'numbers'}, "
                                f"but got {value!r}")
    if not all(is_finite(v) for v in items):  # 1e999 is a literal: inf
        raise OptionError(name, f"{name} must hold finite numbers, but got {value!r}")
    if any(abs(v) > sys.float_info.max for v in items):  # an int literal can be larger than any float
        raise OptionError(name, f"{name} must hold numbers a float can hold, but got {value!r}")
    if integer and not all(float(v) == int(v) for v in items):
        raise OptionError(name, f"{name} must hold integers, but got {value!r}")
    if not all(float(v) > 0 for v in items):
        raise OptionError(name, f"{name} must be positive, but got {value!r}")
    return (float(items[0]), float(items[1]))


def size(name: str, value: Any, order: str = "hw") -> tuple[int, int]:
    """An output size (one positive integer or two) as (height, width); ``order='wh'`` reads (width, height)."""
    h, w = (int(v) for v in pair(name, value, integer=True))
    return (w, h) if order == "wh" else (h, w)


def int_pair(name: str, value: Any, minimum: int = 0, maximum: int | None = None) -> tuple[int, int]:
    """One integer or two (height, width), each at least ``minimum`` (and at most ``maximum``)."""
    rule = f"{name} must be an integer or two (height, width)"
    items = _two(name, value, rule)
    if not all(is_integer(v) for v in items):
        raise OptionError(name, f"{rule}, but got {value!r}")
    if min(items) < minimum:
        raise OptionError(name, f"{name} must be >= {minimum}, but got {value!r}")
    if maximum is not None and max(items) > maximum:
        raise OptionError(name, f"{name} must be at most {maximum} (explain's bound on a transposed convolution's "
                                f"kernel and stride, MAX_TAPS), but got {value!r}")
    return (int(items[0]), int(items[1]))


def _two(name: str, value: Any, rule: str) -> list[Any]:
    """``value`` per axis of an image (:func:`upsamplekit.checks.per_axis`), as an :class:`OptionError`."""
    try:
        return per_axis(name, value, 2, rule=rule)
    except InvalidArgumentError as error:
        raise OptionError(name, str(error)) from None


def flag(name: str, value: Any) -> bool:
    """True or False, nothing else: a string (``'False'``) or a number is refused, never read as truthy.

    >>> flag("antialias", "False")
    Traceback (most recent call last):
    ...
    upsamplekit.explainer.vocab.common.OptionError: antialias must be True or False, but got 'False'
    """
    if isinstance(value, bool):
        return value
    raise OptionError(name, f"{name} must be True or False, but got {value!r}")


def choice(name: str, value: Any, choices: Sequence[str], what: str = "") -> str:
    """One of ``choices``, or an error naming the closest (``what`` qualifies the list)."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        hint = ""
        if isinstance(value, str):
            suggestion = closest(value, choices)
            hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        raise OptionError(name, f"{name} must be one of {listed}{what}, but got {value!r}{hint}")
    return value


def enum_or_name(value: Any, enum: str, constants: dict[str, str], methods: Sequence[str]) -> str:
    """A method given as a string (one of ``methods``) or as a constant of the framework's ``enum``
    (``tf.image.ResizeMethod.BICUBIC``: its last part is looked up in ``constants``), as the method's name."""
    if isinstance(value, Constant):
        last = value.split(".")[-1]
        if last not in constants:
            raise OptionError("method", f"method must be a {enum} ({', '.join(constants)}), but got {value}")
        return constants[last]
    return choice("method", value, methods)


def named_option(message: str, keys: Sequence[str]) -> str | None:
    """The option an error message is about: the longest option name it mentions."""
    found = sorted((k for k in keys if k in message), key=len, reverse=True)
    return found[0] if found else None


def preset(option: str, convention: str, method: str, **options: Any) -> Resampling:
    """``Resampling.preset``, its errors re-raised against ``option`` (or the option they name)."""
    try:
        return Resampling.preset(convention, method, **options)
    except UpsampleError as error:
        message = str(error)
        named = named_option(message, [k for k in options if f"{k}=" in message or message.startswith(k)])
        raise OptionError(named or option, message) from None


def scale_request(name: str, value: Any) -> Request:
    """A ``("scale", (sh, sw))`` request from one positive number or two."""
    return ("scale", pair(name, value))


def size_request(key: str, order: str = "hw") -> Callable[[Request], list[dict[str, Any]]]:
    """The option change that asks for a size through the one argument ``key`` (none for a scale)."""
    def options(request: Request) -> list[dict[str, Any]]:
        kind, values = request
        if kind != "size":
            return []
        h, w = int(values[0]), int(values[1])
        return [{key: (w, h) if order == "wh" else (h, w)}]
    return options


def tidy_one(value: float) -> int | float:
    """An integral float as an int (``2.0`` -> ``2``), as a user would write it."""
    return int(value) if float(value) == int(value) else float(value)


def tidy(values: Sequence[float], integer: bool = False) -> Any:
    """A pair as a user would write it: ints where integral, one value when both are equal
    (never for ``integer`` sizes, which stay a pair)."""
    items = tuple(int(v) if integer or float(v) == int(v) else float(v) for v in values)
    return items[0] if len(set(items)) == 1 and not integer else items


def show(value: Any) -> str:
    """An argument value as it is written in a call (constants and names bare, strings quoted).

    >>> show((2, Constant("cv2.INTER_AREA"), "bilinear"))
    "(2, cv2.INTER_AREA, 'bilinear')"
    """
    if isinstance(value, (Constant, Symbol)):
        return str(value)
    if isinstance(value, Nested):
        return value.source
    if isinstance(value, tuple):
        inner = ", ".join(show(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)
