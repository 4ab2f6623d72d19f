"""Run work off the GUI thread in one line.

    run_in_background(lambda: snapshot(...), on_done=self.show, on_error=self.show_error,
                      owner=self)

The job runs in Qt's global thread pool. Its outcome comes back to the GUI thread through the
signals of :class:`WorkerSignals`: ``finished(result)``, ``failed(error)`` (the exception object;
diagkit errors carry a user-facing message) and ``progress(object)`` (whatever the job passes to
the ``progress`` callable it receives when it accepts one). A job never touches widgets.

Cancellation: every job gets a :class:`threading.Event` via :attr:`Worker.cancel_event`; pass it
down to the core (transports and runners accept ``cancel=``). ``Worker.cancel()`` sets it and
drops the outcome, so a late result never reaches a closed widget.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(object)


class Worker(QRunnable):
    """A job for the thread pool. Build with :func:`run_in_background`."""

    def __init__(self, job: Callable[..., Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the Python side owns it; signals outlive run()
        self.job = job
        self.signals = WorkerSignals()
        self.cancel_event = threading.Event()
        self.done = threading.Event()
        params = inspect.signature(job).parameters
        self._kwargs: dict[str, Any] = {}
        if "progress" in params:
            self._kwargs["progress"] = self.signals.progress.emit
        if "cancel" in params:
            self._kwargs["cancel"] = self.cancel_event

    def cancel(self) -> None:
        self.cancel_event.set()

    def run(self) -> None:
        try:
            result = self.job(**self._kwargs)
        except BaseException as exc:
            from diagkit.errors import DiagkitError

            if not isinstance(exc, DiagkitError):
                log.exception("background job failed")
            if not self.cancel_event.is_set():
                self.signals.failed.emit(exc)
        else:
            if not self.cancel_event.is_set():
                self.signals.finished.emit(result)
        finally:
            self.done.set()
            _active.discard(self)


_active: set[Worker] = set()


def run_in_background(
    job: Callable[..., Any],
    *,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    pool: QThreadPool | None = None,
    owner: QObject | None = None,
) -> Worker:
    """Start ``job`` in the thread pool and return its :class:`Worker` (to cancel it).

    With ``owner`` (the widget the callbacks update), outcomes arriving after that widget was
    deleted are dropped and the job is cancelled.
    """
    worker = Worker(job)
    if owner is not None:
        owner.destroyed.connect(worker.cancel)

    def guarded(callback: Callable[[Any], None]) -> Callable[[Any], None]:
        # An outcome already queued when the job was cancelled (tab closed) must not reach
        # widgets that may be gone by the time the event loop delivers it.
        def deliver(value: Any) -> None:
            if worker.cancel_event.is_set():
                return
            if owner is not None and not shiboken6.isValid(owner):
                worker.cancel()
                return
            callback(value)

        return deliver

    if on_done is not None:
        worker.signals.finished.connect(guarded(on_done))
    if on_error is not None:
        worker.signals.failed.connect(guarded(on_error))
    if on_progress is not None:
        worker.signals.progress.connect(guarded(on_progress))
    _active.add(worker)
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker


def cancel_all_and_wait(timeout_ms: int = 5000) -> bool:
    """Cancel every running job and wait for the pool to drain (used when the window closes)."""
    for worker in list(_active):
        worker.cancel()
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
