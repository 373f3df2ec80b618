"""Training through a folded layer: the gradients are the original's.

A :class:`FoldedConv` keeps the original convolution's parameters and computes its kernel from
them in the forward pass, so backpropagation reaches the same parameters. Checked in float64
(tolerance 1e-10 relative to the largest gradient: only summation order differs) for the
input, the weight and the bias, with modules in training mode, for nearest (no border bands),
bilinear with zero padding (border bands recomputed) and a transposed convolution.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from upsamplekit.folding import FoldedConv, fold

torch.set_num_threads(1)


def _pair(kind: str) -> nn.Module:
    torch.manual_seed(0)
    if kind == "transposed":
        return nn.Sequential(nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1, dtype=torch.float64))
    mode = {"nearest": "nearest", "bilinear": "bilinear", "reflect": "nearest"}[kind]
    conv = nn.Conv2d(3, 4, 3, padding=2 if kind == "reflect" else 1, padding_mode="reflect" if kind == "reflect"
                     else "zeros", groups=1, dtype=torch.float64)
    return nn.Sequential(nn.Upsample(scale_factor=(2, 3), mode=mode), conv)


def _gradients(model: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> list[torch.Tensor]:
    x = x.clone().requires_grad_(True)
    model.zero_grad()
    model(x).backward(grad)
    return [x.grad, *(p.grad for p in model.parameters())]


@pytest.mark.parametrize("kind", ["nearest", "bilinear", "reflect", "transposed"])
def test_gradients_equal_the_original(kind: str) -> None:
    original = _pair(kind).train()
    x = torch.randn(2, 3, 5, 7, dtype=torch.float64)
    if kind == "transposed":
        from upsamplekit.folding.transposed import fold_transposed
        folded = nn.Sequential(fold_transposed(original[0])).train()
    else:
        folded = fold(original).train()
    assert any(isinstance(m, FoldedConv) for m in folded.modules())
    out = original(x)
    grad = torch.randn(out.shape, dtype=torch.float64)
    want = _gradients(original, x, grad)
    got = _gradients(folded, x, grad)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        scale = float(w.abs().max())
        assert float((g - w).abs().max()) <= 1e-10 * scale


def test_the_folded_kernel_follows_weight_updates() -> None:
    """The folded kernel is computed from the parameters in every forward pass (no cache): an
    in-place update after a forward pass without gradients shows in the next output (every
    other way of editing: tests/fold/test_robustness.py)."""
    original = _pair("nearest").eval()
    folded = fold(original)
    x = torch.randn(1, 3, 4, 4, dtype=torch.float64)
    with torch.no_grad():
        folded(x)
        for model in (original, folded):
            for p in model.parameters():
                p.mul_(-2.0)
        torch.testing.assert_close(folded(x), original(x), rtol=0, atol=1e-12)


def test_an_optimiser_trains_the_folded_model_like_the_original() -> None:
    original = _pair("bilinear").train()
    folded = fold(original).train()
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    target = torch.randn(2, 4, 12, 15, dtype=torch.float64)
    for model in (original, folded):
        optimiser = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        for _ in range(3):
            optimiser.zero_grad()
            ((model(x) - target) ** 2).mean().backward()
            optimiser.step()
    for p, q in zip(original.parameters(), folded.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-12)
