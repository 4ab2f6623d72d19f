"""Probe snapshot speed over a real loopback sshd. Run by hand (as root, openssh-server installed):

    python benchmarks/probe_bench.py [--rounds 7] [--hosts 10]

Prints, all measured in this one run:
  * median wall time of a full snapshot of one host (fresh connection + all built-in probes),
    and on an already open connection                                   (target: under 1 s)
  * the same snapshot done naively: one OpenSSH ``ssh`` process per probe, one after another,
    as a shell script would do it                          (reference; ratio diagkit / naive)
  * N hosts (one sshd each on 127.0.0.2 ..) in parallel vs one host     (target: under 2x)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diagkit.probes.registry import builtin_probes
from diagkit.probes.runner import run_many, snapshot
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshServer, start_sshd


def median_time(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def target_for(server: SshServer) -> SshTarget:
    return SshTarget(host=server.address, port=server.port, user="root",
                     identity_files=(str(server.client_key_path),), label=server.address)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--hosts", type=int, default=10)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="diagkit-bench-"))
    os.environ["DIAGKIT_CONFIG_DIR"] = str(work / "config")
    os.environ["DIAGKIT_DATA_DIR"] = str(work / "data")
    os.environ["DIAGKIT_SSH_CONFIG"] = str(work / "no-ssh-config")
    os.environ.pop("SSH_AUTH_SOCK", None)
    probes = builtin_probes()
    servers: list[SshServer] = []
    try:
        one = start_sshd(work / "sshd-1", "127.0.0.1")
        servers.append(one)
        for i in range(args.hosts):
            servers.append(start_sshd(work / f"sshd-{i + 2}", f"127.0.0.{i + 2}",
                                      client_key_path=one.client_key_path))
        known = work / "known_hosts"
        known.write_text("".join(s.known_hosts_line() + "\n" for s in servers))
        os.makedirs(work / "config", exist_ok=True)
        (work / "config" / "known_hosts").write_text(known.read_text())

        def fresh_snapshot(server: SshServer = one) -> None:
            with SshTransport.connect(target_for(server)) as transport:
                snap = snapshot(transport, probes)
            bad = [r.probe for r in snap.results if not r.ok]
            if bad:
                raise SystemExit(f"probes failed during the benchmark: {bad}")

        fresh_snapshot()  # warm caches (page cache, sshd's first fork)
        t_fresh = median_time(fresh_snapshot, args.rounds)
        with SshTransport.connect(target_for(one)) as transport:
            t_open = median_time(lambda: snapshot(transport, probes), args.rounds)

        ssh_base = ["ssh", "-q", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={known}",
                    "-o", "StrictHostKeyChecking=yes", "-F", "/dev/null",
                    "-i", str(one.client_key_path), "-p", str(one.port), f"root@{one.address}"]

        def naive() -> None:
            for probe in probes:
                subprocess.run([*ssh_base, "sh -s"], input=probe.script.encode(),
                               capture_output=True, check=False, timeout=60)

        t_naive = median_time(naive, max(3, args.rounds // 2))

        many = servers[1:]
        t_single = median_time(lambda: run_many([many[0]], probes, lambda s: SshTransport.connect(target_for(s))),
                               args.rounds)
        t_many = median_time(lambda: run_many(many, probes, lambda s: SshTransport.connect(target_for(s))),
                             max(3, args.rounds // 2))
    finally:
        for server in servers:
            server.stop()

    print(f"probes per snapshot: {len(probes)} ({', '.join(p.name for p in probes)})")
    print(f"one host, fresh connection + snapshot, median: {t_fresh:.3f} s   (target < 1 s: "
          f"{'OK' if t_fresh < 1 else 'MISSED'})")
    print(f"one host, snapshot on an open connection, median: {t_open:.3f} s")
    print(f"naive (one ssh process per probe, sequential), median: {t_naive:.3f} s   "
          f"ratio diagkit/naive = {t_fresh / t_naive:.2f}")
    print(f"{len(many)} hosts in parallel: {t_many:.3f} s vs one host {t_single:.3f} s   "
          f"ratio = {t_many / t_single:.2f}x   (target < 2x: {'OK' if t_many / t_single < 2 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
