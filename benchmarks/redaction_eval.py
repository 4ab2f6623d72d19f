"""Redaction measured on the labelled corpus of tests/data/redaction. Run by hand:

    python benchmarks/redaction_eval.py [--show N]

Prints, for the engine as it is:
  * recall per family on the labelled secrets (positives.json): the share of entries whose every
    secret is gone after secrets-only redaction (target 100 %), and the same with every
    obfuscation kind on;
  * the share of real negative log lines that secrets-only redaction changes (target < 0.1 %):
    the corpus' negatives/ (Loghub-2k samples, logs of programs run on this machine, its
    /var/log), and the full Loghub-2k files of /work/shared/loghub-dev when they are there;
  * obfuscation precision on the same lines with every kind on (ip, host, mac, user, email):
    tokens that replaced something that is not a valid IP, MAC or e-mail (by parsing) or a host
    or user name of the hand-reviewed obfuscation_truth.json (target 0).
tests/reports/test_redaction_corpus.py asserts the same targets on the corpus.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reports.test_redaction_corpus import (
    ALL_KINDS,
    NEGATIVE_TARGET,
    changed_lines,
    load_positives,
    negative_lines,
    obfuscation_report,
    recall,
)

LOGHUB = Path("/work/shared/loghub-dev")


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f} %" if b else "n/a"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show", type=int, default=5, help="examples to print per failure list")
    args = ap.parse_args()
    ok = True

    positives = load_positives()
    t0 = time.perf_counter()
    plain = recall(positives)
    full = recall(positives, ALL_KINDS)
    print(f"== recall on {len(positives)} labelled secrets, {len(plain)} families "
          f"({time.perf_counter() - t0:.1f} s)")
    print(f"{'family':34s} {'n':>3s} {'secrets only':>13s} {'all obfuscation':>16s}")
    by_kind: Counter[str] = Counter()
    by_kind_ok: Counter[str] = Counter()
    for family in sorted(plain):
        good, total, leaks = plain[family]
        good_full = full[family][0]
        by_kind[family.split("/")[0]] += total
        by_kind_ok[family.split("/")[0]] += good
        flag = "" if good == total and good_full == total else "   <-- MISSED"
        print(f"{family:34s} {total:3d} {_pct(good, total):>13s} "
              f"{_pct(good_full, total):>16s}{flag}")
        for p, red in leaks[:args.show]:
            print(f"    leaked ({p.syntax}): {red[:160]!r}")
    print("by kind: " + ", ".join(f"{k} {_pct(by_kind_ok[k], n)} of {n}"
                                  for k, n in sorted(by_kind.items())))
    total_ok = sum(v[0] for v in plain.values())
    total_full = sum(v[0] for v in full.values())
    print(f"recall: {total_ok}/{len(positives)} = {_pct(total_ok, len(positives))} secrets only, "
          f"{total_full}/{len(positives)} = {_pct(total_full, len(positives))} with obfuscation "
          "(target 100 %)")
    ok &= total_ok == len(positives) and total_full == len(positives)

    sets = [("corpus negatives (tests/data/redaction/negatives)", negative_lines())]
    loghub = sorted(LOGHUB.glob("*/*.log")) if LOGHUB.is_dir() else []
    if loghub:
        sets.append((f"full Loghub-2k ({LOGHUB})", negative_lines(loghub)))
    else:
        print(f"\n({LOGHUB} not found: the full Loghub files are skipped)")
    for label, lines in sets:
        t0 = time.perf_counter()
        changed = changed_lines(lines)
        counts, bad = obfuscation_report(lines)
        share = len(changed) / len(lines)
        print(f"\n== {label}: {len(lines):,} lines ({time.perf_counter() - t0:.1f} s)")
        print(f"lines changed by secrets-only redaction: {len(changed)} = {100 * share:.3f} % "
              f"(target < {100 * NEGATIVE_TARGET:.1f} %)")
        for name, line, red in changed[:args.show]:
            print(f"    {name}: {line[:120]!r}\n      -> {red[:120]!r}")
        tokens = sum(counts.values())
        print(f"obfuscation with every kind on: {tokens:,} tokens "
              f"({', '.join(f'{k} {v:,}' for k, v in sorted(counts.items()))}); "
              f"bad tokens (not a host, IP, MAC, user or e-mail): {len(bad)} (target 0); "
              f"precision {_pct(tokens - len(bad), tokens)}")
        for rule, value, name, line in bad[:args.show]:
            print(f"    {rule} {value!r} in {name}: {line[:120]!r}")
        ok &= share < NEGATIVE_TARGET and not bad
    print("\nall targets met" if ok else "\nTARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
