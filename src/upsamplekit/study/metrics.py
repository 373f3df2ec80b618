"""Quality metrics of a decoder's output against its target: PSNR, SSIM and a checkerboard score.

Every metric takes two float tensors laid out ``(N, C, *spatial)`` with the same shape, values
in ``[0, data_range]``, and returns one value per image: a float64 tensor of shape ``(N,)``
(computed in float64 whatever the input dtype, on the input's device). A batch's mean is the
caller's to take.

* :func:`psnr`: peak signal-to-noise ratio in dB of each image (all channels and positions
  together); ``inf`` for identical images. Any number of spatial axes.
* :func:`ssim`: structural similarity of each image, scikit-image's Gaussian variant
  (11-tap window, sigma 1.5, population covariance, borders left out), averaged over channels.
  Any number of spatial axes, each at least 11 long.
* :func:`checkerboard_score`: the share of the reconstruction error's energy that repeats with
  the upsampling period (the checkerboard artifact of transposed convolutions), in ``[0, 1]``;
  :func:`checkerboard_noise_floor` is its expected value for an error of white noise.

>>> import torch
>>> target = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
>>> noisy = (target + 0.05 * torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
>>> [round(v, 1) for v in psnr(noisy, target).tolist()]
[26.1, 26.3]
>>> ssim(target, target).tolist()
[1.0, 1.0]
>>> checkerboard_score(noisy, target, period=2) < 0.05  # white-noise error: no checkerboard
tensor([True, True])
"""

from __future__ import annotations

import math
import numbers
import string
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ..checks import is_integer, sequence_items
from ..errors import InvalidArgumentError, InvalidTypeError

__all__ = ["psnr", "ssim", "checkerboard_score", "checkerboard_noise_floor"]

#: SSIM constants (Wang et al. 2004, as scikit-image): window radius, sigma, K1, K2.
SSIM_RADIUS, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 5, 1.5, 0.01, 0.03


# --------------------------------------------------------------------------- checks
def _float_tensor(name: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise InvalidTypeError(f"{name} must be a torch.Tensor, but got {type(value).__name__}")
    if not value.is_floating_point():
        raise InvalidTypeError(f"{name} must be a floating-point tensor, but got dtype {value.dtype}")
    return value


def _pair(output: object, target: object) -> tuple[torch.Tensor, torch.Tensor]:
    """Both tensors as float64, after checking type, dtype, layout and shape."""
    output, target = _float_tensor("output", output), _float_tensor("target", target)
    if output.shape != target.shape:
        raise InvalidArgumentError(
            f"output and target must have the same shape, but got {tuple(output.shape)} and {tuple(target.shape)}")
    if output.ndim < 3:
        raise InvalidArgumentError(
            f"output must be laid out (N, C, *spatial) with at least one spatial axis, but got shape "
            f"{tuple(output.shape)}")
    if output.numel() == 0:
        raise InvalidArgumentError(f"output must not be empty, but got shape {tuple(output.shape)}")
    return output.detach().double(), target.detach().double()


def _data_range(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"data_range must be a positive number, but got {value!r}")
    peak = float(value)
    if not (math.isfinite(peak) and peak > 0):
        raise InvalidArgumentError(f"data_range must be a positive finite number, but got {value!r}")
    return peak


def _per_axis(value: object, dims: int, name: str, kinds: str = "an int or a sequence of ints") -> list[int]:
    """An int, or one int per spatial axis (a one-item sequence counts for every axis), each >= 1."""
    items = sequence_items(value)
    values: list[Any] = [value] if items is None else items
    if len(values) == 1:
        values = values * dims
    if len(values) != dims:
        raise InvalidArgumentError(
            f"{name} must be an int or one int per spatial axis ({dims}), but got {value!r}")
    checked = []
    for v in values:
        if not is_integer(v):
            raise InvalidTypeError(f"{name} must be {kinds}, but got {value!r}")
        if int(v) < 1:
            raise InvalidArgumentError(f"{name} must be >= 1 along every axis, but got {value!r}")
        checked.append(int(v))
    return checked


# --------------------------------------------------------------------------- PSNR
def psnr(output: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio of each image, in dB: ``10 log10(data_range**2 / MSE)``.

    The mean squared error is taken over the channels and every position of each image
    together (as ``skimage.metrics.peak_signal_noise_ratio`` does for one image); identical
    images give ``inf``. Returns a float64 tensor of shape ``(N,)``.

    >>> import torch
    >>> target = torch.zeros(2, 1, 4, 4)
    >>> output = target.clone()
    >>> output[0] += 0.1  # MSE 0.01 -> 20 dB; the second image is exact
    >>> [round(v, 6) for v in psnr(output, target).tolist()]
    [20.0, inf]
    >>> [round(v, 6) for v in psnr(output * 255, target * 255, data_range=255).tolist()]
    [20.0, inf]
    """
    x, y = _pair(output, target)
    peak = _data_range(data_range)
    mse = (x - y).square().flatten(1).mean(dim=1)
    return 10 * torch.log10(peak**2 / mse)


# --------------------------------------------------------------------------- SSIM
def _gaussian() -> list[float]:
    """The normalised 11-tap Gaussian of scipy.ndimage.gaussian_filter (sigma 1.5, truncate 3.5)."""
    weights = [math.exp(-0.5 * (i / SSIM_SIGMA) ** 2) for i in range(-SSIM_RADIUS, SSIM_RADIUS + 1)]
    total = math.fsum(weights)
    return [w / total for w in weights]


def _filter_valid(x: torch.Tensor, kernel: list[float], first_axis: int) -> torch.Tensor:
    """Correlate every axis from ``first_axis`` on with the 1-D ``kernel``, keeping only full windows.

    A sum of shifted slices: faster than ``conv1d`` in float64 on CPU (no float64 fast path)."""
    for axis in range(first_axis, x.ndim):
        length = x.shape[axis] - len(kernel) + 1
        acc = x.narrow(axis, 0, length) * kernel[0]
        for shift in range(1, len(kernel)):
            acc.add_(x.narrow(axis, shift, length), alpha=kernel[shift])
        x = acc
    return x


def ssim(output: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Structural similarity of each image, averaged over its channels: shape ``(N,)``, float64.

    The Gaussian-weighted SSIM of Wang et al. (2004) exactly as
    ``skimage.metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=data_range, channel_axis=...)`` computes it: local
    means, variances and covariance under an 11-tap Gaussian window (sigma 1.5, separable,
    normalised to sum 1) along every spatial axis, population (biased) covariance,
    ``C1 = (0.01 * data_range)**2``, ``C2 = (0.03 * data_range)**2``; the SSIM map is averaged
    over the positions whose window lies inside the image (scikit-image filters with reflected
    borders, then leaves out 5 positions on each side: the same values), then over channels.
    Every spatial axis must be at least 11 long.

    >>> import torch
    >>> target = torch.linspace(0, 1, 16 * 16).view(1, 1, 16, 16)
    >>> ssim(target, target).item()
    1.0
    >>> round(ssim(torch.full_like(target, 0.5), target).item(), 4)  # flat output: structure lost
    0.0899
    """
    x, y = _pair(output, target)
    peak = _data_range(data_range)
    short = [n for n in x.shape[2:] if n < 2 * SSIM_RADIUS + 1]
    if short:
        raise InvalidArgumentError(
            f"ssim needs every spatial axis at least {2 * SSIM_RADIUS + 1} long (its window), but got "
            f"shape {tuple(x.shape)}")
    stats = _filter_valid(torch.stack([x, y, x * x, y * y, x * y]), _gaussian(), first_axis=3)
    mx, my, mxx, myy, mxy = stats
    vx, vy, vxy = mxx - mx * mx, myy - my * my, mxy - mx * my
    c1, c2 = (SSIM_K1 * peak) ** 2, (SSIM_K2 * peak) ** 2
    ssim_map = (2 * mx * my + c1) * (2 * vxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return ssim_map.flatten(2).mean(dim=2).mean(dim=1)


# --------------------------------------------------------------------------- checkerboard
def _layout(shape: Sequence[int], period: int | Sequence[int],
            window: int | Sequence[int] | None) -> tuple[list[int], list[int], list[int]]:
    """Per spatial axis: the period, the number of whole periods (tiles) and of windows."""
    spatial = list(shape[2:])
    periods = _per_axis(period, len(spatial), "period")
    if any(p > n for p, n in zip(periods, spatial)):
        raise InvalidArgumentError(
            f"period must not exceed the image along any axis, but got period={period!r} for spatial shape "
            f"{tuple(spatial)}")
    tiles = [n // p for n, p in zip(spatial, periods)]
    if window is None:
        return periods, tiles, [1] * len(tiles)
    sizes = _per_axis(window, len(spatial), "window", "None, an int or a sequence of ints")
    return periods, tiles, [max(1, round(t / s)) for t, s in zip(tiles, sizes)]


def checkerboard_score(output: torch.Tensor, target: torch.Tensor, period: int | Sequence[int],
                       *, window: int | Sequence[int] | None = None) -> torch.Tensor:
    r"""Share of the error's energy that repeats with the upsampling period, per image: ``(N,)`` in ``[0, 1]``.

    The residual ``r = output - target`` is cropped to whole periods along each spatial axis
    (``period``: an int, or one per axis; pass the decoder's total scale, the product of its
    stage factors: a period-2 pattern of one stage is also period-4). Each position has a
    *phase* ``p``, its index modulo the period along every axis (``prod(period)`` phases). The
    phase means ``m[p]`` (the mean of ``r`` over the positions of phase ``p``) give the periodic
    component ``P[p] = m[p] - mean_p m[p]``, which repeats over the image's ``n`` tiles
    (periods):

    .. math::

        \mathrm{score} = \frac{\sum_c n \sum_p P_c[p]^2}{\sum_c \sum_x (r_c(x) - \bar r_c)^2}

    (``c`` the channels, ``x`` the positions, ``\bar r_c`` the channel's mean error), and 0 when
    the error has no energy. The numerator is the energy of the orthogonal projection of ``r``
    onto the zero-mean signals that repeat with the period, so the score is in ``[0, 1]``: 1 for
    a pure checkerboard error, near the noise floor for an error without one. It is blind to
    the error's scale and to a constant offset per channel, and symmetric in output and target.

    ``window``: periods per window along each axis (an int or one per axis), to compute the
    phase means in each window separately (``n`` and ``P`` per window, numerator summed over the
    windows); ``None`` (the default) uses one window, the whole image. Windows follow a pattern
    whose amplitude or sign changes across a large image (a transposed convolution's artifact
    follows the local brightness) but raise the noise floor; an image that is not a whole number
    of windows gets ``round(tiles / window)`` windows of nearly equal sizes along that axis.

    Noise floor: for an error of white noise the expected score is exactly
    ``windows * (prod(period) - 1) / (positions - 1)``, about ``1 / tiles per window``
    (:func:`checkerboard_noise_floor`). Errors with more low-frequency energy than white noise
    (blur) score below it.

    >>> import torch
    >>> target = torch.zeros(1, 1, 32, 32)
    >>> pattern = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(16, 16)  # (-1)^(i+j)
    >>> checkerboard_score(target + pattern, target, period=2).tolist()
    [1.0]
    >>> noise = torch.randn(1, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    >>> round(checkerboard_score(noise, target, period=2).item(), 4)  # white noise
    0.0019
    >>> round(checkerboard_noise_floor(noise.shape, period=2), 4)  # its expected value: 3 / 1023
    0.0029
    >>> round(checkerboard_score(noise + pattern, target, period=2).item(), 2)  # equal energies (in expectation)
    0.48
    >>> checkerboard_score(target, target, period=2).tolist()
    [0.0]
    """
    x, y = _pair(output, target)
    periods, tiles, windows = _layout(x.shape, period, window)
    n, c, dims = x.shape[0], x.shape[1], len(periods)
    crop = tuple(slice(0, t * p) for t, p in zip(tiles, periods))
    r = (x - y)[(slice(None), slice(None), *crop)]
    centred = r - r.mean(dim=tuple(range(2, r.ndim)), keepdim=True)
    energy = centred.square().flatten(1).sum(dim=1)

    # (N, C, t1, p1, t2, p2, ...): tile index and phase along each axis.
    r = r.reshape(n, c, *[v for tp in zip(tiles, periods) for v in tp])
    # Sum each window's tiles per phase with one-hot (tile -> window) matrices.
    letters = iter(string.ascii_letters)
    nc = next(letters) + next(letters)
    tile_l, phase_l, win_l = ([next(letters) for _ in range(dims)] for _ in range(3))
    operands, specs = [r], [nc + "".join(t + p for t, p in zip(tile_l, phase_l))]
    counts = torch.ones((), dtype=torch.float64, device=r.device)
    for axis, (t, w) in enumerate(zip(tiles, windows)):
        onehot = F.one_hot(torch.arange(t, device=r.device) * w // t, w).double()
        operands.append(onehot)
        specs.append(tile_l[axis] + win_l[axis])
        counts = counts.unsqueeze(-1) * onehot.sum(dim=0)  # tiles per window: (w1, w2, ...)
    result = nc + "".join(w + p for w, p in zip(win_l, phase_l))
    sums = torch.einsum(",".join(specs) + "->" + result, *operands)
    counts = counts.reshape([v for w in windows for v in (w, 1)])  # broadcast over (w1, p1, w2, p2, ...)
    means = sums / counts
    phase_axes = tuple(3 + 2 * a for a in range(dims))
    periodic = means - means.mean(dim=phase_axes, keepdim=True)
    repeating = (counts * periodic.square()).flatten(1).sum(dim=1)
    score = torch.where(energy > 0, repeating / energy.clamp_min(torch.finfo(torch.float64).tiny), 0.0)
    return score.clamp(0.0, 1.0)


def checkerboard_noise_floor(shape: Sequence[int], period: int | Sequence[int], *,
                             window: int | Sequence[int] | None = None) -> float:
    """Expected :func:`checkerboard_score` of an error that is white noise, for images of ``shape``.

    ``shape`` is the images' ``(N, C, *spatial)``; ``period`` and ``window`` as for the score.
    For i.i.d. Gaussian errors the score is the squared length of a projection of an isotropic
    vector over its own, a Beta variable whose mean is exactly the ratio of the subspaces'
    dimensions: ``windows * (prod(period) - 1)`` over ``positions - 1`` (positions after
    cropping to whole periods), about ``1 / tiles per window``. Scores near it mean no
    checkerboard.

    >>> round(checkerboard_noise_floor((1, 3, 128, 128), 2), 6)  # 3 / (128 * 128 - 1), about 1 / 4096 tiles
    0.000183
    >>> round(checkerboard_noise_floor((1, 3, 128, 128), 2, window=8), 4)  # 64 windows of 8 x 8 tiles
    0.0117
    """
    shape = list(shape)
    if len(shape) < 3:
        raise InvalidArgumentError(f"shape must be (N, C, *spatial) with a spatial axis, but got {tuple(shape)}")
    periods, tiles, windows = _layout(shape, period, window)
    positions = math.prod(t * p for t, p in zip(tiles, periods))
    if positions < 2:
        return 0.0
    return math.prod(windows) * (math.prod(periods) - 1) / (positions - 1)
