"""Knowledge-base SQL for :class:`~diagkit.store.sqlite.SqliteStore` (articles, FTS5 search).

A mixin so the KB's SQL stays in the store layer without growing ``sqlite.py`` further; it uses
the host class's ``_write``/``_read`` transactions.

Search is done by SQLite, never by loading articles into Python: the user's text becomes an
FTS5 query of quoted words (so ``"``, ``NEAR(``, ``-``, ``*`` or ``AND`` are just words, never
syntax), ranked by ``bm25()`` with per-column weights, and only the page of hits asked for is
read back and given a ``snippet()``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from diagkit.errors import KbError
from diagkit.store.kb import (
    ARTICLE_FIELDS,
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    Article,
    ArticleNotFound,
    MatchRule,
    SearchHit,
    StaleArticleWrite,
    as_rules,
    check_slug,
    slugify,
)

# bm25 weights in kb_fts column order: title, tags, symptoms, environment, cause, resolution.
# A word in the title says far more about what an article is about than one in its body.
BM25_WEIGHTS: tuple[float, ...] = (10.0, 5.0, 2.0, 1.0, 1.5, 1.0)
_RANK = "bm25(" + ", ".join(f"{w:.1f}" for w in BM25_WEIGHTS) + ")"
#: Words of a query used at most (a pasted log line must not build a huge query).
MAX_QUERY_WORDS = 24
SNIPPET_TOKENS = 16

_WORD = re.compile(r"\w+", re.UNICODE)


def fts_terms(query: str) -> list[str]:
    """The words of a user's query as safe FTS5 strings (``"word"``), in order, de-duplicated."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    return [f'"{w}"' for w in words[:MAX_QUERY_WORDS]]


def _helpers() -> Any:
    # sqlite.py imports this module while it is still loading, so its helpers are looked up
    # at call time, not import time.
    from diagkit.store import sqlite

    return sqlite


class KbSqlMixin:
    """Implements :class:`diagkit.store.kb.KbStore` on top of SqliteStore's transactions."""

    if TYPE_CHECKING:  # provided by SqliteStore
        def _write(self, doing: str = "save") -> AbstractContextManager[sqlite3.Connection]: ...
        def _read(self, doing: str = "read") -> AbstractContextManager[sqlite3.Connection]: ...

    # -- rows -------------------------------------------------------------------------------

    @staticmethod
    def _article(r: sqlite3.Row) -> Article:
        dt = _helpers()._dt
        return Article(
            id=r["id"], slug=r["slug"], title=r["title"], symptoms=r["symptoms"],
            environment=r["environment"], cause=r["cause"], resolution=r["resolution"],
            tags=tuple(json.loads(r["tags"])), links=tuple(json.loads(r["links"])),
            rules=tuple(MatchRule.from_dict(d) for d in json.loads(r["rules"])),
            source_case=r["source_case"], author=r["author"], created=dt(r["created"]),
            updated=dt(r["updated"]), version_counter=r["version_counter"],
        )

    @staticmethod
    def _columns(fields: dict[str, Any]) -> dict[str, Any]:
        """Field values as column values (JSON for the lists), validated."""
        out: dict[str, Any] = {}
        for name, value in fields.items():
            if name in ("tags", "links"):
                if isinstance(value, str):
                    raise KbError(f"An article's {name} are a list of strings, not one string.")
                out[name] = json.dumps([str(v).strip() for v in value if str(v).strip()])
            elif name == "rules":
                out[name] = json.dumps([r.to_dict() for r in as_rules(value)])
            elif name == "slug":
                out[name] = check_slug(value)
            elif name == "title":
                if not str(value).strip():
                    raise KbError("An article needs a title. Give it the problem in a few words.")
                out[name] = str(value).strip()
            elif name == "source_case":
                out[name] = None if value is None else int(value)
            else:
                out[name] = str(value)
        return out

    @staticmethod
    def _free_slug(conn: sqlite3.Connection, base: str) -> str:
        taken = {s for (s,) in conn.execute(
            "SELECT slug FROM kb_articles WHERE slug = ? OR slug LIKE ? ESCAPE '\\'",
            (base, base.replace("_", "\\_").replace("%", "\\%") + "-%"),
        )}
        slug, n = base, 2
        while slug in taken:
            slug = f"{base}-{n}"
            n += 1
        return slug

    @staticmethod
    def _slug_taken(slug: str) -> KbError:
        return KbError(f"There is already an article with the slug {slug!r}. Choose another "
                       f"slug, or edit that article ('diagkit kb show {slug}').")

    # -- KbStore ----------------------------------------------------------------------------

    def create_article(
        self,
        title: str,
        *,
        slug: str | None = None,
        symptoms: str = "",
        environment: str = "",
        cause: str = "",
        resolution: str = "",
        tags: Sequence[str] = (),
        links: Sequence[str] = (),
        rules: Sequence[MatchRule] = (),
        source_case: int | None = None,
        author: str = "",
        created: datetime | None = None,
    ) -> Article:
        h = _helpers()
        values = self._columns({
            "title": title, "symptoms": symptoms, "environment": environment, "cause": cause,
            "resolution": resolution, "tags": tags, "links": links, "rules": rules,
            "source_case": source_case, "author": author,
        })
        if slug is not None:
            check_slug(slug)
        when = h._ts(created or h._now())
        with self._write("save the article") as conn:
            if slug is None:
                slug = self._free_slug(conn, slugify(values["title"]))
            elif conn.execute("SELECT 1 FROM kb_articles WHERE slug = ?", (slug,)).fetchone():
                raise self._slug_taken(slug)
            cur = conn.execute(
                f"INSERT INTO kb_articles (slug, {', '.join(values)}, created, updated)"
                f" VALUES (?, {', '.join('?' * len(values))}, ?, ?)",
                [slug, *values.values(), when, when],
            )
            row = conn.execute("SELECT * FROM kb_articles WHERE id = ?",
                               (cur.lastrowid,)).fetchone()
            return self._article(row)

    def update_article(self, article_id: int, expected_version: int, **fields: Any) -> Article:
        unknown = set(fields) - ARTICLE_FIELDS
        if unknown:
            raise ValueError(f"update_article() cannot set {sorted(unknown)}; "
                             f"it takes {sorted(ARTICLE_FIELDS)}")
        values = self._columns(fields)
        with self._write("save the article") as conn:
            row = conn.execute("SELECT version_counter FROM kb_articles WHERE id = ?",
                               (article_id,)).fetchone()
            if row is None:
                raise ArticleNotFound(article_id)
            if row[0] != expected_version:
                raise StaleArticleWrite(article_id, expected_version, row[0])
            if "slug" in values and conn.execute(
                "SELECT 1 FROM kb_articles WHERE slug = ? AND id != ?",
                (values["slug"], article_id),
            ).fetchone():
                raise self._slug_taken(values["slug"])
            sets = [f"{name} = ?" for name in values]
            sets += ["updated = ?", "version_counter = version_counter + 1"]
            conn.execute(f"UPDATE kb_articles SET {', '.join(sets)} WHERE id = ?",
                         [*values.values(), _helpers()._ts(_helpers()._now()), article_id])
            return self._article(conn.execute("SELECT * FROM kb_articles WHERE id = ?",
                                              (article_id,)).fetchone())

    def get_article(self, ref: int | str) -> Article:
        with self._read("read the article") as conn:
            row = None
            if isinstance(ref, str):
                row = conn.execute("SELECT * FROM kb_articles WHERE slug = ?", (ref,)).fetchone()
            if row is None and (isinstance(ref, int) or str(ref).isdigit()):
                row = conn.execute("SELECT * FROM kb_articles WHERE id = ?",
                                   (int(ref),)).fetchone()
            if row is None:
                raise ArticleNotFound(ref)
            return self._article(row)

    def list_articles(self, *, tag: str | None = None) -> list[Article]:
        sql = "SELECT * FROM kb_articles"
        args: list[Any] = []
        if tag is not None:
            sql += " WHERE EXISTS (SELECT 1 FROM json_each(kb_articles.tags) WHERE value = ?)"
            args.append(tag)
        sql += " ORDER BY title COLLATE NOCASE, id"
        with self._read("list articles") as conn:
            return [self._article(r) for r in conn.execute(sql, args).fetchall()]

    def delete_article(self, article_id: int) -> None:
        with self._write("delete the article") as conn:
            if conn.execute("DELETE FROM kb_articles WHERE id = ?", (article_id,)).rowcount == 0:
                raise ArticleNotFound(article_id)

    def search_articles(
        self, query: str, *, limit: int = 20, tag: str | None = None
    ) -> list[SearchHit]:
        terms = fts_terms(query)
        if not terms or limit <= 0:
            return []
        # The last word as a prefix (search as you type), unless a single letter: "a*" would
        # expand to a large part of the vocabulary.
        last = terms[-1] + ("*" if len(terms[-1]) > 3 else "")
        # All words; if nothing has them all, any of them (bm25 puts fuller matches first).
        hits = self._search(" ".join(terms[:-1] + [last]), limit, tag)
        if not hits and len(terms) > 1:
            hits = self._search(" OR ".join(terms[:-1] + [last]), limit, tag)
        return hits

    def _search(self, match: str, limit: int, tag: str | None) -> list[SearchHit]:
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
        with self._read("search the knowledge base") as conn:
            ranked = conn.execute(
                f"SELECT rowid, rank, {cols} FROM kb_fts WHERE kb_fts MATCH :m"
                f" AND rank MATCH :rank{tag_sql} ORDER BY rank LIMIT :limit", args,
            ).fetchall()
            if not ranked:
                return []
            ids = [r[0] for r in ranked]
            rows = {r["id"]: r for r in conn.execute(
                f"SELECT * FROM kb_articles WHERE id IN ({', '.join('?' * len(ids))})", ids
            ).fetchall()}
        hits = []
        for rowid, score, *texts in ranked:
            if rowid not in rows:
                continue
            snippet = next((t for t in texts if t and HIGHLIGHT_START in t), None)
            snippet = snippet or next((t for t in texts if t), "")
            hits.append(SearchHit(article=self._article(rows[rowid]), rank=-score,
                                  snippet=snippet))
        return hits

    def article_count(self) -> int:
        with self._read("count articles") as conn:
            return conn.execute("SELECT COUNT(*) FROM kb_articles").fetchone()[0]

    def article_slugs(self) -> set[str]:
        """Every article's slug (cheap: for imports and the starter set)."""
        with self._read("list article slugs") as conn:
            return {s for (s,) in conn.execute("SELECT slug FROM kb_articles")}

    def get_kb_meta(self, key: str) -> str | None:
        with self._read("read knowledge-base settings") as conn:
            row = conn.execute("SELECT value FROM kb_meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else row[0]

    def set_kb_meta(self, key: str, value: str) -> None:
        with self._write("save knowledge-base settings") as conn:
            conn.execute("INSERT INTO kb_meta(key, value) VALUES (?, ?)"
                         " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
