"""Watching many hosts from one process. Run by hand (as root, openssh-server installed):

    python benchmarks/watch_bench.py [--hosts 50] [--interval 2] [--seconds 120]

Starts one real sshd per host on 127.0.0.2 .. and watches them all with the app's path
(Watcher -> Recorder: alerts + history in SQLite). Prints, all measured in this one run:

  * diagkit's own CPU use (user + system of this process, all threads) as % of one core
                                                                   (target: under 10 %)
  * the lag from a sample's time (middle of its remote run) to it having been recorded and
    handed to the display: median, p95, max
  * samples received vs expected, ticks skipped
  * reference: the same sampling done naively for --naive-seconds: one OpenSSH ``ssh`` process
    per host per sample (what a shell loop would do); its CPU (this process + children) as %
    of one core, and the ratio diagkit / naive
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diagkit.monitor.recorder import Outcome, Recorder
from diagkit.monitor.watch import WATCH_SCRIPT, Watcher
from diagkit.store.sqlite import SqliteSampleStore
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshServer, start_sshd


def cpu_seconds(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--naive-seconds", type=float, default=20.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="diagkit-watch-bench-"))
    os.environ["DIAGKIT_CONFIG_DIR"] = str(work / "config")
    os.environ["DIAGKIT_DATA_DIR"] = str(work / "data")
    os.environ["DIAGKIT_SSH_CONFIG"] = str(work / "no-ssh-config")
    os.environ.pop("SSH_AUTH_SOCK", None)
    servers: list[SshServer] = []
    try:
        print(f"starting {args.hosts} sshd's on 127.0.0.2..", flush=True)
        first = start_sshd(work / "sshd-2", "127.0.0.2")
        servers.append(first)
        for i in range(1, args.hosts):
            servers.append(start_sshd(work / f"sshd-{i + 2}", f"127.0.0.{i + 2}",
                                      client_key_path=first.client_key_path))
        (work / "config").mkdir(parents=True, exist_ok=True)
        (work / "config" / "known_hosts").write_text(
            "".join(s.known_hosts_line() + "\n" for s in servers))
        by_name = {s.address: s for s in servers}

        def connect(name: str) -> SshTransport:
            s = by_name[name]
            return SshTransport.connect(SshTarget(
                host=s.address, port=s.port, user="root", label=name,
                identity_files=(str(s.client_key_path),)))

        lags: list[float] = []
        lock = threading.Lock()

        def shown(o: Outcome) -> None:
            if o.event.kind == "sample":
                with lock:
                    lags.append(time.time() - o.event.time)

        samples = SqliteSampleStore(work / "data" / "history.db")
        recorder = Recorder(samples=samples, listener=shown)
        watcher = Watcher(list(by_name), interval=args.interval, on_event=recorder,
                          connect=connect)
        # Connecting 50 hosts is a one-off cost; measure the steady state after it.
        watcher.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = watcher.states().values()
            if all(s.last_sample is not None for s in states):
                break
            time.sleep(0.2)
        with lock:
            lags.clear()
        c0, w0 = cpu_seconds(), time.monotonic()
        time.sleep(args.seconds)
        c1, w1 = cpu_seconds(), time.monotonic()
        with lock:
            got = list(lags)
        states = watcher.states()
        watcher.stop()
        recorder.flush()
        samples.close()
        cpu = 100 * (c1 - c0) / (w1 - w0)
        expected = args.hosts * (w1 - w0) / args.interval
        down = [h for h, s in states.items() if s.status == "down"]

        # Naive reference: a fresh `ssh` per host per sample, same script, same interval.
        known = work / "known_hosts"
        known.write_text((work / "config" / "known_hosts").read_text())

        def naive_one(s: SshServer) -> None:
            subprocess.run(
                ["ssh", "-i", str(s.client_key_path), "-p", str(s.port), "-o", "BatchMode=yes",
                 "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes",
                 "-F", "/dev/null", f"root@{s.address}", "sh -s"],
                input=WATCH_SCRIPT, capture_output=True, text=True, timeout=30, check=False)

        nc0, nk0, nw0 = cpu_seconds(), cpu_seconds(children=True), time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            tick = time.monotonic()
            while time.monotonic() - nw0 < args.naive_seconds:
                list(pool.map(naive_one, servers))
                tick += args.interval
                time.sleep(max(0.0, tick - time.monotonic()))
        nc1, nk1, nw1 = cpu_seconds(), cpu_seconds(children=True), time.monotonic()
        naive_cpu = 100 * ((nc1 - nc0) + (nk1 - nk0)) / (nw1 - nw0)

        print(f"\n{args.hosts} hosts, every {args.interval:g} s, measured over "
              f"{w1 - w0:.0f} s (after all hosts connected)")
        print(f"  diagkit CPU            {cpu:6.1f} % of one core   (target < 10 %: "
              f"{'met' if cpu < 10 else 'NOT met'})")
        if got:
            print(f"  lag sample -> shown    median {statistics.median(got) * 1000:.0f} ms, "
                  f"p95 {pct(got, 0.95) * 1000:.0f} ms, max {max(got) * 1000:.0f} ms")
        print(f"  samples                {len(got)} of ~{expected:.0f} expected; skipped ticks "
              f"{sum(s.skipped for s in states.values())}; down: {down or 'none'}")
        print(f"  naive (ssh per sample) {naive_cpu:6.1f} % of one core over "
              f"{nw1 - nw0:.0f} s   ratio diagkit/naive = {cpu / naive_cpu:.2f}")
        return 0
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    raise SystemExit(main())
