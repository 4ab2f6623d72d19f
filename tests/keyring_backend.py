"""Keyring backends for the tests only (``tests/`` is never installed with the app).

``SuiteKeyring`` stands in for the OS keyring in every test: ``tests/conftest.py`` selects it
with ``keyring.set_keyring`` in the test process and ``PYTHON_KEYRING_BACKEND`` (plus
``PYTHONPATH``) for the CLI run in subprocesses. It passes diagkit's keyring policy by the same
rule as Secret Service or the macOS Keychain (keyring ``priority`` of at least 1, not a
plaintext class), with no exception in :mod:`diagkit.credentials` to find and misuse: a real
user can only meet it by importing this file. It keeps one JSON file per test, under that
test's ``XDG_DATA_HOME``, outside the HOME, config and data folders that tests scan for leaks.

``PlaintextKeyring`` does what keyrings.alt's ``keyrings.alt.file.PlaintextKeyring`` does and
rates itself the same (0.5): it writes the secret base64-encoded into a file. The tests use it
to check that diagkit refuses such a backend, and what the opt-in then does.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class _JsonFileKeyring(KeyringBackend):
    file_name = "keyring.json"

    @property
    def file_path(self) -> Path:
        return Path(os.environ["XDG_DATA_HOME"]) / self.file_name

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self.file_path.read_text(encoding="utf-8"))
            return data
        except FileNotFoundError:
            return {}

    def _save(self, data: dict[str, str]) -> None:
        self.file_path.parent.mkdir(parents=True, exist_ok=True)
        self.file_path.write_text(json.dumps(data), encoding="utf-8")

    def _encode(self, secret: str) -> str:
        return secret

    def _decode(self, stored: str) -> str:
        return stored

    def get_password(self, service: str, username: str) -> str | None:
        stored = self._load().get(f"{service}\0{username}")
        return None if stored is None else self._decode(stored)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\0{username}"] = self._encode(password)
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\0{username}", None) is None:
            raise PasswordDeleteError("not stored")
        self._save(data)


class SuiteKeyring(_JsonFileKeyring):
    """The tests' stand-in for an OS keyring (see the module docstring)."""

    priority = 1  # type: ignore[assignment]
    file_name = "suite-keyring.json"


class PlaintextKeyring(_JsonFileKeyring):
    """keyrings.alt's plaintext file backend, as it behaves: base64 in a file, priority 0.5."""

    priority = 0.5  # type: ignore[assignment]
    file_name = "keyring_pass.cfg"

    def _encode(self, secret: str) -> str:
        return base64.b64encode(secret.encode()).decode()

    def _decode(self, stored: str) -> str:
        return base64.b64decode(stored).decode()


class BoastfulPlaintextKeyring(PlaintextKeyring):
    """A plaintext store that claims to be recommended: refused by its class, not its number."""

    priority = 5  # type: ignore[assignment]


class LowPriorityKeyring(_JsonFileKeyring):
    """Any backend keyring itself does not recommend (priority below 1)."""

    priority = 0.2  # type: ignore[assignment]
    file_name = "low-keyring.json"
