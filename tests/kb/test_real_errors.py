"""The errors engineers paste, produced for real on this machine (real programs, faults made
on loopback or on /dev/full), searched as they come out: the KB's first answer is the article
for that fault, on both backends."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from diagkit.kb import open_kb
from diagkit.kb.search import search
from diagkit.store.contract import KbStore


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port nobody listens on (bound without listen: connects are refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    yield s.getsockname()[1]
    s.close()


def _last_error(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode != 0, argv
    lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
    return lines[-1] if "Traceback" in done.stderr else lines[0]


def _program(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _faults(port: int) -> list[tuple[list[str], str]]:
    held = ("import socket; a = socket.socket(); a.bind(('127.0.0.1', 0)); a.listen();"
            "b = socket.socket(); b.bind(('127.0.0.1', a.getsockname()[1]))")
    return [
        (["dd", "if=/dev/zero", "of=/dev/full", "count=1"], "disk-full"),
        (_program("f = open('/dev/full', 'w'); f.write('x'); f.flush()"), "disk-full"),
        (_program(held), "port-in-use"),
        (["sh", "-c", (f"ulimit -n 20; exec {sys.executable} -c "
                       "\"fs = [open('/dev/null') for _ in range(50)]\"")],
         "too-many-open-files"),
        (["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "app", "-c", "select 1"],
         "connection-refused"),
        (["curl", "-sS", f"http://127.0.0.1:{port}/"], "connection-refused"),
        (["ssh", "-o", "BatchMode=yes", "-p", str(port), "127.0.0.1", "true"],
         "connection-refused"),
    ]


def test_real_error_output_finds_its_article(store: KbStore, closed_port: int) -> None:
    for tool in ("dd", "psql", "curl", "ssh"):
        assert shutil.which(tool), f"{tool} is needed (see the README's test packages)"
    open_kb(store)
    wrong = []
    for argv, expected in _faults(closed_port):
        error = _last_error(argv)
        hits = search(store, error)
        first = hits[0].article.slug if hits else None
        if first != expected:
            wrong.append(f"{error!r}: expected {expected}, got {first}")
    assert not wrong, "\n".join(wrong)
