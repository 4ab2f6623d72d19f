"""The knowledge-base tab and the article editor, offscreen, on a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from diagkit.store.contract import ArticleDraft, MatchRule
from diagkit.store.sqlite import SqliteStore
from diagkit.ui.article_dialog import ArticleDialog
from diagkit.ui.kb_view import KbView


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    db = SqliteStore(tmp_path / "kb.db")
    db.create_article(ArticleDraft(
        "Root filesystem full", symptoms="Writes fail with *No space left on device*.",
        cause="Old logs in /var/log filled the disk.", resolution="Rotate and delete old logs.",
        tags=("disk",), rules=(MatchRule(kind="log", pattern="no space left on device"),)))
    db.create_article(ArticleDraft(
        "OOM killer ends the database", symptoms="postgres killed: Out of memory.",
        cause="A memory leak <script>alert(1)</script> in the app.", tags=("memory",)))
    yield db
    db.close()


def _view(qtbot: QtBot, store: SqliteStore) -> KbView:
    view = KbView(store)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    qtbot.waitUntil(lambda: view.results.count() == 2)  # the empty query lists every article
    return view


def _search(qtbot: QtBot, view: KbView, text: str) -> None:
    with qtbot.waitSignal(view.searched, timeout=10000):
        view.search_edit.clear()
        qtbot.keyClicks(view.search_edit, text)


def test_typing_a_query_shows_highlighted_results_and_the_article(qtbot: QtBot, store: SqliteStore) -> None:
    view = _view(qtbot, store)
    assert view.result_slugs() == ["oom-killer-ends-the-database", "root-filesystem-full"]
    _search(qtbot, view, "space left")
    qtbot.waitUntil(lambda: view.search_edit.text() == "space left" and
                    view.result_slugs() == ["root-filesystem-full"])
    assert "<b>space</b>" in view.result_html(0).lower()
    assert view.count_label.text() == "1 result(s)"

    with qtbot.waitSignal(view.article_shown):
        view.results.setCurrentRow(0)
    text = view.reader.toPlainText()
    assert "Root filesystem full" in text and "Rotate and delete old logs." in text
    assert "log matches /no space left on device/" in text  # the rules, in words
    assert "<i>No space left on device</i>" in view.article_html() or "italic" in view.article_html()


def test_user_html_in_an_article_is_shown_as_text(qtbot: QtBot, store: SqliteStore) -> None:
    view = _view(qtbot, store)
    with qtbot.waitSignal(view.article_shown):
        view.show_article("oom-killer-ends-the-database")
    assert "<script>alert(1)</script>" in view.reader.toPlainText()
    assert "<script>" not in view.article_html()


def test_stale_results_are_dropped(qtbot: QtBot, store: SqliteStore) -> None:
    view = _view(qtbot, store)
    view.search_edit.setText("memory")
    view.search()
    view.search_edit.setText("logs")
    with qtbot.waitSignal(view.searched, timeout=10000) as blocker:
        view.search()
    assert blocker.args == [1]
    qtbot.wait(200)  # let any late outcome of the first search arrive; it must not show
    assert view.result_slugs() == ["root-filesystem-full"]


def test_new_article_via_the_dialog_is_saved_and_searchable(qtbot: QtBot, store: SqliteStore) -> None:
    view = _view(qtbot, store)
    dialog = view.new_article()
    assert isinstance(dialog, ArticleDialog) and dialog.isVisible()
    qtbot.keyClicks(dialog.title_edit, "NTP clock drift breaks Kerberos")
    dialog.tags_edit.setText("time, kerberos")
    dialog.sections["symptoms"].setPlainText("Logins fail: Clock skew too great.")
    dialog.sections["resolution"].setPlainText("Enable `chronyd` and step the clock.")
    row = dialog.add_rule_row()
    dialog.set_rule(row, kind="log", pattern=r"clock skew too great")
    row = dialog.add_rule_row()
    dialog.set_rule(row, kind="metric", metric="time.offset_seconds", op=">", value="1",
                    labels="source=ntp")
    with qtbot.waitSignal(view.changed, timeout=10000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert not dialog.isVisible()
    saved = store.get_article("ntp-clock-drift-breaks-kerberos")
    assert saved.tags == ("time", "kerberos")
    assert saved.rules == (MatchRule(kind="log", pattern="clock skew too great"),
                           MatchRule(kind="metric", metric="time.offset_seconds", op=">",
                                     value=1.0, labels={"source": "ntp"}))
    _search(qtbot, view, "kerberos")
    qtbot.waitUntil(lambda: view.result_slugs() == ["ntp-clock-drift-breaks-kerberos"])

    # edit it: the editor opens filled in, and the change is saved over the same article
    assert view.current is not None and view.current.id == saved.id  # the saved one stays shown
    assert view.results.currentRow() == 0
    editor = view.edit_article()
    assert editor.title_edit.text() == "NTP clock drift breaks Kerberos"
    assert editor.rules.rowCount() == 2
    editor.sections["cause"].setPlainText("chronyd was disabled.")
    with qtbot.waitSignal(view.changed, timeout=10000):
        editor.save()
    assert store.get_article(saved.id).cause == "chronyd was disabled."
    assert store.get_article(saved.id).version_counter == saved.version_counter + 1


def test_a_bad_regex_rule_is_refused_inline(qtbot: QtBot, store: SqliteStore) -> None:
    view = _view(qtbot, store)
    dialog = view.new_article()
    dialog.title_edit.setText("Broken rule")
    dialog.set_rule(dialog.add_rule_row(), kind="log", pattern="disk (full")
    dialog.set_rule(dialog.add_rule_row(), kind="metric", metric="disk.used_percent", op=">=",
                    value="ninety")
    dialog.save()
    assert dialog.isVisible() and dialog.error.isVisible()
    text = dialog.error.text()
    assert "Rule 1:" in text and "not a valid regular expression" in text
    assert "Rule 2:" in text and "not a number" in text
    assert dialog.rules.item(0, 1).background().color().name() == "#f8d7da"
    assert store.article_count() == 2  # nothing saved
    # fixing the rule saves
    dialog.set_rule(0, kind="log", pattern=r"disk \(full")
    dialog.rules.removeRow(1)
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        dialog.save()
    assert store.get_article("broken-rule").rules[0].pattern == r"disk \(full"


def test_delete_asks_first(qtbot: QtBot, store: SqliteStore, monkeypatch) -> None:
    view = _view(qtbot, store)
    with qtbot.waitSignal(view.article_shown):
        view.results.setCurrentRow(0)
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *_a, **_k: answers.pop(0)))
    view.delete_article()
    assert store.article_count() == 2
    with qtbot.waitSignal(view.changed, timeout=10000):
        view.delete_article()
    qtbot.waitUntil(lambda: view.result_slugs() == ["root-filesystem-full"])
    assert store.article_count() == 1 and view.current is None and not view.edit_button.isEnabled()


def test_export_then_import_round_trip(qtbot: QtBot, store: SqliteStore, tmp_path: Path,
                                       monkeypatch) -> None:
    from PySide6.QtWidgets import QFileDialog

    view = _view(qtbot, store)
    folder = tmp_path / "kb-export"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *_a, **_k: str(folder)))
    view.export_button.click()
    qtbot.waitUntil(lambda: view.state.text().startswith("Exported"), timeout=10000)
    assert sorted(p.name for p in folder.glob("*.md")) == [
        "oom-killer-ends-the-database.md", "root-filesystem-full.md"]

    other = SqliteStore(tmp_path / "other.db")
    try:
        target = KbView(other)
        qtbot.addWidget(target)
        qtbot.waitUntil(lambda: target.count_label.text() == "no articles")
        with qtbot.waitSignal(target.changed, timeout=10000):
            target.import_button.click()
        assert "2 created" in target.state.text()
        qtbot.waitUntil(lambda: target.results.count() == 2)
        copy = other.get_article("root-filesystem-full")
        original = store.get_article("root-filesystem-full")
        assert (copy.title, copy.symptoms, copy.cause, copy.resolution, copy.tags, copy.rules) == (
            original.title, original.symptoms, original.cause, original.resolution, original.tags,
            original.rules)
    finally:
        other.close()
