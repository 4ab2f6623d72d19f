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

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

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
    (re.compile(r"(?<![A-Za-z0-9])(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}"
                r"(?![A-Za-z0-9])"), "<HEX>"),
    (re.compile(r"(?<![A-Za-z0-9.])-?\d+(?:\.\d+)?(?![A-Za-z0-9])"), "<NUM>"),
]
_LEAD = "([{<\"'`"
_TRAIL = ")]}>,;:.!?\"'`"
_KEY = re.compile(r"[A-Za-z_][\w.-]*")
_QUOTED = re.compile(r"\"[^\"]*\s[^\"]*\"")  # double-quoted text with spaces: one value
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
        # a path: keep its words (URL routes tell requests apart), mask ids inside
        return _mask_inner(core)
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
    __slots__ = ("id", "tokens", "count", "first", "last", "example", "levels")

    def __init__(self, cid: int, tokens: list[str], example: str) -> None:
        self.id = cid
        self.tokens = tokens
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.example = example
        self.levels: dict[Level, int] = {}


def _is_variable(token: str) -> bool:
    # tree routing: placeholders and tokens with digits go down the wildcard branch (Drain)
    return (token[0] == "<" and token[-1] == ">") or any(c.isdigit() for c in token)


class SignatureMiner:
    """Drain-style online template miner.

    ``similarity``: share of equal tokens needed to join a template (0..1);
    ``depth``: how many leading tokens split the search tree (templates must agree there,
    which keeps "Accepted password ..." apart from "Failed password ...");
    ``max_children``: a tree node with more distinct tokens than this sends new ones to the
    wildcard branch (a variable word in a leading position must not explode the tree);
    ``max_tokens``: longer messages are cut (their tail rarely tells messages apart).
    """

    def __init__(self, similarity: float = 0.5, *, depth: int = 2, max_children: int = 100,
                 max_tokens: int = 64) -> None:
        self.similarity = similarity
        self.depth = depth
        self.max_children = max_children
        self.max_tokens = max_tokens
        self._clusters: list[_Cluster] = []
        self._root: dict[int, dict] = {}
        self._exact: dict[tuple[str, ...], _Cluster] = {}

    def __len__(self) -> int:
        return len(self._clusters)

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
        cluster.count += 1
        levels = cluster.levels
        levels[level] = levels.get(level, 0) + 1
        if timestamp is not None:
            if cluster.first is None or timestamp < cluster.first:
                cluster.first = timestamp
            if cluster.last is None or timestamp > cluster.last:
                cluster.last = timestamp
        return cluster.id

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
                                 best_sim + best_params / n >= 1.0 and best_sim > 0):
            best.tokens = [a if a == b else WILDCARD for a, b in zip(best.tokens, tokens)]
            return best
        first_line = message.split("\n", 1)[0]
        cluster = _Cluster(len(self._clusters), list(tokens), first_line)
        self._clusters.append(cluster)
        leaf.append(cluster)
        return cluster

    def template(self, signature_id: int) -> str:
        return " ".join(self._clusters[signature_id].tokens)

    def signatures(self) -> list[Signature]:
        """Snapshots of every signature, in id (first-seen) order."""
        return [
            Signature(id=c.id, template=" ".join(c.tokens), count=c.count, first_seen=c.first,
                      last_seen=c.last, example=c.example, levels=dict(c.levels))
            for c in self._clusters
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
    return SignatureSet(miner.signatures(), ids)
