"""Costs of a forward pass: multiply-accumulates (MACs) and parameter counts.

:func:`count_macs` runs the module once under :class:`torch.utils.flop_counter.FlopCounterMode`
with formulas added for the operations torch does not count (every aten upsampling op,
``grid_sample``, pooling, pixel shuffle, the gather tables of :func:`upsamplekit.resize` and
elementwise products). FLOPs are ``2 * MACs`` (torch's own convention: its counter reports
``2 * MACs`` as FLOPs).

>>> import torch
>>> from upsamplekit.nn import TransposedConv
>>> count_macs(TransposedConv(8, 4, scale=2), torch.zeros(1, 8, 16, 16))  # 8*4*4*4*16*16
131072
>>> count_macs(torch.nn.Upsample(scale_factor=2, mode="bilinear"), torch.zeros(1, 3, 8, 8))  # 3*16*16*4
3072
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Literal, overload

import numpy as np
import torch
from torch import nn

from .checks import check_bool
from .errors import InvalidArgumentError, InvalidTypeError, UpsampleError

__all__ = ["count_macs", "count_params", "MAC_FORMULAS"]

aten = torch.ops.aten
MacFormula = Callable[..., int]


# --------------------------------------------------------------------------- formulas
# Each formula gets the op's arguments as tensors (not shapes) and its output as ``out``,
# and returns MACs for the whole call (batch included).
def _numel(out: Any) -> int:
    first = out[0] if isinstance(out, (tuple, list)) else out
    return int(first.numel())


def _zero(*args: Any, out: Any = None, **kwargs: Any) -> int:
    return 0


def _per_output(taps: int) -> MacFormula:
    def formula(*args: Any, out: Any = None, **kwargs: Any) -> int:
        return taps * _numel(out)

    return formula


def _grid_sampler(taps_by_mode: dict[int, int]) -> MacFormula:
    """``grid_sampler_{2,3}d(input, grid, interpolation_mode, padding_mode, align_corners)``."""

    def formula(x: torch.Tensor, grid: torch.Tensor, mode: int, *args: Any, out: Any = None, **kwargs: Any) -> int:
        return taps_by_mode[int(mode)] * _numel(out)

    return formula


def _adaptive_avg_pool(x: torch.Tensor, output_size: Sequence[int], *args: Any, out: Any = None,
                       **kwargs: Any) -> int:
    """Every output averages its window ``[floor(i * n / m), ceil((i + 1) * n / m))`` per axis."""
    out_sizes = list(out.shape[-len(output_size):])
    in_sizes = list(x.shape[-len(output_size):])
    windows = 1
    for n, m in zip(in_sizes, out_sizes):
        windows *= sum(-((-(i + 1) * n) // m) - (i * n) // m for i in range(m))
    return int(out.numel() // math.prod(out_sizes)) * windows


def _avg_pool(nd: int) -> MacFormula:
    def formula(x: torch.Tensor, kernel_size: Sequence[int] | int, *args: Any, out: Any = None, **kwargs: Any) -> int:
        kernel = [int(k) for k in kernel_size] if isinstance(kernel_size, Sequence) else [int(kernel_size)]
        return _numel(out) * math.prod(kernel * nd if len(kernel) == 1 else kernel)

    return formula


def _antialias(interp_size: int) -> MacFormula:
    """``_upsample_{bilinear,bicubic}2d_aa``: aten's two separable passes of the widened filter.

    aten resizes the width, then the height (an axis whose length is unchanged is skipped).
    Along an axis, output ``i`` multiplies the ``xsize`` input samples of aten's window
    (``_compute_indices_min_size_weights_aa``: support ``interp_size / 2``, widened by the
    step ``in / out`` when shrinking, centred at ``step * (i + 0.5)``, clipped to the input).
    """

    def formula(x: torch.Tensor, output_size: Sequence[int] | None, align_corners: bool, *scales: Any,
                out: Any = None, **kwargs: Any) -> int:
        (h, w), (oh, ow) = x.shape[-2:], out.shape[-2:]
        planes = int(out.numel() // (oh * ow))
        dtype = np.float64 if x.dtype == torch.float64 else np.float32  # aten's scalar_t
        scale_h, scale_w = _aa_scales(scales, kwargs)
        macs = 0
        if w != ow:  # horizontal pass: (H_in, W_out) outputs
            macs += h * _aa_axis_taps(w, ow, bool(align_corners), scale_w, interp_size, dtype)
        if h != oh:  # vertical pass: (H_out, W_out) outputs
            macs += ow * _aa_axis_taps(h, oh, bool(align_corners), scale_h, interp_size, dtype)
        return planes * macs

    return formula


def _aa_axis_taps(n: int, m: int, align_corners: bool, scale: float | None, interp_size: int,
                  dtype: type[np.floating[Any]]) -> int:
    """Sum over the ``m`` outputs of aten's ``xsize`` along one axis of length ``n``."""
    if align_corners:
        step = dtype((n - 1) / (m - 1)) if m > 1 else dtype(0.0)
    else:
        step = dtype(1.0 / scale) if scale else dtype(n) / dtype(m)  # area_pixel_compute_scale
    half = dtype(interp_size * 0.5)
    support = half * step if step >= 1.0 else half
    centre = step * (np.arange(m, dtype=dtype) + dtype(0.5))
    first = np.maximum(np.trunc(centre - support + dtype(0.5)), 0)
    last = np.minimum(np.trunc(centre + support + dtype(0.5)), n)
    max_taps = math.ceil(float(support)) * 2 + 1
    return int(np.clip(last - first, 0, max_taps).sum())


def _aa_scales(scales: tuple[Any, ...], kwargs: dict[str, Any]) -> list[float | None]:
    """(scale_h, scale_w) of an ``_aa`` call: ``.default`` takes two floats, ``.vec`` a list."""
    if scales and isinstance(scales[0], (list, tuple)):
        return list(scales[0])
    if kwargs.get("scale_factors") is not None:
        return list(kwargs["scale_factors"])
    return [*scales, *[kwargs.get("scales_h"), kwargs.get("scales_w")][len(scales):]][:2]


def _embedding_bag(weight: torch.Tensor, indices: torch.Tensor, *args: Any, out: Any = None, **kwargs: Any) -> int:
    """One weighted row added per index: :func:`upsamplekit.resize`'s gather tables (a tap each)."""
    return int(indices.numel()) * int(weight.shape[-1])


def _product(first: int) -> MacFormula:
    """An elementwise product of floating tensors (factors at ``args[first:first + 2]``).

    One MAC per output element when both factors are tensors; scaling by a Python number is
    not counted (it folds into the neighbouring weights, as a bias does), and integer
    products are index arithmetic.
    """

    def formula(*args: Any, out: Any = None, **kwargs: Any) -> int:
        result = out[0] if isinstance(out, (tuple, list)) else out
        factors = args[first:first + 2]
        if not isinstance(result, torch.Tensor) or not result.is_floating_point() or len(factors) < 2:
            return 0
        return int(result.numel()) if all(isinstance(f, torch.Tensor) for f in factors) else 0

    return formula


#: MAC formulas added to torch's own (which count convolutions, matrix products and attention).
MAC_FORMULAS: dict[Any, MacFormula] = {
    # copies
    **{op: _zero for op in (
        aten.upsample_nearest1d, aten.upsample_nearest2d, aten.upsample_nearest3d,
        aten._upsample_nearest_exact1d, aten._upsample_nearest_exact2d, aten._upsample_nearest_exact3d,
        aten.pixel_shuffle, aten.pixel_unshuffle, aten.index_select,
    )},
    # exp and a normalising division per element: no multiply-accumulate
    aten._softmax: _zero,
    # interpolation: taps per output element and channel
    aten.upsample_linear1d: _per_output(2),
    aten.upsample_bilinear2d: _per_output(4),
    aten.upsample_trilinear3d: _per_output(8),
    aten.upsample_bicubic2d: _per_output(16),
    aten._upsample_bilinear2d_aa: _antialias(2),
    aten._upsample_bicubic2d_aa: _antialias(4),
    aten.grid_sampler_2d: _grid_sampler({0: 4, 1: 0, 2: 16}),  # bilinear, nearest, bicubic
    aten.grid_sampler_3d: _grid_sampler({0: 8, 1: 0}),  # trilinear, nearest
    # pooling: the window per output element
    aten._adaptive_avg_pool2d: _adaptive_avg_pool,
    aten._adaptive_avg_pool3d: _adaptive_avg_pool,
    aten.avg_pool2d: _avg_pool(2),
    aten.avg_pool3d: _avg_pool(3),
    # upsamplekit.resize's gather tables
    aten._embedding_bag: _embedding_bag,
    aten._embedding_bag_forward_only: _embedding_bag,
    # elementwise products of two tensors (CARAFE's reassembly, DySample+'s dynamic range)
    **{op: _product(0) for op in (aten.mul, aten.mul_, aten.div, aten.div_)},
    aten.addcmul: _product(1),
    aten.addcmul_: _product(1),
}
_PRODUCTS = (aten.mul, aten.mul_, aten.div, aten.div_, aten.addcmul, aten.addcmul_)


def _as_flop_formula(formula: MacFormula) -> Callable[..., int]:
    """A FlopCounterMode formula (raw arguments, ``2 * MACs``) from a MAC formula."""

    def flops(*args: Any, out_val: Any = None, **kwargs: Any) -> int:
        return 2 * formula(*args, out=out_val, **kwargs)

    flops._get_raw = True  # type: ignore[attr-defined]  # FlopCounterMode passes tensors, not shapes
    return flops


@cache
def _flop_mapping() -> dict[Any, Callable[..., int]]:
    """Formulas keyed by op packet (what FlopCounterMode counts by) and by every overload.

    FlopCounterMode decomposes an op whose *overload* is not a key before it counts: the
    composite ``upsample_nearest2d.vec`` that ``F.interpolate`` calls would become index
    arithmetic and a gather. Listing the overloads keeps each op whole, counted once.
    """
    mapping: dict[Any, Callable[..., int]] = {}
    for packet, formula in MAC_FORMULAS.items():
        flops = _as_flop_formula(formula)
        mapping[packet] = flops
        for overload in packet.overloads():
            mapping[getattr(packet, overload)] = flops
    return mapping


def _op_name(packet: Any) -> str:
    name = getattr(packet, "__name__", str(packet))
    return name.strip("_").removesuffix("_forward_only")


# --------------------------------------------------------------------------- public
@overload
def count_macs(module: Callable[..., Any], *inputs: Any, by_op: Literal[False] = ..., **kwargs: Any) -> int: ...


@overload
def count_macs(module: Callable[..., Any], *inputs: Any, by_op: Literal[True], **kwargs: Any) -> dict[str, int]: ...


def count_macs(module: Callable[..., Any], *inputs: Any, by_op: bool = False, **kwargs: Any) -> int | dict[str, int]:
    """Multiply-accumulates of one forward pass ``module(*inputs, **kwargs)``.

    Convention: one MAC is one multiplication together with the addition that
    accumulates it, so FLOPs = ``2 * MACs`` (as ``torch.utils.flop_counter`` reports
    them). Per call, batch included:

    * convolution and matmul: torch's own formulas. A convolution counts every kernel
      tap at every output sample (padding taps too), bias excluded; a transposed
      convolution counts every tap at every *input* sample, ``C_in * C_out / groups *
      prod(K) * prod(input spatial)`` (not the output grid, which overcounts by
      ``prod(stride)``).
    * interpolation, per output element and channel: nearest 0 (a copy), linear ``2**d``
      (2, 4, 8 in 1-D, 2-D, 3-D), bicubic 16; antialiased bilinear/bicubic the taps of
      the widened filter in aten's two separable passes (width, then height);
      ``grid_sample`` 4 (bilinear), 8 (3-D), 16 (bicubic), 0 (nearest); adaptive average
      pooling ("area") and average pooling the window.
    * :func:`upsamplekit.resize`'s gather engine (separable, one pass per axis): one MAC
      per tap it computes (``embedding_bag``: the non-zero taps; its short loop of
      ``index_select`` and multiply-add: every tap slot); nearest tables are copies (0).
    * elementwise products (``mul``, ``div``, ``addcmul``) of two floating tensors: one
      per output element (CARAFE's reassembly, DySample+'s ``sigmoid(.) * offset``).
      Scaling by a Python number counts 0 (it folds into the neighbouring weights, like
      a bias); so do additions, subtractions, nonlinearities (softmax, sigmoid, ...),
      copies and reshapes (pixel shuffle, padding).

    For a x2 upsampler on a 256 x 120 x 120 input (the DySample paper's setting) this gives
    CARAFE 2.87 GFLOPs, DySample 0.35, DySample+ 0.59, a k4 transposed convolution 30.2.

    The module runs once under ``torch.no_grad()`` in its current train/eval mode. Only
    shapes matter: a module and inputs on the ``meta`` device are counted without
    computing anything. With
    ``by_op=True`` the result is a dict from op name (``"convolution"``,
    ``"upsample_bilinear2d"``, ``"grid_sampler_2d"``, ``"mul"``, ...) to MACs; the ops
    above that ran and cost nothing (nearest, pixel shuffle, softmax) appear with 0.
    ``**kwargs`` go to the module.

    >>> import torch
    >>> conv = torch.nn.Conv2d(3, 8, 3, padding=1)
    >>> count_macs(conv, torch.zeros(2, 3, 10, 10))  # 2 * 8 * 3 * 3 * 3 * 10 * 10
    43200
    >>> up = torch.nn.Sequential(torch.nn.Upsample(scale_factor=2), conv)
    >>> count_macs(up, torch.zeros(1, 3, 5, 5), by_op=True)
    {'upsample_nearest2d': 0, 'convolution': 21600}
    """
    if not callable(module):
        raise InvalidTypeError(
            f"count_macs: module must be an nn.Module or a callable, but got {type(module).__name__}"
        )
    by_op = check_bool("by_op", by_op, where="count_macs")
    from torch.utils.flop_counter import FlopCounterMode  # on first use: keeps `import upsamplekit` light

    counter = FlopCounterMode(display=False, custom_mapping=_flop_mapping())
    try:
        with torch.no_grad(), counter:
            module(*inputs, **kwargs)
    except UpsampleError:
        raise
    except Exception as error:  # the module's own error, with the context of the count
        shapes = ", ".join(str(tuple(x.shape)) if isinstance(x, torch.Tensor) else type(x).__name__ for x in inputs)
        raise InvalidArgumentError(
            f"count_macs: the module ({type(module).__name__}) failed on the inputs ({shapes}): "
            f"{type(error).__name__}: {error}"
        ) from error
    counts = counter.get_flop_counts().get("Global", {})
    if not by_op:
        return sum(counts.values()) // 2
    merged: dict[str, int] = {}
    for packet, flops in counts.items():
        if flops == 0 and packet in _PRODUCTS:
            continue  # integer index arithmetic and scalings: not products that cost MACs
        name = _op_name(packet)
        merged[name] = merged.get(name, 0) + flops // 2
    return merged


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``module`` (shared ones once; buffers are not parameters).

    ``trainable_only=True`` counts only those with ``requires_grad``.

    >>> import torch
    >>> count_params(torch.nn.Conv2d(3, 8, 3))  # 8 * 3 * 3 * 3 + 8
    224
    """
    if not isinstance(module, nn.Module):
        raise InvalidTypeError(f"count_params: module must be an nn.Module, but got {type(module).__name__}")
    trainable_only = check_bool("trainable_only", trainable_only, where="count_params")
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
