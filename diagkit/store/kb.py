"""Knowledge-base records and the :class:`KbStore` protocol.

An :class:`Article` is a known problem written down once: symptoms, environment, cause and
resolution (Markdown), plus :class:`MatchRule` s that recognise the problem in evidence (probe
findings, probe metrics, log lines, log signatures; see :mod:`diagkit.kb.match`). Articles are
searched with full-text search ranked by relevance (title weighted highest).

Like the case store, everything here is plain data; the SQL lives in
:mod:`diagkit.store.sqlite_kb`. Articles are editable (unlike the journal): ``update_article``
takes the ``version_counter`` the caller last read and raises :class:`StaleWrite` when someone
saved in between.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from diagkit.errors import KbError
from diagkit.rules_regex import UnsafePattern, compile_rule_pattern
from diagkit.store import StaleWrite, StoreError

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


class ArticleNotFound(StoreError):
    def __init__(self, ref: int | str) -> None:
        self.ref = ref
        what = f"number {ref}" if isinstance(ref, int) else f"{ref!r}"
        super().__init__(
            f"There is no knowledge-base article {what}. Search with 'diagkit kb search WORDS' "
            "to find its slug."
        )


class StaleArticleWrite(StaleWrite):
    """Someone saved the article after the caller read it (a :class:`StaleWrite`)."""

    def __init__(self, article_id: int, expected: int, actual: int) -> None:
        self.case_id = article_id  # StaleWrite's attribute; kept for code that reads it
        self.article_id = article_id
        self.expected = expected
        self.actual = actual
        StoreError.__init__(
            self,
            f"Article {article_id} was changed by someone else since you opened it (your copy is "
            f"version {expected}, the saved one is version {actual}); your changes were not "
            "saved. Reload the article, re-apply your changes and save again.",
        )


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


@runtime_checkable
class KbStore(Protocol):
    """What features may ask of a knowledge-base store. Implementations: ``SqliteStore``,
    ``PgStore``."""

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
        """Save a new article. Without ``slug`` one is made from the title (``-2``, ``-3``...
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

    def get_kb_meta(self, key: str) -> str | None:
        """A KB bookkeeping value (e.g. whether the starter set was installed)."""
        ...

    def set_kb_meta(self, key: str, value: str) -> None: ...


__all__ = [
    "ARTICLE_FIELDS",
    "HIGHLIGHT_END",
    "HIGHLIGHT_START",
    "RULE_KINDS",
    "RULE_OPS",
    "Article",
    "ArticleNotFound",
    "KbStore",
    "MatchRule",
    "SearchHit",
    "StaleArticleWrite",
    "as_rules",
    "check_slug",
    "slugify",
]
