"""The starter articles are in a store from its first use by the KB or known-issue matching (no
`diagkit kb` command needed), kept in step when diagkit ships new or improved ones, and never
against the engineer's edits or deletions. Real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from diagkit.kb import STARTER_KEY, open_kb, starters
from diagkit.kb.markdown import starter_drafts
from diagkit.kb.match import evidence_from_snapshot, load_matcher
from diagkit.store.contract import ArticleDraft, KbStore
from diagkit.store.sqlite import SqliteStore
from tests.kb.conftest import snapshot


@pytest.fixture
def installing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The starter set synced as a user's diagkit does (the suite turns it off)."""
    monkeypatch.setattr(starters, "AUTOMATIC", True)
    yield


def reopen(store: KbStore) -> KbStore:
    """Another store object on the same database (what the next diagkit start does)."""
    if isinstance(store, SqliteStore):
        return SqliteStore(store.path)
    from diagkit.store.postgres import PgStore

    return PgStore(store.url)  # type: ignore[attr-defined]


def test_the_first_probe_on_a_new_install_names_known_issues(
        tmp_path: Path, installing: None) -> None:
    with SqliteStore(tmp_path / "new.db") as store:
        assert store.article_count() == 0
        # No open_kb, no `diagkit kb`: the matcher a probe builds (diagkit case probe, the app)
        # brings the starter set in first.
        found = load_matcher(store).match(evidence_from_snapshot(snapshot(
            ("disk", "disk_full.txt"), ("kernel", "oom_and_io_errors.txt"))))
        assert {"disk-full", "oom-killer"} <= {k.slug for k in found}
        assert store.article_slugs() == {d.slug for d in starter_drafts()}
        assert len(store.article_slugs()) >= 25


def test_sync_is_idempotent(store: KbStore, installing: None) -> None:
    load_matcher(store)
    with reopen(store) as again:  # the next diagkit start
        n = again.article_count()
        assert n == len(starter_drafts())
        assert starters.sync_starters(again) == starters.SyncReport()
        assert starters.sync_starters(again, force=True) == starters.SyncReport()
        load_matcher(again)
        assert again.article_count() == n


def test_new_versions_update_only_unedited_articles_and_never_resurrect(
        store: KbStore, monkeypatch: pytest.MonkeyPatch) -> None:
    open_kb(store)
    n = store.article_count()
    store.delete_article(store.get_article("port-in-use").id)
    edited = store.get_article("soft-lockup")
    store.update_article(edited.id, edited.version_counter, cause="Our own words.")

    # The next diagkit ships a new version of every starter article and one new article.
    items, _ = starters.shipped()
    newer = tuple(starters.Shipped(replace(i.draft, resolution=i.draft.resolution + "\\n6. New."),
                                   i.version + "-2") for i in items)
    brand_new = starters.Shipped(ArticleDraft("Brand new", slug="brand-new", symptoms="x",
                                              author="diagkit"), "1")
    monkeypatch.setattr(starters, "shipped", lambda: ((*newer, brand_new), "set-2"))
    monkeypatch.setattr(starters, "fingerprint", lambda: "set-2")
    report = starters.sync_starters(store)

    assert report.installed == ("brand-new",)
    assert "soft-lockup" not in report.updated and "port-in-use" not in report.updated
    assert len(report.updated) == n - 2
    assert store.get_article("disk-full").resolution.endswith("6. New.")
    assert store.get_article("soft-lockup").cause == "Our own words."  # the engineer's now
    assert "port-in-use" not in store.article_slugs()  # deleted stays deleted
    assert starters.sync_starters(store) == starters.SyncReport()  # recorded: nothing to do


def test_an_article_of_the_engineer_with_a_starter_slug_is_left_alone(store: KbStore) -> None:
    mine = store.create_article(ArticleDraft("Our disk runbook", slug="disk-full"))
    open_kb(store)
    assert store.get_article("disk-full") == mine
    assert store.article_count() == len(starter_drafts())


def test_a_store_of_an_older_diagkit_keeps_its_deletions(store: KbStore) -> None:
    # The old way: the whole set installed at once and remembered by one key.
    for draft in starter_drafts():
        if draft.slug in starters.LEGACY_SLUGS and draft.slug != "oom-killer":
            draft.save(store)
    store.set_kb_meta(STARTER_KEY, "12")
    open_kb(store)
    slugs = store.article_slugs()
    assert "oom-killer" not in slugs  # deleted back then: stays deleted
    assert {"connection-refused", "port-in-use", "soft-lockup"} <= slugs  # new ones arrive
    assert len(slugs) == len(starter_drafts()) - 1
