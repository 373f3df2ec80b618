"""``upsamplekit spec``: show the Resampling spec a framework call resolves to."""

from __future__ import annotations

import click

from ..errors import UpsampleError


def _parse_option(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise click.BadParameter(f"options are written NAME=VALUE, but got {text!r}")
    name, raw = text.split("=", 1)
    lowered = raw.strip().lower()
    value: object
    if lowered in ("true", "false"):
        value = lowered == "true"
    else:
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                value = raw
    return name.strip(), value


@click.command()
@click.argument("convention")
@click.argument("method")
@click.argument("options", nargs=-1)
def spec(convention: str, method: str, options: tuple[str, ...]) -> None:
    """Print the spec CONVENTION's METHOD resolves to, and its ONNX Resize attributes.

    Example: upsamplekit spec torch bilinear align_corners=true
    """
    from ..resample.spec import Resampling

    resolved = Resampling.preset(convention, method, **dict(_parse_option(o) for o in options))
    click.echo(repr(resolved))
    click.echo(resolved.describe())
    try:
        click.echo(f"ONNX Resize: {resolved.to_onnx()}")
    except UpsampleError as error:
        click.echo(f"ONNX Resize: none ({error})")
