"""One connection state per host, which every view follows (issue 17).

The host list, the host's tab, its Live plots and console, and the Fleet view used to keep a
state each, and disagreed about a dead server for minutes. Now the truth lives here, Qt-free:
:class:`ConnectionStates` holds one :class:`ConnectionState` per host and tells its listeners
(from any thread) when it changes; the UI's adapter re-emits that as a Qt signal.

Who writes: the host's tab (connecting, connected, lost, error, disconnected) and, for a host
without an open tab, the Fleet watcher. A lost connection is found by the transport's liveness
check (:class:`Liveness`: SSH keepalives that the server must answer, see
:meth:`diagkit.transport.ssh.SshTransport.connect`): a killed server within one interval, a
hung one (its process stopped, the host frozen) after ``dead_after`` seconds without an
answer, named as such: "no answer from the server for 15 s".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

DISCONNECTED, CONNECTING, CONNECTED, LOST, ERROR = (
    "disconnected", "connecting", "connected", "lost", "error")
STATUSES = (DISCONNECTED, CONNECTING, CONNECTED, LOST, ERROR)
#: The states from which the next step is to connect again: views offer "Reconnect".
RECONNECTABLE = frozenset({LOST, ERROR})


@dataclass(frozen=True)
class Liveness:
    """How a connection proves it is alive: every ``interval`` seconds a keepalive the server
    must answer; ``dead_after`` seconds without an answer and the connection is declared lost.
    OpenSSH's ``ServerAliveInterval``/``ServerAliveCountMax`` do the same (5 s x 3 here)."""

    interval: float = 5.0
    dead_after: float = 15.0

    def __post_init__(self) -> None:
        if not 0 < self.interval < self.dead_after:
            raise ValueError("Liveness needs 0 < interval < dead_after")

    def no_answer(self) -> str:
        """The reason a hung server's connection is declared lost."""
        return f"no answer from the server for {self.dead_after:g} s"


DEFAULT_LIVENESS = Liveness()


def lost_message(host: str, reason: object) -> str:
    """The sentence for a dropped connection, the same in every view and the CLI."""
    return (f"The SSH connection to {host} dropped ({reason}). Check the network and that the "
            "host is up, then reconnect.")


@dataclass(frozen=True)
class ConnectionState:
    """Where one host's connection stands. ``message`` says why for LOST and ERROR."""

    host: str
    status: str = DISCONNECTED
    message: str | None = None
    since: float = field(default_factory=time.time)
    source: str = ""  # who said so: "tab", "fleet"

    @property
    def reconnectable(self) -> bool:
        return self.status in RECONNECTABLE


Listener = Callable[[ConnectionState], None]


class ConnectionStates:
    """The registry: one state per host, thread-safe; listeners hear every change once.

    Listeners run in the thread that made the change (the UI adapter re-posts to the GUI
    thread); one that raises is logged and the others still run.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, ConnectionState] = {}
        self._listeners: list[Listener] = []

    def get(self, host: str) -> ConnectionState:
        with self._lock:
            return self._states.get(host) or ConnectionState(host, since=0.0)

    def all(self) -> dict[str, ConnectionState]:
        with self._lock:
            return dict(self._states)

    def set(self, host: str, status: str, message: str | None = None, *,
            source: str = "") -> ConnectionState:
        """Record ``status`` for ``host``; listeners are told only when status or message
        changed (a repeated "connected" after every refresh is not news)."""
        if status not in STATUSES:
            raise ValueError(f"unknown connection status {status!r}")
        with self._lock:
            old = self._states.get(host)
            if old is not None and (old.status, old.message) == (status, message):
                return old
            state = ConnectionState(host, status, message, time.time(), source)
            self._states[host] = state
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(state)
            except Exception:  # one broken view must not keep the others stale
                log.exception("connection state listener failed for %s", host)
        return state

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every change; returns the function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe
