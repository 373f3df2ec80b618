"""`Upsampler`: the base of the upsampling layers, their shared constructor checks and ``extra_repr``.

As torch's ``_ConvNd`` does for the convolutions: one place checks ``dims``, the channel
counts, the scale and the per-axis sizes (with errors that name the layer), builds the 1x1
channel projection some layers append, and prints the layer as its constructor call.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import torch
from torch import nn

from ..checks import check_bool, check_dims, compact, integer_scale, positive_int, positive_scale
from ..errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError, closest, unknown_choice
from ..resample import api as resample_api
from .layout import check_input, spatial_sizes

__all__ = ["CONV", "Upsampler", "build_layer", "channel_projection", "check_parameter_bytes", "match_parameters",
           "max_parameter_bytes"]

Conv = nn.Conv1d | nn.Conv2d | nn.Conv3d

# The convolution of each spatial rank.
CONV: dict[int, type[nn.Conv1d] | type[nn.Conv2d] | type[nn.Conv3d]] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}

# Constructor arguments that ``extra_repr`` leaves out: they place the parameters, not the layer.
_NOT_ECHOED = ("self", "device", "dtype")


def max_parameter_bytes() -> int:
    """The allocation guard of the layers: resize's output guard,
    :data:`upsamplekit.resample.api.DEFAULT_MAX_OUTPUT_BYTES` (4 GiB, or the environment
    variable ``UPSAMPLEKIT_MAX_OUTPUT_BYTES``), read when a layer is built."""
    return int(resample_api.DEFAULT_MAX_OUTPUT_BYTES)


def check_parameter_bytes(
    where: str, shapes: Mapping[str, Sequence[int]], dtype: torch.dtype | None = None
) -> None:
    """Refuse, before anything is allocated, parameters larger than :func:`max_parameter_bytes`.

    ``shapes`` maps a parameter's name to its shape; the bytes are counted in Python
    integers (no overflow), at ``dtype`` (default: torch's default dtype).

    >>> check_parameter_bytes("SubPixelConv", {"weight": (4 * 10**12, 1, 3, 3)})
    Traceback (most recent call last):
    ...
    upsamplekit.errors.OutputTooLargeError: SubPixelConv: the parameters would take 134110.45 GiB (weight (4000000000000, 1, 3, 3)), more than the allocation guard of 4.00 GiB (UPSAMPLEKIT_MAX_OUTPUT_BYTES); lower the scale, the kernel size or the channel counts
    """
    itemsize = (dtype or torch.get_default_dtype()).itemsize
    total = sum(math.prod(int(n) for n in shape) for shape in shapes.values()) * itemsize
    limit = max_parameter_bytes()
    if total > limit:
        largest = max(shapes, key=lambda k: math.prod(int(n) for n in shapes[k]))
        gib = f"{total / 2**30:.2f}" if total < 2**1000 else f"about 10**{len(str(total >> 30)) - 1}"
        raise OutputTooLargeError(
            f"{where}: the parameters would take {gib} GiB ({largest} {tuple(shapes[largest])}), "
            f"more than the allocation guard of {limit / 2**30:.2f} GiB (UPSAMPLEKIT_MAX_OUTPUT_BYTES); lower the "
            f"scale, the kernel size or the channel counts"
        )


Layer = TypeVar("Layer", bound=nn.Module)


def build_layer(layer: type[Layer], options: Mapping[str, Any], **fixed: Any) -> Layer:
    """``layer(**fixed, **options)`` for a registry factory, with errors instead of Python's TypeErrors.

    ``fixed`` are the arguments the factory sets from ``build_upsampler``'s own (channels,
    scale, dims); an option that repeats one, or that ``layer`` does not take (when it takes
    no ``**options``), is an :class:`~upsamplekit.errors.InvalidTypeError` (a ``TypeError``,
    as Python raises for an unexpected keyword) that lists the options and the closest one.

    >>> build_layer(nn.Upsample, {"mode": "bilinear"}, scale_factor=2)
    Upsample(scale_factor=2.0, mode='bilinear')
    >>> build_layer(nn.Upsample, {"mdoe": "bilinear"}, scale_factor=2)
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidTypeError: Upsample got an unexpected keyword argument 'mdoe'; its options are 'size', 'mode', 'align_corners', 'recompute_scale_factor'; did you mean 'mode'?
    """
    name = layer.__name__
    for key in options:
        if not isinstance(key, str):
            raise InvalidTypeError(f"{name}: option names must be strings, but got {key!r}")
    clash = sorted(set(options) & set(fixed))
    if clash:
        raise InvalidTypeError(
            f"{name}: {clash[0]}= is set from build_upsampler's own arguments (in_channels, out_channels, scale, "
            f"dims), so it cannot be an option, but got {clash[0]}={options[clash[0]]!r}"
        )
    parameters = inspect.signature(layer).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        accepted = [p for p in parameters if p not in fixed and p != "self"]
        unknown = [key for key in options if key not in parameters]
        if unknown:
            message = (f"{name} got an unexpected keyword argument {unknown[0]!r}; its options are "
                       f"{', '.join(map(repr, accepted))}")
            suggestion = closest(unknown[0], accepted)
            raise InvalidTypeError(message + (f"; did you mean {suggestion!r}?" if suggestion else ""))
    return layer(**fixed, **options)


def match_parameters(where: str, x: torch.Tensor, module: nn.Module) -> torch.Tensor:
    """``x`` if it is on the device and has the dtype of ``module``'s first parameter (or buffer).

    A module without parameters takes any input. The dtype is not compared under
    ``torch.autocast``, which runs modules on inputs of another precision on purpose.

    >>> match_parameters("Decoder", torch.zeros(1, dtype=torch.float64), nn.Linear(1, 1))
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidTypeError: Decoder: the input x must have the dtype of the layer's parameters, but got x of torch.float64 and parameters of torch.float32; convert one of them with .to()
    """
    reference = next(itertools.chain(module.parameters(), module.buffers()), None)
    if reference is None:
        return x
    if x.device != reference.device:
        raise InvalidArgumentError(
            f"{where}: the input x must be on the device of the layer's parameters, but got x on "
            f"{x.device} and parameters on {reference.device}; move one of them with .to()"
        )
    if x.dtype != reference.dtype and reference.is_floating_point() and not _autocasting(x.device.type):
        raise InvalidTypeError(
            f"{where}: the input x must have the dtype of the layer's parameters, but got x of "
            f"{x.dtype} and parameters of {reference.dtype}; convert one of them with .to()"
        )
    return x


def _autocasting(device_type: str) -> bool:
    """Whether ``torch.autocast`` is on for ``device_type`` (False for types autocast does not know: meta)."""
    try:
        return torch.is_autocast_enabled(device_type)
    except RuntimeError:
        return False


def channel_projection(
    dims: int, in_channels: int, out_channels: int, device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Conv | None:
    """The 1x1 convolution that changes the channel count after an upsampler, or None when unchanged.

    >>> channel_projection(2, 8, 4)
    Conv2d(8, 4, kernel_size=(1, 1), stride=(1, 1))
    >>> channel_projection(2, 8, 8) is None
    True
    """
    if out_channels == in_channels:
        return None
    return CONV[dims](in_channels, out_channels, 1, device=device, dtype=dtype)


class Upsampler(nn.Module):
    """Base of the upsampling layers in :mod:`upsamplekit.nn`: shared checks and ``extra_repr``.

    ``__init__`` checks ``dims`` (1, 2 or 3 spatial axes) and stores it; the ``check_*``
    methods apply the shared argument rules of :mod:`upsamplekit.checks` with errors that
    start with the layer's class name (``"SubPixelConv: scale must be ..."``), and
    :meth:`check_input` checks a forward input's (N, C, *spatial) layout.

    ``extra_repr`` echoes the constructor: every argument of the subclass's ``__init__``
    (but ``device`` and ``dtype``), in order, with the value the layer stored under the same
    name. Required channel counts print bare, as ``nn.Conv2d`` prints them; a per-axis value
    equal on every axis prints once; None (an argument not given: ``size`` when
    ``scale_factor`` is) is left out; ``bias`` prints whether the layer has one; ``**options``
    print from ``self.options``.

    >>> import torch
    >>> class Repeat(Upsampler):
    ...     def __init__(self, channels, scale, dims=2):
    ...         super().__init__(dims)
    ...         self.channels = self.check_positive("channels", channels)
    ...         self.scale = self.check_integer_scale(scale)
    ...     def forward(self, x):
    ...         x = self.check_input(x, self.channels)
    ...         return torch.nn.functional.interpolate(x, scale_factor=self.scale)
    >>> Repeat(3, (2, 2))
    Repeat(3, scale=2, dims=2)
    >>> Repeat(3, 0)
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: Repeat: scale must be an integer >= 1 or 2 such integers (one per spatial axis, dims=2), but got 0
    """

    dims: int

    def __init__(self, dims: object) -> None:
        super().__init__()
        self.dims = check_dims(dims, where=self.layer_name)

    @property
    def layer_name(self) -> str:
        """The name errors start with: the class name."""
        return type(self).__name__

    # ---------------------------------------------------------------- constructor checks
    def check_positive(self, name: str, value: object) -> int:
        """``value`` as an int >= 1 (a channel count, ``groups``, ...)."""
        return positive_int(name, value, where=self.layer_name)

    def check_sizes(self, name: str, value: object) -> tuple[int, ...]:
        """``value`` (a positive integer or one per spatial axis) as a ``dims``-tuple (``kernel_size``)."""
        return spatial_sizes(name, value, self.dims, where=self.layer_name)

    def check_integer_scale(self, scale: object, name: str = "scale") -> tuple[int, ...]:
        """``scale`` as a ``dims``-tuple of integers >= 1."""
        return integer_scale(name, scale, self.dims, where=self.layer_name)

    def check_positive_scale(self, scale: object, name: str = "scale") -> tuple[float, ...] | float:
        """``scale`` as a positive number, or a ``dims``-tuple of them (fractional scales)."""
        return positive_scale(name, scale, self.dims, where=self.layer_name)

    def check_choice(self, name: str, value: object, choices: Sequence[str]) -> str:
        """``value`` if it is one of ``choices``; else the closest choice and the list."""
        if not isinstance(value, str) or value not in choices:
            raise unknown_choice(f"{self.layer_name}: {name}", value, choices)
        return value

    def check_bool(self, name: str, value: object) -> bool:
        """``value`` if it is True or False (``"False"``, ``"yes"``, ``0``, ``1`` are errors, not truthy)."""
        return check_bool(name, value, where=self.layer_name)

    def check_parameter_bytes(self, shapes: Mapping[str, Sequence[int]], dtype: torch.dtype | None) -> None:
        """Refuse parameters larger than the allocation guard before allocating them."""
        check_parameter_bytes(self.layer_name, shapes, dtype)

    def check_input(self, x: object, channels: int | None = None) -> torch.Tensor:
        """``x`` if it is a floating (N, C, *spatial) tensor with ``dims`` spatial axes and ``channels``
        channels, with the dtype and on the device of the layer's parameters (when it has any).

        The dtype is not compared under ``torch.autocast``, which runs layers on inputs of
        another precision on purpose.
        """
        return match_parameters(self.layer_name, check_input(self.layer_name, x, self.dims, channels), self)

    # ---------------------------------------------------------------------------- display
    def extra_repr(self) -> str:
        parts = []
        for parameter in inspect.signature(type(self)).parameters.values():
            if parameter.name in _NOT_ECHOED:
                continue
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                parts += [f"{key}={value!r}" for key, value in getattr(self, "options", {}).items()]
                continue
            value = self._echo(parameter.name)
            if value is None:
                continue
            if parameter.default is inspect.Parameter.empty and parameter.name.endswith("channels"):
                parts.append(str(value))
            else:
                parts.append(f"{parameter.name}={value!r}")
        return ", ".join(parts)

    def _echo(self, name: str) -> Any:
        if name == "bias":
            return getattr(self, "bias", None) is not None
        value = getattr(self, name, None)
        return compact(value) if isinstance(value, tuple) and value else value
