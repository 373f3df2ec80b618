"""What ``upsamplekit fold`` needs besides :func:`~upsamplekit.folding.fold`: a model built from a
``MODULE:FACTORY`` name and an input shape parsed from text (the side-by-side timing is
:func:`~upsamplekit.folding.timing.time_side_by_side`)."""

from __future__ import annotations

from torch import nn

from .._loading import import_callable
from ..errors import InvalidArgumentError, InvalidTypeError

__all__ = ["load_model", "parse_shape"]


def load_model(target: str) -> nn.Module:
    """Call the factory ``MODULE:FACTORY`` (imported with the current directory on the path)
    with no arguments and return the module it builds.

    >>> load_model("torch.nn:Identity")
    Identity()
    >>> load_model("torch.nn:Identty")
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: factory: module 'torch.nn' has no attribute 'Identty'; did you mean 'Identity'?
    """
    factory = import_callable(target, "factory")
    try:
        model = factory()
    except Exception as error:  # the user's code: report it on one line
        raise InvalidArgumentError(f"factory: calling {target}() raised {type(error).__name__}: {error}") from error
    if not isinstance(model, nn.Module):
        raise InvalidTypeError(f"factory: {target}() must return a torch.nn.Module, but returned "
                               f"{type(model).__name__}")
    return model


def parse_shape(text: str) -> tuple[int, ...]:
    """``"8,3,32,32"`` as ``(8, 3, 32, 32)``: positive integers separated by commas.

    >>> parse_shape("1, 3, 64,64")
    (1, 3, 64, 64)
    """
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise InvalidArgumentError(f"input shape must be positive integers separated by commas, such as 1,3,64,64, "
                                   f"but got {text!r}")
    return tuple(int(p) for p in parts)
