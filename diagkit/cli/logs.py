"""``diagkit logs``: log files offline: filter and print, stats, signatures, histogram,
incidents.

``--json`` output is documented in ``docs/logs-json.md``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from diagkit.cli.common import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from diagkit.cli.output import dump, table, terminal_width
from diagkit.errors import CommandTimeout, LogFormatError, RemoteFileError
from diagkit.timegrammar import HELP as TIME_HELP

JSON_SCHEMA_LOG_RECORDS = "diagkit.log-records/1"
JSON_SCHEMA_LOG_STATS = "diagkit.log-stats/1"
JSON_SCHEMA_LOG_SIGNATURES = "diagkit.log-signatures/1"
JSON_SCHEMA_LOG_HISTOGRAM = "diagkit.log-histogram/1"
LOG_ACTIONS = ("stats", "signatures", "histogram", "incidents", "fetch")


_FILTERS = frozenset({"show", "stats", "signatures", "histogram"})
# HOST:PATH inputs are fetched first (``diagkit logs web1:/srv/app.log``), so these apply to all.
_REMOTE = _FILTERS | {"fetch"}


def _size(text: str) -> int:
    from diagkit.units import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None

# (flags, argparse keywords, the actions the option applies to): the one table the logs parser
# and each action's own --help are built from
_LOG_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any], frozenset[str]]] = [
    (("--format",), {"metavar": "NAME", "help": "log format (default: detected from the file)"},
     _FILTERS | {"incidents"}),
    (("--level",), {"metavar": "LEVEL", "help": "this level and worse (e.g. warning)"}, _FILTERS),
    (("--since",), {"metavar": "T", "help": f"from this time: {TIME_HELP}"}, _FILTERS),
    (("--until",), {"metavar": "T", "help": "up to this time (inclusive; same forms as --since)"},
     _FILTERS),
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
                    "help": "at most N records (show), signatures (signatures) or incidents "
                            "(incidents, default 10: the highest scores)"},
     frozenset({"show", "signatures", "incidents"})),
    (("--json",), {"action": "store_true", "help": "machine-readable (docs/logs-json.md)"},
     _FILTERS | {"incidents"}),
    (("--top",), {"type": int, "default": 20, "metavar": "N",
                  "help": "how many signatures (default 20)"}, frozenset({"signatures"})),
    (("--per-record",), {"action": "store_true",
                         "help": "also print each record's signature id"},
     frozenset({"signatures"})),
    (("--max-size",), {"type": _size, "default": None, "metavar": "SIZE",
                       "help": "HOST:PATH: refuse a remote file bigger than this, e.g. 200M "
                               "(default 2G; 0: no cap)"}, _REMOTE),
    (("--restart",), {"action": "store_true",
                      "help": "HOST:PATH: fetch from the start, not resuming an interrupted "
                              "fetch"}, _REMOTE),
    (("--accept-new-host-key",), {"action": "store_true",
                                  "help": "HOST:PATH: trust a host key seen for the first time "
                                          "(a changed key is refused)"}, _REMOTE),
    (("--bucket",), {"default": "", "metavar": "SIZE",
                     "help": "bucket size: 30s, 1m, 1h, 1d (default: about 40 bars over the "
                             "time span)"}, frozenset({"histogram"})),
]

_INPUTS = ("FILE may be a log file (plain, .gz, .bz2 or .xz), a folder (every log in it), a "
           "base name such as /var/log/syslog (its rotations syslog.1, syslog.2.gz... open as "
           "one log), '-' for standard input, a pipe such as <(journalctl -o json) or a FIFO, "
           "or HOST:/PATH, a file on a saved or reachable host: fetched into the cache first "
           "(SFTP; an interrupted fetch resumes; see diagkit logs fetch --help). "
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
    "incidents": (
        ("Find the windows where the logs change character, against their own baseline: a "
         "signature far more frequent than usual, signatures never seen before arriving "
         "together, the error rate jumping; per host and source. One line per incident (start, "
         "end, hosts, score, a summary such as \"412 × 'Failed password for root from <IP> "
         "...' on host web1 in 6 min (usual 2/h)\"), then indented the warnings and new "
         "signatures of the same hosts or sources in the 30 minutes before it. At most --limit "
         "incidents (default 10), the highest scores, in time order."),
        ("examples:\n"
         "  diagkit logs incidents /var/log/syslog\n"
         "  diagkit logs incidents web1/syslog web2/syslog db1/postgresql.log --json\n"
         "  diagkit logs incidents /var/log/auth.log --limit 3")),
    "histogram": (
        ("Count the (matching) records per time bucket and draw one bar per bucket: '#' for "
         "records, '!' for those at warning or worse. Records without a timestamp are left out."),
        ("examples:\n"
         "  diagkit logs histogram /var/log/syslog --bucket 1h\n"
         "  diagkit logs histogram app.log web.log --level warning --since -1d\n"
         "  diagkit logs histogram app.log --bucket 5m --json")),
    "fetch": (
        ("Copy files from hosts into the local cache (SFTP, else cat over SSH) and print where "
         "each went. A fetch that was interrupted (Ctrl+C, a dropped connection) resumes where "
         "it stopped the next time; --restart starts afresh. Files bigger than --max-size "
         "(default 2G) are refused before anything is copied. 'diagkit logs HOST:PATH' fetches "
         "and opens a file in one step."),
        ("examples:\n"
         "  diagkit logs fetch web1:/srv/shop/logs/app.log\n"
         "  diagkit logs fetch root@10.0.0.5:/var/log/syslog --max-size 500M\n"
         "  diagkit logs web1:/srv/shop/logs/app.log --level error")),
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lg = sub.add_parser(
        "logs", help="inspect log files offline (filter, stats, signatures, histogram, "
                     "incidents)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="diagkit logs FILE... [filters]  |  diagkit logs "
                    "stats|signatures|histogram|incidents FILE... [options]\n\n" + textwrap.fill(_INPUTS, 88)
                    + "\n\nEach action explains itself: diagkit logs stats --help")
    lg.add_argument("words", nargs="+", metavar="[ACTION] FILE",
                    help="optional action (stats, signatures, histogram, incidents), then files "
                         "or folders")
    for flags, kwargs, _ in _LOG_OPTIONS:
        lg.add_argument(*flags, **kwargs)
    lg.set_defaults(handler=_logs)


def _logs_action_parser(action: str) -> argparse.ArgumentParser:
    """What ``diagkit logs ACTION --help`` shows: what ACTION prints, its options, examples."""
    what, examples = _LOG_ACTION_HELP[action]
    ap = argparse.ArgumentParser(
        prog=f"diagkit logs {action}", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(what, 88) + (
            "" if action == "fetch" else "\n\n" + textwrap.fill(_INPUTS, 88)),
        epilog=examples)
    ap.add_argument("files", nargs="+", metavar="HOST:PATH" if action == "fetch" else "FILE",
                    help="files on hosts" if action == "fetch" else
                    "files, folders, '-', pipes or HOST:/PATH")
    for flags, kwargs, applies in _LOG_OPTIONS:
        if action in applies:
            ap.add_argument(*flags, **kwargs)
    return ap


def parse_words(parser: argparse.ArgumentParser, words: list[str],
                out: TextIO) -> argparse.Namespace | None:
    """Parse ``diagkit logs ...`` (``words`` start with ``logs``) with the top-level ``parser``.

    ``diagkit logs ACTION --help`` prints that action's help (None: done); options may come
    before, between or after the files (``logs stats --json FILE``)."""
    if len(words) > 2 and words[1] in LOG_ACTIONS and ({"-h", "--help"} & set(words[2:])):
        _logs_action_parser(words[1]).print_help(out)
        return None
    # options may sit between the files: the words argparse left over are more files
    args, extra = parser.parse_known_args(words)
    stray = [w for w in extra if w.startswith("-") and w != "-"]
    if stray:
        parser.error(f"unrecognized arguments: {' '.join(stray)}")
    args.words = list(args.words) + extra
    return args


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
    words = list(args.words)
    action = "show"
    if words[0] in LOG_ACTIONS and not (len(words) == 1 and Path(words[0]).exists()):
        action = words.pop(0)
    if not words:
        print(f"diagkit: 'diagkit logs {action}' needs at least one file or folder "
              f"(or '-' for standard input). See: diagkit logs {action} --help", file=sys.stderr)
        return EXIT_USAGE
    try:
        if action == "fetch":
            return _fetch_all(words, args, out)
        # HOST:PATH words: fetched into the cache, then opened like any local file.
        words = [str(_fetch_one(w, args)) if _remote(w) else w for w in words]
    except RemoteFileError as exc:  # the host answered: the file is missing, denied, too big
        print(f"diagkit: {exc}", file=sys.stderr)
        return EXIT_FAILED
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
        elif action == "incidents":
            status = _logs_incidents(logs, query, args, out)
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


def _remote(word: str) -> tuple[str, str] | None:
    """(host, path) when ``word`` is HOST:/PATH and no local file of that name exists."""
    from diagkit.logs.fetch import split_remote

    return None if Path(word).exists() else split_remote(word)


def _fetch_all(words: list[str], args: argparse.Namespace, out: TextIO) -> int:
    bad = [w for w in words if not _remote(w)]
    if bad:
        print(f"diagkit: 'diagkit logs fetch' takes HOST:/PATH, e.g. web1:/var/log/syslog; "
              f"not {bad[0]!r}.", file=sys.stderr)
        return EXIT_USAGE
    for word in words:
        local = _fetch_one(word, args)
        print(f"{word} -> {local}", file=out)
    return EXIT_OK


def _fetch_one(word: str, args: argparse.Namespace) -> Path:
    """Fetch HOST:PATH into the cache (resuming a part file left by an interrupted fetch),
    progress on stderr; returns the local path."""
    from diagkit import session
    from diagkit.hosts import HostStore
    from diagkit.logs.fetch import DEFAULT_MAX_BYTES, cache_path, fetch
    from diagkit.units import human_bytes

    found = _remote(word)
    assert found is not None
    host, path = found
    limit = DEFAULT_MAX_BYTES if args.max_size is None else (args.max_size or None)
    tty = sys.stderr.isatty()
    shown = {"at": 0.0}

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if tty and (now - shown["at"] >= 0.2 or done >= total):
            shown["at"] = now
            of = f" of {human_bytes(total)} ({100 * done / total:.0f} %)" if total else ""
            print(f"\rFetching {word}: {human_bytes(done)}{of}   ", end="", file=sys.stderr,
                  flush=True)

    ref = session.resolve(host, HostStore())
    with session.connect(ref, accept_new_host_key=args.accept_new_host_key) as transport:
        part = cache_path(transport.host, path).with_name(f".{Path(path).name}.part")
        if part.exists() and not args.restart:
            print(f"Resuming {word} from {human_bytes(part.stat().st_size)} (an earlier fetch "
                  "was interrupted; --restart starts afresh).", file=sys.stderr)
        # Ctrl+C stops the copy between blocks (cancel), never inside paramiko, whose locks a
        # KeyboardInterrupt can leave held (the process then hangs on exit).
        cancel = threading.Event()
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, lambda *_: cancel.set()) if main_thread else None
        try:
            local = fetch(transport, path, progress=progress, cancel=cancel,
                          resume=not args.restart, max_bytes=limit)
        except CommandTimeout as exc:
            if not cancel.is_set():
                raise
            print(f"\ndiagkit: {exc}", file=sys.stderr)
            raise KeyboardInterrupt from None
        finally:
            if main_thread:
                signal.signal(signal.SIGINT, previous)
            if tty:
                print(file=sys.stderr)
    print(f"Fetched {word} ({human_bytes(local.stat().st_size)}) into {local}", file=sys.stderr)
    return local


def _broken_pipe() -> int:
    """The reader went away (``diagkit logs FILE | head -1``): stop quietly, like grep. The
    standard output is pointed at the null device so the exit flush does not complain."""
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
        dump({"schema": JSON_SCHEMA_LOG_RECORDS, "files": [_log_file_info(g) for g in logs],
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
        dump({"schema": JSON_SCHEMA_LOG_STATS, "files": rows}, out)
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


def _logs_incidents(logs: list[Any], query: Any, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.logs.incidents import Settings, find_incidents, format_text, to_json
    from diagkit.logs.model import Query

    if query != Query():
        print("diagkit: 'logs incidents' reads whole logs against their own baseline: filters "
              "(--level, --since, --grep...) do not apply. Leave them out, or cut the log "
              "first with 'diagkit logs FILE --since ... > part.log'.", file=sys.stderr)
        return EXIT_USAGE
    found = find_incidents(list(logs), settings=Settings(limit=args.limit or 10))
    for warning in found.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        dump(to_json(found), out)
    else:
        for line in format_text(found):
            print(line, file=out)
    return EXIT_OK


def _logs_signatures(logs: list[Any], query: Any, args: argparse.Namespace, out: TextIO) -> int:
    from dataclasses import replace

    from diagkit.logs.signatures import mine

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
        dump(doc, out)
        return EXIT_OK
    print(f"{len(where):,} records, {len(found):,} signatures; top {len(top)}:", file=out)
    rows = [(s.id, f"{s.count:,}", s.worst_level.label if s.levels else "",
             s.first_seen.strftime("%Y-%m-%d %H:%M:%S") if s.first_seen else "", s.template)
            for s in top]
    table(("ID", "COUNT", "WORST", "FIRST SEEN", "TEMPLATE"), rows, out, wrap_last=True)
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
        dump({"schema": JSON_SCHEMA_LOG_HISTOGRAM, "bucket_seconds": bucket.total_seconds(),
               "files": [_log_file_info(g) for g in logs],
               "buckets": [{"start": s.isoformat(), "total": totals[i],
                            "levels": {lv.label: c[i] for lv, c in h.counts.items() if c[i]}}
                           for i, s in enumerate(h.starts)]}, out)
        return EXIT_OK
    if not h.starts:
        print("No records with a timestamp to count.", file=out)
        return EXIT_OK
    from diagkit.logs.model import Level

    width = max(10, terminal_width() - 40)
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

