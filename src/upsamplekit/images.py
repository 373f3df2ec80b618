"""Image files and scikit-image's bundled photographs as float32 tensors (3, H, W) in [0, 1].

One loader for the study's data, ``compare`` and ``explain``'s pictures. Pillow reads files and
scikit-image ships the photographs (CC0 / public domain, nothing downloaded); both come with
the ``study`` extra and are imported only when an image is read.

>>> bundled_image("camera").shape
torch.Size([3, 512, 512])
>>> import numpy as np
>>> to_rgb_tensor(np.full((2, 2), 255, dtype=np.uint8))[:, 0, 0]
tensor([1., 1., 1.])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .errors import InvalidArgumentError
from .optional import require

__all__ = ["to_rgb_tensor", "read_image_file", "bundled_image"]


def to_rgb_tensor(array: np.ndarray) -> torch.Tensor:
    """An image array (H, W[, C]) as float32 (3, H, W) in [0, 1]: uint8 divided by 255, bool as 0/1,
    other floats rescaled to [0, 1] only if they leave it; alpha dropped, grey repeated."""
    if array.dtype == np.uint8:
        values = array.astype(np.float32) / 255.0
    elif array.dtype == bool:
        values = array.astype(np.float32)
    else:
        values = array.astype(np.float32)
        low, high = float(values.min()), float(values.max())
        values = (values - low) / max(high - low, 1e-12) if low < 0 or high > 1 else values
    if values.ndim == 2:
        values = np.repeat(values[:, :, None], 3, axis=2)
    return torch.from_numpy(np.ascontiguousarray(values[:, :, :3])).permute(2, 0, 1).contiguous()


def read_image_file(path: str | Path, error: type[InvalidArgumentError] = InvalidArgumentError) -> torch.Tensor:
    """An image file read with Pillow, as :func:`to_rgb_tensor` gives it; an unreadable file raises ``error``."""
    pil = require("PIL.Image", "study", "reading image files")
    try:
        with pil.open(path) as handle:
            array = np.asarray(handle.convert("RGB"))
    except (pil.UnidentifiedImageError, OSError) as problem:
        raise error(f"image {str(path)!r} cannot be read with Pillow: {problem}") from None
    return to_rgb_tensor(array)


def bundled_image(name: str) -> torch.Tensor:
    """One of scikit-image's bundled images by its ``skimage.data`` name, as :func:`to_rgb_tensor` gives it.

    ``stereo_motorcycle`` is its left view and ``lfw_subset`` its first face (25 x 25). The name is
    not checked here: callers choose from their own lists and say which names they accept.
    """
    data = require("skimage.data", "study", "loading the bundled photographs")
    array = getattr(data, name)()
    if isinstance(array, tuple):
        array = array[0]
    if name == "lfw_subset":
        array = array[0]
    return to_rgb_tensor(np.asarray(array))
