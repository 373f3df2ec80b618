"""``python -m upsamplekit``: the command line."""

from .cli import main

main()
