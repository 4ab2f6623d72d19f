"""The keyring policy (diagkit.credentials): plaintext backends are refused unless the user opts in,
and then every use says so. Real backends writing real files; the CLI run as a subprocess; one
run against a real Secret Service (gnome-keyring-daemon in its own D-Bus session)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import keyring.core
import pytest
from keyring.backends import chainer, fail, null
from keyring.compat import properties
from pytestqt.qtbot import QtBot

from diagkit import config, credentials
from diagkit.errors import KeyringInsecure, KeyringUnavailable
from tests.keyring_backend import (
    BoastfulPlaintextKeyring,
    LowPriorityKeyring,
    PlaintextKeyring,
    SuiteKeyring,
)
from tests.sshd_fixture import SshServer
from tests.test_cli import dk

PLAINTEXT = f"{PlaintextKeyring.__module__}.PlaintextKeyring"


def _files_holding(secret: str) -> list[Path]:
    roots = [config.config_dir(), config.data_dir(), Path(os.environ["HOME"]),
             Path(os.environ["XDG_DATA_HOME"])]
    found = []
    encoded = [secret.encode(), base64.b64encode(secret.encode())]
    for root in roots:
        for path in root.rglob("*") if root.exists() else ():
            if path.is_file() and any(e in path.read_bytes() for e in encoded):
                found.append(path)
    return found


@pytest.mark.parametrize("backend", [PlaintextKeyring(), BoastfulPlaintextKeyring(),
                                     LowPriorityKeyring()], ids=lambda b: type(b).__name__)
def test_unencrypted_backends_are_refused_and_nothing_is_written(backend: object) -> None:
    keyring.core.set_keyring(backend)  # type: ignore[arg-type]
    with pytest.raises(KeyringInsecure) as info:
        credentials.set_password("host:web1", "s3cret-pw")
    text = str(info.value)
    assert credentials.backend_name(backend) in text and "gnome-keyring" in text
    assert "KeePassXC" in text and "allow_insecure_keyring" in text and "s3cret-pw" not in text
    assert isinstance(info.value, KeyringUnavailable)  # callers that handle "no keyring" cope
    assert _files_holding("s3cret-pw") == []


def test_a_secret_already_in_a_plaintext_store_is_not_read() -> None:
    backend = PlaintextKeyring()
    backend.set_password(credentials.SERVICE, "host:old", "left-over")  # as keyrings.alt did
    keyring.core.set_keyring(backend)
    assert credentials.get_password("host:old") is None


def test_no_backend_at_all_is_unavailable_not_insecure() -> None:
    for backend in (fail.Keyring(), null.Keyring()):
        keyring.core.set_keyring(backend)
        with pytest.raises(KeyringUnavailable) as info:
            credentials.set_password("host:x", "pw")
        assert not isinstance(info.value, KeyringInsecure)
        assert "keyrings.alt" not in str(info.value)  # no longer recommended as the way out
        assert credentials.get_password("host:x") is None


class _Chain(chainer.ChainerBackend):
    """keyring's own chainer, over the members we give it instead of every installed one."""

    members: ClassVar[list[object]] = []

    @properties.classproperty
    def backends(cls) -> list[object]:
        return list(cls.members)


def test_a_chain_uses_only_its_encrypted_members() -> None:
    plain, safe = PlaintextKeyring(), SuiteKeyring()
    plain.set_password(credentials.SERVICE, "host:a", "from-plaintext")
    _Chain.members = [plain, safe]  # plaintext first: diagkit must still skip it
    keyring.core.set_keyring(_Chain())
    assert credentials.get_password("host:a") is None
    credentials.set_password("host:b", "pw-b")
    assert safe.get_password(credentials.SERVICE, "host:b") == "pw-b"
    assert plain.get_password(credentials.SERVICE, "host:b") is None
    _Chain.members = [plain]
    with pytest.raises(KeyringInsecure):
        credentials.set_password("host:c", "pw-c")


def test_opt_in_in_settings_uses_the_backend_and_warns_on_every_use(
        capsys: pytest.CaptureFixture[str]) -> None:
    keyring.core.set_keyring(PlaintextKeyring())
    with config.edit_settings() as settings:
        settings["allow_insecure_keyring"] = True
    where = credentials.set_password("host:web1", "pw-1")
    assert "UNENCRYPTED" in where
    assert credentials.get_password("host:web1") == "pw-1"
    assert credentials.get_password("host:web1") == "pw-1"
    assert credentials.get_password("host:none") is None  # nothing read: nothing to warn about
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3, lines
    assert "stored in" in lines[0] and all("read from" in line for line in lines[1:])
    for line in lines:
        assert line.startswith("diagkit: warning: the secret of host:web1")
        assert PLAINTEXT in line and "allow_insecure_keyring" in line and "pw-1" not in line


def test_warnings_go_where_the_app_sends_them(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.core.set_keyring(PlaintextKeyring())
    monkeypatch.setenv("DIAGKIT_ALLOW_INSECURE_KEYRING", "1")
    seen: list[str] = []
    credentials.set_warning_handler(seen.append)
    try:
        credentials.set_password("key:/k", "phrase")
        credentials.get_password("key:/k")
    finally:
        credentials.set_warning_handler(None)
    assert len(seen) == 2 and "DIAGKIT_ALLOW_INSECURE_KEYRING" in seen[0]


def test_opt_in_must_be_exactly_true(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.core.set_keyring(PlaintextKeyring())
    for value in ("yes please", 1, "true"):
        config.save_settings({"allow_insecure_keyring": value})
        with pytest.raises(KeyringInsecure):
            credentials.set_password("host:x", "pw")
    monkeypatch.setenv("DIAGKIT_ALLOW_INSECURE_KEYRING", "0")
    with pytest.raises(KeyringInsecure):
        credentials.set_password("host:x", "pw")


# --- the CLI, as a user runs it -------------------------------------------------------------


def test_cli_set_password_refuses_a_plaintext_backend() -> None:
    assert dk("hosts", "add", "web1", "10.0.0.5").returncode == 0
    out = dk("hosts", "set-password", "web1", "--stdin", stdin="s3cret-pw\n",
             env={"PYTHON_KEYRING_BACKEND": PLAINTEXT})
    assert out.returncode == 1, out
    assert "stored in" not in out.stdout and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"diagkit: The keyring backend {PLAINTEXT} does not keep")
    assert "gnome-keyring" in out.stderr and "allow_insecure_keyring" in out.stderr
    assert _files_holding("s3cret-pw") == []


def test_cli_opt_in_stores_says_so_and_warns_each_time(sshd: SshServer) -> None:
    env = {"PYTHON_KEYRING_BACKEND": PLAINTEXT}
    assert dk("hosts", "add", "pwhost", sshd.address, "--port", str(sshd.port),
              "--user", sshd.password_user).returncode == 0
    with config.edit_settings() as settings:
        settings["allow_insecure_keyring"] = True
    stored = dk("hosts", "set-password", "pwhost", "--stdin", stdin=sshd.password + "\n", env=env)
    assert stored.returncode == 0, stored.stderr
    assert "UNENCRYPTED" in stored.stdout and "OS keyring" not in stored.stdout
    assert stored.stderr.count("diagkit: warning: the secret of host:pwhost was stored in") == 1
    # Each connection that reads it warns again.
    for _ in range(2):
        run = dk("run", "pwhost", "--accept-new-host-key", "--", "id", "-un", env=env)
        assert run.returncode == 0 and run.stdout.strip() == sshd.password_user, run.stderr
        assert run.stderr.count("was read from " + PLAINTEXT) == 1, run.stderr
        assert sshd.password not in run.stderr + run.stdout


def test_cli_with_the_test_keyring_says_where_it_stored() -> None:
    assert dk("hosts", "add", "web1", "10.0.0.5").returncode == 0
    out = dk("hosts", "set-password", "web1", "--stdin", stdin="pw\n")
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout == "Password for web1 stored in the keyring (keyring backend SuiteKeyring).\n"
    assert SuiteKeyring().get_password(credentials.SERVICE, "host:web1") == "pw"


def test_real_secret_service(sshd: SshServer, tmp_path: Path) -> None:
    """gnome-keyring's Secret Service, headless: store with the CLI, log in with it over SSH."""
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        assert shutil.which(tool), f"{tool} is missing: apt-get install gnome-keyring dbus"
    assert dk("hosts", "add", "pwhost", sshd.address, "--port", str(sshd.port),
              "--user", sshd.password_user).returncode == 0
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    diagkit = f"{sys.executable} -m diagkit"
    script = f"""
set -e
export XDG_RUNTIME_DIR={runtime}
eval "$(printf %s unlock-pw | gnome-keyring-daemon --unlock --components=secrets)"
export PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring
printf '%s\\n' "$PW" | {diagkit} hosts set-password pwhost --stdin
{diagkit} run pwhost --accept-new-host-key -- id -un
{sys.executable} -c 'import keyring, os
print(keyring.get_password("diagkit", "host:pwhost") == os.environ["PW"])'
{diagkit} hosts remove pwhost
{sys.executable} -c 'import keyring; print(keyring.get_password("diagkit", "host:pwhost"))'
"""
    out = subprocess.run(["dbus-run-session", "--", "sh", "-c", script], check=False,
                         capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PW": sshd.password})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines == ["Password for pwhost stored in the keyring (SecretService Keyring).",
                     sshd.password_user, "True", "Removed host pwhost.", "None"], out
    assert "warning" not in out.stderr
    assert _files_holding(sshd.password) == []
    assert json.loads(config.hosts_file().read_text())["hosts"] == []


def test_the_app_shows_the_opt_in_warning_in_its_status_bar(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection reads the password on a worker thread; the warning reaches the window."""
    import threading

    from diagkit.ui.main_window import MainWindow

    window = MainWindow(restore=False)
    qtbot.addWidget(window)
    keyring.core.set_keyring(PlaintextKeyring())
    monkeypatch.setenv("DIAGKIT_ALLOW_INSECURE_KEYRING", "1")
    PlaintextKeyring().set_password(credentials.SERVICE, "host:web1", "pw")
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(credentials.get_password("host:web1")))
    worker.start()
    worker.join(10)
    assert got == ["pw"]
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(
        "Warning: the secret of host:web1 was read from"), timeout=5000)
    window.close()
    assert credentials._warning_handler is credentials._stderr_warning
