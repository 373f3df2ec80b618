"""Smoke test of benchmarks/bench_tf_bicubic.py: one round of a small case runs and its table shows
`resize` agreeing with TensorFlow (the timing itself is the benchmark's business)."""

from __future__ import annotations

import sys

import pytest


def test_one_round_runs_and_agrees_with_tensorflow(load_benchmark, monkeypatch, capsys) -> None:
    pytest.importorskip("tensorflow")
    bench = load_benchmark("bench_tf_bicubic")
    monkeypatch.setattr(bench, "CASES", [((1, 2, 9, 7), (13, 20))])
    monkeypatch.setattr(sys, "argv", ["bench_tf_bicubic.py", "--rounds", "1"])
    bench.main()
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| 1x2x9x7"))
    resize_vs_tf = float(row.strip("| ").split("|")[-2])
    assert resize_vs_tf < 1e-6
