"""FADE against a naive float64 loop of the paper's equations, upstream's x2 semi-shift written out,
and the operators it reduces to (box average + nearest, the guide, our CARAFE); gradients, dtypes,
the guide contract of guided upsamplers, costs and ONNX."""

from __future__ import annotations

import io
import itertools
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.conftest import forward_on, needs_cuda
from tests.layer_helpers import per_axis, randomise
from tests.memory import peak_bytes
from upsamplekit import count_macs, count_params
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError
from upsamplekit.nn import CARAFE, FADE, build_upsampler, upsampler_info
from upsamplekit.nn.fade import nearest_repeat

torch.set_num_threads(1)
SIZES = {1: (7,), 2: (4, 5), 3: (3, 2, 4)}
POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}




def _inputs(layer: FADE, batch: int = 2, seed: int = 0, dtype: torch.dtype = torch.float64,
            sizes: tuple[int, ...] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    sizes = sizes or SIZES[layer.dims]
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, layer.in_channels, *sizes, generator=generator, dtype=torch.float64)
    out = [n * s for n, s in zip(sizes, layer.scale)]
    guide = torch.randn(batch, layer.guide_channels, *out, generator=generator, dtype=torch.float64)
    return x.to(dtype), guide.to(dtype)


def _np(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().double().numpy()


def _conv1x1(conv: nn.Module | None, a: np.ndarray) -> np.ndarray:
    """A 1x1 convolution as a matrix product over the channel axis (N, C, *S)."""
    if conv is None:
        return a
    w = _np(conv.weight).reshape(conv.weight.shape[0], -1)
    out = np.einsum("oc,nc...->no...", w, a)
    bias = _np(conv.bias)
    return out if bias is None else out + bias.reshape(1, -1, *[1] * (a.ndim - 2))


def naive_fade(layer: FADE, x: torch.Tensor, guide: torch.Tensor) -> np.ndarray:
    """The paper's equations, one output location at a time, in float64.

    Output location l' has source pixel l = floor(l' / s). With E the k_enc convolution
    (weights w, bias b, zero outside the grid it runs on), Comp_en / Comp_de the 1x1
    compressors of the guide and of x, and r_e = (k_enc - 1) / 2, r = (k_up - 1) / 2:
      logit_n(l') = sum_o w[n, :, o] . Comp_en(guide)[l' + o - r_e] + b[n]      (output grid)
                  + sum_o w[n, :, o] . Comp_de(x)[l + o - r_e] + b[n]            (input grid)
      W_l'(n)     = softmax over the k_up^d taps n
      y(l')       = proj(sum_n W_l'(n) x[l + n - r])                             (zero outside)
      g(l')       = sigmoid(gate . x[l] + gate bias)
      out(l')     = g(l') guide_proj(guide)[l'] + (1 - g(l')) y(l')
    """
    d, s, k, ke = layer.dims, layer.scale, layer.k_up, layer.k_enc
    xs, gs = _np(x), _np(guide)
    n_batch, channels, *spatial = xs.shape
    out_shape = [v * f for v, f in zip(spatial, s)]
    comp_en = _conv1x1(layer.guide_compressor, gs)
    comp_de = _conv1x1(layer.channel_compressor, xs)
    w, b = _np(layer.content_encoder.weight), _np(layer.content_encoder.bias)  # (K, Cm, *[ke] * d), (K,)
    gate = _conv1x1(layer.gate, xs)[:, 0]  # (N, *S)
    guide_p = _conv1x1(layer.guide_proj, gs)
    taps = list(itertools.product(range(k), repeat=d))
    window = list(itertools.product(range(ke), repeat=d))
    r, re = (k - 1) // 2, (ke - 1) // 2

    def encode(feature: np.ndarray, at: list[int], grid: list[int]) -> np.ndarray:  # (N, K)
        total = np.zeros((n_batch, len(taps))) + b
        for o in window:
            p = [a + oo - re for a, oo in zip(at, o)]
            if all(0 <= a < v for a, v in zip(p, grid)):
                total += feature[(slice(None), slice(None), *p)] @ w[(slice(None), slice(None), *o)].T
        return total

    y = np.zeros((n_batch, channels, *out_shape))
    g = np.zeros((n_batch, *out_shape))
    for lp in itertools.product(*[range(v) for v in out_shape]):
        src = [a // f for a, f in zip(lp, s)]
        logits = encode(comp_en, list(lp), out_shape) + encode(comp_de, src, spatial)  # (N, K)
        weights = np.exp(logits - logits.max(1, keepdims=True))
        weights /= weights.sum(1, keepdims=True)
        for n, offsets in enumerate(taps):
            at = [a + o - r for a, o in zip(src, offsets)]
            if all(0 <= a < v for a, v in zip(at, spatial)):
                y[(slice(None), slice(None), *lp)] += weights[:, n, None] * xs[(slice(None), slice(None), *at)]
        g[(slice(None), *lp)] = 1 / (1 + np.exp(-gate[(slice(None), *src)]))
    y = _conv1x1(layer.proj, y)
    return g[:, None] * guide_p + (1 - g[:, None]) * y


# ------------------------------------------------------------------------- references
@pytest.mark.parametrize(("d", "scale", "k_up", "k_enc", "channels"), [
    (1, 2, 3, 3, (3, 3, None)), (1, 3, 5, 1, (3, 2, 4)), (1, 4, 7, 5, (2, 2, None)),
    (2, 2, 5, 3, (3, 3, None)), (2, 3, 3, 3, (3, 5, 2)), (2, (2, 3), 5, 3, (3, 3, 4)), (2, 4, 1, 3, (2, 2, None)),
    (2, 2, 3, 5, (2, 4, 4)),
    (3, 2, 3, 3, (2, 2, None)), (3, (1, 2, 3), 3, 1, (2, 3, 3)),
])
def test_matches_a_naive_loop_of_the_papers_equations(d: int, scale: object, k_up: int, k_enc: int,
                                                      channels: tuple[int, int, int | None], device: str) -> None:
    in_channels, out_channels, guide_channels = channels
    layer = FADE(in_channels, out_channels, scale, dims=d, guide_channels=guide_channels, k_up=k_up, k_enc=k_enc,
                 compressed_channels=4, dtype=torch.float64)
    randomise(layer, seed=d * 10 + k_up)
    x, guide = _inputs(layer, seed=k_up)
    y = forward_on(device, layer, x, guide).numpy()  # float64 on any device: no TF32
    np.testing.assert_allclose(y, naive_fade(layer, x, guide), rtol=1e-12, atol=1e-12)


def upstream_semi_shift(layer: FADE, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
    """Upstream's x2 kernel logits (poppinace/fade, FADE_H2L.py ``SemiShift.forward``), written out.

    The compressed guide is padded four ways (left/right, top/bottom: one per sub-position)
    and convolved with stride 2; the same kernels and bias run on the compressed decoder
    feature at stride 1; the sum, (B, 4, K, H, W), is reassembled to (B, K, 2H, 2W).
    """
    w, b = layer.content_encoder.weight, layer.content_encoder.bias
    n, _, h, wd = x.shape
    en, de = layer.guide_compressor(guide), layer.channel_compressor(x)
    padded = torch.cat([F.pad(en, [1, 0, 1, 0]), F.pad(en, [0, 1, 1, 0]), F.pad(en, [1, 0, 0, 1]),
                        F.pad(en, [0, 1, 0, 1])], dim=1).view(n * 4, en.shape[1], 2 * h + 1, 2 * wd + 1)
    kernels = F.conv2d(padded, w, b, stride=2).view(n, 4, -1, h, wd) + F.conv2d(de, w, b, padding=1).unsqueeze(1)
    taps = kernels.shape[2]
    # space_reassemble: channel (t1 * 2 + t2) * K + k at (i, j) -> channel k at (2i + t1, 2j + t2)
    return kernels.view(n, 2, 2, taps, h, wd).permute(0, 3, 4, 1, 5, 2).reshape(n, taps, 2 * h, 2 * wd)


def unfold_carafe(x: torch.Tensor, masks: torch.Tensor, k: int, s: int) -> torch.Tensor:
    """The common pure-PyTorch CARAFE (upstream's pytorch_implementation): unfold, repeat, contract."""
    n, c, h, w = x.shape
    unfolded = F.unfold(x, k, padding=(k - 1) // 2).view(n, c * k * k, h, w)
    unfolded = F.interpolate(unfolded, scale_factor=s, mode="nearest").view(n, c, k * k, h * s, w * s)
    return torch.einsum("nkhw,nckhw->nchw", masks, unfolded)


def upstream_fade(layer: FADE, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
    """Upstream's ``FADE.forward(en=guide, de=x)`` at x2, 2-D, with the unfold CARAFE."""
    gate = torch.sigmoid(F.interpolate(layer.gate(x), scale_factor=2))
    kernels = F.softmax(upstream_semi_shift(layer, x, guide), dim=1)
    return gate * guide + (1 - gate) * unfold_carafe(x, kernels, layer.k_up, 2)


@pytest.mark.parametrize("k_up", [3, 5])
def test_matches_upstreams_semi_shift_at_x2(k_up: int) -> None:
    """The stride-2 convolution over four shifted paddings is the same-padded convolution at the
    output resolution: FADE's encoder term, generalised here to any scale, rank and k_enc."""
    layer = FADE(4, 4, 2, k_up=k_up, compressed_channels=6, dtype=torch.float64)
    randomise(layer, seed=k_up)
    x, guide = _inputs(layer, sizes=(5, 6))
    with torch.no_grad():
        ours = layer.content_encoder(layer.guide_compressor(guide)) + \
            nearest_repeat(layer.content_encoder(layer.channel_compressor(x)), (2, 2))
        torch.testing.assert_close(ours, upstream_semi_shift(layer, x, guide), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(layer(x, guide), upstream_fade(layer, x, guide), rtol=1e-12, atol=1e-12)


def _zero_kernels(layer: FADE) -> None:
    with torch.no_grad():
        for module in (layer.guide_compressor, layer.channel_compressor, layer.content_encoder):
            for p in module.parameters():
                p.zero_()


def _gate(layer: FADE, bias: float) -> None:
    with torch.no_grad():
        layer.gate.weight.zero_()
        layer.gate.bias.fill_(bias)


@pytest.mark.parametrize(("d", "scale", "k_up"), [(1, 2, 5), (1, 3, 3), (2, 2, 5), (2, 3, 3), (2, (3, 2), 5),
                                                 (3, 2, 3), (3, (2, 1, 3), 5)])
def test_uniform_kernels_and_gates_are_box_nearest_and_the_guide(d: int, scale: object, k_up: int) -> None:
    """Zero kernel parameters: uniform kernels, a k_up box average (zeros outside count) then nearest.
    Gate bias -inf: that alone; +inf: the guide alone; gate 0: their mean."""
    layer = FADE(4, 4, scale, dims=d, k_up=k_up, dtype=torch.float64)
    randomise(layer, seed=d)
    _zero_kernels(layer)
    x, guide = _inputs(layer, seed=d)
    box = POOL[d](F.pad(x, [(k_up - 1) // 2] * (2 * d)), k_up, stride=1)
    expected = F.interpolate(box, scale_factor=per_axis(scale, d), mode="nearest")  # type: ignore[arg-type]
    with torch.no_grad():
        _gate(layer, -math.inf)
        torch.testing.assert_close(layer(x, guide), expected, rtol=1e-14, atol=1e-14)
        _gate(layer, math.inf)
        assert torch.equal(layer(x, guide), guide)
        _gate(layer, 0.0)
        torch.testing.assert_close(layer(x, guide), (expected + guide) / 2, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(("d", "scale", "out"), [(1, 3, 4), (2, 2, 4), (2, (2, 3), 3), (3, 2, 4)])
def test_without_the_guide_in_the_kernels_it_is_our_carafe(d: int, scale: object, out: int, device: str) -> None:
    """guide_compressor = 0 and gate -> 0: FADE(x, guide) is CARAFE(x) with the encoder's weights
    repeated over the sub-positions (channel n * prod(scale) + t) and its bias doubled (E runs twice)."""
    fade = FADE(4, out, scale, dims=d, k_up=3, compressed_channels=5, dtype=torch.float64)
    randomise(fade, seed=3)
    with torch.no_grad():
        fade.guide_compressor.weight.zero_()
        fade.guide_compressor.bias.zero_()
    _gate(fade, -math.inf)
    reference = CARAFE(4, scale, k_up=3, compressed_channels=5, out_channels=out, dims=d, dtype=torch.float64)
    block = math.prod(fade.scale)
    with torch.no_grad():
        reference.channel_compressor.weight.copy_(fade.channel_compressor.weight)
        reference.channel_compressor.bias.zero_()
        reference.content_encoder.weight.copy_(fade.content_encoder.weight.repeat_interleave(block, dim=0))
        reference.content_encoder.bias.copy_(2 * fade.content_encoder.bias.repeat_interleave(block))
        if fade.proj is not None and reference.proj is not None:
            reference.proj.load_state_dict(fade.proj.state_dict())
    x, guide = _inputs(fade, seed=4)
    torch.testing.assert_close(forward_on(device, fade, x, guide), forward_on("cpu", reference, x),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("scale", "d"), [(2, 1), (3, 2), ((2, 3), 2), ((1, 2, 3), 3)])
def test_nearest_repeat_is_nearest_interpolation(scale: object, d: int) -> None:
    x = torch.randn(2, 3, *SIZES[d])
    s = per_axis(scale, d)  # type: ignore[arg-type]
    assert torch.equal(nearest_repeat(x, s), F.interpolate(x, scale_factor=s, mode="nearest"))


def test_gradients() -> None:
    layer = FADE(2, 3, (2, 3), k_up=3, compressed_channels=3, guide_channels=2, dtype=torch.float64)
    randomise(layer, seed=1)
    x, guide = _inputs(layer, batch=1, sizes=(3, 2))
    assert torch.autograd.gradcheck(layer, (x.requires_grad_(), guide.requires_grad_()))
    line = FADE(2, 2, 3, dims=1, k_up=3, compressed_channels=2, dtype=torch.float64)
    randomise(line, seed=2)
    x, guide = _inputs(line, batch=1, sizes=(4,))
    assert torch.autograd.gradcheck(line, (x.requires_grad_(), guide.requires_grad_()))


def test_every_parameter_learns_from_the_loss() -> None:
    layer = FADE(4, 3, 2, guide_channels=5)
    x, guide = _inputs(layer, dtype=torch.float32)
    layer(x, guide).square().mean().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


@pytest.mark.parametrize("d", [1, 2, 3])
def test_bfloat16_and_float64_follow_float32(d: int) -> None:
    torch.manual_seed(0)
    layer = FADE(8, 6, 2, dims=d, guide_channels=4).eval()
    x, guide = _inputs(layer, dtype=torch.float32)
    with torch.no_grad():
        y32 = layer(x, guide)
        y64 = FADE(8, 6, 2, dims=d, guide_channels=4, dtype=torch.float64)
        y64.load_state_dict(layer.state_dict())
        y64 = y64(x.double(), guide.double())
        y16 = layer.to(torch.bfloat16)(x.bfloat16(), guide.bfloat16())
    assert y16.dtype == torch.bfloat16 and y64.dtype == torch.float64
    torch.testing.assert_close(y64.float(), y32, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(y16.float(), y32, rtol=0.05, atol=0.05 * float(y32.abs().max()))


# --------------------------------------------------------------------- memory
def test_peak_memory_is_of_the_order_of_the_output_unlike_upstreams_unfold() -> None:
    layer = FADE(32, 32, 2, compressed_channels=16).eval()
    x, guide = _inputs(layer, sizes=(24, 24), dtype=torch.float32)
    output = x.numel() * 4 * 4
    with torch.no_grad():
        ours = peak_bytes(lambda: layer(x, guide)) / output
        theirs = peak_bytes(lambda: upstream_fade(layer, x, guide)) / output
    # ours: the output, CARAFE's accumulator, the blend's temporaries and the (N, 25, *output)
    # kernels (25 / 32 of an output each); upstream's unfold: (N, C * 25, H, W), repeated x4
    assert ours < 8, ours  # measured 4.8
    assert ours * 8 < theirs, (ours, theirs)  # measured 64


# -------------------------------------------------------------------------- layer basics
def test_upstream_initialisation() -> None:
    torch.manual_seed(0)
    layer = FADE(64, 64, 2, compressed_channels=48)
    for conv, fan in ((layer.gate, 64 + 1), (layer.guide_compressor, 64 + 48), (layer.channel_compressor, 64 + 48)):
        assert float(conv.weight.detach().abs().max()) <= math.sqrt(6 / fan)  # xavier_uniform, gain 1
    std = math.sqrt(2 / (48 * 9 + 25 * 9))  # xavier_normal over (25, 48, 3, 3)
    assert abs(float(layer.content_encoder.weight.detach().std()) - std) < 0.05 * std
    assert layer.channel_compressor.bias is None
    assert not any(conv.bias.any() for conv in (layer.gate, layer.guide_compressor, layer.content_encoder))
    assert layer.proj is None and layer.guide_proj is None


@pytest.mark.parametrize(("channels", "out", "guide", "scale", "k_up", "k_enc", "cm", "d"), [
    (256, 256, None, 2, 5, 3, 64, 2), (64, 32, 16, 3, 3, 5, 16, 2), (8, 8, 8, 2, 5, 3, 64, 1),
    (8, 4, None, (2, 1, 2), 3, 3, 4, 3)])
def test_parameter_count(channels: int, out: int, guide: int | None, scale: object, k_up: int, k_enc: int, cm: int,
                         d: int) -> None:
    gc = channels if guide is None else guide
    taps = k_up ** d
    expected = (channels + 1) + (gc * cm + cm) + channels * cm + (cm * taps * k_enc ** d + taps)
    expected += (channels * out + out if out != channels else 0) + (gc * out + out if out != gc else 0)
    layer = FADE(channels, out, scale, dims=d, guide_channels=guide, k_up=k_up, k_enc=k_enc, compressed_channels=cm)
    assert count_params(layer) == expected
    if (channels, d) == (256, 2):
        assert expected == 47514  # the "47.5K" of the reference table (upstream's FADE at 256 channels)


def test_costs_in_the_reference_setting() -> None:
    """256 channels, 120 x 120 -> 240 x 240 on the meta device: 47,514 parameters, and 5.24 GFLOPs by
    count_macs' convention (every product of two tensors; softmax, sigmoid and sums are free)."""
    layer = build_upsampler("fade", 256, 256, 2, device="meta")
    x, guide = torch.empty(1, 256, 120, 120, device="meta"), torch.empty(1, 256, 240, 240, device="meta")
    macs = count_macs(layer, x, guide, by_op=True)
    low, high = 120 * 120, 240 * 240
    assert macs["convolution"] == 256 * low + 256 * 64 * (low + high) + 64 * 25 * 9 * (low + high)
    assert macs["addcmul"] + macs["mul"] == 256 * 25 * high + 2 * 256 * high  # reassembly, then the blend
    assert round(2 * sum(macs.values()) / 1e9, 2) == 5.24


def test_projections_are_1x1_convolutions_on_each_term() -> None:
    """out != in: proj maps the reassembled x; guide_channels != out: guide_proj maps the guide."""
    torch.manual_seed(0)
    layer = FADE(4, 6, 2, guide_channels=3, compressed_channels=8, dtype=torch.float64)
    assert isinstance(layer.proj, nn.Conv2d) and (layer.proj.in_channels, layer.proj.out_channels) == (4, 6)
    assert isinstance(layer.guide_proj, nn.Conv2d) and (layer.guide_proj.in_channels, layer.guide_proj.out_channels) \
        == (3, 6) and layer.guide_proj.kernel_size == (1, 1)
    x, guide = _inputs(layer)
    _gate(layer, math.inf)
    with torch.no_grad():
        torch.testing.assert_close(layer(x, guide), layer.guide_proj(guide), rtol=0, atol=0)
    assert FADE(4, 4, 2, guide_channels=3).proj is None and FADE(4, 3, 2, guide_channels=3).guide_proj is None


def test_repr_registry_and_keyword_guide() -> None:
    assert FADE(8, 4, (2, 3), guide_channels=6).extra_repr() == \
        "8, 4, scale=(2, 3), dims=2, guide_channels=6, k_up=5, k_enc=3, compressed_channels=64"
    layer = build_upsampler("fade", 8, None, 2, guide_channels=3, k_up=3)
    assert isinstance(layer, FADE) and (layer.out_channels, layer.guide_channels, layer.k_up) == (8, 3, 3)
    info = upsampler_info("fade")
    assert info.guided and info.learned and info.dims == (1, 2, 3) and info.scales == "integer"
    x, guide = torch.randn(1, 8, 3, 3), torch.randn(1, 3, 6, 6)
    with torch.no_grad():
        assert torch.equal(layer(x, guide=guide), layer(x, guide))


def test_device_and_dtype_reach_the_parameters() -> None:
    layer = FADE(4, 3, 2, guide_channels=5, device="cpu", dtype=torch.float64)
    assert {p.dtype for p in layer.parameters()} == {torch.float64}
    meta = FADE(4, 3, 2, device="meta")
    assert {p.device.type for p in meta.parameters()} == {"meta"}


@needs_cuda
def test_cuda_matches_the_cpu() -> None:
    layer = FADE(8, 6, 3, guide_channels=5, dtype=torch.float64)
    randomise(layer, seed=7)
    x, guide = _inputs(layer, sizes=(6, 7))
    with torch.no_grad():
        expected = layer(x, guide)
        got = layer.cuda()(x.cuda(), guide.cuda()).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"k_up": 4}, (r"FADE: k_up must be an odd integer >= 1 \(the reassembly kernel is centred on the source "
                   r"pixel\), but got 4")),
    ({"k_up": True}, r"FADE: k_up must be an odd integer >= 1 .* but got True"),
    ({"k_enc": 2}, (r"FADE: k_enc must be an odd integer >= 1 \(the encoder is a same-padded convolution\), "
                    r"but got 2")),
    ({"scale": 1.5}, r"FADE: scale must be an integer >= 1 .* but got 1\.5"),
    ({"guide_channels": 0}, r"FADE: guide_channels must be a positive integer, but got 0"),
    ({"compressed_channels": 0}, r"FADE: compressed_channels must be a positive integer, but got 0"),
    ({"out_channels": None}, r"FADE: out_channels must be a positive integer, but got None"),
    ({"dims": 4}, r"FADE: dims must be 1, 2 or 3"),
])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    arguments = {"in_channels": 4, "out_channels": 4, "scale": 2, **kwargs}
    with pytest.raises(InvalidArgumentError, match=message):
        FADE(**arguments)


def test_absurd_sizes_are_refused_before_allocating() -> None:
    with pytest.raises(OutputTooLargeError, match="allocation guard"):
        FADE(4, 4, 2, k_up=10**5 + 1)
    with pytest.raises(OutputTooLargeError, match="allocation guard"):
        FADE(4, 4, 2, guide_channels=10**12)


def test_a_missing_guide_is_named() -> None:
    layer = FADE(16, 16, 2)
    with pytest.raises(InvalidArgumentError, match=r"^FADE: the guide argument is missing: call layer\(x, guide\) "
                                                   r"with the encoder feature at the output size \(3, 16, 8, 10\)$"):
        layer(torch.zeros(3, 16, 4, 5))
    with pytest.raises(InvalidArgumentError, match=r"the guide argument is missing.*\(1, 7, 12\)"):
        FADE(4, 4, 3, dims=1, guide_channels=7)(torch.zeros(1, 4, 4))


def _re_shape(shape: tuple[int, ...]) -> str:
    return r"\(" + r", ".join(map(str, shape)) + r"\)"


@pytest.mark.parametrize(("guide_shape", "what"), [
    ((2, 16, 8, 9), "spatial size"), ((2, 8, 8, 10), "channels"), ((1, 16, 8, 10), "batch"),
    ((2, 16, 4, 5), "the input's size"), ((2, 16, 8, 10, 1), "rank")])
def test_a_guide_of_the_wrong_shape_names_both_shapes(guide_shape: tuple[int, ...], what: str) -> None:
    layer = FADE(16, 16, 2)
    pattern = (r"FADE: the guide must have shape \(N, guide_channels, \*x.shape\[2:\] \* scale\) = \(2, 16, 8, 10\) "
               rf"for x of shape \(2, 16, 4, 5\) and scale=2, but got a guide of shape {_re_shape(guide_shape)}")
    with pytest.raises(InvalidArgumentError, match=pattern):
        layer(torch.zeros(2, 16, 4, 5), torch.zeros(guide_shape))


def test_a_guide_of_the_wrong_kind_is_an_error() -> None:
    layer = FADE(2, 2, 2)
    x = torch.zeros(1, 2, 3, 3)
    with pytest.raises(InvalidTypeError, match=r"FADE: the guide must be a torch.Tensor, but got ndarray"):
        layer(x, np.zeros((1, 2, 6, 6)))
    with pytest.raises(InvalidTypeError, match=r"FADE: the guide must be a floating-point tensor, but got dtype "
                                               r"torch.int64"):
        layer(x, torch.zeros(1, 2, 6, 6, dtype=torch.int64))
    with pytest.raises(InvalidTypeError, match=r"FADE: the guide must have the dtype of x, but got the guide of "
                                               r"torch.float64 and x of torch.float32"):
        layer(x, torch.zeros(1, 2, 6, 6, dtype=torch.float64))
    with pytest.raises(InvalidArgumentError, match=r"FADE: the guide must be on the device of x, but got the guide "
                                                   r"on meta and x on cpu"):
        layer(x, torch.zeros(1, 2, 6, 6, device="meta"))
    with pytest.raises(InvalidArgumentError, match=r"FADE\(in_channels=2\) expects 2 input channels"):
        layer(torch.zeros(1, 3, 3, 3), torch.zeros(1, 2, 6, 6))


# --------------------------------------------------------------------------------- ONNX
@pytest.mark.parametrize(("d", "scale", "channels"), [(2, 2, (4, 4, None)), (2, (3, 2), (4, 3, 5)),
                                                      (1, 3, (4, 2, 3)), (3, 2, (3, 3, 2))])
def test_onnx_export_matches_onnxruntime(d: int, scale: object, channels: tuple[int, int, int | None]) -> None:
    ort = pytest.importorskip("onnxruntime")
    in_channels, out_channels, guide_channels = channels
    layer = FADE(in_channels, out_channels, scale, dims=d, guide_channels=guide_channels, k_up=3,
                 compressed_channels=8).eval()
    randomise(layer, seed=3, std=0.3)
    x, guide = _inputs(layer, dtype=torch.float32)
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(layer, (x, guide), f, opset_version=17, dynamo=False, input_names=["x", "guide"])
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = layer(x, guide).numpy()
    got = session.run(None, {"x": x.numpy(), "guide": guide.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
