"""Entry point: ``diagkit`` (the app) and ``diagkit SUBCOMMAND`` (the CLI); ``python -m diagkit``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from diagkit.cli.gui import launch_gui

__all__ = ["launch_gui", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    from diagkit.cli.app import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
