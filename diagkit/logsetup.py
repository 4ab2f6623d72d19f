"""diagkit's own log file (in the data dir). Unexpected errors go here with their traceback; the
user sees a plain message. Secrets are never passed to the logger; paramiko's own chatter is
kept at WARNING so protocol details (never passwords, but usernames and key types) stay out."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from diagkit import config

_configured = False


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Opens (and re-opens after each rotation) the log readable by its owner only: it holds
    host names and error details."""

    def _open(self):  # type: ignore[no-untyped-def]
        config.private_file(Path(self.baseFilename))
        return super()._open()


def setup_logging(level: int = logging.INFO) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger("diagkit")
    root.setLevel(level)
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    try:
        path = config.log_file()
        handler: logging.Handler = _PrivateRotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()  # a read-only data dir must not stop the tool
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    # paramiko's warnings (e.g. "Success for unrequested channel! [??]" when a server answers a
    # channel open after we gave up on it) go to the log file, never to the user's terminal:
    # without a handler of its own, Python's last-resort handler would print them on stderr.
    paramiko_log = logging.getLogger("paramiko")
    paramiko_log.addHandler(handler)
    paramiko_log.propagate = False


class _StderrWarnings(logging.Handler):
    """Warnings of one core logger shown as ``warning: ...`` lines (they also go to the log)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        print(f"warning: {record.getMessage()}", file=sys.stderr)


def show_warnings_on_stderr(name: str) -> None:
    """The CLI's way to let the user see what one core logger warns about (once per logger)."""
    logger = logging.getLogger(name)
    if not any(isinstance(h, _StderrWarnings) for h in logger.handlers):
        logger.addHandler(_StderrWarnings())
