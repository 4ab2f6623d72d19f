"""OpenSSH known_hosts: is this the key we expect from this host?

Reads the user's files (``~/.ssh/known_hosts``, ``~/.ssh/known_hosts2``,
``/etc/ssh/ssh_known_hosts``); new keys are appended only to diagkit's own file
(:func:`diagkit.config.known_hosts_file`), never to ``~/.ssh``. The one edit of the user's
files is :func:`replace_host_key`, after the user confirmed a changed key's new fingerprint: it
removes the old entries as ``ssh-keygen -R`` does (keeping a ``.old`` copy), never from the
system-wide files.

Understood: hashed names (``|1|salt|hash``), comma-separated names and patterns (``*``, ``?``,
``!negation``), ``[host]:port`` for ports other than 22, comments, ``@revoked`` (a revoked key is
refused for every host) and ``@cert-authority`` (ignored: diagkit does not do host certificates).

Which name is looked up is the caller's business, as in OpenSSH: the ``HostName`` the connection
goes to (not the ``~/.ssh/config`` alias), or the ``HostKeyAlias`` when one is set (then without
a port).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from diagkit import config
from diagkit.errors import ConfigError


class PublicKey(Protocol):
    """What we need of a key: paramiko's ``PKey`` fits."""

    def get_name(self) -> str: ...

    def asbytes(self) -> bytes: ...


class Status(enum.Enum):
    KNOWN = "known"  # a recorded key for this host matches
    UNKNOWN = "unknown"  # nothing at all recorded for this host
    CHANGED = "changed"  # a different key of the same type is recorded
    OTHER_TYPE = "other-type"  # only keys of other types are recorded: as good as changed
    REVOKED = "revoked"  # the key is marked @revoked


@dataclass(frozen=True)
class Entry:
    """One usable line of a known_hosts file."""

    file: str
    line: int
    marker: str  # "", "@revoked" or "@cert-authority"
    hosts: str  # the raw host field
    key_type: str
    key_blob: bytes

    def matches_host(self, name: str) -> bool:
        return _host_field_matches(self.hosts, name)


@dataclass(frozen=True)
class Match:
    """Result of :func:`lookup`. For CHANGED/OTHER_TYPE/REVOKED, ``file``/``line`` name the
    recorded entry (for OTHER_TYPE the first one of another type, in file order)."""

    status: Status
    file: str = ""
    line: int | None = None
    recorded_key_type: str = ""
    recorded_fingerprint: str = ""


def host_key_name(host: str, port: int) -> str:
    """How known_hosts writes a host: ``host`` for port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint(key: PublicKey | bytes) -> str:
    """``SHA256:<base64, no padding>`` exactly as ``ssh-keygen -lf`` prints it."""
    blob = key if isinstance(key, bytes) else key.asbytes()
    digest = hashlib.sha256(blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def default_files() -> list[Path]:
    """The files looked in, user's first, diagkit's own last (it is the one we write)."""
    home = Path.home() / ".ssh"
    return [
        home / "known_hosts",
        home / "known_hosts2",
        Path("/etc/ssh/ssh_known_hosts"),
        Path("/etc/ssh/ssh_known_hosts2"),
        config.known_hosts_file(),
    ]


def _hashed_matches(field: str, name: str) -> bool:
    # |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    parts = field.split("|")
    if len(parts) != 4 or parts[1] != "1":
        return False
    try:
        salt = base64.b64decode(parts[2])
        expected = base64.b64decode(parts[3])
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(hmac.new(salt, name.encode(), hashlib.sha1).digest(), expected)


def _pattern_matches(pattern: str, name: str) -> bool:
    # OpenSSH patterns know only * and ? ("[" is literal: "[host]:port"), case-insensitive.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, flags=re.IGNORECASE) is not None


def _host_field_matches(field: str, name: str) -> bool:
    if field.startswith("|"):
        return _hashed_matches(field, name)
    matched = False
    for pattern in field.split(","):
        negate = pattern.startswith("!")
        if negate:
            pattern = pattern[1:]
        if _pattern_matches(pattern, name):
            if negate:
                return False
            matched = True
    return matched


def parse_line(text: str, *, file: str = "", line: int = 0) -> Entry | None:
    """One known_hosts line, or ``None`` for blanks, comments and lines we cannot read."""
    text = text.strip()
    if not text or text.startswith("#"):
        return None
    fields = text.split()
    marker = ""
    if fields[0].startswith("@"):
        marker, fields = fields[0], fields[1:]
    if len(fields) < 3:
        return None
    try:
        blob = base64.b64decode(fields[2], validate=True)
    except (binascii.Error, ValueError):
        return None
    return Entry(file, line, marker, fields[0], fields[1], blob)


def read_entries(files: Iterable[Path]) -> list[Entry]:
    """Every usable line of the given files; missing or unreadable files are skipped."""
    entries: list[Entry] = []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for number, raw in enumerate(lines, start=1):
            entry = parse_line(raw, file=str(path), line=number)
            if entry is not None:
                entries.append(entry)
    return entries


def lookup(
    host: str,
    port: int,
    key: PublicKey,
    *,
    files: Sequence[Path] | None = None,
) -> Match:
    """Check ``key`` offered by ``host:port`` against the known_hosts files.

    A matching key anywhere wins; a *different* key of the same type is CHANGED; keys of other
    types only are OTHER_TYPE, and only nothing at all is UNKNOWN. A host that offers none of
    the key types on record cannot prove it is the host on record: a man in the middle without
    the host's keys would offer just that, hoping to be taken for a new host. OpenSSH (9.2,
    measured with ``StrictHostKeyChecking=accept-new``) also reports it as "REMOTE HOST
    IDENTIFICATION HAS CHANGED" and names the offending entry. A key marked ``@revoked`` is
    REVOKED whatever the host.
    """
    entries = read_entries(files if files is not None else default_files())
    name = host_key_name(host, port)
    key_type, blob = key.get_name(), key.asbytes()
    for entry in entries:
        if entry.marker == "@revoked" and entry.key_blob == blob:
            return Match(Status.REVOKED, entry.file, entry.line, entry.key_type, fingerprint(blob))
    changed: Entry | None = None
    other: Entry | None = None
    for entry in entries:
        if entry.marker or not entry.matches_host(name):
            continue
        if entry.key_type == key_type and entry.key_blob == blob:
            return Match(Status.KNOWN, entry.file, entry.line, entry.key_type, fingerprint(blob))
        if entry.key_type == key_type and changed is None:
            changed = entry
        if entry.key_type != key_type and other is None:
            other = entry
    for status, found in ((Status.CHANGED, changed), (Status.OTHER_TYPE, other)):
        if found is not None:
            return Match(status, found.file, found.line, found.key_type,
                         fingerprint(found.key_blob))
    return Match(Status.UNKNOWN)


def known_key_types(host: str, port: int, *, files: Sequence[Path] | None = None) -> list[str]:
    """Key types on record for the host, in file order (to prefer them when negotiating).

    When the server supports none of them, :func:`lookup` says OTHER_TYPE, and the connection
    is refused like one with a changed key.
    """
    name = host_key_name(host, port)
    types: list[str] = []
    for entry in read_entries(files if files is not None else default_files()):
        if not entry.marker and entry.key_type not in types and entry.matches_host(name):
            types.append(entry.key_type)
    return types


def trust(host: str, port: int, key: PublicKey, *, file: Path | None = None) -> Path:
    """Append ``key`` for ``host:port`` to diagkit's own known_hosts; returns the file."""
    path = file or config.known_hosts_file()
    line = f"{host_key_name(host, port)} {key.get_name()} {base64.b64encode(key.asbytes()).decode()}\n"
    try:
        config.private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, config.PRIVATE_FILE_MODE)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line)
    except OSError as exc:
        raise ConfigError(
            f"Cannot record the host key in {path}: {exc.strerror}. Check the folder's permissions."
        ) from exc
    return path


# --- replacing a changed key (after the user confirmed the new fingerprint) ------------------


@dataclass(frozen=True)
class Removed:
    """One line edited: the whole line dropped, or only ``name`` taken out of its host list."""

    file: str
    line: int
    text: str  # the line as it was
    whole_line: bool
    fingerprint: str


@dataclass(frozen=True)
class Replacement:
    """What :func:`replace_host_key` did, for the journal."""

    host: str
    port: int
    removed: tuple[Removed, ...]
    trusted_fingerprint: str
    trusted_in: str
    backups: tuple[str, ...]

    def describe(self) -> str:
        name = host_key_name(self.host, self.port)
        old = ", ".join(sorted({f"{r.fingerprint} ({r.file}:{r.line})" for r in self.removed}))
        return (f"Host key of {name} replaced after confirmation: removed {old or 'nothing'}; "
                f"now trusting {self.trusted_fingerprint} (in {self.trusted_in}). "
                f"Backups: {', '.join(self.backups) or 'none'}.")


def editable_files() -> list[Path]:
    """The files diagkit edits when the user removes a host's key: the user's own and
    diagkit's, never the system-wide ones (those belong to the administrator)."""
    home = Path.home() / ".ssh"
    return [home / "known_hosts", home / "known_hosts2", config.known_hosts_file()]


def _without_name(text: str, name: str) -> tuple[str | None, bool]:
    """``text`` (a known_hosts line) without the host ``name``: (new line or None to drop it,
    whether the name was there). Only an exact name (or its hash) is removed; a wildcard that
    happens to match is reported by the caller, never edited."""
    fields = text.split()
    at = 1 if fields[0].startswith("@") else 0
    field = fields[at]
    if field.startswith("|"):
        return (None, True) if _hashed_matches(field, name) else (text, False)
    names = field.split(",")
    kept = [n for n in names if n.lower() != name.lower()]
    if len(kept) == len(names):
        return text, False
    if not kept:
        return None, True
    fields[at] = ",".join(kept)
    return " ".join(fields), True


def remove_host(host: str, port: int, *, files: Sequence[Path] | None = None,
                others: Sequence[Path] | None = None) -> tuple[list[Removed], list[str]]:
    """Remove every recorded key of ``host:port`` from ``files`` (default
    :func:`editable_files`), as ``ssh-keygen -R`` does: hashed entries too, and from a list of
    names only this one. ``@revoked`` and ``@cert-authority`` lines are kept. Each file edited is
    first copied to ``<file>.old`` and then replaced atomically with its mode kept.

    Returns (what was removed, the backup files). Raises :class:`ConfigError`, editing nothing,
    when the host is still matched elsewhere: by a wildcard pattern in ``files``, or in the
    ``others`` (default: the system-wide files) that diagkit does not edit.
    """
    name = host_key_name(host, port)
    targets = list(files) if files is not None else editable_files()
    if others is None:
        others = [f for f in default_files() if f not in targets]
    blocking = [f"{e.file}:{e.line}" for e in read_entries(others)
                if not e.marker and e.matches_host(name)]
    plans: list[tuple[Path, list[str], list[Removed]]] = []
    for path in targets:
        try:
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read {path}: {exc}. Check the file, then try again.") from exc
        out: list[str] = []
        removed: list[Removed] = []
        for number, raw in enumerate(lines, start=1):
            entry = parse_line(raw, file=str(path), line=number)
            if entry is None or entry.marker or not entry.matches_host(name):
                out.append(raw)
                continue
            new, found = _without_name(raw.strip(), name)
            if not found:
                blocking.append(f"{path}:{number} (the pattern {entry.hosts})")
                out.append(raw)
                continue
            removed.append(Removed(str(path), number, raw.rstrip("\n"), new is None,
                                   fingerprint(entry.key_blob)))
            if new is not None:
                out.append(new + "\n")
        if removed:
            plans.append((path, out, removed))
    if blocking:
        raise ConfigError(
            f"The key of {name} is also recorded in {', '.join(blocking)}, which diagkit does not "
            "edit (a system-wide file or a wildcard pattern). Remove it there yourself (ssh-keygen "
            f"-R {name} -f FILE, as the file's owner); nothing was changed.")
    done: list[Removed] = []
    backups: list[str] = []
    for path, out, removed in plans:
        backup = path.with_name(path.name + ".old")
        try:
            mode = path.stat().st_mode & 0o777
            original = path.read_bytes()
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "wb") as fh:
                fh.write(original)
            temp = path.with_name(f".{path.name}.diagkit-{os.getpid()}")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.writelines(out)
            os.chmod(temp, mode)
            os.replace(temp, path)
        except OSError as exc:
            raise ConfigError(
                f"Cannot edit {path}: {exc.strerror or exc}. Check its permissions; "
                f"{len(done)} entry(ies) were removed before this.") from exc
        done += removed
        backups.append(str(backup))
    return done, backups


def replace_host_key(host: str, port: int, key: PublicKey, *,
                     files: Sequence[Path] | None = None,
                     others: Sequence[Path] | None = None,
                     trust_file: Path | None = None) -> Replacement:
    """The explicit way out of a changed host key, once the user confirmed the new fingerprint
    with the host's administrator: remove the old entries (:func:`remove_host`) and trust
    ``key`` (:func:`trust`). The :class:`Replacement` says what was done, to be journaled."""
    removed, backups = remove_host(host, port, files=files, others=others)
    path = trust(host, port, key, file=trust_file)
    return Replacement(host, port, tuple(removed), fingerprint(key), str(path), tuple(backups))
