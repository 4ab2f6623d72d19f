"""A host's dashboard: findings first (worst on top), then one card per probe.

The view only displays: it is given probes and results, and asks for refreshes through
:attr:`DashboardView.refresh_requested`; the host view runs the work.
"""

from __future__ import annotations

import html
import itertools
import re
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPalette, QResizeEvent
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
    QStyledItemDelegate,
    QStyleOptionViewItem,
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
# Two card columns from this width of the cards' area on; one column below (no right column cut
# off at 1024 px, issue 17 item 5).
TWO_COLUMNS_FROM = 900


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
        # Never squeezed below its contents: a squeezed card drew captions over its tables.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

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
        # A card as tall as its row's neighbour keeps its content at the top: without this the
        # extra height went into the labels, which centre their text, and pushed a table below
        # the card's visible part (seen on the screenshots).
        layout.addStretch(1)

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
            rows = "".join(f"<tr><td style='padding-right:12px' title='{_esc(k)}'>{_esc(_label(k))}"
                           f"</td><td>{_esc(v)}</td></tr>"
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


# What an engineer calls the probes' raw keys (facts and table columns); others are derived by
# _label from the key itself (``used_pct`` -> "Used %").
LABELS = {
    "os": "OS", "os_id": "Distribution ID", "os_version": "OS version", "sample_seconds": "Sampled over (s)",
    "io_sample_seconds": "I/O sampled over (s)", "swap_rate_sample": "Swap rates sampled over",
    "pid_max": "PID limit", "threads_max": "Thread limit", "processes_with_memory":
    "Processes using memory", "rss_bytes": "RSS", "rss_kib": "RSS", "cpu_percent": "CPU %",
    "pid": "PID", "ppid": "Parent PID", "cpu": "CPU", "time_sync": "Time sync",
    "default_gateway_v6": "Default gateway (IPv6)", "local_ipv4": "Local IPv4",
    "dns_search": "DNS search", "dns_note": "DNS note", "read_Bps": "Read/s", "write_Bps": "Write/s",
    "read_iops": "Read IO/s", "write_iops": "Write IO/s", "util_pct": "Utilisation %",
    "inodes_used_pct": "Inodes used %", "boot_epoch": "Boot (epoch)", "time_epoch": "Time (epoch)",
}
_UNIT_SUFFIXES = (("_bytes", ""), ("_kib", ""), ("_bps", "/s"), ("_pct", " %"), ("_percent", " %"))


def _label(key: str) -> str:
    """A raw key as a person would write it: ``sample_seconds`` -> "Sampled over (s)"."""
    if key in LABELS:
        return LABELS[key]
    suffix = ""
    for ending, unit in _UNIT_SUFFIXES:
        if key.endswith(ending) and key != ending:
            key, suffix = key[: -len(ending)], unit
            break
    words = key.replace("_", " ").strip()
    return (words[:1].upper() + words[1:] + suffix) if words else key


def _duplicate_columns(table: Table) -> set[int]:
    """Text columns that repeat a number column formatted (``rss`` beside ``rss_bytes``): the
    view formats the number itself, so showing both would say the same thing twice."""
    names = set(table.columns)
    return {i for i, c in enumerate(table.columns)
            if any(f"{c}{ending}" in names for ending, _ in _UNIT_SUFFIXES)}


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


class _TextItem(QTableWidgetItem):
    """Text that sorts naturally: ``cpu2`` before ``cpu10``, as a person reads them."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.key = _natural_key(text)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _TextItem):
            return self.key < other.key
        return super().__lt__(other)


def _natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in re.split(r"(\d+)", text) if part)


def _probe_order(table: Table) -> tuple[int, Qt.SortOrder]:
    """The column (and direction) the probe's rows are already sorted by, or -1 for none.

    The probe decides the order (top consumers first, fullest filesystem first); the header's
    arrow must say that order, and enabling sorting must not re-sort the rows by column 0.
    Numeric columns are preferred (a "top N" table is sorted by its measure); the column must
    have at least two different values, so a constant column does not claim the order.
    """
    if table.sorted_by.lstrip("-") in table.columns:
        descending = table.sorted_by.startswith("-")
        return (table.columns.index(table.sorted_by.lstrip("-")),
                Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
    rows = table.rows[:MAX_TABLE_ROWS]
    candidates: list[tuple[int, int, Qt.SortOrder]] = []
    for c in range(len(table.columns)):
        values = [row[c] for row in rows]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        keys: list[Any] = values if numeric else [_natural_key(str(v)) for v in values]
        if len(rows) < 2 or len(set(map(repr, keys))) < 2:
            continue
        pairs = list(itertools.pairwise(keys))
        # Rank: a measure, biggest first (top N); then names in order (cpu0, cpu1); then the rest.
        if all(a >= b for a, b in pairs):
            candidates.append((0 if numeric else 3, c, Qt.SortOrder.DescendingOrder))
        elif all(a <= b for a, b in pairs):
            candidates.append((2 if numeric else 1, c, Qt.SortOrder.AscendingOrder))
    if not candidates:
        return -1, Qt.SortOrder.AscendingOrder
    _, column_index, order = min(candidates)
    return column_index, order


def _cell(column: str, value: object) -> QTableWidgetItem:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _TextItem("" if value is None else str(value))
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
    widget.setHorizontalHeaderLabels([_label(c) for c in table.columns])
    for c, column in enumerate(table.columns):
        widget.horizontalHeaderItem(c).setToolTip(column)  # the raw key, as in the JSON
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
    # Sorting is switched on after filling, with the header set to the probe's own order first:
    # otherwise Qt re-sorts every table by its first column (issue 17, item 2).
    column, order = _probe_order(table)
    widget.horizontalHeader().setSortIndicator(column, order)
    widget.setSortingEnabled(True)
    for c in _duplicate_columns(table):
        widget.setColumnHidden(c, True)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    shown = min(len(rows), 8)
    height = header.sizeHint().height() + shown * row_height + 2 * widget.frameWidth()
    if len(rows) > shown or widget.horizontalHeader().length() > 600:
        height += widget.horizontalScrollBar().sizeHint().height()
    widget.setFixedHeight(height)
    return widget


class _WrappingDelegate(QStyledItemDelegate):
    """Rows as tall as their text wrapped at the column's width (QTreeView alone sizes a row
    for one line and cuts the rest)."""

    PADDING = 8

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self.tree = tree

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
                 ) -> QSize:
        size = super().sizeHint(option, index)
        text = str(index.data() or "")
        width = self.tree.columnWidth(index.column()) - self.PADDING
        if not text or width <= 0:
            return size
        font = index.data(Qt.ItemDataRole.FontRole) or self.tree.font()
        needed = QFontMetrics(font).boundingRect(QRect(0, 0, width, 100000),
                                                 int(Qt.TextFlag.TextWordWrap), text)
        return QSize(size.width(), max(size.height(), needed.height() + 4))


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
        # "What to do" is the key action: wrapped in full, never cut with "…" (issue 17 item 9).
        self.findings.setWordWrap(True)
        self.findings.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.findings.setUniformRowHeights(False)
        self.findings.header().setStretchLastSection(True)
        # rows grow or shrink to their wrapped text when a column or the view changes width
        self.findings.header().sectionResized.connect(
            lambda *_: self.findings.scheduleDelayedItemsLayout())
        self.findings.setItemDelegate(_WrappingDelegate(self.findings))
        self.findings.setAlternatingRowColors(True)
        self.findings.setColumnWidth(0, 90)
        self.findings.setColumnWidth(1, 320)
        self.findings.setColumnWidth(2, 90)
        self.findings.itemActivated.connect(self._go_to_card)
        self.findings.itemClicked.connect(self._go_to_card)

        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.columns = 2
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
            self.grid.addWidget(card, index // self.columns, index % self.columns)
        self._reflow()
        self._show_findings()
        self._check_known_issues()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._reflow()

    def _reflow(self) -> None:
        """Cards in two columns when there is room, else in one (they never get cut off)."""
        columns = 2 if self.scroll.viewport().width() >= TWO_COLUMNS_FROM else 1
        if columns == self.columns and self.grid.count() == len(self.cards):
            return
        self.columns = columns
        for card in self.cards.values():
            self.grid.removeWidget(card)
        for index, card in enumerate(self.cards.values()):
            self.grid.addWidget(card, index // columns, index % columns)
        for column in range(2):
            self.grid.setColumnStretch(column, 1 if column < columns else 0)

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
            # Title and slug: what the engineer reads and quotes; the matching rule is internal
            # and only in the tooltip (issue 17, item 9).
            lines.append(f"⚠ <b>Known issue:</b> <a href=\"kb:{html.escape(issue.slug)}\">"
                         f"{html.escape(issue.title)}</a> <small>(kb: {html.escape(issue.slug)})"
                         "</small>")
        self.known_banner.setText("<br>".join(lines))
        self.known_banner.setToolTip("\n".join(f"{i.title}: {'; '.join(i.reasons)}" for i in issues))
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
