"""The team store's schema on PostgreSQL, as ordered migrations (same rules as
:mod:`diagkit.store.sqlite.schema`: append only, never edit a shipped script; each runs in one
transaction with its ``schema_version`` row).

It mirrors the SQLite schema table for table, with PostgreSQL's own types where they pay:
``timestamptz`` times, ``jsonb`` details, a weighted ``tsvector`` (generated column + GIN index)
for knowledge-base search instead of FTS5. The monitoring history lives in the same database
(``series``/``samples_*``), so a team shares it too.
"""

from __future__ import annotations

from diagkit.store.shared.schema import case_columns

# Version 1: everything the SQLite store has at its version 2, plus the monitoring history.
_V1 = r"""
CREATE TABLE cases (
    id                BIGSERIAL PRIMARY KEY,
    title             TEXT NOT NULL,
    customer          TEXT NOT NULL DEFAULT '',
    contact           TEXT NOT NULL DEFAULT '',
    product           TEXT NOT NULL DEFAULT '',
    version           TEXT NOT NULL DEFAULT '',
""" + case_columns(json="JSONB", time="TIMESTAMPTZ") + r"""CREATE INDEX cases_status ON cases(status);
CREATE INDEX cases_customer ON cases(customer);
CREATE INDEX cases_updated ON cases(updated);
CREATE INDEX cases_created ON cases(created);

CREATE TABLE case_hosts (
    case_id BIGINT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    host    TEXT NOT NULL,
    PRIMARY KEY (case_id, host)
);
CREATE INDEX case_hosts_host ON case_hosts(host);

CREATE TABLE journal (
    id       BIGSERIAL PRIMARY KEY,
    case_id  BIGINT NOT NULL REFERENCES cases(id),
    time     TIMESTAMPTZ NOT NULL,
    engineer TEXT NOT NULL DEFAULT '',
    kind     TEXT NOT NULL,
    text     TEXT NOT NULL DEFAULT '',
    data     JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX journal_case_time ON journal(case_id, time, id);
CREATE INDEX journal_kind_time ON journal(kind, time);

CREATE TABLE status_changes (
    id          BIGSERIAL PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases(id),
    time        TIMESTAMPTZ NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    engineer    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX status_changes_case_time ON status_changes(case_id, time, id);

-- Append-only as a database rule, as in SQLite: corrections are new entries.
CREATE FUNCTION diagkit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: add a correction entry instead', TG_TABLE_NAME;
END $$;
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION diagkit_append_only();
CREATE TRIGGER status_changes_append_only BEFORE UPDATE OR DELETE ON status_changes
    FOR EACH ROW EXECUTE FUNCTION diagkit_append_only();

CREATE TABLE kb_articles (
    id              BIGSERIAL PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    symptoms        TEXT NOT NULL DEFAULT '',
    environment     TEXT NOT NULL DEFAULT '',
    cause           TEXT NOT NULL DEFAULT '',
    resolution      TEXT NOT NULL DEFAULT '',
    tags            JSONB NOT NULL DEFAULT '[]',
    links           JSONB NOT NULL DEFAULT '[]',
    rules           JSONB NOT NULL DEFAULT '[]',
    source_case     BIGINT,
    author          TEXT NOT NULL DEFAULT '',
    created         TIMESTAMPTZ NOT NULL,
    updated         TIMESTAMPTZ NOT NULL,
    version_counter INTEGER NOT NULL DEFAULT 1,
    -- Weighted search document: title A, tags B, symptoms C, the rest D (ts_rank weights).
    search          TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', translate(tags::text, '[]",', '    ')), 'B') ||
        setweight(to_tsvector('english', symptoms), 'C') ||
        setweight(to_tsvector('english', environment || ' ' || cause || ' ' || resolution), 'D')
    ) STORED
);
CREATE INDEX kb_articles_title ON kb_articles(title);
CREATE INDEX kb_articles_search ON kb_articles USING GIN (search);

CREATE TABLE kb_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- What `diagkit store migrate` copied from an engineer's SQLite store (diagkit.store.copy):
-- old id -> new id per source store, so a rerun skips what is there and resumes the rest.
CREATE TABLE store_imports (
    source_id TEXT   NOT NULL,
    kind      TEXT   NOT NULL,
    old_id    BIGINT NOT NULL,
    new_id    BIGINT NOT NULL,
    time      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source_id, kind, old_id)
);

CREATE TABLE series (
    id     BIGSERIAL PRIMARY KEY,
    host   TEXT NOT NULL,
    metric TEXT NOT NULL,
    UNIQUE (host, metric)
);
CREATE TABLE samples_raw (
    series BIGINT NOT NULL REFERENCES series(id), t DOUBLE PRECISION NOT NULL,
    v DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series, t)
);
CREATE TABLE samples_1m (
    series BIGINT NOT NULL REFERENCES series(id), t BIGINT NOT NULL, n INTEGER NOT NULL,
    sum DOUBLE PRECISION NOT NULL, min DOUBLE PRECISION NOT NULL, max DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series, t)
);
CREATE TABLE samples_1h (
    series BIGINT NOT NULL REFERENCES series(id), t BIGINT NOT NULL, n INTEGER NOT NULL,
    sum DOUBLE PRECISION NOT NULL, min DOUBLE PRECISION NOT NULL, max DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series, t)
);
"""

MIGRATIONS: list[str] = [_V1]
"""Ordered migration scripts; ``len(MIGRATIONS)`` is the current schema version."""

SCHEMA_VERSION: int = len(MIGRATIONS)
