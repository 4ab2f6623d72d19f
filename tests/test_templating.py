"""Templates users write are bounded in size and time; every problem names the template file
and line, never a traceback: bug-report templates (``reports/render.py``), customer-update
templates (``cases/updates.py``), through the API, the CLI (a real subprocess) and the GUI.

On main, ``{% for i in range(10**9) %}`` gave an ``OverflowError`` traceback and
``{{ '%s' * 10**8 }}`` ran for more than 20 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import jinja2
import pytest

from diagkit import config
from diagkit.cases.updates import Draft, compose, to_eml, to_text, user_templates_dir
from diagkit.errors import BundleError, ConfigError
from diagkit.reports import render
from diagkit.reports.render import render_html, render_markdown
from diagkit.store import Case
from diagkit.store.sqlite import SqliteStore
from diagkit.templating import (
    MAX_ITERATIONS,
    BoundedSandbox,
    TemplateLimitError,
    render_bounded,
    template_location,
)
from tests.reports.sample_bundle import full_bundle

REPO = Path(__file__).resolve().parents[1]

# (template line, what the error says): each one either never finished, took minutes or
# gigabytes, or crashed with a traceback before the bounds.
HOSTILE = [
    ("{% for i in range(10**9) %}x{% endfor %}", "larger than"),
    ("{{ '%s' * 10**8 }}", "the result of '*' would be 200,000,000"),
    ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
     f"loops ran more than {MAX_ITERATIONS:,} times"),
    ("{{ 10 ** 100000 }}", "'**' gives an integer"),
    ("{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{{ s }}{% endfor %}",
     "characters"),
    (("{% set s = 'x' * 100000 %}{% set t %}{% for i in range(100000) %}{{ s }}{% endfor %}"
      "{% endset %}{{ t|length }}"), "characters of text in all"),
    ("{% set s = 'x' * 10000 %}{{ s|replace('x', s) }}", "the result of |replace"),
    ("{{ 'x'.ljust(10**9) }}", "larger than"),
    ("{{ 'a'|center(999999999) }}", "an argument of |center"),
    ("{% set l = [1] %}{% for i in range(100) %}{% set _ = l.extend(l) %}{% endfor %}",
     "the result of extend()"),
    ("{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}", "calls or includes itself"),
    ("{{ ('{:>999999}' * 1000).format(*range(1000)) }}", "the result of format()"),
    ("{{ ('%999999s' * 1000) % ((1,) * 1000) }}", "the result of '%'"),
    ("{% set s = 'ab\\n' * 100000 %}{{ s|indent(100000) }}", "the result of |indent"),
    (("{% set ns = namespace(v='x' * 1000) %}{% for i in range(40) %}"
      "{% set ns.v = ns.v ~ ns.v %}{% endfor %}"), "the result of '~'"),
    ("{% set s = 'x' * 1000000 %}{{ s|wordwrap(1, true, 'y' * 1000) }}", "|wordwrap"),
    ("{{ (1).to_bytes(10**9, 'big') }}", "larger than"),
    ("{% set l = range(100000)|list %}{{ l|join(' ' * 1000000) }}", "the result of |join"),
    ("{% for x in 'x' * 1000000 %}{% for y in 'y' * 1000000 %}{% endfor %}{% endfor %}",
     "loops ran more than"),
    ("{{ lipsum(100000) }}", "'lipsum' is undefined"),
]


def dk(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagkit", *args], check=False,
                          capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def _report_template(name: str, text: str) -> Path:
    path = config.config_dir() / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _update_template(kind: str, text: str) -> Path:
    folder = user_templates_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}.jinja2"
    path.write_text(text, encoding="utf-8")
    return path


# --- bug-report templates ------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "why"), HOSTILE)
def test_hostile_report_template_stops_with_file_and_line(line: str, why: str) -> None:
    path = _report_template("report.md.jinja2", f"# {{{{ bundle.title }}}}\n{line}\nend\n")
    with pytest.raises(BundleError) as err:
        render_markdown(full_bundle())
    message = str(err.value)
    assert f"({path}, line 2)" in message, message
    assert why in message, message
    assert "Fix or remove that template" in message


def test_the_time_budget_stops_a_slow_template_with_its_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Within every size bound, but slow: the clock is what stops it.
    monkeypatch.setattr(render, "RENDER_SECONDS", 0.05)
    path = _report_template("report.html.jinja2", "<p>\n{% for i in range(2000) %}\n"
                            "{% for j in range(2000) %}{% endfor %}\n{% endfor %}\n")
    with pytest.raises(BundleError) as err:
        render_html(full_bundle())
    message = str(err.value)
    assert str(path) in message and "rendering took longer than 0.05 s" in message
    assert "line 3" in message or "line 2" in message


def test_the_built_in_templates_render_within_the_bounds() -> None:
    html = render_html(full_bundle())
    assert html.startswith("<!DOCTYPE html>") and "PostgreSQL stops" in html
    assert render_markdown(full_bundle()).startswith("# PostgreSQL stops")


def test_output_bound_names_the_line_that_produced_too_much(tmp_path: Path) -> None:
    (tmp_path / "t.jinja2").write_text("ok\n{% for i in range(100) %}\n{{ 'x' * 50 }}\n"
                                       "{% endfor %}\n")
    env = BoundedSandbox(max_output=1000, time_budget=10,
                         loader=jinja2.FileSystemLoader(str(tmp_path)))
    with pytest.raises(TemplateLimitError, match="more than 1,000 characters") as err:
        render_bounded(env, "t.jinja2", {})
    assert template_location(err.value) == (str(tmp_path / "t.jinja2"), 3)


def test_legitimate_template_features_still_work() -> None:
    env = BoundedSandbox(max_output=10_000, time_budget=10, loader=jinja2.DictLoader({
        "t.jinja2": "{% macro row(x) %}[{{ x }}]{% endmacro %}"
                    "{% for i in range(3) %}{{ row(i) }}{% if loop.last %}!{% endif %}{% endfor %}"
                    " {{ 'a' ~ 'b' }} {{ '%s-%d' % ('x', 2) }} {{ '{}+{}'.format(1, 2) }}"
                    " {{ ['c', 'd']|join(',') }} {{ 'e f'|replace(' ', '_') }} {{ 2 ** 10 }}"
                    " {{ 'x' * 3 }} {{ [1, 2] + [3] }} {{ 'ab'|center(6) }}|"}))
    assert render_bounded(env, "t.jinja2", {}) == (
        "[0][1][2]! ab x-2 1+2 c,d e_f 1024 xxx [1, 2, 3]   ab  |")


# --- customer-update templates -------------------------------------------------------------------


@pytest.mark.parametrize(("line", "why"), HOSTILE[:6] + HOSTILE[10:11])
def test_hostile_update_template_stops_with_file_and_line(line: str, why: str) -> None:
    path = _update_template("progress", f"Subject: hi\n{line}\n")
    with pytest.raises(ConfigError) as err:
        compose("progress", Case(id=1, title="t"))
    message = str(err.value)
    assert f"({path}, line 2)" in message and why in message, message
    assert "Fix it in" in message


def test_cli_reports_a_hostile_template_in_one_line(tmp_path: Path) -> None:
    path = _update_template("progress", "Subject: hi\n\n{% for i in range(10**9) %}x{% endfor %}\n")
    assert dk("case", "new", "Slow", "--contact", "bob@acme.example").returncode == 0
    result = dk("case", "update", "1", "progress", "--print")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"({path}, line 3)" in result.stderr and "stopped at a limit" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    report = _report_template("report.md.jinja2", "# x\n{{ '%s' * 10**8 }}\n")
    result = dk("bundle", "create", "-o", str(tmp_path / "b.zip"), "--title", "t")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"({report}, line 2)" in result.stderr and "would be 200,000,000" in result.stderr
    assert not (tmp_path / "b.zip").exists()


# --- .eml export: no header injection ------------------------------------------------------------


def test_eml_refuses_a_contact_with_a_line_break() -> None:
    draft = Draft("progress", "Update", "Hello\n", to="Bob <bob@acme.example>\nBcc: eve@evil.example")
    with pytest.raises(ConfigError) as err:
        to_eml(draft, sender="ana@support.example")
    message = str(err.value)
    assert "To address 'Bob <bob@acme.example>\\nBcc: eve@evil.example'" in message
    assert "line break" in message and "Bcc" in message
    with pytest.raises(ConfigError, match="From address"):
        to_eml(Draft("progress", "Update", "Hello\n"), sender="ana@x\r\nBcc: eve@evil.example")
    # the text form keeps the address on its line, escaped
    assert to_text(draft).startswith("To: Bob <bob@acme.example>\\nBcc: eve@evil.example\n")


def test_eml_subject_is_folded_onto_one_line() -> None:
    draft = Draft("progress", "Disk full\r\nBcc: eve@evil.example\x1b[2J", "Hello\n",
                  to="bob@acme.example")
    msg = message_from_bytes(to_eml(draft, sender="ana@support.example"), policy=policy.default)
    assert msg["Subject"] == "Disk full Bcc: eve@evil.example [2J"
    assert msg["Bcc"] is None and sorted(msg.keys()) == [
        "Content-Transfer-Encoding", "Content-Type", "Date", "From", "MIME-Version", "Subject",
        "To", "X-Unsent"]


def test_cli_eml_with_a_broken_contact_is_a_clear_error_and_records_nothing(
        tmp_path: Path) -> None:
    assert dk("case", "new", "Printer", "--contact",
              "Bob <bob@acme.example>\nBcc: eve@evil.example").returncode == 0
    result = dk("case", "update", "1", "acknowledgement", "--save", "u.eml", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "contains a line break" in result.stderr and "Bcc" in result.stderr
    assert not (tmp_path / "u.eml").exists()
    with SqliteStore() as db:
        assert not [e for e in db.journal(1) if e.kind == "customer_update"]
    saved = dk("case", "update", "1", "acknowledgement", "--save", "u.txt", cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr
    first = (tmp_path / "u.txt").read_text(encoding="utf-8").splitlines()[0]
    assert first == "To: Bob <bob@acme.example>\\nBcc: eve@evil.example"
