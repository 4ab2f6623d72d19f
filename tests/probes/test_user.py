"""User probes: loading and problems, command_for, output parsing, and the shipped examples run
for real through LocalTransport."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from diagkit import config
from diagkit.errors import ProbeError
from diagkit.probes import user
from diagkit.probes.base import Probe, Severity
from diagkit.transport.local import LocalTransport

DATA = Path(__file__).parent.parent / "data" / "probes" / "user"


def write(folder: Path, name: str, text: str, mode: int = 0o755) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    path.chmod(mode)
    return path


def run(probe: Probe, env: str = ""):
    command, stdin = user.command_for(probe)
    result = LocalTransport().run(f"{env}{command}", stdin=stdin, timeout=30)
    return result, probe.parse(result.stdout)


def test_loads_from_the_user_probes_dir_by_default() -> None:
    write(config.user_probes_dir(), "latency", '#!/bin/sh\n# diagkit-probe: name=disk-latency '
          'title="Disk latency" timeout=10 description="How slow are the disks"\necho ok\n')
    probes, problems = user.load_user_probes()
    assert problems == []
    (probe,) = probes
    assert (probe.name, probe.title, probe.timeout) == ("disk-latency", "Disk latency", 10.0)
    assert probe.description == "How slow are the disks"
    assert probe.source == str(config.user_probes_dir() / "latency")
    assert user.command_for(probe) == ("/bin/sh -s", probe.script)


def test_missing_folder_is_empty_not_an_error(tmp_path: Path) -> None:
    assert user.load_user_probes(tmp_path / "nope") == ([], [])


def test_problems_are_reported_and_the_rest_loads(tmp_path: Path) -> None:
    write(tmp_path, "good.sh", "#!/bin/sh\n# diagkit-probe: name=good\necho hi\n")
    write(tmp_path, "noheader.sh", "#!/bin/sh\necho hi\n")
    write(tmp_path, "badname.sh", "#!/bin/sh\n# diagkit-probe: name=Bad/Name\n")
    write(tmp_path, "notexec.sh", "#!/bin/sh\n# diagkit-probe: name=notexec\n", mode=0o644)
    write(tmp_path, "clash.sh", "#!/bin/sh\n# diagkit-probe: name=kernel\n")
    write(tmp_path, "dup.sh", "#!/bin/sh\n# diagkit-probe: name=good\n")
    write(tmp_path, "quote.sh", '#!/bin/sh\n# diagkit-probe: name=q title="unclosed\n')
    write(tmp_path, "timeout.sh", "#!/bin/sh\n# diagkit-probe: name=slow timeout=forever\n")
    write(tmp_path, "typo.sh", "#!/bin/sh\n# diagkit-probe: name=typo titel=x\n")
    write(tmp_path, "backup.sh~", "#!/bin/sh\n")
    probes, problems = user.load_user_probes(tmp_path)
    assert [p.name for p in probes] == ["good"]
    text = "\n".join(problems)
    assert len(problems) == 8, text
    assert "noheader.sh has no '# diagkit-probe: name=...' line" in text
    assert "probe name 'Bad/Name' is not valid" in text
    assert "notexec.sh is not executable" in text and "chmod +x" in text
    assert "'kernel' is a built-in probe's name" in text
    # files load in name order, so the later good.sh is the one refused
    assert f"good.sh: the name 'good' is already used by {tmp_path / 'dup.sh'}" in text
    assert "quote.sh: the diagkit-probe header cannot be read" in text
    assert "timeout='forever' must be a number" in text
    assert "unknown item 'titel=x'" in text


def test_builtin_names_come_from_the_package() -> None:
    names = user.builtin_names()
    assert {"processes", "services", "kernel", "logs"} <= names
    assert not names & {"base", "user", "runner", "registry"}


def test_command_for_interpreters(tmp_path: Path) -> None:
    def cmd(script: str) -> str:
        return user.command_for(Probe("x", "x", "", script, lambda o: None))[0]  # type: ignore[arg-type,return-value]

    assert cmd("echo no shebang\n") == "sh -s"
    assert cmd("#!/bin/bash\n") == "/bin/bash -s"
    assert cmd("#!/usr/bin/env bash\n") == "bash -s"
    assert cmd("#!/usr/bin/env python3\n") == "python3 -"
    assert cmd("#!/usr/bin/env -S python3 -u\n") == "python3 -u -"
    assert cmd("#!/usr/bin/perl -w\n") == "/usr/bin/perl -w -"


def test_parse_full_json() -> None:
    data = user.parse_output("disk-latency", (DATA / "json_full.txt").read_text())
    assert [(m.name, m.value, m.unit, dict(m.labels)) for m in data.metrics] == [
        ("disk_latency", 12.5, "ms", {"dev": "sda"}), ("disk_latency", 0.4, "ms", {"dev": "nvme0n1"})]
    slow, raid = data.findings
    assert (slow.severity, slow.title, slow.hint) == (Severity.WARNING, "sda is slow",
                                                      "Check iostat -x 1 for sda")
    assert raid.severity is Severity.CRITICAL and raid.probe == "disk-latency"
    assert data.facts == {"raid": "md0", "disks": "2"}
    (table,) = data.tables
    assert table.columns == ("dev", "ms") and table.rows[1] == ("nvme0n1", 0.4)
    assert data.notes == ("smartctl not installed",)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ('{"metrics": [{"name": "x"', "printed invalid JSON (line 1"),
        ('{"metric": []}', "unknown key(s) metric"),
        ('{"metrics": [{"name": "x", "value": "3"}]}', "metrics[0].value: expected a number"),
        ('{"metrics": [{"value": 3}]}', "metrics[0].name: expected a non-empty string"),
        ('{"findings": [{"severity": "bad", "title": "t"}]}', "findings[0].severity: unknown severity"),
        ('{"findings": [{"severity": "info"}]}', "findings[0].title"),
        ('{"tables": [{"name": "t", "columns": ["a", "b"], "rows": [[1]]}]}',
         "tables[0].rows[0]: expected a list of 2 values"),
        ('{"facts": {"a": [1]}}', "facts.a"),
    ],
)
def test_bad_json_names_probe_and_fault(output: str, message: str) -> None:
    with pytest.raises(ProbeError) as err:
        user.parse_output("my-check", output)
    assert "'my-check'" in str(err.value) and message in str(err.value)


def test_plain_text_convention() -> None:
    data = user.parse_output("certs", (DATA / "text_findings.txt").read_text())
    crit, warn, info = data.findings
    assert crit.severity is Severity.CRITICAL
    assert crit.title == "/etc/ssl/private/web.pem expires within 7 days (Mar 10 12:00:00 2024 GMT)"
    assert crit.hint == "renew it now"
    assert warn.severity is Severity.WARNING and warn.hint == ""
    assert info.severity is Severity.INFO and info.title == "2 certificates checked"
    assert data.notes == ("/etc/ssl/private/old.pem is not readable",)
    assert data.metrics == () and data.facts == {}


def test_examples_load_and_run_locally() -> None:
    probes, problems = user.load_user_probes(user.example_probes_dir(), require_executable=False)
    assert problems == []
    by_name = {p.name: p for p in probes}
    assert set(by_name) == {"ntp-offset", "certificate-expiry", "open-files"}

    result, data = run(by_name["open-files"])
    assert user.command_for(by_name["open-files"])[0] == "python3 -"
    assert result.exit_status == 0, result.stderr
    used = next(m for m in data.metrics if m.name == "file_handles_used")
    assert used.value > 0 and int(data.facts["file_max"]) > used.value

    result, data = run(by_name["ntp-offset"])
    assert result.exit_status == 0 and result.stderr == ""
    assert result.stdout.startswith("tool: ") or data.notes


def _cert(folder: Path, name: str, days: int) -> Path:
    path = folder / f"{name}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(folder / f"{name}.key"), "-out", str(path), "-days", str(days),
         "-subj", f"/CN={name}.example.test"],
        check=True, capture_output=True,
    )
    return path


def test_certificate_expiry_example_on_real_certificates(tmp_path: Path) -> None:
    assert shutil.which("openssl"), "openssl is needed for this test"
    soon, later, fine = _cert(tmp_path, "soon", 3), _cert(tmp_path, "later", 20), _cert(tmp_path, "fine", 400)
    probes, _ = user.load_user_probes(user.example_probes_dir(), require_executable=False)
    probe = next(p for p in probes if p.name == "certificate-expiry")
    env = f"CERT_FILES='{soon} {later} {fine}' "
    result, data = run(probe, env)
    assert result.exit_status == 0, result.stderr
    assert [(f.severity, f.title.split(" ")[0]) for f in data.findings] == [
        (Severity.CRITICAL, str(soon)), (Severity.WARNING, str(later))]
    assert "renew it now" in data.findings[0].hint
    assert "fine.example.test" in result.stdout


def test_user_probe_dir_scripts_are_executable_in_the_source_tree() -> None:
    for path in user.example_probes_dir().iterdir():
        assert os.access(path, os.X_OK), f"{path} lost its executable bit"
