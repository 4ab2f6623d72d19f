"""One open host: connect in the background, run a snapshot, show findings first, then probes."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from diagkit import session
from diagkit.errors import DiagkitError, HostKeyChanged, HostKeyUnknown
from diagkit.probes.base import ProbeResult, Severity
from diagkit.probes.registry import all_probes
from diagkit.probes.runner import HostSnapshot, snapshot
from diagkit.session import HostRef
from diagkit.transport.base import Transport
from diagkit.ui.workers import Worker, run_in_background

SEVERITY_COLOURS = {
    Severity.CRITICAL: QColor("#d32f2f"),
    Severity.WARNING: QColor("#ef6c00"),
    Severity.INFO: QColor("#1976d2"),
}
StatusCallback = Callable[[str, str, "str | None"], None]


class HostView(QWidget):
    """A tab for one host. Emits ``snapshot_ready`` when a snapshot has been shown."""

    snapshot_ready = Signal(object)

    def __init__(self, ref: HostRef, *, status: StatusCallback | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ref = ref
        self._status = status or (lambda *_: None)
        self._transport: Transport | None = None
        self._worker: Worker | None = None
        self._lock = threading.Lock()
        self.last_snapshot: HostSnapshot | None = None

        self.state = QLabel("Not connected")
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refresh_button = QPushButton("Run snapshot (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        top = QHBoxLayout()
        top.addWidget(self.state, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.refresh_button)

        self.findings = QTreeWidget()
        self.findings.setHeaderLabels(["Severity", "Finding", "Probe", "Hint"])
        self.findings.setRootIsDecorated(False)
        self.findings.setWordWrap(True)
        self.findings.setColumnWidth(0, 90)
        self.findings.setColumnWidth(1, 380)
        self.findings.setColumnWidth(2, 90)
        self.probes = QTreeWidget()
        self.probes.setHeaderLabels(["Probe", "Status", "Time", "Summary"])
        self.probes.setColumnWidth(0, 150)
        self.probes.setColumnWidth(1, 60)
        self.probes.setColumnWidth(2, 60)
        self.probes.currentItemChanged.connect(self._show_raw)
        self.raw = QPlainTextEdit(readOnly=True)
        self.raw.setPlaceholderText("Select a probe to see its raw output.")
        self.raw.setFont(QFont("monospace"))

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.probes)
        lower.addWidget(self.raw)
        lower.setSizes([640, 420])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.findings)
        split.addWidget(lower)
        split.setSizes([220, 480])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    # --- work ----------------------------------------------------------------------------------

    def refresh(self, *, accept_new_host_key: bool = False) -> None:
        if self._worker is not None:
            return
        self.refresh_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        connected = self._transport is not None
        self.state.setText("Running probes…" if connected else f"Connecting to {self.ref.label}…")
        self._status(self.ref.label, "connected" if connected else "connecting", None)
        probes, _problems = all_probes()

        def job(cancel: threading.Event) -> HostSnapshot:
            with self._lock:
                if self._transport is None:
                    self._transport = session.connect(
                        self.ref, accept_new_host_key=accept_new_host_key, cancel=cancel
                    )
                transport = self._transport
            return snapshot(transport, probes, cancel=cancel)

        self._worker = run_in_background(job, on_done=self._done, on_error=self._failed)

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self._idle("Cancelled.")

    def shutdown(self) -> None:
        """Stop work and close the connection (tab closed or window closing)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            worker.done.wait(5)
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _idle(self, text: str) -> None:
        self.state.setText(text)
        self.refresh_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _done(self, snap: HostSnapshot) -> None:
        self._worker = None
        self.last_snapshot = snap
        errors = sum(1 for r in snap.results if not r.ok)
        text = (f"{len(snap.results)} probes in {snap.duration:.2f} s at "
                f"{snap.started.astimezone():%H:%M:%S}; {len(snap.findings)} findings")
        self._idle(text + (f"; {errors} probe(s) failed" if errors else ""))
        self._status(self.ref.label, "connected", None)
        self._show(snap)
        self.snapshot_ready.emit(snap)

    def _failed(self, error: BaseException) -> None:
        self._worker = None
        if isinstance(error, HostKeyUnknown) and self._ask_trust(error):
            self._idle("Host key trusted.")
            self.refresh(accept_new_host_key=True)
            return
        message = str(error) if isinstance(error, DiagkitError) else (
            f"Unexpected error ({type(error).__name__}: {error}). Details are in the log file.")
        self._idle(message)
        self._status(self.ref.label, "error", message)
        if isinstance(error, HostKeyChanged):
            QMessageBox.critical(self, "Host key changed: connection refused", message)

    def _ask_trust(self, error: HostKeyUnknown) -> bool:
        answer = QMessageBox.question(
            self,
            "Unknown host key",
            f"{self.ref.label} is not known yet.\n\nIts {error.key_type} key fingerprint is:\n"
            f"{error.fingerprint}\n\nTrust this key only if it matches the fingerprint the host's "
            "administrator gives you. Trusting saves it in diagkit's known_hosts.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    # --- display -------------------------------------------------------------------------------

    def _show(self, snap: HostSnapshot) -> None:
        self.findings.clear()
        for f in snap.findings:
            item = QTreeWidgetItem([f.severity.label.upper(), f.title, f.probe, f.hint])
            item.setForeground(0, QBrush(SEVERITY_COLOURS[f.severity]))
            item.setToolTip(1, f.detail or f.title)
            item.setToolTip(3, f.hint)
            self.findings.addTopLevelItem(item)
        if not snap.findings:
            self.findings.addTopLevelItem(QTreeWidgetItem(["", "No findings: nothing looks wrong.", "", ""]))
        self.probes.clear()
        for result in snap.results:
            self.probes.addTopLevelItem(self._probe_item(result))
        if self.probes.topLevelItemCount():
            self.probes.setCurrentItem(self.probes.topLevelItem(0))

    def _probe_item(self, result: ProbeResult) -> QTreeWidgetItem:
        item = QTreeWidgetItem([result.probe, "ok" if result.ok else "error",
                                f"{result.duration:.2f} s", result.summary()])
        item.setData(0, Qt.ItemDataRole.UserRole, result)
        if not result.ok:
            item.setForeground(1, QBrush(SEVERITY_COLOURS[Severity.CRITICAL]))
            item.setToolTip(3, result.error or "")
        for key, value in result.data.facts.items():
            item.addChild(QTreeWidgetItem([key, "", "", str(value)]))
        for metric in result.data.metrics:
            labels = ", ".join(f"{k}={v}" for k, v in metric.labels.items())
            name = f"{metric.name} [{labels}]" if labels else metric.name
            item.addChild(QTreeWidgetItem([name, "", "", f"{metric.value:g} {metric.unit}".strip()]))
        for note in result.data.notes:
            item.addChild(QTreeWidgetItem(["note", "", "", note]))
        return item

    def _show_raw(self, current: QTreeWidgetItem | None, _previous: object = None) -> None:
        while current is not None and current.parent() is not None:
            current = current.parent()
        result = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        if isinstance(result, ProbeResult):
            text = result.raw
            if result.stderr.strip():
                text += "\n--- stderr ---\n" + result.stderr
            if result.error:
                text = f"ERROR: {result.error}\n\n{text}"
            self.raw.setPlainText(text)
