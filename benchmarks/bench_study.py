"""Benchmark `upsamplekit study`: wall time of the default study and of ``--quick``, what each answers
(the recommendation's margin over the no-network baseline, rank stability, the verdict), and the
share of each trial (and of the whole run) spent on anything but training.

Each study runs as the README runs it (the ``upsamplekit`` command, in a fresh output folder, so
nothing is resumed), and the numbers are read back from its ``results.json``. Goals (issue 13): on
a 2-core CPU the default study in at most 10 minutes, its recommendation separably at least 0.3 dB
over the baseline with rank stability >= 0.8, ``--quick`` in at most 1 minute (also with ``--task denoise``,
issue 17); on a CUDA GPU
(``--device cuda``) the default study in at most 3 minutes, +0.5 dB, rank stability >= 0.8.

Usage::

    python benchmarks/bench_study.py --out docs/benchmarks.md                 # CPU: default and --quick, ~10 min
    python benchmarks/bench_study.py --device cuda --out docs/benchmarks.md   # the same on a CUDA GPU
    python benchmarks/bench_study.py --quick                                  # a tiny study, seconds (smoke test)
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
    """Run one study in a fresh folder; return its timings and its answer."""
    folder = tempfile.mkdtemp(prefix="bench-study-")
    command = [str(Path(sys.executable).with_name("upsamplekit")), "study", *args, "--no-progress",
               "--out", folder]
    try:
        start = time.perf_counter()
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL)  # exit 1: a failed trial, reported below
        wall = time.perf_counter() - start
        data = json.loads((Path(folder) / "results.json").read_text())
        trials = data["trials"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    train = [t["train_seconds"] for t in trials]
    other = [t["eval_seconds"] for t in trials]
    shares = [o / (t + o) for t, o in zip(train, other)]
    return {"label": label, "args": " ".join(args) or "(defaults)", "wall": wall, "trials": len(trials),
            "train": sum(train), "other": sum(other), "share_median": statistics.median(shares),
            "share_max": max(shares), "run_share": 1 - sum(train) / wall, "device": data.get("device", "cpu"),
            "confidence": data.get("confidence") or {}, "baseline": (data.get("baseline") or {}).get("psnr"),
            "recommended": (data.get("recommendation") or {}).get("label", "none"), "budget": data.get("budget") or {},
            "candidates": data.get("candidates", [])}


def verdict_lines(rows: list[dict[str, object]]) -> list[str]:
    """What each study says first (its verdict), one Markdown bullet per study."""
    verdicts = [(r["label"], dict(r["confidence"]).get("verdict")) for r in rows]  # type: ignore[call-overload]
    return [f"- {label} says: \"{verdict}\"" for label, verdict in verdicts if verdict]


def markdown(rows: list[dict[str, object]], load_at_start: str, command: str, device: str) -> str:
    lines = [SECTION + ("" if device == "cpu" else f" on {device}"), "", f"Command: `{command}`", "",
             *machine(load_at_start), "",
             "| study | device | trials | wall time | recommended | over the baseline | beats it separably | "
             "rank stability (tau) | trial time not training: median (max) |",
             "|---|---|---:|---:|---|---:|---|---:|---:|"]
    for r in rows:
        trust = dict(r["confidence"])  # type: ignore[call-overload]
        margin = trust.get("baseline_margin_db")
        tau = trust.get("rank_stability")
        lines.append(f"| `upsamplekit study {r['args']}` | {r['device']} | {r['trials']} | {r['wall']:.0f} s | "
                     f"{r['recommended']} | {'n/a' if margin is None else f'{margin:+.2f} dB'} | "
                     f"{'yes' if trust.get('beats_baseline') else 'no'} | {'n/a' if tau is None else f'{tau:.2f}'} | "
                     f"{100 * float(r['share_median']):.1f}% ({100 * float(r['share_max']):.1f}%) |")
    lines += ["", *verdict_lines(rows)]
    gpu = device.startswith("cuda")
    goals = {"default": (180.0 if gpu else 600.0, 0.5 if gpu else 0.3), "--quick": (60.0, None),
             "--quick --task denoise": (60.0, None)}
    for r in rows:
        if r["label"] not in goals:
            continue
        seconds, margin_goal = goals[str(r["label"])]
        trust = dict(r["confidence"])  # type: ignore[call-overload]
        checks = [f"{r['wall']:.0f} s against {seconds:.0f} s: {'met' if float(r['wall']) <= seconds else '**not met**'}"]
        if margin_goal is not None:
            margin, tau = trust.get("baseline_margin_db"), trust.get("rank_stability")
            good = margin is not None and trust.get("beats_baseline") and margin >= margin_goal
            checks.append(f"margin {'n/a' if margin is None else f'{margin:+.2f}'} dB against +{margin_goal} dB, "
                          f"separably: {'met' if good else '**not met**'}")
            checks.append(f"rank stability {'n/a' if tau is None else f'{tau:.2f}'} against 0.8: "
                          f"{'met' if tau is not None and tau >= 0.8 else '**not met**'}")
        lines.append(f"- Goals, {r['label']}: " + "; ".join(checks) + ".")
    if not gpu:
        lines.append("- On a CUDA GPU: not measured yet (no GPU was available to this project when this was "
                     "written). The command that measures it: `python benchmarks/bench_study.py --device cuda "
                     "--out docs/benchmarks.md`.")
    lines.append("- Not training, in a trial: validation at 8 checkpoints, latency (`blocked_autorange`, 0.1 s), "
                 "MACs and peak memory. The whole run also imports torch and Optuna, loads the photographs, checks "
                 "every candidate and writes the report.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one tiny study (smoke test)")
    parser.add_argument("--out", help="write the section into this Markdown file")
    parser.add_argument("--device", default="cpu", help="--device of the studies (cpu, cuda, ...)")
    args = parser.parse_args(argv)
    load_at_start = load()
    full = [("--quick", ["--quick"]), ("--quick --task denoise", ["--quick", "--task", "denoise"]), ("default", [])]
    cases = [("tiny", TINY)] if args.quick else full
    extra = [] if args.device == "cpu" else ["--device", args.device]
    rows = [run(label, case + extra) for label, case in cases]
    text = markdown(rows, load_at_start, command_line(__file__, argv), args.device)
    publish(text, args.out, SECTION + ("" if args.device == "cpu" else f" on {args.device}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
