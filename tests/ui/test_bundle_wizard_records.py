"""Log records set aside in the log viewer go into the bundle with the private key blocks of
their WHOLE log masked (issue 12, item 2): a selection of a key's body lines only, with no BEGIN
or END line in it, must not leak. Real widgets offscreen, a real OpenStack log with a real
OpenSSH key planted in it, a real zip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel
from pytestqt.qtbot import QtBot

from diagkit.reports.keyblocks import TOKEN
from diagkit.ui.bundle_wizard import BundleWizard
from diagkit.ui.log_view import LogView
from diagkit.ui.main_window import MainWindow
from tests.reports import keymaterial

OPENSTACK = Path("/work/shared/loghub-dev/OpenStack/OpenStack_2k.log")
if not OPENSTACK.is_file():
    OPENSTACK = Path(__file__).resolve().parents[3] / "shared" / "loghub-dev" / "OpenStack" \
        / "OpenStack_2k.log"


def planted_log(tmp_path: Path) -> tuple[Path, list[str]]:
    """OpenStack's log with an OpenSSH key printed record by record after line 1000."""
    lines = OPENSTACK.read_text(encoding="utf-8", errors="replace").splitlines()
    prefix = lines[1000].split(" INFO ")[0]
    key = keymaterial.openssh_key(tmp_path)
    planted = lines[:1000] + [f"{prefix} INFO {k}" for k in key] + \
        [f"{prefix} ERROR could not load the key above"] + lines[1000:]
    log = tmp_path / "nova-compute.log"
    log.write_text("\n".join(planted) + "\n", encoding="utf-8")
    return log, key


def set_aside(qtbot: QtBot, window: MainWindow, log: Path, wanted: list[str]) -> None:
    """Open ``log`` in the app, select the records holding ``wanted`` lines, 'Add to report'."""
    view = window.open_logs([log])
    assert isinstance(view, LogView)
    with qtbot.waitSignal(view.opened, timeout=30000):
        pass
    total = len(log.read_text(encoding="utf-8").splitlines())
    qtbot.waitUntil(lambda: view.model.rowCount() == total, timeout=30000)
    rows = [row for row in range(view.model.rowCount())
            if any(view.model.record(row).raw.endswith(w) for w in wanted)]
    assert len(rows) == len(wanted) and rows == list(range(rows[0], rows[-1] + 1))
    model = view.table.model()
    flags = QItemSelectionModel.SelectionFlag
    view.table.selectionModel().select(
        QItemSelection(model.index(rows[0], 0), model.index(rows[-1], 0)),
        flags.ClearAndSelect | flags.Rows)
    view.report_button.click()
    assert len(window.report_records) == len(wanted)


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    window = MainWindow(restore=False)
    qtbot.addWidget(window)
    return window


def wizard_for(qtbot: QtBot, window: MainWindow) -> BundleWizard:
    wizard = BundleWizard(window.host_views(), window.report_records, parent=window)
    qtbot.addWidget(wizard)
    wizard.title_edit.setText("nova-compute cannot load its key")
    return wizard


def test_body_lines_of_a_key_selected_alone_are_masked(qtbot: QtBot, tmp_path: Path,
                                                      window: MainWindow) -> None:
    log, key = planted_log(tmp_path)
    body = keymaterial.body(key)
    picked = body[3:-3]  # well inside the key: no BEGIN or END line anywhere near the selection
    set_aside(qtbot, window, log, picked)
    wizard = wizard_for(qtbot, window)

    wizard.preview_redaction()
    qtbot.waitUntil(lambda: "value(s) will be masked" in wizard.state.text(), timeout=30000)
    shown = [wizard.hits.topLevelItem(i).child(j).text(k)
             for i in range(wizard.hits.topLevelItemCount())
             for j in range(wizard.hits.topLevelItem(i).childCount()) for k in range(3)]
    assert not any(p in s for p in picked for s in shown)

    wizard.render_preview()
    qtbot.waitUntil(lambda: "cannot load its key" in wizard.report.toPlainText(), timeout=30000)
    html = wizard.report.toHtml()
    assert TOKEN in html and not any(p in html for p in picked)

    out = tmp_path / "report.zip"
    with qtbot.waitSignal(wizard.saved, timeout=60000):
        wizard.save(out)
    with zipfile.ZipFile(out) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist()).decode("utf-8", "replace")
        doc = json.loads(zf.read("data/bundle.json"))
        excerpt = zf.read(doc["logs"][0]["path"]).decode("utf-8").splitlines()
    assert [p for p in picked if p in blob] == []
    (x,) = doc["logs"]
    first = x["first_line"]
    assert excerpt == [TOKEN] * len(picked)
    assert x["masked_private_key_lines"] == [[first, first + len(picked) - 1]]
    assert "record(s) selected in the log viewer" in x["note"]
    # the line numbers are the file's: the first picked record's line
    assert log.read_text(encoding="utf-8").splitlines()[first - 1].endswith(picked[0])


def test_records_of_a_log_rewritten_since_are_refused(qtbot: QtBot, tmp_path: Path,
                                                     window: MainWindow) -> None:
    """The log was rotated after the records were set aside: its lines are not the records'
    any more, so their keys cannot be looked for. The wizard says so; no bundle is written."""
    log, key = planted_log(tmp_path)
    set_aside(qtbot, window, log, keymaterial.body(key)[3:6])
    log.rename(log.with_name(log.name + ".old"))  # the open view keeps the old file
    log.write_text("2024-01-02 10:00:00 INFO a new log after rotation\n" * 3000,
                   encoding="utf-8")
    wizard = wizard_for(qtbot, window)
    out = tmp_path / "report.zip"
    wizard.save(out)
    qtbot.waitUntil(lambda: "has changed since" in wizard.state.text(), timeout=30000)
    assert "Set the records aside again" in wizard.state.text()
    assert wizard.save_button.isEnabled() and not out.exists()
