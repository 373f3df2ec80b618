"""What ``upsamplekit fold`` needs besides :func:`~upsamplekit.folding.fold`: a model built from a
``MODULE:FACTORY`` name and an input shape parsed from text (the side-by-side timing is
:func:`~upsamplekit.folding.timing.time_side_by_side`)."""

from __future__ import annotations

import math

from torch import nn

from .._loading import first_line, import_callable
from ..errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError
from ..resample.api import DEFAULT_MAX_OUTPUT_BYTES

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
        raise InvalidArgumentError(f"factory: calling {target}() raised {type(error).__name__}: "
                                   f"{first_line(error)}") from error
    if not isinstance(model, nn.Module):
        raise InvalidTypeError(f"factory: {target}() must return a torch.nn.Module, but returned "
                               f"{type(model).__name__}")
    return model


def parse_shape(text: str) -> tuple[int, ...]:
    """``"8,3,32,32"`` as ``(8, 3, 32, 32)``: positive integers separated by commas, the float32
    tensor they describe no larger than the output guard
    (:data:`~upsamplekit.resample.api.DEFAULT_MAX_OUTPUT_BYTES`).

    >>> parse_shape("1, 3, 64,64")
    (1, 3, 64, 64)
    >>> parse_shape("100000,3,100000,100000")
    Traceback (most recent call last):
    ...
    upsamplekit.errors.OutputTooLargeError: input shape (100000, 3, 100000, 100000) is a float32 tensor of 1.2e+16 bytes, more than the 4.29e+09 bytes of the output guard (UPSAMPLEKIT_MAX_OUTPUT_BYTES)
    """
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or not all(p.isascii() and p.isdigit() and int(p) > 0 for p in parts):
        raise InvalidArgumentError(f"input shape must be positive integers separated by commas, such as 1,3,64,64, "
                                   f"but got {text!r}")
    shape = tuple(int(p) for p in parts)
    size = 4 * math.prod(shape)
    if size > DEFAULT_MAX_OUTPUT_BYTES:
        raise OutputTooLargeError(f"input shape {shape} is a float32 tensor of {size:.2g} bytes, more than the "
                                  f"{DEFAULT_MAX_OUTPUT_BYTES:.3g} bytes of the output guard "
                                  "(UPSAMPLEKIT_MAX_OUTPUT_BYTES)")
    return shape
