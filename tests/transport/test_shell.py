"""diagkit.transport.shell without Qt: real shells on a local pty and over a real sshd."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import pytest

from diagkit.errors import TransportError
from diagkit.transport.local import LocalTransport
from diagkit.transport.shell import CLOSED, EXITED, LOST, ShellEnd, ShellSession, open_shell
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshClientEnv


class Collector:
    def __init__(self) -> None:
        self.data = bytearray()
        self.ends: list[ShellEnd] = []
        self.lock = threading.Lock()
        self.ended = threading.Event()

    def output(self, chunk: bytes) -> None:
        with self.lock:
            self.data += chunk

    def closed(self, end: ShellEnd) -> None:
        self.ends.append(end)
        self.ended.set()

    def text(self) -> str:
        with self.lock:
            return self.data.decode("utf-8", "replace")

    def wait_for(self, check: Callable[[str], bool], timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check(self.text()):
                return self.text()
            time.sleep(0.05)
        raise AssertionError(f"not seen in time; output so far: {self.text()[-500:]!r}")


def lines(text: str) -> list[str]:
    """The output's lines, escapes and carriage returns removed."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "").split("\n")


def start(transport: object, sink: Collector) -> ShellSession:
    return open_shell(transport, cols=90, rows=30,  # type: ignore[arg-type]
                      on_output=sink.output, on_closed=sink.closed)


@pytest.fixture(autouse=True)
def plain_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/bash")


def test_local_shell_size_resize_and_exit_status() -> None:
    sink = Collector()
    shell = start(LocalTransport(), sink)
    try:
        shell.write(b"stty size; tty\r")
        sink.wait_for(lambda t: "30 90" in lines(t) and "/dev/pts/" in t)
        shell.resize(132, 43)
        shell.write(b"stty size\r")
        sink.wait_for(lambda t: "43 132" in lines(t))
        shell.write(b"exit 5\r")
        assert sink.ended.wait(10)
        assert sink.ends == [ShellEnd(EXITED, "The shell exited (status 5).", 5)]
        assert shell.closed
    finally:
        shell.close()


def test_local_close_hangs_up_the_whole_session() -> None:
    sink = Collector()
    shell = start(LocalTransport(), sink)
    shell.write(b"sleep 300 & echo BG=$!\r")
    text = sink.wait_for(lambda t: "BG=" in t and "\r\n" in t.split("BG=")[-1])
    pid = int(text.split("BG=")[-1].split()[0])
    shell.close()
    assert sink.ended.wait(5) and sink.ends[0].how == CLOSED
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split()[2] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the background job {pid} outlived the closed terminal")
    shell.close()  # idempotent


def test_ssh_shell_is_a_channel_on_the_open_connection(ssh_client_env: SshClientEnv) -> None:
    transport = SshTransport.connect(SshTarget(ssh_client_env.alias))
    sink = Collector()
    try:
        before = ssh_client_env.server.session_pids()
        shell = start(transport, sink)
        shell.write(b"echo TERM=$TERM; stty size\r")
        sink.wait_for(lambda t: "TERM=xterm-256color" in t and "30 90" in lines(t))
        assert ssh_client_env.server.session_pids() == before  # no second login
        shell.resize(100, 20)
        shell.write(b"stty size\r")
        sink.wait_for(lambda t: "20 100" in lines(t))
        assert transport.run("echo side-by-side").stdout == "side-by-side\n"
        shell.write(b"exit 3\r")
        assert sink.ended.wait(10)
        assert sink.ends[0].how == EXITED and sink.ends[0].exit_status == 3
        assert transport.is_active  # the shell ended, the connection stays
    finally:
        transport.close()


def test_ssh_connection_killed_is_lost_not_exited(ssh_client_env: SshClientEnv) -> None:
    transport = SshTransport.connect(SshTarget(ssh_client_env.alias))
    sink = Collector()
    try:
        shell = start(transport, sink)
        shell.write(b"echo UP\r")
        sink.wait_for(lambda t: "UP" in lines(t))
        assert ssh_client_env.server.kill_sessions()
        assert sink.ended.wait(15)
        end = sink.ends[0]
        assert end.how == LOST and "dropped" in end.message and "reconnect" in end.message
        shell.write(b"ignored\r")  # after the end: no error, nothing sent
        shell.close()
    finally:
        transport.close()


def test_a_closed_transport_gives_a_clear_error(ssh_client_env: SshClientEnv) -> None:
    transport = SshTransport.connect(SshTarget(ssh_client_env.alias))
    transport.close()
    with pytest.raises(TransportError, match="Reconnect first"):
        start(transport, Collector())
