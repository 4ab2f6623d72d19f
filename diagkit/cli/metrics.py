"""``diagkit metrics``: support metrics over a period, as a table, JSON or CSV.

``--json`` prints :meth:`diagkit.metrics.MetricsReport.to_json` (``"schema":
"diagkit.metrics/1"``, see ``docs/metrics.md``); ``--csv`` the long CSV of ``to_csv``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from diagkit.cli.common import workspace
from diagkit.cli.output import dump
from diagkit.errors import ConfigError
from diagkit.timegrammar import HELP as TIME_HELP
from diagkit.units import human_duration


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("metrics", help="support metrics over a period (docs/metrics.md)")
    p.add_argument("--since", default="30d", metavar="T",
                   help=f"period start (default 30d): {TIME_HELP}")
    p.add_argument("--until", metavar="T", help="period end (default now): same forms as --since")
    p.add_argument("--engineer", help="only this engineer's cases")
    p.add_argument("--bucket", choices=("day", "week"), default="day",
                   help="series bucket for --json/--csv (default day)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="machine-readable (docs/metrics.md)")
    fmt.add_argument("--csv", action="store_true", help="section,key,metric,value rows")
    p.set_defaults(handler=run)


def _policies() -> Any:
    from diagkit.cases.desk import load_policies

    return load_policies()  # the team's sla.json, else the defaults


def _dur(value: timedelta | None) -> str:
    return "-" if value is None else human_duration(value, coarse=True)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.metrics import compute, parse_since
    now = datetime.now(UTC)
    since = parse_since(args.since, now=now)
    until = parse_since(args.until, now=now) if args.until else now
    if since >= until:
        raise ConfigError(f"--since ({since:%Y-%m-%d %H:%M}) must be before --until "
                          f"({until:%Y-%m-%d %H:%M}).")
    with workspace() as ws:
        report = compute(ws.store(), since=since, until=until, engineer=args.engineer,
                         policies=_policies(), now=now, bucket=args.bucket)
    if args.json:
        dump(report.to_json(), out)
        return 0
    if args.csv:
        out.write(report.to_csv())
        return 0
    who = f" for {args.engineer}" if args.engineer else ""
    print(f"Metrics{who}, {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC", file=out)
    print(f"  opened {report.opened}, resolved {report.resolved}, backlog {report.backlog} "
          f"({', '.join(f'{k}: {v}' for k, v in report.backlog_ageing.items())})", file=out)
    print(f"  first response: median {_dur(report.frt_median)}, p90 {_dur(report.frt_p90)} "
          f"({_cases(report.frt_count)})", file=out)
    print(f"  time to resolve: median {_dur(report.ttr_median)}, p90 {_dur(report.ttr_p90)} "
          f"({_cases(report.ttr_count)})", file=out)
    for sev, (breached, total) in report.breach_rate.items():
        fb, ft = report.breach_first_response.get(sev, (0, 0))
        rb, rt = report.breach_resolution.get(sev, (0, 0))
        print(f"  SLA {sev}: {breached}/{total} cases breached "
              f"(first response {fb}/{ft}, resolution {rb}/{rt})", file=out)
    if report.csat_share_4_5 is not None:
        dist = " ".join(f"{k}:{v}" for k, v in report.csat_distribution.items())
        print(f"  CSAT 4-5: {report.csat_share_4_5:.0%} ({dist})", file=out)
    for sig, n in report.top_signatures[:5]:
        print(f"  signature ({_cases(n)}): {sig}", file=out)
    for slug, title, n in report.top_articles[:5]:
        print(f"  KB article ({_cases(n)}): {title or slug} [{slug}]", file=out)
    if len(report.per_engineer) > 1 or not args.engineer:
        for row in report.per_engineer.values():
            print(f"  {row.engineer or '(unassigned)'}: opened {row.opened}, resolved "
                  f"{row.resolved}, backlog {row.backlog}, FRT median {_dur(row.frt_median)}, "
                  f"TTR median {_dur(row.ttr_median)}, SLA breached "
                  f"{row.breached}/{row.sla_counted}", file=out)
    return 0


def _cases(n: int) -> str:
    return "1 case" if n == 1 else f"{n} cases"
