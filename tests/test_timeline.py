"""The timeline (diagkit/timeline.py) on real parts: a real SQLite case store and monitoring
history, probe results parsed from captures of faults planted on this machine, a real log file.

The scenario is the one of issue 16, anchored on the real changes capture
``tests/data/probes/changes/planted_dash.txt`` (the postgresql packages were upgraded on this
machine at 2026-12-05 09:42:38 UTC, more packages were installed at 09:53 and 10:16):

* 09:45 a case is opened for db1; 09:50, 10:10 and 10:30 probe runs journaled on it, whose disk
  probe output was captured from a real ext4 loop device on /srv/pgdata filled to 85, 91 and
  97 % (``tests/data/probes/disk/filling_*.txt``), each with the changes capture;
* the monitoring history holds /srv/pgdata climbing from 85 to 97 % over those 40 minutes;
* 10:31 the database log says "No space left on device", 10:33 the application gets
  "Connection refused" from the database;
* unrelated: a note on the case, a command run, the status change, a command on web1.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from diagkit import timeline
from diagkit.cases.desk import CaseDesk
from diagkit.probes import changes, disk
from diagkit.probes.base import Probe, ProbeResult
from diagkit.probes.runner import HostSnapshot
from diagkit.store.sqlite import SqliteSampleStore, SqliteStore

DATA = Path(__file__).parent / "data" / "probes"
DAY = datetime(2026, 12, 5, tzinfo=UTC)


def at(hhmm: str) -> datetime:
    h, m = hhmm.split(":")
    return DAY.replace(hour=int(h), minute=int(m))


def parsed(probe: Probe, capture: Path, host: str = "db1") -> ProbeResult:
    """A probe's result from a captured output, as the runner makes it (findings tagged)."""
    data = probe.parse(capture.read_text())
    data = dataclasses.replace(data, findings=tuple(
        f if f.probe else dataclasses.replace(f, probe=probe.name) for f in data.findings))
    return ProbeResult(probe.name, host, data, capture.read_text(), "", 0, 0.1)


class Clock:
    def __init__(self) -> None:
        self.now = at("09:45")

    def __call__(self) -> datetime:
        return self.now


def db_log(path: Path) -> Path:
    """Six hours of ordinary traffic of db1, then the disk-full errors and the refused
    connections (rsyslog's ISO time stamps)."""
    lines = []
    t = at("04:30")
    n = 0
    while t < at("10:40"):
        stamp = t.isoformat()
        kind = n % 4
        if kind == 0:
            lines.append(f"{stamp} db1 postgres[811]: LOG:  checkpoint complete: wrote {n % 97} "
                         "buffers; write=0.1 s")
        elif kind == 1:
            lines.append(f"{stamp} db1 shop[1200]: INFO GET /cart/{n % 500} 200 {n % 50} ms")
        elif kind == 2:
            lines.append(f"{stamp} db1 CRON[{3000 + n % 900}]: (root) CMD (run-parts "
                         "/etc/cron.hourly)")
        else:
            lines.append(f"{stamp} db1 shop[1200]: INFO POST /order/{n % 300} 201 {n % 80} ms")
        if at("10:31") <= t < at("10:40"):
            lines.append(f"{stamp} db1 postgres[811]: ERROR:  could not extend file "
                         f"\"base/16384/{2600 + n % 40}\": No space left on device")
        if at("10:33") <= t < at("10:40"):
            lines.append(f"{stamp} db1 shop[1200]: ERROR psycopg2.OperationalError: connection "
                         "to server at \"127.0.0.1\", port 5432 failed: Connection refused")
        t += timedelta(seconds=20)
        n += 1
    path.write_text("\n".join(lines) + "\n")
    return path


def build_scenario(store: SqliteStore, samples: SqliteSampleStore, log: Path) -> int:
    """Journal the scenario into ``store`` and ``samples``, write the log; the case id."""
    clock = Clock()
    desk = CaseDesk(store, engineer="ann", now=clock)
    case = desk.open_case("db1: checkout fails", customer="ACME", product="Shop",
                          version="4.2", impact="extensive", urgency="high", hosts=["db1"])
    changed = parsed(changes.PROBE, DATA / "changes" / "planted_dash.txt")
    for hhmm, pct in (("09:50", 85), ("10:10", 91), ("10:30", 97)):
        clock.now = at(hhmm)
        results = (parsed(disk.PROBE, DATA / "disk" / f"filling_{pct}.txt"), changed)
        desk.record_probe_run(case.id, HostSnapshot("db1", results, at(hhmm), 2.0))
        if hhmm == "09:50":
            clock.now = at("10:00")
            desk.add_note(case.id, "The customer's contact is away until Monday; call Bob.")
            clock.now = at("10:05")
            desk.record_command(case.id, "db1", "uptime", 0, 0.2)
    clock.now = at("10:25")
    desk.record_command(case.id, "web1", "systemctl status nginx", 3, 0.4)
    t = at("09:20")
    rows = []
    while t <= at("10:40"):
        minutes = (t - at("09:50")).total_seconds() / 60
        pct = 80.0 if minutes < 0 else min(97.0, 85.0 + 12.0 * minutes / 40)
        rows.append(("db1", t.timestamp(), {"disk.used:/srv/pgdata": pct, "load.per_core": 0.3}))
        t += timedelta(seconds=30)
    samples.append(rows)
    db_log(log)
    return case.id


@pytest.fixture
def scenario(tmp_path: Path):
    store = SqliteStore(tmp_path / "cases.db")
    samples = SqliteSampleStore(tmp_path / "history.db")
    case_id = build_scenario(store, samples, tmp_path / "db1.log")
    yield store, samples, store.get_case(case_id), tmp_path / "db1.log"
    samples.close()
    store.close()


def test_case_timeline_merges_every_source_in_time_order(scenario) -> None:
    store, samples, case, log = scenario
    tl = timeline.case_timeline(store, case.id, samples=samples, logs=[log],
                                since=at("09:00"), until=at("11:00"))
    times = [e.time for e in tl.events]
    assert times == sorted(times)
    kinds = {e.kind for e in tl.events}
    assert {"probe", "finding", "alert", "change", "command", "note", "status",
            "incident", "signature"} <= kinds
    texts = [e.text for e in tl.events]
    # findings: first seen at 91 % (85 % is below the disk probe's warning), worse at 97 %
    first = [e for e in tl.events if e.kind == "finding" and e.text.startswith("first seen")]
    worse = [e for e in tl.events if e.kind == "finding" and e.text.startswith("worse")]
    assert [(e.time, e.topic) for e in first] == [(at("10:10"), "disk")]
    assert "Filesystem /srv/pgdata is 91 % full" in first[0].text
    assert worse[0].time == at("10:30") and "97 % full" in worse[0].text
    assert worse[0].evidence and worse[0].evidence.kind == "probe"
    assert worse[0].evidence.entry_id is not None and worse[0].evidence.probe == "disk"
    # the real package changes of the capture, once each although three runs carried them
    pg = [e for e in tl.events if e.kind == "change" and e.text == "package: postgresql-common"]
    assert pg and pg[0].detail == "upgrade 248+deb12u1 -> 248+deb12u2"
    assert len(pg) == 1 and pg[0].time == datetime(2026, 12, 5, 9, 42, 38, tzinfo=UTC)
    # alerts replayed from the history: warning at 85 %, critical from 95 %
    alerts = [e for e in tl.events if e.kind == "alert"]
    assert [e.text for e in alerts][:2] == ["alert warning: disk.used:/srv/pgdata",
                                           "alert warning → critical: disk.used:/srv/pgdata"]
    assert alerts[0].time == at("09:50")
    assert at("10:23") <= alerts[1].time <= at("10:24")
    # the log: the disk-full episode and the refused connections, with the record to open
    incidents = [e for e in tl.events if e.kind == "incident"]
    assert incidents and all(e.host == "db1" for e in incidents)
    ev = incidents[0].evidence
    assert ev is not None and ev.kind == "log" and ev.file == str(log) and ev.line
    assert "No space left on device" in log.read_text().splitlines()[ev.line - 1]
    assert any("No space left" in t for t in texts if t.startswith("new message"))
    # everything is inside the asked window
    assert all(at("09:00") <= e.time <= at("11:00") for e in tl.events)


def test_came_first_ranks_disk_and_package_change_above_unrelated_events(scenario) -> None:
    store, samples, case, log = scenario
    tl = timeline.case_timeline(store, case.id, samples=samples, logs=[log])
    refused = next(e for e in tl.events if e.kind == "signature" and "Connection refused" in
                   e.text)
    assert at("10:33") <= refused.time < at("10:34")
    ranked = timeline.came_first(tl.events, refused.id, window=timedelta(hours=2), limit=200)
    assert all("may be related" in a.reason and "came first" in a.reason for a in ranked)
    assert all(a.event.time <= refused.time for a in ranked)
    assert all(a.event.host in ("db1", "") for a in ranked)  # web1's command is not listed
    position = {a.event.id: n for n, a in enumerate(ranked)}

    def rank(pred) -> list[int]:
        return [position[a.event.id] for a in ranked if pred(a.event)]

    disk_findings = rank(lambda e: e.kind == "finding" and "/srv/pgdata" in e.text)
    disk_alerts = rank(lambda e: e.kind == "alert" and "/srv/pgdata" in e.text)
    no_space = rank(lambda e: e.kind == "signature" and "No space left" in e.text)
    package = rank(lambda e: e.kind == "change" and e.topic == "package")
    # unrelated: the case's own bookkeeping, a command run, the failed test logins of the capture
    unrelated = rank(lambda e: e.kind in ("note", "command", "status", "probe", "case")
                     or e.topic == "login")
    assert len(disk_findings) == 2 and disk_alerts and no_space and package and unrelated
    assert max(disk_findings + disk_alerts + no_space) < min(unrelated)
    assert min(package) < min(unrelated)
    # the closest resource evidence leads
    assert ranked[0].event.kind in ("signature", "finding", "alert", "incident")
    # an upgrade of many packages in one minute is one candidate
    upgrade = [a for a in ranked if a.event.kind == "change" and a.event.topic == "package"
               and a.event.time.strftime("%H:%M") == "09:42"]
    assert len(upgrade) == 1 and "(with 47 more in the same minute)" in upgrade[0].reason


def test_findings_clear_when_the_probe_no_longer_reports_them(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "cases.db") as store:
        clock = Clock()
        desk = CaseDesk(store, engineer="ann", now=clock)
        case = desk.open_case("disk", hosts=["db1"])
        for hhmm, pct in (("10:00", 97), ("10:20", 91), ("10:40", 85)):
            clock.now = at(hhmm)
            desk.record_probe_run(case.id, HostSnapshot(
                "db1", (parsed(disk.PROBE, DATA / "disk" / f"filling_{pct}.txt"),), at(hhmm), 1))
        # an unreachable run says nothing about the findings
        clock.now = at("10:50")
        desk.record_probe_run(case.id, HostSnapshot("db1", (), at("10:50"), 1, error="down"))
        tl = timeline.case_timeline(store, case.id, kinds=["finding"])
    assert [(e.time, e.text.split(":")[0]) for e in tl.events] == [
        (at("10:00"), "first seen"), (at("10:20"), "better (critical → warning)"),
        (at("10:40"), "cleared")]
    assert tl.events[2].text == "cleared: Filesystem /srv/pgdata is 91 % full"


def test_host_timeline_takes_what_cases_journaled_about_the_host(scenario) -> None:
    store, samples, _case, _log = scenario
    tl = timeline.host_timeline("web1", store=store, samples=samples)
    assert [e.text for e in tl.events if e.kind == "command"] == ["systemctl status nginx"]
    assert not any(e.kind == "finding" for e in tl.events)  # db1's findings stay on db1
    db1 = timeline.host_timeline("db1", store=store, samples=samples, until=at("10:30"))
    assert any(e.kind == "alert" for e in db1.events)
    # at 10:30 /srv/pgdata was at 97 % and growing 18 points an hour: the forecast at the end
    (forecast,) = [e for e in db1.events if e.kind == "forecast"]
    assert forecast.time == at("10:30") and "/srv/pgdata fills up" in forecast.text
    assert forecast.text.startswith("critical")
    assert all(e.host == "db1" for e in db1.events)


def test_unknown_kind_and_event_are_clear_errors(scenario) -> None:
    store, _samples, case, _log = scenario
    with pytest.raises(timeline.TimelineError, match="Kinds: change"):
        timeline.case_timeline(store, case.id, kinds=["changes"])
    tl = timeline.case_timeline(store, case.id)
    with pytest.raises(timeline.TimelineError, match="No event 'nope'"):
        timeline.came_first(tl.events, "nope")


def test_json_document(scenario) -> None:
    store, _samples, case, _log = scenario
    doc = timeline.case_timeline(store, case.id, kinds=["finding"]).to_json()
    assert doc["schema"] == "diagkit.timeline/1" and doc["case"] == case.id
    (first, _worse) = doc["events"]
    assert first["kind"] == "finding" and first["evidence"]["probe"] == "disk"
    assert first["ref"].startswith("probe disk on db1 (case")
