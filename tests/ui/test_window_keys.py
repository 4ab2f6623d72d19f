"""Keyboard paths and small things of the main window (issue 17, items 1 and 12)."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from diagkit.hosts import HostStore, SavedHost
from diagkit.ui.main_window import MainWindow


def _window(qtbot: QtBot) -> MainWindow:
    win = MainWindow(restore=False)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()  # shortcuts of the window context fire in the active window only
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=3000)
    return win


def test_fleet_opens_from_its_shortcut_and_the_view_menu(qtbot: QtBot) -> None:
    win = _window(qtbot)
    qtbot.keyClick(win, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert win.fleet_view is not None and win.tabs.currentWidget() is win.fleet_view
    assert win.fleet_view.hosts == []
    win.close_tab(win.tabs.indexOf(win.fleet_view))
    win.act_fleet.trigger()  # View > Fleet: triggered(checked=False) must not become the hosts
    assert win.tabs.currentWidget() is win.fleet_view
    win.fleet_view.stop()


def test_ctrl_3_puts_the_cursor_in_the_console_command_line(qtbot: QtBot) -> None:
    win = _window(qtbot)
    view = win.open_host("local", connect=False)
    assert view is not None
    qtbot.keyClick(win, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert view.views.currentWidget() is view.console
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.console.command_edit, timeout=3000)


def test_enter_in_the_host_filter_opens_the_single_match(qtbot: QtBot) -> None:
    store = HostStore()
    for name in ("web-1", "web-2", "db-main"):
        store.add(SavedHost(name, f"{name}.example.invalid"))
    win = _window(qtbot)
    win.search.setFocus()
    qtbot.keyClicks(win.search, "web")
    qtbot.keyClick(win.search, Qt.Key.Key_Return)
    assert win.host_views() == []  # two matches: the list takes the focus instead
    assert win.selected_name() == "web-1"
    win.search.clear()
    qtbot.keyClicks(win.search, "db-m")
    qtbot.keyClick(win.search, Qt.Key.Key_Return)
    views = win.host_views()
    assert [v.ref.label for v in views] == ["db-main"]
    views[0].cancel()


def test_status_bar_texts_never_overlap(qtbot: QtBot, monkeypatch) -> None:
    long_path = "/srv/" + "very-long-folder-name/" * 12 + "diagkit.db"
    monkeypatch.setattr(MainWindow, "store_description", lambda self: long_path)
    win = _window(qtbot)
    win.active_label.setText("Journaling to #12345 " + "a very long case title " * 6)
    win.statusBar().showMessage("Saved host something with a long name as well.")
    for width in (1280, 1024, 800):
        win.resize(width, 700)
        qtbot.wait(50)
        bar = win.statusBar()
        labels = [w for w in (win.active_label, win.store_label) if w.isVisible()]
        rects = [QRect(w.geometry()) for w in labels]
        for rect in rects:
            assert bar.rect().contains(rect), (width, rect, bar.rect())
        assert not rects[0].intersects(rects[1]), (width, rects)
        assert win.store_label.text() == f"Store: {long_path}"  # whole text kept (and tooltip)
        assert win.store_label.toolTip() == f"Store: {long_path}"
        shown = win.store_label.shown_text()
        assert win.store_label.fontMetrics().horizontalAdvance(shown) <= rects[1].width()
