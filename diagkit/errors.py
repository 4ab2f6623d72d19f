"""One exception tree for the whole diagkit core.

Every error a user can meet is one of these, raised at the boundary where a library error
(paramiko, socket, subprocess, keyring, json) is caught: ``raise ConnectTimeout(...) from exc``.
Each message names the problem *and* the next step, so the CLI can print ``str(error)`` and the
GUI can show it on the row, card or tab where it happened.

    DiagkitError
    ├── ConfigError                 a settings or hosts file that cannot be read or written
    │   ├── UnknownHost             a saved-host name that does not exist
    │   └── CaseInputError          input the case desk refuses (empty note, CSAT 0...): usage
    ├── CredentialError             keyring problems
    │   └── KeyringUnavailable      no usable keyring backend on this machine
    │       └── KeyringInsecure     the backend keeps secrets unencrypted: refused
    ├── TransportError              anything between us and the target machine
    │   ├── ConnectError            could not open a session
    │   │   ├── HostNotFound        DNS lookup failed
    │   │   ├── ConnectionRefused   nothing listens on that port
    │   │   ├── ConnectTimeout      no answer in time
    │   │   └── ProxyJumpError      a jump host in the chain failed
    │   ├── AuthError               every authentication method was refused
    │   ├── HostKeyError
    │   │   ├── HostKeyUnknown      first contact: the user must confirm the fingerprint
    │   │   └── HostKeyChanged      the key differs from the one on record (or is of a
    │   │                               type not on record): refused
    │   ├── CommandTimeout          a command ran longer than allowed and was killed
    │   ├── ConnectionLost          the connection dropped while a command was running
    │   └── RemoteFileError         a file on the target cannot be copied (missing, denied)
    │       └── RemoteFileTooLarge  it is bigger than the copy's size cap
    ├── ProbeError                  a probe definition or user probe script is invalid
    ├── LogFormatError              (logs) a file cannot be read as the requested format
    │   └── LogTruncated            an open log was cut short under its map (copytruncate)
    ├── BundleError                 (reports) a bundle cannot be written, verified or opened
    ├── KbError                     (kb) an article, match rule or article file is invalid
    │   └── UnsafePattern           a rule's regex that the linear-time engine (RE2) cannot run
    ├── InvalidTransition           (cases) a status change the lifecycle does not allow
    └── StoreError                  (store) the case database cannot be opened, read, written
        ├── StoreUnavailable        the team store cannot be reached / the connection dropped
        ├── StaleWrite              someone saved the case since it was read: nothing saved
        │   └── StaleArticleWrite   the same for a KB article
        ├── CaseNotFound            no case with that number
        └── ArticleNotFound         no KB article with that number or slug

Each class is also importable from where it was first defined (``diagkit.store``,
``diagkit.store.contract``, ``diagkit.cases.lifecycle``, ``diagkit.cases.desk``,
``diagkit.rules_regex``); this module is its only definition.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence


class DiagkitError(Exception):
    """Base of every diagkit error. ``str(err)`` is a complete, user-facing sentence."""


class ConfigError(DiagkitError):
    pass


class UnknownHost(ConfigError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"No saved host named {name!r}. List saved hosts with 'diagkit hosts list' "
            f"or add it with 'diagkit hosts add {name} ADDRESS'."
        )


class CredentialError(DiagkitError):
    pass


def secret_store_hint() -> str:
    """What to install or use for an encrypted keyring on this platform (for messages)."""
    if sys.platform == "darwin":
        return ("use the macOS Keychain, keyring's default on macOS (unset PYTHON_KEYRING_BACKEND "
                "and remove a keyringrc.cfg that chose another backend)")
    if sys.platform == "win32":
        return ("use the Windows Credential Locker, keyring's default on Windows (unset "
                "PYTHON_KEYRING_BACKEND and remove a keyringrc.cfg that chose another backend)")
    return ("install and unlock a Secret Service: gnome-keyring (apt-get install gnome-keyring), "
            "KeePassXC with its Secret Service integration on, or KWallet")


class KeyringUnavailable(CredentialError):
    def __init__(self, detail: str = "") -> None:
        msg = (
            "No usable keyring (secret store) was found on this machine, so diagkit cannot store "
            "or read passwords; it never writes them to a plain file. To store them, "
            f"{secret_store_hint()}; or use SSH keys / ssh-agent instead of a password."
        )
        if detail:
            msg += f" (keyring said: {detail})"
        super().__init__(msg)


class KeyringInsecure(KeyringUnavailable):
    """The keyring backend in use keeps secrets unencrypted: diagkit refuses it (see
    :mod:`diagkit.credentials` for the rule and the opt-in)."""

    def __init__(self, backend: str, reason: str, *, settings: str = "settings.json") -> None:
        self.backend = backend
        self.reason = reason
        chosen = ("uninstall keyrings.alt or unset the PYTHON_KEYRING_BACKEND that chose it"
                  if backend.startswith("keyrings.alt.") else
                  "unset the PYTHON_KEYRING_BACKEND (or keyringrc.cfg) that chose it")
        CredentialError.__init__(
            self,
            f"The keyring backend {backend} does not keep secrets encrypted ({reason}), so "
            "diagkit does not use it: nothing was stored or read. To store secrets safely, "
            f"{secret_store_hint()}, and {chosen}; or use SSH keys / ssh-agent. To accept the "
            f"risk anyway, set \"allow_insecure_keyring\": true in {settings} (or "
            "DIAGKIT_ALLOW_INSECURE_KEYRING=1): every use then prints a warning.",
        )


class TransportError(DiagkitError):
    """Base for errors reaching or talking to a machine. ``host`` names the target."""

    def __init__(self, message: str, *, host: str = "") -> None:
        self.host = host
        super().__init__(message)


class ConnectError(TransportError):
    pass


class HostNotFound(ConnectError):
    pass


class ConnectionRefused(ConnectError):
    pass


class ConnectTimeout(ConnectError):
    pass


class ProxyJumpError(ConnectError):
    pass


class AuthError(TransportError):
    def __init__(self, message: str, *, host: str = "", methods_tried: Sequence[str] = ()) -> None:
        self.methods_tried = tuple(methods_tried)
        super().__init__(message, host=host)


class HostKeyError(TransportError):
    pass


class HostKeyUnknown(HostKeyError):
    """First contact with a host: nothing on record. The caller must ask the user.

    ``fingerprint`` is OpenSSH style (``SHA256:...``); ``key`` is the public key object the
    transport saw (opaque to callers; pass it back to accept it).
    """

    def __init__(
        self, *, host: str, port: int, key_type: str, fingerprint: str, key: object = None
    ) -> None:
        self.port = port
        self.key_type = key_type
        self.fingerprint = fingerprint
        self.key = key
        where = host if port == 22 else f"[{host}]:{port}"
        super().__init__(
            f"The authenticity of host {where} can't be established: it is not in any known_hosts "
            f"file. Its {key_type} key fingerprint is {fingerprint}. Compare it with the "
            "fingerprint the host's administrator gives you (ssh-keygen -lf on the host), then "
            "accept it (CLI: --accept-new-host-key; app: 'Trust')."
            ,
            host=host,
        )


class HostKeyChanged(HostKeyError):
    """The host presented a key that differs from the one on record. Never overridden.

    Also raised when the host offers only a key of another type than the one(s) on record
    (``expected_key_type`` differs from ``key_type``, see :attr:`other_type`): a host that cannot
    show the key on record cannot prove it is that host, whatever key it shows instead.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        key_type: str,
        fingerprint: str,
        expected_fingerprint: str,
        known_hosts_file: str,
        line: int | None = None,
        expected_key_type: str = "",
        key: object = None,
        revoked: bool = False,
    ) -> None:
        self.port = port
        # the key the host offers now (opaque; pass it back to trust it once confirmed) and
        # whether the key itself is marked @revoked (then no replacing is offered at all)
        self.key = key
        self.revoked = revoked
        self.key_type = key_type
        self.fingerprint = fingerprint
        self.expected_fingerprint = expected_fingerprint
        self.expected_key_type = expected_key_type
        self.known_hosts_file = known_hosts_file
        self.line = line
        where = host if port == 22 else f"[{host}]:{port}"
        at = f"{known_hosts_file}:{line}" if line else known_hosts_file
        remove = f"ssh-keygen -R {shlex.quote(where)} -f {shlex.quote(known_hosts_file)}"
        if expected_key_type and expected_key_type != key_type:
            what = (
                f"WARNING: the host key of {where} has CHANGED. It offers only a {key_type} key "
                f"({fingerprint}), but {at} records its {expected_key_type} key "
                f"({expected_fingerprint}), which it no longer offers. Someone may be "
                "intercepting the connection (man-in-the-middle) and hoping to pass for a new "
                "host, or the host's keys were replaced. diagkit refuses to connect, and "
                "--accept-new-host-key does not change that (it accepts only hosts with nothing "
                "on record)."
            )
        else:
            what = (
                f"WARNING: the host key of {where} has CHANGED. It now offers {key_type} "
                f"{fingerprint}, but {at} records {expected_fingerprint}. Someone may be "
                "intercepting the connection (man-in-the-middle), or the host was reinstalled. "
                "diagkit refuses to connect."
            )
        super().__init__(
            f"{what} Confirm the new key with the host's administrator, then remove the old "
            f"entry with: {remove}",
            host=host,
        )

    @property
    def other_type(self) -> bool:
        """The host offers none of the key types on record (not a different key of one type)."""
        return bool(self.expected_key_type) and self.expected_key_type != self.key_type


class CommandTimeout(TransportError):
    """A command was killed: its time ran out (``timeout`` > 0) or it was cancelled (0)."""

    def __init__(self, message: str, *, host: str = "", timeout: float = 0.0,
                 stdout: str = "", stderr: str = "") -> None:
        self.timeout = timeout
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(message, host=host)

    @classmethod
    def killed(cls, *, host: str, timeout: float | None, cancelled: bool,
               stdout: str, stderr: str) -> CommandTimeout:
        limit = 0.0 if cancelled else float(timeout or 0)
        why = "was stopped" if limit == 0.0 else f"did not finish within {limit:g} s"
        return cls(
            f"The command {why} on {host} and was killed. "
            "Run it with a longer timeout, or check what it is waiting for.",
            host=host, timeout=limit, stdout=stdout, stderr=stderr,
        )


class ConnectionLost(TransportError):
    pass


class RemoteFileError(TransportError):
    """A file on the target cannot be read or copied: missing, not permitted, a directory.

    ``path`` is the file as given and ``reason`` the system's words for why ("No such file or
    directory", "Permission denied"), so a caller can say it in a sentence of its own.
    """

    def __init__(self, message: str, *, host: str = "", path: str = "", reason: str = "") -> None:
        self.path = path
        self.reason = reason
        super().__init__(message, host=host)


class RemoteFileTooLarge(RemoteFileError):
    """A copy with a size cap (``max_bytes``) met a file bigger than the cap: nothing is kept.

    ``size`` is what the file had when the copy began (0 when unknown), ``limit`` the cap; the
    message (built by the copier, which words sizes) names both and the way on.
    """

    def __init__(self, message: str, *, host: str, path: str, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(message, host=host, path=path, reason="over the size cap")


class ProbeError(DiagkitError):
    pass


class LogFormatError(DiagkitError):
    pass


class LogTruncated(LogFormatError):
    """An open log file shrank below what was indexed (logrotate's ``copytruncate``): its
    records past the new end are gone, and reading them through the map would kill the
    process (SIGBUS), so it is checked before and this is raised instead."""


class BundleError(DiagkitError):
    pass


class KbError(DiagkitError):
    """A knowledge-base article, match rule or article file is invalid (names which, and why)."""


class UnsafePattern(KbError):
    """A rule's pattern that the linear-time engine cannot run (the message says why)."""

    def __init__(self, pattern: str, reason: str, *, syntax: bool = False) -> None:
        self.pattern = pattern
        self.reason = reason
        #: True when the pattern is simply malformed (not a construct RE2 leaves out).
        self.syntax = syntax
        super().__init__(f"The pattern {pattern!r} {reason}" if syntax else
                         f"The pattern {pattern!r} cannot be used: {reason}")


class CaseInputError(ConfigError):
    """Input the desk refuses (empty note, CSAT out of range...): a usage problem (exit 2)."""


class InvalidTransition(DiagkitError):
    """A status change the lifecycle does not allow. ``allowed`` lists the legal next states."""

    def __init__(self, current: str, target: str, reason: str,
                 allowed: tuple[str, ...] = ()) -> None:
        self.current = current
        self.target = target
        self.reason = reason
        self.allowed = allowed
        nxt = ", ".join(allowed) if allowed else "none"  # Status is a StrEnum: its values
        super().__init__(
            f"Cannot change the case status from {current!r} to {target!r}: {reason}. "
            f"Allowed next states from {current!r}: {nxt}."
        )


# -- the case and KB store (diagkit.store) ------------------------------------------------


class StoreError(DiagkitError):
    """The case database cannot be opened, migrated, read or written."""


class StoreUnavailable(StoreError):
    """The (team) store cannot be reached or the connection dropped mid-operation. Whatever
    the operation was writing was rolled back; what the caller already has stays valid."""


class StaleWrite(StoreError):
    """Someone saved the case after the caller read it; the save was refused, nothing changed."""

    def __init__(self, case_id: int, expected: int, actual: int) -> None:
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Case {case_id} was changed by someone else since you opened it (your copy is "
            f"version {expected}, the saved one is version {actual}); your changes were not "
            "saved. Reload the case, re-apply your changes and save again."
        )


class CaseNotFound(StoreError):
    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        super().__init__(
            f"There is no case {case_id}. List cases with 'diagkit case list' to find its number."
        )


class ArticleNotFound(StoreError):
    def __init__(self, ref: int | str) -> None:
        self.ref = ref
        what = f"number {ref}" if isinstance(ref, int) else f"{ref!r}"
        super().__init__(
            f"There is no knowledge-base article {what}. Search with 'diagkit kb search WORDS' "
            "to find its slug."
        )


class StaleArticleWrite(StaleWrite):
    """Someone saved the article after the caller read it (a :class:`StaleWrite`)."""

    def __init__(self, article_id: int, expected: int, actual: int) -> None:
        self.case_id = article_id  # StaleWrite's attribute; kept for code that reads it
        self.article_id = article_id
        self.expected = expected
        self.actual = actual
        StoreError.__init__(
            self,
            f"Article {article_id} was changed by someone else since you opened it (your copy is "
            f"version {expected}, the saved one is version {actual}); your changes were not "
            "saved. Reload the article, re-apply your changes and save again.",
        )
