"""The Cases tab, offscreen, on a real SQLite store under tmp_path and real workers."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from diagkit.cases.active import active_case, set_active_case
from diagkit.cases.desk import CaseDesk
from diagkit.store.contract import CaseDraft
from diagkit.store.sqlite import SqliteStore
from diagkit.ui import update_dialog
from diagkit.ui.cases_view import BREACHED_COLOUR, COL_SLA, COL_TITLE, CasesView
from diagkit.ui.main_window import MainWindow


@pytest.fixture
def store(tmp_path: Path):
    with SqliteStore(tmp_path / "cases.db") as s:
        yield s


@pytest.fixture
def desk(store: SqliteStore) -> CaseDesk:
    return CaseDesk(store, engineer="ana")


@pytest.fixture
def view(qtbot: QtBot, desk: CaseDesk) -> CasesView:
    widget = CasesView(lambda: desk)
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    qtbot.waitUntil(lambda: widget.loaded_once, timeout=10000)
    return widget


def _select(qtbot: QtBot, view: CasesView, case_id: int) -> None:
    qtbot.waitUntil(lambda: view.model.row_of(case_id) >= 0, timeout=10000)
    view.select_case(case_id)
    qtbot.waitUntil(lambda: view.detail.case is not None and view.detail.case.id == case_id,
                    timeout=10000)


def _reloaded(qtbot: QtBot, view: CasesView, condition) -> None:
    qtbot.waitUntil(lambda: view.detail.case is not None and condition(view.detail.case),
                    timeout=10000)


def test_new_case_dialog_creates_a_triaged_case_listed_with_sla(qtbot: QtBot, view: CasesView,
                                                               store: SqliteStore) -> None:
    dialog = view.new_case()
    assert dialog is not None
    dialog.save()
    assert "title" in dialog.error.text()  # an empty title is refused inline
    dialog.title_edit.setText("Disk full on web01")
    dialog.customer_edit.setText("ACME")
    dialog.tags_edit.setText("disk, web")
    dialog.hosts_edit.setText("web01")
    dialog.impact_combo.setCurrentIndex(dialog.impact_combo.findData("significant"))
    dialog.urgency_combo.setCurrentIndex(dialog.urgency_combo.findData("high"))
    assert dialog.severity_label.text() == "S2"
    with qtbot.waitSignal(dialog.saved, timeout=10000) as saved:
        dialog.save()
    case = saved.args[0]
    assert store.get_case(case.id).severity == "S2"
    assert store.get_case(case.id).status == "triaged"
    assert store.get_case(case.id).tags == ("disk", "web")
    _select(qtbot, view, case.id)
    row = view.model.row_of(case.id)
    assert view.model.index(row, COL_TITLE).data() == "Disk full on web01"
    assert view.model.index(row, COL_SLA).data().endswith("left")
    assert "#1 Disk full on web01" in view.detail.heading.text()
    assert "web01" in view.detail.fields.text()


def test_breached_case_is_red_and_search_filters(qtbot: QtBot, desk: CaseDesk,
                                                 store: SqliteStore) -> None:
    old = store.create_case(CaseDraft("Outage since last month", customer="Globex", severity="S1",
                                      impact="extensive", urgency="critical", status="triaged",
                                      created=datetime.now(UTC) - timedelta(days=30)))
    fresh = desk.open_case("Slow login", customer="Initech")
    widget = CasesView(lambda: desk)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.model.rowCount() == 2, timeout=10000)
    index = widget.model.index(widget.model.row_of(old.id), COL_SLA)
    assert index.data().startswith("breached")
    assert index.data(0x0009).color() == BREACHED_COLOUR  # ForegroundRole
    assert widget.model.index(widget.model.row_of(fresh.id), COL_SLA).data() == "untriaged"
    assert "1 breached" in widget.count_label.text()
    widget.search.setText("globex")
    assert widget.proxy.rowCount() == 1
    widget.search.setText("")
    assert widget.proxy.rowCount() == 2


def test_status_buttons_follow_the_lifecycle_and_refusals_show_inline(
        qtbot: QtBot, view: CasesView, desk: CaseDesk, store: SqliteStore) -> None:
    case = desk.open_case("Cannot print")
    view.reload(select=case.id)
    _select(qtbot, view, case.id)
    buttons = view.detail.status_buttons
    assert not buttons["new"].isVisible()
    assert [s for s, b in buttons.items() if b.isEnabled()] == ["triaged"]
    assert not buttons["closed"].isEnabled()
    assert "triaged" in buttons["closed"].toolTip() or "Not now" in buttons["closed"].toolTip()

    view.detail.request_status("closed")  # what a stale button would ask: refused, explained
    qtbot.waitUntil(lambda: view.detail.error.isVisible(), timeout=10000)
    assert "Cannot change the case status" in view.detail.error.text()
    assert store.get_case(case.id).status == "new"

    view.detail.impact_combo.setCurrentIndex(view.detail.impact_combo.findData("minor"))
    view.detail.urgency_combo.setCurrentIndex(view.detail.urgency_combo.findData("low"))
    view.detail.triage_button.click()
    _reloaded(qtbot, view, lambda c: c.status == "triaged")
    assert not view.detail.error.isVisible()
    assert store.get_case(case.id).severity == "S4"
    enabled = {s for s, b in buttons.items() if b.isEnabled()}
    assert enabled == {"in_progress", "waiting_on_customer"}
    buttons["in_progress"].click()
    _reloaded(qtbot, view, lambda c: c.status == "in_progress")
    buttons["resolved"].click()
    _reloaded(qtbot, view, lambda c: c.status == "resolved")
    view.detail.csat_combo.setCurrentIndex(view.detail.csat_combo.findData(5))
    buttons["closed"].click()
    _reloaded(qtbot, view, lambda c: c.status == "closed")
    assert store.get_case(case.id).csat == 5
    assert any(e.kind == "csat" for e in store.journal(case.id))


def test_add_note_appears_in_the_timeline_as_markdown(qtbot: QtBot, view: CasesView,
                                                      desk: CaseDesk, store: SqliteStore) -> None:
    case = desk.open_case("Memory leak", impact="moderate", urgency="medium")
    view.reload(select=case.id)
    _select(qtbot, view, case.id)
    view.detail.note_edit.setPlainText("Found **heap growth** in `app.log`")
    view.detail.note_button.click()
    qtbot.waitUntil(lambda: "heap growth" in view.detail.timeline.toPlainText(), timeout=10000)
    assert "**" not in view.detail.timeline.toPlainText()  # rendered, not raw Markdown
    assert "[Note]" in view.detail.timeline.toPlainText()
    assert view.detail.note_edit.toPlainText() == ""
    assert [e.text for e in store.journal(case.id) if e.kind == "note"] == [
        "Found **heap growth** in `app.log`"]
    view.detail.hosts_edit.setText("db01, web02")
    view.detail.hosts_button.click()
    _reloaded(qtbot, view, lambda c: c.hosts == ("db01", "web02"))
    with qtbot.waitSignal(view.detail.open_host_requested, timeout=2000) as opened:
        view.detail._link("host:db01")
    assert opened.args == ["db01"]


def test_composer_prefills_and_saves_a_parseable_eml(qtbot: QtBot, view: CasesView, desk: CaseDesk,
                                                     store: SqliteStore, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    case = desk.open_case("OOM kills on db01", customer="ACME", contact="bob@acme.example",
                          impact="significant", urgency="high")
    view.reload(select=case.id)
    _select(qtbot, view, case.id)
    view.detail.update_button.click()
    qtbot.waitUntil(lambda: view.detail.update_dialog is not None, timeout=10000)
    dialog = view.detail.update_dialog
    assert dialog.kind_combo.currentData() == "acknowledgement"
    assert dialog.subject_edit.text()
    assert dialog.body_edit.toPlainText().strip()
    assert dialog.to_edit.text() == "bob@acme.example"
    dialog.body_edit.appendPlainText("The OOM killer stopped the database.")
    dialog.update_glossary()
    assert "OOM" in dialog.glossary.toPlainText()

    target = tmp_path / "update.eml"
    monkeypatch.setattr(update_dialog, "ask_save_path", lambda parent, suggested, suffix: target)
    with qtbot.waitSignal(dialog.recorded, timeout=10000):
        dialog.eml_button.click()
    message = email.message_from_bytes(target.read_bytes())
    assert message["Subject"] == dialog.subject_edit.text()
    assert "OOM killer" in (message.get_payload(decode=True) or b"").decode() or \
        "OOM killer" in message.as_string()
    updates = [e for e in store.journal(case.id) if e.kind == "customer_update"]
    assert len(updates) == 1
    assert updates[0].data["channel"] == "eml" and updates[0].data["path"] == str(target)
    assert updates[0].data["update_kind"] == "acknowledgement"
    assert store.get_case(case.id).first_response_at is not None
    qtbot.waitUntil(lambda: "Customer update" in view.detail.timeline.toPlainText(), timeout=10000)


def test_active_case_journals_a_local_probe_run(qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(restore=False, case_store_path=tmp_path / "win.db")
    qtbot.addWidget(window)
    window.show()
    desk = window.case_desk()
    case = desk.open_case("Investigate this machine", impact="minor", urgency="low")
    window.refresh_active_cases()
    qtbot.waitUntil(lambda: window.active_combo.findData(case.id) >= 0, timeout=10000)
    window.active_combo.setCurrentIndex(window.active_combo.findData(case.id))
    assert active_case() == case.id
    assert f"#{case.id}" in window.active_label.text()
    view = window.open_host("local", connect=False)
    assert view is not None
    with qtbot.waitSignal(view.snapshot_ready, timeout=60000):
        view.start()
    store = window.case_store()
    qtbot.waitUntil(lambda: any(e.kind == "probe" for e in store.journal(case.id)), timeout=15000)
    entry = next(e for e in store.journal(case.id) if e.kind == "probe")
    assert entry.data["host"] == "local" and "cpu" in entry.data["probes"]

    view.views.setCurrentWidget(view.console)
    with qtbot.waitSignal(view.console.command_finished, timeout=15000):
        view.console.run_command("echo journaled")
    qtbot.waitUntil(lambda: any(e.kind == "command" for e in store.journal(case.id)), timeout=15000)
    command = next(e for e in store.journal(case.id) if e.kind == "command")
    assert command.text == "echo journaled" and command.data["exit_status"] == 0

    window.active_combo.setCurrentIndex(0)  # none: nothing more is journaled
    assert active_case() is None
    set_active_case(None)


def test_cases_tab_is_permanent_and_reachable_by_shortcut(qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(restore=False, case_store_path=tmp_path / "win.db")
    qtbot.addWidget(window)
    window.show()
    window.act_cases.trigger()
    assert window.tabs.currentWidget() is window.cases_view
    index = window.tabs.indexOf(window.cases_view)
    window.close_tab(index)
    assert window.tabs.indexOf(window.cases_view) >= 0
    assert window.act_cases.shortcut().toString() == "Ctrl+Shift+C"


def test_kb_button_opens_the_article_editor_with_a_draft_and_journals_the_saved_article(
        qtbot: QtBot, view: CasesView, desk: CaseDesk, store: SqliteStore) -> None:
    case = desk.open_case("Disk full on web01", impact="moderate", urgency="medium")
    view.reload(select=case.id)
    _select(qtbot, view, case.id)
    view.detail.kb_button.click()
    dialog = view.detail.article_dialog
    assert dialog.isVisible()
    assert dialog.title_edit.text() == "Disk full on web01"
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        dialog.save()
    qtbot.waitUntil(lambda: any(e.kind == "kb_article" for e in store.journal(case.id)),
                    timeout=10000)
    assert [a.title for a in store.list_articles()] == ["Disk full on web01"]
