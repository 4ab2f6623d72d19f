"""Interactive shells with a terminal (a PTY) on a machine: the core of the Terminal tab.

:func:`open_shell` starts the login shell of the machine behind a transport, with a pseudo
terminal of a given size, and hands back a :class:`ShellSession`:

* :class:`LocalShell` for this machine: a pty pair (``pty.openpty``), the user's shell as a
  session leader with the pty's slave side as its controlling terminal; a resize sets the window
  size on the master side (``TIOCSWINSZ``), and the kernel sends the foreground job SIGWINCH.
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
import errno
import fcntl
import os
import pwd
import queue
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import paramiko

from diagkit.errors import ConnectionLost, TransportError
from diagkit.transport.base import Transport
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTransport

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


class _Session:
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


def _winsize(cols: int, rows: int) -> bytes:
    return struct.pack("HHHH", rows, cols, 0, 0)


def _login_shell() -> str:
    shell = os.environ.get("SHELL", "")
    if not shell:
        with contextlib.suppress(KeyError):
            shell = pwd.getpwuid(os.getuid()).pw_shell
    return shell if shell and os.access(shell, os.X_OK) else "/bin/sh"


def _take_terminal() -> None:
    # Runs in the child between fork and exec, after setsid (start_new_session): the pty's
    # slave side, already on fd 0, becomes the controlling terminal, so Ctrl+C, job control and
    # SIGWINCH reach the foreground program.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class LocalShell(_Session):
    """The user's shell on this machine, on a fresh pty."""

    def __init__(self, *, cols: int, rows: int, on_output: OutputSink, on_closed: ClosedSink,
                 term: str = DEFAULT_TERM, label: str = "local", shell: str | None = None,
                 cwd: str | None = None) -> None:
        super().__init__(label, on_output, on_closed)
        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, _winsize(cols, rows))
            env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
            env.update(TERM=term, COLORTERM="truecolor")
            self._proc = subprocess.Popen(
                [shell or _login_shell()], stdin=slave, stdout=slave, stderr=slave,
                cwd=cwd or os.path.expanduser("~"), env=env, start_new_session=True,
                preexec_fn=_take_terminal, close_fds=True)  # noqa: PLW1509 - see _take_terminal
        except OSError as exc:
            os.close(master)
            raise TransportError(f"Cannot start a shell on this machine ({exc}). Check that "
                                 "the shell in $SHELL exists and runs.", host=label) from exc
        finally:
            os.close(slave)
        self._fd = master
        self._start_threads()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _read_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                ready, _, _ = select.select([self._fd], [], [], _POLL)
                if not ready:
                    continue
                data = os.read(self._fd, _READ_BLOCK)
            except OSError as exc:
                # EIO: every process holding the slave side closed it (the shell exited).
                if exc.errno not in (errno.EIO, errno.EBADF):
                    self._on_output(f"\r\n[terminal read error: {exc}]\r\n".encode())
                break
            if not data:
                break
            self._on_output(data)
        if self._stopping.is_set():
            self._finish(ShellEnd(CLOSED, "The shell was closed."))
            return
        try:
            status = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        self._finish(ShellEnd(EXITED, _exited(status), status))

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stopping.is_set():
            try:
                done = os.write(self._fd, view)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            view = view[done:]

    def _set_size(self, cols: int, rows: int) -> None:
        fcntl.ioctl(self._fd, termios.TIOCSWINSZ, _winsize(cols, rows))

    def close(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        # Hang up the whole session, as closing a terminal window does; KILL what ignores it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGHUP)
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=2)
        self._join()
        with contextlib.suppress(OSError):
            os.close(self._fd)


def _exited(status: int | None) -> str:
    if status is None:
        return "The shell ended."
    if status < 0:
        return f"The shell was killed by signal {-status}."
    return f"The shell exited (status {status})."


class SshShell(_Session):
    """The login shell of a remote machine over a channel of its open SSH connection."""

    def __init__(self, transport: SshTransport, *, cols: int, rows: int, on_output: OutputSink,
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
            self._finish(ShellEnd(EXITED, _exited(status), status))
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
    if isinstance(transport, SshTransport):
        return SshShell(transport, cols=cols, rows=rows, on_output=on_output,
                        on_closed=on_closed, term=term)
    if isinstance(transport, LocalTransport):
        return LocalShell(cols=cols, rows=rows, on_output=on_output, on_closed=on_closed,
                          term=term, label=transport.host)
    raise TransportError(f"{transport.host} has no interactive terminal: its connection "
                         f"({type(transport).__name__}) runs single commands only. Use the "
                         "Console tab.", host=transport.host)


__all__ = ["CLOSED", "DEFAULT_TERM", "EXITED", "LOST", "LocalShell", "ShellEnd", "ShellSession",
           "SshShell", "open_shell"]
