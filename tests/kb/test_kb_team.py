"""The KB shared by several engineers on one PostgreSQL store: two real connections."""

from __future__ import annotations

import pytest

from diagkit.errors import KbError
from diagkit.store import StaleWrite
from diagkit.store.contract import ArticleDraft
from diagkit.store.postgres import PgStore


def test_an_edit_by_one_shows_for_the_other_and_a_stale_save_is_refused(pg_url: str) -> None:
    with PgStore(pg_url) as ana, PgStore(pg_url) as bob:
        a = ana.create_article(ArticleDraft("Clock drift", symptoms="chrony unsynchronised",
                                            tags=["time"]))
        seen_by_bob = bob.get_article("clock-drift")
        assert seen_by_bob == a
        a2 = ana.update_article(a.id, a.version_counter, cause="ntp port blocked")
        # Bob refreshes: Ana's edit is there, and the search index followed it.
        assert bob.get_article(a.id).cause == "ntp port blocked"
        assert [h.article.id for h in bob.search_articles("blocked")] == [a.id]
        # Bob saves over the copy he read before Ana's edit: refused, nothing overwritten.
        with pytest.raises(StaleWrite, match="changed by someone else.*Reload"):
            bob.update_article(a.id, seen_by_bob.version_counter, cause="firewall")
        assert ana.get_article(a.id) == a2


def test_a_slug_taken_by_another_engineer_is_a_kb_error(pg_url: str) -> None:
    with PgStore(pg_url) as ana, PgStore(pg_url) as bob:
        ana.create_article(ArticleDraft("Disk full", slug="disk-full"))
        with pytest.raises(KbError, match="already an article with the slug 'disk-full'"):
            bob.create_article(ArticleDraft("Disk is full", slug="disk-full"))
        other = bob.create_article(ArticleDraft("Inodes", slug="inodes"))
        with pytest.raises(KbError, match="already an article with the slug 'disk-full'"):
            bob.update_article(other.id, 1, slug="disk-full")
        assert bob.create_article(ArticleDraft("Disk full")).slug == "disk-full-2"
        assert ana.article_slugs() == {"disk-full", "inodes", "disk-full-2"}
