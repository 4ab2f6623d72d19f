"""The first-run prompt for the engineer's name, offscreen with real widgets and a real
settings file: cases opened after it are signed with the name, not the login name."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from diagkit import config
from diagkit.cases.desk import engineer_name
from diagkit.ui.engineer_dialog import prompt_if_unset
from diagkit.ui.main_window import MainWindow


def test_first_run_asks_for_the_name_and_signs_cases_with_it(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    desk = window.case_desk()
    assert config.get_setting("engineer") is None
    dialog = prompt_if_unset(window)
    assert dialog is not None and dialog.isVisible()
    dialog.accepted.connect(lambda: window.set_engineer(dialog.saved))
    assert not dialog.save_button.isEnabled()           # nothing typed yet
    qtbot.keyClicks(dialog.name_edit, "   ")
    assert not dialog.save_button.isEnabled()           # blanks are no name
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "Ann Smith")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.result() == dialog.DialogCode.Accepted
    assert config.load_settings()["engineer"] == "Ann Smith" and engineer_name() == "Ann Smith"
    case = desk.open_case("Shop is down")
    assert case.engineer == "Ann Smith"
    assert {e.engineer for e in desk.store.journal(case.id)} <= {"Ann Smith"}
    assert prompt_if_unset(window) is None              # asked once, not on every start


def test_a_bad_name_is_explained_in_the_dialog_and_not_saved(qtbot: QtBot) -> None:
    dialog = prompt_if_unset(None)
    assert dialog is not None
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("x" * 300)
    dialog.save_button.click()
    assert dialog.isVisible() and "at most 200" in dialog.error.text()
    assert config.get_setting("engineer") is None
    dialog.later_button.click()
    assert not dialog.isVisible() and config.get_setting("engineer") is None
