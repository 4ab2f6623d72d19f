"""The article editor checks rules as they are typed: a pattern the linear-time engine (RE2)
cannot run is marked, explained inline, and Save stays disabled; a real SQLite store behind."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from diagkit.store.contract import ArticleDraft, MatchRule
from diagkit.store.sqlite import SqliteStore
from diagkit.ui.article_dialog import ArticleDialog


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    db = SqliteStore(tmp_path / "kb.db")
    yield db
    db.close()


def test_unsafe_pattern_disables_save_with_the_reason(qtbot: QtBot, store: SqliteStore) -> None:
    dialog = ArticleDialog(store)
    qtbot.addWidget(dialog)
    dialog.title_edit.setText("Repeated word")
    row = dialog.add_rule_row()
    dialog.set_rule(row, kind="log", pattern=r"(\w+) \1")
    assert not dialog.save_button.isEnabled()
    assert not dialog.error.isHidden()
    text = dialog.error.text()
    assert "Rule 1:" in text and "backreferences" in text and "RE2" in text
    assert dialog.rules.item(row, 1).background().color().name() == "#f8d7da"
    dialog.save()  # refused even when called directly
    assert store.article_count() == 0

    dialog.set_rule(row, kind="log", pattern=r"(\w+) again")
    assert dialog.save_button.isEnabled() and dialog.error.text() == ""
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        dialog.save()
    assert store.get_article("repeated-word").rules == (MatchRule("log", r"(\w+) again"),)


def test_editing_an_article_stored_with_an_unsafe_rule_shows_it_at_once(
        qtbot: QtBot, store: SqliteStore, tmp_path: Path) -> None:
    article = store.create_article(ArticleDraft("Disk full",
                                                rules=[MatchRule("log", "space left")]))
    with sqlite3.connect(tmp_path / "kb.db") as conn:  # as an older diagkit could have saved it
        conn.execute("UPDATE kb_articles SET rules = ? WHERE id = ?",
                     (json.dumps([{"kind": "log", "pattern": "(?<!no )space left"}]), article.id))
    dialog = ArticleDialog(store, store.get_article(article.id))
    qtbot.addWidget(dialog)
    assert not dialog.save_button.isEnabled()
    assert "look-ahead and look-behind" in dialog.error.text()
    dialog.rules.selectRow(0)
    dialog.remove_selected_rules()
    assert dialog.save_button.isEnabled() and dialog.error.text() == ""


def test_a_draft_from_a_case_opens_prefilled_and_keeps_its_case(
        qtbot: QtBot, store: SqliteStore) -> None:
    """Issue 15: an article from a case opens as a draft to edit; saved, it names its case."""
    from diagkit.kb.from_case import draft_from_case
    from diagkit.store.contract import CaseDraft

    case = store.create_case(CaseDraft("Cache tmpfs full", engineer="ana"))
    store.append_journal(case.id, "note", "Cause: cache never pruned\nFix: hourly prune job\n"
                                          "Workaround: rm /app/cache/old-*")
    store.append_journal(case.id, "log_excerpt", "...", data={"file": "app.log", "signatures": [
        "write <PATH> failed: No space left on device"]})
    draft = draft_from_case(store.get_case(case.id), store.journal(case.id))
    dialog = ArticleDialog(store, draft=draft)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == f"New KB article: draft from case {case.id}"
    assert dialog.sections["cause"].toPlainText() == "cache never pruned"
    assert dialog.sections["resolution"].toPlainText() == (
        "hourly prune job\n\nWorkaround: rm /app/cache/old-*")
    assert dialog.rules.rowCount() == 1 and store.article_count() == 0  # nothing saved yet
    dialog.sections["resolution"].setPlainText("Prune every hour (cron).")
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        dialog.save()
    saved = store.get_article(dialog.saved_article.id)
    assert saved.resolution == "Prune every hour (cron)." and saved.source_case == case.id
    assert saved.author == "ana"
