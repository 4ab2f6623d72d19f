"""Generated syslog (RFC 3339 headers) of a small fleet: weeks of ordinary traffic with
incidents injected at known times. Used by tests/logs/test_incidents.py; seeded, so the
same arguments write the same file.

Ordinary traffic: web requests with a day/night swing, logins and failed logins (2 an hour),
hourly cron clumps on every host, PostgreSQL checkpoints and connections, now and then a slow
request warning, an upstream timeout error, a disk usage warning, a daily logrotate.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

START = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
DAY = 86400.0
WEB = ["web1", "web2", "web3"]
DB = ["db1", "db2"]
HOSTS = WEB + DB
USERS = ["admin", "test", "oracle", "ubuntu", "guest", "pi", "user", "ftp"]

Line = tuple[float, str, str, str]  # time, host, program[pid], message


@dataclass(frozen=True)
class Injected:
    name: str
    start: float  # epoch seconds of the first record of the incident proper
    hosts: tuple[str, ...]


def _poisson(rnd: random.Random, per_hour: float, t0: float, t1: float,
             swing: bool = False) -> list[float]:
    out = []
    t = t0
    peak = per_hour * (1.8 if swing else 1.0) / 3600.0
    while True:
        t += rnd.expovariate(peak)
        if t >= t1:
            return out
        if swing:  # thinning: busy afternoons, quiet nights
            hour = (t % DAY) / 3600.0
            if rnd.random() > (1.0 - 0.8 * math.cos((hour - 3) / 24 * 2 * math.pi)) / 1.8:
                continue
        out.append(t)


def ordinary(rnd: random.Random, t0: float, t1: float) -> list[Line]:
    lines: list[Line] = []
    add = lines.append
    for h in WEB:
        for t in _poisson(rnd, 500, t0, t1, swing=True):
            add((t, h, f"nginx[{rnd.randint(900, 999)}]",
                 (f'10.0.1.{rnd.randint(2, 250)} "GET /api/v1/items/{rnd.randint(1, 99999)} '
                 f'HTTP/1.1" 200 {rnd.randint(200, 9000)}')))
        for t in _poisson(rnd, 3, t0, t1):
            add((t, h, f"app[{rnd.randint(2000, 2100)}]",
                 f"warning: slow request /api/v1/items took {rnd.randint(900, 5000)} ms"))
        for t in _poisson(rnd, 0.7, t0, t1):
            add((t, h, f"app[{rnd.randint(2000, 2100)}]",
                 ("error: upstream timed out (110: Connection timed out) while reading "
                 f"response header from upstream, client: 10.0.1.{rnd.randint(2, 250)}")))
    for h in HOSTS:
        for t in _poisson(rnd, 4, t0, t1):
            pid = rnd.randint(3000, 60000)
            add((t, h, f"sshd[{pid}]", (f"Accepted publickey for deploy from 10.0.0."
                 f"{rnd.randint(2, 50)} port {rnd.randint(30000, 65000)} ssh2: ED25519 "
                 "SHA256:3nJ0lF4oY8x")))
            add((t + 0.05, h, "systemd[1]", (f"Started Session {rnd.randint(1, 9999)} of user "
                 "deploy.")))
        for t in _poisson(rnd, 0.4, t0, t1):
            add((t, h, f"sshd[{rnd.randint(3000, 60000)}]",
                 (f"Failed password for root from 198.51.100.{rnd.randint(2, 250)} port "
                 f"{rnd.randint(30000, 65000)} ssh2")))
        for t in _poisson(rnd, 0.05, t0, t1):
            add((t, h, "app[2001]", f"warning: disk usage {rnd.randint(70, 80)}% on /var"))
        hour = math.ceil(t0 / 3600) * 3600
        while hour < t1:  # hourly cron: three lines at :17, every host
            at = hour + 17 * 60 + rnd.random()
            pid = rnd.randint(10000, 30000)
            add((at, h, f"CRON[{pid}]", ("pam_unix(cron:session): session opened for user root "
                 "by (uid=0)")))
            add((at + 0.01, h, f"CRON[{pid + 1}]", ("(root) CMD (cd / && run-parts --report "
                 "/etc/cron.hourly)")))
            add((at + 0.4, h, f"CRON[{pid}]", ("pam_unix(cron:session): session closed for "
                 "user root")))
            if int(hour % DAY) == 0:
                add((at + 1, h, "logrotate[77]", ("rotating log /var/log/syslog, log->rotateCount"
                     " is 7")))
            hour += 3600
    for h in DB:
        for t in _poisson(rnd, 60, t0, t1, swing=True):
            add((t, h, f"postgres[{rnd.randint(4000, 9000)}]",
                 (f"LOG:  connection received: host=10.0.1.{rnd.randint(2, 250)} "
                 f"port={rnd.randint(30000, 65000)}")))
        tick = t0 + rnd.random() * 300
        while tick < t1:
            add((tick, h, "postgres[812]", (f"LOG:  checkpoint complete: wrote "
                 f"{rnd.randint(10, 900)} buffers ({rnd.random():.1f}%); 0 WAL file(s) added")))
            tick += 300
    return lines


def brute_force(rnd: random.Random, at: float) -> tuple[list[Line], Injected]:
    """412 failed root passwords from one address on web1 in 6 minutes."""
    lines = []
    t = at
    for _ in range(412):
        lines.append((t, "web1", f"sshd[{rnd.randint(3000, 60000)}]",
                      (f"Failed password for root from 203.0.113.45 port "
                      f"{rnd.randint(30000, 65000)} ssh2")))
        t += rnd.uniform(0.2, 1.5)
    return lines, Injected("brute force", at, ("web1",))


def database_outage(rnd: random.Random, at: float) -> tuple[list[Line], Injected]:
    """db1 warns, then shuts down; the app on the three web hosts cannot connect for 15 min."""
    lines: list[Line] = [
        (at - 420, "db1", "postgres[812]", "WARNING:  out of shared memory"),
        (at - 300, "db1", "postgres[812]", "WARNING:  out of shared memory"),
        (at - 60, "db1", "postgres[812]", "FATAL:  the database system is shutting down"),
        (at - 2, "db1", "postgres[812]", "LOG:  database system is shut down"),
    ]
    for h in WEB:
        t = at + rnd.random() * 10
        while t < at + 900:
            lines.append((t, h, f"app[{rnd.randint(2000, 2100)}]",
                          ("error: could not connect to server: Connection refused; is the "
                          "server running on host \"db1\" (10.0.0.5) and accepting TCP/IP "
                          "connections on port 5432?")))
            t += rnd.uniform(1, 4)
    return lines, Injected("database outage", at - 60, tuple(WEB))


def disk_full(rnd: random.Random, at: float) -> tuple[list[Line], Injected]:
    """web2's /var fills from 85 % over 40 minutes, then writes fail for 20 minutes."""
    lines: list[Line] = []
    for k in range(20):
        lines.append((at - 2400 + k * 120, "web2", "app[2001]",
                      f"warning: disk usage {85 + k * 12 // 20}% on /var"))
    t = at
    while t < at + 1200:
        n = rnd.randint(1000, 9999)
        lines.append((t, "web2", f"app[{rnd.randint(2000, 2100)}]",
                      (f"error: write failed: No space left on device "
                      f"(/var/lib/app/cache/{n}.tmp)")))
        if rnd.random() < 0.3:
            lines.append((t + 0.01, "web2", f"app[{rnd.randint(2000, 2100)}]",
                          "CRITICAL: OSError: [Errno 28] No space left on device"))
        t += rnd.uniform(0.5, 3)
    return lines, Injected("disk full", at, ("web2",))


def write(lines: list[Line], path: Path) -> None:
    lines.sort(key=lambda x: x[0])
    with open(path, "w", encoding="utf-8") as out:
        for t, host, prog, msg in lines:
            stamp = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
            out.write(f"{stamp} {host} {prog}: {msg}\n")


def fleet_log(path: Path, *, days: int = 16, seed: int = 16,
              incidents: bool = True) -> list[Injected]:
    """Write ``days`` of the fleet's syslog to ``path``; return the injected incidents."""
    rnd = random.Random(seed)
    lines = ordinary(rnd, START, START + days * DAY)
    injected = []
    if incidents:
        for make, day, hour in ((brute_force, 3, 10.22), (database_outage, 8, 2.67),
                                (disk_full, 12, 7.97)):
            extra, inc = make(rnd, START + day * DAY + hour * 3600)
            lines += extra
            injected.append(inc)
    write(lines, path)
    return injected
