"""SshTransport against real OpenSSH servers on 127.0.0.0/8: auth, config, jumps, host keys, errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import keyring.core
import pytest
from keyring.backends import fail

from diagkit import config, credentials
from diagkit.errors import (
    AuthError,
    CommandTimeout,
    ConnectionLost,
    ConnectionRefused,
    HostKeyChanged,
    HostKeyUnknown,
    HostNotFound,
    KeyringUnavailable,
    ProxyJumpError,
)
from diagkit.transport import known_hosts
from diagkit.transport.ssh import SshTarget, SshTransport, resolve, trust_host_key
from tests.sshd_fixture import SshClientEnv, SshServer, free_port
from tests.transport.test_contract import wait_dead

Factory = Callable[..., SshServer]


def add_known(home: Path, *servers: SshServer) -> Path:
    path = home / ".ssh" / "known_hosts"
    with path.open("a") as fh:
        for server in servers:
            fh.write(server.known_hosts_line() + "\n")
    return path


def install_default_key(home: Path, server: SshServer) -> None:
    """Make the server's client key the user's ~/.ssh/id_ed25519 (used by every hop)."""
    dest = home / ".ssh" / "id_ed25519"
    shutil.copy(server.client_key_path, dest)
    dest.chmod(0o600)


def key_target(server: SshServer, **kw: object) -> SshTarget:
    return SshTarget(server.address, port=server.port, user="root",
                     identity_files=(str(server.client_key_path),), **kw)  # type: ignore[arg-type]


# --- authentication ---------------------------------------------------------------------------


def test_key_auth(sshd: SshServer, isolated_home: Path) -> None:
    add_known(isolated_home, sshd)
    with SshTransport.connect(key_target(sshd)) as t:
        assert t.run("id -u").stdout == "0\n"
        assert t.host == "root@127.0.0.1"


def test_password_auth_from_keyring(sshd: SshServer, isolated_home: Path) -> None:
    add_known(isolated_home, sshd)
    credentials.set_password("host:pwhost", sshd.password)
    target = SshTarget(sshd.address, port=sshd.port, user=sshd.password_user, label="pwhost")
    with SshTransport.connect(target) as t:
        assert t.run("id -un").stdout == f"{sshd.password_user}\n"
        assert t.host == "pwhost"


def test_password_argument(sshd: SshServer, isolated_home: Path) -> None:
    add_known(isolated_home, sshd)
    target = SshTarget(sshd.address, port=sshd.port, user=sshd.password_user)
    with SshTransport.connect(target, password=sshd.password) as t:
        assert t.run("echo ok").stdout == "ok\n"


def test_wrong_password_lists_methods(sshd: SshServer, isolated_home: Path) -> None:
    add_known(isolated_home, sshd)
    credentials.set_password("host:pwhost", "definitely-wrong")
    target = SshTarget(sshd.address, port=sshd.port, user=sshd.password_user, label="pwhost")
    with pytest.raises(AuthError) as info:
        SshTransport.connect(target)
    tried = info.value.methods_tried
    assert "password (refused)" in tried
    assert any(m.startswith("agent") for m in tried)
    assert "password (refused)" in str(info.value)
    assert "diagkit hosts set-password pwhost" in str(info.value)
    assert "definitely-wrong" not in str(info.value)


def test_no_password_stored_says_how_to_store_one(sshd: SshServer, isolated_home: Path) -> None:
    add_known(isolated_home, sshd)
    target = SshTarget(sshd.address, port=sshd.port, user=sshd.password_user, label="web1")
    with pytest.raises(AuthError) as info:
        SshTransport.connect(target)
    assert "password (none stored: run 'diagkit hosts set-password web1')" in info.value.methods_tried


def test_encrypted_key_uses_stored_passphrase(sshd_factory: Factory, isolated_home: Path,
                                              tmp_path: Path) -> None:
    key = tmp_path / "enc_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret-phrase", "-f", str(key)],
                   check=True)
    server = sshd_factory("127.0.0.7", client_key_path=key)
    add_known(isolated_home, server)
    target = key_target(server)
    with pytest.raises(AuthError) as info:
        SshTransport.connect(target)
    assert any("encrypted" in m for m in info.value.methods_tried)
    credentials.set_key_passphrase(str(key), "s3cret-phrase")
    with SshTransport.connect(target) as t:
        assert t.run("echo in").stdout == "in\n"


def test_missing_keyring_backend(sshd: SshServer, isolated_home: Path) -> None:
    keyring.core.set_keyring(fail.Keyring())
    with pytest.raises(KeyringUnavailable) as info:
        credentials.set_password("host:x", "secret-value")
    assert "keyring" in str(info.value).lower() and "secret-value" not in str(info.value)
    assert credentials.get_password("host:x") is None  # reading stays quiet
    # A connection without a stored password still fails cleanly on auth, not on the keyring.
    add_known(isolated_home, sshd)
    with pytest.raises(AuthError):
        SshTransport.connect(SshTarget(sshd.address, port=sshd.port, user=sshd.password_user))


def test_credentials_round_trip() -> None:
    credentials.set_password("host:a", "pw")
    assert credentials.get_password("host:a") == "pw"
    credentials.delete_password("host:a")
    credentials.delete_password("host:a")  # nothing stored: fine
    assert credentials.get_password("host:a") is None
    assert credentials.key_account("~/k") == f"key:{Path.home() / 'k'}"


# --- ~/.ssh/config ------------------------------------------------------------------------------


def test_ssh_config_alias(ssh_client_env: SshClientEnv) -> None:
    # known_hosts holds [127.0.0.1]:PORT, not "testhost": the HostName is what gets checked.
    with SshTransport.connect(SshTarget(ssh_client_env.alias)) as t:
        assert t.run("echo via-alias").stdout == "via-alias\n"


def test_explicit_fields_override_config(ssh_client_env: SshClientEnv, sshd: SshServer) -> None:
    hop = resolve("testhost", port=2222, user="bob",
                  ssh_config=__import__("paramiko").SSHConfig.from_path(str(ssh_client_env.ssh_config)))
    assert (hop.hostname, hop.port, hop.user) == ("127.0.0.1", 2222, "bob")
    assert hop.identity_files == (str(sshd.client_key_path),)
    plain = resolve("example.org")
    assert plain.port == 22 and plain.identity_files[0].endswith("/.ssh/id_rsa")


def test_host_key_alias(sshd: SshServer, isolated_home: Path) -> None:
    cfg = isolated_home / ".ssh" / "config"
    cfg.write_text(f"Host aliased\n  HostName {sshd.address}\n  Port {sshd.port}\n  User root\n"
                   f"  IdentityFile {sshd.client_key_path}\n  HostKeyAlias box-one\n")
    (isolated_home / ".ssh" / "known_hosts").write_text(f"box-one {sshd.host_pubkey}\n")
    with SshTransport.connect(SshTarget("aliased")) as t:
        assert t.run("echo ok").ok


# --- ProxyJump ----------------------------------------------------------------------------------


def test_proxy_jump_one_hop(sshd: SshServer, sshd_factory: Factory, isolated_home: Path,
                            tmp_path: Path) -> None:
    inner = sshd_factory("127.0.0.2")
    install_default_key(isolated_home, sshd)
    add_known(isolated_home, sshd, inner)
    target = key_target(inner, jump=f"root@127.0.0.1:{sshd.port}")
    with SshTransport.connect(target) as t:
        assert t.run("echo through").stdout == "through\n"
        assert t.copy_file("/etc/hostname", tmp_path / "hostname")  # SFTP through the jump


def test_proxy_jump_two_hops_from_config(sshd: SshServer, sshd_factory: Factory,
                                         isolated_home: Path) -> None:
    middle = sshd_factory("127.0.0.3", client_key_path=sshd.client_key_path)
    inner = sshd_factory("127.0.0.4")
    install_default_key(isolated_home, sshd)
    add_known(isolated_home, sshd, middle, inner)
    (isolated_home / ".ssh" / "config").write_text(
        f"Host bastion\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User root\n"
        f"Host inner\n  HostName 127.0.0.4\n  Port {inner.port}\n  User root\n"
        f"  IdentityFile {inner.client_key_path}\n"
        f"  ProxyJump bastion,root@127.0.0.3:{middle.port}\n"
    )
    with SshTransport.connect(SshTarget("inner")) as t:
        assert t.run("echo deep").stdout == "deep\n"


def test_proxy_jump_failure_names_the_hop(sshd: SshServer, isolated_home: Path) -> None:
    install_default_key(isolated_home, sshd)
    add_known(isolated_home, sshd)
    dead = free_port("127.0.0.1")
    target = key_target(sshd, jump=f"root@127.0.0.1:{dead}")
    with pytest.raises(ProxyJumpError) as info:
        SshTransport.connect(target)
    assert f"127.0.0.1:{dead}" in str(info.value)
    # The jump host works, but what is behind it does not answer.
    target = SshTarget("127.0.0.1", port=dead, user="root", jump=f"root@127.0.0.1:{sshd.port}")
    with pytest.raises(ProxyJumpError) as info:
        SshTransport.connect(target)
    assert "jump host" in str(info.value)


# --- host keys ----------------------------------------------------------------------------------


def test_unknown_host_key_then_accept(sshd: SshServer) -> None:
    target = key_target(sshd)
    with pytest.raises(HostKeyUnknown) as info:
        SshTransport.connect(target)
    err = info.value
    assert err.fingerprint.startswith("SHA256:")
    assert err.fingerprint == sshd.fingerprint()  # what ssh-keygen -lf says
    assert err.port == sshd.port and err.key_type == "ssh-ed25519"
    with SshTransport.connect(target, accept_new_host_key=True) as t:
        assert t.run("true").ok
    assert f"[127.0.0.1]:{sshd.port} " in config.known_hosts_file().read_text()
    with SshTransport.connect(target) as t:
        assert t.run("true").ok
    # Nothing was written to the user's own files.
    assert not (Path.home() / ".ssh" / "known_hosts").exists()


def test_trust_host_key_after_asking(sshd: SshServer) -> None:
    target = key_target(sshd)
    with pytest.raises(HostKeyUnknown) as info:
        SshTransport.connect(target)
    trust_host_key(info.value)
    with SshTransport.connect(target) as t:
        assert t.run("true").ok


def test_changed_host_key_is_refused(sshd_factory: Factory, isolated_home: Path) -> None:
    server = sshd_factory("127.0.0.5")
    known = add_known(isolated_home, server)
    old_fp = server.fingerprint()
    with SshTransport.connect(key_target(server)) as t:
        assert t.run("true").ok
    server.stop()
    server.new_host_key()
    server.start()
    for accept in (False, True):
        with pytest.raises(HostKeyChanged) as info:
            SshTransport.connect(key_target(server), accept_new_host_key=accept)
        err = info.value
        assert err.expected_fingerprint == old_fp
        assert err.fingerprint == server.fingerprint()
        assert err.known_hosts_file == str(known) and err.line == 1
    assert not config.known_hosts_file().exists()


def test_revoked_key_is_refused(sshd: SshServer, isolated_home: Path) -> None:
    path = add_known(isolated_home, sshd)
    with path.open("a") as fh:
        fh.write(f"@revoked * {sshd.host_pubkey}\n")
    with pytest.raises(HostKeyChanged):
        SshTransport.connect(key_target(sshd), accept_new_host_key=True)


def test_hashed_known_hosts(sshd: SshServer, isolated_home: Path) -> None:
    path = add_known(isolated_home, sshd)
    subprocess.run(["ssh-keygen", "-H", "-f", str(path)], check=True, capture_output=True)
    assert path.read_text().startswith("|1|")
    with SshTransport.connect(key_target(sshd)) as t:
        assert t.run("true").ok


def test_known_hosts_parsing(tmp_path: Path, sshd: SshServer) -> None:
    import paramiko

    key = paramiko.PKey.from_type_string(*_split_pub(sshd.host_pubkey))
    f = tmp_path / "kh"
    f.write_text(
        "# comment\n\n"
        f"@cert-authority *.example {sshd.host_pubkey}\n"
        f"web1,10.0.0.5 {sshd.host_pubkey}\n"
        f"*.example.org,!bad.example.org {sshd.host_pubkey}\n"
        "garbage line\n"
    )
    assert known_hosts.lookup("10.0.0.5", 22, key, files=[f]).status is known_hosts.Status.KNOWN
    assert known_hosts.lookup("a.example.org", 22, key, files=[f]).status is known_hosts.Status.KNOWN
    assert known_hosts.lookup("bad.example.org", 22, key, files=[f]).status is known_hosts.Status.UNKNOWN
    assert known_hosts.lookup("web1", 2222, key, files=[f]).status is known_hosts.Status.UNKNOWN
    assert known_hosts.fingerprint(key) == sshd.fingerprint()


def _split_pub(line: str) -> tuple[str, bytes]:
    import base64

    kind, b64 = line.split()[:2]
    return kind, base64.b64decode(b64)


# --- connection errors --------------------------------------------------------------------------


def test_closed_port_is_refused() -> None:
    port = free_port("127.0.0.1")
    with pytest.raises(ConnectionRefused) as info:
        SshTransport.connect(SshTarget("127.0.0.1", port=port, user="root"))
    assert str(port) in str(info.value)


def test_unresolvable_name() -> None:
    with pytest.raises(HostNotFound) as info:
        SshTransport.connect(SshTarget("no-such-host.invalid", user="root"))
    assert "no-such-host.invalid" in str(info.value)


def test_connection_dropped_mid_command(sshd_factory: Factory, isolated_home: Path) -> None:
    server = sshd_factory("127.0.0.6")
    add_known(isolated_home, server)
    t = SshTransport.connect(key_target(server))
    started = threading.Event()
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            t.run("echo go; sleep 120", timeout=120,
                  on_output=lambda _s, _t: started.set())
        except BaseException as exc:  # noqa: BLE001 - checked below
            outcome.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    assert started.wait(30)
    assert server.kill_sessions()
    worker.join(60)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ConnectionLost), outcome
    with pytest.raises(ConnectionLost):
        t.run("true")
    t.close()


# paramiko's SFTP prefetch thread dies with EOFError when the connection goes: its own thread, its
# own traceback; what reaches the caller is checked below.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize("sftp", [True, False], ids=["sftp", "cat"])
def test_connection_dropped_mid_copy(sftp: bool, sshd_factory: Factory, isolated_home: Path,
                                     tmp_path: Path) -> None:
    server = sshd_factory("127.0.0.26" if sftp else "127.0.0.28", sftp=sftp)
    add_known(isolated_home, server)
    big = tmp_path / "big.log"
    with open(big, "wb") as fh:
        fh.truncate(256 << 20)  # sparse: quick to make, long to copy
    folder = tmp_path / "out"
    folder.mkdir()
    killed: list[int] = []

    def progress(done: int, _total: int) -> None:
        if not killed and done >= 4 << 20:
            killed.extend(server.kill_sessions())

    with SshTransport.connect(key_target(server)) as t, pytest.raises(ConnectionLost) as info:
        t.copy_file(str(big), folder / "big.log", progress=progress)
    assert killed, "the connection was never cut"
    assert "dropped" in str(info.value) and "reconnect" in str(info.value)
    assert os.listdir(folder) == []  # neither the copy nor its part file


def test_command_timeout_kills_remote_process(sshd: SshServer, isolated_home: Path,
                                              tmp_path: Path) -> None:
    add_known(isolated_home, sshd)
    pidfile = tmp_path / "pid"
    with SshTransport.connect(key_target(sshd)) as t:
        with pytest.raises(CommandTimeout) as info:
            t.run(f"echo $$ > {pidfile}; echo partial; exec sleep 300", timeout=1)
        assert info.value.stdout == "partial\n"
        assert wait_dead(int(pidfile.read_text()))
        # The connection stays usable afterwards.
        assert t.run("echo still").stdout == "still\n"


def test_many_parallel_commands_over_one_connection(ssh_client_env: SshClientEnv) -> None:
    # More than sshd's MaxSessions (10) at once: the transport queues instead of failing.
    with SshTransport.connect(SshTarget(ssh_client_env.alias)) as t:
        out: list[str] = []
        threads = [threading.Thread(target=lambda i=i: out.append(t.run(f"echo {i}").stdout))
                   for i in range(30)]
        begin = time.monotonic()
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        assert sorted(out) == sorted(f"{i}\n" for i in range(30))
        assert time.monotonic() - begin < 120


def test_trust_once_saves_nothing(sshd: SshServer) -> None:
    target = SshTarget(sshd.address, port=sshd.port, user="root",
                       identity_files=(str(sshd.client_key_path),))
    with pytest.raises(HostKeyUnknown) as info:
        SshTransport.connect(target)
    with SshTransport.connect(target, trusted_once=(info.value.key,)) as t:
        assert t.run("echo once").stdout == "once\n"
    assert not config.known_hosts_file().exists() or str(sshd.port) not in config.known_hosts_file().read_text()
    with pytest.raises(HostKeyUnknown):
        SshTransport.connect(target)  # asked again next time
