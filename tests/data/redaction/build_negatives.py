"""Writes negatives/: real log lines that hold no secret, for the false-positive side of the
redaction corpus. Run by hand (``python tests/data/redaction/build_negatives.py [CAPTURE_DIR]``);
the tests and benchmarks/redaction_eval.py read the files, never this script.

Sources, all real and none written by the team:

* Loghub-2k (``/work/shared/loghub-dev``: Android, Apache, BGL, HDFS, HealthApp, Linux, OpenStack,
  Proxifier): per system one line of every event template first, then every n-th line, 200 lines;
* logs of programs installed with apt and run on this machine (PostgreSQL, psql, nginx access and
  error logs, MariaDB install/error/general logs and client, Redis, sshd and ssh), captured as
  capture_real_logs.sh shows (CAPTURE_DIR, default /tmp/neg);
* this machine's own /var/log: dpkg.log, apt/history.log, apt/term.log, alternatives.log (samples).

Lines are copied verbatim (no editing); empty lines are dropped. The eval script also runs over
the full Loghub files when /work/shared is there.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "negatives"
LOGHUB = Path("/work/shared/loghub-dev")
PER_SYSTEM = 200


def loghub_sample(system: str) -> list[str]:
    folder = LOGHUB / system
    lines = (folder / f"{system}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    with open(
        folder / f"{system}_2k.log_structured_corrected.csv",
        encoding="utf-8",
        errors="replace",
        newline="",
    ) as fh:
        events = [row["EventId"] for row in csv.DictReader(fh)]
    chosen: list[int] = []
    seen: set[str] = set()
    for i, ev in enumerate(events[: len(lines)]):
        if ev not in seen:
            seen.add(ev)
            chosen.append(i)
    step = max(1, len(lines) // PER_SYSTEM)
    for i in range(0, len(lines), step):
        if len(chosen) >= PER_SYSTEM:
            break
        if i not in chosen:
            chosen.append(i)
    return [lines[i] for i in sorted(chosen[:PER_SYSTEM]) if lines[i].strip()]


def sample(path: Path, limit: int) -> list[str]:
    lines = [
        x for x in path.read_text(encoding="utf-8", errors="replace").splitlines() if x.strip()
    ]
    step = max(1, len(lines) // limit)
    return lines[::step][:limit]


def main() -> None:
    capture = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/neg")
    OUT.mkdir(exist_ok=True)
    files: dict[str, list[str]] = {}
    for system in sorted(p.name for p in LOGHUB.iterdir() if p.is_dir()):
        files[f"loghub_{system}.log"] = loghub_sample(system)
    for name, limit in (
        ("postgresql.log", 400),
        ("psql_client.log", 50),
        ("pg_initdb.log", 50),
        ("nginx_access.log", 100),
        ("nginx_error.log", 100),
        ("mariadb_install.log", 50),
        ("mariadb_error.log", 100),
        ("mariadb_general.log", 100),
        ("mariadb_client.log", 10),
        ("redis.log", 100),
        ("sshd.log", 50),
        ("ssh_client.log", 20),
    ):
        files[name] = sample(capture / name, limit)
    for name, path, limit in (
        ("var_log_dpkg.log", "/var/log/dpkg.log", 300),
        ("var_log_apt_history.log", "/var/log/apt/history.log", 100),
        ("var_log_apt_term.log", "/var/log/apt/term.log", 200),
        ("var_log_alternatives.log", "/var/log/alternatives.log", 100),
    ):
        files[name] = sample(Path(path), limit)
    total = 0
    for name, lines in files.items():
        (OUT / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        total += len(lines)
    print(f"{total} lines in {len(files)} files -> {OUT}")


if __name__ == "__main__":
    main()
