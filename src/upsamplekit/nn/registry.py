"""The upsampler registry: every upsampling layer behind one name-based factory.

A factory is registered with :func:`register_upsampler` and is called as
``factory(in_channels, out_channels, scale, dims=dims, **options)``. Aliases are entries
that forward to another entry with some options fixed (``bilinear`` is ``interpolate`` with
``method="linear"``). Tests are parametrized over :func:`list_upsamplers`, so a new entry is
checked by the existing tests.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from torch import nn

from ..errors import InvalidArgumentError, unknown_choice

__all__ = [
    "UpsamplerInfo",
    "register_upsampler",
    "register_alias",
    "build_upsampler",
    "list_upsamplers",
    "upsampler_info",
    "Scale",
]

Scale = int | Sequence[int]
Factory = Callable[..., nn.Module]


@dataclass(frozen=True)
class UpsamplerInfo:
    """What the registry knows about one upsampler.

    ``learned``: it has trainable parameters that shape the upsampling itself.
    ``dims``: the spatial ranks it supports. ``scales``: ``"integer"`` (any integer factor
    >= 1, per axis) or ``"any"`` (fractional factors too). ``guided``: it takes a second,
    high-resolution guidance input. ``options``: fixed options of an alias.
    """

    name: str
    factory: Factory
    learned: bool
    dims: tuple[int, ...] = (1, 2, 3)
    scales: Literal["integer", "any"] = "integer"
    guided: bool = False
    description: str = ""
    alias_of: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, UpsamplerInfo] = {}


def register_upsampler(
    name: str,
    *,
    learned: bool,
    dims: tuple[int, ...] = (1, 2, 3),
    scales: Literal["integer", "any"] = "integer",
    guided: bool = False,
    description: str = "",
) -> Callable[[Factory], Factory]:
    """Decorator registering ``factory(in_channels, out_channels, scale, dims=2, **options)``.

    >>> import torch
    >>> @register_upsampler("my-repeat", learned=False, description="nearest by repeat")
    ... def my_repeat(in_channels, out_channels, scale, dims=2):
    ...     return torch.nn.Upsample(scale_factor=scale, mode="nearest")
    >>> "my-repeat" in list_upsamplers("my-*")
    True
    >>> _ = _REGISTRY.pop("my-repeat")
    """
    if not name or not isinstance(name, str):
        raise InvalidArgumentError(f"upsampler name must be a non-empty string, but got {name!r}")

    def decorate(factory: Factory) -> Factory:
        if name in _REGISTRY:
            raise InvalidArgumentError(f"an upsampler named {name!r} is already registered")
        _REGISTRY[name] = UpsamplerInfo(name, factory, learned, tuple(dims), scales, guided,
                                        description or (factory.__doc__ or "").strip().split("\n")[0])
        return factory

    return decorate


def register_alias(alias: str, target: str, description: str = "", **options: Any) -> None:
    """Register ``alias`` as ``target`` with ``options`` fixed."""
    base = _REGISTRY[target]
    if alias in _REGISTRY:
        raise InvalidArgumentError(f"an upsampler named {alias!r} is already registered")
    _REGISTRY[alias] = UpsamplerInfo(alias, base.factory, base.learned, base.dims, base.scales, base.guided,
                                     description or f"{target} with {options}", target, dict(options))


def list_upsamplers(pattern: str = "*", *, aliases: bool = True) -> list[str]:
    """Registered names matching an fnmatch ``pattern``, sorted.

    >>> list_upsamplers("*")[:0]
    []
    """
    _load()
    return sorted(n for n, info in _REGISTRY.items()
                  if fnmatch.fnmatch(n, pattern) and (aliases or info.alias_of is None))


def upsampler_info(name: str) -> UpsamplerInfo:
    """The registry entry for ``name``; unknown names get the closest match and the list."""
    _load()
    if name not in _REGISTRY:
        raise unknown_choice("upsampler name", name, sorted(_REGISTRY))
    return _REGISTRY[name]


def build_upsampler(
    name: str, in_channels: int, out_channels: int | None, scale: Scale, dims: int = 2, **options: Any
) -> nn.Module:
    """Build the upsampler registered as ``name``.

    ``out_channels=None`` keeps ``in_channels``. Options are the layer's own keyword arguments.
    """
    info = upsampler_info(name)
    if dims not in info.dims:
        raise InvalidArgumentError(f"upsampler {name!r} supports dims in {info.dims}, but got dims={dims!r}")
    clash = sorted(set(options) & set(info.options))
    if clash:
        raise InvalidArgumentError(
            f"upsampler {name!r} fixes {clash[0]}={info.options[clash[0]]!r}; use {info.alias_of!r} to choose it"
        )
    out = in_channels if out_channels is None else out_channels
    return info.factory(in_channels, out, scale, dims=dims, **info.options, **options)


def _load() -> None:
    """Import the built-in layers so that their registrations run."""
    from . import layers  # noqa: F401
