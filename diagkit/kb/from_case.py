"""A draft knowledge-base article from a solved case: what the journal already knows.

* symptoms: the case title, the probe findings (warning and worse, per host) and the log
  signatures recorded on the case;
* environment: product, version and hosts;
* cause / resolution: read from the engineer's notes line by line, as the customer updates read
  them (:mod:`diagkit.cases.updates`; corrections applied): lines ``Cause: ...`` /
  ``Root cause: ...`` go to the cause; ``Fix: ...``, ``Resolution: ...``, ``Solution: ...`` to
  the resolution, and ``Workaround: ...`` to it as a workaround paragraph; the note given when
  the case was set to resolved counts as a fix. Indented or bulleted lines under a labelled
  line continue it. Lines without a label are kept apart as investigation notes at the end of
  the cause (the engineer keeps or deletes them), never mixed into it;
* what happened: with the case's timeline (:mod:`diagkit.timeline`, given by the caller: kb
  sits below it), its findings, alerts, forecasts, log incidents, new messages and changes in
  time order follow the cause, so the article tells the story in the order it came;
* rules: only rules that say something about this problem, so the article fires the next time
  the same evidence shows up and not on every busy host: one ``finding`` rule per finding that
  names its subject (a mount, a unit, a device, an interface, a process; numbers generalised
  to ``\\d+``) and one ``signature`` rule per log signature with enough literal text. "CPU
  nearly saturated", "High load average", "OOM killer ran (1 process killed)" name nothing and
  are left out (:func:`specific_finding`); they stay listed under the symptoms.

Only a draft: the engineer edits it before saving (GUI: ArticleDialog; CLI: ``kb new
--from-case N`` writes it to a file and opens ``$EDITOR``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
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


# A labelled line, written as the customer updates read them: "Cause: ...", "**Fix:** ...",
# "- Workaround: ...", "## Root cause: ...".
_LABEL = re.compile(r"^\s*[*_#-]*\s*(root\s+cause|cause|fix(?:ed)?|resolution|solution|"
                    r"workaround)\s*[*_]*\s*:[*_]*\s*(.*)$", re.IGNORECASE)
_SECTION = {"root cause": "cause", "cause": "cause", "fix": "fix", "fixed": "fix",
            "resolution": "fix", "solution": "fix", "workaround": "workaround"}
# A line continuing the labelled line above it: indented, or a list item.
_CONTINUED = re.compile(r"^(\s+\S|\s*(?:[-*+]|\d+[.)])\s)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# What makes a finding title name its subject: a path or mount, a systemd unit, a named device,
# interface, unit, filesystem or process, a quoted name, a name in parentheses, a name after
# "on", "from", "by" or a colon
# ("on sdb", "from gunicorn", ": eno1"); not a count or a state letter in parentheses ("(D)").
_SUBJECT = re.compile(
    r"(?<![\w/])/(?:[\w.@-]|\s|$)|\b[\w@.-]+\.(?:service|timer|socket|mount|target|path|scope)\b"
    r"|\b(?:Device|Interface|Unit|Service|Filesystem|Mount|Process|PID|pid|[Uu]ser)\s+[\w/'\"]"
    r"|\b(?:on|from|by)\s+(?!the\b|a\b)[a-z][\w@.-]*|:\s+[a-z][\w@.-]*"
    r"|'[^']+'|\"[^\"]+\"|\((?!\d)[^)]*[A-Za-z]{3}[^)]*\)")
#: Fewer literal characters than this in a masked signature (placeholders left out) match too
#: many unrelated lines to recognise a problem.
MIN_SIGNATURE_TEXT = 16
_PLACEHOLDER = re.compile(r"<[A-Z_*]+>|<\*>")


def specific_finding(title: str) -> bool:
    """The finding names what it is about, so a rule on its title recognises this problem and
    not any busy host (``Filesystem /data is 97 % full``: yes; ``CPU nearly saturated``,
    ``High load average``, ``3 processes in uninterruptible sleep``: no)."""
    return _SUBJECT.search(title) is not None


def specific_signature(signature: str) -> bool:
    """The masked log signature has enough literal text to recognise one problem."""
    literal = _PLACEHOLDER.sub("", signature)
    return len(re.sub(r"\W+", "", literal)) >= MIN_SIGNATURE_TEXT


def labelled(text: str) -> tuple[dict[str, list[str]], list[str]]:
    """A note's labelled lines by section (``cause``, ``fix``, ``workaround``) and its other
    lines (investigation notes), blank lines dropped."""
    found: dict[str, list[str]] = {"cause": [], "fix": [], "workaround": []}
    other: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if not line.strip():
            current = None
            continue
        m = _LABEL.match(line)
        if m:
            section = found[_SECTION[" ".join(m.group(1).lower().split())]]
            section.append(m.group(2).strip())
            current = section
        elif current is not None and _CONTINUED.match(line):
            current.append(line.rstrip())
        else:
            current = None
            other.append(line.strip())
    return found, other


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

    sections: dict[str, list[str]] = {"cause": [], "fix": [], "workaround": []}
    other: list[str] = []

    def take(text: str, default: str | None = None) -> None:
        found, rest = labelled(text)
        for name, lines in found.items():
            sections[name] += [ln for ln in lines if ln and ln not in sections[name]]
        if default is not None and rest and not any(found.values()):
            sections[default].append("\n".join(rest))  # an unlabelled resolve note is the fix
        else:
            other.extend(r for r in rest if r not in other)

    notes = _texts_with_corrections(journal)
    for e in journal:
        if e.kind == "note":
            take(notes[e.id])
        elif e.kind == "status" and e.data.get("to") == "resolved":
            text = e.text.strip()
            if text and not text.startswith("Status:"):
                take(text, default="fix")
    cause = "\n".join(sections["cause"])
    happened = what_happened(timeline)
    if happened:  # after the engineer's own words on the cause, before the notes
        cause = (cause + "\n\n" if cause else "") + "What happened (from the case's " \
            "timeline):\n" + "\n".join(happened)
    if other:
        cause = (cause + "\n\n" if cause else "") + "Investigation notes (keep what explains the " \
            "cause, delete the rest):\n" + "\n".join(f"- {t}" for t in other)
    resolution = "\n".join(sections["fix"])
    if sections["workaround"]:
        resolution = (resolution + "\n\n" if resolution else "") + "Workaround: " + "\n".join(
            sections["workaround"])

    # Log signatures first: the case's own messages say most about this problem (MAX_RULES).
    rules = [MatchRule("signature", signature_pattern(s)) for s in signatures
             if specific_signature(s)]
    rules += [MatchRule("finding", finding_pattern(title), probe=probe)
              for title, (probe, _severity, _hosts) in findings.items()
              if specific_finding(title)]

    return ArticleDraft(
        title=case.title,
        symptoms="\n".join(symptoms).strip(),
        environment="\n".join(environment),
        cause=cause,
        resolution=resolution,
        tags=tuple(case.tags),
        rules=tuple(rules[:MAX_RULES]),
        source_case=case.id,
        author=case.engineer,
    )


# --- draft files (CLI: kb new --from-case) ----------------------------------------------------

#: Folder (under the data dir) where drafts from cases are written to be edited.
DRAFTS_FOLDER = "kb-drafts"


def write_draft_file(draft: ArticleDraft, folder: Path | None = None) -> Path:
    """The draft as an article file to edit (``case-N.md``, never overwriting an earlier draft)
    in ``folder`` (default: the data dir's ``kb-drafts``, private: it quotes case notes)."""
    from diagkit import config
    from diagkit.errors import KbError
    from diagkit.kb.markdown import article_to_markdown

    folder = Path(folder) if folder is not None else config.data_dir() / DRAFTS_FOLDER
    stem = f"case-{draft.source_case}" if draft.source_case is not None else "draft"
    try:
        config.private_dir(folder)
        for n in range(1, 1000):
            path = folder / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with open(fd, "w", encoding="utf-8") as f:
                f.write(article_to_markdown(draft))
            return path
    except OSError as exc:
        raise KbError(f"Cannot write the draft article to {folder}: {exc.strerror or exc}. "
                      "Check that the folder is writable.") from exc
    raise KbError(f"{folder} already holds 999 drafts named {stem}*.md: save or delete some.")


def read_draft_file(path: Path) -> ArticleDraft | None:
    """The article as edited in ``path``; None when the file was emptied (the engineer gave up),
    :class:`KbError` naming the file and line when it does not read as an article."""
    from diagkit.errors import KbError
    from diagkit.kb.markdown import article_from_markdown

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KbError(f"Cannot read the draft {path}: {exc}. Nothing was saved.") from exc
    if not text.strip():
        return None
    return article_from_markdown(text, name=str(path))
