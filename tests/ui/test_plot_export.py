"""PNG rendering of plots for bug-report bundles (offscreen Qt, real pyqtgraph)."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
from PySide6.QtGui import QImage

from diagkit.monitor.live import SeriesBuffer
from diagkit.ui.plot_export import plots_from_buffer, render_plot_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
T0 = 1_773_480_000.0


def _series(n: int = 120) -> dict[str, tuple[list[float], list[float]]]:
    t = [T0 + 2 * i for i in range(n)]
    return {"CPU busy": (t, [50 + 40 * math.sin(i / 7) for i in range(n)]),
            "CPU iowait": (t, [float("nan") if i % 30 == 0 else 3.0 for i in range(n)])}


def _size(png: bytes) -> tuple[int, int]:
    image = QImage.fromData(png)
    assert not image.isNull()
    return image.width(), image.height()


def test_png_has_magic_and_requested_size(qapp) -> None:
    png = render_plot_png("CPU — db-01 (Größe)", _series(), unit="%", width=640, height=240)
    assert png.startswith(PNG_MAGIC)
    assert _size(png) == (640, 240)
    assert len(png) > 2000  # axes, legend and curves, not a blank canvas


def test_works_twice_in_a_row_and_with_odd_input(qapp) -> None:
    first = render_plot_png("one", _series(), unit="%")
    second = render_plot_png("two", _series(), unit="%")
    assert first.startswith(PNG_MAGIC) and second.startswith(PNG_MAGIC)
    assert _size(first) == _size(second) == (900, 300)
    empty = render_plot_png("nothing yet", {})
    flat = render_plot_png("zeros", {"rx": ([T0, T0 + 1], [0.0, 0.0])}, unit="B/s")
    assert empty.startswith(PNG_MAGIC) and flat.startswith(PNG_MAGIC)


def test_plots_from_buffer_one_image_per_group(qapp) -> None:
    buffer = SeriesBuffer()
    t = T0 + np.arange(50, dtype=float)
    buffer.extend(t, {"cpu.usage": np.linspace(0, 100, 50), "mem.used": np.full(50, 42.0),
                      "net.rx": np.linspace(0, 1e6, 50)})
    plots = plots_from_buffer(buffer, title_prefix="db-01: ")
    assert [p.name for p in plots] == ["cpu", "memory", "network"]  # all-NaN groups left out
    assert plots[0].title == "db-01: CPU"
    assert all(p.png.startswith(PNG_MAGIC) for p in plots)
    assert plots_from_buffer(SeriesBuffer()) == []


def test_without_any_qapplication_or_display(tmp_path) -> None:
    """A fresh process with no QApplication and no DISPLAY: the module makes its own."""
    out = tmp_path / "plot.png"
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    code = ("import sys; from diagkit.ui.plot_export import render_plot_png; "
            "open(sys.argv[1], 'wb').write(render_plot_png('t', {'a': ([1.0, 2.0], [1.0, 3.0])}))")
    subprocess.run([sys.executable, "-c", code, str(out)], env=env, check=True, timeout=60)
    assert out.read_bytes().startswith(PNG_MAGIC)
