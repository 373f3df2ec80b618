"""Costs of one inference forward pass that a count cannot give: peak activation memory and latency.

* :class:`LiveBytes`: a ``TorchDispatchMode`` that follows the bytes of the tensors created
  while it is active, until their storage is freed, and keeps the peak. ``tracemalloc`` does
  not see torch's allocations (pytorch#91823) and RSS sampling is coarse; this is exact for
  what goes through the dispatcher.
* :func:`peak_activation_bytes`: that peak for one ``module(x)`` under ``torch.no_grad()``.
* :func:`latency`: median and interquartile range of one ``module(x)`` under
  ``torch.no_grad()``, from ``torch.utils.benchmark.Timer.blocked_autorange``.

Both functions run the module as it is (call ``module.eval()`` first for inference behaviour)
and only need torch.

>>> import torch
>>> peak_activation_bytes(torch.nn.Upsample(scale_factor=2), torch.zeros(1, 3, 8, 8))  # 3*16*16 float32
3072
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from ..errors import InvalidArgumentError, InvalidTypeError

__all__ = ["LiveBytes", "peak_activation_bytes", "latency"]


class LiveBytes(TorchDispatchMode):
    """Peak of the bytes held by live tensors created while the mode is active.

    Every op's output storages are tracked (views and in-place results share a storage and
    count once) until the storage is freed, which is checked with a weak reference at each
    op; the peak is taken after each op's outputs exist. Storages of ``ignore`` (inputs,
    parameters) are never counted. Workspace an op allocates and frees inside itself (a
    convolution's im2col buffer) is not seen, nor are tensors on the ``meta`` device.

    >>> import torch
    >>> with LiveBytes() as tracker:
    ...     a = torch.ones(1000)      # 4000 bytes live
    ...     b = a * 2                 # 8000
    ...     del a
    ...     c = torch.ones(500)       # 6000: a was freed before
    >>> tracker.peak, tracker.current
    (8000, 6000)
    """

    def __init__(self, ignore: Iterable[torch.Tensor] = ()) -> None:
        super().__init__()
        self._external = {self._key(t) for t in ignore}
        self._live: dict[tuple[int, int], tuple[StorageWeakRef, int]] = {}
        self.current = 0
        self.peak = 0

    @staticmethod
    def _key(t: torch.Tensor) -> tuple[int, int]:
        storage = t.untyped_storage()
        return storage.data_ptr(), storage.nbytes()

    def _prune(self) -> None:
        for key in [k for k, (ref, _) in self._live.items() if ref.expired()]:
            self.current -= self._live.pop(key)[1]

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        self._prune()
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor) or t.device.type == "meta":
                continue
            key = self._key(t)
            if key[1] == 0 or key in self._live or key in self._external:
                continue
            self._live[key] = (StorageWeakRef(t.untyped_storage()), key[1])
            self.current += key[1]
        self.peak = max(self.peak, self.current)
        return out


def _check(module: object, x: object) -> None:
    if not callable(module):
        raise InvalidTypeError(f"module must be a callable torch module, but got {type(module).__name__}")
    if not isinstance(x, torch.Tensor):
        raise InvalidTypeError(f"x must be a torch.Tensor, but got {type(x).__name__}")


def _forward(module: nn.Module, x: torch.Tensor) -> None:
    with torch.no_grad():
        module(x)


def peak_activation_bytes(module: nn.Module, x: torch.Tensor) -> int:
    """Peak bytes of live tensors during one inference forward ``module(x)`` under ``torch.no_grad()``.

    Counted: every tensor the forward creates (intermediates and the output) while it is alive;
    an in-place op or a view adds nothing. Not counted: ``x``, the module's parameters and
    buffers, workspace an op frees before returning, and tensors a module caches on its first
    call (the forward runs once untracked first, so caches such as :func:`upsamplekit.resize`'s
    tables are filled). The count is exact and repeatable: it does not depend on the allocator
    or on other threads (:class:`LiveBytes`).

    >>> import torch
    >>> conv_relu = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU())
    >>> x = torch.zeros(1, 3, 16, 16)
    >>> peak_activation_bytes(conv_relu, x)  # conv output and ReLU output alive together: 2 * 8*16*16*4
    16384
    >>> conv_relu[1].inplace = True
    >>> peak_activation_bytes(conv_relu, x)  # ReLU in place: the conv output only
    8192
    """
    _check(module, x)
    _forward(module, x)  # first-call caches are not activations
    keep = [x]
    if isinstance(module, nn.Module):
        keep += [*module.parameters(), *module.buffers()]
    with LiveBytes(keep) as tracker:
        _forward(module, x)
    return int(tracker.peak)


def latency(module: nn.Module, x: torch.Tensor, min_run_time: float = 0.2) -> tuple[float, float]:
    """Median and interquartile range, in milliseconds, of one inference forward ``module(x)``.

    Timed under ``torch.no_grad()`` with ``torch.utils.benchmark.Timer(...).blocked_autorange(
    min_run_time=min_run_time)`` (blocks of repeated calls after a warm-up, for at least
    ``min_run_time`` seconds; the accelerator is synchronised around each block) at torch's
    current number of threads (``torch.get_num_threads()``, left unchanged), and read from its
    ``Measurement``: ``median`` and ``iqr`` per call. Wall-clock times vary with the machine's
    load: compare latencies measured on one machine in one session.

    >>> import torch
    >>> median, iqr = latency(torch.nn.Identity(), torch.zeros(1), min_run_time=0.01)
    >>> 0 < median < 1000 and iqr >= 0
    True
    """
    _check(module, x)
    if isinstance(min_run_time, bool) or not isinstance(min_run_time, (int, float)):
        raise InvalidTypeError(f"min_run_time must be a number of seconds, but got {min_run_time!r}")
    if not min_run_time > 0:
        raise InvalidArgumentError(f"min_run_time must be > 0 seconds, but got {min_run_time!r}")
    from torch.utils import benchmark

    timer = benchmark.Timer(stmt="forward(module, x)", globals={"forward": _forward, "module": module, "x": x},
                            num_threads=torch.get_num_threads())
    measurement = timer.blocked_autorange(min_run_time=float(min_run_time))
    return measurement.median * 1e3, measurement.iqr * 1e3
