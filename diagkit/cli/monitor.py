"""``diagkit watch`` (live sampling of many hosts, alerts, history) and ``diagkit history``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from diagkit.cli.common import journal_to_active, workspace
from diagkit.errors import ConfigError
from diagkit.textsafe import one_line
from diagkit.timegrammar import HELP as TIME_HELP
from diagkit.timegrammar import seconds_back
from diagkit.units import parse_duration

if TYPE_CHECKING:
    from diagkit.monitor.recorder import ForecastResult, Outcome, Recorder
    from diagkit.transport.base import Transport

JSON_SCHEMA_WATCH = "diagkit.watch/1"
JSON_SCHEMA_HISTORY = "diagkit.history/1"

# What one watch line shows, in order: (metric, label, format).
_LINE = (("cpu.usage", "cpu", "{:.0f}%"), ("load.per_core", "load/core", "{:.2f}"),
         ("mem.used", "mem", "{:.0f}%"), ("swap.used", "swap", "{:.0f}%"),
         ("swap.in", "swap-in", "{:.0f}/s"), ("procs.count", "procs", "{:.0f}"))


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds_back(text: str) -> float:
    try:
        return seconds_back(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = sub.add_parser(
        "watch", help="sample hosts every few seconds: live values, alerts, history",
        description="Watch one or many hosts. A host that drops is marked down and retried "
                    "with backoff; the others go on. Samples go to the history "
                    "(see 'diagkit history') unless --no-history. Ctrl+C stops.")
    w.add_argument("hosts", nargs="*", metavar="HOST", help="saved name, user@host, alias or "
                   "'local' (default: local)")
    w.add_argument("--interval", type=_duration, default=5.0, metavar="DURATION",
                   help="time between samples (default 5s)")
    w.add_argument("--for", dest="duration", type=_duration, metavar="DURATION",
                   help="stop after this long (default: until Ctrl+C)")
    w.add_argument("--csv", metavar="FILE", help="also write every value to this CSV file")
    w.add_argument("--json", action="store_true", help="one JSON object per event (JSON lines)")
    w.add_argument("--no-history", action="store_true", help="do not store samples")
    w.add_argument("--probe", "-p", action="append", dest="probes", metavar="NAME",
                   help="also sample this probe's metrics each time, e.g. a user probe "
                        "(repeatable; 'diagkit probes' lists them)")
    w.add_argument("--journal", action="store_true",
                   help="journal alerts (and forecasts at the end) into the active case "
                        "('diagkit case use N')")
    w.add_argument("--accept-new-host-key", action="store_true",
                   help="trust host keys seen for the first time (a changed key is refused)")
    w.set_defaults(handler=watch)

    h = sub.add_parser("history", help="show or export a host's stored monitoring history")
    h.add_argument("host", nargs="?", help="host name as watched (omit to list hosts)")
    h.add_argument("--metric", "-m", action="append", metavar="NAME",
                   help="metric or glob, e.g. cpu.usage or 'disk.used:*' (repeatable)")
    h.add_argument("--since", type=_seconds_back, default=6 * 3600.0, metavar="T",
                   help=f"how far back (default 6h): {TIME_HELP}")
    h.add_argument("--csv", metavar="FILE", help="write the values to a CSV file")
    h.add_argument("--json", action="store_true")
    h.set_defaults(handler=history)


def _clock(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%H:%M:%S")


def _summary_line(values: dict[str, float]) -> str:
    parts = [f"{label} {fmt.format(values[k])}" for k, label, fmt in _LINE if k in values]
    disks = sorted((k.split(":", 1)[1], v) for k, v in values.items()
                   if k.startswith("disk.used:"))
    worst = max(disks, key=lambda d: d[1], default=None)
    if worst is not None:
        parts.append(f"disk {worst[0]} {worst[1]:.0f}%")
    return "  ".join(parts) or "(first sample: rates follow)"


def watch(args: argparse.Namespace, out: TextIO) -> int:
    import csv
    import threading

    from diagkit import session
    from diagkit.hosts import HostStore
    from diagkit.monitor.recorder import Recorder
    from diagkit.monitor.thresholds import AlertTracker, load_thresholds
    from diagkit.monitor.watch import Watcher

    store = HostStore()
    refs = {r.label: r for r in (session.resolve(h, store) for h in (args.hosts or ["local"]))}
    thresholds = load_thresholds()  # a broken thresholds.json stops here, before anything runs
    ws = workspace()
    samples = None if args.no_history else ws.samples()
    csv_file = open(args.csv, "w", newline="", encoding="utf-8") if args.csv else None  # noqa: SIM115
    writer = csv.writer(csv_file) if csv_file else None
    if writer:
        writer.writerow(["time", "host", "metric", "value"])
    out_lock = threading.Lock()

    def show(o: Outcome) -> None:
        e = o.event
        with out_lock:
            (_print_event_json if args.json else _print_event)(o, out)
            if args.journal:
                raised = [c.alert for c in o.alerts if c.alert.active and c.alert.level > c.previous]
                if raised:
                    journal_to_active(lambda desk, case: [desk.record_alert(case, a) for a in raised])
            if writer and e.kind == "sample":
                stamp = datetime.fromtimestamp(e.time, UTC).isoformat(timespec="seconds")
                writer.writerows([stamp, e.host, k, f"{v:.6g}"] for k, v in sorted(e.values.items()))
            out.flush()

    groups = {r.label: [r.saved.group] for r in refs.values() if r.saved and r.saved.group}
    tracker = AlertTracker(thresholds, groups=groups)
    recorder = Recorder(tracker, samples=samples, listener=show)

    def connect(name: str) -> Transport:
        return session.connect(refs[name], accept_new_host_key=args.accept_new_host_key)

    probes = []
    if args.probes:
        from diagkit.probes.registry import all_probes, select

        probes = select(all_probes()[0], args.probes)
    watcher = Watcher(list(refs), interval=args.interval, on_event=recorder, connect=connect,
                      probes=probes)
    end = time.monotonic() + args.duration if args.duration else None
    interrupted = False
    watcher.start()
    try:
        while end is None or time.monotonic() < end:
            time.sleep(0.2 if end is None else max(0.0, min(0.2, end - time.monotonic())))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        watcher.stop()
        recorder.flush()
        if csv_file:
            csv_file.close()
    states = watcher.states()
    _print_end(recorder, list(refs), states, args, out)
    ws.close()
    if interrupted:
        return 0
    return 3 if all(s.last_sample is None for s in states.values()) else 0


def _print_event_json(o: Outcome, out: TextIO) -> None:
    """One JSON line per event, one more per alert that changed (docs/cli-json.md)."""
    e = o.event
    rec: dict[str, Any] = {"schema": JSON_SCHEMA_WATCH, "time": e.time, "host": e.host,
                           "event": e.kind}
    if e.kind == "sample":
        rec["values"] = dict(e.values)
    if e.error:
        rec["error"] = e.error
    print(json.dumps(rec), file=out)
    for c in o.alerts:
        print(json.dumps({"schema": JSON_SCHEMA_WATCH, "time": e.time,
                          "host": e.host, "event": "alert",
                          "metric": c.alert.metric, "subject": c.alert.subject,
                          "level": c.alert.level.label, "previous": c.previous.label,
                          "message": c.alert.describe()}), file=out)


def _print_event(o: Outcome, out: TextIO) -> None:
    e = o.event
    if e.kind == "sample":
        print(f"{_clock(e.time)}  {e.host:<16} {_summary_line(dict(e.values))}", file=out)
    elif e.kind == "down":
        print(f"{_clock(e.time)}  DOWN   {e.host}: {one_line(e.error)}", file=out)
    else:
        print(f"{_clock(e.time)}  UP     {e.host}", file=out)
    for c in o.alerts:
        tag = "CLEAR " if not c.alert.active else "ALERT "
        print(f"{_clock(e.time)}  {tag} {c.alert.describe()}", file=out)


def _print_end(recorder: Recorder, hosts: list[str], states: dict[str, Any],
               args: argparse.Namespace, out: TextIO) -> None:
    """What is left after a watch: active alerts, forecasts (journaled with --journal), and
    the hosts that were down."""
    active = recorder.tracker.active()
    if not args.json:
        print(f"-- watched {len(hosts)} host(s); {len(active)} alert(s) active", file=out)
        for a in active:
            print(f"   {a.describe()}", file=out)
    for name in hosts:
        # Forecasts in every output mode, and journaled with --journal in every mode too.
        forecasts = recorder.forecast_results(name)
        for r in forecasts:
            f = r.finding
            if args.json:
                print(json.dumps({"schema": JSON_SCHEMA_WATCH, "time": time.time(),
                                  "event": "forecast", **r.to_dict()}), file=out)
            else:
                print(f"   {f.severity.label.upper()}: {name}: {f.title}. {f.hint}", file=out)
        if args.journal and forecasts:
            def record(desk: Any, case: int, n: str = name,
                       fs: list[ForecastResult] = forecasts) -> None:
                for r in fs:
                    desk.record_finding(case, n, r.finding)

            journal_to_active(record)
        st = states[name]
        if st.error and not args.json:
            print(f"   {name} was down: {one_line(st.error)}", file=out)


def history(args: argparse.Namespace, out: TextIO) -> int:
    import fnmatch

    with workspace() as ws:
        store = ws.samples()
        if not args.host:
            hosts = store.hosts()
            if args.json:
                print(json.dumps({"schema": JSON_SCHEMA_HISTORY, "hosts": hosts}), file=out)
            elif not hosts:
                print("No monitoring history yet. Start one with 'diagkit watch HOST'.", file=out)
            else:
                print("\n".join(hosts), file=out)
            return 0
        known = store.metrics(args.host)
        if not known:
            raise ConfigError(f"No history for {args.host!r}. Hosts with history: "
                              f"{', '.join(store.hosts()) or 'none'}; record some with "
                              f"'diagkit watch {args.host}'.")
        patterns = args.metric or ["*"]
        metrics = [m for m in known if any(fnmatch.fnmatchcase(m, p) for p in patterns)]
        if not metrics:
            raise ConfigError(f"No metric of {args.host} matches {', '.join(patterns)}. "
                              f"It has: {', '.join(known)}.")
        now = time.time()
        data = [store.read(args.host, m, since=now - args.since, now=now) for m in metrics]
    if args.csv:
        from diagkit.monitor.export import write_csv

        rows = write_csv(data, args.csv)
        print(f"Wrote {rows} rows to {args.csv}", file=sys.stderr)
        return 0
    if args.json:
        print(json.dumps({"schema": JSON_SCHEMA_HISTORY, "host": args.host, "series": [
            {"metric": d.metric, "resolution": d.resolution, "t": d.t.tolist(),
             "avg": d.avg.tolist(), "min": d.min.tolist(), "max": d.max.tolist()}
            for d in data]}), file=out)
        return 0
    from diagkit.units import human_duration

    print(f"{args.host}: last {human_duration(args.since, coarse=True)}", file=out)
    mw = max(28, *(len(d.metric) for d in data))
    print(f"{'metric':<{mw}} {'res':>4} {'points':>7} {'last':>10} {'min':>10} {'avg':>10} "
          f"{'max':>10}", file=out)
    for d in data:
        if not len(d):
            print(f"{d.metric:<{mw}} {d.resolution:>4} {0:>7}   (no samples in this window)",
                  file=out)
            continue
        avg = float(d.avg.mean())  # of the points shown (buckets weigh the same)
        print(f"{d.metric:<{mw}} {d.resolution:>4} {len(d):>7} {d.avg[-1]:>10.4g} "
              f"{d.min.min():>10.4g} {avg:>10.4g} {d.max.max():>10.4g}", file=out)
    return 0
