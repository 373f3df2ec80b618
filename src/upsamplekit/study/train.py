"""Training with a fixed step budget: the one loop the study (and ``compare``) use.

The recipe (measured in ``benchmarks/bench_recipe.py``, see docs/benchmarks.md): Adam on the mean
squared error (what PSNR measures), a linear warm-up over the first :data:`WARMUP` of the steps then
a cosine decay to 0, and the gradient's global norm clipped at :data:`CLIP`.

Measured (docs/benchmarks.md, "Training recipe"): at a peak of 5e-3 without warm-up the first Adam
steps switched the decoder's ReLU units off for good and a global-residual decoder never left the
no-network baseline; with the warm-up, the clipping and a peak of 5e-4 they stay alive. The squared
error (what PSNR measures) ended 0.1 dB higher than L1 (EDSR's loss) and got there several times
sooner.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["fit", "learning_rate", "Fitted", "WARMUP", "CLIP", "PRECISIONS", "LOSSES"]

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


@dataclass
class Fitted:
    """What :func:`fit` returns: every step's loss and the ``(step, value)`` of each checkpoint."""

    losses: list[float]
    curve: list[tuple[int, float]] = field(default_factory=list)


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
    """Train ``model`` for ``steps`` Adam steps on the mean squared error with the study's recipe.

    ``next_batch()`` returns ``(input, target)`` on the model's device. ``on_step(step)`` is called
    after each step (progress bars); the loop never waits for the device between checkpoints (the
    losses stay on it until the end). After each step number in ``checkpoints`` (1-based: ``steps``
    is the last), ``evaluate()`` is called with the model in eval mode and its value recorded in
    :attr:`Fitted.curve`. ``precision``: ``"fp32"``, or ``"bf16"``/``"fp16"`` autocast (fp16 with a
    gradient scaler). ``loss`` (``"mse"`` or ``"l1"``), ``warmup`` (share of the steps) and ``clip``
    (largest gradient norm, None: no clipping) change the recipe, for the benchmark that measured it.
    Seeding is the caller's: set ``torch.manual_seed`` before building the model and the batch
    generator.

    >>> torch.manual_seed(0) and None
    >>> model = nn.Conv2d(1, 1, 3, padding=1)
    >>> x = torch.rand(4, 1, 8, 8)
    >>> fitted = fit(model, lambda: (x, x), steps=60, lr=0.05, checkpoints=[30, 60], evaluate=lambda: 1.0)
    >>> fitted.losses[-1] < fitted.losses[0] / 4, fitted.curve
    (True, [(30, 1.0), (60, 1.0)])
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, but got {precision!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, but got {loss!r}")
    criterion = LOSSES[loss]
    params = [p for p in model.parameters() if p.requires_grad]
    device = params[0].device if params else torch.device("cpu")
    dtype = PRECISIONS[precision]
    optimizer = torch.optim.Adam(params, lr=lr) if params else None
    schedule = (torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: learning_rate(s, steps, warmup))
                if optimizer else None)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype is torch.float16)
    wanted = set(checkpoints)
    losses = torch.zeros(steps, device=device)
    curve: list[tuple[int, float]] = []
    model.train()
    for step in range(steps):
        inputs, target = next_batch()
        autocast = (torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext())
        with autocast:
            value = criterion(model(inputs).float(), target)
        if optimizer is not None and schedule is not None:
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(value).backward()
            if clip is not None:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(params, clip)
            scaler.step(optimizer)
            scaler.update()
            schedule.step()
        losses[step] = value.detach()
        if on_step is not None:
            on_step(step)
        if evaluate is not None and step + 1 in wanted:
            model.eval()
            with torch.no_grad():
                curve.append((step + 1, float(evaluate())))
            model.train()
    model.eval()
    return Fitted(losses.tolist(), curve)
