"""The table of upsamplers and the decorators that fill it; it knows no layer.

Each layer module registers its factories here with :func:`register_upsampler` and
:func:`register_alias` when it is imported. Look entries up through
:mod:`upsamplekit.nn.registry`, which imports every built-in layer first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from torch import nn

from ..errors import InvalidArgumentError, unknown_choice

__all__ = ["UPSAMPLERS", "UpsamplerInfo", "register_upsampler", "register_alias", "unregister_upsampler", "Scale"]

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


# Every registered upsampler and alias, by name.
UPSAMPLERS: dict[str, UpsamplerInfo] = {}


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
    >>> "my-repeat" in UPSAMPLERS
    True
    >>> unregister_upsampler("my-repeat")
    """
    if not name or not isinstance(name, str):
        raise InvalidArgumentError(f"upsampler name must be a non-empty string, but got {name!r}")

    def decorate(factory: Factory) -> Factory:
        if name in UPSAMPLERS:
            raise InvalidArgumentError(f"an upsampler named {name!r} is already registered")
        UPSAMPLERS[name] = UpsamplerInfo(name, factory, learned, tuple(dims), scales, guided,
                                        description or (factory.__doc__ or "").strip().split("\n")[0])
        return factory

    return decorate


def register_alias(alias: str, target: str, description: str = "", **options: Any) -> None:
    """Register ``alias`` as ``target`` with ``options`` fixed."""
    if target not in UPSAMPLERS:
        raise unknown_choice("upsampler name", target, sorted(UPSAMPLERS))
    base = UPSAMPLERS[target]
    if alias in UPSAMPLERS:
        raise InvalidArgumentError(f"an upsampler named {alias!r} is already registered")
    UPSAMPLERS[alias] = UpsamplerInfo(alias, base.factory, base.learned, base.dims, base.scales, base.guided,
                                     description or f"{target} with {options}", target, dict(options))


def unregister_upsampler(name: str) -> None:
    """Remove the entry ``name`` (a user's upsampler or alias; tests clean up with it)."""
    if name not in UPSAMPLERS:
        raise unknown_choice("upsampler name", name, sorted(UPSAMPLERS))
    del UPSAMPLERS[name]
