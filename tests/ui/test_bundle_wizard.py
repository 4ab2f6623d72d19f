"""From a session to a bug report and back: the wizard writes a redacted bundle; the app opens it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from diagkit.ui.bundle_wizard import BundleView, BundleWizard
from diagkit.ui.host_view import HostView
from diagkit.ui.log_view import LogView
from diagkit.ui.main_window import MainWindow

SECRET = "Hunter2xyzzy"


def test_wizard_writes_a_redacted_bundle_and_the_app_reopens_it(qtbot: QtBot, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(
        "2024-03-01 10:00:00,000 - shop.api - INFO - start on 10.1.2.3\n"
        f"2024-03-01 10:00:01,000 - shop.api - ERROR - db login failed: password={SECRET} host=10.1.2.4\n"
        "2024-03-01 10:00:02,000 - shop.api - INFO - retrying\n")
    window = MainWindow(restore=False)
    qtbot.addWidget(window)
    window.show()

    host = window.open_host("local", connect=False)
    assert isinstance(host, HostView)
    with qtbot.waitSignal(host.snapshot_ready, timeout=30000):
        host.start()
    host.console.command_edit.setText(f"echo connecting with --password {SECRET}")
    with qtbot.waitSignal(host.console.command_finished, timeout=20000):
        host.console.run_command()
    assert host.journal and SECRET in str(host.journal[0]["text"])

    logs = window.open_logs([log])
    assert isinstance(logs, LogView)
    with qtbot.waitSignal(logs.opened, timeout=30000):
        pass
    qtbot.waitUntil(lambda: logs.model.rowCount() == 3, timeout=20000)
    logs.table.selectRow(1)
    logs.report_button.click()
    assert len(window.report_records) == 1

    wizard = BundleWizard(window.host_views(), window.report_records, parent=window)
    qtbot.addWidget(wizard)
    wizard.title_edit.setText("Checkout fails after DB password rotation")
    wizard.steps_edit.setPlainText("Rotate the DB password\nPlace an order")
    wizard.actual_edit.setPlainText("HTTP 500")
    wizard.obfuscate["ip"].setChecked(True)
    kinds = {wizard.evidence.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)[0]
             for i in range(wizard.evidence.topLevelItemCount())}
    assert kinds == {"host", "logs"}

    wizard.preview_redaction()
    qtbot.waitUntil(lambda: wizard.hits.topLevelItemCount() > 0, timeout=20000)
    found = [wizard.hits.topLevelItem(i).child(j).text(0)
             for i in range(wizard.hits.topLevelItemCount())
             for j in range(wizard.hits.topLevelItem(i).childCount())]
    assert any("password" in text.lower() for text in found)
    assert all(SECRET not in text for text in found)

    wizard.render_preview()
    qtbot.waitUntil(lambda: "Checkout fails" in wizard.report.toPlainText(), timeout=20000)
    assert SECRET not in wizard.report.toHtml()

    out = tmp_path / "report.zip"
    with qtbot.waitSignal(wizard.saved, timeout=60000):
        wizard.save(out)
    raw = out.read_bytes()
    assert SECRET.encode() not in raw
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert {"manifest.json", "report.html", "report.md"} <= set(names)
        for name in names:
            data = zf.read(name)
            assert SECRET.encode() not in data, name
            assert b"10.1.2.4" not in data, name  # IPs obfuscated on request
    assert any(n.startswith("logs/") for n in names)

    window.open_bug_report(out)
    qtbot.waitUntil(lambda: any(isinstance(window.tabs.widget(i), BundleView)
                                for i in range(window.tabs.count())), timeout=20000)
    view = next(window.tabs.widget(i) for i in range(window.tabs.count())
                if isinstance(window.tabs.widget(i), BundleView))
    assert "Checkout fails" in view.report.toPlainText()
    before = len(window.log_views())
    buttons = [b for b in view.findChildren(type(wizard.render_button)) if b.text().startswith("Browse")]
    buttons[0].click()
    assert len(window.log_views()) == before + 1


def test_opening_a_tampered_bundle_says_so(qtbot: QtBot, tmp_path: Path, monkeypatch) -> None:
    from diagkit.reports.bundle import write_bundle
    from diagkit.reports.model import Bundle

    out = tmp_path / "b.zip"
    write_bundle(Bundle(title="tampered"), out)
    with zipfile.ZipFile(out, "a") as zf:
        zf.writestr("report.md", "changed")  # a second member of the same name
    window = MainWindow(restore=False)
    qtbot.addWidget(window)
    from PySide6.QtWidgets import QMessageBox

    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda _p, _t, text: warned.append(text)))
    window.open_bug_report(out)
    qtbot.waitUntil(lambda: bool(warned), timeout=20000)
    assert "report.md" in warned[0]
    assert not any(isinstance(window.tabs.widget(i), BundleView) for i in range(window.tabs.count()))
