"""Render diagkit's main screens to docs/screenshots/*.png, as an engineer sees them.

    scripts/screenshots.sh            # on a virtual X screen (Xvfb), the real window system
    python scripts/screenshots.py     # or wherever Qt can draw (QT_QPA_PLATFORM=offscreen works)

Uses a throw-away config dir with a few saved hosts. Only this machine and 127.0.0.1 are ever
contacted: the other saved hosts are shown in the list, never connected to.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))

work = Path(tempfile.mkdtemp(prefix="diagkit-shots-"))
os.environ["DIAGKIT_CONFIG_DIR"] = str(work / "config")
os.environ["DIAGKIT_DATA_DIR"] = str(work / "data")
os.environ["DIAGKIT_SSH_CONFIG"] = str(work / "ssh_config")
# The engineer's name as a user sets it (diagkit config set engineer), so cases are not signed
# by the login name and the first-run prompt stays away.
(work / "config").mkdir(parents=True, exist_ok=True)
(work / "config" / "settings.json").write_text('{"engineer": "Dana Reyes"}\n', encoding="utf-8")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from diagkit.errors import HostKeyUnknown
from diagkit.hosts import HostStore, SavedHost
from diagkit.store.contract import CaseDraft
from diagkit.ui import connect_dialogs
from diagkit.ui.host_dialog import HostDialog
from diagkit.ui.host_view import HostView
from diagkit.ui.main_window import MainWindow


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the app")
        app.processEvents()
        time.sleep(0.02)


def save(widget: QWidget, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(ROOT)}")


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dark_palette(app: QApplication) -> None:
    """A dark desktop theme, as on a workstation set to dark mode (Fusion style)."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    pal = QPalette()
    roles = QPalette.ColorRole
    for role, colour in ((roles.Window, "#2b2b2b"), (roles.WindowText, "#e6e6e6"),
                         (roles.Base, "#1e1e1e"), (roles.AlternateBase, "#262626"),
                         (roles.Text, "#e6e6e6"), (roles.Button, "#353535"),
                         (roles.ButtonText, "#e6e6e6"), (roles.Highlight, "#2f65ca"),
                         (roles.HighlightedText, "#ffffff"), (roles.ToolTipBase, "#353535"),
                         (roles.ToolTipText, "#e6e6e6"), (roles.PlaceholderText, "#8a8a8a")):
        pal.setColor(role, QColor(colour))
    app.setPalette(pal)


def shot_cases(app: QApplication, window: MainWindow) -> None:
    """The Cases tab with a few seeded cases (one breached, one close to breaching), and the
    customer update composer."""
    from datetime import UTC, datetime, timedelta

    desk = window.case_desk()
    store = desk.store
    now = datetime.now(UTC)
    store.create_case(CaseDraft("Checkout returns HTTP 500 after DB password rotation",
                                customer="ACME", contact="ops@acme.example", severity="S1",
                                impact="extensive", urgency="critical", status="triaged",
                                hosts=("web-eu-1", "db-eu-1"), engineer=desk.engineer,
                                created=now - timedelta(hours=6)))
    store.create_case(CaseDraft("Nightly backup job hangs", customer="Globex", severity="S2",
                                impact="significant", urgency="high", status="triaged",
                                engineer=desk.engineer,
                                created=now - timedelta(hours=3, minutes=15)))
    desk.open_case("Login page slow in the afternoon", customer="Initech", product="Portal",
                   version="4.2", impact="moderate", urgency="medium", tags=("performance",))
    desk.open_case("Question about log retention", customer="Umbrella")
    case = desk.open_case("Disk full on db-eu-1", customer="ACME", contact="ops@acme.example",
                          impact="significant", urgency="high", hosts=("db-eu-1",))
    desk.set_status(case.id, "in_progress", note="Looking at the volume now.")
    desk.add_note(case.id, "`/var/lib/postgresql` is **97 %** full; WAL archiving stalled "
                  "since the archive share went read-only.\n\n- freed 12 GB of old WAL\n"
                  "- asked the customer to fix the share")
    desk.record_command(case.id, "db-eu-1", "df -h /var/lib/postgresql", 0, 0.04)
    window.show_cases()
    view = window.cases_view
    view.reload(select=case.id)
    wait_until(app, lambda: view.detail.case is not None and view.detail.case.id == case.id
               and view.model.rowCount() == 5)
    app.processEvents()
    save(window, "cases.png")
    view.detail.compose_update()
    wait_until(app, lambda: view.detail.update_dialog is not None)
    dialog = view.detail.update_dialog
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("progress"))
    app.processEvents()
    save(dialog, "case-update.png")
    dialog.reject()


def shot_kb(app: QApplication, window: MainWindow) -> None:
    """The Knowledge base tab (starter articles) searching "disk full", and the article editor."""
    window.open_kb()
    view = window.kb_view
    wait_until(app, lambda: view.results.count() > 0)
    view.search_edit.setText("no space left")
    view.search()
    wait_until(app, lambda: view.search_edit.text() == "no space left" and view.results.count() > 0
               and view.count_label.text().endswith("result(s)"))
    view.results.setCurrentRow(0)
    wait_until(app, lambda: view.current is not None)
    app.processEvents()
    save(window, "kb.png")
    dialog = view.edit_article()
    dialog.resize(1000, 760)
    app.processEvents()
    save(dialog, "kb-article-editor.png")
    dialog.reject()


def shot_fleet(app: QApplication, window: MainWindow) -> None:
    """The Fleet tab: four hosts sampled for real (three are this machine under other names, one
    refuses), a low demo threshold raising an alert, and a disk-fill forecast from a seeded
    history."""
    import time as _time

    import numpy as np

    from diagkit.errors import ConnectionRefused
    from diagkit.monitor.thresholds import DEFAULT_THRESHOLDS, AlertTracker, Threshold
    from diagkit.store.sqlite import SqliteSampleStore
    from diagkit.transport.local import LocalTransport
    from diagkit.ui.fleet_view import FleetView

    def connect(name: str) -> LocalTransport:
        if name == "staging":
            raise ConnectionRefused("Connection to staging (10.0.3.7:22) refused: nothing listens "
                                    "on that port. Check sshd runs and the port is right.",
                                    host=name)
        return LocalTransport()

    samples = SqliteSampleStore(window.case_store().path.parent / "history-demo.db")
    now = _time.time()
    t = now - 3600 + np.arange(0, 3600, 60.0)
    samples.append(("db-eu-1", float(ti), {"disk.used:/var/lib/postgresql": 80 + 4 * i / 60})
                   for i, ti in enumerate(t))
    tracker = AlertTracker((Threshold("procs.count", warning=5, critical=10, host="db-eu-1",
                                      label="Processes"), *DEFAULT_THRESHOLDS))
    view = FleetView(["db-eu-1", "web-eu-1", "web-eu-2", "staging"], interval=1.0,
                     connect=connect, samples=samples, tracker=tracker)
    window.fleet_view = view
    window._show_tab(view, "Fleet")
    view.start()
    wait_until(app, lambda: all(view.watcher.states()[h].last_sample for h in
                                ("db-eu-1", "web-eu-1", "web-eu-2")), timeout=30)
    later = _time.time() + 4  # a few samples: rates and sparklines
    wait_until(app, lambda: _time.time() > later)
    view.update_forecasts()
    wait_until(app, lambda: bool(view.forecasts), timeout=30)
    app.processEvents()
    view.refresh()
    save(window, "fleet.png")
    view.stop()


def shot_terminal(app: QApplication, window: MainWindow, view: HostView) -> None:
    """The Terminal tab on this machine: a coloured listing, a selection ready to send."""
    from PySide6.QtTest import QTest

    terminal = view.terminal
    view.views.setCurrentWidget(terminal)
    wait_until(app, lambda: terminal.session is not None)
    QTest.keyClicks(terminal.term, "clear; ls -l --color=always /etc | head -12; df -h / /tmp\r")
    screen = terminal.term.screen
    rows = [""]

    def df_done() -> bool:
        rows[:] = [screen.text_of(screen.buffer[y]) for y in range(screen.lines)]
        return any(r.startswith("Filesystem") for r in rows) and rows[screen.cursor.y].endswith(
            ("$", "#"))

    wait_until(app, df_done)
    app.processEvents()
    first = next(i for i, r in enumerate(rows) if r.startswith("total"))
    top = terminal.term.top_number
    terminal.term.select((top + first + 1, 0), (top + first + 3, terminal.term.cols - 1))
    app.processEvents()
    save(window, "terminal.png")


def shot_metrics(app: QApplication, window: MainWindow) -> None:
    """The Metrics tab over 30 days of seeded cases (three engineers, SLA misses, CSAT)."""
    import random
    from datetime import UTC, datetime, timedelta

    store = window.case_store()
    rnd = random.Random(7)
    now = datetime.now(UTC)
    signatures = ("Out of memory: Killed process <N> (<*>)", "EXT4-fs error (device <*>): <*>",
                  "No space left on device", "connection reset by peer <IP>:<N>")
    articles = (("oom-killer", "Processes killed by the OOM killer"), ("disk-full", "Filesystem full"),
                ("read-only-filesystem", "Filesystem remounted read-only after errors"))
    for n in range(70):
        created = now - timedelta(days=rnd.uniform(0.2, 30), hours=rnd.uniform(0, 8))
        severity = rnd.choice(("S1", "S2", "S2", "S3", "S3", "S3", "S4"))
        engineer = rnd.choice(("alice", "bob", "chen"))
        case = store.create_case(CaseDraft(f"Seeded case {n}", engineer=engineer, severity=severity,
                                           status="triaged", created=created))
        first = created + timedelta(minutes=rnd.expovariate(1 / 90))
        if first < now:
            store.append_journal(case.id, "customer_update", "ack", at=first, first_response=True,
                                 data={"update_kind": "acknowledgement", "subject": "Re: case",
                                       "channel": "clipboard"})
        done = created + timedelta(hours=rnd.expovariate(1 / 30))
        if rnd.random() < 0.45:
            store.append_journal(case.id, "log_excerpt", "lines", at=created + timedelta(minutes=5),
                                 data={"file": "syslog", "lines": 3,
                                       "signatures": [rnd.choice(signatures)]})
        if rnd.random() < 0.35:
            slug, title = rnd.choice(articles)
            store.append_journal(case.id, "known_issue", at=created + timedelta(minutes=6),
                                 data={"article_id": 0, "slug": slug, "title": title})
        if done < now and rnd.random() < 0.85:
            case = store.get_case(case.id)
            case = store.record_status(case.id, "resolved", expected_version=case.version_counter,
                                       at=done)
            if rnd.random() < 0.6:
                store.update_case(case.id, case.version_counter,
                                  csat=rnd.choice((2, 3, 4, 4, 5, 5, 5)))
    window.open_metrics()
    view = window.metrics_view
    view.refresh()
    wait_until(app, lambda: view.report is not None and view.state.text() != "Computing…")
    app.processEvents()
    save(window, "metrics.png")


def shot_timeline(app: QApplication, window: MainWindow) -> None:
    """A case's Timeline tab on the disk-full scenario of the tests (real probe captures, a
    monitoring history, a database log), with what came first before the refused connections."""
    from diagkit.cases.desk import CaseDesk
    from diagkit.store.sqlite import SqliteSampleStore
    from tests.test_timeline import build_scenario

    log = work / "db1.log"
    with SqliteSampleStore() as samples:
        case_id = build_scenario(window.case_store(), samples, log)
    lines = [line for line in log.read_text().splitlines() if "No space left" in line][:3]
    CaseDesk(window.case_store(), engineer="ann").record_log_excerpt(case_id, str(log), lines)
    window.show_cases()
    view = window.cases_view
    view.reload(select=case_id)
    wait_until(app, lambda: view.detail.case is not None and view.detail.case.id == case_id)
    timeline = view.detail.timeline_view
    view.detail.journal_tabs.setCurrentWidget(timeline)
    wait_until(app, lambda: timeline.timeline is not None)
    sizes = view.splitter.sizes()
    view.splitter.setSizes([300, sum(sizes) - 300])  # the case's side, wide
    from tests.test_timeline import at

    timeline.kind_buttons["probe"].setChecked(False)
    timeline.kind_buttons["case"].setChecked(False)
    timeline._set_range(at("09:40"), at("10:40"))  # the hour of the episode
    refused = next(e for e in timeline.model.events if "Connection refused" in e.text)
    timeline.select_event(refused.id)
    timeline.came_first_button.click()
    app.processEvents()
    from PySide6.QtWidgets import QScrollArea

    pane = view.detail.parentWidget()
    while pane is not None and not isinstance(pane, QScrollArea):
        pane = pane.parentWidget()
    if pane is not None:  # the case pane scrolled down to its Timeline tab
        pane.ensureWidgetVisible(view.detail.journal_tabs, 0, 0)
    app.processEvents()
    save(window, "timeline.png")
    view.splitter.setSizes(sizes)


def shot_history(app: QApplication, window: MainWindow) -> None:
    """The History tab over a day of seeded samples for db-eu-1 (CPU and a filling disk)."""
    import math
    import time as _time

    samples = window.sample_store()
    assert samples is not None
    now = _time.time()
    samples.append(("db-eu-1", now - 86400 + i * 60.0,
                    {"cpu.usage": 35 + 25 * math.sin(i / 90) + (30 if 900 < i < 960 else 0),
                     "disk.used:/var/lib/postgresql": 70 + 25 * i / 1440})
                   for i in range(1440))
    view = window.open_history()
    assert view is not None
    view.reload_hosts()
    wait_until(app, lambda: "db-eu-1" in view.catalog)
    view.host.setCurrentText("db-eu-1")
    for i in range(view.metrics.count()):
        view.metrics.item(i).setSelected(True)
    if hasattr(view, "load"):
        view.load()
    wait_until(app, lambda: bool(view.plot.getPlotItem().listDataItems()), timeout=30)
    app.processEvents()
    save(window, "history.png")


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    dark = "--dark" in sys.argv
    if dark:
        dark_palette(app)
        global save
        plain_save = save

        def save(widget: QWidget, name: str) -> None:
            plain_save(widget, name.replace(".png", "-dark.png"))
    store = HostStore()
    store.add(SavedHost("web-eu-1", "web-eu-1.acme.example", user="support", group="Customer ACME",
                        tags=("web", "prod"), notes="Ticket 4711: slow checkout"))
    store.add(SavedHost("db-eu-1", "db-eu-1.acme.example", user="support", jump="web-eu-1",
                        group="Customer ACME", tags=("db", "prod")))
    store.add(SavedHost("staging", "127.0.0.1", port=closed_port(), user="root", group="Lab",
                        notes="sshd not started yet"))

    window = MainWindow(store, restore=False)
    window.resize(1280, 820)  # the app's own default size (issue 17: every view right at it)
    window.show()
    save(window, "welcome.png")
    if "--timeline-only" in sys.argv:  # just the Timeline screenshot (quick to redo)
        shot_timeline(app, window)
        window.close()
        return 0

    dead = window.open_host("staging")
    view = window.open_host("local")
    assert view is not None and dead is not None
    view.plots.interval.setValue(1)
    wait_until(app, lambda: view.last_snapshot is not None and window._items["staging"].text(1) == "error")
    window.tabs.setCurrentWidget(view)
    app.processEvents()
    save(window, "dashboard.png")

    view.dashboard.cards["disk"].raw_button.setChecked(True)
    view.dashboard.scroll.ensureWidgetVisible(view.dashboard.cards["disk"])
    app.processEvents()
    save(window, "dashboard-raw-output.png")
    view.dashboard.cards["disk"].raw_button.setChecked(False)

    view.views.setCurrentIndex(1)
    wait_until(app, lambda: view.plots.samples_taken >= 12, timeout=90)
    app.processEvents()
    save(window, "live-plots.png")

    view.views.setCurrentIndex(2)
    view.console.command_edit.setText("uname -a; uptime; df -h / /tmp; ls /nonexistent")
    view.console.run_command()
    wait_until(app, lambda: not view.console.is_running)
    app.processEvents()
    save(window, "console.png")
    shot_terminal(app, window, view)

    window.tabs.setCurrentWidget(dead)
    app.processEvents()
    save(window, "connection-error.png")

    dialog = HostDialog(store, store.get("db-eu-1"), parent=window)
    dialog.show()
    app.processEvents()
    save(dialog, "host-dialog.png")
    dialog.reject()

    error = HostKeyUnknown(host="web-eu-1.acme.example", port=22, key_type="ssh-ed25519",
                           fingerprint="SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8")

    def grab_modal() -> None:
        modal = app.activeModalWidget()
        if modal is None:
            QTimer.singleShot(100, grab_modal)
            return
        save(modal, "host-key-dialog.png")
        modal.close()

    QTimer.singleShot(300, grab_modal)
    connect_dialogs.ask_host_key(window, "web-eu-1", error)

    # the log viewer: two hosts' syslogs merged into one timeline
    from tests.logs.labelled import generate

    logs = []
    for n, name in enumerate(("web01-syslog", "db-1-syslog")):
        path = work / f"{name}.log"
        path.write_text("\n".join(generate("rfc3164", 6000, seed=11 + n).lines) + "\n")
        logs.append(path)
    log_view = window.open_logs(logs, title="web01 + db-1")
    wait_until(app, lambda: log_view.sig_tree.topLevelItemCount() > 0 and " of " in log_view.counts.text())
    log_view.jump_error()
    app.processEvents()
    save(window, "log-viewer.png")

    # a bug report: the wizard (evidence, redaction preview), then the bundle reopened
    log_view.table.selectRow(log_view.table.currentIndex().row())
    log_view.report_button.click()
    view.console.command_edit.setText("systemctl status nginx --no-pager || true")
    view.console.run_command()
    wait_until(app, lambda: not view.console.is_running)
    from diagkit.ui.bundle_wizard import BundleView, BundleWizard

    wizard = BundleWizard(window.host_views(), window.report_records, parent=window,
                          log_views=window.log_views())
    wizard.resize(1100, 760)
    wizard.title_edit.setText("Checkout returns HTTP 500 after the DB password rotation")
    wizard.summary_edit.setPlainText("Since 09:40 every checkout fails; the API logs 'db login failed'.")
    wizard.steps_edit.setPlainText("Rotate the DB password (runbook 12)\nRestart shop-api\nPlace an order")
    wizard.expected_edit.setPlainText("The order is accepted.")
    wizard.actual_edit.setPlainText("HTTP 500; 'password authentication failed' in the API log.")
    wizard.obfuscate["ip"].setChecked(True)
    wizard.obfuscate["host"].setChecked(True)
    wizard.show()
    app.processEvents()
    save(wizard, "bug-report-story.png")
    wizard.pages.setCurrentIndex(1)
    app.processEvents()
    save(wizard, "bug-report-evidence.png")
    wizard.pages.setCurrentIndex(2)
    wizard.preview_redaction()
    wait_until(app, lambda: wizard.hits.topLevelItemCount() > 0)
    app.processEvents()
    save(wizard, "bug-report-redaction.png")
    bundle_path = work / "checkout-500.zip"
    wizard.save(bundle_path)
    wait_until(app, lambda: wizard.info is not None, timeout=120)
    window.open_bug_report(bundle_path)
    wait_until(app, lambda: isinstance(window.tabs.currentWidget(), BundleView))
    app.processEvents()
    save(window, "bug-report-opened.png")

    shot_cases(app, window)
    shot_kb(app, window)
    shot_metrics(app, window)
    shot_fleet(app, window)
    shot_history(app, window)
    shot_timeline(app, window)

    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
