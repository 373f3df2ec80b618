"""``torch.compile`` and ``torch.jit.trace`` of :func:`upsamplekit.resize`, for every convention.

Under ``torch.compile`` the gather-table engine runs eagerly behind a graph break (its tables are
NumPy arrays built from the sizes: dynamo would trace that NumPy, and fails on some of it, e.g.
``np.divide(where=)``); torch's own kernels are compiled. The reference is the same call
uncompiled: bit for bit with the ``eager`` backend, within float32 round-off with ``aot_eager``
(its decompositions of aten's upsampling kernels sum in another order). Compilation runs in a
fresh process, as a user's first call would: no table or plan is cached yet.

``torch.jit.trace`` records the table engine's tensors as constants: the trace is specialised
to the traced shape (as every trace is), and must give the same result on other values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import pytest
import torch

import upsamplekit

# Runs in a fresh process; prints one JSON line: the number of calls, the failures, the largest difference.
_SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    import torch
    warnings.filterwarnings("ignore")
    import upsamplekit
    from upsamplekit.resample.conventions import convention_methods, convention_names

    torch._dynamo.config.cache_size_limit = 1024
    x = torch.rand(1, 2, 5, 6, generator=torch.Generator().manual_seed(0))
    every = sys.argv[1] == "every"
    calls, seen = [], set()
    for convention in convention_names():
        for method in convention_methods(convention) if every else ["bicubic" if convention != "onnx" else "cubic"]:
            spec = upsamplekit.Resampling.preset(convention, method)
            if (convention, spec) not in seen:  # aliases resolve to the same spec
                seen.add((convention, spec))
                calls.append(("eager", convention, method))
    calls += [("eager", "pillow", "lanczos3"), ("eager", "opencv", "area"), ("eager", "jax", "lanczos3"),
              ("eager", "tf", "lanczos3"), ("aot_eager", "torch", "bilinear"), ("aot_eager", "pillow", "lanczos3")]
    failures, worst = [], 0.0
    for backend, convention, method in calls:
        def call(t):
            return upsamplekit.resize(t, scale_factor=(1.5, 2), method=method, convention=convention)
        try:
            inputs = x.clone().requires_grad_(True)
            got = torch.compile(call, backend=backend)(inputs)
            reference = x.clone().requires_grad_(True)
            expected = call(reference)
            grads = [torch.autograd.grad(y.square().sum(), t)[0] for y, t in ((got, inputs), (expected, reference))]
            for a, b in ((got, expected), tuple(grads)):
                if backend == "eager" and not torch.equal(a, b):
                    failures.append(f"{backend} {convention} {method}: differs from the uncompiled call")
                worst = max(worst, float((a - b).abs().max()))
        except Exception as error:  # reported by the test
            failures.append(f"{backend} {convention} {method}: {type(error).__name__}: {str(error)[:300]}")
    print(json.dumps({"calls": len(calls), "failures": failures, "worst": worst}))
    """
)


def _compile_in_a_fresh_process(which: str) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", _SCRIPT, which], capture_output=True, text=True, timeout=900,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["failures"] == [], "\n".join(report["failures"])
    assert report["worst"] <= 1e-5, report  # aot_eager's decompositions: float32 round-off
    return report


def test_compile_every_convention_in_a_fresh_process() -> None:
    """One filter per convention (torch's native kernel, the tables of the others), forward and
    backward, with the ``eager`` backend; a native and a table call with ``aot_eager``."""
    assert _compile_in_a_fresh_process("one")["calls"] == 14


@pytest.mark.slow
def test_compile_every_convention_and_method_in_a_fresh_process() -> None:
    assert _compile_in_a_fresh_process("every")["calls"] >= 50


@pytest.mark.parametrize(("convention", "method"), [("pillow", "bicubic"), ("pillow", "lanczos3"),
                                                    ("opencv", "bilinear"), ("opencv", "area"), ("jax", "lanczos3"),
                                                    ("tf1", "bilinear"), ("torch", "bilinear"), ("torch", "lanczos3")])
@pytest.mark.parametrize("target", [{"scale_factor": 2}, {"scale_factor": (1.5, 2.5)}, {"size": (7, 9)}], ids=str)
def test_jit_trace_with_scale_factor_or_size(convention: str, method: str, target: dict) -> None:
    """jit.trace gives sizes as tensors (``round`` failed on them) and its check runs the function
    twice (cached tables must be recorded as they were the first time)."""
    def call(t: torch.Tensor) -> torch.Tensor:
        return upsamplekit.resize(t, method=method, convention=convention, **target)

    generator = torch.Generator().manual_seed(1)
    x, other = torch.rand(2, 1, 2, 5, 6, generator=generator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates jit.trace; it still works
        traced = torch.jit.trace(call, x)
    assert torch.equal(traced(x), call(x))
    assert torch.equal(traced(other), call(other))  # the same shape, other values


def test_a_compiled_resize_neither_slows_nor_recompiles_as_the_plan_cache_grows() -> None:
    """``resize`` caches the plans of recent calls in a dict; traced by Dynamo, that dict would be guarded
    entry by entry: seconds to compile once it holds many plans (8.5 s with ~1,700 measured), and a recompile
    whenever another call adds one. Under ``torch.compile`` the cache is not consulted."""
    graphs: list[int] = []

    def counting(gm: torch.fx.GraphModule, example_inputs: list[torch.Tensor]) -> object:
        graphs.append(1)
        return gm.forward

    def up(x: torch.Tensor) -> torch.Tensor:
        return upsamplekit.resize(x, scale_factor=2, method="bilinear")

    x = torch.rand(1, 2, 5, 6)
    for n in range(3, 40):  # plans in the cache before the first compile
        upsamplekit.resize(torch.rand(1, 1, n, 4), size=(n + 1, 5), method="bilinear")
    torch._dynamo.reset()
    compiled = torch.compile(up, backend=counting)
    expected = up(x)
    assert torch.equal(compiled(x), expected)
    for n in range(3, 40):  # other calls add plans
        upsamplekit.resize(torch.rand(1, 1, n, 7), size=(n + 2, 9), method="bicubic")
    assert torch.equal(compiled(x), expected)
    assert len(graphs) == 1, f"{len(graphs)} compilations: a new plan in the cache made Dynamo recompile"
