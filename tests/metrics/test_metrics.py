"""diagkit.metrics over a seeded store; every expected figure is worked out by hand below.

The period is the week Mon 2024-03-04 00:00 .. Mon 2024-03-11 00:00 UTC (D0..D7), seen at
``now`` = D8. Default SLA policies: S1 24x7 1 h / 4 h; S2 business (Mon-Fri 09-17 UTC) 4 h / 16 h;
S3 8 h / 40 h; S4 16 h / 80 h.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from diagkit.cases.sla import BUSINESS_HOURS, TWENTY_FOUR_SEVEN, Calendar, elapsed
from diagkit.cli import main
from diagkit.errors import ConfigError
from diagkit.metrics import compute, parse_since
from diagkit.metrics.clock import OpenTime
from diagkit.store.contract import CaseDraft
from diagkit.store.sqlite import SqliteStore

M = datetime(2024, 3, 4, tzinfo=UTC)  # D0, a Monday
H = timedelta(hours=1)
MIN = timedelta(minutes=1)


def D(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return M + timedelta(days=day, hours=hour, minutes=minute)


SINCE, UNTIL, NOW = D(0), D(7), D(8)
OOM, IOERR, DISK = "Out of memory: Killed process <N>", "I/O error <N>", "disk full <N>"


def _case(store, engineer, severity, created, moves=(), *, fr=None, fr_journal=False,
          csat=None, start="triaged"):
    c = store.create_case(CaseDraft(f"case by {engineer}", engineer=engineer, severity=severity,
                                    status=start, created=created))
    for status, at in moves:
        c = store.record_status(c.id, status, expected_version=c.version_counter, at=at)
    if fr is not None:
        if fr_journal:
            store.append_journal(c.id, "customer_update", "ack", at=fr, first_response=True,
                                 data={"update_kind": "acknowledgement", "subject": "s",
                                       "channel": "clipboard"})
        else:
            store.update_case(c.id, store.get_case(c.id).version_counter, first_response_at=fr)
    if csat is not None:
        store.update_case(c.id, store.get_case(c.id).version_counter, csat=csat)
    return store.get_case(c.id)


def _excerpt(store, case, at, *sigs):
    store.append_journal(case.id, "log_excerpt", "lines", at=at,
                         data={"file": "syslog", "lines": 2, "signatures": list(sigs)})


def _article(store, case, at, slug, title, kind="kb_article"):
    store.append_journal(case.id, kind, at=at, data={"article_id": 1, "slug": slug, "title": title})


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The seeded week on both backends (a fresh PostgreSQL database per test)."""
    if request.param == "sqlite":
        s = SqliteStore(tmp_path / "m.db")
    else:
        from diagkit.store.postgres import PgStore

        s = PgStore(request.getfixturevalue("pg_url"))
    ip, wait, res, closed = "in_progress", "waiting_on_customer", "resolved", "closed"
    c = {}
    # C1 alice S1: FR 10:30-10:00 = 30m; TTR 13:00-10:00 = 3h. S1 FR met, res met.
    c[1] = _case(s, "alice", "S1", D(0, 10), [(ip, D(0, 10, 5)), (res, D(0, 13))],
                 fr=D(0, 10, 30), fr_journal=True, csat=5)
    # C2 alice S1: waits 20:10-22:10 (2h). FR 22:40: 2h40 - 2h = 40m (met, <= 1h).
    # resolved D1 03:00: 7h - 2h = 5h > 4h -> resolution breached.
    c[2] = _case(s, "alice", "S1", D(0, 20), [(wait, D(0, 20, 10)), (ip, D(0, 22, 10)),
                                              (res, D(1, 3))], fr=D(0, 22, 40), csat=4)
    # C3 bob S2: Mon 9:00 -> FR Mon 14:00 = 5h wall, 5 business h > 4h -> FR breached.
    # resolved Tue 12:00: TTR 27h wall; business Mon 8h + Tue 3h = 11h <= 16h met.
    c[3] = _case(s, "bob", "S2", D(0, 9), [(ip, D(0, 9, 30)), (res, D(1, 12))],
                 fr=D(0, 14), fr_journal=True, csat=2)
    # C4 bob S2: Mon 16:00 -> FR Tue 10:00 = 18h wall; business Mon 1h + Tue 1h = 2h met.
    # waits Tue 11:00 -> Thu 11:00 (48h wall; business Tue 6 + Wed 8 + Thu 2 = 16h).
    # resolved Thu 15:00: wall 71h - 48h = TTR 23h; business 1+8+8+6 = 23h - 16h = 7h met.
    c[4] = _case(s, "bob", "S2", D(0, 16), [(ip, D(0, 16, 30)), (wait, D(1, 11)),
                                            (ip, D(3, 11)), (res, D(3, 15))], fr=D(1, 10))
    # C5 carol S3, reopened: FR Tue 12:00 = 3h; resolved Tue 17:00, reopened Wed 9:00,
    # resolved Wed 13:00. TTR = 28h wall - 16h sitting resolved = 12h; business 8h + 4h = 12h.
    c[5] = _case(s, "carol", "S3", D(1, 9), [(ip, D(1, 9, 30)), (res, D(1, 17)), (ip, D(2, 9)),
                                             (res, D(2, 13))], fr=D(1, 12), csat=4)
    # C6 carol S3, open, no FR: 8 business h from Wed 10:00 = Thu 10:00, due in the period
    # -> FR breached. Resolution: Wed 7 + Thu 8 + Fri 8 = 23h <= 40h, not due, not counted.
    # Backlog: age at D7 = 4d14h -> 3-7d.
    c[6] = _case(s, "carol", "S3", D(2, 10), [(ip, D(2, 10, 30))])
    # C7 dave S4, old, waiting on the customer since Wed Feb 28 09:00: FR before the period,
    # resolution Fri 8 + Mon 8 + Tue 8 = 24h <= 80h then paused: nothing counted.
    # Backlog: age 10d15h -> 7-30d.
    c[7] = _case(s, "dave", "S4", D(-10, 9), [(ip, D(-10, 9, 30)), (wait, D(-5, 9))],
                 fr=D(-10, 10))
    # C8 dave S4, Wed Jan 24, never answered: both clocks fell due long before the period
    # (FR Thu Jan 25 17:00, resolution Tue Feb 6 17:00): not counted. Backlog >30d.
    c[8] = _case(s, "dave", "S4", D(-40, 9))
    # C9 erin, no severity (new): no SLA. Backlog: age 3d16h -> 3-7d.
    c[9] = _case(s, "erin", None, D(3, 8), start="new")
    # C10 alice S2: FR Fri 9:30 = 30m met; waiting since Fri 10:00 (still): resolution
    # 1 business h, not due. Backlog: age 2d15h -> 1-3d.
    c[10] = _case(s, "alice", "S2", D(4, 9), [(ip, D(4, 9, 5)), (wait, D(4, 10))],
                  fr=D(4, 9, 30), fr_journal=True)
    # C11 bob S1 (24x7, Saturday): FR 2h30 > 1h breached; TTR 3h <= 4h met.
    c[11] = _case(s, "bob", "S1", D(5, 22), [(ip, D(5, 22, 10)), (res, D(6, 1))],
                  fr=D(6, 0, 30), csat=1)
    # C12 alice S3 from Fri Mar 1 09:00, FR before the period; resolved Wed 11:00, closed
    # Thu: TTR 5d2h = 122h; business Fri 8 + Mon 8 + Tue 8 + Wed 2 = 26h <= 40h met.
    c[12] = _case(s, "alice", "S3", D(-3, 9), [(ip, D(-3, 9, 30)), (res, D(2, 11)),
                                               (closed, D(3, 9))], fr=D(-3, 10), csat=5)
    # C13 carol S2 from Sat Mar 2 09:00: FR Mon 14:00 = 53h wall; business Mon 9-14 = 5h
    # > 4h breached. Resolved Mon 15:00: TTR 54h; business 6h met.
    c[13] = _case(s, "carol", "S2", D(-2, 9), [(ip, D(0, 9, 30)), (res, D(0, 15))],
                  fr=D(0, 14), csat=3)
    # C14 erin S1, Sun 23:00, unanswered: 1h elapsed at D7 = exactly the target, not
    # breached (more than the target breaches), so not counted. Backlog <1d.
    c[14] = _case(s, "erin", "S1", D(6, 23))
    # C15 bob S3, resolved and closed before the period: in no figure.
    c[15] = _case(s, "bob", "S3", D(-20, 9), [(ip, D(-20, 9, 30)), (res, D(-18, 9)),
                                              (closed, D(-17, 9))], fr=D(-20, 10), csat=1)
    # C16 dave S2 from Tue 9:00, answered only on D7 10:00 (after the period): at D7 both
    # clocks run with 32 business h; FR due Tue 13:00, resolution due Wed 17:00 -> both
    # breached. Backlog: 5d15h -> 3-7d.
    c[16] = _case(s, "dave", "S2", D(1, 9), [(ip, D(1, 9, 10))], fr=D(7, 10), fr_journal=True)

    _excerpt(s, c[1], D(0, 11), OOM, IOERR)
    _excerpt(s, c[2], D(0, 21), OOM)
    _excerpt(s, c[2], D(0, 21, 30), OOM)  # same case again: still one case
    _excerpt(s, c[3], D(0, 10), IOERR)
    _excerpt(s, c[5], D(1, 10), OOM)
    _excerpt(s, c[6], D(2, 11), DISK)
    _excerpt(s, c[15], D(-20, 11), OOM)  # before the period
    _article(s, c[1], D(0, 12), "oom-killer", "OOM killer")
    _article(s, c[2], D(0, 23), "oom-killer", "OOM killer (v2)", kind="known_issue")
    _article(s, c[2], D(0, 23, 30), "oom-killer", "OOM killer (v2)")
    _article(s, c[3], D(0, 11), "disk-full", "Disk full")
    _article(s, c[7], D(-6, 9), "disk-full", "Disk full", kind="known_issue")  # before
    s.append_journal(c[1].id, "note", "a note is not a reference", at=D(0, 11))
    yield s
    s.close()


def test_figures_match_hand_computation(store):
    r = compute(store, since=SINCE, until=UNTIL, now=NOW)
    # Created in [D0, D7): C1 C2 C3 C4 C5 C6 C9 C10 C11 C14 C16.
    assert r.opened == 11
    # resolved_at in the period: C1 C2 C3 C4 C5 C11 C12 C13.
    assert r.resolved == 8
    # FRT: 30m 30m 40m 2h30 3h 5h 18h 53h -> median rank ceil(4) = 2h30, p90 rank 8 = 53h.
    assert r.frt_count == 8
    assert r.frt_median == 2 * H + 30 * MIN
    assert r.frt_p90 == 53 * H
    # TTR: 3h 3h 5h 12h 23h 27h 54h 122h -> median rank 4 = 12h, p90 rank 8 = 122h.
    assert r.ttr_count == 8
    assert r.ttr_median == 12 * H
    assert r.ttr_p90 == 122 * H
    # S1: FR C1 ok, C2 ok, C11 breached; res C1 ok, C2 breached, C11 ok; C14 not counted.
    # S2: FR C3 b, C4, C10, C13 b, C16 b; res C3, C4, C13, C16 b (C10 not due).
    # S3: FR C5, C6 b; res C5, C12. S4 (C7, C8): nothing counted, so absent.
    assert dict(r.breach_first_response) == {"S1": (1, 3), "S2": (3, 5), "S3": (1, 2)}
    assert dict(r.breach_resolution) == {"S1": (1, 3), "S2": (1, 4), "S3": (0, 2)}
    assert dict(r.breach_rate) == {"S1": (2, 3), "S2": (3, 5), "S3": (1, 3)}
    # Rated and resolved in the period: C1 5, C2 4, C3 2, C5 4, C11 1, C12 5, C13 3.
    assert r.csat_share_4_5 == pytest.approx(4 / 7)
    assert dict(r.csat_distribution) == {1: 1, 2: 1, 3: 1, 4: 2, 5: 2}
    # Open at D7: C6 C7 C8 C9 C10 C14 C16.
    assert r.backlog == 7
    assert dict(r.backlog_ageing) == {"<1d": 1, "1-3d": 1, "3-7d": 3, "7-30d": 1, ">30d": 1}
    assert r.top_signatures == [(OOM, 3), (IOERR, 2), (DISK, 1)]
    assert r.top_articles == [("oom-killer", "OOM killer (v2)", 2), ("disk-full", "Disk full", 1)]


def test_per_engineer_rows(store):
    rows = compute(store, since=SINCE, until=UNTIL, now=NOW).per_engineer
    assert list(rows) == ["alice", "bob", "carol", "dave", "erin"]
    a, b, c, d, e = (rows[n] for n in rows)
    # alice: C1 C2 C10 opened; C1 C2 C12 resolved; FRT 30m 30m 40m; TTR 3h 5h 122h;
    # SLA C1 ok, C2 b, C10 ok, C12 ok; CSAT 5 4 5; backlog C10.
    assert (a.opened, a.resolved, a.frt_median, a.ttr_median) == (3, 3, 30 * MIN, 5 * H)
    assert (a.breached, a.sla_counted, a.csat_share_4_5, a.backlog) == (1, 4, 1.0, 1)
    # bob: FRT 2h30 5h 18h; TTR 3h 23h 27h; SLA C3 b, C4, C11 b; CSAT 2 1.
    assert (b.opened, b.resolved, b.frt_median, b.ttr_median) == (3, 3, 5 * H, 23 * H)
    assert (b.breached, b.sla_counted, b.csat_share_4_5, b.backlog) == (2, 3, 0.0, 0)
    # carol: opened C5 C6; resolved C5 C13; FRT 3h 53h; TTR 12h 54h; SLA C5, C6 b, C13 b.
    assert (c.opened, c.resolved, c.frt_median, c.ttr_median) == (2, 2, 3 * H, 12 * H)
    assert (c.breached, c.sla_counted, c.csat_share_4_5, c.backlog) == (2, 3, 0.5, 1)
    # dave: opened C16 (breached); backlog C7 C8 C16.
    assert (d.opened, d.resolved, d.frt_median, d.breached, d.sla_counted, d.backlog) == (
        1, 0, None, 1, 1, 3)
    # erin: C9 (no severity), C14 (not due): nothing counted.
    assert (e.opened, e.breached, e.sla_counted, e.csat_share_4_5, e.backlog) == (
        2, 0, 0, None, 2)


def test_series_by_day_and_week(store):
    r = compute(store, since=SINCE, until=UNTIL, now=NOW)
    assert [p.start for p in r.series] == [D(i) for i in range(7)]
    assert [p.opened for p in r.series] == [4, 2, 1, 1, 1, 1, 1]
    assert [p.resolved for p in r.series] == [2, 2, 2, 1, 0, 0, 1]
    # Open just before each midnight D1..D7 (spans in the fixture comments):
    # D1 C2 C3 C4 C7 C8 C12 | D2 C4 C7 C8 C12 C16 | D3 C4 C6 C7 C8 C16 | D4 C6 C7 C8 C9 C16
    # D5 + C10 | D6 + C11 | D7 - C11 + C14
    assert [p.backlog for p in r.series] == [6, 5, 5, 5, 6, 7, 7]
    w = compute(store, since=SINCE, until=UNTIL, now=NOW, bucket="week")
    assert [(p.start, p.end, p.opened, p.resolved, p.backlog) for p in w.series] == [
        (D(0), D(7), 11, 8, 7)]


def test_engineer_filter(store):
    r = compute(store, since=SINCE, until=UNTIL, now=NOW, engineer="alice")
    assert (r.opened, r.resolved, r.backlog) == (3, 3, 1)
    # FRT 30m 30m 40m: median rank 2 = 30m, p90 rank ceil(2.7) = 3 = 40m.
    assert (r.frt_median, r.frt_p90) == (30 * MIN, 40 * MIN)
    assert (r.ttr_median, r.ttr_p90) == (5 * H, 122 * H)
    assert dict(r.breach_rate) == {"S1": (1, 2), "S2": (0, 1), "S3": (0, 1)}
    assert r.top_signatures == [(OOM, 2), (IOERR, 1)]
    assert r.top_articles == [("oom-killer", "OOM killer (v2)", 2)]
    assert list(r.per_engineer) == ["alice"]


def test_empty_period_has_no_medians(tmp_path):
    with SqliteStore(tmp_path / "e.db") as s:
        r = compute(s, since=SINCE, until=UNTIL, now=NOW)
    assert (r.opened, r.frt_median, r.ttr_p90, r.csat_share_4_5, r.backlog) == (
        0, None, None, None, 0)
    assert len(r.series) == 7 and dict(r.breach_rate) == {}


def test_json_and_csv_shape(store):
    r = compute(store, since=SINCE, until=UNTIL, now=NOW)
    doc = json.loads(json.dumps(r.to_json()))
    assert doc["schema"] == "diagkit.metrics/1"
    assert doc["frt_median_s"] == 9000.0 and doc["ttr_p90_s"] == 122 * 3600.0
    assert doc["sla"]["S2"] == {"breached": 3, "total": 5, "first_response": [3, 5],
                                "resolution": [1, 4]}
    assert doc["csat_distribution"] == {"1": 1, "2": 1, "3": 1, "4": 2, "5": 2}
    assert doc["top_articles"][0] == {"slug": "oom-killer", "title": "OOM killer (v2)",
                                      "cases": 2}
    assert [e["engineer"] for e in doc["per_engineer"]] == ["alice", "bob", "carol", "dave",
                                                            "erin"]
    assert doc["series"][0] == {"start": D(0).isoformat(), "end": D(1).isoformat(),
                                "opened": 4, "resolved": 2, "backlog": 6}
    rows = list(csv.reader(io.StringIO(r.to_csv())))
    assert rows[0] == ["section", "key", "metric", "value"]
    assert all(len(row) == 4 for row in rows)
    assert ["summary", "", "opened", "11"] in rows
    assert ["sla", "S1", "resolution_breached", "1"] in rows
    assert ["ageing", "3-7d", "cases", "3"] in rows
    assert ["engineer", "bob", "ttr_median_s", str(23 * 3600.0)] in rows
    assert ["series", D(6).isoformat(), "backlog", "7"] in rows
    assert ["signature", OOM, "cases", "3"] in rows


def test_open_time_table_matches_sla_elapsed():
    rnd = random.Random(6)
    cals = [BUSINESS_HOURS, TWENTY_FOUR_SEVEN,
            Calendar(timezone="Europe/Berlin", weekdays=frozenset({0, 1, 2, 3, 5}),
                     holidays=frozenset({datetime(2024, 3, 29).date()}))]
    for cal in cals:
        table = OpenTime(cal)
        for _ in range(300):
            a = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rnd.randrange(200 * 24 * 60))
            b = a + timedelta(minutes=rnd.randrange(30 * 24 * 60))
            got = table.at(b.timestamp()) - table.at(a.timestamp())
            assert got == pytest.approx(elapsed(cal, a, b).total_seconds(), abs=1e-6)


def test_parse_since():
    now = datetime(2024, 3, 31, 12, tzinfo=UTC)
    assert parse_since("30d", now=now) == now - timedelta(days=30)
    assert parse_since("12h", now=now) == now - 12 * H
    assert parse_since("2W", now=now) == now - timedelta(weeks=2)
    # times without a zone are local time (diagkit.timegrammar), as in logs --since
    assert parse_since("2024-03-01", now=now) == datetime(2024, 3, 1).astimezone(UTC)
    assert parse_since("2024-03-01T09:30", now=now) == datetime(2024, 3, 1, 9, 30).astimezone(UTC)
    with pytest.raises(ConfigError, match="30d"):
        parse_since("last month", now=now)
    with pytest.raises(ConfigError):
        compute(None, since=now, until=now - H, now=now)  # type: ignore[arg-type]


def _cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["metrics", *args], stdout=out)
    return code, out.getvalue()


def test_cli_json_csv_and_text():
    now = datetime.now(UTC)
    with SqliteStore() as s:  # the default data dir, as the CLI opens it
        # 2 days ago, 24x7 S1: FR after 30m, resolved after 2h, CSAT 5.
        a = _case(s, "alice", "S1", now - timedelta(days=2),
                  [("in_progress", now - timedelta(days=2) + 5 * MIN),
                   ("resolved", now - timedelta(days=2) + 2 * H)],
                  fr=now - timedelta(days=2) + 30 * MIN, csat=5)
        _excerpt(s, a, now - timedelta(days=1), OOM)
        _case(s, "bob", None, now - timedelta(days=40), start="new")  # backlog, >30d
    code, text = _cli("--since", "30d", "--json")
    assert code == 0
    doc = json.loads(text)
    assert (doc["opened"], doc["resolved"], doc["backlog"]) == (1, 1, 1)
    assert doc["frt_median_s"] == pytest.approx(1800.0)
    assert doc["ttr_median_s"] == pytest.approx(7200.0)
    assert doc["backlog_ageing"][">30d"] == 1
    assert doc["sla"]["S1"]["breached"] == 0 and doc["sla"]["S1"]["total"] == 1
    assert doc["top_signatures"] == [{"signature": OOM, "cases": 1}]
    assert len(doc["series"]) in (30, 31)
    code, text = _cli("--since", "30d", "--csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "key", "metric", "value"]
    assert ["summary", "", "opened", "1"] in rows
    code, text = _cli("--since", "30d", "--engineer", "bob")
    assert code == 0 and "opened 0, resolved 0, backlog 1" in text
    assert _cli("--since", "yesterday-ish")[0] == 2
