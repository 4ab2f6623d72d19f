from __future__ import annotations

import pytest

from diagkit.cases.lifecycle import (
    TRANSITIONS,
    InvalidTransition,
    Status,
    allowed_next,
    can_transition,
    is_open,
    is_reopen,
    pauses_sla,
    transition,
)
from diagkit.errors import DiagkitError


def test_happy_path() -> None:
    s = Status.NEW
    for nxt in ("triaged", "in_progress", "waiting_on_customer", "in_progress", "resolved",
                "closed"):
        s = transition(s, nxt)
        assert s is Status(nxt)


@pytest.mark.parametrize("finished", [Status.RESOLVED, Status.CLOSED])
def test_reopen(finished: Status) -> None:
    assert transition(finished, Status.IN_PROGRESS) is Status.IN_PROGRESS
    assert is_reopen(finished, "in progress")
    assert not is_reopen(Status.WAITING_ON_CUSTOMER, Status.IN_PROGRESS)


def test_waiting_can_resolve_directly() -> None:
    assert transition("waiting_on_customer", "resolved") is Status.RESOLVED


def test_every_state_has_a_way_on() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert all(TRANSITIONS[s] for s in Status)


def test_invalid_refused_with_reason_and_allowed_states() -> None:
    with pytest.raises(InvalidTransition) as info:
        transition("new", "in_progress")
    err = info.value
    assert isinstance(err, DiagkitError)
    assert err.allowed == (Status.TRIAGED,)
    msg = str(err)
    assert "triaged first" in msg and "Allowed next states from 'new': triaged." in msg


def test_every_disallowed_pair_is_refused() -> None:
    for cur in Status:
        for tgt in Status:
            ok = tgt in TRANSITIONS[cur]
            assert can_transition(cur, tgt) is ok
            if not ok:
                with pytest.raises(InvalidTransition) as info:
                    transition(cur, tgt)
                assert info.value.allowed == TRANSITIONS[cur]
                assert info.value.reason


def test_same_state_refused() -> None:
    with pytest.raises(InvalidTransition, match="already in progress"):
        transition("in_progress", "in_progress")


def test_unknown_states() -> None:
    with pytest.raises(InvalidTransition, match="not a case status") as info:
        transition("in_progress", "done")
    assert info.value.allowed == TRANSITIONS[Status.IN_PROGRESS]
    with pytest.raises(InvalidTransition, match="known: new, triaged"):
        allowed_next("limbo")
    assert not can_transition("limbo", "new")


def test_forgiving_spelling() -> None:
    assert transition("Waiting on customer", "In-Progress") is Status.IN_PROGRESS
    assert Status.WAITING_ON_CUSTOMER.label == "waiting on customer"


def test_open_and_paused() -> None:
    assert [s for s in Status if is_open(s)] == [
        Status.NEW, Status.TRIAGED, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER]
    assert [s for s in Status if pauses_sla(s)] == [Status.WAITING_ON_CUSTOMER]
