"""PostgreSQL's spelling of the shared SQL (:class:`~diagkit.store.dialect.Dialect`):
``%(name)s`` parameters, ``timestamptz`` times (aware datetimes both ways), ``jsonb``, arrays,
``RETURNING``, ``FOR UPDATE``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from diagkit.store.dialect import Dialect, pyformat
from diagkit.store.shared.rules import aware

if TYPE_CHECKING:
    import numpy as np


def _same(text: str) -> str:
    return text


def no_nul(value: Any) -> Any:
    """``value`` with NUL characters as U+FFFD (PostgreSQL text cannot hold NUL; a log excerpt
    of a binary file can): in strings, and in the keys and values of lists and mappings."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, Mapping):
        return {no_nul(k) if isinstance(k, str) else k: no_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [no_nul(v) for v in value]
    return value


class PgDialect(Dialect):
    name = "postgresql"
    # READ COMMITTED lets a second engineer's save read the old version while the first one
    # writes: the row lock makes it wait, then see the new version and be refused.
    for_update = " FOR UPDATE"
    returning = True

    def sql(self, text: str) -> str:
        return pyformat(text)

    def time(self, value: datetime) -> datetime:
        return aware(value)

    def time_value(self, value: Any) -> datetime | None:
        # The session's TimeZone is UTC, but a server-side default could differ: normalise
        # anyway so records compare equal to SQLite's (tzinfo=UTC).
        return value.astimezone(UTC) if value is not None else None

    def json(self, text: str) -> Any:
        from psycopg.types.json import Jsonb

        # The text as it is (it was checked by json.dumps): no second round of encoding.
        return Jsonb(text, dumps=_same)

    def json_value(self, value: Any) -> Any:
        return value  # psycopg decodes jsonb

    def storable(self, value: Any) -> Any:
        return no_nul(value)

    def array(self, values: Sequence[Any]) -> list[Any]:
        return list(values)

    IN_LIST = "{column} = ANY(CAST(:{param} AS {sql_type}[]))"
    # Containment of a one-string array: exactly "some element equals the string".
    JSON_HAS = "{column} @> jsonb_build_array(CAST(:{param} AS text))"
    JSON_TEXT = "({column} ->> '{key}')"
    # A CASE rather than a WHERE on the type: the set-returning function may run before the
    # filter, and jsonb_array_elements raises on a non-array.
    JSON_ELEMENTS = ("jsonb_array_elements(CASE WHEN jsonb_typeof({column} -> '{key}') = 'array'"
                     " THEN {column} -> '{key}' ELSE '[]'::jsonb END)")
    ELEMENT_TEXT = "({alias}.value #>> '{{}}')"
    COLLECT = "ARRAY(SELECT {column} FROM {source})"

    def collected(self, value: Any) -> list[Any]:
        return list(value)

    def nocase(self, expr: str) -> str:
        # lower(): SQLite's COLLATE NOCASE (ASCII case folding), so both stores list alike.
        return f'lower({expr}) COLLATE "C"'

    def epoch(self, expr: str) -> str:
        # PostgreSQL's exact decimal epoch rounded once to the nearest double: the float
        # datetime.timestamp() gives.
        return f"extract(epoch FROM {expr})::float8"

    def epochs(self, values: Sequence[Any]) -> np.ndarray:
        import numpy as np

        return np.array(values, dtype=np.float64)  # None -> NaN

    def is_unique_violation(self, exc: BaseException) -> bool:
        import psycopg

        return isinstance(exc, psycopg.errors.UniqueViolation)
