"""Pick logs on a connected host and copy them into the local cache for offline work."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import DiagkitError
from diagkit.transport.base import Transport
from diagkit.ui.workers import Worker, run_in_background
from diagkit.units import human_bytes


class FetchLogsDialog(QDialog):
    """Lists the logs under a folder of the host; fetches the chosen ones. ``fetched`` carries
    the local paths when done (the dialog then closes)."""

    fetched = Signal(list)

    def __init__(self, transport: Transport, host_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transport = transport
        self.host_label = host_label
        self.local_paths: list[Path] = []
        self._worker: Worker | None = None
        self.setWindowTitle(f"Fetch logs from {host_label}")
        self.resize(720, 480)
        self.folder = QLineEdit("/var/log")
        self.list_button = QPushButton("List")
        self.list_button.clicked.connect(self.list_logs)
        top = QHBoxLayout()
        top.addWidget(QLabel("Folder on the host:"))
        top.addWidget(self.folder, 1)
        top.addWidget(self.list_button)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Log", "Size", "Modified"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.setColumnWidth(0, 420)
        self.tree.itemDoubleClicked.connect(lambda *_: self.fetch_selected())
        self.state = QLabel("")
        self.state.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.fetch_button = self.buttons.addButton("Fetch and open", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.fetch_selected)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.state)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self.list_logs()

    def list_logs(self) -> None:
        from diagkit.logs.fetch import list_remote_logs

        transport, folder = self.transport, self.folder.text().strip() or "/var/log"
        self.state.setText(f"Listing {folder} on {self.host_label}…")
        self.tree.clear()
        if self._worker is not None:
            self._worker.cancel()  # an older listing's result must not land in this one

        def done(entries: list) -> None:
            self._worker = None
            for path, size, mtime in entries:
                when = mtime.strftime("%Y-%m-%d %H:%M") if hasattr(mtime, "strftime") else str(mtime)
                item = QTreeWidgetItem([str(path), human_bytes(size), when])
                item.setData(0, Qt.ItemDataRole.UserRole, str(path))
                item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
                self.tree.addTopLevelItem(item)
            self.state.setText(f"{len(entries)} log file(s). Select one or more, then Fetch.")

        self._worker = run_in_background(lambda: list_remote_logs(transport, folder),
                                         on_done=done, on_error=self._failed, owner=self)

    def fetch_selected(self) -> None:
        from diagkit.logs.fetch import fetch

        paths = [i.data(0, Qt.ItemDataRole.UserRole) for i in self.tree.selectedItems()]
        if not paths:
            self.state.setText("Select at least one log first.")
            return
        transport = self.transport
        self.progress.setRange(0, len(paths))
        self.progress.setValue(0)
        self.progress.show()
        self.fetch_button.setEnabled(False)
        self.state.setText(f"Fetching {len(paths)} file(s)…")

        def job(progress, cancel: threading.Event) -> list[Path]:
            local = []
            for n, path in enumerate(paths):
                local.append(fetch(transport, path, cancel=cancel))
                progress(n + 1)
            return local

        def done(local: list[Path]) -> None:
            self._worker = None
            self.local_paths = local
            self.fetched.emit(local)
            self.accept()

        self._worker = run_in_background(job, on_done=done, on_error=self._failed,
                                         on_progress=lambda n: self.progress.setValue(int(n)), owner=self)

    def _failed(self, error: BaseException) -> None:
        self._worker = None
        self.fetch_button.setEnabled(True)
        self.progress.hide()
        self.state.setText(str(error) if isinstance(error, DiagkitError | OSError)
                           else f"Unexpected error: {error}")

    def reject(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        super().reject()
