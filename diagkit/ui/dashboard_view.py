"""A host's dashboard: findings first (worst on top), then one card per probe.

The view only displays: it is given probes and results, and asks for refreshes through
:attr:`DashboardView.refresh_requested`; the host view runs the work.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from diagkit.probes.base import Finding, Probe, ProbeResult, Severity, Table
from diagkit.probes.runner import HostSnapshot
from diagkit.units import human_bytes

SEVERITY_COLOURS = {
    Severity.CRITICAL: QColor("#d32f2f"),
    Severity.WARNING: QColor("#ef6c00"),
    Severity.INFO: QColor("#1e88e5"),
}
OK_COLOUR = QColor("#2e7d32")
MAX_FACTS = 8
MAX_TABLE_ROWS = 200


def _chip(text: str, colour: QColor | None) -> str:
    if colour is None:
        return text
    return f'<span style="color:{colour.name()}; font-weight:600">{text}</span>'


class ProbeCard(QFrame):
    """One probe: headline, status, error, facts, tables; raw output one click away."""

    refresh_clicked = Signal(str)

    def __init__(self, probe: Probe, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.probe = probe
        self.result: ProbeResult | None = None
        self.setObjectName(f"card-{probe.name}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        title = QLabel(f"<b>{probe.title}</b>")
        title.setToolTip(probe.description)
        self.status = QLabel("not run yet")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.refresh_button = QToolButton(text="Refresh")
        self.refresh_button.setToolTip(f"Run the {probe.name} probe again")
        self.refresh_button.clicked.connect(lambda: self.refresh_clicked.emit(self.probe.name))
        self.raw_button = QToolButton(text="Raw output", checkable=True)
        self.raw_button.setEnabled(False)
        self.raw_button.toggled.connect(self._toggle_raw)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.status)
        head.addWidget(self.raw_button)
        head.addWidget(self.refresh_button)

        self.summary = QLabel(probe.description)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet(f"color: {SEVERITY_COLOURS[Severity.CRITICAL].name()};")
        self.error.hide()
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.hide()
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setEnabled(False)  # the palette's muted text colour
        self.notes.hide()
        self.tables = QVBoxLayout()
        self.raw = QPlainTextEdit(readOnly=True)
        self.raw.setFont(QFont("monospace"))
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.raw.setMinimumHeight(220)
        self.raw.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(self.facts)
        layout.addLayout(self.tables)
        layout.addWidget(self.notes)
        layout.addWidget(self.raw)

    def set_running(self) -> None:
        self.status.setText("running…")
        self.refresh_button.setEnabled(False)

    def set_idle(self) -> None:
        self.refresh_button.setEnabled(True)

    def show_result(self, result: ProbeResult) -> None:
        self.result = result
        self.refresh_button.setEnabled(True)
        self.raw_button.setEnabled(True)
        worst = max((f.severity for f in result.findings), default=None)
        if not result.ok:
            self.status.setText(_chip("error", SEVERITY_COLOURS[Severity.CRITICAL]) +
                                f" · {result.duration:.2f} s")
            self.error.setText(result.error or "")
            self.error.show()
        else:
            label = worst.label if worst is not None else "ok"
            colour = SEVERITY_COLOURS[worst] if worst is not None else OK_COLOUR
            self.status.setText(_chip(label, colour) + f" · {result.duration:.2f} s")
            self.error.hide()
        self.summary.setText(result.summary() if result.ok else self.probe.description)
        facts = list(result.data.facts.items())[:MAX_FACTS]
        if facts:
            rows = "".join(f"<tr><td style='padding-right:12px'>{_esc(k)}</td><td>{_esc(v)}</td></tr>"
                           for k, v in facts)
            self.facts.setText(f"<table>{rows}</table>")
        self.facts.setVisible(bool(facts))
        self.notes.setText("\n".join(f"Note: {n}" for n in result.data.notes))
        self.notes.setVisible(bool(result.data.notes))
        while self.tables.count():
            item = self.tables.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for table in result.data.tables:
            if table.rows:
                self.tables.addWidget(QLabel(f"<i>{_esc(table.title)}</i> ({len(table.rows)})"))
                self.tables.addWidget(_table_widget(table))
        self._fill_raw()

    def _fill_raw(self) -> None:
        result = self.result
        if result is None:
            return
        text = result.raw
        if result.stderr.strip():
            text += "\n--- stderr ---\n" + result.stderr
        header = f"exit status {result.exit_status}, {result.duration:.2f} s\n"
        self.raw.setPlainText(header + text)

    def _toggle_raw(self, shown: bool) -> None:
        self.raw.setVisible(shown)


def _esc(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _NumberItem(QTableWidgetItem):
    """Shows a formatted number (``12.1 GiB``) but sorts by the number itself."""

    def __init__(self, value: float, text: str) -> None:
        super().__init__(text)
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setToolTip(f"{value:,}")

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _NumberItem):
            return self.value < other.value
        return super().__lt__(other)


def _cell(column: str, value: object) -> QTableWidgetItem:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return QTableWidgetItem("" if value is None else str(value))
    name = column.lower()
    if name.endswith(("_bytes", "bytes")):
        return _NumberItem(value, human_bytes(value))
    if name.endswith(("_bps", "bps")):
        return _NumberItem(value, human_bytes(value) + "/s")
    if name.endswith("_kib"):
        return _NumberItem(value, human_bytes(value * 1024))
    return _NumberItem(value, f"{value:g}" if isinstance(value, float) else str(value))


def _table_widget(table: Table) -> QTableWidget:
    rows = table.rows[:MAX_TABLE_ROWS]
    widget = QTableWidget(len(rows), len(table.columns))
    widget.setObjectName(f"table-{table.name}")
    widget.setHorizontalHeaderLabels(list(table.columns))
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.verticalHeader().hide()
    widget.setAlternatingRowColors(True)
    row_height = widget.fontMetrics().height() + 6
    widget.verticalHeader().setDefaultSectionSize(row_height)
    widget.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            widget.setItem(r, c, _cell(table.columns[c], value))
    widget.setSortingEnabled(True)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    shown = min(len(rows), 8)
    height = header.sizeHint().height() + shown * row_height + 2 * widget.frameWidth()
    if len(rows) > shown or widget.horizontalHeader().length() > 600:
        height += widget.horizontalScrollBar().sizeHint().height()
    widget.setFixedHeight(height)
    return widget


class DashboardView(QWidget):
    """Findings on top, probe cards below (two columns)."""

    refresh_requested = Signal(object)  # a probe name, or None for all
    article_requested = Signal(str)  # a KB article's slug: the "Known issue" banner was clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards: dict[str, ProbeCard] = {}
        self.matcher: Any = None  # diagkit.kb.match.KnownErrorMatcher, given by the window
        self.known_issues: list[Any] = []  # KnownIssue, for the results shown now
        self.known_banner = QLabel()
        self.known_banner.setObjectName("known-issue-banner")
        self.known_banner.setWordWrap(True)
        self.known_banner.setTextFormat(Qt.TextFormat.RichText)
        self.known_banner.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                                  | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.known_banner.setStyleSheet("QLabel#known-issue-banner { background: #fff3cd; color: #5c4400;"
                                        " border: 1px solid #e0c060; border-radius: 3px; padding: 6px; }")
        self.known_banner.linkActivated.connect(self._banner_link)
        self.known_banner.hide()
        self.findings = QTreeWidget()
        self.findings.setObjectName("findings")
        self.findings.setHeaderLabels(["Severity", "Finding", "Probe", "What to do"])
        self.findings.setRootIsDecorated(False)
        self.findings.setWordWrap(True)
        self.findings.setAlternatingRowColors(True)
        self.findings.setColumnWidth(0, 90)
        self.findings.setColumnWidth(1, 360)
        self.findings.setColumnWidth(2, 90)
        self.findings.itemActivated.connect(self._go_to_card)
        self.findings.itemClicked.connect(self._go_to_card)

        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.grid_host)
        self.scroll.setBackgroundRole(QPalette.ColorRole.Base)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.findings)
        split.addWidget(self.scroll)
        split.setSizes([180, 520])
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.known_banner)
        layout.addWidget(split)
        self._show_findings()

    def set_probes(self, probes: list[Probe]) -> None:
        for card in self.cards.values():
            card.deleteLater()
        self.cards.clear()
        for index, probe in enumerate(probes):
            card = ProbeCard(probe)
            card.refresh_clicked.connect(self.refresh_requested.emit)
            self.cards[probe.name] = card
            self.grid.addWidget(card, index // 2, index % 2)
        self._show_findings()
        self._check_known_issues()

    def set_running(self, names: list[str] | None = None) -> None:
        for name, card in self.cards.items():
            if names is None or name in names:
                card.set_running()

    def set_idle(self) -> None:
        for card in self.cards.values():
            card.set_idle()

    def show_result(self, result: ProbeResult) -> None:
        card = self.cards.get(result.probe)
        if card is not None:
            card.show_result(result)
        self._show_findings()
        self._check_known_issues()

    def set_extra_findings(self, findings: list[Finding]) -> None:
        """Findings from outside the probes (forecasts from the monitoring history)."""
        self.extra_findings = list(findings)
        self._show_findings()

    def all_findings(self) -> list[Finding]:
        found = [f for c in self.cards.values() if c.result is not None for f in c.result.findings]
        found += getattr(self, "extra_findings", [])
        return sorted(found, key=lambda f: -f.severity)

    def _show_findings(self) -> None:
        self.findings.clear()
        found = self.all_findings()
        ran = any(c.result is not None for c in self.cards.values())
        for f in found:
            item = QTreeWidgetItem([f.severity.label.upper(), f.title, f.probe, f.hint])
            item.setForeground(0, QBrush(SEVERITY_COLOURS[f.severity]))
            font = item.font(0)
            font.setBold(True)
            item.setFont(0, font)
            item.setToolTip(1, f.detail or f.title)
            item.setToolTip(3, f.hint)
            item.setData(0, Qt.ItemDataRole.UserRole, f.probe)
            self.findings.addTopLevelItem(item)
        if not found:
            text = "No findings: nothing looks wrong." if ran else "No results yet."
            self.findings.addTopLevelItem(QTreeWidgetItem(["", text, "", ""]))

    # --- known issues (knowledge-base articles whose rules match these results) -------------

    def set_matcher(self, matcher: Any) -> None:
        """Use ``matcher`` (a :class:`~diagkit.kb.match.KnownErrorMatcher`, or None) from now on."""
        self.matcher = matcher
        self._check_known_issues()

    def snapshot(self) -> HostSnapshot:
        """The results shown now, as one snapshot (what the known-issue rules look at)."""
        results = tuple(c.result for c in self.cards.values() if c.result is not None)
        return HostSnapshot(host="", results=results, started=datetime.now(UTC), duration=0.0)

    def _check_known_issues(self) -> None:
        from diagkit.kb.match import evidence_from_snapshot

        issues: list[Any] = []
        if self.matcher is not None and any(c.result is not None for c in self.cards.values()):
            # Rules are compiled once by the matcher; matching a snapshot is a few regexes.
            issues = self.matcher.match(evidence_from_snapshot(self.snapshot()))
        self.known_issues = issues
        lines = []
        for issue in issues:
            why = "; ".join(issue.reasons[:2])
            lines.append(f"⚠ <b>Known issue:</b> <a href=\"kb:{html.escape(issue.slug)}\">"
                         f"{html.escape(issue.title)}</a>"
                         + (f" <small>({html.escape(why)})</small>" if why else ""))
        self.known_banner.setText("<br>".join(lines))
        self.known_banner.setVisible(bool(lines))

    def _banner_link(self, link: str) -> None:
        if link.startswith("kb:"):
            self.article_requested.emit(link[3:])

    def _go_to_card(self, item: QTreeWidgetItem) -> None:
        self.show_card(item.data(0, Qt.ItemDataRole.UserRole) or "")

    def show_card(self, probe: str) -> bool:
        """Scroll to the card of ``probe`` (a timeline event's evidence); False if none."""
        card = self.cards.get(probe)
        if card is not None:
            self.scroll.ensureWidgetVisible(card)
        return card is not None
