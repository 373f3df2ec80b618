"""``upsamplekit compare IMAGE``: downsample an image, upsample it back with several methods, score and draw."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

#: The picture formats ``--out`` may name (matplotlib writes them without extra programs).
PLOT_FORMATS = ("png", "jpg", "jpeg", "pdf", "svg", "tif", "tiff", "webp", "eps", "ps")


def _methods(values: tuple[str, ...]) -> list[str] | None:
    """The methods named by the ``--methods`` options; None when none was given (the defaults)."""
    if not values:
        return None
    chosen = [m.strip() for value in values for m in value.split(",") if m.strip()]
    if not chosen:
        raise click.BadParameter(f"expected at least one method name, but got {', '.join(map(repr, values))}",
                                 param_hint="--methods")
    return chosen


def _zoom(value: str | None) -> tuple[int, int, int] | None:
    if value is None:
        return None
    try:
        top, left, size = (int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected TOP,LEFT,SIZE (three integers), but got {value!r}",
                                 param_hint="--zoom") from None
    if min(top, left) < 0 or size < 1:
        raise click.BadParameter(f"expected TOP, LEFT >= 0 and SIZE >= 1, but got {value!r}", param_hint="--zoom")
    return (top, left, size)


def _check_out(out: str) -> None:
    """``--out``: a file name with an extension of :data:`PLOT_FORMATS`, in a folder that exists and is writable."""
    path = Path(out)
    extension = path.suffix.lower().lstrip(".")
    if extension not in PLOT_FORMATS:
        listed = ", ".join(f".{e}" for e in PLOT_FORMATS)
        raise click.BadParameter(f"expected a file name ending in one of {listed}, but got {out!r}",
                                 param_hint="--out")
    folder = path.parent
    if not folder.is_dir():
        raise click.BadParameter(f"the folder of {out!r} must exist, but {str(folder)!r} "
                                 f"{'is a file' if folder.exists() else 'does not exist'}", param_hint="--out")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise click.BadParameter(f"the folder of {out!r} must be writable, but {str(folder)!r} is not",
                                 param_hint="--out")


@click.command()
@click.argument("image")
@click.option("--scale", type=click.IntRange(2, 16), default=4, show_default=True, help="Down- and upsampling factor.")
@click.option("--methods", "methods", multiple=True,
              help="Comma-separated methods: registry names (nearest, bilinear, bicubic, subpixel, transposed, ...) "
                   "or CONVENTION:METHOD presets (pillow:lanczos). Default: nearest, bilinear, bicubic, "
                   "pillow:lanczos, subpixel, transposed.")
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="Image file for the labelled grid: .png (or another format matplotlib writes: .pdf, .svg, ...).")
@click.option("--train-steps", type=click.IntRange(min=0), default=100, show_default=True,
              help="Training steps of each learned method on crops of the image (0 skips them).")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Seed of the training (0 <= seed < 2**63).")
@click.option("--zoom", default=None, help="Zoomed window TOP,LEFT,SIZE in the full image (default: most detail).")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def compare(image: str, scale: int, methods: tuple[str, ...], out: str, train_steps: int, seed: int,
            zoom: str | None, as_json: bool) -> None:
    """Downsample IMAGE by --scale and upsample it back with each method: a grid with PSNR / SSIM.

    IMAGE is a file (PNG, JPEG, ...) or a scikit-image bundled image: astronaut, camera, coffee,
    chelsea, ... Learned methods are trained briefly on crops of the same image (their scores are
    therefore optimistic) or skipped with --train-steps 0.
    """
    from ..explainer.images import DEFAULT_METHODS, compare_images
    from ..explainer.plot import plot_compare

    def progress(name: str) -> None:
        click.echo(f"running {name}", err=True)

    chosen = _methods(methods) or list(DEFAULT_METHODS)
    _check_out(out)  # before any work: the grid is written last
    result = compare_images(image, scale=scale, methods=chosen, train_steps=train_steps, seed=seed,
                            zoom=_zoom(zoom), on_method=progress)  # refuses a zoom window outside the image
    plot_compare(result, out)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.table())
    click.echo(f"grid written to {out}", err=True)
