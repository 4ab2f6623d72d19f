"""The Terminal tab under a flood of output. Run by hand (offscreen Qt, this machine's shell):

    python benchmarks/terminal_bench.py [--lines 50000]

Prints, all measured in this one run:
  * emulator throughput: diagkit's TerminalScreen (pyte's HistoryScreen with scrollback and the
    alternate screen) against plain ``pyte.Screen`` on the same bytes (target: at most 1.3x
    slower: the scrollback must not cost what HistoryScreen's per-event hooks cost, ~6x);
  * the whole tab: ``seq 1 N`` typed into a local shell until the last number is on screen,
    next to the same ``seq`` into /dev/null (the floor: shell and pty alone);
  * how responsive the window stays meanwhile: the longest gap between ticks of a 10 ms timer
    (target: under 150 ms; the emulator is fed in 30 ms slices).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyte
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from diagkit.transport.local import LocalTransport
from diagkit.ui.terminal_screen import TerminalScreen
from diagkit.ui.terminal_view import TerminalView


def emulator(lines: int) -> tuple[float, float]:
    data = b"".join(b"\x1b[32m%d\x1b[0m some text after it\r\n" % i for i in range(lines))
    timings = []
    for screen in (TerminalScreen(120, 40), pyte.Screen(120, 40)):
        stream = pyte.ByteStream(screen)
        started = time.perf_counter()
        stream.feed(data)
        timings.append(time.perf_counter() - started)
    return timings[0], timings[1]


def whole_tab(app: QApplication, lines: int) -> tuple[float, float, float]:
    view = TerminalView("local")
    view.resize(1000, 700)
    view.show()
    view.set_transport(LocalTransport())
    view.activate()
    deadline = time.monotonic() + 20
    while view.session is None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    gaps = [0.0]
    last = [time.monotonic()]

    def tick() -> None:
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    term = view.term
    target = str(lines)
    QTest.keyClicks(term, f"seq 1 {lines}\r")
    started = time.monotonic()
    last[0] = started
    while time.monotonic() - started < 600:
        app.processEvents()
        screen = term.screen
        if any(screen.text_of(screen.buffer[y]) == target for y in range(screen.lines)):
            break
        time.sleep(0.001)
    took = time.monotonic() - started
    timer.stop()
    view.shutdown()
    floor_started = time.monotonic()
    subprocess.run(["sh", "-c", f"seq 1 {lines} > /dev/null"], check=True)
    floor = time.monotonic() - floor_started
    return took, floor, max(gaps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=50_000)
    args = parser.parse_args()
    app = QApplication([])
    ours, plain = emulator(args.lines)
    print(f"emulator, {args.lines} coloured lines: TerminalScreen {ours:.2f} s, pyte.Screen "
          f"{plain:.2f} s, ratio {ours / plain:.2f} (target <= 1.3)")
    took, floor, worst = whole_tab(app, args.lines)
    print(f"tab: seq 1 {args.lines} on screen in {took:.2f} s (into /dev/null: {floor:.3f} s); "
          f"longest event-loop gap {worst * 1000:.0f} ms (target < 150 ms)")


if __name__ == "__main__":
    main()
