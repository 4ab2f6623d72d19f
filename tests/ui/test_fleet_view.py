"""Fleet view with real watcher threads on the local machine (and a host that refuses)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from diagkit.errors import ConnectionRefused
from diagkit.monitor.thresholds import AlertTracker, Level, Threshold
from diagkit.transport.local import LocalTransport
from diagkit.ui.fleet_view import ROLE_LEVEL, ROLE_SPARK, FleetView


def connect(name: str) -> LocalTransport:
    if name == "dead":
        raise ConnectionRefused("Connection to dead refused. Check the address.", host=name)
    return LocalTransport()


def test_fleet_rows_alerts_and_acknowledge(qtbot: QtBot) -> None:
    notes: list[tuple[str, str]] = []
    # Any machine has more than one process: "hot" alerts at once, "calm" never does.
    tracker = AlertTracker([Threshold("procs.count", warning=1, critical=2, host="hot",
                                      label="Processes")])
    view = FleetView(["calm", "dead", "hot"], interval=0.3, connect=connect, tracker=tracker,
                     notify=lambda title, text: notes.append((title, text)))
    qtbot.addWidget(view)
    view.show()
    assert view.summary.text().endswith("not watching")
    with qtbot.waitSignal(view.alert_raised, timeout=20000) as raised:
        view.start()
    assert raised.args[0].host == "hot" and raised.args[0].level == Level.CRITICAL

    def filled() -> bool:
        view.refresh()
        hosts = [view.table.item(r, 0).text() for r in range(view.table.rowCount())]
        return (hosts == ["hot", "dead", "calm"]
                and view.table.item(1, 1).text() == "DOWN"
                and len(view.table.item(2, 2).data(ROLE_SPARK) or []) >= 2)

    qtbot.waitUntil(filled, timeout=20000)
    assert "refused" in view.table.item(1, 1).toolTip()
    assert view.table.item(0, 7).data(ROLE_LEVEL) == Level.CRITICAL   # Processes column
    assert view.table.item(2, 7).data(ROLE_LEVEL) == Level.OK
    assert view.table.item(2, 2).text().endswith("%")                 # CPU once rates exist
    assert "1 down" in view.summary.text() and "1 active alert" in view.summary.text()
    assert notes and notes[0][0] == "diagkit: hot"

    alert_item = view.alerts.topLevelItem(0)
    assert alert_item.text(0) == "hot" and alert_item.text(1) == "Processes"
    alert_item.setSelected(True)
    assert view.ack_button.isEnabled()
    view.ack_button.click()
    assert view.alerts.topLevelItem(0).text(6) == "yes"

    with qtbot.waitSignal(view.open_host_requested) as opened:
        view.table.cellDoubleClicked.emit(0, 0)
    assert opened.args == ["hot"]
    with qtbot.waitSignal(view.history_requested) as history:
        view.table.cellDoubleClicked.emit(0, 3)
    assert history.args == ["hot", "load.per_core"]
    view.stop()
    assert not view.running and view.start_button.text() == "Start watching"
    view.refresh()
    assert view.table.item(0, 1).text() == "stopped"


def test_set_hosts_while_watching_restarts(qtbot: QtBot) -> None:
    view = FleetView(["a"], interval=0.3, connect=connect)
    qtbot.addWidget(view)
    view.start()
    view.set_hosts(["a", "b"])
    assert view.running

    def both() -> bool:
        view.refresh()
        return all(view.table.item(r, 1).text() == "up" for r in range(view.table.rowCount())) \
            and view.table.rowCount() == 2
    qtbot.waitUntil(both, timeout=20000)
    view.close()
    assert not view.running


def test_main_window_fleet_tab_watches_local_and_journals_forecast(qtbot: QtBot, tmp_path) -> None:
    from diagkit.probes.base import Finding, Severity
    from diagkit.ui import fleet_view
    from diagkit.ui.main_window import MainWindow

    win = MainWindow(restore=False, case_store_path=tmp_path / "cases.db")
    qtbot.addWidget(win)
    win.show()
    view = win.open_fleet(["local"])
    assert win.tabs.currentWidget() is view and view.running

    def sampled() -> bool:
        view.refresh()
        return view.table.item(0, 1).text() == "up" and bool(view.table.item(0, 4).text())
    qtbot.waitUntil(sampled, timeout=20000)

    # A forecast row (as update_forecasts would produce) goes into the active case on request.
    desk = win.case_desk()
    case = desk.open_case("Disk filling on web1", customer="ACME")
    win.set_active_case(case.id)
    view.forecasts = {"local": [Finding(Severity.WARNING, "The disk /var fills up in about 3 h",
                                        "detail", "hint", probe="forecast")]}
    view._dirty = True
    view.refresh()
    row = next(view.alerts.topLevelItem(i) for i in range(view.alerts.topLevelItemCount())
               if view.alerts.topLevelItem(i).data(0, fleet_view.ROLE_FORECAST))
    row.setSelected(True)
    assert view.case_button.isEnabled() and not view.ack_button.isEnabled()
    view.case_button.click()
    qtbot.waitUntil(lambda: any(e.kind == "finding" for e in desk.store.journal(case.id)),
                    timeout=10000)
    entry = next(e for e in desk.store.journal(case.id) if e.kind == "finding")
    assert entry.data["host"] == "local" and "fills up" in entry.text

    win.close_tab(win.tabs.indexOf(view))
    assert not view.running
    win.close()


def test_dashboard_shows_forecasts_from_the_history(qtbot: QtBot) -> None:
    import time

    import numpy as np

    from diagkit.store.sqlite import SqliteSampleStore
    from diagkit.ui.main_window import MainWindow

    now = time.time()
    t = now - 3600 + np.arange(0, 3600, 60.0)
    with SqliteSampleStore() as samples:   # the isolated data dir's history.db
        samples.append(("local", float(ti), {"disk.used:/srv": 80 + 5 * i / 60})
                       for i, ti in enumerate(t))
    win = MainWindow(restore=False)
    qtbot.addWidget(win)
    view = win.open_host("local", connect=False)
    with qtbot.waitSignal(view.snapshot_ready, timeout=60000):
        view.start()

    def forecast_shown() -> bool:
        tree = view.dashboard.findings
        return any("The disk /srv fills up" in tree.topLevelItem(i).text(1)
                   for i in range(tree.topLevelItemCount()))
    qtbot.waitUntil(forecast_shown, timeout=10000)

    # ... and can go into a bug report with the probe findings.
    from diagkit.ui.bundle_wizard import BundleWizard

    wizard = BundleWizard([view])
    qtbot.addWidget(wizard)
    bundle = wizard.bundle()
    assert any(f.probe == "forecast" and "/srv" in f.title for f in bundle.findings)
    win.close()


def test_alert_of_an_unmounted_filesystem_clears(qtbot: QtBot, tmp_path) -> None:
    """Issue 17 item 7, with a real fault: a full filesystem is mounted, alerts critical, is
    unmounted; the alert clears and the disk cell is no longer red next to the current value."""
    import subprocess

    mount = tmp_path / "full"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "diagkit-full", str(mount)],
                   check=True)
    try:
        subprocess.run(["dd", "if=/dev/zero", f"of={mount}/fill", "bs=64k"],
                       check=False, capture_output=True)  # until ENOSPC: 100 % used
        metric = f"disk.used:{mount}"
        view = FleetView(["local"], interval=0.3, connect=connect,
                         tracker=AlertTracker([Threshold("disk.used:*", warning=85,
                                                         critical=95)]))
        qtbot.addWidget(view)
        view.start()
        # (other full filesystems of this shared machine may alert too: look for ours)
        disk_col = 6

        def red() -> bool:  # the tracker is fed in the watcher's thread, the table a bit later
            view.refresh()
            item = view.table.item(0, disk_col)
            return (any(a.metric == metric and a.level == Level.CRITICAL
                        for a in view.recorder.tracker.active())
                    and item is not None and item.data(ROLE_LEVEL) == Level.CRITICAL)

        qtbot.waitUntil(red, timeout=20000)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)

    def cleared() -> bool:
        view.refresh()
        others = view.recorder.tracker.active()  # another full disk of the machine, if any
        return (all(a.metric != metric for a in others)
                and (bool(others) or (view.table.item(0, disk_col).data(ROLE_LEVEL) == Level.OK
                                      and "0 active alert" in view.summary.text())))

    qtbot.waitUntil(cleared, timeout=20000)
    ended = [a for a in view.recorder.tracker.history() if a.metric == metric]
    assert ended and not ended[0].active
    view.stop()
