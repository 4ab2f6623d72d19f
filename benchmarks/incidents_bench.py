"""``diagkit logs incidents`` on a 1 GiB log against lnav counting levels on the same file,
in the same run. Run by hand:

    python benchmarks/incidents_bench.py [--size-mb 1024] [--kind rfc3339|syslog]

The file is logs_bench's generator (``rfc3339``: ``2024-03-01T00:00:00.135248Z web3
sshd[2211]: WARNING msg``, about 9.7 million records in 1 GiB; ``syslog``: classic year-less
``Mar  1 11:00:00 web3 sshd[2211]: msg``, 9.5 million), written at run time under
benchmarks/data/ (git-ignored, reused when the size matches), with one incident injected at the
middle of the file: 400 failed root logins from one address on web2 in about 5 minutes (the
ordinary traffic has failed logins from many addresses all the time).

Prints, all measured in this run, each tool in a fresh child process with the file in the page
cache: wall and CPU seconds of ``diagkit logs incidents FILE --json`` end to end (open, index,
mining, counting, detection, output) and of ``lnav -n -c ';SELECT log_level, count(*) FROM
all_logs GROUP BY 1' FILE``, their ratio (target: diagkit faster), diagkit's peak RSS (wait4 on
the child; target < 25 % of the file) and whether the injected incident was found with its start
within 5 minutes.
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
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import logs_bench

BURST = 400


def _stamp(kind: str, t: float) -> str:
    if kind == "syslog":
        return time.strftime("%b %e %H:%M:%S", time.gmtime(t))
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time_of(kind: str, line: str, year: int) -> float:
    if kind == "syslog":
        dt = datetime.strptime(f"{year} {line[:15]}", "%Y %b %d %H:%M:%S")
        return dt.replace(tzinfo=UTC).timestamp()
    return datetime.fromisoformat(line.split()[0]).timestamp()


def generate(path: Path, kind: str, size_mb: int) -> float:
    """Write the file with the burst injected at its middle; return the burst's start."""
    plain = path.with_suffix(".plain")
    if kind == "syslog":
        logs_bench.generate(plain, size_mb)
    else:
        logs_bench.generate_rfc3339(plain, size_mb)
    rnd = random.Random(16)
    middle = plain.stat().st_size // 2
    tmp = path.with_suffix(".part")
    with open(plain, "rb") as src, open(tmp, "wb") as dst:
        dst.write(src.read(middle))
        dst.write(src.readline())
        nxt = src.readline()
        # the classic syslog generator starts on 2024-03-01 and has no year in its lines
        start = _time_of(kind, nxt.decode(), 2024)
        t = start
        level = "" if kind == "syslog" else "WARNING "
        for _ in range(BURST):
            dst.write(f"{_stamp(kind, t)} web2 sshd[{rnd.randint(3000, 60000)}]: {level}Failed "
                      f"password for root from 203.0.113.45 port {rnd.randint(30000, 65000)} "
                      "ssh2\n".encode())
            t += 0.75
        dst.write(nxt)
        shutil.copyfileobj(src, dst, 8 << 20)
    tmp.replace(path)
    plain.unlink()
    (path.with_suffix(".burst")).write_text(str(start))
    return start


def measured(cmd: list[str]) -> tuple[float, float, int, str, int]:
    """(wall s, CPU s, peak RSS bytes, stdout, exit status) of a child; from wait4()."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    return (time.perf_counter() - t, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024,
            out, os.waitstatus_to_exitcode(status))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--kind", choices=["rfc3339", "syslog"], default="rfc3339")
    args = ap.parse_args()
    data = ROOT / "benchmarks" / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"incidents-{args.kind}-{args.size_mb}mb.log"
    if not path.exists() or not path.with_suffix(".burst").exists():
        t = time.perf_counter()
        generate(path, args.kind, args.size_mb)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s")
    burst = float(path.with_suffix(".burst").read_text())
    size = path.stat().st_size
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    print(f"{os.cpu_count()} CPUs; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"file: {path.name} ({size / 2**20:.0f} MiB)")

    dk_cmd = [sys.executable, "-m", "diagkit", "logs", "incidents", str(path), "--json"]
    dt, dcpu, rss, out, rc = measured(dk_cmd)
    if rc:
        raise SystemExit(f"diagkit logs incidents failed ({rc})")
    incidents = json.loads(out)["incidents"]
    print(f"diagkit logs incidents --json: {dt:.2f} s wall, {dcpu:.2f} s CPU; "
          f"{len(incidents)} incident(s)")
    for inc in incidents:
        print(f"  {inc['start']} .. {inc['end']}  {inc['hosts']}  {inc['summary']}")
    found = [i for i in incidents
             if abs(datetime.fromisoformat(i["start"]).timestamp() - burst) <= 300]
    when = datetime.fromtimestamp(burst, UTC).isoformat()
    print(f"injected burst at {when}: {'FOUND' if found else 'MISSED'}")
    share = rss / size
    print(f"diagkit peak RSS: {rss / 2**20:.0f} MiB = {share:.1%} of the file    "
          f"target < 25 %: {'OK' if share < 0.25 else 'MISSED'}")
    lnav = shutil.which("lnav")
    if not lnav:
        print("lnav not installed: no comparison (apt-get install -y lnav)")
        return
    lt, lcpu, lrss, lout, _ = measured(
        [lnav, "-n", "-c", ";SELECT log_level, count(*) FROM all_logs GROUP BY 1", str(path)])
    counts = " ".join(line.split()[0] + "=" + line.split()[1]
                      for line in lout.splitlines()[1:] if len(line.split()) == 2)
    ratio = lt / dt
    print(f"lnav level count: {lt:.2f} s wall, {lcpu:.2f} s CPU (peak RSS "
          f"{lrss / 2**20:.0f} MiB; {counts})")
    print(f"lnav / diagkit: wall {ratio:.2f}x, CPU {lcpu / dcpu:.2f}x (target > 1): "
          f"{'OK' if ratio > 1 else 'MISSED'}")


if __name__ == "__main__":
    main()
