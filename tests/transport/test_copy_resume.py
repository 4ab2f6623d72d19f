"""copy_file's resume and size cap, on every transport (a plain file, SFTP to a real sshd, cat
over SSH to a real sshd without SFTP): an interrupted copy keeps its part file and the next copy
reads only the rest; a file over the cap is refused before a byte is copied."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from diagkit.errors import CommandTimeout, ConnectionLost, RemoteFileTooLarge
from diagkit.transport.base import COPY_BLOCK, Transport
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshServer


def _connect(server: SshServer) -> SshTransport:
    return SshTransport.connect(SshTarget(server.address, port=server.port, user="root",
                                          identity_files=(str(server.client_key_path),)),
                                accept_new_host_key=True)


@pytest.fixture(params=["local", "sftp", "cat"])
def copier(request: pytest.FixtureRequest, sshd: SshServer) -> Iterator[Transport]:
    if request.param == "local":
        t: Transport = LocalTransport()
    elif request.param == "sftp":
        t = _connect(sshd)
    else:
        t = _connect(request.getfixturevalue("sshd_without_sftp"))
    yield t
    t.close()


@pytest.fixture
def big_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(3 * COPY_BLOCK + 12345)
    path = tmp_path / "remote" / "app.log"
    path.parent.mkdir()
    path.write_bytes(data)
    return path, data


def test_a_cancelled_copy_resumes_where_it_stopped(copier: Transport, big_file: tuple[Path, bytes],
                                                   tmp_path: Path) -> None:
    remote, data = big_file
    local = tmp_path / "local" / "app.log"
    local.parent.mkdir()
    stop = threading.Event()

    def stop_after_a_block(done: int, total: int) -> None:
        if done >= COPY_BLOCK:
            stop.set()

    with pytest.raises(CommandTimeout):
        copier.copy_file(str(remote), local, progress=stop_after_a_block, cancel=stop,
                         resume=True)
    part = local.with_name(".app.log.part")
    kept = part.stat().st_size
    assert not local.exists() and COPY_BLOCK <= kept < len(data)
    assert part.read_bytes() == data[:kept] and (part.stat().st_mode & 0o777) == 0o600
    seen: list[int] = []
    size = copier.copy_file(str(remote), local, progress=lambda d, t: seen.append(d), resume=True)
    assert size == len(data) and local.read_bytes() == data and not part.exists()
    # Only the rest travelled: progress starts past what the part file held.
    assert seen[0] > kept and seen[-1] == len(data)
    assert (local.stat().st_mode & 0o777) == 0o600


def test_without_resume_an_interrupted_copy_leaves_nothing(copier: Transport,
                                                           big_file: tuple[Path, bytes],
                                                           tmp_path: Path) -> None:
    remote, _ = big_file
    local = tmp_path / "app.log"
    stop = threading.Event()
    with pytest.raises(CommandTimeout):
        copier.copy_file(str(remote), local, cancel=stop,
                         progress=lambda d, t: stop.set())
    assert os.listdir(tmp_path) == ["remote"]


def test_a_part_file_longer_than_the_remote_file_starts_afresh(
        copier: Transport, big_file: tuple[Path, bytes], tmp_path: Path) -> None:
    remote, _ = big_file
    remote.write_bytes(b"rotated\n")  # the log was rotated since the interrupted copy
    local = tmp_path / "app.log"
    local.with_name(".app.log.part").write_bytes(b"x" * 100)
    assert copier.copy_file(str(remote), local, resume=True) == 8
    assert local.read_bytes() == b"rotated\n"


def test_the_size_cap_refuses_before_copying(copier: Transport, big_file: tuple[Path, bytes],
                                             tmp_path: Path) -> None:
    remote, data = big_file
    local = tmp_path / "app.log"
    seen: list[int] = []
    with pytest.raises(RemoteFileTooLarge) as err:
        copier.copy_file(str(remote), local, max_bytes=COPY_BLOCK, resume=True,
                         progress=lambda d, t: seen.append(d))
    message = str(err.value)
    assert "is 3.0 MiB, over the size cap of 1.0 MiB" in message and "--max-size" in message
    assert str(remote) in message and "tail -n" in message
    assert seen == [] and os.listdir(tmp_path) == ["remote"]
    assert copier.copy_file(str(remote), local, max_bytes=len(data)) == len(data)


def test_a_dropped_connection_resumes_on_a_new_one(
        sshd: SshServer, sshd_factory: Callable[..., SshServer], big_file: tuple[Path, bytes],
        tmp_path: Path) -> None:
    """The realistic interruption: the SSH connection dies mid-copy (its sshd session killed)."""
    server = sshd_factory("127.0.0.41", client_key_path=sshd.client_key_path)
    remote, data = big_file
    local = tmp_path / "app.log"

    def drop(done: int, total: int) -> None:
        if done >= COPY_BLOCK:
            server.kill_sessions()

    with _connect(server) as first, pytest.raises(ConnectionLost):
        first.copy_file(str(remote), local, progress=drop, resume=True)
    kept = local.with_name(".app.log.part").stat().st_size
    assert 0 < kept < len(data)
    with _connect(server) as second:
        assert second.copy_file(str(remote), local, resume=True) == len(data)
    assert local.read_bytes() == data
