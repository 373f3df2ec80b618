"""BilinearAdditive against a naive float64 loop of Wojna et al.'s definition (bilinear upsampling,
then the sum of groups of consecutive channels), its reductions (plain bilinear when out == in; the
residual form with a zero transposed convolution), gradients, bfloat16, ONNX, costs and errors."""

from __future__ import annotations

import io
import itertools
import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.conftest import forward_on
from tests.layer_helpers import per_axis
from upsamplekit import count_macs, count_params
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError
from upsamplekit.nn import BilinearAdditive, TransposedConv, build_upsampler, upsampler_info
from upsamplekit.nn.bilinear_additive import bilinear_additive

torch.set_num_threads(1)
SIZES = {1: (5,), 2: (3, 4), 3: (2, 3, 2)}
TORCH_MODE = {1: "linear", 2: "bilinear", 3: "trilinear"}



def _input(channels: int, d: int, seed: int = 0, batch: int = 2, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(batch, channels, *SIZES[d], generator=torch.Generator().manual_seed(seed), dtype=dtype)


# ------------------------------------------------------------------------- naive references
def _linear_taps(n: int, s: int) -> list[list[tuple[int, float]]]:
    """Per output sample of one axis, torch's linear taps (align_corners=False): the source
    coordinate (i + 0.5) / s - 0.5, clamped at 0; the two neighbours, the last one clamped."""
    taps = []
    for i in range(n * s):
        src = max((i + 0.5) / s - 0.5, 0.0)
        i0 = min(math.floor(src), n - 1)
        i1 = min(i0 + 1, n - 1)
        lam = src - i0
        taps.append([(i0, 1.0 - lam), (i1, lam)])
    return taps


def naive_bilinear_additive(x: np.ndarray, out_channels: int, scale: tuple[int, ...]) -> np.ndarray:
    """The paper's order, one output sample at a time: bilinear upsampling of every channel,
    then out[c] = sum_{j < g} up[c * g + j] with g = C // out_channels."""
    n, c, *spatial = x.shape
    g = c // out_channels
    out_shape = [v * s for v, s in zip(spatial, scale)]
    taps = [_linear_taps(v, s) for v, s in zip(spatial, scale)]
    up = np.zeros((n, c, *out_shape))
    for p in itertools.product(*[range(v) for v in out_shape]):
        for corner in itertools.product(*[taps[a][p[a]] for a in range(len(p))]):
            weight = math.prod(w for _, w in corner)
            up[(slice(None), slice(None), *p)] += weight * x[(slice(None), slice(None), *[i for i, _ in corner])]
    out = np.zeros((n, out_channels, *out_shape))
    for o in range(out_channels):
        for j in range(g):
            out[:, o] += up[:, o * g + j]
    return out


def naive_transposed(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, scale: tuple[int, ...]) -> np.ndarray:
    """A stride-``scale`` transposed convolution, one input sample and tap at a time: the full
    output (length (in - 1) * s + K per axis) cropped by floor((K - s) / 2) at the start."""
    n, c_in, *spatial = x.shape
    c_out, kernel = weight.shape[1], weight.shape[2:]
    full = np.zeros((n, c_out, *[(v - 1) * s + k for v, s, k in zip(spatial, scale, kernel)]))
    for q in itertools.product(*[range(v) for v in spatial]):
        for k in itertools.product(*[range(v) for v in kernel]):
            at = tuple(a * s + b for a, s, b in zip(q, scale, k))
            for i in range(c_in):
                full[(slice(None), slice(None), *at)] += (x[(slice(None), i, *q)][:, None]
                                                          * weight[(i, slice(None), *k)][None, :])
    crop = tuple(slice((k - s) // 2, (k - s) // 2 + v * s) for v, s, k in zip(spatial, scale, kernel))
    return full[(slice(None), slice(None), *crop)] + bias.reshape(1, c_out, *[1] * len(spatial))


# ------------------------------------------------------------------------------ references
@pytest.mark.parametrize(("d", "scale", "in_channels", "out_channels"), [
    (1, 2, 4, 2), (1, 3, 6, 1), (1, 5, 3, 3),
    (2, 2, 8, 2), (2, 3, 6, 3), (2, (2, 3), 4, 1), (2, 4, 2, 2), (2, 1, 4, 2),
    (3, 2, 4, 2), (3, (1, 2, 3), 6, 2),
])
def test_matches_a_naive_loop_of_the_papers_definition(d: int, scale: Any, in_channels: int,
                                                       out_channels: int, device: str) -> None:
    x = _input(in_channels, d, seed=d * 10 + in_channels)
    expected = naive_bilinear_additive(x.numpy(), out_channels, per_axis(scale, d))
    layer = BilinearAdditive(in_channels, out_channels, scale, dims=d)
    np.testing.assert_allclose(forward_on(device, layer, x).numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bilinear_additive(x.to(device), out_channels, scale).cpu().numpy(), expected,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("scale", [2, 3])
def test_out_equals_in_is_plain_bilinear_bit_for_bit(d: int, scale: int) -> None:
    x = _input(5, d, seed=scale, dtype=torch.float32)
    expected = F.interpolate(x, scale_factor=scale, mode=TORCH_MODE[d], align_corners=False)
    assert torch.equal(BilinearAdditive(5, 5, scale, dims=d)(x), expected)
    assert torch.equal(build_upsampler("bilinear_additive", 5, None, scale, dims=d)(x),
                       build_upsampler("bilinear", 5, None, scale, dims=d)(x))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_summing_first_equals_the_papers_order(d: int) -> None:
    """The layer sums before interpolating (cheaper); upsample-then-sum gives the same result."""
    x = _input(12, d, seed=7, dtype=torch.float32)
    up = F.interpolate(x, scale_factor=3, mode=TORCH_MODE[d], align_corners=False)
    paper = up.reshape(2, 3, 4, *up.shape[2:]).sum(2)
    torch.testing.assert_close(BilinearAdditive(12, 3, 3, dims=d)(x), paper, rtol=1e-6, atol=1e-5)


def test_channel_groups_are_consecutive() -> None:
    """Output channel c sums input channels c * g ... c * g + g - 1 (not every out_channels-th one)."""
    x = torch.zeros(1, 6, 2, 2)
    x[:, 2:4] = 1.0  # the second group of two
    y = BilinearAdditive(6, 3, 2)(x)
    assert torch.equal(y[:, 1], torch.full((1, 4, 4), 2.0))
    assert not y[:, 0].any() and not y[:, 2].any()


# ------------------------------------------------------------------------------ residual form
@pytest.mark.parametrize(("d", "scale", "in_channels", "out_channels"), [
    (1, 3, 4, 2), (2, 2, 4, 2), (2, (2, 3), 3, 3), (3, 2, 2, 1)])
def test_residual_with_a_zero_branch_is_bilinear_additive_exactly(d: int, scale: Any, in_channels: int,
                                                                  out_channels: int) -> None:
    torch.manual_seed(0)
    layer = BilinearAdditive(in_channels, out_channels, scale, dims=d, residual=True)
    assert isinstance(layer.branch, TransposedConv)
    x = _input(in_channels, d, seed=1, dtype=torch.float32)
    with torch.no_grad():
        assert not torch.equal(layer(x), bilinear_additive(x, out_channels, scale))
        layer.branch.weight.zero_()
        assert layer.branch.bias is not None
        layer.branch.bias.zero_()
        assert torch.equal(layer(x), BilinearAdditive(in_channels, out_channels, scale, dims=d)(x))


@pytest.mark.parametrize(("d", "scale"), [(1, 2), (1, 3), (2, 2), (2, (3, 2)), (3, (1, 2, 2))])
def test_residual_matches_naive_shortcut_plus_transposed_convolution(d: int, scale: Any, device: str) -> None:
    """out = BA(x) + T(x), both written as loops."""
    torch.manual_seed(d)
    layer = BilinearAdditive(4, 2, scale, dims=d, residual=True, dtype=torch.float64)
    x = _input(4, d, seed=2)
    assert layer.branch is not None and layer.branch.bias is not None
    s = per_axis(scale, d)
    expected = naive_bilinear_additive(x.numpy(), 2, s) + naive_transposed(
        x.numpy(), layer.branch.weight.detach().numpy(), layer.branch.bias.detach().numpy(), s)
    np.testing.assert_allclose(forward_on(device, layer, x).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_residual_branch_is_transposedconv_with_its_defaults() -> None:
    torch.manual_seed(5)
    layer = BilinearAdditive(8, 4, (2, 3), residual=True)
    torch.manual_seed(5)
    plain = TransposedConv(8, 4, (2, 3))
    assert layer.branch is not None
    assert layer.branch.kernel_size == (4, 6) and layer.branch.init == "default"
    assert all(torch.equal(a, b) for a, b in zip(layer.branch.state_dict().values(), plain.state_dict().values()))
    assert set(layer.state_dict()) == {"branch.weight", "branch.bias"}
    assert count_params(layer) == 8 * 4 * 4 * 6 + 4
    assert count_params(BilinearAdditive(8, 4, 2)) == 0


# -------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize(("d", "scale", "residual"), [
    (1, 3, False), (1, 2, True), (2, 2, False), (2, (2, 3), True), (3, 2, False), (3, (1, 2, 1), True)])
def test_gradients(d: int, scale: Any, residual: bool) -> None:
    torch.manual_seed(0)
    layer = BilinearAdditive(4, 2, scale, dims=d, residual=residual, dtype=torch.float64)
    x = _input(4, d, seed=3, batch=1).requires_grad_()
    assert torch.autograd.gradcheck(layer, (x,))
    if residual:
        y = layer(x)
        y.square().sum().backward()
        assert layer.branch is not None and layer.branch.weight.grad is not None
        assert layer.branch.weight.grad.abs().sum() > 0


# --------------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("residual", [False, True])
def test_bfloat16(d: int, residual: bool) -> None:
    torch.manual_seed(0)
    layer = BilinearAdditive(8, 2, 2, dims=d, residual=residual).eval()
    x = _input(8, d, seed=4, dtype=torch.float32)
    with torch.no_grad():
        y32 = layer(x)
        y16 = layer.to(torch.bfloat16)(x.bfloat16())
    assert y16.dtype == torch.bfloat16 and y16.shape == y32.shape
    torch.testing.assert_close(y16.float(), y32, rtol=0.02, atol=0.02 * float(y32.abs().max()))


def test_the_plain_layer_takes_any_float_dtype_the_residual_one_its_own() -> None:
    x = _input(4, 2, seed=5)  # float64
    assert BilinearAdditive(4, 2, 2)(x).dtype == torch.float64
    with pytest.raises(InvalidTypeError, match=r"BilinearAdditive: the input x must have the dtype of the layer's "
                                               r"parameters, but got x of torch.float64 and parameters of "
                                               r"torch.float32"):
        BilinearAdditive(4, 2, 2, residual=True)(x)
    layer = BilinearAdditive(4, 2, 2, residual=True, device="cpu", dtype=torch.float64)
    assert {p.dtype for p in layer.parameters()} == {torch.float64} and layer(x).dtype == torch.float64


def test_empty_batch() -> None:
    for residual in (False, True):
        assert BilinearAdditive(4, 2, 3, residual=residual)(torch.zeros(0, 4, 2, 3)).shape == (0, 2, 6, 9)


# ---------------------------------------------------------------------------------- ONNX
@pytest.mark.parametrize(("d", "scale", "residual"), [
    (1, 3, False), (1, 2, True), (2, 2, False), (2, (3, 2), True), (3, 2, False), (3, (1, 2, 2), True)])
def test_onnx_export_matches_onnxruntime(d: int, scale: Any, residual: bool) -> None:
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    layer = BilinearAdditive(6, 2, scale, dims=d, residual=residual).eval()
    x = _input(6, d, seed=6, dtype=torch.float32)
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(layer, (x,), f, opset_version=17, dynamo=False, input_names=["x"])
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = layer(x).numpy()
    np.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], expected, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------- costs
@pytest.mark.parametrize(("d", "scale"), [(1, 3), (2, 2), (2, (2, 3)), (3, 2)])
@pytest.mark.parametrize("residual", [False, True])
def test_count_macs(d: int, scale: Any, residual: bool) -> None:
    """Interpolation: 2**d per output sample of the out_channels summed channels (the sum itself is
    additions, 0); the branch: C_in * C_out * prod(K) per input sample (torch's transposed-conv rule)."""
    s = per_axis(scale, d)
    batch, c_in, c_out = 2, 8, 2
    layer = BilinearAdditive(c_in, c_out, scale, dims=d, residual=residual)
    x = _input(c_in, d, seed=0, batch=batch, dtype=torch.float32)
    out_samples = math.prod(v * f for v, f in zip(SIZES[d], s))
    expected = 2**d * batch * c_out * out_samples
    if residual:
        expected += batch * c_in * c_out * math.prod(2 * f for f in s) * math.prod(SIZES[d])
    assert count_macs(layer, x) == expected
    meta = BilinearAdditive(c_in, c_out, scale, dims=d, residual=residual, device="meta")
    assert count_macs(meta, x.to("meta")) == expected


def test_count_macs_by_op_and_the_saving_of_summing_first() -> None:
    x = torch.zeros(1, 256, 120, 120, device="meta")
    ops = count_macs(BilinearAdditive(256, 64, 2), x, by_op=True)
    assert ops == {"upsample_bilinear2d": 64 * 240 * 240 * 4}  # 1/4 of upsampling all 256 channels


# --------------------------------------------------------------------------------- registry
def test_registry_entry() -> None:
    info = upsampler_info("bilinear_additive")
    assert not info.learned and not info.guided and info.dims == (1, 2, 3) and info.scales == "integer"
    layer = build_upsampler("bilinear_additive", 8, 2, 3, dims=1, residual=True)
    assert isinstance(layer, BilinearAdditive) and layer.residual and layer.group == 4
    assert layer.extra_repr() == "8, 2, scale=3, dims=1, residual=True"
    assert repr(BilinearAdditive(8, 4, (2, 3))) == "BilinearAdditive(8, 4, scale=(2, 3), dims=2, residual=False)"
    with pytest.raises(TypeError, match=r"BilinearAdditive got an unexpected keyword argument 'residul'.*did you "
                                        r"mean 'residual'\?"):
        build_upsampler("bilinear_additive", 8, 2, 2, residul=True)


# ----------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"out_channels": 3}, InvalidArgumentError,
     (r"BilinearAdditive: in_channels must be a multiple of out_channels \(each output channel sums "
      r"in_channels // out_channels consecutive upsampled channels\), but got in_channels=8, out_channels=3; "
      r"the closest valid out_channels: 4 or 2 \(divisors of 8\)")),
    ({"out_channels": 16}, InvalidArgumentError,
     r"but got in_channels=8, out_channels=16; the closest valid out_channels: 8 \(divisors of 8\)"),
    ({"out_channels": 0}, InvalidArgumentError, r"BilinearAdditive: out_channels must be a positive integer, but got 0"),
    ({"scale": 1.5}, InvalidArgumentError, r"BilinearAdditive: scale must be an integer >= 1 .* but got 1\.5"),
    ({"scale": (2, 2, 2)}, InvalidArgumentError, r"BilinearAdditive: scale"),
    ({"dims": 4}, InvalidArgumentError, r"BilinearAdditive: dims must be 1, 2 or 3"),
    ({"residual": "yes"}, InvalidTypeError, r"BilinearAdditive: residual must be True or False.*'yes'"),
])
def test_bad_arguments(kwargs: dict, error: type[Exception], message: str) -> None:
    arguments = {"in_channels": 8, "out_channels": 2, "scale": 2, **kwargs}
    with pytest.raises(error, match=message):
        BilinearAdditive(**arguments)


def test_bad_inputs() -> None:
    with pytest.raises(InvalidArgumentError, match=r"BilinearAdditive\(in_channels=4\) expects 4 input channels "
                                                   r"\(dim 1\), but got 3"):
        BilinearAdditive(4, 2, 2)(torch.zeros(1, 3, 4, 4))
    with pytest.raises(InvalidArgumentError, match=r"BilinearAdditive\(dims=2\) expects input of shape "
                                                   r"\(N, C, H, W\)"):
        BilinearAdditive(4, 2, 2)(torch.zeros(1, 4, 4))
    with pytest.raises(InvalidArgumentError, match=r"bilinear_additive: in_channels must be a multiple of "
                                                   r"out_channels .* but got in_channels=5, out_channels=2"):
        bilinear_additive(torch.zeros(1, 5, 3), 2, 2)
    with pytest.raises(InvalidTypeError, match=r"bilinear_additive: the input must be a floating-point tensor"):
        bilinear_additive(torch.zeros(1, 4, 3, dtype=torch.int64), 2, 2)
