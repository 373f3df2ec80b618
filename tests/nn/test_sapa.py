"""SAPA against a naive float64 loop of the paper's equations and a naive version that materialises the
neighbourhood; its reductions (uniform weights: box average + nearest; one tap: nearest); gradients, bfloat16,
memory, the guide contract, errors, costs and ONNX."""

from __future__ import annotations

import io
import itertools
import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.conftest import forward_on
from tests.layer_helpers import per_axis, randomise
from tests.memory import peak_bytes
from upsamplekit import count_macs, count_params
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError, UpsampleError
from upsamplekit.nn import SAPA, build_upsampler, upsampler_info
from upsamplekit.nn.sapa import sapa

torch.set_num_threads(1)
SIZES = {1: (7,), 2: (4, 5), 3: (3, 2, 4)}
POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}



def _out(sizes: tuple[int, ...], scale: object) -> list[int]:
    return [n * f for n, f in zip(sizes, per_axis(scale, len(sizes)))]  # type: ignore[arg-type]



def _pair(layer: SAPA, batch: int, sizes: tuple[int, ...], seed: int,
          dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, layer.in_channels, *sizes, generator=generator, dtype=torch.float64).to(dtype)
    guide = torch.randn(batch, layer.guide_channels, *_out(sizes, layer.scale), generator=generator,
                        dtype=torch.float64).to(dtype)
    return x, guide


# ------------------------------------------------------------------------- references
def _layer_norm(v: np.ndarray, norm: nn.LayerNorm | None, eps: float = 1e-5) -> np.ndarray:
    """LayerNorm over the last axis (channels): (v - mean) / sqrt(var + eps), then the affine weights."""
    out = (v - v.mean(-1, keepdims=True)) / np.sqrt(v.var(-1, keepdims=True) + eps)
    if norm is not None:
        out = out * norm.weight.detach().numpy() + norm.bias.detach().numpy()
    return out


def _linear(v: np.ndarray, linear: nn.Linear | None) -> np.ndarray:
    if linear is None:
        return v
    out = v @ linear.weight.detach().numpy().T
    return out if linear.bias is None else out + linear.bias.detach().numpy()


def naive_sapa(layer: SAPA, x: torch.Tensor, guide: torch.Tensor) -> np.ndarray:
    """The paper's equations, one output position at a time, in float64.

    q = Linear(LN(y)) at every high-resolution position of the guide y, k = Linear(LN(x)) at
    every low-resolution position (SAPA-I: the bare LNs, without affine weights). Output p is
    sum_n softmax_n(<q_p, k_n>) x_n over the taps n = floor(p / s) + o - r, o in the k^d
    window, r = (k - 1) / 2. A tap outside the input has similarity 0 and value 0 and stays in
    the softmax (padding "zeros", upstream's CUDA kernels) or is left out ("exclude").
    """
    d, k, s = layer.dims, layer.kernel_size, layer.scale
    xs = np.moveaxis(x.detach().numpy(), 1, -1)  # (N, *S, C)
    ys = np.moveaxis(guide.detach().numpy(), 1, -1)  # (N, *So, Cg)
    q = _linear(_layer_norm(ys, layer.norm_y if layer.variant == "B" else None), layer.q)
    key = _linear(_layer_norm(xs, layer.norm_x if layer.variant == "B" else None), layer.k)
    n_batch, *spatial, channels = xs.shape
    out_shape = [v * f for v, f in zip(spatial, s)]
    out = np.zeros((n_batch, *out_shape, channels))
    r = (k - 1) // 2
    for p in itertools.product(*[range(v) for v in out_shape]):
        parent = [a // f for a, f in zip(p, s)]
        logits, values = [], []
        for offsets in itertools.product(range(k), repeat=d):
            at = [a + o - r for a, o in zip(parent, offsets)]
            if all(0 <= a < v for a, v in zip(at, spatial)):
                logits.append((q[(slice(None), *p)] * key[(slice(None), *at)]).sum(-1))  # (N,)
                values.append(xs[(slice(None), *at)])  # (N, C)
            elif layer.padding == "zeros":
                logits.append(np.zeros(n_batch))
                values.append(np.zeros((n_batch, channels)))
        logit = np.stack(logits)  # (taps, N)
        weights = np.exp(logit - logit.max(0))
        weights /= weights.sum(0)
        out[(slice(None), *p)] = sum(w[:, None] * v for w, v in zip(weights, values))
    result = np.moveaxis(out, -1, 1)
    if layer.proj is not None:
        with torch.no_grad():
            result = layer.proj(torch.from_numpy(result)).numpy()
    return result


def sapa_naive_memory_reference(x: torch.Tensor, query: torch.Tensor, key: torch.Tensor, scale: int,
                                kernel_size: int) -> torch.Tensor:
    """The straightforward pure-PyTorch SAPA (2-D, zero padding): unfold the keys and the values into their
    k x k neighbourhoods, repeat them to the output size (nearest) and contract. It materialises the
    (N, C, k^2, H * s, W * s) neighbourhood tensor: k^2 outputs' worth of memory."""
    n, c, h, w = x.shape
    taps, e = kernel_size * kernel_size, key.shape[1]
    pad = (kernel_size - 1) // 2

    def neighbourhood(t: torch.Tensor, channels: int) -> torch.Tensor:
        unfolded = F.unfold(t, kernel_size, padding=pad).view(n, channels * taps, h, w)
        return F.interpolate(unfolded, scale_factor=scale, mode="nearest").view(n, channels, taps, h * scale,
                                                                                 w * scale)

    weights = torch.einsum("nehw,nekhw->nkhw", query, neighbourhood(key, e)).softmax(1)
    return torch.einsum("nkhw,nckhw->nchw", weights, neighbourhood(x, c))


# -------------------------------------------------------------------- against the papers
@pytest.mark.parametrize(("d", "scale", "k", "variant", "padding", "guide", "out"), [
    (1, 2, 3, "B", "zeros", 5, None), (1, 3, 5, "I", "exclude", None, 2), (1, 4, 7, "B", "exclude", 2, None),
    (2, 2, 5, "B", "zeros", 6, None), (2, 3, 3, "I", "zeros", None, 5), (2, (2, 3), 5, "B", "exclude", None, 4),
    (2, 2, 1, "B", "zeros", 2, None), (2, 2, 7, "I", "exclude", None, None), (2, 1, 3, "B", "zeros", 4, None),
    (3, 2, 3, "B", "zeros", None, None), (3, (1, 2, 3), 3, "I", "exclude", None, 4),
])
def test_matches_a_naive_loop_of_the_papers_equations(d: int, scale: object, k: int, variant: str, padding: str,
                                                      guide: int | None, out: int | None, device: str) -> None:
    layer = SAPA(3, out, scale, d, guide_channels=guide, variant=variant, kernel_size=k, embed_dim=4,
                 padding=padding, dtype=torch.float64)
    randomise(layer, seed=d * 10 + k)
    x, y = _pair(layer, 2, SIZES[d], seed=k)
    result = forward_on(device, layer, x, y).numpy()  # float64 on any device: no TF32
    np.testing.assert_allclose(result, naive_sapa(layer, x, y), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("scale", "k"), [(2, 5), (3, 3), (4, 5), (2, 1), (3, 7)])
def test_matches_the_naive_neighbourhood_implementation(scale: int, k: int) -> None:
    generator = torch.Generator().manual_seed(scale * 7 + k)
    x = torch.randn(2, 6, 5, 7, generator=generator, dtype=torch.float64)
    key = torch.randn(2, 3, 5, 7, generator=generator, dtype=torch.float64)
    query = torch.randn(2, 3, 5 * scale, 7 * scale, generator=generator, dtype=torch.float64)
    expected = sapa_naive_memory_reference(x, query, key, scale, k)
    torch.testing.assert_close(sapa(x, query, key, scale, k), expected, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- reductions
@pytest.mark.parametrize(("d", "scale", "k"), [(1, 2, 5), (1, 3, 3), (2, 2, 5), (2, 3, 3), (2, (3, 2), 5),
                                               (3, 2, 3), (3, (2, 1, 3), 5)])
@pytest.mark.parametrize("padding", ["zeros", "exclude"])
def test_zero_query_is_a_box_average_then_nearest(d: int, scale: object, k: int, padding: str, device: str) -> None:
    """q = 0 makes every similarity 0: uniform weights over the window. With "zeros" the taps outside the input
    count (as zeros): CARAFE's zero-parameter box; with "exclude" the average is over the taps inside."""
    layer = SAPA(4, 4, scale, d, guide_channels=3, kernel_size=k, padding=padding, dtype=torch.float64)
    randomise(layer, seed=d)
    with torch.no_grad():
        layer.q.weight.zero_()  # type: ignore[union-attr]
        layer.q.bias.zero_()  # type: ignore[union-attr]
    x, y = _pair(layer, 2, SIZES[d], seed=d)
    pad = [(k - 1) // 2] * (2 * d)
    box = POOL[d](F.pad(x, pad), k, stride=1)  # zeros outside count
    if padding == "exclude":  # divide by the share of the window inside the input instead
        box = box / POOL[d](F.pad(torch.ones_like(x[:, :1]), pad), k, stride=1)
    expected = F.interpolate(box, scale_factor=per_axis(scale, d), mode="nearest")  # type: ignore[arg-type]
    torch.testing.assert_close(forward_on(device, layer, x, y), expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("padding", ["zeros", "exclude"])
def test_sapa_i_with_a_channel_constant_guide_is_a_box_average_then_nearest(padding: str) -> None:
    """SAPA-I: q = LN(y) is 0 where the guide is constant over its channels, whatever the keys."""
    layer = SAPA(5, 5, 2, variant="I", kernel_size=3, padding=padding, dtype=torch.float64)
    assert count_params(layer) == 0
    x = torch.randn(2, 5, 4, 6, dtype=torch.float64)
    guide = torch.randn(2, 1, 8, 12, dtype=torch.float64).expand(2, 5, 8, 12)
    box = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=padding == "zeros")
    torch.testing.assert_close(layer(x, guide), F.interpolate(box, scale_factor=2), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_one_tap_is_nearest_bit_for_bit(d: int) -> None:
    layer = SAPA(4, 4, 3, d, kernel_size=1)  # one tap: its softmax weight is exactly 1
    x, y = _pair(layer, 2, SIZES[d], seed=d, dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(layer(x, y), F.interpolate(x, scale_factor=3, mode="nearest"))


def test_the_guide_decides_the_affiliation() -> None:
    """SAPA-I on a step edge: a guide that matches one side's keys takes (almost) only that side's values."""
    x = torch.zeros(1, 2, 1, 4, dtype=torch.float64)
    x[:, 0, :, :2], x[:, 1, :, 2:] = 30.0, 30.0  # left: (30, 0), right: (0, 30); LN makes them -1, +1 scaled
    guide = torch.zeros(1, 2, 2, 8, dtype=torch.float64)
    guide[:, 0, :, :5], guide[:, 1, :, 5:] = 1.0, 1.0  # the edge moves one output pixel to the right
    layer = SAPA(2, 2, 2, variant="I", kernel_size=3, padding="exclude", dtype=torch.float64)
    y = layer(x, guide)[0, :, 0]
    assert torch.all(y[0, :5] > 28.0) and torch.all(y[0, 5:] < 2.0), y  # the output edge follows the guide
    assert torch.all(y[1, :5] < 2.0) and torch.all(y[1, 5:] > 28.0), y


# --------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("padding", ["zeros", "exclude"])
def test_gradients(padding: str) -> None:
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(1, 2, 3, 4, generator=generator, dtype=torch.float64, requires_grad=True)
    query = torch.randn(1, 3, 6, 8, generator=generator, dtype=torch.float64, requires_grad=True)
    key = torch.randn(1, 3, 3, 4, generator=generator, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, q, k: sapa(a, q, k, 2, 3, padding), (x, query, key))
    for variant, guide_channels in (("B", 3), ("I", 2)):
        layer = SAPA(2, 3, (2, 1), guide_channels=guide_channels, variant=variant, kernel_size=3, embed_dim=3,
                     padding=padding, dtype=torch.float64)
        randomise(layer, seed=1)
        guide = torch.randn(1, guide_channels, 6, 4, generator=generator, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(layer, (x, guide))


def test_every_parameter_gets_a_gradient() -> None:
    layer = SAPA(4, 6, 2, guide_channels=3, kernel_size=3)
    x, y = _pair(layer, 2, (3, 3), seed=0, dtype=torch.float32)
    layer(x.requires_grad_(), y.requires_grad_()).square().sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert x.grad is not None and y.grad is not None and y.grad.abs().sum() > 0


# ------------------------------------------------------------------------------ dtypes
@pytest.mark.parametrize(("variant", "padding"), [("B", "zeros"), ("I", "exclude")])
def test_bfloat16_close_to_float32(variant: str, padding: str) -> None:
    torch.manual_seed(0)
    layer = SAPA(8, 6, 2, variant=variant, padding=padding)
    randomise(layer, seed=2, std=0.3)
    x, y = _pair(layer, 2, (5, 6), seed=3, dtype=torch.float32)
    with torch.no_grad():
        expected = layer(x, y)
        half = layer.to(torch.bfloat16)(x.bfloat16(), y.bfloat16())
    assert half.dtype == torch.bfloat16
    scale = float(expected.abs().max())
    torch.testing.assert_close(half.float(), expected, rtol=0.05, atol=0.05 * scale)


# ---------------------------------------------------------------------------- memory
def test_peak_memory_is_under_a_quarter_of_the_naive_neighbourhood() -> None:
    n, c, e, h, w, s, k = 1, 64, 32, 16, 16, 2, 5
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, h, w, generator=generator)
    key = torch.randn(n, e, h, w, generator=generator)
    query = torch.randn(n, e, h * s, w * s, generator=generator)
    output = n * c * h * s * w * s * 4
    ours = peak_bytes(lambda: sapa(x, query, key, s, k)) / output
    theirs = peak_bytes(lambda: sapa_naive_memory_reference(x, query, key, s, k)) / output
    # ours: the similarity maps (k^2 / C outputs, twice while stacking), a query-sized product, the padded
    # key, the accumulator and the output; naive: the (N, C, k^2, H s, W s) neighbourhoods, k^2 outputs
    assert ours < 5, ours
    assert theirs > 20, theirs
    assert ours * 4 < theirs, (ours, theirs)

    def step(fn: Callable[..., torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            a, q, kk = (t.clone().requires_grad_() for t in (x, query, key))
            fn(a, q, kk, s, k).sum().backward()
        return run

    ours_step, theirs_step = peak_bytes(step(sapa)), peak_bytes(step(sapa_naive_memory_reference))
    assert ours_step * 4 < theirs_step, (ours_step, theirs_step)


# ------------------------------------------------------------------------ layer basics
def test_upstream_initialisation_and_names() -> None:
    torch.manual_seed(0)
    layer = SAPA(256, 256, 2, guide_channels=128)
    assert set(layer.state_dict()) == {"norm_y.weight", "norm_y.bias", "norm_x.weight", "norm_x.bias",
                                       "q.weight", "q.bias", "k.weight", "k.bias"}  # poppinace/sapa SAPA.py
    for linear in (layer.q, layer.k):
        weight = linear.weight.detach()  # type: ignore[union-attr]
        assert abs(float(weight.std()) - 0.02) < 0.002 and float(weight.abs().max()) <= 2.0
        assert not linear.bias.any()  # type: ignore[union-attr]
    for norm in (layer.norm_y, layer.norm_x):
        assert bool((norm.weight == 1).all()) and not norm.bias.any()  # type: ignore[union-attr]
    assert layer.guide_channels == 128 and layer.proj is None
    # the similarities of unit-variance features start with a standard deviation of about
    # 0.02^2 * sqrt(guide_channels * in_channels * embed_dim): 0.41 here, as the docstring says
    x, y = torch.randn(1, 256, 24, 24), torch.randn(1, 128, 24, 24)
    with torch.no_grad():
        q = layer.q(layer.norm_y(y.movedim(1, -1)))  # type: ignore[misc]
        k = layer.k(layer.norm_x(x.movedim(1, -1)))  # type: ignore[misc]
        std = float((q * k).sum(-1).std())
    predicted = 0.02 ** 2 * math.sqrt(128 * 256 * 32)
    assert 0.8 < std / predicted < 1.25, (std, predicted)


@pytest.mark.parametrize(("channels", "guide", "embed", "bias", "out"), [
    (256, None, 32, True, None), (256, None, 64, True, None), (64, 32, 16, False, None), (8, 8, 4, True, 5)])
def test_parameter_count(channels: int, guide: int | None, embed: int, bias: bool, out: int | None) -> None:
    g = channels if guide is None else guide
    expected = 2 * g + 2 * channels + (g + channels + 2 * bias) * embed
    if out is not None:
        expected += out * channels + out
    layer = SAPA(channels, out, 2, guide_channels=guide, embed_dim=embed, qkv_bias=bias)
    assert count_params(layer) == expected
    if (channels, embed, out) == (256, 64, None):
        assert expected == 33_920  # the "~34K" of upsamplers.md (poppinace's embedding_dim=64)


def test_out_channels_is_a_1x1_convolution_after_sapa() -> None:
    torch.manual_seed(0)
    layer = SAPA(4, 6, 2, dtype=torch.float64)
    plain = SAPA(4, None, 2, dtype=torch.float64)
    plain.load_state_dict({k: v for k, v in layer.state_dict().items() if not k.startswith("proj.")})
    x, y = _pair(layer, 2, (3, 4), seed=1)
    assert isinstance(layer.proj, nn.Conv2d) and layer.proj.kernel_size == (1, 1)
    with torch.no_grad():
        torch.testing.assert_close(layer(x, y), layer.proj(plain(x, y)), rtol=0, atol=0)


def test_repr_and_registry() -> None:
    assert SAPA(8, 8, 2).extra_repr() == ("8, 8, scale=2, dims=2, guide_channels=8, variant='B', kernel_size=5, "
                                          "embed_dim=32, padding='zeros', qkv_bias=True")
    info = upsampler_info("sapa")
    assert info.guided and info.learned and info.dims == (1, 2, 3) and info.scales == "integer"
    layer = build_upsampler("sapa", 12, 8, (2, 3), guide_channels=6, variant="B", kernel_size=3, padding="exclude")
    assert isinstance(layer, SAPA) and layer.guide_channels == 6
    assert layer.extra_repr() == ("12, 8, scale=(2, 3), dims=2, guide_channels=6, variant='B', kernel_size=3, "
                                  "embed_dim=32, padding='exclude', qkv_bias=True")
    assert layer(torch.zeros(1, 12, 2, 2), torch.zeros(1, 6, 4, 6)).shape == (1, 8, 4, 6)
    assert count_params(SAPA(8, 8, 2, variant="I")) == 0


def test_device_and_dtype_reach_the_parameters() -> None:
    layer = SAPA(4, 3, 2, guide_channels=5, device="cpu", dtype=torch.float64)
    assert {p.dtype for p in layer.parameters()} == {torch.float64}


# ----------------------------------------------------------------------------- costs
@pytest.mark.parametrize(("variant", "out", "scale", "d"), [("B", None, 2, 2), ("B", 6, 3, 2), ("I", None, 2, 1),
                                                            ("B", None, (1, 2, 2), 3)])
def test_count_macs_formula(variant: str, out: int | None, scale: object, d: int) -> None:
    c, g, e, k = 4, 4, 3, 3
    layer = SAPA(c, out, scale, d, guide_channels=g, variant=variant, kernel_size=k, embed_dim=e)
    x, y = _pair(layer, 2, SIZES[d], seed=0, dtype=torch.float32)
    low, high = 2 * math.prod(SIZES[d]), 2 * math.prod(_out(SIZES[d], scale))
    taps = k ** d
    embed = e if variant == "B" else c
    expected = taps * high * embed + taps * high * c  # similarities, then the weighted sum
    if variant == "B":
        expected += high * g * e + low * c * e  # q and k
    if out is not None:
        expected += high * c * out
    assert count_macs(layer, x, y) == expected
    assert count_macs(layer, x, guide=y) == expected


def test_count_macs_on_meta() -> None:
    layer = SAPA(256, 256, 2, device="meta")
    x, y = torch.empty(1, 256, 120, 120, device="meta"), torch.empty(1, 256, 240, 240, device="meta")
    high = 240 * 240
    assert count_macs(layer, x, y) == 256 * 32 * high + 256 * 32 * high // 4 + 25 * 32 * high + 25 * 256 * high


# ------------------------------------------------------------------------------ errors
def test_the_guide_contract() -> None:
    layer = SAPA(16, 16, 2, guide_channels=8)
    x = torch.zeros(2, 16, 4, 4)
    with pytest.raises(InvalidArgumentError, match=r"^SAPA: the guide argument is missing: call layer\(x, guide\) "
                                                   r"with the encoder feature at the output size \(2, 8, 8, 8\)$"):
        layer(x)
    with pytest.raises(InvalidArgumentError, match=r"SAPA: the guide must have shape \(N, guide_channels, \*x "
                                                   r"spatial \* scale\) = \(2, 8, 8, 8\) for x of shape "
                                                   r"\(2, 16, 4, 4\) and scale \(2, 2\), but got a guide of shape "
                                                   r"\(2, 8, 8, 9\)"):
        layer(x, torch.zeros(2, 8, 8, 9))
    with pytest.raises(InvalidArgumentError, match=r"= \(2, 8, 8, 8\) .* but got a guide of shape \(2, 16, 8, 8\)"):
        layer(x, torch.zeros(2, 16, 8, 8))  # channels
    with pytest.raises(InvalidArgumentError, match=r"but got a guide of shape \(1, 8, 8, 8\)"):
        layer(x, torch.zeros(1, 8, 8, 8))  # batch
    with pytest.raises(InvalidArgumentError, match=r"but got a guide of shape \(2, 8, 4, 4\)"):
        layer(x, torch.zeros(2, 8, 4, 4))  # the input size, not the output size
    with pytest.raises(InvalidTypeError, match=r"SAPA: the guide must be a floating-point torch.Tensor, but got "
                                               r"ndarray"):
        layer(x, np.zeros((2, 8, 8, 8)))
    with pytest.raises(InvalidTypeError, match=r"but got dtype torch.int64"):
        layer(x, torch.zeros(2, 8, 8, 8, dtype=torch.long))
    with pytest.raises(InvalidTypeError, match=r"SAPA: the guide must have the dtype and device of x, but got a "
                                               r"guide of torch.float64 on cpu and x of torch.float32 on cpu"):
        layer(x, torch.zeros(2, 8, 8, 8, dtype=torch.float64))
    with pytest.raises(InvalidArgumentError, match=r"SAPA\(in_channels=16\) expects 16 input channels"):
        layer(torch.zeros(2, 8, 4, 4), torch.zeros(2, 8, 8, 8))
    with pytest.raises(UpsampleError, match=r"count_macs|guide argument is missing"):
        count_macs(layer, x)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"kernel_size": 4}, InvalidArgumentError, (r"SAPA: kernel_size must be an odd integer >= 1 \(the neighbourhood "
                                               r"is centred on the parent position\), but got 4")),
    ({"kernel_size": 0}, InvalidArgumentError, r"kernel_size must be an odd integer >= 1 .* but got 0"),
    ({"variant": "G"}, InvalidArgumentError, r"SAPA: variant must be one of 'B', 'I', but got 'G'"),
    ({"padding": "zero"}, InvalidArgumentError, (r"SAPA: padding must be one of 'zeros', 'exclude', but got 'zero'; "
                                                r"did you mean 'zeros'\?")),
    ({"variant": "I", "guide_channels": 3}, InvalidArgumentError,
     (r"SAPA\(variant='I'\): guide_channels must equal in_channels .* but got guide_channels=3, in_channels=4; "
     r"use variant='B'")),
    ({"guide_channels": 0}, InvalidArgumentError, r"SAPA: guide_channels must be a positive integer, but got 0"),
    ({"embed_dim": -1}, InvalidArgumentError, r"SAPA: embed_dim must be a positive integer, but got -1"),
    ({"scale": 1.5}, InvalidArgumentError, r"SAPA: scale must be an integer >= 1 .* but got 1\.5"),
    ({"dims": 4}, InvalidArgumentError, r"SAPA: dims must be 1, 2 or 3"),
    ({"qkv_bias": "yes"}, InvalidTypeError, r"SAPA: qkv_bias must be True or False, but got 'yes'"),
])
def test_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    arguments = {"in_channels": 4, "out_channels": 4, "scale": 2, **kwargs}
    with pytest.raises(error, match=message):
        SAPA(**arguments)


def test_bad_function_inputs() -> None:
    x = torch.zeros(1, 2, 4, 4)
    with pytest.raises(InvalidArgumentError, match=r"sapa: key must have shape \(N, E, \*spatial\) = \(1, E, 4, 4\) "
                                                   r"and query \(N, E, \*spatial \* scale\) = \(1, E, 8, 8\) with the "
                                                   r"same E, .* but got key \(1, 3, 4, 4\) and query \(1, 2, 8, 8\)"):
        sapa(x, torch.zeros(1, 2, 8, 8), torch.zeros(1, 3, 4, 4), 2)
    with pytest.raises(InvalidArgumentError, match=r"but got key \(1, 3, 4, 4\) and query \(1, 3, 8, 7\)"):
        sapa(x, torch.zeros(1, 3, 8, 7), torch.zeros(1, 3, 4, 4), 2)
    with pytest.raises(InvalidArgumentError, match=r"sapa: kernel_size must be an odd integer"):
        sapa(x, torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 4, 4), 2, kernel_size=2)
    with pytest.raises(InvalidTypeError, match=r"sapa: query must be a floating-point torch.Tensor, but got list"):
        sapa(x, [0.0], torch.zeros(1, 3, 4, 4), 2)  # type: ignore[arg-type]


def test_a_guided_layer_in_a_plain_decoder_is_refused() -> None:
    from upsamplekit.decoder import Decoder

    with pytest.raises(InvalidArgumentError, match=r"upsampler 'sapa' needs a guide"):
        Decoder(8, 3, 4, upsampler="sapa")


# -------------------------------------------------------------------------------- ONNX
@pytest.mark.parametrize(("d", "scale", "k", "variant", "padding"), [
    (2, (3, 2), 5, "B", "zeros"), (2, 2, 3, "I", "exclude"), (1, 3, 5, "B", "exclude"), (3, 2, 3, "B", "zeros")])
def test_onnx_export_matches_onnxruntime(d: int, scale: object, k: int, variant: str, padding: str) -> None:
    ort = pytest.importorskip("onnxruntime")
    layer = SAPA(4, 3, scale, d, variant=variant, kernel_size=k, embed_dim=8, padding=padding).eval()
    randomise(layer, seed=3, std=0.3)
    x, y = _pair(layer, 2, SIZES[d], seed=4, dtype=torch.float32)
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(layer, (x, y), f, opset_version=17, dynamo=False, input_names=["x", "guide"])
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = layer(x, y).numpy()
    np.testing.assert_allclose(session.run(None, {"x": x.numpy(), "guide": y.numpy()})[0], expected,
                               rtol=1e-5, atol=1e-5)


def test_a_huge_forward_pass_is_refused_before_allocating() -> None:
    layer = SAPA(2, 2, 1242)  # the parameters do not grow with the scale: it builds
    x = torch.zeros(1, 2, 4, 4)
    # (2 * 32 query + 2 * 25 maps + 2 * 2 output channels) * 4968^2 * 4 bytes
    with pytest.raises(OutputTooLargeError, match=r"SAPA: the forward pass would need about 10\.85 GiB at the output "
                                                  r"size \(1, C, 4968, 4968\) \(query, 25 similarity maps, output\), "
                                                  r"more than the allocation guard of 4\.00 GiB "
                                                  r"\(UPSAMPLEKIT_MAX_OUTPUT_BYTES\); lower the scale"):
        layer(x, torch.zeros(1, 2, 1, 1).expand(1, 2, 4968, 4968))
    with pytest.raises(OutputTooLargeError, match=r"SAPA: the forward pass would need"):
        layer(x)  # the guard comes first: a guide of that size is what the caller could not make either
    assert SAPA(2, 2, 100)(x, torch.zeros(1, 2, 400, 400)).shape == (1, 2, 400, 400)  # 72 MiB: runs
