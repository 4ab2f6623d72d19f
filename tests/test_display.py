"""No display (issue 17, item 13): detected before Qt loads, a plain message, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from diagkit.display import NO_DISPLAY, has_display


@pytest.mark.parametrize(("env", "expected"), [
    ({}, False),
    ({"DISPLAY": ":0"}, True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, True),
    ({"QT_QPA_PLATFORM": "offscreen"}, True),
    ({"QT_QPA_PLATFORM": "minimal"}, True),
    ({"QT_QPA_PLATFORM": "xcb"}, False),
    ({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":1"}, True),
    ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":1"}, False),
    ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":1"}, True),
    ({"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "wayland-1"}, True),
    ({"DISPLAY": ""}, False),
])
def test_has_display_on_linux(env: dict[str, str], expected: bool) -> None:
    assert has_display(env, "linux") is expected


def test_macos_and_windows_always_have_one() -> None:
    assert has_display({}, "darwin") and has_display({}, "win32")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(extra)
    return env


def test_app_without_display_says_so_and_exits_2() -> None:
    code = ("import sys; from diagkit.__main__ import main; rc = main([]); "
            "print('qt-loaded' if 'PySide6' in sys.modules else 'qt-not-loaded'); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], env=_env(), check=False,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"diagkit: {NO_DISPLAY}"
    assert done.stdout.strip() == "qt-not-loaded"


def test_offscreen_platform_counts_as_a_display() -> None:
    code = "import sys; from diagkit.__main__ import main; sys.exit(main([]))"
    done = subprocess.run([sys.executable, "-c", code],
                          env=_env(QT_QPA_PLATFORM="offscreen", DIAGKIT_EXIT_WHEN_SHOWN="1"),
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "diagkit-shown" in done.stdout


def test_paramiko_warnings_go_to_the_log_file_not_the_terminal(tmp_path) -> None:
    code = ("from diagkit.logsetup import setup_logging; setup_logging(); import logging; "
            "logging.getLogger('paramiko.transport').warning('Success for unrequested channel! [??]')")
    done = subprocess.run([sys.executable, "-c", code], env=_env(DIAGKIT_DATA_DIR=str(tmp_path)),
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "unrequested" not in done.stderr
    logs = "".join(p.read_text() for p in tmp_path.rglob("*.log"))
    assert "Success for unrequested channel" in logs
