"""``upsamplekit explain A B``: why two upsampling calls differ, where, and the smallest fix."""

from __future__ import annotations

import sys

import click

_SIZE_HELP = "an input size: N, or H,W (also HxW)"


class _Size(click.ParamType):
    """``8``, ``8,12`` or ``8x12``: one input size (height, width)."""

    name = "H,W"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        text = str(value).lower().replace("x", ",")
        try:
            parts = [int(p) for p in text.split(",")]
        except ValueError:
            self.fail(f"expected {_SIZE_HELP}, but got {value!r}", param, ctx)
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2 or min(parts) < 1:
            self.fail(f"expected {_SIZE_HELP} with positive integers, but got {value!r}", param, ctx)
        return (parts[0], parts[1])


@click.command()
@click.argument("a")
@click.argument("b")
@click.option("--size", "sizes", type=_Size(), multiple=True,
              help="Input size to probe, H,W (repeat for several). Default: where both calls meet in shape.")
@click.option("--atol", type=click.FloatRange(min=0.0), default=1e-5, show_default=True,
              help="Largest difference still called equal.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random probe.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write difference maps and a profile through the border to this PNG.")
@click.option("--no-fix", is_flag=True, help="Skip the search for the smallest change that makes them equal.")
@click.option("--exit-code", is_flag=True, help="Exit with status 1 when the calls are not equivalent.")
def explain(a: str, b: str, sizes: tuple[tuple[int, int], ...], atol: float, seed: int, as_json: bool,
            plot: str | None, no_fix: bool, exit_code: bool) -> None:
    """Explain why upsampling calls A and B give different outputs.

    A and B are calls in their framework's own words, quoted, for example

    \b
      upsamplekit explain "torch: nn.Upsample(scale_factor=2, mode='bilinear')" \\
                          "convtranspose: bilinear(kernel=4, stride=2, padding=1)"

    Prefixes: torch, keras, tf, jax, onnx, cv2, pillow, convtranspose, upsamplekit. The calls
    are parsed, never run as code; both run through upsamplekit's engine on five probe images.
    """
    from ..explainer import explain as run

    result = run(a, b, sizes=list(sizes) or None, atol=atol, seed=seed, fix=not no_fix)
    click.echo(result.to_json() if as_json else str(result))
    if plot:
        written = result.plot(plot)
        click.echo(f"plot written to {written}", err=as_json)
    if exit_code and not result.equivalent:
        sys.exit(1)
