"""``diagkit case`` end to end, as a user runs it (subprocess, real data dir and SQLite file),
and the automatic journaling of ``diagkit probe`` / ``diagkit run`` into the active case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

from diagkit import config
from diagkit.store.sqlite import SqliteStore


def dk(*args: str, stdin: str | None = None, cwd: Path | None = None,
       env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagkit", *args], check=False, input=stdin,
                          capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]),
                               **(env or {})})


def ok(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    out = dk(*args, **kw)  # type: ignore[arg-type]
    assert out.returncode == 0, (args, out.stdout, out.stderr)
    return out


def journal(case_id: int) -> list:
    store = SqliteStore()
    try:
        return store.journal(case_id)
    finally:
        store.close()


def test_case_lifecycle_end_to_end(tmp_path: Path) -> None:
    out = ok("case", "new", "Web shop is slow", "--customer", "ACME",
             "--contact", "Bob <bob@acme.example>", "--impact", "moderate", "--urgency", "high",
             "--host", "web1", "--tag", "perf")
    assert "Case 1 opened" in out.stdout and "S2" in out.stdout
    refused = dk("case", "status", "1", "closed")
    assert refused.returncode == 1
    assert "Cannot change the case status" in refused.stderr and "Traceback" not in refused.stderr
    ok("case", "status", "1", "in_progress")
    ok("case", "note", "1", "-", stdin="Cause: cache too big\nFix: limited the cache\n")
    ok("case", "update", "1", "resolution", "--save", "x.eml", cwd=tmp_path)
    msg = message_from_bytes((tmp_path / "x.eml").read_bytes(), policy=policy.default)
    assert msg["To"] == "Bob <bob@acme.example>" and "cache too big" in msg.get_content()

    listed = json.loads(ok("case", "list", "--json").stdout)
    assert listed["schema"] == "diagkit.case-list/1"
    (row,) = listed["cases"]
    assert row["status"] == "in_progress" and row["first_response_at"]
    assert row["sla"]["first_response"]["stopped"] is True
    human = ok("case", "list").stdout
    assert "SLA" in human and " left" in human

    ok("case", "close", "1", "--csat", "5")
    shown = json.loads(ok("case", "show", "1", "--json").stdout)
    assert shown["schema"] == "diagkit.case/1"
    assert (shown["status"], shown["csat"]) == ("closed", 5)
    kinds = [e["kind"] for e in shown["journal"]]
    assert kinds.count("customer_update") == 1 and "note" in kinds and "csat" in kinds
    update = next(e for e in shown["journal"] if e["kind"] == "customer_update")
    assert update["data"]["channel"] == "eml"
    assert update["data"]["path"] == str(tmp_path / "x.eml")
    text = ok("case", "show", "1").stdout
    assert "Journal:" in text and "Cause: cache too big" in text and "CSAT:" in text
    assert "No open cases" in ok("case", "list").stdout
    assert "closed" in ok("case", "list", "--all").stdout


def test_update_body_file_and_bad_input(tmp_path: Path) -> None:
    ok("case", "new", "x", "--contact", "eve@x.example")
    body = tmp_path / "b.txt"
    body.write_text("Subject: Custom subject\n\nHello Eve, all done.\n")
    out = ok("case", "update", "1", "progress", "--body-file", str(body), "--print")
    assert "Subject: Custom subject" in out.stdout and "Hello Eve, all done." in out.stdout
    (entry,) = [e for e in journal(1) if e.kind == "customer_update"]
    assert entry.text == "Hello Eve, all done.\n" and entry.data["subject"] == "Custom subject"
    assert entry.data["channel"] == "printed"
    assert dk("case", "note", "1", "   ").returncode == 2
    assert dk("case", "show", "99").returncode == 1
    assert dk("case", "new", "y", "--impact", "minor").returncode == 2


def test_update_edit_uses_editor(tmp_path: Path) -> None:
    ok("case", "new", "x")
    editor = tmp_path / "ed.sh"
    editor.write_text('#!/bin/sh\nprintf "Subject: Edited\\n\\nEdited body\\n" > "$1"\n')
    editor.chmod(0o755)
    ok("case", "update", "1", "acknowledgement", "--edit", env={"EDITOR": str(editor)})
    (entry,) = [e for e in journal(1) if e.kind == "customer_update"]
    assert (entry.text, entry.data["subject"]) == ("Edited body\n", "Edited")


def test_active_case_journals_probe_and_run() -> None:
    ok("case", "new", "Disk trouble")
    assert "Active case: 1" in ok("case", "use", "1").stdout
    assert config.load_settings()["active_case"] == 1
    probe = dk("probe", "-p", "system")
    assert probe.returncode in (0, 1), probe.stderr
    assert "journaled to case 1" in probe.stderr
    ok("run", "local", "--", "true")
    entries = journal(1)
    (p,) = [e for e in entries if e.kind == "probe"]
    assert p.data["host"] == "local" and p.data["probes"] == ["system"]
    (c,) = [e for e in entries if e.kind == "command"]
    assert c.text == "true" and c.data["exit_status"] == 0 and c.data["host"]
    # Secrets in commands never reach the journal.
    dk("run", "local", "--", "sh", "-c", "exit 3", "--password", "Hunter2secret")
    db = b"".join(p.read_bytes() for p in config.data_dir().glob("diagkit.db*"))
    assert b"Hunter2secret" not in db
    assert "*1" in ok("case", "list").stdout


def test_missing_active_case_only_warns() -> None:
    config.save_settings({"active_case": 42})
    out = dk("run", "local", "--", "sh", "-c", "echo hi; exit 7")
    assert out.returncode == 7 and out.stdout == "hi\n"
    assert "active case 42 no longer exists" in out.stderr
    assert "Traceback" not in out.stderr
    ok("case", "use", "none")
    assert "active_case" not in config.load_settings()
    assert dk("case", "use", "5").returncode == 1  # no such case
