from __future__ import annotations

from pathlib import Path

import pytest

from diagkit import config
from diagkit.errors import ConfigError, UnknownHost
from diagkit.hosts import HostStore, SavedHost, hosts_from_ssh_config, import_ssh_config
from diagkit.session import LOCAL, resolve


def test_add_edit_remove_round_trip() -> None:
    store = HostStore()
    store.add(SavedHost("web1", "10.0.0.5", port=2222, user="support", jump="bastion",
                        group="prod", tags=("web", "eu"), notes="customer A"))
    store.add(SavedHost("db1", "db.internal"))
    assert [h.name for h in store.load()] == ["db1", "web1"]
    assert store.get("web1").destination == "support@10.0.0.5:2222"
    updated = store.update("web1", port=22, tags="a, b,a", name="web-1")
    assert updated.name == "web-1" and updated.port == 22 and updated.tags == ("a", "b")
    assert store.find("web1") is None
    store.remove("web-1")
    with pytest.raises(UnknownHost, match="diagkit hosts list"):
        store.get("web-1")
    assert config.hosts_file().exists()


def test_duplicate_and_invalid_names_are_refused() -> None:
    store = HostStore()
    store.add(SavedHost("web1", "a"))
    with pytest.raises(ConfigError, match="exists already"):
        store.add(SavedHost("web1", "b"))
    with pytest.raises(ConfigError, match="reserved"):
        SavedHost("local", "x")
    with pytest.raises(ConfigError, match="not valid"):
        SavedHost("has space", "x")
    with pytest.raises(ConfigError, match="between 1 and 65535"):
        SavedHost("p", "x", port=70000)


def test_broken_hosts_file_is_a_clear_error_and_is_not_overwritten() -> None:
    path = config.hosts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON.*line 1"):
        HostStore().load()
    with pytest.raises(ConfigError):
        HostStore().add(SavedHost("a", "b"))
    assert path.read_text() == "{not json"


def test_import_ssh_config_takes_concrete_aliases_only(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.write_text(
        "Host *\n  ServerAliveInterval 30\n"
        "Host web1 web1.alt  # two names\n  HostName 10.0.0.5\n  User support\n"
        "Host db-?\n  User x\n"
        "Host bastion\n  HostName 192.0.2.1\n"
        "Match host foo\n  User y\n"
    )
    assert [h.name for h in hosts_from_ssh_config(cfg)] == ["web1", "web1.alt", "bastion"]
    store = HostStore()
    store.add(SavedHost("bastion", "other"))
    added, skipped = import_ssh_config(store, cfg)
    assert [h.name for h in added] == ["web1", "web1.alt"] and skipped == ["bastion"]
    assert store.get("web1").address == "web1"  # the alias: the config stays in charge
    assert store.get("bastion").address == "other"


def test_resolve_destinations() -> None:
    HostStore().add(SavedHost("web1", "10.0.0.5", user="u", port=2200))
    assert resolve("local") is LOCAL
    saved = resolve("web1")
    assert (saved.address, saved.user, saved.port, saved.saved is not None) == ("10.0.0.5", "u", 2200, True)
    adhoc = resolve("root@127.0.0.1:2222")
    assert (adhoc.address, adhoc.user, adhoc.port, adhoc.saved) == ("127.0.0.1", "root", 2222, None)
    assert resolve("[::1]:22").address == "::1"
    with pytest.raises(ConfigError):
        resolve("bad host name")


def test_saved_hosts_as_jump_hosts() -> None:
    from diagkit.session import expand_jump

    store = HostStore()
    store.add(SavedHost("edge", "203.0.113.1", user="ops", port=2222))
    store.add(SavedHost("bastion", "10.0.0.1", user="jump", jump="edge"))
    store.add(SavedHost("loop1", "a", jump="loop2"))
    store.add(SavedHost("loop2", "b", jump="loop1"))
    assert expand_jump("bastion") == "ops@203.0.113.1:2222,jump@10.0.0.1"
    assert expand_jump("alias-from-ssh-config,edge") == "alias-from-ssh-config,ops@203.0.113.1:2222"
    assert expand_jump(None) is None and expand_jump("none") == "none"
    with pytest.raises(ConfigError, match="loops"):
        expand_jump("loop1")


def test_update_clears_optional_fields_with_empty_values() -> None:
    store = HostStore()
    store.add(SavedHost("web1", "10.0.0.5", port=2222, user="u", jump="b", identity_file="~/k"))
    host = store.update("web1", port=0, user="", jump="", identity_file="", notes=None)
    assert (host.port, host.user, host.jump, host.identity_file) == (None, None, None, None)
    assert store.get("web1") == host
