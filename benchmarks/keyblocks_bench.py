"""Finding private key blocks in a whole multi-GB log before excerpts are cut. Run by hand:

    python benchmarks/keyblocks_bench.py [--size-mb 1024] [--keep]

Builds (seeded) a log under benchmarks/data/ from the lines of the real loghub logs
(../shared/loghub-dev) with a few real keys planted (openssl PEM, ssh-keygen OpenSSH, a PuTTY
file), one line per record, and prints, all measured in this one run on the same file:
  * the scan diagkit does before cutting excerpts (keyblocks.find_blocks over the mapped file),
    and ``grep -F -n`` with the same four literal needles as the reference   (target: >= 0.5x)
  * for scale: indexing the file, and the level of every record (what log_excerpts needs anyway)
  * a check that every planted block was found, with its exact lines, and nothing else
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagkit.logs.logfile import LogFile
from diagkit.reports import keyblocks
from tests.reports import keymaterial

T = TypeVar("T")
LOGHUB = ROOT.parent.parent / "shared" / "loghub-dev"
if not LOGHUB.is_dir():
    LOGHUB = Path("/work/shared/loghub-dev")


def build(path: Path, size: int, keys: list[list[str]]) -> list[tuple[int, int]]:
    """Write ``size`` bytes of real log lines with ``keys`` planted; return their line spans."""
    rng = random.Random(12)
    lines: list[bytes] = []
    for src in sorted(LOGHUB.glob("*/*.log")):
        lines += [ln.encode() for ln in src.read_text("utf-8", "replace").splitlines() if ln]
    block = b"\n".join(rng.choice(lines) for _ in range(20000)) + b"\n"
    n_block = block.count(b"\n")
    reps = max(1, size // len(block))
    at = sorted(rng.sample(range(1, reps), min(len(keys), reps - 1)))
    spans = []
    line = 0
    with open(path, "wb") as fh:
        for i in range(reps):
            if at and i == at[0]:
                at.pop(0)
                key = keys[len(spans)]
                prefix = b"Mar 14 02:10:01 db-01 app[4242]: "
                fh.write(b"".join(prefix + k.encode() + b"\n" for k in key))
                spans.append((line, line + len(key) - 1))
                line += len(key)
            fh.write(block)
            line += n_block
    return spans


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--keep", action="store_true", help="keep the generated log")
    args = ap.parse_args()
    data = ROOT / "benchmarks" / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"keyblocks-{args.size_mb}mb.log"
    with tempfile.TemporaryDirectory() as tmp:
        keys = [keymaterial.pem_key(Path(tmp)), keymaterial.openssh_key(Path(tmp)),
                keymaterial.putty_key()]
        spans = build(path, args.size_mb << 20, keys)
    size = path.stat().st_size
    gb = size / 1e9
    print(f"log: {path} ({size / 1e6:,.0f} MB, {len(spans)} keys planted)")

    t_index, log = timed(lambda: LogFile.open(path, format="plain"))
    with log:
        t_scan, blocks = timed(lambda: keyblocks.find_blocks(log))
        t_scan2, _ = timed(lambda: keyblocks.find_blocks(log))  # page cache warm for both
        t_levels, _ = timed(log.levels)
        lines = log.line_count
    needles = [a for n in keyblocks.NEEDLES for a in ("-e", n)]
    grep = shutil.which("grep")
    t_grep, done = timed(lambda: subprocess.run([grep or "grep", "-F", "-n", *needles, str(path)],
                                                capture_output=True, check=False))
    grep_lines = done.stdout.count(b"\n")
    scan = min(t_scan, t_scan2)
    print(f"index the file (for scale):          {t_index:7.2f} s  ({gb / t_index:5.2f} GB/s, "
          f"{lines:,} lines)")
    print(f"levels of every record (for scale):  {t_levels:7.2f} s")
    print(f"keyblocks.find_blocks (whole log):   {scan:7.2f} s  ({gb / scan:5.2f} GB/s)")
    print(f"grep -F -n, the same 4 needles:      {t_grep:7.2f} s  ({gb / t_grep:5.2f} GB/s, "
          f"{grep_lines} matching lines)")
    print(f"ratio grep time / diagkit time:      {t_grep / scan:7.2f}x  (target >= 0.5x)")
    found = [(b.first, b.last) for b in blocks]
    ok = found == spans
    print(f"blocks found: {found}\nplanted:      {spans}\n{'OK' if ok else 'MISMATCH'}")
    if not args.keep:
        path.unlink()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
