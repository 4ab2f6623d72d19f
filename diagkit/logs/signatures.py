"""Recurring message templates ("signatures"): masking plus a Drain-style miner.

A signature is what many records share once their variable parts are removed:
``Failed password for <*> from <IP> port <NUM> ssh2``. Two steps produce it:

1. :func:`mask` replaces values that are variable by their *shape* (IP addresses v4 and v6,
   host:port, numbers, UUIDs, hex ids, dates, durations and sizes with their unit, booleans,
   e-mails, URLs, ``key=value`` values; HTTP status codes keep their class, ``4xx``) with typed
   placeholders. It works token by token (whitespace-separated) with a per-token cache, because
   the same words recur millions of times and the regexes would otherwise dominate the run time.
2. :class:`SignatureMiner` groups masked token sequences the way Drain (He et al., ICWS 2017)
   does - same token count, same leading tokens, then the most similar template in that leaf -
   with two rules measured on real labelled logs: a *word* that differs is another event until
   its position has taken several words (then it is a variable: user names), and a log header
   left in the message is skipped.

Only the first line of a message is used (tracebacks and stack traces vary too much and say
little about *which* message it is), and only its first ``max_tokens`` tokens.

Pure Python, no Qt. :func:`mine_logs` reads a LogFile in bulk (millions of records in seconds).
Grouping accuracy on the Loghub-2k benchmark and throughput: ``benchmarks/signatures_eval.py``;
what each rule is worth: ``benchmarks/signatures_ablation.py``; the figures: docs/signatures.md.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from diagkit.logs.model import Level, Record

WILDCARD = "<*>"

# --- masking ---------------------------------------------------------------------------------

# Whole-token shapes, tried in order (most specific first: a UUID is also hex, a time also
# looks like an IPv6 fragment, an IP is also a dotted number).
_HEXD = "[0-9a-fA-F]"
_ZONE = r"(?:Z|[+-]\d{2}:?\d{2})?"
# a date with its time glued on by "T", "_", "-" or a space-free separator; the time's own
# separators may be ":" or "." (IBM style 2005-06-03-15.42.50.675872)
_DATE_TIME = (r"\d{4}(?P<dsep>[-/.])\d{1,2}(?P=dsep)\d{1,2}"
              r"(?:[T_-]\d{1,2}(?P<tsep>[:.])\d{2}(?:(?P=tsep)\d{2})?(?:[.,:]\d+)?)?" + _ZONE)
_IPV6 = (r"\[?(?=[0-9a-fA-F:.]*(?:::|[a-fA-F]))(?:[0-9a-fA-F]{0,4}:){2,7}"
         r"(?:[0-9a-fA-F]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?:%[\w.]+)?(?:/\d{1,3})?"
         r"(?:\]:\d{1,5}|\])?")
# host names with a port ("proxy.example.org:8080"); a source file with a line number
# ("Foo.java:12") is not a host
_CODE_EXT = "java|py|pyc|c|cc|cpp|cxx|h|hh|hpp|go|rs|js|mjs|ts|tsx|kt|scala|rb|php|cs|m|swift|pl"
_HOST_PORT = (rf"(?:localhost|(?=[a-z0-9-]*[a-z])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*"
              rf"\.(?!(?:{_CODE_EXT}):)[a-z]{{2,24}}):\d{{1,5}}")
_FULL: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"{_HEXD}{{8}}-{_HEXD}{{4}}-{_HEXD}{{4}}-{_HEXD}{{4}}-{_HEXD}{{12}}"), "<UUID>"),
    (re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+"), "<URL>"),
    (re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "<EMAIL>"),
    (re.compile(rf"{_HEXD}{{2}}(?:[:-]{_HEXD}{{2}}){{5}}"), "<MAC>"),
    (re.compile(_DATE_TIME), "<DATE>"),
    (re.compile(r"\d{8}[-T_]\d{1,2}:\d{1,2}:\d{1,2}(?:[.,:]\d+)?" + _ZONE), "<DATE>"),  # 20171223-22:15:29
    (re.compile(r"\d{1,2}/(?:\d{1,2}|[A-Z][a-z]{2})/\d{2,4}(?::\d{2}:\d{2}:\d{2})?"), "<DATE>"),
    (re.compile(r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,:]\d+)?" + _ZONE), "<TIME>"),
    (re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2}|:\d{1,5})?"), "<IP>"),
    (re.compile(_IPV6), "<IP>"),
    (re.compile(_HOST_PORT), "<HOST>"),
    (re.compile(r"[A-Za-z]:\\[^\s]*"), "<PATH>"),
    (re.compile(r"0[xX][0-9a-fA-F]+"), "<HEX>"),
    (re.compile(r"[-+]?\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d)"), "<DUR>"),
    (re.compile(r"[-+]?\d+(?:\.\d+)?(?:[kKMGTP]i?B|B|bytes|[kKMGT])"), "<SIZE>"),
    (re.compile(r"[-+]?\d+(?:[.,]\d+)*%?"), "<NUM>"),
    # long hex ids, git shas: at least one digit and one letter (plain words stay words)
    (re.compile(r"(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}"), "<HEX>"),
    (re.compile(r"(?i:true|false)"), "<BOOL>"),
]
# Inside a token that is not one value as a whole: values delimited by punctuation
# ("sshd[1234]", "pid:42", "/api/users/17", "(3/5)"); digits glued to letters ("ssh2", "eth0")
# stay, they are usually part of a name.
_INNER: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"{_HEXD}{{8}}-{_HEXD}{{4}}-{_HEXD}{{4}}-{_HEXD}{{4}}-{_HEXD}{{12}}"), "<UUID>"),
    (re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\w.])"), "<IP>"),
    (re.compile(r"(?<![\w:.])(?=[0-9a-fA-F:]*::|(?:[0-9a-fA-F]{1,4}:){5})"
                r"[0-9a-fA-F:]{2,}[0-9a-fA-F](?![\w:])"), "<IP>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}(?:[T _-]\d{2}[:.]\d{2}(?:[:.]\d{2})?(?:[.,]\d+)?)?"),
     "<DATE>"),
    (re.compile(r"\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?"), "<TIME>"),
    (re.compile(r"\b0[xX][0-9a-fA-F]+\b"), "<HEX>"),
    # an object's identity hash ("Monitor@712d093", "Foo@1a2b"): hex whatever its digits
    (re.compile(r"(?<=[A-Za-z]@)[0-9a-fA-F]{4,}\b"), "<HEX>"),
    (re.compile(r"(?<![A-Za-z0-9])(?=[0-9a-fA-F]*[0-9])(?:(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{7,}"
                r"|[0-9a-fA-F]{10,})(?![A-Za-z0-9])"), "<HEX>"),
    (re.compile(r"(?<![A-Za-z0-9.])-?\d+(?:\.\d+)?(?![A-Za-z0-9])"), "<NUM>"),
    (re.compile(r"(?<=\.)\d{7,}(?=\.)"), "<HEX>"),  # "app.2924726.js": a short sha, all digits
    (re.compile(r"(?<=[:=])(?i:true|false)\b"), "<BOOL>"),  # "overlap:false"
]
_LEAD = "([{<\"'`"
_TRAIL = ")]}>,;:.!?\"'`"
_KEY = re.compile(r"[A-Za-z_][\w.-]*")
# double-quoted text with spaces, standing alone or as a value (`tag="View Lock",`): one value.
# A quoted HTTP request line keeps its method, path and protocol (they tell requests apart).
_QUOTED = re.compile(r"(?<![^\s=:(\[{,])\"(?!(?:GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS|CONNECT|"
                     r"TRACE|PROPFIND) \S+ HTTP/)[^\"]*\s[^\"]*\"(?=[\s,;:)\]}]|$)")
_QUERY_VALUE = re.compile(r"=[^&;]*")
# "<1 sec", ">=5", "~3ms": a bound on a number is the number's shape
_BOUND = re.compile(r"(?:[<>]=?|~)(?=[-+]?\d)")
# HTTP status codes keep their class (2xx, 4xx...): a 200 and a 404 are different events.
# A whole-token 100-599 is masked to <NUM1>..<NUM5> first; _finish() turns that into the class
# where the token before says it is a status, and into <NUM> everywhere else.
_STATUS_NUM = re.compile(r"[1-5]\d\d")
_BOOLS = frozenset({"true", "false"})
_STATUS_KEYS = frozenset({"status", "code", "status_code", "statuscode", "http_status", "sc",
                          "response_code", "http_code", "httpstatus", "rc"})
_TOKEN_CACHE_MAX = 200_000
_token_cache: dict[str, str] = {}


# the shapes above as one alternation (first that matches wins, as in the list): one regex
# call per new token instead of one per shape
_FULL_RX = re.compile("|".join(f"(?P<s{i}>{rx.pattern})" for i, (rx, _) in enumerate(_FULL)))
_FULL_BY_GROUP = {f"s{i}": placeholder for i, (_, placeholder) in enumerate(_FULL)}
# what a token needs to be anything but a plain word
_NOT_PLAIN = re.compile(r"[\d:/@\\=]")


def _mask_core(core: str) -> str:
    if core.isdigit():  # the most common value by far
        return f"<NUM{core[0]}>" if _STATUS_NUM.fullmatch(core) else "<NUM>"
    if _NOT_PLAIN.search(core) is None and len(core) != 17 and core.lower() not in _BOOLS:
        return core  # a word (a MAC or a boolean would need a digit, ":" or these lengths)
    m = _FULL_RX.fullmatch(core)
    if m is not None:
        return _FULL_BY_GROUP[m.lastgroup]  # type: ignore[index]
    eq = core.find("=")
    if eq > 0 and _KEY.fullmatch(core, 0, eq):
        # key=value: the value is a variable by convention ("user=bob"), but an HTTP status
        # keeps its class ("status=404" -> "status=4xx")
        value = core[eq + 1:]
        if core[:eq].lower() in _STATUS_KEYS and _STATUS_NUM.fullmatch(value):
            return f"{core[: eq + 1]}{value[0]}xx"
        return core[: eq + 1] + (WILDCARD if value else "")
    if core.startswith("/"):
        # a path: keep its words (URL routes tell requests apart), mask ids inside and the
        # values of a query string
        path, q, query = core.partition("?")
        if q:
            query = _QUERY_VALUE.sub("=" + WILDCARD, query)
        return _mask_inner(path) + q + query
    if any(c.isdigit() for c in core):
        return _mask_inner(core)
    if ":" in core or "=" in core:
        return _mask_inner(core)  # "overlap:false"
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
    bound = _BOUND.match(token) if token[0] in "<>~" else None
    rest = token[bound.end():] if bound else token
    left = rest.lstrip(_LEAD)
    core = left.rstrip(_TRAIL)
    start = len(token) - len(left)
    end = start + len(core)
    if "<" in core and token[end:end + 1] == ">":
        core += ">"  # the end of a placeholder ('tag="<*>",'), not punctuation
        end += 1
    lead = "" if bound else token[:start]
    trail = token[end:]
    if not core:
        masked = token
    else:
        shape = _mask_core(core)
        if shape == "<IP>" and lead.endswith("[") and "]" in core:
            lead = lead[:-1]  # "[::1]:8080": the brackets are the address's
        eq = core.find("=")
        if eq > 0 and shape.endswith("=" + WILDCARD) and core[eq + 1:eq + 2] in "\"'":
            trail = trail.replace(core[eq + 1], "", 1)  # the value's closing quote went with it
        masked = lead + shape + trail
    if len(_token_cache) >= _TOKEN_CACHE_MAX:
        _token_cache.clear()  # unique values (ids, numbers) would otherwise grow it forever
    _token_cache[token] = masked
    return masked


def _masked(message: str, max_tokens: int, pipes: bool = False) -> tuple[str, ...]:
    """The masked tokens of a message's first line, before :func:`_finish` (the hot path: one
    split and a cache look-up per token). ``pipes``: "|" separates tokens too (headers like
    ``time|component|pid|message`` glue fields with it)."""
    nl = message.find("\n")
    line = message if nl < 0 else message[:nl]
    if pipes and "|" in line:
        line = line.replace("|", " | ")
    if '"' in line:
        line = _QUOTED.sub('"<*>"', line)
    tokens = line.split(None, max_tokens)
    if len(tokens) > max_tokens:
        del tokens[max_tokens:]
    get = _token_cache.get
    return tuple([get(t) or mask_token(t) for t in tokens])


# Unit words after a number make one typed value of both ("87.5 KB", "19.05 seconds")
_DUR_UNITS = frozenset({"ns", "us", "µs", "ms", "s", "sec", "secs", "second", "seconds", "min",
                        "mins", "minute", "minutes", "h", "hr", "hrs", "hour", "hours", "day",
                        "days", "msec", "msecs", "usec", "usecs", "nsec", "millis",
                        "milliseconds", "microseconds", "nanoseconds"})
_SIZE_UNITS = frozenset({"b", "byte", "bytes", "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib",
                         "tib", "k", "kbytes", "mbytes", "gbytes", "octets", "blocks",
                         "sectors", "pages"})
_STATUS_PLACEHOLDERS = ("<NUM1>", "<NUM2>", "<NUM3>", "<NUM4>", "<NUM5>")
_STATUS_WORDS = frozenset({"status", "code", "status_code", "statuscode", "http_status",
                           "response", "returned", "rc", "sc"})
_finish_cache: dict[tuple[str, ...], tuple[str, ...]] = {}


def _finish(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """What needs a token's neighbours: a number and its unit word become one ``<DUR>`` or
    ``<SIZE>``; a status code after ``status``/``HTTP/1.1`` becomes its class (``4xx``), any
    other 100-599 a ``<NUM>``. Depends on the masked tokens only, so it is cached by them."""
    hit = _finish_cache.get(tokens)
    if hit is not None:
        return hit
    out: list[str] = []
    n = len(tokens)
    i = 0
    while i < n:
        t = tokens[i]
        if "<NUM" in t:
            for ph in _STATUS_PLACEHOLDERS:
                if ph in t:
                    prev = out[-1] if out else ""
                    word = prev.rstrip(":=,").lower()
                    if word in _STATUS_WORDS or prev.startswith("HTTP/") or \
                            prev.endswith(('HTTP/<NUM>"', "HTTP/<NUM>")):
                        t = t.replace(ph, f"{ph[4]}xx")
                    else:
                        t = t.replace(ph, "<NUM>")
                    break
            if t.endswith("<NUM>") and i + 1 < n:
                # "<NUM>" followed by a unit ("KB)", "sec,"): one value
                nxt = tokens[i + 1]
                end = len(nxt)
                while end and nxt[end - 1] in _TRAIL:
                    end -= 1
                unit = nxt[:end].lower()
                kind = "<DUR>" if unit in _DUR_UNITS else "<SIZE>" if unit in _SIZE_UNITS else ""
                if kind:
                    t = t[: -len("<NUM>")] + kind + nxt[end:]
                    i += 1
        out.append(t)
        i += 1
    if not _CALENDAR.isdisjoint(t.strip(_LEAD + _TRAIL) for t in out):
        _calendar_dates(out)
    result = tuple(out)
    if len(_finish_cache) >= _TOKEN_CACHE_MAX:
        _finish_cache.clear()
    _finish_cache[tokens] = result
    return result


_MONTHS = frozenset(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct",
                     "Nov", "Dec", "January", "February", "March", "April", "June", "July",
                     "August", "September", "October", "November", "December"])
_DAYS = frozenset(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Monday", "Tuesday",
                   "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
_CALENDAR = _MONTHS | _DAYS


def _calendar_dates(out: list[str]) -> None:
    """Month and weekday names next to numbers are parts of a date ("at Fri Jul  1 07:57:30
    2005"): <DATE>, so the weekday does not read as a word that tells events apart."""
    def core(t: str) -> tuple[int, int]:
        a, b = 0, len(t)
        while a < b and t[a] in _LEAD:
            a += 1
        while b > a and t[b - 1] in _TRAIL:
            b -= 1
        return a, b

    def numeric(k: int) -> bool:
        return 0 <= k < len(out) and ("<NUM>" in out[k] or "<TIME>" in out[k] or "<DATE>" in out[k])

    for names in (_MONTHS, _DAYS):  # months first: a weekday is dated by the month after it
        for k, t in enumerate(out):
            a, b = core(t)
            if t[a:b] in names and (numeric(k - 1) or numeric(k + 1)):
                out[k] = t[:a] + "<DATE>" + t[b:]


def mask_tokens(message: str, max_tokens: int = 64) -> tuple[str, ...]:
    """The masked tokens of a message's first line (at most ``max_tokens``)."""
    return _finish(_masked(message, max_tokens))


def mask(message: str) -> str:
    """Replace the variable parts of a message's first line with typed placeholders.

    >>> mask("Failed password for bob from 10.0.0.7 port 52214 ssh2")
    'Failed password for bob from <IP> port <NUM> ssh2'

    Placeholders: ``<UUID> <URL> <EMAIL> <MAC> <DATE> <TIME> <IP> <HOST> <PATH> <HEX> <DUR>
    <SIZE> <NUM> <BOOL>``, ``2xx``..``5xx`` for HTTP status codes, and ``<*>`` for
    ``key=value`` values and double-quoted text with spaces. Words that are variables only by
    position (user names) stay: the miner finds those. Whitespace is normalised to single
    spaces.
    """
    return " ".join(mask_tokens(message, max_tokens=1 << 30))


# --- what the miner compares -------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"<[A-Z*]+\d?>|[1-5]xx")
_NOT_WORD = frozenset("/@\\")
_word_cache: dict[str, str | None] = {}


_DIGIT_GROUPS = re.compile(r"\d+")


def _word(token: str) -> str | None:
    """A token's letters when it reads as a constant word ("HTTPS", "SOCKS5", "icbi....<NUM>",
    "SCREEN_ON"), else None: placeholders, paths, key=values, and names with several numbers in
    them (host names "adsl-63-197-98-106.dsl.example.net", node ids "R02-M1-N0"), which are
    values. Two tokens whose words differ are different events until many values prove the
    position variable (see SignatureMiner)."""
    hit = _word_cache.get(token, 0)
    if hit != 0:
        return hit  # type: ignore[return-value]
    word: str | None = None
    eq = token.find("=")
    if eq > 0:
        token = token[:eq]  # key=value: the key is the word
    if token != WILDCARD and _NOT_WORD.isdisjoint(token):
        bare, values = _PLACEHOLDER.subn("", token)
        groups = _DIGIT_GROUPS.findall(bare)
        if len(groups) + values < 2 and sum(map(len, groups)) < 3:
            word = "".join(c for c in bare if c.isalpha()) or None
    if len(_word_cache) >= _TOKEN_CACHE_MAX:
        _word_cache.clear()
    _word_cache[token] = word
    return word


_LEVEL_WORDS = frozenset({"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR",
                          "CRIT", "CRITICAL", "FATAL", "SEVERE", "ALERT", "EMERG", "EMERGENCY",
                          "VERBOSE", "FINE", "FINER", "FINEST", "CONFIG"})
_LEVEL_LETTERS = frozenset("VDIWEFA")
_TIMED = ("<DATE>", "<TIME>")
_HEADER_SCAN = 10


def _is_level(token: str, at_run_end: bool) -> bool:
    """A level word of a header: upper case anywhere in the scanned prefix, lower case or one
    letter (logcat's ``D``) only in brackets or right after the leading values."""
    core = token.strip("[]()<>:|,")
    if core in _LEVEL_WORDS:
        return True
    if len(core) == 1:
        return at_run_end and core in _LEVEL_LETTERS
    return (at_run_end or token[:1] in "[<(") and core.upper() in _LEVEL_WORDS


def _is_value(token: str) -> bool:
    """Only placeholders and punctuation: ``<DATE>``, ``[<NUM>``, ``<NUM>-<NUM>``, ``-``."""
    return not any(c.isalnum() for c in _PLACEHOLDER.sub("", token))


def _timed(token: str) -> bool:
    return "<DATE>" in token or "<TIME>" in token


def _header_length(tokens: Sequence[str]) -> int:
    """How many leading tokens are a log header left in the message (a plain file, a layout no
    format knows): a timestamp, numbers (pid, tid), node and file names, up to a level word.
    Those vary or repeat on every line and would steer the miner; the message is what follows.
    Needs evidence: a date/time, or two numbers, before the level word; without a level word
    only a leading run of values that holds a date/time is a header."""
    n = len(tokens)
    run = 0  # the leading run of values
    while run < n and _is_value(tokens[run]):
        run += 1
    timed = False
    for i in range(min(n - 1, _HEADER_SCAN)):
        t = tokens[i]
        if i and _is_level(t, at_run_end=i == run):
            if timed or (run >= 2 and i == run):
                return _header_tail(tokens, i + 1)
            break
        if _timed(t):
            timed = True
        elif i >= run and not timed:
            break  # a word before any timestamp: this is the message
    if 0 < run < n and any(_timed(t) for t in tokens[:run]):
        return _header_tail(tokens, run)
    return 0


# a logger, tag or program name after the header: "com.example.Foo", "chrome.exe",
# "dfs.DataNode$PacketResponder:", "PhoneStatusBar:", "Step_SPUtils", "sshd[<NUM>]:" (a plain
# lower-case word is more likely the message)
_LOGGER = re.compile(r"(?=\S*[A-Z._$\[\d<])[A-Za-z0-9_][\w$.<>\[\]/-]*:?")
_SEPARATORS = frozenset({"-", "|", "--", "::", "-:", ":", "||"})


def _header_tail(tokens: Sequence[str], h: int) -> int:
    """Extend a header found up to ``h`` over what layouts put between the level and the
    message: a bracketed context (``[main]``, ``[req-<UUID> - - -]``, ``[-]``), a logger, tag or
    program name, values (pid, ``*64``) and separators (``-``, ``|``). Names and values count
    only when a separator, a bracketed context or a tag's colon ends them."""
    n = len(tokens)
    end = h
    i = h
    bracket = named = False
    values = 0
    while i < n - 1 and i - h < 12:
        t = tokens[i]
        if t in _SEPARATORS:
            i += 1
            end = i
        elif t[:1] == "[" and not bracket:
            close = next((k for k in range(i, min(n - 1, i + 8)) if tokens[k][-1:] == "]"), -1)
            if close < 0:
                break
            bracket = True
            i = end = close + 1
        elif not named and _LOGGER.fullmatch(t) and t.strip(":").upper() not in _LEVEL_WORDS:
            named = True
            i += 1
            if t[-1] == ":":
                return i  # "Tag: message"
        elif values < 2 and _is_value(t):
            values += 1
            i += 1
        else:
            break
    return end
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
    __slots__ = ("count", "example", "first", "http", "id", "last", "levels", "merged_into",
                 "tokens")

    def __init__(self, cid: int, tokens: list[str], example: str, http: bool) -> None:
        self.id = cid
        self.tokens = tokens
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.example = example
        self.levels: dict[Level, int] = {}
        self.merged_into: _Cluster | None = None
        self.http = http

    def live(self) -> _Cluster:
        c = self
        while c.merged_into is not None:
            c = c.merged_into
        return c

    def template(self) -> str:
        if not self.http:
            return " ".join(self.tokens)
        # method, path segments, protocol, status class
        t = self.tokens
        return f"{t[0]} {''.join('/' + s for s in t[1:-2]) or '/'} {t[-2]} {t[-1]}".rstrip()


def _is_variable(token: str) -> bool:
    # tree routing: tokens with a placeholder or a digit go down the wildcard branch (Drain),
    # and so do paths and key=values
    return _word(token) is None or any(c.isdigit() for c in token)


_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS",
                           "CONNECT", "TRACE", "PROPFIND"})


_STATIC = frozenset({"png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "bmp", "css", "js", "map",
                     "woff", "woff2", "ttf", "otf", "eot", "txt", "xml", "pdf", "html", "htm",
                     "xhtml", "jar", "gz", "tgz", "zip", "bz2", "xz", "lua", "mp4", "webm",
                     "mp3"})


def _request_tokens(tokens: tuple[str, ...]) -> tuple[str, ...] | None:
    """``GET /api/users/<NUM> HTTP/<NUM> 2xx`` (an access log's message) as method, path
    segments, protocol and status class, so routes are mined segment by segment: a route with a
    variable segment groups, different routes stay apart."""
    if not (3 <= len(tokens) <= 4 and tokens[0] in _HTTP_METHODS
            and tokens[2].startswith("HTTP/") and tokens[1][:1] == "/"):
        return None
    segments = tokens[1][1:].split("/") if tokens[1] != "/" else []
    if segments:
        # a static file is known by its folder and type: "/icons/<*>.gif"
        name, dot, ext = segments[-1].rpartition(".")
        if dot and name and ext.lower() in _STATIC and "?" not in ext:
            segments[-1] = f"{WILDCARD}.{ext}"
    return (tokens[0], *segments, tokens[2], tokens[3] if len(tokens) == 4 else "")


def _aside(token: str) -> bool:
    # "(87.5 KB)" after "89652 bytes": a value restated in parentheses says nothing new
    return token[:1] == "(" and token[-1:] == ")" and _PLACEHOLDER.fullmatch(token[1:-1]) is not None


def _fits(template: Sequence[str], tokens: Sequence[str]) -> bool:
    """``tokens`` (of the same length) fit ``template``: no word where it has another word."""
    for a, b in zip(template, tokens):
        if a != b and a != WILDCARD:
            wa, wb = _word(a), _word(b)
            if wa is not None and wb is not None and wa != wb:
                return False
    return True


def _one_conflict(a: Sequence[str], b: Sequence[str]) -> int:
    """The one position where two templates hold different words (a ``<*>`` agrees with
    anything), when they also share a word; else -1."""
    p = -1
    shared = False
    for q, (x, y) in enumerate(zip(a, b)):
        if x == y:
            shared = shared or _word(x) is not None
        elif x != WILDCARD and y != WILDCARD:
            wx, wy = _word(x), _word(y)
            if wx is not None and wy is not None and wx != wy:
                if p >= 0:
                    return -1
                p = q
    return p if shared else -1


def _quoted_word(token: str) -> bool:
    # a double-quoted word is a value ('host: "web1"', 'zone "api"'); single quotes often
    # hold a keyword instead ("result 'exit-code'")
    core = token.rstrip(",;:.)]}")
    return len(core) > 2 and core[0] == '"' and core[-1] == '"' and \
        _NOT_WORD.isdisjoint(core) and " " not in core


def _label_value(tokens: tuple[str, ...], i: int) -> bool:
    # "server: lb-edge," in a list of "label: value" pairs
    t = tokens[i]
    return i > 0 and t[-1:] in ",;" and tokens[i - 1][-1:] == ":" and \
        tokens[i - 1][:-1].isidentifier()


def _mining_tokens(tokens: tuple[str, ...], max_tokens: int) -> tuple[str, ...]:
    """The tokens the miner compares: without a header left in the message, without restated
    values in parentheses, and with the words that are values by their form (a quoted word,
    the value of a ``label: value,`` pair) as ``<*>``."""
    h = _header_length(tokens)
    if h:
        tokens = tokens[h:]
    if any(t[:1] == "(" for t in tokens):
        kept = tuple(t for t in tokens if not _aside(t))
        if kept:
            tokens = kept
    tokens = tokens[:max_tokens]
    out = list(tokens)
    for i, t in enumerate(tokens):
        if _word(t) is None:
            continue
        if _quoted_word(t):
            core = t.rstrip(",;:.)]}")
            out[i] = f"{core[0]}{WILDCARD}{core[0]}{t[len(core):]}"
        elif _label_value(tokens, i):
            out[i] = WILDCARD + t[-1]
    return tuple(out)


_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_DIGITS_ONLY = bytes(c if 48 <= c <= 57 else 32 for c in range(256))  # translate: non-digits -> " "
_DIGIT_GROUPS_B = re.compile(rb"\d+")
# the class digit of an HTTP status in the raw line, in the contexts _finish() and
# _mask_core() give it its class (after a status word or key, after "HTTP/1.1")
_STATUS_DIGIT = re.compile(
    rb"(?:(?<!\w)(?i:" + b"|".join(sorted(w.encode() for w in _STATUS_WORDS | _STATUS_KEYS))
    + rb")[:=,]?\s*|HTTP/[\d.]+\"?\s+)([1-5])\d\d(?![\w.])")


_GLUED = re.compile(rb"[A-Za-z]\d|\d[A-Za-z]")


_Selector = tuple[Any, Any]  # itemgetters (or None) of status digit runs and glued words


def _selector(line: bytes, skip: int = 0) -> _Selector | None:
    """What a line's skeleton hides but the miner reads: its HTTP statuses (by their place
    among the line's digit runs: the first digit is the class) and its words with digits in
    them ("eth0:", "ssh2", "IPv6": by their place among the line's whitespace tokens, from
    ``skip`` on - a header that is cut away does not count). None when there is nothing."""
    statuses: list[int] = []
    if _STATUS_DIGIT.search(line):
        starts = [m.start() for m in _DIGIT_GROUPS_B.finditer(line)]
        statuses = [starts.index(m.start(1)) for m in _STATUS_DIGIT.finditer(line)
                    if m.start(1) in starts]
    glued: list[int] = []
    if _GLUED.search(line):
        glued = [i for i, t in enumerate(line.split())
                 if i >= skip and _GLUED.search(t) and _digit_word(t)]
    if not statuses and not glued:
        return None
    return (operator.itemgetter(*statuses) if statuses else None,
            operator.itemgetter(*glued) if glued else None)


def _digit_word(raw: bytes) -> bool:
    masked = mask_token(raw.decode("utf-8", "replace"))
    return _word(masked) is not None and any(c.isdigit() for c in masked)


def _picked(line: bytes, selector: _Selector) -> bytes | None:
    """The parts of ``line`` that ``selector`` names, as one key (None: the line lacks some)."""
    statuses, glued = selector
    try:
        out = b""
        if statuses is not None:  # the class digit of each
            got = statuses(line.translate(_DIGITS_ONLY).split())
            out = got[:1] if type(got) is bytes else b"".join([run[:1] for run in got])
        if glued is not None:
            got = glued(line.split())
            out += b"\x01" + (got if type(got) is bytes else b"\x00".join(got))
        return out
    except IndexError:
        return None


def _known_get(known: dict[bytes, Any], key: bytes, line: bytes) -> _Cluster | None:
    """The cluster remembered for a line by its skeleton ``key`` (see :func:`_known_put`)."""
    hit = known.get(key)
    if hit is not None and type(hit) is tuple:
        return hit[1].get(_picked(line, hit[0]))
    return hit


def _known_put(known: dict[bytes, Any], key: bytes, line: bytes, cluster: _Cluster,
               skip: int = 0, selector: _Selector | Literal[False] | None = False) -> None:
    """Remember ``cluster`` for lines with this skeleton; where the skeleton hides something
    the miner reads (:func:`_selector`, or ``selector`` when the caller knows it), for lines
    that also agree on that."""
    entry = known.get(key)
    if type(entry) is tuple:  # the same skeleton has the same selector: no need to look again
        entry[1][_picked(line, entry[0])] = cluster
        return
    if selector is False:
        selector = _selector(line, skip)
    if len(known) >= _TOKEN_CACHE_MAX:
        known.clear()
    if selector is None:
        known[key] = cluster
    else:
        known[key] = (selector, {_picked(line, selector): cluster})


def _skeleton(data: bytes) -> bytes:
    """``data`` with every digit run of up to eight digits as one "0" (C-speed: a translate
    and three replaces, no regex)."""
    zeros = data.translate(_ZEROS)
    return zeros.replace(b"00", b"0").replace(b"00", b"0").replace(b"00", b"0")


class SignatureMiner:
    """Drain-style online template miner.

    ``similarity``: share of equal tokens needed to join a template (0..1);
    ``depth``: how many leading tokens split the search tree (templates must agree there,
    which keeps "Accepted password ..." apart from "Failed password ...");
    ``max_children``: a tree node with more distinct tokens than this sends new ones to the
    wildcard branch (a variable word in a leading position must not explode the tree);
    ``max_tokens``: longer messages are cut (their tail rarely tells messages apart);
    ``merge_after``: templates that differ only in one word position are merged into one
    with ``<*>`` there once this many distinct words were seen there.

    Two rules go beyond Drain, both measured on real labelled logs (Loghub, see
    ``benchmarks/signatures_eval.py``): a message never joins a template where a *word*
    differs ("VM Started" / "VM Paused", "HTTPS" / "SOCKS5": different events), only where
    values differ (placeholders, paths, ids with digits) - a word position becomes ``<*>`` only
    through ``merge_after`` (user names, unit names: many values); and a log header left in the
    message (timestamp, pid, level of a layout no format parsed) is skipped, so it neither
    steers the tree nor makes unrelated messages look alike.
    HTTP request lines (``GET /path HTTP/1.1 200``) are mined by method, path segment,
    protocol and status class.

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
        self._root: dict[object, dict] = {}
        self._exact: dict[tuple[str, ...], _Cluster] = {}
        self._skeletons: dict[bytes, Any] = {}  # see _known_put()
        # sibling index: (http, length, position, the other positions' words) -> clusters
        self._siblings: dict[tuple, list[_Cluster]] = {}

    def __len__(self) -> int:
        return sum(1 for c in self._clusters if c.merged_into is None)

    def add(self, message: str, *, level: Level = Level.UNKNOWN, timestamp: datetime | None = None,
            record_index: int | None = None) -> int:
        """Add one message (the message only: no timestamp/level prefix); returns its signature id.

        A header left in the message (a file no format parsed) is tolerated: see the class.
        ``record_index`` is accepted for callers that track records; the mapping itself is kept
        by :func:`mine`.
        """
        cluster = self._assign(message)
        cluster.count += 1
        levels = cluster.levels
        levels[level] = levels.get(level, 0) + 1
        if timestamp is not None:
            if cluster.first is None or timestamp < cluster.first:
                cluster.first = timestamp
            if cluster.last is None or timestamp > cluster.last:
                cluster.last = timestamp
        return cluster.id

    def _assign(self, message: str) -> _Cluster:
        """The cluster of a message, without counting it (bulk callers count with numpy)."""
        nl = message.find("\n")
        line = message if nl < 0 else message[:nl]
        return self._assign_line(line.encode("utf-8", "surrogatepass"), line)

    def _assign_line(self, data: bytes, line: str | None = None) -> _Cluster:
        """The cluster of a first line given as UTF-8 bytes (``line``: the same, decoded).

        Lines that differ only in their numbers mask to the same tokens: they are looked up by
        a skeleton first (every digit run as one "0", see :func:`_skeleton`), which spares
        masking on most lines of a big log. What a skeleton hides but the miner reads - the
        class of an HTTP status, a name with digits in it ("eth0", "ssh2") - is part of the
        look-up (:func:`_selector`). Left to the first line of a skeleton: numbers whose length
        alone decides their shape (an IP part has at most three digits)."""
        skeleton = _skeleton(data)
        hit = _known_get(self._skeletons, skeleton, data)
        if hit is not None:
            return hit.live()
        if line is None:
            line = data.decode("utf-8", "replace")
        key = _masked(line, self.max_tokens + _HEADER_SCAN, pipes=True)
        cluster = self._exact.get(key)
        if cluster is None:
            cluster = self._match(_mining_tokens(_finish(key), self.max_tokens), line)
            if len(self._exact) >= _TOKEN_CACHE_MAX:
                self._exact.clear()
            self._exact[key] = cluster
        elif cluster.merged_into is not None:
            cluster = self._exact[key] = cluster.live()
        _known_put(self._skeletons, skeleton, data, cluster)
        return cluster

    def resolve(self, signature_id: int) -> int:
        """The id of the signature that now holds ``signature_id`` (after merges)."""
        return self._clusters[signature_id].live().id

    def _leaf(self, tokens: Sequence[str], http: bool) -> list[_Cluster]:
        root = (tokens[-1] if http else False, len(tokens))
        node = self._root.setdefault(root, {})
        for token in tokens[: self.depth + http]:
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
        request = _request_tokens(tokens)
        http = request is not None
        if request is not None:
            tokens = request
        leaf = self._leaf(tokens, http)
        n = len(tokens)
        word = _word
        best: _Cluster | None = None
        best_sim, best_params = -1.0, -1
        for cluster in leaf:
            same = params = 0
            for a, b in zip(cluster.tokens, tokens):
                if a == b:
                    same += 1
                elif a == WILDCARD:
                    params += 1
                else:
                    wa = word(a)
                    if wa is not None and wa != word(b) and word(b) is not None:
                        break  # another word: another event
            else:
                sim = (same / n) if n else 1.0
                if sim > best_sim or (sim == best_sim and params > best_params):
                    best, best_sim, best_params = cluster, sim, params
        if best is not None and (best_sim >= self.similarity or n == 0 or
                                 (best_sim > 0 and best_sim + params / n >= 1.0)):
            new = [a if a == b else WILDCARD for a, b in zip(best.tokens, tokens)]
            if new != best.tokens:
                widened = [p for p, (a, b) in enumerate(zip(best.tokens, new))
                           if a != b and _word(a) is not None]
                best.tokens = new
                self._index(best)
                if widened:
                    best = self._gather(best, widened, leaf)
            return best.live()
        cluster = _Cluster(len(self._clusters), list(tokens), message.split("\n", 1)[0], http)
        self._clusters.append(cluster)
        leaf.append(cluster)
        return self._merge_siblings(cluster, leaf)

    @staticmethod
    def _words(cluster: _Cluster) -> tuple[str, ...]:
        return tuple(_word(t) or "" for t in cluster.tokens)

    @staticmethod
    def _kind(cluster: _Cluster) -> tuple:
        # an access log's requests are grouped within their status class only
        return (cluster.tokens[-1], len(cluster.tokens)) if cluster.http \
            else (False, len(cluster.tokens))

    def _sibling_key(self, cluster: _Cluster, p: int) -> tuple:
        words = self._words(cluster)
        return (*self._kind(cluster), p, words[:p] + words[p + 1:])

    def _sibling_keys(self, cluster: _Cluster) -> list[tuple]:
        # one key per word position p: the words of the other positions (values as "")
        words = self._words(cluster)
        n = len(words)
        if sum(1 for w in words if w) < 2:
            return []  # needs a word that agrees besides the one that differs
        base = self._kind(cluster)
        return [(*base, p, words[:p] + words[p + 1:]) for p in range(n)
                if words[p] or cluster.tokens[p] == WILDCARD]

    def _index(self, cluster: _Cluster) -> None:
        for key in self._sibling_keys(cluster):
            group = self._siblings.setdefault(key, [])
            if cluster not in group:
                group.append(cluster)

    def _merge(self, group: list[_Cluster]) -> _Cluster:
        """Merge clusters into the one with the lowest id (ids stay first-seen)."""
        target = min(group, key=lambda c: c.id)
        for other in group:
            if other is not target:
                self._absorb(target, other)
        self._index(target)
        return target

    def _gather(self, target: _Cluster, widened: list[int], leaf: list[_Cluster]) -> _Cluster:
        """``target`` got ``<*>`` at the word positions ``widened``: the templates that fit it
        now (its leaf, and those that differed from it only there) join it."""
        group = [target]
        for p in widened:
            group += self._siblings.get(self._sibling_key(target, p), ())
        tokens = target.tokens
        group += [c for c in leaf if _fits(tokens, c.tokens)]
        group = list({id(c): c for c in group if c.merged_into is None}.values())
        return self._merge(group) if len(group) > 1 else target

    def _merge_siblings(self, cluster: _Cluster, leaf: list[_Cluster]) -> _Cluster:
        # Called for a new cluster only (rare next to messages): templates that agree with it
        # everywhere but at one word position p are the values seen at p; enough of them (or a
        # <*> there already) make p a variable. Candidates: its leaf, and (for a leading word,
        # which routes to another leaf) the sibling index.
        keys = self._sibling_keys(cluster)
        if self.merge_after > 1:
            groups: dict[int, dict[int, _Cluster]] = {}
            for c in leaf:
                if c is not cluster and c.merged_into is None:
                    p = _one_conflict(c.tokens, cluster.tokens)
                    if p >= 0:
                        groups.setdefault(p, {})[c.id] = c
            for key in keys:
                for c in self._siblings.get(key, ()):
                    if c.merged_into is None:
                        groups.setdefault(key[2], {})[c.id] = c
            for p, found in groups.items():
                group = list(found.values())
                values = {c.tokens[p] for c in group} | {cluster.tokens[p]}
                if len(values) >= self.merge_after or WILDCARD in values:
                    target = self._merge([*group, cluster])
                    return self._gather(target, [p], self._leaf(target.tokens, target.http))
        for key in keys:
            self._siblings.setdefault(key, []).append(cluster)
        return cluster

    def _absorb(self, target: _Cluster, other: _Cluster) -> None:
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
        other_leaf = self._leaf(other.tokens, other.http)
        for i, c in enumerate(other_leaf):
            if c is other:
                other_leaf[i] = target

    def template(self, signature_id: int) -> str:
        return self._clusters[signature_id].live().template()

    def signatures(self) -> list[Signature]:
        """Snapshots of every signature, in id (first-seen) order (merged ones are left out)."""
        return [
            Signature(id=c.id, template=c.template(), count=c.count, first_seen=c.first,
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
    array mapping record index -> signature id (-1 where mining was cancelled).

    A :class:`~diagkit.logs.logfile.LogFile` is mined in bulk (see :func:`_bulk_ids`): its
    records are read from the map, not parsed one by one, and counts, levels and first/last
    times come from its per-record arrays. Other objects need ``record_count`` and
    ``record(i)``."""
    miner = SignatureMiner(similarity, depth=depth)
    _arrays_meanwhile(logs)
    raw, bulk = _mine_into(miner, logs, cancel, progress)
    for log, ids, counted in zip(logs, raw, bulk):
        if counted:
            count = len(ids)
            levels = np.asarray(log.levels())  # type: ignore[attr-defined]
            times = np.asarray(log.timestamps(), dtype=np.float64)  # type: ignore[attr-defined]
            _count_bulk(miner, ids, levels[:count], times[:count])
    live = miner.signatures()
    renumber = {s.id: n for n, s in enumerate(live)}
    maps = []
    # cluster id -> final signature id, with -1 (not mined) kept: one gather, no sort
    lookup = np.array([renumber[c.live().id] for c in miner._clusters] + [-1], dtype=np.int32)
    for ids in raw:
        maps.append(lookup[ids])  # ids == -1 reads the last entry
    return [dataclasses.replace(s, id=renumber[s.id]) for s in live], maps


def mine_ids(
    logs: Sequence[object],
    *,
    similarity: float = 0.5,
    depth: int = 2,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
    ids: list[np.ndarray] | None = None,
    renumber: bool = True,
) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """What :func:`mine_logs` gives without counting: the templates (index = signature id,
    the same ids as mine_logs), per file the int32 record -> signature id array (-1: not
    mined), and ``lookup`` (cluster id -> signature id; ``lookup[-1]`` is -1). For callers that
    count per record themselves, batch by batch (:mod:`diagkit.logs.incidents`): the LogFiles'
    level/time arrays are not computed, which on a 1 GiB log is most of the memory.

    ``ids``: the arrays to fill (``np.full(record_count, -1, np.int32)`` per log), for a
    caller that reads them in another thread while they fill (up to what ``progress`` says).
    ``renumber=False`` leaves cluster ids in them (map them with ``lookup``): they stay as
    that reader saw them."""
    miner = SignatureMiner(similarity, depth=depth)
    # smaller chunks than mine_logs: a 1 GiB log peaks 20 MB lower (about 2 % of the file)
    raw, _ = _mine_into(miner, logs, cancel, progress, ids, chunk=_BULK_CHUNK // 4)
    live = [c for c in miner._clusters if c.merged_into is None]
    numbers = {c.id: n for n, c in enumerate(live)}
    lookup = np.array([numbers[c.live().id] for c in miner._clusters] + [-1], dtype=np.int32)
    for arr in raw if renumber else ():
        for a in range(0, len(arr), _BULK_CHUNK * 16):  # in place: no second array of ids
            arr[a: a + _BULK_CHUNK * 16] = lookup[arr[a: a + _BULK_CHUNK * 16]]
    return [c.template() for c in live], raw, lookup


def _mine_into(miner: SignatureMiner, logs: Sequence[object], cancel: threading.Event | None,
               progress: Callable[[float], None] | None,
               arrays: list[np.ndarray] | None = None,
               chunk: int = 0) -> tuple[list[np.ndarray], list[bool]]:
    """Mine every record of ``logs`` into ``miner``: per file, the cluster id of each record
    (-1 where cancelled) and whether it was mined in bulk (its counts are not in the clusters
    yet: :func:`_count_bulk`) or record by record (they are)."""
    raw: list[np.ndarray] = []
    bulk: list[bool] = []
    total = (sum(len(a) for a in arrays) if arrays is not None else
             sum(log.record_count for log in logs)) or 1  # type: ignore[attr-defined]
    done = 0
    for f, log in enumerate(logs):
        ids = arrays[f] if arrays is not None else np.full(log.record_count,  # type: ignore[attr-defined]
                                                             -1, dtype=np.int32)
        count = len(ids)
        fast = _bulk_ids(miner, log, ids, cancel, progress, done, total,
                         chunk=chunk or _BULK_CHUNK)
        if not fast:
            add = miner.add
            for i in range(count):
                if cancel is not None and i % 4096 == 0 and cancel.is_set():
                    break
                rec = log.record(i)  # type: ignore[attr-defined]
                ids[i] = add(rec.message, level=rec.level, timestamp=rec.timestamp)
                if progress is not None and i % 65536 == 0:
                    progress((done + i) / total)
        bulk.append(fast)
        done += count
        raw.append(ids)
    return raw, bulk


_BULK_SAMPLE = 200
_BULK_CHUNK = 1 << 16


def _arrays_meanwhile(logs: Sequence[object]) -> None:
    """Start computing each LogFile's level/time arrays in a thread while the records are
    mined: mining is Python on one core, the arrays are numpy that lets go of the GIL, and the
    counts need both only at the end (``levels()`` then waits for the thread's result). An
    error there is left for that later call to raise."""
    todo: list[Callable[[], object]] = []
    for log in logs:
        ready, levels = getattr(log, "arrays_ready", None), getattr(log, "levels", None)
        if callable(ready) and not ready() and callable(levels):
            todo.append(levels)

    def work() -> None:
        for levels in todo:
            try:
                levels()
            except Exception:  # noqa: BLE001 - raised again where the arrays are used
                return

    if todo:
        threading.Thread(target=work, name="log arrays", daemon=True).start()


@dataclass(frozen=True)
class _HeaderCut:
    """How :func:`_bulk_ids` cuts the header off a record's first line: ``fields``
    whitespace-separated fields on every line (a split, the fast way), or, where the width of
    the header varies (``None``), the format's :meth:`~diagkit.logs.model.LogFormat.
    message_start` per line, asked only for lines the caches have not met."""

    fields: int | None
    fmt: Any = None
    ctx: Any = None

    def cut(self, line: bytes) -> tuple[bytes, int]:
        """(the message's bytes, how many whitespace tokens of the line the header takes)."""
        if self.fields is not None:
            if not self.fields:
                return line, 0
            parts = line.split(None, self.fields)
            return (parts[self.fields] if len(parts) > self.fields else b""), self.fields
        # surrogateescape: the offset in characters maps back to the same bytes
        text = line.decode("utf-8", "surrogateescape").rstrip("\r")
        start = self.fmt.message_start(text, self.ctx)
        if start is None:
            return line, 0
        head = text[:start]
        tokens = len(head.split()) - (1 if head and not head[-1].isspace() else 0)
        return text[start:].encode("utf-8", "surrogateescape"), max(tokens, 0)


def _header_fields(log: object) -> _HeaderCut | None:
    """How to cut the header off this log's records, learnt from the format's own reading of a
    sample (the first records and some spread over the file): the message must be the tail of
    the record's first line on nearly every sampled record; a fixed number of fields before it
    on nearly all of them is cut by a split, else by the format's ``message_start`` per line.
    ``None``: the message is not the line's tail (JSON, access logs): parse each record."""
    n = log.record_count  # type: ignore[attr-defined]
    fmt = getattr(log, "format", None)
    if n == 0 or fmt is None:
        return None
    ctx = log.context  # type: ignore[attr-defined]
    picks = sorted({*range(min(n, _BULK_SAMPLE // 2)),
                    *range(0, n, max(1, n // (_BULK_SAMPLE // 2)))})
    counts: dict[int, int] = {}
    tails = 0
    drop = getattr(log, "_drop_pages", None)
    for i in picks:
        span = log._span(i)  # type: ignore[attr-defined]
        line = log.line_text(span[0]).rstrip("\r")  # type: ignore[attr-defined]
        if drop is not None:
            # each pick faults in a large folio of the page cache (a sample over a 1 GiB log
            # made 118 MB of it resident): out of our RSS with it
            drop(max(0, span[2] - (2 << 20)),
                 min(span[2] + (2 << 20), log.data_end()))  # type: ignore[attr-defined]
        start = fmt.message_start(line, ctx)
        if start is None:
            continue
        tails += 1
        head = line[:start]
        if line[start:] and head and not head[-1].isspace():
            continue  # glued to its header ("INFO:root:msg"): no fixed split
        k = len(head.split())
        counts[k] = counts.get(k, 0) + 1
    if tails < 0.98 * len(picks):
        return None
    k, hits = max(counts.items(), key=lambda kv: kv[1]) if counts else (0, 0)
    if hits >= 0.98 * len(picks):
        return _HeaderCut(k)
    return _HeaderCut(None, fmt, ctx)


def _bulk_ids(miner: SignatureMiner, log: object, ids: np.ndarray,
              cancel: threading.Event | None, progress: Callable[[float], None] | None,
              done: int, total: int, *, chunk: int = _BULK_CHUNK) -> bool:
    """Fill ``ids`` (cluster ids) for a memory-mapped LogFile without building a Record per
    record: each record's first line is cut at the header (as :func:`_header_fields` learnt
    from the format: a fixed number of fields, or the format's ``message_start`` per line where
    the header's width varies) and the rest is looked up by its skeleton
    (see :meth:`SignatureMiner._assign_line`), masked and mined only when it is new. False
    when this log cannot be mined so (not a LogFile, or its messages are not a suffix of the
    line): the caller parses records."""
    mm = getattr(log, "_mm", None)
    needed = ("record_offsets", "data_end", "levels", "timestamps", "record")
    if mm is None or not all(hasattr(log, a) for a in needed):
        return False
    cut = _header_fields(log)
    if cut is None:
        return False
    offsets = log.record_offsets()  # type: ignore[attr-defined]
    end_all = log.data_end()  # type: ignore[attr-defined]
    n = len(ids)
    single = getattr(log, "line_count", -1) == n  # every record is one line
    assign = miner._assign_line
    zeros = _ZEROS
    picked = _picked
    # the whole first line with its digits as "0" (the header's numbers fold away too) ->
    # cluster (see _known_put); behind it, the same by skeleton (digit runs as one "0")
    known: dict[bytes, Any] = {}
    skeletons: dict[bytes, Any] = {}
    get = known.get
    drop = getattr(log, "_drop_pages", None)
    for a in range(0, n, chunk):
        if cancel is not None and cancel.is_set():
            break
        b = min(n, a + chunk)
        lo = int(offsets[a])
        hi = int(offsets[b]) if b < n else end_all
        check = getattr(log, "check_mapped", None)
        if check is not None:
            check(hi)  # LogTruncated rather than SIGBUS when the file was cut short
        try:
            if single:
                lines = mm[lo:hi].split(b"\n")[: b - a]
            else:
                find = mm.find
                starts = offsets[a:b].tolist()
                lines = []
                for s, e in zip(starts, [*starts[1:], hi]):
                    nl = find(b"\n", s, e)
                    lines.append(mm[s: nl if nl >= 0 else e])
        except ValueError:
            break  # the map was closed under us (the file re-opened on a refresh): stop here
        out: list[int] = []
        append = out.append
        for line in lines:
            key = line.translate(zeros)  # this loop runs once per record: keep it lean
            hit = get(key)
            if hit is not None and type(hit) is tuple:  # see _known_get()
                hit = hit[1].get(picked(line, hit[0]))
            if hit is None:
                hit = _bulk_new(assign, known, skeletons, key, line, cut)
            append(hit.id)  # merged clusters are resolved once at the end
        ids[a:b] = out
        if drop is not None:
            # read once: leave the pages to the page cache, not to our RSS; from 2 MB before
            # lo, where the folio of the first line (mapped whole) reaches into the last chunk
            drop(max(0, lo - (2 << 20)), hi)
        if progress is not None:
            progress((done + b) / total)
    return True


def _bulk_new(assign: Callable[[bytes], _Cluster], known: dict[bytes, Any],
              skeletons: dict[bytes, Any], key: bytes, line: bytes, cut: _HeaderCut) -> _Cluster:
    """The cluster of a line :func:`_bulk_ids` has not met in this form (digits as "0"): by
    its skeleton if that is known, else cut its header and assign it. Remembered in both."""
    skeleton = key.replace(b"00", b"0").replace(b"00", b"0").replace(b"00", b"0")
    cluster = _known_get(skeletons, skeleton, line)
    if cluster is None:
        body, skip = cut.cut(line)
        cluster = assign(body.rstrip(b"\r"))
        _known_put(skeletons, skeleton, line, cluster, skip=skip)
    entry = skeletons.get(skeleton)
    _known_put(known, key, line, cluster, selector=entry[0] if type(entry) is tuple else None)
    return cluster


def _count_bulk(miner: SignatureMiner, ids: np.ndarray, levels: np.ndarray,
                times: np.ndarray) -> None:
    """Add the counts, levels and first/last times of bulk-mined records to their clusters
    (vectorised: one pass of numpy per statistic, not a Python step per record)."""
    seen = ids >= 0
    if not seen.any():
        return
    # cluster id -> index of its live cluster (merges resolved): a gather, no sort
    clusters = list({c.live().id: c.live() for c in miner._clusters}.values())
    index = {c.id: j for j, c in enumerate(clusters)}
    root = np.array([index[c.live().id] for c in miner._clusters], dtype=np.int32)
    inverse = root[ids[seen]]
    m = len(clusters)
    counts = np.bincount(inverse, minlength=m)
    lv = levels[seen]
    per_level = {int(code): np.bincount(inverse[lv == code], minlength=m)
                 for code in np.unique(lv)}
    t = times[seen]
    first = np.full(m, np.inf)
    last = np.full(m, -np.inf)
    known = ~np.isnan(t)
    np.minimum.at(first, inverse[known], t[known])
    np.maximum.at(last, inverse[known], t[known])
    for j, c in enumerate(clusters):
        if not counts[j]:
            continue
        c.count += int(counts[j])
        for code, col in per_level.items():
            if col[j]:
                level = Level(code)
                c.levels[level] = c.levels.get(level, 0) + int(col[j])
        if np.isfinite(first[j]):
            # epoch seconds back to local time, aware (a naive time in the arrays was local)
            lo = datetime.fromtimestamp(float(first[j])).astimezone()
            hi = datetime.fromtimestamp(float(last[j])).astimezone()
            if c.first is None or lo < _aware(c.first):
                c.first = lo
            if c.last is None or hi > _aware(c.last):
                c.last = hi


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.astimezone()
