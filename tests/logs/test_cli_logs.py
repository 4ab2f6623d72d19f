"""``diagkit logs ...`` end to end: real files, the real entry point in a subprocess."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import datetime
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


def _journal_line(i: int, prio: int) -> str:
    """One line as ``journalctl -o json`` writes it: every trusted field, ~1 KB."""
    t = 1_709_287_200_000_000 + i * 1_500_000
    entry = {
        "__CURSOR": f"s=739ad463348b4ceca5a9e69c95a3c93f;i={0x4ece7 + i:x};"
                    "b=6c7c6013a8b343c0a1e1f4e0bfad8c2b;m=1f4a8f4ac;t=5d2d0c8d2d1f0;"
                    "x=1e5b7bbd3d3e1b2a",
        "__REALTIME_TIMESTAMP": str(t), "__MONOTONIC_TIMESTAMP": str(8_400_000_172 + i),
        "_BOOT_ID": "6c7c6013a8b343c0a1e1f4e0bfad8c2b", "_TRANSPORT": "syslog",
        "PRIORITY": str(prio), "SYSLOG_FACILITY": "4", "SYSLOG_IDENTIFIER": "sshd",
        "_UID": "0", "_GID": "0", "_COMM": "sshd", "_EXE": "/usr/sbin/sshd",
        "_CMDLINE": "sshd: root [priv]", "_CAP_EFFECTIVE": "1ffffffffff",
        "_SELINUX_CONTEXT": "unconfined\n", "_SYSTEMD_CGROUP": "/system.slice/ssh.service",
        "_SYSTEMD_UNIT": "ssh.service", "_SYSTEMD_SLICE": "system.slice",
        "_SYSTEMD_INVOCATION_ID": "d2b3e6c5a1f04b8c9e7d6a5b4c3d2e1f",
        "_MACHINE_ID": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "_HOSTNAME": "web1",
        "SYSLOG_PID": str(1000 + i), "_PID": str(1000 + i),
        "SYSLOG_TIMESTAMP": "Mar  1 10:00:00 ",
        "MESSAGE": f"Accepted publickey for root from 10.0.0.{i % 250} port {40000 + i} ssh2: "
                   "ED25519 SHA256:q8zMgZgZbqyV4Nkd2p7LQ9A9b1CTwLHkHP6ZxXy5F3s",
        "_SOURCE_REALTIME_TIMESTAMP": str(t - 100),
    }
    return json.dumps(entry, separators=(",", ":"))


def test_long_records_keep_time_and_level(tmp_path: Path) -> None:
    """journalctl -o json lines are ~1 KB: stats, --level, --since and the histogram read their
    time and level exactly as ``logs FILE --json`` does (no header cap)."""
    prios = [6, 3, 4, 6, 2, 6, 7, 3] * 10
    path = tmp_path / "journal.json"
    path.write_text("".join(_journal_line(i, p) + "\n" for i, p in enumerate(prios)))
    assert min(len(_journal_line(i, 6)) for i in range(3)) > 900
    shown = json.loads(dk("logs", str(path), "--json").stdout)["records"]
    assert len(shown) == 80 and all(r["timestamp"] for r in shown)
    by_level: dict[str, int] = {}
    for r in shown:
        by_level[r["level"]] = by_level.get(r["level"], 0) + 1
    st = json.loads(dk("logs", "stats", str(path), "--json").stdout)["files"][0]
    assert st["format"] == "journald-json" and st["levels"] == by_level
    assert st["without_timestamp"] == 0 and by_level["error"] == 20
    assert st["first"] == datetime.fromtimestamp(1_709_287_200).astimezone().isoformat()
    errors = json.loads(dk("logs", str(path), "--level", "error", "--json").stdout)["records"]
    assert [r["record"] for r in errors] == [r["record"] for r in shown
                                             if r["level"] in ("error", "critical")]
    since = shown[40]["timestamp"]
    later = json.loads(dk("logs", str(path), "--since", since, "--json").stdout)["records"]
    assert [r["record"] for r in later] == list(range(40, 80))
    hist = json.loads(dk("logs", "histogram", str(path), "--bucket", "1h", "--json").stdout)
    assert sum(b["total"] for b in hist["buckets"]) == 80


def test_each_action_explains_itself() -> None:
    for action, says in (("stats", "time span"), ("signatures", "template"),
                         ("histogram", "bucket")):
        r = dk("logs", action, "--help")
        assert r.returncode == 0, r.stderr
        text = r.stdout
        assert text.startswith(f"usage: diagkit logs {action}")
        assert says in text and "examples:" in text and f"diagkit logs {action} " in text
        assert "--json" in text and "--since" in text
    assert "--bucket" in dk("logs", "histogram", "--help").stdout
    assert "--bucket" not in dk("logs", "stats", "--help").stdout
    assert "--top" in dk("logs", "signatures", "-h").stdout
    assert "diagkit logs stats --help" in dk("logs", "--help").stdout


def test_options_between_files_and_stats_filters(tmp_path: Path) -> None:
    a, b = _files(tmp_path)
    r = dk("logs", "stats", "--json", str(a), "--level", "error", str(b))
    assert r.returncode == 0, r.stderr
    files = json.loads(r.stdout)["files"]
    assert [f["matching"] for f in files] == [1, 1]
    assert files[0]["records"] == 4 and files[0]["levels"] == {"error": 1}
    r = dk("logs", str(a), "--bogus")
    assert r.returncode == 2 and "unrecognized arguments: --bogus" in r.stderr


def test_incidents_text_json_and_usage() -> None:
    folder = Path(__file__).resolve().parent.parent / "data" / "incidents" / "postgres-outage"
    r = dk("logs", "incidents", str(folder))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("2026-12-05T13:13:44+00:00 .. 2026-12-05T13:14:44+00:00  [-]")
    assert "never seen before" in lines[0]
    assert "    before: 2026-12-05T13:13:43+00:00 new info 1 × 'received fast shutdown request'" \
        " (postgres)" in lines
    assert "span less than an hour" in r.stderr  # warnings on stderr, not in the listing
    r = dk("logs", "incidents", str(folder), "--json")
    doc = json.loads(r.stdout)
    assert doc["schema"] == "diagkit.log-incidents/1" and len(doc["incidents"]) == 1
    assert doc["incidents"][0]["records"] == 69
    r = dk("logs", "incidents", str(folder), "--since=-1h")
    assert r.returncode == 2 and "filters" in r.stderr and "Traceback" not in r.stderr
    r = dk("logs", "incidents", str(folder / "missing.log"))
    assert r.returncode == 2 and "no file" in r.stderr.lower()
    r = dk("logs", "incidents", "--help")
    assert r.returncode == 0 and "examples:" in r.stdout and "--limit" in r.stdout
