"""The CLI, run as a user would: ``python -m diagkit ...`` in a subprocess, real files, real sshd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from diagkit import config
from diagkit.probes.registry import BUILTIN_NAMES
from tests.sshd_fixture import SshClientEnv, SshServer


def dk(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
       timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "diagkit", *args], input=stdin, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, **(env or {})},
    )


def test_probes_lists_every_builtin() -> None:
    out = dk("probes", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["schema"] == "diagkit.probe-list/1"
    names = [p["name"] for p in data["probes"]]
    assert names[: len(BUILTIN_NAMES)] == list(BUILTIN_NAMES)
    human = dk("probes").stdout
    assert "disk" in human and "DESCRIPTION" in human


def test_probe_local_json_schema() -> None:
    out = dk("probe", "--json", "-p", "system", "-p", "disk")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["schema"] == "diagkit.probe-run/1"
    (host,) = data["hosts"]
    assert host["host"] == "local" and host["ok"] is True
    assert [r["probe"] for r in host["results"]] == ["system", "disk"]
    for result in host["results"]:
        assert set(result) >= {"probe", "ok", "error", "exit_status", "duration", "facts",
                               "metrics", "tables", "findings", "raw"}
        assert result["ok"], result["error"]


def test_probe_human_output_shows_findings_before_probes() -> None:
    out = dk("probe")
    assert out.returncode in (0, 1), out.stderr
    text = out.stdout
    assert text.startswith("== local")
    assert text.index("Findings") < text.index("Probes:")
    for name in BUILTIN_NAMES:
        assert f"\n  {name} " in text


def test_unknown_probe_is_a_usage_error() -> None:
    out = dk("probe", "-p", "nosuch")
    assert out.returncode == 2
    assert "No probe named 'nosuch'" in out.stderr and "Traceback" not in out.stderr


def test_run_local_passes_exit_status_and_output() -> None:
    out = dk("run", "local", "--", "sh", "-c", "echo 'it works'; exit 7")
    assert out.returncode == 7
    assert out.stdout == "it works\n"
    assert "exit status 7" in out.stderr


def test_run_timeout_kills_and_says_so() -> None:
    out = dk("run", "local", "--timeout", "1", "--", "sleep 30")
    assert out.returncode == 1
    assert "did not finish within 1 s" in out.stderr


def test_hosts_commands_round_trip() -> None:
    assert dk("hosts", "add", "web1", "10.0.0.5", "--user", "support", "--port", "2222",
              "--tags", "web,eu").returncode == 0
    listing = dk("hosts", "list").stdout
    assert "web1" in listing and "support@10.0.0.5:2222" in listing
    assert dk("hosts", "edit", "web1", "--rename", "web2", "--notes", "moved").returncode == 0
    data = json.loads(dk("hosts", "list", "--json").stdout)
    assert [(h["name"], h["notes"]) for h in data["hosts"]] == [("web2", "moved")]
    dup = dk("hosts", "add", "web2", "x")
    assert dup.returncode == 2 and "exists already" in dup.stderr
    assert dk("hosts", "remove", "web2").returncode == 0
    missing = dk("hosts", "remove", "web2")
    assert missing.returncode == 2 and "No saved host named 'web2'" in missing.stderr


def test_set_password_without_keyring_backend_is_clear_and_stores_nothing() -> None:
    dk("hosts", "add", "web1", "10.0.0.5")
    out = dk("hosts", "set-password", "web1", "--stdin", stdin="s3cret-pw\n",
             env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert out.returncode != 0
    assert "keyring" in out.stderr.lower() and "Traceback" not in out.stderr
    for path in config.config_dir().rglob("*"):
        if path.is_file():
            assert "s3cret-pw" not in path.read_text(errors="replace")


def test_probe_over_ssh_alias(ssh_client_env: SshClientEnv) -> None:
    out = dk("probe", ssh_client_env.alias, "--json", "-p", "system", "-p", "cpu")
    assert out.returncode == 0, out.stderr
    host = json.loads(out.stdout)["hosts"][0]
    assert host["ok"] and host["host"] == "testhost"
    assert all(r["ok"] for r in host["results"])


def test_unknown_host_key_then_accept(sshd: SshServer) -> None:
    dest = f"root@{sshd.address}:{sshd.port}"
    home = Path(os.environ["HOME"])
    (home / ".ssh" / "config").write_text(f"Host *\n  IdentityFile {sshd.client_key_path}\n")
    first = dk("run", dest, "--", "true")
    assert first.returncode == 3
    assert sshd.fingerprint() in first.stderr and "--accept-new-host-key" in first.stderr
    second = dk("run", dest, "--accept-new-host-key", "--", "echo", "hello")
    assert second.returncode == 0 and second.stdout == "hello\n", second.stderr
    assert f"[{sshd.address}]:{sshd.port}" in config.known_hosts_file().read_text()
    third = dk("run", dest, "--", "true")
    assert third.returncode == 0, third.stderr


def test_unreachable_host_exit_status(sshd: SshServer) -> None:
    from tests.sshd_fixture import free_port

    out = dk("probe", f"root@127.0.0.1:{free_port()}", "-p", "system")
    assert out.returncode == 3
    assert "UNREACHABLE" in out.stdout and "Traceback" not in out.stderr
