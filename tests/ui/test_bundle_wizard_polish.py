"""The bug-report wizard (issue 17, item 11): an informed "Not a secret", the report rendered on
entry, separated nav links, host names on findings from two hosts, open log tabs offered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from diagkit.hosts import HostStore, SavedHost
from diagkit.probes.runner import HostSnapshot
from diagkit.ui.bundle_wizard import BundleWizard, masked_middle
from diagkit.ui.main_window import MainWindow
from tests.ui.realistic import busy_host_results

SECRET = "Hunter2xyzzy"


def _window_with_two_probed_hosts(qtbot: QtBot) -> MainWindow:
    store = HostStore()
    store.add(SavedHost("web-eu-1", "web-eu-1.acme.example", user="support"))
    store.add(SavedHost("db-eu-1", "db-eu-1.acme.example", user="support"))
    window = MainWindow(store, restore=False)
    qtbot.addWidget(window)
    results = tuple(busy_host_results())
    for name in ("web-eu-1", "db-eu-1"):
        view = window.open_host(name, connect=False)
        view.last_snapshot = HostSnapshot(host=name, results=results, started=datetime.now(UTC),
                                          duration=1.0)
    return window


def _open_log(qtbot: QtBot, window: MainWindow, tmp_path: Path):
    log = tmp_path / "app.log"
    log.write_text("2024-03-01 10:00:00,000 - shop.api - INFO - start\n"
                   "2024-03-01 10:00:01,000 - shop.api - ERROR - db login failed from "
                   "192.168.40.17 for user shop\n"
                   "2024-03-01 10:00:01,500 - shop.api - ERROR - retry with password="
                   f"{SECRET} refused\n"
                   "2024-03-01 10:00:02,000 - shop.api - INFO - retrying\n")
    view = window.open_logs([log])
    with qtbot.waitSignal(view.opened, timeout=30000):
        pass
    qtbot.waitUntil(lambda: view.model.rowCount() == 4, timeout=20000)
    return view


def test_masked_middle_keeps_both_ends() -> None:
    assert masked_middle("192.168.40.17") == "192.•••0.17"
    assert masked_middle("abc") == "a••"
    assert "s3cr3tPassw0rdValue" not in masked_middle("s3cr3tPassw0rdValue")


def test_findings_name_their_host_and_log_tabs_are_offered(qtbot: QtBot, tmp_path: Path) -> None:
    window = _window_with_two_probed_hosts(qtbot)
    logs = _open_log(qtbot, window, tmp_path)
    logs.table.selectRow(1)  # selected, "Add to bug report" not clicked
    wizard = BundleWizard(window.host_views(), [], parent=window, log_views=window.log_views())
    qtbot.addWidget(wizard)
    kinds = [wizard.evidence.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)[0]
             for i in range(wizard.evidence.topLevelItemCount())]
    assert "logtab" in kinds
    tab = wizard.evidence.topLevelItem(kinds.index("logtab"))
    assert tab.checkState(0) == Qt.CheckState.Checked and "1 selected" in tab.text(1)
    note = wizard.findChild(type(wizard.state), "logs-note")
    assert "Add to bug report" in note.text()
    bundle, records = wizard.draft()
    assert len(records) == 1 and "192.168.40.17" in records[0].message
    hosts = {f.title.split(": ", 1)[0] for f in bundle.findings}
    assert hosts == {"web-eu-1", "db-eu-1"}


def test_redaction_preview_shows_enough_to_judge(qtbot: QtBot, tmp_path: Path) -> None:
    window = _window_with_two_probed_hosts(qtbot)
    logs = _open_log(qtbot, window, tmp_path)
    logs.table.selectAll()
    wizard = BundleWizard([], [], parent=window, log_views=window.log_views())
    qtbot.addWidget(wizard)
    wizard.obfuscate["ip"].setChecked(True)
    wizard.preview_redaction()
    qtbot.waitUntil(lambda: wizard.hits.topLevelItemCount() > 0, timeout=20000)
    items = [wizard.hits.topLevelItem(i).child(j) for i in range(wizard.hits.topLevelItemCount())
             for j in range(wizard.hits.topLevelItem(i).childCount())]
    # an address (chosen to be replaced, not a secret): in full, with its line
    ip = next(item for item in items if "192." in item.text(0))
    assert ip.text(0) == "ipv4: 192.168.40.17"
    assert "db login failed from 192.168.40.17 for user" in ip.text(3)
    # a secret: only its ends, in its line
    secret = next(item for item in items if "Hunt" in item.text(0))
    assert SECRET not in secret.text(0) + secret.text(3)
    assert "Hunt•••yzzy" in secret.text(0) and "retry with password=" in secret.text(3)


def test_report_page_renders_on_entry_with_separated_links(qtbot: QtBot) -> None:
    window = _window_with_two_probed_hosts(qtbot)
    wizard = BundleWizard(window.host_views(), [], parent=window)
    qtbot.addWidget(wizard)
    wizard.title_edit.setText("Checkout fails after the DB password rotation")
    wizard.summary_edit.setPlainText("Every checkout fails since 09:40.")
    wizard.pages.setCurrentIndex(3)  # no Render click
    qtbot.waitUntil(lambda: "Checkout fails" in wizard.report.toPlainText(), timeout=60000)
    text = wizard.report.toPlainText()
    assert "Summary · " in text and "SummaryFindings" not in text.replace(" ", "")


def test_report_head_facts_are_separated(qtbot: QtBot) -> None:
    window = _window_with_two_probed_hosts(qtbot)
    wizard = BundleWizard(window.host_views(), [], parent=window)
    qtbot.addWidget(wizard)
    wizard.pages.setCurrentIndex(3)
    qtbot.waitUntil(lambda: "finding" in wizard.report.toPlainText(), timeout=60000)
    text = wizard.report.toPlainText()
    assert "· 2 hosts: web-eu-1, db-eu-1 ·" in text
