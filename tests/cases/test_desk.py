"""CaseDesk on real SQLite files: triage, lifecycle, journal vocabulary, SLA with pauses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from diagkit import config
from diagkit.cases.desk import (
    CaseDesk,
    CaseInputError,
    describe_sla,
    engineer_name,
    format_duration,
    load_policies,
)
from diagkit.cases.lifecycle import InvalidTransition
from diagkit.cases.sla import TWENTY_FOUR_SEVEN, SlaPolicy
from diagkit.cases.triage import CaseSeverity
from diagkit.cases.updates import Draft
from diagkit.errors import ConfigError
from diagkit.probes.base import Finding, ProbeData, ProbeResult, Severity
from diagkit.probes.runner import HostSnapshot
from diagkit.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(tmp_path: Path, clock: Clock):
    store = SqliteStore(tmp_path / "cases.db")
    yield CaseDesk(store, engineer="ann", now=clock)
    store.close()


def test_open_with_impact_and_urgency_is_triaged(desk: CaseDesk) -> None:
    case = desk.open_case("Shop down", customer="ACME", impact="extensive", urgency="critical",
                          hosts=["web1", "web1", "db1"])
    assert (case.status, case.severity, case.engineer) == ("triaged", "S1", "ann")
    assert set(case.hosts) == {"web1", "db1"}
    untriaged = desk.open_case("Question")
    assert (untriaged.status, untriaged.severity) == ("new", None)
    again = desk.triage(untriaged.id, "minor", "low")
    assert (again.status, again.severity, again.impact) == ("triaged", "S4", "minor")
    # Re-triage later changes the severity and is journaled, status unchanged.
    desk.set_status(again.id, "in_progress")
    changed = desk.triage(again.id, "significant", "high")
    assert (changed.status, changed.severity) == ("in_progress", "S2")
    assert desk.store.journal(again.id)[-1].kind == "case_update"


def test_transitions_and_refusal_with_reason(desk: CaseDesk) -> None:
    case = desk.open_case("Slow")
    with pytest.raises(InvalidTransition, match="must be triaged first") as err:
        desk.set_status(case.id, "in_progress")
    assert [s.value for s in err.value.allowed] == ["triaged"]
    with pytest.raises(InvalidTransition, match="impact and an urgency"):
        desk.set_status(case.id, "triaged")
    desk.triage(case.id, "moderate", "medium")
    case = desk.set_status(case.id, "in_progress", note="starting")
    assert case.status == "in_progress"
    with pytest.raises(InvalidTransition, match="resolved"):
        desk.set_status(case.id, "closed")
    assert desk.set_status(case.id, "resolved").resolved_at is not None
    assert desk.set_status(case.id, "closed").status == "closed"
    statuses = [e.text for e in desk.store.journal(case.id) if e.kind == "status"]
    assert "starting" in statuses


def test_notes_corrections_fields_hosts(desk: CaseDesk) -> None:
    case = desk.open_case("Disk full", hosts=["web1"])
    note = desk.add_note(case.id, "  Found **90%** on /var  ")
    assert (note.kind, note.text, note.engineer) == ("note", "Found **90%** on /var", "ann")
    with pytest.raises(CaseInputError):
        desk.add_note(case.id, "   ")
    fix = desk.correct(case.id, note.id, "Found 97% on /var")
    assert fix.kind == "correction" and fix.data == {"corrects": note.id}
    with pytest.raises(CaseInputError, match="no journal entry 999"):
        desk.correct(case.id, 999, "x")
    updated = desk.update_fields(case.id, customer="ACME", tags=["disk"])
    assert updated.customer == "ACME" and updated.tags == ("disk",)
    entry = desk.store.journal(case.id)[-1]
    assert entry.kind == "case_update" and entry.data == {"fields": {"customer": "ACME",
                                                                     "tags": ["disk"]}}
    with pytest.raises(CaseInputError):
        desk.update_fields(case.id, status="closed")
    linked = desk.link_hosts(case.id, ["web1", "db1"])
    assert set(linked.hosts) == {"web1", "db1"}
    assert desk.store.journal(case.id)[-1].data == {"hosts": ["db1"]}


@pytest.mark.parametrize("bad", [0, 6, 3.5, "5", True])
def test_csat_validation(desk: CaseDesk, bad: object) -> None:
    case = desk.open_case("x")
    with pytest.raises(CaseInputError, match="1 to 5"):
        desk.set_csat(case.id, bad)  # type: ignore[arg-type]


def test_csat_journaled(desk: CaseDesk) -> None:
    case = desk.open_case("x")
    assert desk.set_csat(case.id, 4).csat == 4
    assert desk.store.journal(case.id)[-1].data == {"score": 4}


def test_first_response_set_once(desk: CaseDesk, clock: Clock) -> None:
    case = desk.open_case("x", impact="moderate", urgency="high")
    clock.advance(minutes=20)
    entry = desk.record_customer_update(case.id, Draft("acknowledgement", "Hi", "Body"),
                                        channel="eml", path=Path("/tmp/a.eml"))
    assert entry.data == {"update_kind": "acknowledgement", "subject": "Hi", "channel": "eml",
                          "path": "/tmp/a.eml"}
    clock.advance(hours=2)
    desk.record_customer_update(case.id, Draft("progress", "Hi", "Body"), channel="clipboard")
    assert desk.store.get_case(case.id).first_response_at == T0 + timedelta(minutes=20)
    with pytest.raises(CaseInputError):
        desk.record_customer_update(case.id, Draft("progress", "s", "b"), channel="fax")


def test_sla_states_with_pause(desk: CaseDesk, clock: Clock) -> None:
    # S1: 24x7, first response 1 h, resolution 4 h.
    case = desk.open_case("Outage", impact="extensive", urgency="critical")
    desk.set_status(case.id, "in_progress")
    clock.advance(minutes=50)
    sla = desk.sla(desk.store.get_case(case.id))
    assert sla.first_response is not None and sla.resolution is not None
    assert sla.first_response.remaining == timedelta(minutes=10)
    assert sla.first_response.warning and describe_sla(sla) == "10 min left"
    desk.record_customer_update(case.id, Draft("acknowledgement", "s", "b"), channel="txt")
    clock.advance(minutes=10)
    desk.set_status(case.id, "waiting_on_customer")
    clock.advance(hours=5)  # waiting: the resolution clock stands still
    sla = desk.sla(desk.store.get_case(case.id))
    assert sla.paused and sla.resolution is not None and sla.resolution.paused
    assert sla.resolution.elapsed == timedelta(hours=1)
    assert sla.first_response is not None and sla.first_response.stopped
    assert not sla.first_response.breached
    assert describe_sla(sla) == "paused"
    desk.set_status(case.id, "in_progress")
    clock.advance(hours=3, minutes=30)
    sla = desk.sla(desk.store.get_case(case.id))
    assert sla.worst is sla.resolution
    assert sla.resolution.breached and sla.resolution.overdue == timedelta(minutes=30)
    assert describe_sla(sla) == "BREACHED 30 min"
    # Explicit ``now`` wins over the desk's clock.
    earlier = desk.sla(desk.store.get_case(case.id), now=T0 + timedelta(minutes=30))
    assert earlier.first_response is not None and not earlier.first_response.stopped


def test_sla_none_before_triage_and_stopped_when_resolved(desk: CaseDesk, clock: Clock) -> None:
    case = desk.open_case("x")
    assert desk.sla(case).worst is None and describe_sla(desk.sla(case)) == "-"
    desk.triage(case.id, "extensive", "critical")
    desk.record_customer_update(case.id, Draft("acknowledgement", "s", "b"), channel="txt")
    desk.set_status(case.id, "in_progress")
    clock.advance(hours=1)
    desk.set_status(case.id, "resolved")
    clock.advance(hours=10)
    sla = desk.sla(desk.store.get_case(case.id))
    assert sla.resolution is not None and sla.resolution.stopped and not sla.resolution.breached
    assert sla.worst is None


def test_injected_policies(tmp_path: Path, clock: Clock) -> None:
    store = SqliteStore(tmp_path / "p.db")
    fast = SlaPolicy(CaseSeverity.S4, timedelta(minutes=5), timedelta(minutes=30),
                     TWENTY_FOUR_SEVEN)
    desk = CaseDesk(store, engineer="bo", policies={**load_policies(), CaseSeverity.S4: fast},
                    now=clock)
    case = desk.open_case("x", impact="minor", urgency="low")
    clock.advance(minutes=7)
    assert describe_sla(desk.sla(desk.store.get_case(case.id))) == "BREACHED 2 min"
    store.close()


def test_sla_json_policies(clock: Clock) -> None:
    path = config.config_dir() / "sla.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "calendars": {"office": {"timezone": "Europe/Berlin", "start": "08:00", "end": "18:00"}},
        "policies": {"S2": {"calendar": "office", "first_response": "1h30m", "resolution": "2d",
                            "warn_share": 0.1}},
    }))
    policies = load_policies()
    s2 = policies[CaseSeverity.S2]
    assert s2.first_response == timedelta(minutes=90)
    assert s2.resolution == timedelta(hours=20)  # 2 business days of 10 h
    assert s2.calendar.timezone == "Europe/Berlin" and s2.warn_share == 0.1
    assert policies[CaseSeverity.S1].first_response == timedelta(hours=1)  # default kept
    path.write_text(json.dumps({"policies": {"S2": {"first_response": "soon"}}}))
    with pytest.raises(ConfigError, match=r"policies\.S2\.first_response"):
        load_policies()
    path.write_text(json.dumps({"policies": {"S9": {}}}))
    with pytest.raises(ConfigError, match="S1, S2, S3 or S4"):
        load_policies()
    path.write_text('{"policies": {\n  "S2": }')
    with pytest.raises(ConfigError, match="line 2"):
        load_policies()


def _snapshot() -> HostSnapshot:
    findings = (Finding(Severity.CRITICAL, "Filesystem / is 97 % full", probe="disk"),
                Finding(Severity.WARNING, "Swap more than half full", probe="memory"),
                Finding(Severity.INFO, "Recently rebooted", probe="system"))
    ok = ProbeResult("disk", "web1", ProbeData(findings=findings), "", "", 0, 0.1)
    bad = ProbeResult("cpu", "web1", ProbeData(), "", "", None, 0.1, error="timed out",
                      error_kind="CommandTimeout")
    return HostSnapshot("web1", (ok, bad), T0, 0.5)


def test_probe_run_keeps_warning_and_worse(desk: CaseDesk) -> None:
    case = desk.open_case("x")
    entry = desk.record_probe_run(case.id, _snapshot())
    assert entry.kind == "probe"
    assert entry.data["host"] == "web1" and entry.data["probes"] == ["disk", "cpu"]
    assert entry.data["errors"] == ["cpu"]
    assert [f["title"] for f in entry.data["findings"]] == ["Filesystem / is 97 % full",
                                                            "Swap more than half full"]
    assert [f.severity for f in desk.findings(case.id)] == [Severity.CRITICAL, Severity.WARNING]


def test_secrets_never_reach_the_database_file(tmp_path: Path, desk: CaseDesk) -> None:
    case = desk.open_case("x")
    desk.record_command(case.id, "db1", "mysql -uroot -pHunter2secret shop", 1, 0.2)
    desk.record_command(case.id, "web1",
                        "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0VG9rZW4' "
                        "https://api.example.com/", 0, 1.5)
    desk.record_log_excerpt(case.id, "/var/log/app.log", ["login ok password=Sup3rS3cret!"])
    entries = desk.store.journal(case.id)
    assert entries[-3].data == {"host": "db1", "exit_status": 1, "duration": 0.2}
    desk.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("cases.db*"))
    for secret in (b"Hunter2secret", b"eyJhbGciOiJIUzI1NiJ9", b"c2VjcmV0VG9rZW4", b"Sup3rS3cret"):
        assert secret not in raw
    assert b"REDACTED" in raw


def test_bundle_and_article_entries(tmp_path: Path, desk: CaseDesk) -> None:
    from dataclasses import dataclass

    case = desk.open_case("x")
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(b"zip")
    entry = desk.record_bundle(case.id, bundle)
    assert entry.data["path"] == str(bundle) and len(entry.data["sha256"]) == 64

    @dataclass(frozen=True)
    class Art:  # the fields record_article reads from an Article
        id: int
        slug: str
        title: str

    @dataclass(frozen=True)
    class Match:
        reasons: tuple[str, ...]

    art = Art(3, "disk-full", "Disk full")
    assert desk.record_article(case.id, art).data == {"article_id": 3, "slug": "disk-full",
                                                      "title": "Disk full"}
    known = desk.record_article(case.id, art, matched=Match(("finding matches /full/",)),
                                host="web1")
    assert known.kind == "known_issue"
    assert known.data["reasons"] == ["finding matches /full/"] and known.data["host"] == "web1"


def test_engineer_name_and_durations() -> None:
    assert engineer_name()
    config.save_settings({"engineer": "Dana"})
    assert engineer_name() == "Dana"
    assert format_duration(timedelta(hours=2, minutes=10, seconds=59)) == "2 h 10 min"
    assert format_duration(timedelta(days=2, hours=3)) == "2 d 3 h"
    assert format_duration(-timedelta(minutes=5)) == "5 min"


def test_known_issues_are_journaled_once_per_article_and_host(desk: CaseDesk) -> None:
    from dataclasses import replace as _replace

    from diagkit.kb import open_kb
    from diagkit.probes import disk

    open_kb(desk.store)  # the starter articles, with their match rules
    capture = Path(__file__).resolve().parent.parent / "data" / "probes" / "disk" / "disk_full.txt"
    data = disk.parse(capture.read_text())
    data = _replace(data, findings=tuple(_replace(f, probe="disk") for f in data.findings))
    snap = HostSnapshot("db-1", (ProbeResult("disk", "db-1", data, "", "", 0, 0.1),),
                        datetime.now(UTC), 0.1)
    case = desk.open_case("Writes fail on db-1")
    desk.record_probe_run(case.id, snap)
    desk.record_probe_run(case.id, snap)   # the same evidence again: no duplicates
    known = [e for e in desk.store.journal(case.id) if e.kind == "known_issue"]
    assert {e.data["slug"] for e in known} >= {"disk-full", "inode-exhaustion"}
    assert len(known) == len({e.data["slug"] for e in known})
    assert all(e.data["host"] == "db-1" and e.data["reasons"] for e in known)

    desk.record_log_excerpt(case.id, "kern.log", [
        "Nov 27 10:00:01 db-1 kernel: Out of memory: Killed process 4242 (java) total-vm:9GB"])
    slugs = [e.data["slug"] for e in desk.store.journal(case.id) if e.kind == "known_issue"]
    assert "oom-killer" in slugs
