"""``upsamplekit shapes``: convolution and transposed-convolution output sizes, and which layers reach a size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import click

from .. import arith

_SIZES_HELP = "an int, or one int per axis separated by commas (16,24)"


class _Ints(click.ParamType):
    """``16`` or ``16,24``: one int, or one per axis."""

    name = "INT[,INT...]"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        try:
            parsed = tuple(int(part) for part in str(value).split(","))
        except ValueError:
            self.fail(f"expected {_SIZES_HELP}, but got {value!r}", param, ctx)
        return parsed


class _Padding(click.ParamType):
    """An int per axis, or torch's ``same`` / ``valid``."""

    name = "INT[,INT...]|same|valid"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, ...] | str:
        if isinstance(value, str) and value.strip().lower() in ("same", "valid"):
            return value.strip().lower()
        return INTS.convert(value, param, ctx)


INTS = _Ints()
_Solutions = Union[Sequence[arith.ConvSolution], Sequence[arith.ConvTransposeSolution]]


def _arg(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """One value as a plain int (so a 1-D answer prints as an int), several as a tuple."""
    return values[0] if len(values) == 1 else values


def _axes(values: tuple[int, ...], ndim: int) -> list[int]:
    """``values`` on ``ndim`` axes (one value broadcasts); the library reports any other mismatch."""
    return list(values) if len(values) == ndim else [values[0]] * ndim


def _echo_result(result: int | tuple[int, ...], formula: str, filled: Sequence[str]) -> None:
    click.echo(", ".join(str(r) for r in result) if isinstance(result, tuple) else str(result))
    click.echo(f"out = {formula}")
    if len(filled) == 1:
        click.echo(f"    = {filled[0]}")
        return
    for axis, line in enumerate(filled):
        click.echo(f"axis {axis}: {line}")


@click.group()
def shapes() -> None:
    """Output sizes of nn.Conv / nn.ConvTranspose, and the settings that reach a size."""


_kernel = click.option("--kernel", "-k", "kernel", type=INTS, required=True, help=f"kernel_size: {_SIZES_HELP}.")
_stride = click.option("--stride", "-s", type=INTS, default="1", show_default=True, help="stride.")
_dilation = click.option("--dilation", "-d", type=INTS, default="1", show_default=True, help="dilation.")


@shapes.command()
@click.argument("in_size", type=INTS)
@_kernel
@_stride
@click.option("--padding", "-p", type=INTS, default="0", show_default=True, help="padding.")
@click.option("--output-padding", "output_padding", type=INTS, default="0", show_default=True, help="output_padding.")
@_dilation
def transpose(
    in_size: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], padding: tuple[int, ...],
    output_padding: tuple[int, ...], dilation: tuple[int, ...],
) -> None:
    """Output size of nn.ConvTranspose on IN_SIZE, with the formula filled in.

    Example: upsamplekit shapes transpose 16 --kernel 3 --stride 2 --padding 1 --output-padding 1
    """
    result = arith.conv_transpose_output_size(
        _arg(in_size), _arg(kernel), _arg(stride), _arg(padding), _arg(output_padding), _arg(dilation)
    )
    outs = result if isinstance(result, tuple) else (result,)
    axes = (_axes(a, len(outs)) for a in (in_size, kernel, stride, padding, output_padding, dilation))
    filled = [
        f"({i} - 1)*{s} - 2*{p} + {d}*({k} - 1) + {op} + 1 = {out}" for i, k, s, p, op, d, out in zip(*axes, outs)
    ]
    _echo_result(result, arith.CONV_TRANSPOSE_FORMULA.replace("kernel_size", "kernel"), filled)


@shapes.command()
@click.argument("in_size", type=INTS)
@_kernel
@_stride
@click.option("--padding", "-p", type=_Padding(), default="0", show_default=True, help="padding, or same / valid.")
@_dilation
def conv(
    in_size: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], padding: tuple[int, ...] | str,
    dilation: tuple[int, ...],
) -> None:
    """Output size of nn.Conv on IN_SIZE, with the formula filled in (--padding same / valid as torch).

    Example: upsamplekit shapes conv 32 --kernel 3 --stride 2 --padding 1
    """
    pad = padding if isinstance(padding, str) else _arg(padding)
    result = arith.conv_output_size(_arg(in_size), _arg(kernel), _arg(stride), pad, _arg(dilation))
    outs = result if isinstance(result, tuple) else (result,)
    if padding == "same":
        _echo_result(result, "in (padding='same', stride 1)", [str(out) for out in outs])
        return
    numeric = (0,) if isinstance(padding, str) else padding
    axes = (_axes(a, len(outs)) for a in (in_size, kernel, stride, numeric, dilation))
    filled = [
        f"floor(({i} + 2*{p} - {d}*({k} - 1) - 1) / {s}) + 1 = {out}" for i, k, s, p, d, out in zip(*axes, outs)
    ]
    _echo_result(result, arith.CONV_FORMULA.replace("kernel_size", "kernel"), filled)


@shapes.command()
@click.argument("in_size", type=INTS)
@click.argument("out_size", type=INTS)
@click.option("--max-kernel", default=8, show_default=True, type=click.IntRange(1, 64), help="Largest kernel_size.")
@click.option("--max-stride", type=click.IntRange(1, 64), help="Largest stride [default: the size ratio, rounded up].")
@click.option("--dilation", "-d", type=INTS, default="1", show_default=True, help="Candidate dilations, e.g. 1,2.")
@click.option(
    "--kind", type=click.Choice(["auto", "transpose", "conv"]), default="auto", show_default=True,
    help="transpose (nn.ConvTranspose), conv (nn.Conv), or auto: conv when OUT_SIZE < IN_SIZE.",
)
def solve(
    in_size: tuple[int, ...], out_size: tuple[int, ...], max_kernel: int, max_stride: int | None,
    dilation: tuple[int, ...], kind: str,
) -> None:
    """Every layer setting that takes IN_SIZE to OUT_SIZE, checkerboard-free (uniform overlap) first.

    Example: upsamplekit shapes solve 16 32
    """
    if kind == "auto":
        ndim = max(len(in_size), len(out_size))
        shrinks = any(o < i for i, o in zip(_axes(in_size, ndim), _axes(out_size, ndim)))
        kind = "conv" if shrinks else "transpose"
    found: Sequence[_Solutions] | _Solutions
    if kind == "conv":
        found = arith.solve_conv(_arg(in_size), _arg(out_size), max_kernel, max_stride, dilation)
    else:
        found = arith.solve_conv_transpose(_arg(in_size), _arg(out_size), max_kernel, max_stride, dilation)
    per_axis = found if isinstance(found, tuple) else (found,)
    ins, outs = _axes(in_size, len(per_axis)), _axes(out_size, len(per_axis))
    layer = "nn.Conv" if kind == "conv" else "nn.ConvTranspose"
    for axis, solutions in enumerate(per_axis):
        where = f" on axis {axis}" if len(per_axis) > 1 else ""
        click.echo(f"{layer} settings taking {ins[axis]} to {outs[axis]}{where} ({len(solutions)} found):")
        click.echo(_table(solutions, kind))
        if axis < len(per_axis) - 1:
            click.echo("")


def _table(solutions: _Solutions, kind: str) -> str:
    last = "uniform coverage" if kind == "conv" else "checkerboard-free"
    columns = [*solutions[0].to_torch(), last]
    rows = [[*map(str, s.to_torch().values()), "yes" if s.uniform_overlap else "no"] for s in solutions]
    widths = [max(len(c), *(len(r[j]) for r in rows)) for j, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)
