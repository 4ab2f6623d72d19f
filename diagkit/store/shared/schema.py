"""DDL both backends' schemas share, with each backend's column types.

The cases table's columns from ``tags`` on are the same on every backend but for how JSON and
times are stored; written once here so a column cannot drift between backends. The migration
scripts it feeds are shipped text that must never change: ``tests/store/test_schema_text.py``
pins their digests.
"""

from __future__ import annotations


def case_columns(*, json: str, time: str, json_note: str = "") -> str:
    """The cases table from ``tags`` to the end of ``CREATE TABLE``: ``json`` and ``time`` are
    the backend's column types (``JSONB``/``TIMESTAMPTZ`` or ``TEXT``/``TEXT``)."""
    return f"""    tags              {json} NOT NULL DEFAULT '[]',{json_note}
    ticket_ref        TEXT NOT NULL DEFAULT '',
    impact            TEXT,
    urgency           TEXT,
    severity          TEXT,
    status            TEXT NOT NULL DEFAULT 'new',
    created           {time} NOT NULL,
    updated           {time} NOT NULL,
    first_response_at {time},
    resolved_at       {time},
    closed_at         {time},
    csat              INTEGER CHECK (csat IS NULL OR csat BETWEEN 1 AND 5),
    engineer          TEXT NOT NULL DEFAULT '',
    version_counter   INTEGER NOT NULL DEFAULT 1
);
"""
