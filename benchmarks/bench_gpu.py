"""Benchmark upsamplekit on a CUDA GPU: resize per mode, determinism, every layer, fold.

Four groups, every time the median of ``--repeats`` synchronised runs (``torch.cuda.synchronize``
before the clock starts and before it stops) after two warm-up calls:

* resize per mode (the modes of ``benchmarks/bench_resize.py`` and TF's bicubic, lanczos3 and TF1's
  bilinear; NCHW float32 and bfloat16) at an x2
  and an x0.5 output, with the engine that ran (aten, the banded products or the gathers), against
  aten's bicubic (``F.interpolate(mode="bicubic")``) on the same input and output
  sizes, and against the memory-bandwidth time: the input read once and the output written once at
  the device-to-device copy rate measured here (a large ``copy_``);
* determinism per mode: two backward passes of ``resize`` with the same incoming gradient, are the
  input gradients bit-equal? and does the backward run under ``torch.use_deterministic_algorithms(True)``
  (aten's upsample backward kernels use atomicAdd on CUDA and refuse)?
* every registered upsampling layer (built as ``benchmarks/bench_layers.py`` builds them), forward
  under ``torch.no_grad()`` and forward + backward: time and peak memory (``torch.cuda.max_memory_allocated``
  above what was allocated before the pass);
* fold: nearest and bilinear x2 then a 3x3 convolution, and a study decoder, in float32 and bfloat16:
  the original against its folded copy (folded on the CPU without timing, then moved to the GPU), side
  by side in interleaved rounds; and what ``fold`` decides there by itself, without and with
  ``example_input``.

Without CUDA the section says what is not measured yet and the command that measures it, with this
machine's description. ``--device cpu`` runs the measurements on the CPU instead (a check of this
script, not GPU numbers: the section says so).

Usage::

    python benchmarks/bench_gpu.py --out docs/benchmarks.md    # on a CUDA machine: a few minutes
    python benchmarks/bench_gpu.py --quick                     # a smoke run in seconds

``--out`` replaces the "## GPU" section of the file (or appends it, or creates the file) and leaves
every other section as it is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# cuBLAS is deterministic only with a fixed workspace: set before CUDA starts, so that the strict
# column measures the resize kernels, not cuBLAS's configuration.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import upsamplekit  # noqa: E402
from upsamplekit.decoder import Decoder  # noqa: E402
from upsamplekit.resample import api, bands  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import command_line, load, machine, publish  # noqa: E402
from bench_layers import WithGuide, cases  # noqa: E402
from bench_resize import MODES, Mode  # noqa: E402

# bench_resize's modes, and the TensorFlow ones an H200 probe measured among the slowest (5.8x-13x aten's bicubic).
GPU_MODES: dict[str, Mode] = {
    **MODES,
    "tf-bicubic": Mode("bicubic (TF, Keras)", {"method": "bicubic", "convention": "tf"}),
    "tf-lanczos3": Mode("lanczos3 (TF)", {"method": "lanczos3", "convention": "tf"}),
    "tf1-bilinear": Mode("bilinear (TF1, align_corners)", {"method": "bilinear", "convention": "tf1",
                                                          "align_corners": True}),
}
SECTION = "## GPU"
MEASURE_COMMAND = "python benchmarks/bench_gpu.py --out docs/benchmarks.md"
NOT_MEASURED = "Not measured yet: this machine has no CUDA GPU"


# ------------------------------------------------------------------------------ timing
def _sync(device: torch.device) -> Callable[[], None]:
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def median_ms(fn: Callable[[], Any], device: torch.device, repeats: int, warmup: int = 2) -> float:
    """Median wall time (ms) of ``fn()`` over ``repeats`` synchronised runs after ``warmup`` calls."""
    sync = _sync(device)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def paired_ms(first: Callable[[], Any], second: Callable[[], Any], device: torch.device,
              repeats: int) -> tuple[float, float]:
    """Median times (ms) of two calls timed in the same rounds, alternating which goes first."""
    sync = _sync(device)
    for _ in range(2):
        first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for r in range(repeats):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for i in order:
            sync()
            start = time.perf_counter()
            (first, second)[i]()
            sync()
            times[i].append((time.perf_counter() - start) * 1e3)
    return statistics.median(times[0]), statistics.median(times[1])


def peak_bytes(fn: Callable[[], Any], device: torch.device, keep: list[torch.Tensor]) -> int:
    """Bytes held at most during ``fn()`` beyond what was held before it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    from upsamplekit.study.measure import LiveBytes

    with LiveBytes(keep) as tracker:
        fn()
    return tracker.peak


def copy_rate(device: torch.device, nbytes: int, repeats: int) -> float:
    """Device-to-device copy rate in bytes per ms (each copy reads and writes ``nbytes``)."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device).uniform_()
    dst = torch.empty_like(src)
    ms = median_ms(lambda: dst.copy_(src), device, repeats)
    return 2 * nbytes / ms


# ------------------------------------------------------------------------------ resize
@dataclass
class ResizeRow:
    mode: str
    case: str
    dtype: str = "float32"
    engine: str = ""
    ms: float | None = None
    bicubic_ms: float | None = None
    bound_ms: float | None = None
    bit_equal: str = ""
    deterministic: str = ""
    error: str = ""


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:110]


def engine_of(x: torch.Tensor, size: list[int], options: dict[str, Any]) -> str:
    """Which engine ``resize`` runs on ``x``: "aten" (a native kernel), "bands" or "gather"."""
    ran: list[str] = []
    native = api.native_resize

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = native(*args, **kwargs)
        ran.append("aten" if result is not None else bands.engine_for(x))
        return result

    api.native_resize = spy
    try:
        upsamplekit.resize(x, size=size, **options)
    finally:
        api.native_resize = native
    return ran[0] if ran else bands.engine_for(x)


def resize_rows(device: torch.device, shape: tuple[int, int, int, int], factors: tuple[float, ...], repeats: int,
                rate: float, dtypes: tuple[torch.dtype, ...] = (torch.float32, torch.bfloat16)) -> list[ResizeRow]:
    n, c, h, w = shape
    rows = []
    for dtype, factor in [(d, f) for d in dtypes for f in factors]:
        x = torch.rand(shape, device=device, generator=torch.Generator(device).manual_seed(0)).to(dtype)
        size = [max(1, int(h * factor)), max(1, int(w * factor))]
        label = f"{shape} -> {tuple(size)}"
        bicubic = median_ms(lambda: F.interpolate(x, size=size, mode="bicubic"), device, repeats)
        bound = (x.numel() + n * c * size[0] * size[1]) * x.element_size() / rate
        for mode, spec in GPU_MODES.items():
            row = ResizeRow(mode, label, str(dtype).removeprefix("torch."), bicubic_ms=bicubic, bound_ms=bound)
            rows.append(row)
            try:
                options = dict(spec.resize)
                row.engine = engine_of(x, size, options)
                row.ms = median_ms(lambda: upsamplekit.resize(x, size=size, **options), device, repeats)
            except Exception as error:  # a mode this shape or device does not support: say so
                row.error = _short(error)
                continue
            row.bit_equal, row.deterministic = determinism(x, size, options)
    return rows


def determinism(x: torch.Tensor, size: list[int], options: dict[str, Any]) -> tuple[str, str]:
    """(two backward passes bit-equal?, backward under use_deterministic_algorithms(True))."""
    xg = x.detach().clone().requires_grad_(True)
    try:
        y = upsamplekit.resize(xg, size=size, **options)
    except Exception as error:
        return f"n/a ({_short(error)})", "n/a"
    if not y.requires_grad:
        return "n/a (no gradient)", "n/a"
    g = torch.randn(y.shape, device=x.device, generator=torch.Generator(x.device).manual_seed(1))
    grads = []
    for _ in range(2):
        (gx,) = torch.autograd.grad(upsamplekit.resize(xg, size=size, **options), xg, g)
        grads.append(gx)
    equal = "yes" if torch.equal(grads[0], grads[1]) else \
        f"no (max diff {float((grads[0] - grads[1]).abs().max()):.1e})"
    was = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        torch.autograd.grad(upsamplekit.resize(xg, size=size, **options), xg, g)
        strict = "runs"
    except RuntimeError as error:
        strict = f"raises ({_short(error)[:70]})"
    finally:
        torch.use_deterministic_algorithms(was)
    return equal, strict


# ------------------------------------------------------------------------------ layers
@dataclass
class LayerRow:
    label: str
    fwd_ms: float | None = None
    bwd_ms: float | None = None
    fwd_peak: int = 0
    bwd_peak: int = 0
    error: str = ""


def layer_rows(device: torch.device, shape: tuple[int, int, int, int], scale: int, repeats: int) -> list[LayerRow]:
    n, c, h, w = shape
    gen = torch.Generator(device).manual_seed(0)
    x = torch.randn(shape, device=device, generator=gen)
    xg = x.clone().requires_grad_(True)
    grad = torch.randn(n, c, h * scale, w * scale, device=device, generator=gen)
    rows = []
    for case in cases(c, scale, ["*"]):
        row = LayerRow(case.label)
        rows.append(row)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = case.build().to(device)
            if isinstance(module, WithGuide):  # its guide, drawn on the CPU, made on the device once
                guide_channels = int(getattr(module.layer, "guide_channels"))  # noqa: B009 (an attribute of some layers)
                module.guide = torch.randn(n, guide_channels, h * scale, w * scale, device=device,
                                           generator=torch.Generator(device).manual_seed(1))

            def forward(module: nn.Module = module) -> None:
                with torch.no_grad():
                    module(x)

            def backward(module: nn.Module = module) -> None:
                module(xg).backward(grad)
                xg.grad = None
                for p in module.parameters():
                    p.grad = None

            forward()  # warm-up (first-call caches, cuDNN plans) before measuring memory
            backward()
            keep = [x, xg, grad, *module.parameters(), *module.buffers()]
            row.fwd_peak = peak_bytes(forward, device, keep)
            row.bwd_peak = peak_bytes(backward, device, keep)
            row.fwd_ms = median_ms(forward, device, repeats)
            row.bwd_ms = median_ms(backward, device, repeats)
        except Exception as error:  # a layer that does not run on this device: say so
            row.error = _short(error)
    return rows


# ------------------------------------------------------------------------------ fold
@dataclass
class FoldRow:
    case: str
    dtype: str
    original_ms: float = 0.0
    folded_ms: float = 0.0
    decides: list[str] = field(default_factory=list)


def fold_models(channels: int) -> dict[str, Callable[[], nn.Module]]:
    def pair(mode: str) -> Callable[[], nn.Module]:
        return lambda: nn.Sequential(nn.Upsample(scale_factor=2, mode=mode),
                                     nn.Conv2d(channels, channels, 3, padding=1))

    return {"nearest x2 + 3x3": pair("nearest"), "bilinear x2 + 3x3": pair("bilinear"),
            "Decoder(nearest, [2, 2])": lambda: Decoder(channels, channels, scale=4, schedule=[2, 2],
                                                         upsampler="nearest", channels=channels)}


def _decision(report: upsamplekit.folding.FoldReport) -> str:
    if report.folded and not report.left_alone:
        return f"folds all {len(report.folded)}"
    if not report.folded:
        reasons = {a.why.split(":")[0] for a in report.left_alone}
        return f"folds none ({'; '.join(sorted(reasons))})"
    return f"folds {len(report.folded)} of {len(report.folded) + len(report.left_alone)}"


def fold_rows(device: torch.device, shape: tuple[int, int, int, int], repeats: int) -> list[FoldRow]:
    rows = []
    for dtype in (torch.float32, torch.bfloat16):
        for name, build in fold_models(shape[1]).items():
            torch.manual_seed(0)
            model = build().eval()
            folded = upsamplekit.fold(model).to(device, dtype)  # folded on the CPU, no timing
            model = model.to(device, dtype)
            x = torch.randn(shape, device=device, dtype=dtype)
            with torch.no_grad():
                row = FoldRow(name, str(dtype).removeprefix("torch."))
                row.original_ms, row.folded_ms = paired_ms(lambda: model(x), lambda: folded(x), device, repeats)
            _, plain = upsamplekit.fold(model, report=True)
            _, timed = upsamplekit.fold(model, x, report=True)
            row.decides = [_decision(plain), _decision(timed)]
            rows.append(row)
    return rows


# ------------------------------------------------------------------------------ report
def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def device_line(device: torch.device | None) -> str:
    if device is None:
        return (f"- GPU: none (`torch.cuda.is_available()` is False; torch built with CUDA "
                f"{torch.version.cuda or 'none'})")
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return (f"- GPU: {props.name}, {props.total_memory / 2**30:.0f} GiB, compute capability "
                f"{props.major}.{props.minor}; CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}; "
                f"cudnn.benchmark {torch.backends.cudnn.benchmark}, cudnn TF32 {torch.backends.cudnn.allow_tf32}")
    return f"- device: {device} (not a GPU: this run checks the script, its numbers are not GPU numbers)"


def not_measured(command: str, load_at_start: str) -> str:
    lines = [
        SECTION, "",
        f"{NOT_MEASURED} (`torch.cuda.is_available()` is False), so nothing in this section is measured yet: "
        "resize per mode in float32 and bfloat16, with the engine that ran (aten, or the table engine's banded "
        "matrix products, CUDA's), against aten's bicubic and against the memory-bandwidth time, "
        "determinism per mode "
        "(two backward passes bit-equal, backward under `torch.use_deterministic_algorithms(True)`), every "
        "registered layer's forward and forward + backward time and peak memory, and fold's speedups on the GPU "
        "(and what `fold` decides there). To measure them, run on a CUDA machine:", "",
        f"    {MEASURE_COMMAND}", "",
        "or `bash scripts/gpu_check.sh`, which also runs every CUDA variant of the test suite.", "",
        "Measured elsewhere, for now (an NVIDIA H200, see docs/fold.md, \"On a GPU\"): fold made nearest x2 + 3x3 "
        "run at 0.08x-0.38x and bilinear x2 + 3x3 at 0.14x-0.16x the original's speed (launch-bound), so on CUDA "
        "`fold` declines the rewrites unless `example_input` is given and they time faster there. Both the banded "
        "products (docs/resampling.md, \"The table engine on a GPU\") and the folded convolution's one launch per "
        "batch off the CPU (docs/fold.md) were written since and are tested on the CPU only.", "",
        "This section was written on:", "",
        *machine(load_at_start),
        device_line(None),
        f"- command: `{command}`",
    ]
    return "\n".join(lines).rstrip() + "\n"


def markdown(device: torch.device, resize: list[ResizeRow], layers: list[LayerRow], folds: list[FoldRow],
             shapes: dict[str, tuple[int, ...]], rate: float, repeats: int, command: str, load_at_start: str) -> str:
    lines = [
        SECTION, "",
        f"On {device}: times in ms, the median of {repeats} synchronised runs after two warm-up calls "
        "(`torch.cuda.synchronize` before the clock starts and before it stops).", "",
        *machine(load_at_start),
        device_line(device),
        f"- device-to-device copy: {rate / 1e6:,.0f} GB/s (read + write, a large `copy_`)",
        f"- command: `{command}`", "",
        "### Resize per mode", "",
        f"NCHW. Engine: aten (a native kernel), bands (banded matrix products, CUDA's table engine) or gather "
        "(the CPU's table engine). Against aten's bicubic (`F.interpolate(mode=\"bicubic\")`, same sizes and dtype: "
        "ratio = resize / "
        "bicubic) and the memory-bandwidth time (input read once, output written once at the copy rate above: "
        "ratio = resize / that). Bit-equal: two backward passes with the same incoming gradient give the same "
        "input gradient. Strict: the backward under `torch.use_deterministic_algorithms(True)`.", "",
        "| mode | case | dtype | engine | ms | bicubic ms | x bicubic | bandwidth ms | x bandwidth | "
        "backward bit-equal | strict |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in resize:
        if r.error:
            lines.append(f"| {r.mode} | {r.case} | {r.dtype} | {r.engine} | - | {_ms(r.bicubic_ms)} | - | "
                         f"{_ms(r.bound_ms)} | - | fails: {r.error} | |")
            continue
        lines.append(f"| {r.mode} | {r.case} | {r.dtype} | {r.engine} | {_ms(r.ms)} | {_ms(r.bicubic_ms)} | "
                     f"{_ratio(r.ms, r.bicubic_ms)} | "
                     f"{_ms(r.bound_ms)} | {_ratio(r.ms, r.bound_ms)} | {r.bit_equal} | {r.deterministic} |")
    n, c, h, w = shapes["layers"]
    lines += [
        "", "### Every registered layer", "",
        f"{c} -> {c} channels, x2, on a ({n}, {c}, {h}, {w}) float32 input, built as benchmarks/bench_layers.py "
        "builds them. Peak: the most bytes allocated during the pass beyond what was allocated before it.", "",
        "| layer | forward ms | forward peak MiB | forward + backward ms | forward + backward peak MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in layers:
        if row.error:
            lines.append(f"| {row.label} | fails: {row.error} | | | |")
            continue
        lines.append(f"| {row.label} | {_ms(row.fwd_ms)} | {row.fwd_peak / 2**20:.1f} | {_ms(row.bwd_ms)} | "
                     f"{row.bwd_peak / 2**20:.1f} |")
    lines += [
        "", "### Fold", "",
        f"Input {shapes['fold']}, forward under `torch.no_grad()`, original and folded in the same rounds "
        "(alternating which goes first); the folded copy made on the CPU without timing, then moved. Speedup: "
        "original over folded. What `fold` decides on this device by itself: without `example_input` "
        "(declines on CUDA) and with it (timed there).", "",
        "| model | dtype | original ms | folded ms | speedup | fold(model) | fold(model, example_input) |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for f in folds:
        lines.append(f"| {f.case} | {f.dtype} | {_ms(f.original_ms)} | {_ms(f.folded_ms)} | "
                     f"{_ratio(f.original_ms, f.folded_ms)}x | {f.decides[0]} | {f.decides[1]} |")
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes, 3 runs: a smoke run")
    parser.add_argument("--out", default=None, help="write the '## GPU' section into this file")
    parser.add_argument("--device", default=None,
                        help="where to measure (default: cuda when available, else nothing is measured)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs (default 15, quick 3)")
    args = parser.parse_args(argv)
    load_at_start = load()
    command = command_line(__file__, argv)
    name = args.device or ("cuda" if torch.cuda.is_available() else None)
    if name is None:
        publish(not_measured(command, load_at_start), args.out, SECTION)
        return 0
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    repeats = args.repeats or (3 if args.quick else 15)
    shapes: dict[str, Any] = {"resize": (1, 3, 16, 16), "layers": (1, 8, 8, 8), "fold": (1, 8, 8, 8)} if args.quick \
        else {"resize": (8, 64, 128, 128), "layers": (8, 64, 64, 64), "fold": (8, 64, 128, 128)}

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    rate = copy_rate(device, 2**20 if args.quick else 2**30, repeats)
    log(f"copy rate {rate / 1e6:,.0f} GB/s")
    resize = resize_rows(device, shapes["resize"], (2.0, 0.5), repeats, rate)
    log(f"resize: {len(resize)} rows")
    layers = layer_rows(device, shapes["layers"], 2, repeats)
    log(f"layers: {len(layers)} rows")
    folds = fold_rows(device, shapes["fold"], repeats)
    log(f"fold: {len(folds)} rows")
    text = markdown(device, resize, layers, folds, shapes, rate, repeats, command, load_at_start)
    publish(text, args.out, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
