"""Support cases: the pure rules (no database).

* :mod:`diagkit.cases.triage` - impact x urgency -> severity S1..S4;
* :mod:`diagkit.cases.lifecycle` - case states and the allowed moves between them;
* :mod:`diagkit.cases.sla` - SLA policies, business-hours calendars, clocks with pauses.

Storage lives in :mod:`diagkit.store`; these modules never touch it, so they are tested with
plain values and reused by the CLI, the GUI and metrics alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# ``transition`` is safe to re-export (the module is ``lifecycle``); ``triage()`` is not: the
# name would hide the ``diagkit.cases.triage`` module. The names load on first use, so that
# importing one light module (``diagkit.cases.kinds``, ``lifecycle``) does not load the SLA
# calendars: the CLI's start-up builds every parser (benchmarks/cli_startup.py).
if TYPE_CHECKING:
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

_HOME = {
    "InvalidTransition": "lifecycle", "Status": "lifecycle", "allowed_next": "lifecycle",
    "transition": "lifecycle", "Calendar": "sla", "Clock": "sla", "SlaPolicy": "sla",
    "SlaState": "sla", "default_policies": "sla", "elapsed": "sla",
    "pauses_from_history": "sla", "sla_state": "sla", "CaseSeverity": "triage",
    "Impact": "triage", "Triage": "triage", "Urgency": "triage", "severity_for": "triage",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'diagkit.cases' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"diagkit.cases.{home}"), name)


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
