"""Item 7 of issue 12: what diagkit keeps is readable by its owner only.

Real files written by the real CLI (subprocesses) and the real GUI, under the usual umask 022: the
config and data folders 0700, every file 0600; an install made before that (0755/0644) is
repaired at start-up with one line saying so.
"""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from diagkit import config
from diagkit.history import CommandHistory
from diagkit.logs.fetch import fetch
from diagkit.store.contract import CaseDraft
from diagkit.store.sqlite import SqliteStore
from diagkit.transport.local import LocalTransport
from tests.sshd_fixture import SshServer
from tests.test_cli import dk


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """Most systems' default: without diagkit's own modes, files would come out 0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _not_private(*roots: Path) -> list[str]:
    """Every folder under ``roots`` that is not 0700 and file that is not 0600 (links skipped)."""
    wrong = []
    for root in roots:
        for path in [root, *root.rglob("*")]:
            if path.is_symlink():
                continue
            want = 0o700 if path.is_dir() else 0o600
            if _mode(path) != want:
                wrong.append(f"{oct(_mode(path))} {path}")
    return wrong


def _shown(path: Path) -> str:
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)


def test_everything_a_fresh_install_writes_is_private(sshd: SshServer, tmp_path: Path) -> None:
    cfg, data = config.config_dir(), config.data_dir()
    assert not cfg.exists() and not data.exists()
    home = Path(os.environ["HOME"])
    (home / ".ssh" / "config").write_text(f"Host *\n  IdentityFile {sshd.client_key_path}\n")
    log = tmp_path / "app.log"
    log.write_text("2024-05-01 10:00:00 ERROR db.example.com refused 10.1.2.3 password=hunter2\n"
                   * 20)
    packed = tmp_path / "old.log.gz"
    packed.write_bytes(gzip.compress(log.read_bytes()))
    steps = [
        ("hosts", "add", "web1", sshd.address, "--port", str(sshd.port), "--user", "root"),
        ("case", "new", "Checkout fails", "--customer", "ACME", "--contact", "ops@acme.example",
         "--impact", "significant", "--urgency", "high", "--use"),  # diagkit.db, settings.json
        ("run", "web1", "--accept-new-host-key", "--", "true"),  # known_hosts
        ("watch", "local", "--interval", "1s", "--for", "2s"),  # history.db
        ("logs", "stats", str(packed)),  # the decompression cache
        ("bundle", "create", "-o", str(tmp_path / "b.zip"), "--log", str(log),
         "--obfuscate", "ip,host", "--title", "t"),  # the redaction map
        ("bundle", "open", str(tmp_path / "b.zip")),  # data_dir/bundles/...
    ]
    for args in steps:
        out = dk(*args)
        assert out.returncode == 0, (args, out.stderr)
        assert "readable by you only" not in out.stderr  # nothing to repair: made private
    CommandHistory("web1").add("uptime")  # the console's history (GUI only)
    with LocalTransport() as local:
        fetch(local, str(log))  # "Fetch logs..." cache
    with SqliteStore() as store:  # open: its -wal and -shm exist now
        store.create_case(CaseDraft("x", customer="c"))
        assert Path(f"{store.path}-wal").exists() and Path(f"{store.path}-shm").exists()
        assert _not_private(cfg, data) == []
    for name in ("hosts.json", "settings.json", "known_hosts", "hosts.json.lock"):
        assert (cfg / name).is_file(), name
    for name in ("diagkit.db", "history.db", "diagkit.log", "history", "redaction", "bundles",
                 "cache/logs", "cache/fetched"):
        assert (data / name).exists(), name
    assert _not_private(cfg, data) == []
    # The folders above them that did not exist were made private too (as XDG asks).
    assert _mode(cfg.parent) == 0o700


def test_log_rotation_keeps_the_log_private() -> None:
    import logging

    from diagkit.logsetup import _PrivateRotatingFileHandler

    handler = _PrivateRotatingFileHandler(config.log_file(), maxBytes=200, backupCount=2)
    record = logging.LogRecord("diagkit", logging.ERROR, __file__, 1, "x" * 150, None, None)
    try:
        for _ in range(5):
            handler.emit(record)
    finally:
        handler.close()
    logs = sorted(config.data_dir().glob("diagkit.log*"))
    assert [p.name for p in logs] == ["diagkit.log", "diagkit.log.1", "diagkit.log.2"]
    assert _not_private(config.data_dir()) == []


def _old_install(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A real install, then loosened to what diagkit used to leave: 0755 folders, 0644 files.
    Also a probe script 0755 and a templates link to a team's shared folder."""
    assert dk("hosts", "add", "web1", "10.0.0.5").returncode == 0
    assert dk("case", "new", "Disk full", "--customer", "ACME", "--use").returncode == 0
    cfg, data = config.config_dir(), config.data_dir()
    (data / "history").mkdir()
    (data / "history" / "web1.json").write_text('{"entries": ["uptime"]}')
    (data / "diagkit.db-wal").write_bytes(b"")
    (cfg / "probes").mkdir()
    (cfg / "probes" / "ntp.sh").write_text("#!/bin/sh\necho ok\n")
    shared = tmp_path / "team-templates"
    shared.mkdir()
    (shared / "report.md.jinja2").write_text("{{ title }}\n")
    (cfg / "templates").symlink_to(shared)
    for root in (cfg, data):
        for path in [root, *root.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() or path.suffix == ".sh" else 0o644)
    shared.chmod(0o755)
    (shared / "report.md.jinja2").chmod(0o644)
    return cfg, data, shared


def test_an_old_install_is_repaired_at_start_up_with_one_line(tmp_path: Path) -> None:
    cfg, data, shared = _old_install(tmp_path)
    files = [p for r in (cfg, data) for p in r.rglob("*") if p.is_file() and not p.is_symlink()
             and shared not in p.resolve().parents]
    folders = [cfg, data, cfg / "probes", data / "history"]
    out = dk("hosts", "list")
    assert out.returncode == 0 and "web1" in out.stdout
    assert out.stderr == (f"diagkit: made {len(files)} files and {len(folders)} folders in "
                          f"{_shown(cfg)} and {_shown(data)} readable by you only "
                          "(they hold customer data)\n")
    assert _not_private(cfg, data) == [f"{oct(0o700)} {cfg / 'probes' / 'ntp.sh'}"]  # still runs
    assert _mode(shared) == 0o755 and _mode(shared / "report.md.jinja2") == 0o644  # not ours
    assert "readable by you only" in config.log_file().read_text()
    again = dk("hosts", "list")
    assert again.returncode == 0 and again.stderr == ""


_GUI_DRIVER = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
from diagkit.ui.main_window import MainWindow


def look():  # runs before the app's own "shown, quit" timer
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            print("status:", widget.statusBar().currentMessage(), flush=True)
            widget.close()  # saves window.ini


QTimer.singleShot(0, look)
from diagkit.cli import main

sys.exit(main(["gui"]))
"""


def test_the_gui_repairs_too_says_so_and_keeps_window_ini_private(tmp_path: Path) -> None:
    """``diagkit gui`` (cli.main, as the entry point runs it), in its own process: Qt's
    application state must not leak into the other tests."""
    cfg, data, _ = _old_install(tmp_path)
    out = subprocess.run([sys.executable, "-c", _GUI_DRIVER], check=False, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "DIAGKIT_EXIT_WHEN_SHOWN": "1",
                                                      "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0 and "diagkit-shown" in out.stdout, out.stderr
    (status,) = [line for line in out.stdout.splitlines() if line.startswith("status:")]
    assert status.startswith("status: Made ") and "readable by you only" in status, status
    assert "readable by you only" not in out.stderr  # a desktop app has no terminal to read
    assert _not_private(cfg, data) == [f"{oct(0o700)} {cfg / 'probes' / 'ntp.sh'}"]
    ini = cfg / "window.ini"
    assert ini.is_file() and _mode(ini) == 0o600
    logged = [line for line in config.log_file().read_text().splitlines()
              if "readable by you only" in line]
    assert len(logged) == 1 and "WARNING" in logged[0]


def test_repair_leaves_home_and_shared_folders_alone(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    (home / "notes.txt").write_text("mine")
    (home / "notes.txt").chmod(0o644)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    (shared / "f").write_text("x")
    (shared / "f").chmod(0o644)
    assert config.repair_private_files([home, shared]).message() == ""
    assert _mode(home / "notes.txt") == 0o644 and _mode(shared / "f") == 0o644
    out = dk("hosts", "list", env={"DIAGKIT_DATA_DIR": str(home)})
    assert out.returncode == 0 and _mode(home / "notes.txt") == 0o644
