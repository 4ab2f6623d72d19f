"""A changed host key, fixed from the app (issue 17): both fingerprints and the warning, then
"Remove the old key and trust the new one" confirmed a second time; known_hosts edited, the
change journaled, the host connected. Never silent: Cancel at either step changes nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from diagkit import config
from diagkit.hosts import HostStore, SavedHost
from diagkit.ui import connect_dialogs
from diagkit.ui.main_window import MainWindow
from tests.sshd_fixture import SshClientEnv, SshServer, make_key


def answer_boxes(qtbot: QtBot, clicks: list[str], seen: list[dict[str, str]]) -> None:
    """Click the button named ``clicks[i]`` in the i-th message box that shows up."""

    def look() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or not clicks:
            if clicks:
                QTimer.singleShot(20, look)
            return
        seen.append({"title": box.windowTitle(), "text": box.text(),
                     "info": box.informativeText()})
        wanted = clicks.pop(0)
        button = next(b for b in box.buttons() if b.text() == wanted)
        button.click()
        if clicks:
            QTimer.singleShot(20, look)

    QTimer.singleShot(0, look)


def changed_key_setup(env: SshClientEnv, tmp_path: Path) -> tuple[str, str]:
    name = env.known_hosts.read_text().split()[0]
    other = make_key(tmp_path / "other_host_key").split()[:2]
    env.known_hosts.write_text(f"{name} {' '.join(other)}\n# keep me\n")
    HostStore().add(SavedHost("lab", env.alias))
    return name, " ".join(other)


def test_replace_the_changed_key_after_confirming(qtbot: QtBot, sshd: SshServer,
                                                  ssh_client_env: SshClientEnv,
                                                  tmp_path: Path, caplog) -> None:
    name, old_line = changed_key_setup(ssh_client_env, tmp_path)
    win = MainWindow(restore=False, case_store_path=tmp_path / "cases.db")
    qtbot.addWidget(win)
    case = win.case_desk().open_case("Host reinstalled", customer="ACME")
    win.set_active_case(case.id)
    seen: list[dict[str, str]] = []
    answer_boxes(qtbot, [connect_dialogs.REPLACE_KEY, "Remove and trust"], seen)
    view = win.open_host("lab", connect=False)
    assert view is not None
    with qtbot.waitSignal(view.connected, timeout=30000):
        view.start()
    first, confirm = seen
    assert "CHANGED" in first["title"] and sshd.fingerprint() in first["info"]
    assert "man-in-the-middle" in first["info"]
    assert sshd.fingerprint() in confirm["info"] and "administrator confirmed" in confirm["info"]
    assert old_line not in ssh_client_env.known_hosts.read_text()
    assert "# keep me" in ssh_client_env.known_hosts.read_text()
    assert old_line in Path(f"{ssh_client_env.known_hosts}.old").read_text()
    assert sshd.host_pubkey.split()[1] in config.known_hosts_file().read_text()
    assert name in config.known_hosts_file().read_text()
    assert any(e["kind"] == "host-key" and sshd.fingerprint() in e["text"] for e in view.journal)

    def noted() -> bool:
        return any(e.kind == "note" and "Host key of" in e.text
                   for e in win.case_store().journal(case.id))

    qtbot.waitUntil(noted, timeout=10000)
    assert any("replaced after confirmation" in r.getMessage() for r in caplog.records
               if r.levelname == "WARNING")  # the log file's copy
    assert win.connections.get("lab").status == "connected"
    view.shutdown()


def test_cancel_at_the_confirmation_changes_nothing(qtbot: QtBot, sshd: SshServer,
                                                    ssh_client_env: SshClientEnv,
                                                    tmp_path: Path) -> None:
    changed_key_setup(ssh_client_env, tmp_path)
    before = ssh_client_env.known_hosts.read_text()
    win = MainWindow(restore=False)
    qtbot.addWidget(win)
    seen: list[dict[str, str]] = []
    answer_boxes(qtbot, [connect_dialogs.REPLACE_KEY, "Cancel"], seen)
    win.open_host("lab")
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=30000)
    qtbot.waitUntil(lambda: win._items["lab"].text(1) == "error", timeout=10000)
    assert ssh_client_env.known_hosts.read_text() == before
    assert not config.known_hosts_file().exists()
    assert not Path(f"{ssh_client_env.known_hosts}.old").exists()
