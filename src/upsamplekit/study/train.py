"""Training: the one loop the study (and ``compare``) use, for a fixed step budget (:func:`fit`) or
stepwise and resumable (:class:`Trainer`, for the halving budget's rungs).

The recipe (measured in ``benchmarks/bench_recipe.py``, see docs/benchmarks.md): Adam on the mean
squared error (what PSNR measures), a linear warm-up over the first :data:`WARMUP` of the steps then
a cosine decay to 0, and the gradient's global norm clipped at :data:`CLIP`. A run that is
continued rung by rung (:mod:`upsamplekit.study.budget`) uses the same warm-up, then holds the peak
(:func:`stable_rate`) and decays in branches (:func:`decay_rate`).

Measured (docs/benchmarks.md, "Training recipe"): at a peak of 5e-3 without warm-up the first Adam
steps switched the decoder's ReLU units off for good and a global-residual decoder never left the
no-network baseline; with the warm-up, the clipping and a peak of 5e-4 they stay alive. The squared
error (what PSNR measures) ended 0.1 dB higher than L1 (EDSR's loss) and got there several times
sooner.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["fit", "Trainer", "learning_rate", "stable_rate", "decay_rate", "Fitted", "WARMUP", "CLIP", "PRECISIONS", "LOSSES"]

Batch = tuple[torch.Tensor, torch.Tensor]

#: Share of the steps spent warming the learning rate up from 0.
WARMUP = 0.05
#: Largest global norm of the gradient (larger ones are scaled down to it).
CLIP = 1.0
#: The autocast precisions: the name of ``--precision`` and the dtype it computes in (None: no autocast).
PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
#: The training losses :func:`fit` knows (the study uses ``"mse"``).
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {"mse": F.mse_loss, "l1": F.l1_loss}


def learning_rate(step: int, steps: int, warmup: float = WARMUP) -> float:
    """The multiplier of the peak learning rate at ``step`` (0-based) of ``steps``: linear warm-up
    over ``ceil(warmup * steps)`` steps, then a cosine from 1 to 0.

    >>> [round(learning_rate(s, 100), 3) for s in (0, 4, 5, 50, 99)]
    [0.2, 1.0, 1.0, 0.533, 0.0]
    """
    ramp = max(1, math.ceil(warmup * steps))
    if step < ramp:
        return (step + 1) / ramp
    done = (step - ramp) / max(1, steps - 1 - ramp)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, done)))


def stable_rate(step: int, warmup_steps: int) -> float:
    """The multiplier of the peak learning rate at ``step`` (0-based) of a warm-up-stable schedule:
    a linear warm-up over ``warmup_steps`` steps, then 1 for as long as training goes on. It does
    not depend on how long that is, so a run can be continued (:func:`decay_rate` ends it).

    >>> [stable_rate(s, 4) for s in (0, 3, 4, 1000)]
    [0.25, 1.0, 1.0, 1.0]
    """
    return (step + 1) / warmup_steps if step < warmup_steps else 1.0


def decay_rate(step: int, start: int, length: int) -> float:
    """The multiplier at ``step`` of a decay of ``length`` steps branched off a stable phase at
    ``start``: ``1 - sqrt((step - start) / length)`` (the "1-sqrt" cool-down of warm-up-stable-decay
    schedules; Hägele et al. 2024 found it matches a cosine schedule at 20% of the steps).

    >>> [round(decay_rate(s, 100, 4), 3) for s in (100, 101, 102, 103)]
    [1.0, 0.5, 0.293, 0.134]
    """
    return 1.0 - math.sqrt((step - start) / length)


@dataclass
class Fitted:
    """What :func:`fit` and :meth:`Trainer.train` return: every step's loss and the ``(step, value)``
    of each checkpoint."""

    losses: list[float]
    curve: list[tuple[int, float]] = field(default_factory=list)


class Trainer:
    """A model in training, stepwise and resumable: its optimizer (Adam), gradient scaler, the
    generator its batches are drawn with, and the number of steps taken.

    :meth:`train` takes steps with any learning-rate multiplier of the global step;
    :meth:`state_dict` and :meth:`load_state_dict` hold everything the next step depends on (model,
    optimizer, scaler, batch generator, torch's global random state, the step), so a trainer
    restored from a state continues bit for bit as the one that saved it would have (on the CPU;
    on a GPU as far as its kernels are deterministic). A decay branched off for evaluation is
    trained from a saved state, which is then loaded back: the run continues untouched.

    ``next_batch()`` must draw its randomness from ``generator`` (the trainer's state includes it).
    The recipe knobs are :func:`fit`'s.
    """

    def __init__(self, model: nn.Module, next_batch: Callable[[], Batch], lr: float, *,
                 generator: torch.Generator | None = None, precision: str = "fp32", loss: str = "mse",
                 clip: float | None = CLIP) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, but got {precision!r}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, but got {loss!r}")
        self.model, self.next_batch, self.lr, self.clip = model, next_batch, lr, clip
        self.generator = generator
        self.criterion = LOSSES[loss]
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.device = self.params[0].device if self.params else torch.device("cpu")
        self.dtype = PRECISIONS[precision]
        self.optimizer = torch.optim.Adam(self.params, lr=lr) if self.params else None
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.dtype is torch.float16)
        self.step = 0

    def train(self, steps: int, multiplier: Callable[[int], float],
              on_step: Callable[[int], None] | None = None, *, checkpoints: Sequence[int] = (),
              evaluate: Callable[[], float] | None = None) -> Fitted:
        """Take ``steps`` steps from :attr:`step`, at ``lr * multiplier(step)`` (``step`` global and
        0-based). ``on_step``, ``checkpoints`` (global 1-based step numbers) and ``evaluate`` as in
        :func:`fit`. The losses stay on the device until the end: no step waits for it."""
        wanted = set(checkpoints)
        losses: list[torch.Tensor] = []
        curve: list[tuple[int, float]] = []
        model, optimizer = self.model, self.optimizer
        model.train()
        for _ in range(steps):
            inputs, target = self.next_batch()
            autocast = (torch.autocast(self.device.type, dtype=self.dtype) if self.dtype is not None
                        else contextlib.nullcontext())
            with autocast:
                value = self.criterion(model(inputs).float(), target)
            if optimizer is not None:
                for group in optimizer.param_groups:
                    group["lr"] = self.lr * multiplier(self.step)
                optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(value).backward()
                if self.clip is not None:
                    self.scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(self.params, self.clip)
                self.scaler.step(optimizer)
                self.scaler.update()
            losses.append(value.detach())
            self.step += 1
            if on_step is not None:
                on_step(self.step - 1)
            if evaluate is not None and self.step in wanted:
                model.eval()
                with torch.no_grad():
                    curve.append((self.step, float(evaluate())))
                model.train()
        model.eval()
        return Fitted(torch.stack(losses).tolist() if losses else [], curve)

    def state_dict(self) -> dict[str, Any]:
        """Everything the next step depends on, as tensors and plain values (``torch.save``-able,
        loadable with ``weights_only=True``); copies, not views of the live state."""
        state: dict[str, Any] = {
            "step": self.step,
            "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
            "optimizer": copy.deepcopy(self.optimizer.state_dict()) if self.optimizer is not None else None,
            "scaler": self.scaler.state_dict(),
            "generator": self.generator.get_state() if self.generator is not None else None,
            "rng": torch.get_rng_state(),
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state`` (of :meth:`state_dict`, of a trainer of the same model)."""
        self.model.load_state_dict(state["model"])
        if self.optimizer is not None and state["optimizer"] is not None:
            self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))
        if state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        if self.generator is not None and state["generator"] is not None:
            self.generator.set_state(state["generator"])
        torch.set_rng_state(state["rng"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.step = int(state["step"])


def fit(
    model: nn.Module,
    next_batch: Callable[[], Batch],
    steps: int,
    lr: float = 1e-3,
    on_step: Callable[[int], None] | None = None,
    *,
    checkpoints: Sequence[int] = (),
    evaluate: Callable[[], float] | None = None,
    precision: str = "fp32",
    loss: str = "mse",
    warmup: float = WARMUP,
    clip: float | None = CLIP,
) -> Fitted:
    """Train ``model`` for ``steps`` Adam steps on the mean squared error with the study's recipe
    (warm-up, then a cosine to 0 over exactly ``steps``: :func:`learning_rate`).

    ``next_batch()`` returns ``(input, target)`` on the model's device. ``on_step(step)`` is called
    after each step (progress bars); the loop never waits for the device between checkpoints (the
    losses stay on it until the end). After each step number in ``checkpoints`` (1-based: ``steps``
    is the last), ``evaluate()`` is called with the model in eval mode and its value recorded in
    :attr:`Fitted.curve`. ``precision``: ``"fp32"``, or ``"bf16"``/``"fp16"`` autocast (fp16 with a
    gradient scaler). ``loss`` (``"mse"`` or ``"l1"``), ``warmup`` (share of the steps) and ``clip``
    (largest gradient norm, None: no clipping) change the recipe, for the benchmark that measured it.
    Seeding is the caller's: set ``torch.manual_seed`` before building the model and the batch
    generator. A run that must be continued later uses :class:`Trainer` with :func:`stable_rate`.

    >>> torch.manual_seed(0) and None
    >>> model = nn.Conv2d(1, 1, 3, padding=1)
    >>> x = torch.rand(4, 1, 8, 8)
    >>> fitted = fit(model, lambda: (x, x), steps=60, lr=0.05, checkpoints=[30, 60], evaluate=lambda: 1.0)
    >>> fitted.losses[-1] < fitted.losses[0] / 4, fitted.curve
    (True, [(30, 1.0), (60, 1.0)])
    """
    trainer = Trainer(model, next_batch, lr, precision=precision, loss=loss, clip=clip)
    return trainer.train(steps, lambda step: learning_rate(step, steps, warmup), on_step,
                         checkpoints=checkpoints, evaluate=evaluate)
