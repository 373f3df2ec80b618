"""Issue 16 for the layers and the registry: strict arguments, the allocation guard, inputs of the
wrong dtype or device, empty inputs, and every registered layer under torch.compile and jit.trace.

References: torch itself (the layer built with valid arguments, ``torch.compile``/``jit.trace``
against eager, the parameters a built layer really allocates), and a float64 Python formula
for DySample's initial positions.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

import upsamplekit.resample.api as resample_api
from upsamplekit.costs import count_macs, count_params
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError, UpsampleError
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
    register_alias,
    register_upsampler,
    unregister_upsampler,
    upsampler_info,
)
from upsamplekit.nn.dysample import init_positions

from tests.upsampler_calls import call_upsampler, upsampler_inputs

torch.set_num_threads(1)

NAMES = list_upsamplers()

# Every boolean flag of every layer constructor: (label, build with the flag set to the value).
FLAGS: dict[str, Callable[[object], object]] = {
    "SubPixelConv.bias": lambda v: SubPixelConv(2, 2, 2, bias=v),
    "SubPixelConv.blur": lambda v: SubPixelConv(2, 2, 2, blur=v),
    "TransposedConv.bias": lambda v: TransposedConv(2, 2, 2, bias=v),
    "TransposedConv.exact_borders": lambda v: TransposedConv(2, 2, 2, exact_borders=v),
    "ResizeConv.bias": lambda v: ResizeConv(2, 2, 2, bias=v),
    "DySample.dynamic": lambda v: DySample(4, 2, dynamic=v),
    "build_upsampler(subpixel).blur": lambda v: build_upsampler("subpixel", 2, 2, 2, blur=v),
    "build_upsampler(deconv).exact_borders": lambda v: build_upsampler("deconv", 2, 2, 2, exact_borders=v),
    "count_macs.by_op": lambda v: count_macs(nn.Conv1d(1, 1, 1), torch.zeros(1, 1, 2), by_op=v),
    "count_params.trainable_only": lambda v: count_params(nn.Conv1d(1, 1, 1), trainable_only=v),
    "list_upsamplers.aliases": lambda v: list_upsamplers(aliases=v),
    "register_upsampler.learned": lambda v: register_upsampler("test-hardening", learned=v),
    "register_upsampler.guided": lambda v: register_upsampler("test-hardening", learned=True, guided=v),
}
NOT_BOOLS = ["False", "yes", 0, 1, None, 2.0, np.bool_(True), torch.tensor(True)]


@pytest.mark.parametrize("flag", list(FLAGS))
@pytest.mark.parametrize("value", NOT_BOOLS, ids=repr)
def test_flags_must_be_booleans(flag: str, value: object) -> None:
    name = flag.split(".")[-1]
    with pytest.raises(InvalidTypeError, match=rf"{name} must be True or False, but got {re.escape(repr(value))}"):
        FLAGS[flag](value)


def test_boolean_flags_still_do_what_they_say() -> None:
    """Against torch: bias=False leaves the layer without a bias, as nn.Conv2d(bias=False) does."""
    assert SubPixelConv(2, 3, 2, bias=False).bias is None and SubPixelConv(2, 3, 2, bias=True).bias is not None
    assert count_params(TransposedConv(2, 3, 2, bias=False)) == count_params(nn.ConvTranspose2d(2, 3, 4, bias=False))
    assert DySample(4, 2, dynamic=True).scope is not None and DySample(4, 2, dynamic=False).scope is None
    assert count_macs(nn.Conv1d(1, 1, 1), torch.zeros(1, 1, 2), by_op=True) == {"convolution": 2}


# Integer arguments: (label, build with the argument set to the value).
INTS: dict[str, Callable[[object], object]] = {
    "in_channels": lambda v: SubPixelConv(v, 2, 2),
    "scale": lambda v: TransposedConv(2, 2, v),
    "kernel_size": lambda v: SubPixelConv(2, 2, 2, kernel_size=v),
    "dims": lambda v: ResizeConv(2, 2, 2, dims=v),
    "k_up": lambda v: CARAFE(2, 2, k_up=v),
    "compressed_channels": lambda v: CARAFE(2, 2, compressed_channels=v),
    "groups": lambda v: DySample(4, 2, groups=v),
    "out_channels": lambda v: DySample(4, 2, out_channels=v),
    "size": lambda v: Interpolate(size=v),
    "build_upsampler.dims": lambda v: build_upsampler("subpixel", 2, 2, 2, dims=v),
    "build_upsampler(carafe).channels": lambda v: build_upsampler("carafe", v, 2, 2),
    "guide_channels": lambda v: FADE(2, 2, 2, guide_channels=v),
    "k_enc": lambda v: FADE(2, 2, 2, k_enc=v),
}
NOT_INTS = [math.nan, math.inf, -math.inf, True, np.array(2), torch.tensor(2), -1, 0, 2.5, "2", [2, 2, 2, 2]]


@pytest.mark.parametrize("argument", list(INTS))
@pytest.mark.parametrize("value", NOT_INTS, ids=repr)
def test_integer_arguments_are_validated(argument: str, value: object) -> None:
    with pytest.raises(UpsampleError, match=argument.split(".")[-1]):
        INTS[argument](value)


@pytest.mark.parametrize("build", [
    lambda: SubPixelConv(1, 1, 10**6),
    lambda: SubPixelConv(1, 1, (10**3, 10**3, 10**3), dims=3),
    lambda: TransposedConv(1, 1, 10**6),
    lambda: TransposedConv(1, 1, 10**5, init="bilinear"),
    lambda: CARAFE(1, 10**6),
    lambda: CARAFE(1, 2, k_up=10**5 + 1),
    lambda: DySample(4, 10**6),
    lambda: DySample(10**12, 2, groups=7),
    lambda: ResizeConv(10**15, 1, 2),
    lambda: Interpolate(2, in_channels=10**10, out_channels=10**10 + 1),
    lambda: SubPixelConv(10**30, 1, 2),
    lambda: build_upsampler("pixelshuffle", 1, 1, 10**6),
    lambda: build_upsampler("carafe", 2, 2, 1e308),
    lambda: build_upsampler("deconv", 2, 2, 5.5e157),
], ids=["subpixel", "subpixel-3d", "transposed", "transposed-bilinear", "carafe", "carafe-k_up", "dysample",
        "dysample-groups", "resizeconv", "interpolate-proj", "overflow", "registry", "carafe-1e308",
        "deconv-5e157"])
def test_absurd_layers_are_refused_before_allocating(build: Callable[[], object]) -> None:
    """Each of these asked the allocator for terabytes (or overflowed int64) before the guard."""
    with pytest.raises(OutputTooLargeError, match="allocation guard of 4.00 GiB"):
        build()


@pytest.mark.parametrize("name", NAMES)
def test_the_guard_counts_exactly_what_a_layer_allocates(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The estimate is the bytes of the parameters and buffers torch allocates: equal passes, one less fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = build_upsampler(name, 4, 2, 2)  # 2: the fixed ones get their 1x1 projection
        nbytes = sum(t.numel() * t.element_size() for t in [*layer.parameters(), *layer.buffers()])
        monkeypatch.setattr(resample_api, "DEFAULT_MAX_OUTPUT_BYTES", nbytes)
        build_upsampler(name, 4, 2, 2)
        monkeypatch.setattr(resample_api, "DEFAULT_MAX_OUTPUT_BYTES", nbytes - 1)
        with pytest.raises(OutputTooLargeError):
            build_upsampler(name, 4, 2, 2)


LAYERS: dict[str, Callable[[], nn.Module]] = {
    "SubPixelConv": lambda: SubPixelConv(2, 3, 2),
    "TransposedConv": lambda: TransposedConv(2, 3, 2),
    "ResizeConv": lambda: ResizeConv(2, 3, 2, method="linear"),
    "CARAFE": lambda: CARAFE(2, 2, compressed_channels=4),
    "DySample": lambda: DySample(2, 2, groups=1),
    "Interpolate": lambda: Interpolate(2, in_channels=2, out_channels=3),
}


@pytest.mark.parametrize("layer", list(LAYERS))
def test_an_input_of_another_dtype_is_an_error_naming_both(layer: str) -> None:
    module = LAYERS[layer]()
    with pytest.raises(InvalidTypeError, match=rf"{layer}: the input x must have the dtype of the layer's "
                                               r"parameters, but got x of torch.float64 and parameters of "
                                               r"torch.float32"):
        module(torch.zeros(1, 2, 3, 3, dtype=torch.float64))
    assert module.double()(torch.zeros(1, 2, 3, 3, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize("layer", list(LAYERS))
def test_an_input_on_another_device_is_an_error_naming_both(layer: str) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"{layer}: the input x must be on the device of the layer's "
                                                   r"parameters, but got x on meta and parameters on cpu"):
        LAYERS[layer]()(torch.zeros(1, 2, 3, 3, device="meta"))
    assert LAYERS[layer]().to("meta")(torch.zeros(1, 2, 3, 3, device="meta")).device.type == "meta"


def _learned_entries() -> list[object]:
    """Every registered entry whose layer (4 -> 2 channels, x2) has parameters, and BilinearAdditive's
    residual form (the plain one has none)."""
    entries: list[tuple[str, dict[str, object]]] = [(name, {}) for name in NAMES]
    entries.append(("bilinear_additive", {"residual": True}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return [pytest.param(name, options, id="-".join([name, *options])) for name, options in entries
                if any(True for _ in build_upsampler(name, 4, 2, 2, **options).parameters())]


@pytest.mark.parametrize(("layer_device", "x_device"), [("meta", "cpu"), ("cpu", "meta")])
@pytest.mark.parametrize(("name", "options"), _learned_entries())
def test_every_learned_entry_names_both_devices(name: str, options: dict[str, object], layer_device: str,
                                                x_device: str) -> None:
    """x on one device, the parameters on another (meta fakes the second device): a clear error naming
    the layer and both devices, before any computation (guided entries: the guide on x's device)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        layer = build_upsampler(name, 4, 2, 2, **options).to(layer_device)
    x = torch.randn(1, 4, 3, 5).to(x_device)
    pattern = (rf"{type(layer).__name__}: the input x must be on the device of the layer's parameters, but got x "
               rf"on {x_device} and parameters on {layer_device}; move one of them with \.to\(\)")
    with pytest.raises(InvalidArgumentError, match=pattern):
        call_upsampler(layer, x, name)


def test_autocast_may_feed_another_precision() -> None:
    """Under torch.autocast the check steps aside: torch runs the convolution in bfloat16, as for nn.Conv2d."""
    layer, conv = SubPixelConv(2, 2, 2, init="default"), nn.Conv2d(2, 8, 3, padding=1)
    conv.load_state_dict({"weight": layer.weight, "bias": layer.bias})
    x = torch.randn(1, 2, 4, 4).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got, expected = layer(x), nn.functional.pixel_shuffle(conv(x), 2)
    assert got.dtype == torch.bfloat16 and torch.equal(got, expected)


def test_a_layer_without_parameters_takes_any_float_dtype() -> None:
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64)
    assert torch.equal(Interpolate(2, method="linear")(x), nn.Upsample(scale_factor=2, mode="bilinear")(x))


@pytest.mark.parametrize("name", NAMES)
def test_empty_batches_and_channels_give_torchs_empty_result(name: str) -> None:
    layer = build_upsampler(name, 4, 4, 2)
    full = call_upsampler(layer, torch.randn(1, 4, 3, 5), name)
    empty = call_upsampler(layer, torch.randn(0, 4, 3, 5), name)
    assert empty.shape == (0, *full.shape[1:])
    with pytest.raises(InvalidArgumentError, match=r"every spatial axis of the input must have length >= 1, "
                                                   r"but got shape \(1, 4, 0, 5\)"):
        call_upsampler(layer, torch.randn(1, 4, 0, 5), name)


def test_zero_channels_without_a_channel_count_give_the_empty_result() -> None:
    """nn.Upsample raises a RuntimeError for zero channels; the empty result is what the shapes say."""
    x = torch.zeros(2, 0, 3, 4)
    for method in ("nearest", "linear", "cubic"):
        assert Interpolate(2, method=method)(x).shape == (2, 0, 6, 8)


# ------------------------------------------------------------------------------ registry
@pytest.mark.parametrize("call", [
    lambda v: build_upsampler(v, 2, 2, 2),
    upsampler_info,
    unregister_upsampler,
    lambda v: register_alias("test-hardening-alias", v),
], ids=["build_upsampler", "upsampler_info", "unregister_upsampler", "register_alias"])
@pytest.mark.parametrize("name", [["subpixel"], None, 3, ""], ids=repr)
def test_names_must_be_registered_strings(call: Callable[[object], object], name: object) -> None:
    with pytest.raises(InvalidArgumentError, match=r"upsampler name must be one of .*'subpixel'.*, but got"):
        call(name)


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"dims": 2}, InvalidTypeError, r"dims must be a tuple of spatial ranks \(1, 2, 3\), but got 2"),
    ({"dims": (4,)}, InvalidArgumentError, r"dims must be 1, 2 or 3 .*but got 4"),
    ({"dims": ()}, InvalidArgumentError, r"dims must list at least one spatial rank"),
    ({"scales": "half"}, InvalidArgumentError, r"scales must be one of 'integer', 'any', but got 'half'"),
    ({"description": 3}, InvalidTypeError, r"description must be a string, but got int"),
])
def test_register_upsampler_checks_its_metadata(kwargs: dict, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        register_upsampler("test-hardening", **{"learned": True, **kwargs})
    assert "test-hardening" not in list_upsamplers()


def test_register_upsampler_needs_a_callable_and_a_string_name() -> None:
    with pytest.raises(InvalidTypeError, match=r"decorates a factory function or class, but got int"):
        register_upsampler("test-hardening", learned=True)(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"upsampler name must be a non-empty string, but got 3"):
        register_upsampler(3, learned=True)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"alias must be a non-empty string, but got \['x'\]"):
        register_alias(["x"], "subpixel")  # type: ignore[arg-type]
    assert "test-hardening" not in list_upsamplers()


def test_list_upsamplers_needs_a_pattern_string() -> None:
    with pytest.raises(InvalidTypeError, match=r"list_upsamplers: pattern must be an fnmatch pattern string, "
                                               r"but got list"):
        list_upsamplers(["sub*"])  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "options", "pattern"), [
    ("subpixel", {"kernal_size": 3}, r"SubPixelConv got an unexpected keyword argument 'kernal_size'; its options "
                                     r"are 'kernel_size', 'init', 'blur', 'bias', 'device', 'dtype'; did you mean "
                                     r"'kernel_size'\?"),
    ("carafe", {"k_upp": 3}, r"CARAFE got an unexpected keyword argument 'k_upp'.*did you mean 'k_up'\?"),
    ("carafe", {"channels": 3}, r"CARAFE: channels= is set from build_upsampler's own arguments"),
    ("interpolate", {"scale_factor": 3}, r"Interpolate: scale_factor= is set from build_upsampler's own arguments"),
])
def test_options_that_do_not_fit_the_layer(name: str, options: dict, pattern: str) -> None:
    with pytest.raises(InvalidTypeError, match=pattern):
        build_upsampler(name, 4, 4, 2, **options)


# ------------------------------------------------------------------------ compile / trace
VARIANTS = [(name, {}) for name in NAMES] + [
    ("subpixel", {"blur": True}),
    ("transposed", {"init": "bilinear", "exact_borders": True}),
    ("dysample", {"dynamic": True}),
    ("dysample", {"style": "pl"}),
    ("carafe", {"k_up": 3}),
    ("interpolate", {"method": "area"}),
]


@pytest.mark.parametrize("backend", ["eager", "aot_eager", "trace"])
@pytest.mark.parametrize(("name", "options"), VARIANTS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'default'}" for n, o in VARIANTS])
def test_every_registered_layer_compiles_and_traces(name: str, options: dict, backend: str) -> None:
    """torch.compile (backends eager and aot_eager) and torch.jit.trace give eager's output."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = build_upsampler(name, 4, 4, 2, **options).eval()
    inputs = upsampler_inputs(layer, torch.randn(2, 4, 5, 6), name)
    with torch.no_grad():
        expected = layer(*inputs)
        if backend == "trace":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TracerWarnings about Python values
                compiled = torch.jit.trace(layer, inputs)
        else:
            torch._dynamo.reset()
            compiled = torch.compile(layer, backend=backend)
        got = compiled(*inputs)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)


# -------------------------------------------------------------------------- DySample
@pytest.mark.parametrize(("scale", "groups"), [((2,), 1), ((2, 2), 1), ((3, 2), 4), ((2, 1, 3), 2), ((4, 4), 3)])
def test_init_positions_match_the_float64_formula(scale: tuple[int, ...], groups: int) -> None:
    """Upstream's init_pos, written out in float64 Python: (t_a - (s_a - 1) / 2) / s_a, last axis first."""
    block = np.stack(np.meshgrid(*[np.arange(s) for s in scale], indexing="ij"), -1).reshape(-1, len(scale))
    rows = [[(t[a] - (scale[a] - 1) / 2) / scale[a] for t in block] * groups for a in reversed(range(len(scale)))]
    expected = torch.tensor(rows, dtype=torch.float64).reshape(-1)
    assert torch.equal(init_positions(scale, groups, dtype=torch.float64), expected)


def test_init_positions_of_a_large_block_are_quick() -> None:
    """Vectorised: a 512 x 512 block (262,144 sub-positions) no longer loops in Python."""
    positions = init_positions((512, 512), 4)
    assert positions.shape == (2 * 4 * 512 * 512,) and float(positions.abs().max()) < 0.5


def test_count_macs_names_the_module_that_failed() -> None:
    """torch's own error (a float32 conv given an int64 input) comes back as an UpsampleError with its text."""
    with pytest.raises(InvalidArgumentError, match=r"count_macs: the module \(Conv2d\) failed on the inputs "
                                                   r"\(\(1, 1, 4, 4\)\): RuntimeError: .*"):
        count_macs(nn.Conv2d(1, 1, 3), torch.zeros(1, 1, 4, 4, dtype=torch.int64))
