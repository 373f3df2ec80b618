"""N-D pixel shuffle (nn.PixelShuffle's order) and SubPixelConv with ICNR and blur."""

from __future__ import annotations

import io
import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from tests.conftest import forward_on
from upsamplekit import resize
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.nn import SubPixelConv
from upsamplekit.nn.functional import conv_same, icnr_weight, pixel_shuffle, pixel_unshuffle, shift_blur

torch.set_num_threads(1)
CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


# ------------------------------------------------------------------------ pixel shuffle
@pytest.mark.parametrize("r", [1, 2, 3, 4])
@pytest.mark.parametrize("channels", [1, 3])
def test_pixel_shuffle_2d_is_torchs_bit_for_bit(r: int, channels: int) -> None:
    x = torch.randn(2, channels * r * r, 5, 3)
    assert torch.equal(pixel_shuffle(x, r), nn.PixelShuffle(r)(x))
    y = torch.randn(2, channels, 3 * r, 2 * r)
    assert torch.equal(pixel_unshuffle(y, r), nn.PixelUnshuffle(r)(y))


def _naive_shuffle(x: np.ndarray, r: tuple[int, ...]) -> np.ndarray:
    """out[c, s * r + t] = in[c * prod(r) + flat(t), s], looping over every output sample."""
    n, cr, *spatial = x.shape
    block = math.prod(r)
    out = np.zeros((n, cr // block, *[s * f for s, f in zip(spatial, r)]), x.dtype)
    for c in range(cr // block):
        for flat, t in enumerate(itertools.product(*[range(f) for f in r])):
            for s in itertools.product(*[range(v) for v in spatial]):
                target = (slice(None), c, *[si * f + ti for si, f, ti in zip(s, r, t)])
                out[target] = x[(slice(None), c * block + flat, *s)]
    return out


@pytest.mark.parametrize("r", [(2,), (3,), (2, 3), (3, 1), (2, 2, 2), (1, 3, 2)])
def test_pixel_shuffle_nd_follows_the_definition_and_round_trips(r: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(r) * 10 + sum(r))
    d = len(r)
    x = rng.standard_normal((2, 2 * math.prod(r), *(3, 4, 2)[:d]))
    y = pixel_shuffle(torch.from_numpy(x), r)
    np.testing.assert_array_equal(y.numpy(), _naive_shuffle(x, r))
    assert torch.equal(pixel_unshuffle(y, r), torch.from_numpy(x))
    z = torch.from_numpy(rng.standard_normal((2, 3, *[2 * f for f in r])))
    assert torch.equal(pixel_shuffle(pixel_unshuffle(z, r), r), z)


def test_pixel_shuffle_errors() -> None:
    with pytest.raises(InvalidArgumentError, match=r"pixel_shuffle: the input channels must be divisible by "
                                                   r"prod\(scale\) = 4 .* but got 6 channels"):
        pixel_shuffle(torch.zeros(1, 6, 2, 2), 2)
    with pytest.raises(InvalidArgumentError, match=r"pixel_unshuffle: every spatial length must be divisible"):
        pixel_unshuffle(torch.zeros(1, 1, 3, 4), 2)
    with pytest.raises(InvalidArgumentError, match=r"pixel_shuffle: scale must be an integer >= 1 .* but got 1\.5"):
        pixel_shuffle(torch.zeros(1, 4, 2, 2), 1.5)
    with pytest.raises(InvalidArgumentError, match=r"pixel_shuffle\(dims=2\) expects .* but got shape \(1, 4, 2\)"):
        pixel_shuffle(torch.zeros(1, 4, 2), 2, dims=2)


# ------------------------------------------------------------------------ sub-pixel conv
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kernel", [1, 3, 4])
@pytest.mark.parametrize("init", ["icnr", "default"])
def test_subpixel_is_conv_then_pixel_shuffle_2d(kernel: int, init: str, device: str) -> None:
    layer = SubPixelConv(3, 2, 2, kernel_size=kernel, init=init, dtype=torch.float64)
    conv = nn.Conv2d(3, 8, kernel, padding="same", dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(layer.weight)
        conv.bias.copy_(layer.bias)
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    torch.testing.assert_close(forward_on(device, layer, x), nn.PixelShuffle(2)(conv(x)).detach(), rtol=0, atol=1e-12)


SCALES = [(1, 2), (1, 3), (2, 2), (2, 3), (2, (2, 3)), (3, 2), (3, (1, 2, 3))]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("d", "scale"), SCALES)
def test_icnr_output_is_nearest_upsampled_conv(d: int, scale: object, dtype: torch.dtype, device: str,
                                               no_cudnn_tf32: None) -> None:
    torch.manual_seed(d)
    layer = SubPixelConv(3, 2, scale, dims=d, dtype=dtype)
    r = scale if isinstance(scale, tuple) else (scale,) * d
    block = math.prod(r)
    x = torch.randn(2, 3, *(4, 5, 3)[:d], dtype=dtype)
    # the underlying C_out convolution, nearest-upsampled (a real reference, float round-off apart)
    base_w, base_b = layer.weight[::block].detach(), layer.bias[::block].detach()
    expected = resize(conv_same(x, base_w, base_b), scale_factor=r, method="nearest")
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5  # float32 on CUDA too: TF32 is off (no_cudnn_tf32)
    layer, x = layer.to(device), x.to(device)  # the reference stays on the CPU; the rest runs on the device
    torch.testing.assert_close(layer(x).detach().cpu(), expected, rtol=0, atol=tolerance)
    # Every scale block is constant, exactly. The convolution backend may sum the repeated filters
    # in different orders (it blocks output channels), so round weights and inputs to dyadic values
    # first: every partial sum is then exact and any order gives the same bits. Rounding keeps the
    # ICNR structure (it acts element by element), which is what is under test.
    with torch.no_grad():
        layer.weight.copy_(torch.round(layer.weight * 256) / 256)
        layer.bias.copy_(torch.round(layer.bias * 256) / 256)
    assert torch.equal(layer.weight, icnr_weight(layer.weight[::block], r))
    x = torch.round(x * 8) / 8
    y = layer(x).detach()
    first = y[(slice(None), slice(None), *[slice(0, None, f) for f in r])]
    for t in itertools.product(*[range(f) for f in r]):
        assert torch.equal(y[(slice(None), slice(None), *[slice(ti, None, f) for ti, f in zip(t, r)])], first)
    assert torch.equal(y, resize(conv_same(x, layer.weight[::block], layer.bias[::block]), scale_factor=r,
                                 method="nearest").detach())


def test_icnr_base_is_initialised_as_nn_conv() -> None:
    torch.manual_seed(5)
    expected = nn.Conv2d(3, 2, 3)
    torch.manual_seed(5)
    layer = SubPixelConv(3, 2, 2)
    assert torch.equal(layer.weight, icnr_weight(expected.weight, 2))
    assert torch.equal(layer.bias, icnr_weight(expected.bias, 2, dims=2))


def test_default_init_is_not_block_constant() -> None:
    torch.manual_seed(0)
    y = SubPixelConv(3, 2, 2, init="default")(torch.randn(1, 3, 4, 4)).detach()
    assert not torch.equal(y[..., 0::2, 0::2], y[..., 1::2, 1::2])


def _naive_blur(x: np.ndarray, axes: list[bool]) -> np.ndarray:
    """y[i] = (x[max(i - 1, 0)] + x[i]) / 2 on each flagged axis, by loops."""
    out = x.copy()
    for axis, flag in enumerate(axes):
        if not flag:
            continue
        src = out.copy()
        for i in range(src.shape[2 + axis]):
            prev = max(i - 1, 0)
            idx = [slice(None)] * src.ndim
            pidx = list(idx)
            idx[2 + axis], pidx[2 + axis] = i, prev
            out[tuple(idx)] = (src[tuple(pidx)] + src[tuple(idx)]) / 2
    return out


@pytest.mark.parametrize(("d", "scale"), [(1, 2), (2, 2), (2, (2, 1)), (3, (2, 3, 2))])
def test_blur_is_fastais_replicate_pad_and_average(d: int, scale: object, device: str) -> None:
    torch.manual_seed(d)
    layer = SubPixelConv(3, 2, scale, dims=d, blur=True, dtype=torch.float64)
    plain = SubPixelConv(3, 2, scale, dims=d, dtype=torch.float64)
    plain.load_state_dict(layer.state_dict())
    x = torch.randn(2, 3, *(4, 3, 3)[:d], dtype=torch.float64)
    r = scale if isinstance(scale, tuple) else (scale,) * d
    expected = _naive_blur(plain(x).detach().numpy(), [f > 1 for f in r])
    np.testing.assert_allclose(forward_on(device, layer, x).numpy(), expected, rtol=0, atol=1e-12)
    if d == 2 and r == (2, 2):
        fastai = nn.Sequential(nn.ReplicationPad2d((1, 0, 1, 0)), nn.AvgPool2d(2, stride=1))
        torch.testing.assert_close(layer(x), fastai(plain(x)), rtol=0, atol=1e-12)


def test_blur_keeps_constants() -> None:
    x = torch.full((1, 2, 5, 4), 3.0)
    assert torch.equal(shift_blur(x), x)


# ------------------------------------------------------------------ dtypes, grads, ONNX
def test_gradients_and_dtypes() -> None:
    torch.manual_seed(1)
    layer = SubPixelConv(3, 4, (2, 3), blur=True)
    x = torch.randn(2, 3, 5, 4, requires_grad=True)
    layer(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())
    y32 = layer(x).detach()
    torch.testing.assert_close(layer.to(torch.float64)(x.detach().double()).float(), y32, rtol=0, atol=1e-5)
    y16 = layer.to(torch.bfloat16)(x.detach().bfloat16())
    assert y16.dtype == torch.bfloat16
    torch.testing.assert_close(y16.float(), y32, rtol=0.05, atol=0.1)


@pytest.mark.parametrize(("d", "scale", "blur", "kernel"), [(1, 3, False, 3), (2, (2, 3), True, 4), (3, 2, True, 3),
                                                            (3, (1, 2, 3), False, 1)])
def test_onnx_export(d: int, scale: object, blur: bool, kernel: int) -> None:
    ort = pytest.importorskip("onnxruntime")
    layer = SubPixelConv(3, 2, scale, dims=d, blur=blur, kernel_size=kernel, init="default").eval()
    x = torch.randn(2, 3, *(5, 4, 3)[:d])
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(layer, x, f, opset_version=17, dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "n"}})
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    for batch in (2, 3):
        x = torch.randn(batch, 3, *(5, 4, 3)[:d])
        np.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], layer(x).detach().numpy(),
                                   rtol=0, atol=1e-5)


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("args", "kwargs", "pattern"),
    [
        ((4, 4, 1.5), {}, r"SubPixelConv: scale must be an integer >= 1 .* but got 1\.5"),
        ((4, 4, (2, 2)), {"dims": 3}, r"SubPixelConv: scale .* dims=3\), but got 2 values"),
        ((4, 4, 2), {"init": "icn"}, r"SubPixelConv: init must be one of 'icnr', 'default'.* did you mean 'icnr'"),
        ((4, 4, 2), {"kernel_size": 0}, r"SubPixelConv: kernel_size must be a positive integer, but got 0"),
    ],
)
def test_bad_construction(args: tuple, kwargs: dict, pattern: str) -> None:
    with pytest.raises(InvalidArgumentError, match=pattern):
        SubPixelConv(*args, **kwargs)


def test_bad_inputs() -> None:
    layer = SubPixelConv(4, 2, 2, dims=1)
    with pytest.raises(InvalidArgumentError, match=r"SubPixelConv\(dims=1\) expects input of shape \(N, C, L\)"):
        layer(torch.zeros(1, 4, 3, 3))
    with pytest.raises(InvalidArgumentError, match=r"SubPixelConv\(in_channels=4\) expects 4 input channels \(dim 1\), "
                                                   r"but got 2 in an input of shape \(1, 2, 3\)"):
        layer(torch.zeros(1, 2, 3))


def test_extra_repr() -> None:
    assert SubPixelConv(4, 6, 2).extra_repr() == ("4, 6, scale=2, dims=2, kernel_size=3, init='icnr', blur=False, "
                                                  "bias=True")
    assert SubPixelConv(4, 6, (2, 3), dims=2, kernel_size=(3, 5), blur=True).extra_repr() == (
        "4, 6, scale=(2, 3), dims=2, kernel_size=(3, 5), init='icnr', blur=True, bias=True")
