"""services probe: parser on real and hand-made captures, and a live run."""

from __future__ import annotations

from pathlib import Path

from diagkit.probes import services
from diagkit.probes.base import Severity
from diagkit.transport.local import LocalTransport

DATA = Path(__file__).parent.parent / "data" / "probes" / "services"


def load(name: str):
    return services.parse((DATA / name).read_text())


def test_container_without_systemd_is_a_fact_not_an_error() -> None:
    data = load("container_no_systemd.txt")
    assert data.facts["init"] == "none"
    assert data.facts["pid1"] == "process_api"
    assert data.facts["container"] == "docker"
    assert data.findings == () and data.metrics == ()
    assert "systemd is not running as init" in data.notes[0]


def test_busybox_and_nonroot_captures() -> None:
    bb = load("busybox.txt")
    assert bb.facts["init"] == "none" and "no systemd and no OpenRC" in bb.notes[0]
    nonroot = load("nonroot.txt")
    assert nonroot.facts["pid1"] == "process_api" and nonroot.findings == ()


def test_failed_units_warn_each_and_critical_when_many() -> None:
    data = load("failed_units.txt")
    assert data.facts["system_state"] == "degraded"
    (failed,) = [t for t in data.tables if t.name == "failed_units"]
    assert failed.rows[0] == ("nginx.service", "loaded", "failed", "failed",
                              "A high performance web server and a reverse proxy server")
    assert failed.rows[1]["unit"] == "mnt-backup.mount"
    warnings = [f for f in data.findings if f.severity is Severity.WARNING]
    assert warnings[0].title == "Unit nginx.service failed"
    assert len(warnings) == 5
    assert "systemctl status nginx.service" in warnings[0].hint
    assert "journalctl -u nginx.service" in warnings[0].hint
    (critical,) = [f for f in data.findings if f.severity is Severity.CRITICAL]
    assert critical.title == "5 units failed"
    values = {(m.name, tuple(m.labels.values())): m.value for m in data.metrics}
    assert values[("services.units_failed", ())] == 5
    assert values[("services.units_total", ())] == 312
    assert values[("services.units_by_state", ("active",))] == 241


def test_one_failed_unit_from_old_systemd_with_bullet() -> None:
    data = load("one_failed_old_systemd.txt")
    (finding,) = data.findings
    assert finding.severity is Severity.WARNING
    assert finding.title == "Unit postfix@-.service failed"


def test_maintenance_mode_is_critical() -> None:
    data = load("maintenance_mode.txt")
    titles = {f.title: f.severity for f in data.findings}
    assert titles["System is in maintenance mode"] is Severity.CRITICAL
    assert sum(1 for s in titles.values() if s is Severity.WARNING) == 1


def test_openrc_crashed_service() -> None:
    data = load("openrc_crashed.txt")
    (table,) = data.tables
    assert ("nginx", "crashed") in table.rows and ("docker", "stopped") in table.rows
    (finding,) = data.findings
    assert finding.title == "Service nginx crashed" and finding.severity is Severity.WARNING


def test_reader_gives_typed_values_without_thresholds() -> None:
    r = services.read((DATA / "failed_units.txt").read_text())
    assert r.init == "systemd" and r.failed[0].unit == "nginx.service"
    assert r.unit_counts["total"] > 0
    openrc = services.read((DATA / "openrc_crashed.txt").read_text())
    assert openrc.init == "openrc" and "crashed" in {svc.state for svc in openrc.openrc}


def test_judge_works_on_data_with_the_thresholds_given() -> None:
    units = tuple(services.Unit(f"job{n}.service", "loaded", "failed", "failed", "")
                  for n in range(3))
    reading = services.ServicesReading(init="systemd", system_state="degraded", failed=units)
    assert [f.severity for f in services.judge(reading, services.THRESHOLDS)] == [
        Severity.WARNING] * 3
    tight = services.ServicesThresholds(many_failed_units=2, max_unit_findings=1)
    assert [f.title for f in services.judge(reading, tight)] == [
        "Unit job0.service failed", "2 more units failed", "3 units failed"]
    rescue = services.ServicesReading(init="systemd", system_state="emergency")
    assert [f.title for f in services.judge(rescue, services.THRESHOLDS)] == [
        "System is in emergency mode"]
    assert services.judge(services.ServicesReading(init="none"), services.THRESHOLDS) == ()


def test_live_run_locally() -> None:
    result = LocalTransport().run("sh -s", stdin=services.SCRIPT, timeout=30)
    assert result.exit_status == 0 and result.stderr == ""
    data = services.parse(result.stdout)
    assert data.facts["init"] in ("systemd", "openrc", "none")
    assert data.facts["pid1"]
    if data.facts["init"] == "none":
        assert data.notes
