"""What :func:`~upsamplekit.fold` does differently by device: small pure functions, so that the
CUDA routing is decided (and testable) without a GPU.

* :func:`untimed_decline`: whether a rewrite that cannot be timed is made anyway. On a CPU it is
  (the folded form does less work and measured 1.1x to 1.65x faster); on CUDA it is declined,
  with the measured reason: the folded form ran slower on an H200 (launch-bound).
* :func:`synchronizer` / :func:`synchronised`: CUDA runs asynchronously, so a timed call must
  wait for the device to finish (``torch.cuda.synchronize``) or the clock measures the launch
  only.
* :func:`tolerance`: how far the folded model's output may differ from the original's on the
  example: float round-off of the dtype, and of TF32 where CUDA is allowed to use it for float32.

>>> untimed_decline(torch.device("cpu")) is None
True
>>> untimed_decline(torch.device("cuda")).startswith("declined on cuda: measured on an H200")
True
>>> tolerance(torch.float64, torch.device("cpu")), tolerance(torch.float32, torch.device("cpu"))
(1e-09, 0.0001)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch

from ..resample.bands import tf32_matmuls

__all__ = ["CUDA_MEASUREMENT", "synchronised", "synchronizer", "tf32_allowed", "tolerance", "untimed_decline"]

T = TypeVar("T")

# Measured on an NVIDIA H200 (torch 2.11, CUDA 13), (8, 64, 128, 128) inputs, fp32 and bf16: the
# folded form runs several cuDNN convolutions and layout transposes where the original runs one.
CUDA_MEASUREMENT = (
    "measured on an H200, the folded nearest x2 + 3x3 ran at 0.08x-0.38x and the folded bilinear x2 + 3x3 at "
    "0.14x-0.16x the original's speed (launch-bound: 8 convolutions and 16 layout transposes per forward where "
    "the original launches one cuDNN convolution)")


def _device(device: torch.device | str) -> torch.device:
    return device if isinstance(device, torch.device) else torch.device(device)


def untimed_decline(device: torch.device | str, measured: bool = False) -> str | None:
    """Why a rewrite of a layer on ``device`` that was not timed is declined, or None to make it.

    ``measured``: an example input was given, but this layer's input was not seen in its run."""
    if _device(device).type != "cuda":
        return None
    advice = ("its input was not seen in the example run, so it was not timed on this device" if measured
              else "pass example_input to time it on this device")
    return f"declined on cuda: {CUDA_MEASUREMENT}; {advice}"


def synchronizer(device: torch.device | str) -> Callable[[], None] | None:
    """What waits for ``device`` to finish its queued work before a clock is read (None: nothing
    to wait for, the calls are synchronous)."""
    device = _device(device)
    if device.type != "cuda":
        return None
    return lambda: torch.cuda.synchronize(device)


def synchronised(fn: Callable[[], T], sync: Callable[[], None] | None) -> Callable[[], T]:
    """``fn`` followed by ``sync()`` (``fn`` itself when ``sync`` is None)."""
    if sync is None:
        return fn

    def call() -> T:
        out = fn()
        sync()
        return out

    return call


def tf32_allowed() -> bool:
    """Whether CUDA may compute float32 convolutions or matrix products in TF32 (10-bit mantissa).
    The ``fp32_precision`` flags are read where torch has them (the legacy ``allow_tf32`` flags
    raise once the new API has been used)."""
    conv = getattr(getattr(torch.backends.cudnn, "conv", None), "fp32_precision", None)
    convolutions = conv == "tf32" if conv is not None else bool(torch.backends.cudnn.allow_tf32)
    return convolutions or tf32_matmuls()


def tolerance(dtype: torch.dtype, device: torch.device | str) -> float:
    """The largest relative difference (to the largest output) between the folded and the original
    model that is float round-off: the two sum the same products in another order and round the
    folded kernel once. float64 1e-9; float32 1e-4, or 8 TF32 units (8 * 2**-10) on CUDA where TF32
    is allowed; other floating dtypes 8 units of their precision (float16 7.8e-3, bfloat16 6.3e-2).
    A wrong fold is off by the size of the output itself."""
    if dtype == torch.float64:
        return 1e-9
    if dtype == torch.float32:
        return 8 * 2.0**-10 if _device(device).type == "cuda" and tf32_allowed() else 1e-4
    if dtype.is_floating_point:
        return 8 * torch.finfo(dtype).eps
    return 1e-4
