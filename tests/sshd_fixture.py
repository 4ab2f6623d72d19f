"""A real OpenSSH ``sshd`` on loopback, for tests and benchmarks.

Plain functions do the work so a script (``benchmarks/``) can start servers the same way::

    from tests.sshd_fixture import start_sshd
    server = start_sshd(Path("/tmp/work"), address="127.0.0.2")
    ...
    server.stop()

The pytest fixtures below are thin wrappers:

* ``sshd`` (session): one server on 127.0.0.1, key auth for root with a temp client key, and
  (as root) a throwaway user with a random password for password tests.
* ``sshd_factory`` (session): ``start(address="127.0.0.N") -> SshServer``, one host key each,
  all stopped at session end (multi-host tests, ProxyJump chains, benchmarks).
* ``ssh_client_env`` (function): a ``~/.ssh/config`` with ``Host testhost`` and a
  ``~/.ssh/known_hosts`` holding the server's key, in the per-test HOME from ``isolated_home``.

Only addresses in 127.0.0.0/8 are ever used. A missing ``/usr/sbin/sshd`` is a failure, not a skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
INSTALL_HINT = (
    "The SSH tests need a real OpenSSH server at /usr/sbin/sshd. Install it with "
    "'apt-get install -y --no-install-recommends openssh-server' (it does not start a service)."
)


class SshdError(RuntimeError):
    """The test sshd could not be set up; the message says why."""


def _check_loopback(address: str) -> None:
    if not address.startswith("127."):
        raise SshdError(f"test sshd may only listen on 127.0.0.0/8, not {address}")


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now at ``address``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def make_key(path: Path, comment: str = "diagkit-test", key_type: str = "ed25519") -> str:
    """Create a key pair (``ssh-keygen -t key_type``) without passphrase at ``path``; return the
    public key line."""
    for p in (path, path.with_name(path.name + ".pub")):
        p.unlink(missing_ok=True)
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", key_type, "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_name(path.name + ".pub").read_text().strip()


def _pubkey_without_comment(line: str) -> str:
    return " ".join(line.split()[:2])


@dataclass
class SshServer:
    """One running (or stopped) sshd. ``stop()``/``start()`` keep the same port and key."""

    address: str
    port: int
    workdir: Path
    host_key_path: Path
    host_pubkey: str  # "ssh-ed25519 AAAA..." (no comment)
    client_key_path: Path
    user: str = "root"
    password_user: str = ""
    password: str = ""
    config_path: Path = field(default=Path())
    log_path: Path = field(default=Path())
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def known_hosts_line(self, name: str | None = None) -> str:
        """An OpenSSH known_hosts line for this server (``[addr]:port key``)."""
        host = name or self.address
        where = host if self.port == 22 else f"[{host}]:{self.port}"
        return f"{where} {self.host_pubkey}"

    def fingerprint(self) -> str:
        """``SHA256:...`` of the host key, as ``ssh-keygen -lf`` prints it."""
        out = subprocess.run(
            [SSH_KEYGEN, "-lf", str(self.host_key_path) + ".pub"],
            check=True, capture_output=True, text=True,
        ).stdout
        return out.split()[1]

    def start(self, timeout: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        check = subprocess.run([SSHD, "-t", "-f", str(self.config_path)], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise SshdError(f"sshd -t rejected {self.config_path}: {check.stderr.strip()}")
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SshdError(f"sshd exited at start-up: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection((self.address, self.port), timeout=1.0) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise SshdError(f"sshd did not answer on {self.address}:{self.port} in {timeout} s")

    def stop(self) -> None:
        """Stop the listener and every session it serves (children get SIGTERM too)."""
        if self.process is None:
            return
        children = self.session_pids()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for pid in children:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        self.process = None

    def session_pids(self) -> list[int]:
        """PIDs of the sshd processes serving connections (children of the listener)."""
        if self.process is None or self.process.poll() is not None:
            return []
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False)
        return [int(x) for x in out.stdout.split()]

    def kill_sessions(self) -> list[int]:
        """SIGKILL every sshd process serving a connection (drops them); the listener stays."""
        killed: list[int] = []
        todo = self.session_pids()
        while todo:
            pid = todo.pop()
            out = subprocess.run(["pgrep", "-P", str(pid), "-x", "sshd"], capture_output=True, text=True, check=False)
            todo += [int(x) for x in out.stdout.split()]
            try:
                os.kill(pid, 9)
                killed.append(pid)
            except ProcessLookupError:
                pass
        return killed

    def new_host_key(self, key_type: str = "ed25519") -> None:
        """Replace the host key (as after a reinstall), of ``key_type`` (``ssh-keygen -t``).

        Takes effect at the next ``start()``; the server then offers only this key.
        """
        self.host_pubkey = _pubkey_without_comment(
            make_key(self.host_key_path, "diagkit-test-host", key_type))


def start_sshd(
    workdir: Path,
    address: str = "127.0.0.1",
    *,
    port: int | None = None,
    client_key_path: Path | None = None,
    password_user: str = "",
    password: str = "",
    extra_config: str = "",
    host_key_type: str = "ed25519",
    sftp: bool = True,
) -> SshServer:
    """Make keys and config under ``workdir`` and start ``sshd -D`` on ``address``.

    ``client_key_path`` (created if missing) is authorized for root. ``extra_config`` is appended
    to sshd_config verbatim. The server's only host key is of ``host_key_type``
    (``ssh-keygen -t``: ed25519, ecdsa, rsa). ``sftp=False`` leaves the SFTP subsystem out, as
    on busybox or dropbear hosts.
    """
    _check_loopback(address)
    if not os.path.exists(SSHD):
        raise SshdError(INSTALL_HINT)
    workdir.mkdir(parents=True, exist_ok=True)
    # sshd reads authorized_keys as the target user and checks nothing (StrictModes no), but the
    # folder must be reachable.
    workdir.chmod(0o755)
    host_key = workdir / "ssh_host_key"  # its type: host_key_type (or new_host_key's)
    host_pub = _pubkey_without_comment(make_key(host_key, "diagkit-test-host", host_key_type))
    client_key = client_key_path or workdir / "client_key"
    if not client_key.exists():
        make_key(client_key, "diagkit-test-client")
    authorized = workdir / "authorized_keys"
    authorized.write_text(client_key.with_name(client_key.name + ".pub").read_text())
    authorized.chmod(0o644)
    # An empty HOME for sessions: root's real start-up files initialise a Python version
    # manager, which costs ~0.09 s per remote command and would distort timings.
    session_home = workdir / "session-home"
    session_home.mkdir(exist_ok=True)
    session_home.chmod(0o755)
    port = port or free_port(address)
    config = workdir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"ListenAddress {address}",
                f"Port {port}",
                f"HostKey {host_key}",
                f"PidFile {workdir / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "UsePAM no",
                "StrictModes no",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "AllowTcpForwarding yes",
                "Subsystem sftp internal-sftp" if sftp else "# no SFTP subsystem",
                "LogLevel VERBOSE",
                "UseDNS no",
                f"SetEnv HOME={session_home}",
                extra_config,
                "",
            ]
        )
    )
    server = SshServer(
        address=address,
        port=port,
        workdir=workdir,
        host_key_path=host_key,
        host_pubkey=host_pub,
        client_key_path=client_key,
        password_user=password_user,
        password=password,
        config_path=config,
        log_path=workdir / "sshd.log",
    )
    server.start()
    return server


def create_password_user(prefix: str = "dktest") -> tuple[str, str]:
    """As root: a throwaway local user with a random password. Returns (name, password)."""
    name = f"{prefix}{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True, capture_output=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True,
                   capture_output=True)
    return name, password


def remove_user(name: str) -> None:
    subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True, check=False)
    subprocess.run(["userdel", "-r", "-f", name], capture_output=True, check=False)


# --- pytest fixtures -------------------------------------------------------------------------


def _require_root_and_sshd() -> None:
    if not os.path.exists(SSHD):
        pytest.fail(INSTALL_HINT, pytrace=False)
    if os.geteuid() != 0:
        pytest.fail(
            "The sshd fixture must run as root (it logs in as root and creates a throwaway user "
            "for password tests). Run the suite as root, e.g. in the project's CI container.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """The session's sshd on 127.0.0.1 (root by key, ``password_user`` by password)."""
    _require_root_and_sshd()
    user, password = create_password_user()
    server: SshServer | None = None
    try:
        server = start_sshd(tmp_path_factory.mktemp("sshd"), "127.0.0.1",
                            password_user=user, password=password)
        yield server
    except SshdError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        if server is not None:
            server.stop()
        remove_user(user)


@pytest.fixture(scope="session")
def sshd_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., SshServer]]:
    """``start(address="127.0.0.N", **kw) -> SshServer``; all stopped at session end."""
    _require_root_and_sshd()
    servers: list[SshServer] = []

    def start(address: str = "127.0.0.2", **kwargs: object) -> SshServer:
        try:
            server = start_sshd(tmp_path_factory.mktemp("sshd-" + address.replace(".", "_")),
                                address, **kwargs)  # type: ignore[arg-type]
        except SshdError as exc:
            pytest.fail(str(exc), pytrace=False)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def sshd_without_sftp(sshd: SshServer, sshd_factory: Callable[..., SshServer]) -> SshServer:
    """A server on 127.0.0.27 taking ``sshd``'s client key, without an SFTP subsystem."""
    return sshd_factory("127.0.0.27", client_key_path=sshd.client_key_path, sftp=False)


@dataclass(frozen=True)
class SshClientEnv:
    """What ``ssh_client_env`` wrote: the alias and the files, in the per-test HOME."""

    alias: str
    home: Path
    ssh_config: Path
    known_hosts: Path
    server: SshServer


def write_client_config(home: Path, server: SshServer, alias: str = "testhost") -> SshClientEnv:
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    config = ssh_dir / "config"
    with config.open("a") as fh:
        fh.write(
            f"Host {alias}\n"
            f"    HostName {server.address}\n"
            f"    Port {server.port}\n"
            f"    User root\n"
            f"    IdentityFile {server.client_key_path}\n\n"
        )
    known = ssh_dir / "known_hosts"
    with known.open("a") as fh:
        fh.write(server.known_hosts_line() + "\n")
    return SshClientEnv(alias=alias, home=home, ssh_config=config, known_hosts=known, server=server)


@pytest.fixture
def ssh_client_env(isolated_home: Path, sshd: SshServer) -> SshClientEnv:
    """``Host testhost`` in ~/.ssh/config and the server key in ~/.ssh/known_hosts."""
    return write_client_config(isolated_home, sshd)
