"""Small readers for parsed probe data, shared by the parser tests."""

from __future__ import annotations

from diagkit.probes.base import ProbeData, Severity, Table


def metric(data: ProbeData, name: str, **labels: str) -> float:
    """The one metric called ``name`` with exactly these labels (fails when not exactly one)."""
    found = [m for m in data.metrics if m.name == name and dict(m.labels) == labels]
    assert len(found) == 1, (name, labels)
    return found[0].value


def table(data: ProbeData, name: str) -> Table:
    return next(t for t in data.tables if t.name == name)


def by_title(data: ProbeData) -> dict[str, Severity]:
    return {f.title: f.severity for f in data.findings}
