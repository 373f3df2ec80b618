"""The engine-neutral core: prepare the data once, then evaluate one (candidate, seed) trial.

An engine (Optuna, or any other) only decides which trials run where and stores their
:class:`~upsamplekit.study.results.TrialResult`; everything measured is computed here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..costs import count_macs, count_params
from ..errors import InvalidArgumentError
from ..resample import resize
from .._loading import import_callable
from .config import StudyConfig
from .data import Split, fixed_crops, load_split, random_crops
from .metrics import checkerboard_score, psnr, ssim
from .measure import latency, peak_activation_bytes
from .results import Candidate, TrialResult
from .tasks import Task, downsample, make_task
from .train import fit

__all__ = ["Workbench", "CandidateError", "LATENCY_SECONDS"]

#: How long latency is measured per trial (``blocked_autorange``'s ``min_run_time``).
LATENCY_SECONDS = 0.1


class CandidateError(InvalidArgumentError):
    """A candidate decoder cannot be built or does not upsample by the study's scale."""


@dataclass
class Workbench:
    """Data, validation set and task of one study, prepared once and shared by its trials."""

    config: StudyConfig
    task: Task
    split: Split
    val_hr: torch.Tensor

    @classmethod
    def prepare(cls, config: StudyConfig) -> Workbench:
        factory = import_callable(config.decoder, "decoder") if config.decoder else None
        task = make_task(config.task, config.scale, config.channels, config.latent_channels, factory,
                         bool(config.skip))
        split = load_split(config.images, config.val_fraction, min_side=max(config.crop, config.val_size))
        return cls(config, task, split, fixed_crops(split.val, config.val_size, config.val_crops))

    def check(self, candidates: list[Candidate]) -> None:
        """Build every candidate and run it on a small input before anything is trained."""
        side = 2
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
            expected = (1, 3, side * self.config.scale, side * self.config.scale)
            if tuple(out.shape) != expected:
                raise CandidateError(f"candidate {candidate.label!r} must map a decoder input (1, "
                                     f"{self.task.decoder_channels}, {side}, {side}) to {expected}, "
                                     f"but returned {tuple(out.shape)}")

    def baseline(self) -> dict[str, object]:
        """Bicubic resize of the area-downsampled validation crops: what no network gives."""
        up = resize(downsample(self.val_hr, self.config.scale), scale_factor=self.config.scale,
                    method="bicubic").clamp(0, 1)
        return {"name": "bicubic resize (no network)", "psnr": float(psnr(up, self.val_hr).mean()),
                "ssim": float(ssim(up, self.val_hr).mean())}

    def pictures(self) -> dict[str, np.ndarray]:
        """The reconstruction grid's first two tiles: the decoder's input (shown at its size) and target."""
        inputs, target = self.task.pair(self.val_hr[:1])
        shown = downsample(target, self.config.scale) if self.task.name == "autoencoder" else inputs
        return {"input": _image(shown), "target": _image(target)}

    def run_trial(self, candidate: Candidate, seed: int,
                  on_step: Callable[[int, float], None] | None = None) -> tuple[TrialResult, np.ndarray]:
        """Train ``candidate`` with ``seed``, measure it, and return the result and its reconstruction
        of the first validation crop (H, W, 3) in [0, 1]."""
        config = self.config
        torch.manual_seed(seed)
        model = self.task.build(candidate)
        batches = torch.Generator().manual_seed(10_000 + seed)  # the same crops for every candidate

        def next_batch() -> tuple[torch.Tensor, torch.Tensor]:
            return self.task.pair(random_crops(self.split.train, config.crop, config.batch_size, batches))

        start = time.perf_counter()
        losses = fit(model, next_batch, config.steps, config.lr, on_step)
        trained = time.perf_counter()

        inputs, target = self.task.pair(self.val_hr)
        with torch.no_grad():
            output = model(inputs).clamp(0, 1)
        decoder = self.task.decoder_of(model)
        probe = self.task.decoder_input(config.latency_size)
        median_ms, iqr_ms = latency(decoder, probe, min_run_time=LATENCY_SECONDS)
        result = TrialResult(
            candidate=candidate, seed=seed,
            psnr=float(psnr(output, target).mean()),
            ssim=float(ssim(output, target).mean()),
            checkerboard=float(checkerboard_score(output, target, config.scale).mean()),
            params=count_params(decoder), macs=count_macs(decoder, probe),
            latency_ms=median_ms, latency_iqr_ms=iqr_ms,
            peak_memory_bytes=peak_activation_bytes(decoder, probe),
            train_seconds=trained - start, eval_seconds=0.0,
            final_loss=float(np.mean(losses[-max(1, len(losses) // 10):])),
        )
        result.eval_seconds = time.perf_counter() - trained
        if not math.isfinite(result.final_loss):
            raise CandidateError(f"candidate {candidate.label!r} seed {seed}: training diverged "
                                 f"(loss {result.final_loss}); lower --lr")
        return result, _image(output[:1])


def _image(batch: torch.Tensor) -> np.ndarray:
    return batch[0].detach().clamp(0, 1).permute(1, 2, 0).numpy().astype(np.float32)
