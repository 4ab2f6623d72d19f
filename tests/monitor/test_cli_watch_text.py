"""The watch's words on a host with faults really planted: two full ext4 loop disks give two
alerts naming their mounts; a filesystem full for the last hour (from the stored history) is
"full now", in text and in --json, and --json --journal journals it; history says "10 min"."""

from __future__ import annotations

import io
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from diagkit.cli import main
from diagkit.store.sqlite import SqliteSampleStore, SqliteStore


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdout=out), out.getvalue()


@pytest.fixture
def two_full_disks(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    mounts = []
    try:
        for name in ("spool", "pgdata"):
            image, point = tmp_path / f"{name}.img", tmp_path / name
            subprocess.run(["truncate", "-s", "8M", str(image)], check=True)
            subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
            point.mkdir()
            subprocess.run(["mount", "-o", "loop", str(image), str(point)], check=True)
            mounts.append(point)
            # Fill it as a runaway writer would, until "No space left on device".
            subprocess.run(["dd", "if=/dev/zero", f"of={point}/fill", "bs=1M"],
                           capture_output=True, check=False)
        yield mounts[0], mounts[1]
    finally:
        for point in mounts:
            subprocess.run(["umount", str(point)], check=False)


def seed_full_history(mount: str) -> None:
    """An hour of samples at 100 %: what an earlier watch of a full disk stored."""
    now = time.time()
    with SqliteSampleStore() as store:
        store.append(("local", now - 3600 + i * 60.0, {f"disk.used:{mount}": 100.0})
                     for i in range(60))


def test_two_full_disks_two_alerts_each_naming_its_mount(two_full_disks) -> None:
    spool, pgdata = two_full_disks
    code, text = run("watch", "local", "--interval", "0.3s", "--for", "1s", "--no-history")
    assert code == 0, text
    alerts = sorted({line.split("ALERT", 1)[1].strip() for line in text.splitlines()
                     if "  ALERT  " in line})
    assert alerts == [
        f"local: Disk used on {pgdata} critical (peak critical; min 100, avg 100, max 100 %)",
        f"local: Disk used on {spool} critical (peak critical; min 100, avg 100, max 100 %)"]


def test_forecasts_say_full_now_in_text_json_and_journal(two_full_disks) -> None:
    seed_full_history("/srv/shop/spool")
    code, text = run("watch", "local", "--interval", "0.3s", "--for", "1s")
    assert code == 0, text
    assert ("CRITICAL: local: The disk /srv/shop/spool is full now. Find what is writing: "
            "'du -xh --max-depth=2 /srv/shop/spool") in text
    assert "fills up in about 0 s" not in text

    assert run("case", "new", "Shop spool full", "--use")[0] == 0
    code, text = run("watch", "local", "--interval", "0.3s", "--for", "1s", "--json",
                     "--journal")
    assert code == 0, text
    events = [json.loads(line) for line in text.splitlines()]
    forecasts = [e for e in events if e["event"] == "forecast"]
    assert [(f["subject"], f["seconds_left"], f["severity"], f["title"]) for f in forecasts] == [
        ("/srv/shop/spool", 0.0, "critical", "The disk /srv/shop/spool is full now")]
    assert forecasts[0]["metric"] == "disk.used:/srv/shop/spool" and forecasts[0]["host"] == "local"
    alerts = {e["subject"]: e for e in events if e["event"] == "alert"}
    assert {str(p) for p in two_full_disks} <= set(alerts)
    assert alerts[str(two_full_disks[0])]["message"].startswith(
        f"local: Disk used on {two_full_disks[0]} critical")
    with SqliteStore() as store:
        journal = store.journal(1)
    found = [e for e in journal if e.kind == "finding"]
    assert [e.data["finding"]["title"] for e in found] == ["The disk /srv/shop/spool is full now"]
    journaled_alerts = [e.text for e in journal if e.kind == "alert"]
    assert any(f"Disk used on {two_full_disks[1]} critical" in t for t in journaled_alerts)


def test_history_reads_its_window_in_words() -> None:
    seed_full_history("/srv/x")
    code, text = run("history", "local", "--since", "10m")
    assert code == 0 and text.splitlines()[0] == "local: last 10 min"
    code, text = run("history", "local", "--since", "1h30m")
    assert text.splitlines()[0] == "local: last 1 h 30 min"
