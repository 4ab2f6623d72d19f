"""The metrics tab, offscreen, over a real SQLite store seeded with a few cases whose figures are
worked out by hand below (default SLA policies; S1 is 24x7, first response 1 h, resolution 4 h).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from diagkit.store.contract import CaseDraft
from diagkit.store.sqlite import SqliteStore
from diagkit.ui.metrics_view import MetricsView, duration_text

NOW = datetime(2024, 3, 8, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
DAY = timedelta(days=1)


def _case(store: SqliteStore, engineer: str, severity: str, created: datetime, *,
          first_response: timedelta | None = None, resolved: timedelta | None = None,
          csat: int | None = None) -> int:
    case = store.create_case(CaseDraft(f"case of {engineer}", engineer=engineer, severity=severity,
                                       status="triaged", created=created))
    case = store.record_status(case.id, "in_progress", expected_version=case.version_counter,
                               at=created + timedelta(minutes=1))
    if first_response is not None:
        store.append_journal(case.id, "customer_update", "ack", at=created + first_response,
                             first_response=True, data={"update_kind": "acknowledgement",
                                                        "subject": "s", "channel": "clipboard"})
        case = store.get_case(case.id)
    if resolved is not None:
        case = store.record_status(case.id, "resolved", expected_version=case.version_counter,
                                   at=created + resolved)
    if csat is not None:
        store.update_case(case.id, case.version_counter, csat=csat)
    return case.id


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "cases.db")
    # In the last 7 days (NOW - 7 d .. NOW):
    # C1 alice S1: first response after 30 min, resolved after 3 h, CSAT 5 -> S1 SLA met.
    c1 = _case(s, "alice", "S1", NOW - 3 * DAY, first_response=30 * timedelta(minutes=1),
               resolved=3 * H, csat=5)
    # C2 bob S1: first response after 2 h (breached: target 1 h), resolved after 10 h, CSAT 2.
    c2 = _case(s, "bob", "S1", NOW - 2 * DAY, first_response=2 * H, resolved=10 * H, csat=2)
    # C3 alice S1: opened 36 h ago, answered after 20 min, still open -> backlog, aged 1-3 d,
    # resolution clock (4 h) due long ago -> breached.
    _case(s, "alice", "S1", NOW - 36 * H, first_response=timedelta(minutes=20))
    # C4 before the period: opened and resolved 20/15 days ago; counts nowhere.
    _case(s, "bob", "S4", NOW - 20 * DAY, first_response=H, resolved=5 * DAY)
    for case_id in (c1, c2):
        s.append_journal(case_id, "log_excerpt", "lines", at=NOW - DAY,
                         data={"file": "syslog", "lines": 1, "signatures": ["disk full <N>"]})
    s.append_journal(c1, "known_issue", at=NOW - DAY,
                     data={"article_id": 1, "slug": "disk-full", "title": "Filesystem full"})
    yield s
    s.close()


def _view(qtbot: QtBot, store: SqliteStore) -> MetricsView:
    view = MetricsView(store, now=lambda: NOW)
    qtbot.addWidget(view)
    view.resize(1300, 800)
    view.show()
    period = [label for label, _days in view_periods()].index("Last 7 days")
    with qtbot.waitSignal(view.computed, timeout=15000):
        view.period_box.setCurrentIndex(period)
    return view


def view_periods() -> tuple:
    from diagkit.ui.metrics_view import PERIODS

    return PERIODS


def _figures(view: MetricsView) -> dict[str, str]:
    table = view.figures
    return {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}


def test_figures_table_shows_the_expected_numbers(qtbot: QtBot, store: SqliteStore) -> None:
    view = _view(qtbot, store)
    figures = _figures(view)
    assert figures["Cases opened"] == "3"
    assert figures["Cases resolved"] == "2"
    # nearest-rank: the median of an even count is the lower middle value
    assert figures["First response: median"] == "30 min"  # of 20 min, 30 min, 2 h
    assert figures["First response: 90th percentile"] == "2 h"
    assert figures["Time to resolve: median"] == "3 h"  # of 3 h, 10 h
    assert figures["Time to resolve: 90th percentile"] == "10 h"
    assert figures["SLA breached, S1"] == "2 of 3 (67 %)"  # C2 late answer, C3 overdue
    assert figures["CSAT 4–5"] == "50 %"
    assert figures["CSAT ratings"] == "1★: 0  2★: 1  3★: 0  4★: 0  5★: 1"
    assert figures["Backlog (open now)"] == "1"
    assert figures["Backlog aged 1-3d"] == "1"
    assert figures["Top signature #1"] == "disk full <N>  (2 cases)"
    assert figures["Top KB article #1"] == "Filesystem full [disk-full]  (1 case)"
    engineers = {view.engineers.item(r, 0).text(): [view.engineers.item(r, c).text() for c in range(1, 6)]
                 for r in range(view.engineers.rowCount())}
    assert engineers == {"alice": ["2", "1", "20 min", "3 h", "1"],
                         "bob": ["1", "1", "2 h", "10 h", "0"]}
    # the plot has one point per UTC day the period touches (12:00 to 12:00: 8 days)
    x, opened = view.curves["opened"].getData()
    assert len(x) == 8 and sum(opened) == 3
    assert view.curves["backlog"].getData()[1][-1] == 1

    # one engineer only
    view.engineer_box.setCurrentText("bob")
    with qtbot.waitSignal(view.computed, timeout=15000):
        view.refresh_button.click()
    assert _figures(view)["Cases opened"] == "1" and _figures(view)["Backlog (open now)"] == "0"


def test_export_csv_writes_the_report(qtbot: QtBot, store: SqliteStore, tmp_path: Path,
                                      monkeypatch) -> None:
    view = _view(qtbot, store)
    target = tmp_path / "out" / "metrics.csv"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *_a, **_k: (str(target), "CSV files (*.csv)")))
    view.csv_button.click()
    assert target.read_text(encoding="utf-8") == view.report.to_csv()
    assert "Exported" in view.state.text()
    # an unwritable place is said inline, nothing raised
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *_a, **_k: (str(tmp_path / "missing" / "m.csv"), "")))
    view.csv_button.click()
    assert view.state.text().startswith("Cannot write")


def test_custom_period_and_durations(qtbot: QtBot, store: SqliteStore) -> None:
    view = _view(qtbot, store)
    view.period_box.setCurrentIndex(len(view_periods()) - 1)
    assert view.since_edit.isVisible() and view.until_edit.isVisible()
    view.until_edit.setDate(view.since_edit.date().addDays(-2))
    assert "ends before it starts" in view.state.text()
    assert duration_text(None) == "–"
    assert duration_text(timedelta(seconds=42)) == "42 s"
    assert duration_text(timedelta(days=2, hours=4, minutes=10)) == "2 d 4 h"
