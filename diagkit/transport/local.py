"""The machine diagkit runs on, through subprocess. Always available, no set-up."""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import select
import signal
import struct
import subprocess
import threading
import time
from typing import IO

from diagkit.errors import CommandTimeout, RemoteFileError, TransportError
from diagkit.transport.base import (
    COPY_BLOCK,
    DEFAULT_TIMEOUT,
    CommandResult,
    ContextManagerMixin,
    OutputCallback,
    PartFile,
    Progress,
    utf8_decoder,
)
from diagkit.transport.shell import (
    CLOSED,
    DEFAULT_TERM,
    EXITED,
    ClosedSink,
    OutputSink,
    Session,
    ShellEnd,
    exited_message,
)

_KILL_GRACE = 2.0
_POLL = 0.05


class LocalTransport(ContextManagerMixin):
    """Runs commands with ``/bin/sh -c`` in their own process group, so a timeout kills them all."""

    def __init__(self, label: str = "local") -> None:
        self._label = label

    @property
    def host(self) -> str:
        return self._label

    def open_shell(self, *, cols: int, rows: int, on_output: OutputSink, on_closed: ClosedSink,
                   term: str = DEFAULT_TERM) -> LocalShell:
        """The user's shell on a new pty (see :func:`diagkit.transport.shell.open_shell`)."""
        return LocalShell(cols=cols, rows=rows, on_output=on_output, on_closed=on_closed,
                          term=term, label=self._label)

    def run(
        self,
        command: str,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        stdin: str | None = None,
        on_output: OutputCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> CommandResult:
        started = time.monotonic()
        proc = self._start(command, stdin)
        blocks = _read_in_threads(proc)
        _feed(proc, stdin)
        output = _Output(on_output)
        deadline = None if timeout is None else started + timeout
        try:
            timed_out = self._wait(proc, blocks, output, deadline, cancel)
        except BaseException:
            self._kill(proc)  # on_output raised: nothing keeps running behind our back
            raise
        output.finish()
        duration = time.monotonic() - started
        stdout, stderr = output.text("stdout"), output.text("stderr")
        if timed_out:
            raise CommandTimeout.killed(
                host=self._label, timeout=timeout, cancelled=cancel is not None and cancel.is_set(),
                stdout=stdout, stderr=stderr,
            )
        proc.wait()
        status = proc.returncode if proc.returncode >= 0 else -1
        return CommandResult(command, stdout, stderr, status, duration)

    def _wait(self, proc: subprocess.Popen[bytes], blocks: queue.Queue[tuple[str, bytes | None]],
              output: _Output, deadline: float | None, cancel: threading.Event | None) -> bool:
        """Hand output on until the process is gone and its pipes are drained; True if killed."""
        ended: float | None = None  # when the process was seen gone (exited or killed)
        killed = False
        open_streams = 2
        while open_streams or ended is None:
            try:
                name, block = blocks.get(timeout=_POLL)
            except queue.Empty:
                pass
            else:
                if block is None:
                    open_streams -= 1
                else:
                    output.add(name, block)
            if ended is None and proc.poll() is not None:
                ended = time.monotonic()
            if ended is None:
                cancelled = cancel is not None and cancel.is_set()
                if cancelled or (deadline is not None and time.monotonic() > deadline):
                    self._kill(proc)  # then drain what it printed before it died
                    killed, ended = True, time.monotonic()
            elif time.monotonic() - ended > _KILL_GRACE:
                break  # a background child still holds the pipes open: do not wait for it
        return killed

    def _start(self, command: str, stdin: str | None) -> subprocess.Popen[bytes]:
        argv = ["cmd", "/c", command] if os.name == "nt" else ["/bin/sh", "-c", command]
        try:
            return subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=os.name != "nt",
            )
        except OSError as exc:
            raise TransportError(
                f"Could not start a shell on this machine: {exc}. Check that /bin/sh exists.",
                host=self._label,
            ) from exc

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        if os.name == "nt":
            proc.kill()
            proc.wait()
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=_KILL_GRACE)
                return
            except subprocess.TimeoutExpired:
                continue

    def copy_file(
        self,
        remote: str,
        local: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        resume: bool = False,
        max_bytes: int | None = None,
    ) -> int:
        """A plain file copy; see :meth:`diagkit.transport.base.Transport.copy_file`."""
        try:
            src = open(remote, "rb")  # noqa: SIM115 - closed by the with below
            st = os.fstat(src.fileno())
        except OSError as exc:
            raise self._unreadable(remote, exc) from exc
        with src, PartFile(local, host=self._label, remote=remote, total=st.st_size,
                           progress=progress, cancel=cancel, resume=resume,
                           max_bytes=max_bytes) as part:
            src.seek(part.offset)
            while True:
                try:
                    block = src.read(COPY_BLOCK)
                except OSError as exc:  # the source side only: writing errors stay OSError
                    raise self._unreadable(remote, exc) from exc
                if not block:
                    break
                part.write(block)
            return part.commit(st.st_mtime, st.st_atime)

    def _unreadable(self, path: str, exc: OSError) -> RemoteFileError:
        why = exc.strerror or str(exc)
        return RemoteFileError(
            f"Cannot read {path} on {self._label}: {why}. Check the path and that your user may "
            "read it.", host=self._label, path=path, reason=why)

    def close(self) -> None:
        pass


class _Output:
    """Decodes what the readers queued and hands it to ``on_output`` - in the calling thread."""

    def __init__(self, on_output: OutputCallback | None) -> None:
        self._on_output = on_output
        self._decoders = {"stdout": utf8_decoder(), "stderr": utf8_decoder()}
        self._chunks: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def add(self, name: str, block: bytes) -> None:
        self._deliver(name, self._decoders[name].decode(block))

    def finish(self) -> None:
        for name, decoder in self._decoders.items():
            self._deliver(name, decoder.decode(b"", final=True))

    def text(self, name: str) -> str:
        return "".join(self._chunks[name])

    def _deliver(self, name: str, text: str) -> None:
        if text:
            self._chunks[name].append(text)
            if self._on_output is not None:
                self._on_output(name, text)


def _read_in_threads(proc: subprocess.Popen[bytes]) -> queue.Queue[tuple[str, bytes | None]]:
    """Reader threads only move bytes into the queue (None marks a stream's end): decoding and
    on_output happen in the calling thread, as the contract says."""
    blocks: queue.Queue[tuple[str, bytes | None]] = queue.Queue()
    for stream, name in ((proc.stdout, "stdout"), (proc.stderr, "stderr")):
        threading.Thread(target=_pump, args=(stream, name, blocks), daemon=True).start()
    return blocks


def _pump(stream: IO[bytes], name: str, blocks: queue.Queue[tuple[str, bytes | None]]) -> None:
    try:
        for block in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
            blocks.put((name, block))
    finally:
        blocks.put((name, None))
        stream.close()


def _feed(proc: subprocess.Popen[bytes], stdin: str | None) -> None:
    if stdin is not None and proc.stdin is not None:
        try:
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass


# --- an interactive shell on a pty (the Terminal tab; see diagkit.transport.shell) ----------

_PTY_READ = 65536
_PTY_POLL = 0.2  # how soon the reader notices close()

def _winsize(cols: int, rows: int) -> bytes:
    return struct.pack("HHHH", rows, cols, 0, 0)


def _login_shell() -> str:
    import pwd

    shell = os.environ.get("SHELL", "")
    if not shell:
        with contextlib.suppress(KeyError):
            shell = pwd.getpwuid(os.getuid()).pw_shell
    return shell if shell and os.access(shell, os.X_OK) else "/bin/sh"


def _take_terminal() -> None:
    # Runs in the child between fork and exec, after setsid (start_new_session): the pty's
    # slave side, already on fd 0, becomes the controlling terminal, so Ctrl+C, job control and
    # SIGWINCH reach the foreground program.
    import fcntl
    import termios

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class LocalShell(Session):
    """The user's shell on this machine, on a fresh pty."""

    def __init__(self, *, cols: int, rows: int, on_output: OutputSink, on_closed: ClosedSink,
                 term: str = DEFAULT_TERM, label: str = "local", shell: str | None = None,
                 cwd: str | None = None) -> None:
        super().__init__(label, on_output, on_closed)
        try:
            import fcntl
            import termios
        except ImportError as exc:  # Windows: no ptys
            raise TransportError("This machine has no pseudo terminals (Windows): use the "
                                 "Console tab for commands here.", host=label) from exc
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
                ready, _, _ = select.select([self._fd], [], [], _PTY_POLL)
                if not ready:
                    continue
                data = os.read(self._fd, _PTY_READ)
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
        self._finish(ShellEnd(EXITED, exited_message(status), status))

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
        import fcntl
        import termios

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
