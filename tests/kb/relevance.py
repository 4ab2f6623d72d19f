"""The relevance set (relevance.json) and precision at 1 of a store's search over it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SET = json.loads((Path(__file__).with_name("relevance.json")).read_text(encoding="utf-8"))
TUNED: list[tuple[str, str]] = [(q, s) for q, s in SET["tuned"]]
HELD_OUT: list[tuple[str, str]] = [(q, s) for q, s in SET["held_out"]]
HELD_OUT_2: list[tuple[str, str]] = [(q, s) for q, s in SET["held_out_2"]]


def precision_at_1(store: Any, pairs: list[tuple[str, str]]) -> tuple[float, list[str]]:
    """The share of queries (searched as the CLI and the app do: :func:`diagkit.kb.search.search`) whose first hit is the expected article, and the misses (query,
    expected, what came first)."""
    from diagkit.kb.search import search

    misses = []
    for query, slug in pairs:
        hits = search(store, query, limit=3)
        first = hits[0].article.slug if hits else None
        if first != slug:
            misses.append(f"{query!r}: expected {slug}, got "
                          f"{[h.article.slug for h in hits]}")
    return (len(pairs) - len(misses)) / len(pairs), misses
