"""``diagkit timeline (--case N | HOST)``: one ordered list of what happened, and what came first.

Text: one event per line (time, kind, host, id, title and where its evidence is). ``--json``:
``{"schema": "diagkit.timeline/1", "case": N, "host": ..., "since": ..., "until": ...,
"warnings": [...], "events": [{"id", "time", "host", "kind", "title", "detail", "topic", "ref",
"evidence": {...}}]}``; with ``--before ID`` also ``"symptom"`` and ``"came_first": [{"event",
"before_seconds", "score", "reason"}]`` (docs/cli-json.md). Times in the one ``--since`` grammar
(:mod:`diagkit.timegrammar`).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import TextIO

from diagkit.cli.output import dump, table
from diagkit.timegrammar import HELP as TIME_HELP
from diagkit.timegrammar import TimeSyntaxError, parse_moment


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "timeline", help="one timeline of a case or a host; what came first before a symptom",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Probe runs and their findings (first seen, worse, cleared), alerts and "
                    "forecasts, log incidents and new messages, changes on the host, commands, "
                    "notes and status changes, in time order.",
        epilog="examples:\n"
               "  diagkit timeline --case 12\n"
               "  diagkit timeline db1 --since -6h --kind change,finding,alert\n"
               "  diagkit timeline --case 12 --log /var/log/app.log --before s3f9c2d1 --window 2h\n"
               "Each event's id is in the 'event' column; --before lists what came first before "
               "that event on the same host: candidates that may be related, not proven causes.")
    p.add_argument("host", nargs="?", metavar="HOST",
                   help="a host's timeline (what its cases journaled, its monitoring history)")
    p.add_argument("--case", type=int, metavar="N",
                   help="a case's timeline (default: the active case when no HOST is given)")
    p.add_argument("--since", metavar="T", help=f"from this time: {TIME_HELP}")
    p.add_argument("--until", metavar="T", help="up to this time (same forms)")
    p.add_argument("--kind", action="append", default=[], metavar="K[,K]",
                   help="only these kinds: change, finding, alert, forecast, incident, signature, "
                        "probe, command, note, status, log, case")
    p.add_argument("--log", action="append", default=[], metavar="FILE",
                   help="also the incidents and new messages of this log (repeatable)")
    p.add_argument("--before", metavar="EVENT_ID",
                   help="what came first before this event on the same host")
    p.add_argument("--window", default="2h", metavar="DURATION",
                   help="how far before the event --before looks (default 2h)")
    p.add_argument("--limit", type=int, default=20, metavar="N",
                   help="--before: at most N candidates (default 20)")
    p.add_argument("--no-history", action="store_true",
                   help="leave out the alerts replayed from the monitoring history")
    p.add_argument("--json", action="store_true", help="machine-readable (diagkit.timeline/1)")
    p.set_defaults(handler=run)


def _time(text: str | None, option: str, now: datetime) -> datetime | None:
    from diagkit.timeline import TimelineError

    if not text:
        return None
    try:
        moment = parse_moment(text, now=now)
    except TimeSyntaxError as exc:
        raise TimelineError(f"{option}: {exc}") from None
    return moment.astimezone() if moment.tzinfo is None else moment  # naive: local time


def run(args: argparse.Namespace, out: TextIO) -> int:
    import sys
    from pathlib import Path

    from diagkit.cli.common import saved_active_case
    from diagkit.store.select import open_store
    from diagkit.timeline import (
        TimelineError,
        came_first,
        case_timeline,
        host_timeline,
        open_history,
    )
    from diagkit.units import parse_duration

    if args.host and args.case is not None:
        raise TimelineError("Give either --case N or HOST, not both.")
    case_id = args.case
    if not args.host and case_id is None:
        case_id = saved_active_case()
        if case_id is None:
            raise TimelineError("Whose timeline? Give --case N or a HOST (or make a case active "
                                "with 'diagkit case use N').")
    now = datetime.now().astimezone()
    since, until = _time(args.since, "--since", now), _time(args.until, "--until", now)
    if since and until and since > until:
        raise TimelineError(f"--since ({since.isoformat()}) is after --until "
                            f"({until.isoformat()}); give them in that order.")
    kinds = [k for spec in args.kind for k in spec.split(",")]
    for path in args.log:
        if not Path(path).exists():
            raise TimelineError(f"--log {path}: no such file; give a log file that exists here "
                                "(fetch remote logs with 'diagkit logs fetch').")
    try:
        window = timedelta(seconds=parse_duration(args.window))
    except ValueError as exc:
        raise TimelineError(f"--window: {exc}") from None
    if args.limit < 1:
        raise TimelineError("--limit must be 1 or more.")
    samples = None if args.no_history else open_history()
    try:
        with open_store() as store:
            if case_id is not None:
                tl = case_timeline(store, case_id, samples=samples, logs=args.log, since=since,
                                   until=until, kinds=() if args.before else kinds, now=now)
            else:
                tl = host_timeline(args.host, store=store, samples=samples, logs=args.log,
                                   since=since, until=until,
                                   kinds=() if args.before else kinds, now=now)
    finally:
        if samples is not None:
            samples.close()
    for warning in tl.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.before:
        symptom = tl.event(args.before)
        ranked = came_first(tl.events, symptom, window=window, limit=args.limit)
        if kinds:
            ranked = [a for a in ranked if a.event.kind in kinds]
        if args.json:
            doc = tl.to_json()
            doc.update(symptom=symptom.to_dict(), window_seconds=window.total_seconds(),
                       came_first=[a.to_dict() for a in ranked])
            doc["events"] = [a.event.to_dict() for a in ranked]
            dump(doc, out)
            return 0
        print(f"Came first before {symptom.kind} {symptom.id} at {_local(symptom.time)}"
              f"{' on ' + symptom.host if symptom.host else ''}: {symptom.text}", file=out)
        print(f"(events on the same host in the {args.window} before it, most likely first; "
              "they may be related, nothing here is proven)", file=out)
        if not ranked:
            print("  nothing in that window", file=out)
            return 0
        table(("#", "time", "kind", "event", "what came first"),
              [(n, _local(a.event.time), a.event.kind, a.event.id,
                f"{a.event.text} - {a.reason} [{_ref(a.event)}]")
               for n, a in enumerate(ranked, 1)], out, indent="  ", wrap_last=True)
        return 0
    if args.json:
        dump(tl.to_json(), out)
        return 0
    scope = f"case {tl.case_id}" if tl.case_id is not None else f"host {tl.host}"
    print(f"Timeline of {scope}: {len(tl.events)} event(s)", file=out)
    table(("time", "kind", "host", "event", "what"),
          [(_local(e.time), e.kind, e.host or "-", e.id, f"{e.text} [{_ref(e)}]")
           for e in tl.events], out, wrap_last=True)
    return 0


def _local(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _ref(event: object) -> str:
    ref = getattr(event, "ref", "")
    evidence = getattr(event, "evidence", None)
    return str(ref or (evidence.label() if evidence is not None else ""))

