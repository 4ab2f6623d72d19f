"""Evidence chosen by time (issue 16, item 5): a report window, the records inside it with their
precursors, key blocks masked from the whole log, the Timeline, and the case's product fields
redacted like every other string. Real logs (loghub's OpenStack), real keys from ssh-keygen,
real zips; the changes probe's rows come from a capture made on this machine."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from diagkit.errors import BundleError
from diagkit.probes import changes
from diagkit.probes.base import ProbeResult
from diagkit.reports.bundle import log_excerpts, write_bundle
from diagkit.reports.keyblocks import TOKEN
from diagkit.reports.model import Bundle, HostEnvironment, TimelineEvent, TimeWindow
from diagkit.reports.window import (
    changes_probe_for,
    merge_timeline,
    parse_window,
    window_timeline,
)
from tests.reports import keymaterial

OPENSTACK = Path("/work/shared/loghub-dev/OpenStack/OpenStack_2k.log")
if not OPENSTACK.is_file():
    OPENSTACK = Path(__file__).resolve().parents[3] / "shared" / "loghub-dev" / "OpenStack" \
        / "OpenStack_2k.log"
CHANGES = Path(__file__).resolve().parent.parent / "data" / "probes" / "changes"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone()  # naive log times are local time


def test_parse_window_grammar_and_errors() -> None:
    now = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)
    w = parse_window("2024-01-02T07:20Z..2024-01-02T08:05Z", now=now)
    assert (w.start, w.end) == (datetime(2024, 1, 2, 7, 20, tzinfo=UTC),
                                datetime(2024, 1, 2, 8, 5, tzinfo=UTC))
    rel = parse_window("-2h..now", now=now)
    assert rel.end - rel.start == timedelta(hours=2) and rel.end == now
    assert parse_window("-30m..", now=now).end == now  # an empty END means now
    assert parse_window("2024-01-02 07:20..2024-01-02 08:05").start.tzinfo is not None
    with pytest.raises(BundleError, match="START..END"):
        parse_window("2024-01-02T07:20", now=now)
    with pytest.raises(BundleError, match="starts .* after it ends"):
        parse_window("2024-01-02T09:00Z..2024-01-02T08:00Z", now=now)
    with pytest.raises(BundleError, match="Cannot read 'teatime' as a time"):
        parse_window("teatime..now", now=now)


def test_records_of_the_window_and_warnings_before_it() -> None:
    window = TimeWindow(local("2017-05-16T00:02:00"), local("2017-05-16T00:02:30"))
    found = log_excerpts(OPENSTACK, lines=1000, window=window)
    precursors = [x for x in found if x.note.startswith("precursor")]
    inside = [x for x in found if not x.note.startswith("precursor")]
    # the OpenStack log's WARNING records of the hour before 00:02:00 (imagecache, 4 of them)
    assert [x.first_line for x in precursors] == [57, 147, 238, 241]
    assert all(" WARNING " in x.lines[0] for x in precursors)
    assert all(x.first_time is not None and x.first_time < window.start for x in precursors)
    (whole,) = inside
    assert whole.note.startswith("66 record(s) in the window")
    assert whole.first_time == local("2017-05-16T00:02:00.935")
    stamps = [line.split()[2] for line in whole.lines if line.startswith("nova-")]
    assert stamps[0] >= "00:02:00" and stamps[-1] <= "00:02:30" and len(stamps) == 66
    # the lines right before and after the window are not in it
    text = OPENSTACK.read_text().splitlines()
    assert "00:01:5" in text[whole.first_line - 2] and "00:02:3" in text[whole.first_line + 65]


def test_a_long_window_keeps_its_onset_and_its_end() -> None:
    window = TimeWindow(local("2017-05-16T00:00:00"), local("2017-05-16T00:14:48"))
    found = log_excerpts(OPENSTACK, lines=100, window=window)
    first, *rest = found
    assert first.first_line == 1 and first.note.startswith("2000 record(s) in the window")
    assert "its first" in first.note
    assert sum(len(x.lines) for x in found) <= 101
    assert rest[-1].first_line + len(rest[-1].lines) - 1 == 2000  # the end of the log
    assert "left out (--log-lines 100)" in rest[0].note


def test_a_window_without_records_says_where_the_log_is() -> None:
    window = TimeWindow(datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 2, tzinfo=UTC))
    (x,) = log_excerpts(OPENSTACK, window=window)
    assert x.lines == () and "no records in the window" in x.note
    assert "2017-05-16T00:00:00" in x.note


def test_a_window_starting_inside_a_key_block_masks_all_of_it(tmp_path: Path) -> None:
    """The key is printed one record a millisecond; the window starts at its 10th line, so
    the excerpt holds body lines with no BEGIN line: the whole-log scan still masks them."""
    lines = OPENSTACK.read_text().splitlines()
    key = keymaterial.openssh_key(tmp_path)
    prefix = "nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:07:25"
    planted = lines[:1000] + [f"{prefix}.{240 + i:03d} 2931 INFO {k}" for i, k in enumerate(key)] \
        + lines[1000:]
    log = tmp_path / "nova.log"
    log.write_text("\n".join(planted) + "\n")
    window = TimeWindow(local("2017-05-16T00:07:25.250"), local("2017-05-16T00:07:26"))
    found = log_excerpts(log, window=window)
    inside = [x for x in found if not x.note.startswith("precursor")]
    text = "\n".join(line for x in inside for line in x.lines)
    for secret in keymaterial.body(key):
        assert secret not in text
    # line 1000 (00:07:25.394) is in the window too; the key's run follows, from its 11th line
    (cut,) = [x for x in inside if x.masked_keys]
    assert cut.first_line == 1011 and TOKEN in cut.lines[0] and "private key block" in cut.note


def changes_result() -> ProbeResult:
    raw = (CHANGES / "planted_removed_busybox.txt").read_text()
    return ProbeResult("changes", "local", changes.parse(raw), raw, "", 0, 0.3)


def test_timeline_of_the_window_from_excerpts_findings_and_changes() -> None:
    window = TimeWindow(datetime(2026, 12, 5, 13, 10, 40, tzinfo=UTC),
                        datetime(2026, 12, 5, 13, 11, 5, tzinfo=UTC))
    result = changes_result()
    runs = [("db1", datetime(2026, 12, 5, 13, 11, 0, tzinfo=UTC), [result])]
    events = window_timeline(window, probe_runs=runs)
    texts = [(e.kind, e.text) for e in events]
    assert ("change", "package: hello (install 2.10-3)") in texts
    assert ("change", "package: hello (remove 2.10-3)") in texts
    assert ("change", "unit: diagkit-h16-demo (stopped (runit: down))") in texts
    assert ("change", "config: /etc/diagkit-h16-demo.conf (modified)") in texts
    assert ("finding", "info: 186 changes in the last 24 h") in texts
    assert all(e.host == "db1" for e in events)
    assert [e.time for e in events] == sorted(e.time for e in events)
    # changes before the window and its precursor hour stay out: the boot at 09:42
    assert not any(e.text.startswith("reboot") for e in events)
    early = TimelineEvent(datetime(2026, 12, 5, 12, 0, tzinfo=UTC), "note", "first call")
    merged = merge_timeline(events, [early])
    assert merged[0] is early and len(merged) == len(events) + 1


def test_bundle_with_window_product_and_timeline(tmp_path: Path) -> None:
    secret = "Hunter2xyz"
    window = TimeWindow(local("2017-05-16T00:02:00"), local("2017-05-16T00:02:30"))
    logs = tuple(log_excerpts(OPENSTACK, lines=60, window=window))
    b = Bundle(title="nova slow", product="OpenStack Nova", product_version="15.0.2",
               customer_ref=f"ACME-778 password={secret}", window=window,
               hosts=(HostEnvironment("db1", {"os": "Debian"}, ()),), logs=logs,
               timeline=window_timeline(window, logs=logs))
    out = tmp_path / "b.zip"
    write_bundle(b, out)
    with zipfile.ZipFile(out) as zf:
        doc = json.loads(zf.read("data/bundle.json"))
        md = zf.read("report.md").decode()
        html = zf.read("report.html").decode()
        blob = b"".join(zf.read(n) for n in zf.namelist())
    assert secret.encode() not in blob
    assert doc["product"] == "OpenStack Nova" and doc["product_version"] == "15.0.2"
    assert doc["customer_ref"] == "ACME-778 password=[REDACTED:password]"
    assert doc["window"]["start"].startswith("2017-05-16T00:02:00")
    kinds = [e["kind"] for e in doc["timeline"]]
    assert kinds == ["precursor"] * 4 + ["log"] * (len(kinds) - 4)
    assert doc["timeline"][0]["ref"].endswith("OpenStack_2k.log line 57")
    assert doc["logs"][4]["first_time"].startswith("2017-05-16T00:02:00.935")
    assert "**Product:** OpenStack Nova 15\\.0\\.2" in md or "**Product:** OpenStack Nova 15.0.2" in md
    assert "## Timeline" in md and 'id="timeline"' in html and "Customer: ACME-778" in html


def test_the_changes_probe_looks_back_to_the_window() -> None:
    now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    recent = TimeWindow(now - timedelta(hours=3), now)
    assert "D=7\n" in changes_probe_for(recent, now=now).script
    old = TimeWindow(now - timedelta(days=20, hours=1), now - timedelta(days=19))
    assert "D=22\n" in changes_probe_for(old, now=now).script
