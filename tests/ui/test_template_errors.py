"""A runaway user template shows as a one-line error where it happened (the update composer's
status line, the bug-report wizard's state line), naming the template file and line; the
window stays usable. Real widgets offscreen, a real SQLite store, real template files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from diagkit import config
from diagkit.cases.desk import CaseDesk
from diagkit.cases.updates import user_templates_dir
from diagkit.store.sqlite import SqliteStore
from diagkit.ui import update_dialog
from diagkit.ui.bundle_wizard import BundleWizard
from diagkit.ui.update_dialog import UpdateDialog


def test_update_composer_shows_the_template_limit_inline(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = user_templates_dir()
    folder.mkdir(parents=True)
    bad = folder / "progress.jinja2"
    bad.write_text("Subject: hi\n\n{% for i in range(10**9) %}x{% endfor %}\n")
    with SqliteStore(tmp_path / "cases.db") as store:
        desk = CaseDesk(store, engineer="ana")
        case = desk.open_case("Printer offline", contact="Bob <bob@acme.example>\nBcc: x@evil")
        dialog = UpdateDialog(desk, case)
        qtbot.addWidget(dialog)
        assert "Printer offline" in dialog.subject_edit.text()  # acknowledgement is fine
        dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("progress"))
        text = dialog.status.text()
        assert f"({bad}, line 3)" in text and "stopped at a limit" in text
        # Saving an .eml with a To: that holds a line break is refused on the status line.
        dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("acknowledgement"))
        dialog.to_edit.setText("bob@acme.example\nBcc: x@evil")
        target = tmp_path / "u.eml"
        monkeypatch.setattr(update_dialog, "ask_save_path", lambda parent, s, suffix: target)
        dialog.save_as(".eml")
        qtbot.waitUntil(lambda: "line break" in dialog.status.text(), timeout=10000)
        assert not target.exists()


def test_bug_report_wizard_shows_the_template_limit(qtbot: QtBot) -> None:
    bad = config.config_dir() / "templates" / "report.html.jinja2"
    bad.parent.mkdir(parents=True)
    bad.write_text("<p>\n{{ '%s' * 10**8 }}\n")
    wizard = BundleWizard([], [])
    qtbot.addWidget(wizard)
    wizard.title_edit.setText("Checkout fails")
    wizard.render_preview()
    qtbot.waitUntil(lambda: "stopped at a limit" in wizard.state.text(), timeout=20000)
    assert f"({bad}, line 2)" in wizard.state.text()
    assert "Traceback" not in wizard.state.text()
