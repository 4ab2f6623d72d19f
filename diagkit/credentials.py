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

Which backends diagkit uses
---------------------------
keyring chooses a backend (``PYTHON_KEYRING_BACKEND``, its ``keyringrc.cfg``, else the one of
highest ``priority``); diagkit then judges it with what keyring itself tells, and the rule is:

1. **None at all**: ``fail.Keyring``, ``null.Keyring``, a backend whose ``priority`` is 0 or less
   or cannot be computed: :class:`~diagkit.errors.KeyringUnavailable`.
2. **Not encrypted**: a backend keyring does not recommend (``priority`` below 1: keyring's own
   rule of thumb, ``keyring.core.recommended``; keyrings.alt's ``PlaintextKeyring`` rates itself
   0.5 and writes base64 into a file) or whose class is a plaintext store whatever it claims
   (a class named ``PlaintextKeyring`` anywhere in its ancestry): refused with
   :class:`~diagkit.errors.KeyringInsecure`, naming what to install instead.
3. Everything else (Secret Service, KWallet, the macOS Keychain, the Windows Credential Locker)
   is used. keyring's ``ChainerBackend`` (several backends at once) is judged member by member,
   and only the members that pass are used.

**The opt-in.** Who accepts the risk sets ``"allow_insecure_keyring": true`` in
``settings.json`` (persistent) or ``DIAGKIT_ALLOW_INSECURE_KEYRING=1`` in the environment (one
shell, CI). Rule-2 backends are then used, and every secret stored in or read from one of them
says so in a warning line (on stderr by default; the GUI shows it in its status bar through
:func:`set_warning_handler`). Finding nothing and deleting are not warned about: no secret moves.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from diagkit.errors import ConfigError, KeyringInsecure, KeyringUnavailable

SERVICE = "diagkit"
ALLOW_SETTING = "allow_insecure_keyring"
ALLOW_ENV = "DIAGKIT_ALLOW_INSECURE_KEYRING"
_TRUE = {"1", "true", "yes", "on"}
_PLAINTEXT_CLASSES = {"PlaintextKeyring"}

log = logging.getLogger(__name__)


def _stderr_warning(message: str) -> None:
    print(f"diagkit: warning: {message}", file=sys.stderr, flush=True)


_warning_handler: Callable[[str], None] = _stderr_warning


def set_warning_handler(handler: Callable[[str], None] | None) -> None:
    """Where the opt-in's warnings go (``None``: back to stderr). May be called from any thread."""
    global _warning_handler
    _warning_handler = handler or _stderr_warning


def host_account(name: str) -> str:
    """The keyring account for a host's password: ``host:NAME``."""
    return f"host:{name}"


def key_account(key_path: str) -> str:
    """The keyring account for a key passphrase: ``key:/absolute/path`` (``~`` expanded)."""
    return "key:" + os.path.abspath(os.path.expanduser(key_path))


# --- the policy --------------------------------------------------------------------------------


def backend_name(backend: Any) -> str:
    """The dotted class name, as ``PYTHON_KEYRING_BACKEND`` takes it."""
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _priority(backend: Any) -> float | None:
    try:
        return float(type(backend).priority)
    except Exception:  # noqa: BLE001 - keyring: priority "should raise" when not viable; some raise anything
        return None


def insecure_reason(backend: Any) -> str | None:
    """Why ``backend`` does not keep secrets encrypted (rule 2 above), or ``None``."""
    names = {cls.__name__ for cls in type(backend).__mro__}
    if names & _PLAINTEXT_CLASSES:
        where = getattr(backend, "file_path", None)
        return "it writes secrets unencrypted into " + (f"{where}" if where else "a file")
    priority = _priority(backend)
    if priority is not None and priority < 1:
        return (f"keyring rates it {priority:g}, below 1: not recommended, as it does not keep "
                "secrets in an encrypted store")
    return None


def insecure_allowed() -> bool:
    """Whether the user opted in to unencrypted backends (see the module docstring)."""
    if os.environ.get(ALLOW_ENV, "").strip().lower() in _TRUE:
        return True
    from diagkit import config

    try:
        return config.load_settings().get(ALLOW_SETTING) is True
    except ConfigError:
        return False  # a broken settings file opts nobody in; other commands report it


def _members(backend: Any) -> list[Any]:
    from keyring.backends import chainer

    if isinstance(backend, chainer.ChainerBackend):
        return list(type(backend).backends)
    return [backend]


def _usable() -> list[tuple[Any, str | None]]:
    """The backends to use, best first, each with why it is insecure (``None``: it is not)."""
    import keyring

    try:
        chosen = keyring.get_keyring()
    except Exception as exc:  # a broken PYTHON_KEYRING_BACKEND raises all sorts
        raise KeyringUnavailable(str(exc)) from exc
    present = [b for b in _members(chosen) if (_priority(b) or 0) > 0]
    if not present:
        raise KeyringUnavailable("no recommended backend was found")
    judged = [(b, insecure_reason(b)) for b in present]
    secure: list[tuple[Any, str | None]] = [(b, why) for b, why in judged if why is None]
    if insecure_allowed():
        return judged
    if secure:
        return secure
    backend, why = judged[0]
    from diagkit import config

    raise KeyringInsecure(backend_name(backend), why or "", settings=str(config.settings_file()))


def _label(backend: Any, why: str | None) -> str:
    """keyring's short name of the backend ("SecretService Keyring"), for messages."""
    try:
        name = str(type(backend).name)
    except Exception:  # noqa: BLE001 - a third-party backend's name property: never fatal
        name = backend_name(backend)
    return f"{name}, UNENCRYPTED" if why else name


def _warn(doing: str, account: str, backend: Any, why: str) -> None:
    from diagkit import config

    message = (f"the secret of {account} was {doing} {backend_name(backend)}, which does not "
               f"encrypt it ({why}); you allowed this with {ALLOW_ENV} or "
               f"\"{ALLOW_SETTING}\" in {config.settings_file()}")
    log.warning(message)
    try:
        _warning_handler(message)
    except Exception:  # noqa: BLE001 - e.g. a closed window's handler: the warning must show
        _stderr_warning(message)


# --- reading and writing -----------------------------------------------------------------------


def get_password(account: str) -> str | None:
    """The secret stored for ``account``, or ``None`` (also when no keyring is usable)."""
    from keyring.errors import KeyringError

    try:
        for backend, why in _usable():
            secret = backend.get_password(SERVICE, account)
            if secret is not None:
                if why:
                    _warn("read from", account, backend, why)
                return str(secret)
    except (KeyringUnavailable, KeyringError):
        return None
    return None


def set_password(account: str, secret: str) -> str:
    """Store ``secret`` for ``account``; returns the backend's name for messages.

    :class:`KeyringUnavailable` (or :class:`KeyringInsecure`) if it cannot be stored safely.
    """
    from keyring.errors import KeyringError

    for backend, why in _usable():
        try:
            backend.set_password(SERVICE, account, secret)
        except NotImplementedError:
            continue  # a read-only member of a chain: the next one, as keyring's chainer does
        except KeyringError as exc:
            # The message of a keyring error never contains the secret itself.
            raise KeyringUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if why:
            _warn("stored in", account, backend, why)
        return _label(backend, why)
    raise KeyringUnavailable("no backend accepts new secrets")


def delete_password(account: str) -> None:
    """Forget the secret of ``account`` in every backend used; nothing stored is not an error."""
    from keyring.errors import KeyringError, PasswordDeleteError

    for backend, _why in _usable():
        try:
            backend.delete_password(SERVICE, account)
        except (PasswordDeleteError, NotImplementedError):
            continue
        except KeyringError as exc:
            raise KeyringUnavailable(f"{type(exc).__name__}: {exc}") from exc


def get_key_passphrase(key_path: str) -> str | None:
    """The stored passphrase of the private key at ``key_path``, or ``None``."""
    return get_password(key_account(key_path))


def set_key_passphrase(key_path: str, passphrase: str) -> str:
    """Store the passphrase of the private key at ``key_path``; returns the backend's name."""
    return set_password(key_account(key_path), passphrase)


def delete_key_passphrase(key_path: str) -> None:
    delete_password(key_account(key_path))


def move_password(old_account: str, new_account: str) -> None:
    """Move a stored secret to another account (a renamed host). Nothing stored: nothing to do."""
    secret = get_password(old_account)
    if secret is not None:
        set_password(new_account, secret)
        delete_password(old_account)
