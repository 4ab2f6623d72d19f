"""The runner contains failures: a hanging probe, a crashing parser, a failing script."""

from __future__ import annotations

import time

from diagkit.errors import ConnectionRefused
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity
from diagkit.probes.runner import run_many, run_probe, snapshot, snapshot_host
from diagkit.transport.local import LocalTransport


def _parse_number(output: str) -> ProbeData:
    value = float(output.strip())
    findings = (Finding(Severity.WARNING, "big"),) if value > 10 else ()
    return ProbeData(metrics=(Metric("n", value),), findings=findings)


def _boom(output: str) -> ProbeData:
    raise ValueError("unexpected line")


GOOD = Probe("good", "Good", "prints 42", "echo 42", _parse_number, timeout=5)
HANG = Probe("hang", "Hang", "never ends", "sleep 60", _parse_number, timeout=0.5)
CRASH = Probe("crash", "Crash", "parser bug", "echo x", _boom, timeout=5)
FAIL = Probe("fail", "Fail", "script fails", "echo oops >&2; exit 3", lambda o: ProbeData(), timeout=5)


def test_snapshot_contains_each_failure_and_keeps_order() -> None:
    started = time.monotonic()
    snap = snapshot(LocalTransport(), [GOOD, HANG, CRASH, FAIL])
    assert time.monotonic() - started < 10  # the hanging probe was stopped, not waited for
    assert [r.probe for r in snap.results] == ["good", "hang", "crash", "fail"]
    good, hang, crash, fail = snap.results
    assert good.ok and good.data.metrics[0].value == 42
    assert good.findings[0].probe == "good"  # findings are tagged with their probe
    assert snap.findings[0].title == "big"
    assert not hang.ok and "did not finish within 0.5 s" in (hang.error or "")
    assert not crash.ok and "ValueError" in (crash.error or "") and crash.raw == "x\n"
    assert not fail.ok and "status 3" in (fail.error or "") and "oops" in (fail.error or "")
    assert snap.to_dict()["results"][0]["metrics"][0]["value"] == 42


def test_run_probe_never_raises_for_transport_errors() -> None:
    class Broken(LocalTransport):
        def run(self, command, **kwargs):
            raise ConnectionRefused("refused; check the port", host=self.host)

    result = run_probe(Broken(), GOOD)
    assert not result.ok and "refused" in (result.error or "")


def test_unreachable_host_becomes_an_error_snapshot_and_others_complete() -> None:
    def connect(target: str) -> LocalTransport:
        if target == "dead":
            raise ConnectionRefused("nothing listens on dead:22; check the port", host=target)
        return LocalTransport(target)

    snaps = run_many(["a", "dead", "b"], [GOOD], connect)
    assert [s.host for s in snaps] == ["a", "dead", "b"]
    assert snaps[1].error_kind == "ConnectionRefused" and not snaps[1].results
    assert snaps[0].ok and snaps[2].ok and snaps[2].results[0].ok
    assert snapshot_host("dead", [GOOD], connect).to_dict()["ok"] is False
