"""draft_from_case on a real stored case with journal entries of the shared vocabulary."""

from __future__ import annotations

import pytest

from diagkit.kb import open_kb
from diagkit.kb.from_case import draft_from_case, finding_pattern, specific_finding
from diagkit.kb.match import Evidence, KnownErrorMatcher, evidence_from_snapshot
from diagkit.probes.base import Finding, Severity
from diagkit.store.contract import CaseDraft
from diagkit.store.sqlite import SqliteStore

from .conftest import snapshot


def test_draft_from_a_real_case(store: SqliteStore) -> None:
    case = store.create_case(CaseDraft("Shop database stops at night", customer="ACME",
                                       product="Shop", version="4.2", tags=["db"], engineer="ana",
                                       hosts=["db1"]))
    snap = snapshot(("disk", "disk_full.txt"), host="db1")
    findings = [f.to_dict() for f in snap.findings if f.severity >= Severity.WARNING]
    store.append_journal(case.id, "probe", "disk: 7 findings", engineer="ana",
                         data={"host": "db1", "probes": ["disk"], "findings": findings,
                               "errors": []})
    store.append_journal(case.id, "log_excerpt", "...", data={
        "file": "postgresql.log", "lines": 3,
        "signatures": ["could not write to file <PATH>: No space left on device"]})
    wrong = store.append_journal(case.id, "note", "Cause: backups fill /var")
    store.append_journal(case.id, "correction", "Cause: WAL archive fills /", engineer="ana",
                         data={"corrects": wrong.id})
    store.append_journal(case.id, "note", "Customer says it started after the upgrade.")
    store.append_journal(case.id, "command", "df -h", data={"host": "db1", "exit_status": 0,
                                                           "duration": 0.1})
    case = store.get_case(case.id)
    store.record_status(case.id, "resolved", expected_version=case.version_counter,
                        note="Fix: archive_command cleans old WAL; alert at 85 %")

    draft = draft_from_case(store.get_case(case.id), store.journal(case.id))
    assert draft.title == "Shop database stops at night"
    assert draft.source_case == case.id and draft.author == "ana" and draft.tags == ("db",)
    assert "- Filesystem / is 97 % full (critical, disk on db1)" in draft.symptoms
    assert "`could not write to file <PATH>: No space left on device`" in draft.symptoms
    assert "Shop 4.2" in draft.environment and "db1" in draft.environment
    assert draft.cause.startswith("WAL archive fills /")  # the correction won
    assert "backups" not in draft.cause and "after the upgrade" in draft.cause
    assert draft.resolution == "archive_command cleans old WAL; alert at 85 %"
    kinds = [r.kind for r in draft.rules]
    assert "finding" in kinds and "signature" in kinds

    # The draft's rules recognise the same evidence again, with other numbers too.
    article = draft.save(store)
    m = KnownErrorMatcher([article])
    assert m.match(evidence_from_snapshot(snapshot(("disk", "disk_full.txt"))))
    again = Evidence(findings=[Finding(Severity.CRITICAL, "Filesystem / is 99 % full",
                                       probe="disk")])
    assert m.match(again)[0].slug == article.slug
    assert m.match(Evidence(signatures=[
        "could not write to file <PATH>: No space left on device"]))


def test_case_without_evidence_still_gives_a_draft(store: SqliteStore) -> None:
    open_kb(store)
    case = store.create_case(CaseDraft("Printer offline"))
    draft = draft_from_case(case, store.journal(case.id))
    assert draft.title == "Printer offline" and draft.rules == () and draft.cause == ""


def test_finding_pattern_generalises_numbers() -> None:
    import re

    rx = re.compile(finding_pattern("Filesystem /var is out of inodes (96 % used)"))
    assert rx.match("Filesystem /var is out of inodes (91.5 % used)")
    assert not rx.match("Filesystem /srv is out of inodes (96 % used)")


def test_notes_are_read_line_by_line_like_the_customer_updates(store: SqliteStore) -> None:
    """Issue 15: the whole note went under Cause and nothing under Resolution."""
    case = store.create_case(CaseDraft("App cache mount full", engineer="ana"))
    note = [
        "Checked the mounts with the customer on a call.",
        "**Cause:** the app writes its cache to a 20 MiB tmpfs",
        "  and never removes old entries",
        "Fix: cache cleanup job every hour; tmpfs grown to 256 MiB",
        "- remount: mount -o remount,size=256m /app/cache",
        "Workaround: rm /app/cache/old-*",
        "",
        "Customer will watch it over the weekend.",
    ]
    store.append_journal(case.id, "note", "\n".join(note))
    draft = draft_from_case(store.get_case(case.id), store.journal(case.id))
    cause, notes = draft.cause.split("\n\n")
    assert cause == ("the app writes its cache to a 20 MiB tmpfs\n"
                     "  and never removes old entries")
    assert notes.splitlines()[1:] == ["- Checked the mounts with the customer on a call.",
                                      "- Customer will watch it over the weekend."]
    assert draft.resolution == (
        "cache cleanup job every hour; tmpfs grown to 256 MiB\n"
        "- remount: mount -o remount,size=256m /app/cache\n\n"
        "Workaround: rm /app/cache/old-*")


def test_only_specific_rules_are_kept(store: SqliteStore) -> None:
    """Issue 15: rules such as ^CPU nearly saturated$ fired on any busy host."""
    case = store.create_case(CaseDraft("Web box slow"))
    snap = snapshot(("cpu", "overloaded_vm.txt"), ("disk", "disk_full.txt"), host="web1")
    findings = [f.to_dict() for f in snap.findings if f.severity >= Severity.WARNING]
    titles = {f["title"] for f in findings}
    assert "CPU nearly saturated" in titles and "Filesystem / is 97 % full" in titles
    store.append_journal(case.id, "probe", "cpu, disk", data={
        "host": "web1", "probes": ["cpu", "disk"], "findings": findings, "errors": []})
    store.append_journal(case.id, "log_excerpt", "...", data={"file": "app.log", "signatures": [
        "<*> <*>", "ERROR <NUM>", "could not write to file <PATH>: No space left on device"]})
    draft = draft_from_case(store.get_case(case.id), store.journal(case.id))
    patterns = [r.pattern for r in draft.rules]
    assert finding_pattern("Filesystem / is 97 % full") in patterns
    assert not [p for p in patterns if "CPU" in p or "load" in p.lower()]
    assert [r.kind for r in draft.rules if r.kind == "signature"] == ["signature"]
    assert "- CPU nearly saturated (warning, cpu on web1)" in draft.symptoms  # still told

    # A busy host without the full disk: the article does not fire.
    m = KnownErrorMatcher([draft.save(store)])
    busy = snapshot(("cpu", "overloaded_vm.txt"), ("disk", "normal.txt"))
    assert m.match(evidence_from_snapshot(busy)) == []


@pytest.mark.parametrize(("title", "specific"), [
    ("CPU nearly saturated", False), ("High load average", False), ("Memory pressure", False),
    ("OOM killer ran (2 processes killed)", False), ("3 zombie processes", False),
    ("2 processes in uninterruptible sleep (D)", False), ("Swap more than half full", False),
    ("Filesystem /data is 97 % full", True), ("Unit nginx.service failed", True),
    ("Device sda is saturated", True), ("Interface eth0 has errors or drops", True),
    ("Disk I/O errors on sdb (2x), sdb1 (4 lines)", True),
    ("CPU nearly saturated: yes (PID 4242, root, 98 %)", True),
])
def test_specific_finding(title: str, specific: bool) -> None:
    assert specific_finding(title) is specific


def test_what_happened_comes_from_the_case_timeline(tmp_path) -> None:
    from diagkit.store.sqlite import SqliteSampleStore
    from diagkit.timeline import batched_changes, case_timeline
    from tests.test_timeline import build_scenario

    with SqliteStore(tmp_path / "cases.db") as store, \
            SqliteSampleStore(tmp_path / "history.db") as samples:
        case_id = build_scenario(store, samples, tmp_path / "db1.log")
        store.append_journal(case_id, "note", "Root cause: the WAL archive filled /srv/pgdata")
        events = case_timeline(store, case_id, samples=samples, logs=[tmp_path / "db1.log"]).events
        draft = draft_from_case(store.get_case(case_id), store.journal(case_id),
                                batched_changes(events))
    assert draft.cause.startswith("the WAL archive filled /srv/pgdata")
    _head, _, story = draft.cause.partition("What happened (from the case's timeline):\n")
    lines = story.split("\n\n")[0].splitlines()
    assert 5 <= len(lines) <= 16
    text = "\n".join(lines)
    # in time order: the disk filled, then the database said so, then the application
    first = text.index("first seen: warning: Filesystem /srv/pgdata is 91 % full")
    worse = text.index("Filesystem /srv/pgdata is 97 % full")
    refused = text.index("Connection refused")
    assert first < worse < refused
    assert "login" not in text and "note" not in text.split("\n")[0]
    assert "The customer's contact" not in story.split("Investigation notes")[0]
