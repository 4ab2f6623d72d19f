"""``diagkit bundle``: bug-report bundles: create (redacted), verify, open, unredact."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from diagkit.cli.common import EXIT_FAILED, EXIT_OK, help_of, journal_to_active
from diagkit.errors import ConfigError, LogFormatError
from diagkit.textsafe import printable


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bd = sub.add_parser("bundle", help="bug-report bundles: create, verify, open, unredact")
    bd.set_defaults(handler=help_of(bd))
    acts = bd.add_subparsers(dest="bundle_command", metavar="ACTION")
    cr = acts.add_parser(
        "create", help="collect probes and log excerpts into a redacted bug-report .zip",
        description="Secrets are always masked; --obfuscate also replaces addresses, names... "
                    "with consistent tokens (reverse them with 'diagkit bundle unredact'). "
                    "Log excerpts: the error records with --log-context records around them, "
                    "else the last lines; with --window, the records from START to END and "
                    "the warnings just before START; at most --log-lines lines per log.")
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
    cr.add_argument("--window", metavar="START..END",
                    help="choose log excerpts by time: the records from START to END and the "
                         "warnings just before START (times as for 'logs --since': ISO 8601, "
                         "'2024-01-02 07:20', -2h, now...; an empty END means now; write "
                         "--window=-2h..now when START begins with '-'); the report "
                         "gets a Timeline of the window")
    cr.add_argument("--product", default="",
                    help="the product the report is about (default: the case's, with --case N)")
    cr.add_argument("--product-version", default="", metavar="VERSION",
                    help="its version (default: the case's, with --case N)")
    cr.add_argument("--customer-ref", default="", metavar="REF",
                    help="the customer's reference, redacted like every other field "
                         "(default: the case's customer, with --case N)")
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
    cr.set_defaults(handler=_create)
    vf = acts.add_parser("verify", help="check every file of a bundle against its manifest")
    vf.add_argument("file")
    vf.set_defaults(handler=_verify)
    op = acts.add_parser("open", help="verify and extract a bundle; prints the report's path")
    op.add_argument("file")
    op.add_argument("--to", metavar="DIR", help="an empty or new folder (default: the data dir)")
    op.set_defaults(handler=_open)
    ur = acts.add_parser("unredact", help="turn tokens in a reply back into the real values")
    ur.add_argument("text", metavar="TEXT|FILE")
    ur.set_defaults(handler=_unredact)


def _verify(args: argparse.Namespace, out: TextIO) -> int:
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


def _open(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.reports.reader import open_bundle

    opened = open_bundle(Path(args.file).expanduser(),
                         dest=Path(args.to).expanduser() if args.to else None)
    print(f"Opened into {printable(opened.folder)}", file=out)
    print(f"Report: {printable(opened.report_html)}", file=out)
    for log in opened.logs:
        print(f"Log:    {printable(log)}", file=out)
    return EXIT_OK


def _unredact(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.reports.redact import TokenMap

    source = Path(args.text).expanduser()
    text = source.read_text(encoding="utf-8", errors="replace") if source.is_file() else args.text
    out.write(TokenMap.load().unredact(text))
    if not text.endswith("\n"):
        out.write("\n")
    return EXIT_OK


def _create(args: argparse.Namespace, out: TextIO) -> int:
    from datetime import UTC, datetime

    from diagkit.reports.bundle import check_attachment, collect_host, log_excerpts, write_bundle
    from diagkit.reports.model import Attachment, Bundle, JournalEntry
    from diagkit.reports.redact import RedactOptions, known_hosts
    from diagkit.reports.window import parse_window, window_timeline

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
    window = parse_window(args.window) if args.window else None
    case = _case_fields(args)
    logs = []
    for path in args.log:
        try:
            logs.extend(log_excerpts(path, lines=args.log_lines, context=args.log_context,
                                     window=window))
        except LogFormatError as exc:
            raise ConfigError(str(exc)) from exc
    hosts, findings, journal, runs = [], [], [], []
    for target in args.host:
        print(f"Collecting probes on {target}...", file=sys.stderr)
        env, snap = collect_host(target, probes=args.probes,
                                 accept_new_host_key=args.accept_new_host_key, window=window)
        hosts.append(env)
        findings.extend(snap.findings)
        runs.append((env.name, snap.started, snap.results))
        for r in snap.results:
            journal.append(JournalEntry(time=snap.started, kind="probe", host=env.name,
                                        text=f"probe {r.probe}: " + ("ok" if r.ok else f"error: {r.error}"),
                                        exit_status=r.exit_status))
    timeline = window_timeline(window, logs=logs, probe_runs=runs) if window else ()
    if window is not None:
        from diagkit.timeline import for_report, merge_unique

        case_events, note = for_report(args.case, window.start, window.end)
        if note:
            print(f"note: {note}", file=sys.stderr)
        timeline = merge_unique(timeline, case_events)
    bundle = Bundle(title=args.title, summary=args.summary, severity=args.severity,
                    created=datetime.now(UTC), hosts=tuple(hosts), steps=steps,
                    expected=args.expected, actual=args.actual, findings=tuple(findings),
                    logs=tuple(logs), journal=tuple(journal), attachments=tuple(attachments),
                    case=args.case, window=window,
                    timeline=timeline,
                    product=case["product"], product_version=case["product_version"],
                    customer_ref=case["customer_ref"])
    # saved names, aliases and ~/.ssh/config aliases are tokenised wherever they appear
    hosts_known = known_hosts(args.host) if "host" in kinds else ()
    info = write_bundle(bundle, output, options=RedactOptions(obfuscate=kinds,
                                                              keywords=tuple(args.keyword),
                                                              hosts=hosts_known))
    print(f"Bundle written: {info.path} ({info.size:,} bytes, {len(info.files)} files)", file=out)
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



def _case_fields(args: argparse.Namespace) -> dict[str, str]:
    """Product, version and customer reference: the options, else those of case ``--case N``
    in the case store (a --case that is not a stored case number is a free reference)."""
    fields = {"product": args.product, "product_version": args.product_version,
              "customer_ref": args.customer_ref}
    if all(fields.values()) or not (args.case or "").strip().isdigit():
        return fields
    from diagkit.cli.common import open_desk

    try:
        desk = open_desk()
        try:
            case = desk.store.get_case(int(args.case))
        finally:
            desk.store.close()
    except Exception as exc:  # noqa: BLE001 - the report does not depend on the case store
        print(f"note: case {args.case} not read from the case store ({exc}); its product and "
              "customer are not in the report unless given with --product/--customer-ref",
              file=sys.stderr)
        return fields
    found = {"product": case.product, "product_version": case.version,
             "customer_ref": case.customer}
    return {k: v or found[k] for k, v in fields.items()}
