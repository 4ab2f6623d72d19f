"""``diagkit timeline`` through main(), on the issue-16 scenario journaled into the isolated data
dir's real stores (diagkit.db, history.db) and a real log file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from diagkit.cli import main
from diagkit.store.sqlite import SqliteSampleStore, SqliteStore
from tests.test_timeline import at, build_scenario


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one event per line, whatever the terminal


@pytest.fixture
def journaled(tmp_path: Path) -> tuple[int, Path]:
    with SqliteStore() as store, SqliteSampleStore() as samples:  # the data dir's files
        case_id = build_scenario(store, samples, tmp_path / "db1.log")
    return case_id, tmp_path / "db1.log"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdout=out), out.getvalue()


def test_case_timeline_text_and_json(journaled) -> None:
    case_id, log = journaled
    code, text = run("timeline", "--case", str(case_id), "--log", str(log),
                     "--since", at("09:00").isoformat(), "--until", at("11:00").isoformat())
    assert code == 0
    assert text.startswith(f"Timeline of case {case_id}: ")
    assert "first seen: warning: Filesystem /srv/pgdata is 91 % full" in text
    assert "package: postgresql-common" in text
    assert f"{log} line " in text  # where the incident's first record is
    code, doc_text = run("timeline", "--case", str(case_id), "--kind", "finding,alert", "--json",
                         "--since", at("09:00").isoformat(), "--until", at("11:00").isoformat())
    doc = json.loads(doc_text)
    assert code == 0 and doc["schema"] == "diagkit.timeline/1" and doc["case"] == case_id
    assert {e["kind"] for e in doc["events"]} == {"finding", "alert"}
    assert [e["time"] for e in doc["events"]] == sorted(e["time"] for e in doc["events"])
    assert all(e["evidence"] for e in doc["events"])


def test_came_first_before_the_refused_connections(journaled) -> None:
    case_id, log = journaled
    _, doc_text = run("timeline", "--case", str(case_id), "--log", str(log), "--kind",
                      "signature", "--json")
    refused = next(e for e in json.loads(doc_text)["events"]
                   if "Connection refused" in e["title"])
    code, text = run("timeline", "--case", str(case_id), "--log", str(log), "--before",
                     refused["id"], "--window", "2h", "--limit", "8")
    assert code == 0
    assert text.startswith(f"Came first before signature {refused['id']}")
    assert "may be related, nothing here is proven" in text
    lines = [line for line in text.splitlines()[2:] if line.strip()[:1].isdigit()]
    assert len(lines) == 8
    assert "Filesystem /srv/pgdata is 97 % full" in text and "package" in text
    assert "came first" in text and "caused" not in text
    code, doc_text = run("timeline", "--case", str(case_id), "--log", str(log), "--before",
                         refused["id"], "--json")
    doc = json.loads(doc_text)
    assert doc["symptom"]["id"] == refused["id"] and doc["window_seconds"] == 7200
    scores = [c["score"] for c in doc["came_first"]]
    assert scores == sorted(scores, reverse=True) and doc["came_first"][0]["reason"]


def test_host_timeline(journaled) -> None:
    code, text = run("timeline", "web1")
    assert code == 0 and "systemctl status nginx" in text and "/srv/pgdata" not in text


@pytest.mark.parametrize(("argv", "message"), [
    (["timeline"], "Whose timeline? Give --case N or a HOST"),
    (["timeline", "db1", "--case", "1"], "either --case N or HOST"),
    (["timeline", "--case", "1", "--since", "last tuesday"], "--since: Cannot read"),
    (["timeline", "--case", "1", "--kind", "changes"], "Unknown event kind(s): changes"),
    (["timeline", "--case", "1", "--before", "nope"], "No event 'nope'"),
    (["timeline", "--case", "1", "--window", "soon"], "--window: not a duration"),
    (["timeline", "--case", "1", "--log", "/no/such.log"], "no such file"),
    (["timeline", "--case", "99"], "99"),
])
def test_bad_input_is_a_clear_error(journaled, capsys, argv, message) -> None:
    code, _ = run(*argv)
    err = capsys.readouterr().err
    assert code == 2 or (code == 1 and "99" in message), err
    assert message in err and "Traceback" not in err


def test_control_characters_in_case_text_are_shown_escaped(journaled) -> None:
    case_id, _log = journaled
    with SqliteStore() as store:
        store.append_journal(case_id, "note", "pasted \x1b]0;owned\x07 from a terminal")
    code, text = run("timeline", "--case", str(case_id), "--kind", "note")
    assert code == 0 and "pasted" in text
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b" in text  # escaped, visible
