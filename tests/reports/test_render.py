"""Rendering bundles to HTML and Markdown: snapshots, escaping, user templates, sandbox, size cap.

Snapshots live in ``tests/reports/snapshots/``; after an intended change to a template, rewrite
them with ``DIAGKIT_UPDATE_SNAPSHOTS=1 python -m pytest tests/reports/test_render.py`` and review
the diff before committing.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from diagkit import config
from diagkit.errors import BundleError
from diagkit.reports.model import Bundle, LogExcerpt
from diagkit.reports.render import render_html, render_markdown
from tests.reports.sample_bundle import CREATED, FILES, REDACTION, full_bundle

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("DIAGKIT_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        return
    assert path.exists(), f"no snapshot {path}; create it with DIAGKIT_UPDATE_SNAPSHOTS=1"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (f"{name} differs from its snapshot; if the change is intended, "
                              "rerun with DIAGKIT_UPDATE_SNAPSHOTS=1 and review the diff")


def _user_template(name: str, text: str) -> Path:
    folder = config.config_dir() / "templates"
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- snapshots -----------------------------------------------------------------------------------


def test_html_snapshot() -> None:
    _check_snapshot("report.html", render_html(full_bundle(), files=FILES, redaction=REDACTION))


def test_markdown_snapshot() -> None:
    text = render_markdown(full_bundle(), files=FILES, redaction=REDACTION,
                           bundle_name="case-4711.zip")
    _check_snapshot("report.md", text)


def test_markdown_trimmed_snapshot() -> None:
    text = render_markdown(full_bundle(), max_bytes=2500)
    assert len(text.encode("utf-8")) <= 2500
    _check_snapshot("report-trimmed.md", text)


def test_empty_bundle_snapshots() -> None:
    bundle = Bundle(title="Nur ein Titel", created=CREATED, diagkit_version="0.1.0")
    html = render_html(bundle)
    md = render_markdown(bundle)
    for heading in ("Summary", "Findings", "Environment", "Log excerpts", "Plots", "Journal"):
        assert f"<h2>{heading}" not in html and f"## {heading}" not in md
    assert "Nur ein Titel" in html and md.startswith("# Nur ein Titel\n")
    _check_snapshot("empty.html", html)
    _check_snapshot("empty.md", md)


# --- HTML ----------------------------------------------------------------------------------------


def test_html_is_escaped_everywhere() -> None:
    evil = "<script>alert('x')</script>"
    bundle = dataclasses.replace(
        full_bundle(), title=f"T {evil}", summary=evil, steps=(evil,), expected=evil,
        logs=(LogExcerpt(f"/var/log/{evil}.log", (f"ERROR {evil}",), 7),),
    )
    html = render_html(bundle, files=(f"logs/{evil}",))
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html  # probe raw output too


def test_html_is_self_contained_and_complete() -> None:
    html = render_html(full_bundle(), files=FILES, redaction=REDACTION)
    assert "<link" not in html and "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert html.count('src="data:image/png;base64,iVBORw0KGgo') == 2  # both plots embedded
    assert "@media print" in html
    # findings worst first
    assert html.index("/ is 97 % full") < html.index("Load per core") < html.index("Swap is off")
    # log line numbers, source, journal exit status, redaction counts (never values)
    assert '<span class="ln">10413</span>' in html
    assert "/var/log/postgresql/postgresql-15-main.log" in html
    assert "11 values masked" not in html and "8 values masked" in html
    assert "bearer 1, ip 5, password 2" in html
    # non-ASCII kept as text (the page is UTF-8), not mangled
    for text in ("Überlauf", "東京", "Größe", "Mär 14", "bestätigt", "/mnt/données"):
        assert text in html
    assert 'charset="utf-8"' in html


def test_redaction_unknown_says_nothing_about_it() -> None:
    assert "Redaction" not in render_html(full_bundle())
    assert "nothing needed masking" in render_html(full_bundle(), redaction={})


# --- user templates and the sandbox ---------------------------------------------------------------


def test_user_template_overrides_and_package_partials_still_work() -> None:
    _user_template("report.html.jinja2",
                   "<h1>Custom: {{ bundle.title }}</h1>\n"
                   "{% for result in bundle.hosts[0].results %}{% include '_probe.html.jinja2' %}"
                   "{% endfor %}\n")
    html = render_html(full_bundle())
    assert html.startswith("<h1>Custom: PostgreSQL stops")
    assert "<details class=\"probe" in html  # the built-in partial, rendered in the sandbox
    # the Markdown template was not overridden: the built-in one is used (sandboxed)
    assert render_markdown(full_bundle()).startswith("# PostgreSQL stops")


def test_user_partial_overrides_only_that_partial() -> None:
    _user_template("_probe.html.jinja2", "<p class=mine>{{ result.probe|upper }}</p>\n")
    html = render_html(full_bundle())
    assert "<p class=mine>SYSTEM</p>" in html and "<details class" not in html
    assert "<h2>Findings</h2>" in html


def test_user_template_is_autoescaped() -> None:
    _user_template("report.html.jinja2", "{{ bundle.summary }}")
    html = render_html(dataclasses.replace(full_bundle(), summary="<img src=x onerror=alert(1)>"))
    assert html == "&lt;img src=x onerror=alert(1)&gt;"


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('touch /tmp/pwned-diagkit') }}",
    "{{ bundle.__class__.__init__.__globals__ }}",
    "{{ render_html.__globals__ if render_html is defined else ''.format.__self__.__class__ }}",
])
def test_sandbox_escape_is_refused(attack: str) -> None:
    path = _user_template("report.html.jinja2", f"<p>fine</p>\n{attack}\n")
    with pytest.raises(BundleError) as err:
        render_html(full_bundle())
    message = str(err.value)
    assert str(path) in message and "line 2" in message
    assert "sandbox" in message and "unsafe" in message
    assert not Path("/tmp/pwned-diagkit").exists()


def test_missing_variable_names_template_line_and_name() -> None:
    path = _user_template("report.md.jinja2", "# {{ bundle.title }}\n\n{{ bundle.reporter }}\n")
    with pytest.raises(BundleError) as err:
        render_markdown(full_bundle())
    message = str(err.value)
    assert str(path) in message and "line 3" in message and "'reporter'" in message
    assert "Fix or remove" in message


def test_missing_variable_in_included_partial_names_the_partial() -> None:
    _user_template("report.html.jinja2", "a\n{% include '_mine.html.jinja2' %}\n")
    path = _user_template("_mine.html.jinja2", "x\ny\n{{ no_such_thing }}\n")
    with pytest.raises(BundleError) as err:
        render_html(full_bundle())
    assert f"{path}, line 3" in str(err.value) and "'no_such_thing' is undefined" in str(err.value)


def test_syntax_error_names_template_and_line() -> None:
    path = _user_template("report.html.jinja2", "ok\nok\n{% if bundle.title %}\nno endif\n")
    with pytest.raises(BundleError) as err:
        render_html(full_bundle())
    assert str(path) in str(err.value) and "syntax error" in str(err.value)
    assert re.search(r"line \d", str(err.value))


# --- Markdown ------------------------------------------------------------------------------------


def _huge_bundle() -> Bundle:
    lines = tuple(f"2026-03-14 02:{i // 60 % 60:02d}:{i % 60:02d} INFO Größe {i} " + "x" * 80
                  for i in range(3000))
    lines = lines[:1500] + ("2026-03-14 02:25:00 ERROR disk full — 満杯",) + lines[1500:]
    return dataclasses.replace(full_bundle(), logs=(LogExcerpt("/var/log/huge.log", lines, 1),)
                               + full_bundle().logs)


@pytest.mark.parametrize("max_bytes", [512, 1500, 4000, 20000, 60000])
def test_markdown_stays_within_max_bytes_and_points_to_bundle(max_bytes: int) -> None:
    md = render_markdown(_huge_bundle(), max_bytes=max_bytes, bundle_name="case-4711.zip")
    assert len(md.encode("utf-8")) <= max_bytes
    assert "see report.html in" in md and "case-4711.zip" in md
    md.encode("utf-8").decode("utf-8")  # never cut in the middle of a character


def test_markdown_cuts_bottom_sections_first_then_shortens_logs() -> None:
    md = render_markdown(_huge_bundle(), max_bytes=20000)
    assert "## Session journal" not in md and "## Files in the bundle" not in md
    assert "## Log excerpts" in md and "## Steps to reproduce" in md
    assert "1. Run the nightly backup job" in md
    assert "ERROR disk full — 満杯" in md  # the shortened excerpt keeps its error line
    assert "(of 3001)" in md


def test_markdown_untrimmed_has_everything() -> None:
    md = render_markdown(full_bundle(), files=FILES)
    for heading in ("Summary", "Environment", "Steps to reproduce", "Expected result",
                    "Actual result", "Findings", "Log excerpts", "Probe results", "Session journal"):
        assert f"## {heading}" in md
    assert "see report.html" not in md and "`report.html` in `bundle.zip`" in md
    # a backtick run in a log line cannot close the code block early
    assert "````text\nMär 14 02:00:00" in md
    # a pipe in a journal command does not break the table
    assert "postgresql \\| grep" in md
    assert "<script>" not in md.split("```text", 1)[0]  # raw HTML only inside code blocks


def test_markdown_huge_summary_is_cut_on_a_character_boundary() -> None:
    bundle = dataclasses.replace(full_bundle(), summary="ü東" * 50000)
    md = render_markdown(bundle, max_bytes=3000)
    assert len(md.encode("utf-8")) <= 3000 and md.rstrip().endswith("for the rest.")


def test_markdown_too_small_budget_is_an_error() -> None:
    with pytest.raises(BundleError, match="at least"):
        render_markdown(full_bundle(), max_bytes=100)
