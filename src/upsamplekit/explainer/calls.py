"""What a parsed upsampling call computes: a :class:`Call` (a resize spec or a bilinear
transposed convolution, the output size it asks for, its layout) and how to run it on probes.

Resizes run through :func:`upsamplekit.resize` with the call's :class:`~upsamplekit.Resampling`
(the parity suite checks each preset against the real library). Transposed convolutions run
through ``torch.nn.functional.conv_transpose2d`` with the call's own weights.

>>> t = Transposed.bilinear(kernel=4, stride=2, padding=1)
>>> t.output_size((2, 2)), t.effective_spec().border
((4, 4), 'zero')
>>> import torch
>>> t.run(torch.ones(1, 1, 2, 2))[0, 0, 0].tolist()  # seed 003: zero padding darkens the border
[0.5625, 0.75, 0.75, 0.5625]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from ..checks import compact, is_integer, per_axis
from ..errors import InvalidArgumentError, OutputTooLargeError
from ..resample import Resampling, resize
from ..resample import api as resample_api

__all__ = ["Call", "Transposed", "Request", "output_size", "run_call", "MAX_TAPS", "check_bytes"]

#: The longest kernel (and stride) of a transposed convolution explain reads, per axis: a bilinear filler
#: for scale s has 2s taps, and reading its shape back costs time quadratic in the taps.
MAX_TAPS = 1024

Request = tuple[Literal["size", "scale"], tuple[float, float]]
Layout = Literal["channels_first", "channels_last", "image"]
Pair = tuple[int, int]


@dataclass(frozen=True)
class Transposed:
    """A stride-``s`` transposed convolution whose depthwise weights are a separable triangle.

    Per axis: ``taps`` (the 1-D filter, float64), ``stride``, and the crop of the full
    transposed convolution (length ``(in - 1) * s + K``): ``crop_start`` samples at the start
    and ``crop_end`` at the end (negative: zeros appended, as ``output_padding > padding``
    does). ``border='replicate'`` first replicates the edge pixels (``F.pad(x, ...,
    mode='replicate')``) far enough that no output sees the zero padding, and crops the extra
    outputs; ``'zero'`` is what ``conv_transpose2d`` does.
    """

    taps: tuple[tuple[float, ...], tuple[float, ...]]
    stride: Pair
    crop_start: Pair
    crop_end: Pair
    border: Literal["zero", "replicate"] = "zero"
    description: str = ""

    @classmethod
    def bilinear(cls, kernel: int | Pair, stride: int | Pair, padding: int | Pair = 0, output_padding: int | Pair = 0,
                 border: Literal["zero", "replicate"] = "zero") -> Transposed:
        """``conv_transpose2d(x, w, stride, padding, output_padding, groups=C)`` with FCN's bilinear
        filler ``w`` (seed 003's ``make_bilinear_weights(K, C)``): per axis a triangle of half-width
        ``f = (K + 1) // 2`` centred in the kernel, ``w[k] = 1 - |k - (K - 1) / 2| / f``."""
        ks, ss, ps, ops = (_pair(name, v) for name, v in (("kernel", kernel), ("stride", stride),
                                                           ("padding", padding), ("output_padding", output_padding)))
        taps = (_fcn_taps(ks[0]), _fcn_taps(ks[1]))
        return cls(taps, ss, ps, (ps[0] - ops[0], ps[1] - ops[1]), border,
                   f"bilinear transposed convolution (kernel {_show(ks)}, stride {_show(ss)}, padding {_show(ps)}"
                   + (f", output_padding {_show(ops)}" if any(ops) else "") + ")")

    @classmethod
    def upsamplekit(cls, scale: int | Pair, kernel_size: int | Pair | None = None,
                    exact_borders: bool = False) -> Transposed:
        """``upsamplekit.nn.TransposedConv(C, C, scale, init='bilinear')``: kernel ``2 * scale`` by
        default, cropped ``floor((K - s) / 2)`` at the start and the rest at the end."""
        from ..nn.functional import bilinear_kernel

        ss = _pair("scale", scale)
        ks = (2 * ss[0], 2 * ss[1]) if kernel_size is None else _pair("kernel_size", kernel_size)
        taps = (tuple(float(v) for v in bilinear_kernel(ss[0], dims=1, kernel_size=ks[0]).tolist()),
                tuple(float(v) for v in bilinear_kernel(ss[1], dims=1, kernel_size=ks[1]).tolist()))
        starts = ((ks[0] - ss[0]) // 2, (ks[1] - ss[1]) // 2)
        ends = (ks[0] - ss[0] - starts[0], ks[1] - ss[1] - starts[1])
        border: Literal["zero", "replicate"] = "replicate" if exact_borders else "zero"
        return cls(taps, ss, starts, ends, border,
                   f"TransposedConv(scale {_show(ss)}, kernel {_show(ks)}, init='bilinear'"
                   + (", exact_borders=True)" if exact_borders else ")"))

    @property
    def kernel(self) -> Pair:
        return (len(self.taps[0]), len(self.taps[1]))

    def output_size(self, size: Pair) -> Pair:
        """``(in - 1) * s + K - crop_start - crop_end`` per axis (``conv_transpose_output_size``)."""
        h, w = ((n - 1) * s + k - a - b for n, s, k, a, b in
                zip(size, self.stride, self.kernel, self.crop_start, self.crop_end))
        out = (h, w)
        if min(out) < 1:
            raise InvalidArgumentError(f"the transposed convolution gives an output of {out} for an input of "
                                       f"{tuple(size)}; every length must be at least 1")
        return out

    def replicate_pad(self) -> Pair:
        """Input pixels replicated per side under ``border='replicate'``: enough that every kept
        output sees only replicated values, never the zero padding."""
        (kh, kw), (sh, sw) = self.kernel, self.stride
        return (math.ceil(kh / sh) + 1, math.ceil(kw / sw) + 1)

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Apply to (N, C, H, W): one depthwise filter per channel, no bias."""
        n, c, h, w = x.shape
        out_h, out_w = self.output_size((h, w))
        pad = self.replicate_pad() if self.border == "replicate" else (0, 0)
        full_h, full_w = ((n_in + 2 * p - 1) * s + k for n_in, p, s, k in zip((h, w), pad, self.stride, self.kernel))
        check_bytes("the transposed convolution", (n, c, max(full_h, out_h), max(full_w, out_w)),
                    x.element_size(), "its output")
        weight = torch.tensor(np.outer(self.taps[0], self.taps[1]), dtype=x.dtype).expand(c, 1, *self.kernel)
        pad = (0, 0)
        if self.border == "replicate":
            pad = self.replicate_pad()
            x = F.pad(x, (pad[1], pad[1], pad[0], pad[0]), mode="replicate")
        full = F.conv_transpose2d(x, weight.contiguous(), stride=self.stride, groups=c)
        starts = [a + p * s for a, p, s in zip(self.crop_start, pad, self.stride)]
        lengths = (out_h, out_w)
        for axis in (0, 1):
            start, length = starts[axis], lengths[axis]
            available = full.shape[2 + axis]
            if start + length > available:  # output_padding past the full convolution: zeros
                extra = start + length - available
                widths = (0, 0, 0, extra) if axis == 0 else (0, extra, 0, 0)
                full = F.pad(full, widths)
            if start < 0:
                widths = (0, 0, -start, 0) if axis == 0 else (-start, 0, 0, 0)
                full = F.pad(full, widths)
                start = 0
            full = full.narrow(2 + axis, start, length)
        return full

    def triangle(self, axis: int) -> tuple[float, float] | None:
        """``(half_width, centre)`` in output pixels when the taps are a triangle, else None."""
        taps = np.asarray(self.taps[axis])
        k = len(taps)
        centre = (k - 1) / 2
        for half in range(1, k + 2):
            expected = np.clip(1 - np.abs(np.arange(k) - centre) / half, 0, None)
            if np.allclose(taps, expected, atol=1e-12):
                return float(half), centre
        peak = int(np.argmax(taps))
        for half in range(1, k + 2):
            for c in (peak, peak - 0.5, peak + 0.5):
                expected = np.clip(1 - np.abs(np.arange(k) - c) / half, 0, None)
                if np.allclose(taps, expected, atol=1e-12):
                    return float(half), float(c)
        return None

    def shift(self, axis: int) -> float | None:
        """Where output ``i`` samples the input, as an offset from half-pixel centres: ``x(i) =
        (i + 0.5) / s - 0.5 + shift`` (input pixels); None when the taps are not a triangle."""
        tri = self.triangle(axis)
        if tri is None:
            return None
        s = self.stride[axis]
        return (self.crop_start[axis] - tri[1] - 0.5 + s / 2) / s

    def gain(self, axis: int) -> float:
        """The interior output of a constant 1 along ``axis``: 1 for an interpolating filter."""
        taps = np.asarray(self.taps[axis])
        s = self.stride[axis]
        return float(max(taps[p::s].sum() for p in range(s)))

    def effective_spec(self) -> Resampling | None:
        """The :class:`Resampling` this layer computes, when it is a linear interpolation
        (triangle of half-width ``s``, half-pixel or asymmetric centres, length ``in * s``);
        borders ``zero`` (or ``replicate`` under ``border='replicate'``)."""
        coordinates: set[Literal["half_pixel", "asymmetric"]] = set()
        for axis in (0, 1):
            tri = self.triangle(axis)
            s = self.stride[axis]
            if tri is None or tri[0] != s or self.kernel[axis] - s != self.crop_start[axis] + self.crop_end[axis]:
                return None
            offset = self.crop_start[axis] - tri[1]
            if math.isclose(offset, 0.5 - s / 2):
                coordinates.add("half_pixel")
            elif math.isclose(offset, 0.0):
                coordinates.add("asymmetric")
            else:
                return None
        if len(coordinates) != 1:
            return None
        return Resampling(kernel="linear", coordinates=coordinates.pop(),
                          border="zero" if self.border == "zero" else "replicate")


@dataclass(frozen=True)
class Call:
    """One parsed upsampling call and what it computes.

    ``spec``: the resize it performs (None for a transposed convolution, see ``transposed``).
    ``request``: ``("size", (H, W))`` or ``("scale", (sh, sw))`` (height first, whatever the
    framework's own order), or None when the call does not say (``jax.image.resize(x, shape,
    ...)``): the other call's request is used then. ``layout``: the tensor layout the
    framework takes. ``size_order``: ``"wh"`` where the framework writes sizes as (width,
    height) (OpenCV, Pillow). ``options``: the call's own arguments, for re-building it.
    ``text``: the call written back in its framework's words (the canonical form of ``source``),
    set by the vocabulary that builds every call (:func:`upsamplekit.explainer.vocab.parse_call`).
    """

    framework: str
    function: str
    options: tuple[tuple[str, Any], ...]
    source: str
    spec: Resampling | None = None
    request: Request | None = None
    transposed: Transposed | None = None
    layout: Layout = "channels_first"
    size_order: Literal["hw", "wh"] = "hw"
    notes: tuple[str, ...] = ()
    signature: str = ""
    tensor: str | None = None
    text: str = field(default="", compare=False, repr=False)

    @property
    def option_dict(self) -> dict[str, Any]:
        return dict(self.options)

    def semantic_spec(self) -> Resampling | None:
        """The resize spec, or the transposed convolution's equivalent one where it has one."""
        if self.spec is not None:
            return self.spec
        return self.transposed.effective_spec() if self.transposed is not None else None


def output_size(call: Call, size: Pair, request: Request) -> Pair:
    """The output (H, W) of ``call`` on an (h, w) input, with ``request`` the size request in force."""
    if call.transposed is not None:
        return call.transposed.output_size(size)
    probe = torch.zeros(1, 1, *size)
    out = run_call(call, probe, request)
    return (int(out.shape[2]), int(out.shape[3]))


def run_call(call: Call, x: torch.Tensor, request: Request) -> torch.Tensor:
    """Run ``call`` on (N, C, H, W) ``x`` with ``request`` (the call's own, or the other call's)."""
    if call.transposed is not None:
        return call.transposed.run(x)
    if call.spec is None:
        raise InvalidArgumentError(f"{call.source!r} has neither a resize spec nor a transposed convolution")
    kind, values = request
    if kind == "size":
        return resize(x, size=tuple(int(v) for v in values), spec=call.spec)
    return resize(x, scale_factor=tuple(float(v) for v in values), spec=call.spec)


def _pair(name: str, value: Any) -> Pair:
    """One integer or two (height, width) as a pair, each in [0, MAX_TAPS]."""
    items = per_axis(name, value, 2)
    if not all(is_integer(v) and 0 <= int(v) <= MAX_TAPS for v in items):
        raise InvalidArgumentError(f"{name} must be an integer in [0, {MAX_TAPS}] or two (height, width), "
                                   f"but got {value!r}")
    return (int(items[0]), int(items[1]))


def check_bytes(name: str, shape: tuple[int, ...], itemsize: int, what: str) -> None:
    """Refuse an array of ``shape`` that would pass resize's output guard
    (:data:`upsamplekit.resample.api.DEFAULT_MAX_OUTPUT_BYTES`, ``UPSAMPLEKIT_MAX_OUTPUT_BYTES``), before
    it is allocated; ``name`` is the argument that asks for it.

    >>> check_bytes("sizes", (5, 1, 10**6, 10**6), 8, "the probes")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    upsamplekit.errors.OutputTooLargeError: sizes: the probes of shape (5, 1, 1000000, 1000000) would take 37252.90 GiB, more than the output guard max_output_bytes=...
    """
    limit = resample_api.DEFAULT_MAX_OUTPUT_BYTES
    nbytes = math.prod(shape) * itemsize
    if nbytes > limit:
        raise OutputTooLargeError(f"{name}: {what} of shape {tuple(shape)} would take {min(nbytes, 2**1000) / 2**30:.2f} GiB, more "
                                  f"than the output guard max_output_bytes={limit} ({limit / 2**30:.2f} GiB, "
                                  f"UPSAMPLEKIT_MAX_OUTPUT_BYTES)")


def _show(values: tuple[int, ...]) -> str:
    return str(compact(values))


def _fcn_taps(k: int) -> tuple[float, ...]:
    """FCN's ``upsample_filt`` (seed 003's ``make_bilinear_weights``) along one axis."""
    factor = (k + 1) // 2
    centre = factor - 1 if k % 2 == 1 else factor - 0.5
    return tuple(float(v) for v in 1 - np.abs(np.arange(k) - centre) / factor)

