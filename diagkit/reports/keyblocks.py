"""Private key blocks: the one place that knows what a key's armour and body look like.

Two finders share the armour patterns and the body-line test (:func:`looks_like_body`):

* :func:`find_blocks`, line by line over a **whole** log (a
  :class:`~diagkit.logs.logfile.LogFile`) before excerpt windows are cut from it: a window that
  opens *inside* a key block holds the key's body and its ``END`` line but no ``BEGIN``, and
  nothing in the window says "key". Every line of a window that falls inside a block is then
  masked (:func:`mask`) before the window is cut, trimmed or redacted.
* :func:`find_spans`, character spans within one text, for the redactor
  (:mod:`diagkit.reports.redact` masks them before any other rule runs): also a key inside one
  line (a JSON string with ``\\n`` escapes), and the key's text only, not the whole line.

Blocks (in :func:`find_blocks` each line of them is masked, the text before the opening marker
on the first line and after the closing marker on the last line is kept):

* PEM / OpenSSH / PGP / SSH2 armour: a line with ``-----BEGIN … PRIVATE KEY-----`` (also
  ``ENCRYPTED``, ``RSA``, ``EC``, ``DSA``, ``OPENSSH``, ``PGP … KEY BLOCK``, ``SECRET KEY``,
  RFC 4716's ``---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----``) up to the next ``END`` line of that
  armour. A block whose ``BEGIN`` and ``END`` are on one line is left to :func:`find_spans`.
* PuTTY: from ``PuTTY-User-Key-File-N:`` through ``Private-Lines: N``, the N lines after it and
  the ``Private-MAC:`` (or ``Private-Hash:``) line. A ``Private-Lines: N`` without its header
  opens a block too. (:func:`find_spans` starts at ``Private-Lines``: the public lines before it
  are no secret.)

Blocks cut short, in the whole source (``window=False``): a ``BEGIN`` (or PuTTY header) without
an end within :data:`MAX_BLOCK_LINES` lines runs on over the lines that look like key material
(see :func:`looks_like_body`); an ``END`` (or ``Private-MAC:``) without an opening reaches back
over such lines. In an excerpt (``window=True``, the fallback for excerpts that were not cut by
:func:`diagkit.reports.bundle.log_excerpts`) the excerpt's edges are where it was cut, so an
unclosed block runs to the excerpt's end and an unopened one from its start. In a text
(:func:`find_spans`) an unclosed block runs to the text's end, an unopened one reaches back
over the lines that look like key material.

Speed: the lines worth a look are found with one literal search per marker over the mapped file
(:meth:`LogFile.lines_containing`, a few GB/s each); only those lines are decoded and read, so a
multi-GB log without keys costs a few passes of ``memchr``-like search and no Python per line.
Every pattern starts with a literal (``----``, ``Private-``): :mod:`re` skips ahead to a literal
in C, to a set of first characters slowly; :func:`find_spans` runs on every text redacted.
"""

from __future__ import annotations

import bisect
import itertools
import re
import string
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

TOKEN = "[REDACTED:private_key]"  # noqa: S105 - the placeholder written in place of a key
#: A block longer than this is taken for two cut-short blocks (a BEGIN whose END went missing
#: and another key's END), not one key: a real private key armour is at most a few hundred lines.
MAX_BLOCK_LINES = 10_000

#: Literal strings one of which every marker line holds (searched over the raw file).
NEEDLES: tuple[str, ...] = ("PRIVATE KEY", "SECRET KEY", "Private-", "PuTTY-User-Key-File-")

# --- the armour ---------------------------------------------------------------------------------

# 4 or 5 dashes, BEGIN or END, words, PRIVATE/SECRET KEY [BLOCK], closing dashes (a log may have
# cut those off): PEM's "-----BEGIN RSA PRIVATE KEY-----", PGP's "... PRIVATE KEY BLOCK-----",
# RFC 4716's "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"
_ARMOUR = r"-----? ?{word} (?:[A-Z0-9]+ )*?(?:PRIVATE|SECRET) KEY(?: BLOCK)?(?: ?-{{4,5}})?"
_BEGIN = re.compile(_ARMOUR.format(word="BEGIN"))
_END = re.compile(_ARMOUR.format(word="END"))
_ARMOUR_MARK = re.compile(_ARMOUR.format(word="(?P<word>BEGIN|END)"))
_PUTTY = re.compile(r"PuTTY-User-Key-File-\d+:")
_LINES = r"Lines:[ \t]*(?P<lines>\d+)"
_MAC = r"(?:MAC|Hash):"
_PRIVATE_LINES = re.compile(f"Private-{_LINES}")
_PRIVATE_MAC = re.compile(f"Private-{_MAC}")
_PUTTY_MARK = re.compile(f"Private-(?:{_LINES}|(?P<mac>{_MAC}[^\\n]*))")
_MARKERS = (_BEGIN, _END, _PUTTY, _PRIVATE_LINES, _PRIVATE_MAC)

# --- the body -----------------------------------------------------------------------------------

# Key material as it appears in a line: a line of base64 and nothing else, or, perhaps after a
# log prefix, a long base64 run that ends the line and mixes upper and lower case (hex ids and
# words do not), or an armour header.
_B64_LINE = re.compile(r"[ \t]*[A-Za-z0-9+/=]+[ \t]*\r?\Z")
_LONG_B64 = re.compile(r"(?:^|[\s:>\]])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])"
                       r"[A-Za-z0-9+/]{40,}={0,2}\s*$")
_SHORT_B64 = re.compile(r"(?:^|[\s:>\]])[A-Za-z0-9+/]{1,39}={0,2}\s*$")
_CHECKSUM = re.compile(r"(?:^|[\s:>\]])=[A-Za-z0-9+/]{4}\s*$")  # PGP armour's CRC-24 line
# headers: PEM Proc-Type/DEK-Info, PGP Version/Comment/Hash/Charset, ssh.com Subject, PuTTY's
_HEADER = re.compile(r"(?:^|\s)(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset|MessageID|"
                     r"Subject|Encryption|Public-Lines|Private-Lines|Private-MAC|Private-Hash|"
                     r"Key-Derivation|Argon2-[A-Za-z]+):")
_B64_CHARS = frozenset(string.ascii_letters + string.digits + "+/=")


def looks_like_body(text: str) -> bool:
    """Whether a line could be part of a key's armour (asked only where a block was cut short):
    base64 alone on its line, a long mixed-case base64 run that ends the line, an armour header,
    a PGP checksum, or nothing at all."""
    return (not text.strip() or _B64_LINE.match(text) is not None
            or _LONG_B64.search(text) is not None or _HEADER.search(text) is not None
            or _CHECKSUM.search(text) is not None)


def _reach(lines: Iterable[str], *, forward: bool) -> int:
    """How many of ``lines``, read away from a marker (forwards after a BEGIN that found no END,
    backwards before an END that found no BEGIN), are the rest of the key: lines that
    :func:`looks_like_body`; blank lines at the far end do not count. The last line of a body
    is often short: forwards, a short base64 line after a long one is taken and ends the walk;
    backwards, one short base64 line before any long one is taken when a long line comes
    before it, or when it is the first line of the text (``lines`` end there)."""
    reached = 0
    seen_long = False
    short = before = 0  # backwards: the short line waiting for a long one, and what came before
    for n, text in enumerate(lines, 1):
        if looks_like_body(text):
            if _LONG_B64.search(text):
                seen_long = True
            if text.strip():
                reached = n
            continue
        if _SHORT_B64.search(text) is None:
            break
        if forward:
            return n if seen_long else reached
        if seen_long or short:
            break
        short, before = n, reached
    else:  # the edge of the text: a short line there may be the body's last
        return max(reached, short)
    return reached if seen_long or not short else before


class LineSource(Protocol):
    """Lines to look for key blocks in: a whole log (:class:`~diagkit.logs.logfile.LogFile`) or
    the lines of one excerpt (:class:`TextLines`)."""

    @property
    def line_count(self) -> int: ...

    def lines_containing(self, needles: Sequence[str]) -> Sequence[int]: ...

    def line_text(self, line: int) -> str: ...


class TextLines:
    """:class:`LineSource` over lines held in memory (an excerpt, a test's text)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self._lines = lines
        self._text = "\n".join(lines)
        self._starts: list[int] | None = None  # offsets of the lines, made on the first hit

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def lines_containing(self, needles: Sequence[str]) -> list[int]:
        found: set[int] = set()
        text = self._text
        for needle in needles:
            i = text.find(needle)
            if i >= 0 and self._starts is None:
                self._starts = list(itertools.accumulate((len(x) + 1 for x in self._lines),
                                                         initial=0))[:-1]
            starts = self._starts or []
            while i >= 0:
                line = bisect.bisect_right(starts, i) - 1
                found.add(line)
                nxt = starts[line + 1] if line + 1 < len(starts) else len(text)
                i = text.find(needle, nxt)
        return sorted(found)

    def line_text(self, line: int) -> str:
        return self._lines[line]


@dataclass(frozen=True)
class KeyBlock:
    """Lines ``first``..``last`` (0-based, inclusive) of a source belong to a private key.

    ``head``: the first line keeps its text before the opening marker (a log prefix); ``tail``:
    the last line keeps its text after the closing marker."""

    first: int
    last: int
    kind: str  # "armour" or "putty"
    head: bool = False
    tail: bool = False


@dataclass
class _Open:
    first: int
    kind: str
    head: bool


def find_blocks(source: LineSource, *, window: bool = False) -> list[KeyBlock]:
    """The private key blocks of ``source``, in order, merged where they touch.

    ``window``: ``source`` is an excerpt whose edges were cut from a larger text (see the module
    docstring): unclosed and unopened blocks reach its edges.
    """
    n = source.line_count
    if n == 0:
        return []
    candidates = list(source.lines_containing(NEEDLES))
    blocks: list[KeyBlock] = []
    open_: _Open | None = None
    skip_to = -1  # lines up to here belong to a PuTTY block already closed

    def close_cut_short(until: int) -> None:
        """Close ``open_`` that found no end before line ``until`` (exclusive)."""
        nonlocal open_
        assert open_ is not None
        # With a window, everything up to the cut (or the next block) may be key material.
        last = min(until, n) - 1 if window else _walk(source, open_.first, +1, min(until, n) - 1)
        blocks.append(KeyBlock(open_.first, last, open_.kind, head=open_.head))
        open_ = None

    for k in candidates:
        if k <= skip_to:
            continue
        if open_ is not None and k - open_.first > MAX_BLOCK_LINES:
            close_cut_short(k)
        text = source.line_text(k)
        events = _events(text)
        if not events:
            continue
        # a BEGIN and its END on this line, before any other marker: the redactor's business
        for kind, pos, end, value in events:
            if kind == "begin":
                if open_ is not None:  # a second BEGIN: the first block was cut short
                    close_cut_short(k)
                open_ = _Open(k, "armour", head=pos > 0)
            elif kind == "end":
                if open_ is not None and open_.kind == "armour":
                    if open_.first == k:  # BEGIN ... END on one line: leave it to the redactor
                        open_ = None
                        continue
                    blocks.append(KeyBlock(open_.first, k, "armour", head=open_.head,
                                           tail=end < len(text)))
                    open_ = None
                else:
                    if open_ is not None:
                        close_cut_short(k)
                    first = 0 if window else _walk(source, k, -1, max(0, k - MAX_BLOCK_LINES))
                    blocks.append(KeyBlock(first, k, "armour", tail=end < len(text)))
            elif kind == "putty":
                if open_ is not None:
                    close_cut_short(k)
                open_ = _Open(k, "putty", head=pos > 0)
            elif kind == "lines":
                first, head = k, False
                if open_ is not None and open_.kind == "putty":
                    first, head = open_.first, open_.head
                elif open_ is not None:
                    close_cut_short(k)
                open_ = None
                last = min(n - 1, k + min(value, MAX_BLOCK_LINES))
                if last + 1 < n and _PRIVATE_MAC.search(source.line_text(last + 1)):
                    last += 1
                blocks.append(KeyBlock(first, last, "putty", head=head))
                skip_to = last
                break  # the rest of this line is inside the block
            elif kind == "mac":
                if open_ is not None and open_.kind == "putty":
                    blocks.append(KeyBlock(open_.first, k, "putty", head=open_.head))
                    open_ = None
                elif open_ is None:
                    first = 0 if window else _walk(source, k, -1, max(0, k - MAX_BLOCK_LINES))
                    blocks.append(KeyBlock(first, k, "putty"))
    if open_ is not None:
        close_cut_short(n if window else open_.first + MAX_BLOCK_LINES + 1)
    return _merge(blocks)


def _events(text: str) -> list[tuple[str, int, int, int]]:
    """The markers of one line in order: (kind, start, end, Private-Lines count)."""
    found: list[tuple[str, int, int, int]] = []
    for kind, rx in (("begin", _BEGIN), ("end", _END), ("putty", _PUTTY), ("mac", _PRIVATE_MAC)):
        for m in rx.finditer(text):
            found.append((kind, m.start(), m.end(), 0))
    for m in _PRIVATE_LINES.finditer(text):
        found.append(("lines", m.start(), m.end(), int(m.group("lines")[:7])))
    found.sort(key=lambda e: e[1])
    return found


def _walk(source: LineSource, line: int, step: int, limit: int) -> int:
    """From ``line`` (a marker line), the farthest line in direction ``step`` (not past
    ``limit``) that is still the key's (:func:`_reach`)."""
    others = range(line + step, limit + step, step)
    return line + step * _reach((source.line_text(k) for k in others), forward=step > 0)


def _merge(blocks: list[KeyBlock]) -> list[KeyBlock]:
    blocks.sort(key=lambda b: (b.first, b.last))
    out: list[KeyBlock] = []
    for b in blocks:
        if out and b.first <= out[-1].last:
            a = out[-1]
            if b.last > a.last:
                out[-1] = KeyBlock(a.first, b.last, a.kind, head=a.head, tail=b.tail)
            elif b.last == a.last:
                out[-1] = KeyBlock(a.first, a.last, a.kind, head=a.head, tail=a.tail and b.tail)
        else:
            out.append(b)
    return out


def mask_line(text: str, block: KeyBlock, line: int) -> str:
    """Line ``line`` (inside ``block``) with its key material replaced by :data:`TOKEN`."""
    head = tail = ""
    if line == block.first and block.head:
        marks = [m.start() for rx in _MARKERS for m in [rx.search(text)] if m]
        if marks:
            head = text[:min(marks)]
    if line == block.last and block.tail:
        ends = list(_END.finditer(text))
        if ends:
            tail = text[ends[-1].end():]
            if _BEGIN.search(tail) or _PUTTY.search(tail):
                tail = ""  # another key starts on that line: it goes too
    return f"{head}{TOKEN}{tail}"


def mask(lines: Sequence[str], numbers: Sequence[int | None], blocks: Sequence[KeyBlock]
         ) -> tuple[list[str], list[tuple[int, int]]]:
    """``lines`` with those whose source line number (``numbers``, 0-based; None for a line of
    ours, e.g. a "record cut" note) falls in a block masked; and the masked runs as (index of
    first, index of last) pairs into ``lines``, one per block touched."""
    out = list(lines)
    runs: list[tuple[int, int]] = []
    if not blocks:
        return out, runs
    firsts = [b.first for b in blocks]
    current: KeyBlock | None = None
    for i, (text, number) in enumerate(zip(lines, numbers, strict=True)):
        if number is None:
            continue
        j = bisect.bisect_right(firsts, number) - 1
        block = blocks[j] if j >= 0 and blocks[j].last >= number else None
        if block is None:
            current = None
            continue
        out[i] = mask_line(text, block, number)
        if block is current and runs:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
            current = block
    return out, runs


def mask_excerpt(lines: Sequence[str]) -> tuple[list[str], list[tuple[int, int]]]:
    """:func:`mask` for an excerpt on its own, its edges taken for cuts (``window=True``)."""
    blocks = find_blocks(TextLines(lines), window=True)
    return mask(lines, range(len(lines)), blocks)


# --- spans within one text (the redactor) -----------------------------------------------------


def find_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every private key block in ``text``, in order: from its BEGIN mark to its
    END mark (to the end of ``text`` when there is none), or from ``Private-Lines: N`` over its
    N lines and the ``Private-MAC`` line. A text that starts inside a block (its END or
    ``Private-MAC`` line with no opening before it) has the block reach back over the body
    words before the mark on its line, or else over the lines before it that look like key
    material (:func:`body_start`). Certificates and public keys are no blocks."""
    dash = _ARMOUR_MARK.search(text)
    putty = _PUTTY_MARK.search(text)
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        if dash is not None and dash.start() < pos:
            dash = _ARMOUR_MARK.search(text, pos)
        if putty is not None and putty.start() < pos:
            putty = _PUTTY_MARK.search(text, pos)
        if dash is None and putty is None:
            return spans
        m = dash if putty is None or (dash is not None and dash.start() < putty.start()) else putty
        assert m is not None  # both None returned above
        groups = m.groupdict()
        if groups.get("word") == "BEGIN":
            tail = _END.search(text, m.end())
            end = tail.end() if tail else len(text)
            spans.append((m.start(), end))
        elif groups.get("lines") is not None:
            end = m.end()
            for _ in range(int(m.group("lines")[:7]) + 1):  # the rest of its line, then N lines
                nl = text.find("\n", end)
                end = len(text) if nl < 0 else nl + 1
                if nl < 0:
                    break
            # PuTTY's MAC line right after the private lines goes with them
            mac = _PUTTY_MARK.match(text, end)
            if mac and mac.group("mac"):
                end = mac.end()
            spans.append((m.start(), end))
        else:
            # an END line with no BEGIN before it (or a MAC line without Private-Lines): the block
            # started before this text did, so it covers the body right before the mark
            line_start = text.rfind("\n", 0, m.start()) + 1
            start = _body_words_before(text, line_start, m.start())
            if start == line_start:  # nothing else on the mark's line: earlier lines may be body
                start = body_start(text, line_start, spans[-1][1] if spans else 0)
            while start < m.start() and text[start] in "\r\n \t":
                start += 1
            end = m.end()
            if text[start:m.start()].strip() or groups.get("mac") is not None:
                spans.append((start, end))
        pos = end if end > m.start() else m.end()


def body_start(text: str, end: int, lo: int = 0) -> int:
    """Where the lines of ``text[lo:end]`` (``end`` a line start) that could be the body of a
    key whose END mark is at ``end`` begin (:func:`_reach`); ``end`` when none could."""
    starts: list[int] = []

    def lines_back() -> Iterator[str]:
        line_end = end
        while line_end > lo:
            start = max(text.rfind("\n", lo, line_end - 1) + 1, lo)
            starts.append(start)
            yield text[start:line_end - 1]
            line_end = start

    n = _reach(lines_back(), forward=False)
    return starts[n - 1] if n else end


def _body_words_before(text: str, line_start: int, pos: int) -> int:
    """Where the base64 words right before ``pos`` on its line start (``pos`` if none): body
    words on the line of an END mark whose line ends were lost (``... AbCd== -----END``)."""
    k = pos
    while k > line_start:
        j = k
        while j > line_start and text[j - 1] in " \t":
            j -= 1
        i = j
        while i > line_start and text[i - 1] in _B64_CHARS:
            i -= 1
        if i == j or (i > line_start and text[i - 1] not in " \t"):
            break  # no word, or a word glued to something else ("pem:MIIE")
        k = i
    return line_start if not text[line_start:k].strip(" \t") else k


def open_block(text: str, cut: int) -> int:
    """Where the last key block starting before ``cut`` starts, if it does not end by ``cut``
    (a text cut there would split it), else -1. Only the usual armours (PEM's ``-----BEGIN``,
    SSH2's ``---- BEGIN``) are looked for: a block split at a cut is still masked on both sides
    (to the first part's end, and back from the END mark in the second), only less neatly."""
    begin = max(text.rfind("-----BEGIN", 0, cut), text.rfind("---- BEGIN", 0, cut))
    putty = text.rfind("Private-Lines:", 0, cut)
    if putty > begin:
        m = _PRIVATE_LINES.match(text, putty)
        if m is None:
            return -1
        lines = int(m.group("lines")[:7]) + 1  # its own line end, the private lines, the MAC line
        return -1 if text.count("\n", m.end(), cut) > lines else putty
    if begin < 0 or _BEGIN.match(text, begin) is None:  # none, or a certificate
        return -1
    return -1 if _END.search(text, begin, cut) else begin


__all__ = [
    "MAX_BLOCK_LINES",
    "NEEDLES",
    "TOKEN",
    "KeyBlock",
    "LineSource",
    "TextLines",
    "body_start",
    "excerpt",
    "find_blocks",
    "find_spans",
    "looks_like_body",
    "mask",
    "mask_excerpt",
    "mask_line",
    "open_block",
    "record_lines",
    "with_key_note",
]


# Excerpts of a log's records with their key blocks masked: shared by the bundle's excerpts and the
# report window's (reports/window.py), so both cut the same way.
def with_key_note(note: str, runs: Sequence[tuple[int, int]]) -> str:
    spans = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)
    return (f"{note}; " if note else "") + (
        f"lines {spans} masked: they belong to a private key block")


def record_lines(rec: Any) -> tuple[list[str], list[int | None]]:
    """A record's lines and the 0-based file line number of each (None: a line of ours, such as
    the "record cut for display" notice). Split on "\n" only, as the index counts lines."""
    parts = rec.raw.split("\n")
    span = rec.last_line - rec.first_line + 1
    return parts, [rec.first_line + j if j < span else None for j in range(len(parts))]


def excerpt(log: Any, texts: list[str], numbers: list[int | None], blocks: list[Any],
            note: str) -> Any:
    from diagkit.reports.model import LogExcerpt

    first = next((n for n in numbers if n is not None), 0) + 1
    masked, runs = mask(texts, numbers, blocks)
    keys = tuple((_number(numbers[a]) + 1, _number(numbers[b]) + 1) for a, b in runs)
    return LogExcerpt(source=log.label, lines=tuple(masked), first_line=first,
                      note=with_key_note(note, keys) if keys else note, masked_keys=keys)


def _number(line: int | None) -> int:
    assert line is not None  # masked runs start and end on lines of the file
    return line
