"""A draft knowledge-base article from a solved case: what the journal already knows.

* symptoms: the case title, the probe findings (warning and worse, per host) and the log
  signatures recorded on the case;
* environment: product, version and hosts;
* cause / resolution: from the engineer's notes (corrections applied): a note starting with
  "Cause:" / "Root cause:" goes to the cause, one starting with "Resolution:", "Fix:",
  "Fixed", "Workaround:" or "Solution:" to the resolution, like the note given when the case
  was set to resolved; other notes are kept under the cause as investigation notes;
* what happened: with the case's timeline (:mod:`diagkit.timeline`, given by the caller: kb
  sits below it), its findings, alerts, forecasts, log incidents, new messages and changes in
  time order follow the cause, so the article tells the story in the order it came;
* rules: one ``finding`` rule per finding title (numbers generalised to ``\\d+``) and one
  ``signature`` rule per log signature, so the article fires the next time the same evidence
  shows up.

Only a draft: the engineer edits it before saving (GUI: ArticleDialog; CLI: ``kb new``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from diagkit.store.contract import ArticleDraft, Case, JournalEntry, MatchRule

if TYPE_CHECKING:
    from datetime import datetime

#: Rules made at most (a case with fifty findings would give a rule soup nobody reviews).
MAX_RULES = 8
#: Lines of "what happened" at most (the last ones: closest to the problem).
MAX_HAPPENED = 15
#: The timeline's kinds that tell what happened (not the engineer's own work: notes, commands).
HAPPENED_KINDS = frozenset({"finding", "alert", "forecast", "incident", "signature", "change"})
#: Changes this long before the first problem are part of the story.
CHANGES_BEFORE = timedelta(hours=1)


class TimelineLike(Protocol):
    """What is read of a :class:`diagkit.reports.model.TimelineEvent`."""

    @property
    def time(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def topic(self) -> str: ...


def what_happened(timeline: Sequence[TimelineLike]) -> list[str]:
    """Markdown list lines, in time order: the problems the timeline saw (findings, alerts,
    forecasts, log incidents, new messages; not those easing) and the changes of the hour
    before the first of them up to the last (logins left out). Beyond :data:`MAX_HAPPENED`
    lines the earliest changes go first, then the middle (the onset and the end stay)."""
    problems = [e for e in timeline if e.kind in HAPPENED_KINDS and e.kind != "change"
                and not e.text.startswith(("better", "cleared", "alert cleared"))]
    if not problems:
        return []
    start, end = problems[0].time - CHANGES_BEFORE, problems[-1].time
    kept = [e for e in timeline if e in problems or (
        e.kind == "change" and e.topic != "login" and start <= e.time <= end)]
    changes = [e for e in kept if e.kind == "change"]
    dropped = len(kept) - MAX_HAPPENED
    if dropped > 0:  # the changes closest to the problems stay
        far = {id(e) for e in changes[:dropped]}
        kept = [e for e in kept if id(e) not in far]
    lines = [f"- {e.time.astimezone():%Y-%m-%d %H:%M} {e.kind}"
             f"{' on ' + e.host if e.host else ''}: {e.text[:300]}" for e in kept]
    if len(lines) > MAX_HAPPENED:
        head = MAX_HAPPENED // 3
        lines = [*lines[:head], f"- … {len(lines) - MAX_HAPPENED} more event(s)",
                 *lines[-(MAX_HAPPENED - head):]]
    return lines


_CAUSE = re.compile(r"^\s*(?:#+\s*)?(?:root\s+)?cause\s*:?\s*", re.IGNORECASE)
_RESOLUTION = re.compile(
    r"^\s*(?:#+\s*)?(?:resolution|fix(?:ed)?|solution|solved|workaround)\b\s*:?\s*", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def finding_pattern(title: str) -> str:
    """A regex matching this finding title again with other numbers (``97 %`` -> ``\\d+ %``)."""
    parts = _NUMBER.split(title)
    return "^" + r"\d+(?:\.\d+)?".join(re.escape(p) for p in parts) + "$"


def signature_pattern(signature: str) -> str:
    """A regex matching this masked signature text (placeholders stay literal)."""
    return "^" + re.escape(signature) + "$"


def _texts_with_corrections(journal: Sequence[JournalEntry]) -> dict[int, str]:
    """Note text per entry id, with later corrections replacing what they correct."""
    texts = {e.id: e.text for e in journal if e.kind == "note"}
    for e in journal:
        if e.kind == "correction":
            target = e.data.get("corrects")
            if isinstance(target, int) and target in texts:
                texts[target] = e.text
    return texts


def draft_from_case(case: Case, journal: Sequence[JournalEntry],
                    timeline: Sequence[TimelineLike] = ()) -> ArticleDraft:
    """See the module docstring. ``timeline``: the case's timeline events, in time order."""
    findings: dict[str, tuple[str, str, list[str]]] = {}  # title -> (probe, severity, hosts)
    signatures: list[str] = []
    for e in journal:
        if e.kind == "probe":
            host = str(e.data.get("host", ""))
            for f in e.data.get("findings", ()) or ():
                if not isinstance(f, dict) or not f.get("title"):
                    continue
                if f.get("severity", "warning") == "info":
                    continue
                title = str(f["title"])
                probe, severity, hosts = findings.setdefault(
                    title, (str(f.get("probe", "")), str(f.get("severity", "")), []))
                if host and host not in hosts:
                    hosts.append(host)
        elif e.kind == "log_excerpt":
            for s in e.data.get("signatures", ()) or ():
                if isinstance(s, str) and s.strip() and s not in signatures:
                    signatures.append(s)

    symptoms = [case.title + "."] if case.title else []
    if findings:
        symptoms.append("")
        symptoms.append("Probe findings:")
        for title, (probe, severity, hosts) in findings.items():
            where = f" on {', '.join(hosts)}" if hosts else ""
            symptoms.append(f"- {title} ({severity}, {probe or 'probe'}{where})")
    if signatures:
        symptoms.append("")
        symptoms.append("Log messages:")
        symptoms += [f"- `{s}`" for s in signatures]

    environment = []
    if case.product:
        environment.append(f"- Product: {case.product}"
                           + (f" {case.version}" if case.version else ""))
    elif case.version:
        environment.append(f"- Version: {case.version}")
    if case.hosts:
        environment.append(f"- Hosts: {', '.join(case.hosts)}")

    cause: list[str] = []
    resolution: list[str] = []
    other: list[str] = []
    notes = _texts_with_corrections(journal)
    for e in journal:
        if e.kind == "note":
            text = notes[e.id].strip()
            if not text:
                continue
            if _CAUSE.match(text):
                cause.append(_CAUSE.sub("", text, count=1).strip())
            elif _RESOLUTION.match(text):
                resolution.append(_RESOLUTION.sub("", text, count=1).strip())
            else:
                other.append(text)
        elif e.kind == "status" and e.data.get("to") == "resolved":
            text = e.text.strip()
            if text and not text.startswith("Status:"):
                resolution.append(_RESOLUTION.sub("", text, count=1).strip())
    happened = what_happened(timeline)
    if happened:  # after the engineer's own words on the cause, before the notes
        cause.append("What happened (from the case's timeline):\n" + "\n".join(happened))
    if other:
        cause.append("Investigation notes:\n" + "\n".join(f"- {t}" for t in other))

    rules: list[MatchRule] = []
    for title, (probe, _severity, _hosts) in findings.items():
        rules.append(MatchRule("finding", finding_pattern(title), probe=probe))
    rules += [MatchRule("signature", signature_pattern(s)) for s in signatures]

    return ArticleDraft(
        title=case.title,
        symptoms="\n".join(symptoms).strip(),
        environment="\n".join(environment),
        cause="\n\n".join(c for c in cause if c),
        resolution="\n\n".join(r for r in resolution if r),
        tags=tuple(case.tags),
        rules=tuple(rules[:MAX_RULES]),
        source_case=case.id,
        author=case.engineer,
    )
