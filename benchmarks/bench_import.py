"""What starting upsamplekit costs: ``import upsamplekit``, ``upsamplekit --help`` and ``upsamplekit shapes``,
each in a fresh interpreter, now and at a baseline commit, side by side in one run.

Each round runs every (tree, command) pair once as a new process, in an order that rotates from
round to round; the table gives the median wall time (and the interquartile range) over the rounds,
with ``import torch`` and an empty interpreter as yardsticks. It also lists which of the package's
modules and which optional dependencies the root import loads.

Goals (issue 12): ``import upsamplekit`` within torch's own import time + 0.1 s, loading none of
optuna, sqlalchemy, matplotlib, scikit-image, tqdm; ``--help`` and ``shapes`` without torch in 0.3 s.

    .venv/bin/python benchmarks/bench_import.py --rounds 15 --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load, machine, publish  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Import and start-up time"
HEAVY = ("torch", "optuna", "sqlalchemy", "matplotlib", "skimage", "tqdm", "PIL")

#: What is timed: a label and the arguments after the interpreter.
COMMANDS = [
    ("empty interpreter (`python -c pass`)", ["-c", "pass"]),
    ("`import torch`", ["-c", "import torch"]),
    ("`import upsamplekit`", ["-c", "import upsamplekit"]),
    ("`import upsamplekit; upsamplekit.resize`", ["-c", "import upsamplekit; upsamplekit.resize"]),
    ("`upsamplekit --help`", ["-m", "upsamplekit", "--help"]),
    ("`upsamplekit shapes transpose 16 -k 4 -s 2 -p 1`",
     ["-m", "upsamplekit", "shapes", "transpose", "16", "-k", "4", "-s", "2", "-p", "1"]),
]

_CENSUS = """
import sys, upsamplekit
own = [m for m in sys.modules if m == "upsamplekit" or m.startswith("upsamplekit.")]
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
print(len(own), ",".join(heavy) or "none")
"""


def export(ref: str, into: Path) -> Path:
    """The ``src`` folder of commit ``ref``, unpacked under ``into``."""
    archive = into / "src.tar"
    with archive.open("wb") as handle:
        subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def run_once(src: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def census(src: Path) -> tuple[int, int, str]:
    """Modules of the package in all, modules loaded by ``import upsamplekit``, and heavy packages loaded."""
    total = sum(1 for _ in (src / "upsamplekit").rglob("*.py"))
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", _CENSUS, *HEAVY], env=env, capture_output=True, text=True, check=True)
    own, heavy = out.stdout.split()
    return total, int(own), heavy


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
    return q1, median, q3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="b1b1ff6", help="commit to compare with (default: main before issue 12)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", default=None, help="markdown file whose section to (re)write")
    options = parser.parse_args()
    load_at_start = load()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {f"baseline {options.baseline}": export(options.baseline, Path(tmp)), "now": ROOT / "src"}
        pairs = [(tree, label, args) for tree in trees for label, args in COMMANDS]
        times: dict[tuple[str, str], list[float]] = {(t, label): [] for t, label, _ in pairs}
        for tree, _, args in pairs[:2]:
            run_once(trees[tree], args)  # warm the file cache
        for round_ in range(options.rounds):
            shift = round_ % len(pairs)
            for tree, label, args in pairs[shift:] + pairs[:shift]:
                times[(tree, label)].append(run_once(trees[tree], args))
            print(f"round {round_ + 1}/{options.rounds}", file=sys.stderr)
        counts = {tree: census(src) for tree, src in trees.items()}
    lines = [SECTION, "",
             f"Command: `.venv/bin/python benchmarks/bench_import.py --rounds {options.rounds} --out docs/benchmarks.md`",
             "", *machine(load_at_start), "",
             "Wall time of a new process, median (interquartile range) in seconds over "
             f"{options.rounds} interleaved rounds. The baseline is the same script run on the `src` of commit "
             f"`{options.baseline}` (main before issue 12).", "",
             "| command | " + " | ".join(trees) + " |", "|---|" + "---|" * len(trees)]
    medians: dict[tuple[str, str], float] = {}
    for label, _ in COMMANDS:
        cells = []
        for tree in trees:
            q1, median, q3 = quartiles(times[(tree, label)])
            medians[(tree, label)] = median
            cells.append(f"{median:.3f} ({q1:.3f}-{q3:.3f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "| after `import upsamplekit` | " + " | ".join(trees) + " |", "|---|" + "---|" * len(trees),
              "| package modules loaded | " + " | ".join(f"{c[1]} of {c[0]}" for c in counts.values()) + " |",
              "| heavy packages loaded | " + " | ".join(c[2].replace(",", ", ") for c in counts.values()) + " |", ""]
    now = "now"
    torch_time = medians[(now, COMMANDS[1][0])]
    lines.append(f"Goals, now: `import upsamplekit` takes {medians[(now, COMMANDS[2][0])]:.3f} s and imports no torch; with "
                 f"the first use of `resize` (which imports torch) {medians[(now, COMMANDS[3][0])] - torch_time:+.3f} s "
                 "against `import torch` alone (goal: at most +0.1 s); "
                 f"`--help` {medians[(now, COMMANDS[4][0])]:.3f} s and `shapes` {medians[(now, COMMANDS[5][0])]:.3f} s "
                 "(goal: at most 0.3 s each, without torch).")
    publish("\n".join(lines) + "\n", options.out, SECTION)


if __name__ == "__main__":
    main()
