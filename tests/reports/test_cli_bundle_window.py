"""``diagkit bundle create --window START..END`` end to end (issue 16, item 5): a real change made
on this machine (a file under /etc) shows in the report's Timeline through the changes probe run
over a real SSH connection, log excerpts are the window's records with the warning before it,
and the case's product, version and customer come from the case store, redacted."""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from diagkit.cli import main
from diagkit.cli.common import open_desk
from tests.sshd_fixture import SshClientEnv

SECRET = "Hunter2xyz"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def stamp(when: datetime) -> str:
    return when.astimezone().isoformat(timespec="seconds")


def test_window_timeline_with_a_real_etc_change(tmp_path: Path,
                                               ssh_client_env: SshClientEnv) -> None:
    now = datetime.now().astimezone()
    log = tmp_path / "app.log"
    log.write_text("\n".join([
        f"{stamp(now - timedelta(hours=3))} web1 app[1]: INFO long before",
        f"{stamp(now - timedelta(minutes=40))} web1 app[1]: WARNING disk 85% full on /srv",
        f"{stamp(now - timedelta(minutes=20))} web1 app[1]: INFO just before the window",
        f"{stamp(now - timedelta(minutes=5))} web1 app[1]: ERROR No space left on device",
        f"{stamp(now - timedelta(minutes=4))} web1 app[1]: ERROR db refused password={SECRET}",
    ]) + "\n")
    desk = open_desk()
    try:
        case = desk.open_case("disk full", customer=f"ACME password={SECRET}",
                              product="Acme DB", version="4.2.1")
    finally:
        desk.store.close()
    planted = Path(f"/etc/diagkit-window-test-{uuid.uuid4().hex[:8]}.conf")
    planted.write_text("listen = 127.0.0.1:9\n")
    try:
        out = tmp_path / "bug.zip"
        code, text = run("bundle", "create", "--host", "testhost", "--probe", "changes",
                         "--log", str(log), "--window=-10m..", "--case", str(case.id),
                         "-o", str(out))
    finally:
        os.unlink(planted)
    assert code == 0, text
    with zipfile.ZipFile(out) as zf:
        doc = json.loads(zf.read("data/bundle.json"))
        md = zf.read("report.md").decode()
        blob = b"".join(zf.read(n) for n in zf.namelist())
    assert SECRET.encode() not in blob
    assert (doc["product"], doc["product_version"]) == ("Acme DB", "4.2.1")
    assert doc["customer_ref"] == "ACME password=[REDACTED:password]"
    notes = [x["note"] for x in doc["logs"]]
    assert notes[0].startswith("precursor: 1 warning record(s)")
    assert notes[1].startswith("2 record(s) in the window")
    events = [(e["kind"], e["text"]) for e in doc["timeline"]]
    assert ("change", f"config: {planted} (modified)") in events
    assert any(k == "precursor" and "disk 85% full" in t for k, t in events)
    assert any(k == "log" and "No space left on device" in t for k, t in events)
    assert "## Timeline" in md and "**Product:** Acme DB" in md


def test_a_bad_window_is_a_clear_error(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("bundle", "create", "--window", "yesterday", "-o", str(tmp_path / "b.zip"))
    assert code != 0 and not (tmp_path / "b.zip").exists()
    err = capsys.readouterr().err
    assert "START..END" in err and "Traceback" not in err
