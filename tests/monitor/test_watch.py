"""Watching several real loopback sshd hosts: a host killed mid-watch is marked down, the
others go on sampling, and it comes back when its server returns."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from diagkit.monitor.watch import WATCH_SCRIPT, Watcher, WatchEvent, parse_extra
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshServer, free_port


def wait_for(cond: Callable[[], bool], timeout: float = 40.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


class Recorder:
    def __init__(self) -> None:
        self.events: list[WatchEvent] = []
        self.lock = threading.Lock()

    def __call__(self, event: WatchEvent) -> None:
        with self.lock:
            self.events.append(event)

    def samples(self, host: str) -> int:
        with self.lock:
            return sum(1 for e in self.events if e.host == host and e.kind == "sample")

    def kinds(self, host: str) -> list[str]:
        with self.lock:
            return [e.kind for e in self.events if e.host == host and e.kind != "sample"]


def test_watch_script_reads_disks_inodes_and_processes_locally():
    out = LocalTransport().run("sh -s", stdin=WATCH_SCRIPT, timeout=20).stdout
    values = parse_extra(out)
    assert values["disk.used:/"] >= 0 and values["procs.count"] > 1
    assert any(k.startswith("inodes.used:") for k in values) or "overlay" in out


def test_parse_extra_skips_pseudo_filesystems_and_inodeless_ones():
    out = ("@@section loadavg\n0.5 0.4 0.3 3/412 999\n@@section mounts\n"
           "/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n/dev/sdb1 /data vfat rw 0 0\n"
           "@@section df\n"
           "Filesystem 1024-blocks Used Available Capacity Mounted on\n"
           "/dev/sda1 1000 970 30 97% /\nproc 100 1 99 1% /proc\n"
           "@@section dfi\nFilesystem Inodes IUsed IFree IUse% Mounted on\n"
           "/dev/sda1 100 10 90 10% /\n/dev/sdb1 - - - - /data\n"
           "@@section procs\ncount 215\n")
    assert parse_extra(out) == {"disk.used:/": 97.0, "inodes.used:/": 10.0,
                                "procs.count": 215.0, "procs.running": 3.0}


def test_watch_samples_exactly_the_mounts_the_disk_probe_reports(tmp_path):
    """A real tmpfs planted at an application path: watched if and only if the disk probe
    reports it (one filter, the probe's)."""
    import subprocess

    from diagkit.probes.registry import all_probes, select
    from diagkit.probes.runner import run_probe

    app = tmp_path / "app-spool"
    app.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(app)], check=True)
    try:
        (app / "fill").write_bytes(b"x" * 900_000)
        transport = LocalTransport()
        out = transport.run("sh -s", stdin=WATCH_SCRIPT, timeout=20).stdout
        watched = {k.split(":", 1)[1] for k in parse_extra(out) if k.startswith("disk.used:")}
        result = run_probe(transport, select(all_probes()[0], ["disk"])[0])
        table = next(t for t in result.data.tables if t.name == "filesystems")
        assert watched == {row["mount"] for row in table.rows}
        assert "/" in watched and "/proc" not in watched and "/sys/fs/cgroup" not in watched
    finally:
        subprocess.run(["umount", str(app)], check=True)


def test_hosts_drop_and_recover_without_holding_up_the_others(
        sshd: SshServer, sshd_factory: Callable[..., SshServer]) -> None:
    servers = {s.address: s for s in (sshd_factory(f"127.0.0.{n}",
                                                   client_key_path=sshd.client_key_path)
                                      for n in (6, 7, 8))}
    dead_port = free_port("127.0.0.9")

    def connect(name: str):
        if name == "never":
            target = SshTarget(host="127.0.0.9", port=dead_port, user="root", label=name)
        else:
            s = servers[name]
            target = SshTarget(host=s.address, port=s.port, user="root", label=name,
                               identity_files=(str(s.client_key_path),))
        # Test servers with fresh keys: trusting them is the test's decision, not the code's.
        return SshTransport.connect(target, accept_new_host_key=True, connect_timeout=5)

    rec = Recorder()
    hosts = [*servers, "never"]
    watcher = Watcher(hosts, interval=0.5, on_event=rec, connect=connect,
                      backoff=(0.5, 1.0))
    with watcher:
        wait_for(lambda: all(rec.samples(h) >= 3 for h in servers))
        assert watcher.states()["never"].status == "down"
        assert "refused" in (watcher.states()["never"].error or "").lower()

        victim = servers["127.0.0.7"]
        victim.stop()
        victim.kill_sessions()
        wait_for(lambda: watcher.states()["127.0.0.7"].status == "down")
        # While it is down, the other two keep sampling.
        before = {h: rec.samples(h) for h in ("127.0.0.6", "127.0.0.8")}
        wait_for(lambda: all(rec.samples(h) >= before[h] + 3 for h in before))
        assert watcher.states()["127.0.0.7"].failures >= 1

        victim.start()
        wait_for(lambda: watcher.states()["127.0.0.7"].status == "up")
        n = rec.samples("127.0.0.7")
        wait_for(lambda: rec.samples("127.0.0.7") >= n + 2)

    assert rec.kinds("127.0.0.7") == ["up", "down", "up"]
    assert rec.kinds("never") == ["down"]  # one event, not one per retry
    sample = next(e for e in rec.events if e.host == "127.0.0.6" and e.kind == "sample"
                  and "cpu.usage" in e.values)
    assert 0 <= sample.values["cpu.usage"] <= 100 and "disk.used:/" in sample.values
    assert all(s.status == "stopped" for s in watcher.states().values())


def test_a_stuck_host_is_skipped_not_queued():
    release = threading.Event()

    class Slow(LocalTransport):
        def run(self, *args, **kwargs):  # a real local run, after the host "hangs"
            release.wait(10)
            return super().run(*args, **kwargs)

    rec = Recorder()
    watcher = Watcher(["slow", "fast"], interval=0.2, on_event=rec,
                      connect=lambda name: Slow() if name == "slow" else LocalTransport())
    with watcher:
        wait_for(lambda: rec.samples("fast") >= 5)
        assert rec.samples("slow") == 0
        release.set()
        wait_for(lambda: rec.samples("slow") >= 1)
        # The ticks it hung through were dropped, not run back to back afterwards.
        assert watcher.states()["slow"].skipped >= 3


def test_retry_now_skips_the_backoff_wait() -> None:
    """Fleet's "Reconnect now": a down host is tried again at once, not after its backoff."""
    attempts: list[float] = []
    up = threading.Event()

    def connect(name: str) -> LocalTransport:
        attempts.append(time.monotonic())
        if not up.is_set():
            from diagkit.errors import ConnectionRefused

            raise ConnectionRefused(f"Connection to {name} refused.", host=name)
        return LocalTransport()

    with Watcher(["flaky"], interval=0.5, connect=connect, backoff=(60.0,)) as watcher:
        wait_for(lambda: watcher.states()["flaky"].status == "down", 10)
        assert len(attempts) == 1
        up.set()
        watcher.retry_now(["flaky", "not-watched"])
        wait_for(lambda: watcher.states()["flaky"].status == "up", 10)
    assert len(attempts) == 2 and attempts[1] - attempts[0] < 30
