"""`FoldedConv`: an upsampler and the convolution after it, computed on the low-resolution input.

The forward pass is one convolution of the (extended) low-resolution input with ``prod(scale)``
times the output channels, and an interleave of its phases into the output: one strided copy
per run of phases (see :attr:`~upsamplekit.folding.plan.AxisPlan.runs`), a few images at a time
so that the convolution's output is still in cache when it is copied. Where the convolution's
border padding is not a padding of the low-resolution input (linear interpolation then zero
padding, say), the border bands are recomputed exactly as the original computes them: the
upsampler (the same resize call) runs on strips of input rows at each end, the padded
high-resolution rows a band reads are gathered, and the convolution runs on them.

The folded kernel is computed from the original parameters (kept as ``weight`` and ``bias``,
so gradients reach them and ``state_dict`` keys are the convolution's) in every forward pass,
never cached: an edit of the parameters by any route (``.data``, ``copy_`` under ``no_grad``,
``load_state_dict``, an optimiser step) shows in the next output. It is one small matrix product
(the weight times the per-axis tap matrices' Kronecker product, a constant kept per dtype and
device): its cost is measured in docs/benchmarks.md (Fold).
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidArgumentError
from ..nn import functional as UF
from ..nn.layout import check_input
from .plan import AxisPlan, pad_is_valid

__all__ = ["FoldedConv", "FoldSpec", "CHUNK_BYTES", "ROW_BYTES"]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
# The folded convolution runs on as many images at a time as keep its output under CHUNK_BYTES
# (so the output is reused from the allocator and still in cache when it is interleaved); an
# image whose output is larger runs in bands of rows under ROW_BYTES. Measured on a 2-core CPU
# at decoder shapes (docs/fold.md). Cache sizes are a CPU's concern: elsewhere (CUDA), where each
# call costs a launch and cuDNN's layout transposes, whole images run together up to
# DEVICE_CHUNK_BYTES of output (the convolution's output is a second copy of the result).
CHUNK_BYTES = 8 * 2**20
ROW_BYTES = 2 * 2**20
DEVICE_CHUNK_BYTES = 512 * 2**20


@dataclass(frozen=True)
class FoldSpec:
    """Everything a :class:`FoldedConv` needs besides its parameters.

    ``axes``: one :class:`~upsamplekit.folding.plan.AxisPlan` per spatial axis. ``transposed``:
    the weight is laid out as ``nn.ConvTranspose``'s (C_in, C_out / groups, *k) and the
    convolution is its flipped, channel-swapped form. ``cast_input``: the input is converted
    to the weight's dtype first (as :class:`~upsamplekit.nn.ResizeConv` does);
    ``float32_input``: the upsampler returns float32 (TensorFlow and Keras conventions), so
    the input is rounded to float32 first. ``resample``: the upsampler as a resize call
    (method, convention, options), which the border bands run on strips of the input.
    ``description``: what was folded, for reports.
    """

    dims: int
    in_channels: int
    out_channels: int
    groups: int
    axes: tuple[AxisPlan, ...]
    transposed: bool = False
    cast_input: bool = False
    float32_input: bool = False
    resample: tuple[str, str, tuple[tuple[str, Any], ...]] | None = None
    description: str = ""

    @property
    def scale(self) -> tuple[int, ...]:
        return tuple(a.scale for a in self.axes)

    @property
    def kernel(self) -> tuple[int, ...]:
        return tuple(a.kernel for a in self.axes)

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(a.width for a in self.axes)

    def macs_ratio(self) -> float:
        """Multiply-adds of the folded convolution over the original convolution's (per output)."""
        return math.prod(a.macs_ratio() for a in self.axes)

    @property
    def corrects_borders(self) -> bool:
        return any(a.correct for a in self.axes)

    def taps(self) -> np.ndarray:
        """(prod(scale), prod(widths), prod(kernel)) float64: the Kronecker product of the axes'
        :attr:`~upsamplekit.folding.plan.AxisPlan.matrix`, phases, window offsets and kernel taps
        each flattened first axis first; the folded kernel of phase p is ``taps[p] @ kernel``."""
        out = np.ones((1, 1, 1))
        for a in self.axes:
            m = a.matrix
            out = np.einsum("pwk,sxl->pswxkl", out, m).reshape(out.shape[0] * m.shape[0], out.shape[1] * m.shape[1],
                                                                out.shape[2] * m.shape[2])
        return out


class FoldedConv(nn.Module):
    """``conv(upsample(x))`` (or a transposed convolution) computed on the low-resolution input.

    Built by :func:`upsamplekit.fold`; ``weight`` and ``bias`` are the original convolution's
    parameters (same layout and names), ``pre`` an optional module applied first (the 1x1
    channel projection of an :class:`~upsamplekit.nn.Interpolate`, moved before the resize,
    with which it commutes). The output is contiguous.

    >>> import torch
    >>> from torch import nn
    >>> import upsamplekit
    >>> model = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(4, 4, 3, padding=1))
    >>> folded = upsamplekit.fold(model)
    >>> folded[1]
    FoldedConv(nearest x2 + Conv2d 3x3 zeros -> Conv2d 4->16 2x2 on the low-resolution input, 2.25x fewer multiply-adds)
    >>> x = torch.randn(1, 4, 5, 7)
    >>> bool(torch.allclose(folded(x), model(x), atol=1e-5))
    True
    """

    weight: torch.Tensor  # an nn.Parameter when built by fold (torch types a convolution's weight as Tensor)
    bias: torch.Tensor | None

    def __init__(self, spec: FoldSpec, weight: torch.Tensor, bias: torch.Tensor | None,
                 pre: nn.Module | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.weight = weight
        self.bias = bias
        self.pre = pre
        # the constant tap matrix per (dtype, device, inference mode): see folded_parameters
        self._taps: dict[tuple[torch.dtype, torch.device, bool], torch.Tensor] = {}

    # ------------------------------------------------------------------ weights
    def conv_weight(self) -> torch.Tensor:
        """The high-resolution convolution's weight, (C_out, C_in / groups, *k)."""
        w = self.weight
        if not self.spec.transposed:
            return w
        g, k = self.spec.groups, tuple(w.shape[2:])
        cin_g, cout_g = w.shape[0] // g, w.shape[1]
        w = w.reshape(g, cin_g, cout_g, *k).transpose(1, 2).reshape(g * cout_g, cin_g, *k)
        return w.flip(list(range(2, 2 + self.spec.dims)))

    def folded_parameters(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The low-resolution convolution: weight (groups * prod(scale) * C_out / groups,
        C_in / groups, *widths), channels ordered (group, phase, channel), and its bias.

        Computed from ``weight`` and ``bias`` on every call, never cached (a cache keyed on the
        parameters' version counters misses edits through ``.data``, which bypass them): one
        matrix product of the weight with the constant :meth:`taps`."""
        w = self.conv_weight()
        key = (w.dtype, w.device, torch.is_inference_mode_enabled())
        taps = self._taps.get(key)
        if taps is None:  # a tensor made under inference_mode cannot be saved for backward outside it
            taps = self._taps[key] = torch.as_tensor(self.spec.taps(), dtype=w.dtype, device=w.device)
        return _fold_parameters(self.spec, w, self.bias, taps)

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.jit.is_tracing():
            # Shapes, the folded kernel, band indices and window offsets are constants of the traced
            # spatial size (the batch stays dynamic): the tracer's warnings about constants do not apply.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                return self._forward(x)
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = self.spec
        if self.pre is not None:
            x = self.pre(x)
        x = check_input(type(self).__name__, x, spec.dims, spec.in_channels)
        if spec.float32_input and x.dtype != torch.float32:
            x = x.to(torch.float32)
        if spec.cast_input and x.dtype != self.weight.dtype:
            x = x.to(self.weight.dtype)
        self._check_lengths(x)
        if spec.transposed and any(a.out_len(int(n)) == 0 for a, n in zip(spec.axes, x.shape[2:])):
            return self._empty_transposed(x)
        return self._compute(x, spec)

    def _empty_transposed(self, x: torch.Tensor) -> torch.Tensor:
        """An output with a zero-length axis: torch's transposed convolution decides (its 1-D and
        2-D kernels return an empty tensor, its 3-D kernel raises), so ask it."""
        axes = self.spec.axes
        reach = [a.dilation * (a.kernel - 1) for a in axes]
        padding = [r - a.pad_lo for r, a in zip(reach, axes)]
        output_padding = [a.pad_hi - a.pad_lo + a.scale - 1 for a in axes]
        function = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[self.spec.dims]
        return function(x, self.weight, self.bias, stride=[a.scale for a in axes], padding=padding,
                        output_padding=output_padding, groups=self.spec.groups, dilation=[a.dilation for a in axes])

    def _compute(self, x: torch.Tensor, spec: FoldSpec) -> torch.Tensor:
        lengths = [int(v) for v in x.shape[2:]]
        weight, bias = self.folded_parameters()
        extended, padding = _extend(x, spec.axes, lengths)
        conv = _CONV[spec.dims]
        blocks = [a.lr_range(n)[0] for a, n in zip(spec.axes, lengths)]
        exporting = torch.onnx.is_in_onnx_export() or torch.jit.is_tracing()
        if exporting:
            out = _stack(conv(extended, weight, bias, padding=padding, groups=spec.groups), spec, blocks)
        else:
            n = x.shape[0]
            out = x.new_empty(n, spec.out_channels, *(a.scale * b for a, b in zip(spec.axes, blocks)),
                              dtype=weight.dtype)
            step, rows = _chunk(extended, weight, padding, blocks[0], x.device.type)
            if rows < blocks[0]:  # one image's output is large: a band of block rows at a time
                pads = padding if isinstance(padding, list) else [padding] * spec.dims
                if pads[0]:
                    extended = F.pad(extended, [0, 0] * (spec.dims - 1) + [pads[0], pads[0]])
                    padding = [0, *pads[1:]]
                reach = extended.shape[2] - blocks[0]  # input rows beyond the block rows a band reads
                for start in range(0, n, step):
                    for r0 in range(0, blocks[0], rows):
                        r1 = min(r0 + rows, blocks[0])
                        t = conv(extended[start:start + step, :, r0:r1 + reach], weight, bias, padding=padding,
                                 groups=spec.groups)
                        target = out[start:start + step].narrow(2, spec.axes[0].scale * r0,
                                                                spec.axes[0].scale * (r1 - r0))
                        _interleave(t, target, spec, [r1 - r0, *blocks[1:]])
            else:
                for start in range(0, n, step):
                    t = conv(extended[start:start + step], weight, bias, padding=padding, groups=spec.groups)
                    _interleave(t, out[start:start + step], spec, blocks)
        for i, (a, length) in enumerate(zip(spec.axes, lengths)):
            if a.scale * blocks[i] != a.out_len(length):
                out = out.narrow(2 + i, 0, a.out_len(length))
        for axis in range(spec.dims):
            bands = spec.axes[axis].bands(lengths[axis])
            if not bands:
                continue
            computed = self._bands(x, lengths, axis, bands)
            if exporting:  # no in-place writes in a traced graph: one concatenation per axis
                parts, end = [], 0
                for (o0, o1), band in zip(bands, computed):
                    parts += [out.narrow(2 + axis, end, o0 - end), band]
                    end = o1
                parts.append(out.narrow(2 + axis, end, out.shape[2 + axis] - end))
                out = torch.cat([p for p in parts if p.shape[2 + axis] > 0], dim=2 + axis)
            else:
                for (o0, o1), band in zip(bands, computed):
                    out.narrow(2 + axis, o0, o1 - o0).copy_(band)
        return out

    def _bands(self, x: torch.Tensor, lengths: list[int], axis: int, bands: list[tuple[int, int]]
               ) -> list[torch.Tensor]:
        """The outputs of ``bands`` (ranges along ``axis``, all of every other axis), computed as the
        original computes them: the upsampler (the same resize call) runs on the strips of input
        rows the bands need at each end, the high-resolution rows they read are gathered (the
        convolution's padding included), and the convolution runs on them, with the band axis
        moved first and the bands of both ends stacked along the batch when they have one size."""
        spec = self.spec
        plan = spec.axes[axis]
        length, s = lengths[axis], plan.scale
        hr = s * length
        others = [j for j in range(spec.dims) if j != axis]
        order = [axis, *others]
        moved = x.movedim(2 + axis, 2)
        sources = [plan.hr_rows(length, o0, o1) for o0, o1 in bands]
        needed = sorted({h for rows in sources for h in rows if h is not None})
        reach = 1 + max((abs(t) for phase in plan.phases for t, _ in phase), default=0)
        head = [h for h in needed if h < hr - h]
        tail = [h for h in needed if h >= hr - h]
        pieces: list[torch.Tensor] = []
        where: dict[int, int] = {}
        strips = []  # (first input row, rows) of each strip to upsample
        if head:
            strips.append((0, min(length, head[-1] // s + 1 + reach)))
        if tail:
            rows = min(length, (hr - 1 - tail[0]) // s + 1 + reach)
            if strips and strips[0][1] + rows >= length:
                strips = [(0, length)]
            else:
                strips.append((length - rows, rows))
        offset = 0
        for first, rows in strips:
            up = self._resize(moved.narrow(2, first, rows), order)
            for h in range(s * first, s * (first + rows)):
                where.setdefault(h, offset + h - s * first)
            pieces.append(up)
            offset += up.shape[2]
        if any(h is None for rows in sources for h in rows):
            pieces.append(pieces[0].new_zeros(*pieces[0].shape[:2], 1, *pieces[0].shape[3:]) if pieces else
                          moved.new_zeros(*moved.shape[:2], 1, *(a.scale * lengths[j] for j, a in
                                                                  zip(others, (spec.axes[j] for j in others)))))
            where[-1] = offset
        gathered = torch.cat(pieces, dim=2) if len(pieces) > 1 else pieces[0]
        slabs = [gathered.index_select(2, torch.tensor([where[-1 if h is None else h] for h in rows],
                                                      device=x.device)) for rows in sources]
        # bands of one size run as one batch; under export the seam form keeps the batch dynamic
        exporting = torch.onnx.is_in_onnx_export() or torch.jit.is_tracing()
        batched = len({len(rows) for rows in sources}) == 1 and not exporting
        slab = torch.cat(slabs, dim=0 if batched else 2) if len(slabs) > 1 else slabs[0]
        weight = self.conv_weight().permute(0, 1, *(2 + j for j in order))
        pads = [0, 0] + [p for j in others for p in (spec.axes[j].pad_lo, spec.axes[j].pad_hi)]
        mode = plan.hr_mode
        if any(pads):
            slab = F.pad(slab, list(_reversed_pairs(pads)), mode="constant" if mode == "zeros" else mode)
        y = _band_conv(slab, weight, self.bias, [spec.axes[j].dilation for j in order], spec.groups)
        if batched:
            parts = list(y.split(x.shape[0])) if len(slabs) > 1 else [y]
        else:
            parts, start = [], 0
            for o0, o1 in bands:
                parts.append(y.narrow(2, start, o1 - o0))
                start += o1 - o0 + plan.dilation * (plan.kernel - 1)
        return [part.movedim(2, 2 + axis) for part in parts]

    def _resize(self, x: torch.Tensor, order: list[int]) -> torch.Tensor:
        """The original upsampler on ``x``, whose spatial axes are this layer's in ``order``."""
        if self.spec.resample is None:
            raise InvalidArgumentError(f"{type(self).__name__}: border bands need the upsampler's resize call")
        method, convention, options = self.spec.resample
        scales = [self.spec.axes[j].scale for j in order]
        y = UF.interpolate(x, scale_factor=scales, method=method, convention=convention, **dict(options))
        return y if y.dtype == x.dtype else y.to(x.dtype)

    def _check_lengths(self, x: torch.Tensor) -> None:
        for i, (a, n) in enumerate(zip(self.spec.axes, x.shape[2:])):
            hr = a.scale * int(n)
            if a.out_len(int(n)) < (0 if self.spec.transposed else 1):  # transposed: see _empty_transposed
                raise InvalidArgumentError(
                    f"{type(self).__name__}: spatial axis {i} of the input (shape {tuple(x.shape)}) is too short for "
                    f"the convolution: {hr} upsampled samples, padding ({a.pad_lo}, {a.pad_hi}), kernel {a.kernel} "
                    f"with dilation {a.dilation} leave {a.out_len(int(n))} outputs")
            for pad in (a.pad_lo, a.pad_hi):
                if not pad_is_valid(a.hr_mode, pad, hr):
                    raise InvalidArgumentError(
                        f"{type(self).__name__}: {a.hr_mode} padding by {pad} needs an upsampled length "
                        f"{'greater than' if a.hr_mode == 'reflect' else 'at least'} {pad} on spatial axis {i}, "
                        f"but the input of shape {tuple(x.shape)} upsamples to {hr}")

    def extra_repr(self) -> str:
        return self.spec.description


# ---------------------------------------------------------------------------- helpers
# Border bands whose unfolded input holds at most this many values are convolved as one matrix
# product (oneDNN's fixed cost, ~0.2 ms a call, dominates such small convolutions).
SMALL_BAND = 2**18


def _band_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, dilation: list[int],
               groups: int) -> torch.Tensor:
    """A stride-1 convolution without padding: a matrix product over the unfolded input when it is
    small, else torch's convolution."""
    kernel = weight.shape[2:]
    outs = [n - d * (k - 1) for n, d, k in zip(x.shape[2:], dilation, kernel)]
    unfolded_size = x.shape[0] * x.shape[1] * math.prod(outs) * math.prod(kernel)
    exporting = torch.onnx.is_in_onnx_export() or torch.jit.is_tracing()
    if unfolded_size > SMALL_BAND or exporting or min(outs) < 1:
        return _CONV[len(kernel)](x, weight, bias, dilation=dilation, groups=groups)
    windows = x
    for i, (d, k) in enumerate(zip(dilation, kernel)):
        windows = windows.unfold(2 + i, d * (k - 1) + 1, 1)
        if d > 1:
            windows = windows[..., ::d]
    # windows: (N, C, *outs, *kernel); contract channels (per group) and kernel taps with the weight
    n, c, d = x.shape[0], x.shape[1], len(kernel)
    windows = windows.reshape(n, groups, c // groups, *outs, *kernel)
    w = weight.reshape(groups, weight.shape[0] // groups, c // groups, *kernel)
    letters = "ijk"[:d]
    taps = "pqr"[:d]
    y = torch.einsum(f"ngc{letters}{taps},goc{taps}->ngo{letters}", windows, w).reshape(n, weight.shape[0], *outs)
    return y if bias is None else y + bias.view(1, -1, *([1] * d))


def _reversed_pairs(pads: list[int]) -> list[int]:
    """(lo, hi) pairs listed first axis first, as F.pad wants them: last axis first."""
    pairs = [pads[i:i + 2] for i in range(0, len(pads), 2)]
    return [p for pair in reversed(pairs) for p in pair]


def _fold_parameters(spec: FoldSpec, w: torch.Tensor, b: torch.Tensor | None, taps: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The (C_out, C_in / groups, *k) weight times ``taps`` (:meth:`FoldSpec.taps` as a tensor),
    laid out as the folded convolution's weight; the bias repeated once per phase."""
    g = spec.groups
    cout_g, cin_g = w.shape[0] // g, w.shape[1]
    blocks, window = taps.shape[0], taps.shape[1]
    folded = w.reshape(g * cout_g * cin_g, -1) @ taps.reshape(blocks * window, -1).t()
    folded = folded.reshape(g, cout_g, cin_g, blocks, window).permute(0, 3, 1, 2, 4)
    weight = folded.reshape(g * blocks * cout_g, cin_g, *spec.widths)
    bias = None if b is None else b.reshape(g, 1, cout_g).expand(g, blocks, cout_g).reshape(-1)
    return weight, bias


def _extend(x: torch.Tensor, axes: tuple[AxisPlan, ...], lengths: list[int]) -> tuple[torch.Tensor, list[int] | int]:
    """The input continued as each axis's extension says, cut to what the folded convolution
    reads; symmetric zero padding is left to the convolution."""
    spans = [a.lr_range(n)[1:] for a, n in zip(axes, lengths)]
    before = [-first for first, _ in spans]
    after = [last - (n - 1) for (_, last), n in zip(spans, lengths)]
    zeros = all(a.extension == "zeros" or (b <= 0 and e <= 0) for a, b, e in zip(axes, before, after))
    if zeros and all(b == e and b >= 0 for b, e in zip(before, after)):
        return x, before
    for i, (b, e) in enumerate(zip(before, after)):  # cut what is not read
        if b < 0 or e < 0:
            start, stop = max(-b, 0), x.shape[2 + i] - max(-e, 0)
            x = x.narrow(2 + i, start, stop - start)
    before = [max(b, 0) for b in before]
    after = [max(e, 0) for e in after]
    modes = {a.extension for a, b, e in zip(axes, before, after) if b or e}
    if not modes:
        return x, 0
    if modes == {"zeros"} or modes == {"replicate"}:
        pads = [p for b, e in zip(reversed(before), reversed(after)) for p in (b, e)]
        return F.pad(x, pads, mode="constant" if modes == {"zeros"} else "replicate"), 0
    for i, (a, b, e) in enumerate(zip(axes, before, after)):
        if not (b or e):
            continue
        if a.extension == "zeros":
            x = F.pad(x, [0, 0] * (len(axes) - 1 - i) + [b, e] + [0, 0] * i)
            continue
        n = x.shape[2 + i]
        index = torch.arange(-b, n + e, device=x.device)
        index = index.remainder(n) if a.extension == "circular" else index.clamp(0, n - 1)
        x = x.index_select(2 + i, index)
    return x, 0


def _chunk(extended: torch.Tensor, weight: torch.Tensor, padding: list[int] | int, blocks: int,
           device_type: str = "cpu") -> tuple[int, int]:
    """(images, block rows) per folded convolution call: on the CPU, whole images while their
    output stays under :data:`CHUNK_BYTES`, else bands of block rows of one image under
    :data:`ROW_BYTES`; on any other device, whole images under :data:`DEVICE_CHUNK_BYTES`."""
    pads = padding if isinstance(padding, list) else [padding] * (weight.dim() - 2)
    per_image = weight.shape[0] * weight.element_size() * math.prod(
        n + 2 * p - k + 1 for n, p, k in zip(extended.shape[2:], pads, weight.shape[2:]))
    if device_type != "cpu":
        return max(1, DEVICE_CHUNK_BYTES // max(per_image, 1)), blocks
    if per_image <= CHUNK_BYTES:
        return max(1, CHUNK_BYTES // max(per_image, 1)), blocks
    per_row = per_image / max(extended.shape[2] + 2 * pads[0] - weight.shape[2] + 1, 1)
    return 1, max(1, int(ROW_BYTES // per_row))


def _interleave(t: torch.Tensor, out: torch.Tensor, spec: FoldSpec, blocks: list[int]) -> None:
    """Write the phases of the folded convolution's output ``t`` into ``out`` (contiguous):
    one strided copy per combination of runs (one in all when every axis has one run)."""
    g = spec.groups
    cout_g = spec.out_channels // g
    scales = spec.scale
    n = t.shape[0]
    dst = out.view(n, g, cout_g, *(v for s, b in zip(scales, blocks) for v in (b, s)))
    s_n, s_c, *s_u = t.stride()
    s_phase = [cout_g * s_c * math.prod(scales[i + 1:]) for i in range(spec.dims)]
    s_group = math.prod(scales) * cout_g * s_c
    for combo in itertools.product(*(a.runs for a in spec.axes)):
        size = [n, g, cout_g]
        stride = [s_n, s_group, s_c]
        offset = t.storage_offset()
        index: list[Any] = [slice(None)] * 3
        for i, (b0, b1, shift, step) in enumerate(combo):
            size += [blocks[i], b1 - b0]
            stride += [s_u[i], s_phase[i] + step * s_u[i]]
            offset += b0 * s_phase[i] + shift * s_u[i]
            index += [slice(None), slice(b0, b1)]
        whole = all(r[0] == 0 and r[1] == s for r, s in zip(combo, scales))
        (dst if whole else dst[tuple(index)]).copy_(t.as_strided(size, stride, offset))


def _stack(t: torch.Tensor, spec: FoldSpec, blocks: list[int]) -> torch.Tensor:
    """The interleave as slices, a stack and a pixel shuffle (2-D, one scale: ONNX DepthToSpace) or
    a permute and a reshape (for tracing and ONNX export)."""
    g = spec.groups
    cout_g = spec.out_channels // g
    scales = spec.scale
    n = t.shape[0]
    low = [min(a.starts) for a in spec.axes]
    grouped = t.reshape(n, g, math.prod(scales), cout_g, *t.shape[2:])
    pieces = []
    for flat, phase in enumerate(itertools.product(*(range(s) for s in scales))):
        piece = grouped[:, :, flat]
        for i, b in enumerate(phase):
            piece = piece.narrow(3 + i, spec.axes[i].starts[b] - low[i], blocks[i])
        pieces.append(piece)
    if spec.dims == 2 and scales[0] == scales[1]:  # ONNX DepthToSpace, which runtimes do well
        stacked = torch.stack(pieces, dim=3).reshape(n, spec.out_channels * math.prod(scales), *blocks)
        return F.pixel_shuffle(stacked, scales[0])
    stacked = torch.stack(pieces, dim=3).reshape(n, g, cout_g, *scales, *blocks)
    d = spec.dims
    perm = [0, 1, 2] + [p for i in range(d) for p in (3 + d + i, 3 + i)]
    return stacked.permute(perm).reshape(n, spec.out_channels, *(s * b for s, b in zip(scales, blocks)))
