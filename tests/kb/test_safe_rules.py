"""KB match rules run on RE2: no rule can hang matching; rules RE2 cannot take are refused at
every door (store, Markdown import, CLI) with the reason, and skipped with a warning when an
older database already holds one.

The hang was reproduced on main with the catastrophic-backtracking rule ``(a+)+$`` and a
finding title of ``a`` s followed by ``!`` (``diagkit probe`` on the active case never ended).
"""

from __future__ import annotations

import glob
import io
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from diagkit import config
from diagkit.cli import main
from diagkit.errors import KbError
from diagkit.kb import open_kb
from diagkit.kb.markdown import article_from_markdown, starter_drafts
from diagkit.kb.match import Evidence, KnownErrorMatcher, load_matcher
from diagkit.logs.signatures import mask
from diagkit.probes.base import Finding, Severity
from diagkit.rules_regex import UnsafePattern, compile_rule_pattern, pattern_problem
from diagkit.store.contract import ArticleDraft, KbStore, MatchRule
from diagkit.store.sqlite import SqliteStore

REPO = Path(__file__).resolve().parents[2]

# Patterns Python's re runs but RE2 refuses, with a word the reason must contain.
REFUSED = [
    (r"(\w+) \1", "backreferences"),
    (r"(?P<w>\w+) (?P=w)", "backreferences"),
    (r"error(?= code)", "look-ahead"),
    (r"(?<!no )space left", "look-behind"),
    (r"(?<=disk )full", "look-behind"),
    (r"(?>a+)b", "atomic groups"),
    (r"a++b", "possessive"),
    (r"timeout\Z", "\\z"),
    (r"caf\u00e9", "\\x{"),
    (r"x{,3}", "{0,n}"),
    (r"(?x) disk \s full", "flags"),
    (r"a{2000}", "1000"),
]


def dk(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagkit", *args], check=False, input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def _finding(title: str, probe: str = "evil") -> Finding:
    return Finding(severity=Severity.WARNING, title=title, probe=probe)


def _write_article(folder: Path, slug: str, *rules: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    lines = ["---", f"title: {slug}", f"slug: {slug}", "rules:"]
    lines += [f"  - {json.dumps(r)}" for r in rules]
    path.write_text("\n".join([*lines, "---", "## Symptoms", "x", ""]), encoding="utf-8")
    return path


# --- the engine --------------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "word"), REFUSED)
def test_patterns_needing_backtracking_are_refused_with_the_reason(pattern: str,
                                                                  word: str) -> None:
    re.compile(pattern)  # fine for Python's backtracking engine...
    with pytest.raises(UnsafePattern) as err:
        compile_rule_pattern(pattern)  # ...not for the linear-time one
    assert word in err.value.reason and not err.value.syntax
    assert pattern_problem(pattern) == err.value.reason


def test_a_malformed_pattern_is_a_syntax_error() -> None:
    with pytest.raises(UnsafePattern) as err:
        compile_rule_pattern("disk (full")
    assert err.value.syntax and "not a valid regular expression" in str(err.value)
    assert pattern_problem("disk (full").startswith("it is not a valid regular expression")


def test_catastrophic_pattern_is_linear_on_re2() -> None:
    rx = compile_rule_pattern("(a+)+$")
    # On Python's re this search does not finish in any reasonable time (2^n paths).
    assert rx.search("a" * 200_000 + "!") is None
    assert rx.search("A" * 200_000)  # case-insensitive, as rules always were


def test_every_starter_rule_runs_on_re2() -> None:
    patterns = [r.pattern for d in starter_drafts() for r in d.rules if r.kind != "metric"]
    assert len(patterns) >= 20
    for pattern in patterns:
        assert pattern_problem(pattern) is None, pattern


def test_starter_rules_match_the_same_real_lines_on_both_engines() -> None:
    """RE2 differs from re in corners (ASCII \\d, $ before a final newline...): on real log
    lines and real captured probe outputs, every starter rule must decide as before."""
    files = sorted(glob.glob(str(REPO / "tests/data/logs/**/*"), recursive=True)
                   + glob.glob(str(REPO / "tests/data/probes/*/*")))
    lines = [line for f in files if Path(f).is_file()
             for line in Path(f).read_text(encoding="utf-8", errors="replace").splitlines()]
    texts = lines + [mask(line) for line in lines]
    assert len(lines) > 2000
    hits = 0
    for draft in starter_drafts():
        for rule in draft.rules:
            if rule.kind == "metric":
                continue
            old, new = re.compile(rule.pattern, re.IGNORECASE), compile_rule_pattern(rule.pattern)
            for text in texts:
                before = bool(old.search(text))
                assert before == bool(new.search(text)), (draft.slug, rule.pattern, text)
                hits += before
    assert hits >= 10  # the comparison saw matches, not only misses


# --- the doors: store, Markdown, CLI import ------------------------------------------------------


def test_rules_are_validated_on_construction_and_from_dict() -> None:
    with pytest.raises(KbError, match="look-ahead"):
        MatchRule("log", r"error(?= code)")
    with pytest.raises(KbError, match="cannot be used: backreferences"):
        MatchRule.from_dict({"kind": "finding", "pattern": r"(\w+) \1"})
    stored = MatchRule.from_dict({"kind": "finding", "pattern": r"(\w+) \1"}, check=False)
    assert stored.pattern == r"(\w+) \1"  # as stored: the matcher decides what to do with it


def test_store_refuses_unsafe_rules_at_create_and_update(store: KbStore) -> None:
    bad = MatchRule.from_dict({"kind": "log", "pattern": r"(?<!no )space left"}, check=False)
    with pytest.raises(KbError, match="look-ahead and look-behind"):
        store.create_article(ArticleDraft("Disk full", rules=[bad]))
    assert store.article_count() == 0
    article = store.create_article(ArticleDraft("Disk full",
                                                rules=[MatchRule("log", "space left")]))
    with pytest.raises(KbError, match="look-ahead and look-behind"):
        store.update_article(article.id, article.version_counter, rules=[bad])
    with pytest.raises(KbError, match="backreferences"):
        store.update_article(article.id, article.version_counter,
                             rules=[{"kind": "log", "pattern": r"(a)\1"}])
    assert store.get_article(article.id).rules == (MatchRule("log", "space left"),)


def test_markdown_import_names_file_line_and_reason(tmp_path: Path) -> None:
    text = ('---\ntitle: Slow disk\nrules:\n  - {"kind": "log", "pattern": "ok"}\n'
            '  - {"kind": "log", "pattern": "(?<=sd[a-z]) timeout"}\n---\n')
    with pytest.raises(KbError) as err:
        article_from_markdown(text, name="team/slow-disk.md")
    message = str(err.value)
    assert message.startswith("team/slow-disk.md, line 5: The log match rule's pattern")
    assert "look-ahead and look-behind" in message and "RE2" in message


def test_cli_import_of_a_team_kb_with_an_unsafe_rule_imports_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "team-kb"
    _write_article(folder, "good", {"kind": "log", "pattern": "disk full"})
    _write_article(folder, "bad", {"kind": "finding", "pattern": r"(\w+) \1 again"})
    result = dk("kb", "import", str(folder))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{folder / 'bad.md'}, line 5" in result.stderr and "backreferences" in result.stderr
    with SqliteStore() as db:
        assert {a.slug for a in db.list_articles()}.isdisjoint({"good", "bad"})


# --- the hang, end to end ----------------------------------------------------------------------


def _evil_probe(title_shell: str) -> None:
    folder = config.config_dir() / "probes"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "evil.sh"
    script.write_text("#!/bin/sh\n# diagkit-probe: name=evil title=Evil\n"
                      f"printf 'WARNING: %s\\n' \"{title_shell}\"\n", encoding="utf-8")
    script.chmod(0o755)


def test_catastrophic_rule_no_longer_hangs_probe_on_the_active_case(tmp_path: Path) -> None:
    _write_article(tmp_path / "kb", "redos", {"kind": "finding", "pattern": "(a+)+$"})
    assert dk("kb", "import", str(tmp_path / "kb")).returncode == 0
    assert dk("case", "new", "Slow host", "--use").returncode == 0
    # 50,000 'a' then '!': Python's re would need 2^50000 steps to give up.
    _evil_probe("$(head -c 50000 /dev/zero | tr '\\0' a)!")
    result = dk("probe", "-p", "evil")  # the subprocess timeout (120 s) fails a hang
    assert result.returncode == 0, result.stderr
    assert "journaled to case 1" in result.stderr
    # and the rule still works: without the '!' the title matches
    _evil_probe("$(head -c 50000 /dev/zero | tr '\\0' a)")
    assert dk("probe", "-p", "evil").returncode == 0
    with SqliteStore() as db:
        known = [e for e in db.journal(1) if e.kind == "known_issue"]
    assert [e.data["slug"] for e in known] == ["redos"]


# --- rules already stored by an older diagkit ---------------------------------------------------


def _plant_unsafe_rule(db_path: Path, slug: str) -> None:
    """Write a rule RE2 refuses straight into the database, as an older diagkit could have."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE kb_articles SET rules = ? WHERE slug = ?", (json.dumps([
            {"kind": "log", "pattern": r"(?<!no )space left on device"},
            {"kind": "finding", "pattern": r"is (\d+) % full, \1"},
            {"kind": "finding", "pattern": "is \\d+ % full", "probe": "disk"},
        ]), slug))


def test_stored_unsafe_rules_are_skipped_with_a_warning(tmp_path: Path, caplog) -> None:
    path = tmp_path / "old.db"
    with SqliteStore(path) as db:
        open_kb(db)
    _plant_unsafe_rule(path, "disk-full")
    with SqliteStore(path) as db, caplog.at_level(logging.WARNING, "diagkit.kb.match"):
        article = db.get_article("disk-full")  # reading never fails
        assert len(article.rules) == 3
        matcher = load_matcher(db)
        issues = matcher.match(Evidence(findings=[_finding("Filesystem / is 97 % full", "disk")],
                                        log_lines=["write: No space left on device"]))
    assert [(s.slug, s.rule.pattern) for s in matcher.skipped] == [
        ("disk-full", r"(?<!no )space left on device"), ("disk-full", r"is (\d+) % full, \1")]
    assert "disk-full" in {i.slug for i in issues}  # its safe rule still matches
    warned = [r.getMessage() for r in caplog.records if r.name == "diagkit.kb.match"]
    assert any("'disk-full'" in m and "look-ahead and look-behind" in m for m in warned)
    # a matcher with only skipped rules is simply empty
    only_bad = KnownErrorMatcher([article.__class__(
        id=1, slug="x", title="x",
        rules=(MatchRule.from_dict({"kind": "log", "pattern": "(?=x)"}, check=False),))])
    assert len(only_bad) == 0 and only_bad.match_line("x") == []


def test_cli_warns_about_stored_unsafe_rules_and_kb_show_marks_them() -> None:
    with SqliteStore() as db:
        open_kb(db)
    _plant_unsafe_rule(config.data_dir() / "diagkit.db", "disk-full")
    assert dk("case", "new", "Disk", "--use").returncode == 0
    result = dk("probe", "-p", "disk")
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr
    assert "warning: KB article 'disk-full': a log rule is skipped" in result.stderr
    out = io.StringIO()
    assert main(["kb", "show", "disk-full"], stdout=out) == 0
    shown = out.getvalue()
    assert shown.count("SKIPPED by matching") == 2 and "backreferences" in shown
    # saving the article again without fixing it is refused, with the reason
    with SqliteStore() as db:
        article = db.get_article("disk-full")
        with pytest.raises(KbError, match="look-ahead and look-behind"):
            db.update_article(article.id, article.version_counter, rules=article.rules)
