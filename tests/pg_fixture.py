"""A real PostgreSQL server on 127.0.0.1 for the tests, started from Debian's binaries.

``initdb`` + ``pg_ctl`` in a temp dir (as the ``postgres`` user when the tests run as root: the
server refuses to run as root), password (SCRAM) authentication over TCP so the keyring path is
exercised, and a fresh database per test (``CREATE DATABASE`` from ``template0``).

Fixtures:
* ``pg_server`` (session): the running server (:class:`PgServer`);
* ``pg_url`` (function): ``postgresql://diagkit@127.0.0.1:PORT/<fresh db>``, with the password
  stored in the test's keyring (what the app does), ready for ``PgStore(url)``.

Missing PostgreSQL is a failure, not a skip: CI installs it (``.ci/run``).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.sshd_fixture import free_port

PG_USER = "diagkit"


class PgError(RuntimeError):
    pass


def pg_bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        cand = Path(out.stdout.strip())
        if (cand / "initdb").exists():
            return cand
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(cand, "initdb").exists():
            return Path(cand)
    raise PgError("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
                  "postgresql package (.ci/run does).")


@dataclass
class PgServer:
    datadir: Path
    port: int
    password: str
    bindir: Path
    run_as: str | None
    _dbs: itertools.count = field(default_factory=lambda: itertools.count(1))

    host = "127.0.0.1"

    def _cmd(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        if self.run_as:
            args = ["runuser", "-u", self.run_as, "--", *args]
        return subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@{self.host}:{self.port}/{db}"

    def admin(self, sql: str, db: str = "postgres") -> str:
        env = {**os.environ, "PGPASSWORD": self.password}
        out = subprocess.run(
            [str(self.bindir / "psql"), "-h", self.host, "-p", str(self.port), "-U", PG_USER,
             "-d", db, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
            capture_output=True, text=True, env=env, check=False, timeout=60)
        if out.returncode != 0:
            raise PgError(f"psql failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def new_database(self) -> str:
        name = f"t{os.getpid()}_{next(self._dbs)}_{secrets.token_hex(3)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE template0")
        return name

    def start(self) -> None:
        log = self.datadir.parent / "server.log"
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.datadir.parent} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        out = self._cmd([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l", str(log),
                         "-w", "-t", "60", "-o", options, "start"])
        if out.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PgError(f"pg_ctl start failed: {out.stderr.strip()} {tail}")

    def stop(self, mode: str = "fast") -> None:
        self._cmd([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w",
                   "stop"])

    def terminate_backends(self, db: str) -> None:
        """Cut every connection to ``db`` (a network drop, as the server sees it)."""
        self.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   f"WHERE datname = '{db}' AND pid <> pg_backend_pid()")


def start_postgres(workdir: Path | None = None) -> PgServer:
    """Start a server in ``workdir`` (default: a new folder in the system temp dir, which the
    ``postgres`` user can reach; pytest's own temp dirs are private to root)."""
    bindir = pg_bindir()
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="diagkit-pg-"))
    workdir.mkdir(parents=True, exist_ok=True)
    datadir = workdir / "data"
    run_as = None
    if os.geteuid() == 0:
        run_as = "postgres"
        try:
            entry = pwd.getpwnam(run_as)
        except KeyError as exc:
            raise PgError("running as root needs the 'postgres' user (Debian's postgresql "
                          "package creates it)") from exc
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
        os.chmod(workdir, 0o700)
    password = secrets.token_urlsafe(16)
    pwfile = workdir / "pw"
    pwfile.write_text(password + "\n")
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    server = PgServer(datadir, free_port("127.0.0.1"), password, bindir, run_as)
    out = server._cmd([str(bindir / "initdb"), "-D", str(datadir), "-U", PG_USER,
                       f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=trust",
                       "-E", "UTF8", "--locale=C.UTF-8"])
    if out.returncode != 0:
        raise PgError(f"initdb failed: {out.stderr.strip() or out.stdout.strip()}")
    pwfile.unlink()
    server.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            server.admin("SELECT 1")
            break
        except PgError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(server.datadir.parent, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer, isolated_home: Path) -> str:
    """A fresh database; its password is in this test's keyring, as the app keeps it."""
    from diagkit.store.postgres import set_store_password

    url = pg_server.url(pg_server.new_database())
    set_store_password(url, pg_server.password)
    return url
