"""Write or edit a knowledge-base article: title, tags, links, the four Markdown sections, and
the match rules that make it a "known issue" on dashboards and in the log viewer.

Rules are checked with the core's own validation (:meth:`MatchRule.from_dict`) as they are
edited and again before anything is saved: a bad rule (a malformed pattern, or one the
linear-time regex engine refuses, such as a backreference or a look-around) is marked in the
table and explained under it, never in a pop-up, and Save stays disabled until it is fixed or
removed. The save itself runs in a worker (the store serializes writers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import DiagkitError
from diagkit.store.contract import Article, ArticleDraft, KbStore, MatchRule
from diagkit.ui.inline import error_label
from diagkit.ui.workers import run_in_background

RULE_KINDS = ("signature", "finding", "log", "metric")
RULE_OPS = ("", ">", ">=", "<", "<=", "==")
RULE_COLUMNS = ("Kind", "Pattern (regex)", "Probe", "Metric", "Op", "Value", "Labels (k=v …)")
SECTIONS = (("symptoms", "Symptoms"), ("environment", "Environment"), ("cause", "Cause"),
            ("resolution", "Resolution"))
BAD_RULE = QColor("#f8d7da")


def _labels_text(labels: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in labels.items())


def _split(text: str, sep: str = ",") -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(sep) if p.strip())


class ArticleDialog(QDialog):
    """New article (``article=None``, optionally pre-filled from a ``draft``) or edit ``article``.

    ``draft`` is anything with Article's editable attributes (e.g. ``diagkit.kb`` ArticleDraft
    from a case). :attr:`saved` carries the stored :class:`Article` once written.
    """

    saved = Signal(object)  # Article

    def __init__(self, store: KbStore, article: Article | None = None, *, draft: object | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.article = article
        self.saved_article: Article | None = None
        self._saving = False
        # A draft (from a case) keeps where it came from and who wrote it when saved.
        self._draft_case = getattr(draft, "source_case", None) if article is None else None
        self._draft_author = str(getattr(draft, "author", "") or "") if article is None else ""
        self.setWindowTitle(f"Edit article: {article.title}" if article else
                            f"New KB article: draft from case {self._draft_case}"
                            if self._draft_case is not None else "New KB article")
        self.resize(900, 720)

        self.title_edit = QLineEdit(placeholderText="What the engineer sees, e.g. 'Disk full: / at 100 %'")
        self.slug_edit = QLineEdit(placeholderText="made from the title when empty")
        self.tags_edit = QLineEdit(placeholderText="disk, linux, storage")
        self.links_edit = QPlainTextEdit(placeholderText="One URL per line")
        self.links_edit.setMaximumHeight(60)
        self.source_label = QLabel()
        form = QFormLayout()
        form.addRow("&Title", self.title_edit)
        form.addRow("&Slug", self.slug_edit)
        form.addRow("T&ags", self.tags_edit)
        form.addRow("&Links", self.links_edit)
        form.addRow("", self.source_label)

        self.sections: dict[str, QPlainTextEdit] = {}
        section_tabs = QTabWidget()
        for name, label in SECTIONS:
            edit = QPlainTextEdit(placeholderText=f"{label} (Markdown)")
            self.sections[name] = edit
            section_tabs.addTab(edit, label)

        self.rules = QTableWidget(0, len(RULE_COLUMNS))
        self.rules.setObjectName("rules")
        self.rules.setHorizontalHeaderLabels(list(RULE_COLUMNS))
        self.rules.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rules.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        header = self.rules.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((95, 240, 70, 200, 55, 60)):
            self.rules.setColumnWidth(column, width)
        self.rules.setToolTip(
            "An article is a known issue when ANY rule matches. signature/log/finding: a "
            "case-insensitive regex over log signatures, log lines or finding titles (Probe limits "
            "findings to one probe). metric: Metric Op Value, e.g. disk_used_percent >= 95.")
        add_rule = QPushButton("Add rule")
        add_rule.clicked.connect(lambda: self.add_rule_row())
        remove_rule = QPushButton("Remove rule")
        remove_rule.clicked.connect(self.remove_selected_rules)
        rule_buttons = QHBoxLayout()
        rule_buttons.addWidget(QLabel("<b>Match rules</b> (known issue when any matches)"))
        rule_buttons.addStretch(1)
        rule_buttons.addWidget(add_rule)
        rule_buttons.addWidget(remove_rule)

        self.error = error_label("article-error")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(section_tabs, 3)
        layout.addLayout(rule_buttons)
        layout.addWidget(self.rules, 2)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        source = article if article is not None else draft
        if source is not None:
            self._fill(source)
        self.rules.itemChanged.connect(lambda _item: self.check_rules())
        self.check_rules()  # an article stored before patterns were checked shows it at once

    # --- filling -------------------------------------------------------------------------------

    def _fill(self, source: object) -> None:
        self.title_edit.setText(str(getattr(source, "title", "") or ""))
        self.slug_edit.setText(str(getattr(source, "slug", "") or ""))
        self.tags_edit.setText(", ".join(getattr(source, "tags", ()) or ()))
        self.links_edit.setPlainText("\n".join(getattr(source, "links", ()) or ()))
        for name, edit in self.sections.items():
            edit.setPlainText(str(getattr(source, name, "") or ""))
        for rule in getattr(source, "rules", ()) or ():
            self.add_rule_row(rule)
        case = getattr(source, "source_case", None)
        self.source_label.setText(f"Written from case {case}" if case else "")
        self.source_label.setVisible(bool(case))

    def add_rule_row(self, rule: MatchRule | None = None) -> int:
        row = self.rules.rowCount()
        self.rules.insertRow(row)
        kind = QComboBox()
        kind.addItems(RULE_KINDS)
        op = QComboBox()
        op.addItems(RULE_OPS)
        self.rules.setCellWidget(row, 0, kind)
        self.rules.setCellWidget(row, 4, op)
        values = ["", "", "", "", "", "", ""]
        if rule is not None:
            kind.setCurrentText(rule.kind)
            op.setCurrentText(rule.op)
            values = ["", rule.pattern, rule.probe, rule.metric, "",
                      "" if rule.value is None else f"{rule.value:g}", _labels_text(rule.labels)]
        for column in (1, 2, 3, 5, 6):
            self.rules.setItem(row, column, QTableWidgetItem(values[column]))
        kind.currentTextChanged.connect(lambda _text: self.check_rules())
        op.currentTextChanged.connect(lambda _text: self.check_rules())
        return row

    def set_rule(self, row: int, *, kind: str = "", pattern: str = "", probe: str = "",
                 metric: str = "", op: str = "", value: str = "", labels: str = "") -> None:
        """Fill one rule row (tests and pre-filling use this instead of typing into cells)."""
        if kind:
            self.rules.cellWidget(row, 0).setCurrentText(kind)
        self.rules.cellWidget(row, 4).setCurrentText(op)
        for column, text in ((1, pattern), (2, probe), (3, metric), (5, value), (6, labels)):
            self.rules.item(row, column).setText(text)

    def remove_selected_rules(self) -> None:
        for row in sorted({i.row() for i in self.rules.selectedIndexes()}, reverse=True):
            self.rules.removeRow(row)
        self.check_rules()

    @property
    def save_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def check_rules(self) -> list[tuple[int, str]]:
        """Validate the rules as they stand: mark and explain bad rows, and keep Save disabled
        while there are any. Returns the (row, problem) pairs."""
        _rules, problems = self.read_rules()
        self._mark_rows({row for row, _ in problems})
        self.show_error(self._rules_message(problems))
        self.save_button.setEnabled(not problems)
        return problems

    @staticmethod
    def _rules_message(problems: list[tuple[int, str]]) -> str:
        if not problems:
            return ""
        return ("\n".join(f"Rule {row + 1}: {msg}" for row, msg in problems)
                + "\nFix the marked rule(s) or remove them, then save again.")

    # --- reading and validating ----------------------------------------------------------------

    def _text(self, row: int, column: int) -> str:
        item = self.rules.item(row, column)
        return item.text().strip() if item is not None else ""

    def read_rules(self) -> tuple[list[MatchRule], list[tuple[int, str]]]:
        """The rules in the table, and (row, problem) for every row the core refuses."""
        rules: list[MatchRule] = []
        problems: list[tuple[int, str]] = []
        for row in range(self.rules.rowCount()):
            kind = self.rules.cellWidget(row, 0).currentText()
            data: dict[str, Any] = {"kind": kind, "pattern": self._text(row, 1),
                                    "probe": self._text(row, 2), "metric": self._text(row, 3),
                                    "op": self.rules.cellWidget(row, 4).currentText()}
            if not any(self._text(row, c) for c in (1, 2, 3, 5, 6)):
                continue  # an untouched new row is not a rule
            value = self._text(row, 5)
            labels: dict[str, str] = {}
            try:
                data["value"] = float(value) if value else None
                for word in self._text(row, 6).split():
                    key, sep, val = word.partition("=")
                    if not sep or not key:
                        raise ValueError(f"labels are written key=value, not {word!r}")
                    labels[key] = val
                data["labels"] = labels
                rules.append(MatchRule.from_dict(data))
            except (DiagkitError, ValueError) as exc:
                message = str(exc) if isinstance(exc, DiagkitError) or "labels" in str(exc) else (
                    f"the value {value!r} is not a number")
                problems.append((row, message))
        return rules, problems

    def fields(self) -> dict[str, Any]:
        """The article's fields as typed (rules excluded; see :meth:`read_rules`)."""
        out: dict[str, Any] = {
            "title": self.title_edit.text().strip(),
            "tags": _split(self.tags_edit.text()),
            "links": _split(self.links_edit.toPlainText(), "\n"),
        }
        out.update({name: edit.toPlainText() for name, edit in self.sections.items()})
        return out

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _mark_rows(self, bad: set[int]) -> None:
        for row in range(self.rules.rowCount()):
            brush = QBrush(BAD_RULE) if row in bad else QBrush()
            for column in (1, 2, 3, 5, 6):
                item = self.rules.item(row, column)
                if item is not None:
                    item.setBackground(brush)

    # --- saving --------------------------------------------------------------------------------

    def save(self) -> None:
        if self._saving:
            return
        fields = self.fields()
        rules, problems = self.read_rules()
        self._mark_rows({row for row, _ in problems})
        if not fields["title"]:
            self.show_error("An article needs a title: the short phrase an engineer would search for.")
            self.title_edit.setFocus()
            return
        if problems:
            self.show_error(self._rules_message(problems))
            return
        self.show_error("")
        fields["rules"] = tuple(rules)
        slug = self.slug_edit.text().strip()
        store, article = self.store, self.article
        draft_case, draft_author = self._draft_case, self._draft_author

        def job() -> Article:
            if article is None:
                return store.create_article(ArticleDraft(slug=slug, source_case=draft_case,
                                                         author=draft_author, **fields))
            if slug:
                fields["slug"] = slug
            return store.update_article(article.id, article.version_counter, **fields)

        self._saving = True
        self.buttons.setEnabled(False)
        run_in_background(job, on_done=self._saved, on_error=self._failed, owner=self)

    def _saved(self, article: Article) -> None:
        self._saving = False
        self.buttons.setEnabled(True)
        self.saved_article = article
        self.saved.emit(article)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._saving = False
        self.buttons.setEnabled(True)
        self.show_error(str(error) if isinstance(error, DiagkitError) else
                        f"The article could not be saved ({type(error).__name__}: {error}).")
