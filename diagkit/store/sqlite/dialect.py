"""SQLite's spelling of the shared SQL (:class:`~diagkit.store.dialect.Dialect`): ``:name``
parameters as they are, times as ISO-8601 text in UTC, JSON as text, ``json1`` functions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from diagkit.store.dialect import Dialect
from diagkit.store.shared.rules import aware

if TYPE_CHECKING:
    import numpy as np


class SqliteDialect(Dialect):
    name = "sqlite"
    # BEGIN IMMEDIATE already keeps every other writer out for the whole transaction.
    for_update = ""
    # RETURNING needs SQLite 3.35 (RHEL 9 ships 3.34): the cursor's lastrowid instead.
    returning = False

    def sql(self, text: str) -> str:
        return text

    def time(self, value: datetime) -> str:
        # Fixed width (microseconds, +00:00): text order is time order, and the metrics
        # cut the first 26 characters (epoch()).
        return aware(value).isoformat(timespec="microseconds")

    def time_value(self, value: Any) -> datetime | None:
        return datetime.fromisoformat(value) if value is not None else None

    def json(self, text: str) -> str:
        return text

    def json_value(self, value: Any) -> Any:
        return json.loads(value)

    def storable(self, value: Any) -> Any:
        return value

    def array(self, values: Sequence[Any]) -> str:
        return json.dumps(list(values))

    IN_LIST = "{column} IN (SELECT value FROM json_each(:{param}))"
    JSON_HAS = "EXISTS (SELECT 1 FROM json_each({column}) WHERE value = :{param})"
    JSON_TEXT = "CAST(json_extract({column}, '$.{key}') AS TEXT)"
    # json_each() of an object would walk its members: only an array counts.
    JSON_ELEMENTS = ("json_each(CASE WHEN json_type({column}, '$.{key}') = 'array'"
                     " THEN json_extract({column}, '$.{key}') ELSE '[]' END)")
    ELEMENT_TEXT = "CAST({alias}.value AS TEXT)"
    COLLECT = "(SELECT json_group_array({column}) FROM {source})"

    def collected(self, value: Any) -> list[Any]:
        return list(json.loads(value))

    def nocase(self, expr: str) -> str:
        return f"{expr} COLLATE NOCASE"

    def epoch(self, expr: str) -> str:
        # Stored times are ISO-8601 in UTC (time()): the first 26 characters are
        # YYYY-MM-DDTHH:MM:SS.ffffff, which numpy parses (epochs()).
        return f"substr({expr}, 1, 26)"

    def epochs(self, values: Sequence[Any]) -> np.ndarray:
        import numpy as np

        # numpy parses the ISO strings in C as integer microseconds; one division then gives
        # exactly datetime.timestamp().
        us = np.array(values, dtype="datetime64[us]")
        out = us.astype(np.int64) / 1e6
        out[np.isnat(us)] = np.nan
        return out

    def is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
