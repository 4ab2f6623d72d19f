"""``diagkit logs ...`` end to end: real files, the real entry point in a subprocess."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path


def dk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagkit", *args], capture_output=True,
                          text=True, timeout=60, check=False)


LOG = ("2024-03-01 10:00:00,001 INFO app: started\n"
       "2024-03-01 10:00:05,002 ERROR app: disk full on /var\n"
       "Traceback (most recent call last):\n"
       "  File \"x.py\", line 1\n"
       "2024-03-01 10:01:00,003 WARNING app: disk almost full\n"
       "2024-03-01 10:02:00,004 INFO app: done\n")


def _files(tmp_path: Path) -> tuple[Path, Path]:
    a = tmp_path / "app.log"
    a.write_text(LOG)
    b = tmp_path / "other.log.gz"
    b.write_bytes(gzip.compress(b"2024-03-01 10:00:30,000 ERROR other: disk gone\n"))
    return a, b


def test_filter_json_and_text(tmp_path: Path) -> None:
    a, b = _files(tmp_path)
    r = dk("logs", str(a), "--literal", "DISK", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "diagkit.log-records/1"
    assert [x["line"] for x in doc["records"]] == [2, 5]
    assert doc["files"][0]["records"] == 4
    r = dk("logs", str(a), "--level", "error")
    assert r.stdout.startswith("2024-03-01 10:00:05,002 ERROR app: disk full")
    merged = dk("logs", str(a), str(b), "--grep", "disk (full|gone)", "--json")
    assert [x["message"].split("\n")[0] for x in json.loads(merged.stdout)["records"]] == [
        "disk full on /var", "disk gone"]
    ctx = dk("logs", str(a), "--literal", "done", "-C", "1")
    assert ctx.stdout.splitlines()[-1].endswith(":6: 2024-03-01 10:02:00,004 INFO app: done")
    assert "-5-" in ctx.stdout
    lim = dk("logs", str(a), "--limit", "1", "--json")
    assert json.loads(lim.stdout)["truncated"] is True


def test_stats_histogram_signatures(tmp_path: Path) -> None:
    a, b = _files(tmp_path)
    st = json.loads(dk("logs", "stats", str(a), "--json").stdout)
    assert st["schema"] == "diagkit.log-stats/1"
    (f,) = st["files"]
    assert f["records"] == 4 and f["lines"] == 6 and f["levels"]["error"] == 1
    assert f["first"].startswith("2024-03-01T10:00:00")
    text = dk("logs", "stats", str(a)).stdout
    assert "records:   4" in text
    h = json.loads(dk("logs", "histogram", str(a), str(b), "--bucket", "1m", "--json").stdout)
    assert [x["total"] for x in h["buckets"]] == [3, 1, 1]
    bars = dk("logs", "histogram", str(a), "--bucket", "1m").stdout
    assert "2024-03-01 10:00:00" in bars and "!" in bars
    sig = json.loads(dk("logs", "signatures", str(a), "--json", "--per-record").stdout)
    assert sig["schema"] == "diagkit.log-signatures/1" and sig["records"] == 4
    assert len(sig["per_record"]) == 4


def test_bad_usage_exit_2(tmp_path: Path) -> None:
    a, _ = _files(tmp_path)
    r = dk("logs", str(tmp_path / "nope.log"))
    assert r.returncode == 2 and "no file at" in r.stderr
    r = dk("logs", str(a), "--since", "next week")
    assert r.returncode == 2 and "as a time" in r.stderr
    r = dk("logs", str(a), "--grep", "(")
    assert r.returncode == 2 and "regular expression" in r.stderr
    r = dk("logs", str(a), "--level", "loud")
    assert r.returncode == 2 and "Unknown level" in r.stderr
    r = dk("logs", "stats")
    assert r.returncode == 2 and "needs at least one file" in r.stderr
    r = dk("logs", "histogram", str(a), "--bucket", "soon")
    assert r.returncode == 2 and "bucket" in r.stderr
