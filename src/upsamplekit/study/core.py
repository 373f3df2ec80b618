"""The engine-neutral core: prepare the data once, then evaluate one (candidate, seed) trial.

An engine (Optuna, or any other) only decides which trials run where and stores their
:class:`~upsamplekit.study.results.TrialResult`; everything measured is computed here.
"""

from __future__ import annotations

import io
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._version import __version__
from ..costs import count_macs, count_params
from ..errors import InvalidArgumentError
from ..resample import resize
from .._loading import import_callable
from ..optional import require
from .config import StudyConfig
from .data import CropSampler, Split, fixed_crops, load_split
from .device import check_precision_on, resolve_device
from .metrics import checkerboard_score, psnr, ssim
from .measure import latency, peak_activation_bytes
from .results import Candidate, TrialResult
from .tasks import Task, downsample, make_task
from .budget import decay_steps, rung_steps, trunk_end, warmup_steps
from .engine.base import SettingsMismatchError
from .engine.checkpoints import CheckpointStore
from .train import Trainer, decay_rate, learning_rate, stable_rate

__all__ = ["Workbench", "CandidateError", "CollapseError", "CheckpointWarning", "CheckpointVersionError",
           "checkpoint_name", "pack_checkpoint", "unpack_checkpoint", "LATENCY_SECONDS", "CHECKPOINTS", "checkpoint_steps",
           "collapse_reason"]

#: How long latency is measured per trial (``blocked_autorange``'s ``min_run_time``).
LATENCY_SECONDS = 0.1
#: Validation checkpoints per trial, evenly spaced over the steps (the last at the last step).
CHECKPOINTS = 8
#: A model whose validation PSNR is within this many dB of a flat image of each crop's mean colour
#: (or below it) has collapsed.
COLLAPSE_MARGIN_DB = 0.5
#: A model whose validation PSNR moved less than this many dB in training learned nothing (a decoder
#: with the global residual starts at the no-network baseline and can stay there).
STILL_DB = 0.01
#: Whether a model learned (its validation PSNR moved) is judged from this many steps on.
JUDGED_STEPS = 20


class CandidateError(InvalidArgumentError):
    """A candidate decoder cannot be built or does not upsample by the study's scale."""


class CollapseError(CandidateError):
    """A trial's model collapsed: diverged, constant output, no better than a flat image, or it
    learned nothing. The trial is stored as failed with the reason, never ranked."""


def checkpoint_steps(steps: int, count: int = CHECKPOINTS) -> list[int]:
    """The (1-based) steps after which a trial is validated: ``count`` evenly spaced, the last at ``steps``.

    >>> checkpoint_steps(600)
    [75, 150, 225, 300, 375, 450, 525, 600]
    >>> checkpoint_steps(3)
    [1, 2, 3]
    """
    return sorted({max(1, round(steps * k / count)) for k in range(1, count + 1)})


def collapse_reason(losses: list[float], output: torch.Tensor, psnr_db: float, flat_db: float,
                    start_db: float | None = None) -> str | None:
    """Why a trained model counts as collapsed, or None. Whether it learned at all is judged from
    :data:`JUDGED_STEPS` steps on.

    ``losses``: every step's training loss; ``output``: its validation output (N, C, H, W);
    ``psnr_db``: its validation PSNR; ``flat_db``: the PSNR of a flat image of each validation
    crop's mean colour (the trivial baseline any model that learned something beats);
    ``start_db``: its validation PSNR before training, if known. A flat loss is judged on the
    validation crops (PSNR before and after training, :data:`STILL_DB`), not on the training loss:
    each batch holds other crops, and the loss of a decoder that starts at the no-network baseline
    varies more from batch to batch than it falls (measured: the last tenth of the steps averaged
    a higher loss than the first tenth for decoders that gained 0.4 dB on the validation crops).

    >>> flat = torch.full((1, 3, 8, 8), 0.5)
    >>> collapse_reason([0.3, 0.2], flat, 14.0, 14.0)
    'constant output (every validation image is one flat colour)'
    >>> collapse_reason([0.3] * 20, torch.rand(1, 3, 8, 8), 27.731, 14.0, start_db=27.728)
    'it learned nothing: validation PSNR 27.73 dB after training, 27.73 dB before'
    >>> collapse_reason([0.3] * 20, torch.rand(1, 3, 8, 8), 25.0, 14.0, start_db=20.0) is None
    True
    """
    if not all(math.isfinite(v) for v in losses):
        return "training diverged (the loss became inf or nan); lower --lr"
    if float(output.flatten(2).std(dim=2).max()) < 1e-3:
        return "constant output (every validation image is one flat colour)"
    if psnr_db < flat_db + COLLAPSE_MARGIN_DB:
        return (f"validation PSNR {psnr_db:.2f} dB is no better than a flat image of each crop's mean colour "
                f"({flat_db:.2f} dB)")
    if len(losses) >= JUDGED_STEPS and start_db is not None and abs(psnr_db - start_db) < STILL_DB:
        return f"it learned nothing: validation PSNR {psnr_db:.2f} dB after training, {start_db:.2f} dB before"
    return None


@dataclass
class Workbench:
    """Data, validation set, task and device of one study, prepared once and shared by its trials."""

    config: StudyConfig
    task: Task
    split: Split
    val_hr: torch.Tensor
    device: torch.device
    sampler: CropSampler

    @classmethod
    def prepare(cls, config: StudyConfig) -> Workbench:
        device = resolve_device(config.device)
        check_precision_on(config.precision, device)
        factory = import_callable(config.decoder, "decoder") if config.decoder else None
        task = make_task(config.task, config.scale, config.width, config.latent_channels, factory,
                         bool(config.skip), config.depth, tuple(config.widths), config.noise, config.merge)
        split = load_split(config.images, config.val_fraction, min_side=max(config.crop, config.val_size))
        val_hr = fixed_crops(split.val, config.val_size, config.val_crops).to(device)
        return cls(config, task, split, val_hr, device, CropSampler(split.train, config.crop, device))

    def check(self, candidates: list[Candidate]) -> None:
        """Build every candidate and run it on a small input before anything is trained."""
        side = 2 * (self.config.scale if self.task.name == "denoise" else 1)  # a U-Net divides its input
        for candidate in candidates:
            try:
                torch.manual_seed(0)
                model = self.task.build_decoder(candidate)
                with torch.no_grad():
                    out = model(self.task.decoder_input(side))
            except Exception as error:  # a user's factory or an upsampler that cannot do this scale
                raise CandidateError(f"candidate {candidate.label!r} cannot be built and run: "
                                     f"{type(error).__name__}: {error}") from error
            if not isinstance(out, torch.Tensor):
                raise CandidateError(f"candidate {candidate.label!r}: the decoder's forward must return one tensor "
                                     f"(N, 3, H, W), but it returned a {type(out).__name__}"
                                     + (f" of {len(out)} items" if isinstance(out, (tuple, list, dict)) else "")
                                     + "; return the image alone (wrap the module if it returns more)")
            if candidate is candidates[0]:
                peak_activation_bytes(model, self.task.decoder_input(side))  # torch's one-time dispatch setup
            expected = (1, 3, side * self.task.input_scale, side * self.task.input_scale)
            if tuple(out.shape) != expected:
                raise CandidateError(f"candidate {candidate.label!r} must map a decoder input (1, "
                                     f"{self.task.decoder_channels}, {side}, {side}) to {expected}, "
                                     f"but returned {tuple(out.shape)}")

    def baseline(self) -> dict[str, object]:
        """What no network gives on the validation crops: bicubic resizing of the area-downsampled crops,
        or for ``denoise`` scikit-image's total-variation denoiser (Chambolle) at the best weight of
        :data:`TV_WEIGHTS` for these crops (the noisy input's own PSNR is given too)."""
        if self.task.name == "denoise":
            return denoise_baseline(*self.task.pair(self.val_hr))
        up = resize(downsample(self.val_hr, self.config.scale), scale_factor=self.config.scale,
                    method="bicubic").clamp(0, 1)
        return {"name": "bicubic resize (no network)", "psnr": float(psnr(up, self.val_hr).mean()),
                "ssim": float(ssim(up.cpu(), self.val_hr.cpu()).mean())}

    def flat_psnr(self) -> float:
        """PSNR of a flat image of each validation crop's mean colour: the trivial baseline."""
        flat = self.val_hr.mean(dim=(2, 3), keepdim=True).expand_as(self.val_hr)
        return float(psnr(flat, self.val_hr).mean())

    def pictures(self) -> dict[str, np.ndarray]:
        """The reconstruction grid's first two tiles: the decoder's input (shown at its size) and target."""
        inputs, target = self.task.pair(self.val_hr)
        shown = downsample(target, self.config.scale) if self.task.name == "autoencoder" else inputs
        return {"input": _image(shown[:1]), "target": _image(target[:1])}

    def run_trial(self, candidate: Candidate, seed: int, on_step: Callable[[int], None] | None = None,
                  rung: int = 0, checkpoints: CheckpointStore | None = None) -> tuple[TrialResult, np.ndarray]:
        """Train ``candidate`` with ``seed``, validate it before training and at :func:`checkpoint_steps`
        (with ``--budget halving``: up to the end of ``rung``, continuing from the checkpoint the
        previous rung left in ``checkpoints``, and validated at each rung's end), measure it, and
        return the result and its reconstruction of the first validation crop (H, W, 3) in [0, 1].
        A collapsed model raises :class:`CollapseError`."""
        config = self.config
        torch.manual_seed(seed)
        model = self.task.build(candidate).to(self.device)
        batches = torch.Generator(device=self.device).manual_seed(10_000 + seed)  # the same crops for every candidate
        inputs, target = self.task.pair(self.val_hr)

        def next_batch() -> tuple[torch.Tensor, torch.Tensor]:
            return self.task.pair(self.sampler(config.batch_size, batches), batches)

        def validate() -> float:
            return float(psnr(model(inputs).clamp(0, 1), target).mean())

        with torch.no_grad():
            model.eval()
            before = validate()
        trainer = Trainer(model, next_batch, config.lr, generator=batches, precision=config.precision)
        start = time.perf_counter()
        if config.budget == "halving":
            if checkpoints is None:
                raise ValueError("run_trial with budget 'halving' needs the study's checkpoint store")
            losses, curve = _climb(trainer, candidate, seed, rung, checkpoints, config, validate, before, on_step)
        else:
            fitted = trainer.train(config.steps, lambda step: learning_rate(step, config.steps), on_step,
                                   checkpoints=checkpoint_steps(config.steps), evaluate=validate)
            losses, curve = fitted.losses, [[0, before]] + [[step, value] for step, value in fitted.curve]
        trained = time.perf_counter()

        with torch.no_grad():
            output = model(inputs).clamp(0, 1)
        quality = float(psnr(output, target).mean())
        curve[-1] = [curve[-1][0], quality]
        final = config.budget != "halving" or rung == config.rungs - 1
        # Before the last rung a slow starter that has not moved yet is left to the rung's decision, not called
        # collapsed (measured: CARAFE [4] had not moved after 89 steps; over the full 400 it learns).
        reason = collapse_reason(losses, output, quality, self.flat_psnr(), before if final else None)
        if reason is not None:
            at = f" (at rung {rung + 1} of {config.rungs}, {curve[-1][0]} steps)" if config.budget == "halving" else ""
            raise CollapseError(f"candidate {candidate.label!r} seed {seed} collapsed: {reason}{at}")
        output, target = output.cpu(), target.cpu()
        decoder = self.task.decoder_of(model)
        probe = self.task.decoder_input(config.latency_size).to(self.device)
        median_ms, iqr_ms = latency(decoder, probe, min_run_time=LATENCY_SECONDS)
        result = TrialResult(
            candidate=candidate, seed=seed, psnr=quality,
            ssim=float(ssim(output, target).mean()),
            checkerboard=float(checkerboard_score(output, target, config.scale).mean()),
            params=count_params(decoder), macs=count_macs(decoder, probe),
            latency_ms=median_ms, latency_iqr_ms=iqr_ms,
            peak_memory_bytes=peak_activation_bytes(decoder, probe),
            train_seconds=trained - start, eval_seconds=0.0,
            final_loss=float(np.mean(losses[-max(1, len(losses) // 10):])),
            curve=curve, rung=rung,
        )
        result.eval_seconds = time.perf_counter() - trained
        return result, _image(output[:1])


class CheckpointWarning(UserWarning):
    """A stored checkpoint is missing or damaged: the rung that wrote it is trained again."""


class CheckpointVersionError(SettingsMismatchError):
    """A checkpoint was written by another upsamplekit version: refused."""


#: The layout of a stored checkpoint (see :func:`pack_checkpoint`); bumped when it changes.
CHECKPOINT_FORMAT = 1


def checkpoint_name(candidate: Candidate, seed: int, rung: int) -> str:
    """The name under which the trunk of ``candidate`` / ``seed`` at the end of ``rung`` is kept.

    >>> checkpoint_name(Candidate("bilinear", (2, 2)), 1, 0)
    'bilinear@2x2/seed1/rung0'
    """
    return f"{candidate.key}/seed{seed}/rung{rung}"


def pack_checkpoint(state: dict[str, Any], curve: list[list[float]]) -> bytes:
    """A :class:`~upsamplekit.study.train.Trainer` state and the validation curve so far, as bytes,
    marked with this upsamplekit version."""
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "upsamplekit": __version__, "state": state, "curve": curve}, buffer)
    return buffer.getvalue()


def unpack_checkpoint(data: bytes, where: str) -> dict[str, Any]:
    """The payload of :func:`pack_checkpoint`; ``ValueError`` when ``data`` is not one (damaged),
    :class:`CheckpointVersionError` (naming both versions) when another upsamplekit wrote it."""
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises what its zip and unpickling layers raise
        raise ValueError(f"it cannot be read ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
                         ) from None
    if not isinstance(payload, dict) or not {"format", "upsamplekit", "state", "curve"} <= set(payload):
        raise ValueError("it is not an upsamplekit checkpoint")
    if payload["upsamplekit"] != __version__ or payload["format"] != CHECKPOINT_FORMAT:
        raise CheckpointVersionError(f"the checkpoint {where} was written by upsamplekit {payload['upsamplekit']} "
                                     f"(format {payload['format']}), and this is upsamplekit {__version__} (format "
                                     f"{CHECKPOINT_FORMAT}): it is refused; resume with upsamplekit "
                                     f"{payload['upsamplekit']}, or start the study afresh in another --out")
    return payload


def _climb(trainer: Trainer, candidate: Candidate, seed: int, rung: int, store: CheckpointStore,
           config: StudyConfig, validate: Callable[[], float], before: float,
           on_step: Callable[[int], None] | None) -> tuple[list[float], list[list[float]]]:
    """Train ``trainer`` to the end of ``rung`` of the halving schedule (:mod:`~upsamplekit.study.budget`),
    from the latest stored checkpoint below it that can be read (a missing or damaged one is
    warned about, and the rung that wrote it is trained again and its checkpoint written anew).
    Leaves the model decayed at the rung's end; returns the rung's losses (the trunk since the
    checkpoint, then the decay) and the validation curve (before training, then each rung's end)."""
    ends = rung_steps(config.steps, config.eta, config.rungs)
    warmup = warmup_steps(config.steps)
    curve: list[list[float]] = [[0, before]]
    first = 0
    for earlier in range(rung - 1, -1, -1):
        name = checkpoint_name(candidate, seed, earlier)
        data = store.load(name)
        try:
            if data is None:
                raise ValueError("it is missing")
            payload = unpack_checkpoint(data, store.where(name))
            trainer.load_state_dict(payload["state"])
        except CheckpointVersionError:
            raise
        except (ValueError, KeyError, RuntimeError, TypeError) as error:  # load_state_dict: RuntimeError, KeyError
            again = f"from rung {earlier - 1}'s checkpoint" if earlier else "from the start"
            warnings.warn(f"the checkpoint of {candidate.label} seed {seed} at rung {earlier} ({store.where(name)}) "
                          f"cannot be used: {error}; rung {earlier} is trained again {again} (continuation is exact, "
                          "so the results are the same)", CheckpointWarning, stacklevel=2)
            continue
        curve, first = [list(point) for point in payload["curve"]], earlier + 1
        break
    losses: list[float] = []
    for r in range(first, rung + 1):
        trunk = trainer.train(trunk_end(ends[r]) - trainer.step, lambda step: stable_rate(step, warmup), on_step)
        saved = trainer.state_dict() if r < len(ends) - 1 else None
        branch, length = trainer.step, decay_steps(ends[r])
        decay = trainer.train(length, lambda step: decay_rate(step, branch, length), on_step)
        with torch.no_grad():
            curve.append([ends[r], validate()])
        losses = trunk.losses + decay.losses
        if saved is not None:
            store.save(checkpoint_name(candidate, seed, r), pack_checkpoint(saved, curve))
            if r < rung:
                trainer.load_state_dict(saved)
    return losses, curve


#: The weights of scikit-image's ``denoise_tv_chambolle`` tried for the ``denoise`` baseline.
TV_WEIGHTS = (0.02, 0.05, 0.1, 0.2)


def denoise_baseline(noisy: torch.Tensor, clean: torch.Tensor) -> dict[str, object]:
    """The ``denoise`` task's no-network baseline: ``skimage.restoration.denoise_tv_chambolle`` on each
    noisy crop (channels jointly), at the weight of :data:`TV_WEIGHTS` with the best mean PSNR."""
    restoration = require("skimage.restoration", "study", "the denoise task's baseline")
    images = noisy.detach().cpu().permute(0, 2, 3, 1).double().numpy()
    best: tuple[float, float, torch.Tensor] | None = None
    for weight in TV_WEIGHTS:
        out = np.stack([restoration.denoise_tv_chambolle(image, weight=weight, channel_axis=-1) for image in images])
        smooth = torch.from_numpy(out).permute(0, 3, 1, 2).float().clamp(0, 1)
        value = float(psnr(smooth, clean.cpu()).mean())
        if best is None or value > best[0]:
            best = (value, weight, smooth)
    assert best is not None  # TV_WEIGHTS is not empty
    value, weight, smooth = best
    return {"name": f"TV denoising (scikit-image, weight {weight:g}; no network)", "psnr": value,
            "ssim": float(ssim(smooth, clean.cpu()).mean()),
            "input_psnr": float(psnr(noisy.clamp(0, 1), clean).mean())}


def _image(batch: torch.Tensor) -> np.ndarray:
    return batch[0].detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy().astype(np.float32)
