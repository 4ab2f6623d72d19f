"""The knowledge base tab: search as you type, results with the matched words in bold, the
article rendered from Markdown, and New / Edit / Delete / Import / Export.

Every store call runs in a worker. Typing restarts a short debounce timer; each search carries a
sequence number and a result that arrives after a newer search was started is dropped, so a slow
old query never overwrites the list for what the user typed last.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut, QTextDocument
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import DiagkitError
from diagkit.store.contract import Article, KbStore, MatchRule, SearchHit
from diagkit.ui.workers import Worker, run_in_background

ROLE_SLUG = Qt.ItemDataRole.UserRole
SEARCH_DELAY_MS = 150
SEARCH_LIMIT = 50
# Raw HTML in an article is shown as text: articles come from other people and imported files.
MARKDOWN_FEATURES = (QTextDocument.MarkdownFeature.MarkdownDialectGitHub
                     | QTextDocument.MarkdownFeature.MarkdownNoHTML)


def describe_rule(rule: MatchRule) -> str:
    """One line an engineer can read: ``metric disk_used_percent >= 95 (probe disk)``."""
    if rule.kind == "metric":
        value = "" if rule.value is None else f"{rule.value:g}"
        text = f"metric {rule.metric} {rule.op} {value}".rstrip()
        if rule.labels:
            text += " where " + ", ".join(f"{k}={v}" for k, v in rule.labels.items())
    else:
        text = f"{rule.kind} matches /{rule.pattern}/"
    return text + (f" (probe {rule.probe})" if rule.probe else "")


def article_markdown(article: Article) -> str:
    """The article as one Markdown document (sections that are empty are left out)."""
    parts = [f"# {article.title}"]
    meta = [f"`{article.slug}`"]
    if article.tags:
        meta.append("tags: " + ", ".join(article.tags))
    if article.source_case:
        meta.append(f"from case {article.source_case}")
    if article.author:
        meta.append(f"by {article.author}")
    if article.updated:
        meta.append(f"updated {article.updated.astimezone():%Y-%m-%d %H:%M}")
    parts.append(" · ".join(meta))
    for name, label in (("symptoms", "Symptoms"), ("environment", "Environment"),
                        ("cause", "Cause"), ("resolution", "Resolution")):
        text = getattr(article, name).strip()
        if text:
            parts.append(f"## {label}\n\n{text}")
    if article.links:
        parts.append("## Links\n\n" + "\n".join(f"- <{link}>" if "://" in link else f"- {link}"
                                                for link in article.links))
    if article.rules:
        parts.append("## Known-issue rules\n\n" + "\n".join(
            f"- `{describe_rule(r).replace('`', chr(39))}`" for r in article.rules))
    return "\n\n".join(parts) + "\n"


def _result_html(hit: SearchHit) -> str:
    article = hit.article
    tags = " <i>· " + html.escape(", ".join(article.tags)) + "</i>" if article.tags else ""
    # Snippets are cut from the Markdown source: drop its markup, keep the words.
    snippet = re.sub(r"(^|\s)(?:[-*+]|\d+\.|#+)\s", r"\1", hit.snippet_html().replace("`", ""))
    snippet = snippet.replace("**", "")
    return f"<b>{html.escape(article.title)}</b>{tags}<br><small>{snippet}</small>"


class KbView(QWidget):
    """Search, read and maintain the knowledge base of ``store`` (a :class:`KbStore`)."""

    searched = Signal(int)  # number of results shown, after each search
    article_shown = Signal(object)  # Article
    changed = Signal()  # articles were added, edited, deleted or imported (known-issue rules too)
    use_requested = Signal(object)  # Article: "Use on case" (journal it into the active case)

    def __init__(self, store: KbStore, parent: QWidget | None = None, *,
                 prepare: Callable[[Any], object] | None = None) -> None:
        """``prepare(store)`` runs once in the first worker (e.g. ``diagkit.kb.open_kb``)."""
        super().__init__(parent)
        self.store = store
        self._prepare = prepare
        self._prepared = threading.Event()
        self.current: Article | None = None
        self.hits: list[SearchHit] = []
        self.dialog: QWidget | None = None
        self._seq = 0
        self._search_worker: Worker | None = None
        self._pending_slug: str | None = None

        self.search_edit = QLineEdit(placeholderText="Search the knowledge base (symptom, error "
                                     "message, tag…)  Ctrl+F")
        self.search_edit.setClearButtonEnabled(True)
        self._debounce = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self.search)
        self.search_edit.textChanged.connect(lambda _t: self._debounce.start())
        self.search_edit.returnPressed.connect(self.search)
        self.count_label = QLabel("")

        self.new_button = QPushButton("New…")
        self.new_button.setToolTip("Write a new article")
        self.new_button.clicked.connect(lambda: self.new_article())
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(lambda: self.edit_article())
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(lambda: self.delete_article())
        self.import_button = QPushButton("Import folder…")
        self.import_button.setToolTip("Add or update articles from a folder of Markdown files")
        self.import_button.clicked.connect(lambda: self.import_folder())
        self.export_button = QPushButton("Export folder…")
        self.export_button.setToolTip("Write every article as a Markdown file into a folder")
        self.export_button.clicked.connect(lambda: self.export_folder())
        self.use_button = QPushButton("Use on case")
        self.use_button.setToolTip("Journal this article into the active case (it counts as "
                                   "used in the metrics)")
        self.use_button.clicked.connect(
            lambda: self.current is not None and self.use_requested.emit(self.current))
        bar = QHBoxLayout()
        bar.addWidget(self.search_edit, 1)
        bar.addWidget(self.count_label)
        for button in (self.use_button, self.new_button, self.edit_button, self.delete_button,
                       self.import_button, self.export_button):
            bar.addWidget(button)

        self.results = QListWidget()
        self.results.setObjectName("kb-results")
        self.results.setAlternatingRowColors(True)
        self.results.currentItemChanged.connect(self._result_selected)
        self.reader = QTextBrowser()
        self.reader.setObjectName("kb-article")
        self.reader.setOpenLinks(False)  # links open in the desktop's browser, never in here
        self.reader.anchorClicked.connect(self._open_link)
        self.reader.setPlaceholderText("Select an article to read it.")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.results)
        split.addWidget(self.reader)
        split.setSizes([420, 800])
        split.setStretchFactor(1, 1)

        self.state = QLabel("")
        self.state.setObjectName("kb-state")
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        self.state.hide()
        layout.addWidget(self.state)
        layout.addWidget(split, 1)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self._focus_search)
        self._update_buttons()
        self.search()

    def _ready(self) -> None:
        """Run ``prepare`` once, in a worker, before the first read (the caller's ``prepare``
        serializes itself, so two first jobs at once are safe)."""
        if self._prepare is not None and not self._prepared.is_set():
            self._prepare(self.store)
            self._prepared.set()

    # --- searching -----------------------------------------------------------------------------

    def _focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def search(self) -> None:
        """Run the query now (the debounce timer calls this); empty lists every article."""
        self._debounce.stop()
        self._seq += 1
        seq, query, store = self._seq, self.search_edit.text().strip(), self.store
        if self._search_worker is not None:
            self._search_worker.cancel()
        ready = self._ready

        def job() -> list[SearchHit]:
            ready()
            if query:
                from diagkit.kb.search import search

                return search(store, query, limit=SEARCH_LIMIT)
            return [SearchHit(article=a, rank=0.0, snippet=_plain_snippet(a))
                    for a in store.list_articles()]

        self._search_worker = run_in_background(
            job, on_done=lambda hits: self._searched(seq, hits),
            on_error=lambda error: self._search_failed(seq, error), owner=self)

    def _searched(self, seq: int, hits: list[SearchHit]) -> None:
        if seq != self._seq:
            return  # an older query finishing late
        self._search_worker = None
        if self.state.text().startswith("Search failed"):
            self._say("")  # the store answers again (e.g. the team store reconnected)
        keep = self._pending_slug or (self.current.slug if self.current else None)
        self.hits = hits
        self.results.blockSignals(True)
        self.results.clear()
        selected = None
        for hit in hits:
            item = QListWidgetItem()
            item.setData(ROLE_SLUG, hit.article.slug)
            item.setToolTip(hit.snippet_text())
            label = QLabel(_result_html(hit))
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setContentsMargins(4, 3, 4, 3)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            item.setSizeHint(label.sizeHint())
            self.results.addItem(item)
            self.results.setItemWidget(item, label)
            if hit.article.slug == keep:
                selected = item
        self.results.blockSignals(False)
        query = self.search_edit.text().strip()
        if not hits:
            self.count_label.setText("no match" if query else "no articles")
        else:
            self.count_label.setText(f"{len(hits)} result(s)" if query else f"{len(hits)} article(s)")
        if selected is not None:
            self.results.setCurrentItem(selected)
        self.searched.emit(len(hits))

    def _search_failed(self, seq: int, error: BaseException) -> None:
        if seq != self._seq:
            return
        self._search_worker = None
        self._say(f"Search failed: {error}")

    def result_slugs(self) -> list[str]:
        return [self.results.item(i).data(ROLE_SLUG) for i in range(self.results.count())]

    def result_html(self, row: int) -> str:
        """The rich text shown for result ``row`` (title, tags, highlighted snippet)."""
        label = self.results.itemWidget(self.results.item(row))
        return label.text() if isinstance(label, QLabel) else ""

    # --- reading -------------------------------------------------------------------------------

    def _result_selected(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        self._restyle_selection()
        if item is None:
            return
        slug = item.data(ROLE_SLUG)
        hit = next((h for h in self.hits if h.article.slug == slug), None)
        if hit is not None:
            self._show(hit.article)

    def _restyle_selection(self) -> None:
        # An item widget does not follow the list's selection colours by itself.
        current = self.results.currentItem()
        for row in range(self.results.count()):
            item = self.results.item(row)
            label = self.results.itemWidget(item)
            if label is not None:
                label.setStyleSheet("color: palette(highlighted-text);" if item is current else "")

    def show_article(self, ref: int | str) -> None:
        """Load an article by slug or id (in a worker) and show it; select it in the list."""
        store, ready = self.store, self._ready
        self._pending_slug = ref if isinstance(ref, str) else None

        def done(article: Article) -> None:
            self._pending_slug = None
            self._show(article)
            for row in range(self.results.count()):
                if self.results.item(row).data(ROLE_SLUG) == article.slug:
                    self.results.blockSignals(True)
                    self.results.setCurrentRow(row)
                    self.results.blockSignals(False)
            self._restyle_selection()

        def failed(error: BaseException) -> None:
            self._pending_slug = None
            self._say(str(error))

        def job() -> Article:
            ready()
            return store.get_article(ref)

        run_in_background(job, on_done=done, on_error=failed, owner=self)

    def _show(self, article: Article) -> None:
        self.current = article
        document = QTextDocument(self.reader)
        document.setMarkdown(article_markdown(article), MARKDOWN_FEATURES)
        self.reader.setDocument(document)
        self._say("")
        self._update_buttons()
        self.article_shown.emit(article)

    def article_html(self) -> str:
        return self.reader.toHtml()

    def _open_link(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
        else:
            self._say(f"Not opened: {url.toString()} (only web and mail links open from here).")

    def _update_buttons(self) -> None:
        self.use_button.setEnabled(self.current is not None)
        self.edit_button.setEnabled(self.current is not None)
        self.delete_button.setEnabled(self.current is not None)

    # --- changing ------------------------------------------------------------------------------

    def new_article(self, draft: object | None = None) -> QWidget:
        """Open the editor for a new article (``draft``: pre-filled fields, e.g. from a case)."""
        from diagkit.ui.article_dialog import ArticleDialog

        return self._open_dialog(ArticleDialog(self.store, draft=draft, parent=self))

    def edit_article(self) -> QWidget | None:
        from diagkit.ui.article_dialog import ArticleDialog

        if self.current is None:
            return None
        return self._open_dialog(ArticleDialog(self.store, self.current, parent=self))

    def _open_dialog(self, dialog: QWidget) -> QWidget:
        dialog.saved.connect(self._article_saved)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _article_saved(self, article: Article) -> None:
        self._say(f"Saved {article.title!r}.")
        self._show(article)
        self.search()
        self.changed.emit()

    def delete_article(self) -> None:
        article, store = self.current, self.store
        if article is None:
            return
        answer = QMessageBox.question(
            self, "Delete article", f"Delete the article {article.title!r} ({article.slug})? "
            "Export the knowledge base first if you may want it back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return

        def done(_none: object) -> None:
            self.current = None
            self.reader.clear()
            self._update_buttons()
            self._say(f"Deleted {article.title!r}.")
            self.search()
            self.changed.emit()

        run_in_background(lambda: store.delete_article(article.id), on_done=done,
                          on_error=self._show_error, owner=self)

    def import_folder(self, folder: str | Path | None = None) -> None:
        from diagkit.kb.markdown import import_articles

        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Import articles from a folder")
            if not folder:
                return
        store, path = self.store, Path(folder)
        self._say(f"Importing from {path}…")

        def done(report: object) -> None:
            self._say(f"Imported from {path}: {_describe_import(report)}")
            self.search()
            self.changed.emit()

        run_in_background(lambda: import_articles(store, path), on_done=done,
                          on_error=self._show_error, owner=self)

    def export_folder(self, folder: str | Path | None = None) -> None:
        from diagkit.kb.markdown import export_articles

        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Export articles to a folder")
            if not folder:
                return
        store, path = self.store, Path(folder)
        self._say(f"Exporting to {path}…")
        run_in_background(
            lambda: export_articles(store, path),
            on_done=lambda paths: self._say(f"Exported {len(paths)} article(s) to {path}."),
            on_error=self._show_error, owner=self)

    def _say(self, text: str) -> None:
        self.state.setText(text)
        self.state.setVisible(bool(text))

    def _show_error(self, error: BaseException) -> None:
        self._say(str(error) if isinstance(error, DiagkitError | OSError) else
                           f"Unexpected error ({type(error).__name__}: {error}).")


def _plain_snippet(article: Article) -> str:
    text = " ".join((article.symptoms or article.cause or article.resolution).split())
    return text[:160] + ("…" if len(text) > 160 else "")


def _describe_import(report: object) -> str:
    """ImportReport's counts in words, whatever fields it has (created/updated/skipped/errors)."""
    parts = []
    for name in ("created", "updated", "unchanged", "skipped"):
        value = getattr(report, name, None)
        if value is not None:
            count = len(value) if isinstance(value, list | tuple) else value
            parts.append(f"{count} {name}")
    errors = getattr(report, "errors", None) or getattr(report, "problems", None) or ()
    if errors:
        parts.append(f"{len(errors)} refused: " + "; ".join(str(e) for e in list(errors)[:3]))
    return ", ".join(parts) or str(report)
