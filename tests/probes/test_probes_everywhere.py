"""Every built-in probe: declared properly, parses its captured outputs, and gives the same result
shape locally and over a real SSH connection."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from diagkit.probes.base import ProbeData, ProbeResult
from diagkit.probes.registry import BUILTIN_NAMES, builtin_probes
from diagkit.probes.runner import snapshot
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshServer

DATA = Path(__file__).resolve().parent.parent / "data" / "probes"
PROBES = {p.name: p for p in builtin_probes()}


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_declaration(name: str) -> None:
    probe = PROBES[name]
    assert probe.title and len(probe.description) > 20
    assert 0 < probe.timeout <= 60
    # POSIX sh syntax, checked by a strict POSIX shell when there is one
    checker = shutil.which("dash") or shutil.which("sh")
    check = subprocess.run([checker, "-n"], input=probe.script, capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stderr
    assert "#!/bin/bash" not in probe.script and "[[" not in probe.script


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_every_capture_parses(name: str) -> None:
    captures = sorted((DATA / name).glob("*.txt"))
    assert len(captures) >= 2, f"tests/data/probes/{name}/ needs captured outputs"
    for path in captures:
        data = PROBES[name].parse(path.read_text(errors="replace"))
        assert isinstance(data, ProbeData), path
        headline = PROBES[name].summarize(data)  # type: ignore[misc]
        assert headline and "?" not in headline.split(), (path.name, headline)


def shape(result: ProbeResult) -> dict[str, object]:
    return {
        "ok": result.ok,
        "facts": sorted(result.data.facts),
        "metrics": sorted({m.name for m in result.data.metrics}),
        "tables": sorted((t.name, t.columns) for t in result.data.tables),
    }


def test_same_shape_locally_and_over_ssh(sshd: SshServer) -> None:
    probes = builtin_probes()
    local = snapshot(LocalTransport(), probes)
    target = SshTarget(host=sshd.address, port=sshd.port, user="root",
                       identity_files=(str(sshd.client_key_path),))
    with SshTransport.connect(target, accept_new_host_key=True) as transport:
        remote = snapshot(transport, probes)
    assert [r.probe for r in remote.results] == list(BUILTIN_NAMES)
    for loc, rem in zip(local.results, remote.results, strict=True):
        assert loc.ok, f"{loc.probe} failed locally: {loc.error}"
        assert rem.ok, f"{rem.probe} failed over SSH: {rem.error}"
        assert rem.exit_status == 0
        assert rem.data.metrics or rem.data.facts or rem.data.tables, rem.probe
        # The same machine seen two ways: the same facts, metric names and table layouts.
        # (Values move between the two runs; the shape must not.)
        loc_shape, rem_shape = shape(loc), shape(rem)
        assert loc_shape["facts"] == rem_shape["facts"], loc.probe
        assert loc_shape["tables"] == rem_shape["tables"], loc.probe
        assert loc_shape["metrics"] == rem_shape["metrics"], loc.probe
