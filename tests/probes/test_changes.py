"""changes probe: parser on captures of changes really made on this machine, and live runs.

The captures in ``tests/data/probes/changes/``, all from this test machine (Debian 12, runit
installed but no systemd, PID 1 not an init):

* ``planted_dash.txt`` - run with dash after ``apt-get install hello``, a new file
  ``/etc/diagkit-h16-demo.conf``, a new ``/etc/cron.d/diagkit-h16-demo`` and a runit service
  ``diagkit-h16-demo`` started under ``runsv``;
* ``planted_removed_busybox.txt`` - run with ``busybox sh`` after ``apt-get remove hello``, an edit
  of that /etc file and ``sv down`` of the service;
* ``busybox_only.txt`` - the same host with nothing but busybox applets on PATH;
* ``nonroot.txt`` - run as ``nobody`` (dmesg refused, /etc partly unreadable, no btmp);
* ``ssh_loop_mount.txt`` - over a real SSH connection (``tests/sshd_fixture.py``) while a loop
  device with ext4 was mounted on ``/mnt/h16demo``.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from diagkit.probes import changes
from diagkit.probes.base import Severity
from diagkit.probes.runner import run_probe
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshServer

DATA = Path(__file__).parent.parent / "data" / "probes" / "changes"


def rows(name: str) -> list[tuple[str, str, str, str]]:
    data = changes.parse((DATA / name).read_text())
    (table,) = data.tables
    assert table.columns == ("time", "kind", "what", "detail")
    return [tuple(r) for r in table.rows]  # type: ignore[misc]


def test_planted_install_config_cron_and_unit_start_are_listed_with_their_times() -> None:
    found = rows("planted_dash.txt")
    assert ("2026-12-05T13:10:46+00:00", "package", "hello", "install 2.10-3") in found
    assert ("2026-12-05T13:10:46+00:00", "package",
            "apt-get install -y --no-install-recommends hello", "install 1") in found
    assert ("2026-12-05T13:10:50+00:00", "config", "/etc/diagkit-h16-demo.conf",
            "modified") in found
    assert ("2026-12-05T13:10:50+00:00", "cron", "/etc/cron.d/diagkit-h16-demo",
            "modified") in found
    # the cron file is under /etc too, but listed once, as cron
    (cron,) = [r for r in found if r[2] == "/etc/cron.d/diagkit-h16-demo"]
    assert cron[1] == "cron"
    (unit,) = [r for r in found if r[1] == "unit"]
    assert unit[2] == "diagkit-h16-demo" and unit[3].startswith("started (runit: run, pid ")
    times = [r[0] for r in found]
    assert times == sorted(times, reverse=True), "newest first"


def test_planted_removal_and_service_stop() -> None:
    found = rows("planted_removed_busybox.txt")
    assert ("2026-12-05T13:10:58+00:00", "package", "hello", "remove 2.10-3") in found
    assert ("2026-12-05T13:10:58+00:00", "package", "apt-get remove -y hello",
            "remove 1") in found
    assert ("2026-12-05T13:11:01+00:00", "config", "/etc/diagkit-h16-demo.conf",
            "modified") in found
    (unit,) = [r for r in found if r[1] == "unit"]
    assert unit[2] == "diagkit-h16-demo" and unit[3] == "stopped (runit: down)"


def test_boot_mounts_and_failed_logins() -> None:
    data = changes.parse((DATA / "ssh_loop_mount.txt").read_text())
    assert data.facts["booted"] == "2026-12-05T09:42:08+00:00"
    assert data.facts["window"] == "7 days"
    found = [tuple(r) for r in data.tables[0].rows]
    assert ("2026-12-05T09:42:08+00:00", "reboot", "booted",
            "current boot (/proc/stat btime)") in found
    mounts = [r for r in found if r[1] == "mount"]
    # the latest mount of loop0 is named by its mount point; the earlier, reused loop0 is not
    assert mounts[0][:3] == ("2026-12-05T13:11:20+00:00", "mount",
                             "/mnt/h16demo (/dev/loop0 ext4)")
    assert [r[2] for r in mounts[1:]] == ["loop0", "loop0", "/ (/dev/vda ext4)"]
    assert mounts[1][3].startswith("unmounted:")
    failed = [r for r in found if r[1] == "login"]
    assert failed and all(r[3] == "failed login on ssh:notty from 127.0.0.1" for r in failed)
    names = {r[2] for r in failed}  # the users of the suite's auth tests
    assert {"admin", "git"} <= names and any(n.startswith("dktest") for n in names)


def test_what_the_host_lacks_is_a_note_not_a_failure() -> None:
    bb = changes.parse((DATA / "busybox_only.txt").read_text())
    assert any(n.startswith("units: no systemd running and no runit") for n in bb.notes)
    assert bb.metric("changes.count", kind="package") == 142
    assert bb.metric("changes.count", kind="login") == 0  # busybox has no lastb
    nonroot = changes.parse((DATA / "nonroot.txt").read_text())
    assert any(n.startswith("mounts: dmesg refused") for n in nonroot.notes)
    assert any(n.startswith("etc: not root") for n in nonroot.notes)
    assert nonroot.metric("changes.count", kind="mount") == 0
    assert "runit services are not supervised" in " ".join(nonroot.notes)


def test_window_filters_and_caps() -> None:
    text = (DATA / "planted_dash.txt").read_text()
    week = changes.read(text)
    # The same capture read as if the window had been one hour: only the last hour remains.
    now = week.now
    assert now is not None
    hour = text.replace(f"since={int(week.since.timestamp())}",  # type: ignore[union-attr]
                        f"since={int((now - timedelta(hours=1)).timestamp())}")
    short = changes.read(hour)
    assert short.changes and len(short.changes) < len(week.changes)
    assert all(c.time >= now - timedelta(hours=1) for c in short.changes)
    most = max(sum(1 for c in week.changes if c.kind == k) for k in changes.KINDS)
    assert most <= changes.MAX_ROWS_PER_KIND


def test_journal_lines_of_systemd_hosts() -> None:
    """systemd does not run here, so these lines are written in ``journalctl -o short-iso`` form
    (systemd 252) rather than captured."""
    nginx = "nginx.service - A high performance web server and a reverse proxy server."
    text = f"""2026-12-04T10:00:01+0000 web1 systemd[1]: Started {nginx}
2026-12-04T10:05:00+0000 web1 systemd[1]: Stopped {nginx}
2026-12-04T10:06:00+0000 web1 systemd[1]: nginx.service: Failed with result 'exit-code'.
2026-12-04T10:06:00+0000 web1 systemd[1]: Failed to start {nginx}
2026-12-04T10:07:00+0000 web1 systemd[1]: Mounted mnt-data.mount - /mnt/data.
"""
    found = list(changes._journal_units(text))
    assert [(c.kind, c.what, c.detail.split(":")[0]) for c in found] == [
        ("unit", "nginx.service", "started"), ("unit", "nginx.service", "stopped"),
        ("unit", "nginx.service", "failed"), ("unit", "nginx.service", "failed"),
        ("mount", "/mnt/data", "mounted")]
    assert found[0].time == datetime(2026, 12, 4, 10, 0, 1, tzinfo=UTC)


def test_judge_on_readings() -> None:
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    boot = now - timedelta(days=1)
    reading = changes.ChangesReading(
        now=now, since=now - timedelta(days=7), kernel="6.1.0-13-amd64", booted=boot,
        changes=(
            changes.Change(now - timedelta(hours=1), "package", "nginx", "upgrade 1 -> 2"),
            changes.Change(now - timedelta(hours=2), "unit", "nginx.service", "failed: x"),
            changes.Change(now - timedelta(days=3), "config", "/etc/hosts", "modified"),
            *(changes.Change(now - timedelta(days=d), "reboot", "booted") for d in range(1, 6)),
        ),
        kernel_files=((boot + timedelta(hours=2), "/boot/vmlinuz-6.1.0-15-amd64"),
                      (boot - timedelta(days=30), "/boot/vmlinuz-6.1.0-13-amd64")))
    found = {f.title: f for f in changes.judge(reading, changes.THRESHOLDS)}
    assert found["2 changes in the last 24 h"].severity is Severity.INFO
    assert "nginx" in found["2 changes in the last 24 h"].detail
    assert found["5 boots in 7 days"].severity is Severity.WARNING
    assert found["1 units failed in 7 days"].detail == "nginx.service"
    assert "vmlinuz-6.1.0-15" in found["Kernel files changed since boot"].detail
    calm = changes.ChangesReading(now=now, since=now - timedelta(days=7))
    assert changes.judge(calm, changes.THRESHOLDS) == ()


def test_window_is_a_parameter() -> None:
    probe = changes.make_probe(30)
    assert "D=30\n" in probe.script and "30 days" in probe.description
    with pytest.raises(ValueError, match="at least 1 day"):
        changes.make_probe(0)


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_live_run_under_strict_shells(shell: str) -> None:
    command = [shutil.which(shell) or shell] + (["sh"] if shell == "busybox" else [])
    done = subprocess.run(command, input=changes.PROBE.script, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    data = changes.parse(done.stdout)
    assert data.facts["booted"] and data.facts["kernel"]
    assert data.metric("changes.count", kind="reboot") is not None
    assert all(len(r) == 4 and r[0] for r in data.tables[0].rows)


def test_live_run_over_ssh(sshd: SshServer) -> None:
    target = SshTarget(host=sshd.address, port=sshd.port, user="root",
                       identity_files=(str(sshd.client_key_path),))
    with SshTransport.connect(target, accept_new_host_key=True) as transport:
        remote = run_probe(transport, changes.PROBE)
    local = run_probe(LocalTransport(), changes.PROBE)
    assert remote.ok and remote.exit_status == 0 and remote.stderr == ""
    assert remote.data.facts["booted"] == local.data.facts["booted"]
    assert remote.data.facts["kernel"] == local.data.facts["kernel"]
    assert sorted(remote.data.facts) == sorted(local.data.facts)
