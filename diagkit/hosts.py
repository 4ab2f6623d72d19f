"""Saved hosts: the machines an engineer works on, kept in ``hosts.json`` in the config dir.

A saved host holds how to reach a machine (address, port, user, jump host) and how to find it
again (group, tags, notes). It never holds a secret: passwords and passphrases live in the OS
keyring (:mod:`diagkit.credentials`), keyed by the host's name.

``address`` may be a ``~/.ssh/config`` alias: the SSH transport resolves it through the config,
and any field set here overrides the config.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from diagkit import config
from diagkit.errors import ConfigError, UnknownHost

LOCAL_NAME = "local"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$")
_SCHEMA = 1


@dataclass(frozen=True)
class SavedHost:
    name: str
    address: str
    port: int | None = None
    user: str | None = None
    jump: str | None = None
    group: str = ""
    tags: tuple[str, ...] = ()
    notes: str = ""
    identity_file: str | None = None  # a private key to try first (besides ~/.ssh/config's)
    # Application logs the logs probe scans besides /var/log and the journal: absolute paths or
    # globs, expanded on the host (e.g. /srv/shop/logs/*.log).
    log_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_name(self.name)
        for path in self.log_paths:
            validate_log_path(path)
        if not self.address.strip():
            raise ConfigError(f"Host {self.name!r} needs an address (a name, IP or ~/.ssh/config alias).")
        if self.port is not None and not 0 < self.port < 65536:
            raise ConfigError(f"Port {self.port} for host {self.name!r} is not between 1 and 65535.")

    @property
    def password_account(self) -> str:
        """The keyring account holding this host's password."""
        return f"host:{self.name}"

    @property
    def destination(self) -> str:
        """``user@address:port`` as an engineer would write it."""
        text = f"{self.user}@{self.address}" if self.user else self.address
        return f"{text}:{self.port}" if self.port else text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        data["log_paths"] = list(self.log_paths)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SavedHost:
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        values["tags"] = tuple(values.get("tags") or ())
        values["log_paths"] = tuple(values.get("log_paths") or ())
        return cls(**values)


def validate_name(name: str) -> None:
    if name == LOCAL_NAME:
        raise ConfigError(f"{LOCAL_NAME!r} is reserved for this machine; choose another name.")
    if not _NAME_RE.match(name):
        raise ConfigError(
            f"Host name {name!r} is not valid: use letters, digits, '.', '_', '-' or '@' "
            "(up to 63 characters), starting with a letter or digit."
        )


def validate_log_path(path: str) -> str:
    """An application log path or glob as saved: absolute, one line (it is expanded by the
    host's shell, so ``~`` or a relative path would depend on the login's home and directory)."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigError(f"Log path {path!r} must be absolute, e.g. /srv/shop/logs/*.log "
                          "(globs * ? [..] are expanded on the host).")
    if any(c in path for c in "\n\r\0") or len(path) > 1024:
        raise ConfigError(f"Log path {path[:80]!r} must be one line of at most 1024 characters.")
    return path


def parse_log_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """Validated, stripped and de-duplicated log paths (order kept)."""
    return tuple(dict.fromkeys(validate_log_path(p.strip()) for p in paths if p.strip()))


def parse_tags(text: str | Iterable[str]) -> tuple[str, ...]:
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(dict.fromkeys(t.strip() for t in items if t.strip()))


class HostStore:
    """Load, change and save the saved-host list.

    Writes are atomic, and every change (add, update, replace, remove, add_many, save) reads,
    changes and writes the file under its cross-process lock (:func:`diagkit.config.locked`),
    so two diagkit processes adding hosts at once keep both.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config.hosts_file()

    def load(self) -> list[SavedHost]:
        data = config.read_json(self.path, {"schema": _SCHEMA, "hosts": []})
        if not isinstance(data, dict) or not isinstance(data.get("hosts"), list):
            raise ConfigError(f"{self.path} is not a diagkit hosts file. Fix it or move it away.")
        hosts = []
        for item in data["hosts"]:
            try:
                hosts.append(SavedHost.from_dict(item))
            except (TypeError, ConfigError) as exc:
                raise ConfigError(f"{self.path}: a host entry is invalid ({exc}). Fix it in an editor.") from exc
        return sorted(hosts, key=lambda h: (h.group.lower(), h.name.lower()))

    def locked(self) -> AbstractContextManager[None]:
        """The lock of the hosts file: hold it to load, change and save as one step."""
        return config.locked(self.path)

    def save(self, hosts: Iterable[SavedHost]) -> None:
        """Replace the whole list. To change it, prefer the methods below (they re-read it)."""
        ordered = sorted(hosts, key=lambda h: h.name.lower())
        with self.locked():
            data: dict[str, Any] = {"schema": _SCHEMA, "hosts": [h.to_dict() for h in ordered]}
            groups = self._groups()
            if groups:
                data["groups"] = groups
            config.write_json(self.path, data)

    # -- groups: what every host of a group shares (today: application log paths) ------------

    def _groups(self) -> dict[str, Any]:
        data = config.read_json(self.path, {})
        groups = data.get("groups") if isinstance(data, dict) else None
        return groups if isinstance(groups, dict) else {}

    def group_log_paths(self, group: str) -> tuple[str, ...]:
        """The log paths saved for host group ``group`` (empty when none)."""
        entry = self._groups().get(group)
        paths = entry.get("log_paths") if isinstance(entry, dict) else None
        if not isinstance(paths, list):
            return ()
        try:
            return parse_log_paths(str(p) for p in paths)
        except ConfigError as exc:
            raise ConfigError(f"{self.path}: group {group!r}: {exc} Fix it in an editor.") from exc

    def set_group_log_paths(self, group: str, paths: Iterable[str]) -> tuple[str, ...]:
        """Save the log paths of host group ``group`` (an empty list removes them)."""
        if not group.strip():
            raise ConfigError("Give a group name (the --group of saved hosts).")
        cleaned = parse_log_paths(paths)
        with self.locked():
            data = config.read_json(self.path, {"schema": _SCHEMA, "hosts": []})
            if not isinstance(data, dict) or not isinstance(data.get("hosts"), list):
                raise ConfigError(f"{self.path} is not a diagkit hosts file. Fix it or move it away.")
            found = data.get("groups")
            groups: dict[str, Any] = found if isinstance(found, dict) else {}
            entry = dict(groups.get(group) or {})
            if cleaned:
                entry["log_paths"] = list(cleaned)
            else:
                entry.pop("log_paths", None)
            if entry:
                groups[group] = entry
            else:
                groups.pop(group, None)
            data["groups"] = groups
            if not groups:
                del data["groups"]
            config.write_json(self.path, data)
        return cleaned

    def log_paths(self, host: SavedHost) -> tuple[str, ...]:
        """The application logs to scan on ``host``: its own paths, then its group's."""
        group = self.group_log_paths(host.group) if host.group else ()
        return tuple(dict.fromkeys((*host.log_paths, *group)))

    def get(self, name: str) -> SavedHost:
        for host in self.load():
            if host.name == name:
                return host
        raise UnknownHost(name)

    def find(self, name: str) -> SavedHost | None:
        try:
            return self.get(name)
        except UnknownHost:
            return None

    def add(self, host: SavedHost) -> None:
        with self.locked():
            hosts = self.load()
            if any(h.name == host.name for h in hosts):
                raise ConfigError(
                    f"A host named {host.name!r} exists already. Use 'diagkit hosts edit {host.name}' "
                    "to change it, or choose another name."
                )
            self.save([*hosts, host])

    def add_many(self, hosts: Iterable[SavedHost]) -> tuple[list[SavedHost], list[SavedHost]]:
        """Add the hosts whose names are not saved yet; returns (added, already saved)."""
        with self.locked():
            existing = {h.name for h in self.load()}
            added: list[SavedHost] = []
            skipped: list[SavedHost] = []
            for host in hosts:
                (skipped if host.name in existing else added).append(host)
                existing.add(host.name)
            if added:
                self.save([*self.load(), *added])
        return added, skipped

    def update(self, name: str, /, **changes: Any) -> SavedHost:
        """Change fields of host ``name`` (``name=`` in ``changes`` renames it).

        ``None`` leaves a field as it is; ``""`` (or port ``0``) clears an optional field.
        """
        if "tags" in changes and changes["tags"] is not None:
            changes["tags"] = parse_tags(changes["tags"])
        if changes.get("log_paths") is not None:
            changes["log_paths"] = parse_log_paths(changes["log_paths"])
        values = {k: v for k, v in changes.items() if v is not None}
        for key in ("port", "user", "jump", "identity_file"):
            if key in values and not values[key]:
                values[key] = None
        with self.locked():
            return self.replace(name, replace(self.get(name), **values))

    def replace(self, name: str, host: SavedHost) -> SavedHost:
        """Put ``host`` in the place of the saved host ``name`` (a rename when the names differ)."""
        with self.locked():
            hosts = self.load()
            if not any(h.name == name for h in hosts):
                raise UnknownHost(name)
            if host.name != name and any(h.name == host.name for h in hosts):
                raise ConfigError(f"A host named {host.name!r} exists already; choose another name.")
            self.save([host if h.name == name else h for h in hosts])
        return host

    def remove(self, name: str) -> SavedHost:
        with self.locked():
            hosts = self.load()
            keep = [h for h in hosts if h.name != name]
            if len(keep) == len(hosts):
                raise UnknownHost(name)
            self.save(keep)
        return next(h for h in hosts if h.name == name)


def hosts_from_ssh_config(path: Path | None = None) -> list[SavedHost]:
    """One saved host per concrete ``Host`` alias in an OpenSSH config (patterns are skipped).

    Only the alias is stored as the address, so the SSH transport keeps reading HostName, Port,
    User, IdentityFile and ProxyJump from the config itself: editing ``~/.ssh/config`` later still
    takes effect.
    """
    path = path or config.ssh_config_file()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ConfigError(f"There is no SSH config at {path}; nothing to import.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from exc
    aliases: list[str] = []
    for line in text.splitlines():
        words = line.strip().split()
        if len(words) >= 2 and words[0].lower() == "host":
            for alias in words[1:]:
                if alias.startswith("#"):
                    break
                if not any(c in alias for c in "*?!") and alias not in aliases:
                    aliases.append(alias)
    found = []
    for alias in aliases:
        try:
            found.append(SavedHost(name=alias, address=alias, group="ssh config"))
        except ConfigError:
            continue  # an alias that is not a valid diagkit name (e.g. "local") is left out
    return found


def import_ssh_config(store: HostStore, path: Path | None = None) -> tuple[list[SavedHost], list[str]]:
    """Add the config's aliases that are not saved yet. Returns (added, skipped names)."""
    added, skipped = store.add_many(hosts_from_ssh_config(path))
    return added, [h.name for h in skipped]
