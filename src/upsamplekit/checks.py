"""The argument rules every part of upsamplekit shares, written once.

"One value, or one per axis", "a positive integer", "1, 2 or 3 spatial axes", "an integer
scale": resample, nn, the study and the explainer all check these, and all say the same thing
when they fail. Each check returns the normalised value or raises an
:class:`~upsamplekit.errors.InvalidArgumentError` / :class:`~upsamplekit.errors.InvalidTypeError`
that names the argument, the rule and the value given. ``where`` (a layer or function name)
prefixes the message when the argument belongs to one.

This module imports neither torch nor numpy: the command line's shape arithmetic uses it too.

>>> per_axis("size", 4, 2)
[4, 4]
>>> per_axis("size", (4, 6), 2)
[4, 6]
>>> per_axis("size", (4, 6, 8), 2)
Traceback (most recent call last):
...
upsamplekit.errors.InvalidArgumentError: size must be one value or 2 values (one per axis), but got 3: (4, 6, 8)
>>> integer_scale("scale", (2, 3), 2, where="SubPixelConv")
(2, 3)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, TypeGuard

from .errors import InvalidArgumentError, InvalidTypeError

__all__ = [
    "is_integer",
    "is_real",
    "is_finite",
    "sequence_items",
    "per_axis",
    "positive_int",
    "check_dims",
    "integer_scale",
    "positive_scale",
    "compact",
    "require_type",
    "check_bool",
]


def _prefix(where: str | None) -> str:
    return f"{where}: " if where else ""


def is_integer(value: object) -> TypeGuard[numbers.Integral]:
    """An integral number that is not a bool (``True`` is not a size).

    >>> is_integer(3), is_integer(3.0), is_integer(True)
    (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: object) -> TypeGuard[numbers.Real]:
    """A real number that is not a bool.

    >>> is_real(2.5), is_real("2"), is_real(False)
    (True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_finite(value: object) -> bool:
    """A real number (not a bool) that is finite; an int too large for a float is finite too.

    >>> is_finite(10**400), is_finite(float("inf")), is_finite("1")
    (True, False, False)
    """
    if not is_real(value):
        return False
    if is_integer(value):
        return True
    try:
        return math.isfinite(value)
    except OverflowError:  # a Fraction or Decimal beyond float's range
        return False


def sequence_items(value: object) -> list[Any] | None:
    """The items of a per-axis sequence (tuple, list, ``torch.Size``, 1-D array), or None for a single value.

    Strings are single values, never sequences of characters.

    >>> sequence_items((2, 3)), sequence_items(2), sequence_items("ab")
    ([2, 3], None, None)
    """
    if isinstance(value, (str, bytes)):
        return None
    if isinstance(value, Sequence):
        return list(value)
    if getattr(value, "ndim", None) == 1 and hasattr(value, "__iter__"):  # a 1-D numpy array or tensor
        return list(value)
    return None


def per_axis(name: str, value: object, count: int, *, where: str | None = None, rule: str | None = None) -> list[Any]:
    """``value`` once per axis: a single value repeated ``count`` times, or a sequence of exactly ``count``.

    ``rule`` replaces the default wording of the rule in the error message.

    >>> per_axis("scale_factor", [2.0, 3.0], 2)
    [2.0, 3.0]
    """
    items = sequence_items(value)
    if items is None:
        return [value] * count
    if len(items) != count:
        wording = rule or f"{name} must be one value or {count} values (one per axis)"
        raise InvalidArgumentError(f"{_prefix(where)}{wording}, but got {len(items)}: {value!r}")
    return items


def positive_int(name: str, value: object, *, where: str | None = None) -> int:
    """``value`` as an int >= 1 (bools and floats are refused).

    >>> positive_int("groups", 4)
    4
    >>> positive_int("groups", 0, where="CARAFE")
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: CARAFE: groups must be a positive integer, but got 0
    """
    if not is_integer(value) or int(value) < 1:
        raise InvalidArgumentError(f"{_prefix(where)}{name} must be a positive integer, but got {value!r}")
    return int(value)


def check_dims(dims: object, *, where: str | None = None) -> int:
    """``dims`` (the number of spatial axes) as an int in (1, 2, 3).

    >>> check_dims(2)
    2
    """
    if not is_integer(dims) or int(dims) not in (1, 2, 3):
        raise InvalidArgumentError(f"{_prefix(where)}dims must be 1, 2 or 3 (the number of spatial axes), "
                                   f"but got {dims!r}")
    return int(dims)


def integer_scale(name: str, scale: object, dims: int, *, where: str | None = None) -> tuple[int, ...]:
    """``scale`` (an integer, or one integer per spatial axis) as a ``dims``-tuple of ints >= 1.

    Floats with an integer value (``2.0``) are accepted; ``1.5`` is an error.

    >>> integer_scale("scale", 2, 3)
    (2, 2, 2)
    >>> integer_scale("scale", 1.5, 1)
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: scale must be an integer >= 1 or 1 such integers (one per spatial axis, dims=1), but got 1.5
    """
    rule = f"{name} must be an integer >= 1 or {dims} such integers (one per spatial axis, dims={dims})"
    items = sequence_items(scale)
    if items is None:
        items = [scale] * dims
    elif len(items) != dims:
        raise InvalidArgumentError(f"{_prefix(where)}{rule}, but got {len(items)} values: {scale!r}")
    out = []
    for s in items:
        value = float(s) if is_real(s) else math.nan
        if not math.isfinite(value) or value != int(value) or value < 1:
            raise InvalidArgumentError(f"{_prefix(where)}{rule}, but got {scale!r}")
        out.append(int(value))
    return tuple(out)


def positive_scale(name: str, scale: object, dims: int, *, where: str | None = None) -> tuple[float, ...] | float:
    """``scale`` as a positive finite number, or a ``dims``-tuple of them (kept per axis).

    Integral values come back as ints.

    >>> positive_scale("scale", 2.0, 2), positive_scale("scale", (1.5, 2), 2)
    (2, (1.5, 2))
    """
    rule = f"{name} must be a positive number or {dims} of them (one per spatial axis, dims={dims})"
    items = sequence_items(scale)
    if items is not None and len(items) != dims:
        raise InvalidArgumentError(f"{_prefix(where)}{rule}, but got {len(items)} values: {scale!r}")
    values: list[float] = []
    for s in items if items is not None else [scale]:
        value = float(s) if is_real(s) else math.nan
        if not math.isfinite(value) or value <= 0:
            raise InvalidArgumentError(f"{_prefix(where)}{rule}, but got {scale!r}")
        values.append(int(value) if value == int(value) else value)
    return tuple(values) if items is not None else values[0]


def compact(values: Sequence[Any]) -> Any:
    """One value when every axis has the same, else the tuple (for ``extra_repr`` and messages).

    >>> compact((2, 2)), compact((2, 3))
    (2, (2, 3))
    """
    return values[0] if len(set(values)) == 1 else tuple(values)


def require_type(name: str, value: object, kinds: type | tuple[type, ...], wanted: str,
                 *, where: str | None = None) -> Any:
    """``value`` if it is an instance of ``kinds``, else an :class:`InvalidTypeError` saying ``wanted``.

    >>> require_type("image", 3, str, "a file path")
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidTypeError: image must be a file path, but got int
    """
    if not isinstance(value, kinds):
        raise InvalidTypeError(f"{_prefix(where)}{name} must be {wanted}, but got {type(value).__name__}")
    return value


def check_bool(name: str, value: object, where: str | None = None) -> bool:
    """``value`` if it is True or False; anything else (``"no"``, ``"False"``, ``0``, ``1``, None) is an
    :class:`InvalidTypeError`, never read as truthy.

    >>> check_bool("fix", False)
    False
    >>> check_bool("fix", "no")
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidTypeError: fix must be True or False, but got 'no'
    """
    if not isinstance(value, bool):
        raise InvalidTypeError(f"{_prefix(where)}{name} must be True or False, but got {value!r}")
    return value
