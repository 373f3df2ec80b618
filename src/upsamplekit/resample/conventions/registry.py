"""The table of framework conventions and the decorator that fills it.

A convention is a small function registered with :func:`convention`. It receives the
method name (already lower-cased) and a dict of the options given, which it must consume,
and returns the :class:`~upsamplekit.resample.fields.SpecFields` of the resize. It knows
nothing of the spec class: :meth:`Resampling.preset <upsamplekit.resample.spec.Resampling.preset>`
builds the spec from the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..fields import SpecFields

__all__ = ["Convention", "CONVENTIONS", "PresetFunction", "convention"]

PresetFunction = Callable[[str, dict[str, Any]], SpecFields]


@dataclass(frozen=True)
class Convention:
    """One framework's preset: its function, and the option and method names it accepts."""

    function: PresetFunction
    options: tuple[str, ...]
    methods: tuple[str, ...]


# Every registered convention, by name.
CONVENTIONS: dict[str, Convention] = {}


def convention(
    name: str, *, options: tuple[str, ...], methods: tuple[str, ...]
) -> Callable[[PresetFunction], PresetFunction]:
    """Register a preset function under ``name`` with the options and methods it accepts."""

    def register(function: PresetFunction) -> PresetFunction:
        CONVENTIONS[name] = Convention(function, options, methods)
        return function

    return register
