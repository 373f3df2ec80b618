"""The functions behind the upsampling layers: N-D pixel shuffle, the bilinear filler,
transposed and sub-pixel convolution with exact output sizes, and an ONNX-aware resize.

Every layer in :mod:`upsamplekit.nn` stores its settings and calls one of these. Tensors are
laid out (N, C, *spatial) with 1, 2 or 3 spatial axes. All of them are differentiable and
export with the TorchScript ONNX exporter (``torch.onnx.export(..., dynamo=False)``).

>>> import torch
>>> x = torch.arange(8.0).view(1, 4, 2)  # 4 channels = 2 channels x scale 2, length 2
>>> pixel_shuffle(x, 2)
tensor([[[0., 2., 1., 3.],
         [4., 6., 5., 7.]]])
>>> torch.equal(pixel_unshuffle(pixel_shuffle(x, 2), 2), x)
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ..checks import check_dims, integer_scale
from ..errors import InvalidArgumentError
from ..resample.api import resize
from .export import export_resize
from .layout import check_rank, spatial_sizes

__all__ = [
    "pixel_shuffle",
    "pixel_unshuffle",
    "bilinear_kernel",
    "icnr_weight",
    "transposed_upsample",
    "transposed_crops",
    "conv_same",
    "shift_blur",
    "interpolate",
]


ScaleArg = int | Sequence[int]


# ------------------------------------------------------------------------ pixel shuffle
def pixel_shuffle(x: torch.Tensor, scale: ScaleArg, dims: int | None = None) -> torch.Tensor:
    """Move channel blocks into space: (N, C * prod(r), *S) -> (N, C, *(S * r)).

    Output channel ``c`` at position ``(s_1 * r_1 + t_1, ..., s_d * r_d + t_d)`` is input
    channel ``c * prod(r) + flat(t)`` at ``(s_1, ..., s_d)``, where ``flat(t)`` numbers the
    sub-positions ``t`` in row-major order: in 2-D this is ``nn.PixelShuffle`` bit for bit.
    ``scale`` is an int or one int per spatial axis; ``dims`` defaults to ``x.dim() - 2``.
    A reshape and a permute, so it exports to ONNX Reshape + Transpose for any ``dims``.

    >>> import torch
    >>> pixel_shuffle(torch.arange(6.0).view(1, 6, 1, 1), (2, 3)).shape
    torch.Size([1, 1, 2, 3])
    """
    nd = check_rank("pixel_shuffle", x, dims)
    r = integer_scale("scale", scale, nd, where="pixel_shuffle")
    block = math.prod(r)
    n, c = x.shape[0], x.shape[1]
    if c % block:
        raise InvalidArgumentError(
            f"pixel_shuffle: the input channels must be divisible by prod(scale) = {block} (scale {r}), "
            f"but got {c} channels in an input of shape {tuple(x.shape)}"
        )
    spatial = list(x.shape[2:])
    y = x.reshape(n, c // block, *r, *spatial)
    perm = [0, 1] + [p for i in range(nd) for p in (2 + nd + i, 2 + i)]
    return y.permute(perm).reshape(n, c // block, *[s * f for s, f in zip(spatial, r)])


def pixel_unshuffle(x: torch.Tensor, scale: ScaleArg, dims: int | None = None) -> torch.Tensor:
    """The inverse of :func:`pixel_shuffle`: (N, C, *(S * r)) -> (N, C * prod(r), *S).

    >>> import torch
    >>> pixel_unshuffle(torch.zeros(1, 2, 4, 6, 8), 2).shape
    torch.Size([1, 16, 2, 3, 4])
    """
    nd = check_rank("pixel_unshuffle", x, dims)
    r = integer_scale("scale", scale, nd, where="pixel_unshuffle")
    n, c = x.shape[0], x.shape[1]
    spatial = list(x.shape[2:])
    if any(s % f for s, f in zip(spatial, r)):
        raise InvalidArgumentError(
            f"pixel_unshuffle: every spatial length must be divisible by its scale {r}, "
            f"but got an input of shape {tuple(x.shape)}"
        )
    small = [s // f for s, f in zip(spatial, r)]
    y = x.reshape(n, c, *[v for s, f in zip(small, r) for v in (s, f)])
    perm = [0, 1] + [3 + 2 * i for i in range(nd)] + [2 + 2 * i for i in range(nd)]
    return y.permute(perm).reshape(n, c * math.prod(r), *small)


# ---------------------------------------------------------------------- bilinear filler
def bilinear_kernel(
    scale: ScaleArg,
    dims: int = 2,
    kernel_size: int | Sequence[int] | None = None,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Caffe's ``BilinearFiller`` for an integer factor, in N-D: a (K_1, ..., K_d) tensor.

    Per axis with factor ``f``, the default kernel size is Caffe's ``K = 2f - f % 2`` and tap
    ``k`` weighs ``1 - |k - c| / f`` (0 outside) with ``c = (K - 1) / 2``; the N-D kernel is
    the outer product. Used as a stride-``f`` transposed convolution cropped by
    ``floor((K - f) / 2)`` at the start (Caffe's ``pad = ceil((f - 1) / 2)``), it is linear
    interpolation with half-pixel centres away from the borders.

    A larger ``kernel_size`` holds the same triangle, centred at ``floor((K - f) / 2) +
    (f - 1) / 2`` so that it lines up with that crop (``K = 2f`` for odd ``f`` is Caffe's
    kernel with a zero tap appended). A kernel too small for the triangle is an error.

    >>> bilinear_kernel(2, dims=1)
    tensor([0.2500, 0.7500, 0.7500, 0.2500], dtype=torch.float64)
    >>> bilinear_kernel(3, dims=1)
    tensor([0.3333, 0.6667, 1.0000, 0.6667, 0.3333], dtype=torch.float64)
    >>> bilinear_kernel(2, dims=2).shape
    torch.Size([4, 4])
    """
    nd = check_dims(dims, where="bilinear_kernel")
    factors = integer_scale("scale", scale, nd, where="bilinear_kernel")
    if kernel_size is None:
        sizes = tuple(2 * f - f % 2 for f in factors)
    else:
        sizes = spatial_sizes("kernel_size", kernel_size, nd, where="bilinear_kernel")
    kernel = torch.ones((), dtype=torch.float64)
    for f, k in zip(factors, sizes):
        smallest = 2 * f - f % 2
        if k < smallest:
            raise InvalidArgumentError(
                f"bilinear_kernel: kernel_size must be at least 2 * scale - scale % 2 = {smallest} to hold the "
                f"bilinear filter of factor {f}, but got kernel_size={kernel_size!r}"
            )
        centre = (k - f) // 2 + (f - 1) / 2
        taps = (1.0 - (torch.arange(k, dtype=torch.float64) - centre).abs() / f).clamp_(min=0.0)
        kernel = kernel[..., None] * taps
    return kernel.to(dtype=dtype, device=device)


def icnr_weight(base: torch.Tensor, scale: ScaleArg, dims: int | None = None) -> torch.Tensor:
    """ICNR (Aitken et al. 2017): repeat each output filter ``prod(scale)`` times, in place order.

    ``base`` is a (C_out, C_in, *k) convolution weight (or a (C_out,) bias); the result has
    ``C_out * prod(scale)`` rows with row ``c * prod(scale) + t`` equal to ``base[c]``, the
    channel order :func:`pixel_shuffle` reads. A sub-pixel convolution with this weight is
    the ``base`` convolution followed by nearest upsampling. ``dims`` defaults to
    ``base.dim() - 2`` (give it for a bias).

    >>> import torch
    >>> icnr_weight(torch.tensor([1.0, 2.0]), 2, dims=2).tolist()
    [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]
    """
    nd = check_dims(base.dim() - 2 if dims is None else dims, where="icnr_weight")
    return base.repeat_interleave(math.prod(integer_scale("scale", scale, nd, where="icnr_weight")), dim=0)


# ------------------------------------------------------------------ transposed upsample
def transposed_crops(
    kernel_size: Sequence[int], scale: Sequence[int], exact_borders: bool = False
) -> list[tuple[int, int, int, int]]:
    """Per axis ``(pad_before, pad_after, crop_start, crop_end)`` of :func:`transposed_upsample`.

    ``pad_*`` count input samples replicated at each end (0 unless ``exact_borders``),
    ``crop_*`` output samples removed from the full transposed convolution of the padded
    input, so that ``in`` samples become exactly ``in * scale``. Without padding the crop is
    ``floor((K - s) / 2)`` at the start and ``ceil((K - s) / 2)`` at the end.

    >>> transposed_crops((4,), (2,))
    [(0, 0, 1, 1)]
    >>> transposed_crops((4,), (2,), exact_borders=True)
    [(1, 1, 3, 3)]
    """
    out = []
    for k, s in zip(kernel_size, scale):
        if k < s:
            raise InvalidArgumentError(
                f"transposed_upsample: kernel_size must be >= the stride (scale) on every axis, or some output "
                f"samples receive no input, but got kernel_size {tuple(kernel_size)} with scale {tuple(scale)}"
            )
        lo = (k - s) // 2
        hi = k - s - lo
        before = after = 0
        if exact_borders:
            # the input samples beyond each end whose kernel still reaches the output
            before = (k - 1 - lo) // s
            after = 1 + (lo - 1) // s
        out.append((before, after, lo + before * s, hi + after * s))
    return out


def transposed_upsample(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    scale: ScaleArg,
    *,
    exact_borders: bool = False,
) -> torch.Tensor:
    """Transposed convolution with stride ``scale`` whose output is exactly ``in * scale``.

    ``weight`` is laid out as ``nn.ConvTranspose`` weights, (C_in, C_out, *K), with
    ``K >= scale`` per axis. The full transposed convolution (length ``(in - 1) * s + K``) is
    cropped by ``floor((K - s) / 2)`` at the start and ``ceil((K - s) / 2)`` at the end (a
    symmetric crop is the layer's ``padding``; an odd remainder is sliced off the end).

    ``exact_borders=True`` first replicates the edge input samples whose kernel reaches
    the output (one per side for ``K = 2s``) and crops ``s`` more output samples per padded
    input sample, so the layer sees the edge value continued instead of zeros: with the
    bilinear filler this is ``resize(x, scale_factor=s, method="linear")`` everywhere.

    >>> import torch
    >>> w = bilinear_kernel(2, dims=1).view(1, 1, 4)
    >>> transposed_upsample(torch.ones(1, 1, 3, dtype=torch.float64), w, None, 2).tolist()
    [[[0.75, 1.0, 1.0, 1.0, 1.0, 0.75]]]
    >>> transposed_upsample(torch.ones(1, 1, 3, dtype=torch.float64), w, None, 2, exact_borders=True).tolist()
    [[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]]
    """
    nd = weight.dim() - 2
    s = integer_scale("scale", scale, nd, where="transposed_upsample")
    kernel = list(weight.shape[2:])
    plan = transposed_crops(kernel, s, exact_borders)
    if exact_borders and any(b or a for b, a, _, _ in plan):
        pads = [p for b, a, _, _ in reversed(plan) for p in (b, a)]
        x = F.pad(x, pads, mode="replicate")
    padding = [min(start, end) for _, _, start, end in plan]
    conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[nd]
    y = conv(x, weight, bias, stride=s, padding=padding)
    for axis, ((before, after, start, end), pad) in enumerate(zip(plan, padding)):
        if start != end:
            length = (x.shape[2 + axis] - before - after) * s[axis]
            y = y.narrow(2 + axis, start - pad, length)
    return y


# ----------------------------------------------------------------- sub-pixel and resize
def conv_same(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Stride-1 convolution with zero "same" padding: the output keeps the spatial size.

    Padding per axis is ``(K - 1) // 2`` before and the rest after (``padding="same"``
    of ``nn.Conv``), so even kernels work too.
    """
    nd = weight.dim() - 2
    kernel = list(weight.shape[2:])
    lo = [(k - 1) // 2 for k in kernel]
    hi = [k - 1 - p for k, p in zip(kernel, lo)]
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    if lo == hi:
        return conv(x, weight, bias, padding=lo)
    x = F.pad(x, [p for a, b in zip(reversed(lo), reversed(hi)) for p in (a, b)])
    return conv(x, weight, bias)


def shift_blur(x: torch.Tensor, axes: Sequence[bool] | None = None) -> torch.Tensor:
    """fastai's blur after pixel shuffle: replicate-pad one sample before, then average pairs.

    ``y[i] = (x[max(i - 1, 0)] + x[i]) / 2`` along every spatial axis flagged in ``axes``
    (all by default), one after the other (``ReplicationPad2d((1, 0, 1, 0))`` followed by
    ``AvgPool2d(2, stride=1)`` in 2-D). Replication keeps a constant image constant.

    >>> import torch
    >>> shift_blur(torch.tensor([[[0.0, 2.0, 4.0]]]))
    tensor([[[0., 1., 3.]]])
    """
    nd = x.dim() - 2
    flags = [True] * nd if axes is None else list(axes)
    if not any(flags):
        return x
    pads = [p for f in reversed(flags) for p in ((1, 0) if f else (0, 0))]
    pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[nd]
    return pool(F.pad(x, pads, mode="replicate"), kernel_size=[2 if f else 1 for f in flags], stride=1)


def interpolate(
    x: torch.Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    *,
    method: str = "nearest",
    convention: str = "torch",
    **options: Any,
) -> torch.Tensor:
    """:func:`upsamplekit.resize` of every spatial axis, which also exports to ONNX.

    Outside ONNX export this is ``resize(x, size, scale_factor, method=..., convention=...,
    **options)``. Under ``torch.onnx.export`` the spec becomes one ONNX ``Resize`` node
    (opset 13 attributes, so opset 13 to 17 and later) when its attributes exist there:
    nearest and linear in any dims, cubic in 2-D (onnxruntime runs cubic on 4-D inputs only),
    without antialias. A ``scale_factor`` call of a spec that floors and keeps the given scale
    (torch's default) feeds ``scales``, so spatial sizes stay dynamic; other calls feed
    ``sizes`` for the traced input shape (batch and channels stay dynamic). Every other spec
    (lanczos, area, antialias, cubic in 1-D/3-D, ...) exports as one dense interpolation
    matrix per axis (Transpose + MatMul) for the traced spatial sizes: the same weights,
    computed by the same tables as ``resize`` (:mod:`upsamplekit.nn.export`).
    """
    if torch.onnx.is_in_onnx_export():
        return export_resize(x, size, scale_factor, method, convention, options)
    return resize(x, size=size, scale_factor=scale_factor, method=method, convention=convention, **options)
