"""The U-Net decoder with skips and the denoise task (issue 17, parts 3 and 4).

References: shapes and gradients for every registered upsampler, scikit-image's own
``denoise_tv_chambolle`` for the baseline, the noise's measured standard deviation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from upsamplekit import list_upsamplers
from upsamplekit.cli import app
from upsamplekit.decoder import Decoder, UNet
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.nn.registry import upsampler_info
from upsamplekit.study.config import ConfigError, StudyConfig
from upsamplekit.study.core import TV_WEIGHTS, denoise_baseline
from upsamplekit.study.metrics import psnr
from upsamplekit.study.results import Candidate
from upsamplekit.study.tasks import make_task

PLAIN = [n for n in list_upsamplers() if not upsampler_info(n).guided]
GUIDED = [n for n in list_upsamplers() if upsampler_info(n).guided]


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize(("schedule", "merge"), [([4], "concat"), ([2, 2], "add")])
def test_unet_with_every_plain_upsampler(name: str, schedule: list[int], merge: str) -> None:
    torch.manual_seed(0)
    unet = UNet(3, 2, schedule, name, channels=16, merge=merge)
    x = torch.rand(2, 3, 8, 12)
    y = unet(x)
    assert y.shape == (2, 2, 8, 12)
    y.square().mean().backward()
    assert all(p.grad is not None for p in unet.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", GUIDED)
def test_unet_passes_the_encoder_feature_as_the_guide(name: str) -> None:
    torch.manual_seed(0)
    unet = UNet(3, 3, [2, 2], name, channels=16)
    seen = []
    unet.upsamplers[1].register_forward_hook(lambda m, args, out: seen.append([a.shape for a in args]))
    assert unet(torch.rand(1, 3, 8, 8)).shape == (1, 3, 8, 8)
    assert seen == [[torch.Size([1, 16 // 2, 4, 4]), torch.Size([1, 16 // 4 if 16 // 4 >= 8 else 8, 8, 8])]]
    with pytest.raises(InvalidArgumentError, match="UNet"):
        Decoder(3, 3, 4, [2, 2], name)


def test_unet_wiring_concat_and_add() -> None:
    unet = UNet(3, 3, [4, 2], "nearest", channels=32)
    assert unet.widths == [32, 8, 8]
    # Decoder stage 0 upsamples 32 -> 8 by 4 and meets the encoder feature after its first (x2) down step.
    assert [m[0].in_channels for m in unet.fuse] == [16, 16]  # concat: 8 + 8
    added = UNet(3, 3, [4, 2], "nearest", channels=32, merge="add")
    assert [m[0].in_channels for m in added.fuse] == [8, 8]


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"merge": "sum"}, r"UNet: merge must be one of 'concat', 'add', but got 'sum'"),
    ({"schedule": []}, r"UNet: schedule must be a non-empty list of factors >= 2"),
    ({"schedule": [2, 1]}, r"UNet: schedule must be factors >= 2, but got \[2, 1\]"),
])
def test_unet_bad_arguments(kwargs: dict, pattern: str) -> None:
    with pytest.raises(InvalidArgumentError, match=pattern):
        UNet(3, 3, **kwargs)


def test_unet_input_must_divide_by_its_scale() -> None:
    with pytest.raises(InvalidArgumentError, match=r"UNet: the input's spatial size \(6, 8\) must be divisible by "
                                                   r"prod\(schedule\)=4"):
        UNet(3, 3, [2, 2], "bilinear", channels=8)(torch.zeros(1, 3, 6, 8))


# ------------------------------------------------------------------------------------------- task
def test_denoise_pairs_add_the_stated_noise() -> None:
    task = make_task("denoise", 4, 16, 16, noise=0.1)
    clean = torch.rand(4, 3, 64, 64)
    noisy, target = task.pair(clean)
    assert target is clean
    assert float((noisy - clean).std()) == pytest.approx(0.1, rel=0.02)
    assert torch.equal(task.pair(clean)[0], noisy)  # validation noise: the same every call
    generator = torch.Generator().manual_seed(0)
    assert not torch.equal(task.pair(clean, generator)[0], noisy)


def test_denoise_model_starts_at_the_noisy_input_and_is_a_unet() -> None:
    task = make_task("denoise", 4, 16, 16, skip=True)
    model = task.build(Candidate("bilinear", (2, 2)))
    assert isinstance(task.decoder_of(model), UNet)
    x = torch.rand(1, 3, 16, 16)
    assert torch.equal(model(x), x)  # the head starts at zero: out = input + U-Net(input)


def test_the_baseline_is_scikit_images_tv_denoiser_at_its_best_weight() -> None:
    restoration = pytest.importorskip("skimage.restoration")
    task = make_task("denoise", 4, 16, 16, noise=0.1)
    clean = torch.from_numpy(np.random.default_rng(0).random((2, 3, 8, 8))).float()
    clean = torch.nn.functional.interpolate(clean, size=(32, 32), mode="bilinear")  # smooth images
    noisy, _ = task.pair(clean)
    base = denoise_baseline(noisy, clean)

    def score(weight: float) -> float:
        out = np.stack([restoration.denoise_tv_chambolle(im, weight=weight, channel_axis=-1)
                        for im in noisy.permute(0, 2, 3, 1).double().numpy()])
        return float(psnr(torch.from_numpy(out).permute(0, 3, 1, 2).float().clamp(0, 1), clean).mean())

    scores = {w: score(w) for w in TV_WEIGHTS}
    best = max(scores, key=scores.get)
    assert base["psnr"] == pytest.approx(scores[best], abs=1e-9)
    assert f"weight {best:g}" in base["name"] and base["input_psnr"] < base["psnr"]


def test_denoise_settings() -> None:
    assert StudyConfig.build(overrides={"task": "denoise"}).lr == 2e-3  # the task's own default
    assert StudyConfig.build(overrides={"task": "denoise", "lr": "1e-3"}).lr == 1e-3
    assert StudyConfig.build().lr == 5e-4
    with pytest.raises(ConfigError, match="task 'denoise' studies the upsamplers of its own U-Net"):
        StudyConfig.build(overrides={"task": "denoise", "decoder": "mod:fn"})
    with pytest.raises(InvalidArgumentError, match=r"merge must be one of 'concat', 'add', but got 'cat'"):
        StudyConfig.build(overrides={"task": "denoise", "merge": "cat"})
    for name in GUIDED:
        with pytest.raises(ConfigError, match=f"upsampler '{name}' needs a guide"):
            StudyConfig.build(overrides={"upsamplers": name})


def test_a_tiny_denoise_study(tmp_path: Path) -> None:
    names = ["bilinear", "transposed", *GUIDED]
    args = ["study", "--task", "denoise", "--upsamplers", ",".join(names), "--schedules", "2", "--scale", "2",
            "--steps", "4", "--seeds", "1", "--batch-size", "2", "--crop", "16", "--val-crops", "1", "--val-size",
            "32", "--latency-size", "8", "--no-progress", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["config"]["task"] == "denoise" and data["baseline"]["name"].startswith("TV denoising")
    assert {t["candidate"] for t in data["trials"]} == {f"{name}@2" for name in names}
    kinds = {c["upsampler"]: c["guided"] for c in data["candidates"]}
    assert kinds == {name: name in GUIDED for name in names} and GUIDED  # the report says who used a guide
