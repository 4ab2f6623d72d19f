"""Unfilled template placeholders in a customer update ("[describe the next step]"): found,
located and refused before the update reaches a customer. Imports nothing of the desk or the
composer, so both can use it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from diagkit.errors import ConfigError


class _Draft(Protocol):
    @property
    def subject(self) -> str: ...

    @property
    def body(self) -> str: ...


#: A template's fill-me-in marker: square brackets around an instruction to the engineer
#: ("[describe the next step]", "[what you need from the customer]"). "[Case 12]" in a subject
#: or "[ERROR]" quoted from a log are not: they do not start with an instruction word.
PLACEHOLDER = re.compile(
    r"\[(?:describe|what|explain|add|insert|fill|enter|list|name|your|todo)\b[^\[\]\n]{0,120}\]",
    re.IGNORECASE)

# How each package placeholder is filled without editing: the note line or option it reads.
_FILL_HINTS = {
    "[describe the next step]": "add a note with a line 'Next: what you will do' "
                                "(diagkit case note N 'Next: ...') and compose again",
    "[describe the cause in plain words]": "add a note with a line 'Cause: ...' and compose again",
    "[describe what was done]": "add a note with a line 'Fix: ...' and compose again",
    "[describe the workaround step by step]": "add a note with a line 'Workaround: ...' and "
                                              "compose again",
    "[what you need from the customer]": "pass what you ask for with --request TEXT "
                                         "(repeatable)",
}


@dataclass(frozen=True)
class Placeholder:
    """An unfilled marker in a draft: ``field`` is ``subject`` or ``body``; ``start``/``end``
    are character offsets in that field; ``line`` counts from 1."""

    text: str
    field: str
    start: int
    end: int
    line: int

    @property
    def hint(self) -> str:
        """How to fill it: the note line or option the template reads, else edit the text."""
        return _FILL_HINTS.get(self.text.lower(), "replace it with the real text")


def placeholders(draft: _Draft) -> list[Placeholder]:
    """Every unfilled placeholder in ``draft``'s subject and body, in order."""
    found = []
    for field_name, text in (("subject", draft.subject), ("body", draft.body)):
        for m in PLACEHOLDER.finditer(text):
            found.append(Placeholder(m.group(0), field_name, m.start(), m.end(),
                                     text.count("\n", 0, m.start()) + 1))
    return found


class UnfilledPlaceholder(ConfigError):
    """An update still holding a template's ``[describe ...]`` marker: never sent as is."""

    def __init__(self, found: Sequence[Placeholder]) -> None:
        self.placeholders = tuple(found)
        first = found[0]
        others = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        super().__init__(
            f"The update still contains the placeholder {first.text!r} ({first.field}, line "
            f"{first.line}){others}; it was not sent or recorded. Fill it in: {first.hint}, or "
            "edit the text (--edit, or --body-file FILE with the finished text).")


def require_filled(draft: _Draft) -> None:
    """Raise :class:`UnfilledPlaceholder` if ``draft`` still has a placeholder."""
    found = placeholders(draft)
    if found:
        raise UnfilledPlaceholder(found)
