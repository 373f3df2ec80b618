"""count_macs and count_params against hand-computed formulas, brute-force counts and torch.

Every registered upsampler is built by name (cases generated from ``list_upsamplers()``) and
its count compared with the formula of its layer type written out here; an entry whose type
has no formula here (a user's) must count at least the MACs of its convolution modules.
Brute force: naive loops that count their own multiply-accumulates while computing the
operator (checked against the real output), running convolutions on all-ones tensors (the
output sums to the number of products), and the non-zeros of an operator's dense matrix.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import upsamplekit
from upsamplekit import count_macs, count_params
from upsamplekit.errors import InvalidTypeError
from upsamplekit.nn import (
    CARAFE,
    FADE,
    DySample,
    Interpolate,
    ResizeConv,
    SubPixelConv,
    TransposedConv,
    build_upsampler,
    list_upsamplers,
    unregister_upsampler,
    upsampler_info,
)

torch.set_num_threads(1)

SIZES = {1: (7,), 2: (5, 6), 3: (3, 4, 5)}
BATCH = 2


# ------------------------------------------------------------------------ hand formulas
def _cubic_taps(n_in: int, scale: int) -> int:
    """Taps of torch's cubic (a = -0.75, half-pixel) along one axis, summed over the outputs:
    4, or 1 where the output lands exactly on an input sample (the other 3 weights are 0)."""
    taps = 0
    for i in range(n_in * scale):
        position = (i + 0.5) / scale - 0.5
        taps += 1 if position == math.floor(position) else 4
    return taps


def _separable(sizes: tuple[int, ...], scale: int, taps: Callable[[int, int], int]) -> int:
    """MACs per channel of resizing each axis in turn (the gather engine): a pass costs its
    axis's taps times the current size of the other axes. Equal scales: order-independent."""
    current, total = list(sizes), 0
    for axis, n in enumerate(sizes):
        others = math.prod(current) // current[axis]
        total += taps(n, scale) * others
        current[axis] = n * scale
    return total


def _interpolation(method: str, dims: int, sizes: tuple[int, ...], scale: int) -> int:
    """MACs per channel of torch-convention interpolation by an integer ``scale``."""
    out = math.prod(sizes) * scale ** dims
    if method == "nearest":
        return 0  # a copy
    if method == "linear":
        return 2 ** dims * out  # aten's linear kernels: 2, 4, 8 neighbours
    if method == "cubic":
        if dims == 2:
            return 16 * out  # aten's upsample_bicubic2d: 4 x 4 neighbours
        return _separable(sizes, scale, _cubic_taps)  # the gather engine, one pass per axis
    raise AssertionError(method)


def _macs_interpolate(m: Interpolate, x: torch.Tensor, scale: int) -> int:
    n, c, *sizes = x.shape
    out = math.prod(sizes) * scale ** m.dims
    macs = n * c * _interpolation(m.method, m.dims, tuple(sizes), scale)
    if m.out_channels != m.in_channels:
        macs += n * c * m.out_channels * out  # the 1x1 projection
    return macs


def _macs_transposed(m: TransposedConv, x: torch.Tensor, scale: int) -> int:
    n, c, *sizes = x.shape
    # Every input sample meets every tap: C_in * C_out * prod(K) per input sample (not per
    # output sample, which overcounts by scale^d). exact_borders (K = 2s) pads one sample per side.
    grid = math.prod(s + 2 for s in sizes) if m.exact_borders else math.prod(sizes)
    return n * c * m.out_channels * math.prod(m.kernel_size) * grid


def _macs_subpixel(m: SubPixelConv, x: torch.Tensor, scale: int) -> int:
    n, c, *sizes = x.shape
    macs = n * c * m.out_channels * scale ** m.dims * math.prod(m.kernel_size) * math.prod(sizes)
    if m.blur:  # a 2-wide average along every upsampled axis, on the output
        macs += n * m.out_channels * math.prod(sizes) * scale ** m.dims * 2 ** m.dims
    return macs


def _macs_resizeconv(m: ResizeConv, x: torch.Tensor, scale: int) -> int:
    n, c, *sizes = x.shape
    out = math.prod(sizes) * scale ** m.dims
    interpolation = n * c * _interpolation(m.method, m.dims, tuple(sizes), scale)
    return interpolation + n * c * m.out_channels * math.prod(m.kernel_size) * out  # conv on the high-res grid


def _macs_carafe(m: CARAFE, x: torch.Tensor, scale: int) -> int:
    n, c, *sizes = x.shape
    d, low = m.dims, math.prod(sizes)
    block, taps = scale ** d, m.k_up ** d
    compressor = c * m.compressed_channels * low  # 1x1 conv
    encoder = m.compressed_channels * taps * block * m.k_enc ** d * low
    reassembly = c * taps * low * block  # C * k_up^d per output element
    proj = c * m.out_channels * low * block if m.out_channels != c else 0
    return n * (compressor + encoder + reassembly + proj)


def _macs_dysample(m: DySample, x: torch.Tensor, scale: int) -> int:
    n, c, *sizes = x.shape
    d, low, g = m.dims, math.prod(sizes), m.groups
    block = scale ** d
    if m.style == "lp":  # 1x1 conv C -> d * g * scale^d at low resolution
        conv = c * d * g * block * low
    else:  # 1x1 conv C / scale^d -> d * g on the pixel-shuffled input (high resolution)
        conv = c // block * d * g * low * block
    offsets = d * g * block * low  # offset values per image
    macs = conv
    if m.dynamic:
        macs += conv + offsets  # the scope conv and sigmoid(scope) * offset (scalings by 0.25/0.5 are free)
    # grid_sample per output element and channel: bilinear 4 (1-D runs as a one-row 2-D sample), trilinear 8
    macs += c * low * block * (8 if d == 3 else 4)
    if m.out_channels != c:
        macs += c * m.out_channels * low * block
    return n * macs


def _macs_fade(m: FADE, x: torch.Tensor, scale: int) -> int:
    n, c, *sizes = x.shape
    d, low = m.dims, math.prod(sizes)
    high, taps, cm = low * scale ** d, m.k_up ** d, m.compressed_channels
    gate = c * low  # 1x1 conv C -> 1 at low resolution (sigmoid and nearest repeat: free)
    compressors = c * cm * low + m.guide_channels * cm * high  # x at low, the guide at high resolution
    encoder = cm * taps * m.k_enc ** d * (low + high)  # the same k_enc conv on both (semi-shift)
    reassembly = c * taps * high  # CARAFE: C * k_up^d per output element
    proj = c * m.out_channels * high if m.out_channels != c else 0
    guide_proj = m.guide_channels * m.out_channels * high if m.out_channels != m.guide_channels else 0
    blend = 2 * m.out_channels * high  # g * guide and (1 - g) * y (1 - g: a scalar subtraction, free)
    return n * (gate + compressors + encoder + reassembly + proj + guide_proj + blend)


FORMULAS: dict[type, Callable[..., int]] = {
    Interpolate: _macs_interpolate,
    TransposedConv: _macs_transposed,
    SubPixelConv: _macs_subpixel,
    ResizeConv: _macs_resizeconv,
    CARAFE: _macs_carafe,
    DySample: _macs_dysample,
    FADE: _macs_fade,
}


def _conv_module_macs(module: nn.Module, *inputs: torch.Tensor) -> int:
    """MACs of the nn.ConvNd / nn.ConvTransposeNd modules a forward pass runs, by hand from their shapes."""
    total = 0

    def hook(conv: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        assert isinstance(conv, nn.modules.conv._ConvNd)
        x = args[0]
        per_sample = conv.in_channels * conv.out_channels // conv.groups * math.prod(conv.kernel_size)
        grid = x.shape[2:] if conv.transposed else out.shape[2:]
        total += x.shape[0] * per_sample * math.prod(grid)

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, nn.modules.conv._ConvNd)]
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total


def _inputs(name: str, channels: int, dims: int, scale: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(dims * 10 + scale)
    x = torch.randn(BATCH, channels, *SIZES[dims], generator=gen)
    if upsampler_info(name).guided:
        guide = torch.randn(BATCH, channels, *[s * scale for s in SIZES[dims]], generator=gen)
        return [x, guide]
    return [x]


def check_counts(name: str, dims: int, scale: int, in_channels: int, out_channels: int) -> None:
    """The registered ``name``'s count equals its layer type's formula, or, for a type
    without one, is at least the MACs of its convolution modules."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = build_upsampler(name, in_channels, out_channels, scale, dims=dims)
    inputs = _inputs(name, in_channels, dims, scale)
    counted = count_macs(module, *inputs)
    formula = FORMULAS.get(type(module))
    if formula is None:
        assert counted >= _conv_module_macs(module, *inputs)
    else:
        assert counted == formula(module, inputs[0], scale), (name, dims, scale)


CASES = [(name, d) for name in list_upsamplers() for d in upsampler_info(name).dims]


# ------------------------------------------------------------------------ every registered upsampler
@pytest.mark.parametrize("name,dims", CASES)
@pytest.mark.parametrize("scale,in_channels,out_channels", [(2, 8, 8), (3, 8, 4)])
def test_registered_upsampler_count_equals_formula(name: str, dims: int, scale: int, in_channels: int,
                                                   out_channels: int) -> None:
    check_counts(name, dims, scale, in_channels, out_channels)


@pytest.mark.parametrize("name,dims", CASES)
def test_count_is_the_same_on_the_meta_device(name: str, dims: int) -> None:
    """Counting uses shapes only: a meta module and meta input give the CPU count, computing nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu = build_upsampler(name, 8, 8, 2, dims=dims)
        meta = build_upsampler(name, 8, 8, 2, dims=dims, **({"device": "meta"} if upsampler_info(name).learned
                                                              else {}))
    inputs = _inputs(name, 8, dims, 2)
    assert count_macs(meta, *[t.to("meta") for t in inputs]) == count_macs(cpu, *inputs)


@pytest.mark.parametrize("options", [
    {"style": "lp", "dynamic": True}, {"style": "pl"}, {"style": "pl", "dynamic": True}, {"groups": 2},
])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_dysample_variants(options: dict[str, object], dims: int) -> None:
    m = DySample(8, 2, dims=dims, **options)
    x = torch.randn(1, 8, *SIZES[dims])
    assert count_macs(m, x) == _macs_dysample(m, x, 2)


@pytest.mark.parametrize("options", [{"k_up": 3}, {"k_up": 3, "k_enc": 1, "compressed_channels": 5},
                                     {"out_channels": 3}])
@pytest.mark.parametrize("dims,scale", [(1, 4), (2, 2), (2, 3), (3, 2)])
def test_carafe_variants(options: dict[str, int], dims: int, scale: int) -> None:
    m = CARAFE(6, scale, dims=dims, **options)
    x = torch.randn(1, 6, *SIZES[dims])
    assert count_macs(m, x) == _macs_carafe(m, x, scale)


@pytest.mark.parametrize("options", [{}, {"k_up": 3, "k_enc": 1, "compressed_channels": 5}, {"guide_channels": 3},
                                     {"guide_channels": 3, "out_channels": 3}, {"out_channels": 4}])
@pytest.mark.parametrize("dims,scale", [(1, 4), (2, 2), (2, 3), (3, 2)])
def test_fade_variants(options: dict[str, int], dims: int, scale: int) -> None:
    """A guided layer: count_macs(layer, x, guide) counts both inputs' branches."""
    kwargs = dict(options)
    m = FADE(6, kwargs.pop("out_channels", 6), scale, dims=dims, **kwargs)
    x = torch.randn(1, 6, *SIZES[dims])
    guide = torch.randn(1, m.guide_channels, *[n * scale for n in SIZES[dims]])
    assert count_macs(m, x, guide) == _macs_fade(m, x, scale)


@pytest.mark.parametrize("module,scale", [
    (TransposedConv(4, 4, 2, init="bilinear", exact_borders=True), 2),
    (TransposedConv(4, 4, 3, exact_borders=True), 3),
    (SubPixelConv(4, 2, 2, blur=True), 2),
    (SubPixelConv(4, 2, 3, kernel_size=1), 3),
    (ResizeConv(4, 3, 2, method="linear"), 2),
    (ResizeConv(4, 3, 2, method="cubic", kernel_size=5), 2),
    (Interpolate(scale_factor=2, method="cubic", in_channels=4, out_channels=2), 2),
])
def test_layer_options(module: nn.Module, scale: int) -> None:
    x = torch.randn(2, 4, 5, 6)
    assert count_macs(module, x) == FORMULAS[type(module)](module, x, scale)


def test_the_issue_example_transposed_conv_8_to_4_k4_s2_on_16x16() -> None:
    x = torch.randn(1, 8, 16, 16)
    assert count_macs(TransposedConv(8, 4, 2), x) == 8 * 4 * 16 * 16 * 16 == 131072
    assert count_macs(nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1), x) == 131072
    # Counting on the output grid (torchinfo's way) gives 4x as much: 8*4*4*4*32*32.
    assert 8 * 4 * 4 * 4 * 32 * 32 == 4 * 131072


def test_unknown_upsampler_counts_at_least_its_convolutions() -> None:
    """A user's entry has no formula here: the parametrized check falls back to a lower bound."""

    @upsamplekit.nn.register_upsampler("test-costs-user", learned=True, dims=(2,))
    def _user(in_channels: int, out_channels: int, scale: int, dims: int = 2) -> nn.Module:
        return nn.Sequential(nn.Upsample(scale_factor=scale, mode="bilinear"),
                             nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU())

    try:
        check_counts("test-costs-user", 2, 2, 8, 4)
        m = build_upsampler("test-costs-user", 8, 4, 2)
        x = torch.randn(1, 8, 5, 6)
        conv = _conv_module_macs(m, x)
        assert conv == 8 * 4 * 9 * 10 * 12
        assert count_macs(m, x) == conv + 8 * 10 * 12 * 4  # + the bilinear upsampling
    finally:
        if "test-costs-user" in list_upsamplers("test-costs-user"):
            unregister_upsampler("test-costs-user")


def test_reference_table_params_and_gflops() -> None:
    """The x2, 256 x 120 x 120 setting of the DySample paper (shared/reference/upsamplers.md),
    counted on the meta device: params and GFLOPs (= 2 x MACs) as the reference lists them."""
    x = torch.empty(1, 256, 120, 120, device="meta")
    expected = {  # name, options: (params, GFLOPs to 2 decimals)
        ("transposed", "kernel_size=3"): (590_080, 16.99),
        ("transposed", ""): (1_048_832, 30.20),
        ("resizeconv", ""): (590_080, 67.95),
        ("carafe", ""): (74_148, 2.87),
        ("dysample", ""): (8_224, 0.35),
        ("dysample", "dynamic=True"): (16_416, 0.59),
    }
    for (name, option), (params, gflops) in expected.items():
        options = dict(item.split("=") for item in option.split(",")) if option else {}
        kwargs = {k: (int(v) if v.isdigit() else v == "True") for k, v in options.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = build_upsampler(name, 256, 256, 2, device="meta", **kwargs)
        assert count_params(m) == params, name
        assert round(2 * count_macs(m, x) / 1e9, 2) == gflops, name


# ------------------------------------------------------------------------ brute force
def test_transposed_conv_count_is_the_number_of_products() -> None:
    """All-ones input and weight, no crop: the output sums to the number of products computed."""
    for dims, groups in [(1, 1), (2, 1), (2, 2), (3, 1)]:
        conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[dims]
        x = torch.ones(2, 4, *SIZES[dims], dtype=torch.float64)
        w = torch.ones(4, 6 // groups, *[3] * dims, dtype=torch.float64)
        products = int(conv(x, w, stride=2, groups=groups).sum())
        assert products == 2 * 4 * 6 // groups * 3 ** dims * math.prod(SIZES[dims])
        assert count_macs(lambda t: conv(t, w, stride=2, groups=groups), x) == products


def test_convolution_count_is_the_number_of_products() -> None:
    for dims, groups, dilation in [(1, 1, 1), (2, 2, 1), (2, 1, 2), (3, 1, 1)]:
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]
        x = torch.ones(2, 4, *[7] * dims, dtype=torch.float64)
        w = torch.ones(6, 4 // groups, *[3] * dims, dtype=torch.float64)
        products = int(conv(x, w, groups=groups, dilation=dilation).sum())  # no padding: no zero taps
        assert count_macs(lambda t: conv(t, w, groups=groups, dilation=dilation), x) == products


def _counting_bilinear(x: torch.Tensor, out_h: int, out_w: int) -> tuple[torch.Tensor, int]:
    """torch's bilinear (align_corners=False) as a loop that counts its multiply-accumulates."""
    n, c, h, w = x.shape
    y = torch.zeros(n, c, out_h, out_w, dtype=x.dtype)
    macs = 0

    def source(i: int, n_in: int, n_out: int) -> tuple[int, int, float]:
        pos = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
        lo = min(int(pos), n_in - 1)
        return lo, min(lo + 1, n_in - 1), pos - lo

    for i in range(out_h):
        y0, y1, fy = source(i, h, out_h)
        for j in range(out_w):
            x0, x1, fx = source(j, w, out_w)
            for yy, wy in ((y0, 1 - fy), (y1, fy)):
                for xx, wx in ((x0, 1 - fx), (x1, fx)):
                    y[:, :, i, j] += wy * wx * x[:, :, yy, xx]
                    macs += n * c
    return y, macs


def test_bilinear_count_matches_a_counting_loop() -> None:
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    y, macs = _counting_bilinear(x, 8, 10)
    torch.testing.assert_close(y, F.interpolate(x, size=(8, 10), mode="bilinear"), rtol=0, atol=1e-12)
    assert count_macs(Interpolate(scale_factor=2, method="linear"), x) == macs == 2 * 3 * 8 * 10 * 4


def _counting_carafe(x: torch.Tensor, masks: torch.Tensor, k_up: int, scale: int) -> tuple[torch.Tensor, int]:
    """CARAFE's reassembly from the paper's equation, zero outside, counting its MACs."""
    n, c, h, w = x.shape
    r = (k_up - 1) // 2
    y = torch.zeros(n, c, h * scale, w * scale, dtype=x.dtype)
    macs = 0
    for i in range(h * scale):
        for j in range(w * scale):
            for a in range(k_up):
                for b in range(k_up):
                    yy, xx = i // scale + a - r, j // scale + b - r
                    value = x[:, :, yy, xx] if 0 <= yy < h and 0 <= xx < w else torch.zeros(n, c, dtype=x.dtype)
                    y[:, :, i, j] += masks[:, a * k_up + b, i, j, None] * value
                    macs += n * c  # the padded taps are multiplied too (by zeros), as the layer does
    return y, macs


def test_carafe_reassembly_count_matches_a_counting_loop() -> None:
    torch.manual_seed(0)
    m = CARAFE(3, 2, k_up=3, compressed_channels=4, dtype=torch.float64)
    with torch.no_grad():
        m.content_encoder.weight.normal_()
    x = torch.randn(1, 3, 4, 5, dtype=torch.float64)
    encoded = m.content_encoder(m.channel_compressor(x))
    masks = F.softmax(F.pixel_shuffle(encoded, 2), dim=1)
    y, macs = _counting_carafe(x, masks, 3, 2)
    torch.testing.assert_close(m(x), y, rtol=0, atol=1e-12)
    convs = _conv_module_macs(m, x)
    assert count_macs(m, x) == convs + macs
    assert count_macs(m, x, by_op=True) == {"convolution": convs, "softmax": 0, "mul": 3 * 8 * 10,
                                            "addcmul": 8 * 3 * 8 * 10}


def _counting_grid_sample(x: torch.Tensor, grid: torch.Tensor) -> tuple[torch.Tensor, int]:
    """grid_sample (bilinear, border, align_corners=False) as a loop that counts its MACs."""
    n, c, h, w = x.shape
    _, oh, ow, _ = grid.shape
    y = torch.zeros(n, c, oh, ow, dtype=x.dtype)
    macs = 0
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                px = min(max(((float(grid[b, i, j, 0]) + 1) * w - 1) / 2, 0.0), w - 1.0)
                py = min(max(((float(grid[b, i, j, 1]) + 1) * h - 1) / 2, 0.0), h - 1.0)
                x0, y0 = math.floor(px), math.floor(py)
                for yy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
                    for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
                        if 0 <= yy < h and 0 <= xx < w:
                            y[b, :, i, j] += wy * wx * x[b, :, yy, xx]
                        macs += c  # all 4 corners are weighed (a corner outside has weight 0)
    return y, macs


def test_grid_sample_count_matches_a_counting_loop() -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64, generator=gen)
    grid = torch.rand(2, 6, 7, 2, dtype=torch.float64, generator=gen) * 2.4 - 1.2
    y, macs = _counting_grid_sample(x, grid)
    sample = lambda t: F.grid_sample(t, grid, mode="bilinear", padding_mode="border", align_corners=False)  # noqa: E731
    torch.testing.assert_close(sample(x), y, rtol=0, atol=1e-12)
    assert count_macs(sample, x) == macs == 2 * 3 * 6 * 7 * 4
    nearest = lambda t: F.grid_sample(t, grid, mode="nearest", align_corners=False)  # noqa: E731
    assert count_macs(nearest, x, by_op=True) == {"grid_sampler_2d": 0}
    bicubic = lambda t: F.grid_sample(t, grid, mode="bicubic", align_corners=False)  # noqa: E731
    assert count_macs(bicubic, x) == 2 * 3 * 6 * 7 * 16
    assert count_macs(lambda t: F.grid_sample(t, torch.zeros(2, 3, 4, 5, 3, dtype=torch.float64),
                                              align_corners=False), torch.randn(2, 3, 4, 5, 6, dtype=torch.float64)) \
        == 2 * 3 * 3 * 4 * 5 * 8


def _operator_nnz(op: Callable[[torch.Tensor], torch.Tensor], sizes: tuple[int, ...]) -> int:
    """Non-zeros of the dense matrix of a linear per-channel operator, built from basis images."""
    basis = torch.eye(math.prod(sizes), dtype=torch.float64).view(-1, 1, *sizes)
    return int(np.count_nonzero(op(basis).reshape(basis.shape[0], -1).numpy()))


def _aa_axis_nnz(mode: str, n: int, m: int) -> int:
    """Non-zeros of torch's antialiased (m x n) matrix along one axis."""
    return _operator_nnz(lambda t: F.interpolate(t, size=(1, m), mode=mode, antialias=True), (1, n))


@pytest.mark.parametrize("size", [(3, 4), (10, 12), (3, 5), (7, 12)])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_count_is_two_passes_of_the_widened_filter(size: tuple[int, int], mode: str) -> None:
    """Sizes where no tap of aten's windows weighs exactly 0: each pass's non-zeros. aten resizes
    the width first (7 rows of the new width), then the height (on the new width)."""
    x = torch.randn(2, 3, 7, 8, dtype=torch.float64)
    op = lambda t: F.interpolate(t, size=size, mode=mode, antialias=True)  # noqa: E731
    width = 7 * _aa_axis_nnz(mode, 8, size[1])
    height = size[1] * _aa_axis_nnz(mode, 7, size[0]) if size[0] != 7 else 0  # an unchanged axis is skipped
    assert count_macs(op, x) == 2 * 3 * (width + height)


def test_antialias_counts_the_window_aten_multiplies_not_only_nonzero_weights() -> None:
    """7 -> 11 bilinear: output i is centred at (i + 0.5) * 7 / 11 with a support of 1 sample;
    aten's window [trunc(c - 0.5), trunc(c + 1.5)) clipped to [0, 7) holds 1 sample at each end
    and 2 elsewhere. At output 5 (c = 3.5) it holds samples 3 and 4, and 4 weighs exactly 0."""
    x = torch.randn(1, 1, 7, 5, dtype=torch.float64)
    op = lambda t: F.interpolate(t, size=(11, 5), mode="bilinear", antialias=True)  # noqa: E731
    assert count_macs(op, x) == (1 + 9 * 2 + 1) * 5  # the height pass only: the width is unchanged
    assert _aa_axis_nnz("bilinear", 7, 11) == 1 + 9 * 2 + 1 - 1


@pytest.mark.parametrize("size", [(3, 4), (5, 8), (4, 3, 2)])
def test_adaptive_average_pooling_count_is_its_windows(size: tuple[int, ...]) -> None:
    sizes = (7, 8) if len(size) == 2 else (5, 6, 7)
    x = torch.randn(2, 3, *sizes, dtype=torch.float64)
    op = lambda t: F.interpolate(t, size=size, mode="area")  # noqa: E731
    assert count_macs(op, x) == 2 * 3 * _operator_nnz(op, sizes)


@pytest.mark.parametrize("method,convention,size", [("lanczos3", "pillow", (11, 9)), ("area", "tf", (2, 2)),
                                                    ("gaussian", "tf", (11, 9)), ("lanczos3", "pillow", (4, 13))])
def test_gather_engine_counts_the_nonzero_taps_of_each_pass(method: str, convention: str,
                                                            size: tuple[int, int]) -> None:
    """Tables of more than 2 taps run as embedding_bag, one pass per axis: each pass costs the
    non-zeros of its axis's (out x in) matrix times the current length of the other axis.
    (Conventions whose border replicates the edge tap hold repeated indices that a dense matrix
    merges, so these are renormalising ones.)"""
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    resize = lambda t: upsamplekit.resize(t, size=size, method=method, convention=convention)  # noqa: E731

    def along(axis: int) -> int:  # nnz of one axis's matrix, from basis vectors
        n = x.shape[2 + axis]
        basis = torch.eye(n, dtype=torch.float64).view(n, 1, *((n, 1) if axis == 0 else (1, n)))
        target = (size[0], 1) if axis == 0 else (1, size[1])
        matrix = upsamplekit.resize(basis, size=target, method=method, convention=convention)
        return int(np.count_nonzero(matrix.numpy()))

    # Passes in either order (the engine picks one): H first (then H' x W), or W first (then H x W').
    h_first = along(0) * 6 + along(1) * size[0]
    w_first = along(1) * 5 + along(0) * size[1]
    ops = count_macs(resize, x, by_op=True)
    assert set(ops) == {"embedding_bag"}
    assert ops["embedding_bag"] in (2 * 3 * h_first, 2 * 3 * w_first)


def test_gather_engine_loop_counts_every_tap_slot() -> None:
    """An axis of 2-tap tables with few elements inside it runs as a loop of index_select and
    multiply-add over tap slots: every output pays 2 slots, also at the borders, where pillow's
    linear table has 1 non-zero tap and the other slot weighs 0."""
    x = torch.randn(2, 3, 7, dtype=torch.float64)
    resize = lambda t: upsamplekit.resize(t, size=16, method="linear", convention="pillow")  # noqa: E731
    assert count_macs(resize, x, by_op=True) == {"index_select": 0, "mul": 2 * 3 * 16, "addcmul": 2 * 3 * 16}
    matrix = upsamplekit.resize(torch.eye(7, dtype=torch.float64).view(7, 1, 7), size=16, method="linear",
                                convention="pillow")
    assert np.count_nonzero(matrix.numpy()) == 2 * 16 - 2


def test_cubic_engine_skips_taps_of_weight_zero() -> None:
    """1-D cubic runs on the gather engine: outputs on an input sample cost 1 tap, others 4."""
    x = torch.randn(1, 2, 7)
    assert count_macs(Interpolate(scale_factor=3, method="cubic", dims=1), x) == 2 * (4 + 1 + 4) * 7
    assert _cubic_taps(7, 3) == (4 + 1 + 4) * 7


# ------------------------------------------------------------------------ agreement with torch
@pytest.mark.parametrize("layer", [
    nn.Conv1d(4, 6, 3, padding=1),
    nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),
    nn.Conv3d(4, 6, (1, 3, 3), dilation=(1, 2, 1)),
    nn.ConvTranspose1d(4, 6, 4, stride=2, padding=1),
    nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
    nn.ConvTranspose3d(4, 6, 2, stride=2),
    nn.Linear(8, 5),
])
def test_agrees_with_torch_where_torch_counts(layer: nn.Module) -> None:
    """torch counts convolutions and matmuls (and counts transposed convs on the input grid)."""
    x = torch.randn(2, 4, 6, 7, 8)[:, :, 0, 0] if isinstance(layer, (nn.Conv1d, nn.ConvTranspose1d)) else \
        torch.randn(2, 4, 6, 7) if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) else \
        torch.randn(2, 4, 6, 7, 8) if not isinstance(layer, nn.Linear) else torch.randn(3, 2, 8)
    with FlopCounterMode(display=False) as torch_counter:
        out = layer(x)
    assert count_macs(layer, x) == torch_counter.get_total_flops() // 2
    if isinstance(layer, nn.modules.conv._ConvNd):
        assert count_macs(layer, x) == _conv_module_macs(layer, x)
    else:
        assert count_macs(layer, x) == out.numel() * 8


def test_torch_counts_upsampling_as_zero_and_we_do_not() -> None:
    x = torch.randn(1, 3, 8, 8)
    for mode, taps in [("bilinear", 4), ("bicubic", 16)]:
        up = nn.Upsample(scale_factor=2, mode=mode)
        with FlopCounterMode(display=False) as torch_counter:
            up(x)
        assert torch_counter.get_total_flops() == 0
        assert count_macs(up, x) == 3 * 16 * 16 * taps
    assert count_macs(nn.Upsample(scale_factor=2, mode="trilinear"), torch.randn(1, 3, 2, 3, 4)) == 3 * 4 * 6 * 8 * 8
    assert count_macs(nn.Upsample(scale_factor=2, mode="linear"), torch.randn(1, 3, 5)) == 3 * 10 * 2
    for mode in ("nearest", "nearest-exact"):
        assert count_macs(nn.Upsample(scale_factor=2, mode=mode), x) == 0
    assert count_macs(nn.PixelShuffle(2), torch.randn(1, 8, 3, 3), by_op=True) == {"pixel_shuffle": 0}


# ------------------------------------------------------------------------ API
def test_by_op_sums_to_the_total_and_names_the_ops() -> None:
    m = ResizeConv(4, 3, 2, method="linear")
    x = torch.randn(1, 4, 5, 6)
    ops = count_macs(m, x, by_op=True)
    assert ops == {"upsample_bilinear2d": 4 * 10 * 12 * 4, "convolution": 4 * 3 * 9 * 10 * 12}
    assert sum(ops.values()) == count_macs(m, x)


def test_products_of_two_tensors_count_and_scalings_by_numbers_do_not() -> None:
    x, w = torch.randn(2, 3, 4), torch.randn(1, 3, 4)
    assert count_macs(lambda a: a * w, x, by_op=True) == {"mul": 24}
    assert count_macs(lambda a: (a / w).addcmul(a, w), x) == 48
    assert count_macs(lambda a: a * 0.25 + a / 4 - 1.0, x) == 0
    assert count_macs(lambda a: a * torch.tensor(2.0), x) == 24  # a tensor factor: a product
    assert count_macs(lambda a: (a.long() * a.long()).float(), x) == 0  # index arithmetic
    assert count_macs(lambda a: torch.sigmoid(a).softmax(-1) + a, x, by_op=True) == {"softmax": 0}


def test_forward_only_no_gradients_and_kwargs_reach_the_module() -> None:
    m = SubPixelConv(4, 2, 2)
    x = torch.randn(1, 4, 5, 5, requires_grad=True)
    count_macs(m, x)
    assert x.grad is None and all(p.grad is None for p in m.parameters())

    class Scaled(nn.Module):
        def forward(self, a: torch.Tensor, *, times: int = 1) -> torch.Tensor:
            for _ in range(times):
                a = F.interpolate(a, scale_factor=2, mode="bilinear")
            return a

    assert count_macs(Scaled(), torch.randn(1, 1, 2, 2), times=2) == 4 * 16 + 4 * 64


def test_count_params() -> None:
    m = CARAFE(16, 2, compressed_channels=8)
    assert count_params(m) == (16 * 8 + 8) + (8 * 25 * 4 * 9 + 25 * 4)
    m.channel_compressor.requires_grad_(False)
    assert count_params(m, trainable_only=True) == 8 * 25 * 4 * 9 + 25 * 4
    shared = nn.Conv2d(3, 3, 1)
    assert count_params(nn.Sequential(shared, shared)) == 12  # shared parameters once
    assert count_params(DySample(8, 2, groups=2)) == 8 * 2 * 2 * 4 + 2 * 2 * 4  # init_pos is a buffer
    assert count_params(Interpolate(scale_factor=2)) == 0


def test_errors() -> None:
    with pytest.raises(InvalidTypeError, match="count_macs: module must be"):
        count_macs(3, torch.randn(1))  # type: ignore[call-overload]
    with pytest.raises(InvalidTypeError, match="count_params: module must be an nn.Module"):
        count_params(lambda t: t)  # type: ignore[arg-type]


def test_exported_from_the_package() -> None:
    assert upsamplekit.count_macs is count_macs and upsamplekit.count_params is count_params
    assert {"count_macs", "count_params"} <= set(upsamplekit.__all__)
