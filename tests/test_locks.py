"""Item 9 of issue 12: hosts.json and settings.json are changed under a cross-process lock, so
diagkit processes running at once never lose each other's change. Real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from diagkit import config
from diagkit.errors import ConfigError
from diagkit.hosts import HostStore, SavedHost
from tests.test_cli import dk


def _start(script: str) -> subprocess.Popen[str]:
    return subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(procs: list[subprocess.Popen[str]], timeout: float = 300) -> None:
    for proc in procs:
        _, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err


def test_two_cli_processes_adding_50_hosts_each_keep_all_100() -> None:
    cli = f"{sys.executable} -m diagkit"
    procs = [_start(f"for i in $(seq 1 50); do {cli} hosts add {side}$i 10.0.0.$i >/dev/null "
                    "|| exit 1; done") for side in ("a", "b")]
    _finish(procs)
    names = {h["name"] for h in json.loads(dk("hosts", "list", "--json").stdout)["hosts"]}
    assert names == {f"{side}{i}" for side in "ab" for i in range(1, 51)}


_API_LOOP = """
import sys
from diagkit import config
from diagkit.hosts import HostStore, SavedHost
side, n = sys.argv[1], int(sys.argv[2])
store = HostStore()
for i in range(n):
    store.add(SavedHost(f"{side}{i}", "10.0.0.1"))
    store.update(f"{side}{i}", notes=f"note {i}")
    with config.edit_settings() as settings:
        settings[f"{side}{i}"] = i
    if i % 3 == 0:
        store.remove(f"{side}{i}")
"""


def test_every_host_store_change_and_setting_is_kept_under_heavy_contention() -> None:
    """Without the CLI's start-up time between changes, the two processes collide constantly."""
    procs = [subprocess.Popen([sys.executable, "-c", _API_LOOP, side, "150"],
                              stderr=subprocess.PIPE, text=True) for side in ("a", "b")]
    _finish(procs)  # type: ignore[arg-type]
    kept = {h.name: h.notes for h in HostStore().load()}
    assert kept == {f"{side}{i}": f"note {i}" for side in "ab" for i in range(150) if i % 3}
    settings = config.load_settings()
    assert {k: v for k, v in settings.items() if k[0] in "ab"} == {
        f"{side}{i}": i for side in "ab" for i in range(150)}


def test_cli_settings_changes_keep_other_settings() -> None:
    """``diagkit case use`` and ``diagkit store use`` write settings.json while another process
    adds settings of its own: nobody's setting is lost."""
    assert dk("case", "new", "Disk full", "--customer", "ACME").returncode == 0
    cli = f"{sys.executable} -m diagkit"
    writer = textwrap.dedent("""
        import sys, time
        from diagkit import config
        for i in range(400):
            with config.edit_settings() as settings:
                settings[f"k{i}"] = i
            time.sleep(0.002)
    """)
    procs = [
        _start(f"for i in $(seq 1 15); do {cli} case use 1 >/dev/null && "
               f"{cli} store use sqlite >/dev/null || exit 1; done"),
        subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True),
    ]
    _finish(procs)
    settings = config.load_settings()
    assert settings["active_case"] == 1 and settings["store"] == "sqlite"
    assert all(settings.get(f"k{i}") == i for i in range(400))


def test_the_lock_is_reentrant_in_a_thread_and_exclusive_across_threads() -> None:
    path = config.hosts_file()
    order: list[str] = []

    def other_thread() -> None:
        with config.locked(path):
            order.append("other")

    with config.locked(path), config.locked(path):  # update() -> replace(): no deadlock
        other = threading.Thread(target=other_thread)
        other.start()
        time.sleep(0.3)
        order.append("first")
    other.join(10)
    assert order == ["first", "other"]


_HOLD = """
import sys, time
from pathlib import Path
from diagkit import config
with config.locked(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(30)
"""


def test_a_lock_held_too_long_is_a_clear_error() -> None:
    path = config.settings_file()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        started = time.monotonic()
        with (pytest.raises(ConfigError, match="Another diagkit process has held .* for 0.5 s"),
              config.locked(path, timeout=0.5)):
            pass
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()
    with config.edit_settings() as settings:  # the dead holder's lock went with it
        settings["after"] = True
    assert config.load_settings() == {"after": True}
    assert oct(os.stat(path.with_name("settings.json.lock")).st_mode & 0o777) == "0o600"


def test_a_failed_change_saves_nothing() -> None:
    config.save_settings({"engineer": "Dana"})
    with pytest.raises(ZeroDivisionError), config.edit_settings() as settings:
        settings["engineer"] = "Eve"
        _ = 1 / 0
    assert config.load_settings() == {"engineer": "Dana"}
    store = HostStore()
    store.add(SavedHost("web1", "a"))
    added, skipped = store.add_many([SavedHost("web1", "x"), SavedHost("web2", "b")])
    assert [h.name for h in added] == ["web2"] and [h.name for h in skipped] == ["web1"]
    with pytest.raises(ConfigError, match="exists already"):
        store.add(SavedHost("web1", "c"))
    assert [(h.name, h.address) for h in store.load()] == [("web1", "a"), ("web2", "b")]
    assert Path(store.path).with_name("hosts.json.lock").exists()
