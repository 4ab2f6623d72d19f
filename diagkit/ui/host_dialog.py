"""Add or edit a saved host (with its password and key passphrase), and import ~/.ssh/config.

Validation is the core's (:class:`~diagkit.hosts.SavedHost`, :class:`~diagkit.hosts.HostStore`):
its :class:`~diagkit.errors.ConfigError` text is shown in a red line inside the dialog, which
stays open with everything typed. Secrets go only to the OS keyring (:mod:`diagkit.credentials`);
when no keyring is usable the host is still saved and the dialog says the secret was NOT stored.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from diagkit import credentials
from diagkit.errors import ConfigError, CredentialError, DiagkitError
from diagkit.hosts import HostStore, SavedHost, hosts_from_ssh_config, parse_tags

_ERROR_STYLE = "color: #c62828;"
_WARNING_STYLE = "color: #e65100; font-weight: bold;"
_KEY_TOOLTIP = (
    "A private key to try first for this host, besides ssh-agent, ~/.ssh/config (IdentityFile) "
    "and the default ~/.ssh/id_* files. An encrypted key's passphrase goes to the OS keyring, "
    "after diagkit checked that it opens the key."
)


def _message_label(style: str) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(style)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


class HostDialog(QDialog):
    """Add (``host`` None) or edit a saved host. After ``accept()``, :attr:`saved_host` holds it.

    :attr:`secret_warning` is non-empty when the host was saved but a password or passphrase
    could not be stored; the dialog then stays open showing it, with a single Close button.
    """

    def __init__(self, store: HostStore, host: SavedHost | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.original = host
        self.saved_host: SavedHost | None = None
        self.secret_warning = ""
        self.setWindowTitle(f"Edit host {host.name}" if host else "Add host")
        self.setMinimumWidth(520)

        self.error_label = _message_label(_ERROR_STYLE)
        self.warning_label = _message_label(_WARNING_STYLE)
        try:
            existing = store.load()
        except DiagkitError as exc:
            existing = []
            self._show_error(str(exc))

        self.name_edit = QLineEdit()
        self.name_edit.setToolTip("The name you use for this host in diagkit (letters, digits, . _ - @).")
        self.address_edit = QLineEdit()
        self.address_edit.setToolTip("Host name, IP address or ~/.ssh/config alias.")
        self.address_edit.setPlaceholderText("name, IP or ~/.ssh/config alias")
        self.port_spin = QSpinBox()
        self.port_spin.setRange(0, 65535)
        self.port_spin.setSpecialValueText("default")
        self.port_spin.setToolTip("0 = default: the port from ~/.ssh/config, else 22.")
        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText("from ~/.ssh/config, else your login name")
        self.jump_edit = QLineEdit()
        self.jump_edit.setPlaceholderText("e.g. bastion or user@gw:2222,inner")
        self.jump_edit.setToolTip(
            "ProxyJump chain, hops separated by commas. A hop may be a saved host's name, an "
            "~/.ssh/config alias or user@host:port. 'none' disables a ProxyJump from the config."
        )
        names = [h.name for h in existing if host is None or h.name != host.name]
        self.jump_edit.setCompleter(QCompleter(names, self))
        self.group_combo = QComboBox()
        self.group_combo.setEditable(True)
        self.group_combo.addItems(sorted({h.group for h in existing if h.group}, key=str.lower))
        self.group_combo.setCurrentText("")
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText("comma separated, e.g. prod, db")
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setFixedHeight(70)

        form = QFormLayout()
        form.addRow("&Name", self.name_edit)
        form.addRow("&Address", self.address_edit)
        form.addRow("&Port", self.port_spin)
        form.addRow("&User", self.user_edit)
        form.addRow("&Jump host", self.jump_edit)
        form.addRow("&Group", self.group_combo)
        form.addRow("&Tags", self.tags_edit)
        form.addRow("N&otes", self.notes_edit)

        self._had_password = bool(host) and credentials.get_password(
            credentials.host_account(host.name)) is not None
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText(
            "leave empty to keep the stored one" if self._had_password else "optional; stored in the OS keyring"
        )
        self.remove_password_check = QCheckBox("Remove stored password")
        self.remove_password_check.setVisible(self._had_password)
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText("~/.ssh/id_ed25519")
        self.key_edit.setToolTip(_KEY_TOOLTIP)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.browse_button)
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setPlaceholderText("only for an encrypted key; checked before it is stored")
        self.passphrase_edit.setToolTip(_KEY_TOOLTIP)
        auth = QGroupBox("Authentication (secrets go to the OS keyring only)")
        auth_form = QFormLayout(auth)
        auth_form.addRow("Pass&word", self.password_edit)
        auth_form.addRow("", self.remove_password_check)
        auth_form.addRow("Key file", key_row)
        auth_form.addRow("Key pass&phrase", self.passphrase_edit)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(auth)
        layout.addWidget(self.error_label)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.buttons)

        if host is not None:
            self.name_edit.setText(host.name)
            self.address_edit.setText(host.address)
            self.port_spin.setValue(host.port or 0)
            self.user_edit.setText(host.user or "")
            self.jump_edit.setText(host.jump or "")
            self.group_combo.setCurrentText(host.group)
            self.tags_edit.setText(", ".join(host.tags))
            self.notes_edit.setPlainText(host.notes)
            self.key_edit.setText(host.identity_file or "")

    # --- saving ---------------------------------------------------------------------------------

    def host_from_fields(self) -> SavedHost:
        """The host the fields describe; :class:`ConfigError` when it is not valid."""
        jump = self.jump_edit.text().strip() or None
        host = SavedHost(
            name=self.name_edit.text().strip(),
            address=self.address_edit.text().strip(),
            port=self.port_spin.value() or None,
            user=self.user_edit.text().strip() or None,
            jump=jump,
            group=self.group_combo.currentText().strip(),
            tags=parse_tags(self.tags_edit.text()),
            notes=self.notes_edit.toPlainText().strip(),
            identity_file=self.key_edit.text().strip() or None,
        )
        if jump and host.name in (hop.strip() for hop in jump.split(",")):
            raise ConfigError(f"Host {host.name!r} cannot be its own jump host; fix the jump host field.")
        return host

    def accept(self) -> None:
        if self.saved_host is not None:  # saved already; only the secret warning was showing
            super().accept()
            return
        self._show_error("")
        try:
            host = self.host_from_fields()
            key_path = self._checked_key()
            self._save(host)
        except DiagkitError as exc:
            self._show_error(str(exc))
            return
        self.saved_host = host
        problems = self._store_secrets(host, key_path)
        if problems:
            self.secret_warning = f"Host {host.name!r} was saved, but " + " ".join(problems)
            self.warning_label.setText(self.secret_warning)
            self.warning_label.show()
            self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
            self._lock_fields()
            return
        super().accept()

    def reject(self) -> None:
        # Close (or Esc) after a secret warning: the host *was* saved, so report acceptance.
        if self.saved_host is not None:
            super().accept()
        else:
            super().reject()

    def _checked_key(self) -> str | None:
        """The key path whose passphrase is to be stored, after checking the passphrase opens it."""
        from diagkit.transport.ssh import check_key_passphrase

        path = self.key_edit.text().strip()
        passphrase = self.passphrase_edit.text()
        if not passphrase:
            return None
        if not path:
            raise ConfigError("A key passphrase was given without a key file; choose the key file.")
        path = str(Path(path).expanduser())
        if not check_key_passphrase(path, passphrase):
            raise ConfigError(f"{path} is not encrypted, so it needs no passphrase; leave that field empty.")
        return path

    def _save(self, host: SavedHost) -> None:
        if self.original is None:
            self.store.add(host)
            return
        self.store.replace(self.original.name, host)

    def _store_secrets(self, host: SavedHost, key_path: str | None) -> list[str]:
        """Move/store/remove secrets; returns sentences about what could NOT be done."""
        problems: list[str] = []
        account = credentials.host_account(host.name)
        if self.original is not None and self.original.name != host.name:
            try:
                credentials.move_password(credentials.host_account(self.original.name), account)
            except CredentialError as exc:
                problems.append(f"its stored password could NOT be moved to the new name: {exc}")
        password = self.password_edit.text()
        try:
            if password:
                credentials.set_password(account, password)
            elif self.remove_password_check.isChecked():
                credentials.delete_password(account)
        except CredentialError as exc:
            problems.append(f"the password was NOT stored: {exc}" if password
                            else f"the stored password could NOT be removed: {exc}")
        if key_path is not None:
            try:
                credentials.set_key_passphrase(key_path, self.passphrase_edit.text())
            except CredentialError as exc:
                problems.append(f"the key passphrase was NOT stored: {exc}")
        return problems

    # --- display ------------------------------------------------------------------------------

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _lock_fields(self) -> None:
        for widget in (self.name_edit, self.address_edit, self.port_spin, self.user_edit,
                       self.jump_edit, self.group_combo, self.tags_edit, self.notes_edit,
                       self.password_edit, self.remove_password_check, self.key_edit,
                       self.browse_button, self.passphrase_edit):
            widget.setEnabled(False)

    def _browse_key(self) -> None:
        start = self.key_edit.text().strip() or str(Path.home() / ".ssh")
        path, _ = QFileDialog.getOpenFileName(self, "Private key file", str(Path(start).expanduser()))
        if path:
            self.key_edit.setText(path)


class ImportSshConfigDialog(QDialog):
    """Pick ~/.ssh/config aliases to save as hosts. After ``accept()``, :attr:`imported` lists them."""

    def __init__(self, store: HostStore, parent: QWidget | None = None,
                 path: Path | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.imported: list[SavedHost] = []
        self._found: list[SavedHost] = []
        self.setWindowTitle("Import hosts from SSH config")
        self.setMinimumWidth(420)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.error_label = _message_label(_ERROR_STYLE)
        self.list = QListWidget()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.import_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        all_button = QPushButton("Select all")
        all_button.clicked.connect(self.select_all)
        none_button = QPushButton("Select none")
        none_button.clicked.connect(self.select_none)
        row = QHBoxLayout()
        row.addWidget(all_button)
        row.addWidget(none_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

        try:
            self._found = hosts_from_ssh_config(path)
            saved = {h.name for h in store.load()}
        except DiagkitError as exc:
            self.info.setText("Nothing to import.")
            self._show_error(str(exc))
            self.import_button.setEnabled(False)
            return
        for host in self._found:
            item = QListWidgetItem(host.name)
            item.setData(Qt.ItemDataRole.UserRole, host)
            if host.name in saved:
                item.setText(f"{host.name}  (already saved)")
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setCheckState(Qt.CheckState.Unchecked)
            else:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        new = sum(1 for h in self._found if h.name not in saved)
        self.info.setText(
            f"{len(self._found)} host alias(es) found, {new} not saved yet. Each is saved by its "
            "alias, so HostName, Port, User, IdentityFile and ProxyJump keep coming from the "
            "SSH config. Wildcard patterns are not imported."
            if self._found else "No concrete Host aliases found (wildcard patterns are not imported).")
        self.import_button.setEnabled(new > 0)

    def items(self) -> list[QListWidgetItem]:
        return [self.list.item(i) for i in range(self.list.count())]

    def select_all(self) -> None:
        self._check_all(True)

    def select_none(self) -> None:
        self._check_all(False)

    def _check_all(self, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        for item in self.items():
            if item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                item.setCheckState(state)

    def checked_hosts(self) -> list[SavedHost]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.items()
                if item.flags() & Qt.ItemFlag.ItemIsUserCheckable
                and item.checkState() == Qt.CheckState.Checked]

    def accept(self) -> None:
        chosen = self.checked_hosts()
        try:
            new, _ = self.store.add_many(chosen)  # saved meanwhile: left alone
        except DiagkitError as exc:
            self._show_error(str(exc))
            return
        self.imported = new
        super().accept()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))


def import_from_ssh_config(parent: QWidget | None, store: HostStore, path: Path | None = None) -> int:
    """Show :class:`ImportSshConfigDialog` modally; returns how many hosts were imported."""
    dialog = ImportSshConfigDialog(store, parent, path)
    dialog.exec()
    return len(dialog.imported)

