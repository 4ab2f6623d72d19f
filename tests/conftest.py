"""Test set-up shared by the whole suite.

* Qt runs offscreen (without this and without DISPLAY the whole process aborts).
* Every test gets its own HOME, config dir, data dir and a file-based keyring under tmp_path, so
  nothing touches the real user's files or secrets.
* The real OpenSSH server fixtures live in ``tests/sshd_fixture.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

pytest_plugins = ["tests.sshd_fixture", "tests.pg_fixture"]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """A private HOME, config/data dirs and keyring file for each test."""
    root = tmp_path_factory.mktemp("home")
    home = root / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DIAGKIT_CONFIG_DIR", str(root / "config"))
    monkeypatch.setenv("DIAGKIT_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "xdg-config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("DIAGKIT_SSH_CONFIG", raising=False)
    monkeypatch.delenv("DIAGKIT_STORE", raising=False)  # the embedded store unless a test says
    import keyring.core

    keyring.core.set_keyring(keyring.core.load_keyring("keyrings.alt.file.PlaintextKeyring"))
    yield home
