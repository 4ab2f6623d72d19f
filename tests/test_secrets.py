"""A password used by diagkit never lands in any file diagkit writes, nor in its output."""

from __future__ import annotations

import json
import os
from pathlib import Path

from diagkit import config
from tests.sshd_fixture import SshServer
from tests.test_cli import dk


def test_password_never_written(sshd: SshServer) -> None:
    assert sshd.password_user and sshd.password
    add = dk("hosts", "add", "pwhost", sshd.address, "--port", str(sshd.port),
             "--user", sshd.password_user, "--notes", "password login")
    assert add.returncode == 0, add.stderr
    stored = dk("hosts", "set-password", "pwhost", "--stdin", stdin=sshd.password + "\n")
    assert stored.returncode == 0, stored.stderr

    runs = [
        dk("probe", "pwhost", "--accept-new-host-key", "--json", "-p", "system", "-p", "logs"),
        dk("run", "pwhost", "--", "id", "-un"),
        dk("hosts", "list", "--json"),
    ]
    probe_out = json.loads(runs[0].stdout)
    assert probe_out["hosts"][0]["ok"], runs[0].stdout
    assert runs[1].returncode == 0 and runs[1].stdout.strip() == sshd.password_user

    wrong = dk("hosts", "set-password", "pwhost", "--stdin", stdin="not-the-" + sshd.password + "\n")
    assert wrong.returncode == 0
    runs.append(dk("run", "pwhost", "--", "true"))
    assert runs[-1].returncode == 3 and "password" in runs[-1].stderr.lower()

    for run in runs:
        assert sshd.password not in run.stdout and sshd.password not in run.stderr
    scanned = 0
    for root in (config.config_dir(), config.data_dir(), Path(os.environ["HOME"])):
        for path in root.rglob("*"):
            if path.is_file():
                scanned += 1
                assert sshd.password.encode() not in path.read_bytes(), f"password found in {path}"
    assert scanned >= 3  # hosts.json, known_hosts, the log file at least
    assert config.log_file().exists()
