"""``diagkit case``: support cases from the terminal (the same :class:`CaseDesk` as the app).

``--json`` output (``case list``, ``case show``) is documented in ``docs/cli-json.md``. The
active case (``case use N``) receives journal entries from ``diagkit probe``, ``diagkit run``
and ``diagkit bundle create`` automatically (:func:`diagkit.cli.common.journal_to_active`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from diagkit.cases.kinds import UPDATE_KINDS
from diagkit.cases.lifecycle import OPEN_STATUSES, Status, allowed_next
from diagkit.cases.triage import Impact, Urgency
from diagkit.cli.common import EXIT_OK, saved_active_case, workspace
from diagkit.cli.output import dump, table
from diagkit.errors import ConfigError
from diagkit.textsafe import one_line

JSON_SCHEMA_CASE_LIST = "diagkit.case-list/1"
JSON_SCHEMA_CASE = "diagkit.case/1"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cs = sub.add_parser("case", help="support cases: open, triage, journal, update the customer")
    cs.set_defaults(handler=_case)
    acts = cs.add_subparsers(dest="case_command", metavar="ACTION")

    nw = acts.add_parser("new", help="open a case")
    nw.add_argument("title")
    nw.add_argument("--customer", default="")
    nw.add_argument("--contact", default="", help="the customer's contact, e.g. 'Bob <bob@x.com>'")
    nw.add_argument("--product", default="")
    nw.add_argument("--version", default="")
    nw.add_argument("--tag", action="append", default=[], help="repeatable")
    nw.add_argument("--ticket", default="", help="the customer's ticket reference")
    nw.add_argument("--impact", choices=[i.value for i in Impact],
                    help="with --urgency: triage at once")
    nw.add_argument("--urgency", choices=[u.value for u in Urgency])
    nw.add_argument("--host", action="append", default=[], help="a host this is about (repeatable)")
    nw.add_argument("--use", action="store_true", help="also make it the active case")

    ls = acts.add_parser("list", help="open cases with SLA time left (--all: every case)")
    ls.add_argument("--status", action="append", choices=[s.value for s in Status])
    ls.add_argument("--all", action="store_true", help="include resolved and closed cases")
    ls.add_argument("--json", action="store_true")

    sh = acts.add_parser("show", help="a case's fields, SLA and journal")
    sh.add_argument("case", type=int, metavar="N")
    sh.add_argument("--json", action="store_true")

    st = acts.add_parser("status", help="change the status (only allowed moves)")
    st.add_argument("case", type=int, metavar="N")
    st.add_argument("status", choices=[s.value for s in Status])
    st.add_argument("--note", default="")

    tr = acts.add_parser("triage", help="set impact and urgency (-> severity)")
    tr.add_argument("case", type=int, metavar="N")
    tr.add_argument("--impact", required=True, choices=[i.value for i in Impact])
    tr.add_argument("--urgency", required=True, choices=[u.value for u in Urgency])

    nt = acts.add_parser("note", help="add a Markdown note ('-' reads standard input)")
    nt.add_argument("case", type=int, metavar="N")
    nt.add_argument("text", metavar="TEXT|-")

    co = acts.add_parser("correct", help="correct a journal entry (the journal is append-only)")
    co.add_argument("case", type=int, metavar="N")
    co.add_argument("entry", type=int, metavar="ENTRY")
    co.add_argument("text")

    lk = acts.add_parser("link", help="link hosts to the case")
    lk.add_argument("case", type=int, metavar="N")
    lk.add_argument("hosts", nargs="+", metavar="HOST")

    up = acts.add_parser("update", help="compose a customer update and record it in the journal")
    up.add_argument("case", type=int, metavar="N")
    up.add_argument("kind", choices=UPDATE_KINDS)
    up.add_argument("--save", metavar="FILE.eml|.txt", help="write it as an e-mail or text file")
    up.add_argument("--print", action="store_true", help="print it (default without --save)")
    up.add_argument("--edit", action="store_true", help="edit it in $VISUAL/$EDITOR first")
    up.add_argument("--body-file", metavar="FILE",
                    help="use this text instead (a first line 'Subject: ...' sets the subject)")
    up.add_argument("--request", action="append", default=[], metavar="TEXT",
                    help="information_request: one thing to ask for (repeatable)")
    up.add_argument("--dry-run", action="store_true", help="show it, record nothing")

    cl = acts.add_parser("close", help="resolve (if needed) and close a case")
    cl.add_argument("case", type=int, metavar="N")
    cl.add_argument("--csat", type=int, choices=range(1, 6), metavar="1..5",
                    help="the customer's satisfaction rating")
    cl.add_argument("--note", default="")

    us = acts.add_parser("use", help="set the active case (or 'none'): probe/run/bundle journal to it")
    us.add_argument("case", metavar="N|none")


def _case(args: argparse.Namespace, out: TextIO) -> int:
    cmd = getattr(args, "case_command", None)
    if not cmd:
        raise ConfigError("Give an action: diagkit case {new,list,show,status,triage,note,"
                          "correct,link,update,close,use} (see diagkit case --help).")
    if cmd == "use":
        return _use(args, out)
    with workspace() as ws:
        desk = ws.desk()
        status = _ACTIONS[cmd](desk, args, out)
        if cmd in _SIGNED and status == EXIT_OK:
            _engineer_hint(desk.engineer)
        return status


# Actions that write the engineer's name into the case, its journal or a customer update.
_SIGNED = frozenset({"new", "status", "triage", "note", "correct", "link", "update", "close"})


def _engineer_hint(signing_as: str) -> None:
    """Say once, on stderr, that the login name signs because no name is set."""
    from diagkit.cases.desk import ENGINEER_HINT, configured_engineer

    if configured_engineer() is None:
        print(f"note: {ENGINEER_HINT.format(login=signing_as)}", file=sys.stderr)


# --- actions -----------------------------------------------------------------------------------


def _new(desk: Any, args: argparse.Namespace, out: TextIO) -> int:
    if bool(args.impact) != bool(args.urgency):
        raise ConfigError("Give both --impact and --urgency to triage, or neither.")
    case = desk.open_case(args.title, customer=args.customer, contact=args.contact,
                          product=args.product, version=args.version, tags=args.tag,
                          ticket_ref=args.ticket, impact=args.impact, urgency=args.urgency,
                          hosts=args.host)
    sev = f", severity {case.severity}" if case.severity else ""
    print(f"Case {case.id} opened: {case.title} ({Status(case.status).label}{sev})", file=out)
    if args.use:
        from diagkit.cases.active import set_active_case

        set_active_case(case.id)
        print(f"Case {case.id} is now the active case.", file=out)
    return EXIT_OK


def _list(desk: Any, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.cases.desk import describe_sla

    statuses = args.status or (None if args.all else list(OPEN_STATUSES))
    cases = desk.store.list_cases(status=statuses)
    now = desk._now()
    slas = {c.id: desk.sla(c, now=now) for c in cases}
    active = saved_active_case()
    if args.json:
        dump({"schema": JSON_SCHEMA_CASE_LIST, "active_case": active,
               "cases": [_case_dict(c, slas[c.id]) for c in cases]}, out)
        return EXIT_OK
    if not cases:
        print("No cases." if args.all or args.status else
              "No open cases (--all shows resolved and closed ones too).", file=out)
        return EXIT_OK
    rows = [(("*" if c.id == active else "") + str(c.id), c.severity or "-",
             Status(c.status).label, describe_sla(slas[c.id]), c.customer or "-",
             _local(c.updated), c.title) for c in cases]
    table(("ID", "SEV", "STATUS", "SLA", "CUSTOMER", "UPDATED", "TITLE"), rows, out,
           wrap_last=True)
    if active is not None and any(c.id == active for c in cases):
        print("* the active case", file=out)
    return EXIT_OK


def _show(desk: Any, args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.cases.desk import describe_sla, format_duration

    case = desk.store.get_case(args.case)
    sla = desk.sla(case)
    journal = desk.store.journal(case.id)
    if args.json:
        doc = {"schema": JSON_SCHEMA_CASE, **_case_dict(case, sla),
               "allowed_next": [s.value for s in allowed_next(case.status)],
               "journal": [_entry_dict(e) for e in journal]}
        dump(doc, out)
        return EXIT_OK
    # Single-line fields stay on their line (a newline in a customer name must not forge the
    # next field); control characters are escaped by the CLI's stream (diagkit.textsafe).
    print(f"Case {case.id}: {one_line(case.title)}", file=out)
    sev = case.severity or "not triaged"
    if case.impact and case.urgency and case.severity:
        sev += f" (impact {case.impact} x urgency {case.urgency})"
    fields = [("Status", Status(case.status).label), ("Severity", sev),
              ("Customer", case.customer), ("Contact", case.contact), ("Product",
              " ".join(p for p in (case.product, case.version) if p)),
              ("Ticket", case.ticket_ref), ("Tags", ", ".join(case.tags)),
              ("Hosts", ", ".join(case.hosts)), ("Engineer", case.engineer),
              ("Opened", _local(case.created)), ("First response", _local(case.first_response_at)),
              ("Resolved", _local(case.resolved_at)), ("Closed", _local(case.closed_at)),
              ("CSAT", f"{case.csat}/5" if case.csat else "")]
    for label, value in fields:
        if value:
            print(f"  {label + ':':<20}{one_line(value)}", file=out)
    for label, state in (("first response", sla.first_response), ("resolution", sla.resolution)):
        if state is None:
            continue
        if state.stopped:
            what = (f"breached by {format_duration(state.overdue)}" if state.breached
                    else "met")
        elif state.breached:
            what = f"BREACHED {format_duration(state.overdue)}"
        elif state.paused:
            what = f"paused ({format_duration(state.remaining)} left)"
        else:
            what = f"{format_duration(state.remaining)} left of {format_duration(state.target)}"
            if state.warning:
                what += " (WARNING)"
        print(f"  {'SLA ' + label + ':':<20}{what}", file=out)
    if sla.first_response is None:
        print(f"  {'SLA:':<20}none until the case is triaged", file=out)
    else:
        print(f"  {'SLA now:':<20}{describe_sla(sla)}", file=out)
    print(f"  {'Next states:':<20}{', '.join(s.value for s in allowed_next(case.status))}",
          file=out)
    print("Journal:", file=out)
    corrected = {e.data.get("corrects"): e.id for e in journal if e.kind == "correction"}
    for e in journal:
        head = f"  #{e.id:<4} {_local(e.time)}  {one_line(e.engineer or '-'):<10} {e.kind:<16}"
        lines = _entry_lines(e)
        if e.id in corrected:
            lines[0] += f"  [corrected by #{corrected[e.id]}]"
        print(head + lines[0], file=out)
        for more in lines[1:]:
            print(" " * len(head) + more, file=out)
    return EXIT_OK


def _status(desk: Any, args: argparse.Namespace, out: TextIO) -> int:
    case = desk.set_status(args.case, args.status, note=args.note)
    print(f"Case {case.id} is now {Status(case.status).label}.", file=out)
    return EXIT_OK


def _triage(desk: Any, args: argparse.Namespace, out: TextIO) -> int:
    case = desk.triage(args.case, args.impact, args.urgency)
    print(f"Case {case.id}: severity {case.severity} ({Status(case.status).label}).", file=out)
    return EXIT_OK


def _note(desk: Any, args: argparse.Namespace, out: TextIO) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    entry = desk.add_note(args.case, text)
    print(f"Note #{entry.id} added to case {args.case}.", file=out)
    return EXIT_OK


def _correct(desk: Any, args: argparse.Namespace, out: TextIO) -> int:
    entry = desk.correct(args.case, args.entry, args.text)
    print(f"Correction #{entry.id} of entry #{args.entry} added to case {args.case}.", file=out)
    return EXIT_OK


def _link(desk: Any, args: argparse.Namespace, out: TextIO) -> int:
    case = desk.link_hosts(args.case, args.hosts)
    print(f"Case {case.id} hosts: {', '.join(case.hosts) or '-'}", file=out)
    return EXIT_OK


def _update(desk: Any, args: argparse.Namespace, out: TextIO) -> int:
    from dataclasses import replace

    from diagkit import config
    from diagkit.cases.updates import compose, placeholders, require_filled, save_draft, to_text

    case = desk.store.get_case(args.case)
    draft = compose(args.kind, case, journal=desk.store.journal(case.id),
                    findings=desk.findings(case.id), sla=desk.sla(case), engineer=desk.engineer,
                    requests=args.request)
    if args.body_file:
        try:
            text = Path(args.body_file).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot read {args.body_file}: {exc.strerror or exc}.") from exc
        draft = _apply_text(draft, text)
    if args.edit:
        draft = _apply_text(draft, _edit(to_text(replace(draft, to=""))))
    if not draft.body.strip():
        raise ConfigError("The update is empty; nothing was recorded.")
    if args.dry_run and placeholders(draft):
        print(f"note: {placeholders(draft)[0].text} still has to be filled in before this update "
              "can be sent.", file=sys.stderr)
    elif not args.dry_run:
        # Before anything is saved or printed as sent: "[describe the next step]" never ships.
        require_filled(draft)
    path = None
    if args.save:
        email = config.load_settings().get("email")
        sender = email if isinstance(email, str) and email.strip() else desk.engineer
        path = save_draft(draft, Path(args.save).expanduser().resolve(), sender=sender)
    if args.print or not args.save or args.dry_run:
        print(to_text(draft), file=out, end="" if draft.body.endswith("\n") else "\n")
    if args.dry_run:
        print("(dry run: nothing recorded)", file=sys.stderr)
        return EXIT_OK
    # Printed is what happened: the journal must not claim it reached the clipboard.
    channel = path.suffix.lower().lstrip(".") if path is not None else "printed"
    entry = desk.record_customer_update(case.id, draft, channel=channel, path=path)
    where = f"saved to {path}" if path else "printed for copying"
    print(f"Update #{entry.id} ({args.kind}) recorded on case {case.id}, {where}.",
          file=sys.stderr if not args.save else out)
    return EXIT_OK


def _apply_text(draft: Any, text: str) -> Any:
    """Take subject and body from edited text (``To:``/``Subject:`` header lines optional)."""
    from dataclasses import replace

    lines = text.splitlines()
    subject = draft.subject
    while lines and lines[0].lower().startswith(("subject:", "to:")):
        head = lines.pop(0)
        if head.lower().startswith("subject:"):
            subject = head.split(":", 1)[1].strip() or subject
        if lines and not lines[0].strip():
            lines.pop(0)
    body = "\n".join(lines).strip("\n") + "\n"
    return replace(draft, subject=subject, body=body)


def _edit(text: str) -> str:
    import shlex
    import subprocess
    import tempfile

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise ConfigError("--edit needs an editor: set $EDITOR (e.g. export EDITOR=nano), or "
                          "write the text to a file and pass --body-file FILE.")
    fd, name = tempfile.mkstemp(prefix="diagkit-update-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            done = subprocess.run([*shlex.split(editor), name], check=False)
        except OSError as exc:
            raise ConfigError(f"Cannot start the editor {editor!r}: {exc.strerror or exc}. "
                              "Check $EDITOR.") from exc
        if done.returncode != 0:
            raise ConfigError(f"The editor exited with status {done.returncode}; nothing was "
                              "recorded.")
        return Path(name).read_text(encoding="utf-8")
    finally:
        Path(name).unlink(missing_ok=True)


def _close(desk: Any, args: argparse.Namespace, out: TextIO) -> int:
    case = desk.store.get_case(args.case)
    note = args.note
    if case.status in (Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER):
        case = desk.set_status(case.id, Status.RESOLVED.value, note=note)
        note = ""
    if args.csat is not None:
        desk.set_csat(case.id, args.csat)
    case = desk.set_status(case.id, Status.CLOSED.value, note=note)
    csat = f", CSAT {case.csat}/5" if case.csat else ""
    print(f"Case {case.id} closed{csat}.", file=out)
    return EXIT_OK


def _use(args: argparse.Namespace, out: TextIO) -> int:
    from diagkit.cases.active import set_active_case

    if args.case.strip().lower() in ("none", "-", "0"):
        set_active_case(None)
        print("No active case: probes, commands and bundles are not journaled.", file=out)
        return EXIT_OK
    try:
        case_id = int(args.case)
    except ValueError:
        raise ConfigError(f"{args.case!r} is not a case number; give N or 'none'.") from None
    with workspace() as ws:
        case = ws.store().get_case(case_id)
        ws.choose_case(case.id)
    print(f"Active case: {case.id} ({case.title}). diagkit probe, run and bundle create now "
          "journal to it.", file=out)
    return EXIT_OK


_ACTIONS: dict[str, Callable[[Any, argparse.Namespace, TextIO], int]] = {
    "new": _new, "list": _list, "show": _show, "status": _status, "triage": _triage,
    "note": _note, "correct": _correct, "link": _link, "update": _update, "close": _close,
}


# --- JSON and text helpers ---------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _local(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _sla_dict(state: Any) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"target_s": state.target.total_seconds(), "elapsed_s": state.elapsed.total_seconds(),
            "remaining_s": state.remaining.total_seconds(), "breached": state.breached,
            "warning": state.warning, "paused": state.paused, "stopped": state.stopped,
            "due_at": _iso(state.due_at)}


def _case_dict(case: Any, sla: Any) -> dict[str, Any]:
    from diagkit.cases.desk import describe_sla

    return {
        "id": case.id, "title": case.title, "customer": case.customer, "contact": case.contact,
        "product": case.product, "version": case.version, "tags": list(case.tags),
        "ticket_ref": case.ticket_ref, "impact": case.impact, "urgency": case.urgency,
        "severity": case.severity, "status": case.status, "engineer": case.engineer,
        "hosts": list(case.hosts), "csat": case.csat, "created": _iso(case.created),
        "updated": _iso(case.updated), "first_response_at": _iso(case.first_response_at),
        "resolved_at": _iso(case.resolved_at), "closed_at": _iso(case.closed_at),
        "version_counter": case.version_counter,
        "sla": {"text": describe_sla(sla), "paused": sla.paused,
                "first_response": _sla_dict(sla.first_response),
                "resolution": _sla_dict(sla.resolution)},
    }


def _entry_dict(e: Any) -> dict[str, Any]:
    return {"id": e.id, "time": _iso(e.time), "engineer": e.engineer, "kind": e.kind,
            "text": e.text, "data": dict(e.data)}


def _entry_lines(e: Any) -> list[str]:
    d = e.data
    text = e.text.strip()
    if e.kind == "command":
        status = d.get("exit_status")
        extra = f"on {d.get('host', '?')}: exit {status if status is not None else '-'}"
        return [f"$ {text}  ({extra}, {float(d.get('duration', 0)):.2f} s)"]
    if e.kind == "probe":
        lines = [text]
        lines += [f"{one_line(f.get('severity', '')).upper():<9} {one_line(f.get('title', ''))}"
                  for f in d.get("findings", [])]
        return lines
    if e.kind == "customer_update":
        where = f" -> {d['path']}" if d.get("path") else ""
        return [(f"{d.get('update_kind', '')}: {d.get('subject', '')} [{d.get('channel', '')}"
                f"{where}]")]
    if e.kind == "correction":
        text = f"(corrects #{d.get('corrects')}) {text}"
    elif e.kind == "bundle":
        text = f"{d.get('path', text)}"
    elif e.kind == "log_excerpt":
        text = f"{d.get('file', '')}: {d.get('lines', 0)} lines" + (
            "; " + "; ".join(d.get("signatures", [])) if d.get("signatures") else "")
    elif e.kind in ("known_issue", "kb_article"):
        text = f"{text} ({d.get('slug', '')})"
    # Only a newline starts a line: a lone CR (or another control) is shown escaped.
    return text.replace("\r\n", "\n").split("\n")
