"""The Qt side of :mod:`diagkit.connection`: the one state per host, as a signal on the GUI
thread. Every view that shows a host's connection listens to ``changed``."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from diagkit.connection import ConnectionState, ConnectionStates


class ConnectionModel(QObject):
    """Re-emits :class:`ConnectionStates` changes (made in any thread) as ``changed(state)``;
    receivers in the GUI thread get it queued there."""

    changed = Signal(object)  # ConnectionState

    def __init__(self, states: ConnectionStates | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.states = states or ConnectionStates()
        self._unsubscribe = self.states.subscribe(self._emit)
        unsubscribe = self._unsubscribe
        self.destroyed.connect(lambda *_: unsubscribe())

    def _emit(self, state: ConnectionState) -> None:
        try:
            self.changed.emit(state)
        except RuntimeError:  # the model was deleted while a worker thread reported
            self._unsubscribe()

    def get(self, host: str) -> ConnectionState:
        return self.states.get(host)

    def set(self, host: str, status: str, message: str | None = None, *,
            source: str = "") -> ConnectionState:
        return self.states.set(host, status, message, source=source)
