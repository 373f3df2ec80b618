"""ResizeConv: nn.Upsample followed by a same-padded nn.Conv, in 1-D, 2-D and 3-D."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from tests.conftest import forward_on
from upsamplekit import resize
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.nn import ResizeConv

torch.set_num_threads(1)
CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _torch_reference(layer: ResizeConv, mode: str, **upsample: object) -> nn.Module:
    conv = CONV[layer.dims](layer.in_channels, layer.out_channels, layer.kernel_size, padding="same",
                            dtype=layer.weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(layer.weight)
        conv.bias.copy_(layer.bias)
    return nn.Sequential(nn.Upsample(scale_factor=layer.scale, mode=mode, **upsample), conv)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize(("method", "scale", "kernel"), [("nearest", 2, 3), ("linear", 3, 3), ("nearest-exact", 2, 4),
                                                       ("linear", 2, 1), ("nearest", 1.5, 5)])
def test_equals_upsample_then_same_conv(d: int, method: str, scale: float, kernel: int, device: str) -> None:
    torch.manual_seed(d)
    layer = ResizeConv(3, 4, scale, method=method, kernel_size=kernel, dims=d, dtype=torch.float64)
    mode = LINEAR[d] if method == "linear" else method
    x = torch.randn(2, 3, *(5, 4, 3)[:d], dtype=torch.float64)
    # float64 on any device (no TF32); the reference runs on the CPU
    torch.testing.assert_close(forward_on(device, layer, x), _torch_reference(layer, mode)(x).detach(),
                               rtol=0, atol=1e-12)


def test_per_axis_and_align_corners() -> None:
    layer = ResizeConv(2, 3, (2, 3), method="linear", align_corners=True, dtype=torch.float64)
    x = torch.randn(1, 2, 4, 5, dtype=torch.float64)
    expected = _torch_reference(layer, "bilinear", align_corners=True)(x)
    assert layer(x).shape == (1, 3, 8, 15)
    torch.testing.assert_close(layer(x), expected, rtol=0, atol=1e-12)


def test_other_conventions_and_fractional_sizes() -> None:
    layer = ResizeConv(2, 3, 1.5, method="bicubic", convention="keras", kernel_size=1, dtype=torch.float64)
    x = torch.rand(1, 2, 5, 3, dtype=torch.float64)
    y = layer(x)
    assert y.shape == (1, 3, 7, 4) and y.dtype == torch.float64  # floor(5 * 1.5), floor(3 * 1.5)
    up = resize(x, scale_factor=1.5, method="bicubic", convention="keras").double()
    expected = torch.einsum("oc,nchw->nohw", layer.weight[:, :, 0, 0], up) + layer.bias.view(1, 3, 1, 1)
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-12)


def test_gradients_and_dtypes() -> None:
    torch.manual_seed(2)
    layer = ResizeConv(3, 4, 2, method="linear", dims=3)
    x = torch.randn(1, 3, 3, 4, 2, requires_grad=True)
    layer(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())
    y32 = layer(x).detach()
    torch.testing.assert_close(layer.to(torch.float64)(x.detach().double()).float(), y32, rtol=0, atol=1e-5)
    y16 = layer.to(torch.bfloat16)(x.detach().bfloat16())
    assert y16.dtype == torch.bfloat16
    torch.testing.assert_close(y16.float(), y32, rtol=0.05, atol=0.1)


@pytest.mark.parametrize(("d", "method", "scale"), [(1, "linear", 3), (2, "nearest", (2, 3)), (2, "cubic", 2),
                                                    (3, "nearest-exact", 2), (2, "area", 2)])
def test_onnx_export(d: int, method: str, scale: object) -> None:
    ort = pytest.importorskip("onnxruntime")
    layer = ResizeConv(3, 2, scale, method=method, dims=d).eval()
    x = torch.randn(2, 3, *(5, 4, 3)[:d])
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(layer, x, f, opset_version=17, dynamo=False, input_names=["x"])
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], layer(x).detach().numpy(), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("args", "kwargs", "pattern"),
    [
        ((4, 4, 0), {}, r"ResizeConv: scale must be a positive number .* but got 0"),
        ((4, 4, 2), {"method": "bicubik"}, r"did you mean 'bicubic'"),
        ((4, 4, 2), {"kernel_size": (3, 3, 3)}, r"ResizeConv: kernel_size must be an integer or 2 integers"),
        ((4, 4, 2), {"axes": (2,)}, r"ResizeConv: axes= is a per-call argument"),
        ((4, 4, 2), {"dims": 5}, r"ResizeConv: dims must be 1, 2 or 3"),
    ],
)
def test_bad_construction(args: tuple, kwargs: dict, pattern: str) -> None:
    with pytest.raises(InvalidArgumentError, match=pattern):
        ResizeConv(*args, **kwargs)


def test_bad_inputs() -> None:
    with pytest.raises(InvalidArgumentError, match=r"ResizeConv\(in_channels=4\) expects 4 input channels"):
        ResizeConv(4, 2, 2)(torch.zeros(1, 3, 4, 4))
    with pytest.raises(InvalidArgumentError, match=r"ResizeConv\(dims=2\) expects input of shape \(N, C, H, W\)"):
        ResizeConv(4, 2, 2)(torch.zeros(1, 4, 4))


def test_extra_repr() -> None:
    assert ResizeConv(4, 6, 2).extra_repr() == ("4, 6, scale=2, method='nearest', kernel_size=3, dims=2, "
                                                "convention='torch', bias=True")
    assert ResizeConv(4, 6, (2, 1.5), method="linear", align_corners=True).extra_repr() == (
        "4, 6, scale=(2, 1.5), method='linear', kernel_size=3, dims=2, convention='torch', bias=True, "
        "align_corners=True")
