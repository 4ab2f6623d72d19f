"""Removing a changed host key from OpenSSH known_hosts files (issue 17): checked against
OpenSSH's own ``ssh-keygen -F`` on plain, listed, hashed and ``[host]:port`` entries."""

from __future__ import annotations

import base64
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from diagkit.errors import ConfigError
from diagkit.transport import known_hosts
from tests.sshd_fixture import make_key

SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"


@dataclass(frozen=True)
class Key:
    name: str
    blob: bytes

    def get_name(self) -> str:
        return self.name

    def asbytes(self) -> bytes:
        return self.blob

    @property
    def line(self) -> str:
        return f"{self.name} {base64.b64encode(self.blob).decode()}"


def new_key(tmp_path: Path, label: str) -> Key:
    kind, b64 = make_key(tmp_path / f"key-{label}", label).split()[:2]
    return Key(kind, base64.b64decode(b64))


def found_by_openssh(path: Path, name: str) -> bool:
    done = subprocess.run([SSH_KEYGEN, "-F", name, "-f", str(path)], check=False,
                          capture_output=True, text=True)
    usable = [line for line in done.stdout.splitlines()
              if line.strip() and not line.startswith(("#", "@revoked"))]
    return done.returncode == 0 and bool(usable)


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Key]:
    return {label: new_key(tmp_path, label) for label in ("old", "new", "other", "revoked")}


def test_plain_listed_and_revoked_entries(tmp_path: Path, keys: dict[str, Key]) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(
        "# my hosts\n"
        f"[127.0.0.1]:2222 {keys['old'].line}\n"
        f"alpha,[127.0.0.1]:2222,beta {keys['old'].line}\n"
        f"127.0.0.1 {keys['other'].line}\n"  # the same address on port 22: another host
        f"@revoked [127.0.0.1]:2222 {keys['revoked'].line}\n"
        f"gamma {keys['other'].line}\n")
    path.chmod(0o600)
    removed, backups = known_hosts.remove_host("127.0.0.1", 2222, files=[path], others=[])
    assert [(r.line, r.whole_line) for r in removed] == [(2, True), (3, False)]
    assert {r.fingerprint for r in removed} == {known_hosts.fingerprint(keys["old"])}
    assert path.read_text() == (
        "# my hosts\n"
        f"alpha,beta {keys['old'].line}\n"
        f"127.0.0.1 {keys['other'].line}\n"
        f"@revoked [127.0.0.1]:2222 {keys['revoked'].line}\n"
        f"gamma {keys['other'].line}\n")
    assert path.stat().st_mode & 0o777 == 0o600
    assert backups == [f"{path}.old"] and f"[127.0.0.1]:2222 {keys['old'].line}" in Path(
        backups[0]).read_text()
    assert not found_by_openssh(path, "[127.0.0.1]:2222")
    assert found_by_openssh(path, "127.0.0.1") and found_by_openssh(path, "alpha")


def test_hashed_entries_as_ssh_keygen_hashes_them(tmp_path: Path, keys: dict[str, Key]) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(f"[10.1.2.3]:2200 {keys['old'].line}\n"
                    f"10.1.2.3 {keys['other'].line}\n"
                    f"web.example.com {keys['other'].line}\n")
    subprocess.run([SSH_KEYGEN, "-H", "-f", str(path)], check=True, capture_output=True)
    assert all(line.startswith("|1|") for line in path.read_text().splitlines())
    assert found_by_openssh(path, "[10.1.2.3]:2200")
    removed, _ = known_hosts.remove_host("10.1.2.3", 2200, files=[path], others=[])
    assert len(removed) == 1 and removed[0].whole_line
    assert not found_by_openssh(path, "[10.1.2.3]:2200")
    assert found_by_openssh(path, "10.1.2.3") and found_by_openssh(path, "web.example.com")


def test_port_22_is_the_bare_name(tmp_path: Path, keys: dict[str, Key]) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(f"db1 {keys['old'].line}\n[db1]:2222 {keys['other'].line}\n")
    removed, _ = known_hosts.remove_host("db1", 22, files=[path], others=[])
    assert [r.line for r in removed] == [1]
    assert path.read_text() == f"[db1]:2222 {keys['other'].line}\n"


def test_a_wildcard_or_a_system_file_is_never_edited(tmp_path: Path,
                                                      keys: dict[str, Key]) -> None:
    path = tmp_path / "known_hosts"
    text = f"*.example.com {keys['old'].line}\nweb.example.com {keys['old'].line}\n"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"pattern \*\.example\.com.*nothing was changed"):
        known_hosts.remove_host("web.example.com", 22, files=[path], others=[])
    assert path.read_text() == text and not Path(f"{path}.old").exists()
    system = tmp_path / "ssh_known_hosts"
    system.write_text(f"[h]:2022 {keys['old'].line}\n")
    mine = tmp_path / "mine"
    mine.write_text(f"[h]:2022 {keys['old'].line}\n")
    with pytest.raises(ConfigError, match=f"{system}:1.*does not edit"):
        known_hosts.remove_host("h", 2022, files=[mine], others=[system])
    assert mine.read_text() == f"[h]:2022 {keys['old'].line}\n"


def test_replace_then_the_new_key_is_known(tmp_path: Path, keys: dict[str, Key]) -> None:
    user = tmp_path / "known_hosts"
    own = tmp_path / "diagkit_known_hosts"
    user.write_text(f"[127.0.0.9]:2022 {keys['old'].line}\n")
    files = [user, own]
    assert known_hosts.lookup("127.0.0.9", 2022, keys["new"], files=files).status is \
        known_hosts.Status.CHANGED
    done = known_hosts.replace_host_key("127.0.0.9", 2022, keys["new"], files=files, others=[],
                                        trust_file=own)
    assert known_hosts.lookup("127.0.0.9", 2022, keys["new"], files=files).status is \
        known_hosts.Status.KNOWN
    assert known_hosts.lookup("127.0.0.9", 2022, keys["old"], files=files).status is \
        known_hosts.Status.CHANGED  # the old key is no longer accepted
    text = done.describe()
    assert known_hosts.fingerprint(keys["old"]) in text and known_hosts.fingerprint(
        keys["new"]) in text and "[127.0.0.9]:2022" in text
    assert found_by_openssh(own, "[127.0.0.9]:2022") and not found_by_openssh(
        user, "[127.0.0.9]:2022")
