"""A standing fuzz suite over the public entry points: generated bad (and odd) values for every argument.

Each entry point is listed once in :data:`ENTRIES` as ``(name, argument, kind, call)``: ``call(value)``
calls the entry point with ``value`` for that argument and good values for the others. For each
entry, hypothesis draws values from the strategy of the argument's kind (``bool``, ``int``,
``scale``, ``size``, ``name``, ``float``, ``tensor``, ...): bad types, NaN and infinities, 0-d
arrays and tensors, strings that look like flags, huge and negative numbers, nested sequences.
The contract: the call returns (a valid value was drawn, or the input is accepted on purpose:
docs/errors.md) or raises an :class:`~upsamplekit.UpsampleError`; any other exception (a raw
``TypeError`` from torch, ``ZeroDivisionError``, ``RecursionError``, ``MemoryError``...) fails. A new
entry point is covered by adding one line to :data:`ENTRIES`; every registered upsampler is
covered through the registry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import upsamplekit
from upsamplekit import UpsampleError
from upsamplekit.nn import upsampler_info

from tests.upsampler_calls import call_upsampler

#: A small guard for every call that allocates: a drawn 1e308 must hit it, not the machine.
GUARD = 2**24


# ------------------------------------------------------------------------------------------ value kinds
def _odd_numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from([0, -1, -(2**63), 2**63, 10**30, 0.0, -0.0, 0.5, 1.5, -2.5, 1e308, -1e308, 1e-320,
                         math.nan, math.inf, -math.inf]),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def _odd_objects() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from([None, True, False, "", "2", "yes", "False", "nan", b"2", 2j, object(), [], (), {}, {2},
                         np.float64("nan"), np.array(2), np.array([2, 2]), np.array(2.5), np.array(["a"]),
                         torch.tensor(2), torch.tensor([2.0, 2.0]), torch.tensor(float("nan")),
                         np.array(2, dtype=np.longdouble), np.array([1, 2], dtype=object)]),
        st.text(max_size=12),
        st.lists(st.one_of(st.integers(-5, 5), st.floats(allow_nan=True)), max_size=5),
        st.lists(st.lists(st.integers(0, 3), max_size=2), max_size=3),
    )


KINDS: dict[str, st.SearchStrategy[Any]] = {
    "bool": st.one_of(st.booleans(), _odd_objects(), st.sampled_from([0, 1, 2, 0.0, 1.0, -1])),
    "int": st.one_of(_odd_numbers(), _odd_objects()),
    "scale": st.one_of(_odd_numbers(), _odd_objects(), st.tuples(_odd_numbers(), _odd_numbers())),
    "size": st.one_of(_odd_numbers(), _odd_objects(), st.tuples(_odd_numbers(), _odd_numbers()),
                      st.lists(st.integers(-3, 10**9), max_size=4)),
    "float": st.one_of(_odd_numbers(), _odd_objects()),
    "name": st.one_of(st.text(max_size=20), _odd_objects(), st.sampled_from(["linear ", "Linear", "bicubic\x00"])),
    "call": st.one_of(st.text(max_size=60), _odd_objects(), st.sampled_from([
        "torch: nn.Upsample(scale_factor=2, scale_factor=3)", "tf: cv2.resize(x, (16, 8))",
        "torch: " + "(" * 5000, "torch: nn.Upsample(" + "[" * 300 + "]" * 300 + ")", "x" * 100_000,
        "torch: nn.Upsample(scale_factor=2, mode='bilinear', align_corners='yes')",
        "torch: __import__('os').system('echo pwned')", "keras: UpSampling2D(size=10**100)"])),
    "tensor": st.one_of(_odd_objects(), st.sampled_from([
        torch.zeros(1, 1, 0, 4), torch.zeros(0, 1, 4, 4), torch.zeros(1, 0, 4, 4), torch.zeros(4), torch.zeros(()),
        torch.zeros(1, 1, 4, 4, dtype=torch.float64), torch.zeros(1, 1, 4, 4, dtype=torch.int64),
        torch.zeros(1, 1, 4, 4, dtype=torch.bool), torch.zeros(1, 1, 4, 4, dtype=torch.complex64),
        torch.full((1, 1, 4, 4), float("nan")), torch.zeros(1, 1, 4, 4, device="meta"),
        np.zeros((1, 1, 4, 4), dtype=np.longdouble), np.zeros((1, 1, 4, 4), dtype=object),
        np.zeros((1, 1, 4, 4), dtype=">f4"), np.zeros((1, 1, 4, 4), dtype=np.complex128)])),
}


# ------------------------------------------------------------------------------------------ entry points
class Entry(NamedTuple):
    name: str
    argument: str
    kind: str
    call: Callable[[Any], Any]

    def __str__(self) -> str:
        return f"{self.name}:{self.argument}"


X = torch.rand(1, 2, 4, 4)


def _resize(**kwargs: Any) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        arguments = {"scale_factor": 2, "max_output_bytes": GUARD, **kwargs}
        key = next(k for k, v in arguments.items() if v is _VALUE)
        arguments[key] = value
        x = arguments.pop("x", X)
        if arguments.get("size") is not None and "scale_factor" not in kwargs:
            arguments.pop("scale_factor")
        return upsamplekit.resize(x, **arguments)
    return call


_VALUE = object()  # marks the argument that receives the drawn value


def _layer(name: str, argument: str) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        arguments: dict[str, Any] = {"name": name, "in_channels": 2, "out_channels": 2, "scale": 2, argument: value}
        layer = upsamplekit.build_upsampler(**arguments)
        if argument == "dims" and value != 2:
            return layer
        if upsampler_info(name).guided and \
                layer.guide_channels * math.prod(X.shape[2:]) * math.prod(layer.scale) * X.element_size() > GUARD:
            return layer  # the guide the call needs is the size of the output: the harness does not allocate it
        return call_upsampler(layer, X, name)
    return call


def _upsampler_entries() -> list[Entry]:
    entries = []
    for name in upsamplekit.list_upsamplers():
        for argument, kind in (("in_channels", "int"), ("out_channels", "int"), ("scale", "scale"), ("dims", "int")):
            entries.append(Entry(f"build_upsampler[{name}]", argument, kind, _layer(name, argument)))
    return entries


def _explain(argument: str) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        arguments: dict[str, Any] = {"a": "torch: nn.Upsample(scale_factor=2)", "b": "keras: UpSampling2D(size=2)",
                                     argument: value}
        return upsamplekit.explain(**arguments)
    return call


def _fold(argument: str) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        model = torch.nn.Sequential(torch.nn.Upsample(scale_factor=2), torch.nn.Conv2d(2, 2, 3, padding=1))
        arguments: dict[str, Any] = {"model": model, argument: value}
        return upsamplekit.fold(**arguments)
    return call


def _arith(function: str, argument: str) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        arguments: dict[str, Any] = {"in_size": 16, "kernel_size": 3, argument: value}
        if function.startswith("solve"):
            arguments = {"in_size": 16, "out_size": 32, argument: value}
        return getattr(upsamplekit, function)(**arguments)
    return call


def _study(setting: str) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        from upsamplekit.study.config import StudyConfig

        return StudyConfig.build(None, {setting: value}).candidates()
    return call


ENTRIES: list[Entry] = [
    *(Entry("resize", a, k, _resize(**{a: _VALUE})) for a, k in (
        ("x", "tensor"), ("size", "size"), ("scale_factor", "scale"), ("method", "name"), ("convention", "name"),
        ("antialias", "bool"), ("align_corners", "bool"), ("channels_last", "bool"),
        ("recompute_scale_factor", "bool"), ("max_output_bytes", "int"))),
    Entry("resize(convention='onnx')", "roi", "size", _resize(convention="onnx", roi=_VALUE)),
    Entry("resize(convention='onnx')", "axes", "size", _resize(convention="onnx", axes=_VALUE)),
    Entry("resize(convention='tf1')", "half_pixel_centers", "bool", _resize(convention="tf1", half_pixel_centers=_VALUE)),
    Entry("Resampling.preset", "convention", "name", lambda v: upsamplekit.Resampling.preset(v, "linear")),
    Entry("Resampling.preset", "method", "name", lambda v: upsamplekit.Resampling.preset("torch", v)),
    Entry("Resampling", "cubic_a", "float", lambda v: upsamplekit.Resampling(kernel="cubic", cubic_a=v)),
    Entry("Resampling", "antialias", "bool", lambda v: upsamplekit.Resampling(antialias=v)),
    Entry("Resampling", "kernel", "name", lambda v: upsamplekit.Resampling(kernel=v)),
    Entry("build_upsampler", "name", "name", lambda v: upsamplekit.build_upsampler(v, 2, 2, 2)),
    *_upsampler_entries(),
    Entry("build_upsampler[transposed]", "bias", "bool", lambda v: upsamplekit.build_upsampler("transposed", 2, 2, 2,
                                                                                             bias=v)(X)),
    Entry("count_macs", "module", "name", lambda v: upsamplekit.count_macs(v, X)),
    Entry("count_macs", "input", "tensor", lambda v: upsamplekit.count_macs(torch.nn.Conv2d(1, 1, 3), v)),
    Entry("count_params", "trainable_only", "bool", lambda v: upsamplekit.count_params(torch.nn.Conv2d(1, 1, 3), v)),
    *(Entry(f, a, k, _arith(f, a)) for f in ("conv_output_size", "conv_transpose_output_size")
      for a, k in (("in_size", "size"), ("kernel_size", "size"), ("stride", "size"), ("padding", "size"),
                   ("dilation", "size"))),
    *(Entry(f, a, k, _arith(f, a)) for f in ("solve_conv", "solve_conv_transpose")
      for a, k in (("in_size", "size"), ("out_size", "size"), ("max_kernel", "int"), ("max_stride", "int"))),
    Entry("explain", "a", "call", _explain("a")),
    Entry("explain", "sizes", "size", _explain("sizes")),
    Entry("explain", "atol", "float", _explain("atol")),
    Entry("explain", "seed", "int", _explain("seed")),
    Entry("explain", "fix", "bool", _explain("fix")),
    Entry("fold", "model", "name", lambda v: upsamplekit.fold(v)),
    Entry("fold", "example_input", "tensor", _fold("example_input")),
    Entry("fold", "report", "bool", _fold("report")),
    *(Entry("StudyConfig.build", s, k, _study(s)) for s, k in (
        ("task", "name"), ("scale", "int"), ("seeds", "int"), ("steps", "int"), ("batch_size", "int"),
        ("crop", "int"), ("channels", "int"), ("lr", "float"), ("val_fraction", "float"), ("upsamplers", "name"),
        ("schedules", "name"), ("heartbeat", "int"), ("threads", "int"), ("skip", "int"))),
]


@pytest.mark.parametrize("entry", ENTRIES, ids=str)
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_bad_values_give_an_upsample_error_or_a_result(entry: Entry, data: st.DataObject) -> None:
    value = data.draw(KINDS[entry.kind], label=entry.argument)
    try:
        entry.call(value)
    except UpsampleError:
        pass


# ------------------------------------------------------------------------------------------ command line
#: Text that is not a valid number, or a number no option here accepts, in the spellings users type.
BAD_TEXT = ["nan", "inf", "-inf", "-1", "0", "", " ", "1e308", "yes", "2.5", "0x10", "9" * 400, "1,2,3,4,5", "2,,2",
            "\x00", "١٢"]

#: Commands with one slot ``{}`` that receives each of :data:`BAD_TEXT` (cheap commands only: a valid
#: value must not start a long job).
COMMAND_LINES = [
    ["shapes", "transpose", "{}", "-k", "3"],
    ["shapes", "transpose", "16", "-k", "{}"],
    ["shapes", "transpose", "16", "-k", "3", "-s", "{}"],
    ["shapes", "transpose", "16", "-k", "3", "-p", "{}"],
    ["shapes", "conv", "16", "-k", "3", "-d", "{}"],
    ["shapes", "solve", "16", "{}"],
    ["shapes", "solve", "{}", "32"],
    ["shapes", "solve", "16", "32", "--max-kernel", "{}"],
    ["spec", "{}", "linear"],
    ["spec", "torch", "{}"],
    ["spec", "torch", "linear", "align_corners={}"],
    ["spec", "onnx", "linear", "cubic_coeff_a={}"],
    ["demo", "--scale", "{}"],
    ["explain", "torch: nn.Upsample(scale_factor=2)", "keras: UpSampling2D(size=2)", "--size", "{}", "--no-fix"],
    ["explain", "torch: nn.Upsample(scale_factor={})", "keras: UpSampling2D(size=2)", "--no-fix"],
    ["explain", "torch: nn.Upsample(scale_factor=2)", "keras: UpSampling2D(size=2)", "--atol", "{}", "--no-fix"],
]


@pytest.mark.parametrize("line", COMMAND_LINES, ids=" ".join)
def test_bad_option_values_give_one_error_line(line: list[str]) -> None:
    """Every value either works or ends with a usage error / one ``Error:`` line and status 2, never a traceback."""
    from click.testing import CliRunner

    from upsamplekit.cli import app

    for text in BAD_TEXT:
        result = CliRunner().invoke(app, [part.replace("{}", text) for part in line])
        if result.exit_code == 0:
            continue
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), (text, result.output[-2000:])
        assert "Traceback" not in result.output, (text, result.output[-2000:])
