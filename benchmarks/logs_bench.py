"""Log engine speed and memory on big generated files. Run by hand:

    python benchmarks/logs_bench.py [--size-mb 1024] [--only stats|index]

Part 1, ``diagkit logs stats FILE --json`` against lnav counting levels
(``lnav -n -c ';SELECT log_level, count(*) FROM all_logs GROUP BY 1' FILE``) on the same file in
the same run, for two generated files of --size-mb each:
  * rsyslog-style RFC 3339 + level word: ``2024-03-01T00:00:00.135248Z host prog[pid]: LEVEL msg``
  * JSON lines ``{"time": "...", "level": "...", "host": ..., "pid": ..., "msg": ...}`` (lnav gets
    a format definition for these keys through ``-I``, so it parses them too)
  prints wall time of each (targets: diagkit at least 3x faster than lnav), diagkit's peak RSS
  (target < 25 % of the file; measured with wait4() on the child), and whether diagkit's level
  counts equal the per-record reference path (every record parsed in Python:
  ``LogFile._compute_arrays(fast=False)``; --reference-mb limits that check to a prefix).

Part 2, on a classic syslog file:
Files are generated (seeded) under benchmarks/data/ (git-ignored, never committed; reused when
the size matches). Part 2 prints, all measured in this one run:
  * time until the first records are usable with a background open       (target: < 0.5 s)
  * full index time and peak RSS of a process that only opens and indexes the file
                                                     (targets: faster than lnav; RSS < 25 % of file)
  * literal, case-insensitive and regex search over the whole file (record count) next to
    ``grep -c`` / ``grep -ci`` / ``grep -cE`` of the same pattern   (target: within 3x of grep)
  * lnav (when installed) indexing the file headless with the same filter, for reference
  * levels()/timestamps() arrays over every record (header parse), for reference
Each measurement runs in a fresh child process, so the page cache is warm for all tools alike.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROGS = ["sshd", "cron", "kernel", "systemd", "nginx", "postfix/smtpd", "dbus-daemon", "app"]
MSGS = [
    "Accepted publickey for {user} from 10.0.{a}.{b} port {port} ssh2",
    "pam_unix(cron:session): session opened for user {user} by (uid=0)",
    "EXT4-fs warning (device sda{a}): ext4_end_bio: I/O error 10 writing to inode {port}",
    "Started Session {port} of user {user}.",
    "GET /api/v1/items/{port} HTTP/1.1 200 {b} \"-\" \"curl/7.88\"",
    "connect from unknown[10.1.{a}.{b}]",
    "error: connection timed out after {a} ms to backend {user}",
    "Out of memory: Killed process {port} ({user}) total-vm:{b}kB",
    "warning: disk usage {a}% on /var",
    "Failed password for invalid user {user} from 192.168.{a}.{b} port {port} ssh2",
]
USERS = ["root", "alice", "bob", "www-data", "postgres", "deploy"]


def generate(path: Path, size_mb: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    target = size_mb << 20
    t = 1_709_290_800  # 2024-03-01 11:00 UTC
    # A pool of message bodies keeps generation fast; timestamps and hosts still vary per line.
    bodies = []
    for _ in range(20000):
        prog = rnd.choice(PROGS)
        msg = rnd.choice(MSGS).format(user=rnd.choice(USERS), a=rnd.randint(0, 255),
                                      b=rnd.randint(0, 255), port=rnd.randint(1024, 65535))
        bodies.append(f"{prog}[{rnd.randint(100, 32000)}]: {msg}\n")
    written = 0
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8", buffering=8 << 20) as out:
        while written < target:
            stamp = time.strftime("%b %e %H:%M:%S", time.gmtime(t))
            block = "".join(f"{stamp} web{rnd.randint(1, 4)} {rnd.choice(bodies)}"
                            for _ in range(rnd.randint(5, 40)))
            out.write(block)
            written += len(block)
            t += 1
    tmp.replace(path)


CHILD = r"""
import json, sys, time, threading
t0 = time.perf_counter()
sys.path.insert(0, ROOT)
from diagkit.logs.logfile import LogFile
from diagkit.logs.model import Query
from diagkit.logs import query as q
mode, path = sys.argv[1], sys.argv[2]
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
out = {"import_rss": hwm()}
if mode == "open":
    t = time.perf_counter()
    log = LogFile.open(path, background=True)
    first = log.records(0, 50)
    out["first_records_s"] = time.perf_counter() - t
    out["first_count"] = log.record_count
    log.wait()
    out["index_s"] = time.perf_counter() - t
    out["records"] = log.record_count
    out["lines"] = log.line_count
    out["format"] = log.format.name
    out["peak_rss"] = hwm()
elif mode == "search":
    log = LogFile.open(path)
    text, regex, case = sys.argv[3], sys.argv[4] == "1", sys.argv[5] == "1"
    t = time.perf_counter()
    out["count"] = len(q.matching_indices(log, Query(text=text, regex=regex, case_sensitive=case)))
    out["search_s"] = time.perf_counter() - t
    out["peak_rss"] = hwm()
elif mode == "arrays":
    log = LogFile.open(path)
    t = time.perf_counter()
    log.levels(); log.timestamps()
    out["arrays_s"] = time.perf_counter() - t
    out["records"] = log.record_count
    out["peak_rss"] = hwm()
print(json.dumps(out))
"""


def child(*args: str) -> dict:
    code = f"ROOT = {str(ROOT)!r}\n" + CHILD
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=False)
    if res.returncode:
        raise SystemExit(f"child {args} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def timed(cmd: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t, res.stdout.strip()


LEVEL_WORDS = ["INFO"] * 60 + ["DEBUG"] * 20 + ["WARNING"] * 9 + ["ERROR"] * 8 + ["NOTICE"] * 2 \
    + ["CRITICAL"]


def _bodies(rnd: random.Random) -> list[tuple[str, str, str]]:
    out = []
    for _ in range(20000):
        prog = rnd.choice(PROGS)
        msg = rnd.choice(MSGS).format(user=rnd.choice(USERS), a=rnd.randint(0, 255),
                                      b=rnd.randint(0, 255), port=rnd.randint(1024, 65535))
        out.append((prog, str(rnd.randint(100, 32000)), msg))
    return out


def _write_blocks(path: Path, size_mb: int, seed: int,
                  block: Callable[[random.Random, int, list[tuple[str, str, str]]], str]) -> None:
    """``size_mb`` of blocks of lines (``block(rnd, t_us, bodies)``: 5-40 lines of one second
    or so), the clock moving up to 2 s between blocks; written beside ``path``, then renamed."""
    rnd = random.Random(seed)
    bodies = _bodies(rnd)
    target = size_mb << 20
    t_us = 1_709_251_200 * 1_000_000
    written = 0
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8", buffering=8 << 20) as out:
        while written < target:
            t_us += rnd.randint(0, 2_000_000)
            text = block(rnd, t_us, bodies)
            out.write(text)
            written += len(text)
    tmp.replace(path)


def generate_rfc3339(path: Path, size_mb: int, seed: int = 11) -> None:
    """``2024-03-01T00:00:00.135248Z web3 sshd[2211]: WARNING message`` lines."""

    def block(rnd: random.Random, t_us: int, bodies: list[tuple[str, str, str]]) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t_us // 1_000_000))
        head = f"{stamp}.{t_us % 1_000_000:06d}Z web{rnd.randint(1, 4)} "
        lines = []
        for _ in range(rnd.randint(5, 40)):
            prog, pid, msg = rnd.choice(bodies)
            lines.append(f"{head}{prog}[{pid}]: {rnd.choice(LEVEL_WORDS)} {msg}\n")
        return "".join(lines)

    _write_blocks(path, size_mb, seed, block)


def generate_jsonl(path: Path, size_mb: int, seed: int = 12) -> None:
    """JSON lines with time/level/host/pid/msg keys (the way structlog or pino write them)."""

    def block(rnd: random.Random, t_us: int, bodies: list[tuple[str, str, str]]) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t_us // 1_000_000))
        stamp += f".{t_us % 1_000_000 // 1000:03d}Z"
        lines = []
        for _ in range(rnd.randint(5, 40)):
            prog, pid, msg = rnd.choice(bodies)
            lines.append(json.dumps({"time": stamp, "level": rnd.choice(LEVEL_WORDS).lower(),
                                     "host": f"web{rnd.randint(1, 4)}", "app": prog,
                                     "pid": int(pid), "msg": msg}) + "\n")
        return "".join(lines)

    _write_blocks(path, size_mb, seed, block)


# lnav's own JSON formats do not cover generic JSON lines: describe the keys so it parses them
LNAV_JSONL_FORMAT = {
    "$schema": "https://lnav.org/schemas/format-v1.schema.json",
    "diagkit_bench_jsonl": {
        "title": "JSON lines (diagkit benchmark)",
        "description": "time/level/msg JSON lines",
        "json": True,
        "timestamp-field": "time",
        "level-field": "level",
        "body-field": "msg",
        "level": {"critical": "critical", "error": "error", "warning": "warning",
                  "notice": "notice", "info": "info", "debug": "debug"},
        "value": {"host": {"kind": "string", "identifier": True},
                  "app": {"kind": "string", "identifier": True},
                  "pid": {"kind": "integer"}},
    },
}


def measured(cmd: list[str]) -> tuple[float, int, str, int]:
    """(wall seconds, peak RSS bytes of the child, stdout, exit status); RSS from wait4()."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, usage.ru_maxrss * 1024, out, proc.returncode


REFERENCE = r"""
import json, sys
sys.path.insert(0, ROOT)
import numpy as np
from diagkit.logs.logfile import LogFile
from diagkit.logs.model import Level
log = LogFile.open(sys.argv[1])
log._compute_arrays(fast=False)
lv = np.bincount(log.levels().astype(np.int64), minlength=int(max(Level)) + 1)
ts = log.timestamps()
print(json.dumps({"records": log.record_count,
                  "levels": {l.label: int(lv[l]) for l in Level if lv[l]},
                  "without_timestamp": int(np.isnan(ts).sum()),
                  "first": float(np.nanmin(ts)) if (~np.isnan(ts)).any() else None,
                  "last": float(np.nanmax(ts)) if (~np.isnan(ts)).any() else None}))
"""


def stats_vs_lnav(path: Path, lnav_include: Path | None, reference_mb: int) -> None:
    size = path.stat().st_size
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    print(f"\n== {path.name} ({size / 2**20:.0f} MiB); load average {os.getloadavg()[0]:.2f}")
    dk_cmd = [sys.executable, "-m", "diagkit", "logs", "stats", str(path), "--json"]
    dt, rss, out, rc = measured(dk_cmd)
    if rc:
        raise SystemExit(f"diagkit stats failed ({rc})")
    (info,) = json.loads(out)["files"]
    print(f"diagkit logs stats --json: {dt:.2f} s; format {info['format']}; "
          f"{info['records']:,} records; levels {info['levels']}; "
          f"{info['without_timestamp']:,} without a time")
    share = rss / size
    print(f"diagkit peak RSS: {rss / 2**20:.0f} MiB = {share:.1%} of the file    "
          f"target < 25 %: {'OK' if share < 0.25 else 'MISSED'}")
    lnav = shutil.which("lnav")
    if lnav:
        cmd = [lnav, "-n"]
        if lnav_include is not None:
            cmd += ["-I", str(lnav_include)]
        cmd += ["-c", ";SELECT log_level, count(*) FROM all_logs GROUP BY 1", str(path)]
        lt, lrss, lout, _ = measured(cmd)
        counts = " ".join(line.split()[0] + "=" + line.split()[1]
                          for line in lout.splitlines()[1:] if len(line.split()) == 2)
        ratio = lt / dt
        print(f"lnav level count: {lt:.2f} s (peak RSS {lrss / 2**20:.0f} MiB; {counts})    "
              f"lnav / diagkit: {ratio:.1f}x (target >= 3): {'OK' if ratio >= 3 else 'MISSED'}")
    else:
        print("lnav not installed: no comparison (apt-get install -y lnav)")
    ref_path = path
    if reference_mb and size > reference_mb << 20:
        ref_path = path.with_name(f"{path.stem}.prefix{reference_mb}mb.log")
        with open(path, "rb") as src, open(ref_path, "wb") as dst:
            dst.write(src.read(reference_mb << 20))
            dst.write(src.readline())  # end on a whole line
        _, _, fast_out, _ = measured([sys.executable, "-m", "diagkit", "logs", "stats",
                                      str(ref_path), "--json"])
        (info,) = json.loads(fast_out)["files"]
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", f"ROOT = {str(ROOT)!r}\n" + REFERENCE,
                          str(ref_path)], capture_output=True, text=True, check=True)
    ref = json.loads(res.stdout)
    same = (ref["records"] == info["records"] and ref["levels"] == info["levels"]
            and ref["without_timestamp"] == info["without_timestamp"])
    where = "the whole file" if ref_path == path else f"the first {reference_mb} MiB"
    print(f"per-record reference path on {where} ({time.perf_counter() - t:.0f} s): "
          f"{'SAME counts' if same else 'COUNTS DIFFER'} {ref['levels']}")
    if ref_path != path:
        ref_path.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--only", choices=["stats", "index"], help="run one part only")
    ap.add_argument("--reference-mb", type=int, default=0,
                    help="check the reference counts on this prefix only (default: whole file)")
    ap.add_argument("--arrays", action="store_true", help="also time levels()/timestamps()")
    args = ap.parse_args()
    data = ROOT / "benchmarks" / "data"
    data.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.only != "index":
        lnav_dir = data / "lnav"
        fmt_dir = lnav_dir / "formats" / "diagkit_bench"
        fmt_dir.mkdir(parents=True, exist_ok=True)
        (fmt_dir / "bench_jsonl.json").write_text(json.dumps(LNAV_JSONL_FORMAT, indent=2))
        for name, gen, include in (("rfc3339-level", generate_rfc3339, None),
                                   ("jsonl", generate_jsonl, lnav_dir)):
            path = data / f"{name}-{args.size_mb}mb.log"
            if not path.exists():
                t = time.perf_counter()
                gen(path, args.size_mb)
                print(f"generated {path} in {time.perf_counter() - t:.1f} s")
            stats_vs_lnav(path, include, args.reference_mb)
        if args.only == "stats":
            return
    path = data / f"syslog-{args.size_mb}mb.log"
    if not path.exists():
        t = time.perf_counter()
        generate(path, args.size_mb)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s")
    size = path.stat().st_size
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    print(f"file: {path} ({size / 2**20:.0f} MiB)")

    o = child("open", str(path))
    print(f"format detected: {o['format']}; {o['records']:,} records, {o['lines']:,} lines")
    print(f"first records usable: {o['first_records_s']:.3f} s "
          f"({o['first_count']:,} records indexed by then)    target < 0.5 s: "
          f"{'OK' if o['first_records_s'] < 0.5 else 'MISSED'}")
    print(f"full index: {o['index_s']:.2f} s ({size / 2**20 / o['index_s']:.0f} MiB/s)")
    rss_share = o["peak_rss"] / size
    print(f"peak RSS: {o['peak_rss'] / 2**20:.0f} MiB = {rss_share:.1%} of the file "
          f"(interpreter + numpy alone: {o['import_rss'] / 2**20:.0f} MiB)    target < 25 %: "
          f"{'OK' if rss_share < 0.25 else 'MISSED'}")

    lnav = shutil.which("lnav")
    if lnav:
        # -n: headless; the commands run after the whole file is loaded and indexed.
        lt, _ = timed([lnav, "-n", "-c", ":filter-in Out of memory", "-c",
                          ":write-to /dev/null", str(path)])
        print(f"lnav index + filter: {lt:.2f} s    diagkit index / lnav: {o['index_s'] / lt:.2f}x "
              f"(target < 1): {'OK' if o['index_s'] < lt else 'MISSED'}")
    else:
        print("lnav not installed: no index comparison (apt-get install -y lnav)")

    cases = [("literal", "Out of memory", False, True, ["grep", "-c", "-F"]),
             ("literal -i", "out of MEMORY", False, False, ["grep", "-c", "-F", "-i"]),
             ("regex", r"Failed password for .* port 6[0-9]+", True, True, ["grep", "-c", "-E"])]
    for name, pat, regex, case, gcmd in cases:
        s = child("search", str(path), pat, "1" if regex else "0", "1" if case else "0")
        gt, gout = timed([*gcmd, pat, str(path)])
        ratio = s["search_s"] / gt
        same = "same count" if str(s["count"]) == gout else f"COUNT DIFFERS (grep {gout})"
        print(f"search {name:<10} {pat!r}: {s['search_s']:.2f} s, {s['count']:,} records; "
              f"grep {gt:.2f} s; ratio {ratio:.2f}x (target < 3): "
              f"{'OK' if ratio < 3 else 'MISSED'}; {same}; peak RSS {s['peak_rss'] / 2**20:.0f} MiB")
    if args.arrays:
        a = child("arrays", str(path))
        print(f"levels()+timestamps(): {a['arrays_s']:.1f} s for {a['records']:,} records "
              f"({a['arrays_s'] / a['records'] * 1e6:.2f} us/record); peak RSS "
              f"{a['peak_rss'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
