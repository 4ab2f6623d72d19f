"""Plots rendered to PNG bytes without a screen, for bug-report bundles.

The core never imports Qt, so the bundle model carries plots as PNG bytes
(:class:`~diagkit.reports.model.PlotImage`); this module makes them. It works with or without a
running app: when no ``QApplication`` exists yet (CLI, tests, a worker script) one is created, on
the ``offscreen`` platform when nothing else is set and there is no display to talk to.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from diagkit.monitor.live import SeriesBuffer
    from diagkit.reports.model import PlotImage

# Kept so the QApplication we create is not garbage-collected between calls.
_APP: Any = None


def _ensure_app() -> Any:
    """The running QApplication, or a new one (offscreen when there is no display)."""
    global _APP
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if (not os.environ.get("QT_QPA_PLATFORM") and headless
            and sys.platform not in ("win32", "darwin")):
        # Set before Qt is imported/initialised: without a display the xcb plugin aborts.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "diagkit"])
        _APP = app
    return app


def render_plot_png(
    title: str,
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    *,
    unit: str = "",
    width: int = 900,
    height: int = 300,
) -> bytes:
    """One plot as PNG bytes: ``series`` maps a legend label to ``(x, y)``, x in epoch seconds.

    The bottom axis shows wall-clock times; NaN values leave gaps. White background and dark
    text, so the image reads well on screen and on paper.
    """
    _ensure_app()
    import numpy as np
    import pyqtgraph as pg
    import pyqtgraph.exporters
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt

    from diagkit.ui.plots_view import PALETTE, BinaryRateAxis, ClockAxis

    ink, muted = "#1f2328", "#59636e"
    glw = pg.GraphicsLayoutWidget()
    try:
        glw.setBackground("w")
        # Laid out as if shown, but never on screen (a hidden widget is not laid out at all,
        # and the export would come out at the default size with the title cut off).
        glw.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        glw.resize(width, height)
        axes = {"bottom": ClockAxis()}
        if unit == "B/s":  # KiB/s, MiB/s: the dashboard's spelling, not decimal MB/s
            axes["left"] = BinaryRateAxis("")
        plot = glw.addPlot(axisItems=axes)
        plot.setTitle(title, color=ink, size="11pt")
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setMenuEnabled(False)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(muted))
            axis.setTextPen(pg.mkPen(ink))
        if unit != "B/s":
            plot.setLabel("left", "", units=unit or None)
            plot.getAxis("left").enableAutoSIPrefix(False)
        if series:
            legend = plot.addLegend(offset=(6, 4), colCount=min(len(series), 4))
            legend.setLabelTextColor(ink)
            legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        y_max = 0.0
        for i, (label, (xs, ys)) in enumerate(series.items()):
            x = np.asarray(xs, dtype=float)
            y = np.asarray(ys, dtype=float)
            finite = y[np.isfinite(y)]
            if finite.size:
                y_max = max(y_max, float(finite.max()))
            plot.plot(x, y, name=label, connect="finite",
                      pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=2))
        if unit == "%":
            plot.setYRange(0, 100, padding=0.02)
        elif y_max <= 0 or not math.isfinite(y_max):
            plot.setYRange(0, 1, padding=0)  # flat zero line: no zoom into float noise
        else:
            plot.setYRange(0, y_max * 1.08, padding=0)
        glw.show()
        app = _ensure_app()
        app.processEvents()
        # The whole layout fills the widget, so its natural size is exactly width x height
        # (setting the exporter's width and height would fight its aspect-ratio lock).
        exporter = pg.exporters.ImageExporter(glw.ci)
        image = exporter.export(toBytes=True)
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())
    finally:
        glw.close()
        glw.deleteLater()


def plots_from_buffer(buffer: SeriesBuffer, *, title_prefix: str = "", width: int = 900,
                      height: int = 260) -> list[PlotImage]:
    """One :class:`PlotImage` per plot group (CPU, memory, disk, network...) of a live buffer.

    Groups with no finite value at all are left out; an empty buffer gives an empty list.
    """
    import numpy as np

    from diagkit.monitor.live import GROUP_TITLES, SERIES_BY_KEY
    from diagkit.reports.model import PlotImage

    if len(buffer) == 0:
        return []
    groups: dict[str, dict[str, tuple[Sequence[float], Sequence[float]]]] = {}
    units: dict[str, str] = {}
    for key in buffer.keys:
        spec = SERIES_BY_KEY.get(key)
        group = spec.group if spec else "other"
        t, y = buffer.series(key)
        if not np.isfinite(y).any():
            continue
        groups.setdefault(group, {})[spec.label if spec else key] = (t.copy(), y.copy())
        units.setdefault(group, spec.unit if spec else "")
    out = []
    for group, series in groups.items():
        title = f"{title_prefix}{GROUP_TITLES.get(group, group)}"
        png = render_plot_png(title, series, unit=units[group], width=width, height=height)
        out.append(PlotImage(name=group, title=title, png=png))
    return out
