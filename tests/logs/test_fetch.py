"""fetch / list_remote_logs over the local machine and the real loopback sshd."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from diagkit.errors import ConnectionLost, LogFormatError, TransportError
from diagkit.logs.fetch import fetch, list_remote_logs
from diagkit.logs.logfile import LogFile
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport


def _make_logs(folder: Path) -> Path:
    folder.mkdir()
    (folder / "sub").mkdir()
    big = folder / "big.log"
    with open(big, "wb") as fh:
        fh.writelines(b"Mar  1 10:00:%02d web1 app[1]: line %d \xff\xfe bytes kept\n" % (i % 60, i) for i in range(60000))
    (folder / "sub" / "x name.log").write_text("hello\n")
    return big


def test_fetch_local_copies_bytes(tmp_path: Path) -> None:
    big = _make_logs(tmp_path / "logs")
    with LocalTransport() as t:
        local = fetch(t, str(big))
        assert local.read_bytes() == big.read_bytes()
        listed = list_remote_logs(t, str(tmp_path / "logs"))
    assert [Path(p).name for p, _, _ in listed] == ["big.log", "x name.log"]
    assert listed[0][1] == big.stat().st_size


def test_fetch_over_ssh(tmp_path: Path, ssh_client_env) -> None:
    big = _make_logs(tmp_path / "logs")
    seen: list[tuple[int, int]] = []
    with SshTransport.connect(SshTarget(ssh_client_env.alias)) as t:
        local = fetch(t, str(big), progress=lambda d, n: seen.append((d, n)))
        assert local.read_bytes() == big.read_bytes()  # byte for byte: SFTP, not text
        assert int(local.stat().st_mtime) == int(big.stat().st_mtime)
        assert seen[-1] == (big.stat().st_size, big.stat().st_size)
        assert str(local).endswith(str(big))
        listed = list_remote_logs(t, str(tmp_path / "logs"))
        assert {Path(p).name for p, _, _ in listed} == {"big.log", "x name.log"}
        with pytest.raises(TransportError, match="Cannot fetch .*missing.log"):
            fetch(t, str(tmp_path / "missing.log"))
        with pytest.raises(LogFormatError, match="no folder"):
            list_remote_logs(t, str(tmp_path / "nope"))
    with LogFile.open(local) as log:
        assert log.record_count == 60000


def test_fetch_unreadable_file_over_ssh_as_plain_user(tmp_path: Path, sshd,
                                                      ssh_client_env) -> None:
    secret = tmp_path / "secret.log"
    secret.write_text("root only\n")
    os.chmod(secret, 0o600)
    os.chmod(tmp_path, 0o755)
    target = SshTarget(sshd.address, port=sshd.port, user=sshd.password_user)
    with SshTransport.connect(target, password=sshd.password) as t:
        assert t.run("id -u").stdout.strip() != "0"
        with pytest.raises(TransportError, match="Permission denied.*may read it"):
            fetch(t, str(secret))


def test_fetch_without_sftp_keeps_every_byte(tmp_path: Path, sshd_without_sftp) -> None:
    big = _make_logs(tmp_path / "logs")  # holds \xff\xfe: not UTF-8
    target = SshTarget(sshd_without_sftp.address, port=sshd_without_sftp.port, user="root",
                       identity_files=(str(sshd_without_sftp.client_key_path),))
    seen: list[tuple[int, int]] = []
    with SshTransport.connect(target, accept_new_host_key=True) as t:
        local = fetch(t, str(big), progress=lambda d, n: seen.append((d, n)))
        with pytest.raises(TransportError, match="Cannot fetch .*missing.log.*No such file"):
            fetch(t, str(tmp_path / "missing.log"))
    assert local.read_bytes() == big.read_bytes()  # cat over exec, bytes not text
    assert int(local.stat().st_mtime) == int(big.stat().st_mtime)
    assert seen[-1] == (big.stat().st_size, big.stat().st_size)


# paramiko's SFTP prefetch thread dies with EOFError when the connection goes: its own thread, its
# own traceback; what reaches the caller is checked below.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_fetch_when_the_connection_dies_mid_copy(tmp_path: Path, sshd_factory) -> None:
    server = sshd_factory("127.0.0.26")
    big = tmp_path / "big.log"
    with open(big, "wb") as fh:
        fh.truncate(256 << 20)
    killed: list[int] = []

    def progress(done: int, _total: int) -> None:
        if not killed and done >= 4 << 20:
            killed.extend(server.kill_sessions())

    target = SshTarget(server.address, port=server.port, user="root",
                       identity_files=(str(server.client_key_path),))
    cache = tmp_path / "cache"
    # Before: paramiko's SSHException escaped fetch unmapped (the UI said "Unexpected error").
    with (SshTransport.connect(target, accept_new_host_key=True) as t,
          pytest.raises(ConnectionLost, match="dropped.*reconnect")):
        fetch(t, str(big), cache_dir=cache, progress=progress)
    assert killed
    # Nothing under the final name; the part file stays for the next fetch to resume.
    left = [p for p in cache.rglob("*") if p.is_file()]
    assert [p.name for p in left] == [".big.log.part"] and left[0].stat().st_size >= 4 << 20
    seen: list[int] = []
    with SshTransport.connect(target, accept_new_host_key=True) as t:
        local = fetch(t, str(big), cache_dir=cache, progress=lambda d, _t: seen.append(d))
    assert local.stat().st_size == big.stat().st_size and seen[0] > 4 << 20
    assert [p for p in cache.rglob("*") if p.is_file()] == [local]
