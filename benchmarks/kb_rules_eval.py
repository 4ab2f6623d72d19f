"""KB match rules on RE2 against Python's re, on real logs (hand-run).

    python benchmarks/kb_rules_eval.py [--logs ../shared/loghub-dev] [--redos 24]

1. Agreement: every rule of the starter KB, run over every line (and its masked signature) of
   the loghub sample logs plus the captured probe outputs and logs in ``tests/data``, decides
   the same on RE2 (:mod:`diagkit.rules_regex`) as on ``re``: prints lines, hits, disagreements.
2. Throughput: the same matching, timed on both engines (ratio RE2 / re; RE2 pays a per-call
   encoding cost on short lines, and never the backtracking).
3. The catastrophic rule ``(a+)+$`` on ``"a" * n + "!"``: ``re`` time doubles with every
   character (``--redos`` sets n for re; keep it small), RE2 stays linear (n = 1,000,000).
"""

from __future__ import annotations

import argparse
import glob
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diagkit.kb.markdown import starter_drafts
from diagkit.logs.signatures import mask
from diagkit.rules_regex import compile_rule_pattern

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=Path, default=ROOT.parent / "shared" / "loghub-dev")
    parser.add_argument("--redos", type=int, default=24, help="n for Python's re (2^n steps)")
    args = parser.parse_args()

    files = sorted(glob.glob(str(args.logs / "*" / "*.log")))
    files += sorted(glob.glob(str(ROOT / "tests/data/logs/**/*"), recursive=True))
    files += sorted(glob.glob(str(ROOT / "tests/data/probes/*/*")))
    lines = [line for f in files if Path(f).is_file()
             for line in Path(f).read_text(encoding="utf-8", errors="replace").splitlines()]
    texts = lines + [mask(line) for line in lines]
    rules = [(d.slug, r.pattern) for d in starter_drafts() for r in d.rules if r.kind != "metric"]
    print(f"{len(files)} files, {len(lines):,} lines (+ their signatures), {len(rules)} rules")

    hits = disagreements = 0
    timings = {"re": 0.0, "RE2": 0.0}
    for slug, pattern in rules:
        old, new = re.compile(pattern, re.IGNORECASE), compile_rule_pattern(pattern)
        t = time.perf_counter()
        a = [bool(old.search(x)) for x in texts]
        timings["re"] += time.perf_counter() - t
        t = time.perf_counter()
        b = [bool(new.search(x)) for x in texts]
        timings["RE2"] += time.perf_counter() - t
        hits += sum(a)
        for x, y, text in zip(a, b, texts, strict=True):
            if x != y:
                disagreements += 1
                print(f"  DIFFERENT {slug} /{pattern}/ on {text[:100]!r}: re {x}, RE2 {y}")
    print(f"agreement: {hits:,} matches, {disagreements} disagreements")
    print(f"throughput: re {timings['re']:.2f} s, RE2 {timings['RE2']:.2f} s, "
          f"ratio RE2/re {timings['RE2'] / timings['re']:.2f}")

    evil = "(a+)+$"
    t = time.perf_counter()
    re.compile(evil).search("a" * args.redos + "!")
    slow = time.perf_counter() - t
    t = time.perf_counter()
    compile_rule_pattern(evil).search("a" * 1_000_000 + "!")
    fast = time.perf_counter() - t
    print(f"(a+)+$ on 'a'*n + '!': re {slow:.2f} s for n={args.redos} (doubles per character), "
          f"RE2 {fast:.3f} s for n=1,000,000")


if __name__ == "__main__":
    main()
