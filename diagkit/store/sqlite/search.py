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

    def _ranked(self, conn: Connection, match: str, limit: int,
                tag: str | None) -> list[tuple[Sequence[Any], float, Sequence[str | None]]]:
        # ORDER BY rank with "rank MATCH" lets FTS5 sort by the weighted bm25 itself and hand
        # rows over in order, so the LIMIT stops early and snippets are built for this page
        # only. Snippets come from the body (the first of symptoms, environment, cause,
        # resolution with a hit): the title is shown anyway and tags are stored as JSON.
        cols = ", ".join(
            f"snippet(kb_fts, {c}, :s, :e, '…', {SNIPPET_TOKENS})" for c in (2, 3, 4, 5, 0)
        )
        tag_sql = ""
        args: dict[str, Any] = {"m": match, "rank": _RANK, "s": HIGHLIGHT_START,
                                "e": HIGHLIGHT_END, "limit": int(limit)}
        if tag is not None:
            tag_sql = (" AND EXISTS (SELECT 1 FROM kb_articles a, json_each(a.tags) t"
                       " WHERE a.id = kb_fts.rowid AND t.value = :tag)")
            args["tag"] = tag
        ranked = conn.execute(
            f"SELECT rowid, rank, {cols} FROM kb_fts WHERE kb_fts MATCH :m"
            f" AND rank MATCH :rank{tag_sql} ORDER BY rank LIMIT :limit", args,
        ).fetchall()
        if not ranked:
            return []
        ids = [r[0] for r in ranked]
        rows = {r[0]: r for r in conn.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM kb_articles"
            f" WHERE id IN ({', '.join('?' * len(ids))})", ids
        ).fetchall()}
        return [(rows[rowid], -score, texts) for rowid, score, *texts in ranked if rowid in rows]
