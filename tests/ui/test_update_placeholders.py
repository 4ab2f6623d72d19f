"""The update composer blocks an update with an unfilled "[describe ...]" placeholder: it is
highlighted, Copy and Save stay disabled until the engineer fills it. Real widgets offscreen, a
real SQLite store."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from diagkit.cases.desk import CaseDesk
from diagkit.store.sqlite import SqliteStore
from diagkit.ui.update_dialog import UpdateDialog


def test_placeholder_is_highlighted_and_sending_blocked_until_filled(
        qtbot: QtBot, tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "cases.db") as store:
        desk = CaseDesk(store, engineer="Ann Smith")
        case = desk.open_case("Shop is slow", contact="bob@acme.example")
        dialog = UpdateDialog(desk, case)
        qtbot.addWidget(dialog)
        buttons = (dialog.copy_button, dialog.eml_button, dialog.txt_button)
        assert all(b.isEnabled() for b in buttons)          # acknowledgement: nothing to fill
        dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("progress"))
        body = dialog.body_edit.toPlainText()
        assert "[describe the next step]" in body
        assert not any(b.isEnabled() for b in buttons)
        marks = dialog.body_edit.extraSelections()
        assert len(marks) == 1 and marks[0].cursor.selectedText() == "[describe the next step]"
        assert "Fill in [describe the next step]" in dialog.status.text()
        # Filling it in (as the engineer types) unblocks sending and clears the highlight.
        dialog.body_edit.setPlainText(body.replace("[describe the next step]",
                                                   "move the database to a bigger disk"))
        assert all(b.isEnabled() for b in buttons)
        assert dialog.body_edit.extraSelections() == [] and dialog.status.text() == ""
        with qtbot.waitSignal(dialog.recorded, timeout=10000):
            dialog.copy_button.click()
        assert all(b.isEnabled() for b in buttons)
        # A placeholder typed into the subject blocks too.
        dialog.subject_edit.setText("[describe the problem] shop")
        assert not dialog.copy_button.isEnabled() and "(subject, line 1)" in dialog.status.text()
        updates = [e for e in store.journal(case.id) if e.kind == "customer_update"]
        assert len(updates) == 1 and "bigger disk" in updates[0].text
