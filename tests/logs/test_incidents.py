"""Incidents in logs (diagkit.logs.incidents): injected incidents in 16 days of a generated
fleet's syslog, real Loghub logs with known events, a PostgreSQL outage provoked on this machine
(tests/data/incidents/capture_postgres.sh)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from diagkit.errors import LogFormatError
from diagkit.logs.incidents import SCHEMA, Incident, Settings, find_incidents, format_text, to_json
from diagkit.logs.logfile import LogFile
from tests.logs.incident_gen import Injected, fleet_log

LOGHUB = Path("/work/shared/loghub-dev")
DATA = Path(__file__).resolve().parent.parent / "data" / "incidents"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Incident], list[Injected], Path]:
    path = tmp_path_factory.mktemp("fleet") / "syslog"
    injected = fleet_log(path)
    return find_incidents([path]), injected, path


def _matching(found: list[Incident], inj: Injected) -> Incident:
    near = [i for i in found if abs(i.start - inj.start) <= 300]
    assert near, f"{inj.name} at {inj.start} not found: {format_text(found)}"  # type: ignore[arg-type]
    return near[0]


def test_every_injected_incident_is_found_within_5_minutes(fleet) -> None:
    found, injected, _ = fleet
    assert len(found) <= 10
    for inj in injected:
        inc = _matching(found, inj)
        assert set(inj.hosts) <= set(inc.hosts), (inj.name, inc.hosts)
    # nothing else in 16 days of ordinary traffic stands out as much as the three
    assert len(found) == 3, format_text(found)


def test_brute_force_is_described_as_the_user_reads_it(fleet) -> None:
    found, injected, path = fleet
    inc = _matching(found, injected[0])
    assert inc.hosts == ("web1",)
    assert inc.summary.startswith("412 × 'Failed password for root from <IP> port <NUM> ssh2' "
                                  "on host web1 in 6 min (usual 2/h)"), inc.summary
    assert inc.records == 412
    with LogFile.open(path) as log:  # the first record is the attack's first line
        rec = log.record(inc.first_record.index)
    assert "203.0.113.45" in rec.message and rec.host == "web1"
    assert rec.timestamp is not None and abs(rec.timestamp.timestamp() - inc.start) < 1


def test_outage_across_hosts_lists_the_database_first(fleet) -> None:
    found, injected, _ = fleet
    inc = _matching(found, injected[1])
    assert inc.hosts == ("web1", "web2", "web3")
    assert inc.signatures[0].new and "Connection refused" in inc.signatures[0].template
    # db1's warnings and shutdown came first, on another host: new signatures count from any
    before = [(p.host, p.template) for p in inc.precursors]
    assert ("db1", "FATAL: the database system is shutting down") in before
    assert any(h == "db1" and "out of shared memory" in t for h, t in before)


def test_disk_full_has_its_warnings_as_precursors(fleet) -> None:
    found, injected, _ = fleet
    inc = _matching(found, injected[2])
    assert inc.hosts == ("web2",)
    assert any("No space left on device" in s.template for s in inc.signatures)
    disk = [p for p in inc.precursors if "disk usage" in p.template]
    assert disk and disk[0].host == "web2" and disk[0].count >= 10
    # ordinary warnings at their usual rate are not precursors
    assert not any("slow request" in p.template for p in inc.precursors)


def test_ordinary_traffic_alone_has_no_incidents(tmp_path: Path) -> None:
    path = tmp_path / "syslog"
    fleet_log(path, incidents=False, seed=5)
    found = find_incidents([path])
    assert len(found) <= 10
    assert found == [], format_text(found)


def test_json_is_the_documented_schema(fleet) -> None:
    found, _, _ = fleet
    doc = json.loads(json.dumps(to_json(list(reversed(found)))))
    assert doc["schema"] == SCHEMA == "diagkit.log-incidents/1"
    starts = [datetime.fromisoformat(i["start"]) for i in doc["incidents"]]
    assert starts == sorted(starts)
    for item in doc["incidents"]:
        assert {"start", "end", "hosts", "signatures", "records", "score", "summary",
                "precursors"} <= set(item)
        assert datetime.fromisoformat(item["end"]) >= datetime.fromisoformat(item["start"])
        sig = item["signatures"][0]
        assert {"template", "count", "first_record"} <= set(sig)
        assert isinstance(sig["first_record"]["index"], int)


# --- real logs -----------------------------------------------------------------------------


def _at(inc: Incident) -> str:
    return inc.start_time().strftime("%b %d %H:%M:%S")


def test_loghub_linux_brute_force_and_kerberos_failures() -> None:
    """Linux_2k.log: on Jul 10 from 16:01:43, 80 failed root logins over ssh from
    150.183.249.110 in two minutes; on Jun 30 at 20:53:04, klogind rejects a burst of Kerberos
    logins from 163.27.187.39 (replay cache). Both are among the ten incidents."""
    found = find_incidents([LOGHUB / "Linux" / "Linux_2k.log"])
    assert len(found) == 10 and found.omitted > 0
    by_start = {_at(i): i for i in found}
    ssh = by_start["Jul 10 16:01:43"]
    assert ssh.hosts == ("combo",) and ssh.records == 80
    assert ssh.signatures[0].template.startswith("authentication failure;")
    kerberos = by_start["Jun 30 20:53:04"]
    assert any(s.template == "Kerberos authentication failed" and s.new
               for s in kerberos.signatures)
    lines = format_text(found)
    assert lines[-1].startswith(f"({found.omitted} lower-scored incidents left out")


def test_limit_keeps_the_highest_scores() -> None:
    path = LOGHUB / "Linux" / "Linux_2k.log"
    every = find_incidents([path], settings=Settings(limit=100))
    top = find_incidents([path], settings=Settings(limit=3))
    assert len(top) == 3 and top.omitted == len(every) - 3
    best = sorted(every, key=lambda i: -i.score)[:3]
    assert sorted(i.start for i in top) == sorted(i.start for i in best)


def test_postgres_stopped_while_a_client_loops() -> None:
    """Captured on this machine (capture_postgres.sh): the server is stopped at the first
    "received fast shutdown request" and the client's connections are refused until the
    restart. One incident: the client's refusals from the shutdown on, the server's shutdown
    among its first records or just before."""
    server, client = DATA / "postgres-outage" / "server.log", DATA / "postgres-outage" / "client.log"
    stop = next(line for line in server.read_text().splitlines() if "fast shutdown" in line)
    with LogFile.open(server) as log:
        stopped = next(r for r in (log.record(i) for i in range(log.record_count))
                       if "fast shutdown" in r.message).timestamp
    assert stopped is not None, stop
    found = find_incidents([server, client])
    assert found, "no incident"
    inc = min(found, key=lambda i: abs(i.start - stopped.timestamp()))
    assert abs(inc.start - stopped.timestamp()) <= 5
    top = inc.signatures[0]
    assert top.new and "Connection refused" in top.template and top.count >= 60
    assert inc.end - inc.start >= 50  # the minute the server was down
    # the server's own story came first: its shutdown, seen for the first time in the file
    assert "received fast shutdown request" in [p.template for p in inc.precursors if p.new]


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LogFormatError, match="no file"):
        find_incidents([tmp_path / "missing.log"])
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert find_incidents([empty]) == []
    timeless = tmp_path / "timeless.log"
    timeless.write_text("".join(f"hello {i}\n" for i in range(100)))
    found = find_incidents([timeless])
    assert found == [] and any("no record has a time" in w for w in found.warnings)


def test_viewer_model_finds_an_incidents_first_record(fleet) -> None:
    """RecordView.row_of: the row the log viewer jumps to, over one file and over two merged."""
    from diagkit.logs.logfile import open_logs
    from diagkit.logs.rows import RecordView

    found, injected, path = fleet
    ref = _matching(found, injected[0]).first_record
    logs = open_logs([path, DATA / "postgres-outage" / "client.log"])
    try:
        one = RecordView(logs[:1])
        assert one.row_of(0, ref.index) == ref.index
        both = RecordView(logs)
        row = both.row_of(0, ref.index)
        assert row is not None and both.locate(row) == (logs[0], ref.index)
        assert both.row_of(1, 10**9) is None
    finally:
        for log in logs:
            log.close()
