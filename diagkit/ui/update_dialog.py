"""Customer update composer: pick a kind, edit the pre-filled text, send it by clipboard or file.

The text comes from :func:`diagkit.cases.updates.compose` (templates, user overrides first).
Jargon found in the text is explained beside it (:func:`diagkit.cases.glossary.explain`), so the
engineer can rephrase for a non-technical reader. Copying or saving records the update in the
journal (``customer_update``; the first one stops the first-response clock), in a worker.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import DiagkitError
from diagkit.store import Case, JournalEntry
from diagkit.ui.workers import run_in_background

if TYPE_CHECKING:
    from diagkit.cases.desk import CaseDesk, CaseSla
    from diagkit.cases.updates import Draft


def ask_save_path(parent: QWidget, suggested: str, suffix: str) -> Path | None:
    """Where to save the draft (a file dialog; tests replace this function)."""
    filters = "E-mail (*.eml)" if suffix == ".eml" else "Text (*.txt)"
    path, _ = QFileDialog.getSaveFileName(parent, "Save customer update", suggested, filters)
    if not path:
        return None
    out = Path(path)
    return out if out.suffix.lower() == suffix else out.with_suffix(suffix)


def _safe_name(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_ " else "_" for c in text).strip()
    return "-".join(keep.split())[:60] or "update"


class UpdateDialog(QDialog):
    """Compose one customer update for ``case``. ``recorded`` carries the journal entry."""

    recorded = Signal(object)

    def __init__(self, desk: CaseDesk, case: Case, *, journal: Sequence[JournalEntry] = (),
                 findings: Sequence[Any] = (), sla: CaseSla | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from diagkit.cases.updates import UPDATE_KINDS

        self.desk = desk
        self.case = case
        self.journal = tuple(journal)
        self.findings = tuple(findings)
        self.sla = sla
        self.last_entry: JournalEntry | None = None
        self.saved_path: Path | None = None
        self.setWindowTitle(f"Customer update — case {case.id}")
        self.resize(900, 560)

        self.kind_combo = QComboBox()
        for kind in UPDATE_KINDS:
            self.kind_combo.addItem(kind.replace("_", " "), kind)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self.recompose())
        self.to_edit = QLineEdit(placeholderText="customer e-mail address")
        self.subject_edit = QLineEdit()
        self.body_edit = QPlainTextEdit()
        self.body_edit.setObjectName("body")
        self.glossary = QTextBrowser()
        self.glossary.setObjectName("glossary")
        self.glossary.setOpenLinks(False)
        self._glossary_timer = QTimer(self, singleShot=True, interval=300)
        self._glossary_timer.timeout.connect(self.update_glossary)
        self.body_edit.textChanged.connect(self._glossary_timer.start)
        self.placeholders: list[Any] = []
        self._busy_now = False
        self.body_edit.textChanged.connect(self.check_placeholders)
        self.subject_edit.textChanged.connect(self.check_placeholders)

        self.copy_button = QPushButton("Copy to clipboard")
        self.copy_button.setToolTip("Copy subject and text, and record the update in the journal")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.eml_button = QPushButton("Save as .eml…")
        self.eml_button.setToolTip("An e-mail file your mail client opens as a draft")
        self.eml_button.clicked.connect(lambda: self.save_as(".eml"))
        self.txt_button = QPushButton("Save as .txt…")
        self.txt_button.clicked.connect(lambda: self.save_as(".txt"))
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("&Kind:", self.kind_combo)
        form.addRow("&To:", self.to_edit)
        form.addRow("&Subject:", self.subject_edit)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(form)
        left_layout.addWidget(self.body_edit, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel("<b>Jargon in this text</b> — explain or rephrase it:"))
        right_layout.addWidget(self.glossary, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([600, 300])
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.copy_button, self.eml_button, self.txt_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.to_edit.setText(_address(case.contact))
        self.recompose()
        self.check_placeholders()

    # --- composing -------------------------------------------------------------------------------

    def recompose(self) -> None:
        """Fill subject and text from the template for the chosen kind (pure and quick)."""
        from diagkit.cases.updates import compose

        try:
            draft = compose(self.kind_combo.currentData(), self.case, journal=self.journal,
                            findings=self.findings, sla=self.sla, engineer=self.desk.engineer)
        except DiagkitError as exc:
            self.show_status(str(exc), error=True)
            return
        self.subject_edit.setText(draft.subject)
        self.body_edit.setPlainText(draft.body)
        if draft.to and not self.to_edit.text():
            self.to_edit.setText(draft.to)
        self.update_glossary()

    def draft(self) -> Draft:
        """The update as edited now."""
        from diagkit.cases.updates import Draft

        return Draft(kind=self.kind_combo.currentData(), subject=self.subject_edit.text().strip(),
                     body=self.body_edit.toPlainText(), to=self.to_edit.text().strip())

    def update_glossary(self) -> None:
        from diagkit.cases.glossary import explain

        text = f"{self.subject_edit.text()}\n{self.body_edit.toPlainText()}"
        terms = explain(text)
        if not terms:
            self.glossary.setHtml("<p><i>No jargon found.</i></p>")
            return
        self.glossary.setHtml("".join(
            f"<p><b>{html.escape(term)}</b>: {html.escape(meaning)}</p>" for term, meaning in terms))

    # --- sending ---------------------------------------------------------------------------------

    def copy_to_clipboard(self) -> None:
        draft = self.draft()
        QGuiApplication.clipboard().setText(f"Subject: {draft.subject}\n\n{draft.body}")
        self._record(draft, "clipboard", None, None)

    def save_as(self, suffix: str, path: Path | None = None) -> None:
        """Write the draft to ``path`` (asked for when None) and journal it."""
        draft = self.draft()
        if path is None:
            path = ask_save_path(self, f"case-{self.case.id}-{_safe_name(draft.subject)}{suffix}",
                                 suffix)
            if path is None:
                return
        from diagkit.cases.updates import save_draft

        self._record(draft, suffix.lstrip("."), path, save_draft)

    def _record(self, draft: Draft, channel: str, path: Path | None, save: Any) -> None:
        desk, case_id = self.desk, self.case.id

        def job() -> tuple[JournalEntry, Path | None]:
            written = save(draft, path) if save is not None and path is not None else path
            return desk.record_customer_update(case_id, draft, channel=channel, path=written), written

        self._busy(True)
        self.show_status("Recording the update…")
        run_in_background(job, on_done=self._recorded, on_error=self._failed, owner=self)

    def _recorded(self, outcome: tuple[JournalEntry, Path | None]) -> None:
        entry, path = outcome
        self._busy(False)
        self.last_entry = entry
        self.saved_path = path
        where = f"saved to {path}" if path is not None else "copied to the clipboard"
        self.show_status(f"Update {where} and recorded in the case journal.")
        self.recorded.emit(entry)

    def _failed(self, error: BaseException) -> None:
        self._busy(False)
        self.show_status(str(error) if isinstance(error, DiagkitError) else
                         f"Unexpected error ({type(error).__name__}: {error}); the update was not "
                         "recorded.", error=True)

    def _busy(self, busy: bool) -> None:
        self._busy_now = busy
        self._enable_sending()

    def _enable_sending(self) -> None:
        # An unfilled "[describe ...]" must not reach the customer: no way out until filled.
        ready = not self._busy_now and not self.placeholders
        for button in (self.copy_button, self.eml_button, self.txt_button):
            button.setEnabled(ready)

    def check_placeholders(self) -> None:
        """Highlight unfilled template placeholders and block sending until they are filled."""
        from diagkit.cases.updates import placeholders

        self.placeholders = placeholders(self.draft())
        marks = []
        for p in self.placeholders:
            if p.field != "body":
                continue
            mark = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setBackground(QColor("#ffe082"))
            fmt.setForeground(QColor("#b71c1c"))
            mark.format = fmt  # type: ignore[attr-defined]
            cursor = QTextCursor(self.body_edit.document())
            cursor.setPosition(p.start)
            cursor.setPosition(p.end, QTextCursor.MoveMode.KeepAnchor)
            mark.cursor = cursor  # type: ignore[attr-defined]
            marks.append(mark)
        self.body_edit.setExtraSelections(marks)
        self.subject_edit.setStyleSheet(
            "background: #ffe082" if any(p.field == "subject" for p in self.placeholders) else "")
        self._enable_sending()
        if self.placeholders:
            first = self.placeholders[0]
            more = f" (and {len(self.placeholders) - 1} more)" if len(self.placeholders) > 1 else ""
            self.show_status(f"Fill in {first.text} ({first.field}, line {first.line}){more} "
                             "before sending: replace the highlighted text.", error=True)
        elif self.status.text().startswith("Fill in "):
            self.show_status("")

    def show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #d32f2f" if error else "")


def _address(contact: str) -> str:
    """The contact as an address line if it holds an e-mail address, else ''."""
    return contact if "@" in contact else ""
