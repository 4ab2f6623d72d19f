"""The machine diagkit runs on, through subprocess. Always available, no set-up."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from typing import IO

from diagkit.errors import CommandTimeout, TransportError
from diagkit.transport.base import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    CommandResult,
    ContextManagerMixin,
    OutputCallback,
    utf8_decoder,
)

_KILL_GRACE = 2.0


class LocalTransport(ContextManagerMixin):
    """Runs commands with ``/bin/sh -c`` in their own process group, so a timeout kills them all."""

    def __init__(self, label: str = "local") -> None:
        self._label = label

    @property
    def host(self) -> str:
        return self._label

    def run(
        self,
        command: str,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        stdin: str | None = None,
        on_output: OutputCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> CommandResult:
        argv = ["cmd", "/c", command] if os.name == "nt" else ["/bin/sh", "-c", command]
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
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

        chunks: dict[str, list[str]] = {"stdout": [], "stderr": []}
        lock = threading.Lock()

        def pump(stream: IO[bytes], name: str) -> None:
            decoder = utf8_decoder()
            for block in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
                text = decoder.decode(block)
                if text:
                    with lock:
                        chunks[name].append(text)
                    if on_output is not None:
                        on_output(name, text)
            tail = decoder.decode(b"", final=True)
            if tail:
                with lock:
                    chunks[name].append(tail)
            stream.close()

        readers = [
            threading.Thread(target=pump, args=(proc.stdout, "stdout"), daemon=True),
            threading.Thread(target=pump, args=(proc.stderr, "stderr"), daemon=True),
        ]
        for reader in readers:
            reader.start()
        if stdin is not None and proc.stdin is not None:
            try:
                proc.stdin.write(stdin.encode())
                proc.stdin.close()
            except BrokenPipeError:
                pass

        deadline = None if timeout is None else started + timeout
        timed_out = False
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                cancelled = cancel is not None and cancel.is_set()
                if cancelled or (deadline is not None and time.monotonic() > deadline):
                    timed_out = True
                    self._kill(proc)
                    break
        for reader in readers:
            reader.join(timeout=_KILL_GRACE)
        duration = time.monotonic() - started
        stdout, stderr = "".join(chunks["stdout"]), "".join(chunks["stderr"])
        if timed_out:
            raise CommandTimeout.killed(
                host=self._label, timeout=timeout, cancelled=cancel is not None and cancel.is_set(),
                stdout=stdout, stderr=stderr,
            )
        status = proc.returncode if proc.returncode >= 0 else -1
        return CommandResult(command, stdout, stderr, status, duration)

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

    def read_file(self, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        try:
            with open(path, "rb") as fh:
                return fh.read(max_bytes)
        except OSError as exc:
            raise TransportError(
                f"Cannot read {path} on {self._label}: {exc.strerror or exc}. "
                "Check the path and that your user may read it.",
                host=self._label,
            ) from exc

    def close(self) -> None:
        pass


