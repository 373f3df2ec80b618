"""Image files and scikit-image's bundled photographs as float32 tensors (3, H, W) in [0, 1].

One loader for the study's data, ``compare`` and ``explain``'s pictures. Pillow reads files and
scikit-image ships the photographs (CC0 / public domain, nothing downloaded); both come with
the ``study`` extra and are imported only when an image is read.

Pixels are scaled by the real range of what the file stores, never clipped:

- 8-bit modes (``L``, ``RGB``, ``RGBA``, ``P``, ``PA``, ``LA``, ``CMYK``, ``YCbCr``, ...) are
  converted to RGB by Pillow (a palette looked up, CMYK and YCbCr converted, alpha dropped) and
  divided by 255; 1-bit images (``1``) are 0 or 1.
- 16-bit grey (``I;16``, ``I;16L``, ``I;16B``, ``I;16N``) is divided by 65535.
- 32-bit integers (``I``) are divided by the largest value of the integer type the file holds:
  65535 for a 16-bit PNG or PGM (which Pillow widens to ``I``), the TIFF's own sample type
  (``BitsPerSample`` and ``SampleFormat``) for a TIFF, else 2**31 - 1 (``int32``). Negative values
  have no place in [0, 1]: refused.
- 32-bit floats (``F``) are taken by value: they must be finite and lie in [0, 1], else refused.

Pillow reads 16-bit colour PNGs at 8 bits (it keeps the high byte): they are scaled right, at 8-bit
precision. A file over Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS`` pixels) is
refused, as is one Pillow cannot read.

>>> bundled_image("camera").shape
torch.Size([3, 512, 512])
>>> import numpy as np
>>> to_rgb_tensor(np.full((2, 2), 255, dtype=np.uint8))[:, 0, 0]
tensor([1., 1., 1.])
>>> to_rgb_tensor(np.full((1, 1), 65535, dtype=np.uint16))[:, 0, 0]
tensor([1., 1., 1.])
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import InvalidArgumentError
from .optional import require

__all__ = ["to_rgb_tensor", "read_image_file", "bundled_image", "SIXTEEN_BIT_MODES"]

#: Pillow's 16-bit unsigned grey modes: divided by 65535.
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


def to_rgb_tensor(array: np.ndarray, what: str = "image") -> torch.Tensor:
    """An image array (H, W[, C]) as float32 (3, H, W) in [0, 1], scaled by its dtype's range.

    Unsigned integers are divided by their dtype's largest value (uint8 by 255, uint16 by 65535),
    signed ones likewise when no value is negative, bools are 0 or 1, floats are taken by value
    and must be finite and in [0, 1]. One channel (or none) is repeated, two are grey and alpha,
    four are RGBA; alpha is dropped. Anything else raises
    :class:`~upsamplekit.errors.InvalidArgumentError` naming ``what``.

    >>> to_rgb_tensor(np.array([[0.0, 1.5]]))
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: image holds float values in [0.0, 1.5], but a float image must hold values in [0, 1] (floats are read by value, never rescaled or clipped)
    """
    return _to_tensor(_unit(np.asarray(array), None, what), what)


def _unit(array: np.ndarray, maximum: int | None, what: str) -> np.ndarray:
    """``array`` as float64 in [0, 1]: integers divided by ``maximum`` (default: their dtype's largest value)."""
    if array.dtype == bool:
        return array.astype(np.float64)
    if array.dtype.kind in "ui":
        if array.size and array.dtype.kind == "i" and int(array.min()) < 0:
            raise InvalidArgumentError(f"{what} holds negative values (down to {int(array.min())}) in its "
                                       f"{array.dtype} pixels, but an image must hold intensities >= 0 "
                                       "(0 is black): refused rather than clipped")
        top = int(np.iinfo(array.dtype).max) if maximum is None else maximum
        if array.size and int(array.max()) > top:
            raise InvalidArgumentError(f"{what} holds values up to {int(array.max())}, but its samples are read "
                                       f"with a largest value of {top}: refused rather than clipped")
        return array.astype(np.float64) / top
    if array.dtype.kind == "f":
        if array.size and not np.isfinite(array).all():
            raise InvalidArgumentError(f"{what} holds NaN or infinite values, but a float image must hold "
                                       "finite values in [0, 1]")
        low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
        if low < 0 or high > 1:
            raise InvalidArgumentError(f"{what} holds float values in [{low}, {high}], but a float image must hold "
                                       "values in [0, 1] (floats are read by value, never rescaled or clipped)")
        return array.astype(np.float64)
    raise InvalidArgumentError(f"{what} must hold bool, integer or float pixels, but got dtype {array.dtype}")


def _to_tensor(values: np.ndarray, what: str) -> torch.Tensor:
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[:, :, 0]
    if values.ndim == 3 and values.shape[2] == 2:  # grey and alpha
        values = values[:, :, 0]
    if values.ndim == 2:
        values = np.repeat(values[:, :, None], 3, axis=2)
    if values.ndim != 3 or values.shape[2] not in (3, 4):
        raise InvalidArgumentError(f"{what} must be (H, W) or (H, W, C) with C in 1, 2, 3 or 4 (grey, grey and "
                                   f"alpha, RGB, RGBA), but got shape {values.shape}")
    rgb = np.ascontiguousarray(values[:, :, :3], dtype=np.float32)
    return torch.from_numpy(rgb).permute(2, 0, 1).contiguous()


def _integer_maximum(handle: Any) -> int:
    """The largest value of the samples of a mode ``I`` image, from its file format."""
    if handle.format in ("PNG", "PPM"):  # 16-bit grey widened to I (PGM scaled to 65535 by Pillow)
        return 65535
    if handle.format == "TIFF":
        bits = handle.tag_v2.get(258, (32,))
        kind = handle.tag_v2.get(339, (1,))
        bits = int(bits[0] if isinstance(bits, tuple) else bits)
        signed = int(kind[0] if isinstance(kind, tuple) else kind) == 2
        return 2 ** (bits - signed) - 1
    return 2 ** 31 - 1


def _pillow_pixels(handle: Any) -> tuple[np.ndarray, int | None]:
    """The pixels of an open Pillow image and the largest value of its integer samples (None: the dtype's)."""
    mode = handle.mode
    if mode in SIXTEEN_BIT_MODES:
        return np.asarray(handle).astype(np.uint16), 65535
    if mode == "I;16S":
        return np.asarray(handle).astype(np.int16), 32767
    if mode == "I":
        return np.asarray(handle), _integer_maximum(handle)
    if mode == "F":
        return np.asarray(handle), None
    if mode == "1":
        return np.asarray(handle.convert("L")) > 0, None
    return np.asarray(handle.convert("RGB")), 255


def read_image_file(path: str | Path, error: type[InvalidArgumentError] = InvalidArgumentError) -> torch.Tensor:
    """An image file read with Pillow, scaled by its mode's range (see the module), as float32 (3, H, W).

    A file Pillow cannot read, one over its decompression-bomb limit, and pixels outside their
    range (negative integers, floats outside [0, 1]) raise ``error``.
    """
    pil = require("PIL.Image", "study", "reading image files")
    shown = repr(str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pil.DecompressionBombWarning)
            with pil.open(path) as handle:
                mode = handle.mode
                array, maximum = _pillow_pixels(handle)
    except (pil.DecompressionBombError, pil.DecompressionBombWarning) as problem:
        raise error(f"image {shown} is refused as a possible decompression bomb: {problem} (Pillow's limit, "
                    "PIL.Image.MAX_IMAGE_PIXELS; raise it only for files you trust)") from None
    except (pil.UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, MemoryError) as problem:
        detail = str(problem) or type(problem).__name__
        raise error(f"image {shown} cannot be read with Pillow: {detail}") from None
    try:
        return _to_tensor(_unit(array, maximum, f"image {shown} (mode {mode})"), f"image {shown}")
    except InvalidArgumentError as problem:
        raise error(str(problem)) from None


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
    return to_rgb_tensor(np.asarray(array), f"bundled image {name!r}")
