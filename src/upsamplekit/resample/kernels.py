"""Continuous interpolation kernels, evaluated in float64.

Each kernel is a function of the distance ``t`` (in input pixels, before antialias
widening) and a support radius outside which it is zero. Half-open supports follow
Pillow, whose filters are the antialiasing reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["KernelFunction", "kernel_function"]


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
    "lanczos": lambda a, lobes: KernelFunction(_lanczos(lobes), float(lobes)),
    "box": lambda a, lobes: KernelFunction(_box, 0.5),
    "hamming": lambda a, lobes: KernelFunction(_hamming, 1.0),
    "gaussian": lambda a, lobes: KernelFunction(_gaussian, 1.5),
    "mitchell": lambda a, lobes: KernelFunction(_mitchell, 2.0),
}
