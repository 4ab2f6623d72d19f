"""How commands reach a machine, and how files come back from it.

A :class:`Transport` has two jobs: run a shell command on one machine and hand back what it
printed, and copy a file from that machine to this one. Everything above it (probes, the console,
monitoring, log fetch) speaks only this protocol and never sees paramiko or subprocess types. Two
implementations, one per file:

* :class:`diagkit.transport.local.LocalTransport` - the machine diagkit runs on (subprocess).
* :class:`diagkit.transport.ssh.SshTransport` - a remote machine over one reused SSH connection.

Contract every implementation keeps (``tests/transport/test_contract.py`` runs the same test class
against both):

* ``run(command, timeout=..., stdin=..., on_output=...)`` runs ``command`` with a POSIX shell
  (``sh -c`` locally; the login shell remotely) and returns a :class:`CommandResult` - a non-zero
  exit status is a *result*, not an error.
* It is safe to call ``run`` from several threads at once; each call gets its own channel/process,
  so probes of one snapshot run in parallel over one connection.
* When ``timeout`` passes, the command is killed (the whole process group) and
  :class:`~diagkit.errors.CommandTimeout` is raised carrying what was printed so far.
* If the connection drops mid-command, :class:`~diagkit.errors.ConnectionLost` is raised.
* ``on_output(stream, text)`` (optional) receives output as it arrives (``stream`` is
  ``"stdout"`` or ``"stderr"``), always from the thread that called ``run`` - never from a reader
  thread - so a caller may touch its own state without locks. If it raises, the command is
  killed and the exception propagates.
* ``cancel`` (optional ``threading.Event``): when set, the command is killed and
  :class:`~diagkit.errors.CommandTimeout` is raised (``timeout`` 0).
* ``copy_file(remote, local, progress=..., cancel=...)`` copies one file byte for byte; see
  :meth:`Transport.copy_file` for its contract.
* ``close()`` is idempotent; transports are context managers.
* Commands are strings for the shell: build them with :func:`shlex.quote` for every value.
* Errors of the library underneath (paramiko, OSError of subprocess) never escape: they are
  mapped into :mod:`diagkit.errors` inside the implementation.

There is no ``read_file``: nothing needed it (probes read files with their scripts; whole files
come back with ``copy_file``). A caller wanting a small file copies it.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import shlex
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self, runtime_checkable

from diagkit.errors import CommandTimeout, RemoteFileTooLarge

OutputCallback = Callable[[str, str], None]
#: ``progress(done, total)``: bytes copied so far, and the file's size when the copy began
#: (0 when the transport cannot tell).
Progress = Callable[[int, int], None]

DEFAULT_TIMEOUT = 60.0
#: Copies move in blocks of this size: memory stays bounded, progress and cancel come often.
COPY_BLOCK = 1 << 20


@dataclass(frozen=True)
class CommandResult:
    """What one command did. ``exit_status`` is -1 when the command was killed by a signal."""

    command: str
    stdout: str
    stderr: str
    exit_status: int
    duration: float

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


@runtime_checkable
class Transport(Protocol):
    """A connection to one machine. See the module docstring for the contract."""

    @property
    def host(self) -> str:
        """A label for the target, used in messages ("local", "web1", "root@10.0.0.5")."""
        ...

    def run(
        self,
        command: str,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        stdin: str | None = None,
        on_output: OutputCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> CommandResult: ...

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
        """Copy the file ``remote`` of the target to ``local`` on this machine; return its size.

        This is an extension point: every transport implements it, and
        ``tests/transport/test_contract.py`` holds each one to the same rules.

        * **What is copied.** ``remote`` is a path on the target (a plain string: an
          implementation that goes through a shell quotes it). The copy is byte for byte - no
          decoding, no line-end changes - and streamed in blocks of about :data:`COPY_BLOCK`, so
          any size works in bounded memory. A file that grows while it is copied (a live log) is
          copied up to the end the reader meets: at least the size it had at the start, and
          always a prefix of the file as it then is.
        * **Where it goes.** ``local``'s folder must exist. The bytes go to ``.NAME.part`` next to
          it, which is renamed to ``local`` only once the copy is whole (an existing file there
          is replaced then, not before). On any error or cancel the part file is removed:
          nothing partial ever carries the final name. The new file is readable by its owner
          only (0600; copied logs hold customer data) and has the remote file's modification
          time where the transport can learn it (yearless syslog lines are dated by it).
        * **progress(done, total)** (optional) is called after each block, from the calling
          thread: bytes written so far, and the size when the copy began, 0 when unknown
          (``done`` may pass ``total`` when the file grows).
        * **cancel** (optional ``threading.Event``) is checked between blocks; once set, the copy
          stops and :class:`~diagkit.errors.CommandTimeout` (``timeout`` 0) is raised.
        * **resume** (optional): an interrupted copy keeps its part file, and the next copy
          with ``resume`` reads only the rest of the remote file, from the part file's length
          (``progress`` then starts there). A part file longer than the remote file is started
          afresh (the file was rotated or truncated meanwhile).
        * **max_bytes** (optional): a cap. A file bigger than it is refused before a byte is
          copied, one that grows past it is stopped; both raise
          :class:`~diagkit.errors.RemoteFileTooLarge`, and nothing is kept.
        * **Errors**: a missing, unreadable or non-regular remote file raises
          :class:`~diagkit.errors.RemoteFileError` (``path``, and ``reason`` in the system's
          words); a connection that drops mid-copy raises
          :class:`~diagkit.errors.ConnectionLost`; other transport failures a
          :class:`~diagkit.errors.TransportError`. A failure to write ``local`` (its folder
          missing, the disk full) is this machine's business and stays an :class:`OSError`.

        How bytes travel is the implementation's choice: a plain file read locally; SFTP over
        SSH, falling back to ``cat`` over an exec channel where the host has no SFTP subsystem
        (busybox/dropbear hosts). Implementations write through :class:`PartFile`, which keeps
        the rules on the local side.
        """
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class ContextManagerMixin:
    """``with transport:`` support for implementations: closes on exit."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class PartFile:
    """The local side of :meth:`Transport.copy_file`: ``.NAME.part`` until the copy is whole.

    ``with PartFile(local, ...) as part:`` creates the part file owner-only; :meth:`write`
    appends a block, counts it, reports progress and checks ``cancel`` first; :meth:`commit`
    sets the times and renames the part file over ``local``. Leaving the block without a commit
    (an error, a cancel) removes the part file - unless ``resume``: then it stays for the next
    copy, which appends to it from :attr:`offset` (where the transport starts reading). A part
    file longer than the remote file (rotated, truncated) is started afresh.

    ``max_bytes`` caps the copy: a file known to be bigger is refused before a byte is read, one
    that grows past the cap while read is stopped; both raise
    :class:`~diagkit.errors.RemoteFileTooLarge` and keep nothing.
    """

    def __init__(self, local: str | os.PathLike[str], *, host: str, remote: str, total: int = 0,
                 progress: Progress | None = None,
                 cancel: threading.Event | None = None, resume: bool = False,
                 max_bytes: int | None = None) -> None:
        self.local = Path(local)
        self.path = self.local.with_name(f".{self.local.name}.part")
        self.total = total
        self.done = 0
        self.offset = 0  # bytes already there from an interrupted copy (``resume``)
        self._host = host
        self._remote = remote
        self._progress = progress
        self._cancel = cancel
        self._resume = resume
        self._max_bytes = max_bytes
        self._out: BinaryIO | None = None
        self._committed = False

    def _too_large(self, size: int) -> RemoteFileTooLarge:
        from diagkit.units import human_bytes

        limit = self._max_bytes or 0
        have = f"is {human_bytes(size)}" if size > limit else "grew past the cap while copying"
        return RemoteFileTooLarge(
            f"{self._remote} on {self._host} {have}, over the size cap of {human_bytes(limit)}: "
            "nothing was copied. Raise the cap (--max-size) if you need the whole file, or look "
            f"at its end with 'diagkit run {self._host} -- tail -n 5000 "
            f"{shlex.quote(self._remote)}'.",
            host=self._host, path=self._remote, size=size, limit=limit)

    def __enter__(self) -> Self:
        if self._max_bytes is not None and self.total > self._max_bytes:
            raise self._too_large(self.total)
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)
        try:
            kept = self.path.lstat() if self._resume else None
        except FileNotFoundError:
            kept = None
        if (kept is not None and stat.S_ISREG(kept.st_mode)
                and (not self.total or kept.st_size <= self.total)):
            self.offset = self.done = kept.st_size
            os.chmod(self.path, 0o600)
            self._out = os.fdopen(os.open(self.path, flags | os.O_APPEND, 0o600), "ab")
            return self
        # A part file left by a crash may carry other modes: start afresh, owner-only.
        self.path.unlink(missing_ok=True)
        self._out = os.fdopen(os.open(self.path, flags | os.O_EXCL, 0o600), "wb")
        return self

    def stopped(self) -> CommandTimeout:
        return CommandTimeout(f"Copying {self._remote} from {self._host} was stopped.",
                              host=self._host, timeout=0.0)

    def check_cancel(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise self.stopped()

    def _file(self) -> BinaryIO:
        if self._out is None:
            raise RuntimeError("PartFile used outside its with-block")
        return self._out

    def write(self, block: bytes) -> None:
        self.check_cancel()
        if self._max_bytes is not None and self.done + len(block) > self._max_bytes:
            raise self._too_large(self.total)
        self._file().write(block)
        self.done += len(block)
        if self._progress is not None:
            self._progress(self.done, self.total)

    def commit(self, mtime: float | None = None, atime: float | None = None) -> int:
        """Close, date (``mtime``; ``atime`` defaults to it) and rename over ``local``."""
        self._file().close()
        if mtime:
            os.utime(self.path, (atime or mtime, mtime))
        os.replace(self.path, self.local)
        self._committed = True
        return self.done

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._out is not None:
            self._out.close()
        if self._committed:
            return
        if not self._resume or isinstance(exc, RemoteFileTooLarge):
            self.path.unlink(missing_ok=True)
        else:
            # A part file that cannot be read from (a remote error before any byte) is no use.
            with contextlib.suppress(OSError):
                if self.path.stat().st_size == 0:
                    self.path.unlink()


def utf8_decoder() -> codecs.IncrementalDecoder:
    """An incremental UTF-8 decoder for streamed output: bad bytes become U+FFFD, never errors."""
    return codecs.getincrementaldecoder("utf-8")(errors="replace")
