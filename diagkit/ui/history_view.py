"""Monitoring history: any window of a host's stored samples, plotted, exported as CSV.

Reads go through :class:`~diagkit.store.contract.SampleStore` in a worker: the store picks the
resolution (raw, per minute, per hour) that covers the window, and aggregates are drawn as the
average line inside a min-max band, so a one-minute spike stays visible in a month's view.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from diagkit.monitor.export import write_csv
from diagkit.monitor.live import SERIES_BY_KEY
from diagkit.store.contract import SampleStore, SeriesData
from diagkit.ui.plots_view import ClockAxis, theme_plot
from diagkit.ui.workers import run_in_background

WINDOWS: tuple[tuple[str, float], ...] = (
    ("Last 15 minutes", 900), ("Last hour", 3600), ("Last 6 hours", 6 * 3600),
    ("Last 24 hours", 86400), ("Last 7 days", 7 * 86400), ("Last 30 days", 30 * 86400),
    ("Last year", 365 * 86400),
)
COLOURS = ("#1e88e5", "#e53935", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#6d4c41")


def ask_csv_path(parent: QWidget, suggested: str) -> str:
    """The file to export to ('' if cancelled); tests replace this."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export history as CSV", suggested,
                                          "CSV files (*.csv)")
    return path


def metric_label(metric: str) -> str:
    kind, _, mount = metric.partition(":")
    names = {"disk.used": "Disk used", "inodes.used": "Inodes used",
             "procs.count": "Processes", "procs.running": "Running processes"}
    spec = SERIES_BY_KEY.get(metric)
    base = spec.label if spec else names.get(kind, metric)
    unit = spec.unit if spec else ("%" if kind in ("disk.used", "inodes.used") else "")
    return f"{base} {mount}".strip() + (f" ({unit})" if unit else "")


class HistoryView(QWidget):
    """Pick a host, metrics and a window; ``loaded(list[SeriesData])`` when drawn."""

    loaded = Signal(object)
    hosts_loaded = Signal()

    def __init__(self, samples: SampleStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.samples = samples
        self.data: list[SeriesData] = []
        self.catalog: dict[str, list[str]] = {}  # host -> metrics, as last read
        self._request = 0

        self.host = QComboBox()
        self.host.currentTextChanged.connect(self._host_changed)
        self.window = QComboBox()
        for label, seconds in WINDOWS:
            self.window.addItem(label, seconds)
        self.window.setCurrentIndex(2)
        self.window.currentIndexChanged.connect(lambda _i: self.load())
        self.metrics = QListWidget()
        self.metrics.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.metrics.itemSelectionChanged.connect(self.load)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.reload_hosts)
        self.export_button = QPushButton("Export CSV\u2026")
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.status = QLabel()
        self.status.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("Host"))
        top.addWidget(self.host, 1)
        top.addWidget(QLabel("Window"))
        top.addWidget(self.window)
        top.addWidget(refresh)
        top.addWidget(self.export_button)

        self.plot = pg.PlotWidget(axisItems={"bottom": ClockAxis(orientation="bottom")})
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend()
        theme_plot(self.plot, self.palette())  # not pyqtgraph's black in a light theme
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.metrics)
        split.addWidget(self.plot)
        split.setSizes([260, 900])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self.reload_hosts()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            theme_plot(self.plot, self.palette())
        super().changeEvent(event)

    def reload_hosts(self, then: Callable[[], None] | None = None) -> None:
        """Read the hosts and their metrics again (in a worker: a team store is remote)."""
        store = self.samples

        def job() -> dict[str, list[str]]:
            return {h: store.metrics(h) for h in store.hosts()}

        def done(catalog: dict[str, list[str]]) -> None:
            self.catalog = catalog
            current = self.host.currentText()
            self.host.blockSignals(True)
            self.host.clear()
            self.host.addItems(list(catalog))
            if current in catalog:
                self.host.setCurrentText(current)
            self.host.blockSignals(False)
            if not catalog:
                self.status.setText("No history yet: watch hosts in the Fleet tab (or "
                                    "'diagkit watch HOST') and their samples are kept here.")
            self._host_changed(self.host.currentText())
            if then is not None:
                then()
            self.hosts_loaded.emit()

        run_in_background(job, on_done=done, on_error=lambda e: self.status.setText(
            f"Could not read the history: {e}"), owner=self)

    def show_series(self, host: str, metrics: list[str]) -> None:
        """Select ``host`` and ``metrics`` (names or globs such as ``disk.used:*``, e.g. from
        the fleet view) and draw them."""

        def select() -> None:
            self.host.setCurrentText(host)
            self.metrics.blockSignals(True)
            for i in range(self.metrics.count()):
                item = self.metrics.item(i)
                name = item.data(Qt.ItemDataRole.UserRole)
                item.setSelected(any(fnmatch.fnmatchcase(name, m) for m in metrics))
            self.metrics.blockSignals(False)
            self.load()

        self.reload_hosts(then=select)

    def _host_changed(self, host: str) -> None:
        selected = {it.data(Qt.ItemDataRole.UserRole) for it in self.metrics.selectedItems()}
        self.metrics.blockSignals(True)
        self.metrics.clear()
        for metric in self.catalog.get(host, []):
            self.metrics.addItem(metric_label(metric))
            item = self.metrics.item(self.metrics.count() - 1)
            item.setData(Qt.ItemDataRole.UserRole, metric)
            item.setSelected(metric in selected or (not selected and metric == "cpu.usage"))
        self.metrics.blockSignals(False)
        self.load()

    def selected_metrics(self) -> list[str]:
        return [it.data(Qt.ItemDataRole.UserRole) for it in self.metrics.selectedItems()]

    def load(self) -> None:
        host, metrics = self.host.currentText(), self.selected_metrics()
        seconds = float(self.window.currentData())
        self._request += 1
        request = self._request
        if not host or not metrics:
            self._draw([])
            return
        store = self.samples

        def job() -> list[SeriesData]:
            now = time.time()
            return [store.read(host, m, since=now - seconds, now=now) for m in metrics]

        def done(data: list[SeriesData]) -> None:
            if request == self._request:  # a newer choice was made meanwhile
                self._draw(data)

        run_in_background(job, on_done=done, on_error=lambda e: self.status.setText(
            f"Could not read the history: {e}"), owner=self)

    def _draw(self, data: list[SeriesData]) -> None:
        self.data = data
        self.plot.clear()
        points = 0
        for i, d in enumerate(data):
            if not len(d):
                continue
            points += len(d)
            colour = COLOURS[i % len(COLOURS)]
            pen = pg.mkPen(colour, width=1.5)
            self.plot.plot(d.t, d.avg, pen=pen, name=metric_label(d.metric))
            if d.resolution != "raw" and not np.array_equal(d.min, d.max):
                low = pg.PlotDataItem(d.t, d.min, pen=pg.mkPen(None))
                high = pg.PlotDataItem(d.t, d.max, pen=pg.mkPen(None))
                band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(colour + "40"))
                self.plot.addItem(band)
        res = {d.resolution for d in data}
        names = {"raw": "every sample", "1m": "per-minute min/avg/max",
                 "1h": "per-hour min/avg/max"}
        if data:
            self.status.setText(f"{points} points ({', '.join(names[r] for r in sorted(res))})."
                                if points else "No samples in this window.")
        self.export_button.setEnabled(points > 0)
        self.loaded.emit(data)

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        if path is None:
            suggested = f"{self.host.currentText() or 'history'}-history.csv"
            path = ask_csv_path(self, suggested)
            if not path:
                return None
        target = Path(path)
        try:
            write_csv(self.data, target)
        except OSError as exc:
            self.status.setText(f"Could not write {target}: {exc.strerror}. Choose another "
                                "folder.")
            return None
        self.status.setText(f"Exported to {target}.")
        return target
