"""Regular expressions written by users and teams, run on a linear-time engine (RE2).

Knowledge-base match rules (:class:`diagkit.store.contract.MatchRule`) carry regexes that come from
whoever wrote an article, or from a team KB someone imported. Python's :mod:`re` backtracks: a
pattern such as ``(a+)+$`` against ``aaaa…a!`` takes time exponential in the length of the text,
so one bad rule and one unlucky finding title hung ``diagkit probe``. RE2 (the ``google-re2``
binding) guarantees time linear in the text for every pattern it accepts, and refuses the
constructs that need backtracking: backreferences (``\\1``), look-ahead and look-behind
(``(?=``, ``(?!``, ``(?<=``, ``(?<!``), atomic groups and possessive quantifiers.

:func:`compile_rule_pattern` compiles a pattern (case-insensitive, as rules always were) or
raises :class:`UnsafePattern`, a :class:`~diagkit.errors.KbError` whose message says what the
engine could not take and how to rewrite it. Store, import and editor all call it through
:meth:`MatchRule.validate`; the matcher skips (with a warning) a stored rule that fails.

Syntax differences from Python's ``re`` that a pattern author may meet, and the reason given:
``\\Z`` is written ``\\z``; ``\\uXXXX`` is written ``\\x{XXXX}``; ``{,n}`` is written ``{0,n}``
(RE2 would read it as literal text); counted repetition goes up to 1000; no ``(?x)`` verbose
mode or ``(?#...)`` comments. ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII-only in RE2.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import re2

from diagkit.errors import UnsafePattern  # defined in the one tree; its home before

#: What the KB matcher runs on (named in messages).
ENGINE = "RE2"
#: Memory RE2 may use for one compiled pattern; bigger patterns are refused ("too large").
MAX_PATTERN_MEMORY = 8 << 20
#: Longest pattern accepted (a rule is a few words, not a dictionary).
MAX_PATTERN_LENGTH = 4000

_OPEN_COUNT = re.compile(r"(?<!\\)\{,\d+\}")


class Regex(Protocol):
    """What the matcher needs of a compiled pattern (RE2's ``_Regexp`` has it)."""

    def search(self, text: str) -> Any: ...


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # RE2 would print its own message on stderr; ours is better
    options.max_mem = MAX_PATTERN_MEMORY
    return options


def _reason(pattern: str, engine_message: str) -> str:
    """RE2's terse parse error as a sentence that says how to rewrite the pattern ("" for a
    plain syntax error)."""
    m = engine_message
    how = (f"diagkit runs rules on {ENGINE}, a regex engine whose time is linear in the text "
           "(so no rule can hang a probe run)")
    if "invalid escape sequence: \\Z" in m:
        return "RE2 writes the end of the text as \\z, not \\Z. Replace \\Z by \\z."
    if m.startswith(("invalid escape sequence: \\u", "invalid escape sequence: \\N")):
        return ("RE2 writes a Unicode character as \\x{2026} (or the character itself), not "
                "\\uXXXX or \\N{...}. Rewrite it that way.")
    if re.match(r"invalid escape sequence: \\[1-9]", m) or "\\g<" in m:
        return (f"backreferences (\\1, (?P=name)) are not supported: {how}. Match the repeated "
                "text with its own pattern instead (e.g. \\w+ for a word).")
    if "(?P=" in pattern and ("invalid named capture group" in m
                              or m.startswith("invalid perl operator: (?P")):
        return (f"backreferences ((?P=name)) are not supported: {how}. Match the repeated text "
                "with its own pattern instead.")
    if "invalid perl operator: (?=" in m or "invalid perl operator: (?!" in m \
            or "invalid perl operator: (?<=" in m or "invalid perl operator: (?<!" in m \
            or ("invalid named capture group" in m and ("(?<=" in pattern or "(?<!" in pattern)):
        return (f"look-ahead and look-behind ((?=...), (?!...), (?<=...), (?<!...)) are not "
                f"supported: {how}. Match the surrounding text itself, or write two rules.")
    if "invalid perl operator: (?>" in m:
        return f"atomic groups (?>...) are not supported: {how}. Use a plain group (...)."
    if "bad repetition operator" in m and any(op in m for op in ("++", "*+", "?+", "}+")):
        return (f"possessive quantifiers (a++, a*+) are not supported: {how}. Use a plain "
                "quantifier (a+, a*): RE2 never backtracks anyway.")
    if "invalid perl operator: (?#" in m:
        return "(?#...) comments are not supported by RE2. Remove the comment."
    if "invalid perl operator: (?x" in m or "invalid perl operator: (?u" in m \
            or "invalid perl operator: (?a" in m or "invalid perl operator: (?L" in m:
        return ("RE2 supports only the flags i, m, s and U in (?...). Remove the others (write "
                "the pattern without verbose-mode spaces).")
    if "invalid repetition size" in m:
        return ("counted repetition goes up to 1000 in RE2 (nested counts multiply). Use + or "
                "a smaller count.")
    if "pattern too large" in m:
        return ("the pattern is too large to compile within RE2's memory budget. Shorten it, or "
                "split it into several rules.")
    return ""


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a rule's regex, or None when it can."""
    try:
        compile_rule_pattern(pattern)
    except UnsafePattern as exc:
        return f"it {exc.reason}" if exc.syntax else exc.reason
    return None


def compile_rule_pattern(pattern: str) -> Regex:
    """``pattern`` compiled on RE2, case-insensitive; :class:`UnsafePattern` if it cannot be."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(pattern[:60] + "…", f"it is {len(pattern):,} characters long; a "
                            f"rule's pattern may have at most {MAX_PATTERN_LENGTH:,}. Shorten it "
                            "or split it into several rules.")
    if _OPEN_COUNT.search(pattern):
        raise UnsafePattern(pattern, "RE2 reads {,n} as literal text, not as 'at most n times'. "
                                     "Write {0,n}.")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        raw = exc.args[0] if exc.args else str(exc)
        message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        reason = _reason(pattern, message)
        if not reason:
            raise UnsafePattern(pattern, f"is not a valid regular expression ({message}). Fix "
                                "it (escape special characters with a backslash).",
                                syntax=True) from None
        raise UnsafePattern(pattern, reason) from None
    except (TypeError, ValueError) as exc:  # e.g. a NUL or a lone surrogate in the pattern
        raise UnsafePattern(pattern, f"is not a valid regular expression ({exc}). Rewrite it "
                            "without NUL bytes or unpaired surrogates.", syntax=True) from None


__all__ = ["ENGINE", "Regex", "UnsafePattern", "compile_rule_pattern", "pattern_problem"]
