"""TransposedConv: exact output sizes, nn.ConvTranspose equality, the bilinear filler, seed 003."""

from __future__ import annotations

import io
import itertools
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.conftest import forward_on
from upsamplekit import resize
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.nn import TransposedConv
from upsamplekit.nn.functional import bilinear_kernel, transposed_upsample

torch.set_num_threads(1)
CONV_T = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}


def _layer(*args: object, **kwargs: object) -> TransposedConv:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # uneven kernels are tested on purpose
        return TransposedConv(*args, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ bilinear kernel
def _caffe_filler(size: int) -> np.ndarray:
    """The seed's make_bilinear_weights / Caffe BilinearFiller, 2-D (numpy, as written there)."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = np.ogrid[:size, :size]
    return (1 - abs(og[0] - center) / factor) * (1 - abs(og[1] - center) / factor)


@pytest.mark.parametrize("factor", [1, 2, 3, 4, 5, 6, 7])
def test_bilinear_kernel_is_caffes_filler(factor: int) -> None:
    size = 2 * factor - factor % 2
    kernel = bilinear_kernel(factor, dims=2)
    assert kernel.shape == (size, size)
    np.testing.assert_allclose(kernel.numpy(), _caffe_filler(size), rtol=0, atol=1e-15)


@pytest.mark.parametrize("factors", [(2, 3), (3, 2, 4), (5,)])
def test_bilinear_kernel_nd_is_the_outer_product(factors: tuple[int, ...]) -> None:
    kernel = bilinear_kernel(factors, dims=len(factors))
    expected = np.ones(())
    for f in factors:
        expected = np.multiply.outer(expected, np.diag(_caffe_filler(2 * f - f % 2)) ** 0.5)
    np.testing.assert_allclose(kernel.numpy(), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("factor", [2, 3, 4, 5])
def test_bilinear_kernel_larger_sizes_hold_the_whole_triangle(factor: int) -> None:
    for size in range(2 * factor - factor % 2, 3 * factor + 2):
        taps = bilinear_kernel(factor, dims=1, kernel_size=size)
        assert taps.sum().item() == pytest.approx(factor, abs=1e-12)  # a full triangle of half-width f sums to f
        assert taps.max().item() == pytest.approx(1.0 - (0.5 / factor if factor % 2 == 0 else 0.0), abs=1e-12)


def test_bilinear_kernel_too_small() -> None:
    with pytest.raises(InvalidArgumentError, match=r"kernel_size must be at least 2 \* scale - scale % 2 = 4 .* "
                                                   r"but got kernel_size=3"):
        bilinear_kernel(2, dims=1, kernel_size=3)


# ----------------------------------------------------------------------- shapes & torch
def _reference(x: torch.Tensor, layer: TransposedConv) -> torch.Tensor:
    """nn.ConvTranspose with padding floor((K - s) / 2); the odd remainder cut at the end."""
    d = layer.dims
    pads = [(k - s) // 2 for k, s in zip(layer.kernel_size, layer.scale)]
    ref = CONV_T[d](layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.scale, padding=pads,
                    bias=layer.bias is not None, dtype=x.dtype)
    with torch.no_grad():
        ref.weight.copy_(layer.weight)
        if layer.bias is not None:
            ref.bias.copy_(layer.bias)
        y = ref(x)
    for axis, n in enumerate(x.shape[2:]):
        y = y.narrow(2 + axis, 0, n * layer.scale[axis])
    return y


CONFIGS = [(d, scale, extra) for d in (1, 2, 3) for scale in (1, 2, 3, 4) for extra in (0, 1, scale, scale + 1)
           if not (d == 3 and scale == 4)]


@pytest.mark.parametrize(("d", "scale", "extra"), CONFIGS)
def test_output_is_in_times_scale_and_equals_conv_transpose(d: int, scale: int, extra: int, device: str) -> None:
    kernel = scale + extra  # from K = s (no overlap) to K = 2s + 1 (uneven)
    layer = _layer(3, 2, scale, dims=d, kernel_size=kernel, dtype=torch.float64)
    x = torch.randn(2, 3, *[(5, 4, 3)[i] for i in range(d)], dtype=torch.float64)
    y = forward_on(device, layer, x)  # float64 on any device: no TF32; the reference runs on the CPU
    assert y.shape == (2, 2, *[n * scale for n in x.shape[2:]])
    torch.testing.assert_close(y, _reference(x, layer), rtol=0, atol=1e-12)


def test_per_axis_scale_and_kernel() -> None:
    layer = _layer(2, 3, (2, 3, 1), dims=3, kernel_size=(4, 5, 2), dtype=torch.float64)
    x = torch.randn(1, 2, 3, 4, 5, dtype=torch.float64)
    y = layer(x)
    assert y.shape == (1, 3, 6, 12, 5)
    torch.testing.assert_close(y, _reference(x, layer), rtol=0, atol=1e-12)


def test_default_kernel_is_twice_the_scale_and_overlaps_evenly() -> None:
    layer = TransposedConv(1, 1, 3, dims=1, bias=False)
    assert layer.kernel_size == (6,)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    y = layer(torch.ones(1, 1, 8))[0, 0]
    assert torch.equal(y[3:-3], torch.full_like(y[3:-3], 2.0))  # every interior output sees K / s = 2 taps


def test_default_init_is_conv_transposes() -> None:
    torch.manual_seed(11)
    expected = nn.ConvTranspose2d(4, 6, 4, stride=2)
    torch.manual_seed(11)
    layer = TransposedConv(4, 6, 2)
    assert torch.equal(layer.weight, expected.weight) and torch.equal(layer.bias, expected.bias)


def test_uneven_kernel_warns_and_checkerboards() -> None:
    with pytest.warns(UserWarning, match=r"TransposedConv: kernel_size 3 is not a multiple of the stride 2 .* "
                                         r"checkerboard"):
        layer = TransposedConv(1, 1, 2, kernel_size=3, bias=False)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    interior = layer(torch.ones(1, 1, 8, 8))[0, 0, 2:-2, 2:-2]
    assert set(interior.unique().tolist()) == {1.0, 2.0, 4.0}  # resampling.md: values in {1, 2, 4}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TransposedConv(1, 1, 2)  # the default kernel does not warn
        TransposedConv(1, 1, 3, kernel_size=9)


# ---------------------------------------------------------------------------- bilinear
SCALES = [(d, s) for d in (1, 2, 3) for s in (2, 3, 4, 5)]


def _image(d: int, s: int, seed: int = 0) -> torch.Tensor:
    sizes = {1: (9,), 2: (6, 5), 3: (4, 3, 5)}[d]
    return torch.randn(2, 3, *sizes, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 10 * s + d))


@pytest.mark.parametrize(("d", "s"), SCALES)
def test_bilinear_init_is_linear_interpolation_in_the_interior(d: int, s: int, device: str) -> None:
    x = _image(d, s)
    y = forward_on(device, TransposedConv(3, 3, s, dims=d, init="bilinear", dtype=torch.float64), x)
    expected = resize(x, scale_factor=s, method="linear", convention="torch")
    inner = (slice(None), slice(None)) + (slice(s, -s),) * d
    torch.testing.assert_close(y[inner], expected[inner], rtol=0, atol=1e-12)
    assert (y - expected).abs().max() > 0.05  # ... but not at the border ring (zero padding)


@pytest.mark.parametrize(("d", "s"), SCALES)
@pytest.mark.parametrize("kernel", ["default", "caffe"])
def test_exact_borders_is_linear_interpolation_everywhere(d: int, s: int, kernel: str, device: str) -> None:
    x = _image(d, s, seed=1)
    size = None if kernel == "default" else 2 * s - s % 2
    layer = _layer(3, 3, s, dims=d, init="bilinear", exact_borders=True, kernel_size=size, dtype=torch.float64)
    expected = resize(x, scale_factor=s, method="linear", convention="torch")
    torch.testing.assert_close(forward_on(device, layer, x), expected, rtol=0, atol=1e-12)
    mode = ("linear", "bilinear", "trilinear")[d - 1]
    torch.testing.assert_close(expected, F.interpolate(x, scale_factor=s, mode=mode), rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize(("s", "kernel"), [(2, 7), (3, 10), (5, None), (4, 8)])
def test_exact_borders_tiny_inputs_and_large_kernels(n: int, s: int, kernel: int | None) -> None:
    # larger kernels replicate more than one sample per side; a 1-sample input replicates its only value
    x = torch.randn(1, 2, n, n + 1, dtype=torch.float64)
    layer = _layer(2, 2, s, init="bilinear", exact_borders=True, kernel_size=kernel, dtype=torch.float64)
    torch.testing.assert_close(layer(x).detach(), resize(x, scale_factor=s, method="linear"), rtol=0, atol=1e-12)


def test_exact_borders_per_axis_scales() -> None:
    x = torch.randn(1, 2, 4, 5, 3, dtype=torch.float64)
    layer = TransposedConv(2, 2, (2, 3, 1), dims=3, init="bilinear", exact_borders=True, dtype=torch.float64)
    expected = resize(x, scale_factor=(2, 3, 1), method="linear")
    torch.testing.assert_close(layer(x).detach(), expected, rtol=0, atol=1e-12)


def test_bilinear_weight_is_diagonal() -> None:
    layer = TransposedConv(3, 3, 2, init="bilinear")
    kernel = bilinear_kernel(2, dims=2, dtype=torch.float32)
    for i, j in itertools.product(range(3), range(3)):
        assert torch.equal(layer.weight[i, j], kernel if i == j else torch.zeros_like(kernel))
    assert torch.equal(layer.bias, torch.zeros(3))


# ---------------------------------------------------------------------------- seed 003
SEED_OUT1 = [[1.0000, 1.3333, 1.6667, 2.0000], [1.6667, 2.0000, 2.3333, 2.6667],
             [2.3333, 2.6667, 3.0000, 3.3333], [3.0000, 3.3333, 3.6667, 4.0000]]
SEED_OUT2 = [[0.5625, 0.9375, 1.3125, 1.1250], [1.1250, 1.7500, 2.2500, 1.8750],
             [1.8750, 2.7500, 3.2500, 2.6250], [1.6875, 2.4375, 2.8125, 2.2500]]


def test_seed_003_the_2x2_example() -> None:
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)
    # out1 was printed by the 2017 F.upsample, whose bilinear mode aligned corners.
    old_out1 = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    torch.testing.assert_close(old_out1[0, 0], torch.tensor(SEED_OUT1, dtype=torch.float64), rtol=0, atol=5e-5)
    # out2: conv_transpose2d with make_bilinear_weights(4, 1), stride 2, padding 1 = our layer, zero borders.
    weights = torch.from_numpy(_caffe_filler(4)).view(1, 1, 4, 4)
    seed_out2 = F.conv_transpose2d(x, weights, stride=2, padding=1)
    torch.testing.assert_close(seed_out2[0, 0], torch.tensor(SEED_OUT2, dtype=torch.float64), rtol=0, atol=5e-5)
    layer = TransposedConv(1, 1, 2, init="bilinear", dtype=torch.float64)
    out2 = layer(x).detach()
    torch.testing.assert_close(out2, seed_out2, rtol=0, atol=1e-15)
    # out1's modern equivalent: the same call today (align_corners=False).
    modern = F.interpolate(x, scale_factor=2, mode="bilinear")
    ring = torch.ones(4, 4, dtype=torch.bool)
    ring[1:3, 1:3] = False
    assert torch.equal(out2[0, 0][~ring], modern[0, 0][~ring])  # interior 2x2 agrees ...
    assert bool(((out2 - modern)[0, 0][ring].abs() > 0.1).all())  # ... every border-ring sample differs
    exact = TransposedConv(1, 1, 2, init="bilinear", exact_borders=True, dtype=torch.float64)(x).detach()
    torch.testing.assert_close(exact, modern, rtol=0, atol=1e-15)
    assert exact[0, 0, 0].tolist() == [1.0, 1.25, 1.75, 2.0]


def test_constant_image_corner_without_exact_borders() -> None:
    y = TransposedConv(1, 1, 2, init="bilinear")(torch.ones(1, 1, 5, 5)).detach()
    assert y[0, 0, 0, :3].tolist() == [0.5625, 0.75, 0.75]  # resampling.md
    exact = TransposedConv(1, 1, 2, init="bilinear", exact_borders=True)(torch.ones(1, 1, 5, 5)).detach()
    assert torch.equal(exact, torch.ones(1, 1, 10, 10))


# ------------------------------------------------------------------ dtypes, grads, ONNX
@pytest.mark.parametrize("exact_borders", [False, True])
def test_gradients_and_dtypes(exact_borders: bool) -> None:
    torch.manual_seed(0)
    layer = TransposedConv(3, 4, (2, 3), kernel_size=(4, 6), exact_borders=exact_borders)
    x = torch.randn(2, 3, 5, 4, requires_grad=True)
    layer(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())
    y32 = layer(x).detach()
    y64 = layer.to(torch.float64)(x.detach().double())
    torch.testing.assert_close(y64.float(), y32, rtol=0, atol=1e-5)
    y16 = layer.to(torch.bfloat16)(x.detach().bfloat16())
    assert y16.dtype == torch.bfloat16
    torch.testing.assert_close(y16.float(), y32, rtol=0.05, atol=0.1)


@pytest.mark.parametrize(("d", "scale", "kernel", "exact"), [
    (1, 3, None, True), (2, 2, 3, False), (2, (2, 3), None, True), (3, 2, 5, True), (3, 3, None, False)])
def test_onnx_export(d: int, scale: object, kernel: int | None, exact: bool) -> None:
    ort = pytest.importorskip("onnxruntime")
    layer = _layer(3, 2, scale, dims=d, kernel_size=kernel, exact_borders=exact).eval()
    x = torch.randn(2, 3, *(5, 4, 3)[:d])
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(layer, x, f, opset_version=17, dynamo=False, input_names=["x"])
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], layer(x).detach().numpy(), rtol=0, atol=1e-5)


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("args", "kwargs", "pattern"),
    [
        ((4, 4, 1.5), {}, r"TransposedConv: scale must be an integer >= 1 .* but got 1\.5"),
        ((4, 4, 0), {}, r"TransposedConv: scale must be an integer >= 1"),
        ((4, 4, (2, 2, 2)), {}, r"TransposedConv: scale .* \(one per spatial axis, dims=2\), but got 3 values"),
        ((4, 4, 3), {"kernel_size": 2}, r"TransposedConv: kernel_size must be >= scale .* kernel_size=\(2, 2\) "
                                        r"with scale=\(3, 3\)"),
        ((4, 6, 2), {"init": "bilinear"}, r"init='bilinear' .* out_channels must equal in_channels, but got "
                                          r"in_channels=4, out_channels=6"),
        ((4, 4, 2), {"init": "bilinear", "kernel_size": 3}, r"kernel_size must be at least .* = 4"),
        ((4, 4, 2), {"init": "bilnear"}, r"TransposedConv: init must be one of .* did you mean 'bilinear'"),
        ((4, 4, 2), {"dims": 0}, r"TransposedConv: dims must be 1, 2 or 3"),
        ((0, 4, 2), {}, r"TransposedConv: in_channels must be a positive integer, but got 0"),
    ],
)
def test_bad_construction(args: tuple, kwargs: dict, pattern: str) -> None:
    with pytest.raises(InvalidArgumentError, match=pattern):
        _layer(*args, **kwargs)


def test_bad_inputs() -> None:
    layer = TransposedConv(4, 4, 2, dims=3)
    with pytest.raises(InvalidArgumentError, match=r"TransposedConv\(dims=3\) expects input of shape "
                                                   r"\(N, C, D, H, W\), a 5-D tensor, but got a 4-D tensor"):
        layer(torch.zeros(1, 4, 3, 3))
    with pytest.raises(InvalidArgumentError, match=r"TransposedConv\(in_channels=4\) expects 4 input channels"):
        layer(torch.zeros(1, 3, 3, 3, 3))


def test_functional_rejects_a_kernel_below_the_stride() -> None:
    with pytest.raises(InvalidArgumentError, match=r"kernel_size must be >= the stride"):
        transposed_upsample(torch.zeros(1, 1, 4), torch.zeros(1, 1, 2), None, 3)


def test_extra_repr() -> None:
    assert TransposedConv(4, 6, 2).extra_repr() == ("4, 6, scale=2, dims=2, kernel_size=4, init='default', "
                                                    "exact_borders=False, bias=True")
    assert TransposedConv(2, 2, (2, 3), dims=2, init="bilinear", exact_borders=True, bias=False).extra_repr() == (
        "2, 2, scale=(2, 3), dims=2, kernel_size=(4, 6), init='bilinear', exact_borders=True, bias=False")
