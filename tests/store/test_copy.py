"""``migrate_store``: an engineer's SQLite store into a real PostgreSQL team store that already
holds another engineer's work; ids remapped, idempotent, resumable after an interruption,
verified counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from diagkit.store import StoreUnavailable
from diagkit.store.contract import ArticleDraft, CaseDraft
from diagkit.store.copy import STORE_ID_KEY, migrate_store, require_verified, store_counts
from diagkit.store.postgres import PgStore
from diagkit.store.sqlite import SqliteStore

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _populate_local(store: SqliteStore, n: int = 6) -> None:
    for i in range(n):
        at = T + timedelta(hours=i)
        case = store.create_case(CaseDraft(f"Disk full on db{i}", customer=f"ACME{i % 2}",
                                           tags=["disk", f"t{i}"], impact="high", urgency="medium",
                                           severity="S2", engineer="alice", hosts=[f"db{i}", "lb"],
                                           created=at))
        case = store.record_status(case.id, "investigating", expected_version=case.version_counter,
                                   engineer="alice", at=at + timedelta(minutes=5))
        store.append_journal(case.id, "note", f"looked at db{i}", engineer="alice",
                             data={"host": f"db{i}"}, at=at + timedelta(minutes=6),
                             first_response=True)
        if i % 2 == 0:
            case = store.get_case(case.id)
            store.record_status(case.id, "resolved", expected_version=case.version_counter,
                                engineer="alice", at=at + timedelta(hours=2))
    store.create_article(ArticleDraft("Disk full on /var", slug="disk-full",
                                      symptoms="No space left", resolution="Rotate logs",
                                      tags=["disk"], source_case=1, author="alice", created=T))
    store.create_article(ArticleDraft("TLS expired", slug="tls-expired",
                                      symptoms="certificate expired", author="alice", created=T))
    store.create_article(ArticleDraft("Old NTP note", slug="ntp-drift", symptoms="clock drift",
                                      author="alice", created=T - timedelta(days=30)))


def _snapshot(store, case_id: int) -> dict:
    """A case as the Store API shows it, without ids (which differ between stores)."""
    c = store.get_case(case_id)
    return {
        "fields": (c.title, c.customer, c.tags, c.impact, c.urgency, c.severity, c.status,
                   c.created, c.updated, c.first_response_at, c.resolved_at, c.closed_at,
                   c.engineer, c.version_counter, sorted(c.hosts)),
        "journal": [(e.time, e.engineer, e.kind, e.text, dict(e.data))
                    for e in store.journal(case_id)],
        "status": [(s.time, s.from_status, s.to_status, s.engineer)
                   for s in store.status_changes(case_id)],
    }


@pytest.fixture
def local(tmp_path):
    with SqliteStore(tmp_path / "alice.db") as store:
        _populate_local(store)
        yield store


@pytest.fixture
def team(pg_url):
    """The team store with bob's work already in it (ids 1.. taken)."""
    with PgStore(pg_url) as store:
        for i in range(3):
            store.create_case(CaseDraft(f"bob's case {i}", engineer="bob", hosts=["web1"],
                                        created=T))
        store.create_article(ArticleDraft("TLS expired (team)", slug="tls-expired",
                                          symptoms="certificate expired, team's newer text",
                                          author="bob", created=T + timedelta(days=1)))
        store.create_article(ArticleDraft("NTP drift", slug="ntp-drift", symptoms="clock drift",
                                          author="bob", created=T - timedelta(days=60)))
        yield store


def test_migration_into_a_team_store_with_other_data(local, team):
    bob_before = {c.id: _snapshot(team, c.id) for c in team.list_cases()}
    report = migrate_store(local, team)
    require_verified(report)
    assert report.verified
    assert report.count("case").source == report.count("case").copied == 6
    assert report.count("journal").copied == store_counts(local)["journal"]
    assert report.count("status").copied == store_counts(local)["status"]
    # disk-full is new; tls-expired: the team's copy is newer and is kept; ntp-drift: the
    # local one is newer and wins.
    assert (report.kb_inserted, report.kb_updated, report.kb_kept_newer) == (
        1, 1, ("tls-expired",))

    # Bob's cases are untouched; alice's came in with new ids and everything the same.
    for case_id, snap in bob_before.items():
        assert _snapshot(team, case_id) == snap
    mine = sorted((c for c in team.list_cases() if c.engineer == "alice"), key=lambda c: c.id)
    assert len(mine) == 6 and min(c.id for c in mine) > max(bob_before)
    local_cases = sorted(local.list_cases(), key=lambda c: c.created)
    for old, new in zip(local_cases, sorted(mine, key=lambda c: c.created), strict=True):
        assert _snapshot(team, new.id) == _snapshot(local, old.id)

    disk = team.get_article("disk-full")
    assert disk.source_case == mine[0].id  # remapped to the copied case
    assert team.get_article("tls-expired").author == "bob"
    assert team.get_article("ntp-drift").title == "Old NTP note"
    assert [h.article.slug for h in team.search_articles("space")] == ["disk-full"]

    # Idempotent: a second run copies nothing and still verifies.
    again = migrate_store(local, team)
    assert again.verified and all(c.copied == 0 for c in again.counts)
    assert len(team.list_cases()) == 9
    assert again.kb_identical == 2 and again.kb_kept_newer == ("tls-expired",)


def test_interrupted_migration_resumes_without_duplicates(local, team, pg_server, pg_url):
    db = pg_url.rsplit("/", 1)[1]
    seen = []

    def cut_after_three(done: int, total: int, what: str) -> None:
        seen.append(done)
        if done == 3:
            pg_server.terminate_backends(db)  # the network drops between two cases

    with pytest.raises(StoreUnavailable):
        migrate_store(local, team, progress=cut_after_three)
    assert seen == [1, 2, 3]
    # What was committed is whole: three cases with all their entries, nothing of the 4th.
    partial = [c for c in team.list_cases() if c.engineer == "alice"]
    assert len(partial) == 3
    local_by_title = {c.title: c.id for c in local.list_cases()}
    for c in partial:
        assert _snapshot(team, c.id) == _snapshot(local, local_by_title[c.title])

    # Local work goes on meanwhile: a new journal entry on an already copied case follows.
    local.append_journal(1, "note", "after the first run", engineer="alice",
                         at=T + timedelta(days=3))
    report = migrate_store(local, team)
    assert report.verified
    assert report.count("case").copied == 3 and report.count("case").mapped == 6
    assert len([c for c in team.list_cases() if c.engineer == "alice"]) == 6
    first = min(c.id for c in partial)
    assert team.journal(first)[-1].text == "after the first run"


def test_store_id_is_stable_and_kept_in_the_local_store(local, team, tmp_path):
    report = migrate_store(local, team)
    assert local.get_kb_meta(STORE_ID_KEY) == report.source_id
    # Another engineer's store gets its own id: its cases are copied as well, not skipped.
    with SqliteStore(tmp_path / "carol.db") as carol:
        carol.create_case(CaseDraft("carol's case", engineer="carol", created=T))
        other = migrate_store(carol, team)
    assert other.source_id != report.source_id and other.count("case").copied == 1
