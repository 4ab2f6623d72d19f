"""Hostile text in reports: control characters shown escaped in report.html and report.md, and
Markdown that comes from hosts or logs escaped so it cannot open or close a code fence, a table
cell or a heading.

The Markdown is checked with GitHub's own renderer (``cmarkgfm``, bindings to cmark-gfm), not
with our idea of Markdown. Snapshots ``hostile.md`` / ``hostile.html`` were written on purpose
(``DIAGKIT_UPDATE_SNAPSHOTS=1``); review the diff when a template changes.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import cmarkgfm
from cmarkgfm.cmark import Options

from diagkit.probes.base import Finding, ProbeData, ProbeResult, Severity
from diagkit.reports.model import Attachment, Bundle, HostEnvironment, JournalEntry, LogExcerpt
from diagkit.reports.render import render_html, render_markdown
from tests.reports.test_render import _check_snapshot

CREATED = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
# Every C0 control but TAB and LF, DEL, a C1 control (8-bit CSI) and a bidi override.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")

ESC_TITLE = "Disk \x1b[2J\x1b]0;pwned\x07full\r"
FENCE_TITLE = "``` — a title that opens a fence"
LOG_LINES = (
    "2026-03-14 02:10:00 ERROR backup failed",
    "```",  # a fence of the report's length
    "````text",  # a longer one
    "~~~",
    "    </pre><script>alert(1)</script>",
    "2026-03-14 02:10:01 WARN clear \x1b[2J\x1b[H screen, title \x1b]0;owned\x07, bell \x07",
    "progress 10%\r100% \x08\x08 done \x9b31m red \u202eevil",
    "# not a heading | not | a table",
)


def hostile_bundle() -> Bundle:
    finding_titles = (ESC_TITLE, FENCE_TITLE, "* [link](javascript:alert(1)) <b>bold</b> _x_",
                      "1. not a list", "| cell | break |")
    result = ProbeResult(probe="evil", host="h1", data=ProbeData(facts={"k": "v"}),
                         raw="raw \x1b[31mred\x1b[0m\n", stderr="", exit_status=0,
                         duration=0.1)
    return Bundle(
        title="Title ``` with \x1b[1mbold\x1b[0m",
        summary="Summary with an open fence:\n```\nnever closed",
        created=CREATED,
        hosts=(HostEnvironment(
            name="web|1 \x1b]0;x\x07",
            facts={"os | pipes": "Linux `uname` \x1b[2J", "notes": "line1\nline2\r"},
            results=(result,)),),
        steps=("Run `backup` \x1b[2J", "<img src=x onerror=alert(1)>"),
        findings=tuple(Finding(severity=Severity.WARNING, title=t, probe="evil",
                               detail="detail \x07 | `x`") for t in finding_titles),
        logs=(LogExcerpt("/var/log/``evil``\x1b[2J.log", LOG_LINES, 1, note="note \x1b[5m"),),
        journal=(JournalEntry(time=CREATED, kind="command", host="h1",
                              text="echo '\x1b]0;t\x07' | tee\nsecond line", exit_status=0),),
        attachments=(Attachment("a`b\x1b.txt", b"data"),),
        case="CASE-\x1b[31m1",
    )


def _gfm(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def test_markdown_snapshot_and_no_raw_control_characters() -> None:
    md = render_markdown(hostile_bundle(), bundle_name="hostile.zip")
    _check_snapshot("hostile.md", md)
    assert not CONTROLS.search(md)
    # Inside the log fence the escapes are the text itself (outside, "[" and "]" get a
    # Markdown backslash too: see the GitHub rendering test).
    for shown in ("\\x1b[2J\\x1b[H", "\\x1b]0;owned\\x07", "10%\\r100%", "\\x08",
                  "\\u009b", "\\u202e"):
        assert shown in md, shown


def test_html_snapshot_and_no_raw_control_characters() -> None:
    page = render_html(hostile_bundle())
    _check_snapshot("hostile.html", page)
    assert not CONTROLS.search(page)
    assert "<script>alert" not in page and "\\x1b]0;owned\\x07" in page
    assert "Disk \\x1b[2J\\x1b]0;pwned\\x07full\\r" in page


def test_github_renders_every_hostile_value_as_the_text_it_is() -> None:
    md = render_markdown(hostile_bundle(), bundle_name="hostile.zip")
    page = _gfm(md)
    # Two code blocks: the summary's own, and the log excerpt, whole. No value opened or
    # closed another one.
    blocks = re.findall(r"<pre[^>]*><code[^>]*>(.*?)</code></pre>", page, re.DOTALL)
    assert len(blocks) == 2 and blocks[0] == "never closed\n"
    blocks = blocks[1:]
    shown = html.unescape(blocks[0]).splitlines()
    assert shown[:5] == list(LOG_LINES[:5])
    assert shown[5].startswith("2026-03-14 02:10:01 WARN clear \\x1b[2J\\x1b[H screen")
    # The sections are ours only: no heading came from a log line, a title or a fact.
    assert re.findall(r"<h2>(.*?)</h2>", page) == [
        "Summary", "Environment", "Steps to reproduce", "Findings", "Log excerpts",
        "Probe results", "Session journal", "Files in the bundle"]
    assert re.findall(r"<h1>(.*?)</h1>", page) == [
        "Title ``` with \\x1b[1mbold\\x1b[0m"]
    # Findings: each title is one list item showing exactly its text (escaped controls).
    items = [html.unescape(re.sub(r"<[^>]+>", "", li))
             for li in re.findall(r"<li>(.*?)</li>", page, re.DOTALL)]
    for title in ("Disk \\x1b[2J\\x1b]0;pwned\\x07full\\r", "``` — a title that opens a fence",
                  "* [link](javascript:alert(1)) <b>bold</b> _x_", "1. not a list",
                  "| cell | break |"):
        assert any(f"warning: {title} — detail \\x07 | `x`" in item for item in items), title
    assert "<a href" not in page and "<b>bold" not in page and "<img" not in page
    # Tables: the environment facts and the journal keep their shape.
    tables = re.findall(r"<table>(.*?)</table>", page, re.DOTALL)
    rows = [re.findall(r"<tr>", t) for t in tables]
    assert [len(r) for r in rows] == [3, 2, 2]  # header + 2 facts; header + 1; header + 1
    assert "<td>Linux `uname` \\x1b[2J</td>" in html.unescape(tables[0])
    assert "echo '\\x1b]0;t\\x07' | tee second line" in html.unescape(tables[2])
    # File names are code spans that the backticks inside them could not close.
    assert "<code>/var/log/``evil``\\x1b[2J.log</code>" in page
    assert "<code>attachments/a`b\\x1b.txt</code>" in page


def test_engineer_prose_keeps_its_markdown_but_cannot_swallow_the_report() -> None:
    page = _gfm(render_markdown(hostile_bundle()))
    # The summary's unclosed fence is closed where the summary ends: "Environment" follows.
    summary = page.split("<h2>Summary</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<pre><code>never closed\n</code></pre>" in summary
    steps = page.split("<h2>Steps to reproduce</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<code>backup</code>" in steps  # the engineer's own code span still works
    assert "<img" not in steps
