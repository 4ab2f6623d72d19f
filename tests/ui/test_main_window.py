"""The window, offscreen, with real widgets, real workers and a real sshd."""

from __future__ import annotations

import socket
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from diagkit.hosts import HostStore, SavedHost
from diagkit.ui.host_view import HostView
from diagkit.ui.main_window import MainWindow
from tests.sshd_fixture import SshClientEnv, SshServer, free_port


def test_local_snapshot_fills_the_tab(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.host_tree.topLevelItem(0).text(0) == "This machine (local)"
    with qtbot.waitSignal(_opened(window, "local"), timeout=30000) as blocker:
        pass
    snap = blocker.args[0]
    view = window.tabs.currentWidget()
    assert isinstance(view, HostView)
    assert view.probes.topLevelItemCount() == len(snap.results) >= 9
    assert view.findings.topLevelItemCount() >= 1
    view.probes.setCurrentItem(view.probes.topLevelItem(0))
    assert view.raw.toPlainText().strip()
    assert window.host_tree.topLevelItem(0).text(1) == "connected"


def _opened(window: MainWindow, name: str):
    """Open the host's tab and return its snapshot signal (connected before work can finish)."""
    view = window.open_host(name)
    return view.snapshot_ready


def test_saved_host_over_ssh_with_host_key_question(qtbot: QtBot, sshd: SshServer,
                                                    ssh_client_env: SshClientEnv, monkeypatch) -> None:
    ssh_client_env.known_hosts.write_text("")  # first contact: the key is unknown
    HostStore().add(SavedHost("lab", ssh_client_env.alias, group="test"))
    asked: list[str] = []

    def answer_yes(parent, title, text, *args):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(answer_yes))
    window = MainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(_opened(window, "lab"), timeout=30000) as blocker:
        pass
    assert blocker.args[0].ok
    assert asked and sshd.fingerprint() in asked[0]
    assert window._items["lab"].text(1) == "connected"


def test_closed_port_shows_error_on_its_row(qtbot: QtBot) -> None:
    HostStore().add(SavedHost("dead", "127.0.0.1", port=free_port(), user="root"))
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_host("dead")
    qtbot.waitUntil(lambda: window._items["dead"].text(1) == "error", timeout=20000)
    tip = window._items["dead"].toolTip(1)
    assert "refused" in tip.lower()
    view = window.tabs.currentWidget()
    assert isinstance(view, HostView) and view.state.text() == tip


def test_silent_host_never_freezes_the_window(qtbot: QtBot) -> None:
    # A port that accepts TCP but never speaks SSH: the connection hangs until its timeout.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        HostStore().add(SavedHost("silent", "127.0.0.1", port=silent.getsockname()[1], user="root"))
        window = MainWindow()
        qtbot.addWidget(window)
        ticks: list[float] = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start(50)
        window.open_host("silent")
        assert window._items["silent"].text(1) == "connecting"
        qtbot.waitUntil(lambda: window._items["silent"].text(1) == "error", timeout=60000)
        timer.stop()
        # The GUI thread kept serving events during the whole wait.
        assert len(ticks) >= 20
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        assert max(gaps) < 2.0
        assert "sent no SSH greeting within 10 s" in window._items["silent"].toolTip(1)
    finally:
        silent.close()


def test_close_with_work_in_flight_ends_cleanly(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_host("local")
    window.close()  # snapshot still running: cancelled and waited for
    assert window.tabs.count() == 1
