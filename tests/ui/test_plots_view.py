"""Live plots, offscreen, with real transports (local and a real sshd) and real workers."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from diagkit.monitor.live import SERIES, LiveSample
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from diagkit.ui.plots_view import PlotsView
from tests.sshd_fixture import SshClientEnv


def _view(qtbot: QtBot, interval: int = 1) -> PlotsView:
    view = PlotsView()
    qtbot.addWidget(view)
    view.resize(1000, 900)
    view.show()
    view.interval.setValue(interval)
    return view


def _wait_samples(qtbot: QtBot, view: PlotsView, n: int, timeout: int = 15000) -> None:
    qtbot.waitUntil(lambda: view.samples_taken >= n, timeout=timeout)


def test_local_samples_fill_the_curves(qtbot: QtBot, tmp_path: Path) -> None:
    view = _view(qtbot)
    with LocalTransport() as transport:
        with qtbot.waitSignal(view.sample_added, timeout=15000) as blocker:
            view.set_transport(transport)
        assert isinstance(blocker.args[0], LiveSample)
        _wait_samples(qtbot, view, 3)
        view.pause_button.setChecked(True)
        qtbot.waitUntil(lambda: not view.sampling_in_flight, timeout=15000)
        _t, y = view.curves["cpu.usage"].getData()
        assert y is not None and len(y) >= 3
        assert all(0 <= v <= 100 for v in y[1:])
        assert len(view.curves["mem.used"].getData()[1]) == len(view.buffer)
        # crosshair readout names the clock time and values
        last = float(view.buffer.times[-1])
        view.set_crosshair(last)
        assert time.strftime("%H:%M:%S", time.localtime(last)) in view.readout.text()
        assert "CPU busy" in view.readout.text() and "Memory used" in view.readout.text()

        png = view.export_png(tmp_path / "live.png")
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
        rows = list(csv.reader(view.export_csv(tmp_path / "live.csv").open(newline="")))
        assert rows[0][:3] == ["time", "epoch", "cpu.usage [%]"]
        assert len(rows) == 1 + len(view.buffer) and len(rows[0]) == 2 + len(SERIES)
        view.shutdown()


def test_pause_stops_and_resume_restarts(qtbot: QtBot) -> None:
    view = _view(qtbot)
    with LocalTransport() as transport:
        view.set_transport(transport)
        _wait_samples(qtbot, view, 1)
        view.pause_button.setChecked(True)
        assert view.pause_button.text() == "Resume"
        qtbot.waitUntil(lambda: not view.sampling_in_flight, timeout=15000)
        count = view.samples_taken
        qtbot.wait(2500)  # more than two intervals
        assert view.samples_taken == count and not view.timer.isActive()
        view.pause_button.setChecked(False)
        _wait_samples(qtbot, view, count + 1)
        view.shutdown()


def test_interval_change_takes_effect(qtbot: QtBot) -> None:
    view = _view(qtbot, interval=60)
    with LocalTransport() as transport:
        view.set_transport(transport)
        _wait_samples(qtbot, view, 1)  # the first sample comes at once
        assert view.timer.interval() == 60_000
        view.interval.setValue(1)
        assert view.timer.interval() == 1000 and view.timer.isActive()
        _wait_samples(qtbot, view, 3, timeout=10000)  # at 60 s this would take two minutes
        view.shutdown()


def test_failing_command_shows_message_and_keeps_trying(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    view = _view(qtbot)
    monkeypatch.setenv("PATH", str(tmp_path))  # `sh` cannot be found: a real failing command
    with LocalTransport() as transport:
        with qtbot.waitSignal(view.sampling_failed, timeout=15000) as blocker:
            view.set_transport(transport)
        assert "Live sampling on local failed" in blocker.args[0]
        assert "Live sampling on local failed" in view.state.text()
        assert "Retrying every 1 s" in view.state.text()
        with qtbot.waitSignal(view.sampling_failed, timeout=15000):
            pass  # it tried again
        monkeypatch.undo()
        with qtbot.waitSignal(view.sample_added, timeout=15000):
            pass
        assert "again since" in view.state.text()
        view.shutdown()


def test_disconnect_keeps_data(qtbot: QtBot) -> None:
    view = _view(qtbot)
    with LocalTransport() as transport:
        view.set_transport(transport)
        _wait_samples(qtbot, view, 2)
    view.set_transport(None)
    kept = len(view.buffer)
    qtbot.wait(1500)
    assert len(view.buffer) == kept and not view.timer.isActive()
    assert len(view.curves["mem.used"].getData()[1]) == kept
    assert "Disconnected" in view.state.text()


def test_shutdown_with_sample_in_flight(qtbot: QtBot, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # A `sh` that hangs: the sample is surely in flight when the tab closes.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sh").write_text("#!/bin/sleep 30\n")
    (fake / "sh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:/usr/bin:/bin")
    view = _view(qtbot)
    with LocalTransport() as transport:
        view.set_transport(transport)
        assert view.sampling_in_flight
        worker = view._worker
        qtbot.wait(300)
        started = time.monotonic()
        view.shutdown()
        assert time.monotonic() - started < 5
        assert worker is not None and worker.done.is_set()
        assert not view.sampling_in_flight and not view.timer.isActive()
        received: list[object] = []
        view.sample_added.connect(received.append)
        view.sampling_failed.connect(received.append)
        qtbot.wait(500)
        assert received == []


def test_ssh_samples_arrive(qtbot: QtBot, ssh_client_env: SshClientEnv) -> None:
    view = _view(qtbot)
    with SshTransport.connect(SshTarget(ssh_client_env.alias)) as transport:
        view.set_transport(transport)
        _wait_samples(qtbot, view, 2, timeout=20000)
        view.shutdown()
    values = view.buffer.nearest(float(view.buffer.times[-1]))[1]
    assert 0 <= values["cpu.usage"] <= 100 and values["net.rx"] >= 0
