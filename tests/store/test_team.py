"""Several engineers on one team store (a real PostgreSQL on loopback): two connections and two
processes editing the same case, a connection cut mid-write, the server down, login problems.
What they must see: a refused stale save with the reload message (never a silent overwrite),
every journal entry kept, clear errors naming the next step, nothing half-written."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from diagkit.errors import ConfigError
from diagkit.store import StaleWrite, StoreError, StoreUnavailable
from diagkit.store.contract import CaseDraft
from diagkit.store.postgres import PgStore, set_store_password, store_password
from tests.pg_fixture import PgServer

REPO = Path(__file__).resolve().parents[2]


def db_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def run_python(code: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


# -- two engineers ------------------------------------------------------------------------------

def test_two_connections_same_case_second_save_refused_journal_kept(pg_url: str) -> None:
    with PgStore(pg_url) as ann, PgStore(pg_url) as bob:
        case = ann.create_case(CaseDraft("Mail queue stuck", customer="ACME", engineer="ann"))
        ann_copy = ann.get_case(case.id)
        bob_copy = bob.get_case(case.id)
        ann.append_journal(case.id, "note", "ann: queue has 4000 mails", engineer="ann")
        bob.append_journal(case.id, "note", "bob: relay refuses TLS", engineer="bob")
        saved = ann.update_case(case.id, ann_copy.version_counter, title="Relay TLS broken",
                                tags=["mail"])
        assert saved.version_counter == 2
        with pytest.raises(StaleWrite, match="Reload the case") as err:
            bob.update_case(case.id, bob_copy.version_counter, customer="Globex")
        assert (err.value.expected, err.value.actual) == (1, 2)
        # Nothing of Bob's save landed; after a reload his change goes in on top of Ann's.
        reloaded = bob.get_case(case.id)
        assert reloaded == saved and reloaded.customer == "ACME"
        final = bob.update_case(case.id, reloaded.version_counter, customer="Globex")
        assert (final.title, final.customer, final.tags) == ("Relay TLS broken", "Globex",
                                                             ("mail",))
        # A status change from a stale copy is refused the same way.
        with pytest.raises(StaleWrite):
            ann.record_status(case.id, "triaged", expected_version=saved.version_counter)
        notes = [(e.engineer, e.text) for e in ann.journal(case.id) if e.kind == "note"]
        assert notes == [("ann", "ann: queue has 4000 mails"), ("bob", "bob: relay refuses TLS")]
        assert bob.journal(case.id) == ann.journal(case.id)


def wait_for_lock_waiter(pg_server: PgServer, db: str) -> None:
    deadline = time.monotonic() + 60  # a generous cap, not a timing assertion
    while pg_server.admin("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                          f"'{db}' AND wait_event_type = 'Lock'") == "0":
        assert time.monotonic() < deadline, "the second save never reached the row lock"
        time.sleep(0.05)


def test_a_save_waiting_on_anothers_transaction_is_refused_not_lost(
        pg_server: PgServer, pg_url: str) -> None:
    """Both read version 1; Bob's save starts while Ann's transaction is still open. It must
    wait for Ann's commit and then be refused (the row lock), not overwrite her."""
    with PgStore(pg_url) as ann, PgStore(pg_url) as bob:
        case = ann.create_case(CaseDraft("Race"))
        result: list[BaseException | object] = []
        ann_in = threading.Event()
        with ann._write() as conn:
            conn.execute("SELECT 1 FROM cases WHERE id = %s FOR UPDATE", (case.id,))
            conn.execute("UPDATE cases SET title = 'ann', version_counter = 2 WHERE id = %s",
                         (case.id,))

            def bob_saves() -> None:
                ann_in.set()
                try:
                    result.append(bob.update_case(case.id, 1, title="bob"))
                except BaseException as exc:  # noqa: BLE001 - checked below
                    result.append(exc)

            t = threading.Thread(target=bob_saves)
            t.start()
            ann_in.wait()
            # Commit only once Bob really waits on the row lock (seen by the server).
            wait_for_lock_waiter(pg_server, db_of(pg_url))
        t.join(60)
        assert len(result) == 1 and isinstance(result[0], StaleWrite), result
        assert bob.get_case(case.id).title == "ann"


RACER = r"""
import sys
from diagkit.store import StaleWrite
from diagkit.store.postgres import PgStore
store = PgStore(sys.argv[1])
case_id, tag = int(sys.argv[2]), sys.argv[3]
sys.stdin.readline()          # start together
saved = stale = 0
for i in range(60):
    copy = store.get_case(case_id)
    try:
        store.update_case(case_id, copy.version_counter, title=f"{tag}-{i}")
        saved += 1
    except StaleWrite:
        stale += 1
    store.append_journal(case_id, "note", f"{tag}-{i}", engineer=tag)
print(saved, stale, flush=True)
"""


def test_two_processes_racing_on_one_case_lose_no_update(pg_url: str) -> None:
    with PgStore(pg_url) as store:
        case = store.create_case(CaseDraft("two engineers, one case"))
    procs = [run_python(RACER, pg_url, str(case.id), tag) for tag in ("ann", "bob")]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    saved_total = 0
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        saved, stale = map(int, out.split())
        assert saved + stale == 60
        saved_total += saved
    with PgStore(pg_url) as store:
        after = store.get_case(case.id)
        # Every accepted save bumped the version exactly once: none overwrote another unseen.
        assert after.version_counter == 1 + saved_total
        notes = [e.text for e in store.journal(case.id) if e.kind == "note"]
        assert sorted(notes) == sorted(f"{t}-{i}" for t in ("ann", "bob") for i in range(60))


# -- connection loss ----------------------------------------------------------------------------

def test_connection_cut_mid_write_nothing_half_written_next_call_works(
        pg_server: PgServer, pg_url: str) -> None:
    with PgStore(pg_url) as store:
        case = store.create_case(CaseDraft("Before the cut"))
        with pytest.raises(StoreUnavailable, match="Nothing was saved") as err, \
                store._write("save the case") as conn:
            conn.execute("INSERT INTO journal (case_id, time, kind, text) "
                         "VALUES (%s, now(), 'note', 'half')", (case.id,))
            conn.execute("UPDATE cases SET title = 'half written' WHERE id = %s", (case.id,))
            pg_server.terminate_backends(db_of(pg_url))
            conn.execute("INSERT INTO journal (case_id, time, kind, text) "
                         "VALUES (%s, now(), 'note', 'second half')", (case.id,))
        assert "Could not save the case" in str(err.value)
        assert "127.0.0.1" in str(err.value)
        # The next call reconnects; the server rolled the cut transaction back.
        after = store.get_case(case.id)
        assert after.title == "Before the cut" and after.version_counter == 1
        assert [e.text for e in store.journal(case.id)] == ["Before the cut"]
        # An idle connection cut: one clear error, then the store works again.
        pg_server.terminate_backends(db_of(pg_url))
        with pytest.raises(StoreUnavailable, match="reconnects on the next action"):
            store.update_case(case.id, 1, title="x")
        assert store.get_case(case.id).version_counter == 1  # that save did not happen
        assert store.update_case(case.id, 1, title="After").title == "After"


def test_server_down_is_a_clear_error_naming_host_and_port(
        pg_server: PgServer, pg_url: str) -> None:
    store = PgStore(pg_url)
    case = store.create_case(CaseDraft("Server goes away"))
    where = f"{pg_server.host}:{pg_server.port}"
    pg_server.stop()
    try:
        with pytest.raises(StoreUnavailable) as err:
            store.append_journal(case.id, "note", "lost?")
        assert where in str(err.value) and "Nothing was saved" in str(err.value)
        with pytest.raises(StoreUnavailable) as err:
            PgStore(pg_url, connect_timeout=2)
        assert where in str(err.value) and "server is up" in str(err.value)
    finally:
        pg_server.start()
    # Back up: the same store object reconnects and nothing of the failed write is there.
    assert [e.kind for e in store.journal(case.id)] == ["created"]
    store.append_journal(case.id, "note", "after the restart")
    assert store.journal(case.id)[-1].text == "after the restart"
    store.close()


# -- logging in ---------------------------------------------------------------------------------

def test_wrong_password_names_set_password(pg_url: str) -> None:
    right = store_password(pg_url)
    set_store_password(pg_url, "not-the-password")
    with pytest.raises(StoreError) as err:
        PgStore(pg_url)
    assert not isinstance(err.value, StoreUnavailable)
    assert f"diagkit store set-password {pg_url}" in str(err.value)
    assert "not-the-password" not in str(err.value)
    set_store_password(pg_url, right)
    PgStore(pg_url).close()


def test_missing_password_names_set_password(pg_server: PgServer) -> None:
    url = pg_server.url(pg_server.new_database())  # nothing in the keyring for it
    assert store_password(url) is None
    with pytest.raises(StoreError) as err:
        PgStore(url)
    assert not isinstance(err.value, StoreUnavailable)
    assert f"Store the password with 'diagkit store set-password {url}'" in str(err.value)


@pytest.mark.parametrize("url", [
    "postgresql://diagkit:s3cret-pw@127.0.0.1:5432/team",
    "postgresql://diagkit@127.0.0.1:5432/team?password=s3cret-pw",
])
def test_password_in_url_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="keyring") as err:
        PgStore(url)
    assert "s3cret-pw" not in str(err.value)


def test_nul_characters_in_a_journal_entry_are_kept_as_replacement_characters(
        pg_url: str) -> None:
    # PostgreSQL text cannot hold NUL; a log excerpt of a binary file must still be journaled.
    with PgStore(pg_url) as store:
        case = store.create_case(CaseDraft("Binary log"))
        entry = store.append_journal(case.id, "log_excerpt", "ELF\x00\x01",
                                     data={"file": "core\x00", "lines": ["a\x00b", 1]})
        assert entry.text == "ELF\ufffd\x01"
        assert store.journal(case.id)[-1] == entry
        assert entry.data == {"file": "core\ufffd", "lines": ["a\ufffdb", 1]}
