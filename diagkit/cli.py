"""``diagkit SUBCOMMAND``: the core, without a window.

Exit status: 0 success; 1 a probe or command failed on a reached host (``run``: the remote exit
status is passed through); 2 bad usage or configuration; 3 a host could not be reached (connect,
auth or host-key problem) or the team store's server cannot be reached; 130 interrupted. The ``--json`` output is documented in
``docs/cli-json.md``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from diagkit import __version__
from diagkit.errors import (
    CommandTimeout,
    ConfigError,
    DiagkitError,
    HostKeyUnknown,
    ProbeError,
    TransportError,
)
from diagkit.hosts import HostStore, SavedHost, import_ssh_config, parse_tags
from diagkit.probes.base import Severity
from diagkit.probes.runner import HostSnapshot
from diagkit.store import StoreUnavailable
from diagkit.textsafe import escaping, one_line, printable, unescaped

JSON_SCHEMA_PROBE = "diagkit.probe-run/1"
JSON_SCHEMA_PROBES = "diagkit.probe-list/1"
JSON_SCHEMA_HOSTS = "diagkit.hosts/1"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="diagkit",
        description="Diagnostic toolkit for support engineers. With no subcommand, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"diagkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")

    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("open", nargs="*", metavar="HOST", help="open these hosts' tabs at start ('local' too)")

    hosts = sub.add_parser("hosts", help="saved hosts").add_subparsers(dest="hosts_command", metavar="ACTION")
    hl = hosts.add_parser("list", help="list saved hosts")
    hl.add_argument("--json", action="store_true")
    for name, helptext in (("add", "save a host"), ("edit", "change a saved host")):
        p = hosts.add_parser(name, help=helptext)
        p.add_argument("name")
        if name == "add":
            p.add_argument("address", help="host name, IP or ~/.ssh/config alias")
        else:
            p.add_argument("--address")
            p.add_argument("--rename", metavar="NEW_NAME")
        p.add_argument("--port", type=int)
        p.add_argument("--user")
        p.add_argument("--jump", metavar="[USER@]HOST[:PORT][,...]", help="ProxyJump chain")
        p.add_argument("--group")
        p.add_argument("--tags", help="comma-separated")
        p.add_argument("--notes")
        p.add_argument("--identity-file", metavar="KEY", help="private key to try first")
    hr = hosts.add_parser("remove", help="forget a saved host and its stored password")
    hr.add_argument("name")
    hi = hosts.add_parser("import-ssh-config", help="save every Host alias of ~/.ssh/config")
    hi.add_argument("--file", help="another ssh config file")
    hp = hosts.add_parser("set-password", help="store a host's SSH password in the OS keyring")
    hp.add_argument("name")
    hp.add_argument("--stdin", action="store_true", help="read the password from standard input")
    hd = hosts.add_parser("delete-password", help="remove a host's password from the keyring")
    hd.add_argument("name")

    keys = sub.add_parser("keys", help="SSH key passphrases").add_subparsers(dest="keys_command", metavar="ACTION")
    ks = keys.add_parser("set-passphrase", help="store a private key's passphrase in the OS keyring")
    ks.add_argument("key_file")
    ks.add_argument("--stdin", action="store_true", help="read the passphrase from standard input")
    kd = keys.add_parser("delete-passphrase", help="remove a key's passphrase from the keyring")
    kd.add_argument("key_file")

    pl = sub.add_parser("probes", help="list the probes")
    pl.add_argument("--json", action="store_true")

    pr = sub.add_parser("probe", help="run probes on hosts (default: this machine)")
    pr.add_argument("hosts", nargs="*", metavar="HOST", help="saved name, user@host[:port], alias or 'local'")
    pr.add_argument("--probe", "-p", action="append", dest="probes", metavar="NAME",
                    help="run only this probe (repeatable)")
    pr.add_argument("--json", action="store_true", help="machine-readable output (docs/cli-json.md)")
    pr.add_argument("--raw", action="store_true", help="also print each probe's raw output")
    pr.add_argument("--accept-new-host-key", action="store_true",
                    help="trust the key of a host with nothing on record (a changed key, or a key "
                         "of another type than the one on record, is always refused)")

    _add_logs_parser(sub)
    _add_bundle_parser(sub)
    # Support work lives in its own modules; each add_parser() sets ``handler`` on its parser.
    from diagkit import cli_cases, cli_kb, cli_metrics, cli_monitor, cli_store

    cli_cases.add_parser(sub)
    cli_kb.add_parser(sub)
    cli_metrics.add_parser(sub)
    cli_monitor.add_parser(sub)
    cli_store.add_parser(sub)

    rn = sub.add_parser("run", help="run a command on a host: diagkit run HOST -- COMMAND")
    rn.add_argument("host")
    rn.add_argument("argv", nargs="*", metavar="COMMAND", help="after '--': the command and its arguments")
    rn.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60); the command is killed after")
    rn.add_argument("--accept-new-host-key", action="store_true")
    rn.add_argument("--no-escape", action="store_true",
                    help="pass the output through unchanged, control sequences included, as ssh "
                         "does (default: control characters are shown escaped, e.g. \\x1b)")
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
        logs_words = _logs_argv(words, out)
        if logs_words is None:
            return EXIT_OK
        # options may sit between the files: the words argparse left over are more files
        args, extra = parser.parse_known_args(logs_words)
        stray = [w for w in extra if w.startswith("-") and w != "-"]
        if stray:
            parser.error(f"unrecognized arguments: {' '.join(stray)}")
        args.words = list(args.words) + extra
    else:
        args = parser.parse_args(words)
    if command_words is not None:
        if args.command != "run":
            parser.error("'--' is only used with: diagkit run HOST -- COMMAND")
        args.argv = list(args.argv) + command_words
    from diagkit import config
    from diagkit.logsetup import setup_logging

    # Before the log file is opened, so the count includes it; one line, then never again.
    repaired = config.repair_private_files().message()
    setup_logging()
    real_stderr = sys.stderr
    if repaired:
        logging.getLogger("diagkit").warning(repaired)
    try:
        if args.command in (None, "gui"):
            from diagkit.__main__ import launch_gui

            return launch_gui(getattr(args, "open", None) or [], notice=repaired)
        sys.stderr = escaping(real_stderr)  # error messages quote hosts, files, members too
        _show_warnings_of("diagkit.kb.match")
        if repaired:
            print(f"diagkit: {repaired}", file=sys.stderr)
        if args.command == "hosts":
            if not args.hosts_command:
                parser.parse_args(["hosts", "--help"])
            return _hosts(args, out)
        if args.command == "keys":
            if not args.keys_command:
                parser.parse_args(["keys", "--help"])
            return _keys(args, out)
        if args.command == "probes":
            return _list_probes(args, out)
        if args.command == "probe":
            return _probe(args, out)
        if args.command == "run":
            return _run(args, out)
        if args.command == "logs":
            return _logs(args, out)
        if args.command == "bundle":
            if not args.bundle_command:
                parser.parse_args(["bundle", "--help"])
            return _bundle(args, out)
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


class _StderrWarnings(logging.Handler):
    """Warnings of one core logger shown as ``warning: ...`` lines (they also go to the log)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        print(f"warning: {record.getMessage()}", file=sys.stderr)


def _show_warnings_of(name: str) -> None:
    logger = logging.getLogger(name)
    if not any(isinstance(h, _StderrWarnings) for h in logger.handlers):
        logger.addHandler(_StderrWarnings())


# --- hosts ---------------------------------------------------------------------------------------


def _hosts(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import credentials

    store = HostStore()
    cmd = args.hosts_command
    if cmd == "list":
        hosts = store.load()
        if args.json:
            _dump({"schema": JSON_SCHEMA_HOSTS, "hosts": [h.to_dict() for h in hosts]}, out)
        elif not hosts:
            print("No saved hosts. Add one with 'diagkit hosts add NAME ADDRESS' or "
                  "'diagkit hosts import-ssh-config'.", file=out)
        else:
            rows = [(h.name, h.destination, h.jump or "", h.group, ",".join(h.tags), h.notes)
                    for h in hosts]
            _table(("NAME", "DESTINATION", "JUMP", "GROUP", "TAGS", "NOTES"), rows, out)
        return EXIT_OK
    if cmd == "add":
        host = SavedHost(name=args.name, address=args.address, port=args.port, user=args.user,
                         jump=args.jump, group=args.group or "", tags=parse_tags(args.tags or ""),
                         notes=args.notes or "", identity_file=args.identity_file)
        store.add(host)
        print(f"Saved host {host.name} ({host.destination}).", file=out)
        return EXIT_OK
    if cmd == "edit":
        changes = {"address": args.address, "port": args.port, "user": args.user, "jump": args.jump,
                   "group": args.group, "tags": args.tags, "notes": args.notes, "name": args.rename,
                   "identity_file": args.identity_file}
        if all(v is None for v in changes.values()):
            raise ConfigError("Nothing to change: give at least one of --address, --port, --user, "
                              "--jump, --group, --tags, --notes, --identity-file, --rename "
                              "(an empty value such as --user '' clears a field).")
        host = store.update(args.name, **changes)
        if args.rename and args.rename != args.name:
            from diagkit import credentials

            try:
                credentials.move_password(f"host:{args.name}", host.password_account)
            except DiagkitError as exc:
                print(f"warning: the stored password was not moved to the new name: {exc}",
                      file=sys.stderr)
        print(f"Updated host {host.name} ({host.destination}).", file=out)
        return EXIT_OK
    if cmd == "remove":
        host = store.remove(args.name)
        try:
            credentials.delete_password(host.password_account)
        except DiagkitError:
            pass  # no keyring: there was nothing stored either
        print(f"Removed host {host.name}.", file=out)
        return EXIT_OK
    if cmd == "import-ssh-config":
        added, skipped = import_ssh_config(store, Path(args.file).expanduser() if args.file else None)
        for host in added:
            print(f"Imported {host.name}", file=out)
        if skipped:
            print(f"Already saved, left unchanged: {', '.join(skipped)}", file=out)
        if not added and not skipped:
            print("No concrete Host aliases found (wildcard patterns are not imported).", file=out)
        return EXIT_OK
    if cmd == "set-password":
        host = store.get(args.name)
        if args.stdin:
            secret = sys.stdin.readline().rstrip("\r\n")
        else:
            secret = getpass.getpass(f"SSH password for {host.destination} (not shown): ")
        if not secret:
            raise ConfigError("No password given; nothing stored.")
        where = credentials.set_password(host.password_account, secret)
        print(f"Password for {host.name} stored in the keyring ({where}).", file=out)
        return EXIT_OK
    if cmd == "delete-password":
        host = store.get(args.name)
        credentials.delete_password(host.password_account)
        print(f"Password for {host.name} removed from the keyring.", file=out)
        return EXIT_OK
    raise ConfigError(f"Unknown hosts action {cmd!r}.")


def _keys(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import credentials

    path = Path(args.key_file).expanduser().resolve()
    if args.keys_command == "delete-passphrase":
        credentials.delete_key_passphrase(str(path))
        print(f"Passphrase for {path} removed from the keyring.", file=out)
        return EXIT_OK
    if not path.is_file():
        raise ConfigError(f"There is no key file at {path}. Give the path of the private key.")
    if args.stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = getpass.getpass(f"Passphrase of {path} (not shown): ")
    if not secret:
        raise ConfigError("No passphrase given; nothing stored.")
    from diagkit.transport.ssh import check_key_passphrase

    if not check_key_passphrase(str(path), secret):
        print(f"{path} is not encrypted: it needs no passphrase; nothing stored.", file=out)
        return EXIT_OK
    where = credentials.set_key_passphrase(str(path), secret)
    print(f"Passphrase for {path} stored in the keyring ({where}).", file=out)
    return EXIT_OK


# --- probes --------------------------------------------------------------------------------------


def _list_probes(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.probes.registry import all_probes

    probes, problems = all_probes()
    if args.json:
        _dump({
            "schema": JSON_SCHEMA_PROBES,
            "probes": [{"name": p.name, "title": p.title, "description": p.description,
                        "timeout": p.timeout, "source": p.source} for p in probes],
            "problems": problems,
        }, out)
        return EXIT_OK
    _table(("NAME", "TITLE", "SOURCE", "DESCRIPTION"),
           [(p.name, p.title, p.source, p.description) for p in probes], out, wrap_last=True)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    return EXIT_OK


def _probe(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import session
    from diagkit.probes.registry import all_probes, select
    from diagkit.probes.runner import run_many

    probes, problems = all_probes()
    if args.probes:
        probes = select(probes, args.probes)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    store = HostStore()
    refs = [session.resolve(h, store) for h in (args.hosts or ["local"])]

    def connect(ref: session.HostRef):
        return session.connect(ref, accept_new_host_key=args.accept_new_host_key)

    snapshots = run_many(refs, probes, connect, label=lambda r: r.label)
    from diagkit.cli_cases import journal_to_active

    journal_to_active(lambda desk, case: [desk.record_probe_run(case, s) for s in snapshots])
    if args.json:
        _dump({"schema": JSON_SCHEMA_PROBE, "diagkit_version": __version__,
               "hosts": [s.to_dict() for s in snapshots]}, out)
    else:
        for snap in snapshots:
            _print_snapshot(snap, out, raw=args.raw)
    if any(not s.ok for s in snapshots):
        return EXIT_UNREACHABLE
    if any(not r.ok for s in snapshots for r in s.results):
        return EXIT_FAILED
    return EXIT_OK


_SEV_TAG = {Severity.CRITICAL: "CRITICAL", Severity.WARNING: "WARNING", Severity.INFO: "info"}


def _print_snapshot(snap: HostSnapshot, out: TextIO, *, raw: bool = False) -> None:
    width = _width()
    # Names and titles stay on their line (a newline in a finding title could forge the next
    # line of this output); every other character is escaped by the stream (see main()).
    print(f"== {one_line(snap.host)}  ({snap.duration:.2f} s, "
          f"{snap.started:%Y-%m-%d %H:%M:%S} UTC) ==", file=out)
    if not snap.ok:
        print(_wrap(f"UNREACHABLE [{snap.error_kind}] {snap.error}", width, "  "), file=out)
        print(file=out)
        return
    findings = snap.findings
    print(f"Findings ({len(findings)}):" if findings else "Findings: none", file=out)
    for f in findings:
        print(f"  {_SEV_TAG[f.severity]:<9} {one_line(f.probe):<10} {one_line(f.title)}",
              file=out)
        if f.detail:
            print(_wrap(f.detail, width, " " * 23), file=out)
        if f.hint:
            print(_wrap(f"hint: {f.hint}", width, " " * 23), file=out)
    print("Probes:", file=out)
    rows = [(r.probe, "ok" if r.ok else "ERROR", f"{r.duration:.2f}s", r.summary()) for r in snap.results]
    _table(("PROBE", "STATUS", "TIME", "SUMMARY"), rows, out, indent="  ", wrap_last=True)
    for r in snap.results:
        if raw:
            print(f"--- raw output of {one_line(r.probe)} ---", file=out)
            print(r.raw.rstrip(), file=out)
    print(file=out)


# --- run -----------------------------------------------------------------------------------------


def _run(args: argparse.Namespace, out: TextIO) -> int:
    import shlex

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
        from diagkit.cli_cases import journal_to_active

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


# --- logs ----------------------------------------------------------------------------------------

JSON_SCHEMA_LOG_RECORDS = "diagkit.log-records/1"
JSON_SCHEMA_LOG_STATS = "diagkit.log-stats/1"
JSON_SCHEMA_LOG_SIGNATURES = "diagkit.log-signatures/1"
JSON_SCHEMA_LOG_HISTOGRAM = "diagkit.log-histogram/1"
LOG_ACTIONS = ("stats", "signatures", "histogram")


_FILTERS = frozenset({"show", "stats", "signatures", "histogram"})
# (flags, argparse keywords, the actions the option applies to): the one table the logs parser
# and each action's own --help are built from
_LOG_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any], frozenset[str]]] = [
    (("--format",), {"metavar": "NAME", "help": "log format (default: detected from the file)"},
     _FILTERS),
    (("--level",), {"metavar": "LEVEL", "help": "this level and worse (e.g. warning)"}, _FILTERS),
    (("--since",), {"metavar": "T", "help": "from this time: ISO time, '2024-01-02 10:00', "
                                            "'10:00', '-1h', 'yesterday'"}, _FILTERS),
    (("--until",), {"metavar": "T", "help": "up to this time (inclusive)"}, _FILTERS),
    (("--grep",), {"metavar": "RE", "help": "regular expression searched in each record"},
     _FILTERS),
    (("--literal",), {"metavar": "TEXT", "help": "plain text searched in each record"}, _FILTERS),
    (("-i", "--ignore-case"), {"action": "store_true",
                               "help": "case-insensitive --grep (--literal and --exclude always "
                                       "ignore case unless -I is given)"}, _FILTERS),
    (("-I", "--match-case"), {"action": "store_true", "help": "case-sensitive --literal"},
     _FILTERS),
    (("--field",), {"action": "append", "default": [], "metavar": "K=V",
                    "help": "exact field match: host, source, pid, level or an extra key "
                            "(repeatable)"}, _FILTERS),
    (("--exclude",), {"action": "append", "default": [], "metavar": "TEXT",
                      "help": "drop records containing this text (repeatable)"}, _FILTERS),
    (("-C", "--context"), {"type": int, "default": 0, "metavar": "N",
                           "help": "also show N records around each match (one file)"},
     frozenset({"show"})),
    (("--limit",), {"type": int, "default": 0, "metavar": "N",
                    "help": "at most N records (show) or signatures (signatures)"},
     frozenset({"show", "signatures"})),
    (("--json",), {"action": "store_true", "help": "machine-readable (docs/logs-json.md)"},
     _FILTERS),
    (("--top",), {"type": int, "default": 20, "metavar": "N",
                  "help": "how many signatures (default 20)"}, frozenset({"signatures"})),
    (("--per-record",), {"action": "store_true",
                         "help": "also print each record's signature id"},
     frozenset({"signatures"})),
    (("--bucket",), {"default": "", "metavar": "SIZE",
                     "help": "bucket size: 30s, 1m, 1h, 1d (default: about 40 bars over the "
                             "time span)"}, frozenset({"histogram"})),
]

_INPUTS = ("FILE may be a log file (plain, .gz, .bz2 or .xz), a folder (every log in it), a "
           "base name such as /var/log/syslog (its rotations syslog.1, syslog.2.gz... open as "
           "one log), '-' for standard input, a pipe such as <(journalctl -o json) or a FIFO. "
           "Several files are merged by time.")

_LOG_ACTION_HELP = {
    "stats": (
        ("Print, per log: the detected format, how many records and lines, its size, the time "
         "span (first and last timestamp), how many records have no timestamp, and how many "
         "records of each level. With filters (--level, --since, --grep...) the time span and "
         "counts are those of the matching records."),
        ("examples:\n"
         "  diagkit logs stats /var/log/syslog\n"
         "  diagkit logs stats app.log --since -1h --json\n"
         "  journalctl -o json | diagkit logs stats -")),
    "signatures": (
        ("Group the (matching) records into recurring message templates - variable parts such "
         "as numbers, addresses and ids masked - and print the most frequent: id, count, the "
         "worst level seen, when first seen, and the template. --per-record also lists which "
         "signature each record has."),
        ("examples:\n"
         "  diagkit logs signatures /var/log/syslog --top 10\n"
         "  diagkit logs signatures app.log --level error --since yesterday\n"
         "  diagkit logs signatures app.log --json --per-record > sigs.json")),
    "histogram": (
        ("Count the (matching) records per time bucket and draw one bar per bucket: '#' for "
         "records, '!' for those at warning or worse. Records without a timestamp are left out."),
        ("examples:\n"
         "  diagkit logs histogram /var/log/syslog --bucket 1h\n"
         "  diagkit logs histogram app.log web.log --level warning --since -1d\n"
         "  diagkit logs histogram app.log --bucket 5m --json")),
}


def _add_logs_parser(sub: Any) -> None:
    lg = sub.add_parser(
        "logs", help="inspect log files offline (filter, stats, signatures, histogram)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="diagkit logs FILE... [filters]  |  diagkit logs stats|signatures|histogram "
                    "FILE... [options]\n\n" + textwrap.fill(_INPUTS, 88)
                    + "\n\nEach action explains itself: diagkit logs stats --help")
    lg.add_argument("words", nargs="+", metavar="[ACTION] FILE",
                    help="optional action (stats, signatures, histogram), then files or folders")
    for flags, kwargs, _ in _LOG_OPTIONS:
        lg.add_argument(*flags, **kwargs)


def _logs_action_parser(action: str) -> argparse.ArgumentParser:
    """What ``diagkit logs ACTION --help`` shows: what ACTION prints, its options, examples."""
    what, examples = _LOG_ACTION_HELP[action]
    ap = argparse.ArgumentParser(
        prog=f"diagkit logs {action}", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(what, 88) + "\n\n" + textwrap.fill(_INPUTS, 88),
        epilog=examples)
    ap.add_argument("files", nargs="+", metavar="FILE", help="files, folders, '-' or pipes")
    for flags, kwargs, applies in _LOG_OPTIONS:
        if action in applies:
            ap.add_argument(*flags, **kwargs)
    return ap


def _logs_argv(words: list[str], out: TextIO) -> list[str] | None:
    """``diagkit logs ACTION --help`` prints that action's help (None: done); options may come
    before, between or after the files (``logs stats --json FILE``)."""
    if len(words) > 2 and words[1] in LOG_ACTIONS and ({"-h", "--help"} & set(words[2:])):
        _logs_action_parser(words[1]).print_help(out)
        return None
    return words


def _logs_progress(state: dict[str, bool]) -> Any:
    """Tell on stderr what a slow open waits for (a FIFO without a writer) and, on a terminal,
    how much of a pipe was read."""
    tty = sys.stderr.isatty()

    def progress(p: Any) -> None:
        if p.phase == "waiting":
            if state.get("line"):
                print(file=sys.stderr)
                state["line"] = False
            print(f"diagkit: {p.note}", file=sys.stderr, flush=True)
        elif p.phase == "reading" and tty:
            print(f"\r{p.note}", end="", file=sys.stderr, flush=True)
            state["line"] = True

    return progress


def _logs(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.errors import LogFormatError

    words = list(args.words)
    action = "show"
    if words[0] in LOG_ACTIONS and not (len(words) == 1 and Path(words[0]).exists()):
        action = words.pop(0)
    if not words:
        print(f"diagkit: 'diagkit logs {action}' needs at least one file or folder "
              f"(or '-' for standard input). See: diagkit logs {action} --help", file=sys.stderr)
        return EXIT_USAGE
    state: dict[str, bool] = {}
    try:
        query = _logs_query(args)
        from diagkit.logs.logfile import open_logs

        logs = open_logs(words, format=args.format, progress=_logs_progress(state))
    except LogFormatError as exc:
        print(f"diagkit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if state.get("line"):
            print(file=sys.stderr)
    try:
        if not args.json:
            for warning in [*logs.warnings, *(w for log in logs for w in log.warnings)]:
                print(f"warning: {warning}", file=sys.stderr)
        for warning in _filter_warnings(logs, query):
            print(f"warning: {warning}", file=sys.stderr)
        if action == "stats":
            status = _logs_stats(logs, query, args, out)
        elif action == "signatures":
            status = _logs_signatures(logs, query, args, out)
        elif action == "histogram":
            status = _logs_histogram(logs, query, args, out)
        else:
            status = _logs_show(logs, query, args, out)
        out.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        return _broken_pipe()
    except LogFormatError as exc:
        print(f"diagkit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        for log in logs:
            log.close()


EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for grep or cat killed by SIGPIPE


def _broken_pipe() -> int:
    """The reader went away (``diagkit logs FILE | head -1``): stop quietly, like grep. The
    standard output is pointed at the null device so the exit flush does not complain."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def _filter_warnings(logs: list[Any], query: Any) -> list[str]:
    """Time and level filters match nothing in a log without times or levels: say so."""
    import numpy as np

    out = []
    for log in logs:
        if (query.since or query.until) and not (~np.isnan(log.timestamps())).any():
            out.append(f"{log.label} has no timestamps (read as {log.format.name}), so "
                       "--since/--until match nothing in it. Give its format with --format if "
                       "diagkit missed it, or filter with --grep.")
        if (query.min_level or query.levels) and not log.levels().any():
            out.append(f"{log.label} has no levels (read as {log.format.name}), so --level "
                       "matches nothing in it. Give its format with --format if diagkit missed "
                       "it, or filter with --grep.")
    return out


def _logs_query(args: argparse.Namespace) -> Any:
    from diagkit.errors import LogFormatError
    from diagkit.logs.model import Level, Query
    from diagkit.logs.query import parse_time

    if args.grep and args.literal:
        raise LogFormatError("Give --grep or --literal, not both.")
    level = None
    if args.level:
        level = Level.parse(args.level)
        if level == Level.UNKNOWN:
            raise LogFormatError(f"Unknown level {args.level!r}. Use one of: "
                                 + ", ".join(lv.label for lv in Level if lv) + ".")
    fields: dict[str, str] = {}
    for item in args.field:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise LogFormatError(f"--field {item!r} must look like KEY=VALUE, e.g. host=web1.")
        fields[key.strip()] = value
    if args.context < 0 or args.limit < 0:
        raise LogFormatError("--context and --limit must be zero or more.")
    return Query(min_level=level,
                 since=parse_time(args.since) if args.since else None,
                 until=parse_time(args.until) if args.until else None,
                 text=args.grep or args.literal or "", regex=bool(args.grep),
                 case_sensitive=(not args.ignore_case) if args.grep else args.match_case,
                 fields=fields, exclude=tuple(args.exclude), context=args.context)


def _log_file_info(log: Any) -> dict[str, Any]:
    return {"file": log.label, "format": log.format.name, "records": log.record_count,
            "lines": log.line_count, "size": log.size, "segments": [str(p) for p in log.segments],
            "warnings": list(log.warnings)}


def _logs_show(logs: list[Any], query: Any, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.logs.model import Match
    from diagkit.logs.query import search, timeline

    for log in logs:
        log.settle_years()  # a year-less date gets the year it has in the whole file
    if len(logs) == 1:
        matches = search(logs[0], query)
    else:
        if query.context:
            print("warning: -C is used with one file only; several files are merged by time.",
                  file=sys.stderr)
        matches = (Match(r) for r in timeline(logs, query))
    shown: list[dict[str, Any]] = []
    truncated = False
    several = len(logs) > 1
    last: tuple[str, int] | None = None
    n = 0
    for m in matches:
        if args.limit and n >= args.limit:
            truncated = True
            break
        n += 1
        rec = m.record
        if args.json:
            shown.append({**rec.to_dict(), "context": m.is_context})
            continue
        if query.context and last is not None and (last[0] != rec.file or rec.index != last[1] + 1):
            print("--", file=out)
        last = (rec.file, rec.index)
        mark = "-" if m.is_context else ":"
        prefix = f"{rec.file}{mark}{rec.first_line + 1}{mark} " if several or query.context else ""
        print(prefix + rec.raw, file=out)
    if args.json:
        _dump({"schema": JSON_SCHEMA_LOG_RECORDS, "files": [_log_file_info(g) for g in logs],
               "records": shown, "truncated": truncated}, out)
    elif truncated:
        print(f"[stopped after {args.limit} records: --limit]", file=sys.stderr)
    return EXIT_OK


def _logs_stats(logs: list[Any], query: Any, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.logs.logfile import HeaderSummary
    from diagkit.logs.model import Level
    from diagkit.logs.query import matching_indices

    rows = []
    for log in logs:
        info = _log_file_info(log)
        if query.is_empty:
            summary = log.summary()  # without keeping per-record arrays when it can
        else:
            idx = matching_indices(log, query)
            summary = HeaderSummary.of(log.levels()[idx], log.timestamps()[idx])
            info["matching"] = len(idx)
        info["first"] = _iso(summary.first) if summary.first is not None else None
        info["last"] = _iso(summary.last) if summary.last is not None else None
        info["without_timestamp"] = summary.without_time
        info["levels"] = {lv.label: int(summary.levels[lv]) for lv in Level
                          if summary.levels[lv]}
        rows.append(info)
    if args.json:
        _dump({"schema": JSON_SCHEMA_LOG_STATS, "files": rows}, out)
        return EXIT_OK
    for info in rows:
        print(f"== {info['file']}", file=out)
        if len(info["segments"]) > 1:
            print(f"  segments:  {', '.join(info['segments'])}", file=out)
        print(f"  format:    {info['format']}", file=out)
        print(f"  records:   {info['records']:,}  (lines {info['lines']:,}, "
              f"{info['size']:,} bytes)", file=out)
        if "matching" in info:
            print(f"  matching:  {info['matching']:,}  (the lines below count these)", file=out)
        span = f"{info['first']} .. {info['last']}" if info["first"] else "no timestamps"
        print(f"  time span: {span}", file=out)
        if info["without_timestamp"] and info["first"]:
            print(f"             ({info['without_timestamp']:,} records without a timestamp)",
                  file=out)
        lv = ", ".join(f"{k} {v:,}" for k, v in reversed(info["levels"].items()))
        print(f"  levels:    {lv or 'none'}", file=out)
        for w in info["warnings"]:
            print(f"  warning:   {w}", file=out)
    return EXIT_OK


def _iso(epoch: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


def _logs_records(logs: list[Any], query: Any) -> Any:
    from diagkit.logs.query import search, timeline

    for log in logs:
        log.settle_years()
    if len(logs) == 1:
        return (m.record for m in search(logs[0], query) if not m.is_context)
    return timeline(logs, query)


def _logs_signatures(logs: list[Any], query: Any, args: argparse.Namespace, out: TextIO) -> int:
    from dataclasses import replace

    try:
        from diagkit.logs.signatures import mine
    except ImportError:
        print("diagkit: signature mining is not available in this build.", file=sys.stderr)
        return EXIT_FAILED
    # Record numbers are per file: number them across files so each keeps its own signature.
    where: list[tuple[str, int, int]] = []

    def numbered() -> Any:
        for k, rec in enumerate(_logs_records(logs, query)):
            where.append((rec.file, rec.index, rec.first_line))
            yield replace(rec, index=k)

    if query.is_empty and not args.per_record:
        # every record of every file: mined in bulk, as the log viewer does (same grouping)
        from diagkit.logs.signatures import SignatureSet, mine_logs

        signatures, maps = mine_logs(logs)
        found = SignatureSet(signatures, {})
        where = range(sum(len(m) for m in maps))  # type: ignore[assignment]
    else:
        found = mine(numbered())
    top = found.top(args.limit or args.top)
    if args.json:
        doc: dict[str, Any] = {
            "schema": JSON_SCHEMA_LOG_SIGNATURES, "files": [_log_file_info(g) for g in logs],
            "records": len(where), "signature_count": len(found),
            "signatures": [{"id": s.id, "template": s.template, "count": s.count,
                            "first_seen": s.first_seen.isoformat() if s.first_seen else None,
                            "last_seen": s.last_seen.isoformat() if s.last_seen else None,
                            "example": s.example,
                            "levels": {lv.label: c for lv, c in s.levels.items()}} for s in top]}
        if args.per_record:
            doc["per_record"] = [{"file": f, "record": i, "line": ln + 1,
                                  "signature": found.record_ids[k]}
                                 for k, (f, i, ln) in enumerate(where)]
        _dump(doc, out)
        return EXIT_OK
    print(f"{len(where):,} records, {len(found):,} signatures; top {len(top)}:", file=out)
    rows = [(s.id, f"{s.count:,}", s.worst_level.label if s.levels else "",
             s.first_seen.strftime("%Y-%m-%d %H:%M:%S") if s.first_seen else "", s.template)
            for s in top]
    _table(("ID", "COUNT", "WORST", "FIRST SEEN", "TEMPLATE"), rows, out, wrap_last=True)
    if args.per_record:
        print(file=out)
        for k, (f, _, ln) in enumerate(where):
            print(f"{f}:{ln + 1}: {found.record_ids[k]}", file=out)
    return EXIT_OK


def _logs_histogram(logs: list[Any], query: Any, args: argparse.Namespace, out: TextIO) -> int:
    from datetime import timedelta

    import numpy as np

    from diagkit.logs.query import histogram, parse_bucket

    if args.bucket:
        bucket = parse_bucket(args.bucket)
    else:
        # about 40 bars over the time span, rounded to a familiar size
        stamps = [t[~np.isnan(t)] for t in (log.timestamps() for log in logs)]
        stamps = [t for t in stamps if len(t)]
        span = (max(t.max() for t in stamps) - min(t.min() for t in stamps)) if stamps else 0
        sizes = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400]
        bucket = timedelta(seconds=next((s for s in sizes if span / s <= 40), sizes[-1]))
    h = histogram(logs, bucket, query)
    totals = h.total()
    if args.json:
        _dump({"schema": JSON_SCHEMA_LOG_HISTOGRAM, "bucket_seconds": bucket.total_seconds(),
               "files": [_log_file_info(g) for g in logs],
               "buckets": [{"start": s.isoformat(), "total": totals[i],
                            "levels": {lv.label: c[i] for lv, c in h.counts.items() if c[i]}}
                           for i, s in enumerate(h.starts)]}, out)
        return EXIT_OK
    if not h.starts:
        print("No records with a timestamp to count.", file=out)
        return EXIT_OK
    from diagkit.logs.model import Level

    width = max(10, _width() - 40)
    peak = max(totals) or 1
    bad = [lv for lv in h.counts if lv >= Level.WARNING]
    for i, start in enumerate(h.starts):
        worse = sum(h.counts[lv][i] for lv in bad)
        bar_len = round(totals[i] / peak * width)
        bad_len = round(worse / peak * width) if worse else 0
        bar = "!" * bad_len + "#" * max(0, bar_len - bad_len)
        print(f"{start:%Y-%m-%d %H:%M:%S} {totals[i]:>9,} {bar}", file=out)
    print(f"(bucket {bucket}; '#' records, '!' warning or worse)", file=out)
    return EXIT_OK


# --- bug-report bundles --------------------------------------------------------------------------


def _add_bundle_parser(sub: Any) -> None:
    bd = sub.add_parser("bundle", help="bug-report bundles: create, verify, open, unredact")
    acts = bd.add_subparsers(dest="bundle_command", metavar="ACTION")
    cr = acts.add_parser(
        "create", help="collect probes and log excerpts into a redacted bug-report .zip",
        description="Secrets are always masked; --obfuscate also replaces addresses, names... "
                    "with consistent tokens (reverse them with 'diagkit bundle unredact'). "
                    "Log excerpts: the error records with --log-context records around them, "
                    "else the last lines; at most --log-lines lines per log.")
    cr.add_argument("-o", "--output", required=True, metavar="OUT.zip")
    cr.add_argument("--host", action="append", default=[], metavar="H",
                    help="run the probes live on this host (saved name, alias, user@host, 'local'; repeatable)")
    cr.add_argument("--probe", "-p", action="append", dest="probes", metavar="NAME",
                    help="run only this probe (repeatable; default all)")
    cr.add_argument("--log", action="append", default=[], metavar="PATH",
                    help="add excerpts of this log file or folder (repeatable)")
    cr.add_argument("--log-lines", type=int, default=200, metavar="N",
                    help="at most N lines per log (default 200)")
    cr.add_argument("--log-context", type=int, default=5, metavar="N",
                    help="records of context around each error record (default 5)")
    cr.add_argument("--steps", metavar="FILE", help="reproduction steps, one per line")
    cr.add_argument("--title", default="Bug report")
    cr.add_argument("--summary", default="")
    cr.add_argument("--severity", default="medium", choices=("low", "medium", "high", "critical"))
    cr.add_argument("--expected", default="")
    cr.add_argument("--actual", default="")
    cr.add_argument("--case", metavar="N", help="the case this report belongs to")
    cr.add_argument("--attach", action="append", default=[], metavar="FILE",
                    help="add a file under attachments/ (redacted too; UTF-16/32 text is "
                         "converted to UTF-8; a binary file is refused; repeatable)")
    cr.add_argument("--attach-binary", action="append", default=[], metavar="FILE",
                    help="add a file that may be binary: text is redacted as with --attach, a "
                         "binary file goes in as is, NOT redacted, and the report says so")
    cr.add_argument("--obfuscate", default="", metavar="ip,host,mac,user,email",
                    help="also replace these with consistent tokens")
    cr.add_argument("--keyword", action="append", default=[], metavar="K",
                    help="a word to replace by a token everywhere (repeatable)")
    cr.add_argument("--accept-new-host-key", action="store_true")
    vf = acts.add_parser("verify", help="check every file of a bundle against its manifest")
    vf.add_argument("file")
    op = acts.add_parser("open", help="verify and extract a bundle; prints the report's path")
    op.add_argument("file")
    op.add_argument("--to", metavar="DIR", help="an empty or new folder (default: the data dir)")
    ur = acts.add_parser("unredact", help="turn tokens in a reply back into the real values")
    ur.add_argument("text", metavar="TEXT|FILE")


def _bundle(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.errors import LogFormatError

    cmd = args.bundle_command
    if cmd == "verify":
        from diagkit.reports.reader import verify

        # Names come from the bundle (and the zip's own name from wherever it was saved):
        # printed escaped, so none can forge an "OK" line or drive the terminal.
        report = verify(Path(args.file).expanduser())
        for problem in report.problems:
            print(f"  {printable(problem)}", file=out)
        n = len(report.manifest.get("files", []))
        if report.ok:
            print(f"{printable(args.file)}: OK ({n} files, every checksum matches).", file=out)
            return EXIT_OK
        print(f"{printable(args.file)}: FAILED ({len(report.problems)} problem(s)).", file=out)
        return EXIT_FAILED
    if cmd == "open":
        from diagkit.reports.reader import open_bundle

        opened = open_bundle(Path(args.file).expanduser(),
                             dest=Path(args.to).expanduser() if args.to else None)
        print(f"Opened into {printable(opened.folder)}", file=out)
        print(f"Report: {printable(opened.report_html)}", file=out)
        for log in opened.logs:
            print(f"Log:    {printable(log)}", file=out)
        return EXIT_OK
    if cmd == "unredact":
        from diagkit.reports.redact import TokenMap

        source = Path(args.text).expanduser()
        text = source.read_text(encoding="utf-8", errors="replace") if source.is_file() else args.text
        out.write(TokenMap.load().unredact(text))
        if not text.endswith("\n"):
            out.write("\n")
        return EXIT_OK
    if cmd != "create":
        raise ConfigError(f"Unknown bundle action {cmd!r}.")
    return _bundle_create(args, out, LogFormatError)


def _bundle_create(args: argparse.Namespace, out: TextIO, log_error: type) -> int:
    from datetime import UTC, datetime

    from diagkit.reports.bundle import check_attachment, collect_host, log_excerpts, write_bundle
    from diagkit.reports.model import Attachment, Bundle, JournalEntry
    from diagkit.reports.redact import RedactOptions, known_hosts

    if args.log_lines < 1 or args.log_context < 0:
        raise ConfigError("--log-lines must be 1 or more and --log-context 0 or more.")
    kinds = frozenset(k.strip().lower() for k in args.obfuscate.split(",") if k.strip())
    allowed = {"ip", "host", "mac", "user", "email", "keyword"}
    if kinds - allowed:
        raise ConfigError(f"Unknown --obfuscate kind(s): {', '.join(sorted(kinds - allowed))}. "
                          f"Use a comma-separated list of {', '.join(sorted(allowed))}.")
    if args.keyword:
        kinds |= {"keyword"}
    output = Path(args.output).expanduser()
    steps: tuple[str, ...] = ()
    if args.steps:
        try:
            text = Path(args.steps).expanduser().read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ConfigError(f"Cannot read the steps file {args.steps}: {exc.strerror or exc}.") from exc
        steps = tuple(line.strip() for line in text.splitlines() if line.strip())
    attachments = []
    for name, allow_binary in [*((n, False) for n in args.attach),
                               *((n, True) for n in args.attach_binary)]:
        try:
            data = Path(name).expanduser().read_bytes()
        except OSError as exc:
            raise ConfigError(f"Cannot read the attachment {name}: {exc.strerror or exc}.") from exc
        # refuse a binary file now, before probes run on the hosts
        check_attachment(name, data, allow_binary=allow_binary)
        attachments.append(Attachment(Path(name).name, data, allow_binary=allow_binary))
    logs = []
    for path in args.log:
        try:
            logs.extend(log_excerpts(path, lines=args.log_lines, context=args.log_context))
        except log_error as exc:
            raise ConfigError(str(exc)) from exc
    hosts, findings, journal = [], [], []
    for target in args.host:
        print(f"Collecting probes on {target}...", file=sys.stderr)
        env, snap = collect_host(target, probes=args.probes,
                                 accept_new_host_key=args.accept_new_host_key)
        hosts.append(env)
        findings.extend(snap.findings)
        for r in snap.results:
            journal.append(JournalEntry(time=snap.started, kind="probe", host=env.name,
                                        text=f"probe {r.probe}: " + ("ok" if r.ok else f"error: {r.error}"),
                                        exit_status=r.exit_status))
    bundle = Bundle(title=args.title, summary=args.summary, severity=args.severity,
                    created=datetime.now(UTC), hosts=tuple(hosts), steps=steps,
                    expected=args.expected, actual=args.actual, findings=tuple(findings),
                    logs=tuple(logs), journal=tuple(journal), attachments=tuple(attachments),
                    case=args.case)
    # saved names, aliases and ~/.ssh/config aliases are tokenised wherever they appear
    hosts_known = known_hosts(args.host) if "host" in kinds else ()
    info = write_bundle(bundle, output, options=RedactOptions(obfuscate=kinds,
                                                              keywords=tuple(args.keyword),
                                                              hosts=hosts_known))
    print(f"Bundle written: {info.path} ({info.size:,} bytes, {len(info.files)} files)", file=out)
    from diagkit.cli_cases import journal_to_active

    journal_to_active(lambda desk, case: desk.record_bundle(case, info.path))
    if info.redaction_summary:
        counts = ", ".join(f"{rule} {n}" for rule, n in sorted(info.redaction_summary.items()))
        print(f"Redacted: {counts}", file=out)
    else:
        print("Redacted: nothing found to mask", file=out)
    for path in info.not_redacted:
        print(f"NOT redacted: {path} (binary, included as is with --attach-binary); check it "
              "before sharing the bundle", file=out)
    return EXIT_OK


# --- output helpers ------------------------------------------------------------------------------


def _dump(value: Any, out: TextIO) -> None:
    json.dump(value, out, indent=2, ensure_ascii=False)
    out.write("\n")


def _width() -> int:
    return max(60, shutil.get_terminal_size((120, 24)).columns)


def _wrap(text: str, width: int, indent: str) -> str:
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO, *,
           indent: str = "", wrap_last: bool = False) -> None:
    # One line per row: a newline (or any control character) inside a cell is shown escaped.
    cells = [[one_line(c) for c in header]] + [[one_line(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    total = _width()
    lead = len(indent) + sum(w + 2 for w in widths[:-1])
    for row in cells:
        head = indent + "".join(c.ljust(w + 2) for c, w in zip(row[:-1], widths[:-1], strict=True))
        last = row[-1]
        if wrap_last and lead + len(last) > total and total - lead > 20:
            lines = textwrap.wrap(last, total - lead) or [""]
            print(head + lines[0], file=out)
            for more in lines[1:]:
                print(" " * lead + more, file=out)
        else:
            print((head + last).rstrip(), file=out)
