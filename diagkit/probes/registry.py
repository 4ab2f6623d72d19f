"""Which probes exist: the built-ins (one module each) and the user's script probes."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path

from diagkit.errors import ProbeError
from diagkit.probes.base import Probe

#: Built-in probes in the order a snapshot shows them. Each is ``diagkit/probes/<name>.py``.
BUILTIN_NAMES: tuple[str, ...] = (
    "system",
    "cpu",
    "memory",
    "disk",
    "network",
    "processes",
    "files",
    "services",
    "kernel",
    "logs",
    "changes",
)


def builtin_probes() -> list[Probe]:
    probes = []
    for name in BUILTIN_NAMES:
        module = importlib.import_module(f"diagkit.probes.{name}")
        probe = module.PROBE
        if probe.name != name:
            raise ProbeError(f"diagkit/probes/{name}.py declares the name {probe.name!r}")
        probes.append(probe)
    return probes


def user_probes(directory: Path | None = None) -> tuple[list[Probe], list[str]]:
    """User script probes from the config dir, and the problems found while loading them."""
    from diagkit.probes.user import load_user_probes

    return load_user_probes(directory, reserved=BUILTIN_NAMES)


def all_probes(user_dir: Path | None = None) -> tuple[list[Probe], list[str]]:
    """Built-ins first, then user probes (a user probe never shadows a built-in)."""
    found, problems = user_probes(user_dir)
    return builtin_probes() + found, problems


def select(probes: Iterable[Probe], names: Iterable[str]) -> list[Probe]:
    """The probes named, in the order given; an unknown name is an error listing the known ones."""
    by_name = {p.name: p for p in probes}
    chosen = []
    for name in names:
        if name not in by_name:
            known = ", ".join(sorted(by_name))
            raise ProbeError(f"No probe named {name!r}. Known probes: {known}. See 'diagkit probes'.")
        chosen.append(by_name[name])
    return chosen
