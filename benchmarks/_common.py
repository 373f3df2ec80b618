"""What every benchmark script shares: the timing helpers, the machine description, the command
line and the section writer. Light to import (torch and upsamplekit are imported when the machine
lines are written), so that a script may set thread variables before torch starts."""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def timed(fn: Callable[[], Any]) -> float:
    """Wall time of one call of ``fn()``, in milliseconds."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def stats(values: list[float]) -> str:
    """``median (interquartile range)`` of times in ms, with digits that suit the median."""
    median = statistics.median(values)
    q1, q3 = np.percentile(values, [25, 75])
    digits = 1 if median >= 10 else 2 if median >= 1 else 3
    return f"{median:.{digits}f} ({q3 - q1:.{digits}f})"


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def cpu_model() -> str:
    """The CPU's model name, family and model numbers (and whether it is a virtual machine)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            fields = dict(line.split(":", 1) for line in handle.read().split("\n\n")[0].splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        model = f"{fields['model name']} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')}" + \
            ("; a virtual machine)" if "hypervisor" in fields.get("flags", "").split() else ")")
    except (OSError, KeyError):
        pass
    return model


def machine(load_at_start: str) -> list[str]:
    """Markdown bullet lines: CPU, versions, load at the start and now."""
    import torch

    import upsamplekit

    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; torch threads: {torch.get_num_threads()}",
        f"- Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
        f"upsamplekit {upsamplekit.__version__}, {platform.system()} {platform.release()}",
        f"- load average (1, 5, 15 min): {load_at_start} at the start, {load()} at the end "
        "(the machine is shared: other work may have run alongside)",
    ]


def command_line(script: str, argv: list[str] | None = None) -> str:
    """How the benchmark was run, for the section: ``python benchmarks/<script> <arguments>``
    (``argv``: the arguments given to ``main``; None: the process's own)."""
    arguments = sys.argv[1:] if argv is None else argv
    return " ".join(["python", f"benchmarks/{Path(script).name}", *arguments])


def write_section(path: str, section: str, text: str) -> None:
    """Replace (or append) the ``section`` heading's part of ``path``; other sections stay as they are."""
    if not os.path.exists(path):
        with open(path, "w") as handle:
            handle.write(text)
        return
    with open(path) as handle:
        old = handle.read()
    match = re.search(rf"^{re.escape(section)}\s*$", old, flags=re.M)
    if match is None:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        following = re.search(r"^## ", old[match.end():], flags=re.M)
        end = match.end() + following.start() if following else len(old)
        new = old[:match.start()] + text + ("\n" + old[end:] if following else "")
    with open(path, "w") as handle:
        handle.write(new)


def publish(text: str, out: str | None, section: str) -> None:
    """Print the section, and write it into ``out`` when given."""
    print(text)
    if out:
        write_section(out, section, text)
