"""Storage: every line of SQL in diagkit lives in this package, behind a typed contract.

Features (cases, journal, SLA, KB, metrics, monitoring) talk only to the protocols and frozen
records of :mod:`diagkit.store.contract` (re-exported here), never to a database driver or a
backend class; they open the configured store with :func:`diagkit.store.select.open_store` /
:func:`~diagkit.store.select.open_samples`, typed as :class:`Store` / :class:`SampleStore`.

Where things are::

    contract.py        errors, records (Case, JournalEntry, Article, MatchRule, CaseColumns,
                       SeriesData...), drafts (CaseDraft, ArticleDraft), the protocols
    dialect.py         Dialect: what a backend says about its SQL (placeholders, time and JSON
                       codecs, RETURNING, FOR UPDATE, JSON arrays, epochs...)
    shared/            the SQL every backend shares, written once over the dialect and the
                       backend's transactions: cases.py (cases, journal, bulk reads), kb.py,
                       metrics.py, samples.py, imports.py (copying into a team store),
                       base.py (transactions, migrations), rules.py (checks, no SQL)
    sqlite/            the embedded backend: SqliteStore (diagkit.db), SqliteSampleStore
                       (history.db), its dialect, schema, FTS5 search
    postgres/          the team backend: PgStore, PgSampleStore, its dialect, schema,
                       tsvector search, URL and keyring password
    select.py          which backend: DIAGKIT_STORE / settings "store"; BACKENDS
    copy.py            `diagkit store migrate`: a local store into a team store

Adding a backend (say ``mysql``):

1. Make ``diagkit/store/mysql/`` after ``postgres/``: ``dialect.py`` (a
   :class:`~diagkit.store.dialect.Dialect` with every method of the base class),
   ``connection.py`` (``_read``/``_write`` transactions mapping driver errors to
   :class:`StoreError`/:class:`StoreUnavailable`, ``close``, the migration hooks), ``schema.py``
   (migrations creating the tables of the other schemas, column for column), ``search.py``
   (``_terms``/``_ranked`` on the database's full-text search), ``store.py``
   (``class MyStore(ImportSql, MySearch, MetricsSql, MyConnection)`` plus ``_bulk`` and
   ``_lock_source``), ``samples.py`` (``append``), and in ``__init__.py`` a
   :class:`~diagkit.store.contract.Backend` named ``BACKEND`` with its URL schemes.
2. Add its line to :data:`diagkit.store.select.BACKENDS` and the package to
   ``[tool.setuptools] packages`` in pyproject.toml.
3. Give the test fixtures a server of it (as ``tests/pg_fixture.py``) and add it to the
   backends of ``tests/store/conftest.py`` and ``tests/store/test_samples.py``: the contract
   tests then run on it, and ``tests/store/test_parity.py`` (copy its PostgreSQL test) runs long
   random operation sequences on it and on SQLite and compares every result. That is the net:
   a dialect method that says something subtly different shows there.
"""

from __future__ import annotations

from diagkit.store.contract import (
    ARTICLE_FIELDS,
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    RESOLUTIONS,
    ROW_KINDS,
    RULE_KINDS,
    RULE_OPS,
    UPDATABLE_FIELDS,
    Article,
    ArticleDraft,
    ArticleNotFound,
    Backend,
    BulkReader,
    Case,
    CaseColumns,
    CaseDraft,
    CaseHistory,
    CaseNotFound,
    CaseStore,
    HistoryColumns,
    ImportTarget,
    IntervalColumns,
    JournalEntry,
    KbStore,
    MatchRule,
    MetricsStore,
    RefCount,
    Retention,
    SampleStore,
    SearchHit,
    SeriesData,
    StaleArticleWrite,
    StaleWrite,
    StatusChange,
    Store,
    StoreError,
    StoreUnavailable,
    as_rules,
    check_slug,
    slugify,
)

__all__ = [
    "ARTICLE_FIELDS",
    "HIGHLIGHT_END",
    "HIGHLIGHT_START",
    "RESOLUTIONS",
    "ROW_KINDS",
    "RULE_KINDS",
    "RULE_OPS",
    "UPDATABLE_FIELDS",
    "Article",
    "ArticleDraft",
    "ArticleNotFound",
    "Backend",
    "BulkReader",
    "Case",
    "CaseColumns",
    "CaseDraft",
    "CaseHistory",
    "CaseNotFound",
    "CaseStore",
    "HistoryColumns",
    "ImportTarget",
    "IntervalColumns",
    "JournalEntry",
    "KbStore",
    "MatchRule",
    "MetricsStore",
    "RefCount",
    "Retention",
    "SampleStore",
    "SearchHit",
    "SeriesData",
    "StaleArticleWrite",
    "StaleWrite",
    "StatusChange",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "as_rules",
    "check_slug",
    "slugify",
]
