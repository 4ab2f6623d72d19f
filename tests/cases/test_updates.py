"""Customer updates: every kind renders in plain language, jargon explained, .eml round trip,
user override templates first, sandbox escapes refused."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from diagkit import config
from diagkit.cases.desk import CaseDesk
from diagkit.cases.glossary import explain
from diagkit.cases.updates import (
    UPDATE_KINDS,
    Draft,
    compose,
    save_draft,
    to_eml,
    user_templates_dir,
)
from diagkit.errors import ConfigError
from diagkit.probes.base import Finding, Severity
from diagkit.store.sqlite import SqliteStore

JARGON = ("probe", "errno", "systemctl", "dmesg", "{{", "}}", "{%")


@pytest.fixture
def desk(tmp_path: Path):
    store = SqliteStore(tmp_path / "cases.db")
    yield CaseDesk(store, engineer="Ann Smith")
    store.close()


def _worked_case(desk: CaseDesk) -> int:
    case = desk.open_case("Web shop is slow", customer="ACME", contact="Bob <bob@acme.example>",
                          impact="moderate", urgency="high", ticket_ref="T-77")
    desk.store.append_journal(case.id, "probe", "x", data={
        "host": "web1", "probes": ["disk", "memory"], "errors": [],
        "findings": [Finding(Severity.CRITICAL, "OOM killer ran (2 processes killed)",
                             probe="kernel").to_dict()]})
    desk.record_command(case.id, "web1", "free -m", 0, 0.1)
    first = desk.add_note(case.id, "Cause: wrong\nFix: wrong")
    desk.correct(case.id, first.id, "Cause: the database cache used all memory\n"
                                    "Fix: limited the cache to 2 GB and restarted it")
    desk.add_note(case.id, "Workaround: restart the shop service when it gets slow")
    return case.id


@pytest.mark.parametrize("kind", UPDATE_KINDS)
def test_every_kind_renders_plain(desk: CaseDesk, kind: str) -> None:
    cid = _worked_case(desk)
    case = desk.store.get_case(cid)
    draft = compose(kind, case, journal=desk.store.journal(cid), findings=desk.findings(cid),
                    sla=desk.sla(case), engineer=desk.engineer, requests=["the shop's error page"])
    assert draft.kind == kind and draft.to == "Bob <bob@acme.example>"
    assert draft.subject.startswith(f"[Case {cid}] ") and "Web shop is slow" in draft.subject
    assert draft.body.startswith("Hello Bob,\n") and draft.body.rstrip().endswith("Ann Smith")
    assert "\n\n\n" not in draft.body
    for word in JARGON:
        assert word not in draft.body.lower()


def test_prefilled_from_case_findings_and_journal(desk: CaseDesk) -> None:
    cid = _worked_case(desk)
    case = desk.store.get_case(cid)
    journal = desk.store.journal(cid)
    progress = compose("progress", case, journal=journal, findings=desk.findings(cid)).body
    assert "On web1: disk space and storage, memory use" in progress
    assert "We ran 1 diagnostic command on web1" in progress
    assert "OOM killer ran" in progress
    # Jargon from the findings is explained in a "What this means" list.
    assert "What this means:\n- OOM (out of memory): the system ran out of memory" in progress
    resolution = compose("resolution", case, journal=journal).body
    assert "the database cache used all memory" in resolution  # the correction, not "wrong"
    assert "limited the cache to 2 GB" in resolution and "wrong" not in resolution
    workaround = compose("workaround", case, journal=journal).body
    assert "restart the shop service when it gets slow" in workaround
    ask = compose("information_request", case, requests=["the shop's error page", " "]).body
    assert "- the shop's error page\n" in ask
    ack = compose("acknowledgement", case).body
    assert "high priority" in ack and "T-77" in ack and "What this means" not in ack
    with pytest.raises(ConfigError, match="Unknown update kind"):
        compose("apology", case)


def test_glossary_explains_common_terms() -> None:
    terms = [t for t, _ in explain("Filesystem /data is out of inodes; Unit nginx.service "
                                   "failed; Clock is not synchronised; No DNS server configured")]
    assert "inode" in terms and "systemd unit" in terms
    assert "clock synchronisation (NTP)" in terms and "DNS" in terms
    assert explain("All is well") == []


def test_eml_parses_back(tmp_path: Path, desk: CaseDesk) -> None:
    cid = _worked_case(desk)
    draft = compose("resolution", desk.store.get_case(cid), journal=desk.store.journal(cid))
    config.save_settings({"email": "ann@support.example"})
    path = save_draft(draft, tmp_path / "out" / "update.eml")
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["To"] == "Bob <bob@acme.example>"
    assert msg["From"] == "ann@support.example"
    assert msg["Subject"] == draft.subject and msg["Date"]
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content() == draft.body
    explicit = message_from_bytes(to_eml(Draft("progress", "Ünïcode ✓", "Grüße\n"),
                                         sender="x@y.example"), policy=policy.default)
    assert explicit["Subject"] == "Ünïcode ✓" and explicit.get_content() == "Grüße\n"
    assert explicit["To"] is None
    text = save_draft(draft, tmp_path / "update.txt").read_text(encoding="utf-8")
    assert text.startswith(f"To: {draft.to}\nSubject: {draft.subject}\n\n")
    with pytest.raises(ConfigError):
        save_draft(draft, tmp_path / "update.pdf")


def test_user_override_template_is_used_first(desk: CaseDesk) -> None:
    folder = user_templates_dir()
    folder.mkdir(parents=True)
    (folder / "acknowledgement.jinja2").write_text(
        "Subject: Got it ({{ case_ref }})\n\nDear {{ greeting_name }}, we are on it.\n"
        "Your SLA tier: {{ priority_text }}\n")
    case = desk.open_case("x", contact="Eve", impact="minor", urgency="low")
    draft = compose("acknowledgement", case)
    assert draft.subject == f"Got it (Case {case.id})"
    assert draft.body == "Dear Eve, we are on it.\nYour SLA tier: low priority\n"
    # Kinds without an override still come from the package.
    assert compose("progress", case).subject.startswith(f"[Case {case.id}] Progress")


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__ }}",
    "{{ case.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
])
def test_sandbox_escape_is_refused(desk: CaseDesk, payload: str) -> None:
    folder = user_templates_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "progress.jinja2").write_text(f"Subject: hi\n\n{payload}\n")
    case = desk.open_case("x")
    with pytest.raises(ConfigError, match="progress.jinja2"):
        compose("progress", case)


def test_broken_user_template_names_the_file(desk: CaseDesk) -> None:
    folder = user_templates_dir()
    folder.mkdir(parents=True)
    (folder / "workaround.jinja2").write_text("Subject: x\n\n{% if %}\n")
    with pytest.raises(ConfigError, match="workaround.jinja2"):
        compose("workaround", desk.open_case("x"))


@pytest.mark.parametrize(("contact", "customer", "greeting"), [
    ("Jane Doe <jane@acme.example>", "ACME", "Hello Jane Doe,"),
    ("ops@acme.example", "ACME", "Hello ACME,"),
    ("", "", "Hello there,"),
])
def test_greeting_uses_a_name_never_an_address(contact, customer, greeting):
    from diagkit.cases.updates import compose
    from diagkit.store import Case

    draft = compose("acknowledgement", Case(id=1, title="t", contact=contact, customer=customer))
    assert draft.body.startswith(greeting + "\n")


def test_an_unfilled_placeholder_is_found_and_refused_until_filled(desk: CaseDesk) -> None:
    from diagkit.cases.updates import UnfilledPlaceholder, placeholders, require_filled

    cid = _worked_case(desk)
    case = desk.store.get_case(cid)
    draft = compose("progress", case, journal=desk.store.journal(cid), engineer=desk.engineer)
    found = placeholders(draft)
    assert [(p.text, p.field) for p in found] == [("[describe the next step]", "body")]
    assert draft.body[found[0].start:found[0].end] == "[describe the next step]"
    assert draft.body.splitlines()[found[0].line - 1].startswith("Next, we will [describe")
    with pytest.raises(UnfilledPlaceholder) as err:
        desk.record_customer_update(cid, draft, channel="printed")
    message = str(err.value)
    assert "'[describe the next step]'" in message and "line" in message
    assert "Next: " in message and "--edit" in message
    assert not [e for e in desk.store.journal(cid) if e.kind == "customer_update"]
    # "[Case N]" in the subject and a log's "[ERROR]" are not placeholders.
    require_filled(Draft("progress", f"[Case {cid}] x", "The log says [ERROR] disk full.\n"))
    # The note line the template reads fills it.
    desk.add_note(cid, "Next: move the database to the bigger disk.")
    filled = compose("progress", case, journal=desk.store.journal(cid), engineer=desk.engineer)
    assert "Next, we will move the database to the bigger disk. We will" in filled.body
    assert placeholders(filled) == []
    desk.record_customer_update(cid, filled, channel="printed")
