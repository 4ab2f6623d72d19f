"""The core never imports Qt: checked in a clean interpreter, and by reading the sources."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import diagkit

ROOT = Path(diagkit.__file__).parent


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(ROOT)], prefix="diagkit."):
        if info.name.startswith("diagkit.ui"):
            continue
        names.append(info.name)
    return names


def test_core_imports_without_qt() -> None:
    modules = core_modules()
    assert "diagkit.cli" in modules and "diagkit.transport.ssh" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported Qt: {out.stdout}"


def test_no_qt_import_in_core_sources() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(PySide6|pyqtgraph|shiboken6)", re.MULTILINE)
    offenders = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if "ui" not in p.relative_to(ROOT).parts[:1] and pattern.search(p.read_text())
    ]
    assert offenders == []


def test_no_silent_host_key_policy_anywhere() -> None:
    offenders = [
        str(p) for p in ROOT.rglob("*.py")
        if re.search(r"AutoAddPolicy|WarningPolicy", p.read_text())
    ]
    assert offenders == []
