"""What every benchmark script shares: the machine description and the section writer."""

from __future__ import annotations

import os
import platform
import re

import numpy as np
import torch

import upsamplekit


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def machine(load_at_start: str) -> list[str]:
    """Markdown bullet lines: CPU, versions, load at the start and now."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            fields = dict(line.split(":", 1) for line in handle.read().split("\n\n")[0].splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        model = f"{fields['model name']} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')}" + \
            ("; a virtual machine)" if "hypervisor" in fields.get("flags", "").split() else ")")
    except (OSError, KeyError):
        pass
    return [
        f"- CPU: {model}, {os.cpu_count()} logical cores; torch threads: {torch.get_num_threads()}",
        f"- Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
        f"upsamplekit {upsamplekit.__version__}, {platform.system()} {platform.release()}",
        f"- load average (1, 5, 15 min): {load_at_start} at the start, {load()} at the end "
        "(the machine is shared: other work may have run alongside)",
    ]


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
