"""``upsamplekit demo``: one small input resized the way each framework does it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import torch

# The 2x2 grid of the PyTorch forum thread on nn.Upsample vs transposed convolution.
_GRID = [[1.0, 2.0], [3.0, 4.0]]

_CALLS: list[tuple[str, str, str, dict[str, object]]] = [
    ("torch nn.Upsample(mode='nearest')", "torch", "nearest", {}),
    ("torch nn.Upsample(mode='bilinear')", "torch", "bilinear", {}),
    ("torch nn.Upsample(mode='bilinear', align_corners=True)", "torch", "bilinear", {"align_corners": True}),
    ("torch mode='bicubic'", "torch", "bicubic", {}),
    ("tf.image.resize(method='bicubic')", "tf", "bicubic", {}),
    ("keras UpSampling2D(interpolation='nearest')", "keras", "nearest", {}),
    ("tf.compat.v1 resize_bilinear (no flags)", "tf1", "bilinear", {}),
    ("cv2.resize(INTER_CUBIC)", "opencv", "cubic", {}),
    ("PIL Image.resize(LANCZOS)", "pillow", "lanczos", {}),
]


def _rows(t: "torch.Tensor") -> str:
    return "\n".join("    " + "  ".join(f"{v:7.4f}" for v in row) for row in t[0, 0].tolist())


@click.command()
@click.option("--scale", default=2, show_default=True, type=click.IntRange(1, 16), help="Upsampling factor.")
def demo(scale: int) -> None:
    """Upsample the 2x2 grid [[1, 2], [3, 4]] as each framework does, with the spec behind each.

    The align_corners=True row is the forum thread's `out1`: 1.0000 1.3333 1.6667 2.0000 on its first line.
    """
    import torch

    from ..resample.api import resize
    from ..resample.spec import Resampling

    grid = torch.tensor([[_GRID]])
    click.echo(f"input {tuple(grid.shape)}:\n{_rows(grid)}\n")
    for label, convention, method, options in _CALLS:
        out = resize(grid, scale_factor=scale, method=method, convention=convention, **options)  # type: ignore[arg-type]
        spec = Resampling.preset(convention, method, **options)
        click.echo(f"{label}\n  {spec.describe()}\n{_rows(out)}\n")
