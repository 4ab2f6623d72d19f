"""Keepalives that find a dead or a hung server (issue 17 items 3 and 4), against a real sshd
whose session processes are really killed (SIGKILL) or frozen (SIGSTOP)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from diagkit.connection import Liveness
from diagkit.errors import ConnectionLost
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshServer

FAST = Liveness(interval=0.5, dead_after=3.0)


@pytest.fixture
def server(sshd_factory: Callable[..., SshServer], isolated_home: Path) -> Iterator[SshServer]:
    """A server of this test's own (its sessions get frozen and killed)."""
    srv = sshd_factory("127.0.0.47")
    with (isolated_home / ".ssh" / "known_hosts").open("a") as fh:
        fh.write(srv.known_hosts_line() + "\n")
    yield srv
    srv.stop()


def session_tree(server: SshServer) -> list[int]:
    pids, todo = [], list(server.session_pids())
    while todo:
        pid = todo.pop()
        pids.append(pid)
        out = subprocess.run(["pgrep", "-P", str(pid)], check=False, capture_output=True, text=True)
        todo += [int(x) for x in out.stdout.split()]
    return pids


@contextmanager
def frozen(server: SshServer) -> Iterator[list[int]]:
    """SIGSTOP every process serving a connection (a hung server); SIGCONT on the way out."""
    pids = session_tree(server)
    assert pids, "no session to freeze"
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield pids
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


def connect(server: SshServer, liveness: Liveness | None = FAST) -> SshTransport:
    return SshTransport.connect(
        SshTarget(server.address, port=server.port, user="root",
                  identity_files=(str(server.client_key_path),), label="lab"),
        liveness=liveness)


def wait_for(event: threading.Event, seconds: float) -> bool:
    return event.wait(seconds)


def test_an_idle_connection_stays_up_with_keepalives(server: SshServer) -> None:
    transport = connect(server)
    try:
        time.sleep(FAST.dead_after * 1.5)  # several keepalive rounds, every one answered
        assert transport.lost_reason is None and transport.is_active
        assert transport.run("echo ok").stdout == "ok\n"
    finally:
        transport.close()


def test_killed_server_is_found_while_idle(server: SshServer) -> None:
    transport = connect(server)
    reasons: list[str] = []
    heard = threading.Event()
    transport.add_lost_listener(lambda r: (reasons.append(r), heard.set()))
    assert transport.run("true").exit_status == 0
    server.kill_sessions()
    assert wait_for(heard, 10), "the dead connection was not noticed"
    assert reasons == ["the server closed the connection"]
    with pytest.raises(ConnectionLost, match="the server closed the connection"):
        transport.run("true")


def test_hung_server_is_named_as_such(server: SshServer) -> None:
    transport = connect(server)
    reasons: list[str] = []
    heard = threading.Event()
    transport.add_lost_listener(lambda r: (reasons.append(r), heard.set()))
    assert transport.run("true").exit_status == 0
    failure: list[BaseException] = []

    def sample() -> None:  # a command in flight when the server hangs
        try:
            transport.run("sleep 0.5; echo done", timeout=60)
        except BaseException as exc:  # noqa: BLE001 - what the caller would see
            failure.append(exc)

    with frozen(server):
        worker = threading.Thread(target=sample)
        worker.start()
        assert wait_for(heard, 15), "the hung server was not noticed"
        worker.join(10)
        assert not worker.is_alive(), "a command stayed stuck on the hung connection"
    assert reasons == ["no answer from the server for 3 s"]
    assert len(failure) == 1 and isinstance(failure[0], ConnectionLost)
    assert "no answer from the server for 3 s" in str(failure[0])
    assert "MaxSessions" not in str(failure[0])
    server.kill_sessions()


def test_close_is_not_reported_as_lost(server: SshServer) -> None:
    transport = connect(server)
    heard = threading.Event()
    transport.add_lost_listener(lambda _r: heard.set())
    transport.close()
    assert not wait_for(heard, FAST.interval * 3)
    assert transport.lost_reason is None


def test_unanswered_channel_open_is_not_called_a_refusal(server: SshServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Without keepalives, a hung server still is not "refusing sessions (MaxSessions)"."""
    from diagkit.transport import ssh

    monkeypatch.setattr(ssh, "DEFAULT_CONNECT_TIMEOUT", 1.0)
    transport = connect(server, liveness=None)
    try:
        assert transport.run("true").exit_status == 0
        with frozen(server), pytest.raises(ConnectionLost) as info:
            transport.run("true", timeout=30)
        assert "no answer from the server for 1 s" in str(info.value)
        assert "MaxSessions" not in str(info.value)
    finally:
        transport.close()
        server.kill_sessions()
