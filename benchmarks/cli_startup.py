"""``diagkit --help`` start-up time. Run by hand:

    python benchmarks/cli_startup.py [--runs 20]

Prints, all measured in this one run, the median wall time of ``RUNS`` fresh processes each of:
  * ``python -c pass``                           (the reference: the interpreter's own start-up)
  * ``diagkit --help`` (the installed entry point, next to this interpreter)
  * ``python -m diagkit --help``
  * ``diagkit hosts --help``                     (one group's parser: the same imports)
and the ratio of each to the reference. Target: ``diagkit --help`` under 150 ms, i.e. the parser
of every group built without loading numpy, paramiko, Jinja, the store or Qt (handlers import
what they use; tests/cli/test_startup.py checks the modules, this script the time).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_MS = 150.0


def median_ms(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    python = sys.executable
    entry = Path(python).with_name("diagkit.exe" if os.name == "nt" else "diagkit")
    if not entry.exists():
        print(f"no entry point next to {python}: pip install -e . first", file=sys.stderr)
        return 2
    cases = [("python -c pass (reference)", [python, "-c", "pass"]),
             ("diagkit --help", [str(entry), "--help"]),
             ("python -m diagkit --help", [python, "-m", "diagkit", "--help"]),
             ("diagkit hosts --help", [str(entry), "hosts", "--help"])]
    results = {}
    for label, command in cases:
        median_ms(command, 2)  # warm the file cache
        results[label] = median_ms(command, args.runs)
    reference = results[cases[0][0]]
    print(f"median of {args.runs} runs each ({os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}):")
    for label, ms in results.items():
        print(f"  {label:<30} {ms:7.1f} ms  {ms / reference:5.2f}x the reference")
    helptime = results["diagkit --help"]
    verdict = "OK" if helptime < TARGET_MS else "OVER"
    print(f"diagkit --help: {helptime:.0f} ms (target < {TARGET_MS:.0f} ms: {verdict}); "
          f"{helptime - reference:.0f} ms above the bare interpreter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
