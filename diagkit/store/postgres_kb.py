"""Knowledge-base SQL for :class:`~diagkit.store.postgres.PgStore` (PostgreSQL text search)."""

from __future__ import annotations


class PgKbMixin:
    pass
