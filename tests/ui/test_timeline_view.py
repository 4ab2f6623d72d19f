"""The Timeline tabs, offscreen with real workers: the case view's on the issue-16 scenario
(real SQLite case store and monitoring history, real captures, a real log journaled as an
excerpt), and the host view's on a real SSH host (the sshd fixture) after a real probe run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from diagkit.cases.desk import CaseDesk
from diagkit.store.sqlite import SqliteSampleStore
from diagkit.ui.main_window import MainWindow
from diagkit.ui.timeline_view import TimelineView
from tests.sshd_fixture import SshClientEnv
from tests.test_timeline import at, build_scenario


def window_with_scenario(qtbot: QtBot, tmp_path: Path) -> tuple[MainWindow, int, Path]:
    win = MainWindow(restore=False, case_store_path=tmp_path / "cases.db")
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    log = tmp_path / "db1.log"
    with SqliteSampleStore() as samples:  # the data dir's history.db, as a watch leaves it
        case_id = build_scenario(win.case_store(), samples, log)
    lines = [line for line in log.read_text().splitlines() if "No space left" in line][:3]
    CaseDesk(win.case_store(), engineer="ann").record_log_excerpt(case_id, str(log), lines)
    return win, case_id, log


def open_case_timeline(qtbot: QtBot, win: MainWindow, case_id: int) -> TimelineView:
    win.show_cases()
    qtbot.waitUntil(lambda: win.cases_view.model.row_of(case_id) >= 0, timeout=10000)
    win.cases_view.select_case(case_id)
    detail = win.cases_view.detail
    qtbot.waitUntil(lambda: detail.case is not None and detail.case.id == case_id, timeout=10000)
    view = detail.timeline_view
    with qtbot.waitSignal(view.loaded, timeout=60000):
        detail.journal_tabs.setCurrentWidget(view)
    return view


def test_case_timeline_tab_zoom_filter_came_first_and_evidence(qtbot: QtBot,
                                                              tmp_path: Path) -> None:
    win, case_id, log = window_with_scenario(qtbot, tmp_path)
    view = open_case_timeline(qtbot, win, case_id)
    events = view.model.events
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert len(events) == len(view.timeline.events) > 100
    shown = {k for k, b in view.kind_buttons.items() if b.isVisible()}
    assert {"change", "finding", "alert", "incident", "signature", "note", "log"} <= shown

    # filter by kind: no changes
    view.kind_buttons["change"].setChecked(False)
    assert view.model.rowCount() > 0 and all(e.kind != "change" for e in view.model.events)
    # zoom: the 40 minutes of the disk filling
    view._set_range(at("09:50"), at("10:35"))
    assert all(at("09:50") <= e.time <= at("10:36") for e in view.model.events)
    kinds = [e.kind for e in view.model.events]
    assert "finding" in kinds and "incident" in kinds
    refused = next(e for e in view.model.events if "Connection refused" in e.text)
    assert view.select_event(refused.id)
    start, end = view.time_range()
    view.zoom(0.5)
    new_start, new_end = view.time_range()
    assert abs((new_end - new_start) - (end - start) / 2) <= timedelta(seconds=2)
    assert new_start <= refused.time <= new_end and view.selected_event() == refused
    view.zoom_all()
    assert view.model.rowCount() == sum(1 for e in view.timeline.events if e.kind != "change")
    view.kind_buttons["change"].setChecked(True)

    # what came first before the refused connections
    assert view.select_event(refused.id)
    view.came_first_button.click()
    assert view.came_first_panel.isVisibleTo(view)
    assert "may be related" in view.came_first_label.text()
    assert "&lt;IP&gt;" in view.came_first_label.text()  # the message's text, not markup
    rows = view.came_first_table.rowCount()
    reasons = [view.came_first_table.item(r, 3).text() for r in range(rows)]
    whats = [view.came_first_table.item(r, 2).text() for r in range(rows)]
    assert rows > 5 and all(r.endswith(": may be related") for r in reasons)
    assert "/srv/pgdata" in whats[0] or "No space left" in whats[0]
    assert not any("systemctl status nginx" in w for w in whats)  # web1 is not db1

    # evidence: a log incident opens the log viewer at its first record
    incident = next(e for e in view.model.events if e.kind == "incident")
    assert view.select_event(incident.id)
    view.open_button.click()
    logs = win.log_views()
    assert len(logs) == 1 and logs[0].paths == [log]
    qtbot.waitUntil(lambda: logs[0].table.currentIndex().row() == incident.evidence.record,
                    timeout=30000)
    record = logs[0].model.record(logs[0].table.currentIndex().row())
    assert record is not None and "No space left on device" in record.raw
    # a journaled finding opens its journal entry in the case's Journal tab
    win.show_cases()
    detail = win.cases_view.detail
    finding = next(e for e in view.model.events if e.kind == "finding")
    index = view.model.index(view.model.events.index(finding), 0)
    view.table.doubleClicked.emit(index)
    assert detail.journal_tabs.currentWidget() is detail.timeline
    assert detail._pending_entry is None  # it was there to scroll to
    win.close()


def test_host_timeline_tab_on_a_real_ssh_host(qtbot: QtBot, tmp_path: Path,
                                             ssh_client_env: SshClientEnv) -> None:
    win = MainWindow(restore=False, case_store_path=tmp_path / "cases.db")
    qtbot.addWidget(win)
    win.show()
    host = win.open_host(ssh_client_env.alias, connect=False)
    assert host is not None
    with qtbot.waitSignal(host.snapshot_ready, timeout=120000):
        host.start()
    with qtbot.waitSignal(host.timeline.loaded, timeout=60000):
        host.views.setCurrentWidget(host.timeline)
    events = host.timeline.model.events
    assert events[0].time <= events[-1].time
    runs = [e for e in events if e.kind == "probe"]
    assert len(runs) == 1 and runs[0].host == ssh_client_env.alias
    # the changes probe ran over SSH on this machine: its package changes are on the timeline
    changes = [e for e in events if e.kind == "change"]
    assert changes and all(e.evidence.probe == "changes" for e in changes)
    # a click on a change shows the changes probe's card on the Dashboard
    assert host.timeline.select_event(changes[-1].id)
    host.timeline.table.doubleClicked.emit(host.timeline.model.index(
        host.timeline.model.events.index(changes[-1]), 0))
    assert host.views.currentWidget() is host.dashboard
    card = host.dashboard.cards["changes"]
    assert card.visibleRegion().isEmpty() is False
    # the kind filter keeps only what is asked
    host.views.setCurrentWidget(host.timeline)
    for kind, button in host.timeline.kind_buttons.items():
        button.setChecked(kind == "probe")
    assert [e.kind for e in host.timeline.model.events] == ["probe"]
    assert host.timeline.model.data(host.timeline.model.index(0, 1),
                                    Qt.ItemDataRole.DisplayRole) == "probe"
    win.close()
