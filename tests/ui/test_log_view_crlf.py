"""The log viewer's filter on a file written with Windows line ends: ``$`` finds the same
records as in the LF copy (the filter runs the query engine, which matches what records show)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.ui.test_log_view import open_view

LINES = [f"2024-03-01 10:00:{i:02d},000 - auth - {'WARNING' if i % 3 == 0 else 'INFO'} - "
         f"{'FAILED LOGIN ATTEMPT!' if i % 3 == 0 else 'login ok'}" for i in range(30)]


def test_regex_end_anchor_on_crlf_file(qtbot: QtBot, tmp_path: Path) -> None:
    found = []
    for name, newline in (("lf.log", "\n"), ("crlf.log", "\r\n")):
        path = tmp_path / name
        path.write_bytes((newline.join(LINES) + newline).encode())
        view = open_view(qtbot, path)
        view.regex_box.setChecked(True)
        view.search_edit.setText("ATTEMPT!$")
        with qtbot.waitSignal(view.filtered, timeout=60000) as got:
            pass
        found.append(got.args[0])
        assert view.model.record(0).raw.endswith("FAILED LOGIN ATTEMPT!")
    assert found == [10, 10]
