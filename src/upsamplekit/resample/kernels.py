"""Continuous interpolation kernels, evaluated in float64.

Each kernel is a function of the distance ``t`` (in input pixels, before antialias
widening) and a support radius outside which it is zero. Half-open supports follow
Pillow, whose filters are the antialiasing reference.

``cubic_tf_table`` is TensorFlow's quantised Keys cubic (``resize_bicubic``): the weight of a
tap at distance ``t`` is entry ``lrintf(|t| * 1024)`` of :func:`tf_cubic_table`, a float32
table of the kernel at multiples of 1/1024 (see that function).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["KernelFunction", "kernel_function", "tf_cubic_table", "TF_TABLE_SIZE"]

# TensorFlow's kTableSize (resize_bicubic_op.cc): the cubic is tabulated at multiples of 1/1024.
TF_TABLE_SIZE = 1024


@dataclass(frozen=True)
class KernelFunction:
    """A kernel ``weight(t)`` with ``weight(t) == 0`` for ``|t| >= radius``."""

    weight: Callable[[np.ndarray], np.ndarray]
    radius: float


def _triangle(t: np.ndarray) -> np.ndarray:
    return np.clip(1.0 - np.abs(t), 0.0, None)


def _keys_cubic(a: float) -> Callable[[np.ndarray], np.ndarray]:
    def weight(t: np.ndarray) -> np.ndarray:
        x = np.abs(t)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return np.where(x <= 1, near, np.where(x < 2, far, 0.0))

    return weight


@lru_cache(maxsize=8)
def tf_cubic_table(a: float) -> np.ndarray:
    """TensorFlow's bicubic coefficient table for Keys' ``a``, as float32 ``W(k / 1024)``, k = 0..2048.

    TF's ``InitCoeffsTable`` stores, for ``i = 0..1024`` and ``x = i / 1024``, the near branch
    ``((a + 2) * x - (a + 3)) * x * x + 1`` and the far branch at ``x + 1``
    ``((a * x - 5 * a) * x + 8 * a) * x - 4 * a``, each evaluated in double and stored as float;
    ``a`` is the float ``-0.5f`` (``half_pixel_centers``) or ``-0.75f`` (legacy), so other values
    are rounded to float32 here too. Entries 0..1024 are the near branch, 1024..2048 the far one
    (both are exactly 0 at ``|t| = 1``, where they meet). A tap ``t`` away from the sample reads
    entry ``lrintf(|t| * 1024)``: TF's ``offset = lrintf(delta * 1024)`` for the taps ``delta``
    and ``1 + delta`` away, and ``1024 - offset`` for the taps ``1 - delta`` and ``2 - delta``
    away, which is the same rule because ties round to even and 1024 is even.

    >>> table = tf_cubic_table(-0.5)
    >>> table.dtype, table.shape, float(table[0]), float(table[512]), float(table[1024]), float(table[2048])
    (dtype('float32'), (2049,), 1.0, 0.5625, 0.0, 0.0)
    """
    a = float(np.float32(a))
    x = np.arange(TF_TABLE_SIZE + 1) / TF_TABLE_SIZE  # float x = i * 1.0 / kTableSize: exact
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    x = x + 1.0
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    table = np.concatenate([near, far[1:]]).astype(np.float32)
    table.setflags(write=False)
    return table


def _tf_table_cubic(a: float) -> Callable[[np.ndarray], np.ndarray]:
    table = tf_cubic_table(a).astype(np.float64)
    last = table.size - 1

    def weight(t: np.ndarray) -> np.ndarray:
        # np.rint rounds half to even, as lrintf does in the default rounding mode; |t| * 1024 is exact.
        k = np.rint(np.minimum(np.abs(t), 2.0) * TF_TABLE_SIZE).astype(np.int64)
        return np.where(k < last, table[np.minimum(k, last)], 0.0)

    return weight


def _lanczos(a: int) -> Callable[[np.ndarray], np.ndarray]:
    def weight(t: np.ndarray) -> np.ndarray:
        inside = (t >= -a) & (t < a)
        return np.where(inside, np.sinc(t) * np.sinc(t / a), 0.0)

    return weight


def _box(t: np.ndarray) -> np.ndarray:
    # Pillow's box: 1 on (-0.5, 0.5].
    return ((t > -0.5) & (t <= 0.5)).astype(np.float64)


def _hamming(t: np.ndarray) -> np.ndarray:
    x = np.abs(t)
    return np.where(x < 1, np.sinc(x) * (0.54 + 0.46 * np.cos(np.pi * x)), 0.0)


def _gaussian(t: np.ndarray) -> np.ndarray:
    # TensorFlow's gaussian kernel: sigma 0.5, radius 1.5 (three sigmas).
    sigma = 0.5
    x = np.abs(t)
    return np.where(x < 3 * sigma, np.exp(-(x * x) / (2 * sigma * sigma)), 0.0)


def _mitchell(t: np.ndarray) -> np.ndarray:
    # Mitchell-Netravali with B = C = 1/3 (TensorFlow's mitchellcubic).
    b = c = 1.0 / 3.0
    x = np.abs(t)
    near = ((12 - 9 * b - 6 * c) * x**3 + (-18 + 12 * b + 6 * c) * x**2 + (6 - 2 * b)) / 6
    far = ((-b - 6 * c) * x**3 + (6 * b + 30 * c) * x**2 + (-12 * b - 48 * c) * x + (8 * b + 24 * c)) / 6
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def kernel_function(kernel: str, cubic_a: float = -0.75, lanczos_a: int = 3) -> KernelFunction:
    """The filter for a spec's ``kernel`` (filter kernels only: not nearest or area).

    >>> k = kernel_function("cubic", cubic_a=-0.5)
    >>> k.radius, float(k.weight(np.array([0.0]))[0]), float(k.weight(np.array([1.0]))[0])
    (2.0, 1.0, 0.0)
    """
    factory = _FILTERS.get(kernel)
    if factory is None:
        raise ValueError(f"{kernel!r} is not a filter kernel; filters are {', '.join(_FILTERS)}")
    return factory(float(cubic_a), int(lanczos_a))


_FILTERS: dict[str, Callable[[float, int], KernelFunction]] = {
    "linear": lambda a, lobes: KernelFunction(_triangle, 1.0),
    "cubic": lambda a, lobes: KernelFunction(_keys_cubic(a), 2.0),
    "cubic_tf_table": lambda a, lobes: KernelFunction(_tf_table_cubic(a), 2.0),
    "lanczos": lambda a, lobes: KernelFunction(_lanczos(lobes), float(lobes)),
    "box": lambda a, lobes: KernelFunction(_box, 0.5),
    "hamming": lambda a, lobes: KernelFunction(_hamming, 1.0),
    "gaussian": lambda a, lobes: KernelFunction(_gaussian, 1.5),
    "mitchell": lambda a, lobes: KernelFunction(_mitchell, 2.0),
}
