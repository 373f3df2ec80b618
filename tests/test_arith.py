"""Convolution shape arithmetic against torch's own nn.Conv / nn.ConvTranspose layers.

Every size is checked against the shape torch actually produces, and every error against whether
torch raises for the same settings. Cases are seeded random draws over 1-D, 2-D and 3-D layers,
per-axis and broadcast arguments, with invalid values mixed in. Shapes are integers: comparisons
are exact.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterator
from functools import partial

import click
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from upsamplekit import arith
from upsamplekit.arith import (
    ConvSolution,
    ConvTransposeSolution,
    combine_axes,
    conv_output_size,
    conv_transpose_output_size,
    solve_conv,
    solve_conv_transpose,
)
from upsamplekit.cli import LazyGroup
from upsamplekit.cli.shapes import shapes
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError, UpsampleError

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
TRANSPOSE = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
SEED = 20261122


# ----------------------------------------------------------------------------------------------
# Helpers: run torch, draw settings


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Thousands of tiny layers: one intra-op thread avoids thread start-up on each call (20 ms -> 20 us)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _run(make: Callable[[], nn.Module], in_size: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # zero-size kernels warn in their initialiser
            return tuple(make()(torch.zeros(1, 1, *in_size)).shape[2:])
    except (RuntimeError, ValueError, TypeError):
        return None


def torch_shape(make: Callable[[], nn.Module], in_size: tuple[int, ...]) -> tuple[int, ...] | None:
    """The spatial output shape torch computes, or None when torch raises for these settings.

    torch's oneDNN CPU path skips the output-size check of transposed convolutions and returns an
    empty tensor when an output axis is exactly 0, where its reference path (oneDNN disabled)
    raises "Output size is too small". An empty axis is therefore re-run on the reference path.
    """
    shape = _run(make, in_size)
    if shape is not None and 0 in shape:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the flags context warns about TF32 on Intel GPUs
            with torch.backends.mkldnn.flags(enabled=False):
                shape = _run(make, in_size)
    return shape


def draw(rng: np.random.Generator, ndim: int, low: int, high: int, invalid: tuple[int, ...] = ()) -> object:
    """One argument: an int (broadcast to every axis) or a per-axis tuple; rarely an invalid value."""
    def one() -> int:
        if invalid and rng.random() < 0.06:
            return int(rng.choice(invalid))
        return int(rng.integers(low, high + 1))

    if ndim == 1 and rng.random() < 0.5 or rng.random() < 0.3:
        return one()
    return tuple(one() for _ in range(ndim))


def sizes(rng: np.random.Generator, ndim: int) -> tuple[int, ...]:
    high = {1: 24, 2: 12, 3: 7}[ndim]
    return tuple(int(v) for v in rng.integers(1, high + 1, size=ndim))


def as_input(in_size: tuple[int, ...], rng: np.random.Generator) -> object:
    return in_size[0] if len(in_size) == 1 and rng.random() < 0.5 else in_size


def expect(ours: Callable[[], object], theirs: tuple[int, ...] | None, all_ints: bool, label: str) -> str:
    """Our function agrees with torch: same size (int for int arguments), or both raise."""
    if theirs is None:
        with pytest.raises(InvalidArgumentError):
            ours()
        return "error"
    got = ours()
    assert got == (theirs[0] if all_ints else theirs), f"{label}: ours {got}, torch {theirs}"
    return "ok"


# ----------------------------------------------------------------------------------------------
# Forward formulas against torch


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_conv_transpose_output_size_matches_torch(ndim: int) -> None:
    rng = np.random.default_rng(SEED + ndim)
    outcomes = []
    for _ in range(250):
        in_size = sizes(rng, ndim)
        kw = {
            "kernel_size": draw(rng, ndim, 1, 6, invalid=(0,)),
            "stride": draw(rng, ndim, 1, 4, invalid=(0, -1)),
            "padding": draw(rng, ndim, 0, 4, invalid=(-1,)),
            "output_padding": draw(rng, ndim, 0, 2, invalid=(-1,)),
            "dilation": draw(rng, ndim, 1, 3, invalid=(0, -1)),
        }
        x = as_input(in_size, rng)
        theirs = torch_shape(lambda: TRANSPOSE[ndim](1, 1, **kw), in_size)  # type: ignore[arg-type]
        all_ints = all(isinstance(v, int) for v in [x, *kw.values()])
        outcomes.append(expect(partial(conv_transpose_output_size, x, **kw), theirs, all_ints, f"{in_size} {kw}"))
    # The draw must exercise both sides: valid layers and layers torch rejects.
    assert outcomes.count("ok") > 40 and outcomes.count("error") > 20, (outcomes.count("ok"), outcomes.count("error"))


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_conv_output_size_matches_torch(ndim: int) -> None:
    rng = np.random.default_rng(SEED + 10 + ndim)
    outcomes = []
    for _ in range(250):
        in_size = sizes(rng, ndim)
        kw: dict[str, object] = {
            "kernel_size": draw(rng, ndim, 1, 6, invalid=(0,)),
            "stride": draw(rng, ndim, 1, 4, invalid=(0, -1)),
            "padding": draw(rng, ndim, 0, 4, invalid=(-1,)),
            "dilation": draw(rng, ndim, 1, 3, invalid=(0, -1)),
        }
        if rng.random() < 0.2:
            kw["padding"] = str(rng.choice(["same", "valid"]))
            if rng.random() < 0.6:
                kw["stride"] = 1
        x = as_input(in_size, rng)
        theirs = torch_shape(lambda: CONV[ndim](1, 1, **kw), in_size)  # type: ignore[arg-type]
        all_ints = all(not isinstance(v, tuple) for v in [x, *kw.values()])
        outcomes.append(expect(partial(conv_output_size, x, **kw), theirs, all_ints, f"{in_size} {kw}"))
    assert outcomes.count("ok") > 40 and outcomes.count("error") > 20, (outcomes.count("ok"), outcomes.count("error"))


def test_seed_002_kernel3_stride2_padding1_output_padding1_on_16_gives_32() -> None:
    # The seed text claims torch.Size([1, 3, 33, 33]); torch gives 32.
    layer = nn.ConvTranspose2d(3, 3, kernel_size=3, stride=2, padding=1, output_padding=1)
    shape = tuple(layer(torch.randn(1, 3, 16, 16)).shape)
    assert shape[2:] == conv_transpose_output_size((16, 16), 3, stride=2, padding=1, output_padding=1)
    assert conv_transpose_output_size(16, 3, stride=2, padding=1, output_padding=1) == shape[-1] != 33


def test_same_padding_keeps_the_size_for_even_kernels_and_large_dilations() -> None:
    rng = np.random.default_rng(SEED + 20)
    for _ in range(60):
        ndim = int(rng.integers(1, 4))
        in_size = sizes(rng, ndim)
        kw = {"kernel_size": draw(rng, ndim, 1, 9), "dilation": draw(rng, ndim, 1, 4)}
        theirs = torch_shape(lambda: CONV[ndim](1, 1, padding="same", **kw), in_size)  # type: ignore[arg-type]
        assert theirs is not None
        assert conv_output_size(in_size, padding="same", **kw) == theirs  # type: ignore[arg-type]


def test_an_empty_output_axis_is_an_error_as_on_torchs_reference_path() -> None:
    # (in - 1)*1 - 2*1 + 1*(2 - 1) + 0 + 1 = 0 on the last axis.
    x = torch.zeros(2, 3, 30, 1)
    layer = nn.ConvTranspose2d(3, 2, (1, 2), padding=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the flags context warns about TF32 on Intel GPUs
        with torch.backends.mkldnn.flags(enabled=False), pytest.raises(RuntimeError, match="Output size is too small"):
            layer(x)
    # The oneDNN path, where torch picks it, returns an empty (2, 2, 30, 0) tensor instead of raising.
    default = _run(lambda: layer, (30, 1))
    assert default is None or default == (30, 0)
    with pytest.raises(InvalidArgumentError, match="the output would be empty"):
        conv_transpose_output_size((30, 1), (1, 2), padding=(0, 1))


# ----------------------------------------------------------------------------------------------
# Error messages: the argument, the rule and the value


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: conv_transpose_output_size(16, 3, stride=0), ["stride", ">= 1", "0"]),
        (lambda: conv_transpose_output_size((16, 8), 3, stride=(2, -1)), ["stride", ">= 1", "-1", "axis 1"]),
        (lambda: conv_transpose_output_size(16, 0), ["kernel_size", ">= 1", "0"]),
        (lambda: conv_transpose_output_size(16, 3, dilation=0), ["dilation", ">= 1", "0"]),
        (lambda: conv_transpose_output_size(16, 3, padding=-2), ["padding", ">= 0", "-2"]),
        (lambda: conv_transpose_output_size(16, 3, output_padding=-1), ["output_padding", ">= 0", "-1"]),
        (lambda: conv_transpose_output_size(16, 3, 2, output_padding=2), ["output_padding", "max(stride, dil", "2"]),
        (lambda: conv_transpose_output_size(2, 1, padding=3), ["reduce padding", "padding=3", "= -4"]),
        (lambda: conv_transpose_output_size(16, 3, padding="same"), ["padding", "'same'", "nn.Conv"]),
        (lambda: conv_transpose_output_size(0, 3), ["in_size", ">= 1", "0"]),
        (lambda: conv_output_size(4, 6), ["kernel", "in_size + 2*padding = 4", ">= ", "= 6", "kernel_size=6"]),
        (lambda: conv_output_size(16, 3, stride=(1, 2), padding="same"), ["same", "stride 1", "(1, 2)"]),
        (lambda: conv_output_size(16, 3, padding="sme"), ["padding", "'sme'", "did you mean 'same'"]),
        (lambda: conv_output_size((16, 8), (3, 3, 3)), ["same number of axes", "kernel_size has 3", "in_size has 2"]),
        (lambda: conv_output_size((), 3), ["in_size", "at least one axis"]),
        (lambda: solve_conv_transpose(32, 16), ["out_size", ">= in_size", "solve_conv"]),
        (lambda: solve_conv(16, 32), ["out_size", "<= in_size", "solve_conv_transpose"]),
        (lambda: solve_conv_transpose(16, 100, max_kernel=2), ["no transposed convolution", "=100", "max_kernel"]),
        (lambda: solve_conv_transpose((16, 16), (32, 8)), ["axis 1", "out_size=8"]),
        (lambda: solve_conv_transpose(16, 32, max_kernel=0), ["max_kernel", ">= 1", "0"]),
        (lambda: solve_conv_transpose(16, 32, dilation=(1, 0)), ["dilation", ">= 1", "(1, 0)"]),
        (lambda: combine_axes(), ["one solution per axis"]),
    ],
)
def test_errors_name_the_argument_the_rule_and_the_value(call: Callable[[], object], words: list[str]) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("bad", [2.0, True, "3", None, [3.5]])
def test_non_integer_arguments_are_type_errors(bad: object) -> None:
    with pytest.raises(InvalidTypeError, match="kernel_size must be an int or a sequence of ints"):
        conv_output_size(16, bad)  # type: ignore[arg-type]
    assert issubclass(InvalidTypeError, TypeError) and issubclass(InvalidArgumentError, ValueError)


def test_numpy_integers_and_torch_sizes_are_accepted() -> None:
    x = torch.zeros(1, 1, 9, 10)
    layer = nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1)
    assert conv_transpose_output_size(x.shape[2:], np.int64(4), stride=2, padding=1) == tuple(layer(x).shape[2:])


# ----------------------------------------------------------------------------------------------
# Solvers: every solution is real, the list is complete, the order is as documented


def _random_targets(rng: np.random.Generator, count: int, upsample: bool) -> list[tuple[int, int]]:
    pairs = []
    for _ in range(count):
        small = int(rng.integers(1, 17))
        large = small * int(rng.integers(1, 5)) + int(rng.integers(-2, 4))
        large = max(large, small)
        pairs.append((small, large) if upsample else (large, small))
    return pairs


def _brute_force(in_size: int, out_size: int, transposed: bool, max_kernel: int, dilations: tuple[int, ...]) -> set:
    """Every setting within the documented bounds, found with the (torch-checked) forward formulas."""
    found = set()
    strides = -(-out_size // in_size) if transposed else -(-in_size // out_size)
    for d in dilations:
        for k in range(1, max_kernel + 1):
            for s in range(1, strides + 1):
                for p in range(d * (k - 1) + 1):
                    for op in range(max(s, d)) if transposed else [None]:
                        try:
                            if transposed:
                                got = conv_transpose_output_size(in_size, k, s, p, op, d)
                            else:
                                got = conv_output_size(in_size, k, s, p, d)
                        except InvalidArgumentError:
                            continue
                        if got == out_size:
                            found.add((k, s, p, op, d) if transposed else (k, s, p, d))
    return found


def _key(solution: ConvSolution | ConvTransposeSolution) -> tuple:
    return tuple(v for name, v in vars(solution).items() if name != "uniform_overlap")


def _interior_is_constant(out: torch.Tensor, low: int, high: int) -> bool | None:
    """Whether out[low:high+1] on both spatial axes is constant; None when it holds no full stride period."""
    if high - low + 1 < 1:
        return None
    block = out[0, 0, low : high + 1, low : high + 1]
    return bool((block == block.flatten()[0]).all())


@pytest.mark.parametrize("transposed", [True, False], ids=["solve_conv_transpose", "solve_conv"])
def test_solutions_reach_the_target_in_torch_and_are_complete(transposed: bool) -> None:
    rng = np.random.default_rng(SEED + 30 + transposed)
    dilations, max_kernel = (1, 2, 3), 6
    solver = solve_conv_transpose if transposed else solve_conv
    module = TRANSPOSE[2] if transposed else CONV[2]
    solved = 0
    for in_size, out_size in _random_targets(rng, 30, upsample=transposed):
        expected = _brute_force(in_size, out_size, transposed, max_kernel, dilations)
        if not expected:
            with pytest.raises(InvalidArgumentError, match="raise max_kernel or max_stride"):
                solver(in_size, out_size, max_kernel=max_kernel, dilation=dilations)
            continue
        solutions = solver(in_size, out_size, max_kernel=max_kernel, dilation=dilations)
        assert {_key(s) for s in solutions} == expected
        order = [(not s.uniform_overlap, s.kernel_size, s.padding) for s in solutions]
        assert order == sorted(order), "uniform overlap first, then smaller kernels, then smaller padding"
        for solution in solutions:
            got = torch_shape(lambda: module(1, 1, **solution.to_torch()), (in_size, in_size))
            assert got == (out_size, out_size), (in_size, out_size, solution)
            solved += 1
    assert solved > 100


def test_uniform_overlap_transposed_solutions_are_checkerboard_free() -> None:
    """All-ones weights on a constant input: the interior is constant exactly when uniform_overlap."""
    rng = np.random.default_rng(SEED + 40)
    seen = {True: 0, False: 0}
    for in_size, out_size in _random_targets(rng, 20, upsample=True):
        in_size, out_size = in_size + 8, out_size + 8 * (out_size // in_size)  # room for a full period inside
        try:
            solutions = solve_conv_transpose(in_size, out_size, max_kernel=7, dilation=(1, 2, 3))
        except InvalidArgumentError:
            continue
        for s in solutions:
            layer = nn.ConvTranspose2d(1, 1, bias=False, **s.to_torch())
            nn.init.ones_(layer.weight)
            with torch.no_grad():
                out = layer(torch.ones(1, 1, in_size, in_size))
            # Outputs every tap reaches from inside the input, shifted by the padding crop.
            reach = s.dilation * (s.kernel_size - 1)
            low, high = reach - s.padding, (in_size - 1) * s.stride - s.padding
            if high - low + 1 < s.stride:
                continue
            assert _interior_is_constant(out, low, high) == s.uniform_overlap, s
            seen[s.uniform_overlap] += 1
    assert seen[True] > 20 and seen[False] > 20, seen


def test_uniform_overlap_conv_solutions_cover_every_input_equally() -> None:
    """The gradient of a strided conv (a transposed conv) is constant inside exactly when uniform_overlap."""
    rng = np.random.default_rng(SEED + 50)
    seen = {True: 0, False: 0}
    for in_size, out_size in _random_targets(rng, 20, upsample=False):
        in_size, out_size = in_size + 8 * (in_size // out_size), out_size + 8
        try:
            solutions = solve_conv(in_size, out_size, max_kernel=7, dilation=(1, 2, 3))
        except InvalidArgumentError:
            continue
        for s in solutions:
            layer = nn.Conv2d(1, 1, bias=False, **s.to_torch())
            nn.init.ones_(layer.weight)
            x = torch.ones(1, 1, in_size, in_size, requires_grad=True)
            layer(x).sum().backward()
            reach = s.dilation * (s.kernel_size - 1)
            low, high = reach - s.padding, (out_size - 1) * s.stride - s.padding
            if low < 0 or high > in_size - 1 or high - low + 1 < s.stride:
                continue
            assert _interior_is_constant(x.grad, low, high) == s.uniform_overlap, s
            seen[s.uniform_overlap] += 1
    assert seen[True] > 20 and seen[False] > 20, seen


def test_per_axis_targets_give_one_list_per_axis_and_combine_into_one_layer() -> None:
    rng = np.random.default_rng(SEED + 60)
    for _ in range(15):
        ins = tuple(int(v) for v in rng.integers(2, 12, size=2))
        outs = tuple(i * int(rng.integers(1, 4)) + int(rng.integers(0, 2)) for i in ins)
        per_axis = solve_conv_transpose(ins, outs)
        assert isinstance(per_axis, tuple) and len(per_axis) == 2
        assert list(per_axis) == [solve_conv_transpose(i, o) for i, o in zip(ins, outs)]
        picks = [axis[int(rng.integers(len(axis)))] for axis in per_axis]
        assert torch_shape(lambda: nn.ConvTranspose2d(1, 1, **combine_axes(*picks)), ins) == outs
        downs = solve_conv(outs, ins)
        assert torch_shape(lambda: nn.Conv2d(1, 1, **combine_axes(*(a[-1] for a in downs))), outs) == ins


def test_solutions_are_frozen_and_kinds_do_not_mix() -> None:
    transposed, plain = solve_conv_transpose(8, 16)[0], solve_conv(16, 8)[0]
    with pytest.raises(AttributeError):
        transposed.stride = 3  # type: ignore[misc]
    with pytest.raises(InvalidArgumentError, match="one kind"):
        combine_axes(transposed, plain)


# ----------------------------------------------------------------------------------------------
# CLI


@click.group(cls=LazyGroup)
@click.option("--debug", is_flag=True)
def cli(debug: bool) -> None:
    """A local root with the shapes command, as the app registers it."""


cli.add_command(shapes)


def _filled_value(line: str) -> int:
    """Evaluate the arithmetic of a filled-in formula line: 'axis 0: (16 - 1)*2 ... = 32' -> the left side."""
    expression = line.split(":", 1)[-1].rsplit("=", 1)[0].lstrip(" =")
    assert re.fullmatch(r"[0-9 ()*+/floor-]+", expression), expression
    return int(eval(expression.replace("/", "//"), {"floor": math.floor}))  # digits and operators only


def test_cli_transpose_prints_torch_size_and_the_filled_formula() -> None:
    result = CliRunner().invoke(cli, ["shapes", "transpose", "16", "--kernel", "3", "--stride", "2", "--padding", "1",
                                      "--output-padding", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    shape = torch_shape(lambda: nn.ConvTranspose1d(1, 1, 3, stride=2, padding=1, output_padding=1), (16,))
    assert lines[0] == str(shape[0]) == "32"
    assert lines[1] == f"out = {arith.CONV_TRANSPOSE_FORMULA.replace('kernel_size', 'kernel')}"
    assert lines[2] == "    = (16 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 32"


@pytest.mark.parametrize("command", ["transpose", "conv"])
def test_cli_formulas_evaluate_to_torch_sizes(command: str) -> None:
    rng = np.random.default_rng(SEED + 70 + len(command))
    checked = 0
    for _ in range(20):
        ndim = int(rng.integers(1, 3))
        in_size = sizes(rng, ndim)
        kw: dict[str, object] = {
            "kernel": tuple(int(v) for v in rng.integers(1, 5, ndim)),
            "stride": tuple(int(v) for v in rng.integers(1, 4, ndim)),
            "padding": tuple(int(v) for v in rng.integers(0, 3, ndim)),
            "dilation": tuple(int(v) for v in rng.integers(1, 3, ndim)),
        }
        if command == "transpose":
            kw["output-padding"] = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(kw["stride"], kw["dilation"]))
        args = ["shapes", command, ",".join(map(str, in_size))]
        for name, value in kw.items():
            args += [f"--{name}", ",".join(map(str, value))]  # type: ignore[call-overload]
        torch_kw = {name.replace("-", "_").replace("kernel", "kernel_size"): v for name, v in kw.items()}
        module = (TRANSPOSE if command == "transpose" else CONV)[ndim]
        theirs = torch_shape(lambda: module(1, 1, **torch_kw), in_size)
        result = CliRunner().invoke(cli, args)
        if theirs is None:
            assert result.exit_code == 2 and result.output.startswith("Error: "), result.output
            continue
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0] == ", ".join(map(str, theirs))
        assert [_filled_value(line) for line in lines[2:]] == list(theirs)
        checked += 1
    assert checked > 8


def test_cli_conv_accepts_same_and_valid() -> None:
    same = CliRunner().invoke(cli, ["shapes", "conv", "17,9", "-k", "4", "-p", "same", "-d", "2"])
    assert same.exit_code == 0, same.output
    expected = torch_shape(lambda: nn.Conv2d(1, 1, 4, padding="same", dilation=2), (17, 9))
    assert same.output.splitlines()[0] == ", ".join(map(str, expected))
    valid = CliRunner().invoke(cli, ["shapes", "conv", "17", "-k", "4", "-p", "valid"])
    assert valid.output.splitlines()[0] == str(torch_shape(lambda: nn.Conv1d(1, 1, 4, padding="valid"), (17,))[0])


@pytest.mark.parametrize(("in_size", "out_size", "layer"), [(16, 32, nn.ConvTranspose2d), (31, 10, nn.Conv2d)])
def test_cli_solve_prints_working_settings_checkerboard_free_first(in_size: int, out_size: int, layer: type) -> None:
    result = CliRunner().invoke(cli, ["shapes", "solve", str(in_size), str(out_size), "-d", "1,2"])
    assert result.exit_code == 0, result.output
    header, columns, *rows = result.output.splitlines()
    names = columns.split()
    assert header.startswith(("nn.ConvTranspose settings" if layer is nn.ConvTranspose2d else "nn.Conv settings"))
    assert f"({len(rows)} found)" in header and len(rows) > 3
    flags = [row.split()[-1] for row in rows]
    assert flags == sorted(flags, key=lambda f: f != "yes") and "yes" in flags
    for row in rows:
        kwargs = {name: int(v) for name, v in zip(names, row.split()[:-1])}
        assert torch_shape(lambda: layer(1, 1, **kwargs), (in_size, in_size)) == (out_size, out_size), row


def test_cli_solve_per_axis_and_errors_are_one_line() -> None:
    result = CliRunner().invoke(cli, ["shapes", "solve", "16,10", "32,30", "--max-kernel", "4"])
    assert result.exit_code == 0, result.output
    assert "on axis 0" in result.output and "on axis 1" in result.output
    error = CliRunner().invoke(cli, ["shapes", "solve", "16", "100", "--max-kernel", "2", "--kind", "transpose"])
    assert error.exit_code == 2 and "Traceback" not in error.output
    assert error.output.startswith("Error: no transposed convolution takes in_size=16 to out_size=100")
    bad = CliRunner().invoke(cli, ["shapes", "transpose", "16", "-k", "3", "-s", "2", "--output-padding", "2"])
    assert bad.exit_code == 2 and "output_padding must be smaller than stride or dilation" in bad.output
    debug = CliRunner().invoke(cli, ["--debug", "shapes", "conv", "4", "-k", "9"])
    assert isinstance(debug.exception, UpsampleError)
    typo = CliRunner().invoke(cli, ["shapes", "conv", "16", "-k", "3", "-s", "two"])
    assert typo.exit_code == 2 and "expected an int, or one int per axis" in typo.output


# ----------------------------------------------------------------------------------------------
# Issue 16: a solver whose cost does not grow with the sizes


def _enumerate_transpose(i: int, o: int, max_kernel: int, max_stride: int | None, dilations: tuple[int, ...]) -> list:
    """The solver before issue 16: every (d, k, s, op) tried, in torch's formula, then sorted."""
    strides = max_stride if max_stride is not None else -(-o // i)
    found = []
    for d in dilations:
        for k in range(1, max_kernel + 1):
            for s in range(1, strides + 1):
                for op in range(max(s, d)):
                    twice_p = (i - 1) * s + d * (k - 1) + op + 1 - o
                    if twice_p >= 0 and twice_p % 2 == 0 and twice_p // 2 <= d * (k - 1):
                        uniform = k % s == 0 and math.gcd(d, s) == 1
                        found.append(ConvTransposeSolution(k, s, twice_p // 2, op, d, uniform))
    return sorted(found, key=lambda x: (not x.uniform_overlap, x.kernel_size, x.padding, x.stride, x.dilation,
                                        x.output_padding))


def _enumerate_conv(i: int, o: int, max_kernel: int, max_stride: int | None, dilations: tuple[int, ...]) -> list:
    strides = max_stride if max_stride is not None else -(-i // o)
    found = []
    for d in dilations:
        for k in range(1, max_kernel + 1):
            for s in range(1, strides + 1):
                for p in range(d * (k - 1) + 1):
                    if i + 2 * p >= d * (k - 1) + 1 and (i + 2 * p - d * (k - 1) - 1) // s + 1 == o:
                        found.append(ConvSolution(k, s, p, d, k % s == 0 and math.gcd(d, s) == 1))
    return sorted(found, key=lambda x: (not x.uniform_overlap, x.kernel_size, x.padding, x.stride, x.dilation))


@pytest.mark.parametrize(("max_kernel", "max_stride", "dilations"),
                         [(8, None, (1,)), (5, None, (1, 2, 3)), (4, 7, (1, 4)), (3, 1, (2,)), (6, 3, (1, 5))])
def test_solvers_list_what_full_enumeration_lists_in_the_same_order(
    max_kernel: int, max_stride: int | None, dilations: tuple[int, ...]
) -> None:
    compared = 0
    for i in range(1, 21):
        for o in range(1, 50):
            for solver, enumerate_, applies in ((solve_conv_transpose, _enumerate_transpose, o >= i),
                                                (solve_conv, _enumerate_conv, o <= i)):
                if not applies:
                    continue
                expected = enumerate_(i, o, max_kernel, max_stride, dilations)
                if not expected:
                    with pytest.raises(InvalidArgumentError, match="raise max_kernel or max_stride"):
                        solver(i, o, max_kernel, max_stride, dilations)
                    continue
                assert solver(i, o, max_kernel, max_stride, dilations) == expected, (i, o)
                compared += 1
    assert compared > 100


@pytest.mark.parametrize(("in_size", "out_size"), [(16, 64000), (16, 10**6), (1, 10**6), (3, 10**12 + 1),
                                                   (10**6, 16), (10**12, 3)])
def test_solver_cost_does_not_grow_with_the_sizes(in_size: int, out_size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a budget of 600 candidate settings (the old search needed ~16e9 for 16 -> 1e6) every size solves."""
    monkeypatch.setattr(arith, "MAX_SEARCH_STEPS", 600)
    solver = solve_conv_transpose if out_size >= in_size else solve_conv
    solutions = solver(in_size, out_size, dilation=(1, 2))
    for s in solutions[:20]:
        if out_size >= in_size:
            assert conv_transpose_output_size(in_size, **s.to_torch()) == out_size
        else:
            assert conv_output_size(in_size, **s.to_torch()) == out_size


def test_cli_solves_a_large_target_quickly() -> None:
    """`shapes solve 16 1000000` took minutes; a generous bound, far above the milliseconds it takes."""
    import time

    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["shapes", "solve", "16", "1000000"])
    assert result.exit_code == 0, result.output
    assert "stride" in result.output and "62500" in result.output
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"max_kernel": 10**30}, r"kernel_size <= 10{30}"),
    ({"dilation": 10**30}, r"dilation in \[10{30}\]"),
    ({"max_stride": 10**12}, r"stride <= 10{12}"),
])
def test_a_search_too_large_to_list_is_refused(kwargs: dict, pattern: str) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"the search over .*{pattern}.* has more than "
                                                   r"MAX_SEARCH_STEPS=1000000 candidate settings"):
        solve_conv_transpose(2, 10**9, **kwargs)


def test_solver_arguments_of_odd_types() -> None:
    """0-d integer arrays and tensors are ints (operator.index); other odd values are type errors."""
    assert solve_conv(8, 4, dilation=np.array(2)) == solve_conv(8, 4, dilation=2)
    assert solve_conv(8, 4, dilation=torch.tensor([1, 2])) == solve_conv(8, 4, dilation=(1, 2))
    assert solve_conv(8, 4, dilation={2, 1}) == solve_conv(8, 4, dilation=(1, 2))
    with pytest.raises(InvalidTypeError, match=r"dilation must be an int or a sequence of ints, but got array\(2.\) \(ndarray\)"):
        solve_conv(8, 4, dilation=np.array(2.0))
    with pytest.raises(InvalidTypeError, match=r"max_kernel must be an int or a sequence of ints, but got nan"):
        solve_conv_transpose(4, 8, max_kernel=math.nan)
    with pytest.raises(InvalidTypeError, match=r"combine_axes needs ConvSolution or ConvTransposeSolution objects "
                                               r"\(from solve_conv or solve_conv_transpose\), but got int"):
        combine_axes(3)  # type: ignore[arg-type]
