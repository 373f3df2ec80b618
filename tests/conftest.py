"""Shared test helpers: seeded random images and tolerance-stating comparisons."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("JAX_PLATFORMS", "cpu")


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
