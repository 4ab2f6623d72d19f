"""Recurring message templates ("signatures"): masking plus a Drain-style miner.

A signature is what many records share once their variable parts are removed:
``Failed password for <*> from <IP> port <NUM> ssh2``. Two steps produce it:

1. :func:`mask` replaces values that are variable by their *shape* (IP addresses, numbers,
   UUIDs, hex ids, dates, durations, e-mails, URLs, ``key=value`` values) with typed
   placeholders. It works token by token (whitespace-separated) with a per-token cache, because
   the same words recur millions of times and the regexes would otherwise dominate the run time.
2. :class:`SignatureMiner` groups masked token sequences the way Drain (He et al., ICWS 2017)
   does: same token count, same leading tokens, then the most similar template in that leaf if
   the share of equal tokens reaches ``similarity``. Positions where members differ become
   ``<*>``; this catches variables that look like constants (user names, host names).

Only the first line of a message is used (tracebacks and stack traces vary too much and say
little about *which* message it is), and only its first ``max_tokens`` tokens.

Pure Python, no Qt; ~several hundred thousand messages/s on simple lines (see
``benchmarks/signatures_eval.py``).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from diagkit.logs.model import Level, Record

WILDCARD = "<*>"

# --- masking ---------------------------------------------------------------------------------

# Whole-token shapes, tried in order (most specific first: a UUID is also hex, a time also
# looks like an IPv6 fragment, an IP is also a dotted number).
_HEXD = "[0-9a-fA-F]"
_FULL: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"{_HEXD}{{8}}-{_HEXD}{{4}}-{_HEXD}{{4}}-{_HEXD}{{4}}-{_HEXD}{{12}}"), "<UUID>"),
    (re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+"), "<URL>"),
    (re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "<EMAIL>"),
    (re.compile(rf"{_HEXD}{{2}}(?:[:-]{_HEXD}{{2}}){{5}}"), "<MAC>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
                r"(?:Z|[+-]\d{2}:?\d{2})?)?"), "<DATE>"),
    (re.compile(r"\d{1,2}/(?:\d{1,2}|[A-Z][a-z]{2})/\d{2,4}(?::\d{2}:\d{2}:\d{2})?"), "<DATE>"),
    (re.compile(r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<TIME>"),
    (re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2}|:\d{1,5})?"), "<IP>"),
    # IPv6: hex groups and colons with "::" or a hex letter (so "10:20:30" stays a time above)
    (re.compile(r"\[?(?=[0-9a-fA-F:]*(?:::|[a-fA-F]))(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}"
                r"(?:%\w+)?(?:\]:\d{1,5}|\])?"), "<IP>"),
    (re.compile(r"[A-Za-z]:\\[^\s]*"), "<PATH>"),
    (re.compile(r"0[xX][0-9a-fA-F]+"), "<HEX>"),
    (re.compile(r"[-+]?\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d)"), "<DUR>"),
    (re.compile(r"[-+]?\d+(?:\.\d+)?(?:[kKMGTP]i?B|B|bytes|[kKMGT])"), "<SIZE>"),
    (re.compile(r"[-+]?\d+(?:[.,]\d+)*%?"), "<NUM>"),
    # long hex ids, git shas: at least one digit and one letter (plain words stay words)
    (re.compile(r"(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}"), "<HEX>"),
]
# Inside a token that is not one value as a whole: values delimited by punctuation
# ("sshd[1234]", "pid:42", "/api/users/17", "(3/5)"); digits glued to letters ("ssh2", "eth0")
# stay, they are usually part of a name.
_INNER: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"{_HEXD}{{8}}-{_HEXD}{{4}}-{_HEXD}{{4}}-{_HEXD}{{4}}-{_HEXD}{{12}}"), "<UUID>"),
    (re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\w.])"), "<IP>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)?"), "<DATE>"),
    (re.compile(r"\b0[xX][0-9a-fA-F]+\b"), "<HEX>"),
    (re.compile(r"(?<![A-Za-z0-9])(?=[0-9a-fA-F]*[0-9])(?:(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{7,}"
                r"|[0-9a-fA-F]{10,})(?![A-Za-z0-9])"), "<HEX>"),
    (re.compile(r"(?<![A-Za-z0-9.])-?\d+(?:\.\d+)?(?![A-Za-z0-9])"), "<NUM>"),
    (re.compile(r"(?<=\.)\d{7,}(?=\.)"), "<HEX>"),  # "app.2924726.js": a short sha, all digits
]
_LEAD = "([{<\"'`"
_TRAIL = ")]}>,;:.!?\"'`"
_KEY = re.compile(r"[A-Za-z_][\w.-]*")
# double-quoted text with spaces, quoted as a whole token: one value ('request: "GET / HTTP/1.1",')
_QUOTED = re.compile(r"(?<!\S)\"[^\"]*\s[^\"]*\"(?=[\s,;:)\]]|$)")
_QUERY_VALUE = re.compile(r"=[^&;]*")
_TOKEN_CACHE_MAX = 200_000
_token_cache: dict[str, str] = {}


def _mask_core(core: str) -> str:
    for rx, placeholder in _FULL:
        if rx.fullmatch(core):
            return placeholder
    eq = core.find("=")
    if eq > 0 and _KEY.fullmatch(core, 0, eq):
        # key=value: the value is a variable by convention ("user=bob", "status=500")
        return core[: eq + 1] + (WILDCARD if eq + 1 < len(core) else "")
    if core.startswith("/"):
        # a path: keep its words (URL routes tell requests apart), mask ids inside and the
        # values of a query string
        path, q, query = core.partition("?")
        if q:
            query = _QUERY_VALUE.sub("=" + WILDCARD, query)
        return _mask_inner(path) + q + query
    if any(c.isdigit() for c in core):
        return _mask_inner(core)
    return core


def _mask_inner(text: str) -> str:
    for rx, placeholder in _INNER:
        text = rx.sub(placeholder, text)
    return text


def mask_token(token: str) -> str:
    """Mask one whitespace-free token (cached: the same tokens recur)."""
    hit = _token_cache.get(token)
    if hit is not None:
        return hit
    start, end = 0, len(token)
    while start < end and token[start] in _LEAD:
        start += 1
    while end > start and token[end - 1] in _TRAIL:
        end -= 1
    core = token[start:end]
    masked = token if not core else token[:start] + _mask_core(core) + token[end:]
    if len(_token_cache) >= _TOKEN_CACHE_MAX:
        _token_cache.clear()  # unique values (ids, numbers) would otherwise grow it forever
    _token_cache[token] = masked
    return masked


def mask_tokens(message: str, max_tokens: int = 64) -> tuple[str, ...]:
    """The masked tokens of a message's first line (at most ``max_tokens``)."""
    nl = message.find("\n")
    line = message if nl < 0 else message[:nl]
    if '"' in line:
        line = _QUOTED.sub('"<*>"', line)
    tokens = line.split(None, max_tokens)
    if len(tokens) > max_tokens:
        del tokens[max_tokens:]
    get = _token_cache.get
    return tuple([get(t) or mask_token(t) for t in tokens])


def mask(message: str) -> str:
    """Replace the variable parts of a message's first line with typed placeholders.

    >>> mask("Failed password for bob from 10.0.0.7 port 52214 ssh2")
    'Failed password for bob from <IP> port <NUM> ssh2'

    Placeholders: ``<UUID> <URL> <EMAIL> <MAC> <DATE> <TIME> <IP> <PATH> <HEX> <DUR> <SIZE>
    <NUM>``, and ``<*>`` for ``key=value`` values and double-quoted text with spaces. Words
    that are variables only by position (user names) stay: the miner finds those.
    Whitespace is normalised to single spaces.
    """
    return " ".join(mask_tokens(message, max_tokens=1 << 30))


# --- signatures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One recurring message template and what was seen of it."""

    id: int
    template: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    example: str  # the first message (first line) that created it
    levels: dict[Level, int] = field(default_factory=dict)

    @property
    def worst_level(self) -> Level:
        return max(self.levels, default=Level.UNKNOWN)


class _Cluster:
    __slots__ = ("count", "example", "first", "id", "last", "levels", "merged_into", "tokens")

    def __init__(self, cid: int, tokens: list[str], example: str) -> None:
        self.id = cid
        self.tokens = tokens
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.example = example
        self.levels: dict[Level, int] = {}
        self.merged_into: _Cluster | None = None

    def live(self) -> _Cluster:
        c = self
        while c.merged_into is not None:
            c = c.merged_into
        return c


def _is_variable(token: str) -> bool:
    # tree routing: placeholders and tokens with digits go down the wildcard branch (Drain)
    return (token[0] == "<" and token[-1] == ">") or any(c.isdigit() for c in token)


_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS",
                           "CONNECT", "TRACE"})


def _is_request_line(tokens: tuple[str, ...]) -> bool:
    # "GET /api/users/<NUM> HTTP/<NUM>": the path is the route, a constant of its signature
    # (access-log messages may carry the status after it)
    return (3 <= len(tokens) <= 4 and tokens[0] in _HTTP_METHODS
            and tokens[2].startswith("HTTP/"))


class SignatureMiner:
    """Drain-style online template miner.

    ``similarity``: share of equal tokens needed to join a template (0..1);
    ``depth``: how many leading tokens split the search tree (templates must agree there,
    which keeps "Accepted password ..." apart from "Failed password ...");
    ``max_children``: a tree node with more distinct tokens than this sends new ones to the
    wildcard branch (a variable word in a leading position must not explode the tree);
    ``max_tokens``: longer messages are cut (their tail rarely tells messages apart);
    ``merge_after``: templates that differ in one position only are merged into one with
    ``<*>`` there once this many distinct values were seen: a variable in a leading position
    ("nginx.service: Failed ...", "Started ssh.service.") cannot be found by the tree alone,
    while constants that tell templates apart ("closed"/"reset") rarely come in 4 or more.
    HTTP request lines (``GET /path HTTP/1.1``) are grouped by method and masked path exactly.

    Ids are given in first-seen order. A merge keeps the lower id: :meth:`resolve` maps an id
    returned earlier to the signature that holds it now.
    """

    def __init__(self, similarity: float = 0.5, *, depth: int = 2, max_children: int = 100,
                 max_tokens: int = 64, merge_after: int = 4) -> None:
        self.similarity = similarity
        self.depth = depth
        self.max_children = max_children
        self.max_tokens = max_tokens
        self.merge_after = merge_after
        self._clusters: list[_Cluster] = []
        self._root: dict[int, dict] = {}
        self._exact: dict[tuple[str, ...], _Cluster] = {}
        self._by_len: dict[int, list[_Cluster]] = {}

    def __len__(self) -> int:
        return sum(1 for c in self._clusters if c.merged_into is None)

    def add(self, message: str, *, level: Level = Level.UNKNOWN, timestamp: datetime | None = None,
            record_index: int | None = None) -> int:
        """Add one message (the message only: no timestamp/level prefix); returns its signature id.

        ``record_index`` is accepted for callers that track records; the mapping itself is kept
        by :func:`mine`.
        """
        tokens = mask_tokens(message, self.max_tokens)
        cluster = self._exact.get(tokens)
        if cluster is None:
            cluster = self._match(tokens, message)
            if len(self._exact) >= _TOKEN_CACHE_MAX:
                self._exact.clear()
            self._exact[tokens] = cluster
        elif cluster.merged_into is not None:
            cluster = self._exact[tokens] = cluster.live()
        cluster.count += 1
        levels = cluster.levels
        levels[level] = levels.get(level, 0) + 1
        if timestamp is not None:
            if cluster.first is None or timestamp < cluster.first:
                cluster.first = timestamp
            if cluster.last is None or timestamp > cluster.last:
                cluster.last = timestamp
        return cluster.id

    def resolve(self, signature_id: int) -> int:
        """The id of the signature that now holds ``signature_id`` (after merges)."""
        return self._clusters[signature_id].live().id

    def _leaf(self, tokens: tuple[str, ...]) -> list[_Cluster]:
        node = self._root.setdefault(len(tokens), {})
        for token in tokens[: self.depth]:
            key = WILDCARD if _is_variable(token) else token
            child = node.get(key)
            if child is None:
                if len(node) >= self.max_children:
                    key = WILDCARD
                    child = node.get(key)
                if child is None:
                    child = node[key] = {}
            node = child
        leaf = node.get(None)
        if leaf is None:
            leaf = node[None] = []
        return leaf

    def _match(self, tokens: tuple[str, ...], message: str) -> _Cluster:
        if _is_request_line(tokens):
            return self._new(tokens, message, [])
        leaf = self._leaf(tokens)
        n = len(tokens)
        best: _Cluster | None = None
        best_sim, best_params = -1.0, -1
        for cluster in leaf:
            same = params = 0
            for a, b in zip(cluster.tokens, tokens):
                if a == b:
                    same += 1
                elif a == WILDCARD:
                    params += 1
            sim = (same / n) if n else 1.0
            if sim > best_sim or (sim == best_sim and params > best_params):
                best, best_sim, best_params = cluster, sim, params
        if best is not None and (best_sim >= self.similarity or n == 0 or
                                 (best_sim > 0 and same + params == n)):
            best.tokens = [a if a == b else WILDCARD for a, b in zip(best.tokens, tokens)]
            return best
        cluster = self._new(tokens, message, leaf)
        return self._merge_siblings(cluster, leaf)

    def _new(self, tokens: tuple[str, ...], message: str, leaf: list[_Cluster]) -> _Cluster:
        cluster = _Cluster(len(self._clusters), list(tokens), message.split("\n", 1)[0])
        self._clusters.append(cluster)
        leaf.append(cluster)
        return cluster

    def _merge_siblings(self, cluster: _Cluster, leaf: list[_Cluster]) -> _Cluster:
        # Called for a new cluster only (rare next to messages): compare it with the live
        # templates of its length; those that agree with it everywhere but at one position p
        # (a <*> of theirs agrees with anything) are the values seen at p.
        tokens = cluster.tokens
        n = len(tokens)
        peers = self._by_len.setdefault(n, [])
        peers[:] = [c for c in peers if c.merged_into is None]
        if n >= 2 and self.merge_after > 1:
            by_pos: dict[int, list[_Cluster]] = {}
            depth = self.depth
            for c in peers:
                diff = -1  # the one leading (tree) position where they differ
                same = 0
                fits = True
                for q, (a, b) in enumerate(zip(c.tokens, tokens)):
                    if a == b:
                        same += 1
                    elif a != WILDCARD:
                        fits = False
                        if q < depth:
                            if diff >= 0:
                                break
                            diff = q
                else:
                    if fits:  # fits that template as it is (it sits in another leaf)
                        self._absorb(c, cluster, leaf)
                        return c
                    if diff >= 0 and same >= self.similarity * n and any(
                            t[0] != "<" for q, t in enumerate(tokens) if q != diff
                            and c.tokens[q] == t):
                        by_pos.setdefault(diff, []).append(c)
            for p, group in by_pos.items():
                if len(group) + 1 >= self.merge_after or any(
                        c.tokens[p] == WILDCARD for c in group):
                    target = min(group, key=lambda c: c.id)
                    for other in [*group, cluster]:
                        if other is not target:
                            self._absorb(target, other, leaf)
                    return target
        peers.append(cluster)
        return cluster

    def _absorb(self, target: _Cluster, other: _Cluster, leaf: list[_Cluster]) -> None:
        target.tokens = [a if a == b else WILDCARD for a, b in zip(target.tokens, other.tokens)]
        target.count += other.count
        for lvl, k in other.levels.items():
            target.levels[lvl] = target.levels.get(lvl, 0) + k
        if other.first is not None and (target.first is None or other.first < target.first):
            target.first = other.first
        if other.last is not None and (target.last is None or other.last > target.last):
            target.last = other.last
        other.merged_into = target
        # the merged template stays findable from the other one's leaf
        for lst in (leaf,):
            for i, c in enumerate(lst):
                if c is other:
                    lst[i] = target
        other_leaf = self._leaf(tuple(other.tokens))
        for i, c in enumerate(other_leaf):
            if c is other:
                other_leaf[i] = target

    def template(self, signature_id: int) -> str:
        return " ".join(self._clusters[signature_id].live().tokens)

    def signatures(self) -> list[Signature]:
        """Snapshots of every signature, in id (first-seen) order (merged ones are left out)."""
        return [
            Signature(id=c.id, template=" ".join(c.tokens), count=c.count, first_seen=c.first,
                      last_seen=c.last, example=c.example, levels=dict(c.levels))
            for c in self._clusters if c.merged_into is None
        ]


def rank(signatures: Iterable[Signature], *, by: str = "count") -> list[Signature]:
    """Order signatures: ``by="count"`` most frequent first; ``by="level"`` worst level first,
    then most frequent (errors that recur are what a support engineer reads first)."""
    if by == "count":
        return sorted(signatures, key=lambda s: (-s.count, s.id))
    if by == "level":
        return sorted(signatures, key=lambda s: (-int(s.worst_level), -s.count, s.id))
    raise ValueError(f"unknown ranking {by!r}: use 'count' or 'level'")


@dataclass(frozen=True)
class SignatureSet:
    """The result of :func:`mine`: signatures in id order and which record went where."""

    signatures: list[Signature]
    record_ids: dict[int, int]  # record index -> signature id

    def __iter__(self) -> Iterator[Signature]:
        return iter(self.signatures)

    def __len__(self) -> int:
        return len(self.signatures)

    def get(self, signature_id: int) -> Signature:
        return self.signatures[signature_id]

    def top(self, n: int = 10, *, by: str = "count") -> list[Signature]:
        return rank(self.signatures, by=by)[:n]

    def records_of(self, signature_id: int) -> list[int]:
        return [r for r, s in self.record_ids.items() if s == signature_id]


def mine(records: Iterable[Record], *, similarity: float = 0.5, depth: int = 2) -> SignatureSet:
    """Mine the signatures of records (their ``message``, level and timestamp)."""
    miner = SignatureMiner(similarity, depth=depth)
    add = miner.add
    ids: dict[int, int] = {}
    for rec in records:
        ids[rec.index] = add(rec.message, level=rec.level, timestamp=rec.timestamp)
    # merges leave gaps: number the surviving signatures 0..n-1, still in first-seen order
    live = miner.signatures()
    renumber = {s.id: i for i, s in enumerate(live)}
    resolved = {old: renumber[miner.resolve(old)] for old in set(ids.values())}
    signatures = [dataclasses.replace(s, id=renumber[s.id]) for s in live]
    return SignatureSet(signatures, {r: resolved[s] for r, s in ids.items()})


def mine_logs(
    logs: Sequence[object],
    *,
    similarity: float = 0.5,
    depth: int = 2,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[list[Signature], list[np.ndarray]]:
    """Mine every record of several log files with one miner, so a message has one signature
    across hosts. Returns the signatures (ids 0..n-1, first-seen order) and, per file, an int32
    array mapping record index -> signature id (-1 where mining was cancelled)."""
    miner = SignatureMiner(similarity, depth=depth)
    add = miner.add
    raw: list[np.ndarray] = []
    total = sum(log.record_count for log in logs) or 1  # type: ignore[attr-defined]
    done = 0
    for log in logs:
        count = log.record_count  # type: ignore[attr-defined]
        ids = np.full(count, -1, dtype=np.int64)
        for i in range(count):
            if cancel is not None and i % 4096 == 0 and cancel.is_set():
                break
            rec = log.record(i)  # type: ignore[attr-defined]
            ids[i] = add(rec.message, level=rec.level, timestamp=rec.timestamp)
            if progress is not None and i % 65536 == 0:
                progress((done + i) / total)
        done += count
        raw.append(ids)
    live = miner.signatures()
    renumber = {s.id: n for n, s in enumerate(live)}
    maps = []
    for ids in raw:
        out = np.full(len(ids), -1, dtype=np.int32)
        seen = ids >= 0
        if seen.any():
            unique, inverse = np.unique(ids[seen], return_inverse=True)
            lookup = np.array([renumber[miner.resolve(int(u))] for u in unique], dtype=np.int32)
            out[seen] = lookup[inverse]
        maps.append(out)
    return [dataclasses.replace(s, id=renumber[s.id]) for s in live], maps
