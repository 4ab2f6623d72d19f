"""Bulk reads behind the metrics (:mod:`diagkit.metrics`) for
:class:`~diagkit.store.sqlite.SqliteStore`.

A mixin so the metrics' SQL stays in the store layer; it uses the host class's ``_read``.
"""

from __future__ import annotations


class MetricsSqlMixin:
    pass
