"""Real photographs for the study: scikit-image's bundled images or a folder of the user's own,
split into training and validation by image (never by crop of one image).

The bundled set (CC0 / public domain, shipped inside scikit-image, nothing downloaded):
colour photographs and grey-scale textures and scenes, grey ones repeated to three channels,
images longer than :data:`MAX_SIDE` reduced by area averaging. Validation: astronaut, coffee
and brick (a face, an object scene, a fine texture); training: the other thirteen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InvalidArgumentError
from ..images import bundled_image, read_image_file

__all__ = ["Image", "Split", "CropSampler", "bundled_images", "folder_images", "load_split", "fixed_crops",
           "BUNDLED_TRAIN", "BUNDLED_VAL"]

BUNDLED_VAL = ("astronaut", "coffee", "brick")
BUNDLED_TRAIN = ("chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina", "stereo_motorcycle",
                 "camera", "grass", "gravel", "coins", "clock", "text", "cell")
MAX_SIDE = 512
EXTENSIONS = (".png", ".jpg", ".jpeg")


class DataError(InvalidArgumentError):
    """The images cannot be used: missing, unreadable, too few or too small."""


@dataclass(frozen=True)
class Image:
    """A named photograph as a float32 tensor (3, H, W) in [0, 1]."""

    name: str
    pixels: torch.Tensor


@dataclass(frozen=True)
class Split:
    train: list[Image]
    val: list[Image]
    source: str


def _shrink(pixels: torch.Tensor) -> torch.Tensor:
    longest = max(pixels.shape[1:])
    if longest <= MAX_SIDE:
        return pixels
    size = [max(1, round(s * MAX_SIDE / longest)) for s in pixels.shape[1:]]
    return F.interpolate(pixels[None], size=size, mode="area")[0]


def bundled_images(names: tuple[str, ...]) -> list[Image]:
    """scikit-image's bundled photographs by name (``stereo_motorcycle`` is its left view)."""
    return [Image(name, _shrink(bundled_image(name))) for name in names]


def folder_images(folder: str | Path) -> list[Image]:
    """Every PNG/JPEG file directly in ``folder``, sorted by name, read with Pillow."""
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"images must be an existing folder, but {str(path)!r} "
                        f"{'is a file' if path.exists() else 'does not exist'}")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not files:
        raise DataError(f"images folder {str(path)!r} has no PNG or JPEG files (looked for {', '.join(EXTENSIONS)})")
    return [Image(file.name, _shrink(read_image_file(file, DataError))) for file in files]


def load_split(images: str = "", val_fraction: float = 0.2, min_side: int = 1) -> Split:
    """The training and validation images: bundled by default, else ``images`` split evenly by name.

    With a folder, ``max(1, round(n * val_fraction))`` images spread evenly over the sorted
    names are held out. Every image must be at least ``min_side`` pixels in both axes (the
    crop size), else :class:`DataError` names it.

    >>> split = load_split()
    >>> [im.name for im in split.val], len(split.train)
    (['astronaut', 'coffee', 'brick'], 13)
    >>> split.val[0].pixels.shape
    torch.Size([3, 512, 512])
    """
    if images:
        found = folder_images(images)
        if len(found) < 2:
            raise DataError(f"images folder {images!r} must hold at least 2 images (training and validation "
                            f"are split by image), but has {len(found)}")
        n_val = min(len(found) - 1, max(1, round(len(found) * val_fraction)))
        picks = {int(i) for i in np.linspace(len(found) - 1, 0, n_val).round()}
        split = Split([im for i, im in enumerate(found) if i not in picks],
                      [im for i, im in enumerate(found) if i in picks], f"folder {images}")
    else:
        split = Split(bundled_images(BUNDLED_TRAIN), bundled_images(BUNDLED_VAL),
                      "scikit-image's bundled photographs")
    for image in split.train + split.val:
        h, w = image.pixels.shape[1:]
        if min(h, w) < min_side:
            raise DataError(f"image {image.name!r} is {w}x{h} pixels, smaller than the crop of {min_side} pixels; "
                            "use larger images or a smaller --crop / --val-size")
    return split


class CropSampler:
    """Random training crops cut on ``device`` in one gather per batch (no Python loop per crop).

    The images are copied to the device once, into one zero-padded tensor; each call draws, with
    ``generator`` (a generator on the same device), an image per crop (uniformly), a position
    inside that image and a horizontal and a vertical flip (each with probability 1/2), and
    gathers every crop at once. The crops are the same for every model trained with a generator
    seeded alike.

    >>> images = [Image("a", torch.rand(3, 20, 30)), Image("b", torch.rand(3, 25, 16))]
    >>> sampler = CropSampler(images, 8)
    >>> sampler(5, torch.Generator().manual_seed(0)).shape
    torch.Size([5, 3, 8, 8])
    """

    def __init__(self, images: list[Image], size: int, device: torch.device | str = "cpu") -> None:
        height = max(im.pixels.shape[1] for im in images)
        width = max(im.pixels.shape[2] for im in images)
        self.size = size
        self.pixels = torch.zeros(len(images), 3, height, width, device=device)
        for i, image in enumerate(images):
            self.pixels[i, :, :image.pixels.shape[1], :image.pixels.shape[2]] = image.pixels.to(device)
        self.room = torch.tensor([[im.pixels.shape[1] - size + 1, im.pixels.shape[2] - size + 1] for im in images],
                                 device=device)
        self._steps = torch.arange(size, device=device)

    def __call__(self, count: int, generator: torch.Generator) -> torch.Tensor:
        device = self.pixels.device
        picks = torch.randint(len(self.room), (count,), generator=generator, device=device)
        draws = torch.rand(count, 4, generator=generator, device=device)
        corner = (draws[:, :2] * self.room[picks]).long()  # uniform over each image's own positions
        flipped = self.size - 1 - self._steps
        rows = corner[:, :1] + torch.where(draws[:, 2:3] < 0.5, flipped, self._steps)
        cols = corner[:, 1:2] + torch.where(draws[:, 3:4] < 0.5, flipped, self._steps)
        crops = self.pixels[picks[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # (count, size, size, 3)
        return crops.permute(0, 3, 1, 2).contiguous()


def fixed_crops(images: list[Image], size: int, per_image: int) -> torch.Tensor:
    """Deterministic validation crops: the centre of each image, then seeded positions."""
    generator = torch.Generator().manual_seed(2026)
    crops = []
    for image in images:
        h, w = image.pixels.shape[1:]
        spots = [((h - size) // 2, (w - size) // 2)]
        spots += [(int(torch.randint(h - size + 1, (1,), generator=generator)),
                   int(torch.randint(w - size + 1, (1,), generator=generator))) for _ in range(per_image - 1)]
        crops += [image.pixels[:, t:t + size, s:s + size] for t, s in spots]
    return torch.stack(crops)
