"""Bulk reads behind the metrics for :class:`~diagkit.store.postgres.PgStore`."""

from __future__ import annotations


class PgMetricsMixin:
    pass
