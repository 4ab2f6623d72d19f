"""History view over a real history file: resolution per window, band for aggregates, CSV."""

from __future__ import annotations

import csv
import time

import numpy as np
from pytestqt.qtbot import QtBot

from diagkit.store.sqlite import SqliteSampleStore
from diagkit.ui import history_view
from diagkit.ui.history_view import HistoryView


def seeded(tmp_path) -> SqliteSampleStore:
    store = SqliteSampleStore(tmp_path / "history.db")
    now = time.time()
    t = now - 2 * 86400 + np.arange(0, 2 * 86400, 60.0)   # two days, a sample a minute
    store.append(("db1", float(ti), {"cpu.usage": 50 + 40 * np.sin(i / 30),
                                     "disk.used:/var": 60 + i / 1000})
                 for i, ti in enumerate(t))
    store.append([("web1", now - 10, {"mem.used": 42.0})])
    return store


def test_windows_pick_the_resolution_and_export(qtbot: QtBot, tmp_path, monkeypatch) -> None:
    store = seeded(tmp_path)
    view = HistoryView(store)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.host.count() == 2, timeout=10000)
    assert [view.host.itemText(i) for i in range(view.host.count())] == ["db1", "web1"]
    assert view.metrics.item(0).text() == "CPU busy (%)"
    assert view.metrics.item(1).text() == "Disk used /var (%)"

    # The default window (6 h) is inside the raw retention: every sample.
    with qtbot.waitSignal(view.loaded, timeout=10000) as got:
        view.load()
    (cpu,) = got.args[0]
    # One sample a minute over the last 6 h: 360, or 359 when the read starts a moment after
    # the seeding and the oldest one falls just outside.
    assert cpu.metric == "cpu.usage" and cpu.resolution == "raw" and len(cpu) in (359, 360)
    assert "every sample" in view.status.text()

    with qtbot.waitSignal(view.loaded, timeout=10000) as got:
        view.window.setCurrentIndex(4)                       # last 7 days -> per minute
    assert got.args[0][0].resolution == "1m"
    assert "per-minute min/avg/max" in view.status.text()

    with qtbot.waitSignal(view.loaded, timeout=10000) as got:
        view.show_series("db1", ["cpu.usage", "disk.used:*"])
    assert [d.metric for d in got.args[0]] == ["cpu.usage", "disk.used:/var"]

    out = tmp_path / "export.csv"
    monkeypatch.setattr(history_view, "ask_csv_path", lambda parent, suggested: str(out))
    view.export_button.click()
    rows = list(csv.DictReader(out.open()))
    assert {r["metric"] for r in rows} == {"cpu.usage", "disk.used:/var"}
    assert len(rows) == sum(len(d) for d in view.data)
    assert "Exported to" in view.status.text()
    assert view.export_csv(tmp_path / "missing-dir" / "x.csv") is None
    assert "Could not write" in view.status.text()
    store.close()


def test_empty_history_says_how_to_fill_it(qtbot: QtBot, tmp_path) -> None:
    with SqliteSampleStore(tmp_path / "empty.db") as store:
        view = HistoryView(store)
        qtbot.addWidget(view)
        qtbot.waitUntil(lambda: "watch hosts in the Fleet tab" in view.status.text(),
                        timeout=10000)
