"""The corpus of real logs (tests/logs/wild): every file gets the format, records, times and
levels recorded in its manifest, read the way ``diagkit logs stats`` reads them."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from diagkit.logs.logfile import open_logs
from diagkit.logs.model import Level

TESTS = Path(__file__).resolve().parent.parent
WILD = TESTS / "logs" / "wild"
MANIFEST = json.loads((WILD / "manifest.json").read_text("utf-8"))
MTIME = datetime.fromisoformat(MANIFEST["mtime"]).timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds")


def test_manifest_lists_every_file_once() -> None:
    paths = [e["path"] for e in MANIFEST["files"]]
    assert len(paths) == len(set(paths))
    listed = {(TESTS / p).resolve() for p in paths}
    on_disk = {p.resolve() for p in (WILD / "files").iterdir()}
    assert on_disk <= listed, sorted(str(p) for p in on_disk - listed)
    assert all(e["origin"] for e in MANIFEST["files"])


@pytest.mark.parametrize("entry", MANIFEST["files"], ids=lambda e: e["path"].split("/", 2)[-1])
def test_wild_file(entry: dict[str, Any], tmp_path: Path, utc: None) -> None:
    src = TESTS / entry["path"]
    path = tmp_path / src.name
    shutil.copyfile(src, path)
    os.utime(path, (MTIME, MTIME))
    [log] = open_logs([path])
    try:
        ts = log.timestamps()
        dated = ts[~np.isnan(ts)]
        counts = np.bincount(log.levels().astype(np.int64), minlength=int(max(Level)) + 1)
        got = {
            "format": log.format.name,
            "records": log.record_count,
            "without_timestamp": int(len(ts) - len(dated)),
            "first": _iso(float(dated.min())) if len(dated) else None,
            "last": _iso(float(dated.max())) if len(dated) else None,
            "levels": {lv.label: int(counts[lv]) for lv in Level if counts[lv]},
        }
    finally:
        log.close()
    want = {k: entry[k] for k in got}
    assert got == want
