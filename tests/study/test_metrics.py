"""The study's quality metrics against references.

* PSNR and SSIM against ``skimage.metrics`` in float64 (1-D, 2-D and 3-D images, several channel
  counts and data ranges): equal to 1e-10, rounding of a different summation order.
* The checkerboard score against a direct NumPy transcription of its formula (boolean masks per
  window and phase), then validated on what it must tell apart: a transposed convolution's
  checkerboard on a constant input scores high; bilinear interpolation of area-downsampled
  photographs scores near 0; white noise plus a periodic pattern of known energy share ``f``
  scores ``f + (1 - f) * floor``; white noise alone averages the documented noise floor; a
  transposed convolution with a uniform kernel on a photograph scores far above bilinear.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import upsamplekit
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError
from upsamplekit.study.metrics import checkerboard_noise_floor, checkerboard_score, psnr, ssim

from tests.conftest import assert_close

torch.set_num_threads(1)

EXACT = "float64 on both sides; only the summation order differs"


def _noisy_pair(rng: np.random.Generator, shape: tuple[int, ...], data_range: float) -> tuple[np.ndarray, np.ndarray]:
    target = rng.random(shape) * data_range
    output = np.clip(target + 0.1 * data_range * rng.standard_normal(shape), 0, data_range)
    return output, target


# --------------------------------------------------------------------------- PSNR, SSIM
@pytest.mark.parametrize("shape", [(3, 1, 40), (2, 3, 33, 47), (2, 2, 12, 13, 14)])
@pytest.mark.parametrize("data_range", [1.0, 255.0])
def test_psnr_equals_skimage_per_image(rng: np.random.Generator, shape: tuple[int, ...], data_range: float) -> None:
    output, target = _noisy_pair(rng, shape, data_range)
    expected = [peak_signal_noise_ratio(target[i], output[i], data_range=data_range) for i in range(shape[0])]
    got = psnr(torch.from_numpy(output), torch.from_numpy(target), data_range=data_range)
    assert got.shape == (shape[0],) and got.dtype == torch.float64
    assert_close(got.numpy(), np.array(expected), atol=1e-10, why=EXACT)


def test_psnr_of_identical_images_is_inf_and_float32_is_computed_in_float64(rng: np.random.Generator) -> None:
    target = torch.from_numpy(rng.random((2, 3, 8, 8)).astype(np.float32))
    output = target.clone()
    output[1, 0, 0, 0] += 0.5
    got = psnr(output, target)
    expected = peak_signal_noise_ratio(target[1].double().numpy(), output[1].double().numpy(), data_range=1.0)
    assert got[0] == float("inf")
    assert_close(got[1:].numpy(), np.array([expected]), atol=1e-10, why=EXACT)


@pytest.mark.parametrize("shape", [(2, 3, 64, 48), (3, 1, 11, 30), (2, 2, 40), (2, 2, 12, 13, 14)])
@pytest.mark.parametrize("data_range", [1.0, 255.0])
def test_ssim_equals_skimage_gaussian_population(rng: np.random.Generator, shape: tuple[int, ...],
                                                 data_range: float) -> None:
    output, target = _noisy_pair(rng, shape, data_range)
    expected = [structural_similarity(output[i], target[i], gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False, data_range=data_range, channel_axis=0)
                for i in range(shape[0])]
    got = ssim(torch.from_numpy(output), torch.from_numpy(target), data_range=data_range)
    assert got.shape == (shape[0],) and got.dtype == torch.float64
    assert_close(got.numpy(), np.array(expected), atol=1e-10, why=EXACT)


def test_ssim_on_a_photograph_and_its_bilinear_reconstruction() -> None:
    photo = torch.from_numpy(data.astronaut()[::2, ::2].astype(np.float64) / 255).permute(2, 0, 1)[None]
    up = F.interpolate(F.avg_pool2d(photo, 2), scale_factor=2, mode="bilinear").clamp(0, 1)
    expected = structural_similarity(up[0].numpy(), photo[0].numpy(), gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=1.0, channel_axis=0)
    assert_close(ssim(up, photo).numpy(), np.array([expected]), atol=1e-10, why=EXACT)
    assert 0.5 < expected < 0.95


@pytest.mark.parametrize("call", [
    lambda: ssim(torch.zeros(1, 1, 10, 20), torch.zeros(1, 1, 10, 20)),
    lambda: psnr(torch.zeros(1, 1, 4), torch.zeros(1, 1, 5)),
    lambda: psnr(torch.zeros(4, 4), torch.zeros(4, 4)),
    lambda: psnr(torch.zeros(1, 1, 4), torch.zeros(1, 1, 4), data_range=0),
    lambda: psnr(torch.zeros(1, 1, 4), torch.zeros(1, 1, 4), data_range=float("nan")),
    lambda: ssim(torch.zeros(0, 1, 11, 11), torch.zeros(0, 1, 11, 11)),
], ids=["ssim-too-small", "shape-mismatch", "no-spatial-axis", "range-zero", "range-nan", "empty"])
def test_bad_values_raise_invalid_argument(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgumentError):
        call()


def test_bad_types_raise_invalid_type() -> None:
    with pytest.raises(InvalidTypeError, match="output must be a torch.Tensor, but got ndarray"):
        psnr(np.zeros((1, 1, 4)), torch.zeros(1, 1, 4))  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="target must be a floating-point tensor, but got dtype torch.uint8"):
        ssim(torch.zeros(1, 1, 11, 11), torch.zeros(1, 1, 11, 11, dtype=torch.uint8))
    with pytest.raises(InvalidTypeError, match="data_range"):
        psnr(torch.zeros(1, 1, 4), torch.zeros(1, 1, 4), data_range=True)


def test_messages_name_the_argument_the_rule_and_the_value() -> None:
    with pytest.raises(InvalidArgumentError, match=r"same shape, but got \(1, 1, 4\) and \(1, 1, 5\)"):
        ssim(torch.zeros(1, 1, 4), torch.zeros(1, 1, 5))
    with pytest.raises(InvalidArgumentError, match=r"at least 11 long .*, but got shape \(1, 1, 10, 20\)"):
        ssim(torch.zeros(1, 1, 10, 20), torch.zeros(1, 1, 10, 20))


# --------------------------------------------------------------------------- checkerboard: the formula
def _reference_score(r: np.ndarray, periods: list[int], windows: list[int]) -> float:
    """The docstring's formula for one image ``r`` (C, *spatial), by boolean masks: the energy of
    the per-window, per-phase means (less their mean over phases) repeated over their positions,
    over the energy of ``r`` less each channel's mean, after cropping to whole periods."""
    tiles = [n // p for n, p in zip(r.shape[1:], periods)]
    r = r[(slice(None), *[slice(0, t * p) for t, p in zip(tiles, periods)])]
    index = np.indices(r.shape[1:])
    phase = [index[a] % periods[a] for a in range(len(periods))]
    window = [(index[a] // periods[a]) * windows[a] // tiles[a] for a in range(len(periods))]
    energy = ((r - r.mean(axis=tuple(range(1, r.ndim)), keepdims=True)) ** 2).sum()
    repeating = 0.0
    for channel in r:
        for w in itertools.product(*[range(n) for n in windows]):
            in_window = np.logical_and.reduce([window[a] == w[a] for a in range(len(w))])
            masks = [in_window & np.logical_and.reduce([phase[a] == p[a] for a in range(len(p))])
                     for p in itertools.product(*[range(n) for n in periods])]
            means = np.array([channel[mask].mean() for mask in masks])
            repeating += in_window.sum() / len(means) * ((means - means.mean()) ** 2).sum()
    return repeating / energy if energy > 0 else 0.0


@pytest.mark.parametrize("spatial, period, window, windows", [
    ((50,), 3, 4, [4]),  # 16 tiles in 4 windows
    ((23, 30), (2, 3), 8, [1, 1]),  # 11 x 10 tiles, windows of 8 x 8: round(11/8) = round(10/8) = 1
    ((70, 36), 4, 5, [3, 2]),  # 17 x 9 tiles: round(17/5) = 3 windows of 5-6 tiles, round(9/5) = 2
    ((70, 36), 4, None, [1, 1]),
    ((13, 16, 10), (2, 4, 1), (2, 1, 3), [3, 4, 3]),  # 6 x 4 x 10 tiles
])
def test_checkerboard_equals_a_direct_transcription_of_the_formula(
        rng: np.random.Generator, spatial: tuple[int, ...], period: int | tuple[int, ...],
        window: int | tuple[int, ...] | None, windows: list[int]) -> None:
    r = rng.standard_normal((2, 2, *spatial))
    r[1] += 0.3 * np.sign(np.sin(np.arange(spatial[-1]) * np.pi / 2 + 0.5))  # some periodic content
    periods = [period] * len(spatial) if isinstance(period, int) else list(period)
    got = checkerboard_score(torch.from_numpy(r), torch.zeros(r.shape, dtype=torch.float64), period, window=window)
    expected = [_reference_score(image, periods, windows) for image in r]
    assert_close(got.numpy(), np.array(expected), atol=1e-12, why=EXACT)


def test_checkerboard_properties(rng: np.random.Generator) -> None:
    """In [0, 1]; symmetric; blind to a constant offset per channel and to the error's scale;
    the partial period at the end of an axis is left out; a zero error scores 0."""
    output = torch.from_numpy(rng.random((3, 2, 33, 35)))
    target = torch.from_numpy(rng.random((3, 2, 33, 35)))
    output[0, :, ::2, ::2] += 1.0  # a period-2 pattern holding about half the error energy
    score = checkerboard_score(output, target, 2)
    assert ((score >= 0) & (score <= 1)).all()
    assert_close(checkerboard_score(target, output, 2).numpy(), score.numpy(), atol=1e-12, why=EXACT)
    offset = torch.tensor([0.3, -2.0], dtype=torch.float64).view(1, 2, 1, 1)
    assert_close(checkerboard_score(output + offset, target, 2).numpy(), score.numpy(), atol=1e-12, why=EXACT)
    assert_close(checkerboard_score(3 * output, 3 * target, 2).numpy(), score.numpy(), atol=1e-12, why=EXACT)
    cropped = checkerboard_score(output[..., :32, :34], target[..., :32, :34], 2)
    assert_close(cropped.numpy(), score.numpy(), atol=1e-12, why=EXACT)
    assert checkerboard_score(target, target, 2).tolist() == [0.0, 0.0, 0.0]
    assert score[0] > 0.3 > score[1:].max()


@pytest.mark.parametrize("spatial, pattern_axis", [((64,), 0), ((16, 12, 8), 1), ((16, 12, 8), 2)])
def test_checkerboard_in_1d_and_3d_with_per_axis_periods(spatial: tuple[int, ...], pattern_axis: int) -> None:
    """A pattern (-1)^i along one axis is all checkerboard at that axis's period 2 (or any
    multiple), and none at a period that leaves that axis whole."""
    dims = len(spatial)
    index = torch.arange(spatial[pattern_axis]).view([-1 if a == pattern_axis else 1 for a in range(dims)])
    r = torch.where(index % 2 == 0, 1.0, -1.0).expand(1, 1, *spatial).double()
    zero = torch.zeros_like(r)
    along = [2 if a == pattern_axis else 1 for a in range(dims)]
    across = [1 if a == pattern_axis else 2 for a in range(dims)]
    assert checkerboard_score(r, zero, along).item() == pytest.approx(1.0, abs=1e-12)
    assert checkerboard_score(r, zero, 4).item() == pytest.approx(1.0, abs=1e-12)
    assert checkerboard_score(r, zero, across).item() == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------- checkerboard: validation
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("window", [None, 8])
def test_transposed_conv_on_a_constant_input_scores_high(channels: int, window: int | None) -> None:
    """ConvTranspose2d k3 s2 on a constant: the output is a period-2 pattern except along its
    last row and column (one tap fewer). Measured: 0.964 (1 channel), 0.991 (3); threshold 0.9."""
    gen = torch.Generator().manual_seed(0)
    layer = torch.nn.ConvTranspose2d(channels, channels, kernel_size=3, stride=2, padding=1, output_padding=1)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen))
        layer.bias.copy_(torch.randn(channels, generator=gen))
        out = layer(torch.ones(1, channels, 64, 64))
    target = out.mean(dim=(2, 3), keepdim=True).expand_as(out)
    assert checkerboard_score(out, target, 2, window=window).item() > 0.9


def _photos() -> list[torch.Tensor]:
    """Four bundled photographs, float64 (1, 3, H, W) in [0, 1], cropped to multiples of 4."""
    photos = []
    for image in (data.astronaut(), data.camera(), data.coffee(), data.chelsea()):
        array = image.astype(np.float64) / 255
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        h, w = array.shape[0] // 4 * 4, array.shape[1] // 4 * 4
        photos.append(torch.from_numpy(np.ascontiguousarray(array[:h, :w])).permute(2, 0, 1)[None])
    return photos


@pytest.fixture(scope="module")
def photos() -> list[torch.Tensor]:
    return _photos()


@pytest.mark.parametrize("scale", [2, 4])
def test_bilinear_reconstruction_of_photographs_scores_near_zero(photos: list[torch.Tensor], scale: int) -> None:
    """Area-downsampled photographs upsampled bilinearly (torch and upsamplekit.resize) against
    the originals. Measured: at most 0.0008 (one window, the default; noise floor 0.00001-0.0001)
    and 0.015 with windows of 8 periods (noise floor 0.012-0.015); bounds 0.005 and 0.05."""
    for photo in photos:
        low = F.avg_pool2d(photo, scale)
        for up in (F.interpolate(low, scale_factor=scale, mode="bilinear"),
                   upsamplekit.resize(low, scale_factor=scale, method="linear")):
            assert checkerboard_score(up, photo, scale).item() < 0.005
            assert checkerboard_score(up, photo, scale, window=8).item() < 0.05


def test_uniform_transposed_conv_on_photographs_scores_far_above_bilinear(photos: list[torch.Tensor]) -> None:
    """A transposed convolution k3 s2 with a uniform kernel (not bilinear: phases get 1, 2 or 4
    taps) of the area-downsampled photographs: its brightness-modulated checkerboard scores
    0.67-0.91 with one window (bilinear: below 0.001), 0.91-0.96 with windows of 8 periods,
    which follow the modulation (bilinear: 0.005-0.015). Asserted: > 0.6 and > 100 x bilinear
    with one window, > 0.85 and > 20 x bilinear with windows of 8."""
    weight = torch.zeros(3, 3, 3, 3, dtype=torch.float64)
    for c in range(3):
        weight[c, c] = 4 / 9  # mean gain 1 over the four phases (1 + 2 + 2 + 4 taps)
    for photo in photos:
        low = F.avg_pool2d(photo, 2)
        uniform = F.conv_transpose2d(low, weight, stride=2, padding=1, output_padding=1)
        bilinear = F.interpolate(low, scale_factor=2, mode="bilinear")
        for window, least, ratio in ((None, 0.6, 100), (8, 0.85, 20)):
            score = checkerboard_score(uniform, photo, 2, window=window).item()
            reference = checkerboard_score(bilinear, photo, 2, window=window).item()
            assert score > least and score > ratio * reference, (window, score, reference)


def test_windows_follow_a_pattern_whose_sign_changes_across_the_image() -> None:
    """(-1)^(i+j) with opposite signs in the left and right halves: the image's phase means
    cancel (score 0), windows of half the image see it all (score 1)."""
    pattern = torch.tensor([[1.0, -1.0], [-1.0, 1.0]], dtype=torch.float64).repeat(16, 16)
    pattern[:, 16:] *= -1
    r = pattern.expand(1, 1, 32, 32)
    zero = torch.zeros_like(r)
    assert checkerboard_score(r, zero, 2).item() == pytest.approx(0.0, abs=1e-12)
    assert checkerboard_score(r, zero, 2, window=(16, 8)).item() == pytest.approx(1.0, abs=1e-12)


def _pattern(shape: tuple[int, ...], period: int, gen: torch.Generator) -> torch.Tensor:
    """A random period-``period`` pattern per image and channel, zero mean over its phases."""
    base = torch.randn(*shape[:2], period, period, generator=gen, dtype=torch.float64)
    base -= base.mean(dim=(2, 3), keepdim=True)
    return base.repeat(1, 1, shape[2] // period, shape[3] // period)


@pytest.mark.parametrize("period", [2, 4])
@pytest.mark.parametrize("window", [None, 8])
@pytest.mark.parametrize("share", [0.02, 0.1, 0.5, 0.9])
def test_noise_plus_a_periodic_pattern_scores_its_energy_share(period: int, window: int | None, share: float) -> None:
    """White noise plus a pattern holding ``share`` of the (mean-free) energy scores
    ``share + (1 - share) * floor``: the noise's own periodic part adds the floor, and the
    noise-pattern cross term averages out. Over 5 x 8 images of 3 x 128 x 128 the deviation's
    standard deviation measured 0.0016 (0.0066 the largest deviation): tolerance 0.01."""
    shape = (8, 3, 128, 128)
    floor = checkerboard_noise_floor(shape, period, window=window)
    for seed in range(5):
        gen = torch.Generator().manual_seed(seed)
        noise = torch.randn(shape, generator=gen, dtype=torch.float64)
        pattern = _pattern(shape, period, gen)
        noise_energy = (noise - noise.mean(dim=(2, 3), keepdim=True)).square().sum(dim=(1, 2, 3))
        gain = (share / (1 - share) * noise_energy / pattern.square().sum(dim=(1, 2, 3))).sqrt().view(-1, 1, 1, 1)
        zero = torch.zeros(shape, dtype=torch.float64)
        score = checkerboard_score(noise + gain * pattern, zero, period, window=window)
        assert_close(score.numpy(), np.full(8, share + (1 - share) * floor), atol=0.01,
                     why="the cross term's spread (std <= 0.0022 measured)")


@pytest.mark.parametrize("shape, period, window", [
    ((64, 3, 32, 32), 2, None),
    ((64, 3, 32, 32), 2, 4),
    ((64, 2, 40, 24), (4, 2), 3),
    ((64, 1, 300), 3, None),
    ((64, 1, 300), 3, 10),
    ((64, 1, 12, 16, 8), 2, None),
    ((64, 1, 12, 16, 8), 2, (2, 4, 4)),
])
def test_white_noise_scores_the_noise_floor_on_average(shape: tuple[int, ...], period: int | tuple[int, int],
                                                       window: int | tuple[int, ...] | None) -> None:
    """For i.i.d. Gaussian errors the score is Beta distributed with mean = the floor exactly
    (dimension of the periodic subspace over that of the mean-free errors). The mean of 64
    images has standard deviation sqrt(floor (1 - floor) / (dims / 2 + 1) / 64): tolerance 5 of it."""
    gen = torch.Generator().manual_seed(7)
    noise = torch.randn(shape, generator=gen, dtype=torch.float64)
    floor = checkerboard_noise_floor(shape, period, window=window)
    dims = shape[1] * (np.prod(shape[2:]) - 1)  # the spatial shapes here are whole periods
    spread = np.sqrt(floor * (1 - floor) / (dims / 2 + 1) / shape[0])
    mean = checkerboard_score(noise, torch.zeros(shape, dtype=torch.float64), period, window=window).mean().item()
    assert abs(mean - floor) < 5 * spread, (mean, floor, spread)


def test_noise_floor_values() -> None:
    # (1, 3, 128, 128) at period 2, windows of 8: 64 windows of 8 x 8 tiles, 3 periodic dims each, over 128*128 - 1.
    assert checkerboard_noise_floor((1, 3, 128, 128), 2, window=8) == pytest.approx(64 * 3 / (128 * 128 - 1))
    assert checkerboard_noise_floor((1, 3, 128, 128), 4) == pytest.approx(15 / (128 * 128 - 1))
    assert checkerboard_noise_floor((2, 1, 7), 2) == pytest.approx(1 / 5)  # 6 positions kept
    assert checkerboard_noise_floor((2, 1, 5), 1) == 0.0


# --------------------------------------------------------------------------- checkerboard: bad input
@pytest.mark.parametrize("kwargs, message", [
    ({"period": 0}, r"period must be >= 1 along every axis, but got 0"),
    ({"period": (2, 0)}, r"period must be >= 1 along every axis, but got \(2, 0\)"),
    ({"period": (2, 2, 2)}, r"period must be an int or one int per spatial axis \(2\), but got \(2, 2, 2\)"),
    ({"period": 17}, r"must not exceed the image along any axis, but got period=17 for spatial shape \(16, 20\)"),
    ({"period": 2, "window": 0}, r"window must be >= 1 along every axis, but got 0"),
    ({"period": 2, "window": (4, 4, 4)}, r"window must be an int or one int per spatial axis \(2\), but got \(4, 4, 4"),
])
def test_checkerboard_bad_values(kwargs: dict[str, object], message: str) -> None:
    image = torch.zeros(1, 1, 16, 20)
    with pytest.raises(InvalidArgumentError, match=message):
        checkerboard_score(image, image, **kwargs)  # type: ignore[arg-type]


def test_checkerboard_bad_types_and_shapes() -> None:
    image = torch.zeros(1, 1, 16, 20)
    with pytest.raises(InvalidTypeError, match="period must be an int or a sequence of ints, but got 2.0"):
        checkerboard_score(image, image, 2.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="period"):
        checkerboard_score(image, image, True)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"same shape, but got \(1, 1, 16, 20\) and \(1, 1, 16, 21\)"):
        checkerboard_score(image, torch.zeros(1, 1, 16, 21), 2)
    with pytest.raises(InvalidTypeError, match="window must be None, an int or a sequence of ints, but got 'auto'"):
        checkerboard_score(image, image, 2, window="auto")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="period must not exceed"):
        checkerboard_noise_floor((1, 1, 3), 4)
