"""``diagkit bundle create|verify|open|unredact`` end to end: real sshd, real files, real zips."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from diagkit import config
from diagkit.cli import main
from tests.sshd_fixture import SshClientEnv

SECRET = "Hunter2xyz"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def every_byte(path: Path) -> list[tuple[str, bytes]]:
    out = [("<zip>", path.read_bytes())]
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            out.append((f"<name {info.filename}>", info.filename.encode("utf-8")))
            out.append((info.filename, zf.read(info)))
    return out


def plant_user_probe() -> None:
    folder = config.user_probes_dir()
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "leaky"
    script.write_text("#!/bin/sh\n# diagkit-probe: name=leaky title=Leaky\n"
                      f"echo 'db url: postgres://app:{SECRET}@db/x'\n"
                      f"echo 'password={SECRET}'\n"
                      "echo 'WARNING: leaky probe ran'\n")
    script.chmod(0o755)


def write_log(path: Path) -> Path:
    lines = [f"2024-01-02T10:00:{i % 60:02d}Z web1 app[1]: INFO request {i} ok" for i in range(500)]
    lines[300] = f"2024-01-02T10:05:00Z web1 app[1]: ERROR login failed password={SECRET}"
    lines[301] = "2024-01-02T10:05:01Z web1 app[1]: ERROR Größe 日本語 überschritten"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_create_over_ssh_and_local_then_verify_open(tmp_path: Path, ssh_client_env: SshClientEnv) -> None:
    plant_user_probe()
    log = write_log(tmp_path / "app-ünï.log")
    steps = tmp_path / "steps.txt"
    steps.write_text("Öffne die App\n\nlog in with password=" + SECRET + "\n", encoding="utf-8")
    out = tmp_path / "bug.zip"
    code, text = run("bundle", "create", "--host", "testhost", "--host", "local",
                     "--probe", "system", "--probe", "leaky", "--log", str(log),
                     "--log-lines", "50", "--steps", str(steps), "--title", "Crash ✗ 日本",
                     "--severity", "high", "--case", "42", "-o", str(out))
    assert code == 0, text
    assert f"Bundle written: {out}" in text and "Redacted:" in text
    for where, data in every_byte(out):
        assert SECRET.encode() not in data, f"secret leaked in {where}"
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        doc = json.loads(zf.read("data/bundle.json"))
        probes = [json.loads(zf.read(n)) for n in names if n.startswith("data/probes/")]
        log_text = zf.read(next(n for n in names if n.startswith("logs/"))).decode("utf-8")
    assert doc["title"] == "Crash ✗ 日本" and doc["case"] == "42" and len(doc["steps"]) == 2
    assert [p["host"] for p in probes] == ["testhost", "local"]
    # the system probe's facts are the host environment; the user probe ran remotely too
    assert all(p["facts"] for p in probes)
    assert all({r["probe"] for r in p["results"]} == {"system", "leaky"} for p in probes)
    assert "Größe 日本語" in log_text and "request 300" not in log_text
    assert "error record" in doc["logs"][0]["note"]

    code, text = run("bundle", "verify", str(out))
    assert code == 0 and "OK" in text
    dest = tmp_path / "opened"
    code, text = run("bundle", "open", str(out), "--to", str(dest))
    assert code == 0 and f"Report: {dest / 'report.html'}" in text
    assert (dest / "report.html").is_file()


def test_log_without_errors_gives_the_tail(tmp_path: Path) -> None:
    log = tmp_path / "quiet.log"
    log.write_text("".join(f"2024-01-02T10:00:00Z h a: INFO line {i}\n" for i in range(100)))
    out = tmp_path / "b.zip"
    code, _ = run("bundle", "create", "--log", str(log), "--log-lines", "10", "-o", str(out))
    assert code == 0
    with zipfile.ZipFile(out) as zf:
        doc = json.loads(zf.read("data/bundle.json"))
        text = zf.read(doc["logs"][0]["path"]).decode()
    assert text.splitlines()[0].endswith("line 90") and len(text.splitlines()) == 10
    assert doc["logs"][0]["first_line"] == 91 and "last 10 line(s)" in doc["logs"][0]["note"]


def test_verify_reports_tampering_with_exit_1(tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    assert run("bundle", "create", "--title", "t", "-o", str(out))[0] == 0
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, data + b"x" if info.filename == "report.md" else data)
    code, text = run("bundle", "verify", str(bad))
    assert code == 1 and "tampered file: report.md" in text
    code, _ = run("bundle", "open", str(bad))
    assert code == 1


def test_obfuscate_and_unredact(tmp_path: Path) -> None:
    log = tmp_path / "net.log"
    log.write_text("2024-01-02T10:00:00Z h a: ERROR cannot reach 10.20.30.40 from 10.20.30.41\n")
    out = tmp_path / "b.zip"
    code, _ = run("bundle", "create", "--log", str(log), "--obfuscate", "ip", "-o", str(out))
    assert code == 0
    with zipfile.ZipFile(out) as zf:
        doc = json.loads(zf.read("data/bundle.json"))
        text = zf.read(doc["logs"][0]["path"]).decode()
        manifest = json.loads(zf.read("manifest.json"))
    assert "10.20.30.40" not in text and manifest["options"]["obfuscate"] == ["ip"]
    masked = text.strip()
    reply = tmp_path / "reply.txt"
    reply.write_text(f"Please check: {masked}\n")
    code, restored = run("bundle", "unredact", str(reply))
    assert code == 0 and "10.20.30.40" in restored and "10.20.30.41" in restored
    code, restored = run("bundle", "unredact", masked)
    assert code == 0 and "cannot reach 10.20.30.40" in restored


def test_usage_errors(tmp_path: Path) -> None:
    assert run("bundle", "create", "--obfuscate", "ip,nope", "-o", str(tmp_path / "b.zip"))[0] == 2
    assert run("bundle", "create", "--log", str(tmp_path / "absent.log"), "-o", str(tmp_path / "b.zip"))[0] == 2
    assert not (tmp_path / "b.zip").exists()
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 truncated")
    assert run("bundle", "verify", str(junk))[0] == 1
