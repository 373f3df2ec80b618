"""The folded layer computes what the original computes: generated cases against the real modules.

Each case draws (seeded) an upsampler, per-axis integer scales, a convolution (kernel size,
dilation, padding or 'same'/'valid', padding mode, groups, bias) and a small input with odd
lengths, in 1-D, 2-D and 3-D, and compares the folded layer with the original
``nn.Upsample`` / ``Interpolate`` / ``ResizeConv`` / transposed convolution. Tolerance: the
largest absolute difference over the largest output magnitude, 1e-12 in float64 and 1e-5 in
float32 (the issue's bounds: the fold only reorders sums, so float64 round-off is ~1e-15 and
float32 ~1e-7). Cases whose folded kernel costs more than the original convolution (which
``fold`` leaves alone) are folded anyway with ``costlier=True``: the arithmetic is the same.

The generated cases also run on CUDA where there is a GPU (the ``device`` fixture): the folded
layer is built on the CPU as here (the layer itself, not ``fold()``, which declines untimed rewrites
on CUDA), then it, the original and the input move to the device and are compared there, with the
same bounds: ``no_cudnn_tf32`` keeps float32 convolutions in float32 (TF32 would be ~1e-3).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from upsamplekit.folding.interp import conv_info, fold_conv, upsampling
from upsamplekit.folding.sources import fold_layer
from upsamplekit.folding.transposed import fold_transposed
from upsamplekit.nn import Interpolate, ResizeConv, TransposedConv

torch.set_num_threads(1)
CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
TRANSPOSED = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-5}
MODES = ("zeros", "replicate", "reflect", "circular")


def relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    assert got.shape == want.shape, f"shape {tuple(got.shape)} != {tuple(want.shape)}"
    if want.numel() == 0:  # torch's transposed convolutions may return an empty output
        return 0.0
    return float((got.double() - want.double()).abs().max() / want.double().abs().max().clamp_min(1e-300))


def check(folded: nn.Module, original: nn.Module, x: torch.Tensor, case: str, device: str = "cpu") -> None:
    """Same output on ``device`` (within the dtype's bound), or both reject the input."""
    if device != "cpu":  # copies: a test may reuse its modules
        folded, original, x = copy.deepcopy(folded).to(device), copy.deepcopy(original).to(device), x.to(device)
    with torch.no_grad():
        try:
            want = original(x)
        except RuntimeError:  # torch rejects the shape (reflect padding too large, empty output)
            with pytest.raises(Exception):
                folded(x)
            return
        got = folded(x)
    error = relative_error(got, want)
    assert error <= TOLERANCE[x.dtype], f"{case}: relative error {error:.2e} in {x.dtype}"


def _draw_conv(rng: np.random.Generator, dims: int, dtype: torch.dtype) -> tuple[nn.Module, str]:
    groups = int(rng.choice([1, 1, 2]))
    cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 6, size=dims))
    dilation = tuple(int(d) for d in rng.choice([1, 1, 2], size=dims))
    mode = str(rng.choice(MODES))
    choice = rng.random()
    if choice < 0.15:
        padding: object = "same"
    elif choice < 0.25:
        padding = "valid"
    else:
        padding = tuple(int(rng.integers(0, d * (k - 1) + 2)) for k, d in zip(kernel, dilation))
    bias = bool(rng.random() < 0.7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # padding='same' with an even kernel
        conv = CONV[dims](cin, cout, kernel, padding=padding, dilation=dilation, groups=groups, bias=bias,
                          padding_mode=mode, dtype=dtype)
    return conv, f"conv k={kernel} d={dilation} p={padding} {mode} g={groups} bias={bias}"


def _seed(module: nn.Module, seed: int) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


UPSAMPLERS = ["nearest", "nearest-exact", "linear", "keras-nearest", "tf-linear", "cubic"]


def _draw_upsampler(rng: np.random.Generator, name: str, dims: int) -> tuple[nn.Module, tuple[str, str, dict]]:
    # TF's float32 positions are periodic at scales 2 and 4 only (see test_tf_linear_at_scale_3_is_left_alone)
    scales = [int(s) for s in rng.choice([1, 2, 2, 4] if name == "tf-linear" else [1, 2, 2, 3, 4], size=dims)]
    if all(s == 1 for s in scales):
        scales[int(rng.integers(dims))] = 2
    scale = tuple(scales)
    if name in ("nearest", "nearest-exact"):
        return nn.Upsample(scale_factor=scale, mode=name), (name, "torch", {})
    if name == "linear":
        return nn.Upsample(scale_factor=scale, mode=LINEAR[dims]), ("linear", "torch", {})
    if name == "cubic":  # torch's a = -0.75 with clamped taps, any dims (costs more: folded with costlier)
        return Interpolate(scale_factor=scale, method="cubic", dims=dims), ("cubic", "torch", {})
    convention, method = name.split("-")
    call = (method, "keras" if convention == "keras" else "tf", {})
    return Interpolate(scale_factor=scale, method=method, convention=call[1], dims=dims), call


CASES = [(name, dims, seed) for dims, count in ((1, 20), (2, 16), (3, 6)) for name in UPSAMPLERS
         for seed in range(count)]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize(("name", "dims", "seed"), CASES)
def test_upsample_then_conv(name: str, dims: int, seed: int, device: str, no_cudnn_tf32: None) -> None:
    rng = np.random.default_rng([dims, seed, UPSAMPLERS.index(name)])
    for dtype in (torch.float64, torch.float32):
        if dtype == torch.float64 and name.split("-")[0] in ("keras", "tf"):
            continue  # those conventions return float32 whatever the input: float32 only
        up_module, call = _draw_upsampler(rng, name, dims)
        conv, text = _draw_conv(rng, dims, dtype)
        _seed(conv, seed)
        up = upsampling(call[0], call, tuple(s for s in (up_module.scale_factor if isinstance(up_module, nn.Upsample)
                                                            else up_module.scale_factor)), dims)
        assert not isinstance(up, str), up
        folded = fold_conv(up, conv_info(conv), costlier=True)
        assert not isinstance(folded, str), folded
        original = nn.Sequential(up_module, conv)
        lengths = [int(n) for n in rng.integers(1, 8 if dims < 3 else 5, size=dims)]
        x = torch.randn(int(rng.integers(1, 3)), conv.in_channels, *lengths, dtype=dtype,
                        generator=torch.Generator().manual_seed(seed))
        check(folded, original, x, f"{name} x{up.scales} then {text} on {tuple(x.shape)}", device)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("seed", range(8))
def test_resizeconv(dims: int, seed: int, device: str, no_cudnn_tf32: None) -> None:
    rng = np.random.default_rng([7, dims, seed])
    method = str(rng.choice(["nearest", "linear", "nearest-exact"]))
    scale = tuple(int(s) for s in rng.choice([1, 2, 3], size=dims))
    kernel = tuple(int(k) for k in rng.integers(1, 5, size=dims))
    for dtype in (torch.float64, torch.float32):
        layer = _seed(ResizeConv(2, 3, max(scale) if len(set(scale)) == 1 else scale, method=method,
                                 kernel_size=kernel, dims=dims, dtype=dtype), seed)
        folded = fold_layer(layer)
        if isinstance(folded, str):  # costlier: the reason names the multiply-adds
            assert "multiply-adds" in folded or "does not upsample" in folded
            continue
        x = torch.randn(2, 2, *(int(n) for n in rng.integers(1, 7, size=dims)), dtype=dtype)
        check(folded, layer, x, f"ResizeConv {method} x{scale} k={kernel}", device)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("seed", range(8))
def test_conv_transpose(dims: int, seed: int, device: str, no_cudnn_tf32: None) -> None:
    rng = np.random.default_rng([11, dims, seed])
    stride = tuple(int(s) for s in rng.choice([1, 2, 3], size=dims))
    if all(s == 1 for s in stride):
        stride = (2,) * dims
    kernel = tuple(int(k) for k in rng.integers(1, 6, size=dims))
    dilation = tuple(int(d) for d in rng.choice([1, 1, 2], size=dims))
    padding = tuple(int(rng.integers(0, d * (k - 1) + 1)) for k, d in zip(kernel, dilation))
    output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    groups = int(rng.choice([1, 2]))
    for dtype in (torch.float64, torch.float32):
        layer = _seed(TRANSPOSED[dims](2 * groups, 3 * groups, kernel, stride=stride, padding=padding,
                                       output_padding=output_padding, dilation=dilation, groups=groups,
                                       bias=bool(seed % 2), dtype=dtype), seed)
        folded = fold_transposed(layer)
        assert not isinstance(folded, str), folded
        x = torch.randn(2, 2 * groups, *(int(n) for n in rng.integers(1, 7, size=dims)), dtype=dtype)
        check(folded, layer, x, f"ConvTranspose k={kernel} s={stride} p={padding} op={output_padding} "
                                f"d={dilation} g={groups}", device)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize(("scale", "kernel", "exact_borders"),
                         [(2, None, False), (2, None, True), (3, 5, False), (3, None, True), (4, 6, True),
                          (2, 3, True)])
def test_transposedconv(dims: int, scale: int, kernel: int | None, exact_borders: bool, device: str,
                        no_cudnn_tf32: None) -> None:
    for dtype in (torch.float64, torch.float32):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kernel_size not a multiple of the scale
            layer = _seed(TransposedConv(3, 2, scale, dims=dims, kernel_size=kernel, exact_borders=exact_borders,
                                         dtype=dtype), scale)
        folded = fold_transposed(layer)
        for lengths in ((1,) * dims, (5, 2, 3)[:dims], (4, 7, 1)[:dims]):
            x = torch.randn(2, 3, *lengths, dtype=dtype)
            check(folded, layer, x, f"TransposedConv x{scale} k={kernel} exact_borders={exact_borders}", device)


def test_the_reference_kernels_of_the_notes() -> None:
    """docs: nearest x2 then 3x3 is K_ac = R_a W R_c^T on 2x2 windows; bilinear x2 is P_a W P_c^T on 3x3."""
    conv = _seed(nn.Conv2d(1, 1, 3, padding=1, bias=False, dtype=torch.float64), 0)
    w = conv.weight[0, 0].detach()
    nearest = fold_conv(upsampling("nearest", ("nearest", "torch", {}), 2, 2), conv_info(conv))
    r = [torch.tensor([[1.0, 0, 0], [0, 1, 1]], dtype=torch.float64),
         torch.tensor([[1.0, 1, 0], [0, 0, 1]], dtype=torch.float64)]
    got = nearest.folded_parameters()[0].detach().view(2, 2, 2, 2)
    for a in range(2):
        for c in range(2):
            torch.testing.assert_close(got[a, c], r[a] @ w @ r[c].T, rtol=0, atol=1e-15)
    linear = fold_conv(upsampling("linear", ("linear", "torch", {}), 2, 2), conv_info(conv))
    p = [torch.tensor([[.75, .25, 0], [.25, .75, 0], [0, .75, .25]], dtype=torch.float64),
         torch.tensor([[.25, .75, 0], [0, .75, .25], [0, .25, .75]], dtype=torch.float64)]
    got = linear.folded_parameters()[0].detach().view(2, 2, 3, 3)
    for a in range(2):
        for c in range(2):
            torch.testing.assert_close(got[a, c], p[a].T @ w @ p[c], rtol=0, atol=1e-15)


def test_tf_linear_at_scale_3_is_left_alone() -> None:
    """TensorFlow computes half-pixel positions in float32: at x3 the weights drift along the axis
    (0.333332 instead of 0.333333 at the end of 64 samples), so no fixed kernel is exact."""
    up = upsampling("linear", ("linear", "tf", {}), 3, 2)
    assert isinstance(up, str) and "float32" in up and "no fixed sub-pixel kernel" in up
    assert not isinstance(upsampling("linear", ("linear", "tf", {}), 2, 2), str)


@pytest.mark.parametrize("kind", ["nearest", "bilinear", "nearest x4 3-D", "transposed"])
def test_row_and_image_chunks(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large outputs run a few images, or bands of rows of one image, at a time: force both."""
    import upsamplekit.folding.module as module

    torch.manual_seed(0)
    if kind == "transposed":
        original: nn.Module = nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1, dtype=torch.float64)
        folded = fold_transposed(original)
        shape: tuple[int, ...] = (3, 3, 9, 7)
    elif kind == "nearest x4 3-D":
        original = nn.Sequential(nn.Upsample(scale_factor=(4, 2, 1)), nn.Conv3d(3, 2, 3, padding=1, dtype=torch.float64))
        folded = fold_conv(upsampling("nearest", ("nearest", "torch", {}), (4, 2, 1), 3), conv_info(original[1]))
        shape = (2, 3, 5, 4, 3)
    else:
        original = nn.Sequential(nn.Upsample(scale_factor=2, mode=kind), nn.Conv2d(3, 2, 3, padding=1,
                                                                                 dtype=torch.float64))
        folded = fold_conv(upsampling(kind, (kind, "torch", {}), 2, 2), conv_info(original[1]))
        shape = (3, 3, 9, 7)
    x = torch.randn(shape, dtype=torch.float64)
    for chunk, rows in ((1, 1), (1, 300), (2000, 1), (10**9, 10**9)):
        monkeypatch.setattr(module, "CHUNK_BYTES", chunk)
        monkeypatch.setattr(module, "ROW_BYTES", rows)
        check(folded, original, x, f"{kind} with CHUNK_BYTES={chunk}, ROW_BYTES={rows}")
