"""Search quality on the starter set: precision at 1 over the relevance set (relevance.json),
on SQLite and on the real PostgreSQL server, for the part the ranking was tuned on and for the
held-out part it never was."""

from __future__ import annotations

import pytest

from diagkit.kb import open_kb
from diagkit.kb.search import search
from diagkit.store.contract import KbStore
from tests.kb.relevance import HELD_OUT, HELD_OUT_2, TUNED, precision_at_1

#: Precision at 1 the issue asks for (issue 15), on the part the ranking was tuned on
#: (measured: 59/60 on both backends).
TARGET = 0.95
#: The held-out parts, each run for the first time after the change it was written before:
#: held_out 26/28 (0.929) on both backends with the store's ranking; held_out_2 27/28 (0.964)
#: on both with the articles' error strings first (diagkit.kb.search). Their floors guard those
#: figures against regressions; they are measurements, not targets: a held-out set tuned on
#: stops being one (held_out has been seen since: 27/28 now).
FLOORS = {"tuned": TARGET, "held_out": 0.92, "held_out_2": 0.95}
PARTS = {"tuned": TUNED, "held_out": HELD_OUT, "held_out_2": HELD_OUT_2}


def test_the_set_is_large_and_names_real_starter_articles(store: KbStore) -> None:
    slugs = open_kb(store).article_slugs()
    assert len(TUNED) >= 60 and len(HELD_OUT) + len(HELD_OUT_2) >= 50 and len(slugs) >= 25
    assert {s for _q, s in TUNED + HELD_OUT + HELD_OUT_2} <= slugs
    queries = [q for q, _ in TUNED + HELD_OUT + HELD_OUT_2]
    assert len(set(queries)) == len(queries)


@pytest.mark.parametrize("part", list(PARTS))
def test_precision_at_1(store: KbStore, part: str) -> None:
    precision, misses = precision_at_1(open_kb(store), PARTS[part])
    assert precision >= FLOORS[part], (
        f"precision at 1 {precision:.3f}; misses:\n" + "\n".join(misses))


@pytest.mark.parametrize(("query", "expected", "not_first"), [
    ("no space left on device", "disk-full", "inode-exhaustion"),
    ("connection refused", "connection-refused", "ssh-host-key-changed"),
    ("could not connect to server postgres", "connection-refused", "dns-misconfiguration"),
])
def test_the_issues_known_misses(store: KbStore, query: str, expected: str,
                                 not_first: str) -> None:
    hits = search(open_kb(store), query)
    # What came first before (issue 15) may still be a hit, but not the first.
    assert hits[0].article.slug == expected != not_first


def test_a_pasted_line_finds_the_article_quoting_it_first(store: KbStore) -> None:
    open_kb(store)
    line = "write error: No space left on device"
    assert store.search_articles(line)[0].article.slug != "disk-full"  # words alone
    assert search(store, line)[0].article.slug == "disk-full"  # its error string
    # An article of the team's own, recognised by its signature rule, comes first as well.
    from diagkit.store.contract import ArticleDraft, MatchRule

    mine = store.create_article(ArticleDraft("Nightly invoices hang", rules=[
        MatchRule("log", r"billing-export: queue \d+ stalled")]))
    hits = search(store, "2024-03-01 billing-export: queue 7 stalled after 300 s")
    assert hits[0].article.id == mine.id and "Recognised" in hits[0].snippet
    assert search(store, "queue stalled", tag="nope") == []
    store.delete_article(mine.id)  # the cached rules follow the store's articles
    assert mine.id not in {h.article.id for h in search(store, "billing-export: queue 7 stalled")}
