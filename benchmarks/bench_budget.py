"""Benchmark the study's budget policies: the README's default study with ``--budget full`` against
``--budget halving`` with the same settings, and against halving given about the same wall-clock time
(issue 14).

Halving spends less (the separably worse stop at early rungs), and a study can spend the saving on
longer training for the finalists (``--halving-steps``) or on more seeds (``--halving-seeds``). Measured
on the bundled photographs, longer training does not pay: validation PSNR drifts down after a few
hundred steps at the peak learning rate (docs/benchmarks.md, "Training recipe"), so the default spends
the saving on seeds, which separate the finalists. The studies run one after the other on the same
machine, as the README runs them (the ``upsamplekit`` command, a fresh output folder each), and the
numbers are read back from their ``results.json``: wall time, training steps spent, finalists, the recommendation's margin over the
no-network baseline, whether it is separable, and the rank stability (Kendall's tau between the
ranking at the previous rung's end, or half the budget, and at the end). Goal: at the same
wall-clock time, halving's recommendation at least as good and its ranking of the finalists more
stable.

Usage::

    python benchmarks/bench_budget.py --out docs/benchmarks.md                        # 3 studies, ~20 min
    python benchmarks/bench_budget.py --halving-steps 800 --halving-seeds 2           # the saving on steps instead
    python benchmarks/bench_budget.py --quick                                         # tiny studies, seconds
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import command_line, load, machine, publish  # noqa: E402
from bench_study import run, verdict_lines  # noqa: E402

SECTION = "## Budget: full against successive halving (`upsamplekit study --budget`)"
TINY = ["--upsamplers", "bilinear,subpixel,nearest", "--schedules", "2", "--scale", "2", "--seeds", "2",
        "--batch-size", "2", "--crop", "16", "--val-crops", "1", "--val-size", "32", "--latency-size", "8"]


def markdown(rows: list[dict[str, object]], load_at_start: str, command: str) -> str:
    lines = [SECTION, "", f"Command: `{command}`", "", *machine(load_at_start), "",
             "| study | wall time | training steps (of full at its --steps) | finalists | recommended | "
             "over the baseline | separable | rank stability (tau, steps compared) |",
             "|---|---:|---:|---:|---|---:|---|---:|"]
    for r in rows:
        trust, budget = dict(r["confidence"]), dict(r["budget"])  # type: ignore[call-overload]
        margin, tau = trust.get("baseline_margin_db"), trust.get("rank_stability")
        spent, full = budget.get("steps_spent"), budget.get("steps_full")
        share = f"{spent:,} ({100 * spent / full:.0f}%)" if spent and full else "n/a"
        compared = f", {trust.get('compared_at')} vs end" if trust.get("compared_at") else ""
        lines.append(f"| `upsamplekit study {r['args']}` | {r['wall']:.0f} s | {share} | "
                     f"{budget.get('finalists', 'n/a')} of {budget.get('candidates', 'n/a')} | {r['recommended']} | "
                     f"{'n/a' if margin is None else f'{margin:+.2f} dB'} | {'yes' if trust.get('beats_baseline') else 'no'} | "
                     f"{'n/a' if tau is None else f'{tau:.2f}'}{compared} |")
    lines += ["", *verdict_lines(rows)]
    for r in rows[1:]:
        lines.append(f"- {_same_finalists(rows[0], r)[1]}")
    if len(rows) == 3:  # full against the halving study that spends its saving (the last row)
        full, halving = (dict(r["confidence"]) for r in (rows[0], rows[2]))  # type: ignore[call-overload]
        ratio = float(rows[2]["wall"]) / float(rows[0]["wall"])  # type: ignore[arg-type]
        fm, hm = full.get("baseline_margin_db"), halving.get("baseline_margin_db")
        ft, ht = _same_finalists(rows[0], rows[2])[0], halving.get("rank_stability")
        better = fm is not None and hm is not None and hm >= fm - 0.005
        stabler = ft is not None and ht is not None and ht > ft
        lines.append(f"- Goal (about the same wall-clock time: {rows[2]['label']} took {ratio:.2f}x full's): "
                     "recommendation at least as "
                     f"good: {'met' if better else '**not met**'}; finalists' ranking more stable than full's ranking "
                     f"of the same candidates: "
                     f"{'met' if stabler else '**not met**'}.")
    return "\n".join(lines) + "\n"


def _same_finalists(full: dict[str, object], halving: dict[str, object]) -> tuple[float | None, str]:
    """Full's rank stability over the candidates a halving study kept to its end, between the same
    steps: the finalists are the close contenders, so their ranking is compared like with like."""
    from upsamplekit.study.analysis import kendall_tau

    at = dict(halving["confidence"]).get("compared_at")  # type: ignore[call-overload]
    finalists = {c["key"] for c in halving["candidates"] if c.get("ranked")}  # type: ignore[attr-defined]
    curves = {c["key"]: {int(p[0]): p[1] for p in c["curve"]} for c in full["candidates"]  # type: ignore[attr-defined]
              if c["key"] in finalists}
    end = max((max(c) for c in curves.values() if c), default=-1)
    both = [c for c in curves.values() if at in c and end in c]
    tau = kendall_tau([c[at] for c in both], [c[end] for c in both]) if len(both) > 1 else None
    shown = "n/a" if tau is None else f"{tau:.2f}"
    return tau, (f"{halving['label']}: over its {len(finalists)} finalists, full's own ranking at step {at} against "
                 f"its end has tau {shown} ({len(both)} of them with both checkpoints in the full study).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny studies (smoke test)")
    parser.add_argument("--halving-steps", type=int, default=400, help="--steps of the halving studies (the finalists')")
    parser.add_argument("--halving-seeds", type=int, default=3,
                        help="--seeds of the halving study that spends what halving saves")
    parser.add_argument("--halving", default="", help="more options of the halving studies, e.g. '--eta 3 --rungs 3'")
    parser.add_argument("--out", help="write the section into this Markdown file")
    args = parser.parse_args(argv)
    load_at_start = load()
    base, full_steps, steps, seeds = (TINY, 8, 16, 3) if args.quick else ([], 400, args.halving_steps,
                                                                           args.halving_seeds)
    halving = [*base, "--budget", "halving", "--steps", str(steps), *args.halving.split()]
    cases = [("full", [*base, "--budget", "full", "--steps", str(full_steps)]),
             ("halving", halving),
             ("halving with more seeds", [*halving, "--seeds", str(seeds)])]
    rows = [run(label, case) for label, case in cases]
    publish(markdown(rows, load_at_start, command_line(__file__, argv)), args.out, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
