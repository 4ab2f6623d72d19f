"""The house checks CI runs with the suite: ruff, mypy on the Qt-free core, the import-linter
contracts for the layers. Each runs as its own program from the repository root, with the
settings in pyproject.toml, and a failure shows that program's own report.

The tools come with the ``test`` extras (pyproject.toml); they are looked up next to the Python
running the suite (the venv's bin/), so a missing tool is a failure, never a skip.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(tool: str, *args: str, timeout: float = 170) -> subprocess.CompletedProcess[str]:
    exe = BIN / tool
    assert exe.exists(), f"{tool} is not installed next to {sys.executable}: pip install -e '.[test]'"
    return subprocess.run([str(exe), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.mark.parametrize(("tool", "args"), [
    ("ruff", ("check", "--no-cache", ".")),
    # files, excludes and strictness come from [tool.mypy]
    ("mypy", ()),
    # contracts from [tool.importlinter]; --no-cache: nothing left behind in the checkout
    ("lint-imports", ("--no-cache",)),
])
def test_house_check_passes(tool: str, args: tuple[str, ...]) -> None:
    out = _run(tool, *args)
    assert out.returncode == 0, f"{tool} {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
