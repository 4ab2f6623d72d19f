"""The log viewer on real generated files, offscreen, with the real engine."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication
from pytestqt.qtbot import QtBot

from diagkit.logs.model import Level
from diagkit.ui.log_view import LogView
from diagkit.ui.main_window import MainWindow

TEMPLATES = [
    ("INFO", "request {n} served in {ms} ms"),
    ("INFO", "user {u} logged in from 10.0.{a}.{b}"),
    ("WARNING", "slow query took {ms} ms on table orders"),
    ("ERROR", "payment {n} failed: card declined"),
    ("DEBUG", "cache hit for key item:{n}"),
]


def write_log(path: Path, lines: int, seed: int = 7) -> dict[str, int]:
    """A Python-logging style file; returns how many records of each level it holds."""
    rng = random.Random(seed)
    counts = {"INFO": 0, "WARNING": 0, "ERROR": 0, "DEBUG": 0}
    out = []
    for i in range(lines):
        level, template = TEMPLATES[rng.randrange(len(TEMPLATES))]
        counts[level] += 1
        secs = i // 50
        stamp = f"2024-03-01 {10 + secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d},{i % 1000:03d}"
        msg = template.format(n=rng.randrange(10**6), ms=rng.randrange(2000), u=f"u{rng.randrange(500)}",
                              a=rng.randrange(255), b=rng.randrange(255))
        out.append(f"{stamp} - shop.api - {level} - {msg}")
    path.write_text("\n".join(out) + "\n")
    return counts


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("logs") / "app.log"
    return path, write_log(path, 1_000_000)


def open_view(qtbot: QtBot, path: Path | list[Path], timeout: int = 120000) -> LogView:
    view = LogView(path if isinstance(path, list) else [path])
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    with qtbot.waitSignal(view.opened, timeout=timeout):
        pass
    qtbot.waitUntil(lambda: " of " in view.counts.text(), timeout=timeout)
    return view


def test_million_lines_scroll_filter_and_navigate(qtbot: QtBot, million) -> None:
    path, counts = million
    view = open_view(qtbot, path)
    assert view.model.rowCount() == 1_000_000
    assert view.counts.text().startswith("1,000,000 of 1,000,000 records")
    view.table.scrollToBottom()
    last = view.model.index(999_999, 4)
    assert "ms" in view.model.data(last) or "declined" in view.model.data(last) or view.model.data(last)
    assert view.histogram.bars, "the histogram shows bars"

    # level filter: exactly the errors (and worse)
    view.level_box.setCurrentIndex(4)  # Errors and worse
    with qtbot.waitSignal(view.filtered, timeout=120000) as got:
        pass
    assert got.args[0] == counts["ERROR"]
    record = view.model.record(0)
    assert record is not None and record.level == Level.ERROR

    # text search on top of it
    view.level_box.setCurrentIndex(0)
    view.search_edit.setText("SLOW QUERY")  # case-insensitive by default
    with qtbot.waitSignal(view.filtered, timeout=120000) as got:
        pass
    assert got.args[0] == counts["WARNING"]

    # next / previous error, go to time
    view.search_edit.setText("")
    with qtbot.waitSignal(view.filtered, timeout=120000):
        pass
    view.go_to_row(10)
    view.jump_error()
    row = view.table.currentIndex().row()
    assert row > 10 and view.model.record(row).level == Level.ERROR
    view.goto_edit.setText("2024-03-01 11:00:00")
    view.go_to_time_text()
    at = view.model.record(view.table.currentIndex().row())
    assert at.timestamp.strftime("%H:%M") == "11:00"

    # copy and "add to bug report"
    view.copy_selection()
    assert QGuiApplication.clipboard().text() == at.raw
    with qtbot.waitSignal(view.add_to_report) as added:
        view.report_button.click()
    assert added.args[0] == [at]


def test_signatures_panel_filters(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "small.log"
    counts = write_log(path, 20_000, seed=3)
    view = open_view(qtbot, path)
    qtbot.waitUntil(lambda: view.sig_tree.topLevelItemCount() >= 5, timeout=60000)
    first = view.sig_tree.topLevelItem(0)
    assert first.text(1) == "error" and "card declined" in first.text(2)
    with qtbot.waitSignal(view.filtered, timeout=60000) as got:
        view._signature_clicked(first)
    assert got.args[0] == counts["ERROR"]
    with qtbot.waitSignal(view.filtered, timeout=60000) as got:
        view._signature_clicked(first)  # again: show all
    assert got.args[0] == 20_000


def test_bad_file_is_explained_not_crashed(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 4000)
    view = open_view(qtbot, path)
    assert "binary" in view.state.text().lower()
    assert view.model.rowCount() >= 1


def test_main_window_opens_dropped_files_as_one_timeline(qtbot: QtBot, tmp_path: Path) -> None:
    a, b = tmp_path / "web1.log", tmp_path / "web2.log"
    write_log(a, 300, seed=1)
    write_log(b, 200, seed=2)
    window = MainWindow(restore=False)
    qtbot.addWidget(window)
    window.show()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(a)), QUrl.fromLocalFile(str(b))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    view = window.log_views()[0]
    with qtbot.waitSignal(view.opened, timeout=60000):
        pass
    qtbot.waitUntil(lambda: view.model.rowCount() == 500, timeout=60000)
    times = [view.model.record(r).timestamp for r in range(500)]
    assert times == sorted(times)
    assert {Path(view.model.record(r).file).name for r in range(500)} == {"web1.log", "web2.log"}
    window.close_tab(window.tabs.indexOf(view))
    assert not window.log_views()


def test_fetch_dialog_lists_and_fetches(qtbot: QtBot, tmp_path: Path, ssh_client_env) -> None:
    from diagkit.transport.ssh import SshTarget, SshTransport
    from diagkit.ui.fetch_dialog import FetchLogsDialog

    remote = tmp_path / "remote-logs"
    remote.mkdir()
    write_log(remote / "app.log", 100)
    (remote / "empty.log").write_text("")
    with SshTransport.connect(SshTarget(ssh_client_env.alias)) as transport:
        dialog = FetchLogsDialog(transport, "testhost")
        qtbot.addWidget(dialog)
        dialog.folder.setText(str(remote))
        dialog.list_logs()
        qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 2, timeout=20000)
        names = [dialog.tree.topLevelItem(i).text(0) for i in range(2)]
        item = dialog.tree.topLevelItem(names.index(str(remote / "app.log")))
        item.setSelected(True)
        with qtbot.waitSignal(dialog.fetched, timeout=30000) as got:
            dialog.fetch_selected()
    (local,) = got.args[0]
    assert Path(local).read_text() == (remote / "app.log").read_text()
    assert Path(local) != remote / "app.log"


def test_file_truncated_while_open_is_said_not_crashed(qtbot: QtBot, tmp_path: Path) -> None:
    # logrotate's copytruncate cuts the file the view has mapped: rows past the new end are
    # shown as unreadable and the view says why (reading them through the map was a SIGBUS)
    import os

    path = tmp_path / "app.log"
    write_log(path, 20_000, seed=5)
    view = open_view(qtbot, path)
    # (a worker that checked the size just before the cut can still fault: the checks narrow
    # the window to one chunk, they cannot close it)
    qtbot.waitUntil(lambda: view._sig_worker is None and view._filter_worker is None,
                    timeout=60000)
    os.truncate(path, 4096)
    last = view.model.rowCount() - 1
    assert view.model.data(view.model.index(last, 3)) == "…"
    assert "was truncated while open" in view.state.text()
    assert view.model.record(0) is not None  # what is still in the file reads as before


def test_incidents_shaded_listed_and_clickable(qtbot: QtBot, tmp_path: Path) -> None:
    """Two days of a fleet's syslog with a brute-force burst on web1: found in a worker after
    the signatures, shaded on the histogram, listed beside the signatures; a click goes to the
    attack's first record."""
    import random as rnd_mod

    from tests.logs.incident_gen import DAY, START, brute_force, ordinary, write

    rnd = rnd_mod.Random(3)
    lines = ordinary(rnd, START, START + 2 * DAY)
    burst, injected = brute_force(rnd, START + DAY + 10 * 3600)
    path = tmp_path / "syslog"
    write(lines + burst, path)
    view = open_view(qtbot, path)
    qtbot.waitUntil(lambda: view.incident_tree.topLevelItemCount() > 0
                    or "No incidents" in view.incident_label.text(), timeout=120000)
    assert view.incident_tree.topLevelItemCount() == 1, view.incident_label.text()
    item = view.incident_tree.topLevelItem(0)
    assert item.text(1) == "web1" and "412 ×" in item.text(2)
    (region,) = view.histogram.incident_regions
    lo, hi = region.getRegion()
    assert lo <= injected.start + 60 and hi >= injected.start  # shaded where it happened
    view.incident_tree.itemClicked.emit(item, 0)
    record = view.model.record(view.table.currentIndex().row())
    assert record is not None and "203.0.113.45" in record.message and record.host == "web1"
    assert record.timestamp is not None and record.timestamp.timestamp() == pytest.approx(
        injected.start, abs=1)
