"""The log viewer tab: millions of records in a virtual table, a filter bar with live counts, a
time histogram, recurring-message signatures, and a detail pane for multi-line records.

All file work (indexing, filtering, mining) runs in workers; the table asks the core's
:class:`~diagkit.logs.rows.RecordView` for just the rows on screen.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontDatabase,
    QFontMetrics,
    QGuiApplication,
    QKeySequence,
    QShortcut,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import DiagkitError, LogTruncated
from diagkit.logs.model import Level, Query, Record
from diagkit.logs.rows import RecordView
from diagkit.ui.workers import Worker, run_in_background

log = logging.getLogger(__name__)

LEVEL_COLOURS = {
    Level.CRITICAL: QColor("#c62828"),
    Level.ERROR: QColor("#e53935"),
    Level.WARNING: QColor("#ef6c00"),
    Level.NOTICE: QColor("#1e88e5"),
    Level.INFO: QColor("#43a047"),
    Level.DEBUG: QColor("#8e8e8e"),
    Level.TRACE: QColor("#a0a0a0"),
    Level.UNKNOWN: QColor("#9e9e9e"),
}
COLUMNS = ("Time", "Level", "Host", "Source", "Message")
MIN_LEVELS = (("All levels", None), ("Debug and worse", Level.DEBUG), ("Info and worse", Level.INFO),
              ("Warnings and worse", Level.WARNING), ("Errors and worse", Level.ERROR),
              ("Critical only", Level.CRITICAL))


class LogTableModel(QAbstractTableModel):
    """Rows of a RecordView; records are fetched (and parsed) only when shown."""

    # a file was cut short under its map (copytruncate): the message, said once
    truncated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: RecordView | None = None
        self.show_file = False
        self._said_truncated = False

    def set_view(self, view: RecordView | None) -> None:
        self.beginResetModel()
        self.view = view
        self.show_file = view is not None and len(view.logs) > 1
        self.endResetModel()

    @property
    def columns(self) -> tuple[str, ...]:
        return ("File", *COLUMNS) if self.show_file else COLUMNS

    def grow(self, view: RecordView) -> None:
        """The same rows plus new ones at the end (a file still being indexed)."""
        old = len(self.view) if self.view is not None else 0
        if self.view is None or len(view) < old:
            self.set_view(view)
            return
        if len(view) > old:
            self.beginInsertRows(QModelIndex(), old, len(view) - 1)
            self.view = view
            self.endInsertRows()
        else:
            self.view = view

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.view is None else len(self.view)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section]
        return None

    def record(self, row: int) -> Record | None:
        if self.view is None or not 0 <= row < len(self.view):
            return None
        try:
            return self.view.record(row)
        except LogTruncated as exc:
            if not self._said_truncated:
                self._said_truncated = True
                self.truncated.emit(str(exc))
            return None
        except (DiagkitError, OSError, ValueError, IndexError) as exc:
            log.warning("record %s unreadable: %s", row, exc)
            return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        if not index.isValid():
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
                        Qt.ItemDataRole.ToolTipRole):
            return None
        record = self.record(index.row())
        if record is None:
            return "…" if role == Qt.ItemDataRole.DisplayRole else None
        column = index.column()
        if self.show_file:
            if column == 0:
                return Path(record.file).name if role == Qt.ItemDataRole.DisplayRole else None
            column -= 1
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(LEVEL_COLOURS[record.level]) if column == 1 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{record.file}, line {record.first_line + 1}" if column == 0 else None
        if column == 0:
            return record.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if record.timestamp else ""
        if column == 1:
            return record.level.label if record.level != Level.UNKNOWN else ""
        if column == 2:
            return record.host
        if column == 3:
            return f"{record.source}[{record.pid}]" if record.pid is not None else record.source
        first, _, rest = record.message.partition("\n")
        return f"{first}   [+{rest.count(chr(10)) + 1} lines]" if rest else first


class HistogramView(pg.PlotWidget):
    """Stacked bars per level over time. Click a bar: jump there. Drag the region: time window."""

    bar_clicked = Signal(float)  # epoch seconds of the bar start
    window_selected = Signal(float, float)  # epoch seconds

    def __init__(self, parent: QWidget | None = None) -> None:
        from diagkit.ui.plots_view import ClockAxis

        super().__init__(parent, axisItems={"bottom": ClockAxis()})
        self.setMaximumHeight(150)
        self.setMinimumHeight(110)
        self.setMouseEnabled(x=True, y=False)
        self.hideButtons()
        self.getPlotItem().setMenuEnabled(False)
        self.getAxis("left").setWidth(40)
        self.setBackground(self.palette().color(self.backgroundRole()))
        self.bars: list[pg.BarGraphItem] = []
        self.region = pg.LinearRegionItem(movable=True)
        self.region.setZValue(10)
        self.region.hide()
        self.region.sigRegionChangeFinished.connect(self._region_done)
        self.addItem(self.region)
        self.bucket = 60.0
        self.incident_regions: list[pg.LinearRegionItem] = []
        self.scene().sigMouseClicked.connect(self._clicked)

    def show_histogram(self, histogram) -> None:
        for bar in self.bars:
            self.removeItem(bar)
        self.bars.clear()
        if not histogram.starts:
            return
        self.bucket = histogram.bucket.total_seconds()
        x = np.array([s.timestamp() for s in histogram.starts])
        bottom = np.zeros(len(x))
        for level in sorted(histogram.counts, reverse=True):  # worst at the bottom
            heights = np.asarray(histogram.counts[level], dtype=float)
            colour = LEVEL_COLOURS[level]
            bar = pg.BarGraphItem(x0=x, width=self.bucket * 0.9, y0=bottom, height=heights,
                                  brush=colour, pen=pg.mkPen(colour))
            self.addItem(bar)
            self.bars.append(bar)
            bottom = bottom + heights
        self.setXRange(x[0], x[-1] + self.bucket, padding=0.01)
        self.setYRange(0, max(bottom.max(), 1), padding=0.05)

    def show_incidents(self, spans: Sequence[tuple[float, float]]) -> None:
        """Shade each incident's time span (epoch seconds), at least a bar wide so a burst of
        seconds still shows on a histogram of days."""
        for region in self.incident_regions:
            self.removeItem(region)
        self.incident_regions.clear()
        for start, end in spans:
            if end - start < self.bucket:
                middle = (start + end) / 2
                start, end = middle - self.bucket / 2, middle + self.bucket / 2
            region = pg.LinearRegionItem((start, end), movable=False,
                                         brush=pg.mkBrush(220, 40, 40, 60),
                                         pen=pg.mkPen(200, 30, 30, 160))
            region.setZValue(-10)  # behind the bars
            self.addItem(region)
            self.incident_regions.append(region)

    def select_window(self, start: float, end: float) -> None:
        self.region.setRegion((start, end))
        self.region.show()

    def clear_window(self) -> None:
        self.region.hide()

    def _clicked(self, event) -> None:
        if event.double():
            # a double click starts a time window around the clicked bar
            x = self.getPlotItem().vb.mapSceneToView(event.scenePos()).x()
            self.select_window(x - self.bucket * 5, x + self.bucket * 5)
            self._region_done()
            return
        x = self.getPlotItem().vb.mapSceneToView(event.scenePos()).x()
        self.bar_clicked.emit(float(np.floor(x / self.bucket) * self.bucket))

    def _region_done(self) -> None:
        if self.region.isVisible():
            lo, hi = self.region.getRegion()
            self.window_selected.emit(float(lo), float(hi))


class LogView(QWidget):
    """A tab showing one or several log files (several: merged by time)."""

    add_to_report = Signal(object)  # list[Record]: "add selection to bug report" (bundles issue)
    add_to_case = Signal(object)  # list[Record]: journal them into the active case
    opened = Signal()  # the files are indexed and shown
    filtered = Signal(int)  # rows after a filter
    failed = Signal(str)
    article_requested = Signal(str)  # a KB article's slug: the known-issue hint was clicked

    def __init__(self, paths: Sequence[str | Path], *, format_name: str | None = None,
                 title: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = [Path(p) for p in paths]
        self.format_name = format_name
        self.title = title or ", ".join(p.name for p in self.paths)
        self.logs: list = []
        self.base_view: RecordView | None = None
        self.signature_map: list[np.ndarray] | None = None
        self.signatures: list = []
        self._open_worker: Worker | None = None
        self._filter_worker: Worker | None = None
        self._sig_worker: Worker | None = None
        self._incident_worker: Worker | None = None
        self.incidents: list[Any] = []  # diagkit.logs.incidents.Incident, in time order
        self._cancel = threading.Event()
        self._time_window: tuple[float, float] | None = None
        self._signature_ids: set[int] | None = None
        self.matcher: Any = None  # diagkit.kb.match.KnownErrorMatcher, given by the window
        self.known_issues: list[Any] = []  # KnownIssue for the selected record

        # --- filter bar ---
        self.level_box = QComboBox()
        for label, _level in MIN_LEVELS:
            self.level_box.addItem(label)
        self.search_edit = QLineEdit(placeholderText="Search (text; tick Regex for a pattern)")
        self.search_edit.setClearButtonEnabled(True)
        self.regex_box = QCheckBox("Regex")
        self.case_box = QCheckBox("Aa")
        self.case_box.setToolTip("Case-sensitive")
        self.fields_edit = QLineEdit(placeholderText="host=web1 source=sshd")
        self.fields_edit.setToolTip("Field filters: host=, source=, pid=, or any extra field (status=500)")
        self.exclude_edit = QLineEdit(placeholderText="exclude text")
        self.counts = QLabel("")
        self.counts.setMinimumWidth(220)
        self._debounce = QTimer(self, singleShot=True, interval=300)
        self._debounce.timeout.connect(self.apply_filter)
        for edit in (self.search_edit, self.fields_edit, self.exclude_edit):
            edit.textChanged.connect(lambda _t: self._debounce.start())
        for box in (self.regex_box, self.case_box):
            box.toggled.connect(lambda _on: self._debounce.start())
        self.level_box.currentIndexChanged.connect(lambda _i: self._debounce.start())
        bar = QHBoxLayout()
        bar.addWidget(self.level_box)
        bar.addWidget(self.search_edit, 3)
        bar.addWidget(self.regex_box)
        bar.addWidget(self.case_box)
        bar.addWidget(self.fields_edit, 2)
        bar.addWidget(self.exclude_edit, 1)
        bar.addWidget(self.counts)

        # --- actions ---
        self.goto_edit = QLineEdit(placeholderText="go to time: 14:05, 2024-01-02 10:00, -1h")
        self.goto_edit.setMaximumWidth(260)
        self.goto_edit.returnPressed.connect(self.go_to_time_text)
        self.prev_button = QPushButton("◀ Previous error")
        self.prev_button.setToolTip("Shift+F8")
        self.prev_button.clicked.connect(lambda: self.jump_error(backwards=True))
        self.next_button = QPushButton("Next error ▶")
        self.next_button.setToolTip("F8")
        self.next_button.clicked.connect(lambda: self.jump_error())
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the selected records (Ctrl+C)")
        self.copy_button.clicked.connect(self.copy_selection)
        self.report_button = QPushButton("Add to bug report")
        self.report_button.setToolTip("Add the selected records to the bug report being prepared")
        self.report_button.clicked.connect(self._add_to_report)
        self.clear_window_button = QPushButton("Clear time window")
        self.clear_window_button.hide()
        self.clear_window_button.clicked.connect(self.clear_time_window)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.state = QLabel("")
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        actions = QHBoxLayout()
        actions.addWidget(self.goto_edit)
        actions.addWidget(self.prev_button)
        actions.addWidget(self.next_button)
        actions.addWidget(self.clear_window_button)
        actions.addStretch(1)
        actions.addWidget(self.copy_button)
        actions.addWidget(self.report_button)
        self.case_button = QPushButton("Add to case")
        self.case_button.setToolTip("Journal the selected records (and their signatures) into "
                                    "the active case")
        self.case_button.clicked.connect(self._add_to_case)
        actions.addWidget(self.case_button)
        actions.addWidget(self.progress)
        actions.addWidget(self.cancel_button)

        # --- histogram, table, detail, signatures ---
        self.histogram = HistogramView()
        self.histogram.bar_clicked.connect(self.go_to_epoch)
        self.histogram.window_selected.connect(self.set_time_window)
        self.model = LogTableModel(self)
        self.model.truncated.connect(self.state.setText)
        self.table = QTableView()
        self.table.setObjectName("log-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        self._size_columns()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.table.setFont(mono)
        self.table.selectionModel().currentRowChanged.connect(self._show_detail)
        self.detail = QPlainTextEdit(readOnly=True)
        self.detail.setFont(mono)
        self.detail.setPlaceholderText("Select a record to see all of it (multi-line records in full).")
        # wrapped: a long record (a stack trace line, a JSON body) is read without scrolling
        self.detail.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.detail.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.sig_tree = QTreeWidget()
        self.sig_tree.setHeaderLabels(["Count", "Level", "Recurring message"])
        self.sig_tree.setRootIsDecorated(False)
        self.sig_tree.setColumnWidth(0, 48)
        self.sig_tree.setColumnWidth(1, 54)
        # "ERROR: could…" said nothing: keep both ends of a long template (the full text is in
        # the tooltip).
        self.sig_tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.sig_tree.itemClicked.connect(self._signature_clicked)
        self.sig_label = QLabel("Signatures: computed after indexing. Click one to filter.")
        self.sig_label.setWordWrap(True)
        sig_box = QWidget()
        sig_layout = QVBoxLayout(sig_box)
        sig_layout.setContentsMargins(0, 0, 0, 0)
        sig_layout.addWidget(self.sig_label)
        sig_layout.addWidget(self.sig_tree, 3)
        self.incident_label = QLabel("Incidents: found after the signatures.")
        self.incident_label.setWordWrap(True)
        self.incident_tree = QTreeWidget()
        self.incident_tree.setObjectName("incidents")
        self.incident_tree.setHeaderLabels(["Start", "Hosts", "What changed"])
        self.incident_tree.setRootIsDecorated(False)
        self.incident_tree.setColumnWidth(0, 120)
        self.incident_tree.setColumnWidth(1, 70)
        self.incident_tree.itemClicked.connect(self._incident_clicked)
        sig_layout.addWidget(self.incident_label)
        sig_layout.addWidget(self.incident_tree, 2)
        self.known_hint = QLabel()
        self.known_hint.setObjectName("known-issue-hint")
        self.known_hint.setWordWrap(True)
        self.known_hint.setTextFormat(Qt.TextFormat.RichText)
        self.known_hint.setStyleSheet("QLabel#known-issue-hint { background: #fff3cd; color: #5c4400;"
                                      " border: 1px solid #e0c060; border-radius: 3px; padding: 4px; }")
        self.known_hint.linkActivated.connect(self._hint_link)
        self.known_hint.hide()
        detail_box = QWidget()
        detail_layout = QVBoxLayout(detail_box)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.setSpacing(2)
        detail_layout.addWidget(self.known_hint)
        detail_layout.addWidget(self.detail, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.table)
        right.addWidget(detail_box)
        right.setSizes([520, 160])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(right)
        main.addWidget(sig_box)
        main.setSizes([730, 290])  # messages first; the recurring ones still readable
        main.setStretchFactor(0, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(actions)
        layout.addWidget(self.state)
        # A file without times has no histogram: a sentence instead of an empty time axis.
        self.no_times = QLabel("No timestamps in these records: no time histogram.")
        self.no_times.setObjectName("no-times")
        self.no_times.setEnabled(False)  # muted
        self.no_times.hide()
        layout.addWidget(self.histogram)
        layout.addWidget(self.no_times)
        layout.addWidget(main, 1)

        QShortcut(QKeySequence("F8"), self, activated=lambda: self.jump_error())
        QShortcut(QKeySequence("Shift+F8"), self, activated=lambda: self.jump_error(backwards=True))
        QShortcut(QKeySequence.StandardKey.Copy, self.table, activated=self.copy_selection)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.search_edit.setFocus)

        self._grow_timer = QTimer(self, interval=250)
        self._grow_timer.timeout.connect(self._grow)
        self.open()

    # --- opening -------------------------------------------------------------------------------

    def open(self) -> None:
        from diagkit.logs.logfile import open_logs

        paths, fmt, cancel = list(self.paths), self.format_name, self._cancel
        self.state.setText(f"Opening {self.title}…")
        self.progress.show()
        self.cancel_button.show()

        def job(progress) -> list:
            return open_logs(paths, format=fmt, background=True, cancel=cancel,
                             progress=lambda p: progress(p.fraction))

        self._open_worker = run_in_background(job, on_done=self._opened, on_error=self._failed,
                                              on_progress=self._progress, owner=self)

    def _progress(self, fraction: object) -> None:
        if isinstance(fraction, float | int):
            self.progress.setValue(int(1000 * float(fraction)))

    def _opened(self, logs: list) -> None:
        self._open_worker = None
        self.logs = logs
        self.base_view = RecordView(logs)
        self._set_view(self.base_view)
        # open_logs also says what it skipped (an unreadable file in a folder)
        warnings = [*getattr(logs, "warnings", []), *(w for lg in logs for w in lg.warnings)]
        fmts = ", ".join(sorted({lg.format.title for lg in logs}))
        self.state.setText(f"Format: {fmts}." + (" " + " ".join(warnings) if warnings else ""))
        if all(lg.complete for lg in logs):
            self._indexed()
        else:
            self._grow_timer.start()

    def _set_view(self, view: RecordView) -> None:
        """Show ``view``, keeping the column widths the user dragged (a model reset drops them)."""
        count = self.model.columnCount()
        widths = [self.table.columnWidth(c) for c in range(count)]
        self.model.set_view(view)
        if self.model.columnCount() == count and getattr(self, "_sized", False):
            for column, width in enumerate(widths):
                self.table.setColumnWidth(column, width)
        else:
            self._size_columns()

    def _size_columns(self) -> None:
        self._sized = True
        # Time fits "2026-03-01 08:00:00.000" in the monospace font; the rest stays narrow so
        # Message keeps most of the width.
        time_width = QFontMetrics(self.table.font()).horizontalAdvance("0000-00-00 00:00:00.000")
        widths = (time_width + 14, 52, 90, 120)
        if self.model.show_file:
            widths = (110, *widths)
        for column, width in enumerate(widths):
            self.table.setColumnWidth(column, width)

    def _hide_empty_columns(self, sample: int = 500) -> None:
        """Hide Time, Level, Host and Source when the first ``sample`` records have none of
        them (a plain text file): Message gets the width (issue 17, item 6)."""
        rows = min(self.model.rowCount(), sample)
        offset = 1 if self.model.show_file else 0
        for column in range(offset, offset + len(COLUMNS) - 1):  # never Message
            empty = rows > 0 and all(
                not self.model.data(self.model.index(r, column)) for r in range(rows))
            self.table.setColumnHidden(column, empty)

    def _grow(self) -> None:
        if not self.logs:
            return
        done = sum(lg.size_done if hasattr(lg, "size_done") else 0 for lg in self.logs)
        total = sum(lg.size for lg in self.logs) or 1
        if done:
            self.progress.setValue(int(1000 * done / total))
        if all(lg.complete for lg in self.logs):
            self._grow_timer.stop()
            self._indexed()
            return
        if len(self.logs) == 1 and self._is_unfiltered():
            self.base_view = RecordView(self.logs)
            self.model.grow(self.base_view)
            self.counts.setText(f"{len(self.base_view):,} records so far…")

    def _indexed(self) -> None:
        self.base_view = RecordView(self.logs)
        warnings = [*getattr(self.logs, "warnings", []),
                    *(w for lg in self.logs for w in lg.warnings)]
        if warnings:
            self.state.setText(" ".join(warnings))
        self.progress.hide()
        self.cancel_button.hide()
        if self._is_unfiltered():
            self.model.grow(self.base_view)
        self.apply_filter()
        self._mine_signatures()
        self.opened.emit()

    def _failed(self, error: BaseException) -> None:
        self._open_worker = None
        self.progress.hide()
        self.cancel_button.hide()
        message = str(error) if isinstance(error, DiagkitError | OSError) else (
            f"Unexpected error ({type(error).__name__}: {error}); details are in the log file.")
        self.state.setText(message)
        self.failed.emit(message)

    def cancel(self) -> None:
        self._cancel.set()
        for lg in self.logs:
            stop = getattr(lg, "cancel", None)
            if callable(stop):
                stop()
        for worker in (self._open_worker, self._filter_worker, self._sig_worker,
                       self._incident_worker):
            if worker is not None:
                worker.cancel()
        self._open_worker = self._filter_worker = self._sig_worker = None
        self._incident_worker = None
        self._grow_timer.stop()
        self.progress.hide()
        self.cancel_button.hide()
        self.state.setText("Stopped. What was indexed so far stays usable.")

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.cancel()
        for lg in self.logs:
            try:
                lg.close()
            except (OSError, ValueError, BufferError):
                pass

    # --- filtering -----------------------------------------------------------------------------

    def _is_unfiltered(self) -> bool:
        return self.current_query().is_empty and self._signature_ids is None

    def current_query(self) -> Query:
        level = MIN_LEVELS[self.level_box.currentIndex()][1]
        fields = {}
        for word in self.fields_edit.text().split():
            key, sep, value = word.partition("=")
            if sep and key:
                fields[key] = value
        since = until = None
        if self._time_window is not None:
            since = datetime.fromtimestamp(self._time_window[0]).astimezone()
            until = datetime.fromtimestamp(self._time_window[1]).astimezone()
        return Query(min_level=level, text=self.search_edit.text(), regex=self.regex_box.isChecked(),
                     case_sensitive=self.case_box.isChecked(), fields=fields,
                     exclude=tuple(w for w in [self.exclude_edit.text().strip()] if w),
                     since=since, until=until)

    def apply_filter(self) -> None:
        if self.base_view is None or not all(lg.complete for lg in self.logs):
            return
        if self._filter_worker is not None:
            self._filter_worker.cancel()
        query = self.current_query()
        base, sig_ids, sig_map = self.base_view, self._signature_ids, self.signature_map
        self.counts.setText("filtering…")

        def job(cancel: threading.Event) -> tuple[RecordView, object, object]:
            view = base if query.is_empty and sig_ids is None else base.filtered(
                query, signature_ids=sig_ids, signature_map=sig_map, cancel=cancel)
            return view, view.counts(), view.histogram()

        def done(result: tuple) -> None:
            self._filter_worker = None
            view, counts, histogram = result
            self._set_view(view)
            per_level = ", ".join(f"{n:,} {lvl.label}" for lvl, n in
                                  sorted(counts.by_level.items(), reverse=True)
                                  if lvl >= Level.WARNING and n)
            text = f"{counts.total:,} of {counts.unfiltered:,} records"
            self.counts.setText(text + (f" ({per_level})" if per_level else ""))
            self.histogram.show_histogram(histogram)
            self.histogram.setVisible(bool(histogram.starts))
            self.no_times.setVisible(not histogram.starts)
            self._hide_empty_columns()
            self.filtered.emit(counts.total)

        def failed(error: BaseException) -> None:
            self._filter_worker = None
            self.counts.setText(str(error) if isinstance(error, DiagkitError) else
                                f"Filter failed: {error}")

        self._filter_worker = run_in_background(job, on_done=done, on_error=failed, owner=self)

    def set_time_window(self, start: float, end: float) -> None:
        self._time_window = (min(start, end), max(start, end))
        self.clear_window_button.show()
        self.apply_filter()

    def clear_time_window(self) -> None:
        self._time_window = None
        self.histogram.clear_window()
        self.clear_window_button.hide()
        self.apply_filter()

    # --- signatures ----------------------------------------------------------------------------

    def _mine_signatures(self) -> None:
        from diagkit.logs.signatures import mine_logs, rank

        logs = list(self.logs)

        def job(cancel: threading.Event) -> tuple[list, list[np.ndarray]]:
            signatures, maps = mine_logs(logs, cancel=cancel)
            return rank(signatures, by="level"), maps

        def done(result: tuple) -> None:
            self._sig_worker = None
            self.signatures, self.signature_map = result
            self.sig_tree.clear()
            for sig in self.signatures[:500]:
                level = sig.worst_level
                item = QTreeWidgetItem([f"{sig.count:,}", level.label if level else "", sig.template])
                item.setData(0, Qt.ItemDataRole.UserRole, sig.id)
                item.setToolTip(2, f"{sig.template}\n\nExample: {sig.example}\n"
                                   f"First: {sig.first_seen}\nLast: {sig.last_seen}")
                if level is not None:
                    item.setForeground(1, QBrush(LEVEL_COLOURS[level]))
                self.sig_tree.addTopLevelItem(item)
            self.sig_label.setText(f"{len(self.signatures):,} recurring messages. Click one to show "
                                   "only its records; click it again to show all.")
            self._find_incidents()

        def failed(error: BaseException) -> None:
            self._sig_worker = None
            self.sig_label.setText(f"Signatures could not be computed: {error}")

        self.sig_label.setText("Finding recurring messages…")
        self._sig_worker = run_in_background(job, on_done=done, on_error=failed, owner=self)

    # --- incidents -----------------------------------------------------------------------------

    def _find_incidents(self) -> None:
        """Incidents from the signatures just mined (not mined again), in a worker."""
        from diagkit.logs.incidents import find_incidents

        logs, maps = list(self.logs), self.signature_map
        templates = [""] * len(self.signatures)
        for sig in self.signatures:
            templates[sig.id] = sig.template
        if maps is None:
            return

        def job(cancel: threading.Event) -> list:
            return find_incidents(logs, mined=(templates, maps), cancel=cancel)

        def done(found: list) -> None:
            self._incident_worker = None
            self.incidents = list(found)
            self.incident_tree.clear()
            for inc in self.incidents:
                start = inc.start_time()
                item = QTreeWidgetItem([f"{start:%m-%d %H:%M:%S}", ", ".join(inc.hosts),
                                        inc.summary])
                span = f"{start:%Y-%m-%d %H:%M:%S} .. {inc.end_time():%H:%M:%S}"
                lines = [f"{span}, score {inc.score:.0f}", inc.summary]
                lines += [(f"before: {datetime.fromtimestamp(p.time):%H:%M:%S} "
                           f"{p.level.label} {p.count} × {p.template}") for p in inc.precursors]
                for column in range(3):
                    item.setToolTip(column, "\n".join(lines))
                self.incident_tree.addTopLevelItem(item)
            self.histogram.show_incidents([(i.start, i.end) for i in self.incidents])
            more = getattr(found, "omitted", 0)
            self.incident_label.setText(
                (f"{len(self.incidents)} incident{'s' if len(self.incidents) != 1 else ''} "
                 "(shaded on the histogram). Click one to go to its first record."
                 + (f" {more} lower-scored left out." if more else ""))
                if self.incidents else "No incidents: the logs keep their usual character.")

        def failed(error: BaseException) -> None:
            self._incident_worker = None
            self.incident_label.setText(f"Incidents could not be found: {error}")

        self.incident_label.setText("Looking for incidents…")
        self._incident_worker = run_in_background(job, on_done=done, on_error=failed, owner=self)

    def _incident_clicked(self, item: QTreeWidgetItem) -> None:
        inc = self.incidents[self.incident_tree.indexOfTopLevelItem(item)]
        ref = inc.first_record
        labels = [lg.label for lg in self.logs]
        view = self.model.view
        row = (view.row_of(labels.index(ref.file), ref.index)
               if view is not None and ref.file in labels else None)
        if row is None:
            self.state.setText("The incident's first record is hidden by the filter: clear the "
                               "filter to go to it.")
            return
        self.go_to_row(row)
        self.histogram.setXRange(inc.start - 3600, inc.end + 3600, padding=0)

    def _signature_clicked(self, item: QTreeWidgetItem) -> None:
        sig_id = item.data(0, Qt.ItemDataRole.UserRole)
        if self._signature_ids == {sig_id}:
            self._signature_ids = None
            self.sig_tree.clearSelection()
        else:
            self._signature_ids = {sig_id}
        self.apply_filter()

    # --- navigation and selection --------------------------------------------------------------

    def go_to_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def go_to_epoch(self, epoch: float) -> None:
        view = self.model.view
        if view is None:
            return
        row = view.row_at_time(datetime.fromtimestamp(epoch).astimezone())
        if row is not None:
            self.go_to_row(row)

    def go_to_time_text(self) -> None:
        from diagkit.logs.query import parse_time

        try:
            when = parse_time(self.goto_edit.text())
        except DiagkitError as exc:
            self.state.setText(str(exc))
            return
        view = self.model.view
        row = view.row_at_time(when) if view is not None else None
        if row is None:
            self.state.setText(f"No record at or after {when:%Y-%m-%d %H:%M:%S}.")
        else:
            self.go_to_row(row)

    def jump_error(self, *, backwards: bool = False) -> None:
        view = self.model.view
        if view is None:
            return
        current = self.table.currentIndex().row()
        row = view.next_row(current if current >= 0 else -1, min_level=Level.ERROR, backwards=backwards)
        if row is None:
            self.state.setText("No more errors " + ("above." if backwards else "below."))
        else:
            self.go_to_row(row)

    def selected_records(self) -> list[Record]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return [r for r in (self.model.record(row) for row in rows[:10000]) if r is not None]

    def copy_selection(self) -> None:
        records = self.selected_records()
        if records:
            QGuiApplication.clipboard().setText("\n".join(r.raw for r in records))
            self.state.setText(f"Copied {len(records)} record(s).")

    def _add_to_report(self) -> None:
        records = self.selected_records()
        if records:
            self.add_to_report.emit(records)
            self.state.setText(f"{len(records)} record(s) added to the bug report.")

    def _add_to_case(self) -> None:
        records = self.selected_records()
        if records:
            self.add_to_case.emit(records)
        else:
            self.state.setText("Select the records to add to the case first.")

    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        record = self.model.record(current.row()) if current.isValid() else None
        self._show_known_issues(record)
        if record is None:
            self.detail.clear()
            return
        head = [f"{record.file}, line {record.first_line + 1}"
                + (f"-{record.last_line + 1}" if record.last_line > record.first_line else "")]
        if record.timestamp:
            head.append(record.timestamp.isoformat())
        if record.extra:
            head.append(" ".join(f"{k}={v}" for k, v in record.extra.items()))
        self.detail.setPlainText("  ·  ".join(head) + "\n\n" + record.raw)


    # --- known issues --------------------------------------------------------------------------

    def set_matcher(self, matcher: Any) -> None:
        """Use ``matcher`` (a :class:`~diagkit.kb.match.KnownErrorMatcher`, or None) from now on."""
        self.matcher = matcher
        index = self.table.currentIndex()
        self._show_known_issues(self.model.record(index.row()) if index.isValid() else None)

    def _show_known_issues(self, record: Record | None) -> None:
        issues: dict[str, Any] = {}
        if self.matcher is not None and record is not None:
            # A multi-line record (a stack trace) may name the problem below its first line.
            for line in record.raw.splitlines()[:50]:
                for issue in self.matcher.match_line(line):
                    issues.setdefault(issue.slug, issue)
        self.known_issues = list(issues.values())
        self.known_hint.setText("<br>".join(
            f"⚠ <b>Known issue for this line:</b> <a href=\"kb:{html.escape(i.slug)}\">"
            f"{html.escape(i.title)}</a>" for i in self.known_issues))
        self.known_hint.setVisible(bool(self.known_issues))

    def _hint_link(self, link: str) -> None:
        if link.startswith("kb:"):
            self.article_requested.emit(link[3:])
