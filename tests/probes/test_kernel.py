"""kernel probe: parser on real and hand-made captures, and a live run."""

from __future__ import annotations

from pathlib import Path

from diagkit.probes import kernel
from diagkit.probes.base import Severity
from diagkit.transport.local import LocalTransport

DATA = Path(__file__).parent.parent / "data" / "probes" / "kernel"


def load(name: str):
    return kernel.parse((DATA / name).read_text())


def events(data, kind: str) -> float:
    return next(m.value for m in data.metrics
                if m.name == "kernel.events" and m.labels.get("kind") == kind)


def test_normal_capture_dmesg_T() -> None:
    data = load("normal.txt")
    assert data.facts["source"] == "dmesg -T"
    assert data.facts["tainted"] == "0"
    scanned = next(m.value for m in data.metrics if m.name == "kernel.lines_scanned")
    assert scanned > 300
    assert data.findings == ()


def test_busybox_capture_plain_dmesg() -> None:
    data = load("busybox.txt")
    assert data.facts["source"] == "dmesg"
    assert kernel.split_time("[    1.345199] random: crng reseeded") == ("1.345199",
                                                                         "random: crng reseeded")


def test_nonroot_capture_says_why_nothing_was_read() -> None:
    data = load("nonroot.txt")
    assert data.facts["source"] == ""
    assert any("dmesg was refused" in n for n in data.notes)
    assert any("no readable kernel log" in n for n in data.notes)
    assert data.tables[0].rows == ()


def test_oom_io_fs_hung_segfault_flap_taint() -> None:
    data = load("oom_and_io_errors.txt")
    by_title = {f.title: f for f in data.findings}
    oom = by_title["OOM killer ran (2 processes killed)"]
    assert oom.severity is Severity.CRITICAL and "java, mysqld" in oom.detail
    io = next(f for t, f in by_title.items() if t.startswith("Disk I/O errors"))
    assert io.severity is Severity.CRITICAL and "sdb" in io.title
    fs = next(f for t, f in by_title.items() if t.startswith("Filesystem errors"))
    assert fs.severity is Severity.CRITICAL and "sdb1" in fs.title
    hung = by_title["Hung tasks (2 reports)"]
    assert hung.severity is Severity.WARNING and "rsync, jbd2/sdb1-8" in hung.detail
    segv = by_title["3 segfaults"]
    assert segv.severity is Severity.WARNING and "php-fpm8.1 (2x), node" in segv.detail
    assert by_title["NIC link flapping: eno1 (2x)"].severity is Severity.WARNING
    assert by_title["Hardware errors reported (2 lines)"].severity is Severity.WARNING
    assert by_title["CPU lockups or RCU stalls (1)"].severity is Severity.WARNING
    taint = by_title["Kernel is tainted (PO)"]
    assert taint.severity is Severity.INFO and "proprietary" in taint.detail
    assert events(data, "oom") == 4 and events(data, "segfault") == 3
    # the boot-time "SATA link down" and the virtual floppy (fd0) errors are not counted
    assert events(data, "io_error") == 4 and events(data, "link_flap") == 2
    first = data.tables[0].rows[0]
    assert first["time"] == "Mon Mar  4 10:02:33 2024" and first["kind"] == "segfault"


def test_journal_fallback_xfs_and_uncorrected_mce() -> None:
    data = load("journal_fallback.txt")
    assert data.facts["source"] == "journalctl -k"
    titles = {f.title: f.severity for f in data.findings}
    assert titles["Filesystem errors on dm-2 (2x) (2 lines)"] is Severity.CRITICAL
    assert titles["Hardware errors reported (3 lines, uncorrected)"] is Severity.CRITICAL
    assert data.tables[0].rows[0]["time"] == "2024-03-04T09:14:27+0100"


def test_decode_taint() -> None:
    assert kernel.decode_taint(0) == []
    assert [f for f, _ in kernel.decode_taint(1 | 1 << 12 | 1 << 13)] == ["P", "O", "E"]


def test_reader_names_who_each_event_is_about() -> None:
    r = kernel.read((DATA / "oom_and_io_errors.txt").read_text())
    assert r.tainted and r.lines_scanned > 0
    oom = [e for e in r.of("oom") if e.pid is not None]
    assert oom and all(e.subject for e in oom)
    assert {e.subject for e in r.of("link_flap")} == {"eno1"}
    assert all(e.pid is not None for e in r.of("segfault") if e.subject)
    journal = kernel.read((DATA / "journal_fallback.txt").read_text())
    assert any(e.uncorrected for e in journal.of("hardware"))


def test_judge_works_on_data_with_the_thresholds_given() -> None:
    down = kernel.KernelEvent("[5.0]", "link_flap", "eth0: Link is Down", subject="eth0")
    once = kernel.KernelReading(events=(down,))
    assert [(f.title, f.severity) for f in kernel.judge(once, kernel.THRESHOLDS)] == [
        ("NIC link went down: eth0", Severity.INFO)]
    twice = kernel.KernelReading(events=(down, down))
    assert kernel.judge(twice, kernel.THRESHOLDS)[0].title == "NIC link flapping: eth0 (2x)"
    assert kernel.judge(twice, kernel.KernelThresholds(link_flap_min=3))[0].severity \
        is Severity.INFO
    killed = kernel.KernelEvent("[9.1]", "oom", "Out of memory: Killed process 4242 (java)",
                                subject="java", pid=4242)
    (oom,) = kernel.judge(kernel.KernelReading(events=(killed,)), kernel.THRESHOLDS)
    assert oom.title == "OOM killer ran (1 process killed)" and "Killed: java." in oom.detail


def test_live_run_locally() -> None:
    result = LocalTransport().run("sh -s", stdin=kernel.SCRIPT, timeout=30)
    assert result.exit_status == 0
    data = kernel.parse(result.stdout)
    assert data.facts["release"]
    assert data.facts["tainted"].isdigit()
    assert data.facts["source"] or data.notes
    assert data.tables[0].columns == ("time", "kind", "message")
