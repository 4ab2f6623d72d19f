"""Fixtures shared by the log tests: the machine's local zone, set for one test (naive log
times are local time, so results that print times depend on it)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def local_zone(name: str) -> Iterator[None]:
    """Run the block with ``TZ`` set to ``name``, then restore the zone before it."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.fixture
def utc() -> Iterator[None]:
    with local_zone("UTC"):
        yield


@pytest.fixture
def local_tz() -> Iterator[None]:
    """A local zone that has DST."""
    with local_zone("Europe/Berlin"):
        yield
