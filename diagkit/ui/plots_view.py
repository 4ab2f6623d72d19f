"""Live plots of one host: CPU, load, memory and swap, paging, disk I/O, network.

A QTimer asks for one sample per interval through :func:`run_in_background`; a tick that finds
the previous sample still in flight is skipped (never queued), so a slow host simply gets fewer
points. Samples go into a :class:`~diagkit.monitor.live.SeriesBuffer`; each one then calls
``setData`` on curves created once (the pyqtgraph ``scrollingPlots.py`` pattern), with peak
downsampling and clip-to-view so a day of 1 s samples stays smooth.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import ConnectionLost, DiagkitError
from diagkit.monitor.live import (
    GROUP_TITLES,
    SERIES,
    LiveSample,
    LiveSampler,
    SeriesBuffer,
    SeriesSpec,
)
from diagkit.transport.base import Transport
from diagkit.ui.workers import Worker, run_in_background

# Mid-luminance colours: readable on white and on dark (#1e1e1e) plot backgrounds alike.
PALETTE = ("#3d8fd6", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#2bb5a8")
WINDOWS: tuple[tuple[str, float | None], ...] = (
    ("Last 5 min", 300.0),
    ("Last 15 min", 900.0),
    ("Last 1 h", 3600.0),
    ("All", None),
)
DEFAULT_INTERVAL = 2
LEGEND_ALPHA = 110  # of 255
# Short axis titles with their unit: six stacked plots leave ~100 px for each rotated title, so
# "Paging (pages/s)" ran into "Memory (%)" (issue 17, item 10). Byte rates get their binary unit
# from BinaryRateAxis (KiB/s, MiB/s: the dashboard's spelling).
AXIS_NAMES = {"cpu": "CPU %", "load": "Load", "memory": "Mem %", "paging": "Pages/s",
              "disk": "Disk", "network": "Net"}
# A pause longer than this many sampling intervals is drawn as a gap (no line across an outage).
GAP_INTERVALS = 2.5
# The time axis never labels the epoch's first days: an empty plot would show "00:00:00" ticks.
EPOCH_FLOOR = 86400.0 * 365
# Smallest y span per unit, so a flat zero line does not zoom into noise ("-400 mB/s").
MIN_Y_SPAN = {"B/s": 1024.0, "pages/s": 10.0, "": 1.0}


class ClockAxis(pg.DateAxisItem):
    """Wall-clock ticks an engineer reads at a glance: 12:45:50, not pyqtgraph's "50.000"."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if not values or max(values) < EPOCH_FLOOR:
            # No samples yet: no made-up clock times. A blank (not empty) label keeps the axis
            # its text height, or the first real times would be cut off below it.
            return [" " for _ in values]
        if spacing >= 86400:
            return super().tickStrings(values, scale, spacing)
        fmt = "%H:%M:%S" if spacing < 60 else "%H:%M"
        out = []
        for value in values:
            try:
                out.append(time.strftime(fmt, time.localtime(value)))
            except (OverflowError, OSError, ValueError):
                out.append("")
        return out


BINARY_RATES = (("B/s", 1.0), ("KiB/s", 1024.0), ("MiB/s", 1024.0**2), ("GiB/s", 1024.0**3))


def rate_unit(largest: float) -> tuple[str, float]:
    """The binary unit a byte rate up to ``largest`` reads best in: ("MiB/s", 1048576.0)."""
    chosen = BINARY_RATES[0]
    for unit in BINARY_RATES:
        if abs(largest) >= unit[1]:
            chosen = unit
    return chosen


class BinaryRateAxis(pg.AxisItem):
    """A byte-rate axis in KiB/s, MiB/s, GiB/s (as the dashboard writes them), never pyqtgraph's
    decimal "MB/s"; the unit goes into the axis title."""

    def __init__(self, name: str, **kwargs: object) -> None:
        super().__init__("left", **kwargs)
        self.name = name
        self.enableAutoSIPrefix(False)
        self.unit = ""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        # round steps in the shown unit (1, 2, 5 MiB/s), not in bytes (95.4, 190.7 MiB/s)
        # one unit per draw, from the visible range: the ticks and the title must agree
        self._range_unit = rate_unit(max(abs(minVal), abs(maxVal)))
        factor = self._range_unit[1]
        return [(spacing * factor, offset * factor)
                for spacing, offset in super().tickSpacing(minVal / factor, maxVal / factor, size)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        unit, factor = getattr(self, "_range_unit", None) or rate_unit(
            max((abs(v) for v in values), default=0.0))
        if unit != self.unit:
            self.unit = unit
            self.setLabel(f"{self.name} ({unit})" if self.name else unit)
        digits = 0 if spacing / factor >= 1 else (1 if spacing / factor >= 0.1 else 2)
        return [f"{v / factor:.{digits}f}" for v in values]


class CountAxis(pg.AxisItem):
    """An axis of counts (cases, alerts): ticks on whole numbers only, never 0.1 steps."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        levels = [(sp, off) for sp, off in super().tickSpacing(minVal, maxVal, size) if sp >= 1]
        return levels or [(1.0, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{v:.0f}" for v in values]


def theme_plot(plot: pg.PlotWidget | pg.PlotItem, palette: QPalette) -> None:
    """Background, axes and legend of a single plot in the widget palette's colours (light or
    dark desktop themes), as the live plots do."""
    item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
    base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
    if isinstance(plot, pg.PlotWidget):
        plot.setBackground(base)
    muted = pg.mkColor(text)
    muted.setAlpha(140)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(muted)
        axis.setTextPen(text)
        axis.label.setDefaultTextColor(text)
    legend = item.legend
    if legend is not None:
        veil = pg.mkColor(base)
        veil.setAlpha(LEGEND_ALPHA)
        legend.setLabelTextColor(text)
        legend.setBrush(pg.mkBrush(veil))


def with_gaps(t: np.ndarray, y: np.ndarray, max_gap: float) -> tuple[np.ndarray, np.ndarray]:
    """``t`` and ``y`` (one row per series) with a NaN column after each pause longer than
    ``max_gap`` seconds, so every curve shows an outage as a gap (as CPU does by itself)."""
    if len(t) < 2:
        return t, y
    breaks = np.nonzero(np.diff(t) > max_gap)[0]
    if not len(breaks):
        return t, y
    t_out = np.insert(t, breaks + 1, (t[breaks] + t[breaks + 1]) / 2)
    y_out = np.insert(y.astype(float), breaks + 1, np.nan, axis=1)
    return t_out, y_out


def _format(spec: SeriesSpec, value: float) -> str:
    if spec.unit == "B/s":
        unit, factor = rate_unit(value)
        return f"{value / factor:.1f} {unit}" if factor > 1 else f"{value:.0f} B/s"
    if spec.unit == "%":
        return f"{value:.1f} %"
    return f"{value:.2f} {spec.unit}".rstrip()


class PlotsView(QWidget):
    """Live plots for one host. Give it a transport with :meth:`set_transport`."""

    sample_added = Signal(object)  # LiveSample
    sampling_failed = Signal(str)
    connection_lost = Signal(str)  # the sample found the connection gone: the tab disconnects
    reconnect_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False)  # several times faster for long polylines
        self.buffer = SeriesBuffer()
        self._sampler: LiveSampler | None = None
        self._worker: Worker | None = None
        self.samples_taken = 0
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)

        self.interval = QSpinBox(minimum=1, maximum=60, value=DEFAULT_INTERVAL, suffix=" s")
        self.interval.setPrefix("every ")
        self.interval.setToolTip("Sampling interval")
        self.interval.valueChanged.connect(self._interval_changed)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.follow = QCheckBox("Follow")
        self.follow.setChecked(True)
        self.follow.setToolTip("Keep the newest samples in view (zooming or panning turns it off)")
        self.follow.toggled.connect(lambda _on: self._redraw())
        self.window_box = QComboBox()
        for label, _seconds in WINDOWS:
            self.window_box.addItem(label)
        self.window_box.currentIndexChanged.connect(self._window_changed)
        png = QPushButton("Export PNG…")
        png.clicked.connect(self._ask_png)
        csv = QPushButton("Export CSV…")
        csv.clicked.connect(self._ask_csv)
        bar = QHBoxLayout()
        for w in (self.interval, self.pause_button, self.follow, self.window_box):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(png)
        bar.addWidget(csv)

        self.state = QLabel("Not connected")
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reconnect_button = QPushButton("Reconnect")
        self.reconnect_button.setToolTip("Connect to the host again and go on sampling")
        self.reconnect_button.clicked.connect(self.reconnect_requested.emit)
        self.reconnect_button.hide()
        state_row = QHBoxLayout()
        state_row.addWidget(self.state, 1)
        state_row.addWidget(self.reconnect_button)
        self.readout = QLabel(" ")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.glw = pg.GraphicsLayoutWidget()
        self.plots: list[pg.PlotItem] = []
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.thresholds: list[pg.InfiniteLine] = []
        self._vlines: list[pg.InfiniteLine] = []
        self._legends: list[pg.LegendItem] = []
        self._build_plots()
        self._mouse_proxy = pg.SignalProxy(
            self.glw.scene().sigMouseMoved, rateLimit=30, slot=self._mouse_moved
        )

        # Until the first sample: a sentence, not six empty plots with made-up clock times.
        self.empty = QLabel("No samples yet. Sampling starts when the host is connected; the "
                            "plots fill from the first sample on.")
        self.empty.setObjectName("plots-empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)  # the palette's muted text colour
        self.glw.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(state_row)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.glw, 1)
        layout.addWidget(self.readout)
        self._apply_palette()

    # --- plots ---------------------------------------------------------------------------------

    def _build_plots(self) -> None:
        groups: dict[str, list[SeriesSpec]] = {}
        for spec in SERIES:
            groups.setdefault(spec.group, []).append(spec)
        colour = iter(PALETTE * 3)
        last = len(groups) - 1
        for row, (group, specs) in enumerate(groups.items()):
            unit = specs[0].unit
            axes = {"bottom": ClockAxis()}
            if unit == "B/s":
                axes["left"] = BinaryRateAxis(AXIS_NAMES.get(group, group))
            plot = self.glw.addPlot(row=row, col=0, axisItems=axes)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            # No grid: alpha-blended grid lines cost ~6 ms per axis per paint in software
            # rendering (benchmarks/ui_bench.py), ten times the curves themselves.
            plot.showGrid(x=False, y=False)
            plot.setMouseEnabled(x=True, y=False)
            plot.getViewBox().sigRangeChangedManually.connect(self._user_moved_view)
            if unit == "B/s":
                plot.setLabel("left", f"{AXIS_NAMES.get(group, group)} (B/s)")
            else:
                plot.setLabel("left", AXIS_NAMES.get(group, group))
                plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("left").setToolTip(f"{GROUP_TITLES.get(group, group)} ({unit})"
                                            if unit else GROUP_TITLES.get(group, group))
            plot.getAxis("left").setWidth(64)  # every plot's data starts at the same x
            if unit == "%":
                plot.setYRange(0, 100, padding=0.02)
            else:
                plot.setLimits(yMin=0, minYRange=MIN_Y_SPAN.get(unit, 1.0))
                plot.enableAutoRange(axis="y")
                plot.setAutoVisible(y=True)
            if row != last:
                plot.getAxis("bottom").setStyle(showValues=False)
            if self.plots:
                plot.setXLink(self.plots[0])
            self._legends.append(plot.addLegend(offset=(4, 2), colCount=len(specs)))
            for spec in specs:
                pen = pg.mkPen(next(colour), width=1)
                self.curves[spec.key] = plot.plot(name=spec.label, pen=pen, connect="finite")
                if spec.threshold is not None:
                    line = pg.InfiniteLine(
                        pos=spec.threshold, angle=0, movable=False,
                        pen=pg.mkPen(pen.color(), style=Qt.PenStyle.DashLine),
                        label=f"{spec.label} {spec.threshold:g} {spec.unit}".rstrip(),
                        labelOpts={"position": 0.6, "color": pen.color(),
                                   "anchors": [(0, 0), (0, 0)]},
                    )
                    plot.addItem(line, ignoreBounds=True)
                    self.thresholds.append(line)
            vline = pg.InfiniteLine(angle=90, movable=False)
            vline.hide()
            plot.addItem(vline, ignoreBounds=True)
            self._vlines.append(vline)
            self.plots.append(plot)

    def _apply_palette(self) -> None:
        """Plot background and text follow the widget palette (light or dark desktop themes)."""
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        self.glw.setBackground(base)
        muted = pg.mkColor(text)
        muted.setAlpha(140)
        for plot in self.plots:
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(muted)
                axis.setTextPen(text)
                axis.label.setDefaultTextColor(text)
        # Semi-transparent legends: the first seconds and threshold lines show through them.
        veil = pg.mkColor(base)
        veil.setAlpha(LEGEND_ALPHA)
        for legend in self._legends:
            legend.setLabelTextColor(text)
            legend.setBrush(pg.mkBrush(veil))
        for vline in self._vlines:
            vline.setPen(pg.mkPen(muted, style=Qt.PenStyle.DotLine))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def window_seconds(self) -> float | None:
        return WINDOWS[self.window_box.currentIndex()][1]

    def _redraw(self) -> None:
        """Hand the curves their data: the followed window, or everything when browsing."""
        following = self.follow.isChecked()
        seconds = self.window_seconds() if following else None
        t, y = self.buffer.window(seconds)
        if len(t) and self.glw.isHidden():
            self.empty.hide()
            self.glw.show()
        tg, yg = with_gaps(t, y, GAP_INTERVALS * self.interval.value())
        for i, key in enumerate(self.buffer.keys):
            self.curves[key].setData(tg, yg[i], connect="finite")
        if following and len(t):
            end = float(t[-1])
            # Until a full window has been sampled, show what there is (no empty left part).
            start = float(t[0]) if seconds is None else max(float(t[0]), end - seconds)
            self.plots[0].setXRange(start, max(end, start + 1), padding=0.01)

    def _window_changed(self, _index: int) -> None:
        self.follow.setChecked(True)  # choosing a window means "show me the latest"
        self._redraw()

    def _user_moved_view(self, *_args: object) -> None:
        self.follow.setChecked(False)

    # --- crosshair -----------------------------------------------------------------------------

    def _mouse_moved(self, event: tuple[object, ...]) -> None:
        pos = event[0]
        for plot in self.plots:
            if plot.sceneBoundingRect().contains(pos):
                self.set_crosshair(plot.getViewBox().mapSceneToView(pos).x())
                return

    def set_crosshair(self, x: float) -> None:
        for vline in self._vlines:
            vline.setPos(x)
            vline.show()
        self.readout.setText(self.readout_at(x))

    def readout_at(self, x: float) -> str:
        """Clock time and every visible series' value at the sample nearest to ``x``."""
        hit = self.buffer.nearest(x)
        if hit is None:
            return ""
        t, values = hit
        parts = [datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")]
        for spec in SERIES:
            value = values.get(spec.key)
            if value is not None and not np.isnan(value) and self.curves[spec.key].isVisible():
                parts.append(f"{spec.label} {_format(spec, value)}")
        return "   ".join(parts)

    # --- sampling ------------------------------------------------------------------------------

    @property
    def sampling_in_flight(self) -> bool:
        return self._worker is not None

    @property
    def paused(self) -> bool:
        return self.pause_button.isChecked()

    def set_transport(self, transport: Transport | None, *, reason: str | None = None) -> None:
        """Start sampling ``transport``; None stops (disconnected) and keeps the data shown.
        ``reason``: why the connection was lost (shown, with Reconnect)."""
        self._drop_worker(wait=False)
        self.reconnect_button.setVisible(transport is None and reason is not None)
        if transport is None:
            self._sampler = None
            self.timer.stop()
            self.state.setProperty("failed", False)
            self.state.setText(f"{reason} The plots keep the samples taken so far." if reason
                               else "Disconnected: the plots keep the samples taken so far.")
            return
        self._sampler = LiveSampler(transport, timeout=max(10.0, 3.0 * self.interval.value()))
        self.state.setText(f"Sampling {transport.host} every {self.interval.value()} s.")
        self.timer.start(self.interval.value() * 1000)
        self._tick()

    def shutdown(self) -> None:
        """Stop timers and cancel the sample in flight (tab closing). The transport stays open."""
        self.timer.stop()
        self._sampler = None
        self._drop_worker(wait=True)

    def _drop_worker(self, *, wait: bool) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()  # kills the remote command; its outcome never arrives
            if wait:
                worker.done.wait(5)

    def _interval_changed(self, seconds: int) -> None:
        if self.timer.isActive():
            self.timer.setInterval(seconds * 1000)
        if self._sampler is not None:
            self._sampler.timeout = max(10.0, 3.0 * seconds)

    def _pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        if paused:
            self.timer.stop()
        elif self._sampler is not None:
            self.timer.start(self.interval.value() * 1000)
            self._tick()

    def _tick(self) -> None:
        sampler = self._sampler
        if sampler is None or self.paused or self._worker is not None:
            return  # never queue samples up behind a slow host

        def done(sample: LiveSample) -> None:
            if sampler is self._sampler:
                self._worker = None
                self._add(sample)

        def failed(error: BaseException) -> None:
            if sampler is self._sampler:
                self._worker = None
                self._failed(error)

        self._worker = run_in_background(
            lambda cancel: sampler.sample(cancel), on_done=done, on_error=failed, owner=self)

    def _add(self, sample: LiveSample) -> None:
        self.samples_taken += 1
        self.buffer.append(sample)
        if self.state.property("failed"):
            self.state.setProperty("failed", False)
            self.state.setText(f"Sampling {self._sampler.transport.host} again since "  # type: ignore[union-attr]
                               f"{datetime.fromtimestamp(sample.time):%H:%M:%S}.")
        self._redraw()
        self.sample_added.emit(sample)

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, ConnectionLost):
            self.connection_lost.emit(str(error))  # the tab disconnects every view at once
            if self._sampler is None:
                return
        message = str(error) if isinstance(error, DiagkitError) else (
            f"Unexpected error while sampling ({type(error).__name__}: {error}). "
            "Details are in the log file.")
        self.state.setProperty("failed", True)
        self.state.setText(f"{datetime.now():%H:%M:%S} {message} "
                           f"Retrying every {self.interval.value()} s.")
        self.sampling_failed.emit(message)

    # --- export --------------------------------------------------------------------------------

    def export_png(self, path: str | Path) -> Path:
        """Save all plots as one PNG image."""
        path = Path(path)
        if self.glw.width() < 50 or self.glw.height() < 50:  # never shown: give it a size
            self.glw.resize(1000, 900)
        exporter = pg.exporters.ImageExporter(self.glw.ci)
        exporter.export(str(path))
        return path

    def export_csv(self, path: str | Path) -> Path:
        """Save every sample (not just the visible window) as CSV."""
        return self.buffer.to_csv(path)

    def _ask_png(self) -> None:
        self._ask_path("Export plots as PNG", "png", "PNG image (*.png)", self.export_png)

    def _ask_csv(self) -> None:
        self._ask_path("Export samples as CSV", "csv", "CSV file (*.csv)", self.export_csv)

    def _ask_path(self, title: str, ext: str, filt: str, save: object) -> None:
        name = f"diagkit-live-{datetime.now():%Y%m%d-%H%M%S}.{ext}"
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path.home() / name), filt)
        if not path:
            return
        try:
            save(path)  # type: ignore[operator]
        except OSError as exc:
            self.state.setText(f"Could not write {path}: {exc.strerror or exc}. "
                               "Choose another folder.")
        else:
            self.state.setText(f"Saved {path}.")
