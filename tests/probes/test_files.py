"""files probe: parser on captures of a planted descriptor hog, and the script run live."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from diagkit.probes import files
from diagkit.probes.base import ProbeData, Severity
from diagkit.transport.local import LocalTransport
from tests.probes.helpers import metric, table

DATA = Path(__file__).parent.parent / "data" / "probes" / "files"


def load(name: str) -> ProbeData:
    return files.parse((DATA / name).read_text())


def test_planted_descriptor_hog_is_named_against_its_own_limit() -> None:
    # Captured here: `ulimit -n 5500; exec python3 fdhog.py` holding 5000 open /dev/null (and its
    # std streams), while a test PostgreSQL of another helper had 990 files open under 1024.
    data = load("faults_planted.txt")
    by_pid = {r["pid"]: r for r in table(data, "top_fds").rows}
    hog = by_pid[16190]
    assert (hog["open_files"], hog["soft_limit"], hog["hard_limit"], hog["used_pct"]) == (
        5005, 5500, 5500, 91.0)
    assert hog["command"] == "/root/.pyenv/versions/3.11.7/bin/python3 /srv/app/fdhog.py"
    assert list(table(data, "top_fds").column("open_files"))[:2] == [5005, 990]
    titles = [(f.title, f.severity) for f in data.findings]
    assert titles == [("python3 (pid 16190) near its open-files limit", Severity.WARNING),
                      ("postgres (pid 19756) near its open-files limit", Severity.CRITICAL)]
    hog_finding, pg_finding = data.findings
    assert "holds 5005 open files against its soft limit of 5500 (91 %)" in hog_finding.detail
    assert "ls -l /proc/16190/fd" in hog_finding.hint
    assert "already equals the hard limit" in hog_finding.hint  # 5500/5500: raise both
    assert "toward the hard limit (20000)" in pg_finding.hint
    # The system-wide count is far from fs.file-max: the old check would have said nothing.
    assert metric(data, "files.allocated") == 58940 and data.facts["file_max"] == "2466290"
    assert files.summarize(data) == ("58940 of 2466290 handles system-wide; most: pid 16190 "
                                      "with 5005 of 5500")


def test_busybox_capture_reads_the_same() -> None:
    data = load("busybox.txt")  # the script under busybox sh and awk, same faults planted
    assert data.findings[0].title == "python3 (pid 16190) near its open-files limit"


def test_nonroot_capture_says_what_it_could_not_count() -> None:
    data = load("faults_planted_nonroot.txt")
    assert table(data, "top_fds").rows == () and data.findings == ()
    (note,) = data.notes
    assert note.startswith("the open files of pid 1 16190 ") and "not readable" in note
    assert metric(data, "files.file_max") == 2466290


def test_normal_capture_has_no_finding() -> None:
    data = load("normal.txt")
    assert data.findings == () and table(data, "top_fds").rows[0]["pid"] == 1


def test_judge_works_on_data_with_the_thresholds_given() -> None:
    near = files.ProcessFiles(42, 850, 1000, 4096, "www", "/usr/sbin/nginx -g daemon off;")
    reading = files.FilesReading(allocated=900, file_max=1000, processes=(near,))
    assert [(f.title, f.severity) for f in files.judge(reading, files.THRESHOLDS)] == [
        ("nginx (pid 42) near its open-files limit", Severity.WARNING),
        ("File handles nearly exhausted system-wide", Severity.WARNING)]
    lenient = files.FilesThresholds(process_warning=90.0, system_warning=95.0)
    assert files.judge(reading, lenient) == ()
    unlimited = files.ProcessFiles(43, 10**6, None, None, "root", "x")
    assert files.judge(files.FilesReading(processes=(unlimited,)), files.THRESHOLDS) == ()


def test_live_run_counts_a_child_holding_files_near_its_limit() -> None:
    # A real process at 90 % of its own soft limit: the script must find and count it.
    soft = 200
    code = ("import resource, time\n"
            f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {soft}))\n"
            "files = [open('/dev/null') for _ in range(177)]\n"
            "print('ready', flush=True)\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        result = LocalTransport().run(files.PROBE.script, timeout=files.PROBE.timeout)
        assert result.exit_status == 0 and result.stderr == ""
        data = files.parse(result.stdout)
        row = next(r for r in table(data, "top_fds").rows if r["pid"] == child.pid)
        assert row["soft_limit"] == soft and row["open_files"] == 180  # 177 + stdin/out/err
        assert any(f.title.endswith(f"(pid {child.pid}) near its open-files limit")
                   for f in data.findings)
        assert metric(data, "files.file_max") > 0
    finally:
        child.kill()
        child.wait()
