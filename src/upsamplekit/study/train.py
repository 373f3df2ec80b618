"""Training with a fixed step budget: the one loop the study (and ``compare``) use."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["fit"]

Batch = tuple[torch.Tensor, torch.Tensor]


def fit(
    model: nn.Module,
    next_batch: Callable[[], Batch],
    steps: int,
    lr: float = 2e-3,
    on_step: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train ``model`` for ``steps`` Adam steps on L1 loss and return the loss of every step.

    ``next_batch()`` returns ``(input, target)``; the learning rate follows a cosine schedule
    from ``lr`` to 0, so a short budget still ends on a settled model. ``on_step(step, loss)``
    is called after each step (progress bars). Seeding is the caller's: set
    ``torch.manual_seed`` before building the model and the batch generator.

    >>> torch.manual_seed(0) and None
    >>> model = nn.Conv2d(1, 1, 3, padding=1)
    >>> x = torch.rand(4, 1, 8, 8)
    >>> losses = fit(model, lambda: (x, x), steps=60, lr=0.05)
    >>> losses[-1] < losses[0] / 4
    True
    """
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr) if params else None
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps) if optimizer else None
    model.train()
    losses: list[float] = []
    for step in range(steps):
        inputs, target = next_batch()
        loss = F.l1_loss(model(inputs), target)
        if optimizer is not None and schedule is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses[-1])
    model.eval()
    return losses
