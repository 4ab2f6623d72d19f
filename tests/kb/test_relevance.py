"""Search quality on the starter set: precision at 1 over the relevance set (relevance.json),
on SQLite and on the real PostgreSQL server, for the part the ranking was tuned on and for the
held-out part it never was."""

from __future__ import annotations

import pytest

from diagkit.kb import open_kb
from diagkit.store.contract import KbStore
from tests.kb.relevance import HELD_OUT, TUNED, precision_at_1

#: Precision at 1 the issue asks for (issue 15), on the part the ranking was tuned on.
TARGET = 0.95
#: The held-out part was run once, after the tuning: 26 of 28 on both backends (0.929). Its
#: floor guards that figure against regressions; it is not the target (the next held-out
#: set must be written before the next change to be worth anything).
HELD_OUT_FLOOR = 0.92


def test_the_set_is_large_and_names_real_starter_articles(store: KbStore) -> None:
    slugs = open_kb(store).article_slugs()
    assert len(TUNED) + len(HELD_OUT) >= 60 and len(slugs) >= 25
    assert {s for _q, s in TUNED + HELD_OUT} <= slugs
    assert not {q for q, _ in TUNED} & {q for q, _ in HELD_OUT}


@pytest.mark.parametrize("part", ["tuned", "held_out"])
def test_precision_at_1(store: KbStore, part: str) -> None:
    precision, misses = precision_at_1(open_kb(store), TUNED if part == "tuned" else HELD_OUT)
    floor = TARGET if part == "tuned" else HELD_OUT_FLOOR
    assert precision >= floor, f"precision at 1 {precision:.3f}; misses:\n" + "\n".join(misses)


@pytest.mark.parametrize(("query", "expected", "not_first"), [
    ("no space left on device", "disk-full", "inode-exhaustion"),
    ("connection refused", "connection-refused", "ssh-host-key-changed"),
    ("could not connect to server postgres", "connection-refused", "dns-misconfiguration"),
])
def test_the_issues_known_misses(store: KbStore, query: str, expected: str,
                                 not_first: str) -> None:
    hits = open_kb(store).search_articles(query)
    # What came first before (issue 15) may still be a hit, but not the first.
    assert hits[0].article.slug == expected != not_first
