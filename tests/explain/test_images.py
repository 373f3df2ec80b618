"""``compare_images``: the degradation, each method, and PSNR / SSIM checked against scikit-image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from upsamplekit import resize
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.explainer import compare_images, load_image
from upsamplekit.explainer.images import BUNDLED, degrade
from upsamplekit.explainer.plot import plot_compare


@pytest.fixture(scope="module")
def small() -> torch.Tensor:
    """A 64 x 48 crop of the camera, as (3, H, W)."""
    return load_image("camera")[:, 200:264, 200:248].contiguous()


def test_scores_are_scikit_images_and_methods_are_the_library_calls(small: torch.Tensor) -> None:
    result = compare_images(small, scale=4, methods=["bicubic", "pillow:lanczos", "torch:nearest-exact"],
                            train_steps=0)
    hr = small[None]
    lr = resize(hr, size=(16, 12), method="bicubic", convention="pillow").clamp(0, 1)
    np.testing.assert_allclose(result.low, lr[0].permute(1, 2, 0).numpy(), atol=0)
    expected = {
        "bicubic": torch.nn.functional.interpolate(lr, scale_factor=4, mode="bicubic"),
        "pillow:lanczos": resize(lr, scale_factor=4, method="lanczos", convention="pillow"),
        "torch:nearest-exact": torch.nn.functional.interpolate(lr, scale_factor=4, mode="nearest-exact"),
    }
    reference = hr[0].permute(1, 2, 0).numpy().astype(np.float64)
    for tile in result.tiles:
        image = expected[tile.name].clamp(0, 1)[0].permute(1, 2, 0).numpy()
        np.testing.assert_allclose(tile.image, image, atol=1e-6)
        # float32 outputs: the metrics are computed in float64 from the same float32 pixels
        assert tile.psnr == pytest.approx(peak_signal_noise_ratio(reference, image.astype(np.float64),
                                                                  data_range=1.0), abs=1e-6)
        assert tile.ssim == pytest.approx(structural_similarity(
            reference, image.astype(np.float64), data_range=1.0, channel_axis=2, gaussian_weights=True, sigma=1.5,
            use_sample_covariance=False), abs=1e-6)


@pytest.mark.slow  # the first torch.optim.Adam imports torch._dynamo (~10 s)
def test_learned_methods_train_briefly_on_the_same_image(small: torch.Tensor) -> None:
    result = compare_images(small, scale=2, methods=["subpixel", "nearest"], train_steps=3, seed=1)
    learned = result.tiles[0]
    assert learned.name == "subpixel" and "trained 3 steps" in learned.note
    assert learned.image.shape == (64, 48, 3) and np.isfinite(learned.psnr)
    again = compare_images(small, scale=2, methods=["subpixel"], train_steps=3, seed=1)
    np.testing.assert_array_equal(again.tiles[0].image, learned.image)  # seeded


def test_image_files_and_bundled_names(tmp_path: Path) -> None:
    pixels = (np.arange(24 * 20 * 3) % 251).astype(np.uint8).reshape(20, 24, 3)
    path = tmp_path / "image.png"
    Image.fromarray(pixels).save(path)
    loaded = load_image(str(path))
    np.testing.assert_allclose(loaded.permute(1, 2, 0).numpy(), pixels / 255.0, atol=1e-7)
    assert load_image("lfw_subset").shape == (3, 25, 25)
    assert set(BUNDLED) >= {"astronaut", "camera", "coffee", "chelsea"}


def test_every_bundled_image_loads_without_a_download() -> None:
    for name in BUNDLED:
        image = load_image(name)
        assert image.dim() == 3 and image.shape[0] == 3 and 0 <= float(image.min()) <= float(image.max()) <= 1


@pytest.mark.parametrize("kwargs, words", [
    ({"scale": 1}, "scale must be an integer >= 2"),
    ({"methods": "nearest"}, "methods must be a non-empty list"),
    ({"methods": ["bilenear"]}, "did you mean 'bilinear'?"),
    ({"methods": ["pillow:lanczoz"]}, "did you mean 'lanczos'?"),
    ({"train_steps": -1}, "train_steps must be an integer >= 0"),
])
def test_bad_arguments(small: torch.Tensor, kwargs: dict, words: str) -> None:
    arguments = {"scale": 2, "methods": ["nearest"], "train_steps": 0, **kwargs}
    with pytest.raises(InvalidArgumentError, match=words):
        compare_images(small, **arguments)


def test_unknown_image_name_suggests_the_closest() -> None:
    with pytest.raises(InvalidArgumentError, match="did you mean 'astronaut'"):
        load_image("astronot")


def test_plot_compare_writes_a_png(small: torch.Tensor, tmp_path: Path) -> None:
    result = compare_images(small, scale=2, methods=["nearest", "bilinear"], train_steps=0, zoom=(8, 8, 16))
    assert result.zoom == (8, 8, 16)
    path = plot_compare(result, tmp_path / "grid.png")
    assert Path(path).read_bytes()[:4] == b"\x89PNG"
    assert "nearest" in result.table() and "PSNR" in result.table()


def test_degrade_is_pillows_antialiased_bicubic() -> None:
    hr = torch.rand(1, 3, 16, 12, generator=torch.Generator().manual_seed(0))
    image = Image.fromarray(hr[0, 0].numpy())
    expected = np.asarray(image.resize((6, 8), Image.Resampling.BICUBIC))
    np.testing.assert_allclose(degrade(hr, 2)[0, 0].numpy(), np.clip(expected, 0, 1), atol=1e-6)
