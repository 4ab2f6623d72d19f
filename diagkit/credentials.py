"""Secrets in the OS keyring: the only module in diagkit that touches :mod:`keyring`.

Everything is stored under the service name ``"diagkit"``; the account names what it is for:

* ``host:NAME`` - the SSH password of a saved host (``NAME`` is its saved name, or its address
  when it has none). See :func:`host_account`.
* ``key:/abs/path`` - the passphrase of a private key file, by its absolute path.
  See :func:`key_account`.

Secrets are never written to config files or logs. When no usable backend exists (keyring's
``fail.Keyring``, ``NoKeyringError``, any ``KeyringError``), *reading* quietly returns ``None``
(a connection then tries its other methods) while *storing* or *deleting* raises
:class:`~diagkit.errors.KeyringUnavailable` with what to do about it.
"""

from __future__ import annotations

import os

from diagkit.errors import KeyringUnavailable

SERVICE = "diagkit"


def host_account(name: str) -> str:
    """The keyring account for a host's password: ``host:NAME``."""
    return f"host:{name}"


def key_account(key_path: str) -> str:
    """The keyring account for a key passphrase: ``key:/absolute/path`` (``~`` expanded)."""
    return "key:" + os.path.abspath(os.path.expanduser(key_path))


def _backend():
    import keyring
    from keyring.backends import fail

    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken PYTHON_KEYRING_BACKEND raises all sorts
        raise KeyringUnavailable(str(exc)) from exc
    if isinstance(backend, fail.Keyring):
        raise KeyringUnavailable("no recommended backend was found")
    return backend


def get_password(account: str) -> str | None:
    """The secret stored for ``account``, or ``None`` (also when no keyring is usable)."""
    from keyring.errors import KeyringError

    try:
        return _backend().get_password(SERVICE, account)
    except (KeyringUnavailable, KeyringError):
        return None


def set_password(account: str, secret: str) -> None:
    """Store ``secret`` for ``account``; :class:`KeyringUnavailable` if it cannot be stored."""
    from keyring.errors import KeyringError

    backend = _backend()
    try:
        backend.set_password(SERVICE, account, secret)
    except KeyringError as exc:
        # The message of a keyring error never contains the secret itself.
        raise KeyringUnavailable(f"{type(exc).__name__}: {exc}") from exc


def delete_password(account: str) -> None:
    """Forget the secret of ``account``; nothing stored is not an error."""
    from keyring.errors import KeyringError, PasswordDeleteError

    backend = _backend()
    try:
        backend.delete_password(SERVICE, account)
    except PasswordDeleteError:
        return
    except KeyringError as exc:
        raise KeyringUnavailable(f"{type(exc).__name__}: {exc}") from exc


def get_key_passphrase(key_path: str) -> str | None:
    """The stored passphrase of the private key at ``key_path``, or ``None``."""
    return get_password(key_account(key_path))


def set_key_passphrase(key_path: str, passphrase: str) -> None:
    """Store the passphrase of the private key at ``key_path``."""
    set_password(key_account(key_path), passphrase)


def delete_key_passphrase(key_path: str) -> None:
    delete_password(key_account(key_path))


def move_password(old_account: str, new_account: str) -> None:
    """Move a stored secret to another account (a renamed host). Nothing stored: nothing to do."""
    secret = get_password(old_account)
    if secret is not None:
        set_password(new_account, secret)
        delete_password(old_account)
