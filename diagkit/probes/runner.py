"""Run probes: one host snapshot (all probes in parallel over one connection), or many hosts.

Containment is the rule: a probe that hangs is killed at its timeout, a parser that raises or a
script that fails becomes an *error result* for that probe, and the others complete. A host that
cannot be reached becomes a :class:`HostSnapshot` with ``error`` set; the other hosts go on and
never wait for it beyond the bounded pool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from diagkit.errors import CommandTimeout, DiagkitError, TransportError
from diagkit.probes.base import Finding, Probe, ProbeData, ProbeResult
from diagkit.transport.base import Transport

log = logging.getLogger(__name__)

#: Probes of one snapshot run in parallel channels over one connection, at most this many at once
#: (OpenSSH's default MaxSessions is 10; the SSH transport also caps itself at 6).
MAX_CHANNELS = 6
#: Hosts contacted at once by :func:`run_many`.
MAX_HOSTS = 16

T = TypeVar("T")


@dataclass(frozen=True)
class HostSnapshot:
    """Every probe's result on one host, or why the host could not be reached."""

    host: str
    results: tuple[ProbeResult, ...]
    started: datetime
    duration: float
    error: str | None = None
    error_kind: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def findings(self) -> list[Finding]:
        """All findings, worst first, then in probe order."""
        found = [f for r in self.results for f in r.findings]
        return sorted(found, key=lambda f: -f.severity)

    def result(self, probe: str) -> ProbeResult | None:
        return next((r for r in self.results if r.probe == probe), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "ok": self.ok,
            "error": self.error,
            "error_kind": self.error_kind,
            "started": self.started.isoformat(),
            "duration": round(self.duration, 4),
            "findings": [f.to_dict() for f in self.findings],
            "results": [r.to_dict() for r in self.results],
        }


def command_for(probe: Probe) -> tuple[str, str | None]:
    """The shell command that runs ``probe`` on a target, and what to feed it on stdin."""
    if probe.source == "builtin":
        return "sh -s", probe.script
    from diagkit.probes.user import command_for as user_command

    return user_command(probe)


def run_probe(transport: Transport, probe: Probe, *, cancel: threading.Event | None = None) -> ProbeResult:
    """Run one probe and parse its output. Never raises for probe or transport failures."""
    started = time.monotonic()
    raw = stderr = ""
    status: int | None = None
    try:
        command, stdin = command_for(probe)
        result = transport.run(command, timeout=probe.timeout, stdin=stdin, cancel=cancel)
        raw, stderr, status = result.stdout, result.stderr, result.exit_status
    except CommandTimeout as exc:
        why = "was stopped" if exc.timeout == 0 else f"did not finish within {probe.timeout:g} s and was stopped"
        return _error(probe, transport, started, f"The {probe.name} probe {why}; "
                      "the host may be overloaded or a tool it runs is hanging. Try it again alone.",
                      raw=exc.stdout, stderr=exc.stderr, kind=type(exc).__name__)
    except DiagkitError as exc:
        return _error(probe, transport, started, str(exc), kind=type(exc).__name__)
    try:
        data = probe.parse(raw)
    except DiagkitError as exc:
        return _error(probe, transport, started, str(exc), raw=raw, stderr=stderr, status=status,
                      kind=type(exc).__name__)
    except Exception as exc:  # a parser bug must not take the snapshot down
        log.exception("parser of probe %s failed on %s", probe.name, transport.host)
        return _error(
            probe, transport, started,
            f"diagkit could not understand the output of the {probe.name} probe ({type(exc).__name__}: "
            f"{exc}). The raw output is kept; please report this with it.",
            raw=raw, stderr=stderr, status=status, kind="ParserError",
        )
    error = None
    if status not in (0, None) and not data.metrics and not data.facts and not data.tables:
        error = (
            f"The {probe.name} probe exited with status {status} and printed nothing usable"
            + (f": {stderr.strip().splitlines()[-1]}" if stderr.strip() else ".")
        )
    tagged = replace(
        data,
        findings=tuple(f if f.probe else _with_probe(f, probe.name) for f in data.findings),
        summary=data.summary or _headline(probe, data),
    )
    return ProbeResult(probe.name, transport.host, tagged, raw, stderr, status,
                       time.monotonic() - started, error, "ScriptFailed" if error else None)


def _headline(probe: Probe, data: ProbeData) -> str:
    if probe.summarize is None:
        return ""
    try:
        return probe.summarize(data)
    except Exception:  # a headline bug must not cost the result
        log.exception("summary of probe %s failed", probe.name)
        return ""


def _with_probe(finding: Finding, name: str) -> Finding:
    return Finding(finding.severity, finding.title, finding.detail, finding.hint, name)


def _error(
    probe: Probe, transport: Transport, started: float, message: str, *,
    raw: str = "", stderr: str = "", status: int | None = None, kind: str | None = None,
) -> ProbeResult:
    return ProbeResult(probe.name, transport.host, ProbeData(), raw, stderr, status,
                       time.monotonic() - started, message, kind)


def snapshot(
    transport: Transport,
    probes: Sequence[Probe],
    *,
    cancel: threading.Event | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> HostSnapshot:
    """Run ``probes`` on one host in parallel channels; results keep the order of ``probes``."""
    started_at = datetime.now(UTC)
    started = time.monotonic()
    results: list[ProbeResult | None] = [None] * len(probes)

    def one(index: int) -> None:
        result = run_probe(transport, probes[index], cancel=cancel)
        results[index] = result
        if on_result is not None:
            on_result(result)

    workers = max(1, min(MAX_CHANNELS, len(probes)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:
        list(pool.map(one, range(len(probes))))
    return HostSnapshot(
        host=transport.host,
        results=tuple(r for r in results if r is not None),
        started=started_at,
        duration=time.monotonic() - started,
    )


def snapshot_host(
    target: T,
    probes: Sequence[Probe],
    connect: Callable[[T], Transport],
    *,
    label: Callable[[T], str] = str,
    cancel: threading.Event | None = None,
) -> HostSnapshot:
    """Connect, snapshot, close. A connection failure becomes an error snapshot."""
    started_at = datetime.now(UTC)
    started = time.monotonic()
    try:
        transport = connect(target)
    except TransportError as exc:
        return HostSnapshot(label(target), (), started_at, time.monotonic() - started,
                            error=str(exc), error_kind=type(exc).__name__)
    except DiagkitError as exc:
        return HostSnapshot(label(target), (), started_at, time.monotonic() - started,
                            error=str(exc), error_kind=type(exc).__name__)
    with transport:
        return snapshot(transport, probes, cancel=cancel)


def run_many(
    targets: Sequence[T],
    probes: Sequence[Probe],
    connect: Callable[[T], Transport],
    *,
    label: Callable[[T], str] = str,
    max_hosts: int = MAX_HOSTS,
    cancel: threading.Event | None = None,
) -> list[HostSnapshot]:
    """Snapshot many hosts with a bounded pool; results keep the order of ``targets``."""
    workers = max(1, min(max_hosts, len(targets)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="host") as pool:
        return list(pool.map(
            lambda t: snapshot_host(t, probes, connect, label=label, cancel=cancel), targets
        ))
