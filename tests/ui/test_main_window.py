"""The window, offscreen, with real widgets, real workers and a real sshd."""

from __future__ import annotations

import itertools
import socket
import time

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from diagkit import config, credentials
from diagkit.hosts import HostStore, SavedHost
from diagkit.probes.registry import BUILTIN_NAMES
from diagkit.ui import connect_dialogs
from diagkit.ui.host_view import HostView
from diagkit.ui.main_window import MainWindow
from tests.sshd_fixture import SshClientEnv, SshServer, free_port, make_key


def open_and_wait(qtbot: QtBot, window: MainWindow, name: str, timeout: int = 30000) -> HostView:
    view = window.open_host(name, connect=False)
    assert view is not None
    with qtbot.waitSignal(view.snapshot_ready, timeout=timeout):
        view.start()
    return view


@pytest.fixture
def silent_port():
    """A port on 127.0.0.1 that accepts TCP but never speaks SSH: connecting hangs until timeout."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    yield silent.getsockname()[1]
    silent.close()


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    return win


def test_local_dashboard_fills_with_every_probe(qtbot: QtBot, window: MainWindow) -> None:
    assert window.host_tree.topLevelItem(0).text(0) == "This machine (local)"
    view = open_and_wait(qtbot, window, "local")
    cards = view.dashboard.cards
    assert list(cards) == list(BUILTIN_NAMES)
    for name, card in cards.items():
        assert card.result is not None and card.result.ok, (name, card.result and card.result.error)
        assert card.summary.text()
    assert view.dashboard.findings.topLevelItemCount() >= 1
    disk = cards["disk"]
    disk.raw_button.click()
    assert disk.raw.isVisible() and "@@section" in disk.raw.toPlainText()
    assert window._items["local"].text(1) == "connected"
    assert "probes in" in view.state.text()


def test_refresh_one_probe(qtbot: QtBot, window: MainWindow) -> None:
    view = open_and_wait(qtbot, window, "local")
    before = view.dashboard.cards["cpu"].result
    view.dashboard.cards["cpu"].refresh_button.click()
    qtbot.waitUntil(lambda: view.dashboard.cards["cpu"].result is not before, timeout=15000)
    assert view.dashboard.cards["cpu"].result.ok


def test_host_key_trust_once_then_always(qtbot: QtBot, sshd: SshServer,
                                         ssh_client_env: SshClientEnv, monkeypatch) -> None:
    ssh_client_env.known_hosts.write_text("")  # first contact: the key is unknown
    HostStore().add(SavedHost("lab", ssh_client_env.alias, group="test"))
    answers = iter([connect_dialogs.KeyAnswer.ONCE, connect_dialogs.KeyAnswer.ALWAYS])
    asked: list[str] = []

    def answer(parent, host, error):
        asked.append(error.fingerprint)
        return next(answers)

    monkeypatch.setattr(connect_dialogs, "ask_host_key", answer)
    win = MainWindow()
    qtbot.addWidget(win)
    view = open_and_wait(qtbot, win, "lab")
    assert asked == [sshd.fingerprint()]
    assert not config.known_hosts_file().exists()  # trusted once: nothing saved
    win.close_tab(win.tabs.indexOf(view))
    open_and_wait(qtbot, win, "lab")
    assert asked == [sshd.fingerprint()] * 2
    assert f"[{sshd.address}]:{sshd.port}" in config.known_hosts_file().read_text()


def test_changed_host_key_is_refused_loudly(qtbot: QtBot, sshd: SshServer, tmp_path,
                                            ssh_client_env: SshClientEnv, monkeypatch) -> None:
    name = ssh_client_env.known_hosts.read_text().split()[0]
    # Record another ed25519 key for the server: its real key now looks "changed".
    other = make_key(tmp_path / "other_host_key").split()[:2]
    ssh_client_env.known_hosts.write_text(f"{name} {' '.join(other)}\n")
    HostStore().add(SavedHost("lab", ssh_client_env.alias))
    refused: list[str] = []
    monkeypatch.setattr(connect_dialogs, "show_host_key_changed",
                        lambda parent, host, error: refused.append(str(error)))
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_host("lab")
    qtbot.waitUntil(lambda: win._items["lab"].text(1) == "error", timeout=20000)
    assert refused and "CHANGED" in refused[0] and "ssh-keygen -R" in refused[0]
    assert "CHANGED" in win._items["lab"].toolTip(1)


def test_auth_failure_offers_password_and_remembers_it(qtbot: QtBot, sshd: SshServer,
                                                       monkeypatch) -> None:
    home_known = config.known_hosts_file()
    home_known.parent.mkdir(parents=True, exist_ok=True)
    home_known.write_text(sshd.known_hosts_line() + "\n")
    HostStore().add(SavedHost("pw", sshd.address, port=sshd.port, user=sshd.password_user))
    asked: list[tuple[str, ...]] = []

    def answer(parent, host, error):
        asked.append(error.methods_tried)
        return sshd.password, True

    monkeypatch.setattr(connect_dialogs, "ask_password", answer)
    win = MainWindow()
    qtbot.addWidget(win)
    open_and_wait(qtbot, win, "pw")
    assert asked and any("password" in m for m in asked[0])
    assert credentials.get_password("host:pw") == sshd.password


def test_closed_port_shows_error_on_its_row(qtbot: QtBot, window: MainWindow) -> None:
    HostStore().add(SavedHost("dead", "127.0.0.1", port=free_port(), user="root"))
    window.reload_hosts()
    window.open_host("dead")
    qtbot.waitUntil(lambda: window._items["dead"].text(1) == "error", timeout=20000)
    tip = window._items["dead"].toolTip(1)
    assert "refused" in tip.lower()
    view = window.tabs.currentWidget()
    assert isinstance(view, HostView) and view.state.text() == tip
    assert view.connect_button.text() == "Connect" and view.connect_button.isEnabled()


def test_silent_host_never_freezes_the_window(qtbot: QtBot, silent_port: int) -> None:
    HostStore().add(SavedHost("silent", "127.0.0.1", port=silent_port, user="root"))
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
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 2.0
    assert "sent no SSH greeting within 10 s" in window._items["silent"].toolTip(1)


def test_cancel_connecting(qtbot: QtBot, silent_port: int) -> None:
    HostStore().add(SavedHost("silent", "127.0.0.1", port=silent_port, user="root"))
    window = MainWindow()
    qtbot.addWidget(window)
    view = window.open_host("silent")
    assert view is not None and view.busy
    view.cancel_button.click()
    assert "cancelled" in view.state.text().lower()
    assert window._items["silent"].text(1) == ""
    assert view.connect_button.isEnabled()


def test_restart_restores_geometry_hosts_and_tabs(qtbot: QtBot) -> None:
    HostStore().add(SavedHost("dead", "127.0.0.1", port=free_port(), user="root", group="lab"))
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    screen = first.screen().availableGeometry()
    first.setGeometry(screen.x() + 20, screen.y() + 30, screen.width() - 100, screen.height() - 120)
    open_and_wait(qtbot, first, "local")
    view = first.open_host("dead")
    assert view is not None
    view.views.setCurrentIndex(2)
    first.tabs.setCurrentWidget(view)
    geometry = first.geometry()
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert [v.ref.label for v in second.host_views()] == ["local", "dead"]
    assert second.tabs.currentWidget().ref.label == "dead"
    assert second.tabs.currentWidget().views.currentIndex() == 2
    assert second.geometry().size() == geometry.size()
    assert second._items["dead"].parent().text(0) == "lab"
    second.close()


def test_close_with_work_in_flight_ends_cleanly(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    view = window.open_host("local")
    assert view is not None and view.busy
    window.close()  # snapshot still running: cancelled and waited for
    assert view.transport is None


def test_engineer_session_end_to_end(qtbot: QtBot, sshd: SshServer, monkeypatch) -> None:
    """Add a host through the dialog, connect (answering the host key question), see the
    dashboard fill, live samples arrive and a console command run - all on the real sshd."""
    from PySide6.QtCore import Qt

    from diagkit.ui.host_dialog import HostDialog

    def fill_and_save(dialog: HostDialog) -> int:
        dialog.name_edit.setText("lab-ssh")
        dialog.address_edit.setText(sshd.address)
        dialog.port_spin.setValue(sshd.port)
        dialog.user_edit.setText("root")
        dialog.group_combo.setCurrentText("Test lab")
        dialog.key_edit.setText(str(sshd.client_key_path))
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(HostDialog, "exec", fill_and_save)
    monkeypatch.setattr(connect_dialogs, "ask_host_key",
                        lambda parent, host, error: connect_dialogs.KeyAnswer.ALWAYS)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.act_add.trigger()
    assert window._items["lab-ssh"].parent().text(0) == "Test lab"

    window.host_tree.setCurrentItem(window._items["lab-ssh"])
    qtbot.keyClick(window.host_tree, Qt.Key.Key_Return)
    view = window.tabs.currentWidget()
    assert isinstance(view, HostView) and view.ref.label == "lab-ssh"
    with qtbot.waitSignal(view.snapshot_ready, timeout=30000) as got:
        pass
    assert got.args[0].ok and all(r.ok for r in got.args[0].results)
    assert view.dashboard.cards["system"].summary.text().startswith(("Debian", "Ubuntu", "Linux"))
    assert window._items["lab-ssh"].text(1) == "connected"

    window.act_live.trigger()
    assert view.views.currentWidget() is view.plots
    with qtbot.waitSignal(view.plots.sample_added, timeout=20000):
        pass
    with qtbot.waitSignal(view.plots.sample_added, timeout=20000) as sample:
        pass
    assert 0 <= sample.args[0].values["cpu.usage"] <= 100

    window.act_console.trigger()
    view.console.command_edit.setText("echo hello-from-$(hostname)")
    with qtbot.waitSignal(view.console.command_finished, timeout=20000) as finished:
        qtbot.keyClick(view.console.command_edit, Qt.Key.Key_Return)
    assert finished.args[0].exit_status == 0
    assert "hello-from-" in view.console.output.toPlainText()


def test_failing_probe_shows_its_error_on_its_card_only(qtbot: QtBot, window: MainWindow) -> None:
    probes_dir = config.user_probes_dir()
    probes_dir.mkdir(parents=True)
    broken = probes_dir / "broken.sh"
    broken.write_text("#!/bin/sh\n# diagkit-probe: name=broken title=\"Broken\" timeout=5\n"
                      "echo 'cannot read /etc/thing' >&2\nexit 3\n")
    broken.chmod(0o755)
    view = open_and_wait(qtbot, window, "local")
    card = view.dashboard.cards["broken"]
    assert card.result is not None and not card.result.ok
    assert card.error.isVisibleTo(card) and "status 3" in card.error.text()
    assert "cannot read /etc/thing" in card.error.text()
    assert all(c.result.ok for name, c in view.dashboard.cards.items() if name != "broken")
    assert "1 probe(s) failed" in view.state.text()
