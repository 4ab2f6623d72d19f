"""The Store contract on both backends (real SQLite files and a real PostgreSQL server, see
conftest.py): schema and migrations, safety against crashes and concurrent writers, optimistic
concurrency, the append-only journal. SQLite-only details (file location, pragmas) at the top."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from diagkit import config
from diagkit.store import CaseNotFound, StaleWrite, Store, StoreError
from diagkit.store.contract import CaseDraft
from diagkit.store.sqlite import SqliteStore
from tests.store.conftest import OPEN_IN_SUBPROCESS, Backend

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, *args: str, **kw: object) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


# -- opening and schema -------------------------------------------------------------------------

def test_default_path_is_in_data_dir() -> None:
    store = SqliteStore()
    assert store.path == config.data_dir() / "diagkit.db"
    assert store.path.is_file()
    assert isinstance(store, Store)
    store.close()


def test_wal_foreign_keys_and_busy_timeout_on(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "c.db", busy_timeout=7) as store:
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 7000


def test_foreign_keys_enforced(any_store: Store) -> None:
    # A journal row for a case that does not exist is refused by the database itself.
    with pytest.raises(StoreError, match="(?i)foreign key"), any_store._write() as conn:
        conn.execute("INSERT INTO journal (case_id, time, kind) VALUES (999, "
                     "'2026-01-01T00:00:00+00:00', 'note')")


def test_migrates_from_empty_and_is_idempotent(backend: Backend) -> None:
    version = len(backend.migrations)
    store = backend.open()
    assert store.schema_version() == version
    assert store.migrate() == version
    store.close()
    again = backend.open()  # reopening migrates nothing and keeps data
    assert again.migrate() == version
    with again._read() as conn:
        rows = [tuple(r) for r in conn.execute(
            "SELECT version FROM schema_version ORDER BY version").fetchall()]
    assert rows == [(v,) for v in range(1, version + 1)]
    assert {"cases", "case_hosts", "journal", "status_changes", "schema_version"} <= \
        backend.tables(again)


def test_later_migration_applies_to_an_older_database(backend: Backend) -> None:
    backend.open().close()
    extra = "ALTER TABLE cases ADD COLUMN region TEXT NOT NULL DEFAULT '';\n" \
            "CREATE INDEX cases_region ON cases(region);"
    store = backend.open(migrations=[*backend.migrations, extra])
    assert store.schema_version() == len(backend.migrations) + 1
    with store._read() as conn:
        assert conn.execute("SELECT region FROM cases").fetchall() == []


def test_failing_migration_leaves_nothing_half_applied(backend: Backend) -> None:
    backend.open().close()
    broken = "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);"
    with pytest.raises(StoreError, match="no_such_table"):
        backend.open(migrations=[*backend.migrations, broken])
    store = backend.open()
    assert store.schema_version() == len(backend.migrations)
    assert "half_done" not in backend.tables(store)


def test_database_from_newer_diagkit_is_refused(backend: Backend) -> None:
    backend.open(migrations=[*backend.migrations, "CREATE TABLE future (x INTEGER);"]).close()
    with pytest.raises(StoreError, match="newer diagkit"):
        backend.open()


# -- cases --------------------------------------------------------------------------------------

def test_case_round_trip_and_filters(any_store: Store) -> None:
    store = any_store
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    a = store.create_case(CaseDraft("Disk full on web1", customer="ACME",
                                    contact="ann@acme.example", product="shop", version="2.1",
                                    tags=["disk", "linux"], ticket_ref="ZAM-12",
                                    impact="significant", urgency="high", severity="S2",
                                    engineer="eve", hosts=["web1", "db1"], created=t0))
    b = store.create_case(CaseDraft("Slow DNS", customer="Initech", engineer="bob", severity="S3",
                                    tags=["dns"]))
    got = store.get_case(a.id)
    assert got == a
    assert got.tags == ("disk", "linux") and got.hosts == ("db1", "web1")
    assert got.created == t0 and got.status == "new" and got.version_counter == 1
    assert [c.id for c in store.list_cases()] == [b.id, a.id]
    assert [c.id for c in store.list_cases(customer="ACME")] == [a.id]
    assert [c.id for c in store.list_cases(tag="dns")] == [b.id]
    assert [c.id for c in store.list_cases(host="web1")] == [a.id]
    assert [c.id for c in store.list_cases(severity=["S2", "S3"], engineer="bob")] == [b.id]
    assert store.list_cases(status=[]) == []
    assert [c.id for c in store.list_cases(status="new", limit=1)] == [b.id]
    with pytest.raises(CaseNotFound, match="no case 999"):
        store.get_case(999)


def test_update_case_and_optimistic_concurrency(any_store: Store) -> None:
    store = any_store
    case = store.create_case(CaseDraft("VPN drops"))
    mine = store.get_case(case.id)
    theirs = store.get_case(case.id)
    saved = store.update_case(theirs.id, theirs.version_counter, customer="Globex",
                              tags=["vpn"], hosts=["gw1"], csat=5)
    assert saved.version_counter == 2 and saved.tags == ("vpn",) and saved.hosts == ("gw1",)
    with pytest.raises(StaleWrite, match="Reload the case") as err:
        store.update_case(mine.id, mine.version_counter, title="My title")
    assert (err.value.expected, err.value.actual) == (1, 2)
    after = store.get_case(case.id)
    assert after.title == "VPN drops" and after.version_counter == 2  # nothing written
    with pytest.raises(StoreError, match="1 to 5"):
        store.update_case(case.id, 2, csat=6)
    with pytest.raises(ValueError, match="record_status"):
        store.update_case(case.id, 2, status="closed")
    with pytest.raises(ValueError):
        store.update_case(case.id, 2, id=5)
    with pytest.raises(CaseNotFound):
        store.update_case(42, 1, title="x")


def test_record_status_keeps_history_journal_and_stamps(any_store: Store) -> None:
    store = any_store
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    case = store.create_case(CaseDraft("Outage", created=t0, engineer="eve"))
    steps = ["triaged", "in_progress", "waiting_on_customer", "in_progress", "resolved",
             "in_progress", "resolved", "closed"]
    for i, status in enumerate(steps, start=1):
        case = store.record_status(case.id, status, expected_version=case.version_counter,
                                   engineer="eve", at=t0 + timedelta(hours=i))
    assert case.status == "closed" and case.version_counter == len(steps) + 1
    assert case.resolved_at == t0 + timedelta(hours=7)  # the reopen cleared the first one
    assert case.closed_at == t0 + timedelta(hours=8)
    history = store.status_changes(case.id)
    assert [(h.from_status, h.to_status) for h in history] == list(
        zip([None, "new", *steps[:-1]], ["new", *steps], strict=True))
    kinds = [e.kind for e in store.journal(case.id)]
    assert kinds == ["created"] + ["status"] * len(steps)
    with pytest.raises(StaleWrite):
        store.record_status(case.id, "in_progress", expected_version=1)
    assert len(store.status_changes(case.id)) == len(steps) + 1


# -- journal ------------------------------------------------------------------------------------

def test_journal_is_append_only_and_ordered(any_store: Store) -> None:
    store = any_store
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    case = store.create_case(CaseDraft("Kernel panic", created=t0))
    e1 = store.append_journal(case.id, "command", "uname -a", engineer="eve",
                              data={"host": "web1", "exit_status": 0},
                              at=t0 + timedelta(minutes=5))
    store.append_journal(case.id, "correction", f"entry {e1.id}: it was web2",
                         engineer="eve", data={"corrects": e1.id},
                         at=t0 + timedelta(minutes=6))
    # Logged out of order (e.g. a probe result arriving late): the timeline sorts by time.
    store.append_journal(case.id, "note", "**early** note",
                         at=(t0 + timedelta(minutes=1)).astimezone(ZoneInfo("Europe/Berlin")))
    entries = store.journal(case.id)
    assert [e.kind for e in entries] == ["created", "note", "command", "correction"]
    assert entries[2] == e1 and entries[2].data == {"host": "web1", "exit_status": 0}
    assert entries[1].time == t0 + timedelta(minutes=1)
    assert all(e.time.tzinfo is not None for e in entries)
    assert not hasattr(store, "update_journal") and not hasattr(store, "delete_journal")
    for sql in ("UPDATE journal SET text = 'rewritten'", "DELETE FROM journal",
                "DELETE FROM status_changes"):
        with pytest.raises(StoreError, match="append-only"), store._write() as conn:
            conn.execute(sql)
    with pytest.raises(CaseNotFound):
        store.append_journal(999, "note", "orphan")
    with pytest.raises(ValueError, match="timezone-aware"):
        store.append_journal(case.id, "note", "naive", at=datetime(2026, 1, 1))
    assert len(store.journal(case.id)) == 4


def test_threads_share_one_store(any_store: Store) -> None:
    store = any_store
    case = store.create_case(CaseDraft("Threads"))
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                store.append_journal(case.id, "note", f"t{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.journal(case.id)) == 1 + 200


# -- crash safety and concurrent processes ------------------------------------------------------

CRASHING_WRITER = OPEN_IN_SUBPROCESS + r"""
import sys, time
from diagkit.store import CaseDraft
store = open_store(sys.argv[1])
ph = "%s" if sys.argv[1].startswith("postgresql://") else "?"
case = store.create_case(CaseDraft("crash test"))
for i in range(20):
    store.append_journal(case.id, "note", f"committed {i}")
print(case.id, flush=True)
with store._write() as conn:   # one open transaction holding the case row's write lock
    for i in range(100):
        conn.execute(f"INSERT INTO journal (case_id, time, kind, text) VALUES ({ph}, {ph},"
                     f" 'note', {ph})", (case.id, "2026-01-01T00:00:00.000000+00:00",
                                          f"pending {i}"))
    conn.execute(f"UPDATE cases SET title = 'half written' WHERE id = {ph}", (case.id,))
    print("holding", flush=True)
    time.sleep(120)
"""


def assert_write_locked(backend: Backend, case_id: int) -> None:
    """Proof the killed writer's transaction really was open: another writer cannot get in."""
    if backend.name == "sqlite":
        conn = sqlite3.connect(backend.location, timeout=0.2, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            conn.execute("BEGIN IMMEDIATE")
        conn.close()
    else:
        other = backend.open()
        with pytest.raises(StoreError, match="busy"), other._write() as conn:
            conn.execute("SET LOCAL lock_timeout = '200ms'")
            conn.execute("SELECT 1 FROM cases WHERE id = %s FOR UPDATE", (case_id,))
        other.close()


def test_writer_killed_mid_transaction_leaves_consistent_db(backend: Backend) -> None:
    proc = run_python(CRASHING_WRITER, backend.location)
    try:
        case_id = int(proc.stdout.readline())
        assert proc.stdout.readline().strip() == "holding", proc.stderr.read()
        assert_write_locked(backend, case_id)
        # Readers are not blocked, and see only what was committed.
        reader = backend.open()
        assert len(reader.journal(case_id)) == 21
        assert reader.get_case(case_id).title == "crash test"
        reader.close()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    store = backend.open()
    if backend.name == "sqlite":
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    texts = [e.text for e in store.journal(case_id) if e.kind == "note"]
    assert texts == [f"committed {i}" for i in range(20)]
    assert store.get_case(case_id).title == "crash test"
    # The lock died with the process (the server noticed the closed socket): writing works
    # straight away. On PostgreSQL the title update waits for the row lock, so this is a proof.
    store.update_case(case_id, 1, title="after the crash")
    store.append_journal(case_id, "note", "after the crash")
    assert store.journal(case_id)[-1].text == "after the crash"


CONCURRENT_WRITER = OPEN_IN_SUBPROCESS + r"""
import sys
store = open_store(sys.argv[1])
tag = sys.argv[2]
sys.stdin.readline()          # start together
for i in range(150):
    store.append_journal(int(sys.argv[3]), "note", f"{tag}-{i}", engineer=tag, data={"i": i})
print("done", flush=True)
"""


def test_two_processes_appending_at_once_lose_nothing(backend: Backend) -> None:
    with backend.open() as store:
        case = store.create_case(CaseDraft("concurrency"))
    procs = [run_python(CONCURRENT_WRITER, backend.location, tag, str(case.id),
                        stdin=subprocess.PIPE) for tag in ("a", "b")]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip() == "done"
    store = backend.open()
    notes = [e for e in store.journal(case.id) if e.kind == "note"]
    assert len(notes) == 300
    assert {e.text for e in notes} == {f"{t}-{i}" for t in "ab" for i in range(150)}
    ids = [e.id for e in notes]
    assert len(set(ids)) == 300
    for tag in "ab":  # each writer's own entries are in its order
        mine = sorted((e for e in notes if e.engineer == tag), key=lambda e: e.id)
        assert [e.data["i"] for e in mine] == list(range(150))
    assert json.loads(json.dumps(notes[0].data)) == notes[0].data


STALE_SAVER = OPEN_IN_SUBPROCESS + r"""
import sys
open_store(sys.argv[1]).update_case(int(sys.argv[2]), 1, title='theirs')
"""


def test_stale_save_from_another_process_is_refused(any_store: Store, backend: Backend) -> None:
    store = any_store
    case = store.create_case(CaseDraft("two engineers"))
    p = run_python(STALE_SAVER, backend.location, str(case.id))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    with pytest.raises(StaleWrite):
        store.update_case(case.id, case.version_counter, title="mine")
    assert store.get_case(case.id).title == "theirs"


def test_first_customer_update_stops_the_first_response_clock(any_store: Store) -> None:
    store = any_store
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    case = store.create_case(CaseDraft("Login fails", created=t0))
    store.append_journal(case.id, "note", "internal", at=t0 + timedelta(minutes=10))
    assert store.get_case(case.id).first_response_at is None
    store.append_journal(case.id, "customer_update", "We are on it", first_response=True,
                         at=t0 + timedelta(minutes=20))
    store.append_journal(case.id, "customer_update", "Progress", first_response=True,
                         at=t0 + timedelta(minutes=50))
    after = store.get_case(case.id)
    assert after.first_response_at == t0 + timedelta(minutes=20)
    assert after.version_counter == 2  # a concurrent editor's stale copy is refused
    with pytest.raises(StaleWrite):
        store.update_case(case.id, case.version_counter, title="x")
