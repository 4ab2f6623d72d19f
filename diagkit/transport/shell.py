"""Interactive shells with a terminal (a PTY) on a machine: the core of the Terminal tab.

:func:`open_shell` starts the login shell of the machine behind a transport, with a pseudo
terminal of a given size, and hands back a :class:`ShellSession`:

* :class:`~diagkit.transport.local.LocalShell` for this machine: a pty pair, the user's shell
  as a session leader with the pty's slave side as its controlling terminal; a resize sets the
  window size on the master side (``TIOCSWINSZ``), and the kernel sends the foreground job
  SIGWINCH. POSIX only, so it lives in local.py with the other calls of that kind.
* :class:`SshShell` for a remote machine: a session channel on the host's *existing* SSH
  connection (no second login) with ``get_pty`` + ``invoke_shell``; a resize is the SSH
  window-change request (``resize_pty``).

Both have the same small interface. Bytes come out through ``on_output`` and the end through
``on_closed`` (once, with a :class:`ShellEnd`), both called from the session's reader thread -
never from the caller's - so a GUI must hop to its own thread. ``write`` and ``resize`` only
queue: a writer thread sends, so a full PTY or SSH window (a big paste into a busy program)
never blocks the caller. Nothing here knows about terminal emulation: the bytes are the
program's, escapes and all.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import paramiko

from diagkit.errors import ConnectionLost, TransportError
from diagkit.transport.base import Transport

DEFAULT_TERM = "xterm-256color"
_READ_BLOCK = 65536
_POLL = 0.2

#: How a session ended: the shell exited (``exit_status``, ``None`` when unknown), the
#: connection under it dropped (``lost``), or its owner closed it.
EXITED, LOST, CLOSED = "exited", "lost", "closed"


@dataclass(frozen=True)
class ShellEnd:
    """Why a shell session is over, in words for the user (``message``)."""

    how: str  # EXITED, LOST or CLOSED
    message: str
    exit_status: int | None = None


OutputSink = Callable[[bytes], None]
ClosedSink = Callable[[ShellEnd], None]


class ShellSession(Protocol):
    """One interactive shell with a terminal. See the module docstring."""

    @property
    def host(self) -> str: ...

    @property
    def closed(self) -> bool: ...

    def write(self, data: bytes) -> None:
        """Send keystrokes (or pasted text) to the shell; queued, never blocks."""
        ...

    def resize(self, cols: int, rows: int) -> None:
        """The terminal is now ``cols`` x ``rows`` cells; the program is told (SIGWINCH)."""
        ...

    def close(self) -> None:
        """End the shell (hang-up) and free the PTY or channel. Idempotent."""
        ...


class Session:
    """What both kinds share: the reader and writer threads, and reporting the end once."""

    def __init__(self, host: str, on_output: OutputSink, on_closed: ClosedSink) -> None:
        self._host = host
        self._on_output = on_output
        self._on_closed = on_closed
        self._outbox: queue.SimpleQueue[bytes | tuple[int, int] | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._ended = threading.Event()
        self._end_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._writer: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._host

    @property
    def closed(self) -> bool:
        return self._ended.is_set() or self._stopping.is_set()

    def _start_threads(self) -> None:
        self._reader = threading.Thread(target=self._read_loop, name=f"shell-read {self._host}",
                                        daemon=True)
        self._writer = threading.Thread(target=self._write_loop,
                                        name=f"shell-write {self._host}", daemon=True)
        self._reader.start()
        self._writer.start()

    def write(self, data: bytes) -> None:
        if data and not self.closed:
            self._outbox.put(bytes(data))

    def resize(self, cols: int, rows: int) -> None:
        if not self.closed:
            self._outbox.put((max(1, int(cols)), max(1, int(rows))))

    def _write_loop(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None or self._ended.is_set():
                return
            try:
                if isinstance(item, tuple):
                    self._set_size(*item)
                else:
                    self._send(item)
            except (OSError, EOFError, paramiko.SSHException):
                # The reader sees the same dead PTY or channel and reports the end in words.
                return

    def _finish(self, end: ShellEnd) -> None:
        with self._end_lock:
            if self._ended.is_set():
                return
            self._ended.set()
        self._outbox.put(None)
        self._on_closed(end)

    def _join(self, timeout: float = 3.0) -> None:
        self._outbox.put(None)
        for thread in (self._reader, self._writer):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)

    # implemented by each kind
    def _read_loop(self) -> None:
        raise NotImplementedError

    def _send(self, data: bytes) -> None:
        raise NotImplementedError

    def _set_size(self, cols: int, rows: int) -> None:
        raise NotImplementedError


def exited_message(status: int | None) -> str:
    """How the end of a shell with exit ``status`` (None: unknown) is told to the user."""
    if status is None:
        return "The shell ended."
    if status < 0:
        return f"The shell was killed by signal {-status}."
    return f"The shell exited (status {status})."


class ShellHost(Protocol):
    """What :class:`SshShell` needs of :class:`~diagkit.transport.ssh.SshTransport` (named
    here, not imported: ssh.py imports this module)."""

    @property
    def host(self) -> str: ...

    @property
    def is_active(self) -> bool: ...

    def open_shell_channel(self, term: str, cols: int, rows: int) -> paramiko.Channel: ...

    def lost(self, detail: object) -> ConnectionLost: ...


class SshShell(Session):
    """The login shell of a remote machine over a channel of its open SSH connection."""

    def __init__(self, transport: ShellHost, *, cols: int, rows: int, on_output: OutputSink,
                 on_closed: ClosedSink, term: str = DEFAULT_TERM) -> None:
        super().__init__(transport.host, on_output, on_closed)
        self._transport = transport
        self._chan = transport.open_shell_channel(term, cols, rows)
        self._start_threads()

    def _read_loop(self) -> None:
        problem: object = None
        while True:
            try:
                data = self._chan.recv(_READ_BLOCK)
            except TimeoutError:
                continue
            except (OSError, EOFError, paramiko.SSHException) as exc:
                problem = exc
                break
            if not data:
                break
            self._on_output(data)
        if self._stopping.is_set():
            self._finish(ShellEnd(CLOSED, "The shell was closed."))
            return
        # The exit status may trail the end of output; a connection that went away shows as an
        # inactive transport, which paramiko may mark a moment after closing its channels.
        # (paramiko's exit_status_ready() is also true for a channel closed without a status:
        # only a status the server sent is not -1.)
        deadline = time.monotonic() + 1.0
        while (self._transport.is_active and self._chan.exit_status == -1
               and time.monotonic() < deadline):
            time.sleep(0.02)
        if self._chan.exit_status != -1:
            status = self._chan.exit_status
            self._finish(ShellEnd(EXITED, exited_message(status), status))
            return
        if self._transport.is_active:
            self._finish(ShellEnd(EXITED, "The server closed the shell's channel."))
            return
        lost: ConnectionLost = self._transport.lost(problem or "the connection closed")
        self._finish(ShellEnd(LOST, str(lost)))

    def _send(self, data: bytes) -> None:
        self._chan.sendall(data)

    def _set_size(self, cols: int, rows: int) -> None:
        self._chan.resize_pty(width=cols, height=rows)

    def close(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        with contextlib.suppress(Exception):  # closing must not fail; the channel may be gone
            self._chan.close()
        self._join()


def open_shell(transport: Transport, *, cols: int, rows: int, on_output: OutputSink,
               on_closed: ClosedSink, term: str = DEFAULT_TERM) -> ShellSession:
    """Start an interactive shell with a ``cols`` x ``rows`` terminal on ``transport``'s
    machine. Raises :class:`~diagkit.errors.TransportError` (or its
    :class:`~diagkit.errors.ConnectionLost`) when it cannot."""
    # Each transport that can opens its own kind (LocalTransport.open_shell: a local pty,
    # SshTransport.open_shell: a channel), so this module needs neither, nor their platforms.
    opener: Callable[..., ShellSession] | None = getattr(transport, "open_shell", None)
    if opener is not None:
        return opener(cols=cols, rows=rows, on_output=on_output, on_closed=on_closed, term=term)
    raise TransportError(f"{transport.host} has no interactive terminal: its connection "
                         f"({type(transport).__name__}) runs single commands only. Use the "
                         "Console tab.", host=transport.host)


__all__ = [
    "CLOSED",
    "DEFAULT_TERM",
    "EXITED",
    "LOST",
    "ClosedSink",
    "OutputSink",
    "Session",
    "ShellEnd",
    "ShellHost",
    "ShellSession",
    "SshShell",
    "exited_message",
    "open_shell",
]
