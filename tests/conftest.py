"""Test set-up shared by the whole suite.

* Qt runs offscreen (without this and without DISPLAY the whole process aborts).
* Every test gets its own HOME, config dir, data dir and a file-based keyring under tmp_path, so
  nothing touches the real user's files or secrets. The keyring is ``tests.keyring_backend.
  SuiteKeyring`` (a test-only stand-in for the OS keyring), in this process and, through
  ``PYTHON_KEYRING_BACKEND`` and ``PYTHONPATH``, in the CLI run as a subprocess. keyrings.alt is
  not installed with the tests: diagkit refuses its plaintext backend (tests/test_keyring_policy.py).
* The real OpenSSH server fixtures live in ``tests/sshd_fixture.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests.keyring_backend import SuiteKeyring

REPO = Path(__file__).resolve().parent.parent
TEST_KEYRING = f"{SuiteKeyring.__module__}.{SuiteKeyring.__qualname__}"

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
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", TEST_KEYRING)
    # So a CLI subprocess can import tests.keyring_backend, whatever its working directory.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))
    monkeypatch.delenv("DIAGKIT_ALLOW_INSECURE_KEYRING", raising=False)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("DIAGKIT_SSH_CONFIG", raising=False)
    monkeypatch.delenv("DIAGKIT_STORE", raising=False)  # the embedded store unless a test says
    import keyring.core

    keyring.core.set_keyring(SuiteKeyring())
    yield home


@pytest.fixture(autouse=True)
def no_starter_articles(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store used in a test holds only the test's own articles (counts and rankings stay the
    test's); tests of the starter set turn it on again or call ``diagkit.kb.open_kb``. CLI
    subprocesses are not affected: they sync the starter set as a user's diagkit does."""
    from diagkit.kb import starters

    monkeypatch.setattr(starters, "AUTOMATIC", False)
