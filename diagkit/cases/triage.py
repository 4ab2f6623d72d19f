"""Triage: impact x urgency -> case severity S1..S4.

*Impact* is how much is affected (how many users, systems, how much of the business);
*urgency* is how fast it hurts (is work stopped now, is there a workaround, a deadline).
The severity is read from this matrix (S1 is the most severe):

    =============  ========  ====  ======  ===
    impact \\ urg   critical  high  medium  low
    =============  ========  ====  ======  ===
    extensive      S1        S1    S2      S2
    significant    S1        S2    S2      S3
    moderate       S2        S2    S3      S4
    minor          S2        S3    S4      S4
    =============  ========  ====  ======  ===

The matrix is monotonic: raising either axis never lowers the severity.

"When unsure, pick the higher": an impact or urgency that is missing (``None``, ``""``) or not
one of the known words counts as the highest level of its axis, and :func:`triage` records that
it assumed so (``Triage.assumed``), so the engineer can see why a case came out S1.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeVar


class Impact(enum.StrEnum):
    EXTENSIVE = "extensive"
    SIGNIFICANT = "significant"
    MODERATE = "moderate"
    MINOR = "minor"


class Urgency(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class CaseSeverity(enum.StrEnum):
    """Case severity. Named apart from the probes' finding ``Severity`` on purpose."""

    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    S4 = "S4"

    @property
    def rank(self) -> int:
        """1 for S1 (most severe) .. 4 for S4; sort ascending to get the worst first."""
        return int(self.value[1])


_S1, _S2, _S3, _S4 = CaseSeverity.S1, CaseSeverity.S2, CaseSeverity.S3, CaseSeverity.S4

_C, _H, _M, _L = Urgency.CRITICAL, Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW

MATRIX: dict[Impact, dict[Urgency, CaseSeverity]] = {
    Impact.EXTENSIVE: {_C: _S1, _H: _S1, _M: _S2, _L: _S2},
    Impact.SIGNIFICANT: {_C: _S1, _H: _S2, _M: _S2, _L: _S3},
    Impact.MODERATE: {_C: _S2, _H: _S2, _M: _S3, _L: _S4},
    Impact.MINOR: {_C: _S2, _H: _S3, _M: _S4, _L: _S4},
}


@dataclass(frozen=True)
class Triage:
    """The outcome of triage. ``assumed`` names each axis that was unknown and rounded up."""

    impact: Impact
    urgency: Urgency
    severity: CaseSeverity
    assumed: tuple[str, ...] = ()


def parse_impact(value: str | Impact | None) -> Impact | None:
    """The :class:`Impact` for ``value`` (case and surrounding space ignored), or ``None``."""
    return _parse(Impact, value)


def parse_urgency(value: str | Urgency | None) -> Urgency | None:
    """The :class:`Urgency` for ``value`` (case and surrounding space ignored), or ``None``."""
    return _parse(Urgency, value)


_E = TypeVar("_E", Impact, Urgency)


def _parse(kind: type[_E], value: object) -> _E | None:
    if isinstance(value, kind):
        return value
    if not isinstance(value, str):
        return None
    try:
        return kind(value.strip().lower().replace(" ", "_"))
    except ValueError:
        return None


def triage(impact: str | Impact | None, urgency: str | Urgency | None) -> Triage:
    """Severity for ``impact`` x ``urgency``; unknown or missing values round up (see module)."""
    assumed: list[str] = []
    imp = parse_impact(impact)
    if imp is None:
        imp = Impact.EXTENSIVE
        assumed.append("impact")
    urg = parse_urgency(urgency)
    if urg is None:
        urg = Urgency.CRITICAL
        assumed.append("urgency")
    return Triage(impact=imp, urgency=urg, severity=MATRIX[imp][urg], assumed=tuple(assumed))


def severity_for(impact: str | Impact | None, urgency: str | Urgency | None) -> CaseSeverity:
    """Shortcut for ``triage(impact, urgency).severity``."""
    return triage(impact, urgency).severity
