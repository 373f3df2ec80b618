"""The report's reconstruction grid as data: which tiles, their captions, and where to zoom.

:func:`grid_data` picks the tiles (the decoder's input enlarged by nearest neighbour, the target,
then each candidate's reconstruction) and the zoom region (:func:`zoom_region`: where the
candidate with the worst checkerboard score has the most error energy repeating with its
upsampling period). The HTML page draws it; PSNR on the shown image is
:func:`upsamplekit.study.metrics.psnr`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch

from ...errors import InvalidArgumentError
from ..metrics import psnr
from ..results import StudySummary
from .formatting import finite, stat

__all__ = ["GridData", "Tile", "display_rgb", "grid_data", "nearest_to", "zoom_region"]


class Tile(NamedTuple):
    """One picture of the grid: its title, a caption, and the image (H, W, 3) in [0, 1] at output size."""

    title: str
    caption: str
    rgb: np.ndarray


class GridData(NamedTuple):
    """Everything the reconstruction grid shows.

    ``zoom``: ``(top, left, size)`` of the square region shown enlarged ``zoom_factor`` times
    below each tile; ``why``: a sentence saying where that region is and why (plain text).
    ``missing``: labels of candidates without a recorded reconstruction. No tiles: nothing
    was recorded.
    """

    tiles: list[Tile]
    zoom: tuple[int, int, int]
    zoom_factor: int
    why: str
    missing: list[str]


def display_rgb(key: str, image: Any) -> np.ndarray:
    """``summary.images[key]`` as float32 (H, W, 3) clipped to [0, 1] for display (nan as 0)."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] != 3 or min(a.shape[:2]) < 1:
        raise InvalidArgumentError(
            f"summary.images[{key!r}] must be an array of shape (H, W, 3), (H, W, 1) or (H, W), "
            f"but got shape {tuple(np.shape(image))}")
    return np.clip(np.nan_to_num(a, nan=0.0), 0.0, 1.0)


def nearest_to(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``rgb`` enlarged to ``shape`` (H, W) by nearest neighbour (integer repeats when they fit).

    >>> nearest_to(np.arange(4.0).reshape(2, 2, 1), (4, 4))[:, :, 0].tolist()[1]
    [0.0, 0.0, 1.0, 1.0]
    """
    h, w = rgb.shape[:2]
    if shape[0] % h == 0 and shape[1] % w == 0:
        return rgb.repeat(shape[0] // h, axis=0).repeat(shape[1] // w, axis=1)
    rows = (np.arange(shape[0]) * h) // shape[0]
    cols = (np.arange(shape[1]) * w) // shape[1]
    return rgb[rows][:, cols]


def _image_psnr(image: np.ndarray, target: np.ndarray) -> float:
    """PSNR in dB of one (H, W, 3) image in [0, 1] against the target."""
    def batch(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]

    return float(psnr(batch(image), batch(target))[0])


def zoom_region(residual: np.ndarray, period: int, size: int) -> tuple[int, int, int]:
    """``(top, left, size)`` of the square patch whose ``residual`` (output - target, (H, W) or
    (H, W, C)) has the most energy in its component periodic with ``period`` pixels.

    Patches start on multiples of ``period`` and are ``size`` rounded to a multiple of it.
    Within a patch, the periodic component is the mean of the residual at each of the
    ``period x period`` sub-pixel phases minus the patch mean; its energy is the squared
    deviation summed over the patch (and channels). With ``period`` 1 there are no phases and
    the plain residual energy decides.

    >>> r = np.zeros((64, 64)); r[40:56, 8:24] = np.indices((16, 16)).sum(0) % 2 - 0.5
    >>> zoom_region(r + 0.2 * np.random.default_rng(0).standard_normal((64, 64)), 2, 16)
    (40, 8, 16)
    """
    r = residual[:, :, None] if residual.ndim == 2 else residual
    h, w = r.shape[:2]
    s = max(1, min(int(period), h, w))
    k = max(1, min(round(size / s), h // s, w // s))
    hb, wb = h // s, w // s
    blocks = r[: hb * s, : wb * s].reshape(hb, s, wb, s, -1).transpose(1, 3, 0, 2, 4).astype(np.float64)
    if s == 1:
        blocks = blocks**2
    # Box sums of k x k blocks for every phase, from a zero-padded cumulative sum.
    c = np.zeros((s, s, hb + 1, wb + 1, blocks.shape[-1]))
    c[:, :, 1:, 1:] = blocks.cumsum(2).cumsum(3)
    sums = c[:, :, k:, k:] - c[:, :, :-k, k:] - c[:, :, k:, :-k] + c[:, :, :-k, :-k]
    if s == 1:
        energy = sums[0, 0].sum(-1)
    else:
        means = sums / (k * k)
        energy = (k * k) * ((means - means.mean(axis=(0, 1), keepdims=True)) ** 2).sum(axis=(0, 1, 4))
    i, j = np.unravel_index(int(np.argmax(energy)), energy.shape)
    return int(i) * s, int(j) * s, k * s


def grid_data(summary: StudySummary) -> GridData:
    """The tiles and the zoom region of the summary's reconstruction grid (see :class:`GridData`)."""
    images = summary.images
    target = display_rgb("target", images["target"]) if "target" in images else None
    with_image = [c for c in summary.candidates if c.candidate.key in images]
    recons = {c.candidate.key: display_rgb(c.candidate.key, images[c.candidate.key]) for c in with_image}
    ref = target if target is not None else next(iter(recons.values()), None)
    missing = [c.candidate.label for c in summary.candidates if c.candidate.key not in images]
    tiles: list[Tile] = []
    if "input" in images:
        inp = display_rgb("input", images["input"])
        if ref is None:
            ref = inp
        factor = ref.shape[0] / inp.shape[0]
        tiles.append(Tile("input", f"nearest ×{factor:.3g}" if factor != 1 else "decoder input",
                          nearest_to(inp, ref.shape[:2])))
    if ref is None:
        return GridData([], (0, 0, 0), 1, "", missing)
    if target is not None:
        tiles.append(Tile("target", "ground truth", target))
    for c in with_image:
        img = recons[c.candidate.key]
        if img.shape != ref.shape:
            raise InvalidArgumentError(f"summary.images[{c.candidate.key!r}] must have the target's shape "
                                       f"{ref.shape}, but got {img.shape}")
        here = f"{_image_psnr(img, target):.2f} dB on this image · " if target is not None else ""
        tiles.append(Tile(c.candidate.label, f"{here}mean {stat(c.psnr, 2)} dB", img))
    h, w = ref.shape[:2]
    size = min(32, max(16, min(h, w) // 4), h, w)
    scored = [c for c in with_image if finite(c.checkerboard.mean)]
    worst = max(scored, key=lambda c: c.checkerboard.mean) if scored else None
    if worst is not None and target is not None:
        period = math.prod(worst.candidate.schedule)
        top, left, size = zoom_region(recons[worst.candidate.key] - target, period, size)
        why = (f"where {worst.candidate.label}, the candidate with the highest checkerboard score "
               f"({worst.checkerboard.mean:.3f}), has the most error energy repeating with its {period}-pixel "
               "upsampling period.")
    else:
        top, left = (h - size) // 2, (w - size) // 2
        why = "the image centre (no reconstruction and target to locate artifacts in)."
    zoom = max(2, round(128 / size))  # zoomed patches of about 128 pixels
    why = f"Below each image, the framed {size}×{size} region enlarged {zoom}× by nearest neighbour: {why}"
    return GridData(tiles, (top, left, size), zoom, why, missing)
