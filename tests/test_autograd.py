"""Gradients of ``resize`` through every method of every convention, on both engines.

* gradcheck and gradgradcheck in float64 (finite differences against autograd, torch's default
  tolerances: atol=1e-5, rtol=1e-3; a resize is linear, so both are exact up to round-off);
* the table engine's backward is the transposed gather table: it equals the dense matrix
  transpose ``AxisTable.dense().T`` (1e-12: float64 round-off of sums of a few products), is
  bit-for-bit reproducible, records only its own autograd node and views (no IndexSelect or
  EmbeddingBag backward), and calls no scatter, index_add or index_put (profiler: the backward
  is embedding_bag gathers; embedding_bag's CPU float64 kernel sums each bag with a serial
  index_add_ loop inside itself, in the forward as well, which is no scatter-add over outputs).

TF and Keras return float32 for float64 images; their specs are checked with
``float_output='keep'`` (the same tables, float64 results), since finite differences in float32
cannot meet gradcheck's tolerances.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

import upsamplekit
from upsamplekit import Resampling
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.resample import conventions
from upsamplekit.resample.fast import _tables_only, native_resize
from upsamplekit.resample.tables import axis_table, call_rules

from tests.conftest import assert_close, graph_nodes, random_image

IN, OUT = (5, 4), (3, 7)  # one axis shrinks (antialias widens it), one grows


def _variants() -> list[tuple[str, str, dict[str, Any]]]:
    """Every (convention, method), plus torch's flags and the non-default antialias where allowed."""
    found = []
    for name in conventions.convention_names():
        for method in conventions.convention_methods(name):
            found.append((name, method, {}))
            flags = [{"antialias": True}, {"antialias": False}] if "antialias" in conventions.convention_options(name) \
                else []
            if name == "torch":
                flags += [{"align_corners": True}, {"antialias": True, "align_corners": True}]
            for options in flags:
                try:
                    default = Resampling.preset(name, method)
                    spec = Resampling.preset(name, method, **options)
                except InvalidArgumentError:
                    continue  # the flag does not apply to this method
                if spec != default:
                    found.append((name, method, options))
    return found


VARIANTS = _variants()
IDS = [f"{n}-{m}" + "".join(f"-{k}={v}" for k, v in o.items()) for n, m, o in VARIANTS]


def _image(shape: tuple[int, ...] = (1, 1, *IN), seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(random_image(np.random.default_rng(seed), shape, "float64")).requires_grad_(True)


def _spec(name: str, method: str, options: dict[str, Any]) -> Resampling:
    return Resampling.preset(name, method, **options).replace(float_output="keep")


def _native(spec: Resampling) -> bool:
    return native_resize(torch.zeros(1, 1, *IN, dtype=torch.float64), spec, OUT, [o / i for o, i in zip(OUT, IN)]) \
        is not None


# Both engines where an aten kernel computes the spec, the tables alone elsewhere.
ENGINES = [(*v, engine) for v in VARIANTS for engine in ("native", "tables")
           if engine == "tables" or _native(_spec(*v))]


@pytest.mark.parametrize(("name", "method", "options", "engine"), ENGINES,
                         ids=[f"{e}-{n}-{m}" + "".join(f"-{k}={v}" for k, v in o.items()) for n, m, o, e in ENGINES])
def test_gradcheck_and_gradgradcheck(name: str, method: str, options: dict[str, Any], engine: str) -> None:
    spec = _spec(name, method, options)
    x = _image()
    with _tables_only() if engine == "tables" else nullcontext():
        assert gradcheck(lambda t: upsamplekit.resize(t, size=OUT, spec=spec), (x,))
        assert gradgradcheck(lambda t: upsamplekit.resize(t, size=OUT, spec=spec), (x,))


@pytest.mark.parametrize(("name", "method", "options"), VARIANTS, ids=IDS)
def test_table_backward_is_the_dense_transpose(name: str, method: str, options: dict[str, Any]) -> None:
    spec = _spec(name, method, options)
    call_spec, scales = call_rules(spec, list(IN), list(OUT), [o / i for o, i in zip(OUT, IN)])
    rows, cols = (axis_table(call_spec, i, o, s).dense() for i, o, s in zip(IN, OUT, scales))
    x = _image()
    grad = torch.from_numpy(random_image(np.random.default_rng(1), (1, 1, *OUT), "float64"))
    with _tables_only():
        y = upsamplekit.resize(x, size=OUT, spec=spec)
    (gx,) = torch.autograd.grad(y, x, grad)
    xs, gs = x.detach().numpy(), grad.numpy()
    assert_close(y.detach(), np.einsum("oi,ncij,pj->ncop", rows, xs, cols), atol=1e-12, why="float64 round-off")
    assert_close(gx, np.einsum("oi,ncop,pj->ncij", rows, gs, cols), atol=1e-12, why="float64 round-off")


_SCATTERS = ("scatter", "index_add", "index_put", "embedding_bag_backward", "embedding_backward",
             "embedding_dense_backward")
# Autograd nodes a table-engine resize may record: one custom node per resized axis, and views.
_NODES = {"_ResampleAxisBackward", "PermuteBackward0", "ViewBackward0", "SliceBackward0", "ToCopyBackward0",
          "CloneBackward0", "AccumulateGrad"}


def _inside(event: Any, name: str) -> bool:
    parent = event.cpu_parent
    while parent is not None:
        if parent.name == name:
            return True
        parent = parent.cpu_parent
    return False


@pytest.mark.parametrize("method", ["linear", "cubic", "nearest", "area", "lanczos3"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_table_backward_is_deterministic_and_gathers_only(method: str, dtype: torch.dtype) -> None:
    spec = Resampling.preset("torch", method, antialias=True) if method in ("linear", "cubic") else None
    x = _image((2, 3, 37, 41), seed=2).detach().to(dtype).requires_grad_(True)
    grad = torch.from_numpy(random_image(np.random.default_rng(3), (2, 3, 64, 17), "float64")).to(dtype)

    def backward() -> tuple[torch.Tensor, set[str]]:
        with _tables_only():
            y = upsamplekit.resize(x, size=(64, 17), method=method, spec=spec)
        assert graph_nodes(y.grad_fn) <= _NODES, graph_nodes(y.grad_fn)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            (gx,) = torch.autograd.grad(y, x, grad)
        # The backward's own ops; embedding_bag's CPU float64 kernel sums each bag with a serial
        # index_add_ loop, in the forward as in the backward: that is a gather, not a scatter.
        return gx, {e.name for e in prof.events() if not _inside(e, "aten::embedding_bag")}

    first, ops = backward()
    second, _ = backward()
    assert torch.equal(first, second), "two backward passes must agree bit for bit"
    assert not [op for op in ops if any(word in op for word in _SCATTERS)], sorted(ops)
    assert "aten::embedding_bag" in ops or "aten::index_select" in ops, sorted(ops)
