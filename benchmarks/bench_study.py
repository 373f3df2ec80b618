"""Benchmark `upsamplekit study`: wall time of the default study and of ``--quick``, and the share of
each trial (and of the whole run) spent on anything but training.

Each study runs as the README runs it (the ``upsamplekit`` command, in a fresh output folder, so
nothing is resumed), and the trial times are read back from its ``results.json``. Goals (issue 4):
default study <= 5 min, ``--quick`` <= 1 min on a 2-core machine, non-training <= 10% of a trial.

Usage::

    python benchmarks/bench_study.py --out docs/benchmarks.md   # default and --quick: about 6 minutes
    python benchmarks/bench_study.py --quick                     # a tiny study, seconds (smoke test)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import command_line, load, machine, publish  # noqa: E402

SECTION = "## Study (`upsamplekit study`)"
TINY = ["--upsamplers", "bilinear", "--schedules", "2", "--scale", "2", "--steps", "3", "--seeds", "1",
        "--batch-size", "2", "--crop", "16", "--val-crops", "1", "--val-size", "32", "--latency-size", "8"]


def run(label: str, args: list[str]) -> dict[str, object]:
    """Run one study in a fresh folder; return its timings."""
    folder = tempfile.mkdtemp(prefix="bench-study-")
    command = [str(Path(sys.executable).with_name("upsamplekit")), "study", *args, "--no-progress",
               "--out", folder]
    try:
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        trials = json.loads((Path(folder) / "results.json").read_text())["trials"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    train = [t["train_seconds"] for t in trials]
    other = [t["eval_seconds"] for t in trials]
    shares = [o / (t + o) for t, o in zip(train, other)]
    return {"label": label, "args": " ".join(args) or "(defaults)", "wall": wall, "trials": len(trials),
            "train": sum(train), "other": sum(other), "share_median": statistics.median(shares),
            "share_max": max(shares), "run_share": 1 - sum(train) / wall}


def markdown(rows: list[dict[str, object]], load_at_start: str, command: str) -> str:
    lines = [SECTION, "", f"Command: `{command}`", "", *machine(load_at_start), "",
             "| study | trials | wall time | training | trial time not training: median (max) | "
             "whole run not training |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| `upsamplekit study {r['args']}` | {r['trials']} | {r['wall']:.0f} s | {r['train']:.0f} s | "
                     f"{100 * r['share_median']:.1f}% ({100 * r['share_max']:.1f}%) | {100 * r['run_share']:.1f}% |")
    goals = {"default": 300.0, "--quick": 60.0}
    lines.append("")
    for r in rows:
        if r["label"] in goals:
            goal = goals[str(r["label"])]
            verdict = "met" if r["wall"] <= goal else "**not met**"
            lines.append(f"- {r['label']}: {r['wall']:.0f} s against the goal of {goal:.0f} s: {verdict}.")
    for r in rows:
        share = float(r["share_median"])
        verdict = "met" if share <= 0.10 else "**not met**"
        lines.append(f"- {r['label']}: a trial spends {100 * share:.1f}% (median) of its time on anything but "
                     f"training, against the goal of 10%: {verdict}.")
    lines.append("- Not training, in a trial: evaluation on the validation crops, latency (`blocked_autorange`, "
                 "0.1 s), MACs and peak memory; a fixed cost that weighs most in `--quick`, whose trials train for "
                 "about a second. The whole run also imports torch and Optuna, loads the photographs, checks "
                 "every candidate and writes the report.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one tiny study (smoke test)")
    parser.add_argument("--out", help="write the section into this Markdown file")
    args = parser.parse_args(argv)
    load_at_start = load()
    cases = [("tiny", TINY)] if args.quick else [("--quick", ["--quick"]), ("default", [])]
    rows = [run(label, case) for label, case in cases]
    text = markdown(rows, load_at_start, command_line(__file__, argv))
    publish(text, args.out, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
