"""Per-host command history for the console (no Qt: the UI only forwards key presses).

Each host gets one small JSON file, ``<data dir>/history/<safe name>.json``, written atomically
through :func:`diagkit.config.write_json`. Entries are kept oldest first (most recent last),
consecutive duplicates are collapsed and at most :data:`MAX_ENTRIES` are kept per host.

A line is never stored when it looks like it carries a secret: it contains one of
:data:`SECRET_MARKERS` (case-insensitive), or it starts with a space (the shell's
``HISTCONTROL=ignorespace`` habit: engineers already use it to keep a line out of history).
History is a convenience, so a missing or unreadable file reads as empty; only a failed *write*
raises :class:`~diagkit.errors.ConfigError`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from diagkit import config
from diagkit.errors import ConfigError

MAX_ENTRIES = 500
_SCHEMA = 1

# Substrings (compared lower-case) that mark a command line as carrying a secret. Broad on
# purpose: losing a harmless line from history costs nothing, keeping a password costs a lot.
SECRET_MARKERS: tuple[str, ...] = (
    "password",      # --password, password=, mysql ... password: ...
    "passwd",        # passwd, chpasswd, --passwd=
    "pass=",         # PASS=..., PGPASS=..., pass=...
    "passphrase",
    "sshpass",
    "secret",        # client_secret=, --secret, SECRET_KEY=
    "token",         # token=, --token, X-Auth-Token
    "api_key",
    "apikey",
    "api-key",
    "authorization:",
    "bearer ",
    "private_key",
    "-----begin",    # a pasted PEM key
)


def looks_secret(command: str) -> bool:
    """Whether ``command`` must stay out of history (see :data:`SECRET_MARKERS`)."""
    lowered = command.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def history_dir() -> Path:
    return config.data_dir() / "history"


def history_file(host: str) -> Path:
    """The file of ``host``: a readable stem plus a short hash, so ``a/b`` and ``a_b`` differ."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", host)[:60] or "host"
    digest = hashlib.sha256(host.encode("utf-8")).hexdigest()[:10]
    return history_dir() / f"{stem}-{digest}.json"


class CommandHistory:
    """The history of one host plus an up/down cursor, as a shell line editor keeps one.

    ``older(current)`` walks back (remembering the half-typed ``current`` on the first step),
    ``newer()`` walks forward and finally gives the half-typed line back; ``reset()`` (called
    after a command runs or the user types) returns the cursor to the bottom.
    """

    def __init__(self, host: str, *, max_entries: int = MAX_ENTRIES) -> None:
        self.host = host
        self.path = history_file(host)
        self.max_entries = max_entries
        self._entries = self._read()
        self._index: int | None = None  # None: below the newest entry (editing a new line)
        self._draft = ""

    def _read(self) -> list[str]:
        try:
            data = config.read_json(self.path, {})
        except ConfigError:
            return []  # a broken history file only costs the history; it is rewritten on add()
        items = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(items, list):
            return []
        return [item for item in items if isinstance(item, str)][-self.max_entries:]

    def entries(self) -> list[str]:
        """All stored commands, oldest first."""
        return list(self._entries)

    def add(self, command: str) -> bool:
        """Remember ``command``; returns whether it was stored (not empty, secret or repeated).

        Re-reads the file first so two consoles on the same host do not drop each other's lines.
        Raises :class:`ConfigError` when the file cannot be written.
        """
        self.reset()
        if not command.strip() or command.startswith(" ") or looks_secret(command):
            return False
        line = command.strip()
        entries = self._read()
        if entries and entries[-1] == line:
            self._entries = entries
            return False
        entries.append(line)
        self._entries = entries[-self.max_entries:]
        config.write_json(self.path, {"schema": _SCHEMA, "host": self.host, "entries": self._entries})
        return True

    def clear(self) -> None:
        """Forget this host's history (the file is removed)."""
        self.reset()
        self._entries = []
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise ConfigError(f"Cannot remove {self.path}: {exc.strerror}.") from exc

    # --- cursor -----------------------------------------------------------------------------

    def older(self, current_text: str = "") -> str:
        """One step back in time. At the oldest entry it stays there; with no history it
        returns ``current_text`` unchanged."""
        if not self._entries:
            return current_text
        if self._index is None:
            self._draft = current_text
            self._index = len(self._entries) - 1
        elif self._index > 0:
            self._index -= 1
        return self._entries[self._index]

    def newer(self) -> str:
        """One step forward; past the newest entry, the line that was being typed."""
        if self._index is None:
            return self._draft
        if self._index < len(self._entries) - 1:
            self._index += 1
            return self._entries[self._index]
        self._index = None
        return self._draft

    def reset(self) -> None:
        self._index = None
        self._draft = ""
