"""The questions a connection may have to ask: an unknown host key, a changed one, a password.

Each is one function so tests (and other views) can answer it without clicking.
"""

from __future__ import annotations

import traceback
from enum import Enum
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import AuthError, HostKeyChanged, HostKeyUnknown


class KeyAnswer(Enum):
    ONCE = "once"
    ALWAYS = "always"
    CANCEL = "cancel"


def ask_host_key(parent: QWidget | None, host: str, error: HostKeyUnknown) -> KeyAnswer:
    """First contact with a host: show the fingerprint; trust once, always, or cancel."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(f"Unknown host key: {host}")
    where = error.host if error.port == 22 else f"[{error.host}]:{error.port}"
    box.setText(f"diagkit has never seen the host key of <b>{escape(where)}</b>.")
    box.setInformativeText(
        f"Its {escape(error.key_type)} key fingerprint is:<br><br>"
        f"<tt><b>{escape(error.fingerprint)}</b></tt><br><br>"
        "Trust it only if it matches the fingerprint the host's administrator gives you "
        "(<tt>ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub</tt> on the host). "
        "<i>Trust and remember</i> saves it in diagkit's known_hosts; <i>Trust once</i> saves "
        "nothing and asks again next time."
    )
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    once = box.addButton("Trust once", QMessageBox.ButtonRole.AcceptRole)
    always = box.addButton("Trust and remember", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    if clicked is once:
        return KeyAnswer.ONCE
    if clicked is always:
        return KeyAnswer.ALWAYS
    return KeyAnswer.CANCEL


REPLACE_KEY = "Remove the old key and trust the new one…"


def host_key_changed_box(parent: QWidget | None, host: str,
                         error: HostKeyChanged) -> tuple[QMessageBox, object | None]:
    """The loud refusal, built (tests read it): both fingerprints, the warning, and - unless the
    key is revoked - the button to replace the old key (which still asks for confirmation)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(f"Host key CHANGED: {host} refused")
    box.setText(f"<b>The host key of {escape(host)} has changed. diagkit did not connect.</b>")
    why = (f"The host no longer offers its <tt>{escape(error.expected_key_type)}</tt> key on "
           "record; it offers only a key of another type. A host that cannot show the key on "
           "record cannot prove who it is: someone could be intercepting the connection and "
           "hoping to pass for a new host (a man-in-the-middle attack), or the host's keys were "
           "replaced." if error.other_type else
           "Someone could be intercepting the connection (a man-in-the-middle attack), or the "
           "host was reinstalled or its keys were replaced.")
    offers = f"{error.key_type} {error.fingerprint}"
    recorded = (f"{error.expected_key_type} {error.expected_fingerprint}"
                if error.expected_key_type else error.expected_fingerprint)
    where = f"{error.known_hosts_file}{':' + str(error.line) if error.line else ''}"
    next_step = ("The key it offers is marked revoked: it is never accepted. Ask the host's "
                 "administrator." if error.revoked else
                 "Ask the host's administrator to confirm the new fingerprint. Only then remove "
                 "the old key and trust the new one.")
    box.setInformativeText(
        f"{why}<br><br>"
        f"It now offers: <tt>{escape(offers)}</tt><br>"
        f"On record: <tt>{escape(recorded)}</tt><br>"
        f"Recorded in: <tt>{escape(where)}</tt><br><br>{next_step}"
    )
    box.setDetailedText(str(error))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    replace = None
    if not error.revoked and error.key is not None:
        replace = box.addButton(REPLACE_KEY, QMessageBox.ButtonRole.DestructiveRole)
    close = box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(close)
    return box, replace


def confirm_replace_box(parent: QWidget | None, host: str,
                        error: HostKeyChanged) -> tuple[QMessageBox, object]:
    """The explicit confirmation: the fingerprint to trust, spelled out again."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(f"Replace the host key of {host}?")
    box.setText(f"<b>Trust the new key of {escape(host)} from now on?</b>")
    box.setInformativeText(
        f"The old key (<tt>{escape(error.expected_fingerprint)}</tt>) is removed from "
        f"<tt>{escape(error.known_hosts_file)}</tt> (a copy is kept as <tt>.old</tt>) and the "
        f"new one, <tt>{escape(error.fingerprint)}</tt>, is trusted. Do this only if the host's "
        "administrator confirmed exactly this fingerprint. The change is journaled.")
    confirm = box.addButton("Remove and trust", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    return box, confirm


def show_host_key_changed(parent: QWidget | None, host: str, error: HostKeyChanged) -> bool:
    """A loud refusal: the key differs from the one on record. There is no 'connect anyway'.

    Also for a host that offers only a key of another type than the one on record
    (``error.other_type``): both keys are shown with their types. The way forward is explicit,
    as with OpenSSH: confirm with the administrator, then "Remove the old key and trust the new
    one", confirmed a second time. True when the user chose and confirmed that.
    """
    box, replace = host_key_changed_box(parent, host, error)
    box.exec()
    if replace is None or box.clickedButton() is not replace:
        return False
    confirm_box, confirm = confirm_replace_box(parent, host, error)
    confirm_box.exec()
    return confirm_box.clickedButton() is confirm


class PasswordDialog(QDialog):
    """Authentication failed: say what was tried, ask for the password, offer to remember it."""

    def __init__(self, host: str, error: AuthError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Log in to {host}")
        tried = "<br>".join(f"• {m}" for m in error.methods_tried) or "nothing"
        intro = QLabel(f"<b>{host} refused the login.</b><br>Tried:<br>{tried}<br><br>"
                       "Enter the password to try again:")
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.password.setObjectName("password")
        self.remember = QCheckBox("Remember in the system keyring")
        self.remember.setChecked(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.password)
        layout.addWidget(self.remember)
        layout.addWidget(buttons)


def ask_password(parent: QWidget | None, host: str, error: AuthError) -> tuple[str, bool] | None:
    """(password, remember) or None when the user cancels."""
    dialog = PasswordDialog(host, error, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.password.text():
        return None
    return dialog.password.text(), dialog.remember.isChecked()


def show_error_details(parent: QWidget | None, title: str, error: BaseException) -> None:
    """An unexpected error: a plain message, with the traceback behind 'Show Details...'."""
    from diagkit import config

    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(f"Something unexpected went wrong: {error}")
    box.setInformativeText(f"Nothing was lost. The details are also in {config.log_file()}.")
    box.setDetailedText("".join(traceback.format_exception(error)))
    box.exec()
