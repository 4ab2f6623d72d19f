"""Every view at the common window sizes, with realistic data: no button or input out of reach,
no widget drawn over another, dashboard cards in one column when narrow (issue 17, item 5).

Realistic data: the probe captures of planted faults (tests/data/probes), scaled to 40 processes
and 30 mounts; three saved hosts; cases with long titles; real log files; a real local fleet.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from diagkit.hosts import HostStore, SavedHost
from diagkit.store.contract import CaseDraft
from diagkit.ui.main_window import MainWindow
from tests.ui.layout_check import layout_problems
from tests.ui.realistic import busy_host_results

SIZES = ((1280, 820), (1024, 700))
LONG_TITLE = ("Checkout returns HTTP 500 for every customer in the EU region after the database "
              "password rotation on the primary cluster")
LOGHUB = Path("/work/shared/loghub-dev")


@pytest.fixture
def window(qtbot: QtBot):
    store = HostStore()
    store.add(SavedHost("web-eu-1", "web-eu-1.acme.example", user="support", group="Customer ACME",
                        tags=("web", "prod"), notes="Ticket 4711: slow checkout"))
    store.add(SavedHost("db-eu-1", "db-eu-1.acme.example", user="support", jump="web-eu-1",
                        group="Customer ACME", tags=("db", "prod")))
    store.add(SavedHost("staging-with-a-rather-long-name", "10.0.3.7", user="root", group="Lab"))
    win = MainWindow(store, restore=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def _settle(qtbot: QtBot) -> None:
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(30)


def _check(qtbot: QtBot, win, what: str, top=None) -> list[str]:
    found = []
    for width, height in SIZES:
        win.resize(width, height)
        _settle(qtbot)
        target = top or win
        if win.width() > width or win.height() > height:
            found.append(f"{what} at {width}x{height}: the window cannot shrink below "
                         f"{win.width()}x{win.height()}")
            continue
        found += [f"{what} at {width}x{height}: {p}" for p in layout_problems(target)]
    return found


def _dashboard(win, qtbot: QtBot):
    views = [win.open_host(name, connect=False) for name in ("web-eu-1", "db-eu-1", "staging-with-a-rather-long-name")]
    for view in views:
        for result in busy_host_results():
            view.dashboard.show_result(result)
    win.tabs.setCurrentWidget(views[0])
    _settle(qtbot)
    return views[0]


def test_dashboard(qtbot: QtBot, window) -> None:
    view = _dashboard(window, qtbot)
    problems = _check(qtbot, window, "dashboard")
    view.dashboard.cards["disk"].raw_button.setChecked(True)
    view.dashboard.cards["processes"].raw_button.setChecked(True)
    problems += _check(qtbot, window, "dashboard with raw output")
    assert not problems, "\n".join(problems)


def test_dashboard_cards_reflow_to_one_column_when_narrow(qtbot: QtBot, window) -> None:
    view = _dashboard(window, qtbot)
    grid = view.dashboard.grid
    window.resize(1280, 820)
    _settle(qtbot)
    wide_columns = {grid.getItemPosition(i)[1] for i in range(grid.count())}
    window.resize(1024, 700)
    _settle(qtbot)
    narrow_columns = {grid.getItemPosition(i)[1] for i in range(grid.count())}
    assert narrow_columns == {0}
    scroll = view.dashboard.scroll
    assert scroll.widget().width() <= scroll.viewport().width()  # nothing cut off on the right
    window.resize(1700, 1000)
    _settle(qtbot)
    assert {grid.getItemPosition(i)[1] for i in range(grid.count())} == {0, 1}
    del wide_columns


def test_live_and_console(qtbot: QtBot, window) -> None:
    from tests.ui.test_plots_polish import _feed

    view = _dashboard(window, qtbot)
    view.views.setCurrentIndex(1)
    _feed(view.plots, time.time() - 200, range(80))
    problems = _check(qtbot, window, "live")
    view.views.setCurrentIndex(2)
    problems += _check(qtbot, window, "console")
    view.views.setCurrentWidget(view.terminal)  # not connected: the banner offers Connect
    problems += _check(qtbot, window, "terminal")
    assert not problems, "\n".join(problems)


def _seed_cases(window) -> int:
    from datetime import UTC, datetime, timedelta

    desk = window.case_desk()
    now = datetime.now(UTC)
    desk.store.create_case(CaseDraft(LONG_TITLE, customer="ACME Corporation Europe", severity="S1",
                                     impact="extensive", urgency="critical", status="triaged",
                                     hosts=("web-eu-1", "db-eu-1"), engineer=desk.engineer,
                                     created=now - timedelta(hours=6)))
    for n in range(12):
        desk.open_case(f"{LONG_TITLE} ({n})", customer="Globex", tags=("performance",))
    case = desk.open_case("Disk full on db-eu-1: WAL archiving stalled since the archive share "
                          "went read-only", customer="ACME", contact="ops@acme.example",
                          impact="significant", urgency="high", hosts=("db-eu-1",))
    desk.add_note(case.id, "`/var/lib/postgresql` is **97 %** full")
    return case.id


def test_cases(qtbot: QtBot, window) -> None:
    case_id = _seed_cases(window)
    window.show_cases()
    view = window.cases_view
    view.reload(select=case_id)
    qtbot.waitUntil(lambda: view.detail.case is not None and view.detail.case.id == case_id,
                    timeout=10000)
    problems = _check(qtbot, window, "cases")
    assert not problems, "\n".join(problems)


def test_cases_title_column_gets_the_space(qtbot: QtBot, window) -> None:
    case_id = _seed_cases(window)
    window.show_cases()
    view = window.cases_view
    view.reload(select=case_id)
    qtbot.waitUntil(lambda: view.model.rowCount() >= 14, timeout=10000)
    table = view.table
    model = table.model()
    titles = [c for c in range(model.columnCount())
              if model.headerData(c, __import__("PySide6.QtCore").QtCore.Qt.Orientation.Horizontal)
              == "Title"]
    assert titles
    for width, height in SIZES:
        window.resize(width, height)
        _settle(qtbot)
        widths = [table.columnWidth(c) for c in range(model.columnCount())
                  if not table.isColumnHidden(c)]
        assert table.columnWidth(titles[0]) == max(widths)
        assert table.columnWidth(titles[0]) >= (220 if width >= 1280 else 150), (width, widths)


def test_knowledge_base_metrics_history(qtbot: QtBot, window) -> None:
    window.open_kb()
    qtbot.waitUntil(lambda: window.kb_view.results.count() > 0, timeout=20000)
    problems = _check(qtbot, window, "kb")
    window.open_metrics()
    problems += _check(qtbot, window, "metrics")
    window.open_history()
    problems += _check(qtbot, window, "history")
    assert not problems, "\n".join(problems)


def test_fleet(qtbot: QtBot, window) -> None:
    from diagkit.transport.local import LocalTransport
    from diagkit.ui.fleet_view import FleetView

    view = FleetView(["web-eu-1", "db-eu-1", "staging-with-a-rather-long-name"], interval=1.0,
                     connect=lambda _name: LocalTransport())
    window.fleet_view = view
    window._show_tab(view, "Fleet")
    view.start()
    try:
        qtbot.waitUntil(lambda: all(s.last_sample for s in view.watcher.states().values()),
                        timeout=30000)
        view.refresh()
        problems = _check(qtbot, window, "fleet")
    finally:
        view.stop()
    assert not problems, "\n".join(problems)


def test_log_viewer(qtbot: QtBot, window, tmp_path: Path) -> None:
    logs = sorted(LOGHUB.glob("*/*.log"))[:2]
    assert logs, "the loghub sample logs are missing"
    view = window.open_logs(logs)
    qtbot.waitUntil(lambda: " of " in view.counts.text(), timeout=60000)
    problems = _check(qtbot, window, "log viewer")
    assert not problems, "\n".join(problems)


def test_bug_report_wizard(qtbot: QtBot, window) -> None:
    from diagkit.ui.bundle_wizard import BundleWizard

    _dashboard(window, qtbot)
    wizard = BundleWizard(window.host_views(), [], parent=window)
    qtbot.addWidget(wizard)
    wizard.title_edit.setText(LONG_TITLE)
    wizard.resize(1000, 680)
    wizard.show()
    problems = []
    for page in range(wizard.pages.count()):
        wizard.pages.setCurrentIndex(page)
        _settle(qtbot)
        problems += [f"wizard page {page}: {p}" for p in layout_problems(wizard)]
    wizard.reject()
    assert not problems, "\n".join(problems)


def test_dialogs(qtbot: QtBot, window) -> None:
    from diagkit.ui.host_dialog import HostDialog

    problems = []
    dialog = HostDialog(window.store, window.store.get("db-eu-1"), parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    _settle(qtbot)
    problems += [f"host dialog: {p}" for p in layout_problems(dialog)]
    dialog.reject()
    window.open_kb()
    qtbot.waitUntil(lambda: window.kb_view.results.count() > 0, timeout=20000)
    window.kb_view.results.setCurrentRow(0)
    qtbot.waitUntil(lambda: window.kb_view.current is not None, timeout=10000)
    editor = window.kb_view.edit_article()
    qtbot.addWidget(editor)
    editor.show()
    _settle(qtbot)
    problems += [f"article editor: {p}" for p in layout_problems(editor)]
    editor.reject()
    assert not problems, "\n".join(problems)


def test_case_timeline_tab(qtbot: QtBot, window, tmp_path: Path) -> None:
    """The Timeline tab of a case, loaded (the disk-full scenario) with what came first shown."""
    from diagkit.store.sqlite import SqliteSampleStore
    from tests.test_timeline import build_scenario

    with SqliteSampleStore() as samples:
        case_id = build_scenario(window.case_store(), samples, tmp_path / "db1.log")
    window.show_cases()
    view = window.cases_view
    view.reload(select=case_id)
    qtbot.waitUntil(lambda: view.detail.case is not None and view.detail.case.id == case_id,
                    timeout=10000)
    timeline = view.detail.timeline_view
    with qtbot.waitSignal(timeline.loaded, timeout=60000):
        view.detail.journal_tabs.setCurrentWidget(timeline)
    assert timeline.select_event(timeline.model.events[-1].id)
    timeline.came_first_button.click()
    problems = _check(qtbot, window, "case timeline")
    assert not problems, "\n".join(problems)
