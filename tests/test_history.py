"""Command history: real files in the per-test data dir."""

from __future__ import annotations

import json

import pytest

from diagkit import config
from diagkit.errors import ConfigError
from diagkit.history import SECRET_MARKERS, CommandHistory, history_file, looks_secret


def test_add_persists_most_recent_last() -> None:
    history = CommandHistory("web1")
    assert history.entries() == []
    assert history.add("uptime")
    assert history.add("df -h")
    assert CommandHistory("web1").entries() == ["uptime", "df -h"]
    data = json.loads(history_file("web1").read_text())
    assert data["entries"] == ["uptime", "df -h"] and data["host"] == "web1"
    assert history_file("web1").parent == config.data_dir() / "history"


def test_hosts_are_separate_and_file_names_safe() -> None:
    CommandHistory("root@10.0.0.5:22").add("ls")
    CommandHistory("a/b").add("pwd")
    CommandHistory("a_b").add("id")
    assert CommandHistory("root@10.0.0.5:22").entries() == ["ls"]
    assert CommandHistory("a/b").entries() == ["pwd"]
    assert CommandHistory("a_b").entries() == ["id"]
    assert history_file("a/b") != history_file("a_b")
    assert "/" not in history_file("a/b").name


def test_consecutive_duplicates_collapse_and_blank_lines_are_ignored() -> None:
    history = CommandHistory("h")
    history.add("ls")
    assert not history.add("ls")
    assert not history.add("  ls  ")
    assert not history.add("")
    assert not history.add("   ")
    history.add("pwd")
    history.add("ls")
    assert history.entries() == ["ls", "pwd", "ls"]


def test_capped_keeping_the_newest() -> None:
    history = CommandHistory("h", max_entries=5)
    for i in range(12):
        history.add(f"echo {i}")
    assert history.entries() == [f"echo {i}" for i in range(7, 12)]
    assert len(json.loads(history.path.read_text())["entries"]) == 5


@pytest.mark.parametrize("line", [
    "mysql -u root --password=hunter2",
    "curl -H 'Authorization: Bearer abc' https://x",
    "export PGPASS=abc",
    "DB_PASS=x ./run",
    "sshpass -p x ssh host",
    "echo 'root:x' | chpasswd",
    "passwd alice",
    "curl https://api/?token=abc",
    "vault login -method=userpass password=x",
])
def test_secret_lines_are_never_stored(line: str) -> None:
    assert looks_secret(line)
    history = CommandHistory("h")
    assert not history.add(line)
    assert not history.add(line.upper())
    assert history.entries() == []
    assert not history.path.exists()


def test_space_prefixed_lines_are_not_stored() -> None:
    history = CommandHistory("h")
    assert not history.add(" echo private")
    assert history.entries() == []


def test_secret_markers_are_lower_case() -> None:
    assert all(m == m.lower() for m in SECRET_MARKERS)
    assert not looks_secret("systemctl status sshd")


def test_two_histories_on_one_host_merge() -> None:
    first, second = CommandHistory("h"), CommandHistory("h")
    first.add("one")
    second.add("two")
    assert CommandHistory("h").entries() == ["one", "two"]


def test_broken_file_reads_as_empty_and_is_rewritten() -> None:
    path = history_file("h")
    path.parent.mkdir(parents=True)
    path.write_text("{ not json")
    history = CommandHistory("h")
    assert history.entries() == []
    history.add("uptime")
    assert CommandHistory("h").entries() == ["uptime"]


def test_unwritable_folder_raises_config_error() -> None:
    history_file("h").parent.parent.mkdir(parents=True, exist_ok=True)
    history_file("h").parent.write_text("a file where the folder should be")
    with pytest.raises(ConfigError):
        CommandHistory("h").add("uptime")


def test_cursor_walks_back_and_forward_and_restores_the_draft() -> None:
    history = CommandHistory("h")
    for cmd in ("a", "b", "c"):
        history.add(cmd)
    assert history.newer() == ""  # nothing to go forward to
    assert history.older("half typed") == "c"
    assert history.older("ignored") == "b"
    assert history.older() == "a"
    assert history.older() == "a"  # stays at the oldest
    assert history.newer() == "b"
    assert history.newer() == "c"
    assert history.newer() == "half typed"
    assert history.newer() == "half typed"
    assert history.older("x") == "c"
    history.reset()
    assert history.newer() == ""
    assert history.older("y") == "c"


def test_cursor_without_history_keeps_the_text() -> None:
    history = CommandHistory("empty")
    assert history.older("typing") == "typing"
    assert history.newer() == ""


def test_add_resets_the_cursor() -> None:
    history = CommandHistory("h")
    history.add("a")
    history.add("b")
    history.older("")
    history.older("")
    history.add("c")
    assert history.older("") == "c"


def test_clear_removes_the_file() -> None:
    history = CommandHistory("h")
    history.add("a")
    history.clear()
    assert history.entries() == [] and not history.path.exists()
    assert CommandHistory("h").entries() == []
