"""What one window, or one CLI command, works in: the case/KB store, the monitoring history,
the active case and the known-issue matcher. Qt-free: the desktop window holds one
(:class:`diagkit.ui.main_window.MainWindow`), the CLI opens one per command.

* :meth:`Workspace.store` - the case and KB database, opened on first use: the configured store
  (:func:`diagkit.store.select.open_store`, the team's PostgreSQL or the local
  ``config.data_dir()/diagkit.db``) or the SQLite file given as ``case_store_path``; every
  user of the workspace shares it (one connection; writes are serialized by the store);
* :meth:`Workspace.samples` - the monitoring history, opened on first use the same way;
* :attr:`Workspace.active_case` - the case that probe runs, commands, bundles and alerts are
  journaled to; :meth:`Workspace.choose_case` changes it and saves it in the settings
  (:mod:`diagkit.cases.active`), where the CLI and the next window find it;
* :attr:`Workspace.matcher` - the known-issue matcher over the KB's articles
  (:mod:`diagkit.kb.match`), built by :meth:`Workspace.read_matcher` in a worker;
* :meth:`Workspace.close` (or ``with``) closes what was opened.

Methods that read or write a database may block on the network (a team store): the window
calls them in a worker; :attr:`active_case`, :attr:`matcher` and :meth:`describe` never block.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from diagkit.errors import DiagkitError

if TYPE_CHECKING:
    from diagkit.cases.desk import CaseDesk
    from diagkit.kb.match import KnownErrorMatcher
    from diagkit.probes.base import Finding
    from diagkit.store.contract import Case, SampleStore, Store

# Installing the starter articles is once per database: the KB tab and the known-issue loader
# (or two windows) may both be first, so one at a time.
_KB_READY = threading.Lock()


def kb_ready(store: Store) -> Store:
    """``diagkit.kb.open_kb`` (starter articles on first use), one caller at a time."""
    from diagkit.kb import open_kb

    with _KB_READY:
        return open_kb(store)


class Workspace:
    """The stores, the active case and the known-issue matcher of one window or command.

    ``case_store_path``: a SQLite file instead of the configured store (tests, a second
    database); ``lazy``: a team store connects in the first call that uses it rather than here
    (the window opens it on the GUI thread, and only workers may wait for the network).
    """

    def __init__(self, *, case_store_path: Path | None = None, lazy: bool = False) -> None:
        self.case_store_path = case_store_path
        self.lazy = lazy
        self._store: Store | None = None
        self._samples: SampleStore | None = None
        self._desk: CaseDesk | None = None
        self._lock = threading.Lock()
        #: The case journaled to, ``None`` for none. The window's selector sets it through
        #: :meth:`choose_case`; it starts as :meth:`saved_active_case` when asked to.
        self.active_case: int | None = None
        #: The known-issue matcher once loaded (:meth:`read_matcher`), else ``None``.
        self.matcher: KnownErrorMatcher | None = None

    # --- the stores ------------------------------------------------------------------------

    def describe(self) -> str:
        """Where the cases, KB and history live (a path or the team store's URL)."""
        from diagkit.store.select import describe

        if self.case_store_path is not None:
            return str(self.case_store_path)
        try:
            return describe()
        except DiagkitError as exc:
            return f"not usable ({exc})"

    @property
    def is_team_store(self) -> bool:
        """Whether the configured team store (not a local SQLite file) is in use."""
        from diagkit.store.select import configured_url

        return self.case_store_path is None and configured_url() is not None

    def store(self) -> Store:
        """The case/KB database, opened on first use. Raises :class:`diagkit.errors.StoreError`
        when it cannot be opened."""
        with self._lock:
            if self._store is None:
                if self.case_store_path is not None:
                    from diagkit.store.sqlite import SqliteStore

                    self._store = SqliteStore(self.case_store_path)
                else:
                    from diagkit.store.select import open_store

                    self._store = open_store(lazy=self.lazy)
            return self._store

    def kb(self) -> Store:
        """:meth:`store`, with the starter articles installed if it never had them."""
        return kb_ready(self.store())

    def desk(self) -> CaseDesk:
        """The :class:`~diagkit.cases.desk.CaseDesk` on :meth:`store`."""
        if self._desk is None:
            from diagkit.cases.desk import CaseDesk

            self._desk = CaseDesk(self.store())
        return self._desk

    def set_engineer(self, name: str) -> None:
        """The engineer's name was set (the app's first-run prompt, ``diagkit config set``): an
        open desk signs with it from now on; a desk opened later reads it from the settings."""
        if self._desk is not None:
            self._desk.engineer = name

    def samples(self) -> SampleStore:
        """The monitoring history (the team store's, or ``data_dir()/history.db``), opened on
        first use. Raises a :class:`~diagkit.errors.DiagkitError` when it cannot be opened."""
        with self._lock:
            if self._samples is None:
                from diagkit.store.select import open_samples

                self._samples = open_samples(lazy=self.lazy)
            return self._samples

    def forecasts_for(self, host: str) -> list[Finding]:
        """Forecast findings for ``host`` from the monitoring history; ``[]`` when nothing was
        ever watched (no empty history is created just to look)."""
        from diagkit import config
        from diagkit.monitor.recorder import forecasts_from_history
        from diagkit.store.select import configured_url, open_samples
        from diagkit.store.sqlite.samples import DB_NAME

        samples = self._samples
        if samples is not None:
            return forecasts_from_history(samples, host)
        if configured_url() is None and not (config.data_dir() / DB_NAME).exists():
            return []
        with open_samples() as own:
            return forecasts_from_history(own, host)

    # --- the active case -------------------------------------------------------------------

    @staticmethod
    def saved_active_case() -> int | None:
        """The active case as saved in the settings (another window or the CLI may have
        changed it)."""
        from diagkit.cases.active import active_case

        return active_case()

    def choose_case(self, case_id: int | None) -> None:
        """Journal to ``case_id`` from now on (``None``: to no case), and save the choice.
        The choice holds for this workspace even when saving it fails (the error is raised)."""
        from diagkit.cases.active import set_active_case

        self.active_case = case_id
        set_active_case(case_id)

    def active_target(self) -> tuple[CaseDesk, int] | None:
        """``(desk, case number)`` to journal to, or ``None`` without an active case."""
        case_id = self.active_case
        return (self.desk(), int(case_id)) if case_id is not None else None

    def open_cases(self, *, including: int | None = None) -> list[Case]:
        """The open cases (:data:`~diagkit.cases.lifecycle.OPEN_STATUSES`), and the case
        ``including`` too when it is not among them (a resolved case may still be active)."""
        from diagkit.cases.lifecycle import OPEN_STATUSES

        store = self.store()
        cases = store.list_cases(status=OPEN_STATUSES)
        if including is not None and all(c.id != including for c in cases):
            try:
                cases.append(store.get_case(including))
            except DiagkitError:
                pass
        return cases

    # --- known issues ----------------------------------------------------------------------

    def read_matcher(self) -> KnownErrorMatcher:
        """A matcher over the KB's articles as they are now (a worker's job: it reads every
        article). The caller decides when it replaces :attr:`matcher`."""
        from diagkit.kb.match import load_matcher

        return load_matcher(self.kb())

    # --- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            samples, self._samples = self._samples, None
            store, self._store = self._store, None
            self._desk = None
        if samples is not None:
            samples.close()
        if store is not None:
            store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


__all__ = ["Workspace", "kb_ready"]
