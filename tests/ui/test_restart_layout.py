"""A restart brings the hosts dock back at its saved width, never a sliver (issue 17, item 8)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from diagkit.hosts import HostStore, SavedHost
from diagkit.ui.main_window import DOCK_MIN_WIDTH, MainWindow, settings


def _status_column_visible(window: MainWindow) -> bool:
    tree = window.host_tree
    header = tree.header()
    right = header.sectionViewportPosition(1) + header.sectionSize(1)
    return header.sectionSize(1) > 20 and right <= tree.viewport().width() + 1


def test_dock_width_survives_a_restart(qtbot: QtBot) -> None:
    HostStore().add(SavedHost("web-eu-1", "web-eu-1.acme.example", user="support", group="ACME"))
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    qtbot.wait(50)  # the window's own first sizing
    first.resizeDocks([first.dock], [330], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: abs(first.dock.width() - 330) <= 4)
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    qtbot.waitUntil(lambda: abs(second.dock.width() - 330) <= 4, timeout=3000)
    qtbot.waitUntil(lambda: _status_column_visible(second), timeout=3000)
    second.close()


def test_a_saved_sliver_comes_back_wide_enough(qtbot: QtBot) -> None:
    HostStore().add(SavedHost("web-eu-1", "web-eu-1.acme.example", user="support", group="ACME"))
    state = settings()
    state.setValue("main/dock_width", 65)
    state.sync()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)
    assert window.dock.width() >= DOCK_MIN_WIDTH
    window.resizeDocks([window.dock], [40], Qt.Orientation.Horizontal)
    qtbot.wait(20)
    assert window.dock.width() >= DOCK_MIN_WIDTH
    assert _status_column_visible(window)
    window.close()
