"""The host dialogs, offscreen, with a real hosts file, a real file keyring and real keys."""

from __future__ import annotations

import subprocess
from pathlib import Path

import keyring.backends.fail
import keyring.core
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from diagkit import credentials
from diagkit.hosts import HostStore, SavedHost
from diagkit.ui.host_dialog import HostDialog, ImportSshConfigDialog


def _dialog(qtbot: QtBot, store: HostStore, host: SavedHost | None = None) -> HostDialog:
    dialog = HostDialog(store, host)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _save(dialog: HostDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


def test_add_host_with_password(qtbot: QtBot) -> None:
    store = HostStore()
    dialog = _dialog(qtbot, store)
    qtbot.keyClicks(dialog.name_edit, "web1")
    qtbot.keyClicks(dialog.address_edit, "10.0.0.5")
    dialog.port_spin.setValue(2222)
    qtbot.keyClicks(dialog.user_edit, "admin")
    qtbot.keyClicks(dialog.jump_edit, "bastion")
    dialog.group_combo.setCurrentText("prod")
    qtbot.keyClicks(dialog.tags_edit, "db, eu ,db")
    dialog.notes_edit.setPlainText("primary database\nsecond line")
    qtbot.keyClicks(dialog.password_edit, "s3cret pw")
    _save(dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    saved = store.get("web1")
    assert saved == dialog.saved_host
    assert (saved.address, saved.port, saved.user, saved.jump) == ("10.0.0.5", 2222, "admin", "bastion")
    assert saved.group == "prod" and saved.tags == ("db", "eu")
    assert saved.notes == "primary database\nsecond line"
    assert credentials.get_password("host:web1") == "s3cret pw"
    assert "s3cret" not in store.path.read_text()


def test_invalid_name_is_shown_inline_and_nothing_is_lost(qtbot: QtBot) -> None:
    store = HostStore()
    dialog = _dialog(qtbot, store)
    qtbot.keyClicks(dialog.name_edit, "bad name!")
    qtbot.keyClicks(dialog.address_edit, "10.0.0.5")
    qtbot.keyClicks(dialog.password_edit, "pw")
    _save(dialog)
    assert dialog.isVisible() and dialog.saved_host is None
    assert dialog.error_label.isVisible() and "not valid" in dialog.error_label.text()
    assert dialog.name_edit.text() == "bad name!" and dialog.password_edit.text() == "pw"
    assert store.load() == [] and credentials.get_password("host:bad name!") is None
    dialog.name_edit.setText("good")
    _save(dialog)
    assert not dialog.isVisible() and store.get("good").address == "10.0.0.5"


def test_missing_address_and_duplicate_name_are_inline_errors(qtbot: QtBot) -> None:
    store = HostStore()
    store.add(SavedHost("taken", "1.2.3.4"))
    dialog = _dialog(qtbot, store)
    qtbot.keyClicks(dialog.name_edit, "taken")
    _save(dialog)
    assert "needs an address" in dialog.error_label.text()
    qtbot.keyClicks(dialog.address_edit, "5.6.7.8")
    _save(dialog)
    assert dialog.isVisible() and "exists already" in dialog.error_label.text()
    assert store.get("taken").address == "1.2.3.4"


def test_own_jump_host_is_refused(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot, HostStore())
    dialog.name_edit.setText("loop")
    dialog.address_edit.setText("h")
    dialog.jump_edit.setText("gw, loop")
    _save(dialog)
    assert dialog.isVisible() and "its own jump host" in dialog.error_label.text()


def test_edit_rename_moves_the_password_and_clears_fields(qtbot: QtBot) -> None:
    store = HostStore()
    store.add(SavedHost("old", "10.0.0.1", port=2200, user="root", group="lab", tags=("a",)))
    store.add(SavedHost("other", "10.0.0.2", group="prod"))
    credentials.set_password("host:old", "pw-old")
    dialog = _dialog(qtbot, store, store.get("old"))
    assert dialog.name_edit.text() == "old" and dialog.port_spin.value() == 2200
    assert dialog.remove_password_check.isVisibleTo(dialog)
    assert "keep the stored one" in dialog.password_edit.placeholderText()
    assert {dialog.group_combo.itemText(i) for i in range(dialog.group_combo.count())} == {"lab", "prod"}
    dialog.name_edit.setText("new")
    dialog.port_spin.setValue(0)
    dialog.user_edit.clear()
    _save(dialog)
    assert not dialog.isVisible()
    assert {h.name for h in store.load()} == {"new", "other"}
    new = store.get("new")
    assert new.port is None and new.user is None and new.group == "lab" and new.tags == ("a",)
    assert credentials.get_password("host:new") == "pw-old"
    assert credentials.get_password("host:old") is None


def test_edit_can_replace_or_remove_the_password(qtbot: QtBot) -> None:
    store = HostStore()
    store.add(SavedHost("h", "10.0.0.1"))
    credentials.set_password("host:h", "first")
    dialog = _dialog(qtbot, store, store.get("h"))
    qtbot.keyClicks(dialog.password_edit, "second")
    _save(dialog)
    assert credentials.get_password("host:h") == "second"

    dialog = _dialog(qtbot, store, store.get("h"))
    _save(dialog)  # empty field: kept
    assert credentials.get_password("host:h") == "second"

    dialog = _dialog(qtbot, store, store.get("h"))
    dialog.remove_password_check.setChecked(True)
    _save(dialog)
    assert credentials.get_password("host:h") is None
    assert not _dialog(qtbot, store, store.get("h")).remove_password_check.isVisibleTo(dialog)


def test_keyring_unavailable_saves_the_host_and_says_so(qtbot: QtBot) -> None:
    keyring.core.set_keyring(keyring.backends.fail.Keyring())
    store = HostStore()
    dialog = _dialog(qtbot, store)
    dialog.name_edit.setText("nokeyring")
    dialog.address_edit.setText("10.0.0.9")
    dialog.password_edit.setText("pw")
    _save(dialog)
    assert store.get("nokeyring").address == "10.0.0.9"
    assert dialog.isVisible()
    assert dialog.warning_label.isVisible()
    text = dialog.warning_label.text()
    assert "was saved" in text and "password was NOT stored" in text and "keyring" in text.lower()
    assert "pw" not in text.replace("password", "")
    assert not dialog.name_edit.isEnabled()
    close = dialog.buttons.button(QDialogButtonBox.StandardButton.Close)
    assert close is not None and dialog.buttons.button(QDialogButtonBox.StandardButton.Save) is None
    close.click()
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved_host is not None and dialog.saved_host.name == "nokeyring"
    assert "pw" not in store.path.read_text()


def _encrypted_key(tmp_path: Path, passphrase: str) -> Path:
    key = tmp_path / "id_test"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(key)], check=True)
    return key


def test_key_passphrase_is_checked_then_stored(qtbot: QtBot, tmp_path: Path) -> None:
    key = _encrypted_key(tmp_path, "right horse")
    store = HostStore()
    dialog = _dialog(qtbot, store)
    dialog.name_edit.setText("k")
    dialog.address_edit.setText("10.0.0.3")
    dialog.key_edit.setText(str(key))
    dialog.passphrase_edit.setText("wrong")
    _save(dialog)
    assert dialog.isVisible() and "does not open" in dialog.error_label.text()
    assert store.load() == [] and credentials.get_key_passphrase(str(key)) is None
    dialog.passphrase_edit.setText("right horse")
    _save(dialog)
    assert not dialog.isVisible()
    assert credentials.get_key_passphrase(str(key)) == "right horse"
    assert "right horse" not in store.path.read_text()
    assert "ssh-agent" in dialog.key_edit.toolTip()


def test_unencrypted_key_needs_no_passphrase(qtbot: QtBot, tmp_path: Path) -> None:
    key = _encrypted_key(tmp_path, "")
    dialog = _dialog(qtbot, HostStore())
    dialog.name_edit.setText("k")
    dialog.address_edit.setText("10.0.0.3")
    dialog.key_edit.setText(str(key))
    dialog.passphrase_edit.setText("anything")
    _save(dialog)
    assert dialog.isVisible() and "not encrypted" in dialog.error_label.text()


def test_import_checked_aliases(qtbot: QtBot, isolated_home: Path) -> None:
    (isolated_home / ".ssh" / "config").write_text(
        "Host alpha\n  HostName 10.0.0.1\n\nHost beta gamma\n  User x\n\nHost *.corp\n  User y\n"
    )
    store = HostStore()
    store.add(SavedHost("beta", "beta-address"))
    dialog = ImportSshConfigDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    items = {item.data(Qt.ItemDataRole.UserRole).name: item for item in dialog.items()}
    assert set(items) == {"alpha", "beta", "gamma"}
    assert not items["beta"].flags() & Qt.ItemFlag.ItemIsEnabled
    assert "already saved" in items["beta"].text()
    assert items["alpha"].checkState() == Qt.CheckState.Checked
    items["gamma"].setCheckState(Qt.CheckState.Unchecked)
    dialog.import_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [h.name for h in dialog.imported] == ["alpha"]
    assert {h.name for h in store.load()} == {"alpha", "beta"}
    assert store.get("alpha").address == "alpha" and store.get("beta").address == "beta-address"


def test_import_without_ssh_config_explains(qtbot: QtBot) -> None:
    dialog = ImportSshConfigDialog(HostStore())
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.error_label.isVisible() and "no SSH config" in dialog.error_label.text()
    assert not dialog.import_button.isEnabled()
