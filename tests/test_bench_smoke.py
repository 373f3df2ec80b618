"""Smoke test of benchmarks/bench_resize.py: its quick path runs and returns rows.

No timing is asserted (timings depend on the machine); the benchmark itself is never a test.
The rows' max|diff| columns are checked loosely, since they are the benchmark's evidence that
every library computes the same resize: float32 libraries within 1e-5 of resize on values in
[0, 1) (float32 round-off of a few dozen products).
"""

from __future__ import annotations

import math

import torch





def test_quick_benchmark_runs_and_returns_rows(load_benchmark) -> None:
    bench = load_benchmark("bench_resize")
    case = bench.Case("native", "onnx-cubic-exclude", (1, 2, 6, 5), (11, 9))  # resize and onnxruntime
    threads = torch.get_num_threads()
    rows = bench.run_benchmark([case], threads=1, repeats=1)
    assert torch.get_num_threads() == threads, "the benchmark restores torch's thread count"
    assert {row.library for row in rows} == {"upsamplekit", "onnxruntime"}
    assert all(row.median_ms > 0 and math.isfinite(row.median_ms) for row in rows)
    assert all(row.max_diff is not None and row.max_diff < 1e-5 for row in rows)
    table = bench.markdown(rows)
    assert "| cubic a=-0.75, exclude_outside=1 (ONNX) | 1x2x6x5 -> 11x9 NCHW float32 | 1 |" in table


def test_quick_cases_cover_both_groups(load_benchmark) -> None:
    bench = load_benchmark("bench_resize")
    cases = bench.quick_cases()
    assert {case.group for case in cases} == {"torch", "native"}
    assert all(case.mode in bench.MODES for case in cases + bench.full_cases())
