"""The terminal emulator behind the Terminal tab: pyte's screen, plus what a shell user expects.

pyte (a VT100/xterm emulator in pure Python) parses the program's output into a grid of
styled characters. :class:`TerminalScreen` is its :class:`pyte.HistoryScreen` with three
additions the widget relies on:

* **Scrollback as plain reading.** Lines that scroll off the top are kept in
  ``history.top`` (pyte's deque); the widget reads them directly instead of paging pyte's
  buffer back and forth, so output arriving while the user reads history does not tear the
  screen. ``pushed`` counts every line ever moved there, which gives each line a stable
  number for a selection while old lines fall off the far end.
* **The alternate screen** (``ESC[?1049h``, also 47 and 1047), which pyte ignores: full-screen
  programs (less, vim, top) draw on a blank screen of their own and leave the shell's screen
  as it was when they quit; what they scroll is not scrollback.
* **Answers to queries** (cursor position, device attributes) go back to the program through
  ``reply``: vim and readline ask and wait.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pyte
from pyte.screens import Char, Margins, StaticDefaultDict

#: Private modes of the alternate screen; 1049 also saves and restores the cursor.
_ALT_MODES = (47, 1047, 1049)
#: Private mode numbers as pyte keeps them in ``screen.mode`` (shifted by 5 bits).
APP_CURSOR_KEYS = 1 << 5
BRACKETED_PASTE = 2004 << 5
SCROLLBACK_LINES = 5_000
#: Distinct styled characters kept for sharing (see :meth:`TerminalScreen.index`).
_INTERN_LIMIT = 50_000

Line = StaticDefaultDict[int, Char]


class TerminalScreen(pyte.HistoryScreen):
    """A pyte screen with scrollback, the alternate screen and replies; see the module doc."""

    # HistoryScreen wraps every event in before/after hooks that page its buffer back to the
    # bottom and derive the cursor's visibility; with no paging here both are no-ops (the
    # cursor follows DECTCEM in Screen.set_mode itself), and the wrapper made parsing six
    # times slower. The C attribute lookup again:
    __getattribute__ = object.__getattribute__

    def __init__(self, columns: int, lines: int, *, history: int = SCROLLBACK_LINES,
                 reply: Callable[[str], None] | None = None) -> None:
        self.reply = reply
        self.pushed = 0
        self._interned: dict[Char, Char] = {}
        self._primary: dict[int, Line] | None = None  # the shell's screen while alt is on
        super().__init__(columns, lines, history=history)

    # --- the alternate screen ----------------------------------------------------------------

    @property
    def alternate(self) -> bool:
        return self._primary is not None

    def _new_buffer(self) -> dict[int, Line]:
        return defaultdict(lambda: StaticDefaultDict(self.default_char))

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and any(m in _ALT_MODES for m in modes):
            if 1049 in modes:
                self.save_cursor()
            if self._primary is None:
                self._primary = self.buffer
                self.buffer = self._new_buffer()
                self.dirty.update(range(self.lines))
            modes = tuple(m for m in modes if m not in _ALT_MODES)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and any(m in _ALT_MODES for m in modes):
            if self._primary is not None:
                self.buffer = self._primary
                self._primary = None
                self.dirty.update(range(self.lines))
            if 1049 in modes:
                self.restore_cursor()
            modes = tuple(m for m in modes if m not in _ALT_MODES)
        super().reset_mode(*modes, **kwargs)

    def reset(self) -> None:
        self._primary = None
        super().reset()

    # --- scrollback --------------------------------------------------------------------------

    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        # As xterm: only a line leaving the whole primary screen becomes scrollback; a scroll
        # region (a pager's status line kept) or the alternate screen scroll without keeping.
        if self.cursor.y == bottom and top == 0 and self._primary is None:
            self.pushed += 1
            # pyte makes a new Char tuple per drawn cell; a line of history shares equal ones
            # instead (a full 120-column line: 28 KB -> 5 KB, so 5000 lines stay ~25 MB).
            line, interned = self.buffer[0], self._interned
            if len(interned) > _INTERN_LIMIT:
                interned.clear()
            for x, char in line.items():
                line[x] = interned.setdefault(char, char)
            super().index()  # HistoryScreen.index keeps the top line
        else:
            pyte.Screen.index(self)

    def reverse_index(self) -> None:
        pyte.Screen.reverse_index(self)  # pyte's "bottom history" is for paging, unused here

    def write_process_input(self, data: str) -> None:
        if self.reply is not None:
            self.reply(data)

    # --- reading -----------------------------------------------------------------------------

    @property
    def scrollback(self) -> int:
        """How many lines of history there are above the screen."""
        return len(self.history.top)

    def line_at(self, number: int) -> Line | None:
        """Line ``number`` in the stable numbering: history lines below :attr:`pushed`, the
        screen's rows from it. None when it fell off the history."""
        if number >= self.pushed:
            row = number - self.pushed
            return self.buffer[row] if row < self.lines else None
        index = number - (self.pushed - len(self.history.top))
        return self.history.top[index] if index >= 0 else None

    def text_of(self, line: Line | None, start: int = 0, end: int | None = None) -> str:
        """The characters of ``line`` from column ``start`` to ``end`` (exclusive), trailing
        blanks dropped; wide characters once."""
        if line is None:
            return ""
        stop = self.columns if end is None else min(end, self.columns)
        return "".join(line[x].data for x in range(start, stop)).rstrip()

    def text_between(self, first: tuple[int, int], last: tuple[int, int]) -> str:
        """The text from cell ``first`` to cell ``last`` (inclusive), both (line number,
        column) in the stable numbering, one line per row."""
        (l0, c0), (l1, c1) = sorted((first, last))
        rows = []
        for number in range(l0, l1 + 1):
            start = c0 if number == l0 else 0
            end = c1 + 1 if number == l1 else None
            rows.append(self.text_of(self.line_at(number), start, end))
        return "\n".join(rows)


def _ignoring_private(name: str) -> Callable[..., None]:
    base = getattr(pyte.HistoryScreen, name)

    def handler(self: TerminalScreen, *params: int, private: bool = False, **_: Any) -> None:
        if not private:
            base(self, *params)

    handler.__name__ = name
    handler.__doc__ = f"pyte's {name}; its private (``CSI ? ...``) variants are ignored."
    return handler


# pyte's parser passes ``private=True`` to every CSI handler when the sequence starts with "?",
# and most handlers take no such argument: ``CSI ? 4 m`` (which vim may send) raised TypeError
# and killed the parser. xterm ignores private variants it does not know; so do these.
for _name in sorted({name for name in pyte.Stream.csi.values()
                     if name not in ("set_mode", "reset_mode", "erase_in_display",
                                     "erase_in_line", "report_device_attributes")}):
    setattr(TerminalScreen, _name, _ignoring_private(_name))
