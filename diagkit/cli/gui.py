"""``diagkit gui`` (and ``diagkit`` with no subcommand): open the desktop window."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("open", nargs="*", metavar="HOST",
                     help="open these hosts' tabs at start ('local' too)")
    gui.set_defaults(handler=open_window)


def open_window(args: argparse.Namespace, out: TextIO) -> int:
    """The app, not the CLI: :func:`diagkit.cli.app.main` calls this before it escapes stderr
    (``args.notice``: its line about the start-up repair of private files)."""
    return launch_gui(getattr(args, "open", None) or [], notice=getattr(args, "notice", None))


def launch_gui(open_hosts: Sequence[str] = (), *, notice: str | None = None) -> int:
    """Open the desktop window. Qt is imported only here, so the CLI never needs it.

    ``notice``: a line for the status bar (the start-up repair of private files); ``None``
    lets the app run that repair itself."""
    from diagkit.display import NO_DISPLAY, has_display

    if not has_display():
        print(f"diagkit: {NO_DISPLAY}", file=sys.stderr)
        return 2
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
