"""Knowledge-base search on SQLite's FTS5 (the full-text hook of
:class:`~diagkit.store.shared.kb.KbSql`).

Search is done by SQLite, never by loading articles into Python: the user's text becomes an
FTS5 query of quoted words (so ``"``, ``NEAR(``, ``-``, ``*`` or ``AND`` are just words, never
syntax), ranked by ``bm25()`` with per-column weights, and only the page of hits asked for is
read back and given a ``snippet()``. The ``kb_fts`` index is kept in step with ``kb_articles``
by triggers (:mod:`diagkit.store.sqlite.schema`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from diagkit.store.contract import HIGHLIGHT_END, HIGHLIGHT_START
from diagkit.store.shared.base import Connection
from diagkit.store.shared.kb import ARTICLE_COLUMNS, SNIPPET_TOKENS, KbSql, query_words

# bm25 weights in kb_fts column order: title, tags, symptoms, environment, cause, resolution.
# A word in the title says far more about what an article is about than one in its body.
BM25_WEIGHTS: tuple[float, ...] = (10.0, 5.0, 2.0, 1.0, 1.5, 1.0)
_RANK = "bm25(" + ", ".join(f"{w:.1f}" for w in BM25_WEIGHTS) + ")"


def fts_terms(query: str) -> list[str]:
    """The words of a user's query as safe FTS5 strings (``"word"``)."""
    return [f'"{w}"' for w in query_words(query)]


class Fts5Search(KbSql):
    """The full-text hooks of :class:`KbSql` on the ``kb_fts`` FTS5 index."""

    def _terms(self, query: str) -> list[str]:
        return fts_terms(query)

    def _phrase(self, words: Sequence[str]) -> str:
        return "(" + " + ".join(words) + ")"  # FTS5: "a" + "b" is the phrase "a b"

    def _in_column(self, what: str, column: str) -> str:
        # A subquery of its own: one FTS5 scan may only have one MATCH. Not correlated, so
        # SQLite runs it once per search.
        return (f"kb_fts.rowid IN (SELECT rowid FROM kb_fts WHERE kb_fts MATCH"
                f" '{{{column}}} : (' || :{what} || ')')")

    def _ranked(self, conn: Connection, match: str, tiers: dict[str, str], limit: int,
                tag: str | None) -> list[tuple[Sequence[Any], float, Sequence[str | None]]]:
        # First the page of ids (tier, then the weighted bm25), then the snippets for that
        # page only (snippet() in the ordered query would run for every hit before the
        # sort). Snippets come from the body (the first of symptoms, environment, cause,
        # resolution with a hit): the title is shown anyway and tags are stored as JSON.
        tag_sql = ""
        args: dict[str, Any] = {"m": match, "rank": _RANK, "limit": int(limit), **tiers}
        if tag is not None:
            tag_sql = (" AND EXISTS (SELECT 1 FROM kb_articles a, json_each(a.tags) t"
                       " WHERE a.id = kb_fts.rowid AND t.value = :tag)")
            args["tag"] = tag
        page = conn.execute(
            f"SELECT rowid, rank FROM kb_fts WHERE kb_fts MATCH :m AND rank MATCH :rank{tag_sql}"
            f" ORDER BY {self._tiers()} DESC, rank, rowid LIMIT :limit", args,
        ).fetchall()
        if not page:
            return []
        ids = [r[0] for r in page]
        marks = ", ".join("?" * len(ids))
        cols = ", ".join(
            f"snippet(kb_fts, {c}, ?, ?, '…', {SNIPPET_TOKENS})" for c in (2, 3, 4, 5, 0)
        )
        snippets = {r[0]: r[1:] for r in conn.execute(
            f"SELECT rowid, {cols} FROM kb_fts WHERE kb_fts MATCH ? AND rowid IN ({marks})",
            [*[HIGHLIGHT_START, HIGHLIGHT_END] * 5, match, *ids],
        ).fetchall()}
        rows = {r[0]: r for r in conn.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE id IN ({marks})", ids
        ).fetchall()}
        return [(rows[rowid], -score, snippets.get(rowid, ()))
                for rowid, score in page if rowid in rows]
