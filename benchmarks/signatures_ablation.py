"""What each rule of the signature miner is worth: switch one off at a time (hand-run).

    python benchmarks/signatures_ablation.py [--loghub ../shared/loghub-dev]

Prints the grouping accuracy (GA) of the default miner and of the miner with one rule switched
off, on the raw lines of each Loghub-2k development system (opened as the app opens them), on
their ground-truth ``Content`` column, and on the generated logs of ``tests/logs/labelled.py``
(3000 records per format, seed 2026). A rule earns its place when it helps somewhere and costs
nothing elsewhere. The switches patch private names of :mod:`diagkit.logs.signatures`: this
script follows the module, it is not an API.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.signatures_eval import DEFAULT_LOGHUB, _systems
from diagkit.logs import signatures as S
from diagkit.logs.logfile import open_logs
from tests.logs.labelled import (
    FORMAT_NAMES,
    generate,
    grouping_accuracy,
    parsed_records,
)


@contextlib.contextmanager
def patched(*changes: tuple[Any, str, Any]) -> Iterator[None]:
    old = [(obj, name, getattr(obj, name)) for obj, name, _ in changes]
    for obj, name, value in changes:
        setattr(obj, name, value)
    try:
        yield
    finally:
        for obj, name, value in old:
            setattr(obj, name, value)


def _without_shape(placeholder: str) -> list[tuple[Any, str, Any]]:
    full = [(rx, p) for rx, p in S._FULL if p != placeholder]
    rx = re.compile("|".join(f"(?P<s{i}>{r.pattern})" for i, (r, _) in enumerate(full)))
    return [(S, "_FULL", full), (S, "_FULL_RX", rx),
            (S, "_FULL_BY_GROUP", {f"s{i}": p for i, (_, p) in enumerate(full)})]


_masked = S._masked
SWITCHES: list[tuple[str, list[tuple[Any, str, Any]], dict[str, int]]] = [
    ("(default)", [], {}),
    ("- words are constants (Drain: any difference merges)", [(S, "_word", lambda t: None)], {}),
    ("- header skipping", [(S, "_header_length", lambda t: 0)], {}),
    ("- header tail (tag, logger, [ctx], separator)", [(S, "_header_tail", lambda t, h: h)], {}),
    ("- '|' separates tokens", [(S, "_masked", lambda m, n, pipes=False: _masked(m, n))], {}),
    ("- textual dates (Fri Jul  1)", [(S, "_calendar_dates", lambda out: None)], {}),
    ("- number + unit word (87.5 KB)", [(S, "_DUR_UNITS", frozenset()),
                                        (S, "_SIZE_UNITS", frozenset())], {}),
    ("- restated value dropped ((87.5 KB))", [(S, "_aside", lambda t: False)], {}),
    ("- quoted word, 'label: value,'", [(S, "_quoted_word", lambda t: False),
                                        (S, "_label_value", lambda t, i: False)], {}),
    ("- <HOST> (name:port)", _without_shape("<HOST>"), {}),
    ("- <BOOL>", _without_shape("<BOOL>"), {}),
    ("- <DATE> shapes", _without_shape("<DATE>"), {}),
    ("merge_after=3", [], {"merge_after": 3}),
    ("merge_after=5", [], {"merge_after": 5}),
    ("no sibling merge", [], {"merge_after": 0}),
]


def _score(messages: list[str], truth: list, **kw: int) -> float:
    for cache in (S._token_cache, S._finish_cache, S._word_cache):
        cache.clear()
    miner = S.SignatureMiner(**kw)
    ids = [miner.add(m) for m in messages]
    return grouping_accuracy([miner.resolve(i) for i in ids], truth)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loghub", type=Path, default=DEFAULT_LOGHUB)
    args = ap.parse_args()
    data = []
    for name, log_path, truth_path in _systems(args.loghub):
        with open(truth_path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        [log] = open_logs([log_path])
        raw = [log.record(i).message for i in range(log.record_count)]
        log.close()
        data.append((name, [r["EventId"] for r in rows], [r["Content"] for r in rows], raw))
    generated = []
    for fmt in FORMAT_NAMES:
        glog = generate(fmt, 3000, 2026)
        _, records = parsed_records(glog.lines)
        generated.append(([m for m, _ in records], glog.labels))
    names = " ".join(f"{n[:6]:>6}" for n, *_ in data)
    print(f"{'':52} {'raw':>5} {'Cont.':>5} {'gen.':>5} | raw: {names} | Content: {names}")
    for label, changes, kw in SWITCHES:
        score: Callable[..., float] = _score
        with patched(*changes):
            raw = [score(r, t, **kw) for _, t, _, r in data]
            content = [score(c, t, **kw) for _, t, c, _ in data]
            gen = sum(score(m, t, **kw) for m, t in generated) / len(generated)
        print(f"{label:52} {sum(raw) / len(raw):5.3f} {sum(content) / len(content):5.3f} "
              f"{gen:5.3f} |      " + " ".join(f"{x:6.3f}" for x in raw) + " |          "
              + " ".join(f"{x:6.3f}" for x in content), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
