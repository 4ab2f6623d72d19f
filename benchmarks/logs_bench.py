"""Log engine speed and memory on a big syslog-style file. Run by hand:

    python benchmarks/logs_bench.py [--size-mb 1024] [--keep]

Generates (seeded) a syslog-style file under benchmarks/data/ (gitignored; reused when the size
matches) and prints, all measured in this one run:
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
import random
import shutil
import subprocess
import sys
import time
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--arrays", action="store_true", help="also time levels()/timestamps()")
    args = ap.parse_args()
    data = ROOT / "benchmarks" / "data"
    data.mkdir(parents=True, exist_ok=True)
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
