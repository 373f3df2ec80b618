"""Study data: bundled photographs, user folders, the split by image, crops, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image as PILImage

from upsamplekit.study.data import (BUNDLED_TRAIN, BUNDLED_VAL, CropSampler, DataError, fixed_crops, folder_images,
                                    load_split)
from upsamplekit.study.tasks import downsample, make_task


def save(folder: Path, name: str, h: int, w: int, rng: np.random.Generator, mode: str = "RGB") -> np.ndarray:
    shape = (h, w, 3) if mode == "RGB" else (h, w)
    array = rng.integers(0, 256, size=shape, dtype=np.uint8)
    PILImage.fromarray(array, mode).save(folder / name)
    return array


def test_bundled_split_is_by_image_and_disjoint() -> None:
    split = load_split()
    train = {im.name for im in split.train}
    val = {im.name for im in split.val}
    assert train == set(BUNDLED_TRAIN) and val == set(BUNDLED_VAL) and not train & val
    for image in split.train + split.val:
        assert image.pixels.dtype == torch.float32 and image.pixels.shape[0] == 3
        assert 0 <= float(image.pixels.min()) and float(image.pixels.max()) <= 1
        assert max(image.pixels.shape[1:]) <= 512


def test_bundled_pixels_are_the_photographs() -> None:
    import skimage.data

    astronaut = load_split().val[0]
    expected = torch.from_numpy(skimage.data.astronaut()).permute(2, 0, 1).float() / 255
    assert torch.equal(astronaut.pixels, expected)


def test_folder_images_read_with_pillow_and_split_evenly(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = {f"img{i}.png": save(tmp_path, f"img{i}.png", 40 + i, 50, rng) for i in range(5)}
    save(tmp_path, "grey.jpg", 60, 60, rng, mode="L")
    (tmp_path / "notes.txt").write_text("not an image")
    images = folder_images(tmp_path)
    assert [im.name for im in images] == ["grey.jpg", "img0.png", "img1.png", "img2.png", "img3.png", "img4.png"]
    np.testing.assert_array_equal(images[1].pixels.permute(1, 2, 0).numpy() * 255, arrays["img0.png"])
    grey = images[0].pixels
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])
    split = load_split(str(tmp_path), val_fraction=0.34)
    assert len(split.val) == 2 and len(split.train) == 4
    assert not {im.name for im in split.val} & {im.name for im in split.train}


def test_bad_folders(tmp_path: Path, rng: np.random.Generator) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_split(str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="has no PNG or JPEG files"):
        load_split(str(tmp_path))
    save(tmp_path, "a.png", 64, 64, rng)
    with pytest.raises(DataError, match="at least 2 images.*has 1"):
        load_split(str(tmp_path))
    save(tmp_path, "b.png", 30, 64, rng)
    with pytest.raises(DataError, match=r"'b.png' is 64x30 pixels, smaller than the crop of 48"):
        load_split(str(tmp_path), min_side=48)
    (tmp_path / "c.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DataError, match=r"'.*c.png' cannot be read"):
        load_split(str(tmp_path))


def test_crops_are_windows_of_the_images() -> None:
    split = load_split()
    generator = torch.Generator().manual_seed(0)
    sampler = CropSampler(split.train, 24)
    crops = sampler(6, generator)
    assert crops.shape == (6, 3, 24, 24)
    again = sampler(6, torch.Generator().manual_seed(0))
    assert torch.equal(crops, again)  # seeded: the same batches for every candidate
    val = fixed_crops(split.val, 32, 3)
    centre = split.val[0].pixels[:, 240:272, 240:272]
    assert val.shape == (9, 3, 32, 32) and torch.equal(val[0], centre)


@pytest.mark.parametrize("scale", [2, 4])
def test_tasks_pairs(scale: int) -> None:
    hr = torch.rand(2, 3, 8 * scale, 8 * scale)
    lr, target = make_task("sr", scale, 8, 4).pair(hr)
    assert torch.equal(target, hr)
    # Area downsampling: each input pixel is the mean of its scale x scale block (float64 reference).
    ref = hr.double().reshape(2, 3, 8, scale, 8, scale).mean(dim=(3, 5))
    torch.testing.assert_close(lr.double(), ref, atol=1e-6, rtol=0)
    assert torch.equal(downsample(hr, scale), lr)
    x, y = make_task("autoencoder", scale, 8, 4).pair(hr)
    assert x is hr and y is hr
