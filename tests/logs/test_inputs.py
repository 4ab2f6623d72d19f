"""Where logs come from: stdin, pipes and FIFOs (spooled into the cache), folders with an
unreadable member, unreadable folders, a closed pipe on output; and what a file without times
or levels says when filtered. Real processes, real pipes and FIFOs, real permissions (as root,
the process that must be refused runs without the capabilities that let root read anything)."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from diagkit.config import data_dir
from diagkit.errors import LogFormatError
from diagkit.logs import logfile
from diagkit.logs.logfile import IndexProgress, LogFile, open_logs

LOG = "".join(f"2024-03-01 10:00:{i:02d},000 {'ERROR' if i % 4 == 0 else 'INFO'} app: line {i}\n"
              for i in range(40))


def dk(*args: str, stdin: bytes | None = None, prefix: list[str] | None = None,
       env: dict[str, str] | None = None,
       timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*(prefix or []), sys.executable, "-m", "diagkit", *args],
                          input=stdin, capture_output=True, timeout=timeout, check=False,
                          env=env)


def _cache_files() -> set[Path]:
    folder = data_dir() / "cache" / "logs"
    return set(folder.glob("stream-*")) if folder.exists() else set()


# --------------------------------------------------------------------------- stdin and pipes


def test_stdin_dash_is_read() -> None:
    before = _cache_files()
    r = dk("logs", "stats", "-", "--json", stdin=LOG.encode())
    assert r.returncode == 0, r.stderr
    import json

    (info,) = json.loads(r.stdout)["files"]
    assert info["file"] == "stdin" and info["records"] == 40
    assert info["levels"] == {"error": 10, "info": 30}
    r = dk("logs", "-", "--level", "error", stdin=LOG.encode())
    assert r.stdout.decode().splitlines()[0].endswith("ERROR app: line 0")
    assert _cache_files() == before  # the copy does not stay in the cache


def test_compressed_stdin_is_decompressed() -> None:
    r = dk("logs", "-", "--literal", "line 39", stdin=gzip.compress(LOG.encode()))
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip().endswith("line 39")


def test_process_substitution_and_pipe_paths(tmp_path: Path) -> None:
    src = tmp_path / "app.log"
    src.write_text(LOG)
    # <(cat app.log): a /dev/fd path to a pipe, exactly as bash passes it
    r = subprocess.run(["bash", "-c", f'"{sys.executable}" -m diagkit logs stats <(cat "{src}")'],
                       capture_output=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert b"records:   40" in r.stdout and b"/dev/fd/" in r.stdout


def test_spool_in_process_reports_progress(tmp_path: Path) -> None:
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    data = LOG.encode() * 2000  # ~1.7 MB: several reads

    def writer() -> None:
        with open(fifo, "wb") as fh:
            for i in range(0, len(data), 65536):
                fh.write(data[i: i + 65536])
                time.sleep(0.01)

    seen: list[IndexProgress] = []
    t = threading.Thread(target=writer)
    t.start()
    try:
        with LogFile.open(fifo, progress=seen.append) as log:
            assert log.record_count == 80000 and log.label == str(fifo)
            assert log.record(79999).raw.endswith("line 39")
    finally:
        t.join()
    reading = [p for p in seen if p.phase == "reading"]
    assert reading and reading[-1].bytes_done > 0 and "reading" in reading[-1].note


def test_fifo_without_writer_says_what_it_waits_for(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "quiet.fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(logfile, "FIFO_NOTICE_AFTER", 0.2)
    notes: list[str] = []
    started = time.monotonic()
    with pytest.raises(LogFormatError, match="Nothing wrote to the FIFO"):
        logfile.spool(str(fifo), progress=lambda p: notes.append(p.note), fifo_timeout=1.0)
    assert time.monotonic() - started < 10
    assert any("waiting for a program to write to the FIFO" in n for n in notes)
    # a cancel (the UI's Stop button) ends the wait as well
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    with pytest.raises(LogFormatError, match="Nothing wrote"):
        LogFile.open(fifo, cancel=stop)


def test_cli_fifo_waits_aloud_then_reads(tmp_path: Path) -> None:
    fifo = tmp_path / "late.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "diagkit", "logs", "stats", str(fifo)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()  # said before anything was written
        assert "waiting for a program to write to the FIFO" in line and str(fifo) in line
        with open(fifo, "w") as fh:
            fh.write(LOG)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    assert b"records:   40" in out


# --------------------------------------------------------------------------- permissions

def _unprivileged() -> list[str]:
    """Run a command so that mode bits bind it: as root, without the capabilities to bypass
    them (root stays the owner, so the venv under /root remains usable)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="diagkit-perm-"))
    try:
        yield root
    finally:
        for p in root.rglob("*"):
            p.chmod(0o700) if p.is_dir() else p.chmod(0o600)
        shutil.rmtree(root, ignore_errors=True)


def test_unreadable_member_of_a_folder_is_skipped(shared_dir: Path) -> None:
    logs = shared_dir / "logs"
    logs.mkdir()
    (logs / "a.log").write_text(LOG)
    (logs / "b.log").write_text(LOG)
    secret = logs / "secret.log"
    secret.write_text(LOG)
    secret.chmod(0)
    r = dk("logs", "stats", str(logs), prefix=_unprivileged())
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert f"Skipped {secret}" in err and "permission denied" in err
    assert r.stdout.decode().count("records:   40") == 2
    assert "Traceback" not in err
    # the same file named alone is an error, with the reason and what to do
    r = dk("logs", str(secret), prefix=_unprivileged())
    assert r.returncode == 2 and b"permission denied" in r.stderr and b"Traceback" not in r.stderr


def test_unreadable_folder_is_a_clear_error(shared_dir: Path) -> None:
    closed = shared_dir / "closed"
    closed.mkdir()
    (closed / "a.log").write_text(LOG)
    closed.chmod(0o311)  # may be entered, not listed
    r = dk("logs", str(closed), prefix=_unprivileged())
    assert r.returncode == 2, r.stdout
    err = r.stderr.decode()
    assert f"Cannot list the folder {closed}" in err and "Traceback" not in err
    # nothing readable at all in a folder is an error too
    only = shared_dir / "only"
    only.mkdir()
    (only / "x.log").write_text(LOG)
    (only / "x.log").chmod(0)
    r = dk("logs", str(only), prefix=_unprivileged())
    assert r.returncode == 2 and b"None of the logs in" in r.stderr


def test_open_logs_reports_what_it_skipped(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "ok.log").write_text(LOG)
    os.mkfifo(d / "pipe")  # a FIFO in a folder is not waited for
    (d / "empty").mkdir()
    result = open_logs([d, d / "empty"])
    try:
        assert [Path(x.label).name for x in result] == ["ok.log"]
        assert any("holds no log files" in w for w in result.warnings)
    finally:
        for log in result:
            log.close()


# --------------------------------------------------------------------------- output and filters


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    big = tmp_path / "big.log"
    big.write_text(LOG * 5000)  # far more than a pipe buffer
    script = (f'"{sys.executable}" -m diagkit logs "{big}" | head -1; '
              'echo "status=${PIPESTATUS[0]}" >&2')
    r = subprocess.run(["bash", "-c", script], capture_output=True, timeout=120, check=False)
    err = r.stderr.decode()
    assert r.stdout.decode().splitlines() == ["2024-03-01 10:00:00,000 ERROR app: line 0"]
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception" not in err
    assert "status=141" in err  # what grep's status is in the same pipeline


def test_time_and_level_filters_warn_on_plain_text(tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("hello\nworld\n")
    r = dk("logs", str(plain), "--since", "2024-01-01")
    assert r.returncode == 0 and r.stdout == b""
    assert b"has no timestamps" in r.stderr and b"--since/--until match nothing" in r.stderr
    r = dk("logs", str(plain), "--level", "error")
    assert b"has no levels" in r.stderr
    dated = tmp_path / "app.log"
    dated.write_text(LOG)
    r = dk("logs", str(dated), "--since", "2024-01-01", "--level", "error")
    assert b"warning" not in r.stderr and r.stdout.count(b"\n") == 10
