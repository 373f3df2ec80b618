"""Vocabulary shared by the conventions: generic method names and option checks."""

from __future__ import annotations

from typing import Any

from ...errors import InvalidArgumentError, InvalidTypeError
from ..fields import MethodTable

# Generic method name -> (kernel, extra spec fields). Conventions add their own names.
GENERIC_METHODS: MethodTable = {
    "nearest": ("nearest", {}),
    "linear": ("linear", {}),
    "bilinear": ("linear", {}),
    "trilinear": ("linear", {}),
    "cubic": ("cubic", {}),
    "bicubic": ("cubic", {}),
    "tricubic": ("cubic", {}),
    "area": ("area", {}),
    "lanczos3": ("lanczos", {"lanczos_a": 3}),
    "lanczos4": ("lanczos", {"lanczos_a": 4}),
    "lanczos5": ("lanczos", {"lanczos_a": 5}),
    "box": ("box", {}),
}

FILTER_KERNELS = ("linear", "cubic", "lanczos", "box", "hamming", "gaussian", "mitchell")


def flag(options: dict[str, Any], name: str, default: bool) -> bool:
    """Pop a boolean option, rejecting non-booleans (``antialias="yes"`` is an error)."""
    value = options.pop(name, None)
    if value is None:
        return default
    if not isinstance(value, (bool, int)) or isinstance(value, int) and value not in (0, 1):
        raise InvalidTypeError(f"{name} must be True or False, but got {value!r}")
    return bool(value)


def not_for(option: str, value: Any, method: str, reason: str) -> InvalidArgumentError:
    """The error for an option that does not apply to the chosen method."""
    return InvalidArgumentError(f"{option}={value!r} does not apply to method {method!r}: {reason}")
