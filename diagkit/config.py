"""Where diagkit keeps its files, and its settings file.

Paths come from platformdirs (Linux: ``~/.config/diagkit`` and ``~/.local/share/diagkit``) and
can be moved with ``DIAGKIT_CONFIG_DIR`` / ``DIAGKIT_DATA_DIR`` (tests, portable installs).
Nothing secret is ever written here: passwords live only in the OS keyring
(:mod:`diagkit.credentials`).

**Private files.** What diagkit keeps holds customer data (host names, cases and contacts,
journaled commands, the redaction map), so on POSIX its folders are created 0700 and its files
0600 (:func:`private_dir`, :func:`private_file`, :func:`make_private`), and
:func:`repair_private_files` tightens an install made by an older version (the CLI and the GUI
run it at start-up and say so in one line). On Windows a file's mode only carries the read-only
flag and the profile folders are the user's own already: these helpers do nothing there.

**Locks.** ``hosts.json`` and ``settings.json`` are read-modify-written under a cross-process
lock (:func:`locked`; :func:`edit_settings` for settings), so two diagkit processes changing them
at once never lose each other's change.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from diagkit import filelock
from diagkit.errors import ConfigError

APP = "diagkit"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# Mode bits are only meaningful on POSIX; every chmod below is behind this flag.
_POSIX = os.name == "posix"


def config_dir() -> Path:
    env = os.environ.get("DIAGKIT_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    env = os.environ.get("DIAGKIT_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP))


def user_probes_dir() -> Path:
    return config_dir() / "probes"


def hosts_file() -> Path:
    return config_dir() / "hosts.json"


def settings_file() -> Path:
    return config_dir() / "settings.json"


def known_hosts_file() -> Path:
    """diagkit's own known_hosts (OpenSSH format), used besides ``~/.ssh/known_hosts``."""
    return config_dir() / "known_hosts"


def log_file() -> Path:
    return data_dir() / "diagkit.log"


def ssh_config_file() -> Path:
    env = os.environ.get("DIAGKIT_SSH_CONFIG")
    return Path(env) if env else Path.home() / ".ssh" / "config"


def read_json(path: Path, default: Any) -> Any:
    """Read a JSON file; a missing file gives ``default``; a broken one a ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return default
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}. Check its permissions.") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
            "Fix it in an editor, or move it away to start afresh."
        ) from exc


def write_json(path: Path, value: Any) -> None:
    """Write JSON atomically (temp file + rename) so a crash never leaves half a file."""
    try:
        private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror}. Check the folder's permissions.") from exc


def load_settings() -> dict[str, Any]:
    value = read_json(settings_file(), {})
    if not isinstance(value, dict):
        raise ConfigError(f"{settings_file()} must hold a JSON object. Fix or remove it.")
    return value


def save_settings(settings: dict[str, Any]) -> None:
    """Replace the whole settings file. To change one setting use :func:`edit_settings`, which
    keeps another process's change made meanwhile."""
    with locked(settings_file()):
        write_json(settings_file(), settings)


@contextmanager
def edit_settings() -> Iterator[dict[str, Any]]:
    """Load the settings under the settings lock, let the caller change them, save on exit::

        with config.edit_settings() as settings:
            settings["active_case"] = 7

    Nothing is saved when the body raises.
    """
    with locked(settings_file()):
        settings = load_settings()
        yield settings
        write_json(settings_file(), settings)


# --- named settings (diagkit config get/set) ---------------------------------------------------

#: Settings ``diagkit config set KEY VALUE`` may change, with what each one means.
SETTABLE: dict[str, str] = {
    "engineer": "your name, as it appears on cases, journal entries, metrics per engineer and "
                "customer updates (default: the login name)",
    "email": "the From address of customer updates saved as .eml (default: the engineer name)",
}
_MAX_SETTING_CHARS = 200


def _check_key(key: str) -> None:
    if key not in SETTABLE:
        raise ConfigError(f"Unknown setting {key!r}; the settings are: "
                          f"{', '.join(sorted(SETTABLE))}.")


def get_setting(key: str) -> str | None:
    """The value of a :data:`SETTABLE` setting, or None when it is not set."""
    _check_key(key)
    value = load_settings().get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def set_setting(key: str, value: str) -> str:
    """Set a :data:`SETTABLE` setting (under the settings lock); returns the stored value.

    Values are one line of printable text: a name with a line break would break the signature
    of every update and the From header of every .eml.
    """
    _check_key(key)
    value = value.strip()
    if not value:
        raise ConfigError(f"The {key} setting cannot be empty; to go back to the default use "
                          f"'diagkit config unset {key}'.")
    if len(value) > _MAX_SETTING_CHARS or any(not c.isprintable() for c in value):
        raise ConfigError(f"The {key} setting must be one line of at most {_MAX_SETTING_CHARS} "
                          "printable characters (no line breaks or control characters).")
    if key == "email" and "@" not in value:
        raise ConfigError(f"{value!r} is not an e-mail address (no '@'); give e.g. "
                          "ann.smith@example.com.")
    with edit_settings() as settings:
        settings[key] = value
    return value


def unset_setting(key: str) -> bool:
    """Remove a :data:`SETTABLE` setting; True if it was set."""
    _check_key(key)
    with edit_settings() as settings:
        return settings.pop(key, None) is not None


# --- locks ----------------------------------------------------------------------------------


@contextmanager
def locked(path: Path, *, timeout: float = filelock.DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the cross-process lock of ``path`` (the file ``path.lock`` beside it, 0600).

    Re-entrant within a thread; other threads and processes wait. :class:`ConfigError` when the
    lock cannot be had within ``timeout`` seconds or the lock file cannot be created.
    """
    lock_path = path.with_name(path.name + ".lock")
    try:
        private_dir(lock_path.parent)
    except OSError as exc:
        raise ConfigError(f"Cannot create {lock_path.parent}: {exc.strerror}. "
                          "Check the folder's permissions.") from exc
    with filelock.hold(lock_path, timeout=timeout):
        yield


# --- private files --------------------------------------------------------------------------


def private_dir(path: Path) -> Path:
    """Create the folder ``path`` and its missing parents, readable by the owner only.

    Folders that exist already are left as they are (:func:`repair_private_files` tightens
    diagkit's own): ``path`` may be inside a folder the user chose. Raises :class:`OSError`.
    """
    if not path.is_dir():
        if path.parent != path and not path.parent.is_dir():
            private_dir(path.parent)
        try:
            path.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            if not path.is_dir():
                raise
    return path


def make_private(path: Path) -> bool:
    """Take the group and other bits off ``path``; whether it changed anything.

    A symbolic link is never followed (it may lead to a team's shared folder), nor is a file of
    another user touched. Nothing happens on Windows. Raises :class:`OSError` (e.g. missing).
    """
    if not _POSIX:
        return False
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid() or not st.st_mode & 0o077:
        return False
    os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077)
    return True


def private_file(path: Path) -> Path:
    """Make sure the file ``path`` exists (empty when new) and is readable by the owner only.

    For files another library then opens and writes (SQLite, a log handler), so they are never
    created with the process's default mode. Raises :class:`OSError`.
    """
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        try:
            make_private(path)
        except OSError:
            pass  # e.g. a read-only file system; opening the file will say what is wrong
    return path


def private_database(path: Path) -> Path:
    """:func:`private_file` for an SQLite database, and its existing ``-wal``/``-shm``/
    ``-journal`` files. SQLite creates those with the database's own mode, so a 0600 database
    keeps them 0600 too."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        try:
            make_private(path.with_name(path.name + suffix))
        except FileNotFoundError:
            pass
    return path


@dataclass(frozen=True)
class PrivacyRepair:
    """What :func:`repair_private_files` tightened, and in which of diagkit's folders."""

    roots: tuple[Path, ...] = ()
    files: tuple[Path, ...] = ()
    folders: tuple[Path, ...] = ()

    def message(self) -> str:
        """One line for the user; empty when nothing changed."""
        parts = [f"{len(items)} {word}{'s' if len(items) != 1 else ''}"
                 for items, word in ((self.files, "file"), (self.folders, "folder")) if items]
        if not parts:
            return ""
        return (f"made {' and '.join(parts)} in {' and '.join(_shown(r) for r in self.roots)} "
                "readable by you only (they hold customer data)")


def _shown(path: Path) -> str:
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)


def _dedicated(root: Path) -> bool:
    """Whether ``root`` can safely be made private as a whole: a folder of our own, not the home
    folder, a filesystem root or a shared sticky folder such as /tmp (DIAGKIT_DATA_DIR may point
    anywhere)."""
    try:
        st = os.stat(root)
        home = Path.home().resolve()
    except (OSError, RuntimeError):
        return False
    resolved = root.resolve()
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()
            and not st.st_mode & stat.S_ISVTX and resolved != home
            and resolved.parent != resolved)


def repair_private_files(roots: Sequence[Path] | None = None) -> PrivacyRepair:
    """Tighten an install made before diagkit kept its files private.

    Walks the config and data folders (symbolic links are not followed) and takes the group and
    other bits off every folder and file that has them. Costs one ``lstat`` per file. Files that
    cannot be changed are left alone silently: this must never stop the tool.
    """
    if not _POSIX:
        return PrivacyRepair()
    roots_changed: list[Path] = []
    files: list[Path] = []
    folders: list[Path] = []
    for root in roots if roots is not None else (config_dir(), data_dir()):
        if not _dedicated(root):
            continue
        changed = make_tree_private(root)
        if changed.files or changed.folders:
            roots_changed.append(root)
            files.extend(changed.files)
            folders.extend(changed.folders)
    return PrivacyRepair(tuple(roots_changed), tuple(files), tuple(folders))


def make_tree_private(root: Path) -> PrivacyRepair:
    """:func:`make_private` on ``root`` and everything below it (links are not followed);
    what could not be changed is skipped."""
    files: list[Path] = []
    folders: list[Path] = []
    if _POSIX:
        for folder, _dirs, names in os.walk(root, followlinks=False):
            base = Path(folder)
            for path, bucket in [(base, folders), *((base / n, files) for n in names)]:
                try:
                    if make_private(path):
                        bucket.append(path)
                except OSError:
                    pass
    return PrivacyRepair((root,) if files or folders else (), tuple(files), tuple(folders))
