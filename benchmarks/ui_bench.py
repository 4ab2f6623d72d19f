"""Hand-run UI benchmarks. Prints figures and ratios against an in-run reference.

    python benchmarks/ui_bench.py

Plot redraw: a PlotsView holding 24 h of 1 s samples (86,400 points) for 6 series, shown
offscreen (or on the real display when DISPLAY is set); each frame pans the x range a little and
forces a paint with ``grab()``. The reference is the same view with downsampling and
clip-to-view turned off. Target: under 30 ms per frame.

Start-up: wall time from starting the process (``python -m diagkit``, empty config) to the main
window shown (the app prints a line from the first event-loop turn after ``show()`` when
DIAGKIT_EXIT_WHEN_SHOWN is set, then quits). The reference is a bare PySide6 QMainWindow started
the same way in the same run. Target: under 1.5 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtWidgets import QApplication

POINTS = 86_400
FRAMES = 30
BENCH_SERIES = ("cpu.usage", "cpu.iowait", "mem.used", "load.1", "disk.read", "net.rx")


def _filled_view(app: QApplication, *, fast: bool):  # -> PlotsView
    from diagkit.ui.plots_view import PlotsView

    view = PlotsView()
    view.resize(1280, 1000)
    rng = np.random.default_rng(7)
    t = time.time() - POINTS + np.arange(POINTS, dtype=np.float64)
    walk = lambda scale: np.abs(np.cumsum(rng.normal(0, scale, POINTS)))
    columns = {
        "cpu.usage": np.clip(30 + 20 * np.sin(np.arange(POINTS) / 600) + rng.normal(0, 5, POINTS), 0, 100),
        "cpu.iowait": np.clip(rng.exponential(2, POINTS), 0, 100),
        "mem.used": np.clip(40 + walk(0.05), 0, 100),
        "load.1": walk(0.02),
        "disk.read": rng.exponential(2e6, POINTS),
        "net.rx": rng.exponential(5e5, POINTS),
    }
    view.buffer.extend(t, columns)
    if not fast:
        for plot in view.plots:
            plot.setDownsampling(auto=False, ds=1)
            plot.setClipToView(False)
    view.window_box.setCurrentIndex(view.window_box.count() - 1)  # "All": the worst case
    view._redraw()
    view.show()
    app.processEvents()
    view.grab()
    return view


def _frames(app: QApplication, view: object) -> list[float]:
    """Pan a 1 h view across the day; time each pan + paint."""
    plot = view.plots[0]
    t0 = float(view.buffer.times[0])
    out = []
    for i in range(FRAMES):
        start = t0 + i * 600.0
        began = time.perf_counter()
        plot.setXRange(start, start + 3600, padding=0)
        app.processEvents()
        view.grab()
        out.append(time.perf_counter() - began)
    # ... and the whole day at once
    return out


def bench_plot_redraw() -> dict[str, float]:
    """Median ms per redraw frame with and without downsampling/clip-to-view."""
    app = QApplication.instance() or QApplication([])
    fast = _filled_view(app, fast=True)
    fast_ms = statistics.median(_frames(app, fast)) * 1000
    fast.plots[0].enableAutoRange(axis="x")
    began = time.perf_counter()
    app.processEvents()
    fast.grab()
    fast_full_ms = (time.perf_counter() - began) * 1000
    fast.close()
    slow = _filled_view(app, fast=False)
    slow_ms = statistics.median(_frames(app, slow)) * 1000
    slow.close()
    return {
        "points_per_series": POINTS,
        "series": len(BENCH_SERIES),
        "frame_ms_median": fast_ms,
        "frame_ms_whole_day": fast_full_ms,
        "reference_frame_ms_no_downsampling": slow_ms,
        "speedup": slow_ms / fast_ms if fast_ms else float("inf"),
        "target_ms": 30.0,
    }


STARTS = 7
BARE_WINDOW = """
import os, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow()
w.resize(1280, 820)
w.show()
def shown():
    print(f"diagkit-shown {time.time():.6f}", flush=True)
    app.quit()
QTimer.singleShot(0, shown)
app.exec()
"""


def _time_to_shown(argv: list[str], env: dict[str, str]) -> float:
    import subprocess

    started = time.time()
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("diagkit-shown "):
            return float(line.split()[1]) - started
    raise SystemExit(f"{argv} never showed its window: {out.stderr[-1500:]}")


def bench_startup() -> dict[str, float]:
    import tempfile

    work = tempfile.mkdtemp(prefix="diagkit-ui-bench-")
    env = {**os.environ, "DIAGKIT_CONFIG_DIR": f"{work}/config", "DIAGKIT_DATA_DIR": f"{work}/data",
           "DIAGKIT_EXIT_WHEN_SHOWN": "1"}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    _time_to_shown([sys.executable, "-m", "diagkit"], env)  # warm the page cache
    ours = [_time_to_shown([sys.executable, "-m", "diagkit"], env) for _ in range(STARTS)]
    bare = [_time_to_shown([sys.executable, "-c", BARE_WINDOW], env) for _ in range(STARTS)]
    return {"startup_s": statistics.median(ours), "bare_qt_s": statistics.median(bare),
            "target_s": 1.5}


def main() -> None:
    platform = os.environ.get("QT_QPA_PLATFORM") or "display " + os.environ.get("DISPLAY", "")
    s = bench_startup()
    print(f"start-up to main window shown ({platform}, median of {STARTS}):")
    print(f"  diagkit                     : {s['startup_s']:7.3f} s (target < {s['target_s']} s) "
          f"{'OK' if s['startup_s'] < s['target_s'] else 'SLOW'}")
    print(f"  reference: bare Qt window   : {s['bare_qt_s']:7.3f} s")
    print(f"  ratio diagkit / bare        : {s['startup_s'] / s['bare_qt_s']:7.2f}x")
    r = bench_plot_redraw()
    print(f"plot redraw ({r['series']} series x {r['points_per_series']:,} points, {platform}):")
    print(f"  downsampled + clip-to-view : {r['frame_ms_median']:7.1f} ms/frame (median of "
          f"{FRAMES}; target < {r['target_ms']:.0f} ms) "
          f"{'OK' if r['frame_ms_median'] < r['target_ms'] else 'SLOW'}")
    print(f"  whole day in view           : {r['frame_ms_whole_day']:7.1f} ms (one frame)")
    print(f"  reference (both off)        : {r['reference_frame_ms_no_downsampling']:7.1f} ms/frame")
    print(f"  ratio reference / ours      : {r['speedup']:7.1f}x")


if __name__ == "__main__":
    main()
