"""Knowledge-base articles (:class:`~diagkit.store.contract.KbStore`): the SQL written once for
every backend, over its transactions and dialect, except full-text search, which each backend
writes for its own engine through two hooks (:meth:`KbSql._terms`, :meth:`KbSql._ranked`).

How a query becomes a search is the same everywhere: the user's text is read as words (quoted
for the engine, so no text is ever search syntax), all of which must appear, the last one as a
prefix (search as you type); when no article has them all, any of them (fuller matches rank
first). Only the page of hits asked for is read back and given a snippet.

How hits are ordered is the same everywhere too (:data:`TIERS`): articles whose title holds the
query's words as a phrase (in that order, stemmed) first, then those whose title has all the
words, then those whose symptoms hold the phrase (where articles quote the exact error strings
engineers paste), then the rest; within a tier,
the engine's rank with per-column weights (title > tags > symptoms > the rest). So "no space
left on device" finds the article titled with that error before one that only mentions it, and a
pasted error line finds the article quoting it before articles sharing a few of its words.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from diagkit.store.contract import (
    ARTICLE_FIELDS,
    Article,
    ArticleDraft,
    ArticleNotFound,
    MatchRule,
    SearchHit,
    check_slug,
    slugify,
)
from diagkit.store.shared.base import Connection, SqlStore
from diagkit.store.shared.rules import (
    article_columns,
    check_article_version,
    free_slug,
    now,
    pick_snippet,
    slug_like,
    slug_taken,
)

#: The columns an article row is read with, in :meth:`KbSql._to_article`'s order.
ARTICLE_COLUMNS = ("id, slug, title, symptoms, environment, cause, resolution, tags, links,"
                   " rules, source_case, author, created, updated, version_counter")
_JSON_COLUMNS = frozenset({"tags", "links", "rules"})
#: ``bigint``: a longer digit string is no article id (and no database takes it as one).
_ID_RANGE = range(-2**63, 2**63)
#: Words of a query used at most (a pasted log line must not build a huge query).
MAX_QUERY_WORDS = 24
#: About how many words a snippet shows around its match.
SNIPPET_TOKENS = 16
_WORD = re.compile(r"\w+", re.UNICODE)
#: (what, column, points): the query as a ``phrase`` (its words in order) or all its ``words``
#: found in that column add the points; hits are ordered by the sum first, then by rank.
#: Tiers rather than one more weight, because a rank's scale differs between engines and
#: between queries, and the order must not.
TIERS: tuple[tuple[str, str, int], ...] = (
    ("phrase", "title", 4), ("words", "title", 2), ("phrase", "symptoms", 1))


def query_words(query: str, *, longest: int | None = None) -> list[str]:
    """The words of a user's query, lower case, in order, de-duplicated, those longer than
    ``longest`` left out, at most :data:`MAX_QUERY_WORDS`. ``\\w`` never matches a quote or
    backslash, so a backend may quote them for its search syntax."""
    words = dict.fromkeys(w.lower() for w in _WORD.findall(query))
    return [w for w in words if longest is None or len(w) <= longest][:MAX_QUERY_WORDS]


class KbSql(SqlStore):
    """Implements :class:`~diagkit.store.contract.KbStore`; a backend adds the full-text
    search hooks below."""

    #: Appended to the last word of a query to match it as a prefix.
    _PREFIX = "*"
    #: Joins a query's words so that all of them must appear / any of them may.
    _ALL = " "
    _ANY = " OR "

    @abstractmethod
    def _terms(self, query: str) -> list[str]:
        """The query's words, quoted for the backend's search syntax."""

    @abstractmethod
    def _phrase(self, words: Sequence[str]) -> str:
        """The quoted words (:meth:`_terms`, no prefix) as the engine's phrase expression."""

    @abstractmethod
    def _in_column(self, what: str, column: str) -> str:
        """SQL true when the ``phrase`` or all the ``words`` (``what``; parameters ``:phrase``
        and ``:words``) are in ``column`` of the article, for :meth:`_tiers`."""

    def _tiers(self) -> str:
        """The tier of a hit (:data:`TIERS`) as an SQL expression."""
        return " + ".join(f"(CASE WHEN {self._in_column(what, column)} THEN {points} ELSE 0"
                          " END)" for what, column, points in TIERS)

    @abstractmethod
    def _ranked(self, conn: Connection, match: str, tiers: dict[str, str], limit: int,
                tag: str | None) -> list[tuple[Sequence[Any], float, Sequence[str | None]]]:
        """The best ``limit`` articles for the search expression ``match`` (words joined
        with :attr:`_ALL` or :attr:`_ANY`), those with ``tag`` only when given, ordered by
        :meth:`_tiers` (``tiers`` holds its parameters) then rank: their rows (:data:`ARTICLE_COLUMNS`), ranks
        (higher is better) and snippet texts (symptoms, environment, cause, resolution, title;
        matches highlighted)."""

    # -- rows -------------------------------------------------------------------------------

    def _to_article(self, r: Sequence[Any]) -> Article:
        d = self.dialect
        return Article(
            id=r[0], slug=r[1], title=r[2], symptoms=r[3], environment=r[4], cause=r[5],
            resolution=r[6], tags=tuple(d.json_value(r[7])), links=tuple(d.json_value(r[8])),
            rules=tuple(MatchRule.from_dict(x, check=False) for x in d.json_value(r[9])),
            source_case=r[10], author=r[11], created=d.time_value(r[12]),
            updated=d.time_value(r[13]), version_counter=r[14],
        )

    def _article_row(self, conn: Connection, column: str, value: int | str) -> Any:
        """The article row whose ``column`` (``id`` or ``slug``) is ``value``, or None."""
        if column == "id" and int(value) not in _ID_RANGE:
            return None
        # column is "id" or "slug" (get_article and the writes below), never user input.
        return self._run(conn, f"SELECT {ARTICLE_COLUMNS} FROM kb_articles"
                               f" WHERE {column} = :value", {"value": value}).fetchone()

    def _params(self, values: dict[str, Any]) -> dict[str, Any]:
        """Column values as parameters (the JSON lists through the dialect)."""
        return {k: self.dialect.json(v) if k in _JSON_COLUMNS else v for k, v in values.items()}

    def _free_slug(self, conn: Connection, base: str) -> str:
        taken = {s for (s,) in self._run(
            conn, "SELECT slug FROM kb_articles WHERE slug = :base OR slug LIKE :like"
                  " ESCAPE '\\'", {"base": base, "like": slug_like(base)}).fetchall()}
        return free_slug(base, taken)

    @contextmanager
    def _slug_guard(self, slug: str) -> Iterator[None]:
        """Around a write of ``slug``: another engineer taking it between our check and our
        write is the same "slug taken" error as when we saw it first."""
        try:
            yield
        except Exception as exc:
            if self.dialect.is_unique_violation(exc):
                raise slug_taken(slug) from None
            raise

    # -- KbStore ----------------------------------------------------------------------------

    def create_article(self, draft: ArticleDraft) -> Article:
        values = article_columns({
            "title": draft.title, "symptoms": draft.symptoms, "environment": draft.environment,
            "cause": draft.cause, "resolution": draft.resolution, "tags": draft.tags,
            "links": draft.links, "rules": draft.rules, "source_case": draft.source_case,
            "author": draft.author,
        })
        slug = draft.slug or None
        if slug is not None:
            check_slug(slug)
        when = self.dialect.time(draft.created or now())
        with self._write("save the article") as conn:
            if slug is None:
                slug = self._free_slug(conn, slugify(values["title"]))
            elif self._article_row(conn, "slug", slug) is not None:
                raise slug_taken(slug)
            names = ["slug", *values, "created", "updated"]
            sql = (f"INSERT INTO kb_articles ({', '.join(names)})"
                   f" VALUES ({', '.join(':' + n for n in names)})")
            params = {**self._params(values), "slug": slug, "created": when, "updated": when}
            with self._slug_guard(slug):
                article_id = self._insert(conn, sql, params)
            return self._to_article(self._article_row(conn, "id", article_id))

    def update_article(self, article_id: int, expected_version: int, **fields: Any) -> Article:
        unknown = set(fields) - ARTICLE_FIELDS
        if unknown:
            raise ValueError(f"update_article() cannot set {sorted(unknown)}; "
                             f"it takes {sorted(ARTICLE_FIELDS)}")
        values = article_columns(fields)
        with self._write("save the article") as conn:
            check_article_version(
                self._run(conn, "SELECT version_counter FROM kb_articles WHERE id = :id"
                          + self.dialect.for_update, {"id": article_id}).fetchone(),
                article_id, expected_version)
            if "slug" in values and self._run(
                conn, "SELECT 1 FROM kb_articles WHERE slug = :slug AND id <> :id",
                {"slug": values["slug"], "id": article_id},
            ).fetchone():
                raise slug_taken(values["slug"])
            sets = [f"{name} = :{name}" for name in values]
            sets += ["updated = :_updated", "version_counter = version_counter + 1"]
            with self._slug_guard(values.get("slug", "")):
                self._run(conn, f"UPDATE kb_articles SET {', '.join(sets)} WHERE id = :_id",
                          {**self._params(values), "_updated": self.dialect.time(now()),
                           "_id": article_id})
            return self._to_article(self._article_row(conn, "id", article_id))

    def get_article(self, ref: int | str) -> Article:
        with self._read("read the article") as conn:
            row = None
            if isinstance(ref, str):
                row = self._article_row(conn, "slug", ref)
            if row is None and (isinstance(ref, int) or str(ref).isdigit()):
                row = self._article_row(conn, "id", int(ref))
            if row is None:
                raise ArticleNotFound(ref)
            return self._to_article(row)

    def list_articles(self, *, tag: str | None = None) -> list[Article]:
        sql = f"SELECT {ARTICLE_COLUMNS} FROM kb_articles"
        if tag is not None:
            sql += " WHERE " + self.dialect.json_has("tags", "tag")
        sql += f" ORDER BY {self.dialect.nocase('title')}, id"
        with self._read("list articles") as conn:
            return [self._to_article(r) for r in self._run(conn, sql, {"tag": tag}).fetchall()]

    def delete_article(self, article_id: int) -> None:
        with self._write("delete the article") as conn:
            if self._run(conn, "DELETE FROM kb_articles WHERE id = :id",
                         {"id": article_id}).rowcount == 0:
                raise ArticleNotFound(article_id)

    def search_articles(
        self, query: str, *, limit: int = 20, tag: str | None = None
    ) -> list[SearchHit]:
        terms = self._terms(query)
        if not terms or limit <= 0:
            return []
        # The last word as a prefix (search as you type), unless a short one: "a*" would
        # expand to a large part of the vocabulary.
        words = terms[:-1] + [terms[-1] + (self._PREFIX if len(terms[-1]) > 3 else "")]
        tiers = {"phrase": self._phrase(terms), "words": self._ALL.join(terms)}
        with self._read("search the knowledge base") as conn:
            # All words; if nothing has them all, any of them (fuller matches rank first).
            ranked = self._ranked(conn, self._ALL.join(words), tiers, limit, tag)
            if not ranked and len(words) > 1:
                ranked = self._ranked(conn, self._ANY.join(words), tiers, limit, tag)
        return [SearchHit(article=self._to_article(row), rank=rank, snippet=pick_snippet(texts))
                for row, rank, texts in ranked]

    def article_count(self) -> int:
        with self._read("count articles") as conn:
            return int(self._run(conn, "SELECT COUNT(*) FROM kb_articles").fetchone()[0])

    def article_slugs(self) -> set[str]:
        with self._read("list article slugs") as conn:
            return {s for (s,) in self._run(conn, "SELECT slug FROM kb_articles").fetchall()}

    def kb_version(self) -> str:
        # Deleting one article and creating another changes the count or the max id; an edit
        # changes the sum of versions.
        with self._read("read the knowledge base's version") as conn:
            row = self._run(conn, "SELECT COUNT(*), COALESCE(MAX(id), 0),"
                                  " COALESCE(SUM(version_counter), 0) FROM kb_articles").fetchone()
            return "/".join(str(int(v)) for v in row)

    def get_kb_meta(self, key: str) -> str | None:
        with self._read("read knowledge-base settings") as conn:
            row = self._run(conn, "SELECT value FROM kb_meta WHERE key = :key",
                            {"key": key}).fetchone()
            return None if row is None else str(row[0])

    def set_kb_meta(self, key: str, value: str) -> None:
        with self._write("save knowledge-base settings") as conn:
            self._run(conn, "INSERT INTO kb_meta(key, value) VALUES (:key, :value)"
                            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      {"key": key, "value": value})
