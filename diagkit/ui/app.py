"""Start the Qt application and show the main window."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from diagkit import __version__, config

log = logging.getLogger(__name__)


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """No raw traceback in front of the user: log it, show a short message with where to look."""
    log.error("unexpected error\n%s", "".join(traceback.format_exception(kind, value, tb)))
    app = QApplication.instance()
    if app is not None:
        box = QMessageBox(QMessageBox.Icon.Warning, "diagkit: unexpected error",
                          f"Something went wrong: {value}\n\nYour work is kept. The details were "
                          f"written to {config.log_file()}.")
        box.setDetailedText("".join(traceback.format_exception(kind, value, tb)))
        box.exec()


def run_app(argv: list[str] | None = None, *, open_hosts: list[str] | None = None,
            notice: str | None = None) -> int:
    """``notice``: a line to show in the status bar at start; ``None`` runs the start-up repair
    of private files here (:func:`diagkit.config.repair_private_files`) and shows what it did."""
    from diagkit.ui.main_window import MainWindow

    if notice is None:
        notice = config.repair_private_files().message()
        if notice:
            log.warning(notice)

    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("diagkit")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("diagkit")
    sys.excepthook = _excepthook
    window = MainWindow()
    window.show()
    if notice:
        window.statusBar().showMessage(notice[:1].upper() + notice[1:] + ".", 60000)
    for name in open_hosts or []:
        window.open_host(name)
    if not os.environ.get("DIAGKIT_EXIT_WHEN_SHOWN"):
        from diagkit.ui.engineer_dialog import prompt_if_unset

        # First run: ask who signs cases and updates (else they say "root"). Held here so the
        # dialog lives as long as the event loop.
        prompt = prompt_if_unset(window)
        if prompt is not None:
            prompt.accepted.connect(lambda: window.set_engineer(prompt.saved))
    else:
        # benchmarks/ui_bench.py: report the moment the window is on screen, then quit
        def shown() -> None:
            print(f"diagkit-shown {time.time():.6f}", flush=True)
            app.quit()

        QTimer.singleShot(0, shown)
    return app.exec()
