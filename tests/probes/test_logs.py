"""logs probe: parser on real and hand-made captures, and a live run."""

from __future__ import annotations

from pathlib import Path

from diagkit.probes import logs
from diagkit.probes.base import Severity
from diagkit.transport.local import LocalTransport

DATA = Path(__file__).parent.parent / "data" / "probes" / "logs"


def load(name: str):
    return logs.parse((DATA / name).read_text())


def test_real_captures_without_journal_or_syslog() -> None:
    for name in ("normal.txt", "busybox.txt"):
        data = load(name)
        assert data.facts["source"] == "files"
        assert data.facts["window"] == "last 5000 lines per file"
        assert data.findings == ()
    nonroot = load("nonroot.txt")
    assert any("is not readable" in n for n in nonroot.notes)
    assert any("no journal and no readable log file" in n for n in nonroot.notes)


def test_journal_high_error_rate_and_most_frequent_message() -> None:
    data = load("journal_errors.txt")
    assert data.facts == {"source": "journal", "window": "1h"}
    rows = data.tables[0].rows
    assert len(rows) == 74
    assert rows[0] == ("2024-03-04T10:00:00+0100", "gunicorn", (
        "ERROR app.db: could not connect to server: Connection refused (10.0.4.21:5432, attempt 1)"))
    by_source = {m.labels["source"]: m.value for m in data.metrics
                 if m.name == "logs.error_lines_by_source"}
    assert by_source == {"gunicorn": 64, "sshd": 8, "systemd": 1, "kernel": 1}
    rate, frequent = data.findings
    assert rate.severity is Severity.WARNING and "74 error lines in the last hour" in rate.title
    assert frequent.severity is Severity.INFO
    assert frequent.title == "Most frequent error (64x) from gunicorn"


def test_syslog_files() -> None:
    data = load("syslog_files.txt")
    assert data.facts["source"] == "syslog"
    assert data.facts["files"] == "/var/log/syslog, /var/log/messages"
    assert "journalctl failed: No journal files were found." in data.notes
    rows = data.tables[0].rows
    assert rows[0] == ("Mar  4 09:02:11", "dhclient", "DHCPREQUEST failed: no lease for eth1")
    assert rows[-1]["source"] == "kernel" and rows[-1]["time"] == "2024-03-04T09:40:12.114052+01:00"
    assert data.findings == ()  # 6 lines, no message repeated 3 times


def test_normalise_groups_repeats() -> None:
    a = logs.normalise("conn from 10.0.0.5:4431 failed after 3 tries (id 0x7f3a)")
    b = logs.normalise("conn from 10.0.0.9:5512 failed after 12 tries (id 0x11)")
    assert a == b == "conn from <ip> failed after # tries (id <hex>)"


def test_reader_gives_typed_values_without_thresholds() -> None:
    r = logs.read((DATA / "syslog_files.txt").read_text())
    assert r.source == "syslog" and {line.file for line in r.lines} == {
        "/var/log/syslog", "/var/log/messages"}
    assert r.lines[0] == logs.LogLine("Mar  4 09:02:11", "dhclient",
                                      "DHCPREQUEST failed: no lease for eth1", "/var/log/syslog")
    assert not r.capped


def test_judge_works_on_data_with_the_thresholds_given() -> None:
    lines = tuple(logs.LogLine("", "app", f"timeout after {n} ms") for n in range(4))
    reading = logs.LogsReading("journal", "1h", lines)
    (frequent,) = logs.judge(reading, logs.THRESHOLDS)
    assert frequent.title == "Most frequent error (4x) from app"
    loud = logs.LogsThresholds(error_lines_warning=3, repeat_min=5)
    assert [f.title for f in logs.judge(reading, loud)] == [
        "High error rate in the system log: 4 error lines in the last hour"]


def test_live_run_locally() -> None:
    result = LocalTransport().run("sh -s", stdin=logs.SCRIPT, timeout=30)
    assert result.exit_status == 0 and result.stderr == ""
    data = logs.parse(result.stdout)
    assert data.facts["source"] in ("journal", "syslog", "files")
    assert data.tables[0].columns == ("time", "source", "message")
    total = next(m.value for m in data.metrics if m.name == "logs.error_lines")
    assert total == len(data.tables[0].rows)
