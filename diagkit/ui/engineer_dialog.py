"""First-run prompt for the engineer's name: without it cases, journal entries, metrics and
customer updates carry the login name (often "root")."""

from __future__ import annotations

import getpass

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from diagkit import config
from diagkit.errors import DiagkitError


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        return "engineer"


class EngineerDialog(QDialog):
    """Ask for the name to sign with; Save stores it as ``engineer`` in settings.json (the same
    setting as ``diagkit config set engineer``). "Not now" leaves it unset."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Your name")
        self.saved: str | None = None
        intro = QLabel(
            "Cases, journal entries, metrics per engineer and customer updates are signed with "
            f"your name. Until you set it they show the login name \u201c{_login()}\u201d.\n"
            "You can change it later with: diagkit config set engineer \"Your Name\"")
        intro.setWordWrap(True)
        self.name_edit = QLineEdit(placeholderText="e.g. Ann Smith")
        self.name_edit.setObjectName("engineer")
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #d32f2f")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save)
        self.later_button = self.buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setEnabled(False)
        self.name_edit.textChanged.connect(
            lambda text: self.save_button.setEnabled(bool(text.strip())))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.name_edit)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def save(self) -> None:
        try:
            # A few bytes into settings.json under its lock: quick enough for the GUI thread.
            self.saved = config.set_setting("engineer", self.name_edit.text())
        except DiagkitError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


def prompt_if_unset(parent: QWidget | None = None) -> EngineerDialog | None:
    """Open the prompt (window-modal, not blocking the event loop) when no engineer name is
    set; returns the dialog, or None when a name is set (or settings.json cannot be read)."""
    try:
        if config.get_setting("engineer"):
            return None
    except DiagkitError:
        return None  # a broken settings.json is reported where settings are used
    dialog = EngineerDialog(parent)
    dialog.open()
    return dialog
