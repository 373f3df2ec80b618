"""CARAFE against a naive float64 loop of the paper's equation, the common unfold version, and
its zero-parameter closed form (box average + nearest); memory, init, errors, ONNX."""

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
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.nn import CARAFE, build_upsampler
from upsamplekit.nn.carafe import carafe, carafe_kernels
from upsamplekit.nn.functional import pixel_shuffle

torch.set_num_threads(1)
SIZES = {1: (7,), 2: (4, 5), 3: (3, 2, 4)}
POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}




def naive_carafe(layer: CARAFE, x: torch.Tensor) -> np.ndarray:
    """The paper's equations, one output location at a time, in float64.

    Kernel prediction: enc = Enc(Comp(x)) (the two convolutions); the logits of output
    location l' are enc[n * prod(s) + t, floor(l' / s)] for tap n with t = l' mod s
    (pixel shuffle), normalised by a softmax over n. Reassembly: out[l'] = sum_n W_l'(n)
    x(floor(l' / s) + n - r), r = (k_up - 1) / 2, with x = 0 outside the input.
    """
    d, k, s = layer.dims, layer.k_up, layer.scale
    with torch.no_grad():
        enc = layer.content_encoder(layer.channel_compressor(x)).numpy()
    xs = x.numpy()
    n_batch, channels, *spatial = xs.shape
    out_shape = [v * f for v, f in zip(spatial, s)]
    out = np.zeros((n_batch, channels, *out_shape))
    taps = list(itertools.product(range(k), repeat=d))
    r = (k - 1) // 2
    for lp in itertools.product(*[range(v) for v in out_shape]):
        src = [a // f for a, f in zip(lp, s)]
        t = int(np.ravel_multi_index([a % f for a, f in zip(lp, s)], s))
        logits = np.array([enc[(slice(None), n * math.prod(s) + t, *src)] for n in range(len(taps))])  # (K, N)
        weights = np.exp(logits - logits.max(0))
        weights /= weights.sum(0)
        for n, offsets in enumerate(taps):
            at = [a + o - r for a, o in zip(src, offsets)]
            if all(0 <= a < v for a, v in zip(at, spatial)):
                out[(slice(None), slice(None), *lp)] += weights[n][:, None] * xs[(slice(None), slice(None), *at)]
    if layer.proj is not None:
        with torch.no_grad():
            out = layer.proj(torch.from_numpy(out)).numpy()
    return out


def unfold_carafe(x: torch.Tensor, masks: torch.Tensor, k: int, s: int) -> torch.Tensor:
    """The common pure-PyTorch CARAFE (as in FADE's and many re-implementations): unfold x into
    (N, C * k^2, H, W), repeat it to the output size, contract with the masks."""
    n, c, h, w = x.shape
    unfolded = F.unfold(x, k, padding=(k - 1) // 2).view(n, c * k * k, h, w)
    unfolded = F.interpolate(unfolded, scale_factor=s, mode="nearest").view(n, c, k * k, h * s, w * s)
    return torch.einsum("nkhw,nckhw->nchw", masks, unfolded)


# ------------------------------------------------------------------------- references
@pytest.mark.parametrize(("d", "scale", "k_up", "out"), [
    (1, 2, 3, None), (1, 3, 5, 2), (1, 4, 7, None),
    (2, 2, 5, None), (2, 3, 3, 5), (2, (2, 3), 5, None), (2, 4, 1, None), (2, 2, 7, None),
    (3, 2, 3, None), (3, (1, 2, 3), 3, 4),
])
def test_matches_a_naive_loop_of_the_papers_equations(d: int, scale: object, k_up: int, out: int | None,
                                                      device: str) -> None:
    layer = CARAFE(3, scale, k_up=k_up, k_enc=3, compressed_channels=4, out_channels=out, dims=d,
                   dtype=torch.float64)
    randomise(layer, seed=d * 10 + k_up)
    x = torch.randn(2, 3, *SIZES[d], generator=torch.Generator().manual_seed(k_up), dtype=torch.float64)
    y = forward_on(device, layer, x).numpy()  # float64 on any device: no TF32
    np.testing.assert_allclose(y, naive_carafe(layer, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("scale", "k_up"), [(2, 5), (3, 3), (4, 5), (2, 1), (3, 7)])
def test_matches_the_common_unfold_implementation(scale: int, k_up: int) -> None:
    generator = torch.Generator().manual_seed(scale * 7 + k_up)
    x = torch.randn(2, 6, 5, 7, generator=generator, dtype=torch.float64)
    masks = torch.randn(2, k_up * k_up, 5 * scale, 7 * scale, generator=generator, dtype=torch.float64).softmax(1)
    expected = unfold_carafe(x, masks, k_up, scale)
    torch.testing.assert_close(carafe(x, masks, scale), expected, rtol=1e-12, atol=1e-12)
    # the layer's own path (kernels kept at low resolution) agrees with the mmcv-layout one
    layer = CARAFE(6, scale, k_up=k_up, compressed_channels=8, dtype=torch.float64)
    randomise(layer, seed=scale)
    with torch.no_grad():
        encoded = layer.content_encoder(layer.channel_compressor(x))
        layer_masks = F.softmax(pixel_shuffle(encoded, scale), dim=1)  # mmcv's kernel_normalizer
        torch.testing.assert_close(layer(x), unfold_carafe(x, layer_masks, k_up, scale), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("d", "scale", "k_up"), [(1, 2, 5), (1, 3, 3), (2, 2, 5), (2, 3, 3), (2, (3, 2), 5),
                                                 (3, 2, 3), (3, (2, 1, 3), 5)])
def test_zero_parameters_are_a_box_average_then_nearest(d: int, scale: object, k_up: int, device: str) -> None:
    layer = CARAFE(4, scale, k_up=k_up, dims=d, dtype=torch.float64)
    with torch.no_grad():
        for p in layer.parameters():
            p.zero_()
    x = torch.randn(2, 4, *SIZES[d], generator=torch.Generator().manual_seed(d), dtype=torch.float64)
    box = POOL[d](F.pad(x, [(k_up - 1) // 2] * (2 * d)), k_up, stride=1)  # zeros outside count
    expected = F.interpolate(box, scale_factor=per_axis(scale, d), mode="nearest")
    torch.testing.assert_close(forward_on(device, layer, x), expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_k_up_one_is_nearest_bit_for_bit(d: int) -> None:
    layer = CARAFE(4, 3, k_up=1, dims=d)  # one tap: its softmax weight is exactly 1
    x = torch.randn(2, 4, *SIZES[d])
    with torch.no_grad():
        assert torch.equal(layer(x), F.interpolate(x, scale_factor=3, mode="nearest"))


def test_gradients_of_the_reassembly() -> None:
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(1, 2, 3, 4, generator=generator, dtype=torch.float64, requires_grad=True)
    masks = torch.randn(1, 9, 6, 8, generator=generator, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, m: carafe(a, m, 2), (x, masks))
    layer = CARAFE(2, (2, 3), k_up=3, compressed_channels=3, dims=2, dtype=torch.float64)
    randomise(layer, seed=1)
    assert torch.autograd.gradcheck(layer, (x,))


# --------------------------------------------------------------------- memory and speed
def test_peak_memory_is_of_the_order_of_the_output_unlike_unfold() -> None:
    n, c, h, w, s, k = 2, 32, 24, 24, 2, 5
    x = torch.randn(n, c, h, w)
    masks = torch.randn(n, k * k, h * s, w * s).softmax(1)
    output = n * c * h * s * w * s * 4
    ours = peak_bytes(lambda: carafe(x, masks, s)) / output
    theirs = peak_bytes(lambda: unfold_carafe(x, masks, k, s)) / output
    # ours: the output, the accumulator, a padded input copy and the kernels' low-res copy;
    # unfold: (N, C * k^2, H, W) then k^2 = 25 outputs after the nearest repeat
    assert 1 <= ours < 5, ours
    assert theirs > 20, theirs
    assert ours * 5 < theirs, (ours, theirs)


def test_forward_and_backward_peak_memory_beat_unfold() -> None:
    n, c, h, w, s, k = 1, 16, 16, 16, 2, 5
    x = torch.randn(n, c, h, w)
    masks = torch.randn(n, k * k, h * s, w * s).softmax(1)

    def step(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            a, m = x.clone().requires_grad_(), masks.clone().requires_grad_()
            fn(a, m).sum().backward()
        return run

    ours = peak_bytes(step(lambda a, m: carafe(a, m, s)))
    theirs = peak_bytes(step(lambda a, m: unfold_carafe(a, m, k, s)))
    assert ours * 4 < theirs, (ours, theirs)


# -------------------------------------------------------------------------- layer basics
def test_mmcv_initialisation() -> None:
    torch.manual_seed(0)
    layer = CARAFE(64, 2, compressed_channels=48)
    comp, enc = layer.channel_compressor.weight.detach(), layer.content_encoder.weight.detach()
    bound = math.sqrt(6 / (64 + 48))  # xavier_uniform, gain 1
    assert float(comp.abs().max()) <= bound and abs(float(comp.std()) - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(float(enc.std()) - 0.001) < 0.0001 and abs(float(enc.mean())) < 0.0001
    assert enc.shape == (25 * 4, 48, 3, 3)
    assert not layer.channel_compressor.bias.any() and not layer.content_encoder.bias.any()
    assert layer.proj is None
    # near-uniform kernels: the initial layer is close to box average + nearest
    x = torch.randn(1, 64, 6, 6)
    with torch.no_grad():
        box = F.interpolate(F.avg_pool2d(x, 5, 1, 2, count_include_pad=True), scale_factor=2)
        assert float((layer(x) - box).abs().max()) < 0.05 * float(box.abs().max())


@pytest.mark.parametrize(("channels", "scale", "k_up", "k_enc", "cm", "d"), [
    (256, 2, 5, 3, 64, 2), (64, 3, 3, 5, 16, 2), (8, 2, 5, 3, 64, 1), (8, (2, 1, 2), 3, 3, 4, 3)])
def test_parameter_count(channels: int, scale: object, k_up: int, k_enc: int, cm: int, d: int) -> None:
    block = math.prod(per_axis(scale, d))  # type: ignore[arg-type]
    expected = channels * cm + cm + cm * k_up ** d * block * k_enc ** d + k_up ** d * block
    layer = CARAFE(channels, scale, k_up=k_up, k_enc=k_enc, compressed_channels=cm, dims=d)
    assert sum(p.numel() for p in layer.parameters()) == expected
    if (channels, scale, d) == (256, 2, 2):
        assert expected == 74148  # the "74K" of the DySample paper's table


def test_out_channels_is_a_1x1_convolution_after_carafe() -> None:
    torch.manual_seed(0)
    layer = CARAFE(4, 2, out_channels=6, compressed_channels=8, dtype=torch.float64)
    plain = CARAFE(4, 2, compressed_channels=8, dtype=torch.float64)
    plain.load_state_dict({k: v for k, v in layer.state_dict().items() if not k.startswith("proj.")})
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64)
    assert isinstance(layer.proj, nn.Conv2d) and layer.proj.kernel_size == (1, 1)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), layer.proj(plain(x)), rtol=0, atol=0)
    assert layer(x).shape == (2, 6, 10, 10)


def test_state_dict_names_match_mmcv_carafepack() -> None:
    assert set(CARAFE(8, 2).state_dict()) == {"channel_compressor.weight", "channel_compressor.bias",
                                              "content_encoder.weight", "content_encoder.bias"}


def test_kernels_sum_to_one_and_repr() -> None:
    k = carafe_kernels(torch.randn(2, 25 * 6, 3, 4), 5, (2, 3))
    torch.testing.assert_close(k.sum(1), torch.ones(2, 6, 3, 4))
    assert repr(CARAFE(8, (2, 3), out_channels=4)).startswith(
        "CARAFE(\n  8, scale=(2, 3), k_up=5, k_enc=3, compressed_channels=64, out_channels=4, dims=2\n")
    assert CARAFE(8, 2).extra_repr() == "8, scale=2, k_up=5, k_enc=3, compressed_channels=64, out_channels=8, dims=2"
    assert build_upsampler("carafe", 8, 4, 2, k_up=3).extra_repr() == \
        "8, scale=2, k_up=3, k_enc=3, compressed_channels=64, out_channels=4, dims=2"


def test_device_and_dtype_reach_the_parameters() -> None:
    layer = CARAFE(4, 2, out_channels=3, device="cpu", dtype=torch.float64)
    assert {p.dtype for p in layer.parameters()} == {torch.float64}


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"k_up": 4}, r"CARAFE: k_up must be an odd integer >= 1 \(the reassembly kernel is centred on the source "
                  r"pixel\), but got 4"),
    ({"k_up": 0}, r"CARAFE: k_up must be an odd integer >= 1 .* but got 0"),
    ({"k_enc": 2}, r"CARAFE: k_enc must be an odd integer >= 1 \(the encoder is a same-padded convolution\), "
                   r"but got 2"),
    ({"scale": 1.5}, r"CARAFE: scale must be an integer >= 1 .* but got 1\.5"),
    ({"compressed_channels": 0}, r"CARAFE: compressed_channels must be a positive integer, but got 0"),
    ({"dims": 4}, r"CARAFE: dims must be 1, 2 or 3"),
])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    arguments = {"channels": 4, "scale": 2, **kwargs}
    with pytest.raises(InvalidArgumentError, match=message):
        CARAFE(**arguments)


def test_bad_inputs() -> None:
    with pytest.raises(InvalidArgumentError, match=r"CARAFE\(in_channels=4\) expects 4 input channels \(dim 1\), "
                                                   r"but got 3"):
        CARAFE(4, 2)(torch.zeros(1, 3, 4, 4))
    with pytest.raises(InvalidArgumentError, match=r"CARAFE\(dims=2\) expects input of shape \(N, C, H, W\)"):
        CARAFE(4, 2)(torch.zeros(1, 4, 4))
    with pytest.raises(InvalidArgumentError, match=r"carafe: masks must have shape \(N, k_up\^2, \*spatial \* scale\) "
                                                   r"= \(1, k_up\^2, 8, 8\) with an odd k_up"):
        carafe(torch.zeros(1, 2, 4, 4), torch.zeros(1, 16, 8, 8), 2)  # k_up = 4
    with pytest.raises(InvalidArgumentError, match=r"but got \(1, 9, 8, 6\)"):
        carafe(torch.zeros(1, 2, 4, 4), torch.zeros(1, 9, 8, 6), 2)


# --------------------------------------------------------------------------------- ONNX
@pytest.mark.parametrize(("d", "scale", "k_up"), [(2, 4, 3), (2, (3, 2), 5), (1, 3, 5)])
def test_onnx_export_matches_onnxruntime(d: int, scale: object, k_up: int) -> None:
    ort = pytest.importorskip("onnxruntime")
    layer = CARAFE(4, scale, k_up=k_up, compressed_channels=8, out_channels=3, dims=d).eval()
    randomise(layer, seed=3, std=0.3)
    x = torch.randn(2, 4, *SIZES[d])
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(layer, (x,), f, opset_version=17, dynamo=False, input_names=["x"])
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = layer(x).numpy()
    np.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], expected, rtol=1e-5, atol=1e-5)
