"""The Transport contract (diagkit.transport.base), run against LocalTransport and SshTransport.

The SSH side talks to the real session sshd on 127.0.0.1 through the ``testhost`` alias; the copy
contract also runs against a real sshd without an SFTP subsystem (``ssh-cat``: copies go through
``cat`` over an exec channel, as on busybox hosts).
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from diagkit.errors import CommandTimeout, RemoteFileError
from diagkit.transport.base import CommandResult, Transport
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SSHD, SshClientEnv, SshServer


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

    def test_on_output_comes_from_the_calling_thread(self, transport: Transport) -> None:
        threads: list[int] = []
        caller = threading.get_ident()
        result = transport.run(
            "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; sleep 0.05; done",
            on_output=lambda _stream, _text: threads.append(threading.get_ident()),
        )
        assert result.ok and len(threads) >= 2  # several chunks, not one at the end
        assert set(threads) == {caller}

    def test_on_output_from_each_calling_thread_in_parallel(self, transport: Transport) -> None:
        seen: dict[int, set[int]] = {}
        errors: list[BaseException] = []

        def work() -> None:
            me = threading.get_ident()
            seen[me] = set()
            try:
                transport.run("echo a; sleep 0.1; echo b >&2; sleep 0.1; echo c",
                              on_output=lambda _s, _t: seen[me].add(threading.get_ident()))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        workers = [threading.Thread(target=work) for _ in range(4)]
        for th in workers:
            th.start()
        for th in workers:
            th.join(60)
        assert not errors and len(seen) == 4
        assert all(threads == {me} for me, threads in seen.items())

    def test_on_output_raising_stops_the_command(self, transport: Transport,
                                                 tmp_path: Path) -> None:
        pidfile = tmp_path / "pid"

        def refuse(_stream: str, _text: str) -> None:
            raise ValueError("the caller had enough")

        with pytest.raises(ValueError, match="had enough"):
            transport.run(f"echo $$ > {pidfile}; echo go; sleep 300", timeout=120,
                          on_output=refuse)
        assert wait_dead(int(pidfile.read_text()))

    def test_close_is_idempotent_and_context_manager(self, transport: Transport) -> None:
        with transport as t:
            assert t.run("true").ok
        transport.close()
        transport.close()


@pytest.fixture(params=["local", "ssh", "ssh-cat"])
def copier(request: pytest.FixtureRequest) -> Iterator[Transport]:
    if request.param == "local":
        t: Transport = LocalTransport()
    elif request.param == "ssh":
        env: SshClientEnv = request.getfixturevalue("ssh_client_env")
        t = SshTransport.connect(SshTarget(env.alias))
    else:
        server: SshServer = request.getfixturevalue("sshd_without_sftp")
        t = SshTransport.connect(SshTarget(server.address, port=server.port, user="root",
                                           identity_files=(str(server.client_key_path),)),
                                 accept_new_host_key=True)
    yield t
    t.close()


def test_the_cat_server_has_no_sftp(sshd_without_sftp: SshServer) -> None:
    effective = subprocess.run([SSHD, "-T", "-f", str(sshd_without_sftp.config_path)],
                               capture_output=True, text=True, check=True).stdout
    assert "subsystem" not in effective.lower()


def only_file(folder: Path) -> list[str]:
    """What the folder holds: a leftover ``.NAME.part`` shows here."""
    return sorted(os.listdir(folder))


class TestCopyFileContract:
    def test_bytes_times_mode_and_progress(self, copier: Transport, tmp_path: Path) -> None:
        data = bytes(range(256)) * 64 + b"\xff\xfe not UTF-8 \r\n"
        src = tmp_path / "src.bin"
        src.write_bytes(data)
        os.utime(src, (1_600_000_000, 1_600_000_000))
        local = tmp_path / "out" / "copy.bin"
        local.parent.mkdir()
        seen: list[tuple[int, int, int]] = []
        size = copier.copy_file(str(src), local,
                                progress=lambda d, t: seen.append((d, t, threading.get_ident())))
        assert size == len(data) and local.read_bytes() == data
        assert local.stat().st_mtime == 1_600_000_000
        assert stat.S_IMODE(local.stat().st_mode) == 0o600
        assert seen[-1][:2] == (len(data), len(data))
        assert {ident for _, _, ident in seen} == {threading.get_ident()}
        assert only_file(local.parent) == ["copy.bin"]

    def test_an_existing_file_is_replaced(self, copier: Transport, tmp_path: Path) -> None:
        src = tmp_path / "new.log"
        src.write_bytes(b"new\n")
        local = tmp_path / "copy.log"
        local.write_bytes(b"an older, longer copy\n")
        assert copier.copy_file(str(src), local) == 4
        assert local.read_bytes() == b"new\n"

    def test_empty_file(self, copier: Transport, tmp_path: Path) -> None:
        src = tmp_path / "empty.log"
        src.write_bytes(b"")
        assert copier.copy_file(str(src), tmp_path / "copy") == 0
        assert (tmp_path / "copy").read_bytes() == b""

    def test_cancel_stops_and_leaves_no_partial_file(self, copier: Transport,
                                                     tmp_path: Path) -> None:
        src = tmp_path / "big.bin"
        src.write_bytes(os.urandom(16 << 20))
        folder = tmp_path / "out"
        folder.mkdir()
        local = folder / "big.bin"
        local.write_bytes(b"the copy from yesterday\n")
        cancel = threading.Event()
        calls: list[int] = []

        def progress(done: int, _total: int) -> None:
            calls.append(done)
            cancel.set()

        with pytest.raises(CommandTimeout) as info:
            copier.copy_file(str(src), local, progress=progress, cancel=cancel)
        assert info.value.timeout == 0 and "stopped" in str(info.value)
        assert len(calls) == 1 and calls[0] < src.stat().st_size
        assert local.read_bytes() == b"the copy from yesterday\n"  # untouched
        assert only_file(folder) == ["big.bin"]

    def test_missing_file(self, copier: Transport, tmp_path: Path) -> None:
        missing = tmp_path / "missing.log"
        with pytest.raises(RemoteFileError) as info:
            copier.copy_file(str(missing), tmp_path / "out.log")
        assert info.value.path == str(missing) and str(missing) in str(info.value)
        assert info.value.reason.startswith("No such file")  # SFTP says "No such file"
        assert only_file(tmp_path) == []

    def test_permission_denied(self, copier: Transport, tmp_path: Path) -> None:
        # Write-only for everyone, root included: the kernel refuses to let it be read.
        denied = "/proc/sys/vm/drop_caches"
        with pytest.raises(PermissionError):
            open(denied, "rb").close()  # the precondition of this test
        with pytest.raises(RemoteFileError) as info:
            copier.copy_file(denied, tmp_path / "out")
        assert info.value.reason == "Permission denied"
        assert denied in str(info.value) and "may read it" in str(info.value)
        assert only_file(tmp_path) == []

    def test_a_directory_is_not_copied(self, copier: Transport, tmp_path: Path) -> None:
        (tmp_path / "folder").mkdir()
        with pytest.raises(RemoteFileError) as info:
            copier.copy_file(str(tmp_path / "folder"), tmp_path / "out")
        assert info.value.reason == "Is a directory"
        assert only_file(tmp_path) == ["folder"]

    def test_large_file(self, copier: Transport, tmp_path: Path) -> None:
        src = tmp_path / "large.bin"
        data = os.urandom(64 << 20)
        src.write_bytes(data)
        local = tmp_path / "copy.bin"
        done: list[int] = []
        assert copier.copy_file(str(src), local, progress=lambda d, _t: done.append(d)) == len(data)
        assert hashlib.sha256(local.read_bytes()).digest() == hashlib.sha256(data).digest()
        assert len(done) > 8 and done == sorted(done) and done[-1] == len(data)

    def test_a_file_growing_while_copied(self, copier: Transport, tmp_path: Path) -> None:
        src = tmp_path / "live.log"
        src.write_bytes(b"".join(b"line %06d written before the copy\n" % i
                                 for i in range(150_000)))
        initial = src.stat().st_size
        totals: list[int] = []

        def progress(_done: int, total: int) -> None:
            if not totals:  # the log grows while the copy runs
                with open(src, "ab") as fh:
                    fh.writelines(b"line %06d appended meanwhile\n" % i for i in range(50_000))
            totals.append(total)

        local = tmp_path / "copy.log"
        size = copier.copy_file(str(src), local, progress=progress)
        copy = local.read_bytes()
        assert size == len(copy) >= initial
        assert src.read_bytes().startswith(copy)
        assert set(totals) == {initial}


def test_local_pid_helper_sanity() -> None:
    assert alive(os.getpid())
