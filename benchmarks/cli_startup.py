"""``diagkit --help`` start-up time. Run by hand:

    python benchmarks/cli_startup.py [--runs 20]

Prints, all measured in this one run, the median wall time of ``RUNS`` fresh processes each of:
  * ``python -c pass``                           (the reference: the interpreter's own start-up)
  * ``diagkit --help`` (the installed entry point, next to this interpreter)
  * ``python -m diagkit --help``
  * ``diagkit hosts --help``                     (one group's parser: the same imports)
and the ratio of each to the reference, for the wall time and for the CPU time (user + system:
on a busy machine, the figure that does not count waiting for a core). Target: ``diagkit --help`` under 150 ms, i.e. the parser
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


def median_ms(command: list[str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of the child, in ms. On a busy
    machine the wall time counts waiting for a core; the CPU time does not."""
    import resource

    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return statistics.median(walls), statistics.median(cpus)


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
    reference, ref_cpu = results[cases[0][0]]
    print(f"median of {args.runs} runs each ({os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}): wall time, CPU time (user + system)")
    for label, (ms, cpu) in results.items():
        print(f"  {label:<30} {ms:7.1f} ms wall ({ms / reference:5.2f}x the reference)  "
              f"{cpu:7.1f} ms CPU ({cpu / ref_cpu:5.2f}x)")
    helptime, helpcpu = results["diagkit --help"]
    verdict = "OK" if helptime < TARGET_MS else "OVER"
    print(f"diagkit --help: {helptime:.0f} ms wall (target < {TARGET_MS:.0f} ms: {verdict}), "
          f"{helpcpu:.0f} ms CPU; {helptime - reference:.0f} ms above the bare interpreter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
