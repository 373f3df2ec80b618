"""The ``upsamplekit`` command: one thin module per command group."""

from __future__ import annotations

import os
import sys

import click

from ..errors import UpsampleError
from . import demo, shapes, spec, study
from . import compare, explain  # noqa: I001  (upsamplekit explain, upsamplekit compare)
from . import fold  # noqa: I001  (upsamplekit fold)


class _Group(click.Group):
    """Turn library errors into one line with the rule that was broken (``--debug`` for the traceback)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except UpsampleError as error:
            if ctx.params.get("debug") or os.environ.get("UPSAMPLEKIT_DEBUG"):
                raise
            click.echo(f"Error: {error}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(package_name="upsamplekit")
def app(debug: bool) -> None:
    """Upsampling for neural-network decoders: exact resampling, every upsampler, and a study
    that finds the best one."""


app.add_command(demo.demo)
app.add_command(spec.spec)
app.add_command(shapes.shapes)
app.add_command(study.study)
app.add_command(study.worker)
app.add_command(study.report)
app.add_command(explain.explain)
app.add_command(compare.compare)
app.add_command(fold.fold)


def main() -> None:
    """Console entry point."""
    app()
