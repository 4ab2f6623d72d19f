"""The console, offscreen, with real transports (local shell and a real sshd)."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from diagkit.errors import CommandTimeout, ConnectionLost
from diagkit.transport.base import CommandResult
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from diagkit.ui.console_view import ConsoleView
from tests.sshd_fixture import SshClientEnv


@pytest.fixture
def console(qtbot: QtBot):
    view = ConsoleView("local")
    qtbot.addWidget(view)
    transport = LocalTransport()
    view.set_transport(transport)
    yield view
    view.shutdown()
    transport.close()


def _run(qtbot: QtBot, view: ConsoleView, command: str, timeout_ms: int = 20000) -> object:
    view.command_edit.setText(command)
    with qtbot.waitSignal(view.command_finished, timeout=timeout_ms) as blocker:
        qtbot.keyClick(view.command_edit, Qt.Key.Key_Return)
    return blocker.args[0]


def test_both_streams_and_exit_status(qtbot: QtBot, console: ConsoleView) -> None:
    result = _run(qtbot, console, "echo hello; echo err >&2; exit 3")
    assert isinstance(result, CommandResult) and result.exit_status == 3
    text = console.output.toPlainText()
    assert "$ echo hello; echo err >&2; exit 3" in text
    assert "hello" in text and "err" in text
    assert "exit status 3" in text
    assert console.command_edit.text() == ""
    assert console.run_button.isEnabled() and not console.stop_button.isEnabled()


def test_stderr_has_its_own_colour(qtbot: QtBot, console: ConsoleView) -> None:
    _run(qtbot, console, "echo OUTLINE; echo ERRLINE >&2")
    doc = console.output.document()

    def colour_of(word: str):
        block = doc.firstBlock()
        while block.isValid() and block.text() != word:
            block = block.next()
        assert block.isValid(), word
        return block.begin().fragment().charFormat().foreground().color().name()

    assert colour_of("ERRLINE") != colour_of("OUTLINE")


def test_output_streams_before_the_command_ends(qtbot: QtBot, console: ConsoleView) -> None:
    # $((...)) so the header line ("$ command") does not contain the printed words
    console.command_edit.setText("echo line-$((1+1)); sleep 1.5; echo line-$((2+1))")
    with qtbot.waitSignal(console.command_finished, timeout=20000):
        qtbot.keyClick(console.command_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "line-2" in console.output.toPlainText(), timeout=5000)
        assert console.is_running
        assert "line-3" not in console.output.toPlainText()
    assert "line-3" in console.output.toPlainText()


def test_stop_kills_the_command(qtbot: QtBot, console: ConsoleView) -> None:
    console.command_edit.setText("sleep 30")
    qtbot.keyClick(console.command_edit, Qt.Key.Key_Return)
    assert console.is_running and console.stop_button.isEnabled()
    started = time.monotonic()
    with qtbot.waitSignal(console.command_finished, timeout=10000) as blocker:
        qtbot.mouseClick(console.stop_button, Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 5
    assert isinstance(blocker.args[0], CommandTimeout) and blocker.args[0].timeout == 0
    assert "stopped" in console.output.toPlainText()
    assert not console.is_running and console.run_button.isEnabled()


def test_escape_and_ctrl_c_stop_from_the_command_line(qtbot: QtBot, console: ConsoleView) -> None:
    for key, mods in ((Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
                      (Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)):
        console.command_edit.setText("sleep 30")
        qtbot.keyClick(console.command_edit, Qt.Key.Key_Return)
        with qtbot.waitSignal(console.command_finished, timeout=10000) as blocker:
            qtbot.keyClick(console.command_edit, key, mods)
        assert isinstance(blocker.args[0], CommandTimeout)
    assert console.output.toPlainText().count("stopped") == 2


def test_timeout_kills_and_says_so(qtbot: QtBot, console: ConsoleView) -> None:
    console.timeout_spin.setValue(1)
    result = _run(qtbot, console, "sleep 30")
    assert isinstance(result, CommandTimeout) and result.timeout == 1
    assert "killed after 1 s (timeout)" in console.output.toPlainText()


def test_without_transport_run_is_disabled(qtbot: QtBot) -> None:
    view = ConsoleView("web1")
    qtbot.addWidget(view)
    assert not view.run_button.isEnabled()
    assert "Connect first" in view.hint.text()
    view.command_edit.setText("uptime")
    assert not view.run_command()
    assert view.output.toPlainText() == ""


def test_ctrl_l_clears(qtbot: QtBot, console: ConsoleView) -> None:
    _run(qtbot, console, "echo something")
    assert console.output.toPlainText()
    qtbot.keyClick(console.command_edit, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert console.output.toPlainText() == ""


def test_history_up_down_and_persistence(qtbot: QtBot, console: ConsoleView) -> None:
    _run(qtbot, console, "echo one")
    _run(qtbot, console, "echo two")
    edit = console.command_edit
    edit.setText("draft")
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.text() == "echo two"
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.text() == "echo one"
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert edit.text() == "echo two"
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert edit.text() == "draft"

    again = ConsoleView("local")
    qtbot.addWidget(again)
    qtbot.keyClick(again.command_edit, Qt.Key.Key_Up)
    assert again.command_edit.text() == "echo two"
    other = ConsoleView("other")
    qtbot.addWidget(other)
    assert other.history.entries() == []


def test_secret_commands_run_but_are_not_remembered(qtbot: QtBot, console: ConsoleView) -> None:
    _run(qtbot, console, "echo --password=x >/dev/null")
    assert console.history.entries() == []


def test_ssh_command_output(qtbot: QtBot, ssh_client_env: SshClientEnv) -> None:
    transport = SshTransport.connect(SshTarget(ssh_client_env.alias))
    try:
        view = ConsoleView(ssh_client_env.alias)
        qtbot.addWidget(view)
        view.set_transport(transport)
        result = _run(qtbot, view, "echo over-ssh; echo ssh-err >&2; exit 2")
        assert isinstance(result, CommandResult) and result.exit_status == 2
        text = view.output.toPlainText()
        assert "over-ssh" in text and "ssh-err" in text and "exit status 2" in text
    finally:
        view.shutdown()
        transport.close()


def test_connection_lost_is_shown_in_words(qtbot: QtBot, ssh_client_env: SshClientEnv) -> None:
    transport = SshTransport.connect(SshTarget(ssh_client_env.alias))
    view = ConsoleView(ssh_client_env.alias)
    qtbot.addWidget(view)
    view.set_transport(transport)
    try:
        view.command_edit.setText("echo started-$((1+1)); sleep 30")
        with qtbot.waitSignal(view.command_finished, timeout=20000) as blocker:
            qtbot.keyClick(view.command_edit, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: "started-2" in view.output.toPlainText(), timeout=10000)
            ssh_client_env.server.kill_sessions()
        error = blocker.args[0]
        assert isinstance(error, ConnectionLost), error
        text = view.output.toPlainText()
        assert "error:" in text and "Traceback" not in text
        assert view.run_button.isEnabled()
    finally:
        view.shutdown()
        transport.close()


def test_shutdown_stops_a_running_command(qtbot: QtBot, console: ConsoleView) -> None:
    console.command_edit.setText("sleep 30")
    qtbot.keyClick(console.command_edit, Qt.Key.Key_Return)
    worker = console._worker
    assert worker is not None
    started = time.monotonic()
    console.shutdown()
    assert worker.done.is_set()
    assert time.monotonic() - started < 4
    assert not console.is_running


def test_long_output_is_capped_and_complete_at_the_end(qtbot: QtBot, console: ConsoleView) -> None:
    started = time.monotonic()
    result = _run(qtbot, console, "seq 1 60000", timeout_ms=60000)
    assert isinstance(result, CommandResult) and result.ok
    doc = console.output.document()
    assert doc.blockCount() <= 20_000
    lines = console.output.toPlainText().splitlines()
    assert "60000" in lines[-3:] and "exit status 0" in lines[-1]
    assert time.monotonic() - started < 30


def test_colour_escapes_are_removed(qtbot: QtBot, console: ConsoleView) -> None:
    _run(qtbot, console, r"printf '\033[1;31mRED\033[0m plain\r\n'")
    text = console.output.toPlainText()
    assert "RED plain" in text and "\x1b" not in text and "\r" not in text
