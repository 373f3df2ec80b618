"""Where a study trains: ``--device`` and ``--precision`` names, checked, and resolved on this machine.

:func:`check_device_name` checks the spelling only (no torch: the settings are checked before
anything heavy is imported); :func:`resolve_device` turns a name into a ``torch.device`` this
machine has, or raises one error that says what is missing. Trials of one study are comparable
on one *kind* of device only (``cpu``, ``cuda``, ``mps``), so that kind is what a study stores
(:func:`device_kind`).

>>> check_device_name("cuda:1"), check_device_name("auto")
('cuda:1', 'auto')
>>> check_device_name("cdua")
Traceback (most recent call last):
...
upsamplekit.errors.InvalidArgumentError: device must be one of 'auto', 'cpu', 'cuda', 'cuda:N', 'mps', but got 'cdua'; did you mean 'cuda'?
>>> resolve_device("cpu"), device_kind("cpu")
(device(type='cpu'), 'cpu')
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import InvalidArgumentError, unknown_choice

if TYPE_CHECKING:
    import torch

__all__ = ["DEVICES", "PRECISION_NAMES", "DeviceError", "check_device_name", "check_precision_name",
           "resolve_device", "device_kind", "check_precision_on"]

#: The device names ``--device`` takes (``cuda:N`` picks one GPU).
DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
#: The names ``--precision`` takes (see :data:`upsamplekit.study.train.PRECISIONS`).
PRECISION_NAMES = ("fp32", "bf16", "fp16")


class DeviceError(InvalidArgumentError):
    """The device asked for is not on this machine, or cannot do what was asked of it."""


def check_device_name(name: str) -> str:
    """``name`` if it is a device name of :data:`DEVICES`; else an error with the closest name."""
    if isinstance(name, str) and (name in DEVICES or re.fullmatch(r"cuda:\d+", name)) and name != "cuda:N":
        return name
    raise unknown_choice("device", name, DEVICES)


def check_precision_name(name: str) -> str:
    """``name`` if it is one of :data:`PRECISION_NAMES`; else an error with the closest name."""
    if name in PRECISION_NAMES:
        return name
    raise unknown_choice("precision", name, PRECISION_NAMES)


def resolve_device(name: str) -> torch.device:
    """The device ``name`` means on this machine: ``auto`` is the first CUDA GPU when there is one,
    else the CPU. A device the machine lacks is a :class:`DeviceError` naming what it has."""
    import torch

    name = check_device_name(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            why = ("this torch was built without CUDA" if torch.version.cuda is None
                   else "torch sees no CUDA GPU (driver, CUDA_VISIBLE_DEVICES?)")
            raise DeviceError(f"device {name!r} is not available on this machine: {why}; use --device cpu or auto")
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise DeviceError(f"device {name!r} is not available: this machine has {torch.cuda.device_count()} "
                              f"CUDA GPU(s), numbered from 0")
        return torch.device("cuda", index)
    if name == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("device 'mps' is not available on this machine (Apple silicon with a torch built for MPS "
                          "only); use --device cpu or auto")
    return torch.device(name)


def device_kind(name: str) -> str:
    """The kind of device (``cpu``, ``cuda``, ``mps``) ``name`` resolves to here: what a study stores."""
    return resolve_device(name).type


def check_precision_on(precision: str, device: torch.device) -> None:
    """Refuse a precision the device cannot train in (fp16 autocast needs a GPU)."""
    if precision == "fp16" and device.type == "cpu":
        raise DeviceError("precision 'fp16' trains on a GPU only (fp16 autocast on the CPU is slow and not what a "
                          "GPU run would give); on the CPU use 'fp32' or 'bf16'")
