"""Who is writing, end to end through the real entry point: 'diagkit config set engineer'
signs cases, journal entries, metrics and customer updates; unset, the login name signs and
the CLI says how to set it. An update with an unfilled placeholder is refused."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from diagkit import config
from tests.test_cli_cases import dk, journal, ok


def test_engineer_name_signs_cases_updates_and_metrics(tmp_path: Path) -> None:
    login = getpass.getuser()
    unset = ok("case", "new", "Before the name was set")
    assert f"Your name is not set, so cases, journal entries and customer updates use the " \
           f"login name '{login}'. Set it with: diagkit config set engineer \"Your Name\"" \
           in unset.stderr

    assert ok("config", "set", "engineer", "Ann Smith").stdout == "engineer = Ann Smith\n"
    assert json.loads(config.settings_file().read_text())["engineer"] == "Ann Smith"
    assert ok("config", "get", "engineer").stdout == "Ann Smith\n"
    signed = ok("case", "new", "Shop is down", "--contact", "bob@acme.example",
                "--impact", "extensive", "--urgency", "critical")
    assert "not set" not in signed.stderr
    ok("case", "note", "2", "Next: move the spool to the bigger disk")
    ok("case", "update", "2", "progress", "--save", "u.txt", cwd=tmp_path)
    body = (tmp_path / "u.txt").read_text()
    assert body.rstrip().endswith("Kind regards,\nAnn Smith")
    assert "Next, we will move the spool to the bigger disk." in body
    shown = json.loads(ok("case", "show", "2", "--json").stdout)
    assert shown["engineer"] == "Ann Smith"
    assert {e.engineer for e in journal(2)} == {"Ann Smith"}
    assert {e.engineer for e in journal(1)} == {login}
    report = ok("metrics").stdout
    assert "  Ann Smith: opened 1" in report and f"  {login}: opened 1" in report

    assert "no longer set" in ok("config", "unset", "engineer").stdout
    assert ok("config", "get", "engineer").stdout.startswith("(engineer is not set")
    bad = dk("config", "set", "colour", "blue")
    assert bad.returncode == 2 and "Unknown setting 'colour'; the settings are: email, " \
        "engineer." in bad.stderr


def test_an_update_with_a_placeholder_is_refused_and_nothing_recorded(tmp_path: Path) -> None:
    ok("config", "set", "engineer", "Ann Smith")
    ok("case", "new", "Shop is slow", "--contact", "bob@acme.example")
    for how in (("--print",), ("--save", "u.eml")):
        refused = dk("case", "update", "1", "progress", *how, cwd=tmp_path)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert refused.stderr.startswith(
            "diagkit: The update still contains the placeholder '[describe the next step]' "
            "(body, line 7); it was not sent or recorded. Fill it in: add a note with a line "
            "'Next: what you will do' (diagkit case note N 'Next: ...') and compose again, or "
            "edit the text (--edit, or --body-file FILE with the finished text).")
        assert refused.stdout == ""
    assert not (tmp_path / "u.eml").exists()
    assert not [e for e in journal(1) if e.kind == "customer_update"]
    dry = ok("case", "update", "1", "progress", "--dry-run")
    assert "[describe the next step]" in dry.stdout and "still has to be filled in" in dry.stderr
    body = tmp_path / "b.txt"
    body.write_text("Hello Bob,\n\nNext, we will [describe the next step].\n")
    assert dk("case", "update", "1", "progress", "--body-file", str(body)).returncode == 2
    body.write_text("Hello Bob,\n\nNext, we will restart the shop at 18:00.\n")
    ok("case", "update", "1", "progress", "--body-file", str(body), "--print")
    (entry,) = [e for e in journal(1) if e.kind == "customer_update"]
    assert "restart the shop at 18:00" in entry.text and entry.engineer == "Ann Smith"
