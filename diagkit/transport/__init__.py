"""Transports: how commands reach a machine. See :mod:`diagkit.transport.base`."""

from __future__ import annotations

from diagkit.transport.base import CommandResult, Transport
from diagkit.transport.local import LocalTransport

__all__ = ["CommandResult", "LocalTransport", "Transport"]
