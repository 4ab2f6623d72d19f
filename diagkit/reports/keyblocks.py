"""Private key blocks in logs, found in the whole source before an excerpt is cut from it.

The redactor (:mod:`diagkit.reports.redact`) recognises a private key from its ``BEGIN`` line. A
log excerpt is a window of lines: when the window opens *inside* a key block, the excerpt holds
the key's body and its ``END`` line but no ``BEGIN``, and nothing in the excerpt says "key". So
the blocks are found in the **whole** log first (:func:`find_blocks` over a
:class:`~diagkit.logs.logfile.LogFile`), and every line of a window that falls inside one is
masked (:func:`mask`) before the window is cut, trimmed or redacted.

Blocks (each line of them is masked, the text before the opening marker on the first line and
after the closing marker on the last line is kept):

* PEM / OpenSSH / PGP / SSH2 armour: a line with ``-----BEGIN … PRIVATE KEY-----`` (also
  ``ENCRYPTED``, ``RSA``, ``EC``, ``DSA``, ``OPENSSH``, ``PGP … KEY BLOCK``, ``SECRET KEY``,
  RFC 4716's ``---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----``) up to the next ``END`` line of that
  armour. A block whose ``BEGIN`` and ``END`` are on one line is left to the redactor (it masks
  just the key, not the line).
* PuTTY: from ``PuTTY-User-Key-File-N:`` through ``Private-Lines: N``, the N lines after it and
  the ``Private-MAC:`` (or ``Private-Hash:``) line. A ``Private-Lines: N`` without its header
  opens a block too.

Blocks cut short, in the whole source (``window=False``): a ``BEGIN`` (or PuTTY header) without
an end within :data:`MAX_BLOCK_LINES` lines runs on over the lines that look like key material
(see :func:`looks_like_body`); an ``END`` (or ``Private-MAC:``) without an opening reaches back
over such lines. In an excerpt (``window=True``, the fallback for excerpts that were not cut by
:func:`diagkit.reports.bundle.log_excerpts`) the excerpt's edges are where it was cut, so an
unclosed block runs to the excerpt's end and an unopened one from its start.

Speed: the lines worth a look are found with one literal search per marker over the mapped file
(:meth:`LogFile.lines_containing`, a few GB/s each); only those lines are decoded and read, so a
multi-GB log without keys costs a few passes of ``memchr``-like search and no Python per line.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

TOKEN = "[REDACTED:private_key]"
#: A block longer than this is taken for two cut-short blocks (a BEGIN whose END went missing
#: and another key's END), not one key: a real private key armour is at most a few hundred lines.
MAX_BLOCK_LINES = 10_000

#: Literal strings one of which every marker line holds (searched over the raw file).
NEEDLES: tuple[str, ...] = ("PRIVATE KEY", "SECRET KEY", "Private-", "PuTTY-User-Key-File-")

_ARMOUR = r"-{4,5} ?{word} (?:[A-Z0-9]+ )*?(?:PRIVATE|SECRET) KEY(?: BLOCK)?(?: ?-{4,5})?"
_BEGIN = re.compile(_ARMOUR.replace("{word}", "BEGIN"))
_END = re.compile(_ARMOUR.replace("{word}", "END"))
_PUTTY = re.compile(r"PuTTY-User-Key-File-\d+:")
_PRIVATE_LINES = re.compile(r"Private-Lines:[ \t]*(\d+)")
_PRIVATE_MAC = re.compile(r"Private-(?:MAC|Hash):")
# Key material as it appears in a log line, perhaps after a log prefix: a long base64 run that
# ends the line and mixes upper and lower case (hex ids and words do not), or an armour header.
_LONG_B64 = re.compile(r"(?:^|[\s:>\]])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])"
                       r"[A-Za-z0-9+/]{40,}={0,2}\s*$")
_SHORT_B64 = re.compile(r"(?:^|[\s:>\]])[A-Za-z0-9+/]{1,39}={0,2}\s*$")
_CHECKSUM = re.compile(r"(?:^|[\s:>\]])=[A-Za-z0-9+/]{4}\s*$")  # PGP armour's CRC-24 line
_HEADER = re.compile(r"(?:^|\s)(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset|MessageID|"
                     r"Encryption|Public-Lines|Private-Lines|Private-MAC|Private-Hash|"
                     r"Key-Derivation|Argon2-[A-Za-z]+):")


_MARKERS = (_BEGIN, _END, _PUTTY, _PRIVATE_LINES, _PRIVATE_MAC)


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


def looks_like_body(text: str) -> bool:
    """Whether a line could be part of a key's armour (used only where a block was cut short):
    a long mixed-case base64 run that ends the line, an armour header, a PGP checksum, or
    nothing at all."""
    return (not text.strip() or _LONG_B64.search(text) is not None
            or _HEADER.search(text) is not None or _CHECKSUM.search(text) is not None)


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
        if window:  # everything up to the cut (or the next block) may be key material
            last = min(until, n) - 1
        else:
            last = _walk(source, open_.first, +1, min(until, n) - 1)
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
        found.append(("lines", m.start(), m.end(), int(m.group(1)[:7])))
    found.sort(key=lambda e: e[1])
    return found


def _walk(source: LineSource, line: int, step: int, limit: int) -> int:
    """From ``line`` (a marker line), the farthest line in direction ``step`` (not past
    ``limit``) reached over lines that look like key material; blank lines at the far end are
    not taken. The last line of a body is often short: forwards, a short base64 line right
    after a long one is taken and ends the walk; backwards, short base64 lines are taken until
    the first long one."""
    reached = line
    k = line + step
    seen_long = False
    while (k <= limit) if step > 0 else (k >= limit):
        text = source.line_text(k)
        if looks_like_body(text):
            if _LONG_B64.search(text):
                seen_long = True
            if text.strip():
                reached = k
        elif _SHORT_B64.search(text) and (seen_long if step > 0 else not seen_long):
            reached = k
            if step > 0:
                break
        else:
            break
        k += step
    return reached


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


__all__ = ["MAX_BLOCK_LINES", "NEEDLES", "TOKEN", "KeyBlock", "LineSource", "TextLines",
           "find_blocks", "looks_like_body", "mask", "mask_excerpt", "mask_line"]
