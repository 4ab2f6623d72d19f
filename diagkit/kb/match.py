"""Known-error matching: which knowledge-base articles describe what this host shows.

Pure: no store, no I/O. Build a :class:`KnownErrorMatcher` once from the articles (it compiles
every rule's regex), then match :class:`Evidence` (a probe snapshot's findings and metrics, log
lines, log signatures) or single log lines. An article matches when ANY of its rules matches;
each :class:`KnownIssue` carries the human reasons, e.g.
``finding "Filesystem / is 97 % full" matches /is \\d+ % full/``.

Patterns run on RE2 (:mod:`diagkit.rules_regex`), whose time is linear in the text: no rule,
whoever wrote it, can make matching hang. A stored rule the engine cannot take (saved before
that check, or by an older diagkit) is skipped: listed in :attr:`KnownErrorMatcher.skipped`
and logged once as a warning on the ``diagkit.kb.match`` logger (the CLI shows those on stderr).
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagkit.errors import KbError
from diagkit.probes.base import Finding
from diagkit.rules_regex import Regex, compile_rule_pattern
from diagkit.store.contract import Article, KbStore, MatchRule

if TYPE_CHECKING:
    from diagkit.probes.runner import HostSnapshot

#: Reasons kept per article (one rule may match hundreds of log lines).
MAX_REASONS = 5
#: Log lines taken from one snapshot's log and kernel probes.
_LOG_TABLES = (("logs", "lines", "message"), ("kernel", "events", "message"))

log = logging.getLogger(__name__)
#: (slug, rule) pairs already warned about in this process (matchers are rebuilt often).
_warned: set[tuple[str, str]] = set()

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
}


@dataclass(frozen=True)
class Evidence:
    """What we know about a host (or a case): the inputs of :meth:`KnownErrorMatcher.match`."""

    host: str = ""
    findings: Sequence[Finding] = ()
    metrics: Sequence[tuple[str, Mapping[str, str], float, str]] = ()  # name, labels, value, probe
    log_lines: Sequence[str] = ()
    signatures: Sequence[str] = ()  # masked signature texts (diagkit.logs.signatures)


def evidence_from_snapshot(snapshot: HostSnapshot) -> Evidence:
    """A probe snapshot as evidence: every finding and metric, plus the log lines the ``logs``
    and ``kernel`` probes brought back (and their masked signatures)."""
    from diagkit.logs.signatures import mask

    metrics = [(m.name, dict(m.labels), float(m.value), r.probe)
               for r in snapshot.results for m in r.data.metrics]
    lines: list[str] = []
    for probe, table_name, column in _LOG_TABLES:
        result = snapshot.result(probe)
        table = result.data.table(table_name) if result is not None else None
        if table is not None and column in table.columns:
            lines += [str(cell) for cell in table.column(column)]
    signatures = list(dict.fromkeys(mask(line) for line in lines))
    return Evidence(host=snapshot.host, findings=tuple(snapshot.findings), metrics=tuple(metrics),
                    log_lines=tuple(lines), signatures=tuple(signatures))


@dataclass(frozen=True)
class KnownIssue:
    """An article whose rules matched, and why (human sentences, at most ``MAX_REASONS``)."""

    article_id: int
    slug: str
    title: str
    reasons: tuple[str, ...]


def _short(text: str, n: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class SkippedRule:
    """A stored rule the matcher cannot use, and why (see :meth:`MatchRule.validate`)."""

    slug: str
    rule: MatchRule
    reason: str

    def describe(self) -> str:
        return (f"KB article {self.slug!r}: a {self.rule.kind} rule is skipped. {self.reason} "
                f"Edit the article (diagkit kb export, fix, diagkit kb import; or the app's "
                f"article editor).")


class _Compiled:
    __slots__ = ("rule", "rx")

    def __init__(self, rule: MatchRule) -> None:
        rule.validate()  # rules read back from a store were not checked (check=False)
        self.rule = rule
        self.rx: Regex | None = (compile_rule_pattern(rule.pattern) if rule.kind != "metric"
                                 else None)

    def reasons(self, ev: Evidence) -> Iterable[str]:
        rule, rx = self.rule, self.rx
        if rule.kind == "finding":
            assert rx is not None
            for f in ev.findings:
                if (not rule.probe or f.probe == rule.probe) and rx.search(f.title):
                    yield f'finding "{_short(f.title)}" matches /{rule.pattern}/'
        elif rule.kind == "metric":
            compare = _OPS[rule.op]
            assert rule.value is not None
            for name, labels, value, probe in ev.metrics:
                if name != rule.metric or (rule.probe and probe != rule.probe):
                    continue
                if any(labels.get(k) != v for k, v in rule.labels.items()):
                    continue
                if compare(value, rule.value):
                    where = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
                    yield (f"metric {name}{'{' + where + '}' if where else ''} = {_num(value)} "
                           f"{rule.op} {_num(rule.value)}")
        else:
            assert rx is not None
            texts = ev.log_lines if rule.kind == "log" else ev.signatures
            for text in texts:
                if rx.search(text):
                    yield f'{rule.kind} "{_short(text)}" matches /{rule.pattern}/'


class KnownErrorMatcher:
    """Matches evidence against a fixed set of articles (rules compiled once, in __init__)."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self._articles: list[tuple[Article, list[_Compiled]]] = []
        #: Rules left out because they cannot run (each one also logged once as a warning).
        self.skipped: list[SkippedRule] = []
        for article in articles:
            compiled = []
            for rule in article.rules:
                try:
                    compiled.append(_Compiled(rule))
                except KbError as exc:
                    self._skip(SkippedRule(article.slug, rule, str(exc)))
            if compiled:
                self._articles.append((article, compiled))
        self._line_rules = [
            (article, [c for c in compiled if c.rule.kind in ("log", "signature")])
            for article, compiled in self._articles
        ]
        self._line_rules = [(a, cs) for a, cs in self._line_rules if cs]

    def _skip(self, skipped: SkippedRule) -> None:
        self.skipped.append(skipped)
        key = (skipped.slug, repr(skipped.rule))
        if key not in _warned:
            _warned.add(key)
            log.warning("%s", skipped.describe())

    def __len__(self) -> int:
        """How many articles have rules."""
        return len(self._articles)

    def match(self, evidence: Evidence) -> list[KnownIssue]:
        """Articles with at least one matching rule, in the order they were given."""
        found = []
        for article, compiled in self._articles:
            reasons: list[str] = []
            for c in compiled:
                for reason in c.reasons(evidence):
                    if reason not in reasons:
                        reasons.append(reason)
                    if len(reasons) >= MAX_REASONS:
                        break
                if len(reasons) >= MAX_REASONS:
                    break
            if reasons:
                found.append(KnownIssue(article.id, article.slug, article.title, tuple(reasons)))
        return found

    def match_line(self, line: str) -> list[KnownIssue]:
        """Articles whose log or signature rules match one log line (cheap: for a log viewer)."""
        if not self._line_rules:
            return []
        from diagkit.logs.signatures import mask

        ev = Evidence(log_lines=(line,), signatures=(mask(line),))
        found = []
        for article, compiled in self._line_rules:
            reason = next((r for c in compiled for r in c.reasons(ev)), None)
            if reason is not None:
                found.append(KnownIssue(article.id, article.slug, article.title, (reason,)))
        return found


def load_matcher(store: KbStore) -> KnownErrorMatcher:
    """A matcher over every article in ``store`` (build it again after articles change), the
    shipped starter articles brought in step first (:mod:`diagkit.kb.starters`): known-issue
    matching on a new install already knows the common problems."""
    from diagkit.kb import starters

    if starters.AUTOMATIC:
        starters.sync_starters(store)
    return KnownErrorMatcher(store.list_articles())
