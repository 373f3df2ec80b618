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

from ..checks import check_bool, check_dims, require_type
from ..errors import InvalidArgumentError, InvalidTypeError, unknown_choice

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

SCALE_KINDS = ("integer", "any")


def check_name(value: object, what: str = "upsampler name") -> str:
    """``value`` if it is a non-empty string (a registry name)."""
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(f"{what} must be a non-empty string, but got {value!r}")
    return value


def _registered(name: object) -> str:
    """``name`` if an entry of that name exists; else the closest name and the list."""
    if not isinstance(name, str) or name not in UPSAMPLERS:
        raise unknown_choice("upsampler name", name, sorted(UPSAMPLERS))
    return name


def _check_dims_tuple(dims: object) -> tuple[int, ...]:
    if isinstance(dims, (str, bytes)) or not hasattr(dims, "__iter__"):
        raise InvalidTypeError(f"register_upsampler: dims must be a tuple of spatial ranks (1, 2, 3), "
                               f"but got {dims!r}")
    ranks = tuple(check_dims(d, where="register_upsampler") for d in dims)
    if not ranks:
        raise InvalidArgumentError("register_upsampler: dims must list at least one spatial rank (1, 2, 3), "
                                   f"but got {dims!r}")
    return ranks


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
    check_name(name)
    where = "register_upsampler"
    learned = check_bool("learned", learned, where=where)
    guided = check_bool("guided", guided, where=where)
    ranks = _check_dims_tuple(dims)
    if not isinstance(scales, str) or scales not in SCALE_KINDS:
        raise unknown_choice(f"{where}: scales", scales, SCALE_KINDS)
    require_type("description", description, str, "a string", where=where)

    def decorate(factory: Factory) -> Factory:
        if not callable(factory):
            raise InvalidTypeError(f"{where}({name!r}) decorates a factory function or class, but got "
                                   f"{type(factory).__name__}")
        if name in UPSAMPLERS:
            raise InvalidArgumentError(f"an upsampler named {name!r} is already registered")
        UPSAMPLERS[name] = UpsamplerInfo(name, factory, learned, ranks, scales, guided,
                                        description or (factory.__doc__ or "").strip().split("\n")[0])
        return factory

    return decorate


def register_alias(alias: str, target: str, description: str = "", **options: Any) -> None:
    """Register ``alias`` as ``target`` with ``options`` fixed."""
    check_name(alias, "alias")
    base = UPSAMPLERS[_registered(target)]
    require_type("description", description, str, "a string", where="register_alias")
    if alias in UPSAMPLERS:
        raise InvalidArgumentError(f"an upsampler named {alias!r} is already registered")
    UPSAMPLERS[alias] = UpsamplerInfo(alias, base.factory, base.learned, base.dims, base.scales, base.guided,
                                     description or f"{target} with {options}", target, dict(options))


def unregister_upsampler(name: str) -> None:
    """Remove the entry ``name`` (a user's upsampler or alias; tests clean up with it)."""
    del UPSAMPLERS[_registered(name)]
