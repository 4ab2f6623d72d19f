"""``diagkit store``: check, use, set-password and migrate, run as the real CLI against a real
PostgreSQL on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from diagkit import config
from diagkit.store.contract import ArticleDraft, CaseDraft
from diagkit.store.postgres import PgStore, store_password
from diagkit.store.sqlite import SqliteStore
from tests.sshd_fixture import free_port


def dk(*args: str, stdin: str | None = None,
       env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagkit", *args], check=False, input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]),
                               **(env or {})})


def test_check_the_local_store() -> None:
    with SqliteStore() as s:
        s.create_case(CaseDraft("one"))
    out = dk("store", "check", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["backend"] == "sqlite" and result["health"] == "ok"
    assert result["schema_version"] == result["schema_expected"]
    assert result["counts"]["case"] == 1


def test_use_set_password_check_and_migrate(pg_server) -> None:
    url = pg_server.url(pg_server.new_database())
    assert dk("store", "use", url.replace("diagkit@", "diagkit:secret@")).returncode == 2
    out = dk("store", "use", url)
    assert out.returncode == 0 and "set-password" in out.stdout
    assert config.load_settings()["store"] == url

    # Without the password: a clear error naming the next step.
    out = dk("store", "check")
    assert out.returncode == 1 and "set-password" in out.stdout

    out = dk("store", "set-password", url, "--stdin", stdin=pg_server.password + "\n")
    assert out.returncode == 0, out.stderr
    assert pg_server.password not in out.stdout + out.stderr
    assert store_password(url) == pg_server.password

    # The local store of this engineer, migrated with the CLI, then checked.
    with SqliteStore() as local:
        case = local.create_case(CaseDraft("disk full", engineer="alice",
                                           created=datetime(2026, 1, 5, tzinfo=UTC)))
        local.append_journal(case.id, "note", "looked", engineer="alice")
        local.create_article(ArticleDraft("Disk full", slug="disk-full", symptoms="no space"))
    out = dk("store", "migrate", "--to", url, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["verified"] and report["counts"]["case"] == {"source": 1, "mapped": 1,
                                                               "copied": 1}
    out = dk("store", "migrate", "--to", url)  # again: nothing new, still verified
    assert out.returncode == 0 and "(0 copied now) ok" in out.stdout

    out = dk("store", "check", "--json")
    result = json.loads(out.stdout)
    assert (result["backend"], result["health"]) == ("postgresql", "ok")
    assert result["counts"]["case"] == 1 and result["counts"]["kb"] >= 1
    # The case commands now work on the team store.
    out = dk("case", "list", "--json")
    assert out.returncode == 0, out.stderr
    with PgStore(url) as team:
        assert [c.title for c in team.list_cases()] == ["disk full"]

    assert dk("store", "use", "sqlite").returncode == 0
    assert config.load_settings()["store"] == "sqlite"


def test_check_an_unreachable_team_store() -> None:
    url = f"postgresql://diagkit@127.0.0.1:{free_port('127.0.0.1')}/nowhere"
    out = dk("store", "check", "--url", url, "--json")
    assert out.returncode == 3
    result = json.loads(out.stdout)
    assert result["health"] == "unreachable" and "127.0.0.1" in result["error"]


def test_migrate_needs_a_local_store(pg_url) -> None:
    out = dk("store", "migrate", "--to", pg_url, "--from", "/nonexistent/x.db")
    assert out.returncode == 2 and "--from PATH" in out.stderr


def test_an_unreachable_team_store_exits_3_for_any_command(monkeypatch, capsys):
    import io

    from diagkit.cli import main
    from tests.sshd_fixture import free_port

    monkeypatch.setenv("DIAGKIT_STORE",
                       f"postgresql://diagkit@127.0.0.1:{free_port('127.0.0.1')}/team")
    assert main(["case", "list"], stdout=io.StringIO()) == 3
    assert "cannot be reached" in capsys.readouterr().err
