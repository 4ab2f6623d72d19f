"""processes probe: parser on real and hand-made captures, and a live run."""

from __future__ import annotations

from pathlib import Path

from diagkit.probes import processes
from diagkit.probes.base import Severity
from diagkit.transport.local import LocalTransport
from tests.probes.helpers import metric, table

DATA = Path(__file__).parent.parent / "data" / "probes" / "processes"


def load(name: str):
    return processes.parse((DATA / name).read_text())


def test_normal_capture_uses_ps() -> None:
    data = load("normal.txt")
    assert data.facts["source"] == "ps"
    assert data.facts["pid_max"] == "32768"
    assert metric(data, "processes.total") == 78
    assert metric(data, "processes.running") == 3
    assert metric(data, "processes.threads") == 94
    top = table(data, "top_cpu")
    assert len(top.rows) == processes.TOP_N
    first = top.rows[0]
    assert (first["pid"], first["user"], first["cpu_percent"], first["rss_kib"], first["state"]) == (
        8899, "root", 64.0, 68120, "R")
    assert first["command"].endswith("-m pytest tests/transport/test_zz_dbg.py")
    assert all(len(command) <= processes.COMMAND_WIDTH for command in top.column("command"))
    rss = list(table(data, "top_rss").column("rss_kib"))
    assert rss == sorted(rss, reverse=True)
    assert data.findings == ()


def test_busybox_capture_reads_proc() -> None:
    data = load("busybox.txt")
    assert data.facts["source"] == "proc"
    assert any("busybox" in n for n in data.notes)
    assert metric(data, "processes.total") > 50
    cmds = table(data, "top_cpu").column("command")
    assert "process_api" in cmds
    assert any(c.startswith("[") for c in cmds)  # kernel threads shown like ps does


def test_nonroot_capture_still_has_tables() -> None:
    data = load("nonroot.txt")
    assert metric(data, "processes.total") == 77
    assert "nobody" in table(data, "top_rss").column("user")


def test_real_zombies_warn_and_name_the_parent() -> None:
    data = load("zombies.txt")
    assert metric(data, "processes.zombie") == 12
    zombies = table(data, "zombies")
    assert len(zombies.rows) == 12 and zombies.rows[0]["parent"] == "sleep 20"
    (finding,) = [f for f in data.findings if "zombie" in f.title]
    assert finding.severity is Severity.WARNING  # 12 > ZOMBIE_WARNING
    assert "sleep 20 (pid 9275): 12" in finding.detail
    assert "parent" in finding.hint


def test_near_pid_max_with_dstate_and_few_zombies() -> None:
    data = load("near_pid_max.txt")
    by_title = {f.title: f for f in data.findings}
    zombie = by_title["3 zombie processes"]
    assert zombie.severity is Severity.INFO
    assert "/usr/bin/python3 -m pytest -n 16 tests/ (pid 30190): 3" in zombie.detail
    dstate = by_title["2 processes in uninterruptible sleep (D)"]
    assert dstate.severity is Severity.INFO and "rsync" in dstate.detail
    pid_max = by_title["Task count near kernel.pid_max"]
    assert pid_max.severity is Severity.WARNING and "29876" in pid_max.detail
    assert "Task count near kernel.threads-max" in by_title
    assert table(data, "top_cpu").rows[0] == (
        23817, "jenkins", 182.4, 2457812, "R",
        "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Xmx4g -jar /usr/share/jenkins/jenkins.w")


def test_planted_faults_user_limit_zombie_and_d_state() -> None:
    # Captured here: 3000 `sleep`s of user nobody started under prlimit --nproc=3500, a python3
    # holding 5000 files whose forked child exited unreaped, two `stat`s stuck in D state.
    data = load("faults_planted.txt")
    by_title = {f.title: f for f in data.findings}
    user = by_title["User nobody near its process limit"]
    assert user.severity is Severity.WARNING
    assert user.detail.startswith("nobody runs 3001 tasks (processes and threads) against a "
                                  "limit of 3500 (86 %; soft 'Max processes' of pid 16304). "
                                  "3000 of them are children of sh -c i=0;")
    assert "ps -u nobody -o ppid=" in user.hint and "LimitNPROC=" in user.hint
    users = table(data, "users")
    assert [(r["user"], r["tasks"], r["limit"]) for r in users.rows] == [
        ("nobody", 3001, 3500), ("root", 172, 96369), ("postgres", 13, 96369)]
    assert "/srv/app/fdhog.py (pid 16190): 1" in by_title["1 zombie process"].detail
    assert "stat /srv/app/stuck/x (pid 16700)" in by_title[
        "2 processes in uninterruptible sleep (D)"].detail
    # root is not held to RLIMIT_NPROC: its 180 tasks are no finding whatever the limit.
    root = processes.UserTasks("root", 180, 1, 100, None, 0, "")
    assert processes.judge(processes.ProcessesReading(users=(root,)), processes.THRESHOLDS) == ()


def test_reader_gives_typed_values_without_thresholds() -> None:
    r = processes.read((DATA / "near_pid_max.txt").read_text())
    assert r.source == "ps" and r.pid_max is not None and r.counts["zombie"] == 3
    assert r.top_cpu[0].pid == 23817 and r.top_cpu[0].cpu_percent == 182.4
    assert len(r.blocked) == 2 and any("rsync" in b.command for b in r.blocked)
    assert all(z.parent.startswith("/usr/bin/python3") for z in r.zombies)


def test_judge_works_on_data_with_the_thresholds_given() -> None:
    zombies = tuple(processes.Zombie(100 + n, 42, "worker", "supervisor") for n in range(4))
    reading = processes.ProcessesReading(counts={"zombie": 4, "threads": 900}, pid_max=1000,
                                         zombies=zombies)
    assert [(f.title, f.severity) for f in processes.judge(reading, processes.THRESHOLDS)] == [
        ("4 zombie processes", Severity.INFO), ("Task count near kernel.pid_max", Severity.WARNING)]
    assert "supervisor (pid 42): 4" in processes.judge(reading, processes.THRESHOLDS)[0].detail
    lenient = processes.ProcessesThresholds(zombie_warning=2, task_limit_ratio=0.95)
    assert [(f.title, f.severity) for f in processes.judge(reading, lenient)] == [
        ("4 zombie processes", Severity.WARNING)]


def test_live_run_locally() -> None:
    result = LocalTransport().run("sh -s", stdin=processes.SCRIPT, timeout=30)
    assert result.exit_status == 0 and result.stderr == ""
    data = processes.parse(result.stdout)
    assert data.facts["source"] in ("ps", "proc")
    assert metric(data, "processes.total") >= 1
    assert metric(data, "processes.threads") >= metric(data, "processes.total")
    assert 1 <= len(table(data, "top_cpu").rows) <= processes.TOP_N
    assert all(isinstance(r["pid"], int) and isinstance(r["cpu_percent"], float)
               for r in table(data, "top_rss").rows)


def test_a_terminal_width_in_the_environment_does_not_cut_commands() -> None:
    # procps ps cuts args to $COLUMNS; the pytest running this test has a longer command line.
    result = LocalTransport().run("COLUMNS=40 sh -s", stdin=processes.SCRIPT, timeout=30)
    data = processes.parse(result.stdout)
    commands = table(data, "top_rss").column("command") + table(data, "top_cpu").column("command")
    assert max(len(c) for c in commands) > 40
