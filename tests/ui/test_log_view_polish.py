"""The log viewer with a file that has no times (issue 17, item 6): Message gets the width, the
detail wraps, long recurring messages keep both ends, no empty time axis; the open dialog starts
somewhere useful and shows files without an extension."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPlainTextEdit
from pytestqt.qtbot import QtBot

from diagkit.ui.main_window import MainWindow, log_dialog_folder, settings
from tests.sshd_fixture import free_port
from tests.ui.test_log_view import open_view


def ssh_debug_log(tmp_path: Path) -> Path:
    """A real program's log without times: OpenSSH's client debug output (``ssh -vvv``) for a
    refused connection, written by ssh itself."""
    path = tmp_path / "ssh-client-debug"  # no extension, like syslog
    for _ in range(3):
        run = subprocess.run(["ssh", "-vvv", "-F", "/dev/null", "-o", "BatchMode=yes",
                              "-p", str(free_port()), "nobody@127.0.0.1", "true"],
                             check=False, capture_output=True, text=True, timeout=30)
        with path.open("a") as out:
            out.write(run.stderr)
    assert "debug1:" in path.read_text() and "Connection refused" in path.read_text()
    return path


def test_file_without_times_gives_message_the_width(qtbot: QtBot, tmp_path: Path) -> None:
    view = open_view(qtbot, ssh_debug_log(tmp_path))
    view.resize(1200, 700)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.no_times.isVisible(), timeout=10000)
    assert not view.histogram.isVisible()
    hidden = [view.model.columns[c] for c in range(view.model.columnCount())
              if view.table.isColumnHidden(c)]
    assert "Time" in hidden and "Message" not in hidden
    message = view.model.columns.index("Message")
    assert view.table.columnWidth(message) >= 0.6 * view.table.viewport().width()


def test_detail_wraps_and_long_messages_keep_both_ends(qtbot: QtBot, tmp_path: Path) -> None:
    view = open_view(qtbot, ssh_debug_log(tmp_path))
    assert view.detail.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth
    assert view.sig_tree.textElideMode() == Qt.TextElideMode.ElideMiddle
    qtbot.waitUntil(lambda: view.sig_tree.topLevelItemCount() > 0, timeout=30000)
    item = view.sig_tree.topLevelItem(0)
    assert item.text(2) in item.toolTip(2)  # the whole template, not just an example


def test_open_dialog_starts_in_var_log_then_the_last_folder(qtbot: QtBot, tmp_path: Path,
                                                            monkeypatch) -> None:
    asked = []

    def fake_dialog(parent, title, folder, filters):
        asked.append((folder, filters))
        return ([str(log)] if len(asked) == 1 else []), ""

    log = ssh_debug_log(tmp_path)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(fake_dialog))
    window = MainWindow(restore=False)
    qtbot.addWidget(window)
    assert log_dialog_folder() == "/var/log"
    window.open_logs_dialog()
    window.open_logs_dialog()
    assert asked[0][0] == "/var/log"
    assert asked[0][1].startswith("All files (*)")
    assert asked[1][0] == str(tmp_path)
    assert settings().value("logs/last_folder") == str(tmp_path)
    for view in window.log_views():
        view.shutdown()
    window.close()
