"""Entry point: ``diagkit`` (the app) and ``diagkit SUBCOMMAND`` (the CLI); ``python -m diagkit``."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

NO_DISPLAY = "no display: use the CLI (diagkit --help), or run with a display"
# Qt platforms that draw without a windowing system (tests, screenshots, kiosks, VNC).
_HEADLESS_PLATFORMS = {"offscreen", "minimal", "minimalegl", "eglfs", "linuxfb", "vnc", "vkkhrdisplay"}


def has_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt can open a window here, decided before Qt loads: without a display Qt aborts
    the process (exit 134, with a misleading "xcb-cursor0 is needed").

    macOS and Windows always have one. Elsewhere: an explicit ``QT_QPA_PLATFORM`` that needs no
    window system (offscreen, minimal, ...), or the variable its window system needs (``xcb`` ->
    ``DISPLAY``, ``wayland`` -> ``WAYLAND_DISPLAY``); without it, X11 or Wayland, whichever is set.
    """
    env = os.environ if environ is None else environ
    if (platform or sys.platform) in ("darwin", "win32", "cygwin"):
        return True
    # "xcb:option=..." and "wayland;xcb" (fallback lists) both name the platforms first
    wanted = [p.split(":", 1)[0].strip().lower()
              for p in env.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    for name in wanted:
        if name in _HEADLESS_PLATFORMS:
            return True
        if name == "xcb" and env.get("DISPLAY"):
            return True
        if name.startswith("wayland") and env.get("WAYLAND_DISPLAY"):
            return True
    if wanted:
        return False
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def launch_gui(open_hosts: Sequence[str] = (), *, notice: str | None = None) -> int:
    """Open the desktop window. Qt is imported only here, so the CLI never needs it.

    ``notice``: a line for the status bar (the start-up repair of private files); ``None``
    lets the app run that repair itself."""
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


def main(argv: Sequence[str] | None = None) -> int:
    from diagkit.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
