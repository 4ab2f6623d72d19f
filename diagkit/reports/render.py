"""Render a :class:`~diagkit.reports.model.Bundle` to HTML and Markdown with Jinja2.

Templates live in ``diagkit/reports/templates/`` (``report.html.jinja2``, ``report.md.jinja2``
and ``_*.jinja2`` partials). A user's own templates in ``config_dir()/templates`` are searched
first, so an engineer can restyle the report or the issue body by dropping a file of the same
name there (partials may be overridden one by one).

Safety, in the mitmproxy/pdoc ``render.py`` manner:

* HTML templates are always autoescaped: a ``<script>`` in a log line shows as text.
* ``StrictUndefined``: a typo in a template is an error, never a silently empty section.
* When the user folder holds any template, *everything* renders in Jinja's
  :class:`~jinja2.sandbox.SandboxedEnvironment` (a user template cannot reach Python internals
  through ``__class__``/``__globals__`` and the like). Our own templates run fine in the sandbox.
* Every template problem becomes a :class:`~diagkit.errors.BundleError` naming the template
  file, the line and what went wrong (the missing variable, the refused attribute).

The template context is ``bundle`` (the model), ``findings`` (worst first), ``files`` (paths in
the bundle zip), ``redaction`` (counts per rule, never values) and, for Markdown, the trimming
controls described in :func:`render_markdown`.
"""

from __future__ import annotations

import base64
import re
import traceback
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox

from diagkit import config
from diagkit.errors import BundleError
from diagkit.probes.base import Finding, Severity
from diagkit.reports.model import Bundle
from diagkit.units import human_bytes, human_duration

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
HTML_TEMPLATE = "report.html.jinja2"
MARKDOWN_TEMPLATE = "report.md.jinja2"
MIN_MARKDOWN_BYTES = 512

# Bundle severities (low..critical) and finding severities (info..critical): (text, background).
SEVERITY_COLOURS: dict[str, tuple[str, str]] = {
    "low": ("#ffffff", "#2e7d32"),
    "medium": ("#1f1f1f", "#f2b233"),
    "high": ("#ffffff", "#d84315"),
    "critical": ("#ffffff", "#b71c1c"),
    "info": ("#ffffff", "#1565c0"),
    "warning": ("#1f1f1f", "#f2b233"),
}
# Markdown has no colour; a symbol that survives GitHub, GitLab and Jira alike.
SEVERITY_MARKS: dict[str, str] = {
    "low": "🟢", "info": "🔵", "medium": "🟡", "warning": "🟡", "high": "🟠", "critical": "🔴",
}

_LEVEL = re.compile(
    r"\b(?P<error>EMERG|ALERT|CRIT(?:ICAL)?|FATAL|ERR(?:OR)?|PANIC|SEVERE)\b|\b(?P<warn>WARN(?:ING)?)\b",
    re.IGNORECASE,
)


def user_templates_dir() -> Path:
    """Where an engineer's own templates go (searched before the package's)."""
    return config.config_dir() / "templates"


# --- filters -------------------------------------------------------------------------------------


def _utc(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # the model's times are UTC
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _clock(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%H:%M:%S")


def _label(value: Severity | str) -> str:
    return value.label if isinstance(value, Severity) else str(value).lower()


def _sev_fg(value: Severity | str) -> str:
    return SEVERITY_COLOURS.get(_label(value), ("#ffffff", "#616161"))[0]


def _sev_bg(value: Severity | str) -> str:
    return SEVERITY_COLOURS.get(_label(value), ("#ffffff", "#616161"))[1]


def _sev_mark(value: Severity | str) -> str:
    return SEVERITY_MARKS.get(_label(value), "⚪")


def _png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _line_level(line: str) -> str:
    """``error``, ``warn`` or ``""`` for a log line, so the report can tint it."""
    m = _LEVEL.search(line)
    if not m:
        return ""
    return "error" if m.group("error") else "warn"


def _fence(text: str | Sequence[str]) -> str:
    """A Markdown code fence longer than any backtick run inside ``text`` (no break-out)."""
    if not isinstance(text, str):
        text = "\n".join(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _md_cell(value: Any) -> str:
    """A value safe inside one Markdown table cell: no pipes, no newlines, no raw HTML."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split()) or " "


def _md_inline(value: Any) -> str:
    """One line of text for Markdown prose: newlines folded, raw HTML neutralised."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("<", "&lt;").replace(">", "&gt;").split())


def _md_block(value: Any) -> str:
    """Multi-line prose for Markdown: raw HTML neutralised, line breaks kept."""
    text = "" if value is None else str(value)
    return text.replace("<", "&lt;").replace(">", "&gt;").strip()


def _excerpt_lines(excerpt: Any, limit: int | None = None) -> list[tuple[int, str]]:
    """``(line number, text)`` pairs of a log excerpt, at most ``limit`` of them.

    A shortened excerpt keeps the window around its first error-level line (else its middle):
    that is the line the engineer picked the excerpt for, the context around it comes second.
    """
    numbered = [(excerpt.first_line + i, line) for i, line in enumerate(excerpt.lines)]
    if limit is None or len(numbered) <= limit:
        return numbered
    focus = next((i for i, (_n, line) in enumerate(numbered) if _line_level(line) == "error"),
                 len(numbered) // 2)
    start = min(max(focus - limit // 2, 0), len(numbered) - limit)
    return numbered[start : start + limit]


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


FILTERS: dict[str, Any] = {
    "human_bytes": human_bytes,
    "human_duration": human_duration,
    "utc": _utc,
    "clock": _clock,
    "sev_label": _label,
    "sev_fg": _sev_fg,
    "sev_bg": _sev_bg,
    "sev_mark": _sev_mark,
    "png_data_uri": _png_data_uri,
    "line_level": _line_level,
    "fence": _fence,
    "md_cell": _md_cell,
    "md_inline": _md_inline,
    "md_block": _md_block,
    "num": _num,
    "excerpt_lines": _excerpt_lines,
}


# --- environment ---------------------------------------------------------------------------------


def _user_has_templates(folder: Path) -> bool:
    try:
        return folder.is_dir() and any(p.is_file() for p in folder.rglob("*.jinja2"))
    except OSError:
        return False


def make_environment() -> jinja2.Environment:
    """The Jinja environment for this call: sandboxed when the user folder holds templates.

    Built per render (cheap next to rendering) so a template dropped into the config folder is
    picked up without restarting the app.
    """
    user = user_templates_dir()
    package = jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES))
    sandboxed = _user_has_templates(user)
    loader: jinja2.BaseLoader = (
        jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(user)), package]) if sandboxed else package
    )
    cls = jinja2.sandbox.SandboxedEnvironment if sandboxed else jinja2.Environment
    env = cls(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "html.jinja2"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def _where(exc: BaseException) -> tuple[str, int | None]:
    """The template file and line an exception came from (Jinja rewrites tracebacks so the
    template's frames carry its file name and source line)."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.filename or exc.name or "<template>", exc.lineno
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.endswith(".jinja2") or f.filename == "<template>"
    ]
    if frames:
        return frames[-1].filename, frames[-1].lineno
    return "<template>", None


def _template_error(exc: BaseException, name: str) -> BundleError:
    where, line = _where(exc)
    at = f"{where}, line {line}" if line else where
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    message = message.rstrip(".")  # Jinja's own messages end with one; ours adds the next step
    if isinstance(exc, jinja2.sandbox.SecurityError):
        what = f"refused by the template sandbox: {message}"
    elif isinstance(exc, jinja2.UndefinedError):
        what = f"missing variable or attribute: {message}"
    elif isinstance(exc, jinja2.TemplateSyntaxError):
        what = f"syntax error: {message}"
    elif isinstance(exc, jinja2.TemplateNotFound):
        what = f"template not found: {message}"
    else:
        what = f"{type(exc).__name__}: {message}"
    user = user_templates_dir()
    if str(where).startswith(str(user)):
        fix = f"Fix or remove that template in {user} (the built-in one is used when it is gone)."
    else:
        fix = "This is a bug in diagkit's built-in template; please report it."
    return BundleError(f"Could not render the bug report with template {name!r} ({at}): {what}. {fix}")


def _render(name: str, context: Mapping[str, Any]) -> str:
    env = make_environment()
    try:
        return env.get_template(name).render(**context)
    except (jinja2.TemplateError, TypeError, ValueError, AttributeError, KeyError, IndexError,
            ZeroDivisionError) as exc:
        raise _template_error(exc, name) from exc


def _base_context(bundle: Bundle, files: Sequence[str],
                  redaction: Mapping[str, int] | None) -> dict[str, Any]:
    # Worst first; stable, so findings of equal severity keep the engineer's order.
    findings: list[Finding] = sorted(bundle.findings, key=lambda f: -int(f.severity))
    return {
        "bundle": bundle,
        "findings": findings,
        "files": list(files),
        # files minus the attachments (those are listed with their sizes)
        "other_files": [f for f in files
                        if f not in {f"attachments/{a.name}" for a in bundle.attachments}],
        # None: not known here (a preview before redaction); {}: redacted, nothing matched.
        "redaction": None if redaction is None else dict(redaction),
        "redaction_total": sum((redaction or {}).values()),
    }


# --- public API ----------------------------------------------------------------------------------


def render_html(bundle: Bundle, *, files: Sequence[str] = (),
                redaction: Mapping[str, int] | None = None) -> str:
    """The whole report as ONE self-contained HTML page (inline CSS, plots as data: URIs).

    ``files`` lists the paths inside the bundle zip (shown in the attachments section);
    ``redaction`` is the redaction summary, counts per rule (no values ever reach here).
    Raises :class:`BundleError` when a template fails.
    """
    return _render(HTML_TEMPLATE, _base_context(bundle, files, redaction))


# Sections of the Markdown body that may be cut, bottom first.
MARKDOWN_CUTS: tuple[str, ...] = ("files", "journal", "plots", "probes", "logs", "findings",
                                  "environment")


def render_markdown(bundle: Bundle, *, max_bytes: int = 60000, bundle_name: str = "bundle.zip",
                    files: Sequence[str] = (), redaction: Mapping[str, int] | None = None) -> str:
    """A paste-ready GitHub/GitLab/Jira issue body of at most ``max_bytes`` UTF-8 bytes.

    When the full text is too long, whole sections are cut from the bottom first
    (:data:`MARKDOWN_CUTS` order, log excerpts excepted), then log excerpts are shortened, then
    the remaining sections go; the body then says that the rest is in ``report.html`` inside
    ``bundle_name``. The template sees ``omit`` (section names to leave out), ``log_lines``
    (most lines per excerpt, None for all), ``trimmed`` and ``bundle_name``.
    """
    if max_bytes < MIN_MARKDOWN_BYTES:
        raise BundleError(
            f"A Markdown issue body of {max_bytes} bytes is too small to say anything; "
            f"allow at least {MIN_MARKDOWN_BYTES} bytes."
        )
    base = _base_context(bundle, files, redaction)
    base["bundle_name"] = bundle_name

    def attempt(omit: frozenset[str], log_lines: int | None) -> tuple[str, int]:
        text = _render(MARKDOWN_TEMPLATE, {**base, "omit": omit, "log_lines": log_lines,
                                           "trimmed": bool(omit) or log_lines is not None})
        return text, len(text.encode("utf-8"))

    text, size = attempt(frozenset(), None)
    if size <= max_bytes:
        return text
    omit: set[str] = set()
    longest = max((len(x.lines) for x in bundle.logs), default=0)
    # 1. whole sections from the bottom, keeping the log excerpts for now
    for section in MARKDOWN_CUTS[:4]:
        omit.add(section)
        text, size = attempt(frozenset(omit), None)
        if size <= max_bytes:
            return text
    # 2. shorter log excerpts (the lines around the problem are kept, see the template)
    lines = longest
    while lines > 4:
        lines //= 2
        text, size = attempt(frozenset(omit), lines)
        if size <= max_bytes:
            return text
    # 3. the rest of the cuttable sections
    for section in MARKDOWN_CUTS[4:]:
        omit.add(section)
        text, size = attempt(frozenset(omit), 4)
        if size <= max_bytes:
            return text
    # 4. still too long (a novel in the summary): cut the text itself, on a character boundary.
    note = f"\n\n… see report.html in {bundle_name} for the rest.\n"
    room = max_bytes - len(note.encode("utf-8"))
    cut = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return cut + note
