"""Benchmark every registered upsampling layer at a decoder shape on CPU: time and peak memory.

For each upsampler of ``upsamplekit.nn.list_upsamplers()`` (aliases that fix no option are
left out, as they build the same layer; an entry with aliases that fix options, interpolate,
appears through them: nearest, bilinear, bicubic; a guided one, FADE or SAPA, gets a fixed random guide
at the output size, left out of the memory like the input), plus DySample's dynamic range and CARAFE's common
pure-PyTorch implementation (``F.unfold`` of the input, nearest-upsampled, times the
kernels, summed: the (N, C * k_up^2, H', W') tensor this library avoids), built with
``in_channels = out_channels`` and run on a (batch, channels, size, size) float32 input:

* forward time (under ``torch.no_grad()``) and forward + backward time (``y.backward(g)``
  with a fixed random ``g``; gradients reach the input and the parameters), median and
  interquartile range over ``--repeats`` rounds; every case runs once per round, the cases
  interleaved, after one warm-up pass each;
* peak memory of each pass: the largest sum of bytes of live tensors created during it
  (:class:`upsamplekit.study.measure.LiveBytes`, a TorchDispatchMode that tracks each op's
  outputs until their storage is freed; the input, parameters, buffers and ``g`` are not
  counted). Workspace an op allocates and frees inside itself (a convolution's im2col buffer)
  is not seen;
* parameters and forward MACs from :func:`upsamplekit.count_macs`.

Usage::

    python benchmarks/bench_layers.py --out docs/benchmarks.md   # batch 8, 64 channels, 64x64, x2
    python benchmarks/bench_layers.py --quick                     # a smoke run in seconds

``--out`` replaces the "## Upsampling layers" section of the file (or appends it, or creates
the file) and leaves every other section as it is.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import statistics
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from upsamplekit import count_macs, count_params
from upsamplekit.nn import SAPA, build_upsampler, list_upsamplers, upsampler_info
from upsamplekit.nn.carafe import CARAFE
from upsamplekit.study.measure import LiveBytes

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import command_line, load, machine, publish, stats, timed  # noqa: E402

SECTION = "## Upsampling layers"


# ------------------------------------------------------------------------------ CARAFE by unfold
class UnfoldCARAFE(nn.Module):
    """CARAFE with the common pure-PyTorch reassembly (as in FADE's and most ports), sharing a
    :class:`~upsamplekit.nn.CARAFE`'s kernel prediction: unfold the zero-padded input into
    (N, C * k_up^2, H, W), nearest-upsample it to (N, C * k_up^2, H', W'), multiply by the
    kernels and sum over the taps. 2-D, ``out_channels == channels``."""

    def __init__(self, carafe: CARAFE) -> None:
        super().__init__()
        if carafe.dims != 2 or carafe.proj is not None or len(set(carafe.scale)) != 1:
            raise ValueError("UnfoldCARAFE: a 2-D CARAFE with one scale and no projection")
        self.carafe = carafe

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.carafe
        n, c, h, w = x.shape
        s, k = m.scale[0], m.k_up
        masks = F.softmax(F.pixel_shuffle(m.content_encoder(m.channel_compressor(x)), s), dim=1)
        unfolded = F.unfold(x, k, padding=(k - 1) // 2).view(n, c * k * k, h, w)
        unfolded = F.interpolate(unfolded, scale_factor=s, mode="nearest").view(n, c, k * k, h * s, w * s)
        return (unfolded * masks.unsqueeze(1)).sum(dim=2)


class NaiveSAPA(nn.Module):
    """SAPA with the straightforward pure-PyTorch attention, sharing a :class:`~upsamplekit.nn.SAPA`'s
    embeddings: unfold the keys and the values into their k x k neighbourhoods, repeat them to the
    output size (nearest) and contract, which holds the (N, C, k^2, H', W') neighbourhood tensor
    this library avoids. 2-D, variant B, zero padding, ``out_channels == channels``."""

    def __init__(self, sapa: SAPA) -> None:
        super().__init__()
        if sapa.dims != 2 or sapa.variant != "B" or sapa.padding != "zeros" or sapa.proj is not None \
                or len(set(sapa.scale)) != 1:
            raise ValueError("NaiveSAPA: a 2-D SAPA-B with zero padding, one scale and no projection")
        self.sapa = sapa
        self.scale, self.guide_channels = sapa.scale, sapa.guide_channels

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        m = self.sapa
        assert m.q is not None and m.k is not None and m.norm_x is not None and m.norm_y is not None
        query = m.q(m.norm_y(guide.movedim(1, -1))).movedim(-1, 1)
        key = m.k(m.norm_x(x.movedim(1, -1))).movedim(-1, 1)
        n, c, h, w = x.shape
        s, k = m.scale[0], m.kernel_size
        taps, e = k * k, key.shape[1]

        def neighbourhood(t: torch.Tensor, channels: int) -> torch.Tensor:
            unfolded = F.unfold(t, k, padding=(k - 1) // 2).view(n, channels * taps, h, w)
            return F.interpolate(unfolded, scale_factor=s, mode="nearest").view(n, channels, taps, h * s, w * s)

        weights = torch.einsum("nehw,nekhw->nkhw", query, neighbourhood(key, e)).softmax(1)
        return torch.einsum("nkhw,nckhw->nchw", weights, neighbourhood(x, c))


class WithGuide(nn.Module):
    """A guided layer (FADE, SAPA) called as ``layer(x)``: its guide, an encoder feature of
    ``layer.guide_channels`` channels at the output size, is drawn once (seeded) for the input's
    shape and kept as a buffer, so the measurements leave it out as they leave the input out."""

    guide: torch.Tensor | None

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer
        self.register_buffer("guide", None, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.layer.scale if isinstance(self.layer.scale, tuple) else (self.layer.scale,) * (x.dim() - 2)
        shape = (x.shape[0], int(self.layer.guide_channels), *[n * s for n, s in zip(x.shape[2:], scale)])
        if self.guide is None or tuple(self.guide.shape) != shape:
            self.guide = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=x.dtype)
        return self.layer(x, self.guide)


# ------------------------------------------------------------------------------ cases
@dataclass
class Case:
    """One layer to run: its label, how to build it, and what it measured."""

    label: str
    build: Callable[[], nn.Module]
    fwd_ms: list[float] = field(default_factory=list)
    bwd_ms: list[float] = field(default_factory=list)
    fwd_peak: int = 0
    bwd_peak: int = 0
    params: int = 0
    macs: int = 0


def cases(channels: int, scale: int, patterns: list[str]) -> list[Case]:
    """Every registered upsampler (aliases without options left out), DySample+ and CARAFE by unfold."""

    def _build(name: str, **options: Any) -> nn.Module:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return build_upsampler(name, channels, channels, scale, **options)

    names = list_upsamplers()
    shown_by_aliases = {upsampler_info(n).alias_of for n in names if upsampler_info(n).options}
    found = []
    for name in names:
        info = upsampler_info(name)
        if 2 not in info.dims or name in shown_by_aliases:
            continue  # interpolate appears as nearest, bilinear, bicubic
        if info.alias_of is not None and not info.options:
            continue  # deconv, pixelshuffle: the same layer as their target
        label = name if not info.options else f"{name} ({info.alias_of}, {_options(info.options)})"
        if info.guided:
            found.append(Case(f"{label} (guided)", lambda name=name: WithGuide(_build(name))))
            if name == "sapa":
                found.append(Case("sapa by neighbourhood (naive implementation)",
                                  lambda: WithGuide(NaiveSAPA(_build("sapa")))))  # type: ignore[arg-type]
            continue
        found.append(Case(label, lambda name=name: _build(name)))
        if name == "dysample":
            found.append(Case("dysample (dynamic=True)", lambda: _build("dysample", dynamic=True)))
        if name == "carafe":
            found.append(Case("carafe by unfold (common implementation)",
                              lambda: UnfoldCARAFE(_build("carafe"))))  # type: ignore[arg-type]
    return [c for c in found if any(fnmatch.fnmatch(c.label.split(" ")[0], p) for p in patterns)]


def _options(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


# ------------------------------------------------------------------------------ measuring
def _forward(module: nn.Module, x: torch.Tensor) -> None:
    with torch.no_grad():
        module(x)


def _forward_backward(module: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> None:
    module(x).backward(grad)
    x.grad = None
    for p in module.parameters():
        p.grad = None


def _peak(fn: Callable[[], None], ignore: list[torch.Tensor]) -> int:
    with LiveBytes(ignore) as tracker:
        fn()
    return tracker.peak


def run(all_cases: list[Case], shape: tuple[int, int, int, int], scale: int, repeats: int,
        log: Callable[[str], None] = lambda s: None) -> None:
    """Fill in every case's measurements (interleaved rounds after a warm-up)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=gen)
    xg = x.clone().requires_grad_(True)
    n, c, h, w = shape
    grad = torch.randn(n, c, h * scale, w * scale, generator=gen)
    modules = []
    for case in all_cases:
        module = case.build()
        case.params = count_params(module)
        case.macs = count_macs(module, x)
        if isinstance(module, UnfoldCARAFE):  # the same computation as the layer it wraps
            with torch.no_grad():
                torch.testing.assert_close(module(x), module.carafe(x), rtol=1e-4, atol=1e-5)
        if isinstance(module, WithGuide) and isinstance(module.layer, NaiveSAPA):
            with torch.no_grad():
                torch.testing.assert_close(module(x), module.layer.sapa(x, module.guide), rtol=1e-4, atol=1e-5)
        keep = [x, xg, grad, *module.parameters(), *module.buffers()]
        _forward(module, x)  # warm-up (and first-call caches) before measuring memory
        _forward_backward(module, xg, grad)
        case.fwd_peak = _peak(lambda: _forward(module, x), keep)
        case.bwd_peak = _peak(lambda: _forward_backward(module, xg, grad), keep)
        modules.append(module)
        log(f"{case.label}: warmed up, peak {case.fwd_peak / 2**20:.1f} / {case.bwd_peak / 2**20:.1f} MiB")
    for r in range(repeats):
        for case, module in zip(all_cases, modules):
            case.fwd_ms.append(timed(lambda: _forward(module, x)))
            case.bwd_ms.append(timed(lambda: _forward_backward(module, xg, grad)))
        log(f"round {r + 1}/{repeats} done")


# ------------------------------------------------------------------------------ report
def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:.1f}"


def markdown(all_cases: list[Case], shape: tuple[int, int, int, int], scale: int, repeats: int,
             command: str, load_at_start: str = "n/a") -> str:
    n, c, h, w = shape
    lines = [
        SECTION, "",
        f"Every registered upsampler, {c} -> {c} channels, x{scale}, on a ({n}, {c}, {h}, {w}) float32 input "
        f"(output ({n}, {c}, {h * scale}, {w * scale})), on CPU. Times in ms: median (interquartile range) of "
        f"{repeats} interleaved rounds after a warm-up; forward under `torch.no_grad()`, forward + backward "
        "with gradients for the input and the parameters. Peak: the most bytes held at once by tensors "
        "created during the pass (input, parameters and the incoming gradient excluded; workspace an op "
        "frees before returning is not seen). MACs: `upsamplekit.count_macs` of the forward pass.", "",
        *machine(load_at_start),
        f"- command: `{command}`", "",
        "| layer | params | MMACs | forward ms | forward peak MiB | forward + backward ms | "
        "forward + backward peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case in all_cases:
        lines.append(f"| {case.label} | {case.params:,} | {case.macs / 1e6:,.1f} | {stats(case.fwd_ms)} | "
                     f"{_mib(case.fwd_peak)} | {stats(case.bwd_ms)} | {_mib(case.bwd_peak)} |")
    lines.append("")
    lines += verdicts(all_cases)
    return "\n".join(lines).rstrip() + "\n"


def _against(all_cases: list[Case], mine: str, other: str, what: str, memory_goal: float, goal: str) -> list[str]:
    """One layer against another implementation of it: memory and time ratios, and whether the goal
    (peak memory at most ``memory_goal`` times the other's, never slower) is met."""
    by_label = {case.label: case for case in all_cases}
    ours, theirs = by_label.get(mine), by_label.get(other)
    if ours is None or theirs is None:
        return []
    fwd = statistics.median(ours.fwd_ms) / statistics.median(theirs.fwd_ms)
    bwd = statistics.median(ours.bwd_ms) / statistics.median(theirs.bwd_ms)
    memory = (ours.fwd_peak / theirs.fwd_peak, ours.bwd_peak / theirs.bwd_peak)
    met = max(memory) <= memory_goal and fwd <= 1 and bwd <= 1
    return [f"{what}: peak memory x{memory[0]:.3f} (forward) and x{memory[1]:.3f} (forward + backward), time "
            f"x{fwd:.2f} (forward) and x{bwd:.2f} (forward + backward). Goal ({goal}): {'met' if met else 'NOT met'}."]


def verdicts(all_cases: list[Case]) -> list[str]:
    """CARAFE against the unfold implementation (less memory, no slower), SAPA against the naive one
    that holds the neighbourhood tensor (at most 1/4 of its memory, no slower)."""
    return (_against(all_cases, "carafe", "carafe by unfold (common implementation)",
                     "CARAFE against the unfold implementation (same kernels, outputs equal)", 0.999,
                     "less memory, no slower")
            + _against(all_cases, "sapa (guided)", "sapa by neighbourhood (naive implementation)",
                       "SAPA against the naive implementation that holds the neighbourhood tensor (same embeddings, "
                       "outputs equal)", 0.25, "at most 1/4 of the memory, no slower"))


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--size", type=int, default=64, help="input height and width")
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 11, quick 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--names", default="*", help="comma-separated fnmatch patterns of upsampler names")
    parser.add_argument("--quick", action="store_true", help="batch 1, 8 channels, 8x8, 2 rounds: a smoke run")
    parser.add_argument("--out", default=None, help="write the '## Upsampling layers' section into this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.channels, args.size = 1, 8, 8
    repeats = args.repeats or (2 if args.quick else 11)
    torch.set_num_threads(args.threads)
    shape = (args.batch, args.channels, args.size, args.size)
    chosen = cases(args.channels, args.scale, args.names.split(","))
    if not chosen:
        parser.error(f"no upsampler matches --names {args.names!r}; registered: {', '.join(list_upsamplers())}")
    load_at_start = load()
    run(chosen, shape, args.scale, repeats, log=lambda s: print(s, file=sys.stderr, flush=True))
    text = markdown(chosen, shape, args.scale, repeats, command_line(__file__, argv), load_at_start)
    publish(text, args.out, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
