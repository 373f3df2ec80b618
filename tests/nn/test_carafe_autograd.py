"""CARAFE's reassembly as its own autograd function (issue 15): ``_Reassemble`` against the plain
autograd path it replaces (the same in-place ops, recorded by autograd) and torch's gradcheck.

References: ``torch.autograd.gradcheck``/``gradgradcheck`` in float64 (finite differences), and
``_accumulate`` run under plain autograd, the path used before and still used for ONNX export.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

import upsamplekit.nn.carafe as carafe_module
from tests.memory import peak_bytes
from upsamplekit.nn.carafe import CARAFE, _accumulate, _Reassemble, _reassemble, carafe, carafe_kernels
from upsamplekit.nn.functional import pixel_shuffle, pixel_unshuffle

torch.set_num_threads(1)


def plain(x: torch.Tensor, masks: torch.Tensor, scale: tuple[int, ...]) -> torch.Tensor:
    """:func:`carafe` before issue 15: the tap-by-tap addcmuls, differentiated by autograd."""
    nd = len(scale)
    kernels = pixel_unshuffle(masks, scale, nd).reshape(x.shape[0], masks.shape[1], math.prod(scale), *x.shape[2:])
    k_up = round(masks.shape[1] ** (1 / nd))
    acc = _accumulate(x, kernels.to(x.dtype), k_up)
    return pixel_shuffle(acc.reshape(x.shape[0], -1, *x.shape[2:]), scale, nd)


def inputs(n: int, c: int, size: tuple[int, ...], scale: tuple[int, ...], k_up: int, dtype: torch.dtype,
           seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, *size, generator=generator, dtype=dtype)
    masks = torch.randn(n, k_up ** len(size), *[a * b for a, b in zip(size, scale)], generator=generator,
                        dtype=dtype).softmax(1)
    return x.requires_grad_(), masks.requires_grad_()


def graph_nodes(y: torch.Tensor) -> set[str]:
    """The names of the autograd nodes behind ``y``."""
    names, seen, todo = set(), set(), [y.grad_fn]
    while todo:
        node = todo.pop()
        if node is not None and id(node) not in seen:
            seen.add(id(node))
            names.add(type(node).__name__)
            todo.extend(f for f, _ in node.next_functions)
    return names


# (spatial size, scale, k_up): 1-D to 3-D, odd k_up from 1 to 5, equal and unequal scales
SMALL = [
    ((5,), (2,), 3),
    ((4,), (3,), 5),
    ((3, 4), (2, 2), 3),
    ((3, 2), (1, 3), 5),
    ((3, 3), (2, 2), 1),
    ((2, 2, 2), (2, 1, 1), 3),
]


@pytest.mark.parametrize("per_channel", [False, True], ids=["sum-over-channels", "addcmul-per-channel"])
@pytest.mark.parametrize(("size", "scale", "k_up"), SMALL, ids=str)
def test_gradcheck_float64(size: tuple[int, ...], scale: tuple[int, ...], k_up: int, per_channel: bool,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways of computing the kernels' gradient (chosen by the size of a kernel map)."""
    monkeypatch.setattr(carafe_module, "_PER_CHANNEL_MIN", 0 if per_channel else 10 ** 9)
    x, masks = inputs(1, 3, size, scale, k_up, torch.float64)
    assert torch.autograd.gradcheck(lambda a, m: carafe(a, m, scale), (x, masks))
    kernels = torch.rand(1, k_up ** len(size), math.prod(scale), *size, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, k: _Reassemble.apply(a, k, k_up), (x, kernels))


def test_gradcheck_one_input_at_a_time() -> None:
    x, masks = inputs(1, 2, (3, 4), (2, 2), 3, torch.float64)
    assert torch.autograd.gradcheck(lambda a: carafe(a, masks.detach(), 2), (x,))
    assert torch.autograd.gradcheck(lambda m: carafe(x.detach(), m, 2), (masks,))


@pytest.mark.parametrize(("size", "scale", "k_up"), [((4,), (2,), 3), ((2, 3), (2, 1), 3)], ids=str)
def test_double_backward(size: tuple[int, ...], scale: tuple[int, ...], k_up: int) -> None:
    """create_graph=True differentiates the plain path: second derivatives are there too."""
    x, masks = inputs(1, 2, size, scale, k_up, torch.float64)
    assert torch.autograd.gradgradcheck(lambda a, m: carafe(a, m, scale), (x, masks))


@pytest.mark.parametrize(("n", "c", "size", "scale", "k_up"), [
    (2, 8, (24, 24), (2, 2), 5),  # kernel maps of 4608 elements: one addcmul per channel
    (2, 3, (5, 7), (3, 2), 3),  # small maps: multiply and sum over the channels
    (1, 4, (40,), (4,), 5),
    (1, 3, (6, 5, 4), (2, 2, 1), 3),
], ids=str)
def test_matches_plain_autograd(n: int, c: int, size: tuple[int, ...], scale: tuple[int, ...], k_up: int) -> None:
    """Forward bit for bit; gradients of x and masks within float32 round-off (other summation order)."""
    x, masks = inputs(n, c, size, scale, k_up, torch.float32, seed=3)
    y = carafe(x, masks, scale)
    assert "_ReassembleBackward" in graph_nodes(y)
    expected = plain(x, masks, scale)
    assert torch.equal(y, expected)
    with torch.no_grad():
        assert torch.equal(carafe(x, masks, scale), expected)  # no graph: the plain ops
    g = torch.randn_like(y)
    got = torch.autograd.grad(y, (x, masks), g)
    want = torch.autograd.grad(expected, (x, masks), g)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_the_layer_uses_it_and_matches_plain_autograd(monkeypatch: pytest.MonkeyPatch) -> None:
    layer = CARAFE(4, (2, 3), k_up=5, compressed_channels=4)
    x = torch.randn(2, 4, 6, 5, requires_grad=True)
    y = layer(x)
    assert "_ReassembleBackward" in graph_nodes(y)
    grads = torch.autograd.grad(y.square().sum(), [x, *layer.parameters()])
    monkeypatch.setattr(_Reassemble, "apply", lambda a, k, k_up: _accumulate(a, k, k_up))
    y_plain = layer(x)
    expected = torch.autograd.grad(y_plain.square().sum(), [x, *layer.parameters()])
    assert torch.equal(y, y_plain)
    for a, b in zip(grads, expected):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_mixed_dtypes_give_gradients_of_each_inputs_dtype() -> None:
    """x in bfloat16 with float32 kernels (as under autocast): the result is float32, as before."""
    x = torch.randn(2, 3, 4, 5, dtype=torch.bfloat16, requires_grad=True)
    encoded = torch.randn(2, 9 * 4, 4, 5, requires_grad=True)
    y = _reassemble(x, carafe_kernels(encoded, 3, (2, 2)), (2, 2), 3)
    assert y.dtype == torch.float32
    y.sum().backward()
    assert x.grad is not None and x.grad.dtype == torch.bfloat16
    assert encoded.grad is not None and encoded.grad.dtype == torch.float32


def test_forward_and_backward_peak_memory_is_not_above_plain_autograd() -> None:
    x0, m0 = inputs(2, 16, (24, 24), (2, 2), 5, torch.float32, seed=4)
    g = torch.randn(2, 16, 48, 48)

    def step(fn: Callable[[torch.Tensor, torch.Tensor, tuple[int, ...]], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            a, m = x0.detach().clone().requires_grad_(), m0.detach().clone().requires_grad_()
            fn(a, m, (2, 2)).backward(g)
        return run

    ours, theirs = peak_bytes(step(carafe)), peak_bytes(step(plain))
    assert ours <= theirs, (ours, theirs)
