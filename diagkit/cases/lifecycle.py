"""Case lifecycle: the states a case moves through and the moves that are allowed.

Allowed moves (anything else is refused with :class:`InvalidTransition`):

=====================  ==================================================
from                   to
=====================  ==================================================
new                    triaged
triaged                in_progress, waiting_on_customer
in_progress            waiting_on_customer, resolved
waiting_on_customer    in_progress, resolved
resolved               closed, in_progress (reopen)
closed                 in_progress (reopen)
=====================  ==================================================

A case must be triaged before work starts, so its severity (and so its SLA) is known.
``waiting_on_customer`` is the state in which SLA clocks pause (:func:`pauses_sla`).
"""

from __future__ import annotations

import enum

from diagkit.errors import InvalidTransition


class Status(enum.StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """The state in the engineer's words: ``waiting on customer``."""
        return self.value.replace("_", " ")


#: Finished cases: out of the backlog, their SLA clocks stopped; leaving them is a reopen.
#: (Status is a StrEnum: ``"resolved" in CLOSED_STATUSES`` holds too.)
CLOSED_STATUSES: frozenset[Status] = frozenset({Status.RESOLVED, Status.CLOSED})
#: The rest, in lifecycle order, as the plain values the stores filter on (``list_cases``):
#: the one list the UI's "open cases" scope and ``diagkit case list`` use.
OPEN_STATUSES: tuple[str, ...] = tuple(s.value for s in Status if s not in CLOSED_STATUSES)

TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.NEW: (Status.TRIAGED,),
    Status.TRIAGED: (Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER),
    Status.IN_PROGRESS: (Status.WAITING_ON_CUSTOMER, Status.RESOLVED),
    Status.WAITING_ON_CUSTOMER: (Status.IN_PROGRESS, Status.RESOLVED),
    Status.RESOLVED: (Status.CLOSED, Status.IN_PROGRESS),
    Status.CLOSED: (Status.IN_PROGRESS,),
}

# Why a move is refused, for the moves people actually try; the rest get a generic reason.
_REASONS: dict[tuple[Status, Status], str] = {
    (Status.NEW, Status.IN_PROGRESS): "a new case must be triaged first, so its severity and "
    "SLA are known",
    (Status.NEW, Status.RESOLVED): "a new case must be triaged and worked on before it is resolved",
    (Status.NEW, Status.CLOSED): "a new case must be triaged and resolved before it is closed",
    (Status.TRIAGED, Status.RESOLVED): "work has not started; move it to in progress first",
    (Status.IN_PROGRESS, Status.CLOSED): "a case is resolved (and the customer told) before it "
    "is closed",
    (Status.WAITING_ON_CUSTOMER, Status.CLOSED): "a case is resolved before it is closed",
    (Status.CLOSED, Status.RESOLVED): "a closed case is reopened to in progress first",
}


def parse_status(value: str | Status) -> Status:
    """The :class:`Status` for ``value`` (case, spaces and dashes forgiven).

    An unknown state is a user's typo, not a bug, so it raises :class:`InvalidTransition`
    naming the known states (not ``ValueError``).
    """
    if isinstance(value, Status):
        return value
    norm = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return Status(norm)
    except ValueError:
        known = ", ".join(s.value for s in Status)
        raise InvalidTransition(
            str(value), str(value), f"{value!r} is not a case status (known: {known})"
        ) from None


def allowed_next(current: str | Status) -> tuple[Status, ...]:
    """The states a case in ``current`` may move to, in the order a UI should offer them."""
    return TRANSITIONS[parse_status(current)]


def can_transition(current: str | Status, target: str | Status) -> bool:
    """Whether ``current -> target`` is allowed (unknown states: ``False``)."""
    try:
        transition(current, target)
    except InvalidTransition:
        return False
    return True


def transition(current: str | Status, target: str | Status) -> Status:
    """Return ``target`` as a :class:`Status` if the move is allowed, else raise
    :class:`InvalidTransition` with the reason and the allowed next states."""
    cur = parse_status(current)
    allowed = TRANSITIONS[cur]
    try:
        tgt = parse_status(target)
    except InvalidTransition as exc:
        raise InvalidTransition(cur.value, str(target), exc.reason, allowed) from None
    if tgt in allowed:
        return tgt
    if tgt is cur:
        reason = f"the case is already {cur.label}"
    else:
        reason = _REASONS.get((cur, tgt), f"{cur.label} cannot move straight to {tgt.label}")
    raise InvalidTransition(cur.value, tgt.value, reason, allowed)


def is_reopen(current: str | Status, target: str | Status) -> bool:
    """Whether ``current -> target`` reopens a finished case."""
    return parse_status(current) in CLOSED_STATUSES and (
        parse_status(target) is Status.IN_PROGRESS
    )


def is_open(status: str | Status) -> bool:
    """Whether the case still counts in the backlog (not resolved or closed)."""
    return parse_status(status) not in CLOSED_STATUSES


def pauses_sla(status: str | Status) -> bool:
    """Whether SLA clocks stop while a case is in ``status`` (waiting on the customer)."""
    return parse_status(status) is Status.WAITING_ON_CUSTOMER
