"""Framework conventions: each resolves ``(method, options)`` to a :class:`Resampling`.

A convention is a small function registered with :func:`convention`. It receives the
method name (already lower-cased) and a dict of options it must consume; options it
does not know are reported with the options it does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import InvalidArgumentError, closest, unknown_choice
from ..spec import Resampling

__all__ = ["resolve", "convention", "CONVENTIONS", "convention_options"]

PresetFunction = Callable[[str, dict[str, Any]], Resampling]


class _Entry:
    def __init__(self, function: PresetFunction, options: tuple[str, ...], methods: tuple[str, ...]) -> None:
        self.function = function
        self.options = options
        self.methods = methods


CONVENTIONS: dict[str, _Entry] = {}


def convention(
    name: str, *, options: tuple[str, ...], methods: tuple[str, ...]
) -> Callable[[PresetFunction], PresetFunction]:
    """Register a preset function under ``name`` with the options and methods it accepts."""

    def register(function: PresetFunction) -> PresetFunction:
        CONVENTIONS[name] = _Entry(function, options, methods)
        return function

    return register


def convention_options(name: str) -> tuple[str, ...]:
    """The option names a convention accepts."""
    _load()
    return CONVENTIONS[name].options


def resolve(convention_name: str, method: str, options: dict[str, Any]) -> Resampling:
    """Resolve a convention's method and options into a spec, validating both."""
    _load()
    if not isinstance(convention_name, str) or convention_name.lower() not in CONVENTIONS:
        raise unknown_choice("convention", convention_name, CONVENTIONS)
    entry = CONVENTIONS[convention_name.lower()]
    if not isinstance(method, str) or method.lower() not in entry.methods:
        raise unknown_choice(f"method (convention {convention_name.lower()!r})", method, entry.methods)
    given = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(given) - set(entry.options))
    if unknown:
        valid = ", ".join(entry.options) or "none"
        suggestion = closest(unknown[0], entry.options)
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        raise InvalidArgumentError(
            f"{unknown[0]}={given[unknown[0]]!r} is not an option of convention {convention_name.lower()!r} "
            f"(its options: {valid}){hint}"
        )
    return entry.function(method.lower(), given)


def _load() -> None:
    # Always import them all: importing one convention module directly (the table builders do)
    # registers that one only, so a non-empty registry does not mean a complete one.
    from . import jax, onnx, opencv, pillow, tensorflow, torch  # noqa: F401  (registration)
