"""Knowledge-base search as engineers use it: the store's full-text ranking, with the articles
whose own error strings recognise the pasted text first.

An article's ``log`` and ``signature`` rules are regexes written for the exact messages of its
problem (``No space left on device|ENOSPC``, ``Address already in use|EADDRINUSE``...). When an
engineer pastes such a message, with host names, paths and numbers of their own around it, the
words alone rank it among articles that merely share some of them; the rule says which article
it is. So: every line of the query is matched like a log line (:meth:`KnownErrorMatcher.
match_line`), the matching articles come first (in the store's order among themselves), then the
store's other hits. A query that matches no rule (most typed words) is the store's search as is.

Matchers are cached per store and rebuilt when its articles change (:meth:`KbStore.kb_version`).
"""

from __future__ import annotations

import threading
import weakref

from diagkit.kb.match import KnownErrorMatcher, load_matcher
from diagkit.store.contract import ArticleNotFound, KbStore, SearchHit

#: Lines of a query matched against the rules at most (a pasted log excerpt).
MAX_LINES = 20

_cache: weakref.WeakKeyDictionary[object, tuple[str, KnownErrorMatcher]] = (
    weakref.WeakKeyDictionary())
_cache_lock = threading.Lock()


def matcher_for(store: KbStore) -> KnownErrorMatcher:
    """The store's matcher, compiled again only when its articles changed."""
    version = store.kb_version()
    with _cache_lock:
        cached = _cache.get(store)
    if cached is not None and cached[0] == version:
        return cached[1]
    matcher = load_matcher(store)
    with _cache_lock:
        _cache[store] = (version, matcher)
    return matcher


def search(store: KbStore, query: str, *, limit: int = 20,
           tag: str | None = None) -> list[SearchHit]:
    """The store's hits for ``query``, articles whose log rules match one of its lines first."""
    hits = store.search_articles(query, limit=limit, tag=tag)
    lines = [line for line in query.splitlines() if line.strip()][:MAX_LINES]
    known: dict[int, str] = {}
    if lines and limit > 0:
        matcher = matcher_for(store)
        for line in lines:
            for issue in matcher.match_line(line):
                known.setdefault(issue.article_id, issue.reasons[0])
    if not known:
        return hits
    first = [h for h in hits if h.article.id in known]
    have = {h.article.id for h in first}
    for article_id, reason in known.items():
        if article_id in have:
            continue
        try:
            article = store.get_article(article_id)
        except ArticleNotFound:
            continue  # deleted since the matcher was built
        if tag is None or tag in article.tags:
            rank = hits[0].rank if hits else 0.0
            first.append(SearchHit(article=article, rank=rank, snippet=f"Recognised: {reason}"))
    rest = [h for h in hits if h.article.id not in known]
    return (first + rest)[:limit]


__all__ = ["MAX_LINES", "matcher_for", "search"]
