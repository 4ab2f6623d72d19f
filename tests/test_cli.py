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
        timeout=timeout, env={**os.environ, **(env or {})}, check=False,
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


def test_key_passphrase_via_cli(sshd_factory, tmp_path: Path) -> None:
    key = tmp_path / "enc_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "pass phrase 1", "-f", str(key)],
                   check=True)
    server: SshServer = sshd_factory("127.0.0.9", client_key_path=key)
    home = Path(os.environ["HOME"])
    (home / ".ssh" / "config").write_text(f"Host enc\n  HostName {server.address}\n  Port {server.port}\n"
                                          f"  User root\n  IdentityFile {key}\n")
    (home / ".ssh" / "known_hosts").write_text(server.known_hosts_line() + "\n")
    refused = dk("run", "enc", "--", "true")
    assert refused.returncode == 3 and "diagkit keys set-passphrase" in refused.stderr
    wrong = dk("keys", "set-passphrase", str(key), "--stdin", stdin="nope\n")
    assert wrong.returncode == 2 and "does not open" in wrong.stderr
    right = dk("keys", "set-passphrase", str(key), "--stdin", stdin="pass phrase 1\n")
    assert right.returncode == 0, right.stderr
    ok = dk("run", "enc", "--", "echo", "in")
    assert ok.returncode == 0 and ok.stdout == "in\n", ok.stderr


def test_saved_jump_host_chain(sshd: SshServer, sshd_factory) -> None:
    inner: SshServer = sshd_factory("127.0.0.10", client_key_path=sshd.client_key_path)
    home = Path(os.environ["HOME"])
    (home / ".ssh" / "config").write_text(f"Host *\n  IdentityFile {sshd.client_key_path}\n")
    (home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line() + "\n" + inner.known_hosts_line() + "\n")
    assert dk("hosts", "add", "bastion", sshd.address, "--port", str(sshd.port), "--user", "root").returncode == 0
    assert dk("hosts", "add", "inner", inner.address, "--port", str(inner.port), "--user", "root",
              "--jump", "bastion").returncode == 0
    out = dk("run", "inner", "--", "sh", "-c", "echo $SSH_CONNECTION")
    assert out.returncode == 0, out.stderr
    # The inner sshd saw the connection come from the bastion (127.0.0.1), not from us directly.
    client_ip, _, server_ip, server_port = out.stdout.split()
    assert (client_ip, server_ip, int(server_port)) == ("127.0.0.1", inner.address, inner.port)


def test_user_probe_listed_and_run_over_ssh(ssh_client_env: SshClientEnv) -> None:
    probes_dir = config.user_probes_dir()
    probes_dir.mkdir(parents=True)
    script = probes_dir / "tmp-files.sh"
    script.write_text(
        "#!/bin/sh\n"
        "# diagkit-probe: name=tmp-files title=\"Files in /tmp\" timeout=5 description=\"Counts files in /tmp\"\n"
        "n=$(ls -A /tmp | wc -l)\n"
        "printf '{\"metrics\": [{\"name\": \"tmp.files\", \"value\": %s, \"unit\": \"files\"}],"
        " \"findings\": [{\"severity\": \"warning\", \"title\": \"demo finding\", \"hint\": \"none\"}]}\\n' \"$n\"\n"
    )
    script.chmod(0o755)
    listing = json.loads(dk("probes", "--json").stdout)
    assert any(p["name"] == "tmp-files" and p["source"] == str(script) for p in listing["probes"])
    out = dk("probe", ssh_client_env.alias, "-p", "tmp-files", "--json")
    assert out.returncode == 0, out.stderr
    (result,) = json.loads(out.stdout)["hosts"][0]["results"]
    assert result["ok"] and result["metrics"][0]["name"] == "tmp.files"
    assert result["findings"][0] == {"severity": "warning", "title": "demo finding", "detail": "",
                                     "hint": "none", "probe": "tmp-files"}


def test_saved_identity_file_is_used(sshd: SshServer) -> None:
    config.known_hosts_file().parent.mkdir(parents=True, exist_ok=True)
    config.known_hosts_file().write_text(sshd.known_hosts_line() + "\n")
    added = dk("hosts", "add", "keyed", sshd.address, "--port", str(sshd.port), "--user", "root",
               "--identity-file", str(sshd.client_key_path))
    assert added.returncode == 0, added.stderr
    out = dk("run", "keyed", "--", "echo", "ok")
    assert out.returncode == 0 and out.stdout == "ok\n", out.stderr
    cleared = dk("hosts", "edit", "keyed", "--identity-file", "")
    assert cleared.returncode == 0
    assert json.loads(dk("hosts", "list", "--json").stdout)["hosts"][0]["identity_file"] is None
