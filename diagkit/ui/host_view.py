"""One open host: its connection, and four views over it (dashboard, live plots, console,
terminal).

The connection is made in the background and can be cancelled. Questions it raises (unknown host
key, refused login) are asked here; a changed host key is refused loudly. Every error is shown on
this tab and on the host's row, in the words of :mod:`diagkit.errors`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from diagkit import credentials, session
from diagkit.connection import DEFAULT_LIVENESS, LOST, Liveness, lost_message
from diagkit.errors import (
    AuthError,
    ConnectionLost,
    DiagkitError,
    HostKeyChanged,
    HostKeyUnknown,
)
from diagkit.probes import logs as logs_probe
from diagkit.probes.base import Probe, ProbeResult
from diagkit.probes.registry import all_probes
from diagkit.probes.runner import HostSnapshot, run_probe, snapshot
from diagkit.session import HostRef
from diagkit.transport.base import CommandResult, Transport
from diagkit.ui import connect_dialogs
from diagkit.ui.console_view import ConsoleView
from diagkit.ui.dashboard_view import DashboardView
from diagkit.ui.plots_view import PlotsView
from diagkit.ui.terminal_view import TerminalView
from diagkit.ui.workers import Worker, run_in_background

log = logging.getLogger(__name__)

#: (host label, status, error message or None); status is one of the five below.
StatusCallback = Callable[[str, str, "str | None"], None]
DISCONNECTED, CONNECTING, CONNECTED, ERROR = "disconnected", "connecting", "connected", "error"


class HostView(QWidget):
    """A tab for one host."""

    snapshot_ready = Signal(object)  # HostSnapshot, after every full refresh
    connected = Signal()
    fetch_logs_requested = Signal()
    case_journaled = Signal(object)  # JournalEntry written to the active case
    evidence_requested = Signal(object)  # TimelineEvent whose log record / journal entry to open
    # (transport, reason) from the transport's liveness thread; queued to the GUI thread
    _transport_lost = Signal(object, str)

    def __init__(self, ref: HostRef, *, status: StatusCallback | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ref = ref
        self._status = status or (lambda *_: None)
        self.transport: Transport | None = None
        self._worker: Worker | None = None
        self._probe_workers: dict[str, Worker] = {}
        self._unexpected: BaseException | None = None
        self.last_snapshot: HostSnapshot | None = None
        self._timeline_run: HostSnapshot | None = None  # the run the Timeline tab shows
        # what the engineer ran in the console, for the bug report's journal
        self.journal: list[dict[str, object]] = []
        # The active case to journal probe runs and console commands to: returns
        # (CaseDesk, case id) or None. Set by the main window; None = no case journal.
        self.case_journal: Callable[[], tuple[Any, int] | None] | None = None
        # Forecast findings for a host from the monitoring history (set by the main window).
        self.forecasts: Callable[[str], list[Any]] | None = None
        # How the connection proves it is alive (keepalives; tests make it quick).
        self.liveness: Liveness = DEFAULT_LIVENESS
        self._transport_lost.connect(self._lost)
        probes, self.probe_problems = all_probes()
        try:
            # A saved host's application logs (its and its group's log paths) are scanned too.
            probes = logs_probe.for_saved_host(probes, ref.saved)
        except DiagkitError as exc:
            self.probe_problems = [*self.probe_problems, str(exc)]
        self.probes: dict[str, Probe] = {p.name: p for p in probes}

        self.state = QLabel("Not connected")
        self.state.setObjectName("state")
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.details_button = QPushButton("Details…")
        self.details_button.hide()
        self.details_button.clicked.connect(self._show_details)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        self.connect_button = QPushButton("Connect")
        self.connect_button.clicked.connect(lambda: self.start())
        self.refresh_button = QPushButton("Refresh all")
        self.refresh_button.setToolTip("Run every probe again (F5)")
        self.refresh_button.clicked.connect(self.refresh_all)
        self.refresh_button.setEnabled(False)
        self.logs_button = QPushButton("Fetch logs…")
        self.logs_button.setToolTip("Copy logs from this host and open them in the log viewer (Ctrl+Shift+L)")
        self.logs_button.setEnabled(False)
        self.logs_button.clicked.connect(self.fetch_logs_requested.emit)
        top = QHBoxLayout()
        top.addWidget(self.state, 1)
        top.addWidget(self.details_button)
        top.addWidget(self.progress)
        top.addWidget(self.cancel_button)
        top.addWidget(self.connect_button)
        top.addWidget(self.logs_button)
        top.addWidget(self.refresh_button)

        self.dashboard = DashboardView()
        self.dashboard.set_probes(list(self.probes.values()))
        self.dashboard.refresh_requested.connect(self._refresh_requested)
        self.plots = PlotsView()
        self.plots.connection_lost.connect(self._sampling_lost)
        self.plots.reconnect_requested.connect(self.reconnect)
        self.console = ConsoleView(ref.label)
        self.console.command_finished.connect(self._console_finished)
        self.console.reconnect_requested.connect(self.reconnect)
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.dashboard, "Dashboard")
        self.views.addTab(self.plots, "Live")
        self.views.addTab(self.console, "Console")
        self.terminal = TerminalView(ref.label)
        self.terminal.send_to_case_requested.connect(self._terminal_to_case)
        self.terminal.connection_lost.connect(self._sampling_lost)
        self.terminal.reconnect_requested.connect(self.reconnect)
        self.views.addTab(self.terminal, "Terminal")
        self.views.currentChanged.connect(self._view_changed)
        from diagkit.ui.timeline_view import TimelineView

        self.timeline = TimelineView()
        self.timeline.evidence_requested.connect(self._open_evidence)
        self.views.addTab(self.timeline, "Timeline")
        self.views.currentChanged.connect(lambda _i: self._timeline_shown())

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.views, 1)

    # --- connection ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def start(self, *, accept_new_host_key: bool = False, trusted_once: tuple[object, ...] = (),
              password: str | None = None, remember_password: bool = False) -> None:
        """Connect (if needed), then run every probe."""
        if self._worker is not None:
            return
        if self.transport is not None:
            self.refresh_all()
            return
        self._set_busy(f"Connecting to {self.ref.label}…")
        self._status(self.ref.label, CONNECTING, None)
        ref, liveness = self.ref, self.liveness

        def job(cancel: threading.Event) -> Transport:
            return session.connect(ref, accept_new_host_key=accept_new_host_key,
                                   trusted_once=trusted_once, password=password, cancel=cancel,
                                   liveness=liveness)

        def done(transport: Transport) -> None:
            self._worker = None
            if remember_password and password:
                self._remember(password)
            self._attach(transport)
            self.refresh_all()

        self._worker = run_in_background(job, on_done=done, on_error=self._connect_failed, owner=self)

    def _attach(self, transport: Transport) -> None:
        self.transport = transport
        watch = getattr(transport, "add_lost_listener", None)  # SSH; the local machine never drops
        if watch is not None:
            signal = self._transport_lost

            def lost(reason: str) -> None:
                try:
                    signal.emit(transport, reason)
                except RuntimeError:
                    pass  # the tab was closed meanwhile

            watch(lost)
        self.plots.set_transport(transport)
        self.console.set_transport(transport)
        self.terminal.set_transport(transport)
        self.connect_button.setText("Disconnect")
        self.connect_button.clicked.disconnect()
        self.connect_button.clicked.connect(self.disconnect)
        self.refresh_button.setEnabled(True)
        self.logs_button.setEnabled(True)
        self._status(self.ref.label, CONNECTED, None)
        self.connected.emit()

    def reconnect(self) -> None:
        """Connect again after the connection was lost (every view's Reconnect)."""
        if self.transport is not None:
            self.disconnect()
        self.start()

    def check_connection(self) -> None:
        """Another view saw this host drop: have the connection's liveness check look now."""
        check = getattr(self.transport, "check_now", None)
        if check is not None:
            check()

    def _lost(self, transport: object, reason: str) -> None:
        if transport is self.transport:
            self.disconnect(reason=lost_message(self.ref.label, reason))

    def _sampling_lost(self, message: str) -> None:
        if self.transport is not None:
            self.disconnect(reason=message)

    def disconnect(self, reason: str | None = None) -> None:
        """Close the connection; with ``reason`` it was lost (every view says why and offers
        Reconnect), without it the engineer disconnected."""
        transport, self.transport = self.transport, None
        self.plots.set_transport(None, reason=reason)
        self.console.set_transport(None, reason=reason)
        self.terminal.set_transport(None, reason=reason)
        if transport is not None:
            transport.close()
        self.connect_button.setText("Reconnect" if reason else "Connect")
        self.connect_button.clicked.disconnect()
        self.connect_button.clicked.connect(lambda: self.start())
        self.refresh_button.setEnabled(False)
        self.logs_button.setEnabled(False)
        if reason:
            self._fail(reason, status=LOST)
        else:
            self._idle("Disconnected.")
            self._status(self.ref.label, DISCONNECTED, None)

    def _remember(self, password: str) -> None:
        account = self.ref.saved.password_account if self.ref.saved else f"host:{self.ref.label}"
        try:
            credentials.set_password(account, password)
        except DiagkitError as exc:
            self.state.setText(f"Connected, but the password was not stored: {exc}")

    def _connect_failed(self, error: BaseException) -> None:
        self._worker = None
        if isinstance(error, HostKeyUnknown):
            answer = connect_dialogs.ask_host_key(self, self.ref.label, error)
            if answer is connect_dialogs.KeyAnswer.ONCE:
                self.start(trusted_once=(error.key,))
            elif answer is connect_dialogs.KeyAnswer.ALWAYS:
                self.start(accept_new_host_key=True)
            else:
                self._fail(f"Not connected: the host key of {self.ref.label} was not trusted. "
                           "Connect again to review its fingerprint.", status=DISCONNECTED)
            return
        if isinstance(error, HostKeyChanged):
            self._fail(str(error))
            if connect_dialogs.show_host_key_changed(self, self.ref.label, error):
                self._replace_host_key(error)
            return
        if isinstance(error, AuthError):
            self._fail(str(error))
            answer = connect_dialogs.ask_password(self, self.ref.label, error)
            if answer is not None:
                self.start(password=answer[0], remember_password=answer[1])
            return
        self._fail_with(error)

    def _replace_host_key(self, error: HostKeyChanged) -> None:
        """The user confirmed the new key: edit known_hosts, journal it, connect again."""
        from diagkit.transport import known_hosts

        try:
            done = known_hosts.replace_host_key(error.host, error.port, error.key)  # type: ignore[arg-type]
        except DiagkitError as exc:
            self._fail(f"The host key was not replaced: {exc}")
            return
        text = done.describe()
        log.warning("%s", text)  # the log file keeps it even without an active case
        self.journal.append({"time": datetime.now(UTC), "kind": "host-key", "host": self.ref.label,
                             "text": text})
        self._journal_to_case(lambda desk, case_id: desk.add_note(case_id, text))
        self.start()

    # --- probes --------------------------------------------------------------------------------

    def refresh_all(self) -> None:
        transport = self.transport
        if transport is None:
            self.start()
            return
        if self._worker is not None:
            return
        probes = list(self.probes.values())
        self.dashboard.set_running()
        self._set_busy(f"Running {len(probes)} probes on {self.ref.label}…", total=len(probes))

        def job(progress: Callable[[object], None], cancel: threading.Event) -> HostSnapshot:
            return snapshot(transport, probes, cancel=cancel, on_result=progress)

        self._worker = run_in_background(job, on_done=self._snapshot_done,
                                         on_error=self._work_failed, on_progress=self._probe_done, owner=self)

    def refresh_probe(self, name: str) -> None:
        transport, probe = self.transport, self.probes.get(name)
        if transport is None or probe is None or name in self._probe_workers:
            return
        self.dashboard.set_running([name])

        def done(result: ProbeResult) -> None:
            self._probe_workers.pop(name, None)
            self._probe_done(result)

        def failed(error: BaseException) -> None:
            self._probe_workers.pop(name, None)
            self._work_failed(error)

        self._probe_workers[name] = run_in_background(
            lambda cancel: run_probe(transport, probe, cancel=cancel), on_done=done, on_error=failed, owner=self)

    def _refresh_requested(self, name: object) -> None:
        if name is None:
            self.refresh_all()
        else:
            self.refresh_probe(str(name))

    def _probe_done(self, result: object) -> None:
        if not isinstance(result, ProbeResult):
            return
        self.dashboard.show_result(result)
        if self.progress.maximum() > 0:
            self.progress.setValue(self.progress.value() + 1)
        if result.error_kind == "ConnectionLost" and self.transport is not None:
            self.disconnect(reason=result.error)

    def _snapshot_done(self, snap: HostSnapshot) -> None:
        self._worker = None
        self.last_snapshot = snap
        self.dashboard.set_idle()
        self._journal_to_case(lambda desk, case_id: desk.record_probe_run(case_id, snap))
        if self.transport is None:
            return  # the connection dropped while probes ran; already reported
        errors = sum(1 for r in snap.results if not r.ok)
        findings = snap.findings
        text = (f"{len(snap.results)} probes in {snap.duration:.2f} s at "
                f"{snap.started.astimezone():%H:%M:%S}; {len(findings)} finding(s)")
        if errors:
            text += f"; {errors} probe(s) failed (see their cards)"
        self._idle(text)
        self._status(self.ref.label, CONNECTED, None)
        self.snapshot_ready.emit(snap)
        if self.views.currentWidget() is self.timeline:
            self.load_timeline()
        if self.forecasts is not None:
            forecasts, host = self.forecasts, self.ref.label
            run_in_background(lambda: forecasts(host), on_done=self.dashboard.set_extra_findings,
                              on_error=lambda e: self._idle(f"{text}; forecasts unavailable: {e}"),
                              owner=self)

    # --- timeline ------------------------------------------------------------------------------

    def _timeline_shown(self) -> None:
        # read when first shown and after each probe run, not on every visit of the tab
        if (self.views.currentWidget() is self.timeline and not self.timeline.busy
                and (self.timeline.timeline is None
                     or self._timeline_run is not self.last_snapshot)):
            self.load_timeline()

    def load_timeline(self) -> None:
        """This host's timeline (what cases journaled about it, its monitoring history, the
        last probe run), computed in a worker."""
        host = self.ref.label
        self._timeline_run = self.last_snapshot
        snaps = (self.last_snapshot,) if self.last_snapshot is not None else ()

        def job() -> Any:
            from diagkit.store.select import open_store
            from diagkit.timeline import host_timeline, open_history

            samples = open_history()
            try:
                with open_store() as store:
                    return host_timeline(host, store=store, samples=samples, snapshots=snaps)
            finally:
                if samples is not None:
                    samples.close()

        self.timeline.set_source(job)

    def _open_evidence(self, event: Any) -> None:
        evidence = event.evidence
        if evidence.kind == "probe" and evidence.entry_id is None and evidence.probe:
            self.views.setCurrentWidget(self.dashboard)
            self.dashboard.show_card(evidence.probe)
        else:
            self.evidence_requested.emit(event)

    def _work_failed(self, error: BaseException) -> None:
        self._worker = None
        self.dashboard.set_idle()
        if isinstance(error, ConnectionLost):
            self.disconnect(reason=str(error))
            return
        self._fail_with(error)

    def _console_finished(self, outcome: object) -> None:
        if isinstance(outcome, CommandResult):
            self.journal.append({"time": datetime.now(UTC), "kind": "command", "host": self.ref.label,
                                 "text": outcome.command, "exit_status": outcome.exit_status})
            host, result = self.ref.label, outcome
            self._journal_to_case(lambda desk, case_id: desk.record_command(
                case_id, host, result.command, result.exit_status, result.duration))
        if isinstance(outcome, ConnectionLost):
            self.disconnect(reason=str(outcome))

    # --- terminal ------------------------------------------------------------------------------

    def _view_changed(self, index: int) -> None:
        if self.views.widget(index) is self.terminal:
            self.terminal.activate()

    def _terminal_to_case(self, text: str) -> None:
        """The terminal's "Send selection to case": secrets masked, then a note on the active
        case (both in a worker: the redactor's rules take a moment to load)."""
        hint = self.terminal.hint
        try:
            target = self.case_journal() if self.case_journal is not None else None
        except DiagkitError as exc:
            hint.setText(f"Not sent to a case: {exc}")
            return
        if target is None:
            hint.setText("Not sent: no case is active. Make a case active (Cases view, or the "
                         "active-case box in the toolbar), then send again.")
            return
        desk, case_id = target
        host = self.ref.label

        def job() -> object:
            from diagkit.reports.redact import RedactOptions, Redactor

            masked = Redactor(RedactOptions()).redact(text)
            fence = "```"
            while fence in masked:
                fence += "`"
            return desk.add_note(case_id, f"From the terminal on {host}:\n\n{fence}\n{masked}\n"
                                          f"{fence}")

        def done(entry: object) -> None:
            hint.setText(f"Sent to case {case_id} (secrets masked).")
            self.case_journaled.emit(entry)

        run_in_background(job, on_done=done, owner=self,
                          on_error=lambda e: hint.setText(f"Not sent to case {case_id}: {e}"))

    def _journal_to_case(self, record: Callable[[Any, int], object]) -> None:
        """Journal to the active case in a worker. Never blocks or fails the work itself: a
        journal error is only mentioned on this tab."""
        try:
            target = self.case_journal() if self.case_journal is not None else None
        except DiagkitError as exc:
            self.state.setText(f"{self.state.text()} (not journaled to the active case: {exc})")
            return
        if target is None:
            return
        desk, case_id = target

        def failed(error: BaseException) -> None:
            log.warning("journaling to case %s failed: %s", case_id, error)
            self.state.setText(f"{self.state.text()} (not journaled to case {case_id}: {error})")

        run_in_background(lambda: record(desk, case_id), on_done=self.case_journaled.emit,
                          on_error=failed, owner=self)

    # --- state display -------------------------------------------------------------------------

    def _set_busy(self, text: str, total: int = 0) -> None:
        self.state.setText(text)
        self.details_button.hide()
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.connect_button.setEnabled(False)
        self.refresh_button.setEnabled(False)

    def _idle(self, text: str) -> None:
        self.state.setText(text)
        self.progress.hide()
        self.cancel_button.hide()
        self.connect_button.setEnabled(True)
        self.refresh_button.setEnabled(self.transport is not None)

    def _fail(self, message: str, *, status: str = ERROR) -> None:
        self._idle(message)
        self._status(self.ref.label, status, message if status in (ERROR, LOST) else None)

    def _fail_with(self, error: BaseException) -> None:
        if isinstance(error, DiagkitError):
            self._fail(str(error))
            return
        self._unexpected = error
        self._fail(f"Unexpected error ({type(error).__name__}: {error}). Nothing was lost; "
                   "see Details, or the log file.")
        self.details_button.show()

    def _show_details(self) -> None:
        if self._unexpected is not None:
            connect_dialogs.show_error_details(self, "diagkit: unexpected error", self._unexpected)

    def cancel(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
        self.dashboard.set_idle()
        if self.transport is None:
            self._fail("Connection cancelled.", status=DISCONNECTED)
        else:
            self._idle("Cancelled.")

    def shutdown(self) -> None:
        """Stop all work and close the connection (tab closed or window closing)."""
        workers = [w for w in (self._worker, *self._probe_workers.values()) if w is not None]
        self._worker = None
        self._probe_workers.clear()
        for worker in workers:
            worker.cancel()
        self.plots.shutdown()
        self.console.shutdown()
        self.terminal.shutdown()
        for worker in workers:
            worker.done.wait(5)
        if self.transport is not None:
            self.transport.close()
            self.transport = None

