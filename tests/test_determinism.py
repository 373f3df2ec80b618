"""Deterministic backward: ``native_resize`` declines aten's atomic CUDA backward kernels.

aten's backward of linear/bilinear/trilinear, bicubic, the antialias (_aa) kernels and adaptive
average pooling accumulates with atomicAdd on CUDA (not reproducible; an error under
``torch.use_deterministic_algorithms(True)``); nearest and nearest-exact have no atomics. In
deterministic mode, with a gradient to record on a CUDA input, the atomic kinds go to the gather-table
engine, whose backward is bit-for-bit reproducible. Checked here:

* the rule itself (``atomic_backward``, ``_declines``) for every kernel kind and device;
* the routing of every (convention, method) ``resize`` takes, on CPU with the set of atomic devices
  monkeypatched to include "cpu" (so "on CUDA" is simulated through the real ``native_resize``): aten
  is declined exactly for the kinds whose autograd node is not a nearest one, and only when
  deterministic mode is on and a gradient is recorded;
* on CPU in deterministic mode, forward and backward of every method run and two backward passes
  agree bit for bit, on aten's CPU kernels and on the tables that replace the atomic ones;
* on CUDA (skipped without one): the same, and the gradient equals the CPU float64 gradient.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch

import upsamplekit
from upsamplekit import Resampling
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.resample import conventions, fast
from upsamplekit.resample.fast import KERNEL_KINDS, _declines, _tables_only, atomic_backward, native_resize

from tests.conftest import graph_nodes, needs_cuda, random_image


def _variants() -> list[tuple[str, str, dict[str, Any]]]:
    """Every (convention, method) of the registry, plus torch's flags (antialias, align_corners)."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for name in conventions.convention_names():
        for method in conventions.convention_methods(name):
            found.append((name, method, {}))
            if name != "torch":
                continue
            for options in ({"antialias": True}, {"align_corners": True}, {"antialias": True, "align_corners": True}):
                try:
                    spec = Resampling.preset(name, method, **options)
                except InvalidArgumentError:
                    continue  # the flag does not apply to this method
                if spec != Resampling.preset(name, method):
                    found.append((name, method, options))
    return found


VARIANTS = _variants()
IDS = [f"{c}-{m}" + "".join(f"-{k}" for k in o) for c, m, o in VARIANTS]
# torch's 1-D and 3-D kernels too (linear, trilinear, nearest, area); the 2-D cases come from VARIANTS.
RANKS = [(method, nd) for method in ("nearest", "nearest-exact", "linear", "area") for nd in (1, 3)]


@pytest.fixture
def deterministic() -> Iterator[None]:
    """``torch.use_deterministic_algorithms(True)`` for one test, restored afterwards."""
    enabled, warn_only = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


@pytest.fixture
def cpu_as_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat CPU tensors as if their aten backward were atomic: the CUDA routing, on CPU."""
    monkeypatch.setattr(fast, "_ATOMIC_DEVICES", frozenset({"cpu", "cuda"}))


def _image(shape: tuple[int, ...], dtype: torch.dtype = torch.float64, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(random_image(np.random.default_rng(seed), shape, "float64")).to(dtype)


# --------------------------------------------------------------------------- the rule
def test_atomic_kinds_are_every_aten_kind_but_nearest() -> None:
    assert {k: atomic_backward(k) for k in KERNEL_KINDS} == {
        "nearest": False, "nearest_exact": False, "linear": True, "bicubic": True,
        "linear_aa": True, "bicubic_aa": True, "adaptive_avg_pool": True,
    }
    with pytest.raises(InvalidArgumentError, match="unknown aten kernel kind"):
        atomic_backward("bilinear")


@pytest.mark.parametrize("kind", KERNEL_KINDS)
def test_rule_declines_only_atomic_kinds_on_cuda_in_deterministic_mode_with_grad(kind: str) -> None:
    for device in ("cuda", "cpu", "meta", "mps"):
        for needs_grad in (True, False):
            for deterministic in (True, False):
                expected = device == "cuda" and needs_grad and deterministic and kind not in ("nearest", "nearest_exact")
                assert _declines(kind, device, needs_grad, deterministic) is expected, (device, needs_grad, deterministic)


# --------------------------------------------------------------------------- routing, "on CUDA" on CPU
def _native(x: torch.Tensor, spec: Resampling) -> torch.Tensor | None:
    nd = x.dim() - 2
    return native_resize(x, spec, [2 * n for n in x.shape[2:]], [2.0] * nd)


def _check_routing(spec: Resampling, shape: tuple[int, ...]) -> None:
    x = _image(shape).requires_grad_(True)
    aten = _native(x, spec)  # deterministic mode off: the fast path as before
    if aten is None:
        with torch.no_grad():
            assert _native(x, spec) is None
        return  # the tables compute this spec anyway: nothing to decline
    node = type(aten.grad_fn).__name__
    atomic = "Nearest" not in node  # UpsampleNearest*/UpsampleNearestExact* backward: no atomics
    try:
        torch.use_deterministic_algorithms(True)
        assert (_native(x, spec) is None) == atomic, node
        assert _native(x.detach(), spec) is not None, "no gradient to record: aten stays"
        with torch.no_grad():
            assert _native(x, spec) is not None, "grad mode off: aten stays"
        torch.use_deterministic_algorithms(True, warn_only=True)
        assert (_native(x, spec) is None) == atomic, "warn_only is deterministic mode too"
    finally:
        torch.use_deterministic_algorithms(False)
    assert _native(x, spec) is not None, "deterministic mode off: aten stays"


@pytest.mark.parametrize(("convention", "method", "options"), VARIANTS, ids=IDS)
def test_routing_declines_atomic_aten_kernels_exactly(
    convention: str, method: str, options: dict[str, Any], cpu_as_cuda: None
) -> None:
    _check_routing(Resampling.preset(convention, method, **options), (1, 2, 6, 5))


@pytest.mark.parametrize(("method", "nd"), RANKS)
def test_routing_in_one_and_three_dims(method: str, nd: int, cpu_as_cuda: None) -> None:
    _check_routing(Resampling.preset("torch", method), (1, 2, *(5, 4, 3)[:nd]))


def test_routing_on_a_real_cpu_is_unchanged(deterministic: None) -> None:
    """CPU backward kernels have no atomics: aten stays in deterministic mode."""
    x = _image((1, 2, 6, 5)).requires_grad_(True)
    for method in ("bilinear", "bicubic", "area"):
        assert _native(x, Resampling.preset("torch", method)) is not None, method


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "area", "nearest"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_declined_resize_is_the_table_engine(
    method: str, channels_last: bool, cpu_as_cuda: None, deterministic: None
) -> None:
    shape = (1, 6, 5, 3) if channels_last else (1, 3, 6, 5)
    x = _image(shape, torch.float32).requires_grad_(True)
    actual = upsamplekit.resize(x, scale_factor=2, method=method, channels_last=channels_last)
    with _tables_only():
        tables = upsamplekit.resize(x, scale_factor=2, method=method, channels_last=channels_last)
    aten = {n for n in graph_nodes(actual.grad_fn) if "Upsample" in n or "Adaptive" in n}
    if method == "nearest":
        assert aten == {"UpsampleNearest2DBackward0"}, aten  # aten's nearest stays
    else:
        assert not aten, aten
        assert torch.equal(actual, tables), "the tables ran"


# --------------------------------------------------------------------------- forward + backward
IN, OUT = (5, 4), (3, 7)  # one axis shrinks (antialias widens it), one grows


def _twice(x: torch.Tensor, convention: str, method: str, options: dict[str, Any]) -> tuple[torch.Tensor, ...]:
    """Two backward passes of one resize through fresh graphs."""
    grad = None
    grads = []
    for _ in range(2):
        leaf = x.detach().requires_grad_(True)
        y = upsamplekit.resize(leaf, size=OUT, method=method, convention=convention, **options)
        if grad is None:
            grad = _image(tuple(y.shape), y.dtype, seed=1).to(y.device)
        (gx,) = torch.autograd.grad(y, leaf, grad)
        grads.append(gx)
    return tuple(grads)


@pytest.mark.parametrize("engine", ["aten", "declined"])
@pytest.mark.parametrize(("convention", "method", "options"), VARIANTS, ids=IDS)
def test_backward_runs_and_repeats_bit_for_bit_on_cpu(
    convention: str, method: str, options: dict[str, Any], engine: str, deterministic: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if engine == "declined":
        monkeypatch.setattr(fast, "_ATOMIC_DEVICES", frozenset({"cpu"}))
    for dtype in (torch.float32, torch.float64):
        first, second = _twice(_image((2, 3, *IN), dtype), convention, method, options)
        assert torch.isfinite(first).all()
        assert torch.equal(first, second), "two backward passes must agree bit for bit"


@needs_cuda
@pytest.mark.parametrize(("convention", "method", "options"), VARIANTS, ids=IDS)
def test_cuda_backward_is_deterministic_and_matches_cpu(
    convention: str, method: str, options: dict[str, Any], deterministic: None
) -> None:
    """On CUDA in deterministic mode every method's backward runs (an atomic aten backward would
    raise), repeats bit for bit, and equals the CPU float64 gradient (float32: 1e-5 on gradients of
    a few unit-sized terms; float64: 1e-12)."""
    cpu = _image((2, 3, *IN))
    expected, _ = _twice(cpu, convention, method, options)
    for dtype, atol in ((torch.float32, 1e-5), (torch.float64, 1e-12)):
        first, second = _twice(cpu.to("cuda", dtype), convention, method, options)
        assert torch.equal(first, second), "two backward passes must agree bit for bit"
        torch.testing.assert_close(first.cpu().double(), expected.double(), atol=atol, rtol=0)


@needs_cuda
@pytest.mark.parametrize(("method", "atomic"), [("bilinear", True), ("bicubic", True), ("area", True),
                                                ("nearest", False), ("nearest-exact", False)])
def test_cuda_routing(method: str, atomic: bool, deterministic: None) -> None:
    """On CUDA: declined exactly for the atomic kinds in deterministic mode with a gradient."""
    spec = Resampling.preset("torch", method)
    x = _image((1, 2, 6, 5)).cuda().requires_grad_(True)
    assert (_native(x, spec) is None) == atomic
    assert _native(x.detach(), spec) is not None
    torch.use_deterministic_algorithms(False)
    assert _native(x, spec) is not None
