"""What TensorFlow's exact bicubic costs: `resize(convention="tf", method="bicubic")` now reproduces TF's
1024-entry coefficient table (issue 16), where it used to call aten's antialiased bicubic (the exact
Keys kernel, up to ~2e-3 away from TF). This times, side by side in one run:

- `resize` tf bicubic (the table, exact to TF within float32 round-off);
- `F.interpolate(mode="bicubic", antialias=True)` (what `resize` called before when enlarging);
- TensorFlow's own `tf.image.resize(method="bicubic")` on the same data (NHWC, as TF takes it).

Each round runs every contender once in a rotating order; medians over the rounds, in ms.

    .venv/bin/python benchmarks/bench_tf_bicubic.py --rounds 15 --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import command_line, load, machine, publish, stats, timed  # noqa: E402

SECTION = "## TensorFlow's bicubic, exact"
CASES = [((1, 3, 512, 384), (1024, 768)), ((8, 32, 64, 64), (128, 128)), ((1, 64, 128, 128), (189, 189))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", default=None)
    options = parser.parse_args()
    load_at_start = load()
    import tensorflow as tf
    import torch
    import torch.nn.functional as F

    import upsamplekit

    torch.set_num_threads(1)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf_threads = "1"
    except RuntimeError:  # TensorFlow was initialised earlier in this process (the smoke test): say so
        tf_threads = "TensorFlow's default (it was initialised before this script could set 1)"
    rows = []
    for shape, size in CASES:
        x = torch.rand(shape, generator=torch.Generator().manual_seed(0))
        x_tf = tf.constant(x.permute(0, 2, 3, 1).numpy())
        contenders = {
            "resize, TF's table": lambda: upsamplekit.resize(x, size=size, method="bicubic", convention="tf"),
            "aten antialiased bicubic (before)": lambda: F.interpolate(x, size=size, mode="bicubic", antialias=True),
            "tf.image.resize": lambda: tf.image.resize(x_tf, size, method="bicubic").numpy(),
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for run in contenders.values():
            run()  # warm up
        names = list(contenders)
        for round_ in range(options.rounds):
            order = names[round_ % len(names):] + names[:round_ % len(names)]
            for name in order:
                times[name].append(timed(contenders[name]))
        exact = upsamplekit.resize(x, size=size, method="bicubic", convention="tf")
        real = torch.from_numpy(tf.image.resize(x_tf, size, method="bicubic").numpy()).permute(0, 3, 1, 2)
        before = F.interpolate(x, size=size, mode="bicubic", antialias=True)
        rows.append(f"| {'x'.join(map(str, shape))} -> {size[0]}x{size[1]} | "
                    + " | ".join(stats(times[n]) for n in names)
                    + f" | {float((exact - real).abs().max()):.1e} | {float((before - real).abs().max()):.1e} |")
    lines = [SECTION, "", f"Command: `{command_line('bench_tf_bicubic.py')}`", "",
             *machine(load_at_start), "",
             f"TensorFlow intra-op threads: {tf_threads}.", "",
             "NCHW float32 in [0, 1), one thread each; median ms (interquartile range) of interleaved rounds. The last two columns: the "
             "largest difference from TensorFlow's output of `resize` now and of the aten kernel it called before.", "",
             "| case | " + " | ".join(names) + " | resize vs TF | before vs TF |",
             "|---|" + "---:|" * (len(names) + 2), *rows]
    publish("\n".join(lines) + "\n", options.out, SECTION)


if __name__ == "__main__":
    main()
