"""Rules both case stores keep, written once: the SQLite store (:mod:`diagkit.store.sqlite`) and
the team store (:mod:`diagkit.store.postgres`) differ in SQL, placeholders and how values are
encoded, not in what they accept or how a row becomes a record.

Pure functions only (no connection, no SQL dialect): each backend calls them and keeps its own
SQL text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from diagkit.store import UPDATABLE_FIELDS, Case, StoreError


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


def case_from_row(
    r: Any,
    *,
    tags: Sequence[str],
    hosts: Sequence[str],
    time: Callable[[Any], datetime | None],
) -> Case:
    """A :class:`Case` from a ``cases`` row read by column name (``r["title"]``), the tags and
    hosts already decoded, times through ``time``."""
    return Case(
        id=r["id"], title=r["title"], customer=r["customer"], contact=r["contact"],
        product=r["product"], version=r["version"], tags=tuple(tags),
        ticket_ref=r["ticket_ref"], impact=r["impact"], urgency=r["urgency"],
        severity=r["severity"], status=r["status"], created=time(r["created"]),
        updated=time(r["updated"]), first_response_at=time(r["first_response_at"]),
        resolved_at=time(r["resolved_at"]), closed_at=time(r["closed_at"]), csat=r["csat"],
        engineer=r["engineer"], version_counter=r["version_counter"], hosts=tuple(hosts),
    )

