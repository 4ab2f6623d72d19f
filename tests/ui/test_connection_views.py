"""One connection state per host, followed by every view (issue 17 items 3 and 4): a server
killed or hung (SIGSTOP) while idle is seen within the liveness window by the host list, the
tab, Live, the console and Fleet alike, named the same, and each offers Reconnect."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from diagkit.connection import LOST, Liveness
from diagkit.hosts import HostStore, SavedHost
from diagkit.ui.host_view import HostView
from diagkit.ui.main_window import MainWindow
from tests.sshd_fixture import SshServer, write_client_config
from tests.transport.test_liveness import session_tree

QUICK = Liveness(interval=0.5, dead_after=4.0)


@pytest.fixture
def server(sshd_factory: Callable[..., SshServer], isolated_home: Path) -> Iterator[SshServer]:
    srv = sshd_factory("127.0.0.48")
    write_client_config(isolated_home, srv, alias="lab48")
    HostStore().add(SavedHost("lab", "lab48"))
    yield srv
    for pid in session_tree(srv):
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
    srv.stop()


def connected_window(qtbot: QtBot) -> tuple[MainWindow, HostView]:
    win = MainWindow(restore=False)
    qtbot.addWidget(win)
    win.show()
    view = win.open_host("lab", connect=False)
    assert view is not None
    view.liveness = QUICK
    with qtbot.waitSignal(view.snapshot_ready, timeout=60000):
        view.start()
    assert win._items["lab"].text(1) == "connected"
    return win, view


def fleet_row(win: MainWindow, host: str) -> int:
    table = win.fleet_view.table  # type: ignore[union-attr]
    return next(r for r in range(table.rowCount()) if table.item(r, 0).text() == host)


def every_view_says(win: MainWindow, view: HostView, words: str) -> bool:
    state = win.connections.get("lab")
    return (state.status == LOST and words in (state.message or "")
            and win._items["lab"].text(1) == LOST and words in win._items["lab"].toolTip(1)
            and words in view.state.text() and view.connect_button.text() == "Reconnect"
            and words in view.plots.state.text() and not view.plots.reconnect_button.isHidden()
            and words in view.console.hint.text() and not view.console.reconnect_button.isHidden()
            and not view.console.run_button.isEnabled())


def test_killed_server_every_view_agrees_then_reconnects(qtbot: QtBot, server: SshServer) -> None:
    win, view = connected_window(qtbot)
    fleet = win.open_fleet(["lab"])
    assert fleet is not None
    qtbot.waitUntil(lambda: fleet.watcher.states()["lab"].status == "up", timeout=30000)
    win.tabs.setCurrentWidget(view)
    sessions = session_tree(server)
    server.process.kill()  # the whole server dies: the listener and every session
    server.process.wait()
    for pid in sessions:
        os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: every_view_says(win, view, "the server closed the connection"),
                    timeout=15000)
    qtbot.waitUntil(lambda: (fleet.refresh() or True)
                    and fleet.table.item(fleet_row(win, "lab"), 1).text() == "DOWN",
                    timeout=15000)
    assert "Reconnect" in [a.text().replace("&", "") for a in win.menuBar().actions()[1].menu()
                           .actions()]
    assert not fleet.retry_button.isHidden()  # Fleet's Reconnect
    fleet.stop()

    server.process = None
    server.start()  # the host is back: Live's Reconnect brings every view back
    with qtbot.waitSignal(view.connected, timeout=30000):
        view.plots.reconnect_button.click()
    assert win._items["lab"].text(1) in ("connected",)
    assert view.plots.reconnect_button.isHidden() and view.console.reconnect_button.isHidden()
    assert view.console.run_button.isEnabled() and view.connect_button.text() == "Disconnect"


def test_hung_server_is_named_in_every_view(qtbot: QtBot, server: SshServer) -> None:
    win, view = connected_window(qtbot)
    frozen = [server.pid, *session_tree(server)]
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)  # sshd stopped: TCP stays up, nothing answers
    try:
        view.console.command_edit.setText("echo hello")
        view.console.run_command()  # a command in flight when the server hangs
        qtbot.waitUntil(lambda: every_view_says(win, view, "no answer from the server for 4 s"),
                        timeout=15000)
        qtbot.waitUntil(lambda: not view.console.is_running, timeout=10000)
        assert "MaxSessions" not in view.console.output.toPlainText()
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    win.host_tree.setCurrentItem(win._items["lab"])
    with qtbot.waitSignal(view.connected, timeout=30000):
        win.act_reconnect.trigger()  # the host list's Reconnect
    assert win.connections.get("lab").status == "connected"
