"""The fallback formats."""

from __future__ import annotations

from diagkit.logs.formats._base import _LEVEL_WORD_UPPER, _message_level
from diagkit.logs.model import Fields, Level, LogFormat, ParseContext

# --------------------------------------------------------------------------- plain


class PlainFormat(LogFormat):
    """The fallback: one record per line, the line is the message; the level is an upper-case
    level word in the first 80 characters (or a leading ``error:``-like word), if any."""

    name = "plain"
    title = "Plain text (one record per line)"

    def sniff(self, lines: list[str]) -> float:
        return 0.01

    def parse(self, text: str, ctx: ParseContext) -> Fields:
        m = _LEVEL_WORD_UPPER.search(text, 0, 80)
        level = Level.parse(m.group(1)) if m else _message_level(text)
        return Fields(level=level, message=text)
