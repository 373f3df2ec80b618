"""`SAPA`: similarity-aware point affiliation (Lu et al., NeurIPS 2022, arXiv 2209.12866), pure PyTorch, N-D.

A guided upsampler: every high-resolution query position ``p`` of the guide (the encoder
feature at the output size) attends over the ``k^d`` low-resolution neighbourhood of its
parent position in ``x``, with weights ``softmax_n <q_p, k_n>``. Upstream (poppinace/sapa)
computes the similarities and the weighted sum with CUDA kernels and raises
NotImplementedError on the CPU. Here both are loops over the ``k^d`` taps: the
(N, k^d, H, W, C) neighbourhood tensor of a naive version is never built; the similarity
maps (N, k^d, *output) are, as the softmax needs them all.
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
from ..errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError, unknown_choice
from .base import Upsampler, build_layer, channel_projection, match_parameters, max_parameter_bytes
from .carafe import carafe
from .catalog import register_upsampler
from .functional import pixel_shuffle
from .layout import check_input

__all__ = ["SAPA", "sapa"]

VARIANTS = ("B", "I")
PADDINGS = ("zeros", "exclude")


def _kernel_size(where: str, value: object) -> int:
    if not is_integer(value) or isinstance(value, bool) or int(value) < 1 or int(value) % 2 == 0:
        raise InvalidArgumentError(f"{where}: kernel_size must be an odd integer >= 1 (the neighbourhood is centred "
                                   f"on the parent position), but got {value!r}")
    return int(value)


def _padding(where: str, value: object) -> str:
    if not isinstance(value, str) or value not in PADDINGS:
        raise unknown_choice(f"{where}: padding", value, PADDINGS)
    return value


# ---------------------------------------------------------------------------- functions
def _to_blocks(query: torch.Tensor, scale: Sequence[int]) -> torch.Tensor:
    """Channels-last (N, *(S * scale), E) -> (N, P, *S, E): sub-position ``t`` of each ``scale``
    block (row-major) first, as :func:`upsamplekit.nn.functional.pixel_unshuffle` orders it."""
    n, *out, e = query.shape
    nd = len(scale)
    small = [v // f for v, f in zip(out, scale)]
    y = query.reshape(n, *[v for s, f in zip(small, scale) for v in (s, f)], e)
    perm = [0] + [2 + 2 * i for i in range(nd)] + [1 + 2 * i for i in range(nd)] + [2 * nd + 1]
    return y.permute(perm).reshape(n, math.prod(scale), *small, e)


def _attend(x: torch.Tensor, query: torch.Tensor, key: torch.Tensor, scale: Sequence[int], kernel_size: int,
            padding: str) -> torch.Tensor:
    """SAPA on checked inputs: ``query`` (N, *(S * scale), E) and ``key`` (N, *S, E) channels-last."""
    nd = len(scale)
    spatial = list(key.shape[1:-1])
    radius = (kernel_size - 1) // 2
    blocks = _to_blocks(query, scale)  # (N, P, *S, E)
    del query  # the caller passes a temporary: free it now (autograd keeps what it needs)
    padded = F.pad(key, [0, 0] + [radius] * (2 * nd)) if radius else key  # zeros outside: similarity 0
    padded = padded.unsqueeze(1)  # (N, 1, *S_pad, E): broadcasts over the sub-positions
    taps = list(itertools.product(range(kernel_size), repeat=nd))

    def window(offsets: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(slice(o, o + s) for o, s in zip(offsets, spatial))

    # one (N, P, *S) similarity map per tap; the (N, P, *S, E) product is a temporary of the query's size
    logits = torch.stack([(blocks * padded[(slice(None), slice(None), *window(o))]).sum(-1) for o in taps], 1)
    if padding == "exclude" and radius:
        inside = F.pad(key.new_ones([1, 1, *spatial]), [radius] * (2 * nd))  # 1 inside the input, 0 outside
        valid = torch.stack([inside[(slice(None), slice(None), *window(o))] for o in taps], 1)  # (1, K, 1, *S)
        logits = logits.masked_fill(valid == 0, float("-inf"))
    kernels = F.softmax(logits, dim=1)  # (N, K, P, *S)
    del logits  # at most two copies of the maps live at once (autograd keeps the softmax's output)
    masks = pixel_shuffle(kernels.flatten(1, 2), scale, nd)  # mmcv's mask layout (N, K, *output)
    del kernels
    return carafe(x, masks, scale)  # CARAFE's reassembly: in place, tap by tap


def sapa(
    x: torch.Tensor,
    query: torch.Tensor,
    key: torch.Tensor,
    scale: int | Sequence[int],
    kernel_size: int = 5,
    padding: str = "zeros",
) -> torch.Tensor:
    """SAPA's attention step (upstream's ``atn(softmax(sim(q, k)), x)``), in N-D.

    ``x`` is (N, C, *S), ``key`` (N, E, *S) and ``query`` (N, E, *(S * scale)). Output
    position ``p`` is ``sum_n w_p(n) x[floor(p / scale) + n - r]`` over the ``kernel_size^d``
    taps ``n`` (``r = (kernel_size - 1) / 2``), with ``w_p = softmax_n <query[p],
    key[floor(p / scale) + n - r]>``: a dot product, no temperature, as upstream. Borders:

    - ``padding="zeros"`` (upstream's CUDA kernels): a tap outside the input has key 0, so
      similarity 0, and value 0; it still takes part in the softmax;
    - ``padding="exclude"``: taps outside the input are left out of the softmax, so the
      weights of the taps inside sum to 1.

    Computed tap by tap: extra memory is the similarity maps (N, k^d, *output) (two copies
    at most), a query-sized temporary and about two outputs (CARAFE's reassembly,
    :func:`upsamplekit.nn.carafe.carafe`); no (N, k^d, ..., C) tensor is built.

    >>> import torch
    >>> x = torch.tensor([[[1.0, 2.0, 4.0]]])
    >>> q, k = torch.zeros(1, 1, 6), torch.zeros(1, 1, 3)  # equal similarities: uniform weights
    >>> sapa(x, q, k, 2, kernel_size=3)  # a 3-tap box average (zeros outside count), then nearest
    tensor([[[1.0000, 1.0000, 2.3333, 2.3333, 2.0000, 2.0000]]])
    >>> sapa(x, q, k, 2, kernel_size=3, padding="exclude")  # the average of the taps inside
    tensor([[[1.5000, 1.5000, 2.3333, 2.3333, 3.0000, 3.0000]]])
    """
    where = "sapa"
    nd = x.dim() - 2 if isinstance(x, torch.Tensor) else 0
    x = check_input(where, x, check_dims(nd, where=where))
    s = integer_scale("scale", scale, nd, where=where)
    kernel_size = _kernel_size(where, kernel_size)
    padding = _padding(where, padding)
    for name, t in (("query", query), ("key", key)):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise InvalidTypeError(f"{where}: {name} must be a floating-point torch.Tensor, but got "
                                   f"{type(t).__name__ if not isinstance(t, torch.Tensor) else t.dtype}")
    n, _, *spatial = x.shape
    out = [v * f for v, f in zip(spatial, s)]
    e = key.shape[1] if key.dim() == x.dim() else -1
    if key.dim() != x.dim() or list(key.shape) != [n, e, *spatial] or list(query.shape) != [n, e, *out]:
        raise InvalidArgumentError(
            f"{where}: key must have shape (N, E, *spatial) = ({n}, E, {', '.join(map(str, spatial))}) and query "
            f"(N, E, *spatial * scale) = ({n}, E, {', '.join(map(str, out))}) with the same E, for x of shape "
            f"{tuple(x.shape)} and scale {s}, but got key {tuple(key.shape)} and query {tuple(query.shape)}"
        )
    return _attend(x, query.movedim(1, -1), key.movedim(1, -1), s, kernel_size, padding)


# -------------------------------------------------------------------------------- layer
class SAPA(Upsampler):
    """SAPA (Lu et al. 2022): upsampling by similarity-aware point affiliation, guided, 1-D to 3-D.

    ``layer(x, guide)``: ``x`` is the decoder feature (N, in_channels, *S), ``guide`` the
    encoder feature at the output size (N, guide_channels, *(S * scale)). Output position
    ``p`` is ``sum_n softmax_n(<q_p, k_n>) v_n`` over the ``kernel_size^d`` low-resolution
    neighbourhood ``n`` of ``floor(p / scale)`` (:func:`sapa`), with ``v = x`` and, per
    position, over the channels:

    - ``variant="B"`` (SAPA-B, bilinear similarity): ``q = Linear(LayerNorm(guide))``,
      ``k = Linear(LayerNorm(x))``, both to ``embed_dim`` channels (upstream's ``norm_y``,
      ``norm_x``, ``q``, ``k``, with ``qkv_bias`` biases);
    - ``variant="I"`` (SAPA-I, inner product, no parameters): ``q = LayerNorm(guide)``,
      ``k = LayerNorm(x)`` without affine weights; needs ``guide_channels == in_channels``,
      and ``embed_dim`` and ``qkv_bias`` are unused.

    ``guide_channels=None`` means ``in_channels``. ``padding`` is the border rule of
    :func:`sapa` (``"zeros"``: upstream's; ``"exclude"``: outside taps leave the softmax).
    ``out_channels`` different from ``in_channels`` appends a 1x1 convolution (``proj``,
    ``nn.ConvNd`` initialisation): SAPA itself keeps the channel count.

    Initialisation as upstream: the linear weights truncated normal with std 0.02, zero
    biases, LayerNorm weight 1 and bias 0. The similarities of unit-variance features then
    have a standard deviation of about ``0.02^2 * sqrt(guide_channels * in_channels *
    embed_dim)`` (0.58 at 256 channels): weights neither uniform nor sharp. With ``q = 0``
    (zero ``q`` weights and bias), or for SAPA-I with a guide constant over its channels at
    every position, the weights are uniform and the layer is a ``kernel_size``-wide box
    average (zeros outside count; with ``padding="exclude"`` the average of the taps inside)
    followed by nearest upsampling. ``kernel_size=1`` is nearest upsampling.

    >>> import torch
    >>> up = SAPA(16, 16, scale=2, guide_channels=8)
    >>> up(torch.randn(1, 16, 4, 4), torch.randn(1, 8, 8, 8)).shape
    torch.Size([1, 16, 8, 8])
    >>> up(torch.randn(1, 16, 4, 4))
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: SAPA: the guide argument is missing: call layer(x, guide) with the encoder feature at the output size (1, 8, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None,
        scale: int | Sequence[int],
        dims: int = 2,
        *,
        guide_channels: int | None = None,
        variant: str = "B",
        kernel_size: int = 5,
        embed_dim: int = 32,
        padding: str = "zeros",
        qkv_bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(dims)
        name = self.layer_name
        self.in_channels = self.check_positive("in_channels", in_channels)
        self.out_channels = self.in_channels if out_channels is None else \
            self.check_positive("out_channels", out_channels)
        self.scale = self.check_integer_scale(scale)
        self.guide_channels = self.in_channels if guide_channels is None else \
            self.check_positive("guide_channels", guide_channels)
        self.variant = self.check_choice("variant", variant, VARIANTS)
        self.kernel_size = _kernel_size(name, kernel_size)
        self.embed_dim = self.check_positive("embed_dim", embed_dim)
        self.padding = _padding(name, padding)
        self.qkv_bias = self.check_bool("qkv_bias", qkv_bias)
        if self.variant == "I" and self.guide_channels != self.in_channels:
            raise InvalidArgumentError(
                f"{name}(variant='I'): guide_channels must equal in_channels (the parameter-free similarity is the "
                f"inner product of LayerNorm(guide) and LayerNorm(x)), but got guide_channels={self.guide_channels}, "
                f"in_channels={self.in_channels}; use variant='B', which embeds both in embed_dim channels"
            )
        learned = self.variant == "B"
        bias = 1 if self.qkv_bias else 0
        self.check_parameter_bytes({
            "norm_y": (2, self.guide_channels) if learned else (0,),
            "norm_x": (2, self.in_channels) if learned else (0,),
            "q": (self.embed_dim, self.guide_channels + bias) if learned else (0,),
            "k": (self.embed_dim, self.in_channels + bias) if learned else (0,),
            "proj": (self.out_channels, self.in_channels + 1) if self.out_channels != self.in_channels else (0,),
        }, dtype)
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        self.norm_y = nn.LayerNorm(self.guide_channels, **factory) if learned else None
        self.norm_x = nn.LayerNorm(self.in_channels, **factory) if learned else None
        self.q = nn.Linear(self.guide_channels, self.embed_dim, bias=self.qkv_bias, **factory) if learned else None
        self.k = nn.Linear(self.in_channels, self.embed_dim, bias=self.qkv_bias, **factory) if learned else None
        self.proj = channel_projection(self.dims, self.in_channels, self.out_channels, **factory)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Upstream's ``_init_weights``; ``proj`` keeps ``nn.ConvNd``'s initialisation."""
        for linear in (self.q, self.k):
            if linear is not None:
                nn.init.trunc_normal_(linear.weight, std=0.02)
                if linear.bias is not None:
                    nn.init.zeros_(linear.bias)
        for norm in (self.norm_y, self.norm_x):
            if norm is not None:
                norm.reset_parameters()  # weight 1, bias 0
        if self.proj is not None:
            self.proj.reset_parameters()

    def check_guide(self, x: torch.Tensor, guide: object) -> torch.Tensor:
        """``guide`` if it is (N, guide_channels, *(x spatial * scale)), floating, like ``x``."""
        name = self.layer_name
        out = tuple(v * f for v, f in zip(x.shape[2:], self.scale))
        expected = (x.shape[0], self.guide_channels, *out)
        if guide is None:
            raise InvalidArgumentError(
                f"{name}: the guide argument is missing: call layer(x, guide) with the encoder feature at the output "
                f"size {expected}"
            )
        if not isinstance(guide, torch.Tensor) or not guide.is_floating_point():
            got = type(guide).__name__ if not isinstance(guide, torch.Tensor) else f"dtype {guide.dtype}"
            raise InvalidTypeError(f"{name}: the guide must be a floating-point torch.Tensor, but got {got}")
        if tuple(guide.shape) != expected:
            raise InvalidArgumentError(
                f"{name}: the guide must have shape (N, guide_channels, *x spatial * scale) = {expected} for x of "
                f"shape {tuple(x.shape)} and scale {self.scale}, but got a guide of shape {tuple(guide.shape)}"
            )
        if guide.device != x.device or guide.dtype != x.dtype:
            raise InvalidTypeError(
                f"{name}: the guide must have the dtype and device of x, but got a guide of {guide.dtype} on "
                f"{guide.device} and x of {x.dtype} on {x.device}"
            )
        return match_parameters(name, guide, self)

    def check_memory(self, x: torch.Tensor) -> None:
        """Refuse, before allocating, a forward pass that would need more than the allocation guard.

        The parameters do not grow with the scale, so the layer builds at any scale; this
        guard (:func:`~upsamplekit.nn.base.max_parameter_bytes`: 4 GiB by default, or the
        environment variable ``UPSAMPLEKIT_MAX_OUTPUT_BYTES``) is what stops a huge one. The
        estimate counts what lives at the output size at the peak of the forward pass: two
        query-sized tensors (the query and its product with a key), the similarity maps
        twice (the taps' maps and their stack) and the output twice (the accumulator and
        its pixel shuffle; the projection's output too when there is one).
        """
        out = [int(v) * f for v, f in zip(x.shape[2:], self.scale)]
        query = self.embed_dim if self.variant == "B" else self.guide_channels
        taps = self.kernel_size ** self.dims
        channels = 2 * query + 2 * taps + 2 * self.in_channels + (self.out_channels if self.proj is not None else 0)
        total, limit = int(x.shape[0]) * math.prod(out) * x.element_size() * channels, max_parameter_bytes()
        if total > limit:
            gib = f"{total / 2**30:.2f}" if total < 2**1000 else f"about 10**{len(str(total >> 30)) - 1}"
            raise OutputTooLargeError(
                f"{self.layer_name}: the forward pass would need about {gib} GiB at the output size "
                f"({x.shape[0]}, C, {', '.join(map(str, out))}) (query, {taps} similarity maps, output), more than "
                f"the allocation guard of {limit / 2**30:.2f} GiB (UPSAMPLEKIT_MAX_OUTPUT_BYTES); lower the scale, "
                f"the input size or the batch, or raise the guard"
            )

    def forward(self, x: torch.Tensor, guide: torch.Tensor | None = None) -> torch.Tensor:
        x = self.check_input(x, self.in_channels)
        self.check_memory(x)
        guide = self.check_guide(x, guide)
        # channels last: LayerNorm and Linear per position; the query goes straight to _attend, which frees it
        out = _attend(x, self._embed(guide.movedim(1, -1), self.norm_y, self.q),
                      self._embed(x.movedim(1, -1), self.norm_x, self.k), self.scale, self.kernel_size, self.padding)
        return out if self.proj is None else self.proj(out)

    @staticmethod
    def _embed(t: torch.Tensor, norm: nn.LayerNorm | None, linear: nn.Linear | None) -> torch.Tensor:
        """``linear(norm(t))`` (SAPA-B), or the LayerNorm without affine weights (SAPA-I)."""
        if norm is None or linear is None:
            return F.layer_norm(t, (t.shape[-1],))
        return linear(norm(t))


@register_upsampler("sapa", learned=True, dims=(1, 2, 3), scales="integer", guided=True,
                    description="SAPA: guided attention of each output over its k^d source neighbourhood")
def _build_sapa(in_channels: int, out_channels: int, scale: Any, dims: int = 2, **options: Any) -> SAPA:
    return build_layer(SAPA, options, in_channels=in_channels, out_channels=out_channels, scale=scale, dims=dims)
