"""Fleet view: many hosts watched at once, a row per host with colours and sparklines, worst
first; the alert list below with acknowledge; a tray message when an alert is raised.

The watcher (core, :mod:`diagkit.monitor.watch`) samples in its own threads. Its events reach
this widget through :class:`_Bridge`'s queued signal and are only *stored* on arrival; the table
is repainted by a timer twice a second, so 50 hosts every 2 s cost a few cheap repaints, not
hundreds of table updates.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import QObject, QPointF, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QSystemTrayIcon,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from diagkit.connection import LOST
from diagkit.monitor.recorder import Outcome, Recorder
from diagkit.monitor.thresholds import Alert, AlertTracker, Level, threshold_for
from diagkit.monitor.watch import Connector, Watcher, WatchEvent
from diagkit.probes.base import Finding, Severity
from diagkit.store.contract import SampleStore
from diagkit.ui.workers import run_in_background
from diagkit.units import human_duration

FORECAST_EVERY_MS = 60_000
ROLE_FORECAST = Qt.ItemDataRole.UserRole + 12
_SEVERITY_LEVEL = {Severity.WARNING: Level.WARNING, Severity.CRITICAL: Level.CRITICAL}

SPARK_POINTS = 60
LEVEL_COLOURS = {Level.WARNING: QColor("#f9a825"), Level.CRITICAL: QColor("#e53935")}
DOWN_COLOUR = QColor("#9e9e9e")
# (column title, metric or None for a computed column, format)
COLUMNS: tuple[tuple[str, str | None, str], ...] = (
    ("CPU", "cpu.usage", "{:.0f} %"),
    ("Load/core", "load.per_core", "{:.2f}"),
    ("Memory", "mem.used", "{:.0f} %"),
    ("Swap in", "swap.in", "{:.0f}/s"),
    ("Disk (fullest)", None, "{:.0f} %"),
    ("Processes", "procs.count", "{:.0f}"),
)
ROLE_SPARK = Qt.ItemDataRole.UserRole + 10
ROLE_LEVEL = Qt.ItemDataRole.UserRole + 11


class _Bridge(QObject):
    """Carries outcomes from watcher threads to the GUI thread (queued connection)."""

    outcome = Signal(object)


class SparkDelegate(QStyledItemDelegate):
    """Paints the value text over a small line of its recent values."""

    def paint(self, painter: QPainter, option, index) -> None:
        values = index.data(ROLE_SPARK)
        level = index.data(ROLE_LEVEL) or 0
        rect: QRect = option.rect
        painter.save()
        colour = LEVEL_COLOURS.get(Level(level))
        if colour is not None:
            painter.fillRect(rect, colour.lighter(160))
        if values and len(values) > 1:
            finite = [v for v in values if not math.isnan(v)]
            lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
            span = (hi - lo) or 1.0
            w, h = rect.width() - 4, rect.height() - 6
            step = w / (SPARK_POINTS - 1)
            x0 = rect.right() - 2 - step * (len(values) - 1)
            poly = QPolygonF([QPointF(x0 + i * step, rect.bottom() - 3 - (v - lo) / span * h)
                              for i, v in enumerate(values) if not math.isnan(v)])
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor(30, 136, 229, 150), 1.2))
            painter.drawPolyline(poly)
        painter.setPen(option.palette.text().color())
        painter.drawText(rect.adjusted(6, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter
                         | Qt.AlignmentFlag.AlignLeft, str(index.data() or ""))
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        return QSize(110, 28)


class FleetView(QWidget):
    """Watch ``hosts``; ``open_host_requested(name)`` on double click."""

    open_host_requested = Signal(str)
    history_requested = Signal(str, str)  # host, metric: double click on a value
    alert_raised = Signal(object)  # Alert, for the main window's tray/journal
    host_event = Signal(str, str, str)  # host, "down" | "up", message: the watcher's connection

    def __init__(self, hosts: Sequence[str] = (), *, interval: float = 5.0,
                 connect: Connector | None = None, samples: SampleStore | None = None,
                 tracker: AlertTracker | None = None,
                 notify: Callable[[str, str], None] | None = None,
                 candidates: Callable[[], list[str]] | None = None,
                 journal: Callable[[], tuple[object, int] | None] | None = None,
                 connections: object | None = None,
                 parent: QWidget | None = None) -> None:
        """``candidates`` lists the hosts one may pick (Hosts… button); ``journal`` returns
        ``(CaseDesk, case_id)`` of the active case or None (alerts and forecasts go there);
        ``connections`` (a :class:`~diagkit.ui.connection_model.ConnectionModel`) is the one
        state per host: a host whose tab found its connection lost shows DOWN here too, until
        the watcher's next sample proves otherwise."""
        super().__init__(parent)
        self._connections = connections
        if connections is not None:
            connections.changed.connect(self._connection_changed)  # type: ignore[attr-defined]
        self._candidates = candidates
        self._journal = journal
        self.forecasts: dict[str, list[Finding]] = {}
        self.hosts = list(dict.fromkeys(hosts))
        self.interval = interval
        self._connect = connect
        self._notify = notify
        self.recorder = Recorder(tracker or AlertTracker(), samples)
        self.watcher: Watcher | None = None
        self._spark: dict[tuple[str, str], deque[float]] = {}
        self._latest: dict[str, dict[str, float]] = {}
        self._dirty = False
        self._bridge = _Bridge()
        self._bridge.outcome.connect(self._on_outcome)

        self.summary = QLabel()
        self.start_button = QPushButton("Start watching")
        self.start_button.clicked.connect(self.toggle)
        self.ack_button = QPushButton("Acknowledge")
        self.ack_button.setEnabled(False)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.retry_button = QPushButton("Reconnect now")
        self.retry_button.setToolTip("Try the hosts that are down again now, not at their next try")
        self.retry_button.clicked.connect(self.retry_down)
        self.retry_button.hide()
        self.hosts_button = QPushButton("Hosts\u2026")
        self.hosts_button.setToolTip("Choose the hosts to watch")
        self.hosts_button.clicked.connect(self.choose_hosts)
        self.hosts_button.setVisible(candidates is not None)
        self.journal_check = QCheckBox("Journal alerts to the active case")
        self.journal_check.setVisible(journal is not None)
        self.case_button = QPushButton("Add to case")
        self.case_button.setToolTip("Journal the selected alert or forecast into the active case")
        self.case_button.setEnabled(False)
        self.case_button.setVisible(journal is not None)
        self.case_button.clicked.connect(self.journal_selected)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.journal_check)
        top.addWidget(self.retry_button)
        top.addWidget(self.hosts_button)
        top.addWidget(self.start_button)

        self.table = QTableWidget(0, 2 + len(COLUMNS))
        self.table.setHorizontalHeaderLabels(["Host", "State"] + [c[0] for c in COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setItemDelegate(SparkDelegate(self.table))
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.table.setToolTip("Double-click a host to open it, a value to see its history")

        self.alerts = QTreeWidget()
        self.alerts.setHeaderLabels(["Host", "Alert", "Level", "Since", "Duration", "Min / avg / max",
                                     "Ack"])
        self.alerts.setRootIsDecorated(False)
        head = self.alerts.header()
        head.setStretchLastSection(False)
        for col in range(self.alerts.columnCount()):
            head.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.alerts.itemSelectionChanged.connect(self._selection_changed)
        alert_box = QWidget()
        al = QVBoxLayout(alert_box)
        al.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("<b>Alerts and forecasts</b> (active first, then the last "
                              "cleared)"), 1)
        head.addWidget(self.case_button)
        head.addWidget(self.ack_button)
        al.addLayout(head)
        al.addWidget(self.alerts)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(alert_box)
        split.setSizes([500, 200])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split)

        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._forecast_timer = QTimer(self)
        self._forecast_timer.setInterval(FORECAST_EVERY_MS)
        self._forecast_timer.timeout.connect(self.update_forecasts)
        self._forecast_timer.start()
        self.refresh()

    # -- watching -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.watcher is not None

    def set_hosts(self, hosts: Sequence[str]) -> None:
        was = self.running
        self.stop()
        self.hosts = list(dict.fromkeys(hosts))
        self._dirty = True
        if was:
            self.start()
        self.refresh()

    def start(self) -> None:
        if self.running or not self.hosts:
            return
        kwargs = {"connect": self._connect} if self._connect else {}
        # The watcher's threads may outlive this widget by one sample (stop() does not wait):
        # they hold the bridge and the recorder, never the widget, so the widget is never
        # destroyed from a watcher thread.
        bridge, recorder = self._bridge, self.recorder

        def on_event(event: WatchEvent) -> None:
            bridge.outcome.emit(recorder(event))

        self.watcher = Watcher(self.hosts, interval=self.interval, on_event=on_event, **kwargs)
        self.watcher.start()
        self._dirty = True
        self.start_button.setText("Stop watching")
        self.refresh()

    def stop(self) -> None:
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            # Stopping joins threads that are at most one sample timeout busy; not on the GUI
            # thread's critical path for long: the scheduler wakes within a second.
            watcher.stop(wait=False)
            self.recorder.flush()
        self._dirty = True
        self.start_button.setText("Start watching")
        self.refresh()

    def toggle(self) -> None:
        self.stop() if self.running else self.start()

    def retry_down(self) -> None:
        """Every host that is down: connect again now (the tab's Reconnect, for the fleet)."""
        if self.watcher is not None:
            states = self.watcher.states()
            self.watcher.retry_now([h for h, st in states.items() if st.status == "down"]
                                   + self._lost_hosts(states))

    def _lost_state(self, host: str, last_sample: float | None) -> object | None:
        """The shared state of ``host`` when it says LOST after the watcher's last sample."""
        if self._connections is None:
            return None
        state = self._connections.get(host)  # type: ignore[attr-defined]
        if state.status == LOST and state.since > (last_sample or 0.0):
            return state
        return None

    def _lost_hosts(self, states: dict) -> list[str]:
        return [h for h in self.hosts
                if self._lost_state(h, getattr(states.get(h), "last_sample", None)) is not None]

    def _connection_changed(self, state: object) -> None:
        if getattr(state, "host", None) in self.hosts:
            self._dirty = True

    def _on_outcome(self, outcome: Outcome) -> None:
        e = outcome.event
        if e.kind in ("down", "up"):
            self.host_event.emit(e.host, e.kind, e.error or "")
        if e.kind == "sample":
            values = dict(e.values)
            disks = [v for k, v in values.items() if k.startswith("disk.used:")]
            if disks:
                values["disk.worst"] = max(disks)
            self._latest[e.host] = values
            for metric, v in values.items():
                self._spark.setdefault((e.host, metric), deque(maxlen=SPARK_POINTS)).append(v)
        for change in outcome.alerts:
            if change.alert.active and change.alert.level > change.previous:
                self.alert_raised.emit(change.alert)
                if self._notify is not None:
                    self._notify(f"diagkit: {change.alert.host}", change.alert.describe())
                if self.journal_check.isChecked():
                    self._to_case(lambda desk, case, a=change.alert: desk.record_alert(case, a))
        self._dirty = True

    # -- display --------------------------------------------------------------------------

    def refresh(self) -> None:
        states = self.watcher.states() if self.watcher else {}
        lost = set(self._lost_hosts(states)) if self.watcher else set()
        down = sum(1 for h, s in states.items() if s.status == "down" or h in lost)
        self.retry_button.setVisible(bool(down))
        active = self.recorder.tracker.active()
        self.summary.setText(
            f"{len(self.hosts)} host(s)" + (f", {down} down" if down else "")
            + f", {len(active)} active alert(s)"
            + ("" if self.running else " \u2014 not watching" if self.hosts
               else " \u2014 choose hosts to watch"))
        if not self._dirty and self.table.rowCount() == len(self.hosts):
            self._refresh_durations(active)
            return
        self._dirty = False
        levels = self._levels(active)

        def rank(host: str) -> tuple[int, int, str]:
            st = states.get(host)
            is_down = 1 if (st is not None and st.status == "down") or host in lost else 0
            return (-levels.get((host, ""), Level.OK), -is_down, host)

        ordered = sorted(self.hosts, key=rank)
        self.table.clearSpans()
        self.table.setRowCount(len(ordered))
        for row, host in enumerate(ordered):
            st = states.get(host)
            shared = self._lost_state(host, st.last_sample) if st is not None else None
            if st is not None and shared is not None and st.status != "down":
                # The host's tab saw the connection drop: one state, shown here too.
                st = replace(st, status="down", error=getattr(shared, "message", None))
            name = QTableWidgetItem(host)
            name.setData(Qt.ItemDataRole.UserRole, host)
            self.table.setItem(row, 0, name)
            if st is None:
                text, tip = ("stopped" if not self.running else "\u2026"), ""
            elif st.status == "down":
                text, tip = "DOWN", st.error or ""
            else:
                text, tip = st.status, ""
            state = QTableWidgetItem(text)
            state.setToolTip(tip)
            level = levels.get((host, ""), Level.OK)
            if st is not None and st.status == "down":
                state.setBackground(QBrush(DOWN_COLOUR.lighter(130)))
            elif level:
                state.setBackground(QBrush(LEVEL_COLOURS[Level(level)].lighter(160)))
            self.table.setItem(row, 1, state)
            if st is not None and st.status == "down":
                # Why it is down, where the values would be: the engineer's next step is there.
                retry = (" Next try at " + time.strftime("%H:%M:%S", time.localtime(st.next_try))
                         + "." if st.next_try else "")
                why = QTableWidgetItem(f"{st.error}{retry}")
                why.setToolTip(st.error or "")
                self.table.setItem(row, 2, why)
                self.table.setSpan(row, 2, 1, len(COLUMNS))
                continue
            values = self._latest.get(host, {})
            for col, (_title, metric, fmt) in enumerate(COLUMNS, start=2):
                key = metric or "disk.worst"
                v = values.get(key)
                item = QTableWidgetItem("" if v is None else fmt.format(v))
                item.setData(ROLE_SPARK, list(self._spark.get((host, key), ())))
                item.setData(ROLE_LEVEL, int(levels.get((host, key), Level.OK)))
                self.table.setItem(row, col, item)
        self._fill_alerts()

    @staticmethod
    def _levels(active: list[Alert]) -> dict[tuple[str, str], Level]:
        """Alert level per (host, metric) of the active alerts; every disk of a host also
        counts for its "disk.worst" cell and every metric for the host's row ("")."""
        levels: dict[tuple[str, str], Level] = {}
        for a in active:
            keys = [(a.host, a.metric), (a.host, "")]
            if a.metric.startswith("disk.used:"):
                keys.append((a.host, "disk.worst"))
            for key in keys:
                levels[key] = max(levels.get(key, Level.OK), a.level)
        return levels

    def _fill_alerts(self) -> None:
        selected = {it.data(0, Qt.ItemDataRole.UserRole) for it in self.alerts.selectedItems()}
        self.alerts.clear()
        tracker = self.recorder.tracker
        shown = tracker.active() + [a for a in tracker.history() if not a.active][:50]
        for a in tracker.active():
            self.alerts.addTopLevelItem(self._alert_item(a, selected))
        for host in sorted(self.forecasts):
            for f in self.forecasts[host]:
                self.alerts.addTopLevelItem(self._forecast_item(host, f, selected))
        for a in shown[len(tracker.active()):]:
            self.alerts.addTopLevelItem(self._alert_item(a, selected))

    def _forecast_item(self, host: str, f: Finding, selected: set) -> QTreeWidgetItem:
        item = QTreeWidgetItem([host, f.title, f"forecast ({f.severity.label})", "", "", "", ""])
        item.setToolTip(1, f"{f.detail}\n\n{f.hint}")
        key = ("forecast", host, f.title)
        item.setData(0, Qt.ItemDataRole.UserRole, key)
        item.setData(0, ROLE_FORECAST, (host, f))
        colour = LEVEL_COLOURS.get(_SEVERITY_LEVEL.get(f.severity, Level.OK))
        if colour is not None:
            for col in range(3):
                item.setBackground(col, QBrush(colour.lighter(175)))
        if key in selected:
            item.setSelected(True)
        return item

    def _alert_item(self, a: Alert, selected: set[int]) -> QTreeWidgetItem:
        th = a.threshold or threshold_for(self.recorder.tracker.thresholds, a.host, a.metric)
        name = (th.label if th and th.label else a.metric)
        if ":" in a.metric:
            name += " " + a.metric.split(":", 1)[1]
        level = a.level.label if a.active else f"cleared (peak {a.peak.label})"
        item = QTreeWidgetItem([
            a.host, name, level, a.start.astimezone().strftime("%H:%M:%S"),
            human_duration(a.duration()),
            f"{a.minimum:.4g} / {a.average:.4g} / {a.maximum:.4g}" if a.count else "",
            "yes" if a.acknowledged else ""])
        item.setData(0, Qt.ItemDataRole.UserRole, a.id)
        if a.active:
            for col in range(3):
                item.setBackground(col, QBrush(LEVEL_COLOURS.get(a.level, QColor()).lighter(160)))
        if a.id in selected:
            item.setSelected(True)
        return item

    def _refresh_durations(self, active: list[Alert]) -> None:
        by_id = {a.id: a for a in active}
        for i in range(self.alerts.topLevelItemCount()):
            item = self.alerts.topLevelItem(i)
            alert = by_id.get(item.data(0, Qt.ItemDataRole.UserRole))
            if alert is not None:
                item.setText(4, human_duration(alert.duration()))

    def _selection_changed(self) -> None:
        items = self.alerts.selectedItems()
        self.ack_button.setEnabled(any(it.data(0, ROLE_FORECAST) is None for it in items))
        self.case_button.setEnabled(bool(items))

    def update_forecasts(self) -> None:
        """Recompute disk/inode fill and memory-leak forecasts from the history, in a worker."""
        if self.recorder.samples is None or not self.hosts:
            return
        hosts, recorder = list(self.hosts), self.recorder

        def job() -> dict[str, list[Finding]]:
            return {h: fs for h in hosts if (fs := recorder.forecasts(h))}

        def done(result: dict[str, list[Finding]]) -> None:
            self.forecasts = result
            self._dirty = True
            self.refresh()

        run_in_background(job, on_done=done, on_error=lambda e: self.summary.setText(
            f"Forecasts could not be computed: {e}"), owner=self)

    def _to_case(self, record: Callable[[object, int], object]) -> None:
        target = self._journal() if self._journal is not None else None
        if target is None:
            self.summary.setText("No active case: choose one in the toolbar to journal to it.")
            return
        desk, case_id = target
        run_in_background(lambda: record(desk, case_id),
                          on_done=lambda _e: self.summary.setText(f"Journaled to case {case_id}."),
                          on_error=lambda e: self.summary.setText(f"Not journaled: {e}"),
                          owner=self)

    def journal_selected(self) -> None:
        for item in self.alerts.selectedItems():
            forecast = item.data(0, ROLE_FORECAST)
            if forecast is not None:
                host, finding = forecast
                self._to_case(lambda desk, case, h=host, f=finding: desk.record_finding(case, h, f))
                continue
            aid = item.data(0, Qt.ItemDataRole.UserRole)
            for a in self.recorder.tracker.history():
                if a.id == aid:
                    self._to_case(lambda desk, case, a=a: desk.record_alert(case, a))

    def choose_hosts(self) -> list[str] | None:
        """Pick the hosts to watch from ``candidates``; returns the choice (None if cancelled)."""
        if self._candidates is None:
            return None
        dialog = HostChooser(self._candidates(), self.hosts, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        chosen = dialog.chosen()
        self.set_hosts(chosen)
        return chosen

    def acknowledge_selected(self) -> None:
        for item in self.alerts.selectedItems():
            if item.data(0, ROLE_FORECAST) is not None:
                continue
            try:
                self.recorder.tracker.acknowledge(item.data(0, Qt.ItemDataRole.UserRole))
            except KeyError:
                continue  # forgotten meanwhile
        self._dirty = True
        self.refresh()

    def _double_clicked(self, row: int, col: int) -> None:
        item = self.table.item(row, 0)
        if item is None:
            return
        host = item.data(Qt.ItemDataRole.UserRole)
        if col < 2:
            self.open_host_requested.emit(host)
            return
        metric = COLUMNS[col - 2][1]
        if metric is None:  # the fullest disk: show every mount's use
            metric = "disk.used:*"
        self.history_requested.emit(host, metric)

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)


class HostChooser(QDialog):
    """Tick the hosts to watch."""

    def __init__(self, candidates: Sequence[str], current: Sequence[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hosts to watch")
        self.list = QListWidget()
        for name in dict.fromkeys([*candidates, *current]):
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in current
                               else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        all_button = buttons.addButton("All", QDialogButtonBox.ButtonRole.ActionRole)
        all_button.clicked.connect(lambda: [self.list.item(i).setCheckState(
            Qt.CheckState.Checked) for i in range(self.list.count())])
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Watched hosts are sampled every few seconds; a host that drops "
                                "is retried with backoff."))
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def chosen(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]


def tray_notifier(parent: QWidget) -> Callable[[str, str], None] | None:
    """A function showing desktop notifications through the system tray, if there is one."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    icon = QSystemTrayIcon(parent.windowIcon() if not parent.windowIcon().isNull()
                           else QPixmap(16, 16), parent)
    icon.show()
    last: dict[str, float] = {}

    def notify(title: str, text: str) -> None:
        # One bubble per host per minute: a storm of alerts must not bury the desktop.
        now = time.monotonic()
        if now - last.get(title, -1e9) < 60:
            return
        last[title] = now
        icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 8000)

    return notify
