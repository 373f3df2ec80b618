"""``upsamplekit shapes``: convolution and transposed-convolution output sizes, and which layers reach a size."""

from __future__ import annotations

from collections.abc import Sequence

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


class _Padding(_Ints):
    """An int per axis, or torch's ``same`` / ``valid``."""

    name = "INT[,INT...]|same|valid"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, ...]:
        if isinstance(value, str) and value.strip().lower() in ("same", "valid"):
            return value.strip().lower()  # type: ignore[return-value]
        return super().convert(value, param, ctx)


INTS = _Ints()


def _arg(values: object) -> object:
    """One value as a plain int (so a 1-D answer prints as an int), several as a tuple."""
    if isinstance(values, tuple) and len(values) == 1:
        return values[0]
    return values


def _per_axis(values: object, ndim: int) -> list[object]:
    return list(values) if isinstance(values, tuple) and len(values) == ndim else [_arg(values)] * ndim


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
    args = [_arg(a) for a in (in_size, kernel, stride, padding, output_padding, dilation)]
    result = arith.conv_transpose_output_size(*args)  # type: ignore[arg-type]
    ndim = len(result) if isinstance(result, tuple) else 1
    outs = result if isinstance(result, tuple) else (result,)
    filled = [
        f"({i} - 1)*{s} - 2*{p} + {d}*({k} - 1) + {op} + 1 = {out}"
        for i, k, s, p, op, d, out in zip(*(_per_axis(a, ndim) for a in args), outs)
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
    args = [_arg(a) for a in (in_size, kernel, stride, padding, dilation)]
    result = arith.conv_output_size(*args)  # type: ignore[arg-type]
    ndim = len(result) if isinstance(result, tuple) else 1
    outs = result if isinstance(result, tuple) else (result,)
    if padding == "same":
        _echo_result(result, "in (padding='same', stride 1)", [str(out) for out in outs])
        return
    numeric = 0 if padding == "valid" else args[3]
    filled = [
        f"floor(({i} + 2*{p} - {d}*({k} - 1) - 1) / {s}) + 1 = {out}"
        for i, k, s, p, d, out in zip(*(_per_axis(a, ndim) for a in (args[0], args[1], args[2], numeric, args[4])), outs)
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
    ndim = max(len(in_size), len(out_size))
    ins, outs = _per_axis(_arg(in_size), ndim), _per_axis(_arg(out_size), ndim)
    if kind == "auto":
        kind = "conv" if any(o < i for i, o in zip(ins, outs)) else "transpose"  # type: ignore[operator]
    solver = arith.solve_conv if kind == "conv" else arith.solve_conv_transpose
    found = solver(_arg(in_size), _arg(out_size), max_kernel, max_stride, dilation)  # type: ignore[arg-type]
    per_axis = found if isinstance(found, tuple) else (found,)
    for axis, solutions in enumerate(per_axis):
        where = f" on axis {axis}" if len(per_axis) > 1 else ""
        layer = "nn.Conv" if kind == "conv" else "nn.ConvTranspose"
        click.echo(f"{layer} settings taking {ins[axis]} to {outs[axis]}{where} ({len(solutions)} found):")
        click.echo(_table(solutions, kind))
        if axis < len(per_axis) - 1:
            click.echo("")


def _table(solutions: Sequence[arith.ConvSolution | arith.ConvTransposeSolution], kind: str) -> str:
    last = "uniform coverage" if kind == "conv" else "checkerboard-free"
    columns = [*solutions[0].to_torch(), last]
    rows = [[*map(str, s.to_torch().values()), "yes" if s.uniform_overlap else "no"] for s in solutions]
    widths = [max(len(c), *(len(r[j]) for r in rows)) for j, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)
