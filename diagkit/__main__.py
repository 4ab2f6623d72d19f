"""Entry point: ``diagkit`` (the app) and ``diagkit SUBCOMMAND`` (the CLI); ``python -m diagkit``."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def launch_gui(open_hosts: Sequence[str] = (), *, notice: str | None = None) -> int:
    """Open the desktop window. Qt is imported only here, so the CLI never needs it.

    ``notice``: a line for the status bar (the start-up repair of private files); ``None``
    lets the app run that repair itself."""
    try:
        from diagkit.ui.app import run_app
    except ImportError as exc:
        print(
            f"diagkit: the desktop app cannot start because Qt could not be loaded ({exc}).\n"
            "Install the app's dependencies (pip install diagkit) and, on Debian/Ubuntu, Qt's "
            "system libraries: apt-get install libegl1 libgl1 libxkbcommon0 libfontconfig1 "
            "libglib2.0-0 libdbus-1-3 libxcb-cursor0. The CLI works without them: diagkit --help",
            file=sys.stderr,
        )
        return 2
    return run_app(open_hosts=list(open_hosts), notice=notice)


def main(argv: Sequence[str] | None = None) -> int:
    from diagkit.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
