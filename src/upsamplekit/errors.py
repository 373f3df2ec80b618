"""The one error root of upsamplekit and its few subclasses.

Every error the library raises for bad input derives from :class:`UpsampleError`.
Subclasses also derive from the built-in exception a Python user would catch
(``ValueError``, ``TypeError``), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "UpsampleError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "OutputTooLargeError",
    "MissingDependencyError",
    "closest",
    "unknown_choice",
]


class UpsampleError(Exception):
    """Root of every error raised by upsamplekit."""


class InvalidArgumentError(UpsampleError, ValueError):
    """An argument has a value that breaks a stated rule."""


class InvalidTypeError(UpsampleError, TypeError):
    """An argument has a type the function does not accept."""


class OutputTooLargeError(InvalidArgumentError):
    """The requested output would exceed the allocation guard."""


class MissingDependencyError(UpsampleError, ImportError):
    """A feature needs an optional package that is not installed; the message names the extra."""


def closest(name: str, choices: Iterable[str]) -> str | None:
    """Return the valid choice most similar to ``name``, or None when none is close.

    >>> closest("bilenear", ["nearest", "bilinear", "bicubic"])
    'bilinear'
    """
    matches = difflib.get_close_matches(str(name).lower(), [str(c) for c in choices], n=1, cutoff=0.5)
    return matches[0] if matches else None


def unknown_choice(argument: str, value: object, choices: Iterable[str]) -> InvalidArgumentError:
    """Build the error for a name that is not one of ``choices``, with a suggestion.

    >>> str(unknown_choice("method", "bilenear", ["nearest", "bilinear"]))
    "method must be one of 'nearest', 'bilinear', but got 'bilenear'; did you mean 'bilinear'?"
    """
    options = list(choices)
    listed = ", ".join(repr(c) for c in options)
    message = f"{argument} must be one of {listed}, but got {value!r}"
    suggestion = closest(str(value), options)
    if suggestion is not None:
        message += f"; did you mean {suggestion!r}?"
    return InvalidArgumentError(message)
