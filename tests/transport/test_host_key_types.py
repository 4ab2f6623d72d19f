"""A host that offers only a key of another type than the one on record is refused like a changed
key: both fingerprints named, ``--accept-new-host-key`` does not accept it, the way forward is
explicit (``ssh-keygen -R``, then trust the new key). Real OpenSSH servers whose only host key is
ECDSA or RSA, real known_hosts files, the real CLI in a subprocess.

OpenSSH 9.2 does the same (``ssh -o StrictHostKeyChecking=accept-new`` against such a server
prints "REMOTE HOST IDENTIFICATION HAS CHANGED" and "Offending ED25519 key in ...:1"); the last
test checks that against the real ``ssh`` client so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import paramiko
import pytest

from diagkit import config
from diagkit.errors import HostKeyChanged, HostKeyUnknown
from diagkit.transport import known_hosts
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SSH_KEYGEN, SshServer, make_key

Factory = Callable[..., SshServer]


def key_target(server: SshServer) -> SshTarget:
    return SshTarget(server.address, port=server.port, user="root",
                     identity_files=(str(server.client_key_path),))


def record_other_key(home: Path, server: SshServer, tmp_path: Path,
                     key_type: str = "ed25519") -> tuple[Path, str]:
    """Record a key of ``key_type`` for the server (as if it was its key before); return the
    known_hosts file and the recorded key's fingerprint."""
    line = make_key(tmp_path / f"recorded_{key_type}", "old-host-key", key_type)
    known = home / ".ssh" / "known_hosts"
    where = f"[{server.address}]:{server.port}"
    known.write_text(f"# an older key of this host\n{where} {' '.join(line.split()[:2])}\n")
    printed = subprocess.run([SSH_KEYGEN, "-lf", str(tmp_path / f"recorded_{key_type}.pub")],
                             check=True, capture_output=True, text=True).stdout.split()[1]
    return known, printed


def offered_key(server: SshServer) -> paramiko.PKey:
    kind, blob = server.host_pubkey.split()[:2]
    import base64

    return paramiko.PKey.from_type_string(kind, base64.b64decode(blob))


def dk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagkit", *args], capture_output=True,
                          text=True, timeout=90, check=False)


def removal_command(message: str) -> list[str]:
    """The ``ssh-keygen -R ...`` the message tells the user to run, as argv."""
    return shlex.split(message[message.index("ssh-keygen -R"):])


def test_lookup_tells_other_type_from_unknown_and_changed(tmp_path: Path) -> None:
    ecdsa = make_key(tmp_path / "e", key_type="ecdsa").split()[:2]
    ed = make_key(tmp_path / "d").split()[:2]
    ed2 = make_key(tmp_path / "d2").split()[:2]
    f = tmp_path / "known_hosts"
    import base64

    offered = paramiko.PKey.from_type_string(ecdsa[0], base64.b64decode(ecdsa[1]))
    f.write_text(f"web1 {ed[0]} {ed[1]}\nother {ecdsa[0]} {ecdsa[1]}\n")
    match = known_hosts.lookup("web1", 22, offered, files=[f])
    assert match.status is known_hosts.Status.OTHER_TYPE
    assert (match.file, match.line, match.recorded_key_type) == (str(f), 1, "ssh-ed25519")
    assert match.recorded_fingerprint == known_hosts.fingerprint(base64.b64decode(ed[1]))
    assert known_hosts.lookup("nobody", 22, offered, files=[f]).status is known_hosts.Status.UNKNOWN
    assert known_hosts.lookup("other", 22, offered, files=[f]).status is known_hosts.Status.KNOWN
    # a different key of the offered type wins over keys of other types: CHANGED
    other_ecdsa = make_key(tmp_path / "e2", key_type="ecdsa").split()[:2]
    f.write_text(f"web1 {ed[0]} {ed[1]}\nweb1 {other_ecdsa[0]} {other_ecdsa[1]}\n")
    assert known_hosts.lookup("web1", 22, offered, files=[f]).status is known_hosts.Status.CHANGED
    # keys of several other types: the first on record is named
    f.write_text(f"web1 {ed2[0]} {ed2[1]}\nweb1 {ed[0]} {ed[1]}\n")
    match = known_hosts.lookup("web1", 22, offered, files=[f])
    assert match.status is known_hosts.Status.OTHER_TYPE and match.line == 1
    # revoked and cert-authority lines are not "a key on record for this host"
    f.write_text(f"@cert-authority web1 {ed[0]} {ed[1]}\n@revoked nobody {ed2[0]} {ed2[1]}\n")
    assert known_hosts.lookup("web1", 22, offered, files=[f]).status is known_hosts.Status.UNKNOWN


@pytest.mark.parametrize("offered_type, name", [("ecdsa", "ecdsa-sha2-nistp256"),
                                                 ("rsa", "ssh-rsa")])
def test_only_another_key_type_is_refused_like_a_changed_key(
        sshd_factory: Factory, isolated_home: Path, tmp_path: Path, offered_type: str,
        name: str) -> None:
    server = sshd_factory("127.0.0.21", host_key_type=offered_type)
    known, recorded = record_other_key(isolated_home, server, tmp_path)
    trusted = (offered_key(server),)
    for kwargs in ({}, {"accept_new_host_key": True}, {"trusted_once": trusted}):
        with pytest.raises(HostKeyChanged) as info:
            SshTransport.connect(key_target(server), **kwargs)  # type: ignore[arg-type]
        err = info.value
        assert not isinstance(err, HostKeyUnknown)
        assert err.other_type
        assert (err.key_type, err.fingerprint) == (name, server.fingerprint())
        assert (err.expected_key_type, err.expected_fingerprint) == ("ssh-ed25519", recorded)
        assert (err.known_hosts_file, err.line) == (str(known), 2)
        text = str(err)
        assert server.fingerprint() in text and recorded in text and "CHANGED" in text
        assert "not in any known_hosts file" not in text
        assert f"ssh-keygen -R '[127.0.0.21]:{server.port}' -f {known}" in text
    assert not config.known_hosts_file().exists()  # nothing was accepted anywhere
    assert known.read_text().count("\n") == 2


def test_reinstalled_with_another_key_type_then_confirmed(sshd_factory: Factory,
                                                          isolated_home: Path) -> None:
    """The whole story: trusted once (ed25519), the host comes back offering only RSA, refused;
    the user removes the old entry as the message says, then accepts the new key explicitly."""
    server = sshd_factory("127.0.0.22")
    with SshTransport.connect(key_target(server), accept_new_host_key=True) as t:
        assert t.run("true").ok
    old = server.fingerprint()
    mine = config.known_hosts_file()
    server.stop()
    server.new_host_key("rsa")
    server.start()
    with pytest.raises(HostKeyChanged) as info:
        SshTransport.connect(key_target(server), accept_new_host_key=True)
    err = info.value
    assert err.other_type and err.expected_fingerprint == old and err.key_type == "ssh-rsa"
    assert (err.known_hosts_file, err.line) == (str(mine), 1)
    assert "ssh-rsa" not in mine.read_text()
    subprocess.run(removal_command(str(err)), check=True, capture_output=True)
    with pytest.raises(HostKeyUnknown) as unknown:
        SshTransport.connect(key_target(server))
    assert unknown.value.fingerprint == server.fingerprint()
    with SshTransport.connect(key_target(server), accept_new_host_key=True) as t:
        assert t.run("true").ok
    with SshTransport.connect(key_target(server)) as t:
        assert t.run("true").ok


def test_known_type_is_negotiated_when_the_server_has_it(sshd_factory: Factory,
                                                         isolated_home: Path,
                                                         tmp_path: Path) -> None:
    # The server has ed25519 and ECDSA host keys. Whichever one is on record is asked for
    # first (paramiko's own first choice is ed25519), so neither looks changed.
    ecdsa_key = tmp_path / "second_host_key"
    ecdsa_pub = " ".join(make_key(ecdsa_key, "second", "ecdsa").split()[:2])
    server = sshd_factory("127.0.0.23", extra_config=f"HostKey {ecdsa_key}")
    known = isolated_home / ".ssh" / "known_hosts"
    where = f"[{server.address}]:{server.port}"
    for recorded in (ecdsa_pub, server.host_pubkey):
        known.write_text(f"{where} {recorded}\n")
        with SshTransport.connect(key_target(server)) as t:
            assert t.run("true").ok
            assert t._transport.get_remote_server_key().get_name() == recorded.split()[0]
    assert not config.known_hosts_file().exists()


def test_cli_run_and_probe_refuse_with_both_fingerprints(sshd_factory: Factory,
                                                         isolated_home: Path,
                                                         tmp_path: Path) -> None:
    server = sshd_factory("127.0.0.24", host_key_type="ecdsa")
    known, recorded = record_other_key(isolated_home, server, tmp_path)
    (isolated_home / ".ssh" / "config").write_text(
        f"Host *\n  IdentityFile {server.client_key_path}\n")
    dest = f"root@{server.address}:{server.port}"
    for extra in ((), ("--accept-new-host-key",)):
        run = dk("run", dest, *extra, "--", "echo", "reached")
        assert run.returncode == 3, run.stderr
        assert run.stdout == "" and "Traceback" not in run.stderr
        assert len(run.stderr.splitlines()) == 1 and run.stderr.startswith("diagkit: WARNING")
        for words in (f"ecdsa-sha2-nistp256 key ({server.fingerprint()})",
                      f"ssh-ed25519 key ({recorded})", f"{known}:2", "ssh-keygen -R",
                      "--accept-new-host-key does not change that"):
            assert words in run.stderr, (words, run.stderr)
        probe = dk("probe", dest, "-p", "system", *extra)
        assert probe.returncode == 3, probe.stdout + probe.stderr
        assert "UNREACHABLE [HostKeyChanged]" in probe.stdout
        flat = " ".join(probe.stdout.split())
        assert server.fingerprint() in flat and recorded in flat
    assert not config.known_hosts_file().exists()
    # The explicit way forward, exactly as the message gives it.
    subprocess.run(removal_command(run.stderr.strip()), check=True, capture_output=True)
    first = dk("run", dest, "--", "true")
    assert first.returncode == 3 and "can't be established" in first.stderr
    accepted = dk("run", dest, "--accept-new-host-key", "--", "echo", "reached")
    assert accepted.returncode == 0 and accepted.stdout == "reached\n", accepted.stderr


def test_openssh_calls_it_a_changed_key_too(sshd_factory: Factory, isolated_home: Path,
                                            tmp_path: Path) -> None:
    server = sshd_factory("127.0.0.21", host_key_type="ecdsa")
    known, _ = record_other_key(isolated_home, server, tmp_path)
    ssh = subprocess.run(
        ["ssh", "-p", str(server.port), "-i", str(server.client_key_path), "-F", os.devnull,
         "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={known}",
         "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=accept-new",
         f"root@{server.address}", "true"],
        capture_output=True, text=True, timeout=30, check=False)
    assert ssh.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in ssh.stderr
    assert f"Offending ED25519 key in {known}:2" in ssh.stderr
    assert "ecdsa" not in known.read_text()
