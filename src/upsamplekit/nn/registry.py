"""The upsampler registry: every upsampling layer behind one name-based factory.

A factory is registered with :func:`register_upsampler` and is called as
``factory(in_channels, out_channels, scale, dims=dims, **options)``. Aliases are entries
that forward to another entry with some options fixed (``bilinear`` is ``interpolate`` with
``method="linear"``). Tests are parametrized over :func:`list_upsamplers`, so a new entry is
checked by the existing tests.

The table and the decorators live in :mod:`upsamplekit.nn.catalog`, which the layer modules
import to register themselves; this module imports every built-in layer module, so its
lookups always see them.

>>> "subpixel" in list_upsamplers()
True
"""

from __future__ import annotations

import fnmatch
from typing import Any

from torch import nn

from ..checks import check_bool, check_dims, is_integer, require_type
from ..errors import InvalidArgumentError, unknown_choice
from . import bilinear_additive, carafe, dysample, fade, interpolate, resizeconv, sapa, subpixel, transposed
from .catalog import UPSAMPLERS, Scale, UpsamplerInfo, register_alias, register_upsampler, unregister_upsampler

__all__ = [
    "UpsamplerInfo",
    "register_upsampler",
    "register_alias",
    "unregister_upsampler",
    "build_upsampler",
    "list_upsamplers",
    "upsampler_info",
    "Scale",
    "BUILTIN_MODULES",
]

# The modules of the built-in layers, imported for their registrations.
BUILTIN_MODULES = (interpolate, transposed, subpixel, resizeconv, carafe, dysample, bilinear_additive, sapa, fade)


def list_upsamplers(pattern: str = "*", *, aliases: bool = True) -> list[str]:
    """Registered names matching an fnmatch ``pattern``, sorted.

    >>> list_upsamplers("*")[:0]
    []
    """
    require_type("pattern", pattern, str, "an fnmatch pattern string", where="list_upsamplers")
    aliases = check_bool("aliases", aliases, where="list_upsamplers")
    return sorted(n for n, info in UPSAMPLERS.items()
                  if fnmatch.fnmatch(n, pattern) and (aliases or info.alias_of is None))


def upsampler_info(name: str) -> UpsamplerInfo:
    """The registry entry for ``name``; unknown names get the closest match and the list."""
    if not isinstance(name, str) or name not in UPSAMPLERS:
        raise unknown_choice("upsampler name", name, sorted(UPSAMPLERS))
    return UPSAMPLERS[name]


def build_upsampler(
    name: str, in_channels: int, out_channels: int | None, scale: Scale, dims: int = 2, **options: Any
) -> nn.Module:
    """Build the upsampler registered as ``name``.

    ``out_channels=None`` keeps ``in_channels``. Options are the layer's own keyword arguments.
    """
    info = upsampler_info(name)
    if not is_integer(dims):
        check_dims(dims, where="build_upsampler")  # a bool, float or string: the shared rule's error
    if dims not in info.dims:
        raise InvalidArgumentError(f"upsampler {name!r} supports dims in {info.dims}, but got dims={dims!r}")
    clash = sorted(set(options) & set(info.options))
    if clash:
        raise InvalidArgumentError(
            f"upsampler {name!r} fixes {clash[0]}={info.options[clash[0]]!r}; use {info.alias_of!r} to choose it"
        )
    out = in_channels if out_channels is None else out_channels
    return info.factory(in_channels, out, scale, dims=int(dims), **info.options, **options)
