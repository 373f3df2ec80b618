"""DySample against a naive float64 loop of the paper's equations (explicit bilinear sampling),
bilinear interpolation at zero offsets, upstream's init and layout, errors and ONNX."""

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

from tests.conftest import forward_on
from tests.layer_helpers import per_axis
from upsamplekit import resize
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.nn import DySample, build_upsampler
from upsamplekit.nn.dysample import _gather_sample, dysample_sample, init_positions

torch.set_num_threads(1)
MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}
SIZES = {1: (6,), 2: (3, 4), 3: (2, 3, 2)}



def _randomise(module: nn.Module, seed: int, std: float = 1.0) -> None:
    """Offsets of a few pixels: positions leave the input and exercise the border clamp."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * std)


def _linear_at(values: np.ndarray, pos: list[float]) -> np.ndarray:
    """Linear interpolation of values (C, *S) at a point (pixel units, centres at integers),
    the point clamped into [0, S - 1] per axis (grid_sample's border padding)."""
    spatial = values.shape[1:]
    result = np.zeros(values.shape[0])
    clamped = [min(max(p, 0.0), s - 1.0) for p, s in zip(pos, spatial)]
    lows = [math.floor(p) for p in clamped]
    for corner in itertools.product((0, 1), repeat=len(spatial)):
        index, weight = [], 1.0
        for p, lo, bit, s in zip(clamped, lows, corner, spatial):
            frac = p - lo
            index.append(min(lo + bit, s - 1))
            weight *= frac if bit else 1.0 - frac
        result += weight * values[(slice(None), *index)]
    return result


def naive_dysample(layer: DySample, x: torch.Tensor) -> np.ndarray:
    """The paper's equations, one output sample at a time, in float64.

    For output location l' = s * l + t (l the source pixel, t the sub-position) and group g,
    the offset along axis a (grid component k = d - 1 - a) is, with the 1x1 convolutions
    written as dot products,
      lp: z = W[k, g, t] . x[:, l] + b[k, g, t]                 (linear, then pixel shuffle)
      pl: z = W[k, g] . x_ps[:, l'] + b[k, g],  x_ps[c, l'] = x[c * prod(s) + t, l]
    and O = 0.25 z (static) or O = 0.5 sigmoid(W_s . same input) z (dynamic). The sampling
    position is S = G + O with G = (l'_a + 0.5) / s_a - 0.5, the point bilinear upsampling
    reads; channels of group g are linearly interpolated there, clamped to the input.
    """
    d, s, groups = layer.dims, layer.scale, layer.groups
    block = math.prod(s)
    xs = x.detach().numpy()
    n_batch, channels, *spatial = xs.shape
    per_group = channels // groups
    w = layer.offset.weight.detach().numpy().reshape(layer.offset.weight.shape[0], -1)
    b = layer.offset.bias.detach().numpy()
    ws = None if layer.scope is None else layer.scope.weight.detach().numpy().reshape(w.shape)
    out_shape = [v * f for v, f in zip(spatial, s)]
    out = np.zeros((n_batch, channels, *out_shape))
    for batch in range(n_batch):
        for lp in itertools.product(*[range(v) for v in out_shape]):
            src = tuple(a // f for a, f in zip(lp, s))
            t = int(np.ravel_multi_index([a % f for a, f in zip(lp, s)], s))
            if layer.style == "lp":
                features = xs[(batch, slice(None), *src)]
            else:
                features = np.array([xs[(batch, c * block + t, *src)] for c in range(channels // block)])
            for g in range(groups):
                pos = [0.0] * d
                for k in range(d):
                    row = (k * groups + g) * block + t if layer.style == "lp" else k * groups + g
                    z = w[row] @ features + b[row]
                    if ws is None:
                        offset = 0.25 * z
                    else:
                        offset = 0.5 / (1.0 + math.exp(-(ws[row] @ features))) * z
                    axis = d - 1 - k
                    pos[axis] = (lp[axis] + 0.5) / s[axis] - 0.5 + offset
                group = slice(g * per_group, (g + 1) * per_group)
                out[(batch, group, *lp)] = _linear_at(xs[batch, group], pos)
    if layer.proj is not None:
        with torch.no_grad():
            out = layer.proj(torch.from_numpy(out)).numpy()
    return out


# ------------------------------------------------------------------------- references
@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("dynamic", [False, True])
@pytest.mark.parametrize("style", ["lp", "pl"])
def test_matches_a_naive_loop_of_the_papers_equations_2d(style: str, dynamic: bool, scale: int, groups: int,
                                                         device: str) -> None:
    channels = math.lcm(groups, scale * scale) if style == "pl" else 2 * groups
    layer = DySample(channels, scale, style=style, dynamic=dynamic, groups=groups, dims=2, dtype=torch.float64)
    _randomise(layer, seed=scale * 10 + groups, std=1.0 if style == "lp" else 2.0)
    x = torch.randn(1, channels, 3, 4, generator=torch.Generator().manual_seed(scale + groups), dtype=torch.float64)
    y = forward_on(device, layer, x).numpy()  # float64 on any device: no TF32
    np.testing.assert_allclose(y, naive_dysample(layer, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("d", "scale", "style", "dynamic", "groups", "out"), [
    (1, 2, "lp", False, 2, None), (1, 3, "pl", True, 1, 4), (1, 4, "lp", True, 4, None),
    (2, (2, 3), "lp", True, 2, None), (2, (3, 1), "pl", False, 1, 3),
    (3, 2, "lp", False, 2, None), (3, (1, 2, 3), "lp", True, 1, None), (3, 2, "pl", True, 2, 5),
])
def test_matches_the_naive_loop_in_1d_3d_andper_axis(d: int, scale: object, style: str, dynamic: bool, groups: int,
                                                      out: int | None, device: str) -> None:
    block = math.prod(per_axis(scale, d))  # type: ignore[arg-type]
    channels = math.lcm(groups, block) if style == "pl" else 2 * groups
    layer = DySample(channels, scale, style=style, dynamic=dynamic, groups=groups, out_channels=out, dims=d,
                     dtype=torch.float64)
    _randomise(layer, seed=d + block)
    x = torch.randn(2, channels, *SIZES[d], generator=torch.Generator().manual_seed(block), dtype=torch.float64)
    y = forward_on(device, layer, x).numpy()
    np.testing.assert_allclose(y, naive_dysample(layer, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dynamic", [False, True])
@pytest.mark.parametrize("style", ["lp", "pl"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_zero_init_is_bilinear_upsampling(scale: int, style: str, dynamic: bool) -> None:
    for groups in (1, 2, 4):
        channels = math.lcm(groups, scale * scale)
        layer = DySample(channels, scale, style=style, dynamic=dynamic, groups=groups, init="zero",
                         dtype=torch.float64)
        x = torch.randn(2, channels, 5, 7, generator=torch.Generator().manual_seed(groups), dtype=torch.float64)
        expected = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
        with torch.no_grad():
            torch.testing.assert_close(layer(x), expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(("d", "scale"), [(1, 2), (1, 3), (1, 4), (2, (2, 3)), (2, (4, 1)), (3, 2), (3, 3),
                                          (3, (1, 2, 3))])
def test_zero_init_is_linear_upsampling_in_every_dims(d: int, scale: object, device: str) -> None:
    layer = DySample(4, scale, groups=2, init="zero", dims=d, dtype=torch.float64)
    x = torch.randn(2, 4, *(5, 4, 3)[:d], generator=torch.Generator().manual_seed(d), dtype=torch.float64)
    y = forward_on(device, layer, x)
    torch.testing.assert_close(y, F.interpolate(x, scale_factor=per_axis(scale, d), mode=MODES[d]),
                               rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(y, resize(x, scale_factor=per_axis(scale, d), method="linear"),
                               rtol=1e-13, atol=1e-13)


def test_gather_sampler_is_grid_sample() -> None:
    """The 3-D ONNX path (gathers) against grid_sample, points inside and outside the input."""
    generator = torch.Generator().manual_seed(0)
    for shape, grid_shape in (((2, 3, 4, 5), (2, 6, 7, 2)), ((2, 3, 3, 4, 5), (2, 4, 6, 7, 3))):
        x = torch.randn(shape, generator=generator, dtype=torch.float64)
        grid = torch.rand(grid_shape, generator=generator, dtype=torch.float64) * 3 - 1.5
        expected = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        torch.testing.assert_close(_gather_sample(x, grid), expected, rtol=1e-12, atol=1e-12)


def test_gradients() -> None:
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(1, 4, 3, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    offset = (torch.rand(1, 2 * 2 * 4, 3, 3, generator=generator, dtype=torch.float64) * 2 - 1).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, o: dysample_sample(a, o, 2, 2), (x, offset))
    layer = DySample(4, 2, dynamic=True, groups=2, dtype=torch.float64)
    _randomise(layer, seed=4, std=0.3)
    assert torch.autograd.gradcheck(layer, (x,))


# ------------------------------------------------------------------ upstream's layout
def test_init_positions_are_upstreams() -> None:
    s, groups = 3, 2
    pos = init_positions((s, s), groups).view(2, groups, s, s)  # (component, group, row i, column j)
    h = (torch.arange(s) - (s - 1) / 2) / s  # upstream: arange((1 - s) / 2, (s - 1) / 2 + 1) / s
    for g in range(groups):
        torch.testing.assert_close(pos[0, g], h.view(1, s).expand(s, s))  # x: varies along the columns
        torch.testing.assert_close(pos[1, g], h.view(s, 1).expand(s, s))  # y: varies along the rows
    assert init_positions((2, 3), 1).view(2, 6)[0].tolist() == pytest.approx([-1 / 3, 0, 1 / 3] * 2)


def test_upstream_initialisation_and_names() -> None:
    torch.manual_seed(0)
    layer = DySample(64, 2, dynamic=True)
    w = layer.offset.weight.detach()
    assert w.shape == (2 * 4 * 4, 64, 1, 1) and abs(float(w.std()) - 0.001) < 0.0001
    assert not layer.offset.bias.any() and layer.scope is not None and layer.scope.bias is None
    assert not layer.scope.weight.any()  # sigmoid(0) = 0.5: the dynamic range starts at 0.25
    assert set(layer.state_dict()) == {"offset.weight", "offset.bias", "scope.weight", "init_pos"}
    assert layer.init_pos.shape == (1, 32, 1, 1)
    pl = DySample(64, 2, style="pl")
    assert pl.offset.weight.shape == (2 * 4, 16, 1, 1)
    # at init the dynamic range equals the static one
    static = DySample(64, 2)
    static.load_state_dict({k: v for k, v in layer.state_dict().items() if k != "scope.weight"})
    x = torch.randn(1, 64, 4, 4)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), static(x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("dynamic", "expected"), [(False, 8224), (True, 16416)])
def test_parameter_count_is_the_papers(dynamic: bool, expected: int) -> None:
    # the paper's 256-channel x2 setting: "8.2K" static, "16.4K" dynamic (lp, groups 4)
    assert sum(p.numel() for p in DySample(256, 2, dynamic=dynamic).parameters()) == expected


def test_x3_with_groups_works() -> None:  # chaiNNer-org/spandrel#293, #296
    for style, channels in (("lp", 64), ("pl", 72)):
        layer = DySample(channels, 3, style=style, groups=4, dynamic=True)
        assert layer(torch.randn(1, channels, 5, 4)).shape == (1, channels, 15, 12)


def test_out_channels_is_a_1x1_convolution_after_sampling() -> None:
    torch.manual_seed(0)
    layer = DySample(8, 2, out_channels=3, dtype=torch.float64)
    plain = DySample(8, 2, dtype=torch.float64)
    plain.load_state_dict({k: v for k, v in layer.state_dict().items() if not k.startswith("proj.")})
    x = torch.randn(2, 8, 4, 5, dtype=torch.float64)
    assert isinstance(layer.proj, nn.Conv2d) and layer.proj.kernel_size == (1, 1)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), layer.proj(plain(x)), rtol=0, atol=0)


def test_bfloat16_positions_are_computed_in_float32() -> None:
    # 1000 samples: bfloat16 spaces representable positions 4 pixels apart there
    layer = DySample(4, 2, groups=1, init="zero", dims=1)
    x = torch.randn(1, 4, 1000)
    with torch.no_grad():
        y16 = layer.to(torch.bfloat16)(x.bfloat16())
    assert y16.dtype == torch.bfloat16
    expected = F.interpolate(x.bfloat16().float(), scale_factor=2, mode="linear")
    torch.testing.assert_close(y16.float(), expected, rtol=0.01, atol=0.02)


def test_repr_and_registry() -> None:
    assert DySample(8, 2).extra_repr() == \
        "8, scale=2, style='lp', dynamic=False, groups=4, out_channels=8, init='default', dims=2"
    layer = build_upsampler("dysample", 12, 8, (2, 3), style="pl", dynamic=True, groups=2)
    assert layer.extra_repr() == \
        "12, scale=(2, 3), style='pl', dynamic=True, groups=2, out_channels=8, init='default', dims=2"
    assert layer(torch.zeros(1, 12, 2, 2)).shape == (1, 8, 4, 6)


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((6, 2), {"groups": 4}, r"DySample: in_channels must be divisible by groups \(each group samples in_channels / "
                            r"groups channels at its own positions\), but got in_channels=6, groups=4; groups=3 "
                            r"divides 6"),
    ((64, 3), {"style": "pl"}, r"DySample\(style='pl'\): in_channels must be divisible by prod\(scale\) = 9 .* but "
                               r"got in_channels=64 with scale=\(3, 3\); use style='lp'"),
    ((8, 2), {"style": "ps"}, r"DySample: style must be one of 'lp', 'pl', but got 'ps'"),
    ((8, 2), {"init": "bilinear"}, r"DySample: init must be one of 'default', 'zero', but got 'bilinear'"),
    ((8, 1.5), {}, r"DySample: scale must be an integer >= 1 .* but got 1\.5"),
    ((8, 2), {"groups": 0}, r"DySample: groups must be a positive integer, but got 0"),
])
def test_bad_arguments(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        DySample(*args, **kwargs)


def test_bad_inputs() -> None:
    with pytest.raises(InvalidArgumentError, match=r"DySample\(in_channels=8\) expects 8 input channels \(dim 1\), "
                                                   r"but got 4"):
        DySample(8, 2)(torch.zeros(1, 4, 3, 3))
    with pytest.raises(InvalidArgumentError, match=r"DySample\(dims=3\) expects input of shape \(N, C, D, H, W\)"):
        DySample(8, 2, dims=3)(torch.zeros(1, 8, 3, 3))
    with pytest.raises(InvalidArgumentError, match=r"dysample_sample: .* offset the shape \(N, 2 \* groups \* "
                                                   r"prod\(scale\), \*spatial\) = \(1, 16, 3, 3\), but got"):
        dysample_sample(torch.zeros(1, 8, 3, 3), torch.zeros(1, 8, 3, 3), 2, 2)
    with pytest.raises(InvalidArgumentError, match=r"and offset of shape \(1, 16, 3, 2\)"):
        dysample_sample(torch.zeros(1, 8, 3, 3), torch.zeros(1, 16, 3, 2), 2, 2)


# --------------------------------------------------------------------------------- ONNX
@pytest.mark.parametrize(("d", "scale", "style", "dynamic", "node"), [
    (2, 3, "pl", True, "GridSample"), (2, (2, 4), "lp", True, "GridSample"), (1, 3, "lp", False, "GridSample"),
    (3, 2, "lp", True, "GatherElements"),
])
def test_onnx_opset17_export_matches_onnxruntime(d: int, scale: object, style: str, dynamic: bool, node: str) -> None:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    layer = DySample(18, scale, style=style, dynamic=dynamic, groups=2, out_channels=5, dims=d).eval()
    _randomise(layer, seed=d, std=0.2)
    x = torch.randn(2, 18, *SIZES[d])
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(layer, (x,), f, opset_version=17, dynamo=False, input_names=["x"])
    model = onnx.load_from_string(f.getvalue())
    assert node in {n.op_type for n in model.graph.node}
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = layer(x).numpy()
    np.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], expected, rtol=1e-5, atol=1e-5)
