"""Every captured output in ``tests/data/probes/`` gives the same full ProbeResult as it did.

The snapshots in ``tests/data/probe_results/<probe>/<capture>.json`` were written from the
parsers as they were before the read/judge split (issue 14), and are kept as a regression net:
any change in a fact, a metric (value, unit, labels, int versus float), a table cell, a finding's
wording or severity, a note or the headline shows here as a diff. A deliberate change of output
rewrites them with ``python -m tests.probes.test_probe_snapshots --write`` and shows in review.

Each capture runs through the real runner (:func:`diagkit.probes.runner.run_probe`) on the local
machine, with the probe's script replaced by ``cat CAPTURE``: the same path as a live run, so the
snapshot is the ProbeResult a user would get (``to_dict()``, the JSON of docs/cli-json.md, plus
``summary()``), only ``duration`` left out and ``raw`` checked against the capture itself.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from diagkit.probes import user
from diagkit.probes.base import Probe, ProbeResult
from diagkit.probes.registry import BUILTIN_NAMES, builtin_probes
from diagkit.probes.runner import run_probe
from diagkit.transport.local import LocalTransport

DATA = Path(__file__).resolve().parent.parent / "data"
CAPTURES = DATA / "probes"
SNAPSHOTS = DATA / "probe_results"


def captures() -> list[Path]:
    found = sorted(CAPTURES.glob("*/*.txt"))
    assert {p.parent.name for p in found} >= set(BUILTIN_NAMES)
    return found


def probe_for(capture: Path) -> Probe:
    """The probe that parses ``capture``, its script replaced by ``cat CAPTURE``."""
    kind = capture.parent.name
    script = f"cat -- {shlex.quote(str(capture))}\n"
    if kind == "user":
        name = "user-" + capture.stem.replace("_", "-")
        return Probe(name, name, "a user probe's capture", script,
                     functools.partial(user.parse_output, name))
    probe = next(p for p in builtin_probes() if p.name == kind)
    return dataclasses.replace(probe, script=script)


def run(capture: Path) -> ProbeResult:
    with LocalTransport() as transport:
        return run_probe(transport, probe_for(capture))


def snapshot_of(result: ProbeResult) -> str:
    """The JSON text compared: exact, so 1 and 1.0 or a reordered fact differ."""
    data: dict[str, Any] = result.to_dict()
    del data["duration"], data["raw"]
    data["summary_line"] = result.summary()
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def snapshot_path(capture: Path) -> Path:
    return SNAPSHOTS / capture.parent.name / (capture.stem + ".json")


@pytest.mark.parametrize("capture", captures(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_result_matches_snapshot(capture: Path) -> None:
    result = run(capture)
    assert result.raw == capture.read_text(errors="replace")
    assert result.exit_status == 0 and result.stderr == ""
    expected = snapshot_path(capture)
    assert expected.is_file(), (
        f"no snapshot for {capture}: write it with python -m tests.probes.test_probe_snapshots "
        "--write and review the diff")
    assert snapshot_of(result) == expected.read_text(encoding="utf-8")


def test_no_snapshot_without_its_capture() -> None:
    wanted = {snapshot_path(c) for c in captures()}
    assert set(SNAPSHOTS.glob("*/*.json")) == wanted


def write_all() -> None:
    for capture in captures():
        path = snapshot_path(capture)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(snapshot_of(run(capture)), encoding="utf-8")
        print(path)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.probes.test_probe_snapshots --write")
    write_all()
