"""Benchmark the study's training recipe: validation curves of the default decoder under the recipe
and under the alternatives it replaced, and how many units of the last stage stay alive.

Every run trains the study's default decoder (``StudyConfig()``: width, depth, falling widths) on
the bundled photographs at x4 with the same seed and the same crops, and validates it on the
study's validation crops at 8 checkpoints; PSNR is given relative to bicubic resizing (no network).

Recipes (each differs from the one above it in one thing, so each row says what that thing does):

* ``before``: the study before issue 13: L1, Adam 5e-3, no warm-up, no clipping, global residual
  with a randomly initialised head (the decoder adds noise at the start);
* ``zero head``: the same with the head started at zero (the decoder starts at the baseline);
* ``+ warm-up, clip, lr ...``: 5% linear warm-up, gradient norm clipped at 1, the study's peak (5e-4);
* ``recipe``: the same on the squared error instead of L1: the study's recipe;
* ``recipe, lr ...``: the recipe at twice the peak learning rate;
* ``recipe, no skip``: the recipe without the global residual (the decoder makes the image alone).

"alive": the share of the last refining ReLU's channels that fire anywhere on the validation crops.

Usage::

    python benchmarks/bench_recipe.py --out docs/benchmarks.md   # 3 candidates x 5 recipes + the default grid
    python benchmarks/bench_recipe.py --quick                    # a few steps (smoke test)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _common import command_line, load, machine, publish  # noqa: E402

from upsamplekit.study.config import StudyConfig  # noqa: E402  (light: no torch)

SECTION = "## Training recipe (`upsamplekit study`)"
LR = StudyConfig().lr  # the study's peak learning rate

RECIPES: dict[str, dict[str, Any]] = {
    "before": {"loss": "l1", "lr": 5e-3, "warmup": 0.0, "clip": None, "zero_head": False, "skip": True},
    "zero head": {"loss": "l1", "lr": 5e-3, "warmup": 0.0, "clip": None, "zero_head": True, "skip": True},
    f"+ warm-up, clip, lr {LR:g}": {"loss": "l1", "lr": LR, "warmup": 0.05, "clip": 1.0, "zero_head": True,
                                 "skip": True},
    "recipe": {"loss": "mse", "lr": LR, "warmup": 0.05, "clip": 1.0, "zero_head": True, "skip": True},
    f"recipe, lr {2 * LR:g}": {"loss": "mse", "lr": 2 * LR, "warmup": 0.05, "clip": 1.0, "zero_head": True, "skip": True},
    "recipe, no skip": {"loss": "mse", "lr": LR, "warmup": 0.05, "clip": 1.0, "zero_head": True, "skip": False},
}
ABLATION = [("subpixel", (4,)), ("bilinear", (4,)), ("nearest", (2, 2))]


def train(candidate: Any, recipe: dict[str, Any], steps: int, seed: int = 0) -> dict[str, Any]:
    """Train one decoder with ``recipe``; its curve relative to the baseline, time and live units."""
    import torch

    from upsamplekit.resample import resize
    from upsamplekit.study.core import checkpoint_steps
    from upsamplekit.study.data import CropSampler, fixed_crops, load_split
    from upsamplekit.study.metrics import psnr
    from upsamplekit.study.tasks import downsample, make_task
    from upsamplekit.study.train import fit

    config = StudyConfig()
    split = load_split()
    val = fixed_crops(split.val, config.val_size, config.val_crops)
    inputs = downsample(val, config.scale)
    baseline = float(psnr(resize(inputs, scale_factor=config.scale, method="bicubic").clamp(0, 1), val).mean())
    task = make_task("sr", config.scale, config.width, config.latent_channels, skip=recipe["skip"],
                     depth=config.depth)
    torch.manual_seed(seed)
    model = task.build(candidate)
    if recipe["skip"] and not recipe["zero_head"]:
        model.model.head.reset_parameters()  # as before: the head's default random initialisation
    sampler = CropSampler(split.train, config.crop)
    generator = torch.Generator().manual_seed(10_000 + seed)

    def validate() -> float:
        return float(psnr(model(inputs).clamp(0, 1), val).mean()) - baseline

    start = time.perf_counter()
    fitted = fit(model, lambda: task.pair(sampler(config.batch_size, generator)), steps, recipe["lr"],
                 checkpoints=checkpoint_steps(steps), evaluate=validate, loss=recipe["loss"],
                 warmup=recipe["warmup"], clip=recipe["clip"])
    seconds = time.perf_counter() - start
    fired: list[Any] = []
    hook = model.model.refine[-1].register_forward_hook(lambda m, i, o: fired.append(o.gt(0).any(3).any(2).any(0)))
    with torch.no_grad():
        model(inputs)
    hook.remove()
    return {"curve": fitted.curve, "seconds": seconds, "alive": float(fired[0].float().mean())}


def markdown(ablation: list[tuple[str, str, dict[str, Any]]], grid: list[tuple[str, dict[str, Any]]], steps: int,
             load_at_start: str, command: str) -> str:
    first = ablation[0][2] if ablation else grid[0][1]
    checkpoints = [step for step, _ in first["curve"]]
    head = " | ".join(str(s) for s in checkpoints)
    lines = [SECTION, "", f"Command: `{command}`", "", *machine(load_at_start), "",
             f"The study's default decoder at x4, {steps} steps, seed 0, batch 16 of 48x48 crops; validation PSNR "
             "relative to bicubic resizing (no network) at each checkpoint (steps), on the study's validation crops. "
             "Recipes are described in `benchmarks/bench_recipe.py`; each differs from the row above in one thing.",
             "", f"| candidate | recipe | {head} | alive | time |",
             "|---|---|" + "---:|" * (len(checkpoints) + 2)]
    for label, recipe, r in ablation:
        values = " | ".join(f"{v:+.2f}" for _, v in r["curve"])
        lines.append(f"| {label} | {recipe} | {values} | {100 * r['alive']:.0f}% | {r['seconds']:.0f} s |")
    if grid:
        lines += ["", f"Every default candidate under the recipe ({steps} steps, seed 0):", "",
                  f"| candidate | {head} | alive | time |", "|---|" + "---:|" * (len(checkpoints) + 2)]
        for label, r in grid:
            values = " | ".join(f"{v:+.2f}" for _, v in r["curve"])
            lines.append(f"| {label} | {values} | {100 * r['alive']:.0f}% | {r['seconds']:.0f} s |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few steps, two recipes (smoke test)")
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default: the study's)")
    parser.add_argument("--out", help="write the section into this Markdown file")
    args = parser.parse_args(argv)
    load_at_start = load()
    from upsamplekit.study.results import Candidate

    steps = 8 if args.quick else args.steps or StudyConfig().steps
    recipes = ["before", "recipe"] if args.quick else list(RECIPES)
    candidates = [Candidate(name, schedule) for name, schedule in ABLATION[:1 if args.quick else None]]
    ablation = [(c.label, name, train(c, RECIPES[name], steps)) for c in candidates for name in recipes]
    grid = [] if args.quick else [(c.label, train(c, RECIPES["recipe"], steps)) for c in StudyConfig().candidates()]
    text = markdown(ablation, grid, steps, load_at_start, command_line(__file__, argv))
    publish(text, args.out, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
