"""The Terminal tab, driven through the widget as a user would: keys typed into it, the mouse on
it, the clipboard, the window's shortcut. Real shells: a local pty, and a PTY channel on the
connection to a real sshd (tests/sshd_fixture.py). Offscreen Qt."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QInputMethodEvent,
    QKeyEvent,
    QWheelEvent,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from diagkit.hosts import HostStore, SavedHost
from diagkit.kb import open_kb
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from diagkit.ui.main_window import MainWindow
from diagkit.ui.terminal_view import TerminalView, TerminalWidget, key_bytes
from tests.sshd_fixture import SshClientEnv

WAIT = 20_000
_M = Qt.KeyboardModifier


@pytest.fixture(autouse=True)
def plain_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    # bash with the per-test HOME (no start-up files) and a prompt of its own: the tests look
    # for output lines, never for a prompt they guessed.
    monkeypatch.setenv("SHELL", "/bin/bash")
    monkeypatch.setenv("PS1", "$ ")


def rows(view: TerminalView) -> list[str]:
    term = view.term
    return [term.screen.text_of(term.visible_line(r)) for r in range(term.rows)]


def wait_for(qtbot: QtBot, check: Callable[[], object], timeout: int = WAIT) -> None:
    qtbot.waitUntil(lambda: bool(check()), timeout=timeout)


def wait_row(qtbot: QtBot, view: TerminalView, text: str, timeout: int = WAIT) -> int:
    """Wait until a row of the screen reads exactly ``text``; return its row."""
    wait_for(qtbot, lambda: text in rows(view), timeout)
    return rows(view).index(text)


def wait_prompt(qtbot: QtBot, view: TerminalView) -> None:
    """Wait until the shell's prompt ($ or #) is back on the cursor's row."""
    screen = view.term.screen
    wait_for(qtbot, lambda: not screen.alternate and screen.text_of(
        screen.buffer[screen.cursor.y]).endswith(("$", "#")))


def type_line(qtbot: QtBot, view: TerminalView, line: str) -> None:
    QTest.keyClicks(view.term, line)
    QTest.keyClick(view.term, Qt.Key.Key_Return)


def started(qtbot: QtBot, view: TerminalView, transport: object) -> TerminalView:
    view.resize(900, 560)
    view.show()
    with qtbot.waitSignal(view.session_started, timeout=WAIT):
        view.set_transport(transport)  # type: ignore[arg-type]
        view.activate()
    # The shell is ready when it echoes what it is given.
    type_line(qtbot, view, "echo READY-$((40+2))")
    wait_row(qtbot, view, "READY-42")
    return view


@pytest.fixture
def local_term(qtbot: QtBot) -> Iterator[TerminalView]:
    view = TerminalView("local")
    qtbot.addWidget(view)
    transport = LocalTransport()
    yield started(qtbot, view, transport)
    view.shutdown()
    transport.close()


def cell_centre(term: TerminalWidget, row: int, col: int) -> QPoint:
    return QPoint(col * term.cell_w + term.cell_w // 2, row * term.cell_h + term.cell_h // 2)


def drag_select(term: TerminalWidget, row: int, first: int, last: int) -> None:
    QTest.mousePress(term, Qt.MouseButton.LeftButton, _M.NoModifier, cell_centre(term, row, first))
    QTest.mouseMove(term, cell_centre(term, row, last))
    QTest.mouseRelease(term, Qt.MouseButton.LeftButton, _M.NoModifier, cell_centre(term, row, last))


# --- keys -------------------------------------------------------------------------------------


def press(key: Qt.Key, mods: Qt.KeyboardModifier = _M.NoModifier, text: str = "",
          app_cursor: bool = False) -> bytes | None:
    return key_bytes(QKeyEvent(QEvent.Type.KeyPress, key, mods, text), app_cursor=app_cursor)


def test_keys_become_xterm_bytes() -> None:
    assert press(Qt.Key.Key_Up) == b"\x1b[A"
    assert press(Qt.Key.Key_Up, app_cursor=True) == b"\x1bOA"  # vim, less ask for this mode
    assert press(Qt.Key.Key_Left, _M.ControlModifier) == b"\x1b[1;5D"
    assert press(Qt.Key.Key_Home) == b"\x1b[H" and press(Qt.Key.Key_End) == b"\x1b[F"
    assert press(Qt.Key.Key_PageUp) == b"\x1b[5~" and press(Qt.Key.Key_PageDown) == b"\x1b[6~"
    assert press(Qt.Key.Key_Delete) == b"\x1b[3~"
    assert press(Qt.Key.Key_F1) == b"\x1bOP" and press(Qt.Key.Key_F5) == b"\x1b[15~"
    assert press(Qt.Key.Key_F12, _M.ShiftModifier) == b"\x1b[24;2~"
    assert press(Qt.Key.Key_C, _M.ControlModifier, "\x03") == b"\x03"
    assert press(Qt.Key.Key_D, _M.ControlModifier) == b"\x04"
    assert press(Qt.Key.Key_B, _M.AltModifier, "b") == b"\x1bb"
    assert press(Qt.Key.Key_Tab, text="\t") == b"\t"
    assert press(Qt.Key.Key_Backtab, _M.ShiftModifier) == b"\x1b[Z"
    assert press(Qt.Key.Key_Backspace, text="\x08") == b"\x7f"
    assert press(Qt.Key.Key_Return, text="\r") == b"\r"
    assert press(Qt.Key.Key_Escape, text="\x1b") == b"\x1b"
    assert press(Qt.Key.Key_A, text="ä") == "ä".encode()
    assert press(Qt.Key.Key_Shift, _M.ShiftModifier) is None


# --- a local pty --------------------------------------------------------------------------------


def test_echo_hi(qtbot: QtBot, local_term: TerminalView) -> None:
    type_line(qtbot, local_term, "echo hi")
    wait_row(qtbot, local_term, "hi")


def test_input_method_text_reaches_the_shell(qtbot: QtBot, local_term: TerminalView) -> None:
    QTest.keyClicks(local_term.term, "echo compose-")
    event = QInputMethodEvent()
    event.setCommitString("é€")
    QGuiApplication.sendEvent(local_term.term, event)
    QTest.keyClick(local_term.term, Qt.Key.Key_Return)
    wait_row(qtbot, local_term, "compose-é€")


def test_colours_are_cells_and_pixels(qtbot: QtBot, local_term: TerminalView) -> None:
    type_line(qtbot, local_term,
              r"printf '\033[31mred\033[0m \033[1;38;5;33mblue256\033[0m \033[38;2;0;200;100mtrue\033[0m\n'")
    row = wait_row(qtbot, local_term, "red blue256 true")
    line = local_term.term.visible_line(row)
    assert line is not None
    assert [line[x].fg for x in range(3)] == ["red"] * 3
    assert line[4].fg == "0087ff" and line[4].bold  # 256-colour 33
    assert line[12].fg == "00c864"  # truecolor
    assert line[3].fg == "default"
    # And the widget paints them: red pixels in the first cells of that row only.
    term = local_term.term
    image = term.grab().toImage()

    def reds(x0: int, x1: int) -> int:
        count = 0
        for x in range(x0, x1):
            for y in range(row * term.cell_h, (row + 1) * term.cell_h):
                c = QColor(image.pixel(x, y))
                count += c.red() > 150 and c.green() < 80 and c.blue() < 80
        return count

    assert reds(0, 3 * term.cell_w) > 5
    assert reds(4 * term.cell_w, 11 * term.cell_w) == 0


def test_reverse_and_bold_are_drawn(qtbot: QtBot, local_term: TerminalView) -> None:
    type_line(qtbot, local_term, r"printf '\033[7mREV\033[0m \033[1mBOLD\033[0m plain\n'")
    row = wait_row(qtbot, local_term, "REV BOLD plain")
    term = local_term.term
    line = term.visible_line(row)
    assert line is not None and line[0].reverse and line[4].bold and not line[9].bold
    image = term.grab().toImage()
    y = row * term.cell_h + 1  # the top pixel row of the cells: background only
    light = QColor(image.pixel(term.cell_w // 2, y))
    dark = QColor(image.pixel(8 * term.cell_w + term.cell_w // 2, y))  # the blank before "plain"
    assert light.lightness() > 180 > 60 > dark.lightness()  # reverse: the cell is lit


def test_text_stays_on_the_cell_grid(qtbot: QtBot, local_term: TerminalView) -> None:
    # A red run of 80 digits, then plain text: the run must end in cell 79, not where 80 glyph
    # advances (fractional pixels each: 7.2 px in cells of 7) would take it, over the next run.
    type_line(qtbot, local_term, r"printf '\033[31m%080d\033[0m#\n' 0")
    row = wait_row(qtbot, local_term, "0" * 80 + "#")
    term = local_term.term
    image = term.grab().toImage()
    xs = [x for x in range(term.width())
          for y in range(row * term.cell_h, (row + 1) * term.cell_h)
          if (c := QColor(image.pixel(x, y))).red() > 150 and c.green() < 90 and c.blue() < 90]
    assert xs and min(xs) < term.cell_w and max(xs) < 80 * term.cell_w


def test_private_and_xterm_only_sequences_are_ignored(qtbot: QtBot,
                                                     local_term: TerminalView) -> None:
    # vim sends some of these; pyte used to die on "CSI ? 4 m" and underline on "CSI > 4;2 m".
    type_line(qtbot, local_term, r"printf '\033[?4m\033[>4;2m\033[?1;2Hplain\n'")
    row = wait_row(qtbot, local_term, "plain")
    line = local_term.term.visible_line(row)
    assert line is not None and not line[0].underscore and line[0].fg == "default"
    type_line(qtbot, local_term, "echo still-alive")
    wait_row(qtbot, local_term, "still-alive")


def test_resize_is_seen_by_stty(qtbot: QtBot, local_term: TerminalView) -> None:
    term = local_term.term
    type_line(qtbot, local_term, "stty size")
    wait_row(qtbot, local_term, f"{term.rows} {term.cols}")
    before = (term.rows, term.cols)
    local_term.resize(620, 400)
    wait_for(qtbot, lambda: (term.rows, term.cols) != before)
    assert term.cols == term.width() // term.cell_w and term.rows == term.height() // term.cell_h
    type_line(qtbot, local_term, "clear; stty size")
    wait_row(qtbot, local_term, f"{term.rows} {term.cols}")


def test_less_and_vi_take_the_screen_and_give_it_back(qtbot: QtBot, local_term: TerminalView,
                                                      tmp_path: Path) -> None:
    page = tmp_path / "notes.txt"
    page.write_text("".join(f"notes line {i}\n" for i in range(1, 201)))
    type_line(qtbot, local_term, "echo BEFORE")
    wait_row(qtbot, local_term, "BEFORE")
    term = local_term.term

    type_line(qtbot, local_term, f"less {page}")
    wait_row(qtbot, local_term, "notes line 1")
    assert term.screen.alternate and "BEFORE" not in rows(local_term)
    QTest.keyClick(term, Qt.Key.Key_Space)  # a page further
    wait_for(qtbot, lambda: "notes line 1" not in rows(local_term)
             and any(r.startswith("notes line 4") for r in rows(local_term)))
    QTest.keyClicks(term, "q")
    wait_for(qtbot, lambda: not term.screen.alternate)
    wait_row(qtbot, local_term, "BEFORE")  # the shell's screen is back as it was

    type_line(qtbot, local_term, f"vi {page}")
    wait_row(qtbot, local_term, "notes line 1")
    # vim reads keys once it has drawn its status line ("notes.txt" 200L, ...)
    wait_for(qtbot, lambda: any("200L" in r for r in rows(local_term)))
    assert term.screen.alternate
    for key in (Qt.Key.Key_Down, Qt.Key.Key_Down):  # arrows in vim's application mode
        QTest.keyClick(term, key)
    QTest.keyClicks(term, "dd")  # delete line 3: vim is live
    wait_for(qtbot, lambda: "notes line 3" not in rows(local_term))
    QTest.keyClicks(term, ":q!")
    QTest.keyClick(term, Qt.Key.Key_Return)
    wait_for(qtbot, lambda: not term.screen.alternate)
    wait_row(qtbot, local_term, "BEFORE")
    assert page.read_text().count("\n") == 200  # :q! kept the file

    type_line(qtbot, local_term, "top -d 1")
    wait_for(qtbot, lambda: any("load average" in r for r in rows(local_term)))
    QTest.keyClicks(term, "q")
    wait_prompt(qtbot, local_term)  # top discards what was typed before it quit
    type_line(qtbot, local_term, "echo AFTER-TOP")
    wait_row(qtbot, local_term, "AFTER-TOP")


def test_scrollback_after_seq(qtbot: QtBot, local_term: TerminalView) -> None:
    term = local_term.term
    type_line(qtbot, local_term, "seq 1 500")
    wait_row(qtbot, local_term, "500")
    assert term.screen.scrollback > 500 - term.rows
    assert "250" not in rows(local_term)

    QTest.keyClick(term, Qt.Key.Key_PageUp, _M.ShiftModifier)
    assert term.scroll == term.rows - 1
    assert "500" not in rows(local_term)
    bar = local_term.scrollbar
    assert bar.maximum() == term.screen.scrollback and bar.value() == bar.maximum() - term.scroll

    wheel = QWheelEvent(QPointF(10, 10), QPointF(10, 10), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, _M.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QGuiApplication.sendEvent(term, wheel)
    assert term.scroll == term.rows - 1 + 3

    bar.setValue(0)  # the scroll bar's top: the start of the history
    assert "1" in rows(local_term) and "2" in rows(local_term)

    # Output while reading history keeps the view still; a key brings the live screen back.
    QTest.keyClick(term, Qt.Key.Key_End, _M.ShiftModifier)
    assert term.scroll == 0
    type_line(qtbot, local_term, "sleep 1; seq 1000 1005")
    bar.setValue(0)
    top_before = rows(local_term)[0]
    wait_for(qtbot, lambda: term.screen.pushed > 0 and any(
        term.screen.text_of(term.screen.buffer[y]) == "1005" for y in range(term.rows)))
    assert rows(local_term)[0] == top_before
    QTest.keyClicks(term, "x")
    assert term.scroll == 0 and "1005" in rows(local_term)


def test_copy_paste_round_trip(qtbot: QtBot, local_term: TerminalView) -> None:
    term = local_term.term
    type_line(qtbot, local_term, "echo copy-me-$((7*6))")
    row = wait_row(qtbot, local_term, "copy-me-42")
    drag_select(term, row, 0, len("copy-me-42") - 1)
    assert term.selected_text() == "copy-me-42"
    QTest.keyClick(term, Qt.Key.Key_C, _M.ControlModifier | _M.ShiftModifier)
    clipboard = QGuiApplication.clipboard()
    assert clipboard.text() == "copy-me-42"

    clipboard.setText("echo pasted-$((5*5))")
    QTest.keyClick(term, Qt.Key.Key_V, _M.ControlModifier | _M.ShiftModifier)
    QTest.keyClick(term, Qt.Key.Key_Return)
    wait_row(qtbot, local_term, "pasted-25")

    # A multi-line paste into bash (bracketed paste) does not run line by line on its own.
    clipboard.setText("echo one-$((1))\necho two-$((2))")
    QTest.keyClick(term, Qt.Key.Key_V, _M.ControlModifier | _M.ShiftModifier)
    qtbot.wait(500)
    assert "one-1" not in rows(local_term)
    QTest.keyClick(term, Qt.Key.Key_Return)
    wait_row(qtbot, local_term, "two-2")
    assert "one-1" in rows(local_term)


def test_window_shortcuts_do_not_steal_shell_keys(qtbot: QtBot, local_term: TerminalView) -> None:
    # Ctrl+L would open log files in the window; in the terminal it clears the screen.
    term = local_term.term
    type_line(qtbot, local_term, "echo SOON-GONE")
    wait_row(qtbot, local_term, "SOON-GONE")
    QTest.keyClick(term, Qt.Key.Key_L, _M.ControlModifier)
    wait_for(qtbot, lambda: "SOON-GONE" not in rows(local_term))
    # Tab completes in the shell instead of moving the focus.
    QTest.keyClicks(term, "echo /etc/passw")
    QTest.keyClick(term, Qt.Key.Key_Tab)
    QTest.keyClick(term, Qt.Key.Key_Return)
    wait_row(qtbot, local_term, "/etc/passwd")
    assert term.hasFocus()


def test_exit_offers_a_new_shell(qtbot: QtBot, local_term: TerminalView) -> None:
    type_line(qtbot, local_term, "exit 7")
    wait_for(qtbot, lambda: local_term.banner.isVisible())
    assert "status 7" in local_term.banner_label.text()
    assert local_term.banner_button.text() == "Restart shell"
    with qtbot.waitSignal(local_term.session_started, timeout=WAIT):
        local_term.banner_button.click()
    assert not local_term.banner.isVisible()
    type_line(qtbot, local_term, "echo again")
    wait_row(qtbot, local_term, "again")


# --- in the window: the tab, the shortcut, send to case -------------------------------------------


def test_send_selection_to_case_is_redacted(qtbot: QtBot, tmp_path: Path) -> None:
    win = MainWindow(restore=False, case_store_path=tmp_path / "cases.db")
    qtbot.addWidget(win)
    win.resize(1280, 820)
    win.show()
    open_kb(win.case_store())
    case = win.case_desk().open_case("Deploy token leaks", customer="ACME")
    host = win.open_host("local", connect=False)
    assert host is not None
    with qtbot.waitSignal(host.connected, timeout=WAIT):
        host.start()
    view = host.terminal
    with qtbot.waitSignal(view.session_started, timeout=WAIT):
        win.act_terminal.trigger()  # View > Terminal, Ctrl+4
    assert host.views.currentWidget() is view
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.term, timeout=3000)
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    type_line(qtbot, view, f"echo GITHUB_TOKEN={token} user=ann")
    row = wait_row(qtbot, view, f"GITHUB_TOKEN={token} user=ann")

    view.term.select((view.term.top_number + row, 0),
                     (view.term.top_number + row, view.term.cols - 1))
    view.send_button.click()
    assert "no case is active" in view.hint.text()

    win.set_active_case(case.id)
    with qtbot.waitSignal(host.case_journaled, timeout=WAIT):
        view.send_button.click()
    notes = [e for e in win.case_store().journal(case.id) if e.kind == "note"]
    assert len(notes) == 1
    assert token not in notes[0].text and "user=ann" in notes[0].text
    assert "GITHUB_TOKEN=" in notes[0].text and "local" in notes[0].text
    assert f"Sent to case {case.id}" in view.hint.text()
    win.close()


# --- over SSH ---------------------------------------------------------------------------------


def test_ssh_shell_echo_colour_and_window_change(qtbot: QtBot,
                                                 ssh_client_env: SshClientEnv) -> None:
    transport = SshTransport.connect(SshTarget(ssh_client_env.alias))
    view = TerminalView(ssh_client_env.alias)
    qtbot.addWidget(view)
    try:
        started(qtbot, view, transport)
        term = view.term
        type_line(qtbot, view, r"printf '\033[31mred\033[0m\n'; echo $TERM")
        row = wait_row(qtbot, view, "red")
        line = term.visible_line(row)
        assert line is not None and line[0].fg == "red"
        wait_row(qtbot, view, "xterm-256color")
        type_line(qtbot, view, "stty size")
        wait_row(qtbot, view, f"{term.rows} {term.cols}")
        view.resize(640, 380)
        wait_for(qtbot, lambda: term.cols == term.width() // term.cell_w)
        type_line(qtbot, view, "clear; stty size")
        wait_row(qtbot, view, f"{term.rows} {term.cols}")
        assert transport.is_active  # one connection: the shell is a channel on it
    finally:
        view.shutdown()
        transport.close()


def test_dropped_connection_offers_reconnect(qtbot: QtBot, ssh_client_env: SshClientEnv,
                                             tmp_path: Path) -> None:
    HostStore().add(SavedHost("lab", ssh_client_env.alias, group="test"))
    win = MainWindow(restore=False, case_store_path=tmp_path / "cases.db")
    qtbot.addWidget(win)
    win.show()
    host = win.open_host("lab", connect=False)
    assert host is not None
    with qtbot.waitSignal(host.connected, timeout=30_000):
        host.start()
    view = host.terminal
    with qtbot.waitSignal(view.session_started, timeout=WAIT):
        host.views.setCurrentWidget(view)
    type_line(qtbot, view, "echo remote-$((2+3))")
    wait_row(qtbot, view, "remote-5")
    wait_for(qtbot, lambda: not host.busy, 60_000)  # the first probe run is over

    assert ssh_client_env.server.kill_sessions()
    wait_for(qtbot, lambda: view.banner.isVisible() and view.banner_button.text() == "Reconnect")
    assert "dropped" in view.banner_label.text()
    wait_for(qtbot, lambda: host.transport is None)  # the host tab agrees: not connected
    assert host.connect_button.text() == "Reconnect"

    with qtbot.waitSignal(view.session_started, timeout=30_000):
        view.banner_button.click()
    assert host.transport is not None and not view.banner.isVisible()
    type_line(qtbot, view, "echo back-$((3+4))")
    wait_row(qtbot, view, "back-7")
    win.close()
