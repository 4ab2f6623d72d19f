"""``diagkit probes`` (list them) and ``diagkit probe`` (run them on hosts)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

from diagkit import __version__
from diagkit.cli.common import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, journal_to_active
from diagkit.cli.output import dump, table, terminal_width, wrap
from diagkit.textsafe import one_line

if TYPE_CHECKING:
    from diagkit import session
    from diagkit.kb.match import KnownIssue
    from diagkit.probes.runner import HostSnapshot
    from diagkit.transport.base import Transport

JSON_SCHEMA_PROBE = "diagkit.probe-run/1"
JSON_SCHEMA_PROBES = "diagkit.probe-list/1"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pl = sub.add_parser("probes", help="list the probes")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(handler=_list_probes)

    pr = sub.add_parser("probe", help="run probes on hosts (default: this machine)")
    pr.add_argument("hosts", nargs="*", metavar="HOST",
                    help="saved name, user@host[:port], alias or 'local'")
    pr.add_argument("--probe", "-p", action="append", dest="probes", metavar="NAME",
                    help="run only this probe (repeatable)")
    pr.add_argument("--json", action="store_true", help="machine-readable output (docs/cli-json.md)")
    pr.add_argument("--raw", action="store_true", help="also print each probe's raw output")
    pr.add_argument("--accept-new-host-key", action="store_true",
                    help="trust the key of a host with nothing on record (a changed key, or a key "
                         "of another type than the one on record, is always refused)")
    pr.set_defaults(handler=_probe)


def _list_probes(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.probes.registry import all_probes

    probes, problems = all_probes()
    if args.json:
        dump({
            "schema": JSON_SCHEMA_PROBES,
            "probes": [{"name": p.name, "title": p.title, "description": p.description,
                        "timeout": p.timeout, "source": p.source} for p in probes],
            "problems": problems,
        }, out)
        return EXIT_OK
    table(("NAME", "TITLE", "SOURCE", "DESCRIPTION"),
           [(p.name, p.title, p.source, p.description) for p in probes], out, wrap_last=True)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    return EXIT_OK


def _probe(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit import session
    from diagkit.probes.registry import all_probes, select

    probes, problems = all_probes()
    if args.probes:
        probes = select(probes, args.probes)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    from diagkit.hosts import HostStore

    store = HostStore()
    refs = [session.resolve(h, store) for h in (args.hosts or ["local"])]

    def connect(ref: session.HostRef) -> Transport:
        return session.connect(ref, accept_new_host_key=args.accept_new_host_key)

    snapshots = _run_with_app_logs(refs, probes, connect)
    journal_to_active(lambda desk, case: [desk.record_probe_run(case, s) for s in snapshots])
    if args.json:
        dump({"schema": JSON_SCHEMA_PROBE, "diagkit_version": __version__,
               "hosts": [s.to_dict() for s in snapshots]}, out)
    else:
        for snap, known in zip(snapshots, _known_issues(snapshots), strict=True):
            _print_snapshot(snap, out, raw=args.raw, known=known)
    if any(not s.ok for s in snapshots):
        return EXIT_UNREACHABLE
    if any(not r.ok for s in snapshots for r in s.results):
        return EXIT_FAILED
    return EXIT_OK


def _run_with_app_logs(refs: list[Any], probes: list[Any], connect: Any) -> list[HostSnapshot]:
    """Snapshots of ``refs`` in their order; a saved host's logs probe scans its (and its
    group's) application logs too, so hosts are run in groups sharing one probe list."""
    from diagkit.probes.logs import for_saved_host
    from diagkit.probes.runner import run_many

    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, ref in enumerate(refs):
        groups.setdefault(tuple(for_saved_host(probes, ref.saved)), []).append(i)
    snapshots: list[Any] = [None] * len(refs)
    for plist, members in groups.items():
        done = run_many([refs[i] for i in members], list(plist), connect, label=lambda r: r.label)
        for i, snap in zip(members, done, strict=True):
            snapshots[i] = snap
    return snapshots


def _known_issues(snapshots: list[HostSnapshot]) -> list[list[KnownIssue]]:
    """The KB articles matching each reached host's evidence. Best effort: without a knowledge
    base (a locked or unreachable store) the probe results stand, with a warning on stderr."""
    if not any(s.ok for s in snapshots):
        return [[] for _ in snapshots]
    try:
        from diagkit.kb import open_kb
        from diagkit.kb.match import evidence_from_snapshot, load_matcher
        from diagkit.store.select import open_store

        store = open_kb(open_store())  # the starter articles on first use: a new install matches
        try:
            matcher = load_matcher(store)
        finally:
            store.close()
        return [matcher.match(evidence_from_snapshot(s)) if s.ok else [] for s in snapshots]
    except Exception as exc:  # noqa: BLE001 - the probe results stand without the KB
        print(f"warning: known issues were not checked: {exc}", file=sys.stderr)
        return [[] for _ in snapshots]


def _print_evidence(snap: HostSnapshot, known: list[KnownIssue], out: TextIO, width: int) -> None:
    from diagkit.probes.evidence import key_tables, text_lines

    for issue in known:
        print(f"  Known issue: {one_line(issue.title)} ({one_line(issue.slug)})", file=out)
        if issue.reasons:
            print(wrap(f"because {issue.reasons[0]}; read it: diagkit kb show {issue.slug}",
                       width, " " * 15), file=out)
    tables = [t for r in snap.results for t in key_tables(r)]
    if tables:
        print("Evidence:", file=out)
    for t in tables:
        lines = text_lines(t, width=width, indent="  ")
        print(f"  {one_line(t.probe)}: {lines[0].lstrip()}", file=out)
        for line in lines[1:]:
            print(line, file=out)


def _print_snapshot(snap: HostSnapshot, out: TextIO, *, raw: bool = False,
                    known: list[KnownIssue] | None = None) -> None:
    from diagkit.probes.base import Severity

    sev_tag = {Severity.CRITICAL: "CRITICAL", Severity.WARNING: "WARNING", Severity.INFO: "info"}
    width = terminal_width()
    # Names and titles stay on their line (a newline in a finding title could forge the next
    # line of this output); every other character is escaped by the stream (see main()).
    print(f"== {one_line(snap.host)}  ({snap.duration:.2f} s, "
          f"{snap.started:%Y-%m-%d %H:%M:%S} UTC) ==", file=out)
    if not snap.ok:
        print(wrap(f"UNREACHABLE [{snap.error_kind}] {snap.error}", width, "  "), file=out)
        print(file=out)
        return
    findings = snap.findings
    print(f"Findings ({len(findings)}):" if findings else "Findings: none", file=out)
    for f in findings:
        print(f"  {sev_tag[f.severity]:<9} {one_line(f.probe):<10} {one_line(f.title)}",
              file=out)
        if f.detail:
            print(wrap(f.detail, width, " " * 23), file=out)
        if f.hint:
            print(wrap(f"hint: {f.hint}", width, " " * 23), file=out)
    _print_evidence(snap, known or [], out, width)
    print("Probes:", file=out)
    rows = [(r.probe, "ok" if r.ok else "ERROR", f"{r.duration:.2f}s", r.summary()) for r in snap.results]
    table(("PROBE", "STATUS", "TIME", "SUMMARY"), rows, out, indent="  ", wrap_last=True)
    for r in snap.results:
        if raw:
            print(f"--- raw output of {one_line(r.probe)} ---", file=out)
            print(r.raw.rstrip(), file=out)
    print(file=out)

