"""Every registered upsampler, built by name: shapes, gradients, dtypes, ONNX; registry errors.

The cases are generated from ``list_upsamplers()`` at collection time, so an entry added
later (by the library or by a plugin imported first) is checked by these tests unchanged.
Guided entries (``guided=True``) are called as ``module(x, guide)`` with a guide of
``in_channels`` channels at the output resolution.
"""

from __future__ import annotations

import copy
import io
import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from upsamplekit.errors import InvalidArgumentError, UpsampleError
from upsamplekit.nn import (
    Interpolate,
    build_upsampler,
    list_upsamplers,
    register_alias,
    register_upsampler,
    unregister_upsampler,
    upsampler_info,
)

torch.set_num_threads(1)

NAMES = list_upsamplers()
IN, OUT = 4, 2  # OUT divides IN: BilinearAdditive reduces channels by summing groups
SIZES = {1: (7,), 2: (5, 6), 3: (4, 3, 5)}
PER_AXIS = {1: (3,), 2: (2, 3), 3: (2, 1, 3)}


def _scales(name: str, d: int) -> list[object]:
    scales: list[object] = [2, 3, PER_AXIS[d]]
    if upsampler_info(name).scales == "any":
        scales.append(1.5)
    return scales


def _cases(extra: bool = True) -> list[tuple[str, int, object]]:
    return [(name, d, scale) for name in NAMES for d in upsampler_info(name).dims
            for scale in (_scales(name, d) if extra else [2, PER_AXIS[d]])]


def _out_sizes(sizes: tuple[int, ...], scale: object) -> list[int]:
    per_axis = scale if isinstance(scale, tuple) else (scale,) * len(sizes)
    return [math.floor(n * s) for n, s in zip(sizes, per_axis)]


def _build(name: str, out: int | None, scale: object, d: int) -> nn.Module:
    """Build, skipping per-axis scales that an entry declines with a library error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return build_upsampler(name, IN, out, scale, dims=d)
    except InvalidArgumentError as error:
        if isinstance(scale, tuple):
            pytest.skip(f"{name} declines per-axis scales: {error}")
        raise


def _inputs(name: str, d: int, scale: object, dtype: torch.dtype = torch.float32, batch: int = 2,
            seed: int = 0) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, IN, *SIZES[d], generator=generator).to(dtype)
    if upsampler_info(name).guided:
        return x, torch.randn(batch, IN, *_out_sizes(SIZES[d], scale), generator=generator).to(dtype)
    return (x,)


# ------------------------------------------------------------------------- every entry
@pytest.mark.parametrize("out", [OUT, None])
@pytest.mark.parametrize(("name", "d", "scale"), _cases())
def test_shape_and_gradients(name: str, d: int, scale: object, out: int | None, device: str) -> None:
    torch.manual_seed(0)
    module = _build(name, out, scale, d).to(device)
    inputs = [t.to(device).requires_grad_() for t in _inputs(name, d, scale)]
    y = module(*inputs)
    assert tuple(y.shape) == (2, OUT if out is not None else IN, *_out_sizes(SIZES[d], scale))
    assert y.dtype == torch.float32 and y.device.type == device and bool(torch.isfinite(y).all())
    (y * torch.randn(y.shape, generator=torch.Generator().manual_seed(1)).to(device)).sum().backward()
    assert inputs[0].grad is not None and inputs[0].grad.abs().sum() > 0, "no gradient reaches the input"
    params = dict(module.named_parameters())
    for pname, p in params.items():
        assert p.grad is not None and bool(torch.isfinite(p.grad).all()), f"no gradient reaches {pname}"
    if params:
        assert any(p.grad.abs().sum() > 0 for p in params.values())  # type: ignore[union-attr]


@pytest.mark.parametrize("name", NAMES)
def test_learned_metadata_matches_the_parameters(name: str) -> None:
    info = upsampler_info(name)
    assert isinstance(info.learned, bool) and info.scales in ("integer", "any") and info.description
    assert set(info.dims) <= {1, 2, 3} and info.dims
    module = _build(name, None, 2, info.dims[0])
    assert info.learned == bool(list(module.parameters())), "learned=True entries have parameters when out == in"


@pytest.mark.parametrize("name", [n for n in NAMES if upsampler_info(n).scales == "integer"])
def test_integer_entries_reject_fractional_scales(name: str) -> None:
    d = upsampler_info(name).dims[0]
    with pytest.raises(UpsampleError, match=r"scale"):
        build_upsampler(name, IN, OUT, 1.5, dims=d)


@pytest.mark.parametrize(("name", "d"), [(n, d) for n in NAMES for d in upsampler_info(n).dims])
def test_float64_and_bfloat16(name: str, d: int, device: str, no_cudnn_tf32: None) -> None:
    """float64 and bfloat16 against float32 on the same device (CUDA: float32 convolutions without TF32)."""
    torch.manual_seed(0)
    module = _build(name, OUT, 2, d).eval().to(device)
    inputs = [t.to(device) for t in _inputs(name, d, 2)]
    with torch.no_grad():
        y32 = module(*inputs)
        y64 = copy.deepcopy(module).to(torch.float64)(*[t.double() for t in inputs])
        y16 = copy.deepcopy(module).to(torch.bfloat16)(*[t.bfloat16() for t in inputs])
    assert y64.dtype == torch.float64 and y16.dtype == torch.bfloat16
    torch.testing.assert_close(y64.float(), y32, rtol=1e-4, atol=1e-5)
    scale = float(y32.abs().max())
    torch.testing.assert_close(y16.float(), y32, rtol=0.05, atol=0.05 * scale)


@pytest.mark.parametrize(("name", "d", "scale"), _cases(extra=False))
def test_onnx_export_runs_in_onnxruntime(name: str, d: int, scale: object) -> None:
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    module = _build(name, OUT, scale, d).eval()
    inputs = _inputs(name, d, scale)
    names = [f"input{i}" for i in range(len(inputs))]
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, inputs, f, opset_version=17, dynamo=False, input_names=names)
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    actual = session.run(None, {n: t.numpy() for n, t in zip(names, inputs)})[0]
    with torch.no_grad():
        expected = module(*inputs).numpy()
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)


# ---------------------------------------------------------------------- names & aliases
def test_the_built_in_names_are_registered() -> None:
    expected = {"interpolate", "transposed", "subpixel", "resizeconv", "nearest", "bilinear", "bicubic", "deconv",
                "pixelshuffle"}
    assert expected <= set(NAMES)
    assert list_upsamplers("bi*") == ["bicubic", "bilinear", "bilinear_additive"]
    assert "deconv" not in list_upsamplers(aliases=False) and "transposed" in list_upsamplers(aliases=False)


@pytest.mark.parametrize(("alias", "target", "options"), [
    ("nearest", "interpolate", {"method": "nearest"}), ("bilinear", "interpolate", {"method": "linear"}),
    ("bicubic", "interpolate", {"method": "cubic"}), ("deconv", "transposed", {}), ("pixelshuffle", "subpixel", {})])
def test_aliases_build_their_target(alias: str, target: str, options: dict) -> None:
    info = upsampler_info(alias)
    assert info.alias_of == target and info.options == options
    x = torch.randn(1, IN, 5, 5)
    torch.manual_seed(3)
    a = build_upsampler(alias, IN, OUT, 2)
    torch.manual_seed(3)
    b = build_upsampler(target, IN, OUT, 2, **options)
    assert type(a) is type(b) and a.extra_repr() == b.extra_repr()
    assert torch.equal(a(x), b(x))


# ------------------------------------------------------------------------------ errors
def test_unknown_name_suggests_the_closest_and_lists_all() -> None:
    with pytest.raises(InvalidArgumentError, match=r"did you mean 'bilinear'\?") as info:
        build_upsampler("bilinaer", IN, OUT, 2)
    assert "'transposed'" in str(info.value) and "'subpixel'" in str(info.value)
    with pytest.raises(ValueError):  # the registry's errors are ValueErrors too
        build_upsampler("no-such-upsampler", IN, OUT, 2)


def test_unsupported_dims() -> None:
    with pytest.raises(InvalidArgumentError, match=r"upsampler 'interpolate' supports dims in \(1, 2, 3\), "
                                                   r"but got dims=4"):
        build_upsampler("interpolate", IN, OUT, 2, dims=4)


def test_alias_option_clash() -> None:
    with pytest.raises(InvalidArgumentError, match=r"upsampler 'bilinear' fixes method='linear'; use 'interpolate' "
                                                   r"to choose it"):
        build_upsampler("bilinear", IN, OUT, 2, method="nearest")


def test_options_reach_the_layer_and_bad_ones_fail_clearly() -> None:
    layer = build_upsampler("transposed", IN, IN, 2, init="bilinear", exact_borders=True)
    assert layer.init == "bilinear" and layer.exact_borders
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'kernal_size'"):
        build_upsampler("subpixel", IN, OUT, 2, kernal_size=3)


def test_a_users_upsampler_is_listed_and_built() -> None:
    @register_upsampler("test-user-repeat", learned=False, dims=(2,), description="nearest by a user")
    def user_repeat(in_channels: int, out_channels: int, scale: object, dims: int = 2, **options: object) -> nn.Module:
        return Interpolate(scale_factor=scale, in_channels=in_channels, out_channels=out_channels, dims=dims,
                           **options)

    try:
        register_alias("test-user-linear", "test-user-repeat", method="linear")
        assert list_upsamplers("test-user-*") == ["test-user-linear", "test-user-repeat"]
        module = build_upsampler("test-user-repeat", IN, OUT, 3)
        assert module(torch.zeros(1, IN, 2, 2)).shape == (1, OUT, 6, 6)
        x = torch.randn(1, IN, 3, 3)
        assert torch.equal(build_upsampler("test-user-linear", IN, None, 2)(x),
                           Interpolate(scale_factor=2, method="linear")(x))
        assert upsampler_info("test-user-repeat").description == "nearest by a user"
        with pytest.raises(InvalidArgumentError, match=r"'test-user-repeat' supports dims in \(2,\), but got dims=3"):
            build_upsampler("test-user-repeat", IN, OUT, 2, dims=3)
        with pytest.raises(InvalidArgumentError, match=r"an upsampler named 'test-user-repeat' is already registered"):
            register_upsampler("test-user-repeat", learned=False)(user_repeat)
    finally:
        for name in ("test-user-linear", "test-user-repeat"):
            if name in list_upsamplers(name):
                unregister_upsampler(name)
    assert "test-user-repeat" not in list_upsamplers()
