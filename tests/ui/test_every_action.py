"""Every menu action and every shortcut of the main window, triggered with the dialogs stubbed
(issue 17): none may end in an unexpected error. The app's error handler (what would show
"Something went wrong") is hooked to fail the test, and so are errors logged by diagkit."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from diagkit.hosts import HostStore, SavedHost
from diagkit.ui import app as diagkit_app
from diagkit.ui.host_view import HostView
from diagkit.ui.main_window import MainWindow
from diagkit.ui.workers import cancel_all_and_wait


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@pytest.fixture
def failures(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What the user would have seen as an unexpected error; dialogs answered with Cancel."""
    seen: list[str] = []
    shown: list[str] = []

    def hook(kind, value, tb) -> None:
        seen.append(f"{kind.__name__}: {value}")
        diagkit_app._excepthook(kind, value, tb)  # the app's own handler runs as in the app

    monkeypatch.setattr(sys, "excepthook", hook)
    monkeypatch.setattr(QDialog, "exec", lambda self: shown.append(type(self).__name__) or 0)
    monkeypatch.setattr(QDialog, "open", lambda self: shown.append(type(self).__name__))
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.text()) or 0)
    cancel = QMessageBox.StandardButton.Cancel
    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(lambda *a, **k: cancel))
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda *a, **k: None))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([], "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: ""))
    monkeypatch.setattr(QMenu, "exec", lambda self, *a: None)
    errors = _Errors()
    logging.getLogger("diagkit").addHandler(errors)
    try:
        yield seen
    finally:
        logging.getLogger("diagkit").removeHandler(errors)
        seen.extend(errors.records)


def menu_actions(menu: QMenu) -> list[QAction]:
    found: list[QAction] = []
    for action in menu.actions():
        if action.menu() is not None:
            found += menu_actions(action.menu())
        elif not action.isSeparator():
            found.append(action)
    return found


def all_actions(win: MainWindow) -> list[QAction]:
    actions: list[QAction] = []
    for top in win.menuBar().actions():
        actions += menu_actions(top.menu())
    for action in win.actions():  # the shortcuts, menu or not
        if action not in actions:
            actions.append(action)
    return actions


def settle(qtbot: QtBot) -> None:
    qtbot.wait(30)
    QApplication.processEvents()


def test_every_menu_action_and_shortcut(qtbot: QtBot, failures: list[str],
                                        tmp_path: Path) -> None:
    HostStore().add(SavedHost("web1", "127.0.0.1", port=1, group="lab"))  # refuses at once
    win = MainWindow(restore=False, case_store_path=tmp_path / "cases.db")
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=3000)
    actions = all_actions(win)
    names = {a.text().replace("&", "") for a in actions}
    assert {"Fleet (watch hosts)", "Console", "Reconnect", "Quit", "About diagkit"} <= names
    quit_action = win.act_quit
    triggered: list[str] = []

    def run_all(selected: str | None) -> None:
        for action in actions:
            if action is quit_action:
                continue
            if selected is not None:
                win.host_tree.setCurrentItem(win._items[selected])
            action.trigger()
            triggered.append(action.text())
            settle(qtbot)
            assert not failures, (action.text(), failures)
        for action in actions:
            if action is quit_action or action.shortcut().isEmpty():
                continue
            win.activateWindow()
            if selected is not None:
                win.host_tree.setCurrentItem(win._items[selected])
            QTest.keySequence(win, action.shortcut())
            settle(qtbot)
            assert not failures, (action.shortcut().toString(), failures)

    run_all(None)  # nothing selected, no host tab
    view = win.open_host("local", connect=False)
    assert isinstance(view, HostView)
    with qtbot.waitSignal(view.connected, timeout=30000):
        view.start()
    run_all("local")  # a connected host tab, the local machine selected
    run_all("web1")  # a saved host that refuses
    for host in win.host_views():
        assert host._unexpected is None, host._unexpected
    assert len(triggered) == 3 * (len(actions) - 1)
    quit_action.trigger()
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=20000)
    cancel_all_and_wait(10000)
    assert not failures
