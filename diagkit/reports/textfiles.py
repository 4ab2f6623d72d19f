"""Is a file text the redactor can scan, and in which encoding? (attachments, logs of a bundle)

The redactor works on text. A UTF-16 file read as bytes is ``p\\0a\\0s\\0s\\0…``: no rule sees
``pass`` in it, and the file went into bundles unredacted. So every attachment is classified
first (:func:`read_text`), and a log given to ``--log`` is checked for UTF-16/32
(:func:`sniff_wide`) before it is indexed.

**What counts as text** (in this order; the first that applies decides):

1. A byte-order mark: UTF-32 LE/BE, UTF-8, UTF-16 LE/BE. The whole file must decode strictly.
2. No BOM, but the NUL bytes of its first 64 KiB sit where UTF-32 or UTF-16 puts them for Latin
   text: UTF-32 when at least 90 % of the 4-byte groups have NUL in the two high bytes (``xx xx
   00 00`` for LE); UTF-16 when at least 25 % of the 2-byte pairs have a NUL in the high byte and
   NULs in the low byte are fewer than a tenth of those. The whole file must decode strictly
   (else the next rules decide: an executable's headers look like UTF-32 too).
3. Otherwise a file holding a NUL byte is **binary**.
4. Valid UTF-8 is UTF-8; anything else is 8-bit text, read as Latin-1 (byte for byte, so it is
   written back unchanged except where something was masked).
5. Whatever was decoded is **binary** after all when more than 1 % of its characters (at least
   5) are control characters other than TAB, LF, VT, FF, CR, ESC (ANSI colours) and SUB (a DOS
   end of file): compressed, encrypted and executable data always is.

UTF-16 and UTF-32 text is redacted and written as UTF-8; UTF-8 (with or without BOM) and 8-bit
text keep their encoding. A binary file cannot be scanned (a secret in a compressed stream is
invisible), so it is refused unless the engineer includes it as is on purpose
(``--attach-binary``), and then the report says it was not redacted.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

#: The encoding recorded for a file that is not text (included as is, not redacted).
BINARY = "binary"
SNIFF_BYTES = 64 << 10
_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# control characters that do not occur in text (all of C0 but TAB LF VT FF CR SUB ESC, and DEL)
_CONTROLS = bytes([*range(0x09), *range(0x0E, 0x1A), *range(0x1C, 0x20), 0x7F])
_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "latin-1": "8-bit text (Latin-1)",
           "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE", "utf-32-le": "UTF-32 LE",
           "utf-32-be": "UTF-32 BE"}


@dataclass(frozen=True)
class TextFile:
    """What :func:`read_text` found. ``text`` is None for a binary file; ``why`` says, in words
    for the engineer, why it is binary or how it was read."""

    encoding: str  # a Python codec name, or BINARY
    text: str | None
    why: str

    @property
    def is_text(self) -> bool:
        return self.text is not None

    @property
    def output_encoding(self) -> str | None:
        """The encoding the redacted text is written in (None: binary, written as it was)."""
        if self.text is None:
            return None
        return "utf-8" if self.encoding.startswith(("utf-16", "utf-32")) else self.encoding


def label(encoding: str) -> str:
    """``utf-16-le`` -> ``UTF-16 LE`` (for notes and the report)."""
    return _LABELS.get(encoding, encoding)


def sniff_wide(head: bytes) -> tuple[str, bool] | None:
    """``(codec, has BOM)`` when ``head`` (a file's first bytes) is UTF-16 or UTF-32 text by its
    BOM or its NUL pattern (rules 1 and 2 of the module docstring), else None."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return (codec, True) if codec != "utf-8-sig" else None
    sample = head[:SNIFF_BYTES]
    groups = len(sample) // 4
    if groups >= 4:
        s = sample[: groups * 4]
        high_le = sum(1 for i in range(0, len(s), 4) if s[i + 2] == 0 and s[i + 3] == 0)
        high_be = sum(1 for i in range(0, len(s), 4) if s[i] == 0 and s[i + 1] == 0)
        if high_le >= 0.9 * groups and high_le > high_be:
            return "utf-32-le", False
        if high_be >= 0.9 * groups and high_be > high_le:
            return "utf-32-be", False
    pairs = len(sample) // 2
    if pairs >= 4:
        s = sample[: pairs * 2]
        nul_odd = s[1::2].count(0)
        nul_even = s[0::2].count(0)
        if nul_odd >= 0.25 * pairs and nul_even < 0.1 * nul_odd:
            return "utf-16-le", False
        if nul_even >= 0.25 * pairs and nul_odd < 0.1 * nul_even:
            return "utf-16-be", False
    return None


def read_text(data: bytes) -> TextFile:
    """Classify and decode ``data`` by the rules of the module docstring."""
    if not data:
        return TextFile("utf-8", "", "empty")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            # utf-8-sig drops its BOM itself, the UTF-16/32 codecs of one byte order do not
            skip = 0 if codec == "utf-8-sig" else len(bom)
            return _decode(data, codec, skip=skip, how="its byte-order mark")
    wide = sniff_wide(data[:SNIFF_BYTES])
    if wide is not None:
        found = _decode(data, wide[0], how="the pattern of its NUL bytes")
        if found.text is not None:
            return found
    if b"\0" in data:
        return TextFile(BINARY, None, f"it holds NUL bytes ({data.count(0):,} of "
                                      f"{len(data):,}) and is not UTF-16 or UTF-32 text")
    try:
        text = data.decode("utf-8")
        codec = "utf-8"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        codec = "latin-1"
    return _check_controls(data, TextFile(codec, text, label(codec)))


def _decode(data: bytes, codec: str, *, how: str, skip: int = 0) -> TextFile:
    """``data`` (its first ``skip`` bytes a BOM) decoded strictly as ``codec``."""
    try:
        text = data[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        return TextFile(BINARY, None, f"it looks like {label(codec)} by {how}, but byte "
                                      f"{exc.start + skip:,} is not valid {label(codec)}")
    return _check_controls(text.encode("utf-8", "surrogatepass"),
                           TextFile(codec, text, f"{label(codec)} (by {how})"))


def _check_controls(encoded: bytes, found: TextFile) -> TextFile:
    controls = len(encoded) - len(encoded.translate(None, _CONTROLS))
    if controls > max(4, len(encoded) // 100):
        return TextFile(BINARY, None, f"{controls:,} of its {len(encoded):,} bytes are control "
                                      "characters that text does not hold")
    return found


__all__ = ["BINARY", "SNIFF_BYTES", "TextFile", "label", "read_text", "sniff_wide"]
