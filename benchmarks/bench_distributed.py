"""Benchmark the shared-storage study (issue 7): what the storage costs per trial, and how a study scales
with worker processes.

1. Bookkeeping per trial, per storage (SQLite, journal file, PostgreSQL on this machine): queueing the
   trials, then popping, heart-beating, checking for duplicates and storing each result (with a 96x96
   reconstruction for every third) around an evaluation that returns at once. Median of 3 fresh studies.
2. Scale-out: the same small study (real training) run by one worker and by two worker processes on a
   journal file, and by the single-process `upsamplekit study` on SQLite; wall time from the workers'
   start to the last result, and the speedup.

PostgreSQL is a throwaway cluster started like the tests' (tests/study/conftest.py), so the PostgreSQL
server programs must be installed (`bash scripts/setup.sh --test` does it).

Usage::

    python benchmarks/bench_distributed.py --out docs/benchmarks.md   # about 2 minutes
    python benchmarks/bench_distributed.py --quick                     # bookkeeping only, small (smoke test)
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import command_line, load, machine, publish  # noqa: E402

from upsamplekit.study.engine.base import Finished, TrialSpec  # noqa: E402
from upsamplekit.study.engine.optuna import OptunaEngine  # noqa: E402
from upsamplekit.study.results import Candidate, TrialResult  # noqa: E402
from upsamplekit.study.runner import _png  # noqa: E402

SECTION = "## Distributed study (`upsamplekit worker`)"
ROOT = Path(__file__).resolve().parents[1]


def postgres_server():  # noqa: ANN201  (a context manager yielding the tests' PostgresServer)
    spec = importlib.util.spec_from_file_location("upsamplekit_pg_conftest", ROOT / "tests" / "study" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.running_server()


def bookkeeping(url: str, trials: int) -> tuple[float, float]:
    """Milliseconds per trial to queue, and to run with an evaluation that takes no time."""
    picture = _png(np.random.default_rng(0).random((96, 96, 3), dtype=np.float32))
    specs = [TrialSpec(Candidate(f"u{i // 3}", (2,)), i % 3) for i in range(trials)]

    def evaluate(spec: TrialSpec) -> Finished:
        result = TrialResult(spec.candidate, spec.seed, 25.0, 0.8, 0.01, 1000, 10**6, 1.0, 0.1, 2**20, 1.0, 0.1, 0.02)
        return Finished(result, picture if spec.seed == 0 else None)

    shared = not url.startswith("sqlite")
    with OptunaEngine(url, "bench", create=True, heartbeat=10 if shared else None) as engine:
        start = time.perf_counter()
        engine.submit(specs)
        queued = time.perf_counter()
        engine.work(evaluate)
        ran = time.perf_counter()
    return (queued - start) * 1000 / trials, (ran - queued) * 1000 / trials


def cli(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "upsamplekit", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def wait(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        _, stderr = process.communicate()
        if process.returncode:
            raise RuntimeError(f"a study process failed ({process.returncode}): {stderr.decode()[-2000:]}")


def scale_out(settings: list[str], folder: Path) -> dict[str, float]:
    """Wall seconds: single process on SQLite, one worker and two workers on a journal file."""
    times = {}
    start = time.perf_counter()
    wait([cli("study", *settings, "--out", str(folder / "single"), "--no-progress")])
    times["single"] = time.perf_counter() - start
    for workers in (1, 2):
        storage = f"journal:{folder / f'w{workers}.log'}"
        wait([cli("study", *settings, "--storage", storage, "--study-name", "s", "--submit-only",
                  "--out", str(folder / f"w{workers}"))])
        start = time.perf_counter()
        wait([cli("worker", "--storage", storage, "--study-name", "s", "--threads", "1", "--no-progress")
              for _ in range(workers)])
        times[f"{workers} workers"] = time.perf_counter() - start
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="Markdown file whose section to (re)write, e.g. docs/benchmarks.md")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    args = parser.parse_args()
    load_at_start = load()
    trials, repeats = (6, 1) if args.quick else (90, 3)
    steps, seeds = "400", "3"
    settings = ["--upsamplers", "bilinear,subpixel", "--schedules", "2", "--scale", "2", "--steps", steps,
                "--seeds", seeds, "--batch-size", "8", "--crop", "32", "--val-crops", "1", "--val-size", "32",
                "--latency-size", "16", "--threads", "1"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp, postgres_server() as server:
        folder = Path(tmp)
        urls = {"SQLite (one process)": lambda i: f"sqlite:///{folder / f'b{i}.db'}",
                "journal file": lambda i: f"journal:{folder / f'b{i}.log'}",
                f"PostgreSQL {server.version} (local)": lambda i: server.create_database(f"bench{i}")}
        for label, url in urls.items():
            runs = [bookkeeping(url(n), trials) for n in range(repeats)]
            rows.append((label, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)))
        times = None if args.quick else scale_out(settings, folder)
    count = 2 * int(seeds)
    lines = [SECTION, "", f"`{command_line(__file__)}`", ""] + machine(load_at_start) + [
        "", f"Bookkeeping per trial ({trials} trials, an evaluation that returns at once, median of {repeats} fresh "
        "studies; heartbeat on for the shared storages):", "",
        "| storage | queue ms/trial | pop + heartbeat + store ms/trial |", "|---|---:|---:|"]
    lines += [f"| {label} | {queued:.1f} | {ran:.1f} |" for label, queued, ran in rows]
    if times is None:
        lines += ["", "Scale-out: skipped with --quick.", ""]
    else:
        lines += ["", f"Scale-out: {count} trials (bilinear and subpixel x2, {seeds} seeds, {steps} steps, crops of "
                  "32, 1 torch thread per process), wall time from the start of the workers to the last result:", "",
                  "| run | wall s | speedup over one worker |", "|---|---:|---:|"]
        lines += [f"| {label} | {seconds:.1f} | {times['1 workers'] / seconds:.2f}x |" for label, seconds in
                  (("`upsamplekit study` (SQLite, one process)", times["single"]),
                   ("1 `upsamplekit worker` (journal)", times["1 workers"]),
                   ("2 `upsamplekit worker` (journal)", times["2 workers"]))]
        lines += ["", "Every run includes starting Python and torch and preparing the data (about 5 s per process "
                  "here); the single process also checks the candidates, which the submit step did for the "
                  "workers. Two workers on two cores cannot reach 2x when anything else runs on the machine.", ""]
    publish("\n".join(lines), args.out, SECTION)


if __name__ == "__main__":
    main()
