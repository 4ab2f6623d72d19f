"""Monitoring history: downsampling exactness, retention, resolution choice; every test runs
on the SQLite history file and on the team store (a real PostgreSQL on loopback)."""

from __future__ import annotations

import numpy as np
import pytest

from diagkit.store import StoreError, StoreUnavailable
from diagkit.store.contract import Retention
from diagkit.store.postgres import PgSampleStore
from diagkit.store.sqlite import SqliteSampleStore

T0 = 1_800_000_000.0  # a whole hour: 2027-01-15 08:00:00 UTC


@pytest.fixture(params=["sqlite", "postgresql"])
def open_history(request, tmp_path):
    """``open_history(retention=...)`` opens (or reopens) one history on the backend under test."""
    opened = []
    if request.param == "sqlite":
        def opener(**kw):
            opened.append(SqliteSampleStore(tmp_path / "history.db", **kw))
            return opened[-1]
    else:
        url = request.getfixturevalue("pg_url")

        def opener(**kw):
            opened.append(PgSampleStore(url, **kw))
            return opened[-1]
    yield opener
    for s in opened:
        s.close()


@pytest.fixture
def store(open_history):
    with open_history() as s:
        yield s


def test_aggregates_are_exact(store):
    rng = np.random.default_rng(1)
    t = T0 + np.arange(0, 2 * 3600, 2.0)          # two hours every 2 s
    cpu = rng.uniform(0, 100, t.size)
    store.append(("web1", float(ti), {"cpu.usage": float(v), "load.1": None})
                 for ti, v in zip(t, cpu, strict=True))

    raw = store.read("web1", "cpu.usage", since=T0, resolution="raw")
    assert np.array_equal(raw.t, t) and np.array_equal(raw.avg, cpu)

    minute = store.read("web1", "cpu.usage", since=T0, resolution="1m")
    assert len(minute) == 120
    per_minute = cpu.reshape(120, 30)                # 30 samples per minute
    assert np.allclose(minute.avg, per_minute.mean(axis=1))
    assert np.array_equal(minute.min, per_minute.min(axis=1))
    assert np.array_equal(minute.max, per_minute.max(axis=1))
    assert np.array_equal(minute.t, T0 + 60 * np.arange(120))

    hour = store.read("web1", "cpu.usage", since=T0, resolution="1h")
    assert np.allclose(hour.avg, cpu.reshape(2, 1800).mean(axis=1))
    assert np.array_equal(hour.max, cpu.reshape(2, 1800).max(axis=1))
    # None values are not stored as anything.
    assert store.metrics("web1") == ["cpu.usage"]


def test_appending_in_several_batches_gives_the_same_aggregates(store):
    values = [5.0, 1.0, 9.0, 3.0]
    for i, v in enumerate(values):
        store.append([("h", T0 + 10 * i, {"m": v})])
    store.append([("h", T0 + 10, {"m": 1000.0})])    # a repeated sample time is ignored
    m = store.read("h", "m", since=T0, resolution="1m")
    assert (m.avg[0], m.min[0], m.max[0]) == (np.mean(values), 1.0, 9.0)


def test_retention_prunes_each_resolution(open_history):
    ret = Retention(raw=3600, minute=6 * 3600, hour=48 * 3600)
    with open_history(retention=ret) as store:
        t = T0 + np.arange(0, 24 * 3600, 60.0)       # a day, one sample a minute
        store.append(("h", float(ti), {"m": 1.0}) for ti in t)
        now = T0 + 24 * 3600
        removed = store.prune(now)
        # raw keeps samples younger than an hour: t > now - 3600, i.e. T0+82860 .. T0+86340
        # (the one at exactly now - 3600 is an hour old and goes) -> 59.
        assert len(store.read("h", "m", since=0, resolution="raw")) == 59
        assert removed["raw"] == t.size - 59
        # minute buckets whose end is within 6 h: 360 buckets.
        assert len(store.read("h", "m", since=0, resolution="1m")) == 360
        # all 24 hourly buckets are younger than 48 h.
        assert len(store.read("h", "m", since=0, resolution="1h")) == 24
        assert store.prune(now) == {"raw": 0, "1m": 0, "1h": 0}


def test_read_picks_the_finest_resolution_that_reaches_back(store):
    now = T0 + 30 * 86400
    assert store.resolution_for(now - 600, now) == "raw"
    assert store.resolution_for(now - 3 * 86400, now) == "1m"
    assert store.resolution_for(now - 30 * 86400, now) == "1h"
    store.append([("h", now - 100, {"m": 2.0})])
    assert store.read("h", "m", since=now - 600, now=now).resolution == "raw"
    data = store.read("h", "m", since=now - 3 * 86400, now=now)
    assert data.resolution == "1m" and list(data.avg) == [2.0]
    assert len(store.read("nohost", "m", since=0)) == 0
    with pytest.raises(ValueError, match="unknown resolution"):
        store.read("h", "m", since=0, resolution="5m")


def test_history_survives_reopen(open_history):
    with open_history() as s:
        s.append([("a", T0, {"x": 1.0}), ("b", T0, {"y": 2.0})])
    with open_history() as s:
        assert s.hosts() == ["a", "b"]
        s.append([("a", T0 + 1, {"x": 3.0})])
        assert list(s.read("a", "x", since=T0, resolution="raw").avg) == [1.0, 3.0]


def test_unusable_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "history.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="move it away"):
        SqliteSampleStore(bad)


def test_history_file_from_before_schema_versions_opens_unchanged(tmp_path):
    """A history.db written before the history had a schema_version table (the tables made
    with IF NOT EXISTS on every open) takes its schema as version 1 and keeps its samples."""
    import sqlite3

    from diagkit.store.sqlite.samples import MIGRATIONS

    path = tmp_path / "history.db"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0] + "INSERT INTO series(id, host, metric) VALUES (1, 'h', 'm');"
                      f"INSERT INTO samples_raw VALUES (1, {T0}, 5.0);")
    old.close()
    with SqliteSampleStore(path) as store:
        assert store.schema_version() == 1
        assert list(store.read("h", "m", since=T0, resolution="raw").avg) == [5.0]
        store.append([("h", T0 + 1, {"m": 7.0})])
        assert list(store.read("h", "m", since=T0, resolution="raw").avg) == [5.0, 7.0]


def test_append_applies_retention_by_itself(open_history):
    import time

    now = time.time()
    with open_history(retention=Retention(raw=3600)) as store:
        store.append([("h", now - 7200, {"m": 1.0}), ("h", now - 60, {"m": 2.0})])
        # The first append of a session prunes: the 2 h old raw sample is gone, its
        # per-minute aggregate stays.
        assert list(store.read("h", "m", since=0, resolution="raw").avg) == [2.0]
        assert len(store.read("h", "m", since=0, resolution="1m")) == 2


def test_two_writers_share_one_history_exactly(open_history):
    """Two engineers' diagkits (two connections) watching the same host: the aggregates count
    every distinct sample once, whichever store wrote it."""
    a, b = open_history(), open_history()
    a.append([("h", T0 + i, {"m": float(i)}) for i in range(0, 60, 2)])
    b.append([("h", T0 + i, {"m": float(i)}) for i in range(0, 60, 3)])   # 0, 6, ... overlap
    seen = sorted(set(range(0, 60, 2)) | set(range(0, 60, 3)))
    for s in (a, b):
        m = s.read("h", "m", since=T0, resolution="1m")
        assert (len(m), m.avg[0], m.min[0], m.max[0]) == (1, np.mean(seen), 0.0, 58.0)
        assert list(s.read("h", "m", since=T0, resolution="raw").t - T0) == seen


def test_team_history_cut_connection_is_unavailable_then_recovers(pg_server, pg_url):
    with PgSampleStore(pg_url) as store:
        store.append([("h", T0, {"m": 1.0})])
        pg_server.terminate_backends(pg_url.rsplit("/", 1)[1])
        with pytest.raises(StoreUnavailable, match="Nothing was saved"):
            store.append([("h", T0 + 1, {"m": 2.0}), ("h2", T0 + 1, {"m": 3.0})])
        # Reconnects on the next call; the failed batch left nothing behind, not even a series.
        assert store.hosts() == ["h"]
        assert store.append([("h2", T0 + 2, {"m": 3.0})]) == 1
        assert store.hosts() == ["h", "h2"]
