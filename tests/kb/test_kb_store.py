"""The KB store on both backends (SQLite FTS5, PostgreSQL text search): CRUD, optimistic
concurrency, ranking and snippets, the search index kept in sync."""

from __future__ import annotations

import sqlite3

import pytest

from diagkit.errors import KbError
from diagkit.store import StaleWrite
from diagkit.store.contract import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    ArticleDraft,
    ArticleNotFound,
    KbStore,
    MatchRule,
)
from diagkit.store.postgres import schema as schema_pg
from diagkit.store.sqlite import SqliteStore, schema

FILLER = [
    ("Printer queue stuck", "Jobs stay in the queue; cups shows them as held."),
    ("Slow login over VPN", "The desktop takes minutes to appear after the VPN connects."),
    ("Mail delivery delayed", "Postfix defers mail to the relay; queue grows."),
    ("Web server returns 502", "nginx logs upstream connection refused from the app server."),
    ("Backup job runs too long", "The nightly backup overlaps with business hours."),
]


def seed(store: KbStore) -> None:
    for title, symptoms in FILLER:
        store.create_article(ArticleDraft(title, symptoms=symptoms))


def test_store_implements_the_protocol(store: KbStore) -> None:
    assert isinstance(store, KbStore)
    migrations = schema.MIGRATIONS if isinstance(store, SqliteStore) else schema_pg.MIGRATIONS
    assert store.schema_version() == len(migrations) >= 1


def test_create_get_list_update_delete(store: KbStore) -> None:
    rule = MatchRule("metric", metric="disk.used_percent", op=">=", value=95, labels={"mount": "/"})
    a = store.create_article(ArticleDraft("Disk full", symptoms="No space left",
                                          tags=["disk", "storage"], links=["https://example.org/x"],
                                          rules=[rule], author="ana"))
    assert a.slug == "disk-full" and a.version_counter == 1 and a.created is not None
    assert store.get_article("disk-full") == a == store.get_article(a.id)
    assert store.get_article(str(a.id)) == a
    assert a.rules == (rule,)
    b = store.create_article(ArticleDraft("Disk full"))  # same title: next free slug
    assert b.slug == "disk-full-2"
    with pytest.raises(KbError, match="already an article with the slug 'disk-full'"):
        store.create_article(ArticleDraft("Other", slug="disk-full"))
    assert [x.slug for x in store.list_articles(tag="storage")] == ["disk-full"]
    assert store.article_count() == 2

    a2 = store.update_article(a.id, 1, title="Root filesystem full", tags=["disk"])
    assert a2.version_counter == 2 and a2.title == "Root filesystem full" and a2.slug == "disk-full"
    store.delete_article(b.id)
    with pytest.raises(ArticleNotFound, match="kb search"):
        store.get_article(b.id)
    with pytest.raises(ArticleNotFound):
        store.delete_article(b.id)
    with pytest.raises(ArticleNotFound):
        store.get_article("no-such-slug")
    with pytest.raises(ArticleNotFound):
        store.get_article("9" * 30)  # digits, but no id a database can hold


def test_stale_write_is_refused_and_changes_nothing(store: KbStore) -> None:
    a = store.create_article(ArticleDraft("Disk full"))
    store.update_article(a.id, 1, cause="logs")
    with pytest.raises(StaleWrite, match="Article .* changed by someone else"):
        store.update_article(a.id, 1, cause="core dumps")
    assert store.get_article(a.id).cause == "logs"


def test_invalid_input_is_refused(store: KbStore) -> None:
    with pytest.raises(KbError, match="not a valid regular expression"):
        MatchRule("log", "([unclosed")
    with pytest.raises(KbError, match="compares with one of"):
        MatchRule("metric", metric="x", op="=>", value=1)
    with pytest.raises(KbError, match="kind is one of"):
        MatchRule.from_dict({"kind": "smell", "pattern": "x"})
    with pytest.raises(KbError, match="slug"):
        store.create_article(ArticleDraft("X", slug="Bad Slug!"))
    with pytest.raises(KbError, match="title"):
        store.create_article(ArticleDraft("   "))
    with pytest.raises(ValueError, match="cannot set"):
        store.update_article(1, 1, version_counter=9)


def test_title_hit_outranks_body_hit(store: KbStore) -> None:
    seed(store)
    body = store.create_article(ArticleDraft(
        "Service keeps restarting",
        symptoms="Seen after the kernel killed it: oom messages in dmesg."))
    title = store.create_article(ArticleDraft("OOM killer ends the database",
                                              symptoms="The database process disappears at night."))
    hits = store.search_articles("oom")
    assert [h.article.id for h in hits] == [title.id, body.id]
    assert hits[0].rank > hits[1].rank


def test_more_specific_match_beats_vaguer(store: KbStore) -> None:
    seed(store)
    vague = store.create_article(ArticleDraft("Disk problems",
                                              symptoms="Anything about disks and storage."))
    specific = store.create_article(ArticleDraft(
        "Disk out of inodes",
        symptoms="No space left on device although df shows space; inodes exhausted."))
    hits = store.search_articles("disk inodes")
    assert hits[0].article.id == specific.id
    # All words must match; when nothing has them all, articles with any of them come back.
    hits = store.search_articles("disk zebra")
    assert {h.article.id for h in hits} == {vague.id, specific.id}


def test_porter_stemming_and_prefix(store: KbStore) -> None:
    seed(store)
    a = store.create_article(ArticleDraft("Unit failed to start",
                                          resolution="Restarting the service helped."))
    assert [h.article.id for h in store.search_articles("failing units")] == [a.id]
    assert [h.article.id for h in store.search_articles("restar")] == [a.id]  # typing...


@pytest.mark.parametrize("query", [
    '"', '""', "'", "NEAR(", "NEAR(disk", "-", "-disk", "*", "disk*", "AND", "OR", "NOT",
    "disk AND", "AND OR NOT", "(", ")", "^", ":", "title:disk", "{title}: disk", "\x00",
    "disk\" OR \"x", "💾 disk", "a" * 5000, " ".join(["disk"] * 200), "",
])
def test_hostile_query_text_never_raises(store: KbStore, query: str) -> None:
    seed(store)
    store.create_article(ArticleDraft("Disk full", symptoms="No space left on device"))
    hits = store.search_articles(query)
    assert isinstance(hits, list)
    if "disk" in query.lower():
        assert any(h.article.slug == "disk-full" for h in hits)


def test_empty_query_gives_nothing(store: KbStore) -> None:
    seed(store)
    assert store.search_articles("") == [] and store.search_articles("  -*  ") == []


def test_snippet_highlights_matched_terms(store: KbStore) -> None:
    seed(store)
    store.create_article(ArticleDraft("Disk full",
                                      symptoms="Writes fail: No space left on device <b>."))
    hit = store.search_articles("space")[0]
    assert f"{HIGHLIGHT_START}space{HIGHLIGHT_END}" in hit.snippet
    # The article's own markup never comes out as markup: SQLite keeps it as text (escaped),
    # PostgreSQL's parser reads "<b>" as a tag and leaves it out of the headline.
    assert "<b>space</b>" in hit.snippet_html() and hit.snippet_html().count("<b>") == 1
    if isinstance(store, SqliteStore):
        assert "&lt;b&gt;" in hit.snippet_html()
    assert "[space]" in hit.snippet_text()


def test_search_by_tag(store: KbStore) -> None:
    a = store.create_article(ArticleDraft("Disk full", symptoms="space", tags=["storage"]))
    store.create_article(ArticleDraft("Quota full", symptoms="space", tags=["quota"]))
    assert [h.article.id for h in store.search_articles("space", tag="storage")] == [a.id]
    assert [h.article.id for h in store.search_articles("storage")] == [a.id]  # tags indexed


def test_update_and_delete_keep_the_index_in_sync(store: KbStore) -> None:
    seed(store)
    a = store.create_article(ArticleDraft("Clock drift", symptoms="chrony unsynchronised"))
    assert store.search_articles("chrony")
    a = store.update_article(a.id, a.version_counter, symptoms="ntpd lost its peers")
    assert store.search_articles("chrony") == []
    assert [h.article.id for h in store.search_articles("ntpd")] == [a.id]
    store.delete_article(a.id)
    assert store.search_articles("ntpd") == []
    if isinstance(store, SqliteStore):  # the FTS index agrees with its content table
        conn = sqlite3.connect(store.path)
        conn.execute("INSERT INTO kb_fts(kb_fts, rank) VALUES ('integrity-check', 1)")
        conn.close()
    # (PostgreSQL: the search vector is a generated column, it cannot disagree.)


def test_a_search_reads_only_the_page_it_returns(store: KbStore) -> None:
    for i in range(60):
        store.create_article(ArticleDraft(f"Disk issue {i}", symptoms="disk " * (1 + i % 7)))
    hits = store.search_articles("disk", limit=5)
    assert len(hits) == 5
    assert [h.rank for h in hits] == sorted((h.rank for h in hits), reverse=True)


def test_kb_meta(store: KbStore) -> None:
    assert store.get_kb_meta("k") is None
    store.set_kb_meta("k", "1")
    store.set_kb_meta("k", "2")
    assert store.get_kb_meta("k") == "2"
