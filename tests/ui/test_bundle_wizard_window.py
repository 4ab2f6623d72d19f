"""The bug-report wizard's time window, product and customer fields (issue 16, item 5): with a
window, the logs of the records set aside are cut by time (the window's records and the warnings
before it), private keys still masked from the whole log, and the report carries the product,
its version, the customer's reference (redacted) and a Timeline. Real widgets offscreen, the
real OpenStack log with a real OpenSSH key planted in it, a real zip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from pytestqt.qtbot import QtBot

from diagkit.reports.keyblocks import TOKEN
from diagkit.ui.main_window import MainWindow
from tests.reports import keymaterial
from tests.ui.test_bundle_wizard_records import planted_log, set_aside, wizard_for
from tests.ui.test_bundle_wizard_records import window as window  # the fixture, re-exported


def test_window_cuts_the_logs_by_time_with_precursors(qtbot: QtBot, tmp_path: Path,
                                                     window: MainWindow) -> None:
    log, key = planted_log(tmp_path)
    set_aside(qtbot, window, log, ["ERROR could not load the key above"])
    wizard = wizard_for(qtbot, window)
    wizard.product_edit.setText("OpenStack Nova")
    wizard.product_version_edit.setText("15.0.2")
    wizard.customer_edit.setText("ACME-778 token ghp_" + "Xy7" * 12)
    wizard.window_edit.setText("2017-05-16T00:07:20..2017-05-16T00:07:30")
    out = tmp_path / "report.zip"
    with qtbot.waitSignal(wizard.saved, timeout=60000):
        wizard.save(out)
    with zipfile.ZipFile(out) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist()).decode("utf-8", "replace")
        doc = json.loads(zf.read("data/bundle.json"))
    assert [s for s in keymaterial.body(key) if s in blob] == []
    assert "ghp_" + "Xy7" * 12 not in blob
    assert doc["product"] == "OpenStack Nova" and doc["product_version"] == "15.0.2"
    assert doc["customer_ref"].startswith("ACME-778 ")
    notes = [x["note"] for x in doc["logs"]]
    assert any(n.startswith("precursor") for n in notes)
    inside = [x for x in doc["logs"] if not x["note"].startswith("precursor")]
    assert "record(s) in the window 2017-05-16T00:07:20" in inside[0]["note"]
    assert any(x["masked_private_key_lines"] for x in inside)  # the key is in the window
    assert TOKEN in blob
    kinds = {e["kind"] for e in doc["timeline"]}
    assert {"precursor", "log"} <= kinds
    assert doc["window"]["start"].startswith("2017-05-16T00:07:20")


def test_a_window_that_cannot_be_read_is_said_in_the_dialog(qtbot: QtBot, tmp_path: Path,
                                                           window: MainWindow) -> None:
    wizard = wizard_for(qtbot, window)
    wizard.window_edit.setText("since lunch")
    out = tmp_path / "report.zip"
    wizard.save(out)
    assert "START..END" in wizard.state.text()
    assert wizard.save_button.isEnabled() and not out.exists()


def test_a_case_number_and_a_window_bring_the_case_timeline(qtbot: QtBot, tmp_path: Path,
                                                            window: MainWindow) -> None:
    from diagkit.store.sqlite import SqliteSampleStore, SqliteStore
    from tests.test_timeline import at, build_scenario

    with SqliteStore() as store, SqliteSampleStore() as samples:  # the data dir's stores
        case_id = build_scenario(store, samples, tmp_path / "db1.log")
    wizard = wizard_for(qtbot, window)
    wizard.case_edit.setText(str(case_id))
    wizard.window_edit.setText(f"{at('10:00').isoformat()}..{at('10:35').isoformat()}")
    out = tmp_path / "report.zip"
    with qtbot.waitSignal(wizard.saved, timeout=60000):
        wizard.save(out)
    with zipfile.ZipFile(out) as zf:
        doc = json.loads(zf.read("data/bundle.json"))
    events = [(e["kind"], e["text"]) for e in doc["timeline"]]
    assert ("finding", "first seen: warning: Filesystem /srv/pgdata is 91 % full") in events
    assert any(k == "alert" and "disk.used:/srv/pgdata" in t for k, t in events)
    assert [e["time"] for e in doc["timeline"]] == sorted(e["time"] for e in doc["timeline"])
