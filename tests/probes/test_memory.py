"""memory probe: parser on real and hand-made captures, and the script run live."""

from __future__ import annotations

from pathlib import Path

from diagkit.probes import memory
from diagkit.probes.base import ProbeData, Severity
from diagkit.transport.local import LocalTransport
from tests.probes.helpers import by_title, metric

DATA = Path(__file__).parent.parent / "data" / "probes" / "memory"
KIB = 1024


def load(name: str) -> ProbeData:
    return memory.parse((DATA / name).read_text())


def test_normal_capture_plenty_of_memory_no_swap() -> None:
    data = load("normal.txt")
    assert metric(data, "memory.total") == 24683656 * KIB
    assert metric(data, "memory.available") == 24302704 * KIB
    assert metric(data, "memory.available_percent") == 98.46
    assert metric(data, "memory.cached") == (347776 + 77872) * KIB  # Cached + SReclaimable
    assert metric(data, "memory.swap_total") == 0
    assert metric(data, "memory.swap_in_rate") == 0.0
    assert metric(data, "memory.pressure", psi="some_avg10") == 0.0
    assert data.facts["total"] == "23.5 GiB"
    assert data.facts["swap"] == "none configured"
    top = next(t for t in data.tables if t.name == "top_rss")
    first = top.rows[0]
    assert (first["pid"], first["command"], first["rss_bytes"]) == (1, "process_api", 10972 * KIB)
    assert len(top.rows) == 5
    assert list(top.column("rss_bytes")) == sorted(top.column("rss_bytes"), reverse=True)
    assert data.facts["processes_with_memory"] == "15"
    assert data.findings == () and data.notes == ()


def test_busybox_and_nonroot_captures_see_the_same_processes() -> None:
    for name in ("busybox.txt", "nonroot.txt"):
        data = load(name)
        top = next(t for t in data.tables if t.name == "top_rss")
        assert top.rows[0]["command"] == "process_api", name
        assert metric(data, "memory.total") == 24683656 * KIB
        assert data.findings == ()


def test_oom_pressure_fires_every_memory_finding() -> None:
    data = load("oom_pressure.txt")
    assert round(metric(data, "memory.available_percent"), 1) == 3.0
    assert metric(data, "memory.swap_used_percent") == 80.0
    assert metric(data, "memory.swap_in_rate") == 400 * 4096 / 0.5
    assert metric(data, "memory.swap_out_rate") == 800 * 4096 / 0.5
    assert metric(data, "memory.pressure", psi="some_avg10") == 27.41
    assert metric(data, "memory.hugepages_total") == 512
    assert data.facts["hugepages"] == "512 x 2.0 MiB, 128 free"
    assert by_title(data) == {
        "Low available memory": Severity.CRITICAL,
        "Swap more than half full": Severity.WARNING,
        "Host is swapping now": Severity.WARNING,
        "Memory pressure": Severity.WARNING,
        "Memory overcommitted": Severity.INFO,
    }
    low = next(f for f in data.findings if f.title == "Low available memory")
    assert "(3.0 %)" in low.detail and "oom" in low.hint.lower()
    top = next(t for t in data.tables if t.name == "top_rss")
    assert (top.rows[0]["pid"], top.rows[0]["command"]) == (23817, "java")
    assert top.rows[2]["command"] == "Web Content"  # names with spaces survive


def test_planted_memory_hog_is_named_while_memory_is_plentiful() -> None:
    # Captured here with a python3 process holding a 2 GiB bytes object (every page written).
    data = load("faults_planted.txt")
    (finding,) = data.findings
    assert (finding.severity, finding.title) == (Severity.INFO, "Largest memory user: python3")
    assert finding.detail.startswith(
        "python3 (pid 16189) holds 2.0 GiB resident, 8.6 % of 23.5 GiB RAM. Largest resident: "
        "python3 (pid 16189) 2.0 GiB, 8.6 % of RAM; python (pid 17708) 843.2 MiB")
    assert "/proc/16189/status" in finding.hint
    # When memory is short the shortage findings name the largest, and this one stays quiet.
    low = next(f for f in load("oom_pressure.txt").findings if f.title == "Low available memory")
    assert "Largest resident: java (pid 23817)" in low.detail


def test_old_kernel_without_memavailable_or_psi() -> None:
    data = load("old_kernel_no_psi.txt")
    # Estimated as MemFree + Buffers + Cached when the kernel has no MemAvailable.
    assert metric(data, "memory.available") == (1048576 + 262144 + 2097152) * KIB
    assert not [m for m in data.metrics if m.name in ("memory.pressure", "memory.swap_in_rate")]
    assert by_title(data) == {"Memory overcommitted": Severity.INFO}
    assert len(data.notes) == 3 and any("PSI" in n for n in data.notes)
    assert not data.tables


def test_reader_gives_typed_values_without_thresholds() -> None:
    r = memory.read((DATA / "oom_pressure.txt").read_text())
    assert round(r.available_percent, 1) == 3.0 and r.swap_used_percent == 80.0
    assert (r.swap_in_rate, r.swap_out_rate) == (400 * 4096 / 0.5, 800 * 4096 / 0.5)
    assert r.psi_some_avg10 == 27.41 and r.hugepages_total == 512
    assert r.top[0] == memory.TopProcess(23817, "java", r.top[0].rss_bytes)
    no_psi = memory.read((DATA / "old_kernel_no_psi.txt").read_text())
    assert no_psi.psi_some_avg10 is None


def test_judge_works_on_data_with_the_thresholds_given() -> None:
    gib = 1 << 30
    reading = memory.MemoryReading(total=16 * gib, available=gib, swap_total=0)  # 6.25 % left
    assert [(f.title, f.severity) for f in memory.judge(reading, memory.THRESHOLDS)] == [
        ("Low available memory", Severity.WARNING)]
    relaxed = memory.MemoryThresholds(available_warning=5.0, available_critical=2.0)
    assert memory.judge(reading, relaxed) == ()
    swapping = memory.MemoryReading(sample_seconds=0.5, swap_in_rate=0.0, swap_out_rate=8192.0)
    assert [f.title for f in memory.judge(swapping, memory.THRESHOLDS)] == ["Host is swapping now"]
    assert memory.judge(memory.MemoryReading(), memory.THRESHOLDS) == ()
    hog = memory.MemoryReading(total=16 * gib, available=12 * gib,
                               top=(memory.TopProcess(7, "java", gib),))  # 6.25 % of RAM
    assert [f.title for f in memory.judge(hog, memory.THRESHOLDS)] == ["Largest memory user: java"]
    assert memory.judge(hog, memory.MemoryThresholds(process_percent_info=10.0)) == ()
    assert memory.judge(hog, memory.MemoryThresholds(process_bytes_info=2 * gib)) == ()


def test_live_local_run() -> None:
    result = LocalTransport().run(memory.PROBE.script, timeout=memory.PROBE.timeout)
    assert result.exit_status == 0, result.stderr
    data = memory.parse(result.stdout)
    names = {m.name for m in data.metrics}
    assert {"memory.total", "memory.available", "memory.swap_total", "memory.swap_in_rate"} <= names
    assert all(m.unit for m in data.metrics)
    assert metric(data, "memory.total") > 0
    assert data.facts["total"] and data.facts["available"]
    top = next(t for t in data.tables if t.name == "top_rss")
    assert 1 <= len(top.rows) <= memory.TOP_CONSUMERS
    assert not [n for n in data.notes if "not readable" in n or "not installed" in n]
