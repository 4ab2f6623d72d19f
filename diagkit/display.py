"""Is there a display for the desktop app? Decided before Qt loads (issue 17): without one, Qt
aborts the whole process (exit 134) with a misleading "xcb-cursor0 is needed"."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

NO_DISPLAY = "no display: use the CLI (diagkit --help), or run with a display"
# Qt platforms that draw without a windowing system (tests, screenshots, kiosks, VNC).
_HEADLESS_PLATFORMS = {"offscreen", "minimal", "minimalegl", "eglfs", "linuxfb", "vnc",
                       "vkkhrdisplay"}


def has_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt can open a window here.

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
