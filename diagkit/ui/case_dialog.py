"""New / edit case dialog. Saving goes through :class:`diagkit.cases.desk.CaseDesk` in a worker;
a refused save (stale copy, bad value, locked database) is shown in the dialog, which stays open."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from diagkit.cases.triage import Impact, Urgency, triage
from diagkit.store import Case
from diagkit.ui.inline import error_label
from diagkit.ui.workers import run_in_background

if TYPE_CHECKING:
    from diagkit.cases.desk import CaseDesk

UNSET = "(not triaged yet)"


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(";", ",").split(",") if part.strip())


def triage_combos() -> tuple[QComboBox, QComboBox]:
    """Impact and urgency pickers (first entry: not set), shared with the case detail."""
    impact, urgency = QComboBox(), QComboBox()
    impact.addItem(UNSET, None)
    urgency.addItem(UNSET, None)
    for value in Impact:
        impact.addItem(value.value, value.value)
    for value in Urgency:
        urgency.addItem(value.value, value.value)
    impact.setToolTip("How much is affected: users, systems, how much of the business.")
    urgency.setToolTip("How fast it hurts: is work stopped now, is there a workaround, a deadline.")
    return impact, urgency


def severity_preview(impact: str | None, urgency: str | None) -> str:
    """'S2' for a full triage, '' when either axis is missing (the case stays new)."""
    if not impact or not urgency:
        return ""
    return triage(impact, urgency).severity.value


class CaseDialog(QDialog):
    """Create a case (``case=None``) or edit an existing one's fields. ``saved`` carries the Case."""

    saved = Signal(object)

    def __init__(self, desk: CaseDesk, case: Case | None = None, *,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.case = case
        self.saved_case: Case | None = None
        self.setWindowTitle("New case" if case is None else f"Edit case {case.id}")
        self.setMinimumWidth(480)

        self.title_edit = QLineEdit(placeholderText="What is wrong, in the customer's words")
        self.customer_edit = QLineEdit()
        self.contact_edit = QLineEdit(placeholderText="name <email>")
        self.product_edit = QLineEdit()
        self.version_edit = QLineEdit()
        self.tags_edit = QLineEdit(placeholderText="comma-separated")
        self.ticket_edit = QLineEdit(placeholderText="e.g. ZD-1234")
        self.hosts_edit = QLineEdit(placeholderText="saved host names, comma-separated")
        self.impact_combo, self.urgency_combo = triage_combos()
        self.severity_label = QLabel()
        self.impact_combo.currentIndexChanged.connect(self._preview)
        self.urgency_combo.currentIndexChanged.connect(self._preview)

        form = QFormLayout()
        form.addRow("&Title:", self.title_edit)
        form.addRow("&Customer:", self.customer_edit)
        form.addRow("C&ontact:", self.contact_edit)
        form.addRow("&Product:", self.product_edit)
        form.addRow("&Version:", self.version_edit)
        form.addRow("T&ags:", self.tags_edit)
        form.addRow("Tic&ket:", self.ticket_edit)
        if case is None:
            form.addRow("&Hosts:", self.hosts_edit)
            form.addRow("&Impact:", self.impact_combo)
            form.addRow("&Urgency:", self.urgency_combo)
            form.addRow("Severity:", self.severity_label)

        self.error = error_label("error")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                       | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if case is not None:
            self.title_edit.setText(case.title)
            self.customer_edit.setText(case.customer)
            self.contact_edit.setText(case.contact)
            self.product_edit.setText(case.product)
            self.version_edit.setText(case.version)
            self.tags_edit.setText(", ".join(case.tags))
            self.ticket_edit.setText(case.ticket_ref)
        self._preview()

    def _preview(self) -> None:
        severity = severity_preview(self.impact_combo.currentData(), self.urgency_combo.currentData())
        self.severity_label.setText(
            severity or "set impact and urgency to triage now (or later, from the case)")

    def fields(self) -> dict[str, Any]:
        return {
            "customer": self.customer_edit.text().strip(),
            "contact": self.contact_edit.text().strip(),
            "product": self.product_edit.text().strip(),
            "version": self.version_edit.text().strip(),
            "tags": _split(self.tags_edit.text()),
            "ticket_ref": self.ticket_edit.text().strip(),
        }

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def save(self) -> None:
        title = self.title_edit.text().strip()
        if not title:
            self.show_error("Give the case a title (what is wrong, in a few words).")
            self.title_edit.setFocus()
            return
        self.show_error("")
        desk, case, fields = self.desk, self.case, self.fields()
        impact, urgency = self.impact_combo.currentData(), self.urgency_combo.currentData()
        hosts = _split(self.hosts_edit.text())

        def job() -> Case:
            if case is None:
                both = bool(impact and urgency)
                return desk.open_case(title, impact=impact if both else None,
                                      urgency=urgency if both else None, hosts=hosts, **fields)
            changed = {k: v for k, v in {"title": title, **fields}.items()
                       if getattr(case, k) != v}
            return desk.update_fields(case.id, **changed) if changed else case

        self.buttons.setEnabled(False)
        run_in_background(job, on_done=self._saved, on_error=self._failed, owner=self)

    def _saved(self, case: Case) -> None:
        self.buttons.setEnabled(True)
        self.saved_case = case
        self.saved.emit(case)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.buttons.setEnabled(True)
        from diagkit.errors import DiagkitError

        self.show_error(str(error) if isinstance(error, DiagkitError)
                        else f"Unexpected error ({type(error).__name__}: {error}); nothing was saved.")
