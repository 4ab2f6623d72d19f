"""Showing untrusted text safely: control characters made visible instead of obeyed.

Text that reaches a terminal or a report comes from hosts, probe output, log files, bundles, KB
articles and case data; none of it was written by the person reading it. A terminal *obeys*
control characters: ``ESC [2J`` clears the screen, ``ESC ]0;...BEL`` retitles the window, a lone
``CR`` or backspaces overwrite what was printed before, so a log line could forge
``bundle.zip: OK`` or hide itself. Reports have the same problem one step later (a terminal
that ``cat``s report.md, a browser showing U+202E reversed text).

:func:`escape_controls` shows such characters as escapes instead, each always in one form:

* C0 controls except TAB and (when ``newlines``) LF: ``\\r`` for CR, ``\\n`` for LF, ``\\xNN`` for
  the others (``\\x1b`` for ESC, ``\\x07`` for BEL, ``\\x08`` for backspace);
* DEL, the C1 controls (U+0080..U+009F, e.g. the 8-bit CSI U+009B), the bidirectional
  embedding/override/isolate controls (U+202A..U+202E, U+2066..U+2069), the line and paragraph
  separators U+2028/U+2029 and lone surrogates: ``\\uNNNN``. That form is also a valid JSON
  escape, so JSON output that passes through an escaping stream stays valid JSON (``json``
  itself already escapes C0 controls, but leaves these raw with ``ensure_ascii=False``).

:func:`one_line` escapes LF too, for one line of output. :func:`printable` is for a name inside
a message (a member of a hostile zip, a file name): it escapes, in the same forms, every
character that does not print, also TAB (``\\t``), format characters such as a zero-width
space, odd spaces and unassigned code points (``\\uNNNN``, ``\\UNNNNNNNN`` beyond U+FFFF), so
two names that look alike on screen are told apart.

Backslashes are left alone: text that already contains the four characters ``\\x1b`` looks
the same as an escaped ESC, which is harmless (nothing is obeyed either way).

:class:`EscapingWriter` wraps a text stream so that everything written through it is escaped;
the CLI wraps its stdout and stderr in one (see ``diagkit.cli.main``) instead of escaping at each
``print``. Reports use the same function as the Jinja ``finalize`` hook
(:mod:`diagkit.reports.render`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Self, TextIO

_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029)


def _escape(code: int) -> str:
    """The one form every escaper here shows character ``code`` in."""
    if code < 0x20:
        return {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}.get(code, f"\\x{code:02x}")
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _table(newlines: bool) -> dict[int, str]:
    codes = [c for c in range(0x20) if c != 0x09 and (c != 0x0A or not newlines)]
    codes += [0x7F, *range(0x80, 0xA0), *_BIDI, *range(0xD800, 0xE000)]
    return {code: _escape(code) for code in codes}


_KEEP_NEWLINES = _table(newlines=True)
_ONE_LINE = _table(newlines=False)


def escape_controls(text: str, *, newlines: bool = True) -> str:
    """``text`` with control characters shown as escapes (see the module docstring).

    ``newlines=False`` escapes LF too (``\\n``), for text that must stay on one line: a table
    cell, a host name, a file name inside a message.
    """
    return text.translate(_KEEP_NEWLINES if newlines else _ONE_LINE)


def one_line(value: object) -> str:
    """``str(value)`` escaped for a single line (LF shown as ``\\n`` too)."""
    return escape_controls(str(value), newlines=False)


def printable(value: object) -> str:
    """``str(value)`` with every character that does not print escaped (see the module
    docstring): for a name inside a message."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(ord(c)) for c in text)


class EscapingWriter(TextIO):
    """A text stream that escapes control characters in everything written to it.

    ``raw`` is the wrapped stream, for output that must pass through unchanged (``diagkit run
    --no-escape``). Everything else (``isatty``, ``encoding``, ``fileno``...) is the wrapped
    stream's; closing the writer does not close the stream.
    """

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, s: str) -> int:
        self.raw.write(escape_controls(s))
        return len(s)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.flush()

    @property
    def closed(self) -> bool:
        return self.raw.closed

    @property
    def encoding(self) -> str:
        return getattr(self.raw, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:
        return getattr(self.raw, "errors", None)

    @property
    def name(self) -> str:
        return str(getattr(self.raw, "name", "<escaped>"))

    @property
    def mode(self) -> str:
        return str(getattr(self.raw, "mode", "w"))

    @property
    def line_buffering(self) -> bool:
        return bool(getattr(self.raw, "line_buffering", False))

    @property
    def newlines(self) -> str | tuple[str, ...] | None:
        return getattr(self.raw, "newlines", None)

    @property
    def buffer(self) -> BinaryIO:
        # Bytes written below the escaping would skip it: there is no buffer to hand out.
        raise io.UnsupportedOperation("an escaping writer has no binary buffer")

    # Write-only: the reading and seeking half of TextIO refuses, as __iter__ does.
    def read(self, n: int = -1) -> str:
        raise io.UnsupportedOperation("an escaping writer cannot be read")

    def readline(self, limit: int = -1) -> str:
        raise io.UnsupportedOperation("an escaping writer cannot be read")

    def readlines(self, hint: int = -1) -> list[str]:
        raise io.UnsupportedOperation("an escaping writer cannot be read")

    def __next__(self) -> str:
        raise io.UnsupportedOperation("an escaping writer cannot be read")

    def seek(self, offset: int, whence: int = 0) -> int:
        raise io.UnsupportedOperation("an escaping writer cannot seek")

    def tell(self) -> int:
        raise io.UnsupportedOperation("an escaping writer cannot seek")

    def truncate(self, size: int | None = None) -> int:
        raise io.UnsupportedOperation("an escaping writer cannot seek")

    def __getattr__(self, name: str) -> object:
        return getattr(self.raw, name)

    def __iter__(self) -> Iterator[str]:
        raise OSError("an escaping writer cannot be read")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()


def escaping(stream: TextIO) -> TextIO:
    """``stream`` wrapped in an :class:`EscapingWriter` (unless it already is one)."""
    return stream if isinstance(stream, EscapingWriter) else EscapingWriter(stream)


def unescaped(stream: TextIO) -> TextIO:
    """The stream under an :class:`EscapingWriter` (``stream`` itself if it is not one)."""
    return stream.raw if isinstance(stream, EscapingWriter) else stream


__all__ = ["EscapingWriter", "escape_controls", "escaping", "one_line", "printable",
           "unescaped"]
