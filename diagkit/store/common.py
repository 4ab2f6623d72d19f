"""Rules both case stores keep, written once: the SQLite store (:mod:`diagkit.store.sqlite`) and
the team store (:mod:`diagkit.store.postgres`) differ in SQL, placeholders and how values are
encoded, not in what they accept or how a row becomes a record.

Pure functions (no connection, no SQL dialect) that each backend calls, keeping its own SQL
text; and :class:`ArticleRules`, the knowledge base's public methods written once over a few
SQL hooks each backend's KB mixin provides.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from diagkit.errors import KbError
from diagkit.store import (
    UPDATABLE_FIELDS,
    Case,
    CaseNotFound,
    JournalEntry,
    StaleWrite,
    StatusChange,
    StoreError,
)
from diagkit.store.kb import (
    ARTICLE_FIELDS,
    HIGHLIGHT_START,
    Article,
    ArticleNotFound,
    MatchRule,
    SearchHit,
    StaleArticleWrite,
    as_rules,
    check_slug,
)
from diagkit.store.metrics import CaseColumns, HistoryColumns, IntervalColumns, RefCount


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



def status_change_from_row(r: Sequence[Any], time: Callable[[Any], datetime | None]
                           ) -> StatusChange:
    """A :class:`StatusChange` from (id, case_id, time, from_status, to_status, engineer)."""
    return StatusChange(id=r[0], case_id=r[1], time=time(r[2]), from_status=r[3],
                        to_status=r[4], engineer=r[5])


def journal_entry_from_row(r: Sequence[Any], time: Callable[[Any], datetime | None],
                           data: Callable[[Any], Any] | None = None) -> JournalEntry:
    """A :class:`JournalEntry` from (id, case_id, time, engineer, kind, text, data), the data
    decoded by ``data`` (None: as read)."""
    return JournalEntry(id=r[0], case_id=r[1], time=time(r[2]), engineer=r[3], kind=r[4],
                        text=r[5], data=r[6] if data is None else data(r[6]))


def check_version(row: Sequence[Any] | None, case_id: int, expected: int) -> int:
    """The case's ``version_counter`` from ``row`` (``SELECT version_counter``), if it is
    ``expected``; else :class:`CaseNotFound` (no row) or :class:`StaleWrite`."""
    if row is None:
        raise CaseNotFound(case_id)
    if row[0] != expected:
        raise StaleWrite(case_id, expected, row[0])
    return row[0]


# -- knowledge base -------------------------------------------------------------------------


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


class ArticleRules:
    """The backend-neutral half of :class:`diagkit.store.kb.KbStore`: argument checks, slugs,
    how a query's words become "all of them, else any of them". A backend's mixin provides the
    SQL through the hooks below and its ``_read``/``_write`` transactions."""

    #: Appended to the last word of a query to match it as a prefix.
    _PREFIX = "*"
    #: Joins a query's words so that all of them must appear / any of them may.
    _ALL = " "
    _ANY = " OR "

    if TYPE_CHECKING:
        def _read(self, doing: str = "read") -> AbstractContextManager[Any]: ...

    def _terms(self, query: str) -> list[str]:
        """The query's words, quoted for the backend's search syntax."""
        raise NotImplementedError

    def _search(self, match: str, limit: int, tag: str | None) -> list[SearchHit]:
        raise NotImplementedError

    def _insert_article(self, slug: str | None, values: dict[str, Any],
                        when: datetime) -> Article:
        """Save a new article (``slug`` None: a free one from the title) in one write."""
        raise NotImplementedError

    def _update_article(self, article_id: int, expected_version: int,
                        values: dict[str, Any]) -> Article:
        raise NotImplementedError

    def _article_row(self, conn: Any, column: str, value: int | str) -> Any:
        """The article row whose ``column`` (``id`` or ``slug``) is ``value``, or None."""
        raise NotImplementedError

    def _to_article(self, row: Any) -> Article:
        raise NotImplementedError

    def create_article(
        self,
        title: str,
        *,
        slug: str | None = None,
        symptoms: str = "",
        environment: str = "",
        cause: str = "",
        resolution: str = "",
        tags: Sequence[str] = (),
        links: Sequence[str] = (),
        rules: Sequence[MatchRule] = (),
        source_case: int | None = None,
        author: str = "",
        created: datetime | None = None,
    ) -> Article:
        values = article_columns({
            "title": title, "symptoms": symptoms, "environment": environment, "cause": cause,
            "resolution": resolution, "tags": tags, "links": links, "rules": rules,
            "source_case": source_case, "author": author,
        })
        if slug is not None:
            check_slug(slug)
        return self._insert_article(slug, values, aware(created or now()))

    def update_article(self, article_id: int, expected_version: int, **fields: Any) -> Article:
        unknown = set(fields) - ARTICLE_FIELDS
        if unknown:
            raise ValueError(f"update_article() cannot set {sorted(unknown)}; "
                             f"it takes {sorted(ARTICLE_FIELDS)}")
        return self._update_article(article_id, expected_version, article_columns(fields))

    def get_article(self, ref: int | str) -> Article:
        with self._read("read the article") as conn:
            row = None
            if isinstance(ref, str):
                row = self._article_row(conn, "slug", ref)
            if row is None and (isinstance(ref, int) or str(ref).isdigit()):
                row = self._article_row(conn, "id", int(ref))
            if row is None:
                raise ArticleNotFound(ref)
            return self._to_article(row)

    def search_articles(
        self, query: str, *, limit: int = 20, tag: str | None = None
    ) -> list[SearchHit]:
        terms = self._terms(query)
        if not terms or limit <= 0:
            return []
        # The last word as a prefix (search as you type), unless a single letter: "a*" would
        # expand to a large part of the vocabulary.
        words = terms[:-1] + [terms[-1] + (self._PREFIX if len(terms[-1]) > 3 else "")]
        # All words; if nothing has them all, any of them (fuller matches rank first).
        hits = self._search(self._ALL.join(words), limit, tag)
        if not hits and len(words) > 1:
            hits = self._search(self._ANY.join(words), limit, tag)
        return hits

    def article_count(self) -> int:
        with self._read("count articles") as conn:
            return conn.execute("SELECT COUNT(*) FROM kb_articles").fetchone()[0]

    def article_slugs(self) -> set[str]:
        """Every article's slug (cheap: for imports and the starter set)."""
        with self._read("list article slugs") as conn:
            return {s for (s,) in conn.execute("SELECT slug FROM kb_articles").fetchall()}


# -- metrics --------------------------------------------------------------------------------

# A status change that makes its case's history irregular (diagkit.store.metrics, "Regular
# histories"), over status_changes (alias s); from_status is the status at write time. The
# same SQL on both backends.
IRREGULAR_CHANGE = (
    "((s.from_status IN ('resolved', 'closed') AND s.to_status NOT IN ('resolved', 'closed'))"
    " OR (s.to_status = 'resolved' AND (s.from_status IS NULL"
    " OR s.from_status IN ('resolved', 'closed')))"
    " OR (s.to_status = 'closed' AND (s.from_status IS NULL OR s.from_status <> 'resolved')))"
)


def metrics_period(since: datetime, until: datetime, engineer: str | None,
                   time: Callable[[datetime], Any]) -> dict[str, Any]:
    """The named parameters of a metrics query, times through the backend's ``time``."""
    return {"since": time(since), "until": time(until), "engineer": engineer}


def transpose(rows: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    """Rows as ``width`` columns."""
    # zip(*rows) transposes in C; an empty result still needs `width` empty columns.
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]


def case_columns(rows: list[tuple[Any, ...]],
                 times: Callable[[Sequence[Any]], Sequence[float]]) -> CaseColumns:
    """:class:`CaseColumns` from rows of (id, created, done, severity, engineer,
    first_response_at, resolved_at, csat), the time columns through ``times``."""
    cid, created, done, severity, engineer_, fr, res, csat = transpose(rows, 8)
    return CaseColumns(cid, times(created), done, severity, engineer_, times(fr), times(res),
                       csat)


def interval_columns(rows: list[tuple[Any, ...]],
                     times: Callable[[Sequence[Any]], Sequence[float]]) -> IntervalColumns:
    """:class:`IntervalColumns` from rows of (case_id, status, start, end)."""
    case_id, status, start, end = transpose(rows, 4)
    return IntervalColumns(case_id, status, times(start), times(end))


def irregular_ids(scan: list[tuple[Any, ...]]) -> list[int]:
    """The cases of a history scan (rows of case_id, to_status, time, next time, irregular)
    with an irregular change, ascending."""
    return sorted({r[0] for r in scan if r[4]})


def history_columns(scan: list[tuple[Any, ...]], irregular: list[int],
                    done_rows: list[tuple[Any, ...]],
                    times: Callable[[Sequence[Any]], Sequence[float]]) -> HistoryColumns:
    """:class:`HistoryColumns` from the history scan and the irregular cases' resolved/closed
    rows (case_id, status, start, end)."""
    waits = [r[:4] for r in scan if r[1] == "waiting_on_customer"]
    return HistoryColumns(interval_columns(waits, times), irregular,
                          interval_columns(done_rows, times))


def ref_counts(sig_rows: Iterable[tuple[Any, int]], art_rows: Iterable[tuple[Any, int]],
               titles: Mapping[Any, str]) -> list[RefCount]:
    """Signatures, then articles (with their latest title), as :class:`RefCount` s."""
    return ([RefCount("signature", str(k), n) for k, n in sig_rows]
            + [RefCount("article", str(k), n, titles.get(k, "")) for k, n in art_rows])
