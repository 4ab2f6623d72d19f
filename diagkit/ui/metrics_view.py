"""The metrics tab: how support went over a period, for the team or one engineer.

The figures come from :func:`diagkit.metrics.compute` (run in a worker; the view only shows its
:class:`~diagkit.metrics.MetricsReport`): a table of figures in words and human units, a
per-engineer table, a plot of cases opened / resolved / backlog per day, and an Export CSV button
writing the report's own CSV.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDate, QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import DiagkitError
from diagkit.store.contract import MetricsStore
from diagkit.ui.plots_view import CountAxis, theme_plot
from diagkit.ui.workers import Worker, run_in_background
from diagkit.units import human_duration

PERIODS: tuple[tuple[str, int | None], ...] = (
    ("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90), ("Custom…", None))
ALL_ENGINEERS = "All engineers"
SERIES_COLOURS = {"opened": "#3d8fd6", "resolved": "#59a14f", "backlog": "#f28e2b"}
AGEING_ORDER = ("<1d", "1-3d", "3-7d", "7-30d", ">30d")


def duration_text(value: timedelta | None) -> str:
    """``3 h 20 min``, ``2 d 4 h``, ``45 s`` (:func:`~diagkit.units.human_duration`, coarse:
    for response times seconds are noise); a dash when there is nothing to measure."""
    return "–" if value is None else human_duration(value, coarse=True)


def share_text(part: int, total: int) -> str:
    return f"{part} of {total} ({100 * part / total:.0f} %)" if total else "–"


def figure_rows(report: Any) -> list[tuple[str, str]]:
    """The report as (figure, value) rows in words: what the table shows, top to bottom."""
    rows: list[tuple[str, str]] = [
        ("Cases opened", str(report.opened)),
        ("Cases resolved", str(report.resolved)),
        ("First response: median", duration_text(report.frt_median)),
        ("First response: 90th percentile", duration_text(report.frt_p90)),
        ("Time to resolve: median", duration_text(report.ttr_median)),
        ("Time to resolve: 90th percentile", duration_text(report.ttr_p90)),
    ]
    for severity in sorted(report.breach_rate):
        breached, total = report.breach_rate[severity]
        rows.append((f"SLA breached, {severity}", share_text(breached, total)))
    if report.csat_share_4_5 is None:
        rows.append(("CSAT 4–5", "no ratings"))
    else:
        rows.append(("CSAT 4–5", f"{100 * report.csat_share_4_5:.0f} %"))
    ratings = report.csat_distribution
    if ratings:
        rows.append(("CSAT ratings", "  ".join(f"{score}★: {ratings.get(score, 0)}"
                                               for score in range(1, 6))))
    rows.append(("Backlog (open now)", str(report.backlog)))
    ageing = report.backlog_ageing
    for bucket in [b for b in AGEING_ORDER if b in ageing] + [b for b in ageing if b not in AGEING_ORDER]:
        rows.append((f"Backlog aged {bucket}", str(ageing[bucket])))
    for n, (signature, cases) in enumerate(report.top_signatures, 1):
        rows.append((f"Top signature #{n}", f"{signature}  ({cases} case{'s' * (cases != 1)})"))
    for n, (slug, title, cases) in enumerate(report.top_articles, 1):
        rows.append((f"Top KB article #{n}", f"{title} [{slug}]  ({cases} case{'s' * (cases != 1)})"))
    return rows


def _field(row: object, name: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


class MetricsView(QWidget):
    """Support metrics from ``store`` (a case store); :meth:`refresh` recomputes in a worker."""

    computed = Signal(object)  # MetricsReport
    failed = Signal(str)

    def __init__(self, store: MetricsStore, parent: QWidget | None = None, *,
                 now: Any = None) -> None:
        super().__init__(parent)
        self.store = store
        self.report: Any = None
        self._now = now or (lambda: datetime.now(UTC))
        self._worker: Worker | None = None
        self._seq = 0

        self.period_box = QComboBox()
        for label, _days in PERIODS:
            self.period_box.addItem(label)
        self.period_box.setCurrentIndex(1)
        self.period_box.currentIndexChanged.connect(self._period_changed)
        today = QDate.currentDate()
        self.since_edit = QDateEdit(today.addDays(-30), calendarPopup=True)
        self.until_edit = QDateEdit(today, calendarPopup=True)
        for edit in (self.since_edit, self.until_edit):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(lambda _d: self.refresh())
            edit.hide()
        self.engineer_box = QComboBox()
        self.engineer_box.setEditable(True)
        self.engineer_box.addItem(ALL_ENGINEERS)
        self.engineer_box.setMinimumWidth(180)
        self.engineer_box.setToolTip("Only cases of this engineer")
        self.engineer_box.activated.connect(lambda _i: self.refresh())
        self.engineer_box.lineEdit().returnPressed.connect(self.refresh)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setEnabled(False)
        self.csv_button.clicked.connect(self.ask_csv)
        self.state = QLabel("")
        self.state.setObjectName("metrics-state")
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Period"))
        bar.addWidget(self.period_box)
        bar.addWidget(self.since_edit)
        bar.addWidget(self.until_edit)
        bar.addWidget(QLabel("Engineer"))
        bar.addWidget(self.engineer_box)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        bar.addWidget(self.csv_button)

        self.figures = _table(("Figure", "Value"), "metrics-figures")
        self.engineers = _table(("Engineer", "Opened", "Resolved", "FRT median", "TTR median",
                                 "Backlog"), "metrics-engineers")
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(),
                                             "left": CountAxis("left")})
        self.plot.setObjectName("metrics-plot")
        self.plot.showGrid(x=False, y=True, alpha=0.3)
        self.plot.addLegend(offset=(10, 10))
        theme_plot(self.plot, self.palette())
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.getPlotItem().setMenuEnabled(False)
        self.plot.setLabel("left", "cases")
        # Curves are created once; a new report only calls setData (the pyqtgraph way).
        self.curves = {
            name: self.plot.plot([], [], name=name.capitalize(),
                                 pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                                 symbolBrush=colour, symbolPen=None)
            for name, colour in SERIES_COLOURS.items()
        }

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.figures)
        left.addWidget(self.engineers)
        left.setSizes([520, 200])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.plot)
        split.setSizes([560, 720])
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.state)
        layout.addWidget(split, 1)
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            theme_plot(self.plot, self.palette())
        super().changeEvent(event)

    # --- period --------------------------------------------------------------------------------

    def _period_changed(self, index: int) -> None:
        custom = PERIODS[index][1] is None
        self.since_edit.setVisible(custom)
        self.until_edit.setVisible(custom)
        self.refresh()

    def period(self) -> tuple[datetime, datetime]:
        """(since, until) in UTC for the chosen period; custom dates are whole local days."""
        days = PERIODS[self.period_box.currentIndex()][1]
        if days is not None:
            until = self._now()
            return until - timedelta(days=days), until
        local = datetime.now().astimezone().tzinfo
        since = datetime.combine(self.since_edit.date().toPython(), time.min, tzinfo=local)
        until = datetime.combine(self.until_edit.date().toPython(), time.min,
                                 tzinfo=local) + timedelta(days=1)
        return since.astimezone(UTC), until.astimezone(UTC)

    def engineer(self) -> str | None:
        text = self.engineer_box.currentText().strip()
        return None if not text or text == ALL_ENGINEERS else text

    # --- computing -----------------------------------------------------------------------------

    def refresh(self) -> None:
        from diagkit.metrics import compute

        since, until = self.period()
        if until <= since:
            self.state.setText("The period ends before it starts: pick a later end date.")
            return
        engineer, store, now = self.engineer(), self.store, self._now()
        if self._worker is not None:
            self._worker.cancel()
        self._seq += 1
        seq = self._seq
        self.state.setText("Computing…")

        def job() -> Any:
            from diagkit.cases.desk import load_policies

            # The team's sla.json, as `diagkit metrics` reads it (ConfigError shows inline).
            return compute(store, since=since, until=until, engineer=engineer,
                           policies=load_policies(), now=now)

        self._worker = run_in_background(
            job, on_done=lambda report: self._computed(seq, report),
            on_error=lambda error: self._failed(seq, error), owner=self)

    def _computed(self, seq: int, report: Any) -> None:
        if seq != self._seq:
            return
        self._worker = None
        self.report = report
        self.csv_button.setEnabled(True)
        since, until = self.period()
        who = self.engineer() or "all engineers"
        self.state.setText(f"{since.astimezone():%Y-%m-%d %H:%M} – {until.astimezone():%Y-%m-%d %H:%M}, "
                           f"{who}.")
        _fill(self.figures, figure_rows(report))
        self._show_engineers(report)
        self._show_series(report)
        self.computed.emit(report)

    def _failed(self, seq: int, error: BaseException) -> None:
        if seq != self._seq:
            return
        self._worker = None
        message = str(error) if isinstance(error, DiagkitError) else (
            f"Metrics could not be computed ({type(error).__name__}: {error}).")
        self.state.setText(message)
        self.failed.emit(message)

    def _show_engineers(self, report: Any) -> None:
        rows = []
        per_engineer = report.per_engineer or {}
        for name in sorted(per_engineer):
            row = per_engineer[name]
            rows.append((name or "(nobody)", str(_field(row, "opened", "")),
                         str(_field(row, "resolved", "")),
                         duration_text(_field(row, "frt_median")),
                         duration_text(_field(row, "ttr_median")),
                         str(_field(row, "backlog", ""))))
        _fill(self.engineers, rows)
        current = self.engineer_box.currentText()
        self.engineer_box.blockSignals(True)
        self.engineer_box.clear()
        self.engineer_box.addItem(ALL_ENGINEERS)
        self.engineer_box.addItems([n for n in sorted(per_engineer) if n])
        self.engineer_box.setCurrentText(current)
        self.engineer_box.blockSignals(False)

    def _show_series(self, report: Any) -> None:
        points = list(report.series or ())
        x = np.array([_bucket_epoch(p) for p in points], dtype=float)
        for name, curve in self.curves.items():
            curve.setData(x, np.array([float(_field(p, name, 0) or 0) for p in points]))
        if len(x):
            self.plot.setXRange(x[0], x[-1], padding=0.03)
            self.plot.enableAutoRange(axis="y")

    # --- export --------------------------------------------------------------------------------

    def ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics as CSV", "metrics.csv",
                                              "CSV files (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str | Path) -> Path | None:
        """Write the report shown now as CSV (the same CSV as ``diagkit metrics --csv``)."""
        if self.report is None:
            return None
        target = Path(path)
        try:
            target.write_text(self.report.to_csv(), encoding="utf-8", newline="")
        except OSError as exc:
            self.state.setText(f"Cannot write {target}: {exc.strerror or exc}. Pick another folder.")
            return None
        self.state.setText(f"Exported the metrics to {target}.")
        return target


def _bucket_epoch(point: object) -> float:
    start = _field(point, "start", None)
    if start is None and isinstance(point, tuple | list):
        start = point[0]
    if isinstance(start, datetime):
        return start.timestamp()
    return float(start or 0)


def _table(columns: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c > 0 and table.columnCount() > 2:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
