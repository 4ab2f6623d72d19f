"""``diagkit SUBCOMMAND``: the parser assembled from the command groups, and :func:`main`.

Each group module (``hosts``, ``probes``, ``run``, ``logs``, ``bundle``, ``cases``,
``timeline``, ``kb``, ``metrics``, ``monitor``, ``store``, ``gui``) has ``register(sub)``, which
adds its parsers and gives each a ``handler(args, out) -> exit status`` with ``set_defaults``; :func:`main` parses,
calls the handler and maps the error tree onto the exit statuses of
:mod:`diagkit.cli.common` (0 ok, 1 failed, 2 usage or configuration, 3 unreachable, 130
interrupted). The ``--json`` output is documented in ``docs/cli-json.md``.

Start-up matters (``diagkit --help`` under 150 ms, ``benchmarks/cli_startup.py``): group
modules import only the standard library, :mod:`diagkit.errors` and :mod:`diagkit.textsafe` at
the top; handlers import what they use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from diagkit import __version__
from diagkit.cli import (
    bundle,
    cases,
    gui,
    hosts,
    kb,
    logs,
    metrics,
    monitor,
    probes,
    run,
    store,
    timeline,
)
from diagkit.cli import config as config_command
from diagkit.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)
from diagkit.errors import (
    ConfigError,
    DiagkitError,
    ProbeError,
    StoreUnavailable,
    TransportError,
)
from diagkit.textsafe import escaping

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_UNREACHABLE", "EXIT_USAGE",
           "build_parser", "main"]

# In the order of ``diagkit --help``.
GROUPS = (gui, hosts, probes, logs, bundle, cases, timeline, kb, metrics, monitor, store, run,
          config_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="diagkit",
        description="Diagnostic toolkit for support engineers. With no subcommand, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"diagkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    # Everything printed comes, one way or another, from hosts, logs, bundles, KB articles or
    # case data: control characters are shown escaped, never obeyed (diagkit.textsafe).
    out = escaping(stdout or sys.stdout)
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" is the remote command, options included.
    command_words: list[str] | None = None
    if "--" in words:
        cut = words.index("--")
        words, command_words = words[:cut], words[cut + 1:]
    if words[:1] == ["logs"]:
        parsed = logs.parse_words(parser, words, out)
        if parsed is None:
            return EXIT_OK
        args = parsed
    else:
        args = parser.parse_args(words)
    if command_words is not None:
        if args.command != "run":
            parser.error("'--' is only used with: diagkit run HOST -- COMMAND")
        args.argv = list(args.argv) + command_words
    import logging

    from diagkit import config
    from diagkit.logsetup import setup_logging, show_warnings_on_stderr

    # Before the log file is opened, so the count includes it; one line, then never again.
    repaired = config.repair_private_files().message()
    setup_logging()
    real_stderr = sys.stderr
    if repaired:
        logging.getLogger("diagkit").warning(repaired)
    try:
        if args.command in (None, "gui"):  # the app: its stderr stays as it is
            args.notice = repaired
            return gui.open_window(args, out)
        sys.stderr = escaping(real_stderr)  # error messages quote hosts, files, members too
        show_warnings_on_stderr("diagkit.kb.match")
        if repaired:
            print(f"diagkit: {repaired}", file=sys.stderr)
        handler = getattr(args, "handler", None)
        if handler is not None:
            result: int = handler(args, out)
            return result
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ConfigError, ProbeError) as exc:
        print(f"diagkit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TransportError as exc:
        print(f"diagkit: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except StoreUnavailable as exc:  # the team store's server: unreachable, like a host
        print(f"diagkit: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except DiagkitError as exc:
        print(f"diagkit: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        sys.stderr = real_stderr
    parser.print_help(out)
    return EXIT_USAGE

