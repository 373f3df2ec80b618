"""Convolution and transposed-convolution shape arithmetic, with the checks torch makes.

Two forward formulas, per spatial axis, exactly as ``torch.nn.Conv{1,2,3}d`` and
``torch.nn.ConvTranspose{1,2,3}d`` compute them (``k`` kernel_size, ``s`` stride, ``p`` padding,
``d`` dilation, ``op`` output_padding)::

    conv:       out = floor((in + 2p - d(k - 1) - 1) / s) + 1
    transposed: out = (in - 1)s - 2p + d(k - 1) + op + 1

and two inverse searches, :func:`solve_conv_transpose` (which layers take ``in`` to ``out``,
upsampling) and :func:`solve_conv` (downsampling).

Every argument is an int or a per-axis sequence; ints broadcast against sequences, and the
result is an int for all-int input and a tuple otherwise. Invalid settings raise
:class:`~upsamplekit.errors.InvalidArgumentError` exactly where torch raises, with the rule and
the value: positive ``in_size``, ``kernel_size``, ``stride`` and ``dilation``; non-negative
``padding`` and ``output_padding``; ``output_padding < max(stride, dilation)``; ``padding="same"``
only with stride 1; and an output of at least one sample.

>>> conv_transpose_output_size(16, kernel_size=3, stride=2, padding=1, output_padding=1)
32
>>> conv_output_size((32, 31), kernel_size=3, stride=2, padding=1)
(16, 16)
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Union, overload

from .checks import sequence_items
from .errors import InvalidArgumentError, InvalidTypeError, unknown_choice

__all__ = [
    "CONV_FORMULA",
    "CONV_TRANSPOSE_FORMULA",
    "MAX_SEARCH_STEPS",
    "ConvSolution",
    "ConvTransposeSolution",
    "combine_axes",
    "conv_output_size",
    "conv_transpose_output_size",
    "solve_conv",
    "solve_conv_transpose",
]

IntOrSeq = Union[int, Sequence[int]]

CONV_FORMULA = "floor((in + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1"
CONV_TRANSPOSE_FORMULA = "(in - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1"

_PADDING_STRINGS = ("same", "valid")

#: The most candidate settings one solver call examines (kernel sizes x dilations, strides and
#: solutions together) before it refuses with an error. The default searches take a few hundred
#: steps whatever the sizes; only a huge ``max_kernel``, ``max_stride`` or dilation comes near.
MAX_SEARCH_STEPS = 10**6


# ----------------------------------------------------------------------------------------------
# Argument handling


def _as_int(name: str, value: object) -> int:
    """``value`` as a Python int; bools, floats and strings are type errors."""
    if isinstance(value, bool):
        raise InvalidTypeError(f"{name} must be an int or a sequence of ints, but got {value!r} (bool)")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidTypeError(
            f"{name} must be an int or a sequence of ints, but got {value!r} ({type(value).__name__})"
        ) from None


def _broadcast(**arguments: object) -> tuple[bool, int, dict[str, tuple[int, ...]]]:
    """Per-axis tuples of every argument: (any argument was a sequence, number of axes, values)."""
    items = {name: sequence_items(value) for name, value in arguments.items()}
    lengths = {name: len(axes) for name, axes in items.items() if axes is not None}
    ndim = max(lengths.values(), default=1)
    for name, length in lengths.items():
        if length == 0:
            raise InvalidArgumentError(f"{name} must have at least one axis, but got an empty sequence")
        if length != ndim:
            listing = ", ".join(f"{n} has {n_axes}" for n, n_axes in lengths.items())
            raise InvalidArgumentError(f"per-axis arguments must have the same number of axes, but {listing}")
    values: dict[str, tuple[int, ...]] = {}
    for name, value in arguments.items():
        axes = items[name]
        values[name] = tuple(_as_int(name, v) for v in axes) if axes is not None else (_as_int(name, value),) * ndim
    return bool(lengths), ndim, values


def _where(axis: int, ndim: int, sequence: bool) -> str:
    return f" on axis {axis}" if sequence and ndim > 1 else ""


def _check_at_least(
    values: dict[str, tuple[int, ...]], minimum: int, names: Iterable[str], sequence: bool, torch_rule: str = ""
) -> None:
    for name in names:
        for axis, value in enumerate(values[name]):
            if value < minimum:
                where = _where(axis, len(values[name]), sequence)
                rule = f" ({torch_rule})" if torch_rule else ""
                raise InvalidArgumentError(f"{name} must be >= {minimum}{rule}, but got {value}{where}")


def _check_common(values: dict[str, tuple[int, ...]], sequence: bool) -> None:
    _check_at_least(values, 1, ["in_size"], sequence, "torch supports no empty spatial axis")
    _check_at_least(values, 1, ["kernel_size", "stride", "dilation"], sequence)
    _check_at_least(values, 0, ["padding"], sequence)


def _finish(outputs: list[int], sequence: bool) -> int | tuple[int, ...]:
    return tuple(outputs) if sequence else outputs[0]


# ----------------------------------------------------------------------------------------------
# Per-axis formulas (no checks; may return values < 1)


def _conv_1d(in_size: int, kernel_size: int, stride: int, padding: int, dilation: int) -> int:
    return (in_size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def _transpose_1d(in_size: int, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int) -> int:
    return (in_size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def _uniform_overlap(kernel_size: int, stride: int, dilation: int) -> bool:
    """Whether the taps of a strided (transposed) convolution hit every phase equally often.

    The taps sit at ``t*dilation`` for ``t < kernel_size``; each output phase modulo ``stride``
    gets the same count exactly when ``kernel_size % stride == 0`` and ``gcd(dilation, stride) == 1``.
    """
    return kernel_size % stride == 0 and math.gcd(dilation, stride) == 1


# ----------------------------------------------------------------------------------------------
# Forward formulas


@overload
def conv_output_size(
    in_size: int, kernel_size: int, stride: int = ..., padding: int | str = ..., dilation: int = ...
) -> int: ...
@overload
def conv_output_size(
    in_size: IntOrSeq, kernel_size: IntOrSeq, stride: IntOrSeq = ..., padding: IntOrSeq | str = ...,
    dilation: IntOrSeq = ...,
) -> int | tuple[int, ...]: ...


def conv_output_size(
    in_size: IntOrSeq,
    kernel_size: IntOrSeq,
    stride: IntOrSeq = 1,
    padding: IntOrSeq | str = 0,
    dilation: IntOrSeq = 1,
) -> int | tuple[int, ...]:
    """Output length of ``nn.Conv{1,2,3}d``: ``floor((in + 2p - d(k - 1) - 1) / s) + 1`` per axis.

    ``padding`` is an int, a per-axis sequence, or torch's ``"valid"`` (no padding) or ``"same"``
    (output length equals input length; torch pads ``d(k - 1)`` in total, the extra sample on the
    right for even totals, and allows it only with stride 1 on every axis).

    >>> conv_output_size(32, kernel_size=3, stride=2, padding=1)
    16
    >>> conv_output_size((17, 9), kernel_size=(3, 1), stride=2, dilation=(2, 1))
    (7, 5)
    >>> conv_output_size((17, 9), kernel_size=4, padding="same")
    (17, 9)
    >>> conv_output_size(16, kernel_size=3, stride=2, padding="same")
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: padding='same' needs stride 1 on every axis (torch does not support it for strided convolutions), but got stride=2
    >>> conv_output_size(4, kernel_size=3, dilation=2)
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: the dilated kernel does not fit: in_size + 2*padding = 4 must be >= dilation*(kernel_size - 1) + 1 = 5 (in_size=4, kernel_size=3, stride=1, padding=0, dilation=2)
    """
    mode = _padding_mode(padding)
    numeric_padding: IntOrSeq = 0 if mode is not None else padding  # type: ignore[assignment]
    sequence, ndim, v = _broadcast(
        in_size=in_size, kernel_size=kernel_size, stride=stride, padding=numeric_padding, dilation=dilation
    )
    _check_common(v, sequence)
    if mode == "same":
        if any(s != 1 for s in v["stride"]):
            shown = v["stride"] if sequence else v["stride"][0]
            raise InvalidArgumentError(
                "padding='same' needs stride 1 on every axis (torch does not support it for strided "
                f"convolutions), but got stride={shown}"
            )
        return _finish(list(v["in_size"]), sequence)
    outputs = []
    for axis in range(ndim):
        i, k, s, p, d = (v[n][axis] for n in ("in_size", "kernel_size", "stride", "padding", "dilation"))
        if i + 2 * p < d * (k - 1) + 1:
            raise InvalidArgumentError(
                f"the dilated kernel does not fit: in_size + 2*padding = {i + 2 * p} must be >= "
                f"dilation*(kernel_size - 1) + 1 = {d * (k - 1) + 1} (in_size={i}, kernel_size={k}, "
                f"stride={s}, padding={p}, dilation={d}){_where(axis, ndim, sequence)}"
            )
        outputs.append(_conv_1d(i, k, s, p, d))
    return _finish(outputs, sequence)


def _padding_mode(padding: object) -> str | None:
    if not isinstance(padding, str):
        return None
    if padding not in _PADDING_STRINGS:
        raise unknown_choice("padding", padding, _PADDING_STRINGS)
    return padding


@overload
def conv_transpose_output_size(
    in_size: int, kernel_size: int, stride: int = ..., padding: int = ..., output_padding: int = ...,
    dilation: int = ...,
) -> int: ...
@overload
def conv_transpose_output_size(
    in_size: IntOrSeq, kernel_size: IntOrSeq, stride: IntOrSeq = ..., padding: IntOrSeq = ...,
    output_padding: IntOrSeq = ..., dilation: IntOrSeq = ...,
) -> int | tuple[int, ...]: ...


def conv_transpose_output_size(
    in_size: IntOrSeq,
    kernel_size: IntOrSeq,
    stride: IntOrSeq = 1,
    padding: IntOrSeq = 0,
    output_padding: IntOrSeq = 0,
    dilation: IntOrSeq = 1,
) -> int | tuple[int, ...]:
    """Output length of ``nn.ConvTranspose{1,2,3}d``: ``(in - 1)s - 2p + d(k - 1) + op + 1`` per axis.

    ``padding`` crops ``p`` samples from each end of the full output; ``output_padding`` adds
    ``op`` samples at the end only (it picks one of the ``s`` input lengths a stride-``s``
    convolution maps to the same output), and torch requires ``op < max(stride, dilation)``.

    >>> conv_transpose_output_size(16, kernel_size=4, stride=2, padding=1)
    32
    >>> conv_transpose_output_size((16, 9), kernel_size=3, stride=2, padding=1, output_padding=(1, 0))
    (32, 17)
    >>> conv_transpose_output_size(16, kernel_size=3, stride=2, output_padding=2)
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: output_padding must be smaller than stride or dilation (output_padding < max(stride, dilation)), but got output_padding=2 with stride=2, dilation=1
    """
    if isinstance(padding, str):
        raise InvalidArgumentError(
            f"padding must be an int or a sequence of ints for a transposed convolution (torch accepts "
            f"'same' and 'valid' only for nn.Conv), but got {padding!r}"
        )
    sequence, ndim, v = _broadcast(
        in_size=in_size, kernel_size=kernel_size, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation,
    )
    _check_common(v, sequence)
    _check_at_least(v, 0, ["output_padding"], sequence)
    outputs = []
    for axis in range(ndim):
        i, k, s, p, op, d = (
            v[n][axis] for n in ("in_size", "kernel_size", "stride", "padding", "output_padding", "dilation")
        )
        where = _where(axis, ndim, sequence)
        if op >= max(s, d):
            raise InvalidArgumentError(
                "output_padding must be smaller than stride or dilation (output_padding < max(stride, "
                f"dilation)), but got output_padding={op} with stride={s}, dilation={d}{where}"
            )
        out = _transpose_1d(i, k, s, p, op, d)
        if out < 1:
            raise InvalidArgumentError(
                f"the output would be empty: {CONV_TRANSPOSE_FORMULA} = {out} must be >= 1 (in_size={i}, "
                f"kernel_size={k}, stride={s}, padding={p}, output_padding={op}, dilation={d}){where}; "
                "reduce padding"
            )
        outputs.append(out)
    return _finish(outputs, sequence)


# ----------------------------------------------------------------------------------------------
# Inverse searches


@dataclass(frozen=True)
class ConvTransposeSolution:
    """One ``nn.ConvTranspose`` setting for one axis; ``uniform_overlap`` means checkerboard-free.

    Uniform overlap: with a constant input and constant weights every interior output sample
    receives the same number of taps (``kernel_size % stride == 0`` and
    ``gcd(dilation, stride) == 1``); otherwise the output alternates, the checkerboard of
    Odena et al. (2016).

    >>> ConvTransposeSolution(4, 2, 1, 0, 1, True).to_torch()
    {'kernel_size': 4, 'stride': 2, 'padding': 1, 'output_padding': 0, 'dilation': 1}
    """

    kernel_size: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    uniform_overlap: bool

    def to_torch(self) -> dict[str, int]:
        """The keyword arguments of ``nn.ConvTranspose{1,2,3}d`` besides the channel counts."""
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "dilation": self.dilation,
        }


@dataclass(frozen=True)
class ConvSolution:
    """One ``nn.Conv`` setting for one axis; ``uniform_overlap`` means every input is covered equally.

    With ``kernel_size % stride == 0`` (and ``gcd(dilation, stride) == 1``) every interior input
    sample lies under the same number of windows, so none is skipped and its gradient (a
    transposed convolution) has no checkerboard.

    >>> ConvSolution(3, 2, 1, 1, False).to_torch()
    {'kernel_size': 3, 'stride': 2, 'padding': 1, 'dilation': 1}
    """

    kernel_size: int
    stride: int
    padding: int
    dilation: int
    uniform_overlap: bool

    def to_torch(self) -> dict[str, int]:
        """The keyword arguments of ``nn.Conv{1,2,3}d`` besides the channel counts."""
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
        }


def combine_axes(*solutions: ConvSolution | ConvTransposeSolution) -> dict[str, tuple[int, ...]]:
    """Merge one solution per axis into the per-axis keyword arguments of one N-D layer.

    >>> rows, cols = solve_conv_transpose((16, 10), (32, 30))
    >>> combine_axes(rows[0], cols[0])
    {'kernel_size': (2, 3), 'stride': (2, 3), 'padding': (0, 0), 'output_padding': (0, 0), 'dilation': (1, 1)}
    """
    if not solutions:
        raise InvalidArgumentError("combine_axes needs one solution per axis, but got none")
    for solution in solutions:
        if not isinstance(solution, (ConvSolution, ConvTransposeSolution)):
            raise InvalidTypeError(
                "combine_axes needs ConvSolution or ConvTransposeSolution objects (from solve_conv or "
                f"solve_conv_transpose), but got {type(solution).__name__}"
            )
    kinds = {type(s) for s in solutions}
    if len(kinds) > 1:
        raise InvalidArgumentError(
            "combine_axes needs solutions of one kind (all ConvSolution or all ConvTransposeSolution), "
            f"but got {sorted(k.__name__ for k in kinds)}"
        )
    per_axis = [s.to_torch() for s in solutions]
    return {name: tuple(kwargs[name] for kwargs in per_axis) for name in per_axis[0]}


def _search_bounds(
    max_kernel: int, max_stride: int | None, dilation: int | Iterable[int]
) -> tuple[int, int | None, tuple[int, ...]]:
    max_kernel = _as_int("max_kernel", max_kernel)
    if max_kernel < 1:
        raise InvalidArgumentError(f"max_kernel must be >= 1, but got {max_kernel}")
    if max_stride is not None:
        max_stride = _as_int("max_stride", max_stride)
        if max_stride < 1:
            raise InvalidArgumentError(f"max_stride must be >= 1 (or None for the size ratio), but got {max_stride}")
    raw = sequence_items(dilation)
    if raw is None and isinstance(dilation, Iterable) and not isinstance(dilation, (str, bytes)) \
            and getattr(dilation, "ndim", None) != 0:  # a set or a generator; a 0-d array is one value
        raw = list(dilation)
    if raw is None:
        raw = [dilation]
    dilations = tuple(sorted({_as_int("dilation", d) for d in raw}))
    if not dilations or dilations[0] < 1:
        raise InvalidArgumentError(f"dilation must list candidate dilations >= 1, but got {dilation!r}")
    return max_kernel, max_stride, dilations


def _sizes(in_size: IntOrSeq, out_size: IntOrSeq) -> tuple[bool, list[tuple[int, int]]]:
    sequence, ndim, v = _broadcast(in_size=in_size, out_size=out_size)
    _check_at_least(v, 1, ["in_size", "out_size"], sequence)
    return sequence, list(zip(v["in_size"], v["out_size"]))


def _no_solution(kind: str, axis_note: str, i: int, o: int, bounds: str, hint: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"no {kind} takes in_size={i} to out_size={o}{axis_note} with {bounds}; {hint}")


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class _Budget:
    """Counts the steps of one search and refuses, before the work, one larger than :data:`MAX_SEARCH_STEPS`."""

    def __init__(self, bounds: str) -> None:
        self.steps = 0
        self.bounds = bounds

    def spend(self, steps: int) -> None:
        self.steps += steps
        if self.steps > MAX_SEARCH_STEPS:
            raise InvalidArgumentError(
                f"the search over {self.bounds} has more than MAX_SEARCH_STEPS={MAX_SEARCH_STEPS} candidate settings "
                "(kernel sizes x dilations, strides and solutions); lower max_kernel, max_stride or the dilations"
            )


def _solve_transpose_1d(
    i: int, o: int, max_kernel: int, max_stride: int | None, dilations: tuple[int, ...], axis_note: str
) -> list[ConvTransposeSolution]:
    """Every (k, s, p, op, d) with ``(i - 1)s + A + op - 2p = o``, ``A = d(k - 1) + 1``.

    Per (d, k) only the strides that can reach ``o`` are visited: ``op >= 0`` and ``p <= A - 1``
    give ``(i - 1)s <= o + A - 2``; ``p >= 0`` and ``op <= max(s, d) - 1 <= s + d - 2`` give
    ``i*s >= o - A - d + 2``. With the default stride bound ``ceil(o / i)`` that leaves about
    ``(A + d) / i + 2`` strides, whatever ``o`` is. For each stride the valid ``op`` form one
    interval of one parity, listed without testing.
    """
    if o < i:
        raise InvalidArgumentError(
            f"out_size must be >= in_size for a transposed convolution (it upsamples), but got in_size={i}, "
            f"out_size={o}{axis_note}; shrinking needs a convolution: use solve_conv"
        )
    strides = max_stride if max_stride is not None else _ceil_div(o, i)
    bounds = f"kernel_size <= {max_kernel}, stride <= {strides}, dilation in {list(dilations)}"
    budget = _Budget(bounds)
    budget.spend(max_kernel * len(dilations))
    found = []
    for d in dilations:
        for k in range(1, max_kernel + 1):
            reach = d * (k - 1) + 1  # A: the dilated kernel's extent
            s_lo = max(1, _ceil_div(o - reach - d + 2, i))
            s_hi = strides if i == 1 else min(strides, (o + reach - 2) // (i - 1))
            budget.spend(max(0, s_hi - s_lo + 1))
            for s in range(s_lo, s_hi + 1):
                base = (i - 1) * s + reach - o  # 2p - op
                op_lo = max(0, -base)
                op_lo += (base + op_lo) % 2  # 2p = base + op is even
                op_hi = min(max(s, d) - 1, 2 * (reach - 1) - base)
                if op_hi < op_lo:
                    continue
                budget.spend((op_hi - op_lo) // 2 + 1)
                uniform = _uniform_overlap(k, s, d)
                found += [ConvTransposeSolution(k, s, (base + op) // 2, op, d, uniform)
                          for op in range(op_lo, op_hi + 1, 2)]
    if not found:
        raise _no_solution(
            "transposed convolution", axis_note, i, o, bounds + ", padding <= dilation*(kernel_size - 1)",
            "raise max_kernel or max_stride",
        )
    return sorted(found, key=lambda x: (not x.uniform_overlap, x.kernel_size, x.padding, x.stride, x.dilation,
                                        x.output_padding))


def _solve_conv_1d(
    i: int, o: int, max_kernel: int, max_stride: int | None, dilations: tuple[int, ...], axis_note: str
) -> list[ConvSolution]:
    """Every (k, s, p, d) with ``floor((i + 2p - A) / s) + 1 = o``, ``A = d(k - 1) + 1``, ``i + 2p >= A``.

    ``m = i + 2p - A`` must lie in ``[(o - 1)s, o*s - 1]``; ``m`` runs over ``[i - A, i + A - 2]``
    in steps of 2, so ``s >= ceil((max(i - A, 0) + 1) / o)`` and ``(o - 1)s <= i + A - 2``: with
    the default stride bound ``ceil(i / o)`` about ``A / o + 2`` strides, whatever ``i`` is.
    """
    if o > i:
        raise InvalidArgumentError(
            f"out_size must be <= in_size for a convolution (solve_conv finds downsampling layers), but got "
            f"in_size={i}, out_size={o}{axis_note}; growing needs a transposed convolution: use solve_conv_transpose"
        )
    strides = max_stride if max_stride is not None else _ceil_div(i, o)
    bounds = f"kernel_size <= {max_kernel}, stride <= {strides}, dilation in {list(dilations)}"
    budget = _Budget(bounds)
    budget.spend(max_kernel * len(dilations))
    found = []
    for d in dilations:
        for k in range(1, max_kernel + 1):
            reach = d * (k - 1) + 1
            s_lo = max(1, _ceil_div(max(i - reach, 0) + 1, o))
            s_hi = strides if o == 1 else min(strides, (i + reach - 2) // (o - 1))
            budget.spend(max(0, s_hi - s_lo + 1))
            for s in range(s_lo, s_hi + 1):
                m_lo = max((o - 1) * s, i - reach, 0)
                m_lo += (m_lo - (i - reach)) % 2  # m = i - A + 2p
                m_hi = min(o * s - 1, i + reach - 2)
                if m_hi < m_lo:
                    continue
                budget.spend((m_hi - m_lo) // 2 + 1)
                uniform = _uniform_overlap(k, s, d)
                found += [ConvSolution(k, s, (m - i + reach) // 2, d, uniform) for m in range(m_lo, m_hi + 1, 2)]
    if not found:
        raise _no_solution(
            "convolution", axis_note, i, o, bounds + ", padding <= dilation*(kernel_size - 1)",
            "raise max_kernel or max_stride",
        )
    return sorted(found, key=lambda x: (not x.uniform_overlap, x.kernel_size, x.padding, x.stride, x.dilation))


@overload
def solve_conv_transpose(
    in_size: int, out_size: int, max_kernel: int = ..., max_stride: int | None = ...,
    dilation: int | Iterable[int] = ...,
) -> list[ConvTransposeSolution]: ...
@overload
def solve_conv_transpose(
    in_size: IntOrSeq, out_size: IntOrSeq, max_kernel: int = ..., max_stride: int | None = ...,
    dilation: int | Iterable[int] = ...,
) -> list[ConvTransposeSolution] | tuple[list[ConvTransposeSolution], ...]: ...


def solve_conv_transpose(
    in_size: IntOrSeq,
    out_size: IntOrSeq,
    max_kernel: int = 8,
    max_stride: int | None = None,
    dilation: int | Iterable[int] = (1,),
) -> list[ConvTransposeSolution] | tuple[list[ConvTransposeSolution], ...]:
    """Every ``nn.ConvTranspose`` setting that takes ``in_size`` to ``out_size``, best first.

    The search covers ``kernel_size <= max_kernel``, ``stride <= max_stride`` (default
    ``ceil(out_size / in_size)``, the upsampling factor), each candidate in ``dilation``, every
    ``output_padding`` torch allows (``< max(stride, dilation)``) and ``padding <=
    dilation*(kernel_size - 1)`` (more padding crops samples the whole kernel reached).
    Order: uniform-overlap (checkerboard-free) settings first, then smaller kernels, then
    smaller padding (then stride, dilation, output_padding).

    Int sizes give a list; per-axis sizes give a tuple with one list per axis (pick one per
    axis and merge them with :func:`combine_axes`).

    >>> for solution in solve_conv_transpose(16, 32)[:5]:
    ...     print(solution)
    ConvTransposeSolution(kernel_size=2, stride=2, padding=0, output_padding=0, dilation=1, uniform_overlap=True)
    ConvTransposeSolution(kernel_size=4, stride=2, padding=1, output_padding=0, dilation=1, uniform_overlap=True)
    ConvTransposeSolution(kernel_size=6, stride=2, padding=2, output_padding=0, dilation=1, uniform_overlap=True)
    ConvTransposeSolution(kernel_size=8, stride=2, padding=3, output_padding=0, dilation=1, uniform_overlap=True)
    ConvTransposeSolution(kernel_size=1, stride=2, padding=0, output_padding=1, dilation=1, uniform_overlap=False)
    >>> solve_conv_transpose(32, 16)
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: out_size must be >= in_size for a transposed convolution (it upsamples), but got in_size=32, out_size=16; shrinking needs a convolution: use solve_conv
    """
    max_kernel, max_stride, dilations = _search_bounds(max_kernel, max_stride, dilation)
    sequence, pairs = _sizes(in_size, out_size)
    results = [
        _solve_transpose_1d(i, o, max_kernel, max_stride, dilations, _where(axis, len(pairs), sequence))
        for axis, (i, o) in enumerate(pairs)
    ]
    return tuple(results) if sequence else results[0]


@overload
def solve_conv(
    in_size: int, out_size: int, max_kernel: int = ..., max_stride: int | None = ...,
    dilation: int | Iterable[int] = ...,
) -> list[ConvSolution]: ...
@overload
def solve_conv(
    in_size: IntOrSeq, out_size: IntOrSeq, max_kernel: int = ..., max_stride: int | None = ...,
    dilation: int | Iterable[int] = ...,
) -> list[ConvSolution] | tuple[list[ConvSolution], ...]: ...


def solve_conv(
    in_size: IntOrSeq,
    out_size: IntOrSeq,
    max_kernel: int = 8,
    max_stride: int | None = None,
    dilation: int | Iterable[int] = (1,),
) -> list[ConvSolution] | tuple[list[ConvSolution], ...]:
    """Every ``nn.Conv`` setting that takes ``in_size`` to ``out_size`` (``out_size <= in_size``), best first.

    The search covers ``kernel_size <= max_kernel``, ``stride <= max_stride`` (default
    ``ceil(in_size / out_size)``), each candidate in ``dilation`` and ``padding <=
    dilation*(kernel_size - 1)`` (more padding makes border outputs see only zeros). Because of
    the floor, several paddings can reach the same size; all are listed. Order and structure as
    in :func:`solve_conv_transpose`: uniform overlap first, then smaller kernels, then smaller
    padding.

    >>> for solution in solve_conv(32, 16)[:3]:
    ...     print(solution)
    ConvSolution(kernel_size=2, stride=2, padding=0, dilation=1, uniform_overlap=True)
    ConvSolution(kernel_size=4, stride=2, padding=1, dilation=1, uniform_overlap=True)
    ConvSolution(kernel_size=6, stride=2, padding=2, dilation=1, uniform_overlap=True)
    """
    max_kernel, max_stride, dilations = _search_bounds(max_kernel, max_stride, dilation)
    sequence, pairs = _sizes(in_size, out_size)
    results = [
        _solve_conv_1d(i, o, max_kernel, max_stride, dilations, _where(axis, len(pairs), sequence))
        for axis, (i, o) in enumerate(pairs)
    ]
    return tuple(results) if sequence else results[0]
