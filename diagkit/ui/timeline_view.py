"""The Timeline tab of a case and of a host: :mod:`diagkit.timeline` as a table.

The timeline is computed in a worker (it reads the journal, replays the monitoring history and
may read logs); the view then only filters what it holds: by kind (the Kinds menu lists the kinds
present) and by time (From/To, zoom in around the selected event, zoom out, All). A double-click (or
Enter, or "Open evidence") asks the owner to open the event's evidence through
:attr:`TimelineView.evidence_requested`; "What came first?" ranks the events before the selected
one (:func:`diagkit.timeline.came_first`) in the lower table, worded as candidates.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import (
    QDateTime,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDateTimeEdit,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from diagkit.reports.model import TimelineEvent
from diagkit.timeline import KINDS, Timeline, came_first
from diagkit.ui.flow_layout import FlowLayout
from diagkit.ui.inline import error_label
from diagkit.ui.rows_model import RowsModel
from diagkit.ui.workers import Worker, run_in_background

COLUMNS = ("Time", "Kind", "Host", "What", "Evidence")

KIND_COLOURS: dict[str, str] = {
    "change": "#6a1b9a", "finding": "#c62828", "alert": "#ef6c00", "forecast": "#f9a825",
    "incident": "#ad1457", "signature": "#d84315", "probe": "#00838f", "command": "#37474f",
    "note": "#2e7d32", "status": "#1565c0", "log": "#5d4037", "case": "#616161",
}

#: The windows "What came first?" offers, the default first.
CAME_FIRST_WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("2 h before", timedelta(hours=2)), ("30 min before", timedelta(minutes=30)),
    ("1 h before", timedelta(hours=1)), ("6 h before", timedelta(hours=6)),
    ("1 day before", timedelta(days=1)))


def kind_colour(kind: str) -> QColor:
    """The colour of a kind, lightened on a dark palette so it stays readable."""
    colour = QColor(KIND_COLOURS.get(kind, "#616161"))
    app = QApplication.instance()
    dark = isinstance(app, QApplication) and app.palette().base().color().lightness() < 128
    return colour.lighter(170) if dark else colour


def _local(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _ref(event: TimelineEvent) -> str:
    return event.ref or (event.evidence.label() if event.evidence is not None else "")


class TimelineModel(RowsModel[TimelineEvent]):
    """The events shown, in time order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)

    @property
    def events(self) -> list[TimelineEvent]:
        return self.rows

    def set_events(self, events: Sequence[TimelineEvent]) -> None:
        self.set_rows(events)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self.events[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (_local(e.time), e.kind, e.host, e.text, _ref(e))[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(p for p in (e.text, e.detail, f"id {e.id}", _ref(e)) if p)
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return kind_colour(e.kind)
        if role == Qt.ItemDataRole.UserRole:
            return e
        return None


class TimelineView(QWidget):
    """A timeline with zoom, kind filter, evidence links and "what came first"."""

    evidence_requested = Signal(object)  # TimelineEvent whose evidence to open
    loaded = Signal(int)  # events in the timeline, after each load

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source: Callable[[], Timeline] | None = None
        self._worker: Worker | None = None
        self.timeline: Timeline | None = None
        self.kind_buttons: dict[str, QAction] = {}  # the Kinds menu's entries

        self.state = QLabel("No timeline yet.")
        self.state.setObjectName("timeline-state")
        self.error = error_label("timeline-error")
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Read the journal, the monitoring history and the logs again")
        self.reload_button.clicked.connect(self.refresh)
        # kinds: one checkable entry per kind present, in a menu (a row of twelve toggles does
        # not fit beside the case list)
        self.kinds_button = QToolButton()
        self.kinds_button.setObjectName("timeline-kinds")
        self.kinds_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.kinds_menu = QMenu(self.kinds_button)
        for kind in KINDS:
            action = QAction(kind, self.kinds_menu)
            action.setCheckable(True)
            action.setChecked(True)
            action.setVisible(False)
            action.toggled.connect(lambda _on: self._apply())
            self.kinds_menu.addAction(action)
            self.kind_buttons[kind] = action
        self.kinds_button.setMenu(self.kinds_menu)
        self.kinds_button.setText("Kinds: all")

        self.from_edit = QDateTimeEdit()
        self.to_edit = QDateTimeEdit()
        for edit in (self.from_edit, self.to_edit):
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setCalendarPopup(True)
            edit.dateTimeChanged.connect(self._apply)
        self.zoom_in_button = QPushButton("Zoom in")
        self.zoom_in_button.setToolTip("Halve the time range, around the selected event")
        self.zoom_in_button.clicked.connect(lambda: self.zoom(0.5))
        self.zoom_out_button = QPushButton("Zoom out")
        self.zoom_out_button.clicked.connect(lambda: self.zoom(2.0))
        self.all_button = QPushButton("All")
        self.all_button.setToolTip("The whole timeline")
        self.all_button.clicked.connect(self.zoom_all)
        zoom_row = FlowLayout()  # wraps in a narrow case pane rather than widening it
        zoom_row.addWidget(self.kinds_button)
        zoom_row.addWidget(self.from_edit)
        zoom_row.addWidget(QLabel("–"))
        zoom_row.addWidget(self.to_edit)
        zoom_row.addWidget(self.zoom_in_button)
        zoom_row.addWidget(self.zoom_out_button)
        zoom_row.addWidget(self.all_button)
        zoom_row.addWidget(self.reload_button)

        self.model = TimelineModel(self)
        self.table = QTableView()
        self.table.setObjectName("timeline-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        row = self.fontMetrics().height() + 6  # one line per event, as in the log viewer
        self.table.verticalHeader().setDefaultSectionSize(row)
        header = self.table.horizontalHeader()
        for col in (0, 1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(4, 200)
        self.table.doubleClicked.connect(lambda index: self._open(self.model.events[index.row()]))
        QShortcut(QKeySequence(Qt.Key.Key_Return), self.table, self.open_selected)

        self.open_button = QPushButton("Open evidence")
        self.open_button.setToolTip("Open the selected event's log record, probe card, alert or "
                                    "journal entry (or double-click the event)")
        self.open_button.clicked.connect(self.open_selected)
        self.window_combo = QComboBox()
        for label, span in CAME_FIRST_WINDOWS:
            self.window_combo.addItem(label, span)
        self.came_first_button = QPushButton("What came first?")
        self.came_first_button.setToolTip("Rank the events before the selected one on the same "
                                          "host: changes, resources running out and new error "
                                          "messages first. Candidates, not proof.")
        self.came_first_button.clicked.connect(self.show_came_first)
        actions = FlowLayout()
        actions.addWidget(self.open_button)
        actions.addWidget(self.came_first_button)
        actions.addWidget(self.window_combo)

        self.came_first_label = QLabel()
        self.came_first_label.setWordWrap(True)
        self.came_first_table = QTableWidget(0, 4)
        self.came_first_table.setObjectName("came-first")
        self.came_first_table.setHorizontalHeaderLabels(("Before", "Kind", "What", "Why listed"))
        self.came_first_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.came_first_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.came_first_table.verticalHeader().hide()
        self.came_first_table.verticalHeader().setDefaultSectionSize(row)
        self.came_first_table.setWordWrap(False)
        came_header = self.came_first_table.horizontalHeader()
        for col in (0, 1):
            came_header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        came_header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        came_header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        came_header.resizeSection(3, 220)  # the whole reason is in the tooltip
        self.came_first_table.cellDoubleClicked.connect(self._open_came_first)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.came_first_label)
        lower_layout.addWidget(self.came_first_table)
        lower.hide()
        self.came_first_panel = lower
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.state)
        layout.addWidget(self.error)
        layout.addLayout(zoom_row)
        layout.addWidget(split, 1)
        layout.addLayout(actions)

    # --- loading -------------------------------------------------------------------------------

    def set_source(self, job: Callable[[], Timeline] | None, *, load: bool = True) -> None:
        """What to show: a callable building the :class:`Timeline` (run in a worker)."""
        self._source = job
        self.timeline = None
        if load:
            self.refresh()

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def refresh(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        if self._source is None:
            self.model.set_events([])
            self.state.setText("No timeline yet.")
            return
        self.state.setText("Reading the timeline…")
        self.error.hide()
        self._worker = run_in_background(self._source, on_done=self.show_timeline,
                                         on_error=self._failed, owner=self)

    def _failed(self, error: BaseException) -> None:
        self._worker = None
        self.state.setText("The timeline could not be read.")
        self.error.setText(str(error))
        self.error.show()

    def show_timeline(self, timeline: Timeline) -> None:
        self._worker = None
        self.timeline = timeline
        present = {e.kind for e in timeline.events}
        for kind, button in self.kind_buttons.items():
            button.setVisible(kind in present)
        if timeline.warnings:
            self.error.setText("\n".join(timeline.warnings))
            self.error.show()
        self.came_first_panel.hide()
        self.zoom_all()
        self.loaded.emit(len(timeline.events))

    # --- filters -------------------------------------------------------------------------------

    def _bounds(self) -> tuple[datetime, datetime] | None:
        events = self.timeline.events if self.timeline is not None else ()
        if not events:
            return None
        return events[0].time, events[-1].time

    def _set_range(self, start: datetime, end: datetime) -> None:
        for edit, when in ((self.from_edit, start), (self.to_edit, end)):
            edit.blockSignals(True)
            edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(when.timestamp())))
            edit.blockSignals(False)
        self._apply()

    def time_range(self) -> tuple[datetime, datetime]:
        def read(edit: QDateTimeEdit) -> datetime:
            return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch()).astimezone()
        return read(self.from_edit), read(self.to_edit)

    def zoom_all(self) -> None:
        bounds = self._bounds()
        if bounds is None:
            self.model.set_events([])
            self.state.setText("Nothing on this timeline yet: probe runs, alerts, logs, changes "
                               "and notes show here as they are recorded.")
            return
        start, end = bounds
        self._set_range(start.replace(microsecond=0), end + timedelta(seconds=1))

    def zoom(self, factor: float) -> None:
        """Scale the time range by ``factor`` around the selected event (or the middle)."""
        start, end = self.time_range()
        selected = self.selected_event()
        centre = selected.time if selected is not None else start + (end - start) / 2
        half = max((end - start) * factor / 2, timedelta(seconds=30))
        self._set_range(centre - half, centre + half)
        if selected is not None:
            self.select_event(selected.id)

    def shown_kinds(self) -> set[str]:
        return {k for k, b in self.kind_buttons.items() if b.isChecked()}

    def _apply(self) -> None:
        if self.timeline is None:
            return
        start, end = self.time_range()
        kinds = self.shown_kinds()
        present = [k for k, a in self.kind_buttons.items() if a.isVisible()]
        hidden = [k for k in present if k not in kinds]
        self.kinds_button.setText("Kinds: all" if not hidden else
                                  f"Kinds: {len(present) - len(hidden)} of {len(present)}")
        shown = [e for e in self.timeline.events
                 if e.kind in kinds and start <= e.time <= end + timedelta(seconds=1)]
        self.model.set_events(shown)
        total = len(self.timeline.events)
        self.state.setText(f"{len(shown)} of {total} event(s), "
                           f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}")

    # --- selection and evidence ----------------------------------------------------------------

    def selected_event(self) -> TimelineEvent | None:
        index = self.table.currentIndex()
        return self.model.events[index.row()] if index.isValid() else None

    def select_event(self, event_id: str) -> bool:
        for row, e in enumerate(self.model.events):
            if e.id == event_id:
                self.table.selectRow(row)
                self.table.setCurrentIndex(self.model.index(row, 0))
                return True
        return False

    def open_selected(self) -> None:
        event = self.selected_event()
        if event is not None:
            self._open(event)

    def _open(self, event: TimelineEvent) -> None:
        if event.evidence is not None:
            self.evidence_requested.emit(event)

    def show_came_first(self) -> None:
        symptom = self.selected_event()
        if symptom is None or self.timeline is None:
            self.came_first_label.setText("Select the symptom first: a finding, an alert, an "
                                          "incident or a message.")
            self.came_first_panel.show()
            return
        window: timedelta = self.window_combo.currentData()
        ranked = came_first(self.timeline.events, symptom, window=window)
        where = f" on {html.escape(symptom.host)}" if symptom.host else ""
        self.came_first_label.setText(
            f"<b>Came first</b> before “{html.escape(symptom.text)}”{where} "
            f"({self.window_combo.currentText()}): candidates that may be related, most likely "
            f"first. {len(ranked)} event(s); nothing here is proven.")
        self.came_first_table.setRowCount(len(ranked))
        self._ranked = ranked
        for row, a in enumerate(ranked):
            minutes = a.before.total_seconds() / 60
            why = a.reason.split(" came first", 1)[0]  # the time is in the first column
            cells = (f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h",
                     a.event.kind, a.event.text, f"{why}: may be related")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip("\n".join(p for p in (a.event.text, a.event.detail, a.reason)
                                           if p))
                if col == 1:
                    item.setForeground(kind_colour(a.event.kind))
                self.came_first_table.setItem(row, col, item)
        self.came_first_panel.show()

    def _open_came_first(self, row: int, _col: int) -> None:
        ranked = getattr(self, "_ranked", [])
        if 0 <= row < len(ranked):
            self._open(ranked[row].event)

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
