"""Rules every store keeps, with no SQL in them: what a store accepts (titles, CSAT, fields of
an update, slugs, article fields), how a version check or a taken slug is refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from diagkit.errors import KbError
from diagkit.store.contract import (
    HIGHLIGHT_START,
    UPDATABLE_FIELDS,
    ArticleNotFound,
    CaseNotFound,
    StaleArticleWrite,
    StaleWrite,
    StoreError,
    as_rules,
    check_slug,
)


def aware(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is refused (``ValueError``)."""
    if value.tzinfo is None:
        # A naive time would be read back as some other zone's time on another machine.
        raise ValueError("the store only takes timezone-aware datetimes (e.g. datetime.now(UTC))")
    return value.astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)


def as_list(value: str | Iterable[str]) -> list[str]:
    """A filter given as one value or several, as a list."""
    return [value] if isinstance(value, str) else list(value)


# -- cases -----------------------------------------------------------------------------------


def check_title(title: str) -> None:
    if not title.strip():
        raise StoreError("A case needs a title. Give it a short summary of the problem.")


def check_csat(csat: object) -> None:
    if csat is not None and (not isinstance(csat, int) or isinstance(csat, bool)
                             or not 1 <= csat <= 5):
        raise StoreError(
            f"A CSAT rating is a whole number from 1 to 5, not {csat!r}. Ask the customer "
            "for a rating on that scale."
        )


def case_updates(
    fields: dict[str, Any],
    *,
    tags: Callable[[list[str]], Any],
    time: Callable[[datetime], Any],
) -> tuple[dict[str, Any], Iterable[str] | None]:
    """``update_case``'s fields checked and encoded for the backend: the column values (tags
    through ``tags``, a set ``first_response_at`` through ``time``) and the new hosts (None:
    unchanged). ``fields`` loses its ``hosts`` entry."""
    if "status" in fields:
        raise ValueError("change a case's status with record_status(), not update_case()")
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"update_case() cannot set {sorted(unknown)}; "
                         f"it takes {sorted(UPDATABLE_FIELDS)}")
    check_csat(fields.get("csat"))
    hosts = fields.pop("hosts", None)
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "tags":
            value = tags(list(value))
        elif name == "first_response_at" and value is not None:
            value = time(value)
        values[name] = value
    return values, hosts


def status_stamps(to_status: str, when: str) -> str:
    """The ``SET`` items ``record_status`` adds to the case row (``when``: the placeholder of
    the change's time): ``resolved_at``/``closed_at`` on entering resolved/closed; any other
    status (a reopen) clears both."""
    if to_status == "resolved":
        return f"resolved_at = {when}"
    if to_status == "closed":
        return f"closed_at = {when}"
    return "resolved_at = NULL, closed_at = NULL"


def status_entry(from_status: str, to_status: str, note: str) -> tuple[str, dict[str, str]]:
    """The text and data of the ``status`` journal entry a status change writes."""
    return (note or f"Status: {from_status} -> {to_status}",
            {"from": from_status, "to": to_status})


def check_version(row: Sequence[Any] | None, case_id: int, expected: int) -> int:
    """The case's ``version_counter`` from ``row`` (``SELECT version_counter``), if it is
    ``expected``; else :class:`CaseNotFound` (no row) or :class:`StaleWrite`."""
    if row is None:
        raise CaseNotFound(case_id)
    if row[0] != expected:
        raise StaleWrite(case_id, expected, row[0])
    return int(row[0])


# -- knowledge base --------------------------------------------------------------------------


def article_columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Article field values as column values (JSON text for the lists), validated."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("tags", "links"):
            if isinstance(value, str):
                raise KbError(f"An article's {name} are a list of strings, not one string.")
            out[name] = json.dumps([str(v).strip() for v in value if str(v).strip()])
        elif name == "rules":
            out[name] = json.dumps([r.to_dict() for r in as_rules(value)])
        elif name == "slug":
            out[name] = check_slug(value)
        elif name == "title":
            if not str(value).strip():
                raise KbError("An article needs a title. Give it the problem in a few words.")
            out[name] = str(value).strip()
        elif name == "source_case":
            out[name] = None if value is None else int(value)
        else:
            out[name] = str(value)
    return out


def slug_taken(slug: str) -> KbError:
    return KbError(f"There is already an article with the slug {slug!r}. Choose another "
                   f"slug, or edit that article ('diagkit kb show {slug}').")


def slug_like(base: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern for ``base-<anything>``."""
    return base.replace("_", "\\_").replace("%", "\\%") + "-%"


def free_slug(base: str, taken: Collection[str]) -> str:
    """``base``, else ``base-2``, ``base-3``...: the first not in ``taken``."""
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


def check_article_version(row: Sequence[Any] | None, article_id: int, expected: int) -> None:
    """:class:`ArticleNotFound` (no row) or :class:`StaleArticleWrite` unless ``row``
    (``SELECT version_counter``) is at ``expected``."""
    if row is None:
        raise ArticleNotFound(article_id)
    if row[0] != expected:
        raise StaleArticleWrite(article_id, expected, row[0])


def pick_snippet(texts: Iterable[str | None]) -> str:
    """The first text with a highlighted match, else the first non-empty one, else ``""``."""
    texts = list(texts)
    snippet = next((t for t in texts if t and HIGHLIGHT_START in t), None)
    return snippet or next((t for t in texts if t), "")
