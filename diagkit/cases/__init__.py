"""Support cases: the pure rules (no database).

* :mod:`diagkit.cases.triage` - impact x urgency -> severity S1..S4;
* :mod:`diagkit.cases.lifecycle` - case states and the allowed moves between them;
* :mod:`diagkit.cases.sla` - SLA policies, business-hours calendars, clocks with pauses.

Storage lives in :mod:`diagkit.store`; these modules never touch it, so they are tested with
plain values and reused by the CLI, the GUI and metrics alike.
"""

from __future__ import annotations

# ``transition`` is safe to re-export (the module is ``lifecycle``); ``triage()`` is not: the
# name would hide the ``diagkit.cases.triage`` module.
from diagkit.cases.lifecycle import InvalidTransition, Status, allowed_next, transition
from diagkit.cases.sla import (
    Calendar,
    Clock,
    SlaPolicy,
    SlaState,
    default_policies,
    elapsed,
    pauses_from_history,
    sla_state,
)
from diagkit.cases.triage import CaseSeverity, Impact, Triage, Urgency, severity_for

__all__ = [
    "Calendar",
    "CaseSeverity",
    "Clock",
    "Impact",
    "InvalidTransition",
    "SlaPolicy",
    "SlaState",
    "Status",
    "Triage",
    "Urgency",
    "allowed_next",
    "default_policies",
    "elapsed",
    "pauses_from_history",
    "severity_for",
    "sla_state",
    "transition",
]
