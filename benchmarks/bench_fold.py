"""Benchmark ``upsamplekit.fold`` on CPU: each original model and its folded copy, side by side.

Four groups, every pair timed in the same interleaved rounds (forward under ``torch.no_grad()``,
median and interquartile range of ``--repeats`` rounds after a warm-up; each round runs the
original and the folded model one after the other, alternating which goes first):

* layer pairs at decoder shapes: ``nn.Upsample(scale_factor=2, mode=m)`` then
  ``nn.Conv2d(C, C, 3, padding=1)`` for m = nearest and bilinear, and
  ``nn.ConvTranspose2d(C, C, 4, stride=2, padding=1)`` against its sub-pixel form (which
  ``fold`` uses only where it measures faster), float32, batch 1 and 8, C 32 to 256,
  32 to 128 px low-resolution inputs;
* where the time goes, for nearest and bilinear at (8, 64, 64, 64): the upsampling alone, the
  high-resolution convolution alone, the folded low-resolution convolution alone;
* end to end, the study's default decoders, ``Decoder(3, 3, scale=4, schedule=s, upsampler=u,
  channels=16)`` for every built-in upsampler u and s in [4], [2, 2], at (1, 3, 32, 32) and
  (8, 3, 32, 32), folded with ``fold(decoder, example_input)``;
* ONNX: the nearest and bilinear pairs at (8, 64, 64, 64) exported (TorchScript exporter,
  opset 17) and run with onnxruntime, original against folded;
* the cost of computing the folded kernel in every forward pass (issue 16: the cache keyed on
  the parameters' version counters missed ``.data`` edits and is gone): each folded layer of
  the first group and each folded study decoder with its kernels pinned (computed once, as the
  cache served them before) against the same model as it is now, side by side; and the kernel
  computation alone, the former einsum (which training ran every step) against the matrix
  product that replaced it.

Every folded output is compared with the original's (max abs difference over the largest
output magnitude: the relative error the issue bounds by 1e-5 in float32).

Usage::

    python benchmarks/bench_fold.py --out docs/benchmarks.md   # about a minute or two, 1 thread
    python benchmarks/bench_fold.py --quick                     # a smoke run in seconds

``--out`` replaces the "## Fold" section of the file (or appends it, or creates the file)
and leaves every other section as it is.
"""

from __future__ import annotations

import argparse
import copy
import io
import math
import os
import statistics
import string
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from upsamplekit.decoder import Decoder
from upsamplekit.folding import FoldedConv, fold
from upsamplekit.folding.timing import paired_round
from upsamplekit.folding.transposed import fold_transposed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import command_line, load, machine, publish, stats  # noqa: E402

SECTION = "## Fold"
SHAPES = [(1, 32, 32), (1, 64, 64), (1, 128, 64), (1, 256, 32), (8, 32, 64), (8, 64, 64), (8, 128, 32), (8, 32, 128)]
QUICK_SHAPES = [(1, 8, 8), (2, 8, 12)]
UPSAMPLERS = ["nearest", "bilinear", "bicubic", "transposed", "subpixel", "resizeconv", "carafe", "dysample"]


# ------------------------------------------------------------------------------ measuring
@dataclass
class Pair:
    """An original callable and its folded counterpart on one input, with what they measured."""

    group: str
    label: str
    shape: tuple[int, ...]
    original: Callable[[], Any]
    folded: Callable[[], Any]
    note: str = ""
    compare: bool = True  # False: the two sides compute different things (the breakdown)
    error: float = float("nan")
    original_ms: list[float] = field(default_factory=list)
    folded_ms: list[float] = field(default_factory=list)
    model: nn.Module | None = None  # the folded model and its input, for the recompute rows
    x: Any = None

    @property
    def ratio(self) -> float:
        return statistics.median(self.original_ms) / statistics.median(self.folded_ms)


def relative_error(got: Any, want: Any) -> float:
    a = torch.as_tensor(got).double()
    b = torch.as_tensor(want).double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def run(pairs: list[Pair], repeats: int, log: Callable[[str], None] = lambda s: None) -> None:
    """Warm up every pair (and record its error), then time all pairs in interleaved rounds."""
    with torch.no_grad():
        for pair in pairs:
            if pair.compare:
                pair.error = relative_error(pair.folded(), pair.original())
            pair.original(), pair.folded()
        log(f"{len(pairs)} pairs warmed up")
        for r in range(repeats):
            for pair in pairs:
                original_ms, folded_ms = paired_round(pair.original, pair.folded, r)
                pair.original_ms.append(original_ms)
                pair.folded_ms.append(folded_ms)
            log(f"round {r + 1}/{repeats} done")


# ------------------------------------------------------------------------------ the cases
def _seeded(module: nn.Module, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    for p in module.parameters():
        nn.init.uniform_(p, -0.1, 0.1)
    return module.eval()


def layer_pairs(shapes: list[tuple[int, int, int]]) -> list[Pair]:
    pairs = []
    gen = torch.Generator().manual_seed(0)
    for batch, channels, size in shapes:
        x = torch.randn(batch, channels, size, size, generator=gen)
        for mode in ("nearest", "bilinear"):
            original = _seeded(nn.Sequential(nn.Upsample(scale_factor=2, mode=mode),
                                             nn.Conv2d(channels, channels, 3, padding=1)), 1)
            folded = fold(original)
            pairs.append(Pair(f"{mode} x2 + 3x3", mode, tuple(x.shape), lambda m=original, x=x: m(x),
                              lambda m=folded, x=x: m(x), model=folded, x=x))
        deconv = _seeded(nn.ConvTranspose2d(channels, channels, 4, stride=2, padding=1), 2)
        sub = fold_transposed(deconv)
        if isinstance(sub, FoldedConv):
            pairs.append(Pair("ConvTranspose2d 4x4 s2 -> sub-pixel", "transposed", tuple(x.shape),
                              lambda m=deconv, x=x: m(x), lambda m=sub, x=x: m(x), model=sub, x=x))
    return pairs


def breakdown_pairs(shape: tuple[int, int, int]) -> list[Pair]:
    """Pieces of each pair at one shape: 'original' is the torch piece, 'folded' the fold's."""
    batch, channels, size = shape
    x = torch.randn(batch, channels, size, size, generator=torch.Generator().manual_seed(1))
    pairs = []
    for mode in ("nearest", "bilinear"):
        conv = _seeded(nn.Conv2d(channels, channels, 3, padding=1), 3)
        folded = fold(nn.Sequential(nn.Upsample(scale_factor=2, mode=mode), conv))[1]
        up = F.interpolate(x, scale_factor=2, mode=mode)
        with torch.no_grad():
            weight, bias = folded.folded_parameters()
        pad = 1 if mode == "nearest" else 2 if folded.spec.axes[0].extension == "zeros" else 0
        lr = x if pad else F.pad(x, [1, 1, 1, 1], mode="replicate")
        pairs.append(Pair(mode, f"{mode}: HR conv alone vs folded LR conv alone (no interleave)", tuple(x.shape),
                          lambda c=conv, u=up: c(u),
                          lambda w=weight, b=bias, lr=lr, p=pad: F.conv2d(lr, w, b, padding=p),
                          compare=False))
        pairs.append(Pair(mode, f"{mode}: upsampling alone vs the whole folded layer", tuple(x.shape),
                          lambda m=mode: F.interpolate(x, scale_factor=2, mode=m), lambda f=folded: f(x),
                          compare=False))
    return pairs


def decoder_pairs(batches: list[int], size: int, upsamplers: list[str]) -> list[Pair]:
    pairs = []
    for batch in batches:
        x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(2))
        for name in upsamplers:
            for schedule in ([4], [2, 2]):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    torch.manual_seed(4)
                    decoder = Decoder(3, 3, scale=4, schedule=schedule, upsampler=name, channels=16).eval()
                    folded, report = fold(decoder, x, report=True)
                note = f"{len(report.folded)} of {len(report.folded) + len(report.left_alone)}"
                pairs.append(Pair("decoder", f"{name} {schedule}", tuple(x.shape), lambda m=decoder, x=x: m(x),
                                  lambda m=folded, x=x: m(x), note=note, model=folded, x=x))
    return pairs


def onnx_pairs(shape: tuple[int, int, int], threads: int) -> list[Pair]:
    """The nearest and bilinear pairs exported to ONNX and run with onnxruntime."""
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    batch, channels, size = shape
    x = torch.randn(batch, channels, size, size, generator=torch.Generator().manual_seed(3))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    pairs = []
    for mode in ("nearest", "bilinear"):
        original = _seeded(nn.Sequential(nn.Upsample(scale_factor=2, mode=mode),
                                         nn.Conv2d(channels, channels, 3, padding=1)), 5)
        folded = fold(original)
        sessions = []
        for model in (original, folded):
            buffer = io.BytesIO()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (x,), buffer, opset_version=17, dynamo=False, input_names=["x"])
            sessions.append(ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"]))
        feed = {"x": x.numpy()}
        pair = Pair("onnx", f"{mode} x2 + 3x3 (onnxruntime)", tuple(x.shape),
                    lambda s=sessions[0]: s.run(None, feed)[0], lambda s=sessions[1]: s.run(None, feed)[0])
        with torch.no_grad():
            pair.note = f"folded ORT vs torch original: {relative_error(pair.folded(), original(x)):.1e}"
        pairs.append(pair)
    return pairs


class _Pinned:
    """A model whose FoldedConv layers return a kernel computed once (what the removed cache did
    in every forward pass without gradients: the 'before' of the recompute rows)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = copy.deepcopy(model)
        with torch.no_grad():
            for m in self.model.modules():
                if isinstance(m, FoldedConv):
                    fixed = m.folded_parameters()
                    m.folded_parameters = lambda fixed=fixed: fixed  # type: ignore[method-assign,misc]

    def __call__(self, x: torch.Tensor) -> Any:
        return self.model(x)


def _einsum_kernel(layer: FoldedConv) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The folded kernel as upsamplekit computed it before issue 16: one einsum of the weight
    with every axis's tap matrix (kept here to measure against)."""
    spec, w, b = layer.spec, layer.conv_weight(), layer.bias
    g, d = spec.groups, spec.dims
    cout_g, cin_g = w.shape[0] // g, w.shape[1]
    letters = iter(string.ascii_letters[3:])
    q, phase, r = ([next(letters) for _ in range(d)] for _ in range(3))
    equation = (f"abc{''.join(q)}," + ",".join(f"{phase[i]}{r[i]}{q[i]}" for i in range(d))
                + f"->a{''.join(phase)}bc{''.join(r)}")
    mats = [torch.as_tensor(a.matrix, dtype=w.dtype, device=w.device) for a in spec.axes]
    folded = torch.einsum(equation, w.reshape(g, cout_g, cin_g, *w.shape[2:]), *mats)
    blocks = math.prod(spec.scale)
    weight = folded.reshape(g * blocks * cout_g, cin_g, *spec.widths)
    bias = None if b is None else b.reshape(g, 1, cout_g).expand(g, blocks, cout_g).reshape(-1)
    return weight, bias


def recompute_pairs(layers: list[Pair], decoders: list[Pair]) -> list[Pair]:
    """Every folded model of ``layers`` and ``decoders`` with its kernels pinned ('original'
    column: before) against itself as it is ('folded' column: after); then, per folded layer
    of the first group, the kernel alone: the former einsum against the matrix product now."""
    pairs = []
    for p in [*layers, *decoders]:
        if p.model is None or not any(isinstance(m, FoldedConv) for m in p.model.modules()):
            continue
        label = f"decoder {p.label}" if p.group == "decoder" else p.group
        pinned = _Pinned(p.model)
        pairs.append(Pair("recompute", label, p.shape, lambda m=pinned, x=p.x: m(x),
                          lambda m=p.model, x=p.x: m(x), note="whole forward"))
    for p in layers:
        layer = next((m for m in p.model.modules() if isinstance(m, FoldedConv)), None) if p.model else None
        if layer is None or p.shape[0] != 1:  # the kernel does not depend on the batch: once per layer
            continue
        pairs.append(Pair("kernel", p.group, tuple(layer.weight.shape), lambda m=layer: _einsum_kernel(m)[0],
                          lambda m=layer: m.folded_parameters()[0], note="kernel alone: einsum vs matmul"))
    return pairs


# ------------------------------------------------------------------------------ report
def fold_machine(load_at_start: str) -> list[str]:
    """The shared machine lines, plus onnxruntime's version and the THP setting."""
    try:
        import onnxruntime
        ort = f"onnxruntime {onnxruntime.__version__} (intra-op threads as torch's)"
    except ImportError:
        ort = "onnxruntime not installed"
    return [*machine(load_at_start), f"- {ort}; THP_MEM_ALLOC_ENABLE={os.environ.get('THP_MEM_ALLOC_ENABLE', 'unset')}"]


def _rows(pairs: list[Pair], with_note: bool = False) -> list[str]:
    lines = []
    for p in pairs:
        note = f" {p.note} |" if with_note else ""
        lines.append(f"| {p.label} | {p.shape} |{note} {stats(p.original_ms)} | {stats(p.folded_ms)} | "
                     f"{p.ratio:.2f}x | {'' if np.isnan(p.error) else f'{p.error:.1e}'} |")
    return lines


def verdicts(layers: list[Pair]) -> list[str]:
    lines = []
    goals = {"nearest": 2.0, "bilinear": 1.2}
    for label, goal in goals.items():
        ratios = [p.ratio for p in layers if p.group.startswith(label)]
        if not ratios:
            continue
        met = sum(r >= goal for r in ratios)
        median = statistics.median(ratios)
        lines.append(f"- {label} x2 + 3x3 against nn.Upsample + nn.Conv2d: median ratio {median:.2f}x "
                     f"over {len(ratios)} shapes (from {min(ratios):.2f}x to {max(ratios):.2f}x). Goal >= {goal}x: "
                     f"{'met' if met == len(ratios) else f'met at {met} of {len(ratios)} shapes' if met else 'NOT met'}"
                     ".")
    errors = [p.error for p in layers if p.group != "transposed"]
    if errors:
        lines.append(f"- Largest relative error of a folded layer (float32): {max(errors):.1e} (bound: 1e-5).")
    deconv = [p.ratio for p in layers if p.group == "transposed"]
    if deconv:
        faster = sum(r > 1 for r in deconv)
        lines.append(f"- ConvTranspose2d as sub-pixel convolution: faster at {faster} of {len(deconv)} shapes (ratios "
                     f"{min(deconv):.2f}x to {max(deconv):.2f}x); `fold` times it at the model's own input shape and "
                     "folds only where it is faster.")
    return lines


def recompute_verdicts(pairs: list[Pair]) -> list[str]:
    whole = [p for p in pairs if p.group == "recompute"]
    kernel = [p for p in pairs if p.group == "kernel"]
    lines = []
    if whole:
        costs = [1 / p.ratio - 1 for p in whole]
        lines.append(f"- Recomputing the kernel costs {100 * statistics.median(costs):+.1f}% of the forward time "
                     f"(median over {len(whole)} models; from {100 * min(costs):+.1f}% to {100 * max(costs):+.1f}%, "
                     "within the rounds' noise where negative).")
    shares = []
    for k in kernel:  # the kernel alone (after) over the batch-1 layer it belongs to (before): less noisy
        layer = next((p for p in whole if p.label == k.label and p.shape[0] == 1 and p.shape[1] == k.shape[1]), None)
        if layer is not None:
            shares.append(statistics.median(k.folded_ms) / statistics.median(layer.original_ms))
    if shares:
        lines.append(f"- The kernel alone over the whole forward pass of its layer at batch 1 (a steadier estimate of "
                     f"the cost than the difference of two noisy times): {100 * min(shares):.1f}% to "
                     f"{100 * max(shares):.1f}% (median {100 * statistics.median(shares):.1f}%, {len(shares)} layers); "
                     "at batch 8 the share is smaller (the kernel does not depend on the batch).")
    if kernel:
        lines.append(f"- The kernel alone: the matrix product is {statistics.median(p.ratio for p in kernel):.1f}x "
                     f"faster than the former einsum (median over {len(kernel)} layers), so a training step, which "
                     "always recomputed it, got cheaper.")
    return lines


def markdown(layers: list[Pair], pieces: list[Pair], decoders: list[Pair], onnx: list[Pair], repeats: int,
             command: str, load_at_start: str, recompute: list[Pair] | None = None) -> str:
    recompute = recompute or []
    header = "| case | input | original ms | folded ms | speedup | rel. error |"
    lines = [
        SECTION, "",
        "`upsamplekit.fold` against the original model, on CPU, float32, forward under `torch.no_grad()`. Times in "
        f"ms: median (interquartile range) of {repeats} interleaved rounds after a warm-up (each round runs the "
        "original and the folded model back to back, alternating which goes first). Speedup: original median over "
        "folded median. Rel. error: largest absolute difference over the largest output magnitude.", "",
        *fold_machine(load_at_start),
        f"- command: `{command}`", "",
        "### Layers at decoder shapes", "",
        header, "|---|---|---:|---:|---:|---:|", *_rows(layers), "",
        *verdicts(layers), "",
    ]
    if pieces:
        lines += [
            "### Where the time goes", "",
            "Left column a piece of the original, right column the fold's counterpart (same input). The folded "
            "low-resolution convolution has 2.25x fewer multiply-adds than the high-resolution one for nearest "
            "(2x2 kernels for 4 phases instead of 3x3) and as many for bilinear (3x3 per phase); the rest of the "
            "fold is the interleave, which writes the output once, and for bilinear the exact border bands.", "",
            "| piece (original vs fold) | input | original ms | folded ms | ratio | |",
            "|---|---|---:|---:|---:|---|", *_rows(pieces), "",
        ]
    if decoders:
        lines += [
            "### Study decoders, end to end", "",
            "`Decoder(3, 3, scale=4, schedule=s, upsampler=u, channels=16)`, folded with `fold(decoder, x)`; folded: "
            "upsampling stages rewritten (of all stages).", "",
            "| decoder (upsampler, schedule) | input | folded | original ms | folded ms | speedup | rel. error |",
            "|---|---|---|---:|---:|---:|---:|", *_rows(decoders, with_note=True), "",
        ]
    if recompute:
        lines += [
            "### Cost of computing the folded kernel in every forward pass", "",
            ("Issue 16: the folded kernel was cached, keyed on the parameters' version counters, which an edit "
            "through `.data` does not bump, so a folded model could run on stale weights. The cache is gone: every "
            "forward pass computes the kernel from the parameters (one matrix product with a constant tap matrix, "
            "and the reshape into the folded layout). 'Before' is the same folded model with its kernels computed "
            "once (what the cache served in every forward pass without gradients), 'after' the model as it is now, "
            "side by side in the same rounds; speedup below 1 is what recomputing costs. The last rows time the "
            "kernel alone: the former einsum (which training, with gradients, ran in every step) against the matrix "
            "product now. CPU only: CUDA was not measured (no GPU on this machine)."), "",
            "| case | input (kernel rows: weight shape) | what | before ms | after ms | before / after | |",
            "|---|---|---|---:|---:|---:|---:|", *_rows(recompute, with_note=True), "",
            *recompute_verdicts(recompute), "",
        ]
    if onnx:
        lines += [
            "### ONNX (onnxruntime)", "",
            "Original and folded models exported with `torch.onnx.export(..., opset_version=17, dynamo=False)` and "
            "run with onnxruntime's CPU provider; rel. error compares the two ONNX outputs, the note the folded "
            "ONNX output with torch's original.", "",
            "| case | input | note | original ms | folded ms | speedup | rel. error |",
            "|---|---|---|---:|---:|---:|---:|", *_rows(onnx, with_note=True), "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 9, quick 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch and onnxruntime intra-op threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="tiny shapes, two decoders, 2 rounds: a smoke run")
    parser.add_argument("--no-onnx", action="store_true", help="skip the onnxruntime rows")
    parser.add_argument("--out", default=None, help="write the '## Fold' section into this file")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 9)
    torch.set_num_threads(args.threads)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    load_at_start = load()
    shapes = QUICK_SHAPES if args.quick else SHAPES
    layers = layer_pairs(shapes)
    pieces = breakdown_pairs((2, 8, 8) if args.quick else (8, 64, 64))
    decoders = decoder_pairs([1] if args.quick else [1, 8], 8 if args.quick else 32,
                             ["nearest", "bilinear"] if args.quick else UPSAMPLERS)
    onnx = [] if args.no_onnx else onnx_pairs((1, 8, 8) if args.quick else (8, 64, 64), args.threads)
    recompute = recompute_pairs(layers, decoders)
    run(layers + pieces + decoders + onnx + recompute, repeats, log)
    text = markdown(layers, pieces, decoders, onnx, repeats, command_line(__file__, argv), load_at_start, recompute)
    publish(text, args.out, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
