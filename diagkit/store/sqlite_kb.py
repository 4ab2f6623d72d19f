"""Knowledge-base SQL for :class:`~diagkit.store.sqlite.SqliteStore` (articles, FTS5 search).

A mixin so the KB's SQL stays in the store layer without growing ``sqlite.py`` further; it uses
the host class's ``_write``/``_read`` transactions.
"""

from __future__ import annotations


class KbSqlMixin:
    pass
