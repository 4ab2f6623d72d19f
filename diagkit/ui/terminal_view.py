"""The Terminal tab: an interactive shell on the host, in a terminal drawn by Qt.

Three parts, top to bottom:

* the session (:mod:`diagkit.transport.shell`): a PTY shell over the host's open connection,
  or on this machine; its reader thread hands bytes to a bounded queue here (a program that
  prints faster than we can draw is slowed down by the PTY, not buffered without end);
* the emulator (:class:`~diagkit.ui.terminal_screen.TerminalScreen`, pyte), fed on the GUI
  thread in slices of :data:`_FEED_SECONDS` at a time so a flood of output never freezes the window;
* :class:`TerminalWidget`, which paints the screen cell by cell (only the rows that changed),
  turns keys into the bytes a terminal sends, and does scrollback, selection, copy and paste.

:class:`TerminalView` puts the widget, its scroll bar and a banner together and starts the
shell when the tab is first shown. When the connection drops the banner says so and offers
Reconnect; "Send selection to case" journals the selected text, secrets masked, as a note.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable

import pyte
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QClipboard,
    QColor,
    QContextMenuEvent,
    QFocusEvent,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QFontMetricsF,
    QGuiApplication,
    QInputMethodEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollBar,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import DiagkitError
from diagkit.transport.base import Transport
from diagkit.transport.shell import CLOSED, LOST, ShellEnd, ShellSession, open_shell
from diagkit.ui.terminal_screen import (
    APP_CURSOR_KEYS,
    BRACKETED_PASTE,
    Line,
    TerminalScreen,
)
from diagkit.ui.workers import Worker, run_in_background

#: Parsing time per turn of the event loop before the window gets to repaint and take input
#: (pyte parses some 100 KiB/s to a few MiB/s, so a flood is fed in slices of this long).
_FEED_SECONDS = 0.03
_FEED_SLICE = 4096
#: Chunks waiting between the reader thread and the GUI; beyond this the reader waits, and the
#: program's writes block on its PTY: a flood is slowed down, not buffered without end (so
#: Ctrl+C shows its effect soon).
_INBOX_CHUNKS = 16
_WHEEL_LINES = 3
_XTERM_GT_SGR = re.compile(rb"\x1b\[>[0-9;]*m")
log = logging.getLogger(__name__)

# The sixteen named colours (pyte calls yellow "brown"). Not xterm's own: its blue (0,0,238)
# is unreadable on a dark background (ls colours directories blue); these are VS Code's.
_NAMED = {
    "black": (0, 0, 0), "red": (205, 49, 49), "green": (13, 188, 121),
    "brown": (229, 229, 16), "blue": (36, 114, 200), "magenta": (188, 63, 188),
    "cyan": (17, 168, 205), "white": (229, 229, 229), "brightblack": (102, 102, 102),
    "brightred": (241, 76, 76), "brightgreen": (35, 209, 139), "brightbrown": (245, 245, 67),
    "brightblue": (59, 142, 234), "brightmagenta": (214, 112, 214),
    "brightcyan": (41, 184, 219), "brightwhite": (255, 255, 255),
}
_DEFAULT_FG, _DEFAULT_BG = QColor(229, 229, 229), QColor(24, 24, 24)
_SELECTION_BG, _SELECTION_FG = QColor(70, 110, 170), QColor(255, 255, 255)

# Keys whose bytes do not depend on modifiers (beyond what the table names).
_CSI_TILDE = {
    Qt.Key.Key_Insert: 2, Qt.Key.Key_Delete: 3, Qt.Key.Key_PageUp: 5, Qt.Key.Key_PageDown: 6,
    Qt.Key.Key_F5: 15, Qt.Key.Key_F6: 17, Qt.Key.Key_F7: 18, Qt.Key.Key_F8: 19,
    Qt.Key.Key_F9: 20, Qt.Key.Key_F10: 21, Qt.Key.Key_F11: 23, Qt.Key.Key_F12: 24,
}
_SS3_F = {Qt.Key.Key_F1: "P", Qt.Key.Key_F2: "Q", Qt.Key.Key_F3: "R", Qt.Key.Key_F4: "S"}
_CURSOR = {Qt.Key.Key_Up: "A", Qt.Key.Key_Down: "B", Qt.Key.Key_Right: "C",
           Qt.Key.Key_Left: "D", Qt.Key.Key_Home: "H", Qt.Key.Key_End: "F"}
_CTRL_PUNCT = {Qt.Key.Key_Space: 0, Qt.Key.Key_At: 0, Qt.Key.Key_BracketLeft: 27,
               Qt.Key.Key_Backslash: 28, Qt.Key.Key_BracketRight: 29,
               Qt.Key.Key_AsciiCircum: 30, Qt.Key.Key_Underscore: 31, Qt.Key.Key_Question: 127}
_M = Qt.KeyboardModifier


def colour(name: str, default: QColor) -> QColor:
    """A pyte colour (a name, ``"default"``, or ``rrggbb`` for 256-colour and truecolor)."""
    if name == "default":
        return default
    rgb = _NAMED.get(name)
    if rgb is not None:
        return QColor(*rgb)
    if len(name) == 6:
        with contextlib.suppress(ValueError):
            return QColor(int(name[0:2], 16), int(name[2:4], 16), int(name[4:6], 16))
    return default


def _modifier_param(mods: Qt.KeyboardModifier) -> int:
    """xterm's modifier parameter: 1 + Shift 1 + Alt 2 + Ctrl 4 (1 = none)."""
    return (1 + (1 if mods & _M.ShiftModifier else 0) + (2 if mods & _M.AltModifier else 0)
            + (4 if mods & _M.ControlModifier else 0))


def key_bytes(event: QKeyEvent, *, app_cursor: bool = False) -> bytes | None:
    """The bytes an xterm sends for ``event``; None for keys it sends nothing for."""
    key, mods = Qt.Key(event.key()), event.modifiers()
    ctrl, alt = bool(mods & _M.ControlModifier), bool(mods & _M.AltModifier)
    param = _modifier_param(mods & (_M.ShiftModifier | _M.AltModifier | _M.ControlModifier))
    if key in _CURSOR:
        final = _CURSOR[key]
        if param > 1:
            return f"\x1b[1;{param}{final}".encode()
        return f"\x1bO{final}".encode() if app_cursor else f"\x1b[{final}".encode()
    if key in _CSI_TILDE:
        number = _CSI_TILDE[key]
        return (f"\x1b[{number};{param}~" if param > 1 else f"\x1b[{number}~").encode()
    if key in _SS3_F:
        final = _SS3_F[key]
        return (f"\x1b[1;{param}{final}" if param > 1 else f"\x1bO{final}").encode()
    prefix = b"\x1b" if alt else b""
    if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        return prefix + b"\r"
    if key == Qt.Key.Key_Backspace:
        return prefix + (b"\x08" if ctrl else b"\x7f")
    if key == Qt.Key.Key_Backtab or (key == Qt.Key.Key_Tab and mods & _M.ShiftModifier):
        return b"\x1b[Z"
    if key == Qt.Key.Key_Tab:
        return prefix + b"\t"
    if key == Qt.Key.Key_Escape:
        return b"\x1b"
    if ctrl and Qt.Key.Key_A <= key <= Qt.Key.Key_Z:
        return prefix + bytes([int(key) - int(Qt.Key.Key_A) + 1])
    if ctrl and key in _CTRL_PUNCT:
        return prefix + bytes([_CTRL_PUNCT[key]])
    text = event.text()
    if text and all(ch >= " " or ch == "\t" for ch in text):
        return prefix + text.encode("utf-8")
    if text and ctrl and len(text) == 1:
        return prefix + text.encode("utf-8")  # the platform's own control character
    return None


class _Bridge(QObject):
    """Carries the session's news from its reader thread to the GUI thread (queued signals)."""

    output = Signal()
    ended = Signal(object, object)  # (session, ShellEnd)


class TerminalWidget(QWidget):
    """Paints a :class:`TerminalScreen` and turns the user's input into bytes.

    ``send`` (bytes) goes to the shell; ``size_changed(cols, rows)`` follows resizes;
    ``scroll_changed()`` tells the scroll bar to follow.
    """

    send = Signal(bytes)
    size_changed = Signal(int, int)
    scroll_changed = Signal()
    selection_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)
        self.setCursor(Qt.CursorShape.IBeamCursor)
        self.setMinimumSize(120, 60)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setFixedPitch(True)
        self.set_font(font)
        self.screen = TerminalScreen(80, 24, reply=self._reply)
        self.stream = pyte.ByteStream(self.screen)
        self.scroll = 0  # lines scrolled back from the live screen
        self._anchor: tuple[int, int] | None = None
        self._end: tuple[int, int] | None = None
        self._selecting = False
        self._cursor_row = 0

    # --- geometry -------------------------------------------------------------------------

    def set_font(self, font: QFont) -> None:
        # Glyphs advance by a fraction of a pixel (7.8 px...), cells are whole pixels: spacing
        # the letters by the difference keeps a run of text on the grid (else "2020" of one
        # run ran into the file name of the next after 60 columns).
        font = QFont(font)
        advance = QFontMetricsF(font).horizontalAdvance("M")
        self.cell_w = max(1, round(advance))
        font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, self.cell_w - advance)
        self._fonts: dict[tuple[bool, bool, bool, bool], QFont] = {}
        self._font = font
        metrics = QFontMetrics(font)
        self.cell_h = max(1, metrics.height())
        self._ascent = metrics.ascent()
        self.setFont(font)

    def _styled_font(self, bold: bool, italic: bool, under: bool, strike: bool) -> QFont:
        key = (bold, italic, under, strike)
        font = self._fonts.get(key)
        if font is None:
            font = QFont(self._font)
            font.setBold(bold)
            font.setItalic(italic)
            font.setUnderline(under)
            font.setStrikeOut(strike)
            self._fonts[key] = font
        return font

    @property
    def cols(self) -> int:
        return self.screen.columns

    @property
    def rows(self) -> int:
        return self.screen.lines

    def grid_for(self, width: int, height: int) -> tuple[int, int]:
        return max(2, width // self.cell_w), max(1, height // self.cell_h)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        cols, rows = self.grid_for(event.size().width(), event.size().height())
        if (cols, rows) != (self.cols, self.rows):
            self.screen.resize(rows, cols)
            self.scroll = min(self.scroll, self.screen.scrollback)
            self.update()
            self.size_changed.emit(cols, rows)
            self.scroll_changed.emit()

    # --- output -----------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Parse program output and repaint what changed."""
        pushed = self.screen.pushed
        old_cursor = self._cursor_row
        if b"\x1b[>" in data:
            # xterm's "CSI > Pp ; Pv m" (modifyOtherKeys, sent by vim) reaches pyte as plain SGR
            # and would turn on underline; xterm-only settings we do not emulate.
            data = _XTERM_GT_SGR.sub(b"", data)
        try:
            self.stream.feed(data)
        except Exception:  # an emulator bug must not kill the terminal (logged below)
            # pyte's parser is a generator: once it raised it is finished. Log, start a fresh
            # parser on the same screen, and carry on (the rest of this piece is lost).
            log.exception("terminal emulator failed on %d bytes of output", len(data))
            self.stream = pyte.ByteStream(self.screen)
        moved = self.screen.pushed - pushed
        if self.scroll and moved:
            # Reading history: keep the same lines in view while new ones arrive below.
            self.scroll = min(self.scroll + moved, self.screen.scrollback)
            self.screen.dirty.clear()
            self.scroll_changed.emit()
            return
        if moved:
            self.scroll_changed.emit()
        dirty = set(self.screen.dirty)
        self.screen.dirty.clear()
        self._cursor_row = self.screen.cursor.y
        dirty.update((old_cursor, self._cursor_row))
        if self.scroll:
            self.update()  # the live rows sit lower in the view; rare enough to paint it all
            return
        for row in dirty:
            if 0 <= row < self.rows:
                self.update(QRect(0, row * self.cell_h, self.width(), self.cell_h))

    def _reply(self, text: str) -> None:
        self.send.emit(text.encode("utf-8"))

    def clear_scrollback(self) -> None:
        self.screen.history.top.clear()
        self.scroll = 0
        self._anchor = self._end = None
        self.scroll_changed.emit()
        self.update()

    def reset(self) -> None:
        """A fresh screen (a new shell starts)."""
        self.screen.reset()
        self.screen.dirty.clear()
        self.stream = pyte.ByteStream(self.screen)
        self.scroll = 0
        self._anchor = self._end = None
        self.scroll_changed.emit()
        self.update()

    # --- scrolling --------------------------------------------------------------------------

    def scroll_to(self, lines_back: int) -> None:
        lines_back = max(0, min(lines_back, self.screen.scrollback))
        if lines_back != self.scroll:
            self.scroll = lines_back
            self.update()
            self.scroll_changed.emit()

    def scroll_by(self, lines: int) -> None:
        """Positive: back into history."""
        self.scroll_to(self.scroll + lines)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if not steps:
            return
        lines = round(steps * _WHEEL_LINES) or (1 if steps > 0 else -1)
        if self.screen.alternate:
            # A pager or editor has no scrollback: the wheel moves its view, as in xterm.
            arrow = "A" if lines > 0 else "B"
            app = APP_CURSOR_KEYS in self.screen.mode
            self.send.emit((f"\x1bO{arrow}" if app else f"\x1b[{arrow}").encode() * abs(lines))
        else:
            self.scroll_by(lines)
        event.accept()

    # --- painting ---------------------------------------------------------------------------

    def visible_line(self, row: int) -> Line | None:
        return self.screen.line_at(self.top_number + row)

    @property
    def top_number(self) -> int:
        """The stable number (see :meth:`TerminalScreen.line_at`) of the top visible row."""
        return self.screen.pushed - self.scroll

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = event.rect()
        fg_default, bg_default = _DEFAULT_FG, _DEFAULT_BG
        painter.fillRect(rect, bg_default)
        first = max(0, rect.top() // self.cell_h)
        last = min(self.rows - 1, rect.bottom() // self.cell_h)
        selection = self._selection()
        for row in range(first, last + 1):
            line = self.visible_line(row)
            if line is not None:
                self._paint_row(painter, row, line, selection, fg_default, bg_default)
        self._paint_cursor(painter, fg_default, bg_default)
        painter.end()

    def _paint_row(self, painter: QPainter, row: int, line: Line,
                   selection: tuple[tuple[int, int], tuple[int, int]] | None,
                   fg_default: QColor, bg_default: QColor) -> None:
        y = row * self.cell_h
        number = self.top_number + row
        cols = self.cols
        x = 0
        while x < cols:
            char = line[x]
            wide = x + 1 < cols and line[x + 1].data == ""
            selected = selection is not None and selection[0] <= (number, x) <= selection[1]
            style = (char.fg, char.bg, char.bold, char.italics, char.underscore,
                     char.strikethrough, char.reverse, selected)
            # A run of cells with the same look, drawn at once; wide characters alone.
            text = [char.data or " "]
            end = x + (2 if wide else 1)
            while not wide and end < cols:
                nxt = line[end]
                if (end + 1 < cols and line[end + 1].data == "") or nxt.data == "":
                    break
                sel = selection is not None and selection[0] <= (number, end) <= selection[1]
                if (nxt.fg, nxt.bg, nxt.bold, nxt.italics, nxt.underscore, nxt.strikethrough,
                        nxt.reverse, sel) != style:
                    break
                text.append(nxt.data)
                end += 1
            fg = colour(char.fg, fg_default)
            bg = colour(char.bg, bg_default)
            if char.reverse:
                fg, bg = bg, fg
            if selected:
                # the text's own colour may be the selection's (blue directories of ls)
                fg, bg = _SELECTION_FG, _SELECTION_BG
            cell = QRect(x * self.cell_w, y, (end - x) * self.cell_w, self.cell_h)
            if bg != bg_default:
                painter.fillRect(cell, bg)
            joined = "".join(text)
            if joined.strip():
                painter.setFont(self._styled_font(char.bold, char.italics, char.underscore,
                                                  char.strikethrough))
                painter.setPen(fg)
                painter.drawText(cell.x(), y + self._ascent, joined)
            x = end

    def _paint_cursor(self, painter: QPainter, fg: QColor, bg: QColor) -> None:
        cursor = self.screen.cursor
        if cursor.hidden:
            return
        row = cursor.y + self.scroll
        if row >= self.rows:
            return
        col = min(cursor.x, self.cols - 1)
        cell = QRect(col * self.cell_w, row * self.cell_h, self.cell_w, self.cell_h)
        if self.hasFocus():
            painter.fillRect(cell, fg)
            char = self.screen.buffer[cursor.y][col]
            if char.data.strip():
                painter.setFont(self._styled_font(char.bold, char.italics, False, False))
                painter.setPen(bg)
                painter.drawText(cell.x(), cell.y() + self._ascent, char.data)
        else:
            painter.setPen(fg)
            painter.drawRect(cell.adjusted(0, 0, -1, -1))

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self._update_cursor()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self._update_cursor()

    def _update_cursor(self) -> None:
        row = self.screen.cursor.y + self.scroll
        self.update(QRect(0, row * self.cell_h, self.width(), self.cell_h))

    # --- selection --------------------------------------------------------------------------

    def cell_at(self, pos: QPoint) -> tuple[int, int]:
        """(stable line number, column) under a point of the widget."""
        row = max(0, min(self.rows - 1, pos.y() // self.cell_h))
        col = max(0, min(self.cols - 1, pos.x() // self.cell_w))
        return self.top_number + row, col

    def _selection(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        if self._anchor is None or self._end is None or self._anchor == self._end:
            return None
        first, last = sorted((self._anchor, self._end))
        return first, last

    def select(self, first: tuple[int, int], last: tuple[int, int]) -> None:
        """Select the cells from ``first`` to ``last`` (stable numbers; see :meth:`cell_at`)."""
        self._anchor, self._end = first, last
        self.update()
        self.selection_changed.emit()
        self._publish_selection()

    def clear_selection(self) -> None:
        if self._anchor is not None:
            self._anchor = self._end = None
            self.update()
            self.selection_changed.emit()

    def selected_text(self) -> str:
        span = self._selection()
        if span is None:
            return ""
        return self.screen.text_between(*span)

    def _publish_selection(self) -> None:
        clipboard = QGuiApplication.clipboard()
        text = self.selected_text()
        if text and clipboard.supportsSelection():
            clipboard.setText(text, QClipboard.Mode.Selection)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() == Qt.MouseButton.LeftButton:
            cell = self.cell_at(event.position().toPoint())
            if event.modifiers() & _M.ShiftModifier and self._anchor is not None:
                self._end = cell
            else:
                self._anchor = self._end = cell
            self._selecting = True
            self.update()
        elif event.button() == Qt.MouseButton.MiddleButton:
            clipboard = QGuiApplication.clipboard()
            if clipboard.supportsSelection():
                self.paste(clipboard.text(QClipboard.Mode.Selection))
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._selecting:
            self._end = self.cell_at(event.position().toPoint())
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._selecting and event.button() == Qt.MouseButton.LeftButton:
            self._selecting = False
            self._end = self.cell_at(event.position().toPoint())
            self.update()
            self.selection_changed.emit()
            self._publish_selection()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        number, col = self.cell_at(event.position().toPoint())
        line = self.screen.line_at(number)
        if line is None:
            return

        def word(c: int) -> bool:
            ch = line[c].data
            return bool(ch) and (ch.isalnum() or ch in "-_./~:@%+=")

        start = end = col
        while start > 0 and word(start - 1):
            start -= 1
        while end < self.cols - 1 and word(end + 1):
            end += 1
        self._selecting = False
        self.select((number, start), (number, end))

    # --- input ------------------------------------------------------------------------------

    def paste(self, text: str) -> None:
        """Send ``text`` as typed, bracketed when the program asked for it (so a shell does not
        run pasted lines one by one)."""
        if not text:
            return
        text = text.replace("\r\n", "\r").replace("\n", "\r")
        if BRACKETED_PASTE in self.screen.mode:
            text = "\x1b[200~" + text.replace("\x1b[201~", "") + "\x1b[201~"
        self.scroll_to(0)
        self.send.emit(text.encode("utf-8"))

    def copy(self) -> bool:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)
        return bool(text)

    def paste_clipboard(self) -> None:
        self.paste(QGuiApplication.clipboard().text())

    def _own_shortcut(self, event: QKeyEvent) -> Callable[[], object] | None:
        key, mods = event.key(), event.modifiers() & ~_M.KeypadModifier
        ctrl_shift = _M.ControlModifier | _M.ShiftModifier
        if mods == ctrl_shift and key == Qt.Key.Key_C:
            return self.copy
        if mods == ctrl_shift and key == Qt.Key.Key_V:
            return self.paste_clipboard
        if mods == _M.ShiftModifier:
            page = max(1, self.rows - 1)
            actions: dict[int, Callable[[], object]] = {
                Qt.Key.Key_Insert: self.paste_clipboard,
                Qt.Key.Key_PageUp: lambda: self.scroll_by(page),
                Qt.Key.Key_PageDown: lambda: self.scroll_by(-page),
            }
            if not self.screen.alternate:
                actions[Qt.Key.Key_Home] = lambda: self.scroll_to(self.screen.scrollback)
                actions[Qt.Key.Key_End] = lambda: self.scroll_to(0)
            return actions.get(key)
        return None

    def _is_terminal_key(self, event: QKeyEvent) -> bool:
        """Whether the terminal takes this key before the window's shortcuts: everything a
        shell or editor uses (Ctrl+W, Ctrl+L, F5, Alt+B...). Ctrl+Shift+letters other than
        copy and paste, and Ctrl+digits, stay the window's (new bug report, switch views)."""
        key, mods = event.key(), event.modifiers() & ~_M.KeypadModifier
        if self._own_shortcut(event) is not None:
            return True
        ctrl = bool(mods & _M.ControlModifier)
        if ctrl and mods & _M.ShiftModifier and Qt.Key.Key_A <= key <= Qt.Key.Key_Z:
            return False
        if ctrl and Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
            return False
        if ctrl and key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            return False  # tab switching
        return key_bytes(event, app_cursor=False) is not None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            assert isinstance(event, QKeyEvent)
            if self._is_terminal_key(event):
                event.accept()
                return True
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
                self.keyPressEvent(event)  # never focus navigation: Tab completes in the shell
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        own = self._own_shortcut(event)
        if own is not None:
            own()
            event.accept()
            return
        data = key_bytes(event, app_cursor=APP_CURSOR_KEYS in self.screen.mode)
        if data is None:
            super().keyPressEvent(event)
            return
        self.scroll_to(0)
        self.clear_selection()
        self.send.emit(data)
        event.accept()

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        # Text composed with an input method (dead keys, CJK) arrives here, not as key presses.
        if event.commitString():
            self.scroll_to(0)
            self.send.emit(event.commitString().encode("utf-8"))
        event.accept()

    def focusNextPrevChild(self, next: bool) -> bool:  # Tab belongs to the shell
        return False


class TerminalView(QWidget):
    """A terminal on one host: the widget, its scroll bar, a banner, and the shell session.

    The host tab calls :meth:`set_transport` as the connection comes and goes, and
    :meth:`activate` when the tab is shown (the shell starts then, not before). Signals:
    ``reconnect_requested`` (the banner's Reconnect), ``connection_lost(message)`` (the shell's
    channel died with the connection), ``send_to_case_requested(text)`` (the selection, not yet
    redacted: the host tab redacts it before it is journaled).
    """

    reconnect_requested = Signal()
    connection_lost = Signal(str)
    send_to_case_requested = Signal(str)
    session_started = Signal()

    def __init__(self, host_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host_label = host_label
        self.session: ShellSession | None = None
        self._transport: Transport | None = None
        self._wanted = False
        self._starting: Worker | None = None
        self._inbox: queue.Queue[bytes] = queue.Queue(_INBOX_CHUNKS)
        self._stop_feed = threading.Event()
        self._drain_pending = False
        self._held = b""  # the rest of a chunk being fed slice by slice

        self.term = TerminalWidget()
        self.term.send.connect(self._send)
        self.term.size_changed.connect(self._resized)
        self.term.scroll_changed.connect(self._sync_scrollbar)
        self.term.selection_changed.connect(self._selection_changed)
        self.scrollbar = QScrollBar(Qt.Orientation.Vertical)
        self.scrollbar.valueChanged.connect(self._scrollbar_moved)

        self.banner = QFrame()
        self.banner.setObjectName("terminalBanner")
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner_button = QPushButton("Reconnect")
        self.banner_button.clicked.connect(self._banner_clicked)
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(6, 4, 6, 4)
        banner_row.addWidget(self.banner_label, 1)
        banner_row.addWidget(self.banner_button)

        self.copy_action = QAction("Copy", self, shortcut=QKeySequence("Ctrl+Shift+C"))
        self.copy_action.triggered.connect(self.term.copy)
        self.paste_action = QAction("Paste", self, shortcut=QKeySequence("Ctrl+Shift+V"))
        self.paste_action.triggered.connect(self.term.paste_clipboard)
        self.send_action = QAction("Send selection to case", self)
        self.send_action.setToolTip("Add the selected text to the active case's journal as a "
                                    "note; passwords, tokens and keys are masked first.")
        self.send_action.triggered.connect(self.send_selection_to_case)
        self.clear_action = QAction("Clear scrollback", self)
        self.clear_action.triggered.connect(self.term.clear_scrollback)
        self.restart_action = QAction("Restart shell", self)
        self.restart_action.triggered.connect(self.restart)
        for action in (self.copy_action, self.paste_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        self.send_button = QPushButton("Send selection to case")
        self.send_button.setToolTip(self.send_action.toolTip())
        self.send_button.clicked.connect(self.send_selection_to_case)
        self.hint = QLabel()
        self.hint.setWordWrap(True)

        screen_row = QHBoxLayout()
        screen_row.setSpacing(0)
        screen_row.addWidget(self.term, 1)
        screen_row.addWidget(self.scrollbar)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addLayout(screen_row, 1)
        layout.addLayout(bottom)

        self._bridge = _Bridge()
        self._bridge.output.connect(self._drain)
        self._bridge.ended.connect(self._ended)
        self._selection_changed()
        self._show_banner("Connect first: the terminal runs a shell over the host's connection.",
                          "Connect")

    # --- connection ---------------------------------------------------------------------------

    def set_transport(self, transport: Transport | None, *, reason: str | None = None) -> None:
        """Follow the host's connection. ``None`` closes the shell; ``reason`` says it was lost
        (the banner shows it and offers Reconnect). A new transport restarts the shell if the
        tab was in use."""
        if transport is self._transport and transport is not None:
            return
        self._transport = transport
        self._close_session()
        if transport is None:
            if reason:
                self._show_banner(reason, "Reconnect")
            else:
                self._show_banner("Not connected. Connect to open a shell on "
                                  f"{self.host_label}.", "Connect")
            return
        if self._wanted:
            self._start()
        else:
            self.banner.hide()

    def activate(self) -> None:
        """The tab is shown: start the shell if there is none."""
        self._wanted = True
        if self.session is None and self._starting is None and self._transport is not None:
            self._start()
        self.term.setFocus(Qt.FocusReason.OtherFocusReason)

    def restart(self) -> None:
        self._close_session()
        if self._transport is not None:
            self._start()

    def _start(self) -> None:
        transport = self._transport
        if transport is None or self._starting is not None:
            return
        self._close_session()
        self.term.reset()
        self.banner.hide()
        self.hint.setText(f"Opening a shell on {self.host_label}…")
        cols, rows = self.term.cols, self.term.rows
        stop = threading.Event()
        self._stop_feed = stop
        inbox: queue.Queue[bytes] = queue.Queue(_INBOX_CHUNKS)
        self._inbox = inbox
        self._held = b""
        bridge = self._bridge
        holder: list[ShellSession] = []

        def on_output(data: bytes) -> None:
            # Reader thread: wait for room (back-pressure on the program), unless closing.
            while not stop.is_set():
                try:
                    inbox.put(data, timeout=0.2)
                except queue.Full:
                    continue
                with contextlib.suppress(RuntimeError):  # the view is being destroyed
                    bridge.output.emit()
                return

        def on_closed(end: ShellEnd) -> None:
            with contextlib.suppress(RuntimeError):
                bridge.ended.emit(holder[0] if holder else None, end)

        def job() -> ShellSession:
            session = open_shell(transport, cols=cols, rows=rows, on_output=on_output,
                                 on_closed=on_closed)
            holder.append(session)
            return session

        def started(session: ShellSession) -> None:
            self._starting = None
            if transport is not self._transport:
                stop.set()
                session.close()  # the connection changed while the shell opened
                return
            self.session = session
            if (self.term.cols, self.term.rows) != (cols, rows):
                session.resize(self.term.cols, self.term.rows)
            self.hint.setText(f"Shell on {self.host_label}. Ctrl+Shift+C copies, Ctrl+Shift+V "
                              "pastes, Shift+PgUp/PgDn scroll back.")
            self.session_started.emit()

        def failed(error: BaseException) -> None:
            self._starting = None
            if transport is not self._transport:
                return
            text = str(error) if isinstance(error, DiagkitError) else (
                f"Unexpected {type(error).__name__}: {error}. Details are in the log file.")
            self.hint.setText("")
            self._show_banner(f"No shell: {text}", "Try again")

        self._starting = run_in_background(job, on_done=started, on_error=failed, owner=self)

    def _close_session(self) -> None:
        session, self.session = self.session, None
        self._stop_feed.set()
        if session is not None:
            session.close()

    def _ended(self, session: object, end: ShellEnd) -> None:
        if session is not None and session is not self.session:
            return  # an earlier shell's news
        self._drain(all_of_it=True)
        self.session = None
        if end.how == CLOSED:
            return
        if end.how == LOST:
            self._show_banner(end.message, "Reconnect")
            self.connection_lost.emit(end.message)
        else:
            self._show_banner(f"{end.message} Start a new one with Restart shell.",
                              "Restart shell")

    def _show_banner(self, text: str, button: str) -> None:
        self.banner_label.setText(text)
        self.banner_button.setText(button)
        self.banner.show()

    def _banner_clicked(self) -> None:
        transport = self._transport
        if transport is not None and getattr(transport, "is_active", True):
            self.restart()
        else:
            self._wanted = True
            self.reconnect_requested.emit()

    def shutdown(self) -> None:
        """The tab is closing: end the shell."""
        self._wanted = False
        self._close_session()
        if self._starting is not None:
            self._starting.cancel()
            self._starting = None

    # --- data ---------------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        if self.session is not None:
            self.session.write(data)

    def _resized(self, cols: int, rows: int) -> None:
        if self.session is not None:
            self.session.resize(cols, rows)

    def _drain(self, all_of_it: bool = False) -> None:
        """Feed queued output to the emulator for up to :data:`_FEED_SECONDS`; the rest is
        fed on the next turn of the event loop."""
        self._drain_pending = False
        deadline = time.monotonic() + _FEED_SECONDS
        while all_of_it or time.monotonic() < deadline:
            if not self._held:
                try:
                    self._held = self._inbox.get_nowait()
                except queue.Empty:
                    return
            piece, self._held = self._held[:_FEED_SLICE], self._held[_FEED_SLICE:]
            self.term.feed(piece)
        if not self._drain_pending:
            self._drain_pending = True
            QTimer.singleShot(0, self._drain)

    # --- scroll bar, selection ------------------------------------------------------------

    def _sync_scrollbar(self) -> None:
        back = self.term.screen.scrollback
        bar = self.scrollbar
        bar.blockSignals(True)
        bar.setRange(0, back)
        bar.setPageStep(self.term.rows)
        bar.setValue(back - self.term.scroll)
        bar.blockSignals(False)

    def _scrollbar_moved(self, value: int) -> None:
        self.term.scroll_to(self.term.screen.scrollback - value)

    def _selection_changed(self) -> None:
        has = bool(self.term.selected_text())
        self.copy_action.setEnabled(True)
        self.send_action.setEnabled(has)
        self.send_button.setEnabled(has)

    def send_selection_to_case(self) -> bool:
        text = self.term.selected_text()
        if not text.strip():
            self.hint.setText("Select some text first (drag with the mouse).")
            return False
        self.send_to_case_requested.emit(text)
        return True

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = QMenu(self)
        self.copy_action.setEnabled(bool(self.term.selected_text()))
        for action in (self.copy_action, self.paste_action, None, self.send_action, None,
                       self.clear_action, self.restart_action):
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.exec(event.globalPos())
        self.copy_action.setEnabled(True)
