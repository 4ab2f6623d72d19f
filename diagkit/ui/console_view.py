"""A command console for one host: type a command, watch its output stream in, stop it.

The command runs in the thread pool (:func:`diagkit.ui.workers.run_in_background`); output
chunks come back through the worker's ``progress`` signal and are appended in short batches so
a chatty command does not flood the GUI thread. History (Up/Down) lives in
:mod:`diagkit.history`.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QKeySequence,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import CommandTimeout, DiagkitError
from diagkit.history import CommandHistory
from diagkit.transport.base import CommandResult, Transport
from diagkit.ui.workers import Worker, run_in_background

MAX_LINES = 20_000
DEFAULT_TIMEOUT_S = 60
_FLUSH_MS = 30
# Colour and cursor escapes (e.g. ls --color, progress bars) would show as garbage.
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]")


def _clean(text: str) -> str:
    text = _ANSI_RE.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _format(colour: str | None = None, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    if colour:
        fmt.setForeground(QColor(colour))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class ConsoleView(QWidget):
    """Run shell commands on the host of ``set_transport``.

    ``command_finished`` carries the :class:`CommandResult`, or the exception the run raised
    (a :class:`CommandTimeout` with ``timeout == 0`` when the user stopped it).
    """

    command_finished = Signal(object)
    reconnect_requested = Signal()

    def __init__(self, host_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host_label = host_label
        self.history = CommandHistory(host_label)
        self._transport: Transport | None = None
        self._worker: Worker | None = None
        self._cancel: threading.Event | None = None
        self._pending: list[tuple[str, str]] = []
        self._started = 0.0
        self._lost: str | None = None  # why the connection was lost, until the next one

        self._formats = {
            "stdout": QTextCharFormat(),
            "stderr": _format("#c62828"),
            "header": _format("#1565c0", bold=True),
            "footer": _format("#616161", italic=True),
            "error": _format("#c62828", bold=True),
        }

        self.output = QPlainTextEdit(readOnly=True)
        self.output.setMaximumBlockCount(MAX_LINES)
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.output.setPlaceholderText(f"Commands run on {host_label}; their output appears here.")

        self.command_edit = QLineEdit()
        self.command_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.command_edit.setToolTip(
            "Enter runs the command; Up/Down recall earlier ones; Esc or Ctrl+C stops a running "
            "command; Ctrl+L clears. Lines that look like they hold a password or token, or that "
            "start with a space, are not kept in history."
        )
        self.command_edit.returnPressed.connect(self.run_command)
        self.command_edit.textEdited.connect(self._edited)
        self.command_edit.installEventFilter(self)

        self.timeout_spin = QSpinBox()
        self.timeout_spin.setRange(1, 3600)
        self.timeout_spin.setValue(DEFAULT_TIMEOUT_S)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setToolTip("The command is killed when it runs longer than this.")
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run_command)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Kill the running command (Esc or Ctrl+C in the command line).")
        self.stop_button.clicked.connect(self.stop)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Clear the output (Ctrl+L).")
        self.clear_button.clicked.connect(self.clear)
        self.reconnect_button = QPushButton("Reconnect")
        self.reconnect_button.setToolTip("Connect to the host again")
        self.reconnect_button.clicked.connect(self.reconnect_requested.emit)
        self.reconnect_button.hide()
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        row = QHBoxLayout()
        row.addWidget(QLabel("$"))
        row.addWidget(self.command_edit, 1)
        row.addWidget(QLabel("Timeout"))
        row.addWidget(self.timeout_spin)
        row.addWidget(self.run_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.output, 1)
        layout.addLayout(row)
        hint_row = QHBoxLayout()
        hint_row.addWidget(self.hint, 1)
        hint_row.addWidget(self.reconnect_button)
        layout.addLayout(hint_row)

        shortcut = QShortcut(QKeySequence("Ctrl+L"), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.clear)

        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(_FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)
        self._update_state()

    # --- public ---------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._worker is not None

    def set_transport(self, transport: Transport | None, *, reason: str | None = None) -> None:
        """Use ``transport`` for the next commands; ``None`` disables Run ("Connect first"), or
        with ``reason`` says why the connection was lost and offers Reconnect.

        The console never closes the transport: its owner (the host tab) does.
        """
        self._transport = transport
        self._lost = reason if transport is None else None
        self.reconnect_button.setVisible(self._lost is not None)
        self._update_state()

    def run_command(self, command: str | None = None) -> bool:
        """Run ``command`` (default: the command line's text). False when nothing was started."""
        text = self.command_edit.text() if command is None else command
        if not text.strip() or self._transport is None or self._worker is not None:
            return False
        transport = self._transport
        timeout = float(self.timeout_spin.value())
        cancel = threading.Event()
        try:
            self.history.add(text)
        except DiagkitError as exc:
            self._write(f"(history not saved: {exc})\n", "footer", own_line=True)
        if command is None:
            self.command_edit.clear()
        self._write(f"$ {text.strip()}    [{datetime.now():%H:%M:%S}]\n", "header", own_line=True)

        def job(progress) -> CommandResult:
            return transport.run(
                text, timeout=timeout, cancel=cancel,
                on_output=lambda stream, chunk: progress((stream, chunk)),
            )

        # Stop uses an event of our own, not the worker's: Worker.cancel() drops the outcome,
        # and we want the transport's "stopped" error back to write the footer.
        self._cancel = cancel
        self._started = time.monotonic()
        self._worker = run_in_background(
            job, on_done=self._done, on_error=self._failed, on_progress=self._chunk, owner=self)
        self._update_state()
        return True

    def stop(self) -> None:
        """Kill the running command; the footer says "stopped" when the transport confirms."""
        if self._cancel is not None:
            self._cancel.set()
            self.hint.setText("Stopping…")

    def clear(self) -> None:
        self._pending.clear()
        self.output.clear()

    def shutdown(self) -> None:
        """Stop a running command and wait briefly for it (the tab is closing)."""
        worker, self._worker = self._worker, None
        self._flush_timer.stop()
        if worker is None:
            return
        if self._cancel is not None:
            self._cancel.set()
        worker.cancel()  # drop the outcome: this widget is going away
        for sig in (worker.signals.finished, worker.signals.failed, worker.signals.progress):
            try:
                sig.disconnect()
            except (RuntimeError, TypeError):
                pass
        worker.done.wait(3)
        self._update_state()

    # --- outcome (GUI thread) ---------------------------------------------------------------

    def _chunk(self, item: tuple[str, str]) -> None:
        self._pending.append(item)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        merged: list[tuple[str, str]] = []
        for stream, text in pending:
            if merged and merged[-1][0] == stream:
                merged[-1] = (stream, merged[-1][1] + text)
            else:
                merged.append((stream, text))
        for stream, text in merged:
            self._write(_clean(text), stream)

    def _done(self, result: CommandResult) -> None:
        status = ("killed by a signal" if result.exit_status == -1
                  else f"exit status {result.exit_status}")
        self._finish(f"{status}, {result.duration:.2f} s", "footer", result)

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, CommandTimeout):
            if error.timeout == 0:
                text = f"stopped after {time.monotonic() - self._started:.2f} s"
            else:
                text = f"killed after {error.timeout:g} s (timeout)"
            self._finish(text, "footer", error)
            return
        if isinstance(error, DiagkitError):
            text = f"error: {error}"
        else:
            text = (f"error: unexpected {type(error).__name__}: {error}. "
                    "Details are in the log file.")
        self._finish(text, "error", error)

    def _finish(self, text: str, kind: str, outcome: object) -> None:
        self._flush_timer.stop()
        self._flush()
        self._write(f"[{text}]\n", kind, own_line=True)
        self._worker = None
        self._cancel = None
        self._update_state()
        self.command_finished.emit(outcome)

    # --- display ------------------------------------------------------------------------------

    def _write(self, text: str, kind: str, *, own_line: bool = False) -> None:
        if not text:
            return
        bar = self.output.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        cursor = QTextCursor(self.output.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if own_line and cursor.positionInBlock() > 0:
            cursor.insertText("\n", self._formats["stdout"])
        cursor.insertText(text, self._formats[kind])
        if at_bottom:
            bar.setValue(bar.maximum())

    def _edited(self, _text: str) -> None:
        self.history.reset()  # typing starts a new line: Up begins again at the newest entry

    def _update_state(self) -> None:
        running = self._worker is not None
        connected = self._transport is not None
        self.run_button.setEnabled(connected and not running)
        self.stop_button.setEnabled(running)
        if running:
            self.hint.setText("Running… (Esc or Ctrl+C stops it)")
        elif not connected and self._lost:
            self.hint.setText(self._lost)
        elif not connected:
            self.hint.setText("Connect first: the console runs commands over the host's connection.")
        else:
            self.hint.setText(f"Commands run on {self.host_label}.")
        self.command_edit.setPlaceholderText(
            "Connect first" if not connected else f"Command to run on {self.host_label}"
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.command_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key, mods = event.key(), event.modifiers()
            ctrl = mods & Qt.KeyboardModifier.ControlModifier
            if key == Qt.Key.Key_Up:
                self.command_edit.setText(self.history.older(self.command_edit.text()))
                return True
            if key == Qt.Key.Key_Down:
                self.command_edit.setText(self.history.newer())
                return True
            if key == Qt.Key.Key_L and ctrl:
                self.clear()
                return True
            # Ctrl+C keeps copying the selection unless a command runs (as in a terminal).
            if self.is_running and (key == Qt.Key.Key_Escape or (key == Qt.Key.Key_C and ctrl)):
                self.stop()
                return True
        return super().eventFilter(watched, event)
