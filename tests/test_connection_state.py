"""The one connection state per host (diagkit.connection), without Qt."""

from __future__ import annotations

import threading

import pytest

from diagkit.connection import (
    CONNECTED,
    CONNECTING,
    DISCONNECTED,
    LOST,
    ConnectionState,
    ConnectionStates,
    Liveness,
)


def test_one_state_per_host_and_listeners_hear_changes_once() -> None:
    states = ConnectionStates()
    heard: list[ConnectionState] = []
    unsubscribe = states.subscribe(heard.append)
    assert states.get("web1").status == DISCONNECTED
    states.set("web1", CONNECTING, source="tab")
    states.set("web1", CONNECTED, source="tab")
    states.set("web1", CONNECTED, source="tab")  # no news: not repeated
    lost = states.set("web1", LOST, "no answer from the server for 15 s", source="tab")
    assert [(s.status, s.message) for s in heard] == [
        (CONNECTING, None), (CONNECTED, None), (LOST, "no answer from the server for 15 s")]
    assert states.get("web1") == lost and lost.reconnectable
    unsubscribe()
    states.set("web1", DISCONNECTED)
    assert len(heard) == 3


def test_a_failing_listener_does_not_starve_the_others() -> None:
    states = ConnectionStates()
    heard: list[str] = []

    def broken(_state: ConnectionState) -> None:
        raise RuntimeError("view went away")

    states.subscribe(broken)
    states.subscribe(lambda s: heard.append(s.status))
    states.set("h", CONNECTED)
    assert heard == [CONNECTED]


def test_changes_from_many_threads_are_all_recorded() -> None:
    states = ConnectionStates()
    heard: list[str] = []
    lock = threading.Lock()

    def listen(state: ConnectionState) -> None:
        with lock:
            heard.append(state.host)

    states.subscribe(listen)
    threads = [threading.Thread(target=states.set, args=(f"h{i}", CONNECTED)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(heard) == sorted(f"h{i}" for i in range(20))
    assert set(states.all()) == {f"h{i}" for i in range(20)}


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        ConnectionStates().set("h", "connnected")
    with pytest.raises(ValueError):
        Liveness(interval=15, dead_after=15)
    assert Liveness(1, 3).no_answer() == "no answer from the server for 3 s"
