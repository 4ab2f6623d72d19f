"""Customer updates: plain-language messages pre-filled from the case, ready for the engineer
to edit and send (clipboard, ``.eml`` or ``.txt``).

Templates are plain-text Jinja2 files named ``<kind>.jinja2``, one per :data:`UPDATE_KINDS`.
The first line is ``Subject: ...``, then a blank line, then the body. The package's own
templates live in ``diagkit/cases/templates/``; a file of the same name in
``config_dir()/"templates"/"updates"`` is used instead (searched first). Templates are always
rendered in a :class:`diagkit.templating.BoundedSandbox` (user files are not trusted code: Jinja's
sandbox, bounded to :data:`MAX_UPDATE_CHARS` characters and :data:`RENDER_SECONDS` seconds),
with undefined variables an error; every template problem is a :class:`ConfigError` naming the
template file and line.

Variables a template can use:

=================  ==========================================================================
``case``           the :class:`~diagkit.store.Case` (``case.title``, ``case.ticket_ref`` ...)
``case_ref``       ``Case 12``
``greeting_name``  the contact's name, else the customer, else ``there``
``engineer``       who signs
``priority_text``  ``our highest priority`` .. ``low priority`` ("" before triage)
``checked``        what was checked, in plain words (from probe/command/log journal entries)
``findings``       titles of the warning-and-worse findings
``requests``       what the customer is asked for (``information_request``)
``cause``, ``fix``, ``workaround``, ``next_step``  from the latest notes: lines
                   ``Cause: ...``, ``Fix: ...`` (or ``Resolution:``/``Solution:``),
                   ``Workaround: ...``, ``Next: ...``; ``fix`` falls back to the last note
``explanations``   ``(term, meaning)`` pairs from :func:`diagkit.cases.glossary.explain`
=================  ==========================================================================

Where a template has nothing to say it writes a placeholder (``[describe the next step]``);
:func:`require_filled` refuses a draft that still has one, so it never reaches a customer.

Jargon that slips in through findings or notes is explained in a short "What this means" list
(the package templates include ``_what_this_means.jinja2``; if a template leaves it out, the list
is appended at the end).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2

from diagkit import config
from diagkit.cases.desk import CaseInputError, CaseSla, finding_from_dict
from diagkit.cases.glossary import explain
from diagkit.cases.kinds import UPDATE_KINDS
from diagkit.cases.placeholders import (
    PLACEHOLDER,
    Placeholder,
    UnfilledPlaceholder,
    placeholders,
    require_filled,
)
from diagkit.errors import ConfigError
from diagkit.probes.base import Finding, Severity
from diagkit.store import Case, JournalEntry
from diagkit.templating import BoundedSandbox, render_bounded, template_problem
from diagkit.textsafe import one_line

PACKAGE_TEMPLATES = Path(__file__).with_name("templates")
#: Most characters a customer update (or any text its template builds) may have.
MAX_UPDATE_CHARS = 1_000_000
#: Seconds composing one update may take (both rendering passes together): the composer runs
#: it on the GUI thread, so a runaway template must stop soon.
RENDER_SECONDS = 5.0

_PRIORITY = {"S1": "our highest priority", "S2": "high priority", "S3": "normal priority",
             "S4": "low priority"}

# What each built-in probe looks at, in the customer's words.
_CHECKS = {
    "system": "general system health", "cpu": "processor load", "memory": "memory use",
    "disk": "disk space and storage", "network": "network settings and connections",
    "services": "background services", "kernel": "operating system error messages",
    "logs": "system logs", "processes": "running programs", "files": "open files",
}


@dataclass(frozen=True)
class Draft:
    """A message to the customer: what ``compose`` proposes and the engineer edits."""

    kind: str
    subject: str
    body: str
    to: str = ""


def user_templates_dir() -> Path:
    """Where user overrides of the update templates live (searched first)."""
    return config.config_dir() / "templates" / "updates"


def _environment() -> BoundedSandbox:
    loader = jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(str(user_templates_dir())),
        jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES)),
    ])
    # Plain text: no HTML autoescape (the body is a text/plain mail part).
    return BoundedSandbox(max_output=MAX_UPDATE_CHARS, time_budget=RENDER_SECONDS,
                          what="customer update", loader=loader,
                          undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True,
                          lstrip_blocks=True, keep_trailing_newline=True)


def _notes(journal: Sequence[JournalEntry]) -> list[str]:
    """Note texts oldest first, each replaced by its latest correction."""
    corrected: dict[int, str] = {}
    for e in journal:
        if e.kind == "correction" and isinstance(e.data.get("corrects"), int):
            corrected[e.data["corrects"]] = e.text
    return [corrected.get(e.id, e.text) for e in journal if e.kind == "note"]


def _labelled(notes: Sequence[str], *labels: str) -> str:
    """The text after ``Label:`` in the latest note that has one ("" if none)."""
    pattern = re.compile(rf"^\s*[*_#-]*\s*(?:{'|'.join(labels)})\s*:\s*(.*)$",
                         re.IGNORECASE | re.MULTILINE)
    for note in reversed(notes):
        found = [m.group(1).strip() for m in pattern.finditer(note)]
        if found:
            return "\n".join(found)
    return ""


def _checked(journal: Sequence[JournalEntry]) -> list[str]:
    by_host: dict[str, list[str]] = {}
    commands: dict[str, int] = {}
    logs: list[str] = []
    for e in journal:
        host = str(e.data.get("host", "")) or "your system"
        if e.kind == "probe":
            areas = by_host.setdefault(host, [])
            for name in e.data.get("probes", []):
                area = _CHECKS.get(str(name), str(name))
                if area not in areas:
                    areas.append(area)
        elif e.kind == "command":
            commands[host] = commands.get(host, 0) + 1
        elif e.kind == "log_excerpt":
            name = Path(str(e.data.get("file", ""))).name
            if name and name not in logs:
                logs.append(name)
    out = [f"On {host}: {', '.join(areas)}" for host, areas in by_host.items() if areas]
    out += [f"We ran {n} diagnostic command{'s' if n != 1 else ''} on {host}"
            for host, n in commands.items()]
    if logs:
        out.append(f"We reviewed the log file{'s' if len(logs) > 1 else ''} {', '.join(logs)}")
    return out


def _journal_findings(journal: Sequence[JournalEntry]) -> list[Finding]:
    latest: dict[str, JournalEntry] = {}
    for e in journal:
        if e.kind == "probe":
            latest[str(e.data.get("host", ""))] = e
    return [finding_from_dict(d) for e in latest.values() for d in e.data.get("findings", [])
            if isinstance(d, Mapping)]


def _render(env: BoundedSandbox, kind: str, context: Mapping[str, Any]) -> str:
    name = f"{kind}.jinja2"
    try:
        return render_bounded(env, name, context)
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"No template for the update kind {kind!r} ({exc.name}). Restore it or "
                          f"remove the override in {user_templates_dir()}.") from exc
    except Exception as exc:  # anything a template can raise: a message, never a traceback
        where, what = template_problem(exc)
        raise ConfigError(f"The update template {name!r} ({where}): {what}. Fix it in "
                          f"{user_templates_dir()} or remove it (the built-in one is used "
                          "then).") from exc


def _split(text: str, kind: str) -> tuple[str, str]:
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        return first[len("subject:"):].strip(), rest.strip("\n") + "\n"
    return kind.replace("_", " ").capitalize(), text + "\n"


def _greeting_name(case: Case) -> str:
    """'Jane Doe <jane@acme.example>' -> 'Jane Doe'; a bare address is no name to greet."""
    name = case.contact.split("<")[0].strip().strip('"')
    if not name or "@" in name:
        return case.customer or "there"
    return name


def compose(kind: str, case: Case, *, journal: Sequence[JournalEntry] = (),
            findings: Sequence[Finding] = (), sla: CaseSla | None = None, engineer: str = "",
            requests: Sequence[str] = ()) -> Draft:
    """A pre-filled customer update of ``kind`` (one of :data:`UPDATE_KINDS`) for ``case``.

    ``findings`` default to those of the latest probe run per host in ``journal``. ``sla`` is
    accepted for templates that want it (``sla`` variable; may be ``None``).
    """
    if kind not in UPDATE_KINDS:
        raise CaseInputError(f"Unknown update kind {kind!r}; use one of {', '.join(UPDATE_KINDS)}.")
    found = list(findings) if findings else _journal_findings(journal)
    titles = list(dict.fromkeys(f.title for f in sorted(found, key=lambda f: -f.severity)
                                if f.severity >= Severity.WARNING))
    notes = _notes(journal)
    last = notes[-1] if notes else ""
    from diagkit.cases.desk import engineer_name

    context: dict[str, Any] = {
        "case": case, "case_ref": f"Case {case.id}", "kind": kind, "sla": sla,
        "greeting_name": _greeting_name(case),
        "engineer": engineer or case.engineer or engineer_name(),
        "priority_text": _PRIORITY.get(case.severity or "", ""),
        "checked": _checked(journal), "findings": titles,
        "requests": [r.strip() for r in requests if r.strip()],
        "cause": _labelled(notes, "cause", "root cause"),
        "fix": _labelled(notes, "fix", "resolution", "solution") or last,
        "workaround": _labelled(notes, "workaround"),
        "next_step": _labelled(notes, "next", "next step").rstrip("."),
        "explanations": [],
    }
    env = _environment()
    # Two passes: the jargon to explain is whatever the first rendering (and findings) contain.
    first = _render(env, kind, context)
    context["explanations"] = explain(first)
    text = _render(env, kind, context)
    subject, body = _split(text, kind)
    if context["explanations"] and "what this means" not in body.lower():
        body += "\nWhat this means:\n" + "".join(
            f"- {term}: {meaning}\n" for term, meaning in context["explanations"])
    return Draft(kind=kind, subject=subject, body=body, to=case.contact)


def _sender() -> str:
    settings = config.load_settings()
    email = settings.get("email")
    if isinstance(email, str) and email.strip():
        return email.strip()
    from diagkit.cases.desk import engineer_name

    return engineer_name()


# Line breaks and other controls in a header value would end the header and start another
# (header injection: "Bob\nBcc: someone@else" adds a recipient).
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _address_header(field: str, value: str) -> str:
    """An address for the ``field`` header, refused (clearly) if it holds a line break or
    another control character: an address is never silently rewritten."""
    value = value.strip()
    bad = _HEADER_BREAKS.search(value)
    if bad:
        raise CaseInputError(
            f"The {field} address '{one_line(value)}' contains a line break or control character "
            f"({bad.group(0)!r}); a mail header cannot hold one (it could add headers such as "
            f"Bcc: to the message). Correct the {field} address (the case's contact, the "
            "composer's To: field, or the 'email' setting) and save again, or save as .txt.")
    return value


def _subject_header(value: str) -> str:
    """The subject on one line: line breaks and control characters become spaces."""
    return " ".join(_HEADER_BREAKS.sub(" ", value).split())


def to_eml(draft: Draft, *, sender: str = "") -> bytes:
    """The draft as an RFC 5322 message (plain text UTF-8), for any mail client to open.

    ``sender`` defaults to settings ``"email"``, else the engineer's name. A To or From address
    with a line break is refused with :class:`CaseInputError` (it could inject headers); the
    subject is folded onto one line.
    """
    msg = EmailMessage()
    if draft.to.strip():
        msg["To"] = _address_header("To", draft.to)
    msg["From"] = _address_header("From", sender or _sender())
    msg["Subject"] = _subject_header(draft.subject)
    msg["Date"] = format_datetime(datetime.now(UTC))
    # Mail clients open an unsent message as a draft when it says so.
    msg["X-Unsent"] = "1"
    msg.set_content(draft.body)
    return msg.as_bytes()


def to_text(draft: Draft) -> str:
    """The draft as plain text: ``To:`` and ``Subject:`` lines (each kept on its line), blank
    line, body."""
    # A text for copying: an address with a line break is shown escaped, on its one line.
    head = f"To: {one_line(draft.to.strip())}\n" if draft.to.strip() else ""
    return f"{head}Subject: {_subject_header(draft.subject)}\n\n{draft.body}"


def save_draft(draft: Draft, path: Path, *, sender: str = "") -> Path:
    """Write ``draft`` as ``.eml`` or ``.txt`` (by ``path``'s suffix); returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".eml", ".txt"):
        raise CaseInputError(f"Save the update as .eml or .txt, not {path.name!r}.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".eml":
            path.write_bytes(to_eml(draft, sender=sender))
        else:
            path.write_text(to_text(draft), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror or exc}. Choose another folder."
                          ) from exc
    return path


__all__ = ["PACKAGE_TEMPLATES", "PLACEHOLDER", "UPDATE_KINDS", "Draft", "Placeholder",
           "UnfilledPlaceholder", "compose", "placeholders", "require_filled", "save_draft",
           "to_eml", "to_text", "user_templates_dir"]
