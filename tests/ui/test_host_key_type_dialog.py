"""A host offering only a key of another type than the one on record, in the app: the changed-key
dialog (both keys with their types, no way to connect anyway), never the "Trust" question.
Offscreen Qt, a real sshd whose only host key is ECDSA."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from diagkit import config
from diagkit.errors import HostKeyChanged
from diagkit.hosts import HostStore, SavedHost
from diagkit.transport.ssh import SshTarget, SshTransport
from diagkit.ui import connect_dialogs
from diagkit.ui.main_window import MainWindow
from tests.sshd_fixture import SshServer, make_key

Factory = Callable[..., SshServer]


@pytest.fixture
def ecdsa_server(sshd_factory: Factory, isolated_home: Path,
                 tmp_path: Path) -> tuple[SshServer, str]:
    """A server offering only ECDSA; ~/.ssh/known_hosts records an ed25519 key for it."""
    server = sshd_factory("127.0.0.25", host_key_type="ecdsa")
    recorded = make_key(tmp_path / "old_host_key", "old").split()[:2]
    (isolated_home / ".ssh" / "known_hosts").write_text(
        f"[{server.address}]:{server.port} {' '.join(recorded)}\n")
    (isolated_home / ".ssh" / "config").write_text(
        f"Host lab-box\n  HostName {server.address}\n  Port {server.port}\n  User root\n"
        f"  IdentityFile {server.client_key_path}\n")
    import base64

    from diagkit.transport.known_hosts import fingerprint

    return server, fingerprint(base64.b64decode(recorded[1]))


def test_window_shows_the_changed_key_dialog_not_the_trust_question(
        qtbot: QtBot, ecdsa_server: tuple[SshServer, str], monkeypatch) -> None:
    server, recorded = ecdsa_server
    HostStore().add(SavedHost("lab", "lab-box"))
    asked: list[object] = []
    refused: list[HostKeyChanged] = []
    monkeypatch.setattr(connect_dialogs, "ask_host_key",
                        lambda parent, host, error: asked.append(error) or connect_dialogs.KeyAnswer.ALWAYS)
    monkeypatch.setattr(connect_dialogs, "show_host_key_changed",
                        lambda parent, host, error: refused.append(error))
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_host("lab")
    qtbot.waitUntil(lambda: win._items["lab"].text(1) == "error", timeout=30000)
    assert asked == []  # never offered "Trust": that would have saved the ECDSA key
    (err,) = refused
    assert err.other_type and err.fingerprint == server.fingerprint()
    assert err.expected_fingerprint == recorded
    assert "CHANGED" in win._items["lab"].toolTip(1)
    assert not config.known_hosts_file().exists()


def test_changed_key_dialog_shows_both_keys_with_their_types(
        qtbot: QtBot, ecdsa_server: tuple[SshServer, str]) -> None:
    server, recorded = ecdsa_server
    with pytest.raises(HostKeyChanged) as info:
        SshTransport.connect(SshTarget("lab-box"), accept_new_host_key=True)
    seen: dict[str, object] = {}

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_and_close)
            return
        seen.update(title=box.windowTitle(), text=box.text(), info=box.informativeText(),
                    details=box.detailedText(),
                    buttons=[b.text() for b in box.buttons()])
        box.button(QMessageBox.StandardButton.Close).click()

    QTimer.singleShot(0, read_and_close)
    connect_dialogs.show_host_key_changed(None, "lab <b>box</b>", info.value)
    assert "CHANGED" in str(seen["title"])
    assert "lab &lt;b&gt;box&lt;/b&gt;" in str(seen["text"])  # a host label is text, not HTML
    text = str(seen["info"])
    assert f"It now offers: <tt>ecdsa-sha2-nistp256 {server.fingerprint()}</tt>" in text
    assert f"On record: <tt>ssh-ed25519 {recorded}</tt>" in text
    assert "no longer offers its <tt>ssh-ed25519</tt> key" in text
    assert "ssh-keygen -R" in str(seen["details"])
    # no "connect anyway": only Close, or removing the old key (which asks again, see
    # tests/ui/test_host_key_replace.py)
    buttons = [b for b in seen["buttons"] if "Details" not in b]  # type: ignore[union-attr]
    assert sorted(buttons) == sorted(["Close", connect_dialogs.REPLACE_KEY])
