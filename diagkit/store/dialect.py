"""How one database spells what the shared SQL (:mod:`diagkit.store.shared`) needs.

The shared SQL is written once, with named parameters (``:name``), standard SQL and, where the
databases differ, a call to the backend's :class:`Dialect`: placeholders, how times and JSON
travel, ``RETURNING``, row locks for the version check, JSON array tests, case-blind ordering,
POSIX seconds for the metrics. Full-text search is too different to be a fragment: each backend
writes its own (the ``_terms``/``_ranked`` hooks of :class:`diagkit.store.shared.kb.KbSql`).

A dialect is pure (no connection): SQL text in, SQL text out; Python values in, parameter values
out. A new backend implements every abstract method; ``tests/store/test_parity.py`` then runs
the same random operations on it and on SQLite (the reference) and compares the results.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# A single-quoted literal (kept), a :name parameter (not the second colon of a :: cast), or a
# percent sign.
_TOKENS = re.compile(r"'(?:[^']|'')*'|(?<![:\w]):([A-Za-z_]\w*)|%")


@lru_cache(maxsize=1024)
def pyformat(sql: str) -> str:
    """``sql`` with ``:name`` parameters as ``%(name)s`` and literal ``%`` doubled (the
    "pyformat" parameter style of psycopg and most DB-API drivers but sqlite3)."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "%":
            return "%%"
        if m.group(1):
            return f"%({m.group(1)})s"
        return m.group(0)

    return _TOKENS.sub(sub, sql)


class Dialect(ABC):
    """What a backend says about its database's SQL; see the module docstring."""

    #: For messages and tests: "sqlite", "postgresql".
    name: str
    #: Appended to the ``SELECT version_counter`` of a save: a database whose write
    #: transactions do not already exclude other writers locks the row until commit (no lost
    #: update between the version check and the write).
    for_update: str
    #: ``INSERT ... RETURNING id`` is understood (else the cursor's ``lastrowid`` is used).
    returning: bool

    # -- text of statements --------------------------------------------------------------

    @abstractmethod
    def sql(self, text: str) -> str:
        """The driver's form of shared SQL written with ``:name`` parameters (every statement
        runs with a parameter mapping, possibly empty)."""

    # -- values in and out ---------------------------------------------------------------

    @abstractmethod
    def time(self, value: datetime) -> Any:
        """A timezone-aware datetime as a parameter (naive ones are refused: ValueError)."""

    @abstractmethod
    def time_value(self, value: Any) -> datetime | None:
        """A stored time as an aware UTC datetime (None stays None)."""

    @abstractmethod
    def json(self, text: str) -> Any:
        """JSON text as a parameter for a JSON column."""

    @abstractmethod
    def json_value(self, value: Any) -> Any:
        """A JSON column's value as Python values."""

    @abstractmethod
    def storable(self, value: Any) -> Any:
        """Journal text and data (a string, or lists and mappings of them) as the database
        can hold them."""

    @abstractmethod
    def array(self, values: Sequence[Any]) -> Any:
        """A list of values as one parameter, for :meth:`in_list`."""

    # -- fragments -----------------------------------------------------------------------

    # Fragments are templates each backend declares (``str.format`` fields in braces), so a
    # backend states only its SQL, and the methods below are the one way they are filled in.
    #: ``column`` is one of the list given (through :meth:`array`) as ``:param``; ``sql_type``
    #: (``text``, ``bigint``) is the elements' type. Fields: column, param, sql_type.
    IN_LIST: str
    #: The JSON array in ``column`` has the string ``:param`` as an element. Fields: column, param.
    JSON_HAS: str
    #: The member ``key`` of the JSON object in ``column``, as text (NULL when absent).
    JSON_TEXT: str
    #: A table of the elements of the array ``key`` of the JSON object in ``column`` (no rows
    #: when it is not an array), for a FROM list; :data:`ELEMENT_TEXT` reads one.
    JSON_ELEMENTS: str
    #: The element of :data:`JSON_ELEMENTS` (aliased ``alias``) as text; NULL for null.
    ELEMENT_TEXT: str
    #: One value holding ``column`` of every row of ``FROM source`` (a correlated subquery),
    #: for :meth:`collected`.
    COLLECT: str

    def in_list(self, column: str, param: str, sql_type: str) -> str:
        return self.IN_LIST.format(column=column, param=param, sql_type=sql_type)

    def json_has(self, column: str, param: str) -> str:
        return self.JSON_HAS.format(column=column, param=param)

    def json_text(self, column: str, key: str) -> str:
        return self.JSON_TEXT.format(column=column, key=key)

    def json_elements(self, column: str, key: str) -> str:
        return self.JSON_ELEMENTS.format(column=column, key=key)

    def element_text(self, alias: str) -> str:
        return self.ELEMENT_TEXT.format(alias=alias)

    def collect(self, column: str, source: str) -> str:
        return self.COLLECT.format(column=column, source=source)

    @abstractmethod
    def collected(self, value: Any) -> list[Any]:
        """The values a :meth:`collect` gave, in no particular order."""

    @abstractmethod
    def nocase(self, expr: str) -> str:
        """``expr`` for ORDER BY, ignoring ASCII case."""

    @abstractmethod
    def epoch(self, expr: str) -> str:
        """A time column as what :meth:`epochs` turns into POSIX seconds."""

    @abstractmethod
    def epochs(self, values: Sequence[Any]) -> np.ndarray:
        """POSIX seconds (float64, NaN for unset) of a column of :meth:`epoch` values, each
        exactly the float ``datetime.timestamp()`` gives."""

    @abstractmethod
    def is_unique_violation(self, exc: BaseException) -> bool:
        """``exc`` (raised by the driver) is a UNIQUE constraint refusing a row."""
