"""`DySample`: upsampling by learned point sampling (Liu et al., ICCV 2023, arXiv 2308.15085), N-D.

Each output sample is read by linear interpolation (``grid_sample``, ``align_corners=False``,
border padding) at the position ``S = G + O``: ``G`` the position bilinear upsampling would
read, ``O`` an offset predicted from the input by 1x1 convolutions. Upstream
(tiny-smart/dysample) is 2-D; this one also runs 1-D and 3-D, per-axis scales, any integer
scale with any ``groups`` dividing the channels, and changes the channel count on request.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import check_dims, integer_scale
from ..errors import InvalidArgumentError
from .base import CONV, Upsampler, build_layer, channel_projection
from .catalog import register_upsampler
from .functional import pixel_shuffle, pixel_unshuffle
from .layout import check_input

__all__ = ["DySample", "dysample_sample", "init_positions"]

STYLES = ("lp", "pl")
INITS = ("default", "zero")
_LOW_PRECISION = (torch.float16, torch.bfloat16)


# ---------------------------------------------------------------------------- functions
def init_positions(
    scale: Sequence[int], groups: int, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """Upstream's ``init_pos``: where bilinear upsampling reads, relative to the source pixel.

    A (d * groups * prod(scale),) tensor laid out (component, group, sub-position). Component
    ``k`` is spatial axis ``d - 1 - k`` (grid_sample's x, y, z order: the last axis first);
    sub-position ``t`` numbers the ``scale`` block row-major. The value for axis ``a`` is
    ``(t_a - (s_a - 1) / 2) / s_a``, in input pixels.

    >>> init_positions((2, 2), groups=1).view(2, 4)
    tensor([[-0.2500,  0.2500, -0.2500,  0.2500],
            [-0.2500, -0.2500,  0.2500,  0.2500]])
    """
    nd = len(scale)
    rows = []
    for axis in reversed(range(nd)):  # the value of axis ``axis`` at every sub-position, row-major
        s = int(scale[axis])
        along = (torch.arange(s, dtype=torch.float64) - (s - 1) / 2) / s
        shape = [s if a == axis else 1 for a in range(nd)]
        rows.append(along.view(shape).expand(*[int(f) for f in scale]).reshape(-1).repeat(groups))
    return torch.stack(rows).reshape(-1).to(dtype=dtype or torch.get_default_dtype(), device=device)


def _divisors(n: int) -> list[int]:
    """The divisors of ``n``, in ``O(sqrt(n))``."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


def dysample_sample(x: torch.Tensor, offset: torch.Tensor, scale: int | Sequence[int], groups: int) -> torch.Tensor:
    """Sample ``x`` (N, C, *S) at ``scale`` x more points placed by ``offset``.

    ``offset`` is (N, d * groups * prod(scale), *S), laid out as :func:`init_positions`, in
    input pixels relative to the centre of the source pixel: output sample
    ``s * scale + t`` of group ``g`` (channels ``g * C / groups`` to ``(g + 1) * C / groups
    - 1``) reads ``x`` at ``s + offset[:, (k, g, t), s]`` along each axis by linear
    interpolation, clamping positions to the input (``grid_sample(..., mode="bilinear",
    padding_mode="border", align_corners=False)``). ``offset = init_positions(...)`` is
    bilinear upsampling (``align_corners=False``).

    Half-precision inputs are sampled in float32 (bfloat16 cannot place a point to a
    pixel's width beyond 256 pixels) and the result cast back. Under ONNX export 1-D and
    2-D become one ``GridSample`` node (opset >= 16); 3-D, which ``GridSample`` supports only
    from opset 20, exports as gathers of the 8 neighbours.

    >>> import torch
    >>> x = torch.tensor([[[0.0, 1.0]]])
    >>> dysample_sample(x, init_positions((2,), 1).view(1, 2, 1).expand(1, 2, 2), 2, 1)
    tensor([[[0.0000, 0.2500, 0.7500, 1.0000]]])
    """
    x = check_input("dysample_sample", x, check_dims(x.dim() - 2, where="dysample_sample"))
    n, c, *spatial = x.shape
    nd = len(spatial)
    s = integer_scale("scale", scale, nd, where="dysample_sample")
    block = math.prod(s)
    expected = (n, nd * groups * block, *spatial)
    if c % groups or tuple(offset.shape) != expected:
        raise InvalidArgumentError(
            f"dysample_sample: x must have a multiple of groups={groups} channels and offset the shape "
            f"(N, {nd} * groups * prod(scale), *spatial) = {expected}, but got x of shape {tuple(x.shape)} "
            f"and offset of shape {tuple(offset.shape)}"
        )
    work = torch.float32 if x.dtype in _LOW_PRECISION else x.dtype
    offset = offset.to(work).reshape(n, nd, groups * block, *spatial)
    grid = []
    for k in range(nd):  # grid component k is spatial axis nd - 1 - k
        axis = nd - 1 - k
        size = spatial[axis]
        centres = torch.arange(size, dtype=work, device=x.device) + 0.5
        centres = centres.view(*[size if a == axis else 1 for a in range(nd)])
        grid.append((centres + offset[:, k]) * (2.0 / size) - 1.0)  # normalised, align_corners=False
    # (N, nd * G * P, *S) -> pixel shuffle -> (N, nd * G, *(S * s)) -> (N * G, *(S * s), nd)
    positions = pixel_shuffle(torch.stack(grid, 1).reshape(n, nd * groups * block, *spatial), s, nd)
    out = [v * f for v, f in zip(spatial, s)]
    perm = [0, 2, *range(3, 3 + nd), 1]
    positions = positions.reshape(n, nd, groups, *out).permute(perm).reshape(n * groups, *out, nd)
    source = x.to(work).reshape(n * groups, c // groups, *spatial)
    if nd == 3 and torch.onnx.is_in_onnx_export():
        y = _gather_sample(source, positions)
    else:
        if nd == 1:  # as 2-D with one row: y = 0 is that row's centre
            source = source.unsqueeze(2)
            positions = torch.stack([positions[..., 0], torch.zeros_like(positions[..., 0])], -1).unsqueeze(1)
        y = F.grid_sample(source, positions, mode="bilinear", padding_mode="border", align_corners=False)
    return y.reshape(n, c, *out).to(x.dtype)


def _gather_sample(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """``grid_sample(x, grid, "bilinear", "border", align_corners=False)`` by gathers, any rank."""
    n, c, *spatial = x.shape
    nd = len(spatial)
    out = list(grid.shape[1:-1])
    flat = x.reshape(n, c, -1)
    lows, fracs, highs = [], [], []
    for axis in range(nd):
        size = spatial[axis]
        pos = ((grid[..., nd - 1 - axis] + 1.0) * size - 1.0) / 2.0
        pos = pos.clamp(0.0, float(size - 1))
        low = pos.floor()
        fracs.append(pos - low)
        lows.append(low.long())
        highs.append((low.long() + 1).clamp(max=size - 1))
    strides = [math.prod(spatial[a + 1:]) for a in range(nd)]
    y: torch.Tensor | None = None
    for corner in itertools.product((0, 1), repeat=nd):
        index = sum((highs[a] if bit else lows[a]) * strides[a] for a, bit in enumerate(corner))
        weight = math.prod(fracs[a] if bit else 1.0 - fracs[a] for a, bit in enumerate(corner))
        index = torch.as_tensor(index).reshape(n, 1, -1).expand(n, c, -1)
        term = flat.gather(2, index) * torch.as_tensor(weight).reshape(n, 1, -1)
        y = term if y is None else y + term
    return torch.as_tensor(y).reshape(n, c, *out)


# -------------------------------------------------------------------------------- layer
class DySample(Upsampler):
    """DySample (Liu et al. 2023): upsample by sampling at learned positions, 1-D to 3-D.

    Output sample ``l'`` of channel group ``g`` reads the input by linear interpolation at
    ``S = G + O`` (:func:`dysample_sample`): ``G`` is where bilinear upsampling reads
    (``align_corners=False``) and ``O`` the offset, in input pixels, predicted per group,
    per axis and per sub-position by 1x1 convolutions (``d * groups * prod(scale)``
    outputs):

    - static range (``dynamic=False``): ``O = 0.25 * offset(x)``;
    - dynamic range (``dynamic=True``, DySample+): ``O = 0.5 * sigmoid(scope(x)) *
      offset(x)``; ``scope`` has no bias (upstream's fix).

    ``style="lp"`` applies the convolutions to ``x`` and lays their outputs over the
    ``scale`` block (linear, then pixel shuffle); ``style="pl"`` applies them (``d * groups``
    outputs) to ``pixel_shuffle(x, scale)`` at the output resolution and pixel-unshuffles
    the result (pixel shuffle, then linear; needs ``in_channels`` divisible by
    ``prod(scale)``). ``groups`` must divide ``in_channels``; each group samples
    ``in_channels / groups`` channels at its own positions, at any integer scale.

    ``init="default"`` is upstream's: ``offset`` normal with std 0.001 and a zero bias,
    ``scope`` zero (so the range starts at 0.25), plus the fixed ``init_pos`` buffer
    (:func:`init_positions`). ``init="zero"`` also zeroes ``offset``: the layer then is
    bilinear upsampling (``F.interpolate(mode="bilinear", align_corners=False)``) exactly,
    at every integer scale. ``out_channels`` different from ``in_channels`` appends a 1x1
    convolution (``proj``, ``nn.ConvNd`` initialisation); upstream cannot change the count.
    Names match upstream (``offset``, ``scope``, ``init_pos``), so its 2-D weights load.

    >>> import torch
    >>> up = DySample(64, scale=2)
    >>> up(torch.randn(1, 64, 8, 8)).shape
    torch.Size([1, 64, 16, 16])
    >>> x = torch.randn(1, 8, 5, 5)
    >>> torch.allclose(DySample(8, 3, init="zero")(x), torch.nn.functional.interpolate(x, scale_factor=3,
    ...                mode="bilinear"), atol=1e-6)
    True
    """

    init_pos: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        scale: int | Sequence[int],
        style: str = "lp",
        dynamic: bool = False,
        groups: int = 4,
        out_channels: int | None = None,
        init: str = "default",
        dims: int = 2,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(dims)
        name = self.layer_name
        self.in_channels = self.check_positive("in_channels", in_channels)
        self.scale = self.check_integer_scale(scale)
        self.style = self.check_choice("style", style, STYLES)
        self.init = self.check_choice("init", init, INITS)
        self.dynamic = self.check_bool("dynamic", dynamic)
        self.groups = self.check_positive("groups", groups)
        self.out_channels = self.in_channels if out_channels is None else \
            self.check_positive("out_channels", out_channels)
        block = math.prod(self.scale)
        self.check_parameter_bytes({  # before the checks below, which do arithmetic on these sizes
            "offset": (self.dims * self.groups * block, self.in_channels + 1),
            "scope": (self.dims * self.groups * block, self.in_channels) if self.dynamic else (0,),
            "proj": (self.out_channels, self.in_channels + 1) if self.out_channels != self.in_channels else (0,),
            "init_pos": (self.dims * self.groups * block,),
        }, dtype)
        if self.in_channels % self.groups:
            nearest = min(_divisors(self.in_channels), key=lambda g: (abs(g - self.groups), g))
            raise InvalidArgumentError(
                f"{name}: in_channels must be divisible by groups (each group samples in_channels / groups channels "
                f"at its own positions), but got in_channels={self.in_channels}, groups={self.groups}; "
                f"groups={nearest} divides {self.in_channels}"
            )
        if style == "pl" and self.in_channels % block:
            raise InvalidArgumentError(
                f"{name}(style='pl'): in_channels must be divisible by prod(scale) = {block} (the offsets are "
                f"predicted from pixel_shuffle(x, scale), which has in_channels / {block} channels), but got "
                f"in_channels={self.in_channels} with scale={self.scale}; use style='lp', which has no such rule"
            )
        conv_in = self.in_channels if style == "lp" else self.in_channels // block
        conv_out = self.dims * self.groups * (block if style == "lp" else 1)
        conv = CONV[self.dims]
        factory: dict[str, Any] = {"device": device, "dtype": dtype}
        self.offset = conv(conv_in, conv_out, 1, **factory)
        self.scope = conv(conv_in, conv_out, 1, bias=False, **factory) if self.dynamic else None
        self.proj = channel_projection(self.dims, self.in_channels, self.out_channels, **factory)
        positions = init_positions(self.scale, self.groups, dtype=dtype, device=device)
        self.register_buffer("init_pos", positions.view(1, -1, *[1] * self.dims))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Upstream's initialisation (or zero offsets for ``init="zero"``); ``proj`` as ``nn.ConvNd``."""
        if self.init == "zero":
            nn.init.zeros_(self.offset.weight)
        else:
            nn.init.normal_(self.offset.weight, std=0.001)
        if self.offset.bias is not None:  # built with a bias
            nn.init.zeros_(self.offset.bias)
        if self.scope is not None:
            nn.init.zeros_(self.scope.weight)
        if self.proj is not None:
            self.proj.reset_parameters()

    def _range(self, x: torch.Tensor) -> torch.Tensor:
        if self.scope is None:
            return self.offset(x) * 0.25
        return self.offset(x) * self.scope(x).sigmoid() * 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.check_input(x, self.in_channels)
        if self.style == "lp":
            offset = self._range(x)
        else:
            offset = pixel_unshuffle(self._range(pixel_shuffle(x, self.scale, self.dims)), self.scale, self.dims)
        y = dysample_sample(x, offset + self.init_pos, self.scale, self.groups)
        return y if self.proj is None else self.proj(y)


@register_upsampler("dysample", learned=True, dims=(1, 2, 3), scales="integer",
                    description="DySample: bilinear point sampling at learned offsets (grid_sample)")
def _build_dysample(in_channels: int, out_channels: int, scale: Any, dims: int = 2, **options: Any) -> DySample:
    return build_layer(DySample, options, in_channels=in_channels, scale=scale, out_channels=out_channels, dims=dims)
