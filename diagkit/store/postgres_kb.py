"""Knowledge-base SQL for :class:`~diagkit.store.postgres.PgStore` (PostgreSQL text search).

The same contract as :mod:`diagkit.store.sqlite_kb` (which is the reference behaviour), on
PostgreSQL's own full-text search instead of FTS5:

* ``kb_articles.search`` is a generated, weighted ``tsvector`` (title A, tags B, symptoms C,
  the rest D; see :mod:`diagkit.store.schema_pg`) with a GIN index, so it can never fall out of
  step with the article and the search never loads articles into Python;
* the user's text is reduced to words (``\\w+``), each written as a quoted tsquery lexeme
  (``'word'``), so ``&``, ``|``, ``!``, ``:``, ``(`` or ``AND`` are just text, never syntax;
  the last word is a prefix (``:*``) for search-as-you-type; all words first, then (when no
  article has them all) any of them, as SQLite does;
* ranked by ``ts_rank_cd`` with per-weight factors mirroring the SQLite bm25 column weights;
* ``ts_headline`` (the expensive part: it re-parses the text) runs only for the page of hits
  returned: the ranking is a ``LIMIT``-ed subquery and the headlines are computed outside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from diagkit.store.common import (
    ArticleRules,
    check_article_version,
    free_slug,
    now,
    pick_snippet,
    slug_like,
    slug_taken,
)
from diagkit.store.kb import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    Article,
    ArticleNotFound,
    MatchRule,
    SearchHit,
    slugify,
)
from diagkit.store.sqlite_kb import _WORD, MAX_QUERY_WORDS, SNIPPET_TOKENS

#: ts_rank_cd weights for {D, C, B, A}: body, symptoms, tags, title. Same proportions as the
#: SQLite bm25 weights (title 10, tags 5, symptoms 2, the rest 1..1.5).
RANK_WEIGHTS = "{0.1, 0.2, 0.5, 1.0}"
#: Words longer than this cannot be in any article worth finding (and PostgreSQL refuses
#: lexemes over 2 KB): they are dropped rather than sent.
MAX_WORD = 100
# Text search configuration; must be the one the generated ``search`` column uses.
_CONFIG = "english"

_JSON_COLUMNS = frozenset({"tags", "links", "rules"})
_COLUMNS = ("id, slug, title, symptoms, environment, cause, resolution, tags, links, rules,"
            " source_case, author, created, updated, version_counter")
# Body columns in the order a snippet is taken from (the SQLite store's order: the title is
# shown anyway, so it is the last resort).
_SNIPPET_COLUMNS = ("symptoms", "environment", "cause", "resolution", "title")
_HEADLINE_OPTIONS = (f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, "
                     f"MaxWords={SNIPPET_TOKENS}, MinWords={SNIPPET_TOKENS // 3}, "
                     "MaxFragments=1, FragmentDelimiter=…")


def ts_words(query: str) -> list[str]:
    """The words of a user's query as quoted tsquery lexemes (``'word'``), in order,
    de-duplicated. ``\\w`` never matches a quote or backslash, so the quoting is safe."""
    words = [w for w in dict.fromkeys(w.lower() for w in _WORD.findall(query))
             if len(w) <= MAX_WORD]
    return [f"'{w}'" for w in words[:MAX_QUERY_WORDS]]


def _value(name: str) -> str:
    """The placeholder for column ``name`` (JSON text cast to jsonb)."""
    return f"%({name})s::jsonb" if name in _JSON_COLUMNS else f"%({name})s"


def _article(r: Sequence[Any]) -> Article:
    (id_, slug, title, symptoms, environment, cause, resolution, tags, links, rules,
     source_case, author, created, updated, version) = r[:15]
    return Article(
        id=id_, slug=slug, title=title, symptoms=symptoms, environment=environment, cause=cause,
        resolution=resolution, tags=tuple(tags), links=tuple(links),
        rules=tuple(MatchRule.from_dict(d, check=False) for d in rules),
        source_case=source_case,
        author=author, created=created, updated=updated, version_counter=version,
    )


class PgKbMixin(ArticleRules):
    """Implements :class:`diagkit.store.kb.KbStore` on top of PgBase's transactions (the rules
    both stores share are in :class:`~diagkit.store.common.ArticleRules`)."""

    _PREFIX = ":*"
    _ALL = " & "
    _ANY = " | "

    if TYPE_CHECKING:  # provided by PgBase
        def _write(self, doing: str = "save") -> AbstractContextManager[Any]: ...
        def _read(self, doing: str = "read") -> AbstractContextManager[Any]: ...

    @staticmethod
    def _free_slug(conn: Any, base: str) -> str:
        taken = {s for (s,) in conn.execute(
            "SELECT slug FROM kb_articles WHERE slug = %s OR slug LIKE %s ESCAPE '\\'",
            (base, slug_like(base)),
        ).fetchall()}
        return free_slug(base, taken)

    @staticmethod
    def _insert_guarded(conn: Any, slug: str, sql: str, params: dict[str, Any]) -> Any:
        """Run ``sql`` in a savepoint; another engineer taking ``slug`` between our check and
        our write is the same "slug taken" error as when we saw it first."""
        import psycopg

        try:
            with conn.transaction():
                return conn.execute(sql, params).fetchone()
        except psycopg.errors.UniqueViolation:
            raise slug_taken(slug) from None

    # -- ArticleRules hooks -----------------------------------------------------------------

    def _terms(self, query: str) -> list[str]:
        return ts_words(query)

    def _to_article(self, row: Sequence[Any]) -> Article:
        return _article(row)

    def _article_row(self, conn: Any, column: str, value: int | str) -> Any:
        if column == "id" and not -2**63 <= int(value) < 2**63:
            return None  # bigint; a longer digit string is no id
        # column is "id" or "slug" (ArticleRules.get_article), never user input.
        return conn.execute(f"SELECT {_COLUMNS} FROM kb_articles WHERE {column} = %s",
                            (value,)).fetchone()

    def _insert_article(self, slug: str | None, values: dict[str, Any],
                        when: datetime) -> Article:
        with self._write("save the article") as conn:
            if slug is None:
                slug = self._free_slug(conn, slugify(values["title"]))
            elif conn.execute("SELECT 1 FROM kb_articles WHERE slug = %s",
                              (slug,)).fetchone():
                raise slug_taken(slug)
            names = ["slug", *values, "created", "updated"]
            sql = (f"INSERT INTO kb_articles ({', '.join(names)})"
                   f" VALUES ({', '.join(_value(n) for n in names)}) RETURNING {_COLUMNS}")
            row = self._insert_guarded(conn, slug, sql,
                                       {**values, "slug": slug, "created": when, "updated": when})
            return _article(row)

    def _update_article(self, article_id: int, expected_version: int,
                        values: dict[str, Any]) -> Article:
        with self._write("save the article") as conn:
            # FOR UPDATE: a second engineer saving at the same moment waits here, then sees
            # the new version and gets StaleArticleWrite instead of overwriting.
            check_article_version(
                conn.execute("SELECT version_counter FROM kb_articles WHERE id = %s"
                             " FOR UPDATE", (article_id,)).fetchone(),
                article_id, expected_version)
            if "slug" in values and conn.execute(
                "SELECT 1 FROM kb_articles WHERE slug = %s AND id <> %s",
                (values["slug"], article_id),
            ).fetchone():
                raise slug_taken(values["slug"])
            sets = [f"{name} = {_value(name)}" for name in values]
            sets += ["updated = %(_updated)s", "version_counter = version_counter + 1"]
            sql = (f"UPDATE kb_articles SET {', '.join(sets)} WHERE id = %(_id)s"
                   f" RETURNING {_COLUMNS}")
            params = {**values, "_updated": now(), "_id": article_id}
            return _article(self._insert_guarded(conn, values.get("slug", ""), sql, params))

    # -- KbStore (the rest: ArticleRules) ---------------------------------------------------

    def list_articles(self, *, tag: str | None = None) -> list[Article]:
        from psycopg.types.json import Jsonb

        sql = f"SELECT {_COLUMNS} FROM kb_articles"
        args: list[Any] = []
        if tag is not None:
            sql += " WHERE tags @> %s"
            args.append(Jsonb([tag]))
        # lower(): SQLite's COLLATE NOCASE (ASCII case folding), so both stores list alike.
        sql += " ORDER BY lower(title) COLLATE \"C\", id"
        with self._read("list articles") as conn:
            return [_article(r) for r in conn.execute(sql, args).fetchall()]

    def delete_article(self, article_id: int) -> None:
        with self._write("delete the article") as conn:
            if conn.execute("DELETE FROM kb_articles WHERE id = %s",
                            (article_id,)).rowcount == 0:
                raise ArticleNotFound(article_id)

    def _search(self, tsquery: str, limit: int, tag: str | None) -> list[SearchHit]:
        from psycopg.types.json import Jsonb

        args: dict[str, Any] = {"q": tsquery, "w": RANK_WEIGHTS, "limit": int(limit),
                                "opt": _HEADLINE_OPTIONS}
        tag_sql = ""
        if tag is not None:
            tag_sql = " AND a.tags @> %(tag)s"
            args["tag"] = Jsonb([tag])
        heads = ", ".join(f"ts_headline('{_CONFIG}', a.{c}, q.q, %(opt)s)"
                          for c in _SNIPPET_COLUMNS)
        cols = ", ".join(f"a.{c.strip()}" for c in _COLUMNS.split(","))
        # The ranked page is a LIMIT-ed subquery: ts_headline runs for its rows only.
        sql = (
            f"WITH q AS MATERIALIZED (SELECT to_tsquery('{_CONFIG}', %(q)s) AS q),"
            " page AS (SELECT a.id, ts_rank_cd(%(w)s::real[], a.search, q.q) AS rank"
            f" FROM kb_articles a, q WHERE a.search @@ q.q{tag_sql}"
            " ORDER BY rank DESC, a.id LIMIT %(limit)s)"
            f" SELECT {cols}, page.rank, {heads}"
            " FROM page JOIN kb_articles a ON a.id = page.id, q"
            " ORDER BY page.rank DESC, a.id"
        )
        with self._read("search the knowledge base") as conn:
            # Over a large KB a frequent word's plan costs past jit_above_cost, and compiling
            # (~100 ms) would cost more than the search itself.
            conn.execute("SET LOCAL jit = off")
            rows = conn.execute(sql, args).fetchall()
        return [SearchHit(article=_article(r), rank=float(r[15]), snippet=pick_snippet(r[16:]))
                for r in rows]

    def get_kb_meta(self, key: str) -> str | None:
        with self._read("read knowledge-base settings") as conn:
            row = conn.execute("SELECT value FROM kb_meta WHERE key = %s", (key,)).fetchone()
            return None if row is None else row[0]

    def set_kb_meta(self, key: str, value: str) -> None:
        with self._write("save knowledge-base settings") as conn:
            conn.execute("INSERT INTO kb_meta(key, value) VALUES (%s, %s)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
