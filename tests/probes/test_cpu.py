"""cpu probe: parser on real and hand-made captures, and the script run live."""

from __future__ import annotations

import os
import pwd
import subprocess
import time
from pathlib import Path

from diagkit.probes import cpu
from diagkit.probes.base import ProbeData, Severity
from diagkit.transport.local import LocalTransport
from tests.probes.helpers import by_title, metric, table

DATA = Path(__file__).parent.parent / "data" / "probes" / "cpu"


def load(name: str) -> ProbeData:
    return cpu.parse((DATA / name).read_text())


def test_normal_capture_idle_two_cores() -> None:
    data = load("normal.txt")
    assert data.facts["model"] == "Intel(R) Xeon(R) Processor"
    assert data.facts["cores"] == "2"
    assert data.facts["sample_seconds"] == "0.50"
    # Between the samples: 1 user jiffy, 99 idle -> 1 % busy.
    assert metric(data, "cpu.usage", cpu="total") == 1.0
    assert metric(data, "cpu.idle", cpu="total") == 99.0
    assert metric(data, "cpu.load", period="5m") == 0.06
    assert metric(data, "cpu.load_per_core", period="5m") == 0.03
    assert metric(data, "cpu.context_switches") == 138.0  # (264848-264779)/0.5
    assert metric(data, "cpu.procs_running") == 1
    per_core = next(t for t in data.tables if t.name == "per_core")
    assert list(per_core.column("cpu")) == ["0", "1"]
    assert data.findings == () and data.notes == ()


def test_busybox_and_nonroot_captures_parse_the_same_way() -> None:
    for name in ("busybox.txt", "nonroot.txt"):
        data = load(name)
        assert data.facts["cores"] == "2", name
        assert metric(data, "cpu.load", period="1m") == 0.06
        assert 0 <= metric(data, "cpu.usage", cpu="total") <= 100
        assert {m.labels.get("cpu") for m in data.metrics if m.name == "cpu.usage"} == {
            "total",
            "0",
            "1",
        }


def test_overloaded_vm_fires_load_steal_and_usage() -> None:
    data = load("overloaded_vm.txt")
    assert metric(data, "cpu.steal", cpu="total") == 11.0
    assert metric(data, "cpu.usage", cpu="total") == 94.0
    assert metric(data, "cpu.load_per_core", period="5m") == 2.38
    assert metric(data, "cpu.context_switches") == 50000.0
    assert by_title(data) == {
        "High load average": Severity.CRITICAL,  # 9.5 on 4 cores
        "CPU steal time": Severity.WARNING,
        "CPU nearly saturated": Severity.WARNING,
    }
    load_finding = next(f for f in data.findings if f.title == "High load average")
    assert "9.5 on 4 cores" in load_finding.detail and load_finding.hint


def test_io_bound_host_fires_iowait_and_load_warning() -> None:
    data = load("io_bound.txt")
    assert metric(data, "cpu.iowait", cpu="total") == 40.0
    assert metric(data, "cpu.usage", cpu="total") == 32.0
    assert metric(data, "cpu.procs_blocked") == 5
    assert by_title(data) == {"High I/O wait": Severity.WARNING, "High load average": Severity.WARNING}


def test_planted_cpu_loop_and_d_state_are_named() -> None:
    # Captured here with a `sh -c 'while :; do :; done'` loop, two `stat` calls stuck in D state
    # on a FUSE mount that never answers, and the other helpers' work on the same 2 cores.
    data = load("faults_planted.txt")
    assert by_title(data) == {"High load average": Severity.CRITICAL,
                              "CPU nearly saturated": Severity.WARNING}
    top = table(data, "top_cpu")
    loop = next(r for r in top.rows if r["command"] == "sh -c while :; do :; done")
    # 24 ticks at 100 Hz over a 0.53 s sample: 45 % of one CPU (the loop shares 2 cores).
    assert (loop["pid"], loop["user"], loop["cpu_percent"], loop["state"]) == (
        16188, "root", 45.3, "R")
    assert list(top.column("cpu_percent")) == sorted(top.column("cpu_percent"), reverse=True)
    assert [(r["pid"], r["command"]) for r in table(data, "blocked").rows] == [
        (16700, "stat /srv/app/stuck/x"), (16701, "stat /srv/app/stuck/y")]
    saturated = next(f for f in data.findings if f.title == "CPU nearly saturated")
    assert "sh -c while :; do :; done (pid 16188, root) 45 %" in saturated.detail
    assert saturated.hint.startswith("Start with pid 22452 ")
    load_finding = next(f for f in data.findings if f.title == "High load average")
    assert "pid 16188" in load_finding.detail
    assert "In D state (waiting uninterruptibly, counted in the load): stat /srv/app/stuck/x " \
        "(pid 16700, root); stat /srv/app/stuck/y (pid 16701, root)." in load_finding.detail
    assert "/proc/PID/stack" in load_finding.hint


def test_captures_without_a_process_sample_have_no_process_tables() -> None:
    data = load("overloaded_vm.txt")  # taken before the probe sampled processes
    assert {t.name for t in data.tables} == {"per_core"}
    saturated = next(f for f in data.findings if f.title == "CPU nearly saturated")
    assert "Busiest" not in saturated.detail and saturated.hint.startswith("Find the processes")


def test_restricted_proc_degrades_to_load_only() -> None:
    data = load("restricted_proc.txt")
    assert data.facts["cores"] == "1"
    assert metric(data, "cpu.load", period="15m") == 0.3
    assert not [m for m in data.metrics if m.name == "cpu.usage"]
    assert data.notes == ("/proc/stat is not readable: no CPU usage",)


def test_reader_gives_typed_values_without_thresholds() -> None:
    r = cpu.read((DATA / "overloaded_vm.txt").read_text())
    assert (r.cores, r.load5, r.sample_seconds) == (4, 9.5, 0.5)
    assert r.total is not None and (r.total.usage, r.total.steal) == (94.0, 11.0)
    assert [name for name, _ in r.per_core] == ["0", "1", "2", "3"]
    assert r.context_switches == 50000.0 and r.load_per_core == 2.375
    assert cpu.read((DATA / "restricted_proc.txt").read_text()).total is None


def busy(**times: float) -> cpu.CpuTimes:
    base = {"user": 0.0, "nice": 0.0, "system": 0.0, "idle": 100.0, "iowait": 0.0, "irq": 0.0,
            "softirq": 0.0, "steal": 0.0, "usage": 0.0}
    return cpu.CpuTimes(**{**base, **times})


def test_judge_works_on_data_with_the_thresholds_given() -> None:
    reading = cpu.CpuReading(cores=8, load5=12.0, total=busy(iowait=25.0, usage=40.0))
    titles = {f.title: f.severity for f in cpu.judge(reading, cpu.THRESHOLDS)}
    assert titles == {"High load average": Severity.WARNING, "High I/O wait": Severity.WARNING}
    strict = cpu.CpuThresholds(load_per_core_critical=1.2, iowait_warning=30.0)
    assert {f.title: f.severity for f in cpu.judge(reading, strict)} == {
        "High load average": Severity.CRITICAL}
    # No sample (unreadable /proc/stat): only the load is judged.
    assert [f.title for f in cpu.judge(cpu.CpuReading(cores=1, load5=3.0), cpu.THRESHOLDS)] == [
        "High load average"]
    assert cpu.judge(cpu.CpuReading(), cpu.THRESHOLDS) == ()


def test_live_local_run_is_complete() -> None:
    result = LocalTransport().run(cpu.PROBE.script, timeout=cpu.PROBE.timeout)
    assert result.exit_status == 0, result.stderr
    data = cpu.parse(result.stdout)
    assert int(data.facts["cores"]) >= 1 and data.facts["model"]
    names = {m.name for m in data.metrics}
    assert {"cpu.usage", "cpu.iowait", "cpu.steal", "cpu.load", "cpu.context_switches"} <= names
    assert all(m.unit for m in data.metrics)
    assert data.notes == ()
    assert len(table(data, "top_cpu").rows) <= cpu.TOP_PROCESSES


def test_live_run_names_a_busy_loop() -> None:
    # Every process with ticks is listed, so a loop sharing a busy machine is never crowded out.
    limit = f"-v N={cpu.TOP_PROCESSES} "
    assert limit in cpu.SCRIPT
    script = cpu.SCRIPT.replace(limit, "-v N=100000 ")
    loop = subprocess.Popen(["sh", "-c", "while :; do :; done"])
    try:
        time.sleep(0.2)
        result = LocalTransport().run(script, timeout=cpu.PROBE.timeout)
    finally:
        loop.kill()
        loop.wait()
    assert result.exit_status == 0 and result.stderr == ""
    rows = {r["pid"]: r for r in table(cpu.parse(result.stdout), "top_cpu").rows}
    assert loop.pid in rows, rows
    assert rows[loop.pid]["command"] == "sh -c while :; do :; done"
    assert rows[loop.pid]["user"] == pwd.getpwuid(os.getuid()).pw_name
    assert rows[loop.pid]["cpu_percent"] > 0
    # The script's own cat and awk, started during the sample, are never among the busiest.
    assert not {"cat (exited)", "awk (exited)"} & {r["command"] for r in rows.values()}
