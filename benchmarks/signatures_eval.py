"""Signature grouping accuracy and throughput on labelled logs (hand-run).

    python benchmarks/signatures_eval.py [--seed 2026] [--records 3000]
        [--drain3-python /tmp/d3venv/bin/python]

For each format of ``tests/logs/labelled.py``: generate lines with known templates, parse them
the way the app does (``diagkit.logs.formats``: detect_format, record starts, parse), mine the
messages, and print the loghub "grouping accuracy" (GA). Masking and miner settings were tuned
on seed 1 (development); the default seed here is a different one (test).

``--drain3-python``: a Python that has ``drain3`` installed (a throwaway venv: it is not a
project dependency) adds drain3's GA on the same messages (its default config) as a reference.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diagkit.logs.signatures import SignatureMiner
from tests.logs.labelled import (
    FORMAT_NAMES,
    generate,
    grouping_accuracy,
    parsed_records,
)

_DRAIN3 = """
import json, sys
from drain3 import TemplateMiner
out = []
for messages in json.load(sys.stdin):
    tm = TemplateMiner()
    ids = [tm.add_log_message(m.split("\\n", 1)[0])["cluster_id"] for m in messages]
    # drain3 templates keep changing; its ids are stable, so the final grouping is by id
    out.append(ids)
json.dump(out, sys.stdout)
"""


def _drain3(python: str, batches: list[list[str]]) -> list[list[int]] | None:
    try:
        proc = subprocess.run([python, "-c", _DRAIN3], input=json.dumps(batches),
                              capture_output=True, text=True, timeout=600, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"drain3 reference not run: {exc}", file=sys.stderr)
        return None
    return json.loads(proc.stdout)


def _throughput(messages: list[str], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        miner = SignatureMiner()
        add = miner.add
        t = time.perf_counter()
        for m in messages:
            add(m)
        best = min(best, time.perf_counter() - t)
    return len(messages) / best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--drain3-python", default="")
    args = ap.parse_args()

    rows, batches, labels_all = [], [], []
    total = correct = 0.0
    all_messages: list[str] = []
    for fmt in FORMAT_NAMES:
        log = generate(fmt, args.records, args.seed)
        detected, records = parsed_records(log.lines)
        messages = [m for m, _ in records]
        if len(messages) != len(log.labels):
            print(f"{fmt}: parsed {len(messages)} records, expected {len(log.labels)}",
                  file=sys.stderr)
            return 1
        miner = SignatureMiner()
        ids = [miner.add(m, level=f.level, timestamp=f.timestamp) for m, f in records]
        ids = [miner.resolve(i) for i in ids]
        ga = grouping_accuracy(ids, log.labels)
        total += len(ids)
        correct += ga * len(ids)
        rows.append([fmt, detected, len(ids), len(set(log.labels)), len(miner), ga])
        batches.append(messages)
        labels_all.append(log.labels)
        all_messages.extend(messages)

    ref = _drain3(args.drain3_python, batches) if args.drain3_python else None
    head = f"{'format':12} {'detected':14} {'records':>7} {'templates':>9} {'groups':>6} {'GA':>6}"
    print(f"seed {args.seed}\n{head}" + (f" {'drain3 GA':>9}" if ref else ""))
    ref_total = 0.0
    for i, (fmt, detected, n, k, g, ga) in enumerate(rows):
        line = f"{fmt:12} {detected:14} {n:7} {k:9} {g:6} {ga:6.3f}"
        if ref:
            rga = grouping_accuracy(ref[i], labels_all[i])
            ref_total += rga * n
            line += f" {rga:9.3f}"
        print(line)
    print(f"{'overall':12} {'':14} {int(total):7} {'':9} {'':6} {correct / total:6.3f}"
          + (f" {ref_total / total:9.3f}" if ref else ""))

    simple = [f"Failed password for user{i % 50} from 10.0.{i % 256}.{i % 200} port {1024 + i} "
              "ssh2" for i in range(200_000)]
    print(f"throughput, mixed messages above: {_throughput(all_messages):,.0f} messages/s")
    print(f"throughput, simple sshd lines:    {_throughput(simple):,.0f} messages/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
