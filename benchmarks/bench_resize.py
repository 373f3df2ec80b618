"""Benchmark ``upsamplekit.resize`` against F.interpolate and native resize libraries.

Two groups of cases:

* ``torch``: the modes ``F.interpolate`` has. ``resize`` calls the same aten kernel there,
  so the ratio ``resize / F.interpolate`` measures its Python layer (validation, preset
  resolution, planning).
* ``native``: modes torch lacks (lanczos, TF/JAX cubic without antialias, exact area,
  Pillow's antialiased filters, ONNX cubic with exclude_outside, half_pixel_symmetric).
  ``resize`` runs its gather-table engine; each native library runs the same resampling on
  the same data (float32 unless the library needs uint8), and ``max|diff|`` against
  ``resize``'s result shows that it is the same computation. ResizeRight (pure PyTorch,
  separable) is timed too; its coordinates and borders differ (centred, zero padding), so its
  difference is measured against ``resize`` with ResizeRight's own spec.

Every contender of a case is warmed up, then run ``--repeats`` rounds (more, up to ten times
as many, when a round takes under 25 ms), once each per round in a rotating order
(interleaved), and the median time is reported. Thread counts match: each
thread count runs in its own process pinned to that many cores (sched_setaffinity), torch,
OpenCV and onnxruntime are told the count, JAX's Eigen pool is made single-threaded for one
thread (``XLA_FLAGS`` before import); Pillow is single-threaded anyway.

Usage::

    python benchmarks/bench_resize.py --threads 1,2 --out bench.md
    python benchmarks/bench_resize.py --quick          # a smoke run in seconds
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import command_line, cpu_model, load  # noqa: E402

Runner = Callable[[], Any]


# ------------------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    """One resize: a mode applied to an input shape, in a layout, with given output size."""

    group: str  # "torch" or "native"
    mode: str  # a key of MODES
    shape: tuple[int, int, int, int]  # (N, C, H, W), whatever the layout
    out: tuple[int, int]  # (H, W) of the output
    layout: str = "NCHW"  # or "NHWC": how the data is stored for every contender
    dtype: str = "float32"

    @property
    def label(self) -> str:
        n, c, h, w = self.shape
        return f"{n}x{c}x{h}x{w} -> {self.out[0]}x{self.out[1]} {self.layout} {self.dtype}"


@dataclass
class Row:
    """The timing of one contender on one case."""

    group: str
    mode: str
    case: str
    threads: int
    library: str
    median_ms: float
    max_diff: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Mode:
    """How ``resize`` is called for a mode, and which native contenders compute the same thing."""

    title: str
    resize: dict[str, Any]
    natives: tuple[str, ...] = ()
    resize_right: str | None = None  # the ResizeRight interp method, when it has the kernel
    torch: dict[str, Any] = field(default_factory=dict)  # F.interpolate arguments (torch group)


MODES: dict[str, Mode] = {
    # ----- modes F.interpolate has: resize calls its kernel
    "nearest": Mode("nearest", {"method": "nearest"}, torch={"mode": "nearest"}),
    "nearest-exact": Mode("nearest-exact", {"method": "nearest-exact"}, torch={"mode": "nearest-exact"}),
    "bilinear": Mode("bilinear", {"method": "bilinear"}, torch={"mode": "bilinear"}),
    "bicubic": Mode("bicubic", {"method": "bicubic"}, torch={"mode": "bicubic"}),
    "bilinear-aa": Mode("bilinear, antialias", {"method": "bilinear", "antialias": True},
                        torch={"mode": "bilinear", "antialias": True}),
    "bicubic-aa": Mode("bicubic, antialias", {"method": "bicubic", "antialias": True},
                       torch={"mode": "bicubic", "antialias": True}),
    "area": Mode("area (adaptive pooling)", {"method": "area"}, torch={"mode": "area"}),
    # ----- modes torch lacks: resize runs its table engine
    "jax-lanczos3": Mode("lanczos3, antialias when shrinking (JAX)", {"method": "lanczos3", "convention": "jax"},
                         natives=("jax",), resize_right="lanczos3"),
    "opencv-lanczos4": Mode("lanczos4 (OpenCV INTER_LANCZOS4)", {"method": "lanczos4", "convention": "opencv"},
                            natives=("opencv",)),
    "cubic-no-aa": Mode("cubic a=-0.5, no antialias (TF/JAX)",
                        {"method": "cubic", "convention": "jax", "antialias": False},
                        natives=("jax", "onnxruntime")),
    "exact-area": Mode("exact area (OpenCV INTER_AREA, JAX area)", {"method": "area", "convention": "opencv"},
                       natives=("opencv", "jax")),
    "pillow-bicubic": Mode("antialiased bicubic (Pillow BICUBIC)", {"method": "bicubic", "convention": "pillow"},
                           natives=("pillow", "onnxruntime", "jax", "torch-aa"), resize_right="cubic"),
    "pillow-lanczos": Mode("antialiased lanczos3 (Pillow LANCZOS)", {"method": "lanczos", "convention": "pillow"},
                           natives=("pillow", "jax"), resize_right="lanczos3"),
    "onnx-cubic-exclude": Mode("cubic a=-0.75, exclude_outside=1 (ONNX)",
                               {"method": "cubic", "convention": "onnx", "exclude_outside": 1},
                               natives=("onnxruntime",)),
    "onnx-linear-symmetric": Mode("linear, half_pixel_symmetric (ONNX)",
                                  {"method": "linear", "convention": "onnx",
                                   "coordinate_transformation_mode": "half_pixel_symmetric"},
                                  natives=("onnxruntime",), resize_right="linear"),
}

def _case(group: str, mode: str, shape: tuple[int, int, int, int], factor: float, **kw: Any) -> Case:
    h, w = shape[2], shape[3]
    return Case(group, mode, shape, (max(1, int(h * factor)), max(1, int(w * factor))), **kw)


def full_cases() -> list[Case]:
    """The shapes of the issue: decoder tensors (N=1/8, C=3/32/64, 64-512 px, x2/x4 up,
    0.5x/0.37x down) and an image (1, 3, 1024, 768)."""
    image = (1, 3, 1024, 768)
    cases: list[Case] = []
    torch_shapes = [((1, 3, 64, 64), 2.0), ((1, 32, 64, 64), 2.0), ((8, 64, 64, 64), 2.0),
                    ((1, 64, 128, 128), 4.0), ((8, 32, 256, 256), 0.5), ((1, 3, 512, 512), 0.37)]
    for mode in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        cases += [_case("torch", mode, s, f) for s, f in torch_shapes]
    for mode in ("bilinear-aa", "bicubic-aa", "area"):
        cases += [_case("torch", mode, s, f) for s, f in torch_shapes if f < 1]
    up = [((8, 32, 64, 64), 2.0), ((1, 64, 128, 128), 2.0), ((1, 32, 64, 64), 4.0)]
    down = [((8, 32, 256, 256), 0.5), ((1, 64, 512, 512), 0.37)]
    cases += [_case("native", "jax-lanczos3", s, f) for s, f in up + down]
    cases += [_case("native", "opencv-lanczos4", s, f, layout="NHWC") for s, f in [*up[1:2], (image, 2.0)]]
    cases += [_case("native", "cubic-no-aa", s, f) for s, f in [*down, (image, 0.37)]]
    cases += [_case("native", "exact-area", s, f, layout="NHWC") for s, f in [((1, 64, 256, 256), 0.5), (image, 0.37)]]
    cases += [_case("native", "pillow-bicubic", image, f, layout="NHWC") for f in (0.37, 0.5)]
    cases += [_case("native", "pillow-bicubic", image, 0.37, layout="NHWC", dtype="uint8")]
    cases += [_case("native", "pillow-lanczos", image, 0.37, layout="NHWC")]
    cases += [_case("native", "pillow-bicubic", s, f) for s, f in down]
    cases += [_case("native", "onnx-cubic-exclude", s, f) for s, f in [up[0], down[0]]]
    cases += [_case("native", "onnx-linear-symmetric", s, f) for s, f in [up[0], down[0]]]
    return cases


def quick_cases() -> list[Case]:
    """A few tiny cases covering both groups, for a smoke run."""
    return [_case("torch", "bilinear", (1, 3, 16, 16), 2.0),
            _case("native", "jax-lanczos3", (1, 3, 16, 16), 2.0),
            _case("native", "exact-area", (1, 3, 24, 20), 0.5, layout="NHWC"),
            _case("native", "pillow-bicubic", (1, 3, 24, 20), 0.37, layout="NHWC", dtype="uint8")]


# ------------------------------------------------------------------------ contenders
def _input(case: Case, seed: int = 0) -> np.ndarray:
    """The case's data in its layout: uniform [0, 1) floats, or full-range uint8."""
    n, c, h, w = case.shape
    shape = (n, c, h, w) if case.layout == "NCHW" else (n, h, w, c)
    rng = np.random.default_rng(seed)
    if case.dtype == "uint8":
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.random(shape, dtype=np.float32)


def _upsamplekit(case: Case, data: np.ndarray) -> Runner:
    import torch

    import upsamplekit

    x = torch.from_numpy(data)
    kwargs = dict(MODES[case.mode].resize)
    channels_last = case.layout == "NHWC"
    return lambda: upsamplekit.resize(x, size=list(case.out), channels_last=channels_last, **kwargs)


def _interpolate(case: Case, data: np.ndarray, options: dict[str, Any]) -> Runner:
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(data)
    if case.layout == "NHWC":
        x = x.permute(0, 3, 1, 2)  # a channels-last view, as resize(channels_last=True) passes it
        return lambda: F.interpolate(x, size=case.out, **options).permute(0, 2, 3, 1)
    return lambda: F.interpolate(x, size=case.out, **options)


ONNX_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "cubic-no-aa": {"mode": "cubic", "cubic_coeff_a": -0.5, "exclude_outside": 1},
    "pillow-bicubic": {"mode": "cubic", "cubic_coeff_a": -0.5, "exclude_outside": 1, "antialias": 1},
    "onnx-cubic-exclude": {"mode": "cubic", "cubic_coeff_a": -0.75, "exclude_outside": 1},
    "onnx-linear-symmetric": {"mode": "linear", "coordinate_transformation_mode": "half_pixel_symmetric"},
}


def _onnxruntime(case: Case, data: np.ndarray, threads: int) -> Runner:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    attrs = {"coordinate_transformation_mode": "half_pixel", **ONNX_ATTRIBUTES[case.mode]}
    n, c = case.shape[:2]
    out = (n, c, *case.out) if case.layout == "NCHW" else (n, *case.out, c)
    element = TensorProto.UINT8 if case.dtype == "uint8" else TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], **attrs)], "resize",
        [helper.make_tensor_value_info("x", element, list(data.shape))],
        [helper.make_tensor_value_info("y", element, list(out))],
        initializer=[numpy_helper.from_array(np.array(out, dtype=np.int64), "sizes")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9)
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feed = {"x": data}
    return lambda: session.run(None, feed)[0]


def _opencv(case: Case, data: np.ndarray) -> Runner:
    import cv2

    flags = {"opencv-lanczos4": cv2.INTER_LANCZOS4, "exact-area": cv2.INTER_AREA}[case.mode]
    if case.layout != "NHWC":
        raise ValueError("OpenCV resizes HWC images")
    images = [np.ascontiguousarray(image) for image in data]
    size = (case.out[1], case.out[0])
    return lambda: np.stack([cv2.resize(image, size, interpolation=flags) for image in images])


def _pillow(case: Case, data: np.ndarray) -> Runner:
    from PIL import Image

    resample = {"pillow-bicubic": Image.Resampling.BICUBIC, "pillow-lanczos": Image.Resampling.LANCZOS}[case.mode]
    if case.layout != "NHWC" or case.shape[0] != 1:
        raise ValueError("Pillow resizes one HWC image")
    size = (case.out[1], case.out[0])
    if case.dtype == "uint8":  # Pillow's RGB mode: 8-bit fixed point
        image = Image.fromarray(data[0])
        return lambda: np.asarray(image.resize(size, resample))[None]
    planes = [Image.fromarray(np.ascontiguousarray(data[0, :, :, k])) for k in range(data.shape[3])]  # mode F
    return lambda: np.stack([np.asarray(p.resize(size, resample)) for p in planes], axis=-1)[None]


def _jax(case: Case, data: np.ndarray) -> Runner:
    import jax
    import jax.numpy as jnp

    method, antialias = {
        "jax-lanczos3": ("lanczos3", True), "cubic-no-aa": ("cubic", False), "exact-area": ("area", False),
        "pillow-bicubic": ("cubic", True), "pillow-lanczos": ("lanczos3", True),
    }[case.mode]
    n, c = case.shape[:2]
    shape = (n, c, *case.out) if case.layout == "NCHW" else (n, *case.out, c)
    x = jnp.asarray(data.astype(np.float32))
    run = jax.jit(lambda v: jax.image.resize(v, shape, method, antialias=antialias))
    return lambda: run(x).block_until_ready()


def _resize_right(case: Case, data: np.ndarray) -> Runner:
    import torch
    from resize_right import interp_methods, resize_right

    method = getattr(interp_methods, MODES[case.mode].resize_right or "")
    n, c = case.shape[:2]
    shape = (n, c, *case.out) if case.layout == "NCHW" else (n, *case.out, c)
    x = torch.from_numpy(data.astype(np.float32))
    return lambda: resize_right.resize(x, out_shape=shape, interp_method=method, antialiasing=True)


def _spec(case: Case) -> Any:
    from upsamplekit import Resampling

    options = dict(MODES[case.mode].resize)
    method, convention = options.pop("method"), options.pop("convention", "torch")
    return Resampling.preset(convention, method, **options)


def _resize_right_reference(case: Case, data: np.ndarray) -> np.ndarray:
    """``resize`` with ResizeRight's semantics: centred coordinates (ONNX half_pixel_symmetric),
    zero padding, antialias when shrinking, cubic a=-0.5."""
    import torch

    import upsamplekit

    spec = _spec(case).replace(coordinates="half_pixel_symmetric", border="zero", antialias=True, cubic_a=-0.5,
                               recompute_scale=True, coordinate_precision="float64")
    x = torch.from_numpy(data.astype(np.float64))
    return upsamplekit.resize(x, size=list(case.out), spec=spec, channels_last=case.layout == "NHWC").numpy()


def contenders(case: Case, data: np.ndarray, threads: int) -> dict[str, Runner]:
    """Every library that computes this case, keyed by the name shown in the table."""
    runners: dict[str, Runner] = {"upsamplekit": _upsamplekit(case, data)}
    mode = MODES[case.mode]
    if case.group == "torch":
        runners["F.interpolate"] = _interpolate(case, data, mode.torch)
        return runners
    builders: dict[str, Callable[[], Runner]] = {
        "onnxruntime": lambda: _onnxruntime(case, data, threads),
        "opencv": lambda: _opencv(case, data),
        "pillow": lambda: _pillow(case, data),
        "jax": lambda: _jax(case, data),
        "torch-aa": lambda: _interpolate(case, data, {"mode": "bicubic", "antialias": True}),
    }
    for name in mode.natives:
        if case.dtype == "uint8" and name not in ("pillow", "onnxruntime"):
            continue  # compare uint8 only with libraries that resize uint8 themselves
        try:
            runners[name] = builders[name]()
        except Exception as error:  # the library cannot take this layout, batch or attribute set
            print(f"skipped {name} on {MODES[case.mode].title}, {case.label}: {error}", file=sys.stderr)
    if mode.resize_right and case.dtype == "float32":
        runners["ResizeRight"] = _resize_right(case, data)
    return runners


# ------------------------------------------------------------------------------ timing
def _as_numpy(result: Any) -> np.ndarray:
    if hasattr(result, "detach"):
        return result.detach().contiguous().numpy()
    return np.asarray(result)


def time_case(case: Case, threads: int, repeats: int, warmup: int = 2) -> list[Row]:
    """Median times of every contender, interleaved round by round, with max|diff| to resize."""
    data = _input(case)
    runners = contenders(case, data, threads)
    reference = _as_numpy(runners["upsamplekit"]()).astype(np.float64)
    rows: dict[str, Row] = {}
    for name, run in runners.items():
        result = _as_numpy(run()).astype(np.float64)
        if name == "ResizeRight":
            diff = float(np.max(np.abs(result - _resize_right_reference(case, data)))) if result.size else 0.0
            note = "vs resize with ResizeRight's spec (centred, zero padding)"
        else:
            diff = float(np.max(np.abs(result - reference))) if result.shape == reference.shape else float("nan")
            note = "" if result.shape == reference.shape else f"output shape {result.shape}"
        rows[name] = Row(case.group, case.mode, case.label, threads, name, 0.0, diff, note)
        for _ in range(warmup - 1):
            run()
    times: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    start = time.perf_counter()
    for name in names:
        runners[name]()
    rounds = max(repeats, min(10 * repeats, int(0.25 / max(time.perf_counter() - start, 1e-6))))  # fast cases: more
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            runners[name]()
            times[name].append(time.perf_counter() - start)
    for name, row in rows.items():
        row.median_ms = float(np.median(times[name]) * 1e3)
    return list(rows.values())


def run_benchmark(cases: list[Case], threads: int, repeats: int, log: bool = False) -> list[Row]:
    """Time every case with ``threads`` threads in torch, OpenCV and onnxruntime (restored after).

    JAX's threads are fixed when it is imported: :func:`main` runs each thread count in its own
    process with ``XLA_FLAGS`` set first.
    """
    import cv2
    import torch

    saved = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    rows: list[Row] = []
    try:
        for case in cases:
            case_rows = time_case(case, threads, repeats)
            rows += case_rows
            if log:
                summary = ", ".join(f"{r.library} {r.median_ms:.2f}" for r in case_rows)
                print(f"[{threads} thread(s)] {MODES[case.mode].title}, {case.label}: {summary} ms",
                      file=sys.stderr, flush=True)
    finally:
        torch.set_num_threads(saved[0])
        cv2.setNumThreads(saved[1])
    return rows


# ------------------------------------------------------------------------------ report
def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _diff(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


NATIVE_COLUMNS = ("onnxruntime", "opencv", "pillow", "jax")  # the "fastest native library" candidates


def _torch_line(mode: str, label: str, threads: int, found: dict[str, Row]) -> str:
    mine, ref = found["upsamplekit"], found["F.interpolate"]
    return (f"| {MODES[mode].title} | {label} | {threads} | {_ms(ref.median_ms)} | {_ms(mine.median_ms)} | "
            f"{mine.median_ms / ref.median_ms:.2f} |")


def _native_line(mode: str, label: str, threads: int, found: dict[str, Row]) -> str:
    mine = found["upsamplekit"]
    natives = [found[n] for n in NATIVE_COLUMNS if n in found]
    best = min(natives, key=lambda r: r.median_ms) if natives else None
    right, torch_aa = found.get("ResizeRight"), found.get("torch-aa")
    cells = [
        MODES[mode].title, label, str(threads), _ms(mine.median_ms),
        *(_ms(found[n].median_ms) if n in found else "-" for n in NATIVE_COLUMNS),
        best.library if best else "-",
        f"{mine.median_ms / best.median_ms:.2f}" if best else "-",
        _ms(torch_aa.median_ms) if torch_aa else "-",
        _ms(right.median_ms) if right else "-",
        f"{mine.median_ms / right.median_ms:.2f}" if right else "-",
    ]
    return "| " + " | ".join(cells) + " |"


def markdown(rows: list[Row]) -> str:
    """The results as markdown tables: goal (a), goal (b), and each library's agreement with resize."""
    cases: dict[tuple[str, str, int], dict[str, Row]] = {}
    for row in rows:
        cases.setdefault((row.mode, row.case, row.threads), {})[row.library] = row
    torch_lines = ["| mode | input -> output | threads | F.interpolate ms | resize ms | resize / F.interpolate |",
                   "|---|---|---|---|---|---|"]
    native_lines = ["| mode | input -> output | threads | resize ms | "
                    + " | ".join(f"{n} ms" for n in NATIVE_COLUMNS)
                    + " | fastest native | resize / fastest | torch AA ms | ResizeRight ms | resize / ResizeRight |",
                    "|---" * (9 + len(NATIVE_COLUMNS)) + "|"]
    for (mode, label, threads), found in cases.items():
        if "F.interpolate" in found:
            torch_lines.append(_torch_line(mode, label, threads, found))
        else:
            native_lines.append(_native_line(mode, label, threads, found))
    agreement = ["| mode | input -> output | library | max abs diff | note |", "|---|---|---|---|---|"]
    seen = set()
    for row in rows:
        key = (row.mode, row.case, row.library)
        if row.library != "upsamplekit" and key not in seen:
            seen.add(key)
            agreement.append(f"| {MODES[row.mode].title} | {row.case} | {row.library} | {_diff(row.max_diff)} "
                             f"| {row.note} |")
    parts = []
    if len(torch_lines) > 2:
        parts += ["#### (a) Modes F.interpolate has: resize calls the same kernel", "", *torch_lines, ""]
    if len(native_lines) > 2:
        parts += ["#### (b) Modes torch lacks: resize's table engine against native libraries", "", *native_lines, ""]
    parts += ["#### Agreement with resize (same input; max abs difference in float64)", "", *agreement, ""]
    return "\n".join(parts)


SECTION = "## Resampling core (`resize`)"
BEGIN, END = "<!-- bench_resize.py: generated, do not edit -->", "<!-- bench_resize.py: end -->"
DISTRIBUTIONS = ("torch", "numpy", "onnxruntime", "opencv-python-headless", "pillow", "jax", "jaxlib", "resize-right")


def environment(argv: list[str] | None, load_at_start: str) -> str:
    """The machine, the library versions, the load and the command, as markdown lines."""
    from importlib import metadata

    versions = []
    for name in DISTRIBUTIONS:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return "\n".join([
        f"- Machine: {cpu_model()}, {os.cpu_count()} logical cores, {sys.platform}, Python {sys.version.split()[0]}",
        f"- Libraries: {', '.join(versions)}",
        f"- Load average (1, 5, 15 min): {load_at_start} at the start, {load()} at the end (a shared machine: other "
        "work may run alongside)",
        f"- Command: `{command_line(__file__, argv)}`",
    ])


def write_results(path: str, text: str) -> None:
    """Put ``text`` between this script's markers in ``path``, keeping everything else (other
    sections, and the notes of this one); append the section when the markers are absent."""
    block = f"{BEGIN}\n\n{text.strip()}\n\n{END}"
    old = open(path).read() if os.path.exists(path) else ""
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + block + old[old.index(END) + len(END):]
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "# Benchmarks\n\n") + f"{SECTION}\n\n{block}\n"
    with open(path, "w") as handle:
        handle.write(new)


# -------------------------------------------------------------------------------- main
def _configure_threads(threads: int) -> None:
    """Pin this process to ``threads`` cores and set what must be set before JAX starts.

    The affinity caps every library, JAX's thread pool and OpenMP included, at ``threads``
    cores; torch, OpenCV and onnxruntime are also told the count (run_benchmark, _onnxruntime).
    """
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if threads == 1:
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false"
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, set(cores[:threads]))


def _child(threads: int, quick: bool, repeats: int, group: str | None) -> list[Row]:
    """Run one thread count in a fresh process (JAX reads its thread flags at import)."""
    command = [sys.executable, __file__, "--worker", str(threads), "--repeats", str(repeats)]
    if quick:
        command.append("--quick")
    if group:
        command += ["--group", group]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)  # progress on stderr
    return [Row(**item) for item in json.loads(done.stdout)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed rounds per case (default 15, quick 3; up to 10x more for cases under 25 ms)")
    parser.add_argument("--quick", action="store_true", help="a few tiny cases: a smoke run in seconds")
    parser.add_argument("--group", choices=("torch", "native"), default=None, help="run one group of cases only")
    parser.add_argument("--out", default=None,
                        help=f"write the results into this markdown file, between the markers of its {SECTION!r} "
                             "section (created or appended when missing)")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 15)
    cases = [c for c in (quick_cases() if args.quick else full_cases()) if args.group in (None, c.group)]
    if args.worker is not None:
        _configure_threads(args.worker)
        rows = run_benchmark(cases, args.worker, repeats, log=True)
        print(json.dumps([asdict(r) for r in rows]))
        return 0
    rows = []
    load_at_start = load()
    for threads in (int(t) for t in args.threads.split(",")):
        rows += _child(threads, args.quick, repeats, args.group)
    text = environment(argv, load_at_start) + "\n\n" + markdown(rows)
    print(text)
    if args.out:
        write_results(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
