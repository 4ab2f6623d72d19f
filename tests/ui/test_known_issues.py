"""Known-issue banners: the dashboard and the log viewer name the KB article whose rules match,
and the window opens it. Real captured probe output, the real starter articles, real SQLite."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from diagkit.kb import open_kb
from diagkit.kb.match import load_matcher
from diagkit.probes import disk
from diagkit.probes.base import ProbeResult
from diagkit.probes.registry import builtin_probes
from diagkit.store.sqlite import SqliteStore
from diagkit.ui.dashboard_view import DashboardView
from diagkit.ui.log_view import LogView
from diagkit.ui.main_window import MainWindow

DATA = Path(__file__).resolve().parent.parent / "data" / "probes" / "disk"


def _disk_result(capture: str) -> ProbeResult:
    data = disk.parse((DATA / capture).read_text())
    data = replace(data, findings=tuple(replace(f, probe="disk") for f in data.findings))
    return ProbeResult("disk", "web-1", data, "", "", 0, 0.2)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    db = open_kb(SqliteStore(tmp_path / "kb.db"))
    yield db
    db.close()


def _dashboard(qtbot: QtBot) -> DashboardView:
    view = DashboardView()
    qtbot.addWidget(view)
    view.set_probes([p for p in builtin_probes() if p.name == "disk"])
    view.show()
    return view


def test_disk_full_capture_shows_the_known_issue_banner(qtbot: QtBot, store: SqliteStore) -> None:
    view = _dashboard(qtbot)
    view.set_matcher(load_matcher(store))
    assert not view.known_banner.isVisible()  # no results yet
    view.show_result(_disk_result("disk_full.txt"))
    slugs = [issue.slug for issue in view.known_issues]
    assert "disk-full" in slugs and "inode-exhaustion" in slugs
    assert view.known_banner.isVisible()
    text = view.known_banner.text()
    disk_full = store.get_article("disk-full")
    assert f"Known issue:</b> <a href=\"kb:disk-full\">{disk_full.title}</a>" in text
    assert "(kb: disk-full)" in text  # the slug to quote; the rule that matched is a tooltip
    assert "97" in view.known_banner.toolTip()
    with qtbot.waitSignal(view.article_requested) as blocker:
        view.known_banner.linkActivated.emit("kb:disk-full")
    assert blocker.args == ["disk-full"]


def test_a_healthy_capture_shows_no_banner(qtbot: QtBot, store: SqliteStore) -> None:
    view = _dashboard(qtbot)
    view.show_result(_disk_result("normal.txt"))
    view.set_matcher(load_matcher(store))
    assert view.known_issues == [] and not view.known_banner.isVisible()


def test_log_viewer_hints_the_known_issue_of_the_selected_line(qtbot: QtBot, store: SqliteStore,
                                                               tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("2024-03-01 10:00:00 INFO worker started\n"
                   "2024-03-01 10:00:05 ERROR write /var/lib/app/q.dat: No space left on device\n")
    view = LogView([log])
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=15000)
    view.set_matcher(load_matcher(store))
    view.go_to_row(0)
    assert not view.known_hint.isVisible()
    view.go_to_row(1)
    assert [i.slug for i in view.known_issues] == ["disk-full"]
    assert view.known_hint.isVisible() and "kb:disk-full" in view.known_hint.text()
    with qtbot.waitSignal(view.article_requested) as blocker:
        view.known_hint.linkActivated.emit("kb:disk-full")
    assert blocker.args == ["disk-full"]
    view.shutdown()


def test_window_opens_the_article_from_a_banner(qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(restore=False, case_store_path=tmp_path / "cases.db")
    qtbot.addWidget(window)
    window.show()
    window.show_article("oom-killer")
    kb = window.kb_view
    assert kb is not None and window.tabs.currentWidget() is kb
    qtbot.waitUntil(lambda: kb.current is not None and kb.current.slug == "oom-killer", timeout=15000)
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Knowledge base"
    # the tab is one per window: closing keeps it, reopening (Ctrl+Shift+K) shows the same one
    window.close_tab(window.tabs.currentIndex())
    window.act_kb.trigger()
    assert window.tabs.currentWidget() is kb
    window.act_metrics.trigger()
    assert window.tabs.currentWidget() is window.metrics_view
    # a log tab gets the rules too
    log = tmp_path / "k.log"
    log.write_text("Mar  1 10:00:00 db1 kernel: Out of memory: Killed process 812 (postgres)\n")
    view = window.open_logs([log])
    qtbot.waitUntil(lambda: view.matcher is not None and view.model.rowCount() == 1, timeout=15000)
    view.go_to_row(0)
    assert "oom-killer" in [i.slug for i in view.known_issues]
    window.close()
