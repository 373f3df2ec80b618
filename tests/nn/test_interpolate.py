"""Interpolate: nn.Upsample bit for bit, Keras UpSampling2D, the 1x1 channel change, ONNX export."""

from __future__ import annotations

import io
import warnings
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.conftest import forward_on
from upsamplekit import resize
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError
from upsamplekit.nn import Interpolate, build_upsampler

torch.set_num_threads(1)

# torch's modes per number of spatial axes, with the align_corners values each accepts.
TORCH_MODES = {
    1: [("nearest", None), ("nearest-exact", None), ("area", None),
        ("linear", None), ("linear", False), ("linear", True)],
    2: [("nearest", None), ("nearest-exact", None), ("area", None), ("bilinear", False), ("bilinear", True),
        ("bicubic", None), ("bicubic", False), ("bicubic", True)],
    3: [("nearest", None), ("nearest-exact", None), ("area", None), ("trilinear", False), ("trilinear", True)],
}
# (scale_factor, size, recompute_scale_factor); sizes are per axis, cut to the dims.
CALLS = [(2, None, None), (3, None, None), (1.5, None, None), (1.7, None, True), ((2, 3, 1), None, None),
         ((2.5, 1.25, 3), None, False), (None, (7, 9, 5), None)]
CASES = [(d, mode, ac, call) for d, modes in TORCH_MODES.items() for mode, ac in modes for call in CALLS]


def _cut(value: object, d: int) -> object:
    return value[:d] if isinstance(value, tuple) else value


def _shape(rng: np.random.Generator, d: int) -> tuple[int, ...]:
    return (2, 3, *rng.integers(3, 7, size=d).tolist())


@pytest.mark.parametrize(("d", "mode", "align_corners", "call"), CASES)
def test_equals_nn_upsample_bit_for_bit(d: int, mode: str, align_corners: bool | None, call: tuple,
                                        device: str) -> None:
    """nn.Upsample on the same device: the same aten kernel, so bit for bit on CUDA too."""
    rng = np.random.default_rng(zlib.crc32(repr((d, mode, align_corners, call)).encode()))
    scale, size, recompute = _cut(call[0], d), _cut(call[1], d), call[2]
    x = torch.from_numpy(rng.standard_normal(_shape(rng, d))).to(device)
    kwargs = {} if align_corners is None else {"align_corners": align_corners}
    if recompute is not None:
        kwargs["recompute_scale_factor"] = recompute
    expected = nn.Upsample(size=size, scale_factor=scale, mode=mode, **kwargs)(x)
    layer = Interpolate(scale_factor=scale, size=size, method=mode, dims=d, **kwargs)
    actual = layer(x)
    assert actual.dtype == expected.dtype and torch.equal(actual, expected)
    # gradients too: the same upsampling backward
    xa, xe = x.clone().requires_grad_(), x.clone().requires_grad_()
    weight = torch.from_numpy(rng.standard_normal(tuple(expected.shape))).to(device)
    (layer(xa) * weight).sum().backward()
    (nn.Upsample(size=size, scale_factor=scale, mode=mode, **kwargs)(xe) * weight).sum().backward()
    torch.testing.assert_close(xa.grad, xe.grad, rtol=0, atol=1e-12)  # CUDA: atomicAdd order, float64


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(("d", "mode"), [(1, "linear"), (2, "bicubic"), (3, "trilinear"), (2, "nearest")])
def test_other_dtypes_match_nn_upsample(d: int, mode: str, dtype: torch.dtype, device: str) -> None:
    x = torch.randn(2, 3, *[5] * d, generator=torch.Generator().manual_seed(d)).to(dtype).to(device)
    actual = Interpolate(scale_factor=2, method=mode, dims=d)(x)
    expected = F.interpolate(x, scale_factor=2, mode=mode)
    assert actual.dtype == dtype
    tolerance = 0.0 if dtype == torch.float32 else 1e-2  # bfloat16: resize works in float32, torch in bfloat16
    torch.testing.assert_close(actual.float(), expected.float(), rtol=tolerance, atol=tolerance)


# ------------------------------------------------------------------------------- Keras
@pytest.mark.parametrize("method", ["nearest", "bilinear", "bicubic", "area", "lanczos3"])
@pytest.mark.parametrize("factor", [2, (2, 3), (3, 1)])
def test_keras_convention_is_resize_keras(method: str, factor: object) -> None:
    x = torch.rand(2, 3, 5, 4, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    layer = Interpolate(scale_factor=factor, method=method, convention="keras")
    actual = layer(x)
    expected = resize(x, scale_factor=factor, method=method, convention="keras")
    assert actual.dtype == torch.float32  # Keras layers compute in float32
    assert torch.equal(actual, expected)


def test_keras_nearest_is_repetition() -> None:
    # UpSampling2D's nearest is a repeat of every pixel (hand-checkable).
    x = torch.arange(6.0).view(1, 1, 2, 3)
    y = Interpolate(scale_factor=(2, 3), method="nearest", convention="keras")(x)
    assert torch.equal(y, x.repeat_interleave(2, dim=2).repeat_interleave(3, dim=3))


def test_keras_upsampling2d_itself() -> None:
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(3)
    x = rng.random((2, 4, 5, 3)).astype(np.float32)  # NHWC
    for interpolation, atol in (("nearest", 0.0), ("bilinear", 1e-6), ("bicubic", 2e-3)):
        expected = np.asarray(keras.layers.UpSampling2D(size=(2, 3), interpolation=interpolation)(x))
        layer = Interpolate(scale_factor=(2, 3), method=interpolation, convention="keras")
        actual = layer(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
        # bicubic: TF looks its weights up in a 1024-entry table (resampling.md)
        np.testing.assert_allclose(actual, expected, rtol=0, atol=atol, err_msg=interpolation)


# ---------------------------------------------------------------------------- channels
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("method", ["nearest", "linear", "cubic"])
def test_out_channels_is_a_1x1_convolution_after_the_resize(d: int, method: str, device: str) -> None:
    torch.manual_seed(d)
    layer = Interpolate(scale_factor=2, method=method, in_channels=4, out_channels=6, dims=d, dtype=torch.float64)
    x = torch.randn(2, 4, *[4] * d, dtype=torch.float64)
    up = resize(x, scale_factor=2, method=method)
    weight = layer.proj.weight.view(6, 4)
    expected = torch.einsum("oc,nc...->no...", weight, up) + layer.proj.bias.view(1, 6, *[1] * d)
    torch.testing.assert_close(forward_on(device, layer, x), expected.detach(), rtol=0, atol=1e-12)
    assert sum(p.numel() for p in layer.parameters()) == 6 * 4 + 6


def test_same_channels_has_no_parameters() -> None:
    assert list(Interpolate(scale_factor=2, in_channels=4, out_channels=4).parameters()) == []
    assert list(Interpolate(scale_factor=2).parameters()) == []
    assert build_upsampler("bilinear", 4, None, 2).proj is None


def test_keras_float32_output_feeds_a_float64_projection() -> None:
    layer = Interpolate(scale_factor=2, method="bilinear", convention="keras", in_channels=2, out_channels=3,
                        dtype=torch.float64)
    assert layer(torch.rand(1, 2, 3, 3, dtype=torch.float64)).dtype == torch.float64


# -------------------------------------------------------------------------------- ONNX
def _export(model: nn.Module, x: torch.Tensor, **kwargs: object) -> bytes:
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, f, opset_version=17, dynamo=False, input_names=["x"], **kwargs)
    return f.getvalue()


def _run(blob: bytes, x: torch.Tensor) -> np.ndarray:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x.numpy()})[0]


def _ops(blob: bytes) -> set[str]:
    onnx = pytest.importorskip("onnx")
    return {node.op_type for node in onnx.load_from_string(blob).graph.node}


ONNX_SPECS = [
    # (kwargs, exported as a Resize node?)
    ({"method": "nearest"}, True),
    ({"method": "nearest-exact"}, True),  # torch's own exporter refuses this mode
    ({"method": "linear"}, True),
    ({"method": "linear", "align_corners": True}, True),
    ({"method": "cubic"}, "2d"),  # onnxruntime runs cubic Resize on 4-D inputs only
    ({"method": "nearest", "convention": "keras"}, True),
    ({"method": "bilinear", "convention": "tf"}, True),
    # TF's cubic reads its weights from a 1024-entry table (issue 16): no Resize node computes that, so it
    # exports as interpolation matrices, exact to float32 rounding.
    ({"method": "cubic", "convention": "tf"}, False),
    ({"method": "area"}, False),
    ({"method": "lanczos3", "convention": "pillow"}, False),
    ({"method": "linear", "antialias": True}, False),  # antialias is opset 18
]


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize(("kwargs", "as_resize"), ONNX_SPECS)
def test_onnx_export_matches_onnxruntime(d: int, kwargs: dict, as_resize: object) -> None:
    layer = Interpolate(scale_factor=(2, 3, 2)[:d], dims=d, **kwargs)
    x = torch.randn(2, 3, *(5, 4, 3)[:d], generator=torch.Generator().manual_seed(d))
    blob = _export(layer, x)
    expected = layer(x).numpy()
    np.testing.assert_allclose(_run(blob, x), expected, rtol=0, atol=1e-5)
    resized = as_resize is True or (as_resize == "2d" and d == 2)
    assert ("Resize" in _ops(blob)) == resized
    if not resized:
        assert "MatMul" in _ops(blob)


def test_onnx_resize_keeps_batch_and_spatial_sizes_dynamic() -> None:
    layer = Interpolate(scale_factor=2, method="linear", in_channels=3, out_channels=2)
    x = torch.randn(1, 3, 4, 5)
    blob = _export(layer, x, dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}})
    for shape in [(3, 3, 4, 5), (2, 3, 7, 6)]:
        x = torch.randn(shape)
        np.testing.assert_allclose(_run(blob, x), layer(x).detach().numpy(), rtol=0, atol=1e-5)


def test_onnx_size_call_keeps_batch_dynamic() -> None:
    layer = Interpolate(size=(7, 9), method="nearest-exact")
    blob = _export(layer, torch.randn(1, 3, 4, 5), dynamic_axes={"x": {0: "n"}})
    x = torch.randn(4, 3, 4, 5)
    np.testing.assert_array_equal(_run(blob, x), layer(x).numpy())
    assert "Resize" in _ops(blob)


def test_onnx_fractional_scale_keeps_torch_coordinates() -> None:
    # 5 -> 7 with scale 1.5 samples at (i + 0.5) / 1.5 - 0.5, not at the 7/5 grid (resampling.md)
    layer = Interpolate(scale_factor=1.5, method="linear", dims=1)
    x = torch.randn(2, 3, 5)
    np.testing.assert_allclose(_run(_export(layer, x), x), layer(x).numpy(), rtol=0, atol=1e-6)


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({}, r"Interpolate: exactly one of scale_factor and size must be given, but got neither"),
        ({"scale_factor": 2, "size": 4}, r"exactly one of scale_factor and size must be given, but got both"),
        ({"scale_factor": 0}, r"Interpolate: scale must be a positive number .* but got 0"),
        ({"scale_factor": (2, 2, 2)}, r"Interpolate: scale must be .* dims=2\), but got 3 values: \(2, 2, 2\)"),
        ({"size": (4, 0)}, r"Interpolate: size must be a positive integer, but got 0"),
        ({"scale_factor": 2, "dims": 4}, r"Interpolate: dims must be 1, 2 or 3 .* but got 4"),
        ({"scale_factor": 2, "method": "bilenear"}, r"did you mean 'bilinear'"),
        ({"scale_factor": 2, "align_corners": True}, r"align_corners=True does not apply to method 'nearest'"),
        ({"scale_factor": 2, "out_channels": 4}, r"out_channels=4 needs in_channels"),
        ({"scale_factor": 2, "channels_last": True}, r"channels_last= is a per-call argument"),
    ],
)
def test_bad_construction(kwargs: dict, pattern: str) -> None:
    with pytest.raises(InvalidArgumentError, match=pattern):
        Interpolate(**kwargs)


def test_bad_inputs_name_the_layer_and_the_rule() -> None:
    layer = Interpolate(scale_factor=2, in_channels=3, dims=2)
    with pytest.raises(InvalidArgumentError, match=r"Interpolate\(dims=2\) expects input of shape \(N, C, H, W\), "
                                                   r"a 4-D tensor, but got a 5-D tensor of shape \(1, 3, 2, 2, 2\)"):
        layer(torch.zeros(1, 3, 2, 2, 2))
    with pytest.raises(InvalidArgumentError, match=r"Interpolate\(in_channels=3\) expects 3 input channels \(dim 1\), "
                                                   r"but got 4"):
        layer(torch.zeros(1, 4, 2, 2))
    with pytest.raises(InvalidArgumentError, match=r"every spatial axis of the input must have length >= 1"):
        layer(torch.zeros(1, 3, 0, 2))
    with pytest.raises(InvalidTypeError, match=r"floating-point tensor, but got dtype torch.int64"):
        layer(torch.zeros(1, 3, 2, 2, dtype=torch.int64))


def test_extra_repr_echoes_the_constructor() -> None:
    layer = Interpolate(scale_factor=(2, 3), method="linear", in_channels=4, out_channels=6, align_corners=True)
    assert layer.extra_repr() == ("scale_factor=(2, 3), method='linear', convention='torch', in_channels=4, "
                                  "out_channels=6, dims=2, align_corners=True")
    assert Interpolate(size=5, dims=1).extra_repr() == "size=5, method='nearest', convention='torch', dims=1"
