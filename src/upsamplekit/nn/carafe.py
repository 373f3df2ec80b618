"""`CARAFE`: content-aware reassembly of features (Wang et al., ICCV 2019), pure PyTorch, N-D.

The reassembly never builds the (N, C * k_up^d, *S) unfold tensor of the common pure-PyTorch
version: it loops over the ``k_up^d`` kernel taps and accumulates ``shifted input x tap
weight`` products in place, at output size. Extra peak memory is about two outputs (the
accumulator and the final pixel shuffle) plus the kernels (``k_up^d / C`` of an output).
The backward (:class:`_Reassemble`) goes tap by tap too, in about 1.5 forwards' time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import check_dims, integer_scale, is_integer
from ..errors import InvalidArgumentError
from .base import CONV, Upsampler, build_layer, channel_projection
from .catalog import register_upsampler
from .functional import pixel_shuffle, pixel_unshuffle
from .layout import check_input

__all__ = ["CARAFE", "carafe", "carafe_kernels"]


def _odd_kernel(module: str, name: str, value: object, why: str) -> int:
    if not is_integer(value) or int(value) < 1 or int(value) % 2 == 0:
        raise InvalidArgumentError(f"{module}: {name} must be an odd integer >= 1 ({why}), but got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------- functions
def carafe_kernels(encoded: torch.Tensor, k_up: int, scale: Sequence[int]) -> torch.Tensor:
    """Normalised reassembly kernels from the content encoder's output.

    ``encoded`` is (N, k_up^d * prod(scale), *S) with channel ``n * prod(scale) + t`` for
    tap ``n`` (row-major over the k_up^d neighbourhood) and sub-position ``t`` (row-major
    over the ``scale`` block): the order ``pixel_shuffle(encoded, scale)`` turns into
    (N, k_up^d, *(S * scale)), mmcv's ``kernel_normalizer`` layout. Returns the softmax
    over the taps, kept at low resolution as (N, k_up^d, prod(scale), *S); this is mmcv's
    ``softmax(pixel_shuffle(encoded))`` without the shuffle.

    >>> import torch
    >>> k = carafe_kernels(torch.zeros(1, 9 * 4, 2, 2), 3, (2, 2))
    >>> k.shape, float(k[0, :, 0, 0, 0].sum())
    (torch.Size([1, 9, 4, 2, 2]), 1.0)
    """
    n = encoded.shape[0]
    block = math.prod(scale)
    taps = k_up ** len(scale)
    return F.softmax(encoded.reshape(n, taps, block, *encoded.shape[2:]), dim=1)


def _windows(spatial: Sequence[int], k_up: int) -> list[tuple[slice, ...]]:
    """The ``k_up^d`` windows of size ``spatial`` in the padded input, tap ``n`` row-major."""
    return [tuple(slice(o, o + s) for o, s in zip(offsets, spatial))
            for offsets in itertools.product(range(k_up), repeat=len(spatial))]


def _accumulate(x: torch.Tensor, kernels: torch.Tensor, k_up: int, exporting: bool = False) -> torch.Tensor:
    """``acc[:, c, t, s] = sum_n kernels[:, n, t, s] * x_pad[:, c, s + n]``: (N, C, P, *S), tap by tap in place."""
    spatial = list(x.shape[2:])
    radius = (k_up - 1) // 2
    padded = F.pad(x, [radius] * (2 * len(spatial))) if radius else x
    padded = padded.unsqueeze(2)  # (N, C, 1, *S_pad): broadcasts over the sub-positions
    every = (slice(None),) * 3
    windows = _windows(spatial, k_up)
    acc = padded[every + windows[0]] * kernels[:, 0:1]  # (N, C, 1, *S) times (N, 1, P, *S)
    for tap in range(1, len(windows)):
        shifted, weight = padded[every + windows[tap]], kernels[:, tap:tap + 1]
        if exporting:
            acc = acc + shifted * weight
        else:
            acc.addcmul_(shifted, weight)  # in place: no (N, C, P, *S) temporary per tap
    return acc


# Below this many elements in an (N, P, *S) kernel map, the grad of the kernels multiplies and sums
# over the channels at once (one (N, C, P, *S) temporary) instead of one addcmul per channel.
_PER_CHANNEL_MIN = 4096


class _Reassemble(torch.autograd.Function):
    """:func:`_accumulate` with a backward that goes tap by tap too.

    Plain autograd records one addcmul per tap; its backward builds, per tap, an (N, C, P, *S)
    product and a zero-filled padded-input-sized gradient for the window's slice, which makes
    forward + backward about 9 forwards. This backward computes, per tap,
    ``grad_kernels[:, n] = sum_c grad[:, c] * x_pad[:, c, window_n]`` (one addcmul per channel
    into an (N, P, *S) map) and ``grad_x_pad[:, :, window_n] += sum_t grad[:, :, t] *
    kernels[:, n, t]`` (one addcmul per sub-position), both in place: nothing bigger than the
    incoming gradient is allocated. Double backward differentiates the plain-autograd path.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, kernels: torch.Tensor, k_up: int) -> torch.Tensor:
        ctx.save_for_backward(x, kernels)
        ctx.k_up = k_up
        return _accumulate(x, kernels, k_up)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None]:
        x, kernels = ctx.saved_tensors
        need_x, need_kernels = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if torch.is_grad_enabled():  # create_graph=True: differentiate the plain path, twice if asked
            inputs = [t for t, need in ((x, need_x), (kernels, need_kernels)) if need]
            grads = iter(torch.autograd.grad(_accumulate(x, kernels, ctx.k_up), inputs, grad, create_graph=True,
                                             allow_unused=True))
            return (next(grads) if need_x else None), (next(grads) if need_kernels else None), None
        dtype = grad.dtype  # the result's dtype: x and kernels may differ under autocast
        spatial = list(x.shape[2:])
        radius = (ctx.k_up - 1) // 2
        windows = _windows(spatial, ctx.k_up)
        grad_x = grad_kernels = None
        if need_kernels:
            padded = F.pad(x.to(dtype), [radius] * (2 * len(spatial))) if radius else x.to(dtype)
            grad_kernels = torch.empty(kernels.shape, dtype=dtype, device=grad.device)
            channels = x.shape[1]
            per_channel = channels > 1 and grad_kernels[:, 0].numel() >= _PER_CHANNEL_MIN
            for tap, window in enumerate(windows):
                shifted = padded[(slice(None), slice(None), *window)].unsqueeze(2)  # (N, C, 1, *S)
                out = grad_kernels[:, tap]  # (N, P, *S)
                if per_channel:  # accumulates in a map that stays in cache
                    torch.mul(grad[:, 0], shifted[:, 0], out=out)
                    for c in range(1, channels):
                        out.addcmul_(grad[:, c], shifted[:, c])
                else:
                    torch.sum(grad * shifted, dim=1, out=out)
            del padded
            grad_kernels = grad_kernels.to(kernels.dtype)
        if need_x:
            grad_padded = grad.new_zeros([*x.shape[:2], *[s + 2 * radius for s in spatial]])
            weights = kernels.to(dtype).unsqueeze(1)  # (N, 1, k^d, P, *S)
            for tap, window in enumerate(windows):
                target = grad_padded[(slice(None), slice(None), *window)]
                for t in range(grad.shape[2]):
                    target.addcmul_(grad[:, :, t], weights[:, :, tap, t])
            crop = (slice(None), slice(None), *[slice(radius, radius + s) for s in spatial])
            grad_x = grad_padded[crop].to(x.dtype) if radius else grad_padded.to(x.dtype)
        return grad_x, grad_kernels, None


def _reassemble(x: torch.Tensor, kernels: torch.Tensor, scale: Sequence[int], k_up: int) -> torch.Tensor:
    """``out[c, s * r + t] = sum_n kernels[n, t, s] * x_pad[c, s + n]`` for (N, k^d, P, *S) kernels.

    With a graph to record, :class:`_Reassemble` (its own tap-by-tap backward); under ONNX export
    and ``jit.trace`` the plain ops, which trace (the exporter's graph is out of place).
    """
    n, c, *spatial = x.shape
    exporting = torch.onnx.is_in_onnx_export()
    if (torch.is_grad_enabled() and (x.requires_grad or kernels.requires_grad)
            and not exporting and not torch.jit.is_tracing()):
        acc = _Reassemble.apply(x, kernels, k_up)
    else:
        acc = _accumulate(x, kernels, k_up, exporting)
    return pixel_shuffle(acc.reshape(n, c * math.prod(scale), *spatial), scale, len(spatial))


def carafe(x: torch.Tensor, masks: torch.Tensor, scale: int | Sequence[int]) -> torch.Tensor:
    """CARAFE's reassembly step (mmcv's ``carafe(features, masks, k_up, 1, scale)``), in N-D.

    ``x`` is (N, C, *S); ``masks`` is (N, k_up^d, *(S * scale)), already normalised, with
    tap ``n`` numbering the k_up^d neighbourhood row-major. Output location ``l'`` is
    ``sum_n masks[n, l'] * x[floor(l' / scale) + n - (k_up - 1) / 2]``, with zeros outside
    the input (the border taps are skipped, as in mmcv's kernel). ``k_up`` is read from
    ``masks`` and must be odd. Nothing of size (N, C * k_up^d, *S) is built.

    >>> import torch
    >>> x = torch.tensor([[[1.0, 2.0, 4.0]]])
    >>> carafe(x, torch.full((1, 3, 6), 1 / 3), 2)  # a 3-tap box average, then nearest
    tensor([[[1.0000, 1.0000, 2.3333, 2.3333, 2.0000, 2.0000]]])
    """
    if not isinstance(masks, torch.Tensor):
        raise InvalidArgumentError(f"carafe: masks must be a torch.Tensor, but got {type(masks).__name__}")
    nd = x.dim() - 2
    x = check_input("carafe", x, check_dims(nd, where="carafe"))
    s = integer_scale("scale", scale, nd, where="carafe")
    out = [v * f for v, f in zip(x.shape[2:], s)]
    k_up = round(int(masks.shape[1]) ** (1 / nd)) if masks.dim() == x.dim() and masks.shape[1] > 0 else 0
    if (masks.dim() != x.dim() or masks.shape[0] != x.shape[0] or list(masks.shape[2:]) != out
            or k_up ** nd != masks.shape[1] or k_up % 2 == 0):
        raise InvalidArgumentError(
            f"carafe: masks must have shape (N, k_up^{nd}, *spatial * scale) = ({x.shape[0]}, k_up^{nd}, "
            f"{', '.join(map(str, out))}) with an odd k_up, for an input of shape {tuple(x.shape)} and scale {s}, "
            f"but got {tuple(masks.shape)}"
        )
    kernels = pixel_unshuffle(masks, s, nd)
    kernels = kernels.reshape(x.shape[0], masks.shape[1], math.prod(s), *x.shape[2:])
    return _reassemble(x, kernels.to(x.dtype), s, k_up)


# -------------------------------------------------------------------------------- layer
class CARAFE(Upsampler):
    """CARAFE upsampling (Wang et al. 2019; mmcv's ``CARAFEPack`` with one group), 1-D to 3-D.

    Kernel prediction: a 1x1 compressor (``channel_compressor``, C -> ``compressed_channels``)
    and a ``k_enc`` convolution (``content_encoder``, zero "same" padding, ->
    ``k_up^d * prod(scale)`` channels) give, after pixel shuffle, ``k_up^d`` logits per
    output location, normalised by a softmax over the taps (:func:`carafe_kernels`).
    Reassembly (:func:`carafe`): output location ``l'`` is ``sum_n W_l'(n) x(floor(l' /
    scale) + n)`` over the ``k_up^d`` neighbourhood ``n`` centred on the source pixel,
    zero-padded at the borders as in mmcv. It is computed tap by tap without the
    (N, C * k_up^d, *S) unfold tensor: extra peak memory is of the order of the output.

    Initialisation as mmcv: the compressor is Xavier-uniform with a zero bias, the encoder
    normal with std 0.001 and a zero bias. The kernels then start close to uniform, so the
    layer starts close to a ``k_up``-wide box average followed by nearest upsampling
    (exactly that when every parameter is zero), not bilinear interpolation.

    ``out_channels`` different from ``channels`` appends a 1x1 convolution (``proj``,
    ``nn.ConvNd`` initialisation); CARAFE itself keeps the channel count. Parameter names
    match ``CARAFEPack`` (``channel_compressor``, ``content_encoder``), so mmcv weights with
    ``up_group=1`` load with ``load_state_dict``. ``scale`` may differ per axis; ``k_up`` and
    ``k_enc`` must be odd.

    >>> import torch
    >>> up = CARAFE(16, scale=2)
    >>> up(torch.randn(1, 16, 8, 8)).shape
    torch.Size([1, 16, 16, 16])
    >>> sum(p.numel() for p in CARAFE(256, 2).parameters())  # 74K, as in the DySample paper
    74148
    """

    def __init__(
        self,
        channels: int,
        scale: int | Sequence[int],
        k_up: int = 5,
        k_enc: int = 3,
        compressed_channels: int = 64,
        out_channels: int | None = None,
        dims: int = 2,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(dims)
        name = self.layer_name
        self.channels = self.check_positive("channels", channels)
        self.scale = self.check_integer_scale(scale)
        self.k_up = _odd_kernel(name, "k_up", k_up, "the reassembly kernel is centred on the source pixel")
        self.k_enc = _odd_kernel(name, "k_enc", k_enc, "the encoder is a same-padded convolution")
        self.compressed_channels = self.check_positive("compressed_channels", compressed_channels)
        self.out_channels = self.channels if out_channels is None else \
            self.check_positive("out_channels", out_channels)
        encoded = self.k_up ** self.dims * math.prod(self.scale)
        self.check_parameter_bytes({
            "channel_compressor": (self.compressed_channels, self.channels + 1),
            "content_encoder": (encoded, self.compressed_channels * self.k_enc ** self.dims + 1),
            "proj": (self.out_channels, self.channels + 1) if self.out_channels != self.channels else (0,),
        }, dtype)
        conv = CONV[self.dims]
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        self.channel_compressor = conv(self.channels, self.compressed_channels, 1, **factory)
        self.content_encoder = conv(self.compressed_channels, self.k_up ** self.dims * math.prod(self.scale),
                                    self.k_enc, padding=(self.k_enc - 1) // 2, **factory)
        self.proj = channel_projection(self.dims, self.channels, self.out_channels, **factory)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """mmcv's ``CARAFEPack.init_weights``; ``proj`` keeps ``nn.ConvNd``'s initialisation."""
        for conv in (self.channel_compressor, self.content_encoder):
            if conv.bias is not None:  # built with a bias
                nn.init.zeros_(conv.bias)
        nn.init.xavier_uniform_(self.channel_compressor.weight)
        nn.init.normal_(self.content_encoder.weight, std=0.001)
        if self.proj is not None:
            self.proj.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.check_input(x, self.channels)
        encoded = self.content_encoder(self.channel_compressor(x))
        y = _reassemble(x, carafe_kernels(encoded, self.k_up, self.scale), self.scale, self.k_up)
        return y if self.proj is None else self.proj(y)


@register_upsampler("carafe", learned=True, dims=(1, 2, 3), scales="integer",
                    description="CARAFE: content-aware reassembly with predicted k_up^d kernels (pure PyTorch)")
def _build_carafe(in_channels: int, out_channels: int, scale: Any, dims: int = 2, **options: Any) -> CARAFE:
    return build_layer(CARAFE, options, channels=in_channels, scale=scale, out_channels=out_channels, dims=dims)
