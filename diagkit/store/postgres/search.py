"""Knowledge-base search on PostgreSQL's full-text search (the full-text hook of
:class:`~diagkit.store.shared.kb.KbSql`), the same behaviour as SQLite's FTS5 (the reference):

* ``kb_articles.search`` is a generated, weighted ``tsvector`` (title A, tags B, symptoms C,
  the rest D; see :mod:`diagkit.store.postgres.schema`) with a GIN index, so it can never fall
  out of step with the article and the search never loads articles into Python;
* the user's words are each written as a quoted tsquery lexeme (``'word'``), so ``&``, ``|``,
  ``!``, ``:``, ``(`` or ``AND`` are just text, never syntax; the last word is a prefix
  (``:*``);
* ranked by ``ts_rank_cd`` with per-weight factors mirroring the SQLite bm25 column weights;
* ``ts_headline`` (the expensive part: it re-parses the text) runs only for the page of hits
  returned: the ranking is a ``LIMIT``-ed subquery and the headlines are computed outside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from diagkit.store.contract import HIGHLIGHT_END, HIGHLIGHT_START
from diagkit.store.shared.base import Connection
from diagkit.store.shared.kb import ARTICLE_COLUMNS, SNIPPET_TOKENS, KbSql, query_words

#: ts_rank_cd weights for {D, C, B, A}: body, symptoms, tags, title. Same proportions as the
#: SQLite bm25 weights (title 10, tags 5, symptoms 2, the rest 1..1.5).
RANK_WEIGHTS = "{0.1, 0.2, 0.5, 1.0}"
#: Words longer than this cannot be in any article worth finding (and PostgreSQL refuses
#: lexemes over 2 KB): they are dropped rather than sent.
MAX_WORD = 100
#: The weight label of each column in the generated ``search`` vector (schema).
_WEIGHTS = {"title": "a", "tags": "b", "symptoms": "c"}
# Text search configuration; must be the one the generated ``search`` column uses.
_CONFIG = "english"
# Body columns in the order a snippet is taken from (the SQLite store's order: the title is
# shown anyway, so it is the last resort).
_SNIPPET_COLUMNS = ("symptoms", "environment", "cause", "resolution", "title")
_HEADLINE_OPTIONS = (f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, "
                     f"MaxWords={SNIPPET_TOKENS}, MinWords={SNIPPET_TOKENS // 3}, "
                     "MaxFragments=1, FragmentDelimiter=…")
_WIDTH = len(ARTICLE_COLUMNS.split(","))


def ts_words(query: str) -> list[str]:
    """The words of a user's query as quoted tsquery lexemes (``'word'``)."""
    return [f"'{w}'" for w in query_words(query, longest=MAX_WORD)]


class TsSearch(KbSql):
    """The full-text hooks of :class:`KbSql` on the ``search`` tsvector column."""

    _PREFIX = ":*"
    _ALL = " & "
    _ANY = " | "

    def _terms(self, query: str) -> list[str]:
        return ts_words(query)

    def _phrase(self, words: Sequence[str]) -> str:
        # Stop words inside are dropped by to_tsquery, which widens the distance to match.
        return " <-> ".join(words)

    def _in_column(self, what: str, column: str) -> str:
        # The generated vector keeps each column's weight label: filter it down to the one.
        return f"ts_filter(a.search, '{{{_WEIGHTS[column]}}}') @@ q.{what}"

    def _ranked(self, conn: Connection, match: str, tiers: dict[str, str], limit: int,
                tag: str | None) -> list[tuple[Sequence[Any], float, Sequence[str | None]]]:
        args: dict[str, Any] = {"q": match, "w": RANK_WEIGHTS, "limit": int(limit),
                                "opt": _HEADLINE_OPTIONS, "tag": tag, **tiers}
        tag_sql = "" if tag is None else " AND " + self.dialect.json_has("a.tags", "tag")
        heads = ", ".join(f"ts_headline('{_CONFIG}', a.{c}, q.q, :opt)"
                          for c in _SNIPPET_COLUMNS)
        cols = ", ".join(f"a.{c.strip()}" for c in ARTICLE_COLUMNS.split(","))
        # The ranked page is a LIMIT-ed subquery: ts_headline runs for its rows only.
        sql = (
            f"WITH q AS MATERIALIZED (SELECT to_tsquery('{_CONFIG}', :q) AS q,"
            f" to_tsquery('{_CONFIG}', :phrase) AS phrase,"
            f" to_tsquery('{_CONFIG}', :words) AS words),"
            " page AS (SELECT a.id, ts_rank_cd(CAST(:w AS real[]), a.search, q.q) AS rank,"
            f" {self._tiers()} AS tier"
            f" FROM kb_articles a, q WHERE a.search @@ q.q{tag_sql}"
            " ORDER BY tier DESC, rank DESC, a.id LIMIT :limit)"
            f" SELECT {cols}, page.rank, {heads}"
            " FROM page JOIN kb_articles a ON a.id = page.id, q"
            " ORDER BY page.tier DESC, page.rank DESC, a.id"
        )
        # Over a large KB a frequent word's plan costs past jit_above_cost, and compiling
        # (~100 ms) would cost more than the search itself.
        conn.execute("SET LOCAL jit = off")
        rows = self._run(conn, sql, args).fetchall()
        return [(r[:_WIDTH], float(r[_WIDTH]), r[_WIDTH + 1:]) for r in rows]
