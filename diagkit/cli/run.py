"""``diagkit run HOST -- COMMAND``: one command on a host, its output streamed as it comes."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import TextIO

from diagkit.cli.common import EXIT_FAILED, EXIT_UNREACHABLE, journal_to_active
from diagkit.errors import CommandTimeout, ConfigError, HostKeyUnknown
from diagkit.textsafe import unescaped


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rn = sub.add_parser("run", help="run a command on a host: diagkit run HOST -- COMMAND")
    rn.add_argument("host")
    rn.add_argument("argv", nargs="*", metavar="COMMAND",
                    help="after '--': the command and its arguments")
    rn.add_argument("--timeout", type=float, default=60.0,
                    help="seconds (default 60); the command is killed after")
    rn.add_argument("--accept-new-host-key", action="store_true")
    rn.add_argument("--no-escape", action="store_true",
                    help="pass the output through unchanged, control sequences included, as ssh "
                         "does (default: control characters are shown escaped, e.g. \\x1b)")
    rn.set_defaults(handler=_run)


def _run(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import session

    argv = list(args.argv)
    if not argv:
        raise ConfigError("No command given. Usage: diagkit run HOST -- COMMAND [ARGS...]")
    # One word is taken as a shell command line as typed ("uptime; df -h"); several words are
    # quoted one by one so each reaches the remote side exactly as given.
    command = argv[0] if len(argv) == 1 else shlex.join(argv)
    try:
        transport = session.connect(args.host, accept_new_host_key=args.accept_new_host_key)
    except HostKeyUnknown as exc:
        print(f"diagkit: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE

    # The remote output is shown escaped like every other host text, unless the user asks for
    # it unchanged (a host they trust, output meant for a pipe); see docs/cli.md.
    def echo(stream: str, text: str) -> None:
        target = out if stream == "stdout" else sys.stderr
        if args.no_escape:
            target = unescaped(target)
        target.write(text)
        target.flush()

    with transport:
        try:
            result = transport.run(command, timeout=args.timeout, on_output=echo)
        except CommandTimeout as exc:
            print(f"\ndiagkit: {exc}", file=sys.stderr)
            waited = exc.timeout
            journal_to_active(lambda desk, case: desk.record_command(
                case, transport.host, command, None, waited))
            return EXIT_FAILED
        journal_to_active(lambda desk, case: desk.record_command(
            case, transport.host, command, result.exit_status, result.duration))
    print(f"[exit status {result.exit_status}, {result.duration:.2f} s on {transport.host}]",
          file=sys.stderr)
    return result.exit_status if 0 <= result.exit_status < 256 else EXIT_FAILED

