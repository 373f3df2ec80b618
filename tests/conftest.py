"""Shared test helpers: seeded random images, tolerance-stating comparisons, and the devices a test runs on.

``DEVICES`` is the one list of devices: the CPU, and CUDA where there is one (skipped without it: CI has
no GPU). Tests take the ``device`` fixture (a device name, ``"cpu"`` or ``"cuda"``), or, for Hypothesis
``@given`` tests (which dislike function-scoped fixtures), ``@pytest.mark.parametrize("device", DEVICES)``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("JAX_PLATFORMS", "cpu")


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=needs_cuda)]


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    """The device a test runs on: ``"cpu"``, and ``"cuda"`` where there is a GPU."""
    return str(request.param)


@pytest.fixture
def no_cudnn_tf32() -> Iterator[None]:
    """cuDNN convolutions in true float32 for this test (torch lets them use TF32 by default, whose
    10-bit mantissa is ~1e-3 relative: no float32 tolerance holds on CUDA then); restored after."""
    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = before


def forward_on(device: str, module: torch.nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
    """``module(*inputs)`` on ``device`` without grad, the result on the CPU. The module and the inputs
    stay where they are (a copy moves); on the CPU it is exactly ``module(*inputs)``."""
    if device != "cpu":
        module = copy.deepcopy(module).to(device)
        inputs = tuple(t.to(device) for t in inputs)
    with torch.no_grad():
        return module(*inputs).cpu()


def on_device(x: np.ndarray, device: str) -> Any:
    """``x`` for a call on ``device``: the array itself on the CPU (numpy in, numpy out, as the parity
    tests always ran), a tensor on ``device`` elsewhere. :func:`to_numpy` brings the result back."""
    return x if device == "cpu" else torch.from_numpy(np.ascontiguousarray(x)).to(device)


def to_numpy(y: Any) -> np.ndarray:
    """A result as a numpy array on the CPU (a tensor on any device, or an array)."""
    return y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)


def graph_nodes(fn: Any) -> set[str]:
    """The names of the autograd nodes reachable from ``fn`` (a tensor's ``grad_fn``)."""
    seen: set[str] = set()
    stack = [fn]
    while stack:
        node = stack.pop()
        if node is not None:
            seen.add(type(node).__name__)
            stack.extend(child for child, _ in node.next_functions)
    return seen


def random_image(rng: np.random.Generator, shape: tuple[int, ...], dtype: str = "float32") -> np.ndarray:
    """A random image of ``shape``: uniform [0, 1) floats, or the full range of an integer dtype."""
    if np.issubdtype(np.dtype(dtype), np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, int(info.max) + 1, size=shape, dtype=dtype)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    return rng.random(shape).astype(dtype)


def assert_close(actual: np.ndarray, expected: np.ndarray, atol: float, why: str, rtol: float = 0.0) -> None:
    """``np.testing.assert_allclose`` with the reason for the tolerance in the failure message."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    np.testing.assert_allclose(
        actual.astype(np.float64), expected.astype(np.float64), atol=atol, rtol=rtol,
        err_msg=f"tolerance atol={atol}, rtol={rtol}: {why}",
    )


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


@pytest.fixture(scope="session")
def load_benchmark():
    """``load_benchmark("bench_fold")``: import ``benchmarks/<name>.py`` as a module (once per session)."""
    import importlib.util
    import sys
    from pathlib import Path

    def load(name: str):
        if name in sys.modules:
            return sys.modules[name]
        path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
        spec.loader.exec_module(module)
        return module

    return load
