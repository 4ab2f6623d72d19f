"""The SQLite case store's schema (``diagkit.db``), as an ordered list of migrations.

``MIGRATIONS[i]`` brings a database from schema version ``i`` to ``i + 1``. The store applies
each missing script in its own transaction together with the ``schema_version`` row that
records it, so a crash mid-migration leaves the previous version intact.

Rules for adding a migration (a shipped script is never edited, users' databases already ran it):

* append a new script at the end; never reorder or change an existing one;
* plain SQL only, no ``BEGIN``/``COMMIT`` (the store wraps it);
* the same tables and columns as every other backend (the shared SQL reads them all alike);
  ``TEXT`` times in ISO-8601 UTC, JSON in ``TEXT`` columns, integer surrogate keys.
"""

from __future__ import annotations

from diagkit.store.shared.schema import case_columns

# Version 1: cases, their hosts, the append-only journal and the status history.
_V1 = """
CREATE TABLE cases (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    title             TEXT NOT NULL,
    customer          TEXT NOT NULL DEFAULT '',
    contact           TEXT NOT NULL DEFAULT '',
    product           TEXT NOT NULL DEFAULT '',
    version           TEXT NOT NULL DEFAULT '',
""" + case_columns(json="TEXT", time="TEXT", json_note="   -- JSON array of strings") + """CREATE INDEX cases_status ON cases(status);
CREATE INDEX cases_customer ON cases(customer);
CREATE INDEX cases_updated ON cases(updated);

CREATE TABLE case_hosts (
    case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    host    TEXT NOT NULL,
    PRIMARY KEY (case_id, host)
);
CREATE INDEX case_hosts_host ON case_hosts(host);

-- Append-only: corrections are new entries. The triggers make that a database rule, not
-- only a missing API, so no future code path can rewrite history by accident.
CREATE TABLE journal (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id  INTEGER NOT NULL REFERENCES cases(id),
    time     TEXT NOT NULL,
    engineer TEXT NOT NULL DEFAULT '',
    kind     TEXT NOT NULL,
    text     TEXT NOT NULL DEFAULT '',
    data     TEXT NOT NULL DEFAULT '{}'                -- JSON object
);
CREATE INDEX journal_case_time ON journal(case_id, time, id);
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only: add a correction entry instead'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'journal is append-only: add a correction entry instead'); END;

-- Every status change with its time: the SLA clocks derive their pause intervals from it.
CREATE TABLE status_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    time        TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    engineer    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX status_changes_case_time ON status_changes(case_id, time, id);
CREATE TRIGGER status_changes_no_update BEFORE UPDATE ON status_changes
BEGIN SELECT RAISE(ABORT, 'status history is append-only'); END;
CREATE TRIGGER status_changes_no_delete BEFORE DELETE ON status_changes
BEGIN SELECT RAISE(ABORT, 'status history is append-only'); END;
"""

# Version 2: the knowledge base (articles + FTS5 index kept in sync by triggers), a small
# key/value table for KB bookkeeping, and the indexes the metrics' period scans need.
_V2 = """
CREATE TABLE kb_articles (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    slug            TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    symptoms        TEXT NOT NULL DEFAULT '',     -- Markdown
    environment     TEXT NOT NULL DEFAULT '',
    cause           TEXT NOT NULL DEFAULT '',
    resolution      TEXT NOT NULL DEFAULT '',
    tags            TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
    links           TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
    rules           TEXT NOT NULL DEFAULT '[]',   -- JSON array of MatchRule.to_dict()
    source_case     INTEGER,
    author          TEXT NOT NULL DEFAULT '',
    created         TEXT NOT NULL,
    updated         TEXT NOT NULL,
    version_counter INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX kb_articles_title ON kb_articles(title);

-- External-content FTS5 index over the articles: the text is stored once (in kb_articles),
-- the triggers keep the index in step inside the same transaction as every write. porter
-- stems English ("failing" finds "failed"), unicode61 folds case and diacritics; the prefix
-- indexes keep search-as-you-type ("dis*") fast on large KBs.
CREATE VIRTUAL TABLE kb_fts USING fts5(
    title, tags, symptoms, environment, cause, resolution,
    content='kb_articles', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2',
    prefix='2 3'
);
CREATE TRIGGER kb_articles_ai AFTER INSERT ON kb_articles BEGIN
    INSERT INTO kb_fts(rowid, title, tags, symptoms, environment, cause, resolution)
    VALUES (new.id, new.title, new.tags, new.symptoms, new.environment, new.cause,
            new.resolution);
END;
CREATE TRIGGER kb_articles_ad AFTER DELETE ON kb_articles BEGIN
    INSERT INTO kb_fts(kb_fts, rowid, title, tags, symptoms, environment, cause, resolution)
    VALUES ('delete', old.id, old.title, old.tags, old.symptoms, old.environment, old.cause,
            old.resolution);
END;
CREATE TRIGGER kb_articles_au AFTER UPDATE ON kb_articles BEGIN
    INSERT INTO kb_fts(kb_fts, rowid, title, tags, symptoms, environment, cause, resolution)
    VALUES ('delete', old.id, old.title, old.tags, old.symptoms, old.environment, old.cause,
            old.resolution);
    INSERT INTO kb_fts(rowid, title, tags, symptoms, environment, cause, resolution)
    VALUES (new.id, new.title, new.tags, new.symptoms, new.environment, new.cause,
            new.resolution);
END;

CREATE TABLE kb_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE INDEX cases_created ON cases(created);
CREATE INDEX journal_kind_time ON journal(kind, time);
"""

MIGRATIONS: list[str] = [_V1, _V2]
"""Ordered migration scripts; ``len(MIGRATIONS)`` is the current schema version."""

SCHEMA_VERSION: int = len(MIGRATIONS)
