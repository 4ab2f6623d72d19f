"""Live, History and Metrics plots as an engineer reads them (issue 17, items 8 and 10): an empty
state instead of made-up clock times, see-through legends, titles that do not collide, one binary
unit spelling, gaps across outages, the desktop theme, whole-number case counts."""

from __future__ import annotations

import itertools
import time

import numpy as np
from PySide6.QtGui import QColor, QPalette
from pytestqt.qtbot import QtBot

from diagkit.monitor.live import LiveSample
from diagkit.store.sqlite import SqliteSampleStore
from diagkit.transport.local import LocalTransport
from diagkit.ui.plots_view import BinaryRateAxis, ClockAxis, CountAxis, PlotsView, with_gaps


def _feed(view: PlotsView, start: float, seconds: range, step: float = 2.0) -> None:
    for n in seconds:
        view.buffer.append(LiveSample(start + n * step, {
            "cpu.usage": 20.0 + n % 7, "load.1": 1.5, "mem.used": 40.0, "swap.used": 1.0,
            "swap.in": 0.0, "swap.out": 0.0, "disk.read": 3.5 * 1024**2, "disk.write": 1024.0**2,
            "net.rx": 800 * 1024.0, "net.tx": 200 * 1024.0}))
    view._redraw()


def test_empty_live_plots_say_so_instead_of_clock_labels(qtbot: QtBot) -> None:
    view = PlotsView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    assert view.empty.isVisible() and not view.glw.isVisible()
    assert "No samples yet" in view.empty.text()
    # even drawn, an axis near the epoch (no data) shows no "00:00:00"
    assert not "".join(ClockAxis().tickStrings([0.0, 10.0, 20.0], 1.0, 10.0)).strip()


def test_first_real_sample_shows_the_plots(qtbot: QtBot) -> None:
    view = PlotsView()
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(view.sample_added, timeout=20000):
        view.set_transport(LocalTransport())
    view.shutdown()
    assert view.glw.isVisible() and not view.empty.isVisible()


def test_legends_are_see_through(qtbot: QtBot) -> None:
    view = PlotsView()
    qtbot.addWidget(view)
    for legend in view._legends:
        assert legend.brush().color().alpha() < 200


def test_axis_titles_do_not_collide_at_the_default_size(qtbot: QtBot) -> None:
    view = PlotsView()
    qtbot.addWidget(view)
    view.resize(1040, 640)  # the plots' share of a 1280x820 window
    view.show()
    _feed(view, time.time() - 120, range(60))
    qtbot.wait(100)
    rects = [p.getAxis("left").label.mapRectToScene(p.getAxis("left").label.boundingRect())
             for p in view.plots]
    for upper, lower in itertools.pairwise(rects):
        assert upper.bottom() <= lower.top() + 1, (upper, lower)


def test_byte_rates_in_binary_units_like_the_dashboard(qtbot: QtBot) -> None:
    axis = BinaryRateAxis("Disk")
    ticks = axis.tickStrings([0.0, 2 * 1024**2, 4 * 1024**2], 1.0, 2 * 1024**2)
    assert ticks == ["0", "2", "4"] and "(MiB/s)" in axis.labelText
    view = PlotsView()
    qtbot.addWidget(view)
    _feed(view, time.time() - 20, range(10))
    assert "3.5 MiB/s" in view.readout_at(time.time())
    assert "MB/s" not in view.readout_at(time.time())


def test_an_outage_is_a_gap_in_every_curve(qtbot: QtBot) -> None:
    t = np.array([0.0, 2.0, 4.0, 44.0, 46.0])
    y = np.ones((2, 5))
    tg, yg = with_gaps(t, y, 5.0)
    assert len(tg) == 6 and np.isnan(yg[:, 3]).all() and 4.0 < tg[3] < 44.0
    view = PlotsView()
    qtbot.addWidget(view)
    start = time.time() - 200
    _feed(view, start, range(0, 10))
    _feed(view, start, range(30, 40))  # 40 s without samples
    _x, load = view.curves["load.1"].getData()
    assert np.isnan(load).sum() == 1  # the line breaks once, across the outage


def test_history_plot_follows_the_light_theme(qtbot: QtBot, tmp_path) -> None:
    from diagkit.ui.history_view import HistoryView

    store = SqliteSampleStore(tmp_path / "history.db")
    view = HistoryView(store)
    qtbot.addWidget(view)
    base = view.palette().color(QPalette.ColorRole.Base)
    assert view.plot.backgroundBrush().color() == base
    assert base.lightness() > 128 and view.plot.backgroundBrush().color() != QColor("black")
    dark = QPalette(view.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    view.setPalette(dark)
    assert view.plot.backgroundBrush().color() == QColor("#1e1e1e")
    store.close()


def test_case_counts_step_in_whole_numbers() -> None:
    axis = CountAxis("left")
    for low, high in ((0.0, 3.0), (0.0, 1.0), (0.0, 40.0)):
        assert all(spacing >= 1 for spacing, _ in axis.tickSpacing(low, high, 300))
    assert axis.tickStrings([0.0, 1.0, 2.0], 1.0, 1.0) == ["0", "1", "2"]


def test_byte_rate_ticks_are_round_in_the_shown_unit() -> None:
    axis = BinaryRateAxis("Disk")
    levels = axis.tickSpacing(0.0, 300 * 1024**2, 120)
    assert all((spacing / 1024**2) == round(spacing / 1024**2) for spacing, _ in levels[:1])


def test_history_time_axis_shows_its_times_after_an_empty_start(qtbot: QtBot, tmp_path) -> None:
    from diagkit.ui.history_view import HistoryView
    from tests.ui.test_history_view import seeded

    view = HistoryView(seeded(tmp_path))
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.host.count() == 2, timeout=10000)
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.load()
    qtbot.wait(100)
    axis = view.plot.getAxis("bottom")
    assert axis.height() >= view.fontMetrics().height()
    ticks = axis.tickStrings([time.time() - 3600, time.time()], 1.0, 1800.0)
    assert all(":" in t for t in ticks)


def test_byte_rate_title_and_ticks_agree() -> None:
    axis = BinaryRateAxis("Net")
    axis.tickSpacing(0.0, 1024.0, 100)
    ticks = axis.tickStrings([0.0, 512.0, 819.2], 1.0, 204.8)
    assert "(KiB/s)" in axis.labelText and ticks[1] == "0.5"
