"""``upsamplekit fold``: fold a model's upsample -> convolution pairs and show what it gains."""

from __future__ import annotations

import click


@click.command()
@click.argument("factory")
@click.option("--input-shape", "input_shape", required=True, metavar="N,C,H,W",
              help="Shape of the example input (any number of spatial axes), e.g. 8,3,32,32.")
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(1, 1000),
              help="Timed rounds of each model (medians are printed).")
@click.option("--threads", default=None, type=click.IntRange(1, 1024),
              help="torch intra-op threads while timing (default: torch's).")
def fold(factory: str, input_shape: str, repeats: int, threads: int | None) -> None:
    """Fold a model's upsample -> convolution pairs, check the outputs and time it.

    FACTORY is MODULE:FUNCTION, called with no arguments to build the model (MODULE is imported
    with the current directory on the path). The model is folded with a random input of
    --input-shape (each rewrite timed there and kept only where faster), the outputs are
    compared, and the report (what was folded, what was left alone and why) and the measured
    speedup are printed.

    Example: upsamplekit fold mymodels:build_decoder --input-shape 8,3,32,32
    """
    import torch

    from ..folding import fold as fold_model
    from ..folding.api import relative_difference
    from ..folding.factory import load_model, parse_shape
    from ..folding.timing import time_side_by_side

    model = load_model(factory).eval()
    shape = parse_shape(input_shape)
    if threads is not None:
        torch.set_num_threads(threads)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    folded, report = fold_model(model, x, report=True)  # checks that the input fits and the outputs agree
    with torch.no_grad():
        want, got = model(x), folded(x)
    click.echo(str(report))
    click.echo(f"outputs agree: largest difference {relative_difference(got, want):.1e} of the largest output")
    timing = time_side_by_side(lambda: model(x), lambda: folded(x), repeats, device=x.device)
    click.echo(f"speed on input {shape}, {timing.threads} thread{'s' if timing.threads > 1 else ''}, median of "
               f"{repeats}: original {timing.original_ms:.2f} ms, folded {timing.folded_ms:.2f} ms, "
               f"{timing.speedup:.2f}x")
