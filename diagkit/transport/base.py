"""How commands reach a machine.

A :class:`Transport` has one job: run a shell command on one machine and hand back what it
printed. Everything above it (probes, the console, monitoring) speaks only this protocol and never
sees paramiko or subprocess types. Two implementations, one per file:

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
  ``"stdout"`` or ``"stderr"``), from the calling thread.
* ``cancel`` (optional ``threading.Event``): when set, the command is killed and
  :class:`~diagkit.errors.CommandTimeout` is raised (``timeout`` 0).
* ``read_file(path, max_bytes=...)`` returns up to ``max_bytes`` of a file's bytes.
* ``close()`` is idempotent; transports are context managers.
* Commands are strings for the shell: build them with :func:`shlex.quote` for every value.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

OutputCallback = Callable[[str, str], None]

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


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

    def read_file(self, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes: ...

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


def utf8_decoder() -> codecs.IncrementalDecoder:
    """An incremental UTF-8 decoder for streamed output: bad bytes become U+FFFD, never errors."""
    return codecs.getincrementaldecoder("utf-8")(errors="replace")
