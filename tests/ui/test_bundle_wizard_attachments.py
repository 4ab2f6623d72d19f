"""The wizard's attachments: text is redacted (UTF-16 converted), a binary file is refused inline
with the reason, and "Include binary files as is, not redacted" lets it in, marked in the report
(issue 12, item 3). Real widgets offscreen, real files, a real zip."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

from pytestqt.qtbot import QtBot

from diagkit.ui.bundle_wizard import BundleWizard

SECRET = "Hunter2xyzzy"


def test_attachments_text_binary_refused_then_allowed(qtbot: QtBot, tmp_path: Path) -> None:
    text = tmp_path / "settings.ini"
    text.write_bytes(f"[db]\r\npassword = {SECRET}\r\n".encode("utf-16"))  # Windows Notepad
    archive = tmp_path / "logs.gz"
    archive.write_bytes(gzip.compress(f"password={SECRET}\n".encode() * 50))
    wizard = BundleWizard([], [])
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.title_edit.setText("Attachments")

    wizard.add_attachments([text, archive])
    assert wizard.attachments.topLevelItemCount() == 1
    item = wizard.attachments.topLevelItem(0)
    assert item.text(0) == "settings.ini" and "UTF-16 LE, redacted; written as UTF-8" in item.text(1)
    # the binary file is refused where it was added, with the reason and the way out
    assert not wizard.attach_error.isHidden()
    error = wizard.attach_error.text()
    assert "logs.gz cannot be scanned as text" in error and "NUL bytes" in error
    assert wizard.allow_binary_box.text() in error

    # allowing binary files brings the refused one in, marked as not redacted
    wizard.allow_binary_box.setChecked(True)
    assert wizard.attachments.topLevelItemCount() == 2
    assert wizard.attachments.topLevelItem(1).text(1).startswith("NOT redacted: binary")
    assert wizard.attach_error.isHidden()
    # and taking the permission back takes the file out again
    wizard.allow_binary_box.setChecked(False)
    assert wizard.attachments.topLevelItemCount() == 1 and "logs.gz" in wizard.attach_error.text()
    wizard.allow_binary_box.setChecked(True)
    assert wizard.attachments.topLevelItemCount() == 2

    # the preview finds the password inside the UTF-16 file
    wizard.preview_redaction()
    qtbot.waitUntil(lambda: wizard.hits.topLevelItemCount() > 0, timeout=20000)
    sources = [wizard.hits.topLevelItem(i).text(0) for i in range(wizard.hits.topLevelItemCount())]
    assert "attachment settings.ini" in sources

    out = tmp_path / "b.zip"
    with qtbot.waitSignal(wizard.saved, timeout=60000):
        wizard.save(out)
    with zipfile.ZipFile(out) as zf:
        stored = zf.read("attachments/settings.ini").decode("utf-8")
        assert SECRET not in stored and "password = [REDACTED:password]" in stored
        assert zf.read("attachments/logs.gz") == archive.read_bytes()
        doc = json.loads(zf.read("data/bundle.json"))
        assert [a["redacted"] for a in doc["attachments"]] == [True, False]
        assert "NOT redacted" in zf.read("report.html").decode()
        assert "NOT redacted" in zf.read("report.md").decode()
        assert json.loads(zf.read("manifest.json"))["not_redacted"] == ["attachments/logs.gz"]


def test_an_unreadable_attachment_is_said_inline(qtbot: QtBot, tmp_path: Path) -> None:
    wizard = BundleWizard([], [])
    qtbot.addWidget(wizard)
    wizard.add_attachments([tmp_path / "missing.txt"])
    assert wizard.attachments.topLevelItemCount() == 0
    assert "Cannot read" in wizard.attach_error.text() and "missing.txt" in wizard.attach_error.text()
