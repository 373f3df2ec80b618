"""Use PyTorch's native upsampling kernels when they compute exactly the spec.

``native_resize`` returns None when no aten kernel computes the requested spec; the
caller then applies gather tables. The aten overloads used take both the output size and
the scale, so the coordinate scale can differ from ``out / in`` as the spec requires.

A torch-convention spec (``coordinate_precision='torch'``) takes the kernel ``F.interpolate``
itself calls wherever torch has one (uint8 bilinear, bicubic and antialias included, and axes
whose length is unchanged, which torch's linear kernels copy), so the result is torch's,
bit for bit; the one exception is torch 2.13's antialias bug for an output width of 1 (see
:func:`_width_one`). The private ``_tables_only()`` context turns this path off for tests.

Deterministic backward: on CUDA, aten's backward of the linear kernels (upsample_linear1d,
bilinear2d, trilinear3d), of bicubic2d, of the antialias kernels (_upsample_bilinear2d_aa,
_upsample_bicubic2d_aa) and of adaptive average pooling (torch's ``area``) scatters each output
gradient into the input with atomicAdd: two backward passes differ in the last bits, and under
``torch.use_deterministic_algorithms(True)`` they raise ("upsample_bilinear2d_backward_out_cuda
does not have a deterministic implementation"). Nearest and nearest-exact backward have no atomics.
So when deterministic algorithms are on (``warn_only`` included), ``x`` is on CUDA and a gradient
will be recorded (``x.requires_grad`` under grad mode), ``native_resize`` declines the atomic kinds
(:func:`atomic_backward`, :func:`_declines`) and the gather-table engine runs, whose backward is
bit-for-bit reproducible. Otherwise nothing changes: aten stays the fast path. The tables compute
the same spec but not torch's float32 arithmetic: float64 results agree with aten's to 6e-14;
float32 results to 2.4e-7 (2 ulp on values in [0, 1)) for integer scales and halvings without
align_corners, but by up to 3e-5 on a 256-pixel axis (7e-5 on 1024 -> 378) where aten's float32
source positions drift along the axis (align_corners, non-integer scales, ``size=`` that is no
multiple): there the tables stay within 3e-7 of the float64 result, aten does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

import torch
import torch.nn.functional as F

from ..errors import InvalidArgumentError, InvalidTypeError
from .coordinates import input_step
from .spec import Resampling

__all__ = ["KERNEL_KINDS", "atomic_backward", "native_resize"]

_aten = torch._C._nn  # the aten upsampling ops as F.interpolate calls them (torch.ops.aten adds ~2 us a call)
_FLOATS = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
# uint8 filters only for torch's own specs: aten's uint8 filters use fixed-point weights and round
# (and clip) between passes, not the round(exact result) that integer_output="round" promises.
_UINT8 = (torch.uint8,)

NativeCall = Callable[[torch.Tensor, list[int], list[float]], torch.Tensor]

# The kinds of aten kernel _select picks, and those whose CUDA backward accumulates with atomicAdd.
KERNEL_KINDS = ("nearest", "nearest_exact", "linear", "bicubic", "linear_aa", "bicubic_aa", "adaptive_avg_pool")
_ATOMIC_KINDS = frozenset({"linear", "bicubic", "linear_aa", "bicubic_aa", "adaptive_avg_pool"})
# Device types whose aten upsample backward is atomic (ROCm devices are "cuda" too).
_ATOMIC_DEVICES = frozenset({"cuda"})


def atomic_backward(kind: str) -> bool:
    """Whether aten's CUDA backward of a kernel kind (one of ``KERNEL_KINDS``) uses atomicAdd.

    True for linear/bilinear/trilinear, bicubic, the antialias (_aa) kernels and adaptive
    average pooling: their gradients are not reproducible on CUDA, and deterministic mode makes
    them raise. False for nearest and nearest-exact, whose backward has no atomics.

    >>> atomic_backward("linear"), atomic_backward("nearest_exact")
    (True, False)
    """
    if kind not in KERNEL_KINDS:
        raise InvalidArgumentError(f"unknown aten kernel kind {kind!r}; expected one of {KERNEL_KINDS}")
    return kind in _ATOMIC_KINDS


def _declines(kind: str, device_type: str, needs_grad: bool, deterministic: bool) -> bool:
    """The determinism rule, pure: decline aten's ``kind`` (so the gather tables run) exactly when
    deterministic algorithms are on, a gradient will be recorded, and the device's backward of that
    kind is atomic. Anything else keeps aten, the fastest path."""
    return deterministic and needs_grad and device_type in _ATOMIC_DEVICES and atomic_backward(kind)


def _declines_for_determinism(x: torch.Tensor, kind: str) -> bool:
    """:func:`_declines` for ``x`` under the current grad mode and deterministic-algorithms flag."""
    if not x.requires_grad:  # the common inference call: one attribute read
        return False
    return _declines(kind, x.device.type, torch.is_grad_enabled(), torch.are_deterministic_algorithms_enabled())


# Private switch: False runs the gather tables alone, with no aten kernel (see _tables_only).
_USE_NATIVE = True


@contextmanager
def _tables_only() -> Iterator[None]:
    """Within this block ``native_resize`` declines every call: for tests of the table engine."""
    global _USE_NATIVE
    previous, _USE_NATIVE = _USE_NATIVE, False
    try:
        yield
    finally:
        _USE_NATIVE = previous


def _nearest(nd: int) -> NativeCall:
    # Called with one scale per axis (aten's ``scales_*`` arguments), which the stubs' overloads cannot match.
    op: Callable[..., torch.Tensor] = {1: _aten.upsample_nearest1d, 2: _aten.upsample_nearest2d,
                                       3: _aten.upsample_nearest3d}[nd]
    return lambda x, size, scales: op(x, size, *scales)


def _nearest_exact(nd: int) -> NativeCall:
    op: Callable[..., torch.Tensor] = {1: _aten._upsample_nearest_exact1d, 2: _aten._upsample_nearest_exact2d,
                                       3: _aten._upsample_nearest_exact3d}[nd]
    return lambda x, size, scales: op(x, size, *scales)


def _linear(nd: int, align_corners: bool) -> NativeCall:
    op: Callable[..., torch.Tensor] = {1: _aten.upsample_linear1d, 2: _aten.upsample_bilinear2d,
                                       3: _aten.upsample_trilinear3d}[nd]
    return lambda x, size, scales: op(x, size, align_corners, *scales)


def _bicubic(align_corners: bool) -> NativeCall:
    op: Callable[..., torch.Tensor] = _aten.upsample_bicubic2d
    return lambda x, size, scales: op(x, size, align_corners, *scales)


def _aa(op: Callable[..., torch.Tensor], align_corners: bool) -> NativeCall:
    return lambda x, size, scales: op(x, size, align_corners, *scales)


def _adaptive(nd: int) -> NativeCall:
    pool: Callable[..., torch.Tensor] = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d,
                                         3: F.adaptive_avg_pool3d}[nd]  # size: a list, one length per axis
    return lambda x, size, scales: pool(x, size)


@lru_cache(maxsize=512)  # a pure function of hashable arguments, on every call's path
def _select(
    spec: Resampling, nd: int, shrinks: bool, width_one: bool = False
) -> tuple[NativeCall, tuple[torch.dtype, ...], str] | None:
    """The aten call computing ``spec`` on ``nd`` spatial dims, the dtypes it accepts and its kind
    (one of ``KERNEL_KINDS``).

    A torch-convention spec (``coordinate_precision='torch'``) takes the very kernel
    ``F.interpolate`` calls, uint8 included (fixed-point weights, rounded and clamped after
    each pass); other specs take a kernel only where it computes the spec's exact result.
    """
    if nd > 3:
        return None
    own = spec.coordinate_precision == "torch"
    own_uint8 = _UINT8 if own else ()
    kernel, coords = spec.kernel, spec.coordinates
    # Widening by max(step, 1) is a no-op when enlarging; torch itself still calls its _aa kernel.
    antialias = spec.antialias and (shrinks or own)
    if kernel == "nearest":
        if spec.coordinate_precision == "float64":
            return None  # aten picks indices in float32: exact float64 positions need the tables
        if coords == "asymmetric" and spec.nearest_mode == "floor":
            return _nearest(nd), _FLOATS + _UINT8, "nearest"
        if (coords, spec.nearest_mode) in (("half_pixel", "round_prefer_ceil"), ("tf_half_pixel_for_nn", "floor")):
            return _nearest_exact(nd), _FLOATS + _UINT8, "nearest_exact"
        return None
    if kernel == "adaptive_area":
        return _adaptive(nd), _FLOATS, "adaptive_avg_pool"
    if kernel == "linear" and not antialias and spec.border in ("replicate", "renormalize"):
        # Linear taps fall outside only past the edge sample, where both borders give the edge.
        if coords in ("half_pixel", "align_corners"):
            call = _linear(nd, coords == "align_corners")
            if nd == 2 and own:
                return (_width_one(call, uint8_only=True) if width_one else call), _FLOATS + _UINT8, "linear"
            return call, _FLOATS, "linear"
        return None
    if nd != 2:
        return None
    if kernel == "cubic" and not antialias and spec.border == "replicate" and spec.cubic_a == -0.75:
        if coords in ("half_pixel", "align_corners"):
            call = _bicubic(coords == "align_corners")
            return (_width_one(call, uint8_only=True) if width_one and own else call), _FLOATS + own_uint8, "bicubic"
        return None
    aa_coords = {"half_pixel": False, "pytorch_antialias_align_corners": True}
    # The _aa kernels widen the filter whenever shrinking (a spec without antialias takes them only
    # to enlarge), and torch 2.13's repeat the first row for an output width of 1: torch's own specs
    # then run as two width passes (_width_one), other specs take the tables.
    if spec.border == "renormalize" and coords in aa_coords and (spec.antialias or not shrinks) and (
            own or not width_one):
        # torch's antialias path is Pillow's filter; enlarging, it is the plain filter with dropped taps.
        if kernel == "linear":
            op, kind = _aten._upsample_bilinear2d_aa, "linear_aa"
        elif kernel == "cubic" and spec.cubic_a == -0.5:
            op, kind = _aten._upsample_bicubic2d_aa, "bicubic_aa"
        else:
            return None
        call = _aa(op, aa_coords[coords])
        return (_width_one(call) if width_one else call), (torch.float32, torch.float64) + own_uint8, kind
    return None


def _width_one(call: NativeCall, uint8_only: bool = False) -> NativeCall:
    """A 2-D call for an output width of 1, as two width passes.

    torch 2.13's separable kernels (every _aa call; uint8 bilinear and bicubic) give every output
    row the first row's value when the output width is 1 and the height changes (the vertical
    pass ignores the weight strides; channels-last inputs with C > 1 and, on AVX2 machines,
    uint8 inputs with C <= 4 are spared). A pass on an axis whose length is unchanged is skipped,
    so resizing the width, then the height as the width of the transposed image, runs torch's
    own two passes in its order, with its own arithmetic. ``uint8_only``: float inputs of this
    call take torch's (correct) joint kernel as they are.
    """
    def run(x: torch.Tensor, size: list[int], scales: list[float]) -> torch.Tensor:
        if uint8_only and x.dtype != torch.uint8:
            return call(x, size, scales)
        narrow = call(x, [x.shape[2], size[1]], scales)
        if size[0] == x.shape[2]:
            return narrow
        tall = call(narrow.transpose(2, 3), [1, size[0]], scales[::-1])
        return tall.transpose(2, 3).contiguous(memory_format=_memory_format(x))

    return run


def _memory_format(x: torch.Tensor) -> torch.memory_format:
    if x.is_contiguous() or not x.is_contiguous(memory_format=torch.channels_last):
        return torch.contiguous_format
    return torch.channels_last


def native_resize(
    x: torch.Tensor,
    spec: Resampling,
    out_sizes: Sequence[int],
    scales: Sequence[float],
) -> torch.Tensor | None:
    """Resize the spatial dims of a channels-first ``x`` with aten, or return None.

    ``x`` is (N, C, *spatial); every spatial axis is resized. None also where deterministic
    algorithms are on and aten's CUDA backward would be atomic (see the module docstring).
    """
    in_sizes = x.shape[2:]
    if not _USE_NATIVE or spec.coordinates == "tf_crop_and_resize":
        return None
    if spec.coordinate_precision in ("opencv", "pillow", "jax"):
        return None  # that framework's own arithmetic builds the tables (aten's float32 picks other ties)
    unchanged = any(i == o and s != 1.0 for i, o, s in zip(in_sizes, out_sizes, scales))
    if unchanged and spec.coordinate_precision != "torch":
        return None  # aten's linear kernels copy an axis whose length is unchanged, whatever its scale
    shrinks = any(
        input_step(spec.coordinates, i, o, s) > 1.0 for i, o, s in zip(in_sizes, out_sizes, scales)
    )
    chosen = _select(spec, len(in_sizes), shrinks, width_one=out_sizes[-1] == 1)
    if chosen is None:
        return None
    call, dtypes, kind = chosen
    if x.dtype not in dtypes or x.dim() != len(in_sizes) + 2:
        return None
    if _declines_for_determinism(x, kind):
        return None  # the tables' gather backward is reproducible; aten's atomic one is not
    if x.dtype == torch.uint8 and spec.kernel != "nearest" and x.device.type != "cpu":
        # The tables would round the exact result, not torch's fixed-point steps: another answer than the CPU's.
        raise InvalidTypeError(
            f"x is a uint8 tensor on {x.device}, but torch's uint8 {kind} filter (the arithmetic "
            "convention='torch' promises) runs on the CPU only; resize x on the CPU, or convert it to float first")
    if spec.coordinates == "pytorch_antialias_align_corners" or spec.kernel == "adaptive_area":
        native_scales: list[float | None] = [None] * len(scales)
    else:
        # No scale where it is out / in (size= or recomputed), as F.interpolate passes: aten then
        # uses in / out itself, not 1 / (out / in), which differs in the last bit.
        native_scales = [None if s == o / i else float(s) for i, o, s in zip(in_sizes, out_sizes, scales)]
    return call(x, list(out_sizes), native_scales)  # type: ignore[arg-type]
