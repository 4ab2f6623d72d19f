"""What the command groups share: exit statuses, the handler shape, the active-case journal.

Exit statuses (``docs/cli.md``): 0 success; 1 a probe or command failed on a reached host
(``run``: the remote exit status is passed through); 2 bad usage or configuration; 3 a host
could not be reached (connect, auth or host-key problem) or the team store's server cannot be
reached; 130 interrupted; 141 the reader of the output went away (``logs ... | head``). The
mapping of the error tree onto them is in :func:`diagkit.cli.app.main`.

This module imports nothing heavy: ``diagkit --help`` builds every group's parser.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from diagkit.errors import DiagkitError

if TYPE_CHECKING:
    from diagkit.cases.desk import CaseDesk
    from diagkit.workspace import Workspace

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for grep or cat killed by SIGPIPE

# What every command's parser carries as ``set_defaults(handler=...)``: it gets the parsed
# arguments and the (escaping) standard output, and returns the exit status.
Handler = Callable[[argparse.Namespace, TextIO], int]


def help_of(parser: argparse.ArgumentParser) -> Handler:
    """The handler of a group given no action (``diagkit hosts``): its help, exit status 0."""

    def show(args: argparse.Namespace, out: TextIO) -> NoReturn:
        parser.print_help()
        parser.exit()

    return show


def workspace() -> Workspace:
    """The stores and the active case of one command (``with workspace() as ws:``)."""
    from diagkit.workspace import Workspace

    return Workspace()


def open_desk() -> CaseDesk:
    """A case desk on its own store connection; the caller closes ``desk.store``."""
    return workspace().desk()


def saved_active_case() -> int | None:
    """The active case of the settings; ``None`` too when the settings cannot be read."""
    from diagkit.workspace import Workspace

    try:
        return Workspace.saved_active_case()
    except DiagkitError:
        return None


def journal_to_active(record: Callable[[Any, int], Any], *, case_id: int | None = None,
                      err: TextIO | None = None) -> int | None:
    """Journal into the active case (or ``case_id``) with ``record(desk, case_id)``.

    Never raises: the command that produced the evidence already succeeded, and a missing
    case or a locked database must not turn that into a failure; a one-line warning goes to
    ``err`` (stderr) instead. Returns the case journaled to, or ``None``.
    """
    stream = err or sys.stderr
    target = case_id if case_id is not None else saved_active_case()
    if target is None:
        return None
    try:
        with workspace() as ws:
            desk = ws.desk()
            desk.store.get_case(target)
            record(desk, target)
    except Exception as exc:  # noqa: BLE001 - journaling must never fail the real command
        from diagkit.store import CaseNotFound

        if isinstance(exc, CaseNotFound):
            print(f"warning: the active case {target} no longer exists; not journaled (set "
                  "another with 'diagkit case use N|none').", file=stream)
        else:
            print(f"warning: could not journal to case {target}: {exc}", file=stream)
        return None
    print(f"(journaled to case {target})", file=stream)
    return target
