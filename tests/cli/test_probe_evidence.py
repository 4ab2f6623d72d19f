"""``diagkit probe`` text output: key tables under the findings and "Known issue" lines, on a
real full tmpfs mounted for the test (the suite runs as root, like the probes' captures)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def dk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagkit", *args], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ), check=False)


@pytest.fixture
def full_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs at an application path, filled until ENOSPC."""
    point = tmp_path / "app cache"  # a space: the mount point is escaped in /proc/mounts
    point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(point)], check=True)
    try:
        with (point / "blob").open("wb") as fh, pytest.raises(OSError, match="No space left"):
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=True)


def test_full_application_tmpfs_shows_finding_known_issue_and_fullest_filesystems(
        full_tmpfs: Path) -> None:
    out = dk("probe", "-p", "disk")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert f"Filesystem {full_tmpfs} is 100 % full" in text
    # The starter KB is there on the first probe of a new install, and its article matches.
    known = re.search(r"^  Known issue: (.+) \(disk-full\)$", text, re.MULTILINE)
    assert known, text
    evidence = text[text.index("Evidence:"):text.index("Probes:")]
    lines = evidence.splitlines()
    assert lines[1] == "  disk: Fullest filesystems"
    assert re.match(r"^    MOUNT +TYPE +SIZE +FREE +USED +INODES$", lines[2])
    # Aligned, sizes readable; the full ones come first (another test may have a full disk too).
    ours = [line for line in lines if str(full_tmpfs) in line]
    assert len(ours) == 1 and re.match(
        rf"^    {re.escape(str(full_tmpfs))} +tmpfs +1\.0 MiB +0 B +100% +\d+%$", ours[0])
    used = [int(m.group(1)) for line in lines[3:] if (m := re.search(r" (\d+)% +\d+%$", line))]
    assert used == sorted(used, reverse=True) and len(used) == len(lines) - 3
    assert text.index("Findings") < text.index("Known issue") < text.index("Evidence:")


def test_every_probe_shows_its_key_tables_compactly() -> None:
    out = dk("probe", "-p", "cpu", "-p", "memory", "-p", "files")
    assert out.returncode == 0, out.stderr
    evidence = out.stdout[out.stdout.index("Evidence:"):out.stdout.index("Probes:")]
    assert "  memory: Largest resident memory" in evidence
    assert "  files: Processes with the most open files, against their own limit" in evidence
    assert re.search(r"^      PID +RSS +COMMAND$", evidence, re.MULTILINE)
    assert max(len(line) for line in evidence.splitlines()) <= 120
