"""Render a :class:`~diagkit.reports.model.Bundle` to HTML and Markdown with Jinja2.

Templates live in ``diagkit/reports/templates/`` (``report.html.jinja2``, ``report.md.jinja2``
and ``_*.jinja2`` partials). A user's own templates in ``config_dir()/templates`` are searched
first, so an engineer can restyle the report or the issue body by dropping a file of the same
name there (partials may be overridden one by one).

Safety, in the mitmproxy/pdoc ``render.py`` manner:

* HTML templates are always autoescaped: a ``<script>`` in a log line shows as text.
* Control characters in any value (ESC sequences, CR, BEL, C1 controls, bidi overrides) are
  shown escaped (``\\x1b``), in HTML and Markdown alike: every ``{{ ... }}`` passes through
  :func:`diagkit.textsafe.escape_controls` (Jinja's ``finalize`` hook), whoever wrote the template.
* Markdown: text from hosts, logs and cases goes through ``md_inline``/``md_cell`` (Markdown
  metacharacters backslash-escaped, raw HTML neutralised, one line), file names through
  ``md_code`` (a code span no backtick inside can close) and log excerpts into fences longer
  than any backtick run inside (``fence``), so no value can open or close a code block, a
  table cell or a heading. The engineer's own prose (summary, expected, actual: ``md_block``;
  steps: ``md_line``) keeps its Markdown, but a code fence it opens is closed at its end.
* ``StrictUndefined``: a typo in a template is an error, never a silently empty section.
* Everything renders in :class:`diagkit.templating.BoundedSandbox`: Jinja's sandbox (a user
  template cannot reach Python internals through ``__class__``/``__globals__`` and the like),
  bounded in output (:data:`MAX_REPORT_CHARS`) and time (:data:`RENDER_SECONDS`), so a template
  such as ``{{ '%s' * 10**8 }}`` or ``{% for i in range(10**9) %}`` stops with an error.
* Every template problem becomes a :class:`~diagkit.errors.BundleError` naming the template
  file, the line and what went wrong (the missing variable, the refused attribute, the bound
  that was hit), never a traceback.

The template context is ``bundle`` (the model), ``findings`` (worst first), ``files`` (paths in
the bundle zip), ``redaction`` (counts per rule, never values) and, for Markdown, the trimming
controls described in :func:`render_markdown`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
from markupsafe import Markup

from diagkit import config
from diagkit.errors import BundleError
from diagkit.probes.base import Finding, Severity
from diagkit.reports.model import Bundle
from diagkit.templating import BoundedSandbox, render_bounded, template_problem
from diagkit.textsafe import escape_controls
from diagkit.units import human_bytes, human_duration

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
HTML_TEMPLATE = "report.html.jinja2"
MARKDOWN_TEMPLATE = "report.md.jinja2"
MIN_MARKDOWN_BYTES = 512
#: Most characters one rendered report (or any text a template builds for it) may have: far
#: above a real report (plots are data: URIs of some 100 KB each), far below what hurts.
MAX_REPORT_CHARS = 32_000_000
#: Seconds one report may take to render (all Markdown trimming attempts together).
RENDER_SECONDS = 20.0

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


def _longest_backticks(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _fence(text: str | Sequence[str]) -> str:
    """A Markdown code fence longer than any backtick run inside ``text`` (no break-out)."""
    if not isinstance(text, str):
        text = "\n".join(text)
    return "`" * max(3, _longest_backticks(text) + 1)


def _folded(value: Any) -> str:
    """``value`` as one line of text: control characters escaped, whitespace runs (newlines,
    tabs) folded into one space."""
    return " ".join(escape_controls("" if value is None else str(value)).split())


# Inline Markdown syntax: escaped with a backslash (CommonMark allows it before any ASCII
# punctuation). "_" only at a word's edge: inside snake_case it never emphasises.
_MD_META = re.compile(r"[\\`*\[\]|~#]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|&(?=#?\w+;)")
# What would start a block (heading, quote, list, setext underline) at the start of a line.
_MD_LEAD = re.compile(r"^(?:[+=-]|\d+[.)])(?=[\s+=-]|$)")
_MD_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def _md_inline(value: Any) -> str:
    """Text from hosts, logs or cases as one line of Markdown prose that shows exactly that
    text: control characters shown escaped, whitespace (newlines, tabs) folded, Markdown
    metacharacters escaped, raw HTML neutralised."""
    text = _MD_META.sub(lambda m: "\\" + m.group(0), _folded(value))
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    lead = _MD_LEAD.match(text)
    return text[: lead.end() - 1] + "\\" + text[lead.end() - 1:] if lead else text


def _md_line(value: Any) -> str:
    """The engineer's own one-line Markdown (a reproduction step): their Markdown kept (it
    cannot leave its list item), raw HTML neutralised, whitespace folded."""
    return _folded(value).replace("<", "&lt;").replace(">", "&gt;")


def _md_cell(value: Any) -> str:
    """A value safe inside one Markdown table cell: no pipes, no newlines, no raw HTML, no
    Markdown (see ``md_inline``)."""
    return _md_inline(value) or " "


def _md_code(value: Any) -> str:
    """``value`` as an inline code span that no backtick inside can close (a file name)."""
    text = _folded(value)
    run = "`" * (_longest_backticks(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{run}{pad}{text}{pad}{run}"


def _md_block(value: Any) -> str:
    """The engineer's multi-line prose for Markdown: their Markdown kept, raw HTML
    neutralised, and a code fence left open closed at the end (so it cannot swallow the
    sections after it)."""
    text = ("" if value is None else str(value)).replace("<", "&lt;").replace(">", "&gt;").strip()
    open_fence = ""
    for line in text.splitlines():
        m = _MD_FENCE.match(line)
        if not m:
            continue
        fence, rest = m.group(1), m.group(2)
        if not open_fence:
            open_fence = fence
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence) and not rest.strip():
            open_fence = ""
    return f"{text}\n{open_fence}" if open_fence else text


def _finalize(value: Any) -> Any:
    """Every ``{{ ... }}`` output: control characters shown escaped (Markup stays Markup)."""
    if isinstance(value, str):
        escaped = escape_controls(value)
        # S704: the value was Markup already; only its control characters were made visible.
        return Markup(escaped) if isinstance(value, Markup) else escaped  # noqa: S704
    if value is None or isinstance(value, int | float) or hasattr(value, "__html__"):
        return value
    return escape_controls(str(value))


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
    "md_code": _md_code,
    "md_line": _md_line,
    "num": _num,
    "excerpt_lines": _excerpt_lines,
}


# --- environment ---------------------------------------------------------------------------------


def _user_has_templates(folder: Path) -> bool:
    try:
        return folder.is_dir() and any(p.is_file() for p in folder.rglob("*.jinja2"))
    except OSError:
        return False


def make_environment(*, time_budget: float | None = None) -> BoundedSandbox:
    """The Jinja environment for one rendering job: the user folder first when it holds
    templates, always sandboxed and bounded (size :data:`MAX_REPORT_CHARS`, ``time_budget``
    seconds from now, by default :data:`RENDER_SECONDS`).

    Built per job (cheap next to rendering) so a template dropped into the config folder is
    picked up without restarting the app.
    """
    user = user_templates_dir()
    package = jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES))
    loader: jinja2.BaseLoader = (
        jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(user)), package])
        if _user_has_templates(user) else package
    )
    env = BoundedSandbox(
        max_output=MAX_REPORT_CHARS,
        time_budget=RENDER_SECONDS if time_budget is None else time_budget,
        what="bug report",
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "html.jinja2"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def _template_error(exc: BaseException, name: str) -> BundleError:
    where, what = template_problem(exc)
    user = user_templates_dir()
    if where.startswith(str(user)):
        fix = f"Fix or remove that template in {user} (the built-in one is used when it is gone)."
    else:
        fix = "This is a bug in diagkit's built-in template; please report it."
    return BundleError(f"Could not render the bug report with template {name!r} ({where}): "
                       f"{what}. {fix}")


def _render(name: str, context: Mapping[str, Any], env: BoundedSandbox | None = None) -> str:
    try:
        return render_bounded(env or make_environment(), name, context)
    except Exception as exc:  # anything a template can raise: a message, never a traceback
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
MARKDOWN_CUTS: tuple[str, ...] = ("files", "journal", "plots", "probes", "logs", "timeline",
                                  "findings", "environment")


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
    env = make_environment()  # one time budget for every attempt

    def attempt(omit: frozenset[str], log_lines: int | None) -> tuple[str, int]:
        text = _render(MARKDOWN_TEMPLATE, {**base, "omit": omit, "log_lines": log_lines,
                                           "trimmed": bool(omit) or log_lines is not None}, env)
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
