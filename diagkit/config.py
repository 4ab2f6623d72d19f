"""Where diagkit keeps its files, and its settings file.

Paths come from platformdirs (Linux: ``~/.config/diagkit`` and ``~/.local/share/diagkit``) and
can be moved with ``DIAGKIT_CONFIG_DIR`` / ``DIAGKIT_DATA_DIR`` (tests, portable installs).
Nothing secret is ever written here: passwords live only in the OS keyring
(:mod:`diagkit.credentials`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

from diagkit.errors import ConfigError

APP = "diagkit"


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
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
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
    write_json(settings_file(), settings)
