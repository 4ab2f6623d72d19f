"""``diagkit --help`` stays quick: building every group's parser loads no heavy module.

The time itself is measured by hand (benchmarks/cli_startup.py); here, in a fresh interpreter,
which modules a help run leaves in ``sys.modules``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from diagkit.cli.app import build_parser

HEAVY = ("numpy", "paramiko", "jinja2", "PySide6", "pyqtgraph", "keyring", "psycopg",
         "sqlite3", "diagkit.store", "diagkit.hosts", "diagkit.logs", "diagkit.probes",
         "diagkit.cases.sla", "diagkit.cases.desk")

CODE = """
import contextlib, io, json, sys
from diagkit.__main__ import main
with contextlib.redirect_stdout(io.StringIO()) as help_text:
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "help": help_text.getvalue(), "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize("argv", [["--help"], ["hosts", "--help"], ["case", "update", "--help"],
                                  ["logs", "stats", "--help"], ["watch", "--help"]])
def test_help_loads_no_heavy_module(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", CODE, *argv], capture_output=True, text=True,
                          check=True)
    result = json.loads(done.stdout)
    assert result["help"].startswith("usage: diagkit")
    loaded = [m for m in result["modules"]
              if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == [], f"diagkit {' '.join(argv)} imported {loaded}"


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = (), handler=None):
    """(command words, the handler it runs: its own or the nearest group's)."""
    handler = parser.get_default("handler") or handler
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, handler
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name), handler)


def test_every_command_has_a_handler() -> None:
    # One dispatch: each command's parser names its handler (set_defaults), none is left to an
    # if-chain in main().
    leaves = list(_leaves(build_parser()))
    assert len(leaves) > 30
    missing = [" ".join(path) for path, handler in leaves if not callable(handler)]
    assert missing == []
