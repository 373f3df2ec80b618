"""Framework conventions: each resolves ``(method, options)`` to the fields of a :class:`Resampling`.

One module per framework (``torch``, ``tensorflow`` for tf/keras/tf1, ``jax``, ``onnx``,
``opencv``, ``pillow``), each the one source of truth for that framework's method names (its
public ``METHODS`` table; ``TF_METHODS``, ``KERAS_METHODS`` and ``TF1_METHODS`` in
``tensorflow``) and options. Importing this package registers them all in
:data:`CONVENTIONS` (:mod:`.registry`).

>>> convention_methods("jax")[:3]
('nearest', 'linear', 'bilinear')
>>> convention_options("torch")
('antialias', 'align_corners', 'recompute_scale_factor')
"""

from __future__ import annotations

from typing import Any

from ...errors import InvalidArgumentError, closest, unknown_choice
from ..fields import SpecFields
from . import jax, onnx, opencv, pillow, tensorflow, torch
from .registry import CONVENTIONS, Convention, convention

__all__ = ["resolve", "convention", "Convention", "CONVENTIONS", "MODULES", "convention_options",
           "convention_methods", "convention_names"]

# The convention modules, imported for their registrations.
MODULES = (torch, tensorflow, jax, onnx, opencv, pillow)


def convention_names() -> tuple[str, ...]:
    """Every convention's name, sorted.

    >>> convention_names()
    ('jax', 'keras', 'onnx', 'opencv', 'pillow', 'tf', 'tf1', 'torch')
    """
    return tuple(sorted(CONVENTIONS))


def convention_options(name: str) -> tuple[str, ...]:
    """The option names a convention accepts."""
    return _entry(name).options


def convention_methods(name: str) -> tuple[str, ...]:
    """The method names a convention accepts, in its table's order."""
    return _entry(name).methods


def resolve(convention_name: str, method: str, options: dict[str, Any]) -> SpecFields:
    """Resolve a convention's method and options into the spec's fields, validating both."""
    entry = _entry(convention_name)
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


def _entry(name: str) -> Convention:
    if not isinstance(name, str) or name.lower() not in CONVENTIONS:
        raise unknown_choice("convention", name, CONVENTIONS)
    return CONVENTIONS[name.lower()]
