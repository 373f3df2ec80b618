"""The credible study (issue 13): the recipe, the zero-started global residual, curves, collapse
detection, rank stability, seeds needed, the verdict, devices and precision.

References: ``scipy.stats.kendalltau`` (tau-b), the separability rule itself (brute force over n),
and a fresh model trained on the bundled photographs against bicubic resizing.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from upsamplekit.cli import app
from upsamplekit.decoder import Decoder
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.resample import resize
from upsamplekit.study.analysis import (
    FIRST_LOOK_STEPS,
    SETTLED_TAU,
    kendall_tau,
    seeds_to_separate,
    separable,
    summarize,
)
from upsamplekit.study.config import StudyConfig
from upsamplekit.study.core import CollapseError, checkpoint_steps, collapse_reason
from upsamplekit.study.data import CropSampler, Image, fixed_crops, load_split
from upsamplekit.study.device import DeviceError, check_precision_on, resolve_device
from upsamplekit.study.metrics import psnr
from upsamplekit.study.results import Candidate, Stat, TrialResult
from upsamplekit.study.tasks import downsample, make_task
from upsamplekit.study.train import fit, learning_rate

scipy_stats = pytest.importorskip("scipy.stats")

TINY = ["--upsamplers", "bilinear,transposed", "--schedules", "2", "--scale", "2", "--steps", "4", "--seeds", "2",
        "--batch-size", "2", "--crop", "16", "--val-crops", "1", "--val-size", "32", "--latency-size", "8",
        "--no-progress"]


def study(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["study", *args])
    return result.exit_code, result.stdout, result.stderr


# ------------------------------------------------------------------------------------------ recipe
def test_learning_rate_warms_up_then_decays_to_zero() -> None:
    steps = 200
    values = [learning_rate(s, steps) for s in range(steps)]
    ramp = math.ceil(0.05 * steps)
    assert values[:ramp] == pytest.approx([(s + 1) / ramp for s in range(ramp)])
    assert max(values) == 1.0 and values[-1] == pytest.approx(0.0, abs=1e-12)
    assert all(a >= b for a, b in zip(values[ramp:], values[ramp + 1:]))  # never rises after the warm-up
    assert learning_rate(0, 1) == 1.0  # a one-step budget still takes one full step


def test_fit_records_checkpoints_and_keeps_every_loss() -> None:
    torch.manual_seed(0)
    model = torch.nn.Conv2d(1, 1, 3, padding=1)
    x = torch.rand(2, 1, 6, 6)
    calls = []

    def evaluate() -> float:
        calls.append(model.training)
        return float(len(calls))

    fitted = fit(model, lambda: (x, x), steps=10, checkpoints=checkpoint_steps(10, 4), evaluate=evaluate)
    assert [s for s, _ in fitted.curve] == [2, 5, 8, 10] and len(fitted.losses) == 10
    assert calls == [False] * 4  # validated in eval mode
    assert not model.training


def test_fit_clips_the_gradient_norm(monkeypatch: pytest.MonkeyPatch) -> None:
    norms = []
    original = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm, *args, **kwargs):  # type: ignore[no-untyped-def]
        params = list(params)
        total = original(params, max_norm, *args, **kwargs)
        norms.append((float(total), float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])))))
        return total

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    model = torch.nn.Linear(4, 4)
    x = torch.full((8, 4), 1000.0)  # huge gradients
    fit(model, lambda: (x, torch.zeros(8, 4)), steps=3)
    assert len(norms) == 3
    assert all(before > 1 and after == pytest.approx(1.0, rel=1e-4) for before, after in norms)


@pytest.mark.parametrize("precision", ["bf16"])
def test_fit_in_autocast_precision_learns(precision: str) -> None:
    torch.manual_seed(0)
    model = torch.nn.Conv2d(1, 1, 3, padding=1)
    x = torch.rand(4, 1, 8, 8)
    fitted = fit(model, lambda: (x, x), steps=60, lr=0.05, precision=precision)
    assert fitted.losses[-1] < fitted.losses[0] / 3
    assert all(p.dtype == torch.float32 for p in model.parameters())


@pytest.mark.slow
@pytest.mark.parametrize("upsampler", ["bilinear", "nearest"])
def test_the_global_residual_learns_and_keeps_its_units(upsampler: str) -> None:
    """The --skip 1 decoders that used to stay exactly at the baseline: with the head started at zero
    they leave it upwards within 150 steps, and most ReLU units of the last stage still fire."""
    split = load_split()
    val = fixed_crops(split.val, 48, 2)
    inputs = downsample(val, 4)
    baseline = float(psnr(resize(inputs, scale_factor=4, method="bicubic").clamp(0, 1), val).mean())
    task = make_task("sr", 4, 32, 16, skip=True, depth=2)
    torch.manual_seed(0)
    model = task.build(Candidate(upsampler, (2, 2)))
    assert float(psnr(model(inputs).clamp(0, 1), val).mean()) == pytest.approx(baseline, abs=1e-9)  # starts there
    sampler = CropSampler(split.train, 48)
    generator = torch.Generator().manual_seed(1)
    fit(model, lambda: (downsample(hr := sampler(16, generator), 4), hr), steps=150)
    with torch.no_grad():
        gain = float(psnr(model(inputs).clamp(0, 1), val).mean()) - baseline
        fired = []
        model.model.refine[-1].register_forward_hook(lambda m, i, o: fired.append((o > 0).flatten(2).any(2)))
        model(inputs)
    assert gain > 0.1, gain
    assert fired[0].float().mean() > 0.5  # the units of the last refining ReLU are alive


def test_default_decoder_is_edsr_like() -> None:
    config = StudyConfig()
    task = make_task(config.task, config.scale, config.width, config.latent_channels, skip=bool(config.skip),
                     depth=config.depth)
    model = task.build(Candidate("subpixel", (2, 2)))
    decoder = model.model
    assert isinstance(decoder, Decoder) and decoder.depth == config.depth >= 1
    assert decoder.widths == [config.width, config.width // 2, config.width // 4]  # falling with the resolution
    assert not decoder.head.weight.any() and model.gain is None  # our decoder: the head starts at zero


# ------------------------------------------------------------------------------------ data on device
def test_crop_sampler_cuts_true_crops_and_flips_uniformly() -> None:
    images = [Image("a", torch.arange(3 * 20 * 30.0).reshape(3, 20, 30)),
              Image("b", torch.arange(3 * 25 * 16.0).reshape(3, 25, 16) + 1e5)]
    crops = CropSampler(images, 8)(600, torch.Generator().manual_seed(0))
    seen = {"a": 0, "b": 0}
    flips = set()
    for crop in crops:
        image = images[0] if crop[0, 0, 0] < 1e5 else images[1]
        seen[image.name] += 1
        pixels = image.pixels
        found = False
        for flip_rows in (False, True):
            for flip_cols in (False, True):
                c = crop.flip(1) if flip_rows else crop
                c = c.flip(2) if flip_cols else c
                top, left = divmod(int(c[0, 0, 0] - pixels[0, 0, 0]), pixels.shape[2])
                if torch.equal(pixels[:, top:top + 8, left:left + 8], c):
                    found = True
                    flips.add((flip_rows, flip_cols))
        assert found
    assert 240 < seen["a"] < 360 and flips == {(False, False), (False, True), (True, False), (True, True)}
    again = CropSampler(images, 8)(600, torch.Generator().manual_seed(0))
    assert torch.equal(crops, again)  # the same crops for every candidate of a seed


# ------------------------------------------------------------------------------------ collapse
def test_collapse_reasons() -> None:
    image = torch.rand(2, 3, 8, 8)
    assert "diverged" in collapse_reason([0.3, math.nan], image, 20.0, 10.0)
    assert "constant output" in collapse_reason([0.3, 0.1], torch.full((2, 3, 8, 8), 0.3), 20.0, 10.0)
    assert "learned nothing" in collapse_reason([0.2] * 30, image, 20.004, 10.0, start_db=20.0)
    assert collapse_reason([0.2] * 19, image, 20.004, 10.0, start_db=20.0) is None  # too few steps to judge
    assert collapse_reason([0.1] * 10 + [0.3] * 10, image, 20.5, 10.0, start_db=20.0) is None  # loss is not judged
    assert "no better than a flat image" in collapse_reason([0.3] * 10 + [0.1] * 10, image, 10.2, 10.0)
    assert collapse_reason([0.3] * 10 + [0.1] * 10, image, 20.0, 10.0) is None


def test_a_collapsed_trial_is_failed_with_its_reason_and_never_ranked(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "flat.py").write_text(textwrap.dedent("""
        import torch
        class Flat(torch.nn.Module):
            def __init__(self, factor, out_channels):
                super().__init__()
                self.factor, self.bias = factor, torch.nn.Parameter(torch.zeros(out_channels, 1, 1))
            def forward(self, x):  # ignores its input: one colour
                n, _, h, w = x.shape
                return self.bias.expand(n, -1, h * self.factor, w * self.factor)
        def build(upsample, *, in_channels, out_channels, schedule, dims):
            return Flat(schedule[0], out_channels)
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, stdout, stderr = study(*TINY, "--skip", "0", "--decoder", "flat:build", "--out", "out")
    assert code == 0, stderr  # a collapse is a finding about the candidate, not an error of the run
    assert "collapsed: bilinear [2] seed 0: CollapseError" in stderr and "constant output" in stderr
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["candidates"] == [] and data["trials"] == [] and data["recommendation"] is None
    assert data["pending"] == 0
    # Final: the same command trains nothing again.
    code, _, stderr = study(*TINY, "--skip", "0", "--decoder", "flat:build", "--out", "out")
    assert code == 0 and "already finished" in stderr, stderr


# ------------------------------------------------------------------------------ statistics
@pytest.mark.parametrize("seed", range(6))
def test_kendall_tau_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 16))
    a = rng.integers(0, 5, n).astype(float).tolist()  # ties on purpose
    b = (np.array(a) + rng.integers(-2, 3, n)).tolist()
    expected = scipy_stats.kendalltau(a, b).statistic
    got = kendall_tau(a, b)
    assert (got is None and math.isnan(expected)) or got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("a", "b"), [(Stat(25.0, 0.2, 2), Stat(24.8, 0.2, 2)), (Stat(30.0, 0.05, 3),
                                                                                  Stat(29.7, 0.3, 3)),
                                      (Stat(27.0, 0.01, 2), Stat(26.9, 0.02, 2))])
def test_seeds_to_separate_is_the_first_separable_n(a: Stat, b: Stat) -> None:
    n = seeds_to_separate(a, b)
    assert n is not None

    def at(count: int) -> bool:
        return separable(Stat(a.mean, a.std, count), Stat(b.mean, b.std, count))

    assert at(n) and (n == 2 or not at(n - 1))
    assert seeds_to_separate(Stat(25.0, 0.2, 2), Stat(25.0, 0.2, 2)) is None  # equal means never separate


def _trials(curves: dict[str, list[list[float]]], steps: int, spread: float = 0.01) -> list[TrialResult]:
    out = []
    for name, points in curves.items():
        for seed in (0, 1):
            curve = [[s, v + spread * (seed - 0.5)] for s, v in points]
            out.append(TrialResult(Candidate(name, (4,)), seed, curve[-1][1], 0.8, 0.01, 10, 100, 1.0, 0.1, 1000,
                                   5.0, 0.2, 0.05, curve=curve))
    return out


def _summary(curves: dict[str, list[list[float]]], steps: int, baseline: float = 27.0, spread: float = 0.01):
    trials = _trials(curves, steps, spread)
    candidates = [Candidate(name, (4,)) for name in curves]
    return summarize(candidates, trials, config={"steps": steps},
                     baseline={"name": "bicubic resize (no network)", "psnr": baseline, "ssim": 0.7})


def test_a_settled_study_that_beats_the_baseline_is_confident() -> None:
    curves = {"subpixel": [[150, 27.2], [300, 27.5], [600, 27.6]],
              "bilinear": [[150, 27.1], [300, 27.3], [600, 27.4]],
              "nearest": [[150, 27.0], [300, 27.1], [600, 27.2]]}
    summary = _summary(curves, 600)
    trust = summary.confidence
    assert trust is not None and trust.rank_stability == 1.0 and trust.settled and trust.beats_baseline
    assert trust.verdict.startswith("Confident: subpixel [4] beats bicubic resize (no network) by +0.60 dB")
    assert trust.separable_from_best == 2 and trust.baseline_margin_db == pytest.approx(0.6)
    assert [step for step, _ in summary.candidates[0].curve] == [150, 300, 600]
    assert summary.candidates[0].curve[-1][1].mean == pytest.approx(27.6)


def test_a_moving_ranking_says_how_many_steps_would_settle_it() -> None:
    # The order at half budget (step 300) is the reverse of the final one: tau -1.
    curves = {"subpixel": [[150, 27.3], [300, 27.3], [450, 27.3], [600, 27.8]],
              "bilinear": [[150, 27.2], [300, 27.4], [450, 27.5], [600, 27.6]],
              "nearest": [[150, 27.1], [300, 27.5], [450, 27.2], [600, 27.4]]}
    trust = _summary(curves, 600).confidence
    assert trust is not None and trust.rank_stability == pytest.approx(-1.0) and not trust.settled
    assert trust.verdict.startswith("Unsure: subpixel [4] beats")
    assert "still moving" in trust.verdict and f"about {trust.steps_suggested}" in trust.verdict
    assert trust.steps_suggested is not None and trust.steps_suggested > 600
    # Separable at 600 (spread 0.01): all three pairs; at 300 every one of them was reversed.
    assert trust.separable_orders_held == 0.0 and "0% were already in that order" in trust.verdict


def test_a_negative_answer_is_said_first() -> None:
    curves = {"subpixel": [[50, 26.0], [100, 26.5]], "bilinear": [[50, 25.0], [100, 25.5]]}
    trust = _summary(curves, 100).confidence
    assert trust is not None and not trust.beats_baseline and trust.baseline_margin_db == pytest.approx(-0.5)
    assert trust.first_look and 100 < FIRST_LOOK_STEPS
    assert trust.verdict.startswith("First look (100 steps per trial, too few to trust): Negative: no candidate "
                                    "beats bicubic resize (no network)")


def test_within_the_spread_is_unsure() -> None:
    curves = {"subpixel": [[300, 27.0], [600, 27.05]], "bilinear": [[300, 26.9], [600, 27.0]]}
    trust = _summary(curves, 600, spread=0.3).confidence
    assert trust is not None and not trust.beats_baseline and trust.verdict.startswith("Unsure:")
    assert "not separable" in trust.verdict and trust.seeds_needed is not None and trust.seeds_needed > 2
    assert SETTLED_TAU == 0.8


# ----------------------------------------------------------------------------------- devices
def test_device_names_and_availability() -> None:
    with pytest.raises(InvalidArgumentError, match=r"device must be one of .*, but got 'gpu'"):
        StudyConfig.build(overrides={"device": "gpu"})
    with pytest.raises(InvalidArgumentError, match=r"precision must be one of 'fp32', 'bf16', 'fp16', but got "
                                                   r"'fp61'; did you mean 'fp16'\?"):
        StudyConfig.build(overrides={"precision": "fp61"})
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match=r"device 'cuda' is not available on this machine"):
            resolve_device("cuda")
    with pytest.raises(DeviceError, match=r"precision 'fp16' trains on a GPU only"):
        check_precision_on("fp16", torch.device("cpu"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error of a machine without CUDA")
def test_cuda_on_a_machine_without_it_is_one_clear_error(tmp_path: Path) -> None:
    code, _, stderr = study(*TINY, "--device", "cuda", "--out", str(tmp_path / "out"))
    assert code == 2 and "device 'cuda' is not available on this machine" in stderr
    assert not (tmp_path / "out" / "study.db").exists()


def test_a_study_resumed_on_another_kind_of_device_is_refused(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    code, _, stderr = study(*TINY, "--seeds", "1", "--out", str(out))
    assert code == 0, stderr
    data = json.loads((out / "results.json").read_text())
    assert data["device"] == "cpu" and data["trials"][0]["curve"][-1] == [4, data["trials"][0]["psnr"]]
    monkeypatch.setattr("upsamplekit.study.device.device_kind", lambda name: "cuda")  # as if on a GPU machine
    code, _, stderr = study(*TINY, "--seeds", "1", "--out", str(out))
    assert code == 2 and "device: stored 'cpu', now 'cuda'" in stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_training_on_cuda_never_waits_for_the_device(precision: str) -> None:
    """Between checkpoints the loop makes no host-device synchronisation (torch's sync debug mode raises).
    fp16 is left out: its gradient scaler reads back whether a gradient overflowed at every step."""
    split = load_split()
    device = torch.device("cuda")
    sampler = CropSampler(split.train, 48, device)
    generator = torch.Generator(device=device).manual_seed(0)
    task = make_task("sr", 4, 32, 16, skip=True, depth=2)
    model = task.build(Candidate("subpixel", (4,))).to(device)
    fit(model, lambda: task.pair(sampler(16, generator)), steps=3, precision=precision)  # warm-up
    torch.cuda.set_sync_debug_mode("error")
    try:
        fitted = fit(model, lambda: task.pair(sampler(16, generator)), steps=20, precision=precision,
                     on_step=lambda step: None)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert len(fitted.losses) == 20 and all(math.isfinite(v) for v in fitted.losses)


def test_collapse_error_is_a_candidate_error_and_its_message_is_recognised() -> None:
    from upsamplekit.study.core import CandidateError
    from upsamplekit.study.engine.base import COLLAPSED, TrialFailure, TrialSpec

    assert issubclass(CollapseError, CandidateError) and COLLAPSED == f"{CollapseError.__name__}:"
    spec = TrialSpec(Candidate("bilinear", (2,)), 0)
    assert TrialFailure(spec, "CollapseError: candidate 'bilinear [2]' seed 0 collapsed: x").collapsed
    assert not TrialFailure(spec, "RuntimeError: out of memory").collapsed


def test_the_verdict_names_collapsed_candidates() -> None:
    curves = {"subpixel": [[150, 27.2], [300, 27.5], [600, 27.6]],
              "bilinear": [[150, 27.1], [300, 27.3], [600, 27.4]]}
    trials = _trials(curves, 600)
    carafe = Candidate("carafe", (2, 2))
    summary = summarize([Candidate(n, (4,)) for n in curves] + [carafe], trials, config={"steps": 600},
                        baseline={"name": "bicubic", "psnr": 27.0},
                        collapsed=[(carafe, 0, "it learned nothing"), (carafe, 1, "it learned nothing")])
    assert summary.confidence is not None and summary.collapsed[0][0] == carafe
    assert "Collapsed in training and not ranked: carafe [2, 2] (seeds 0, 1)" in summary.confidence.verdict


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_a_study_on_cuda_trains_and_measures_there(tmp_path: Path, precision: str) -> None:
    code, _, stderr = study(*TINY, "--device", "cuda", "--precision", precision, "--out", str(tmp_path / "out"))
    assert code == 0, stderr
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["device"] == "cuda" and data["machine"]["gpu"] == torch.cuda.get_device_name()
    assert all(math.isfinite(t["psnr"]) and t["latency_ms"] > 0 for t in data["trials"])
