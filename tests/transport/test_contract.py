"""The Transport contract (diagkit.transport.base), run against LocalTransport and SshTransport.

The SSH side talks to the real session sshd on 127.0.0.1 through the ``testhost`` alias.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from diagkit.errors import CommandTimeout, TransportError
from diagkit.transport.base import CommandResult, Transport
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshClientEnv


def alive(pid: int) -> bool:
    """True if ``pid`` runs; zombies count as dead (PID 1 here does not reap them)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_dead(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


@pytest.fixture(params=["local", "ssh"])
def transport(request: pytest.FixtureRequest) -> Iterator[Transport]:
    if request.param == "local":
        t: Transport = LocalTransport()
    else:
        env: SshClientEnv = request.getfixturevalue("ssh_client_env")
        t = SshTransport.connect(SshTarget(env.alias))
    yield t
    t.close()


class TestTransportContract:
    def test_is_a_transport(self, transport: Transport) -> None:
        assert isinstance(transport, Transport)
        assert transport.host

    def test_stdout_stderr_exit_status(self, transport: Transport) -> None:
        result = transport.run("echo out; echo err >&2; exit 0")
        assert isinstance(result, CommandResult)
        assert (result.stdout, result.stderr, result.exit_status) == ("out\n", "err\n", 0)
        assert result.ok and result.duration >= 0

    def test_non_zero_exit_is_a_result(self, transport: Transport) -> None:
        result = transport.run("echo nope >&2; exit 7")
        assert result.exit_status == 7 and not result.ok
        assert result.stderr == "nope\n"

    def test_stdin_is_sent_then_eof(self, transport: Transport) -> None:
        assert transport.run("cat", stdin="line1\nlïne2\n").stdout == "line1\nlïne2\n"
        # Without stdin a reading command must not hang.
        assert transport.run("cat; echo done", timeout=20).stdout == "done\n"

    def test_quoting_survives(self, transport: Transport) -> None:
        result = transport.run("printf '%s|' \"a b\" 'c\"d' \"it's\" '$HOME'")
        assert result.stdout == "a b|c\"d|it's|$HOME|"

    def test_unicode_and_invalid_utf8(self, transport: Transport) -> None:
        result = transport.run("printf 'h\\303\\251 \\342\\234\\223 \\377end\\n'")
        assert result.stdout == "hé ✓ \ufffdend\n"

    def test_big_output(self, transport: Transport) -> None:
        result = transport.run(
            "head -c 4000000 /dev/zero | tr '\\0' a; head -c 1000000 /dev/zero | tr '\\0' b >&2",
            timeout=60,
        )
        assert len(result.stdout) == 4_000_000 and set(result.stdout) == {"a"}
        assert len(result.stderr) == 1_000_000 and set(result.stderr) == {"b"}

    def test_parallel_runs_from_threads(self, transport: Transport) -> None:
        results: dict[int, str] = {}
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                results[i] = transport.run(f"sleep 0.2; echo {i}", timeout=60).stdout
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(90)
        assert not errors
        assert results == {i: f"{i}\n" for i in range(16)}

    def test_on_output_streams(self, transport: Transport) -> None:
        seen: list[tuple[str, str]] = []
        result = transport.run(
            "echo first; sleep 0.3; echo second >&2; echo third",
            on_output=lambda stream, text: seen.append((stream, text)),
        )
        assert "".join(t for s, t in seen if s == "stdout") == result.stdout == "first\nthird\n"
        assert "".join(t for s, t in seen if s == "stderr") == result.stderr == "second\n"

    def test_timeout_kills_the_process_group(self, transport: Transport, tmp_path: Path) -> None:
        pidfile = tmp_path / "pids"
        command = f"sleep 300 & echo $$ $! > {pidfile}; echo started; wait"
        with pytest.raises(CommandTimeout) as info:
            transport.run(command, timeout=1.5)
        assert info.value.stdout == "started\n"
        assert info.value.timeout == 1.5
        assert "killed" in str(info.value)
        for pid in map(int, pidfile.read_text().split()):
            assert wait_dead(pid), f"process {pid} survived the timeout"

    def test_cancel_event_stops_the_command(self, transport: Transport, tmp_path: Path) -> None:
        pidfile = tmp_path / "pid"
        cancel = threading.Event()
        timer = threading.Timer(0.7, cancel.set)
        timer.start()
        try:
            with pytest.raises(CommandTimeout) as info:
                transport.run(f"echo $$ > {pidfile}; sleep 300", timeout=120, cancel=cancel)
        finally:
            timer.cancel()
        assert info.value.timeout == 0
        assert wait_dead(int(pidfile.read_text()))

    def test_read_file(self, transport: Transport, tmp_path: Path) -> None:
        data = bytes(range(256)) * 100
        path = tmp_path / "blob.bin"
        path.write_bytes(data)
        assert transport.read_file(str(path)) == data
        assert transport.read_file(str(path), max_bytes=10) == data[:10]

    def test_read_missing_file_is_an_error(self, transport: Transport, tmp_path: Path) -> None:
        with pytest.raises(TransportError) as info:
            transport.read_file(str(tmp_path / "missing"))
        assert "missing" in str(info.value)

    def test_close_is_idempotent_and_context_manager(self, transport: Transport) -> None:
        with transport as t:
            assert t.run("true").ok
        transport.close()
        transport.close()


def test_local_pid_helper_sanity() -> None:
    assert alive(os.getpid())
