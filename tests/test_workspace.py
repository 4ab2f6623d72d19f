"""The Qt-free Workspace (stores, active case, known-issue matcher) on real SQLite files."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from diagkit import config
from diagkit.cases.active import active_case
from diagkit.errors import CaseNotFound
from diagkit.kb import starters
from diagkit.workspace import Workspace


def test_store_opens_once_and_is_shared(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    with Workspace(case_store_path=path) as ws:
        assert ws.describe() == str(path) and not ws.is_team_store
        assert not path.exists()  # nothing is opened before it is used
        store = ws.store()
        assert ws.store() is store and ws.desk().store is store and ws.desk() is ws.desk()
        case = ws.desk().open_case("Disk fills at night", customer="ACME")
    # closed: the file holds the case, and a new workspace reads it back
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT title FROM cases").fetchall() == [("Disk fills at night",)]
    with Workspace(case_store_path=path) as again:
        assert again.store().get_case(case.id).title == "Disk fills at night"


def test_store_opened_by_many_threads_at_once_is_one(tmp_path: Path) -> None:
    ws = Workspace(case_store_path=tmp_path / "cases.db")
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(ws.store())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in seen}) == 1
    ws.close()


def test_default_store_is_the_configured_one_in_the_data_dir() -> None:
    with Workspace() as ws:
        ws.desk().open_case("Configured store")
        assert (config.data_dir() / "diagkit.db").exists()
        assert str(config.data_dir()) in ws.describe()


def test_active_case_is_chosen_saved_and_journaled_to(tmp_path: Path) -> None:
    with Workspace(case_store_path=tmp_path / "cases.db") as ws:
        assert ws.active_case is None and ws.active_target() is None
        case = ws.desk().open_case("Slow logins", impact="high", urgency="high")
        other = ws.desk().open_case("Printer", impact="low", urgency="low")
        ws.choose_case(case.id)
        assert ws.active_case == case.id and active_case() == case.id  # in the settings too
        assert Workspace.saved_active_case() == case.id
        desk, target = ws.active_target()
        desk.add_note(target, "checked the auth logs")
        assert [e.kind for e in ws.store().journal(case.id)][-1] == "note"
        # open cases, plus the active one once it is resolved
        desk.set_status(other.id, "in_progress")
        desk.set_status(other.id, "resolved")
        assert [c.id for c in ws.open_cases()] == [case.id]
        assert sorted(c.id for c in ws.open_cases(including=other.id)) == [case.id, other.id]
        assert [c.id for c in ws.open_cases(including=999)] == [case.id]  # gone: left out
        ws.choose_case(None)
        assert ws.active_target() is None and active_case() is None


def test_matcher_reads_the_kb_with_its_starter_articles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(starters, "AUTOMATIC", True)  # tests/conftest.py turns it off
    with Workspace(case_store_path=tmp_path / "cases.db") as ws:
        assert ws.matcher is None
        matcher = ws.read_matcher()  # installs the starter articles on first use
        assert ws.store().get_kb_meta(starters.SET_KEY) is not None
        assert len(matcher) > 0 and ws.matcher is None  # the caller decides when to use it
        hits = matcher.match_line("kernel: Out of memory: Killed process 4242 (java)")
        assert hits, "a starter article recognises the OOM killer"


def test_samples_and_forecasts(tmp_path: Path) -> None:
    with Workspace(case_store_path=tmp_path / "cases.db") as ws:
        assert ws.forecasts_for("web1") == []  # never watched: no history file is made
        assert not (config.data_dir() / "history.db").exists()
        samples = ws.samples()
        assert ws.samples() is samples
        samples.append([("web1", 1_700_000_000.0, {"cpu.usage": 12.0})])
        assert ws.forecasts_for("web1") == []  # one sample: nothing to forecast
    assert (config.data_dir() / "history.db").exists()


def test_closed_workspace_reopens_on_next_use(tmp_path: Path) -> None:
    ws = Workspace(case_store_path=tmp_path / "cases.db")
    first = ws.store()
    ws.close()
    ws.close()  # twice is fine
    second = ws.store()
    assert second is not first
    with pytest.raises(CaseNotFound):
        second.get_case(1)
    ws.close()
