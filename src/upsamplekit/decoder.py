"""Decoders built from any registered upsampler, and the factor schedules a study compares.

A decoder upsamples a feature map by a total ``scale`` in one or more stages. The
*schedule* is the list of per-stage factors (``[4, 2]`` upsamples by 4, then by 2); its
product is the total scale. :func:`schedules` enumerates every ordered factorisation, so a
study can ask which split is best, and :class:`Decoder` builds one from a schedule and an
upsampler name of the registry (:func:`upsamplekit.list_upsamplers`).

>>> schedules(8)
[[8], [4, 2], [2, 4], [2, 2, 2]]
>>> import torch
>>> decoder = Decoder(16, 3, scale=4, schedule=[2, 2], upsampler="bilinear", channels=8)
>>> decoder(torch.zeros(1, 16, 5, 7)).shape
torch.Size([1, 3, 20, 28])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import torch
from torch import nn

from .checks import check_dims, is_integer, per_axis, sequence_items
from .errors import InvalidArgumentError, InvalidTypeError, unknown_choice
from .nn.base import CONV, match_parameters
from .nn.layout import check_input
from .nn.registry import build_upsampler, upsampler_info

__all__ = ["Decoder", "UNet", "MERGES", "ResidualBlock", "stage_widths", "MIN_STAGE_WIDTH", "schedules",
           "resolve_schedule", "UpsamplerBuilder", "DecoderFactory", "MAX_SCALE",
           "MAX_SCHEDULES"]

#: The largest total scale a decoder or schedule takes (factoring it stays instant; any larger
#: upsampling of even one pixel would exceed every allocation guard).
MAX_SCALE = 2**32

#: The most schedules :func:`schedules` lists (2**17 has 65,536 ordered factorisations).
MAX_SCHEDULES = 10**5


class UpsamplerBuilder(Protocol):
    """``builder(in_channels, out_channels, factor) -> nn.Module``: one upsampling stage.

    The study hands one to a user's decoder factory (``--decoder module:function``); it builds
    the candidate upsampler of the trial for every stage it is called for.
    """

    def __call__(self, in_channels: int, out_channels: int, factor: int) -> nn.Module: ...


class DecoderFactory(Protocol):
    """A user's decoder: ``factory(upsample, *, in_channels, out_channels, schedule, dims)``.

    ``upsample`` is an :class:`UpsamplerBuilder`; the factory calls it once per stage of
    ``schedule`` (the per-stage factors, in order) and returns the decoder module, which maps
    ``(N, in_channels, *spatial)`` to ``(N, out_channels, *spatial * prod(schedule))``.
    """

    def __call__(self, upsample: UpsamplerBuilder, *, in_channels: int, out_channels: int,
                 schedule: list[int], dims: int) -> nn.Module: ...


def _check_scale(scale: object, name: str = "scale") -> int:
    if not is_integer(scale):
        raise InvalidTypeError(f"{name} must be an integer >= 1, but got {scale!r}")
    if scale < 1:
        raise InvalidArgumentError(f"{name} must be an integer >= 1, but got {scale!r}")
    return int(scale)


def _check_total(scale: object, name: str = "scale") -> int:
    value = _check_scale(scale, name)
    if value > MAX_SCALE:
        raise InvalidArgumentError(f"{name} must be at most MAX_SCALE={MAX_SCALE} (2**32), but got {value}")
    return value


def _divisors(n: int) -> list[int]:
    """The divisors of ``n`` greater than 1, largest first, in ``O(sqrt(n))``."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    every = set(small) | {n // d for d in small}
    return sorted((d for d in every if d > 1), reverse=True)


def schedules(total_scale: int, max_stages: int | None = None) -> list[list[int]]:
    """Every ordered factorisation of ``total_scale`` into integer factors >= 2.

    Sorted by number of stages, then by the first factor descending; ``max_stages`` keeps
    those with at most that many stages. A total scale of 1 has the empty schedule.

    >>> schedules(8)
    [[8], [4, 2], [2, 4], [2, 2, 2]]
    >>> schedules(12, max_stages=2)
    [[12], [6, 2], [4, 3], [3, 4], [2, 6]]
    >>> schedules(1)
    [[]]
    """
    total_scale = _check_total(total_scale, "total_scale")
    if max_stages is not None:
        max_stages = _check_scale(max_stages, "max_stages")
    factors = _divisors(total_scale)
    counts: dict[int, int] = {1: 1}
    for n in sorted(factors):  # ordered factorisations of n: sum over its first factor
        counts[n] = sum(counts[n // f] for f in factors if n % f == 0 and n // f in counts)
    if counts[total_scale] > MAX_SCHEDULES:
        raise InvalidArgumentError(
            f"total_scale={total_scale} has {counts[total_scale]} ordered factorisations, more than "
            f"MAX_SCHEDULES={MAX_SCHEDULES}; pick a schedule yourself (resolve_schedule) or a smaller total_scale"
        )

    def split(n: int) -> list[list[int]]:
        if n == 1:
            return [[]]
        return [[f, *rest] for f in factors if n % f == 0 and f <= n for rest in split(n // f)]

    found = [s for s in split(total_scale) if max_stages is None or len(s) <= max_stages]
    return sorted(found, key=lambda s: (len(s), [-f for f in s]))


def resolve_schedule(scale: int, schedule: Sequence[int] | str | None = None) -> list[int]:
    """The per-stage factors for ``scale``: given, or ``"auto"``/``None`` (the prime factors,
    largest first: one x2 stage per octave, the common U-Net layout).

    >>> resolve_schedule(12)
    [3, 2, 2]
    >>> resolve_schedule(8, [4, 2])
    [4, 2]
    >>> resolve_schedule(8, [3, 2])
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: schedule must be factors >= 2 that multiply to scale=8, but got schedule=[3, 2] (product 6); valid schedules: [8], [4, 2], [2, 4], [2, 2, 2]
    """
    scale = _check_total(scale)
    if schedule is None or (isinstance(schedule, str) and schedule == "auto"):
        factors: list[int] = []
        n, p = scale, 2
        while n > 1 and p * p <= n:
            while n % p == 0:
                factors.append(p)
                n //= p
            p += 1
        if n > 1:  # what is left after trial division up to its square root is prime
            factors.append(n)
        return sorted(factors, reverse=True)
    items = sequence_items(schedule)
    if items is None:
        raise InvalidArgumentError(f"schedule must be a list of integer factors or 'auto', but got {schedule!r}")
    factors = [_check_scale(f, "each schedule factor") for f in items]
    if math.prod(factors) != scale or 1 in factors:
        valid = ", ".join(str(s) for s in schedules(scale))
        raise InvalidArgumentError(
            f"schedule must be factors >= 2 that multiply to scale={scale}, but got schedule={items!r} "
            f"(product {math.prod(factors)}); valid schedules: {valid}"
        )
    return factors


def _per_stage(value: Any, stages: int, name: str) -> list[Any]:
    return per_axis(name, value, stages, rule=f"{name} must have one entry per stage ({stages})")


#: The narrowest stage :func:`stage_widths` falls to (a width given per stage may be narrower).
MIN_STAGE_WIDTH = 8


def stage_widths(width: int, schedule: Sequence[int]) -> list[int]:
    """The widths of a decoder whose body is ``width`` channels wide: after each stage the width
    is divided by the scale reached so far (halved per doubling of resolution, as in U-Net and VAE
    decoders), never below :data:`MIN_STAGE_WIDTH` (or ``width`` when that is narrower).

    Two schedules of one total scale end at the same width, so they differ only in how they get there.

    >>> stage_widths(64, [4]), stage_widths(64, [2, 2]), stage_widths(64, [2, 2, 2])
    ([64, 16], [64, 32, 16], [64, 32, 16, 8])
    >>> stage_widths(8, [2, 2])
    [8, 8, 8]
    """
    width = _check_scale(width, "channels")
    widths, reached = [width], 1
    for factor in schedule:
        reached *= factor
        widths.append(max(min(width, MIN_STAGE_WIDTH), width // reached))
    return widths


class ResidualBlock(nn.Module):
    """``x + res_scale * conv(relu(conv(x)))`` with 3x3 convolutions (EDSR's block, no batch norm)."""

    def __init__(self, width: int, dims: int = 2, res_scale: float = 0.1, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        conv = CONV[dims]
        self.body = nn.Sequential(conv(width, width, 3, padding=1, device=device, dtype=dtype), nn.ReLU(),
                                  conv(width, width, 3, padding=1, device=device, dtype=dtype))
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) * self.res_scale

    def extra_repr(self) -> str:
        return f"res_scale={self.res_scale}"


class Decoder(nn.Module):
    """A convolutional decoder: most of the work at the input resolution, then one upsampler and a
    refining convolution per stage, the width falling as the resolution rises.

    ``stem``: 3x3 convolution ``in_channels -> channels[0]``. ``body`` (when ``depth`` > 0):
    ``depth`` residual blocks (:class:`ResidualBlock`) and a 3x3 convolution, added to the stem's
    output (EDSR's long skip). Stage ``i``: the upsampler (``upsampler[i]`` by ``schedule[i]``,
    ``channels[i] -> channels[i + 1]``), then a 3x3 convolution and ReLU at the new resolution.
    ``head``: 3x3 convolution to ``out_channels``, no activation. Everything but the upsamplers is
    the same for every upsampler, so two decoders that differ only in ``upsampler`` differ only in
    how they upsample.

    ``schedule``: per-stage factors whose product is ``scale``, or ``"auto"`` (see
    :func:`resolve_schedule`). ``upsampler``: a registry name, or one per stage.
    ``channels``: the body's width (the stages' widths fall from it, see :func:`stage_widths`), or
    ``len(schedule) + 1`` widths; default 32. ``depth``: residual blocks at the input resolution
    (0: the stem feeds the first stage directly). ``upsampler_options``: keyword arguments passed
    to every stage's upsampler.

    >>> d = Decoder(8, 3, scale=8, schedule=[4, 2], upsampler=["subpixel", "bilinear"], channels=32, depth=2)
    >>> [type(m).__name__ for m in d.upsamplers], d.widths, len(d.body)
    (['SubPixelConv', 'Interpolate'], [32, 8, 8], 3)
    >>> d.schedule
    [4, 2]
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int,
        schedule: Sequence[int] | str | None = None,
        upsampler: str | Sequence[str] = "subpixel",
        channels: int | Sequence[int] | None = None,
        dims: int = 2,
        upsampler_options: dict[str, Any] | None = None,
        depth: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        in_channels = _check_scale(in_channels, "in_channels")
        out_channels = _check_scale(out_channels, "out_channels")
        dims = check_dims(dims, where="Decoder")
        if not is_integer(depth) or depth < 0:
            raise InvalidArgumentError(f"Decoder: depth must be an integer >= 0 (residual blocks at the input "
                                       f"resolution), but got {depth!r}")
        if upsampler_options is not None and not isinstance(upsampler_options, Mapping):
            raise InvalidTypeError(f"Decoder: upsampler_options must be a dict of keyword arguments, but got "
                                   f"{type(upsampler_options).__name__}")
        self.scale = _check_total(scale)
        self.schedule = resolve_schedule(scale, schedule)
        stages = len(self.schedule)
        names = _per_stage(upsampler, stages, "upsampler")
        for name in names:
            if upsampler_info(name).guided:
                raise InvalidArgumentError(
                    f"upsampler {name!r} needs a guide (an encoder feature at the output size), which Decoder "
                    "has none of: use upsamplekit.decoder.UNet, whose stages pass the encoder's features")
        channels = 32 if channels is None else channels
        if is_integer(channels):
            widths = stage_widths(channels, self.schedule)  # type: ignore[arg-type]
        else:
            widths = [_check_scale(w, "channels") for w in _per_stage(channels, stages + 1, "channels")]
        conv = CONV[dims]
        self.dims = dims
        self.in_channels = in_channels
        self.upsampler_names = names
        self.widths = widths
        self.depth = int(depth)
        self.stem = conv(in_channels, widths[0], 3, padding=1, device=device, dtype=dtype)
        blocks = [ResidualBlock(widths[0], dims, device=device, dtype=dtype) for _ in range(self.depth)]
        self.body = nn.Sequential(*blocks, conv(widths[0], widths[0], 3, padding=1, device=device, dtype=dtype)) \
            if blocks else None
        self.upsamplers = nn.ModuleList(
            build_upsampler(name, widths[i], widths[i + 1], factor, dims=dims, device=device, dtype=dtype,
                            **(upsampler_options or {}))
            for i, (name, factor) in enumerate(zip(names, self.schedule))
        )
        self.refine = nn.ModuleList(
            nn.Sequential(conv(width, width, 3, padding=1, device=device, dtype=dtype), nn.ReLU())
            for width in widths[1:]
        )
        self.head = conv(widths[-1], out_channels, 3, padding=1, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = match_parameters("Decoder", check_input("Decoder", x, self.dims, self.in_channels), self)
        x = self.stem(x)
        if self.body is not None:
            x = x + self.body(x)
        for up, refine in zip(self.upsamplers, self.refine):
            x = refine(up(x))
        return self.head(x)

    def extra_repr(self) -> str:
        return (f"scale={self.scale}, schedule={self.schedule}, upsampler={self.upsampler_names!r}, "
                f"widths={self.widths}, depth={self.depth}")


MERGES = ("concat", "add")


class UNet(nn.Module):
    """An encoder-decoder with a skip connection at every stage: each upsampling stage of the decoder
    takes the encoder feature of its resolution.

    ``schedule`` and ``channels`` read as :class:`Decoder`'s: the decoder's per-stage factors, first
    stage (the deepest) first, and its widths, the deepest first (an int: :func:`stage_widths`, the
    width falling as the resolution rises; a list: ``len(schedule) + 1`` widths). Encoder: a 3x3
    convolution and ReLU to the full-resolution width, then per stage down a strided convolution
    (kernel = stride = the factor) and ReLU to the next width and a 3x3 convolution and ReLU.
    Decoder stage ``i``: the upsampler ``channels[i] -> channels[i + 1]``, then the encoder feature
    of that resolution: after a plain upsampler ``merge="concat"`` concatenates it (a 3x3
    convolution and ReLU bring the width back) and ``"add"`` adds it (then a 3x3 convolution and
    ReLU); a guided upsampler (:attr:`~upsamplekit.nn.catalog.UpsamplerInfo.guided`) takes it as its
    guide instead, then a 3x3 convolution and ReLU. ``head``: 3x3 convolution to ``out_channels``.
    Inputs must be divisible by ``prod(schedule)``.

    >>> import torch
    >>> unet = UNet(3, 3, schedule=[2, 2], upsampler="bilinear", channels=32)
    >>> unet.widths, unet(torch.zeros(1, 3, 16, 12)).shape
    ([32, 16, 8], torch.Size([1, 3, 16, 12]))
    >>> UNet(3, 3, schedule=[4], upsampler="nearest", merge="add", channels=16)(torch.zeros(1, 3, 8, 8)).shape
    torch.Size([1, 3, 8, 8])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        schedule: Sequence[int] = (2, 2),
        upsampler: str | Sequence[str] = "bilinear",
        channels: int | Sequence[int] | None = None,
        merge: str = "concat",
        dims: int = 2,
        upsampler_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        in_channels = _check_scale(in_channels, "in_channels")
        out_channels = _check_scale(out_channels, "out_channels")
        dims = check_dims(dims, where="UNet")
        if merge not in MERGES:
            raise unknown_choice("UNet: merge", merge, MERGES)
        items = sequence_items(schedule)
        if not items:
            raise InvalidArgumentError(f"UNet: schedule must be a non-empty list of factors >= 2 (one per stage), "
                                       f"but got {schedule!r}")
        factors = [_check_scale(f, "each schedule factor") for f in items]
        if 1 in factors:
            raise InvalidArgumentError(f"UNet: schedule must be factors >= 2, but got {list(items)!r}")
        stages = len(factors)
        names = _per_stage(upsampler, stages, "upsampler")
        if upsampler_options is not None and not isinstance(upsampler_options, Mapping):
            raise InvalidTypeError(f"UNet: upsampler_options must be a dict of keyword arguments, but got "
                                   f"{type(upsampler_options).__name__}")
        channels = 32 if channels is None else channels
        if is_integer(channels):
            widths = stage_widths(channels, factors)  # type: ignore[arg-type]
        else:
            widths = [_check_scale(w, "channels") for w in _per_stage(channels, stages + 1, "channels")]
        conv = CONV[dims]
        self.dims, self.in_channels, self.merge = dims, in_channels, merge
        self.schedule, self.widths, self.upsampler_names = factors, widths, names
        self.guided = [upsampler_info(name).guided for name in names]
        self.stem = nn.Sequential(conv(in_channels, widths[-1], 3, padding=1), nn.ReLU())
        self.down = nn.ModuleList(  # full resolution first: undoes the decoder's stages from the last
            nn.Sequential(conv(widths[i + 1], widths[i], factors[i], stride=factors[i]), nn.ReLU(),
                          conv(widths[i], widths[i], 3, padding=1), nn.ReLU())
            for i in reversed(range(stages)))
        ups, fuse = [], []
        for i in range(stages):
            options = dict(upsampler_options or {})
            if self.guided[i]:
                options["guide_channels"] = widths[i + 1]
            ups.append(build_upsampler(names[i], widths[i], widths[i + 1], factors[i], dims=dims, **options))
            joined = 2 * widths[i + 1] if merge == "concat" and not self.guided[i] else widths[i + 1]
            fuse.append(nn.Sequential(conv(joined, widths[i + 1], 3, padding=1), nn.ReLU()))
        self.upsamplers = nn.ModuleList(ups)
        self.fuse = nn.ModuleList(fuse)
        self.head = conv(widths[-1], out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = match_parameters("UNet", check_input("UNet", x, self.dims, self.in_channels), self)
        total = math.prod(self.schedule)
        if any(s % total for s in x.shape[2:]):
            raise InvalidArgumentError(f"UNet: the input's spatial size {tuple(x.shape[2:])} must be divisible by "
                                       f"prod(schedule)={total} (schedule {self.schedule})")
        skips = [self.stem(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        x = skips.pop()  # the deepest feature
        for up, fuse, guided in zip(self.upsamplers, self.fuse, self.guided):
            skip = skips.pop()
            if guided:
                x = up(x, skip)
            else:
                x = up(x)
                x = torch.cat([x, skip], dim=1) if self.merge == "concat" else x + skip
            x = fuse(x)
        return self.head(x)

    def extra_repr(self) -> str:
        return (f"schedule={self.schedule}, upsampler={self.upsampler_names!r}, widths={self.widths}, "
                f"merge={self.merge!r}")


def decoder_from_factory(factory: Callable[..., nn.Module], upsampler: str, *, in_channels: int, out_channels: int,
                         schedule: list[int], dims: int = 2, **options: Any) -> nn.Module:
    """Call a user's :class:`DecoderFactory` with a builder for ``upsampler``.

    >>> def mine(upsample, *, in_channels, out_channels, schedule, dims):
    ...     stages = [upsample(in_channels, in_channels, f) for f in schedule]
    ...     return nn.Sequential(*stages, nn.Conv2d(in_channels, out_channels, 1))
    >>> model = decoder_from_factory(mine, "nearest", in_channels=4, out_channels=3, schedule=[2, 2])
    >>> model(torch.zeros(1, 4, 3, 3)).shape
    torch.Size([1, 3, 12, 12])
    """
    upsampler_info(upsampler)

    def upsample(in_ch: int, out_ch: int, factor: int) -> nn.Module:
        return build_upsampler(upsampler, in_ch, out_ch, factor, dims=dims, **options)

    model = factory(upsample, in_channels=in_channels, out_channels=out_channels, schedule=list(schedule), dims=dims)
    if not isinstance(model, nn.Module):
        raise InvalidTypeError(f"the decoder factory must return a torch.nn.Module, but returned {type(model).__name__}")
    return model
