"""Pictures of an :class:`~upsamplekit.explainer.api.Explanation` and of a
:class:`~upsamplekit.explainer.images.CompareResult` (matplotlib, imported when drawing, Agg backend; it comes with the ``study`` extra).

Both draw data computed beforehand; nothing here decides anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidArgumentError
from ..optional import require
from .compare import PROBES

if TYPE_CHECKING:
    from .api import Explanation
    from .images import CompareResult

__all__ = ["plot_explanation", "plot_compare"]


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (the ``study`` extra brings matplotlib)."""
    matplotlib = require("matplotlib", "study", "drawing pictures")
    matplotlib.use("Agg", force=False)
    return require("matplotlib.pyplot", "study", "drawing pictures")


def _target(path: str | Path) -> Path:
    target = Path(path)
    if target.parent and not target.parent.exists():
        raise InvalidArgumentError(f"the folder of {str(target)!r} does not exist")
    return target


def plot_explanation(e: Explanation, path: str | Path) -> str:
    """A, B and |A - B| on the probe that differs most, the difference by distance from the
    edge, and a 1-D profile along the middle row from the left border; written to ``path``."""
    plt = _pyplot()
    target = _target(path)
    same = [c for c in e.comparisons if c.max_diff is not None and c.outputs is not None]
    verdict = "equivalent" if e.equivalent else "different"
    fig = plt.figure(figsize=(13, 7))
    fig.suptitle(f"A: {e.a.text}\nB: {e.b.text}\n{verdict}, where: {e.where}"
                 + (f", max |A-B| = {e.max_diff:.4g}" if e.max_diff is not None else ""), fontsize=9)
    if not same:
        c = e.comparisons[0]
        assert c.outputs is not None
        for k, (label, out) in enumerate(zip("AB", c.outputs)):
            ax = fig.add_subplot(1, 2, k + 1)
            ax.imshow(out[0, 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(f"{label} on the random probe: {out.shape[2]}x{out.shape[3]}", fontsize=9)
        fig.savefig(target, dpi=110)
        plt.close(fig)
        return str(target)
    c = max(same, key=lambda item: item.max_diff or 0.0)
    if c.outputs is None:  # `same` holds only comparisons with outputs
        raise InvalidArgumentError("the explanation holds no probe outputs to draw")
    out_a, out_b = c.outputs
    probe = int(np.argmax([np.abs(out_a[k] - out_b[k]).max() for k in range(len(PROBES))]))
    diff = np.abs(out_a - out_b).max(axis=(0, 1))
    panels = ((f"A ({PROBES[probe]} probe)", out_a[probe, 0], "gray"), (f"B ({PROBES[probe]} probe)",
                                                                        out_b[probe, 0], "gray"))
    low = min(0.0, float(out_a[probe].min()), float(out_b[probe].min()))
    high = max(1.0, float(out_a[probe].max()), float(out_b[probe].max()))
    for k, (title, image, cmap) in enumerate(panels):
        ax = fig.add_subplot(2, 3, k + 1)
        ax.imshow(image, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    ax = fig.add_subplot(2, 3, 3)
    shown = ax.imshow(diff, cmap="magma", interpolation="nearest")
    fig.colorbar(shown, ax=ax, fraction=0.046)
    ax.set_title(f"|A - B|, max over the probes (input {c.input_size[0]}x{c.input_size[1]})", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax = fig.add_subplot(2, 3, 4)
    ax.bar(range(len(c.profile)), c.profile, color="tab:red")
    ax.axhline(e.atol, color="gray", linestyle="--", linewidth=1, label=f"atol {e.atol:g}")
    ax.set_xlabel("distance from the nearest edge (output pixels)")
    ax.set_ylabel("max |A - B|")
    ax.legend(fontsize=8)
    ax.set_title("where: border ring or interior", fontsize=9)
    ax = fig.add_subplot(2, 3, (5, 6))
    row = out_a.shape[2] // 2
    columns = np.arange(out_a.shape[3])
    ax.plot(columns, out_a[probe, 0, row], "o-", label="A", markersize=3)
    ax.plot(columns, out_b[probe, 0, row], "s--", label="B", markersize=3)
    ax.plot(columns, np.abs(out_a[probe, 0, row] - out_b[probe, 0, row]), color="tab:red", label="|A - B|")
    ax.set_xlabel("output column (left border at 0)")
    ax.set_title(f"profile through the border: row {row} of the {PROBES[probe]} probe", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return str(target)


def plot_compare(result: CompareResult, path: str | Path, columns: int = 4) -> str:
    """The reference, the low-resolution input and every method, each as the full image with the
    zoom window outlined over its zoomed crop, PSNR / SSIM under each; written to ``path``."""
    plt = _pyplot()
    from matplotlib.patches import Rectangle

    target = _target(path)
    top, left, size = result.zoom
    entries: list[tuple[str, np.ndarray, str]] = [("original", result.reference, "reference"),
                                                  (f"input (1/{result.scale}, shown nearest)",
                                                   np.repeat(np.repeat(result.low, result.scale, 0), result.scale, 1),
                                                   f"{result.low.shape[1]}x{result.low.shape[0]}")]
    entries += [(t.name, t.image, f"PSNR {t.psnr:.2f} dB  SSIM {t.ssim:.4f}" + (f"\n{t.note}" if t.note else ""))
                for t in result.tiles]
    columns = max(1, min(columns, len(entries)))
    rows = -(-len(entries) // columns)
    fig, axes = plt.subplots(2 * rows, columns, figsize=(3.2 * columns, 6.4 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for k, (title, image, caption) in enumerate(entries):
        r, col = divmod(k, columns)
        full, zoomed = axes[2 * r, col], axes[2 * r + 1, col]
        full.imshow(np.clip(image, 0, 1), interpolation="nearest")
        full.add_patch(Rectangle((left - 0.5, top - 0.5), size, size, fill=False, edgecolor="yellow", linewidth=1))
        full.set_title(title, fontsize=9)
        zoomed.imshow(np.clip(image[top:top + size, left:left + size], 0, 1), interpolation="nearest")
        zoomed.set_title(caption, fontsize=8, y=-0.16 if "\n" not in caption else -0.22)
    skipped = "; ".join(f"{n}: {why}" for n, why in result.skipped)
    fig.suptitle(f"{result.image}: x{result.scale} down (antialiased bicubic) and back up"
                 + (f"\nskipped: {skipped}" if skipped else ""), fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(target, dpi=100)
    plt.close(fig)
    return str(target)
