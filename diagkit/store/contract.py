"""The store contract: the errors, records and drafts a store hands out and takes, and the
typed protocols features program against.

Features (cases, journal, SLA, KB, metrics, monitoring) talk only to the protocols below and
these frozen records, never to a database driver or a backend class: they get a store from
:func:`diagkit.store.select.open_store` / :func:`~diagkit.store.select.open_samples`, typed as
:class:`Store` / :class:`SampleStore`.

* :class:`CaseStore`: cases, their status history and journal;
* :class:`KbStore`: knowledge-base articles and their full-text search;
* :class:`MetricsStore`: bulk reads of a period for :mod:`diagkit.metrics`;
* :class:`BulkReader` / :class:`ImportTarget`: whole cases out of one store and into another
  (``diagkit store migrate``, :mod:`diagkit.store.copy`);
* :class:`Store`: all of the above plus the store's life (migrate, close);
* :class:`SampleStore`: the monitoring history.

Contract every implementation keeps (``tests/store/`` checks it on every backend):

* every write is one transaction: after a crash either all of it is there or none of it;
* one writer at a time; readers never see half a write;
* the journal and the status history are append-only (no update/delete API; corrections are
  new entries);
* ``update_case`` / ``record_status`` / ``update_article`` take the ``version_counter`` the
  caller last read and raise :class:`StaleWrite` when someone saved in between (optimistic
  concurrency);
* times are timezone-aware ``datetime`` objects in UTC on the way out; naive ones are refused.

Business rules (which status may follow which, severity from impact x urgency, SLA arithmetic)
live in :mod:`diagkit.cases`, not here: the store records what the caller decided.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, TypedDict, Unpack, runtime_checkable

# The store's errors are defined in the one tree of diagkit.errors; still importable from
# here, their home before (noqa: re-exported, not used).
from diagkit.errors import (
    ArticleNotFound,  # noqa: F401
    CaseNotFound,  # noqa: F401
    KbError,
    StaleArticleWrite,  # noqa: F401
    StaleWrite,  # noqa: F401
    StoreError,  # noqa: F401
    StoreUnavailable,  # noqa: F401
)
from diagkit.rules_regex import UnsafePattern, compile_rule_pattern

if TYPE_CHECKING:  # SeriesData's arrays; numpy is not imported just to read the records
    import numpy as np

# -- cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One support case as stored. ``version_counter`` goes up by one on every save."""

    id: int
    title: str
    customer: str = ""
    contact: str = ""
    product: str = ""
    version: str = ""
    tags: tuple[str, ...] = ()
    ticket_ref: str = ""
    impact: str | None = None
    urgency: str | None = None
    severity: str | None = None
    status: str = "new"
    created: datetime | None = None
    updated: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    csat: int | None = None
    engineer: str = ""
    version_counter: int = 1
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseDraft:
    """A case not stored yet: what :meth:`CaseStore.create_case` takes. ``created`` None: now.
    The store checks it (a title is required) when it saves it."""

    title: str
    customer: str = ""
    contact: str = ""
    product: str = ""
    version: str = ""
    tags: Sequence[str] = ()
    ticket_ref: str = ""
    impact: str | None = None
    urgency: str | None = None
    severity: str | None = None
    status: str = "new"
    engineer: str = ""
    hosts: Sequence[str] = ()
    created: datetime | None = None

    def __post_init__(self) -> None:
        # Tuples: a draft is a value (a list given by the caller must not change it later).
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "hosts", tuple(self.hosts))


@dataclass(frozen=True)
class JournalEntry:
    """One line of a case's timeline. ``kind`` is e.g. note, probe, command, status,
    customer_update, bundle, log_excerpt, correction; ``data`` holds its details (host, exit
    status, file...) as JSON-compatible values."""

    id: int
    case_id: int
    time: datetime
    engineer: str
    kind: str
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusChange:
    id: int
    case_id: int
    time: datetime
    from_status: str | None
    to_status: str
    engineer: str = ""


@dataclass(frozen=True)
class CaseHistory:
    """Everything stored about one case, read in one transaction: what a bulk copy moves."""

    case: Case
    journal: tuple[JournalEntry, ...]
    status_changes: tuple[StatusChange, ...]


# Fields update_case accepts. ``status`` is deliberately absent: it changes only through
# record_status so the status history (and so the SLA pause intervals) is always complete.
UPDATABLE_FIELDS: frozenset[str] = frozenset({
    "title", "customer", "contact", "product", "version", "tags", "ticket_ref", "impact",
    "urgency", "severity", "first_response_at", "csat", "engineer", "hosts",
})

# -- knowledge base --------------------------------------------------------------------------
#
# An Article is a known problem written down once: symptoms, environment, cause and resolution
# (Markdown), plus MatchRules that recognise the problem in evidence (probe findings, probe
# metrics, log lines, log signatures; see diagkit.kb.match). Articles are searched with
# full-text search ranked by relevance (title weighted highest). Articles are editable (unlike
# the journal): update_article takes the version_counter the caller last read.

RULE_KINDS: tuple[str, ...] = ("signature", "finding", "log", "metric")
RULE_OPS: tuple[str, ...] = (">", ">=", "<", "<=", "==")

#: Marks around matched terms in :attr:`SearchHit.snippet` (control characters, so they can
#: never collide with article text; render with :meth:`SearchHit.snippet_html`/``_text``).
HIGHLIGHT_START, HIGHLIGHT_END = "\x02", "\x03"

#: Article fields ``update_article`` accepts.
ARTICLE_FIELDS: frozenset[str] = frozenset({
    "slug", "title", "symptoms", "environment", "cause", "resolution", "tags", "links", "rules",
    "source_case", "author",
})

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


@dataclass(frozen=True)
class MatchRule:
    """One way to recognise an article's problem in evidence.

    * ``finding``: ``pattern`` (a case-insensitive regex) searched in finding titles, of probe
      ``probe`` only when set;
    * ``metric``: the probe metric named ``metric`` (as in ``ProbeData.metrics``, e.g.
      ``disk.used_percent``) whose labels include ``labels`` compares ``op value`` true;
    * ``log``: ``pattern`` searched in raw log lines;
    * ``signature``: ``pattern`` searched in masked log signatures (``diagkit.logs.signatures``).

    Patterns run on RE2, a linear-time engine (:mod:`diagkit.rules_regex`): a pattern it cannot
    take (backreferences, look-arounds...) is refused here with the reason. Rules read back from
    a store are built with ``check=False``: a database written before that check (or by an
    older diagkit) still opens, and the matcher skips such a rule with a warning.
    """

    kind: str
    pattern: str = ""
    probe: str = ""
    metric: str = ""
    op: str = ""
    value: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    check: InitVar[bool] = True

    def __post_init__(self, check: bool) -> None:
        if check:
            self.validate()
        elif self.kind not in RULE_KINDS:
            raise KbError(f"A stored match rule has the unknown kind {self.kind!r}; it takes one "
                          f"of {', '.join(RULE_KINDS)}. Fix the article's rule (diagkit kb "
                          "export, edit, diagkit kb import; or the app's article editor).")

    def validate(self) -> None:
        """Raise :class:`KbError` naming what is wrong with this rule (its pattern included:
        one the linear-time engine cannot run is refused with the reason)."""
        if self.kind not in RULE_KINDS:
            raise KbError(f"A match rule's kind is one of {', '.join(RULE_KINDS)}, not "
                          f"{self.kind!r}.")
        if self.kind == "metric":
            if not self.metric:
                raise KbError("A metric match rule needs the metric's name (e.g. "
                              "'disk.used_percent').")
            if self.op not in RULE_OPS:
                raise KbError(f"A metric match rule compares with one of {' '.join(RULE_OPS)}, "
                              f"not {self.op!r}.")
            if self.value is None:
                raise KbError(f"The metric match rule on {self.metric} needs a value to compare "
                              "with.")
            return
        if not self.pattern:
            raise KbError(f"A {self.kind} match rule needs a pattern (a regular expression).")
        try:
            compile_rule_pattern(self.pattern)
        except UnsafePattern as exc:
            if exc.syntax:
                raise KbError(f"The {self.kind} match rule's pattern {self.pattern!r} "
                              f"{exc.reason}") from None
            raise KbError(f"The {self.kind} match rule's pattern {self.pattern!r} cannot be "
                          f"used: {exc.reason}") from None

    def to_dict(self) -> dict[str, Any]:
        """Only the fields that mean something for this kind (compact JSON in exports)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "metric":
            out.update(metric=self.metric, op=self.op, value=self.value)
            if self.labels:
                out["labels"] = dict(self.labels)
        else:
            out["pattern"] = self.pattern
        if self.probe:
            out["probe"] = self.probe
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, check: bool = True) -> MatchRule:
        """A rule from its :meth:`to_dict` form, validated (``check=False``: as stored, only
        the kind checked; for reading back a store)."""
        if not isinstance(d, Mapping):
            raise KbError(f"A match rule is an object like {{\"kind\": \"log\", \"pattern\": "
                          f"\"...\"}}, not {d!r}.")
        unknown = set(d) - {"kind", "pattern", "probe", "metric", "op", "value", "labels"}
        if unknown:
            raise KbError(f"A match rule has unknown keys {sorted(unknown)}; it takes kind, "
                          "pattern, probe, metric, op, value, labels.")
        value = d.get("value")
        if value is not None:
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise KbError(f"A metric match rule's value is a number, not {value!r}.") from None
        labels = d.get("labels") or {}
        if not isinstance(labels, Mapping):
            raise KbError(f"A match rule's labels are an object of strings, not {labels!r}.")
        return cls(kind=str(d.get("kind", "")), pattern=str(d.get("pattern") or ""),
                   probe=str(d.get("probe") or ""), metric=str(d.get("metric") or ""),
                   op=str(d.get("op") or ""), value=value,
                   labels={str(k): str(v) for k, v in labels.items()}, check=check)


@dataclass(frozen=True)
class Article:
    """One knowledge-base article as stored. ``version_counter`` goes up on every save."""

    id: int
    slug: str
    title: str
    symptoms: str = ""
    environment: str = ""
    cause: str = ""
    resolution: str = ""
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    rules: tuple[MatchRule, ...] = ()
    source_case: int | None = None
    author: str = ""
    created: datetime | None = None
    updated: datetime | None = None
    version_counter: int = 1


@dataclass(frozen=True)
class ArticleDraft:
    """An article's editable fields, not (yet) stored: what editors, imports and
    :func:`diagkit.kb.from_case.draft_from_case` produce and :meth:`KbStore.create_article`
    takes. ``slug`` "" = made from the title; ``created`` None = now. The store checks it
    (title, slug, rules) when it saves it."""

    title: str
    slug: str = ""
    symptoms: str = ""
    environment: str = ""
    cause: str = ""
    resolution: str = ""
    tags: Sequence[str] = ()
    links: Sequence[str] = ()
    rules: Sequence[MatchRule] = ()
    source_case: int | None = None
    author: str = ""
    created: datetime | None = None

    def __post_init__(self) -> None:
        # Tuples: a draft is a value, equal to another with the same fields however given.
        for name in ("tags", "links", "rules"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def fields(self) -> dict[str, Any]:
        """Keyword arguments for ``update_article`` (slug and created left out)."""
        return {"title": self.title, "symptoms": self.symptoms,
                "environment": self.environment, "cause": self.cause,
                "resolution": self.resolution, "tags": self.tags, "links": self.links,
                "rules": self.rules, "source_case": self.source_case, "author": self.author}

    def save(self, store: KbStore) -> Article:
        """Store as a new article."""
        return store.create_article(self)


@dataclass(frozen=True)
class SearchHit:
    """One search result. ``rank``: higher is more relevant (the negated bm25 score)."""

    article: Article
    rank: float
    snippet: str

    def snippet_html(self) -> str:
        """The snippet HTML-escaped, matched terms in ``<b>..</b>``."""
        escaped = html.escape(self.snippet)
        return escaped.replace(HIGHLIGHT_START, "<b>").replace(HIGHLIGHT_END, "</b>")

    def snippet_text(self) -> str:
        """The snippet for a terminal, matched terms in ``[..]``."""
        return self.snippet.replace(HIGHLIGHT_START, "[").replace(HIGHLIGHT_END, "]")


def check_slug(slug: str) -> str:
    """``slug`` if valid (lowercase letters, digits, dashes), else :class:`KbError`."""
    if not _SLUG.match(slug):
        raise KbError(f"An article slug is lowercase letters, digits and dashes (e.g. "
                      f"'disk-full'), at most 80 characters, not {slug!r}.")
    return slug


def slugify(title: str) -> str:
    """A slug made from a title: ``"Disk full: / at 100 %"`` -> ``"disk-full-at-100"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")
    return slug or "article"


def as_rules(rules: Iterable[MatchRule | Mapping[str, Any]]) -> tuple[MatchRule, ...]:
    """Rules ready to save: every one validated (a rule read back with ``check=False`` and
    saved again is checked here, so a store never takes a new pattern the engine refuses)."""
    out = tuple(r if isinstance(r, MatchRule) else MatchRule.from_dict(r) for r in rules)
    for rule in out:
        rule.validate()
    return out


# -- metrics ---------------------------------------------------------------------------------
#
# Metrics read a whole period at once: a handful of bulk queries returning columns (one
# sequence per field, not one object per row: a report over 100,000 cases must not build
# 100,000 Python objects per query), never one query per case. Which cases a period needs
# ("relevant" cases) is the same rule for every query:
#
#     created < until AND (
#         still open (status not resolved/closed)      -- backlog, running SLA clocks
#         OR resolved_at >= since                      -- resolved in the period, backlog history
#         OR first_response_at >= since                -- first response in the period
#         OR first_response_at IS NULL)                -- a first-response clock still running
#
# so a store may index cases(created) and answer from it.
#
# Times are POSIX seconds (float, exact to the microsecond the store keeps: the same float
# datetime.timestamp() gives), NaN when unset, in numpy arrays. Floats rather than datetimes
# because building a million datetimes in Python was most of the cost.
#
# Regular histories. Almost every case's status history is: some open statuses, then one change
# to "resolved" (at resolved_at), maybe followed by one to "closed". For such a case the
# resolved/closed stretch is [resolved_at, inf) and needs no history rows. A case is *irregular*
# when its history has any other resolved/closed change: a reopen (resolved/closed -> another
# status), "resolved" entered again or from no status, or "closed" entered other than from
# "resolved"; MetricsStore.metrics_history then returns that case's resolved/closed intervals.
# This relies on the history being in time order as the store writes it (record_status(at=...)
# times that do not go backwards), which is what the lifecycle produces.


@dataclass(frozen=True)
class CaseColumns:
    """The fields the metrics use of the relevant cases, one sequence per field, all the same
    length, ordered by ``id`` (ascending). Times are POSIX seconds (float arrays from the
    stores), None or NaN when unset."""

    id: Sequence[int]
    created: Sequence[float] | np.ndarray
    done: Sequence[bool]        # status is resolved or closed
    severity: Sequence[str | None]
    engineer: Sequence[str]
    first_response_at: Sequence[float | None] | np.ndarray
    resolved_at: Sequence[float | None] | np.ndarray
    csat: Sequence[int | None]

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True)
class IntervalColumns:
    """Stretches of status history, one sequence per field: case ``case_id`` was in
    ``status`` from ``start`` (the change into it) to ``end`` (the next change; None or NaN
    while it still is). Ordered by case id, then time."""

    case_id: Sequence[int]
    done: Sequence[bool]        # status is resolved or closed
    start: Sequence[float] | np.ndarray
    end: Sequence[float | None] | np.ndarray

    def __len__(self) -> int:
        return len(self.case_id)


@dataclass(frozen=True)
class RefCount:
    """How many distinct cases' journal entries of the period point at one thing: a log
    signature (``kind`` ``"signature"``, ``key`` the masked signature text, from
    ``log_excerpt`` entries) or a KB article (``kind`` ``"article"``, ``key`` the slug,
    ``title`` the non-empty title of the latest ``kb_article``/``known_issue`` entry)."""

    kind: str
    key: str
    cases: int
    title: str = ""


@dataclass(frozen=True)
class HistoryColumns:
    """What the metrics need of the relevant cases' status histories."""

    waits: IntervalColumns        # every waiting_on_customer interval
    irregular: Collection[int]    # ids of the cases with an irregular history
    done: IntervalColumns         # resolved/closed intervals of those cases only


# -- monitoring history ----------------------------------------------------------------------

#: The history's resolutions: every sample (``raw``), per-minute and per-hour aggregates, all
#: written at sample time so an aggregate is always exact (never rebuilt from thinned data).
RESOLUTIONS: tuple[str, ...] = ("raw", "1m", "1h")


@dataclass(frozen=True)
class Retention:
    """How long each resolution is kept, in seconds."""

    raw: float = 24 * 3600.0
    minute: float = 7 * 86400.0
    hour: float = 400 * 86400.0


@dataclass(frozen=True)
class SeriesData:
    """One series over a window: sample times and average/min/max (equal for raw samples)."""

    host: str
    metric: str
    resolution: str
    t: np.ndarray
    avg: np.ndarray
    min: np.ndarray
    max: np.ndarray

    def __len__(self) -> int:
        return int(self.t.size)


# -- protocols -------------------------------------------------------------------------------


class CaseFilter(TypedDict, total=False):
    """What :meth:`CaseStore.list_cases` filters on: every filter given must hold (a value, or
    several for ``status``/``severity``); ``limit`` caps the number of cases."""

    status: str | Iterable[str] | None
    customer: str | None
    engineer: str | None
    severity: str | Iterable[str] | None
    tag: str | None
    host: str | None
    updated_since: datetime | None
    limit: int | None


@runtime_checkable
class CaseStore(Protocol):
    """Cases, their status history and their journal."""

    def create_case(self, draft: CaseDraft) -> Case:
        """Save a new case; its status history and journal start with its creation."""
        ...

    def get_case(self, case_id: int) -> Case:
        """The case, or :class:`CaseNotFound`."""
        ...

    def list_cases(self, **filters: Unpack[CaseFilter]) -> list[Case]:
        """Cases matching every given filter (:class:`CaseFilter`), most recently updated
        first."""
        ...

    def update_case(self, case_id: int, expected_version: int, **fields: Any) -> Case:
        """Save ``fields`` (see ``UPDATABLE_FIELDS``) if the case is still at
        ``expected_version``; else :class:`StaleWrite`. Returns the saved case."""
        ...

    def record_status(
        self,
        case_id: int,
        to_status: str,
        *,
        expected_version: int,
        engineer: str = "",
        at: datetime | None = None,
        note: str = "",
    ) -> Case:
        """Change the case's status in one transaction: status history row, case row, and a
        ``status`` journal entry. The caller has already checked the transition is allowed.
        Sets ``resolved_at``/``closed_at`` on entering resolved/closed; any other status (a
        reopen) clears both."""
        ...

    def status_changes(self, case_id: int) -> list[StatusChange]: ...

    def append_journal(
        self,
        case_id: int,
        kind: str,
        text: str = "",
        *,
        engineer: str = "",
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
        first_response: bool = False,
    ) -> JournalEntry:
        """Add one entry to the case's timeline (``at`` defaults to now). With
        ``first_response=True`` (customer updates) the same transaction sets the case's
        ``first_response_at`` to the entry's time if it is not set yet, bumping its version."""
        ...

    def journal(self, case_id: int) -> list[JournalEntry]:
        """The case's timeline, oldest first (by time, then by insertion order)."""
        ...


@runtime_checkable
class KbStore(Protocol):
    """What features may ask of a knowledge-base store."""

    def create_article(self, draft: ArticleDraft) -> Article:
        """Save a new article. Without a slug one is made from the title (``-2``, ``-3``...
        appended when taken); a given slug that is taken raises :class:`KbError`."""
        ...

    def update_article(self, article_id: int, expected_version: int, **fields: Any) -> Article:
        """Save ``fields`` (see ``ARTICLE_FIELDS``) if the article is still at
        ``expected_version``; else :class:`StaleWrite`."""
        ...

    def get_article(self, ref: int | str) -> Article:
        """By id (int or digits) or slug; :class:`ArticleNotFound`."""
        ...

    def list_articles(self, *, tag: str | None = None) -> list[Article]:
        """All articles (with ``tag`` only, when given), ordered by title."""
        ...

    def delete_article(self, article_id: int) -> None:
        """Remove the article; :class:`ArticleNotFound` if there is none."""
        ...

    def search_articles(
        self, query: str, *, limit: int = 20, tag: str | None = None
    ) -> list[SearchHit]:
        """Most relevant first. Any user text is safe (quotes, ``-``, ``*``, ``AND``...): it is
        read as words, all of which must appear (the last one as a prefix, for
        search-as-you-type); when no article has them all, articles with any of them. ``""``
        (or text without words) gives ``[]``."""
        ...

    def article_count(self) -> int: ...

    def article_slugs(self) -> set[str]:
        """Every article's slug (cheap: for imports and the starter set)."""
        ...

    def kb_version(self) -> str:
        """Changes whenever an article is created, edited or deleted (one cheap query): for
        caches of what is derived from all articles, e.g. compiled match rules."""
        ...

    def get_kb_meta(self, key: str) -> str | None:
        """A KB bookkeeping value (e.g. whether the starter set was installed)."""
        ...

    def set_kb_meta(self, key: str, value: str) -> None: ...


@runtime_checkable
class MetricsStore(Protocol):
    """Bulk reads for one period ``[since, until)``; ``engineer`` keeps only that engineer's
    cases (``Case.engineer``). The rules are in the comments above :class:`CaseColumns`."""

    def metrics_cases(self, *, since: datetime, until: datetime,
                      engineer: str | None = None) -> CaseColumns:
        """The relevant cases of the period."""
        ...

    def metrics_history(self, *, since: datetime, until: datetime,
                        engineer: str | None = None) -> HistoryColumns:
        """The relevant cases' pauses and irregular histories."""
        ...

    def metrics_ref_counts(self, *, since: datetime, until: datetime,
                           engineer: str | None = None) -> list[RefCount]:
        """Distinct cases per signature of ``log_excerpt`` entries and per article of
        ``kb_article``/``known_issue`` entries written in ``[since, until)``."""
        ...


#: The kinds of rows :meth:`BulkReader.row_counts` counts (and a migration copies).
ROW_KINDS: tuple[str, ...] = ("case", "journal", "status", "kb")


@runtime_checkable
class BulkReader(Protocol):
    """Whole cases at a time, for copying a store (times, ids and counters as stored)."""

    def case_ids(self) -> list[int]:
        """Every case's id, ascending."""
        ...

    def case_history(self, case_id: int) -> CaseHistory:
        """The case with its journal and status history (by id), or :class:`CaseNotFound`."""
        ...

    def row_counts(self) -> dict[str, int]:
        """Rows per kind of :data:`ROW_KINDS`: cases, journal entries, status changes, KB
        articles."""
        ...


@runtime_checkable
class Store(CaseStore, KbStore, MetricsStore, BulkReader, Protocol):
    """A case store with everything features may ask of it; what
    :func:`diagkit.store.select.open_store` returns."""

    @property
    def path(self) -> Path | str:
        """Where it is, for messages: a file, or the team store's URL without password."""
        ...

    def migrate(self) -> int:
        """Apply missing schema migrations; return the schema version now in force."""
        ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


#: What :meth:`ImportTarget.import_article` did with an article.
KB_OUTCOMES: tuple[str, ...] = ("inserted", "updated", "identical", "kept_newer")


@runtime_checkable
class ImportTarget(Protocol):
    """A store that takes another store's cases and articles with new ids, remembering which
    source row became which (so a rerun copies only what is missing). ``source_id`` names the
    source store (its stable id)."""

    @property
    def path(self) -> Path | str: ...

    def import_case(self, source_id: str, history: CaseHistory) -> dict[str, int]:
        """Copy the case (once: its fields are not updated later), its hosts and the journal
        entries and status changes not copied yet, in one transaction; times, engineers and
        version counters as they are. Returns the rows copied now per kind."""
        ...

    def import_article(self, source_id: str, article: Article) -> str:
        """Merge one article by slug (its ``source_case`` is the source's case id): a new slug
        is inserted, an identical article left alone, otherwise the newer ``updated`` wins.
        Returns one of :data:`KB_OUTCOMES`."""
        ...

    def imported_counts(self, source_id: str) -> dict[str, int]:
        """Per kind of :data:`ROW_KINDS`: rows copied from ``source_id`` that still exist."""
        ...


@runtime_checkable
class SampleStore(Protocol):
    """The monitoring history: metric samples per host at three resolutions
    (:data:`RESOLUTIONS`), each kept as long as :class:`Retention` says."""

    retention: Retention

    def resolution_for(self, since: float, now: float | None = None) -> str:
        """The finest resolution whose retention still reaches back to ``since``."""
        ...

    def append(self, samples: Iterable[tuple[str, float, Mapping[str, float | None]]]) -> int:
        """Store ``(host, epoch_seconds, {metric: value})`` samples in one transaction.

        Missing and non-finite values are skipped; a repeated (host, metric, time) keeps the
        first value and is not counted twice in the aggregates. Returns values stored.
        """
        ...

    def prune(self, now: float | None = None) -> dict[str, int]:
        """Drop what is older than its resolution's retention; returns rows removed per
        resolution."""
        ...

    def hosts(self) -> list[str]: ...

    def metrics(self, host: str) -> list[str]: ...

    def read(self, host: str, metric: str, *, since: float, until: float | None = None,
             resolution: str | None = None, now: float | None = None) -> SeriesData:
        """The series between ``since`` and ``until`` (epoch seconds), oldest first, at
        ``resolution`` (None: :meth:`resolution_for` ``since``)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


# -- backends --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """What a backend subpackage offers :mod:`diagkit.store.select`, as its module attribute
    ``BACKEND``: the URL schemes it serves and how to open a URL of one of them (``lazy``:
    connect on first use, in a worker, rather than now)."""

    schemes: tuple[str, ...]
    open_store: Callable[[str, bool], Store]
    open_samples: Callable[[str, bool], SampleStore]
    #: The URL as shown in status lines and messages (never a password).
    describe: Callable[[str], str]
