"""``diagkit metrics``: placeholder until the subcommands land."""

from __future__ import annotations

from typing import Any


def add_parser(sub: Any) -> None:
    """Register ``diagkit metrics`` on the top-level subparsers; set ``handler=func(args, out)``."""
