"""A log truncated in place while a LogFile has it mapped (logrotate's ``copytruncate``):
reading its records must raise LogTruncated, not kill the process with SIGBUS.

Each case runs in a child process: without the size checks the child dies of SIGBUS (exit
-7), which fails the test instead of taking pytest down with it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CASES = {
    "record": "log.record(log.record_count - 1)",
    "line_text": "log.line_text(log.line_count - 1)",
    "arrays": "log.levels()",
    "search": "matching_indices(log, Query(text='needle 49999'))",
    "lines_containing": "log.lines_containing(['needle 49999'])",
    "signatures": "mine_logs([log])",
}


@pytest.mark.parametrize("action", sorted(CASES))
def test_reading_a_log_truncated_under_its_map(action: str, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("".join(f"2024-03-01 10:00:{i % 60:02d},000 - app - INFO - needle {i}\n"
                            for i in range(50_000)))
    script = textwrap.dedent(f"""
        import os, sys
        from diagkit.errors import LogTruncated
        from diagkit.logs.logfile import LogFile
        from diagkit.logs.model import Query
        from diagkit.logs.query import matching_indices
        from diagkit.logs.signatures import mine_logs
        log = LogFile.open({str(path)!r})
        assert log.record_count == 50_000
        log.record(10)
        os.truncate({str(path)!r}, 4096)  # copytruncate: the same inode, cut short
        try:
            {CASES[action]}
        except LogTruncated as exc:
            print("TRUNCATED", exc)
            sys.exit(0)
        print("no error")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "TRUNCATED" in done.stdout and "was truncated while open" in done.stdout
    assert "Open it again" in done.stdout
