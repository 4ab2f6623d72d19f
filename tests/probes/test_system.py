"""system probe: parser on real and hand-made captures, and the script run live."""

from __future__ import annotations

from pathlib import Path

from diagkit.probes import system
from diagkit.probes.base import Severity
from diagkit.transport.local import LocalTransport

DATA = Path(__file__).parent.parent / "data" / "probes" / "system"


def load(name: str) -> str:
    return (DATA / name).read_text()


def titles(data, severity: Severity | None = None) -> list[str]:
    return [f.title for f in data.findings if severity is None or f.severity == severity]


def test_normal_capture_debian_in_docker_on_kvm() -> None:
    data = system.parse(load("normal.txt"))
    assert data.facts["hostname"] == "vm"
    assert data.facts["os"] == "Debian GNU/Linux 12 (bookworm)"
    assert data.facts["os_version"] == "12"
    assert data.facts["kernel"].startswith("Linux 6.18.44")
    assert data.facts["architecture"] == "x86_64"
    assert data.facts["container"] == "docker"
    assert data.facts["virtualization"] == "kvm"
    assert data.facts["timezone"] == "Etc/UTC (+0000)"
    assert data.facts["time_sync"] == "unknown"
    assert data.facts["users_logged_in"] == "0"
    assert data.facts["boot_epoch"] == "1795781077"
    uptime = {m.name: m for m in data.metrics}["system.uptime"]
    assert uptime.value == 531.82 and uptime.unit == "s"
    # Captured 9 minutes after boot: the recent-reboot hint fires, nothing else.
    assert titles(data) == ["Recently rebooted"]
    assert data.findings[0].severity is Severity.INFO
    assert any("sync state unknown" in n for n in data.notes)


def test_busybox_capture_falls_back_to_dockerenv_and_cpu_flag() -> None:
    data = system.parse(load("busybox.txt"))
    # No systemd-detect-virt under busybox: /.dockerenv and the cpuinfo flag still tell.
    assert data.facts["container"] == "docker"
    assert data.facts["virtualization"].startswith("yes (hypervisor flag")
    assert data.facts["os"] == "Debian GNU/Linux 12 (bookworm)"
    assert data.facts["users_logged_in"] == "0"


def test_nonroot_capture_has_same_facts() -> None:
    data = system.parse(load("nonroot.txt"))
    assert data.facts["hostname"] == "vm"
    assert data.facts["container"] == "docker"
    assert "system.uptime" in {m.name for m in data.metrics}


def test_old_unsynced_server_with_long_uptime() -> None:
    data = system.parse(load("old_server_unsynced.txt"))
    assert data.facts["os"] == "CentOS Linux 7 (Core)"
    assert data.facts["virtualization"] == "vmware"
    assert data.facts["container"] == "none"
    assert data.facts["time_sync_source"] == "chronyc"
    assert data.facts["uptime"].startswith("465 d")
    assert data.facts["timezone"] == "Europe/Berlin (+0100)"
    assert set(titles(data)) == {"Clock is not synchronised", "Very long uptime"}
    clock = next(f for f in data.findings if f.title == "Clock is not synchronised")
    assert clock.severity is Severity.WARNING and "chronyc" in clock.detail and clock.hint
    assert clock.probe == "system"


def test_container_without_systemd_or_who() -> None:
    data = system.parse(load("container_no_systemd.txt"))
    assert data.facts["container"] == "kubernetes"
    assert data.facts["os"] == "Alpine Linux v3.19"
    assert data.facts["architecture"] == "aarch64"
    assert data.facts["timezone"] == "UTC (+0000)"
    assert "users_logged_in" not in data.facts
    assert any("who is not installed" in n for n in data.notes)
    assert data.findings == ()


def test_reader_gives_typed_values_without_thresholds() -> None:
    r = system.read((DATA / "old_server_unsynced.txt").read_text())
    assert r.time_sync == "no" and r.uptime is not None and r.boot_epoch is not None
    assert system.read((DATA / "container_no_systemd.txt").read_text()).container != "none"


def test_judge_works_on_data_with_the_thresholds_given() -> None:
    fresh = system.SystemReading(hostname="web1", uptime=120.0, boot_epoch=1_700_000_000.0)
    assert [(f.title, f.severity) for f in system.judge(fresh, system.THRESHOLDS)] == [
        ("Recently rebooted", Severity.INFO)]
    assert "booted 2023-11-14 22:13:20 UTC" in system.judge(fresh, system.THRESHOLDS)[0].detail
    assert system.judge(fresh, system.SystemThresholds(recent_boot_seconds=60)) == ()
    unsynced = system.SystemReading(time_sync="no", time_sync_source="chronyc")
    (clock,) = system.judge(unsynced, system.THRESHOLDS)
    assert clock.detail == "This host reports its clock as not synchronised (checked with chronyc)."


def test_live_local_run() -> None:
    result = LocalTransport().run(system.PROBE.script, timeout=system.PROBE.timeout)
    assert result.exit_status == 0, result.stderr
    data = system.parse(result.stdout)
    for key in ("hostname", "os", "kernel", "architecture", "uptime", "boot_time", "time_epoch"):
        assert data.facts[key], key
    assert all(m.unit for m in data.metrics)
    assert not [n for n in data.notes if "not readable" in n]
    assert system.PROBE.name == "system" and system.PROBE.timeout > 0
