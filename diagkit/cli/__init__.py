"""``diagkit SUBCOMMAND``: the core, without a window.

Where things are::

    app.py       the parser assembled from the groups, main(), the error -> exit status map
    common.py    exit statuses, the handler shape, journaling to the active case
    output.py    JSON documents, tables, wrapping (escaping is the stream's: diagkit.textsafe)
    gui.py hosts.py probes.py run.py logs.py bundle.py cases.py kb.py metrics.py monitor.py
    timeline.py
    store.py     one module per command group, each with ``register(sub)``

Adding a command: put it in the module of its group (or a new module with the same
``register(sub: argparse._SubParsersAction) -> None`` that gives every parser a
``set_defaults(handler=func)``, ``func(args, out) -> exit status``), add a new module to
:data:`diagkit.cli.app.GROUPS`, import heavy modules inside the handler, and test it through
:func:`main` as ``tests/test_cli.py`` does.
"""

from __future__ import annotations

from diagkit.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
