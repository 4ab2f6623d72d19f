"""Evidence reaches the active case from every screen: log records (with signatures and the
known issue they match), a KB article used, a bug report written. Real window, real store."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from pytestqt.qtbot import QtBot

from diagkit.kb import open_kb
from diagkit.ui.main_window import MainWindow


def window_with_case(qtbot: QtBot, tmp_path: Path) -> tuple[MainWindow, int]:
    win = MainWindow(restore=False, case_store_path=tmp_path / "cases.db")
    qtbot.addWidget(win)
    win.show()
    open_kb(win.case_store())
    case = win.case_desk().open_case("App dies at night", customer="ACME")
    win.set_active_case(case.id)
    return win, case.id


def kinds(win: MainWindow, case_id: int) -> list[str]:
    return [e.kind for e in win.case_store().journal(case_id)]


def test_log_records_go_to_the_active_case_with_their_known_issue(qtbot: QtBot,
                                                                  tmp_path: Path) -> None:
    win, case_id = window_with_case(qtbot, tmp_path)
    log = tmp_path / "kern.log"
    log.write_text("Nov 27 03:00:01 db1 kernel: eth0: link up\n"
                   "Nov 27 03:10:07 db1 kernel: Out of memory: Killed process 4242 (java) "
                   "total-vm:9000000kB\n")
    view = win.open_logs([log])
    with qtbot.waitSignal(view.opened, timeout=30000):
        pass
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=15000)
    view.go_to_row(1)
    view.case_button.click()
    # The whole job (the excerpt, then the known issues it matches) is done when it says so.
    qtbot.waitUntil(lambda: "journaled to case" in view.state.text(), timeout=10000)
    journal = win.case_store().journal(case_id)
    excerpt = next(e for e in journal if e.kind == "log_excerpt")
    assert "Killed process 4242" in excerpt.text and excerpt.data["file"].endswith("kern.log")
    assert any("Out of memory" in s for s in excerpt.data["signatures"])
    assert any(e.kind == "known_issue" and e.data["slug"] == "oom-killer" for e in journal)

    win.set_active_case(None)
    view.go_to_row(1)
    view.case_button.click()
    assert "No active case" in view.state.text()
    view.table.clearSelection()
    view.table.setCurrentIndex(view.model.index(-1, -1))
    view.case_button.click()
    assert "Select the records" in view.state.text()
    win.close()


def test_article_used_and_bundle_written_are_journaled(qtbot: QtBot, tmp_path: Path) -> None:
    win, case_id = window_with_case(qtbot, tmp_path)
    kb = win.show_article("disk-full") or win.kb_view
    qtbot.waitUntil(lambda: kb.current is not None and kb.current.slug == "disk-full",
                    timeout=10000)
    assert kb.use_button.isEnabled()
    kb.use_button.click()
    qtbot.waitUntil(lambda: "kb_article" in kinds(win, case_id), timeout=10000)

    bundle = tmp_path / "report.zip"
    bundle.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip is enough for the journal
    win._bundle_saved(SimpleNamespace(path=bundle))
    qtbot.waitUntil(lambda: "bundle" in kinds(win, case_id), timeout=10000)
    entry = next(e for e in win.case_store().journal(case_id) if e.kind == "bundle")
    assert entry.data["path"] == str(bundle)
    win.close()
