"""A bug report of a case with a time window carries the case's timeline for that window (issue
16, item 3): the scenario journaled into the real case store and monitoring history of the data
dir, then ``diagkit bundle create --case N --window START..END``."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from diagkit.cases.desk import CaseDesk
from diagkit.cli import main
from diagkit.store.sqlite import SqliteSampleStore, SqliteStore
from tests.test_timeline import at, build_scenario


def test_report_timeline_has_the_case_events_of_the_window(tmp_path: Path) -> None:
    log = tmp_path / "db1.log"
    with SqliteStore() as store, SqliteSampleStore() as samples:
        case_id = build_scenario(store, samples, log)
        lines = [line for line in log.read_text().splitlines() if "No space left" in line][:2]
        CaseDesk(store, engineer="ann").record_log_excerpt(case_id, str(log), lines)
    out = tmp_path / "bug.zip"
    code = main(["bundle", "create", "--title", "checkout fails", "--case", str(case_id),
                 "--window", f"{at('10:00').isoformat()}..{at('10:35').isoformat()}",
                 "-o", str(out)], stdout=io.StringIO())
    assert code == 0
    with zipfile.ZipFile(out) as zf:
        doc = json.loads(zf.read("data/bundle.json"))
        md = zf.read("report.md").decode()
    events = [(e["kind"], e["text"]) for e in doc["timeline"]]
    times = [e["time"] for e in doc["timeline"]]
    assert times == sorted(times)
    assert ("finding", "first seen: warning: Filesystem /srv/pgdata is 91 % full") in events
    assert ("alert", "alert warning → critical: disk.used:/srv/pgdata") in events
    assert any(k == "incident" and "No space left" in t for k, t in events)
    assert ("note", "The customer's contact is away until Monday; call Bob.") in events
    # the hour before the window is kept for what came first: the 09:42 upgrade is in, its
    # 48 package rows as one event
    (upgrade,) = [t for k, t in events if k == "change" and "postgresql-common" in t]
    assert upgrade.startswith("package: 48 changes in one minute: ")
    assert len(events) < 50  # the paste-ready Markdown shows 50
    assert all(at("09:00").isoformat() <= t <= at("10:35").isoformat() for t in times)
    assert "## Timeline" in md and "first seen: warning: Filesystem /srv/pgdata" in md
