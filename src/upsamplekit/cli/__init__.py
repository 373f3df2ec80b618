"""The ``upsamplekit`` command: one thin module per command group, imported when its command runs.

``upsamplekit --help`` imports each command's module for its one-line help; those modules import
only click and what their options need, and the library (torch, the study's engine) inside the
command bodies, so the help and ``upsamplekit shapes`` answer without importing torch.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, cast

import click

from ..errors import UpsampleError

#: Each command and the ``module:attribute`` (in this package) that defines it, in help order.
COMMANDS = {
    "demo": "demo:demo",
    "spec": "spec:spec",
    "shapes": "shapes:shapes",
    "study": "study:study",
    "worker": "study:worker",
    "report": "study:report",
    "explain": "explain:explain",
    "compare": "compare:compare",
    "fold": "fold:fold",
}


class LazyGroup(click.Group):
    """A group whose ``lazy`` commands (name -> ``module:attribute`` in this package) are imported only
    when looked up; library errors become one line with the rule that was broken (``--debug`` or
    ``UPSAMPLEKIT_DEBUG=1`` for the traceback)."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *(name for name in super().list_commands(ctx) if name not in self.lazy)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        return cast(click.Command, getattr(importlib.import_module(f"{__name__}.{module}"), attribute))

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except UpsampleError as error:
            if ctx.params.get("debug") or os.environ.get("UPSAMPLEKIT_DEBUG"):
                raise
            click.echo(f"Error: {error}", err=True)
            sys.exit(2)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(package_name="upsamplekit")
def app(debug: bool) -> None:
    """Upsampling for neural-network decoders: exact resampling, every upsampler, and a study
    that finds the best one."""


def main() -> None:
    """Console entry point."""
    app()
