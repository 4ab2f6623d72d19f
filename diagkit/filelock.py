"""A cross-process lock held on a lock file, for read-modify-write of small JSON files.

:func:`hold` takes an exclusive lock on a lock file (created 0600 when missing): ``fcntl.flock``
on POSIX, ``msvcrt.locking`` on Windows; this is the only place in diagkit that uses either.
Both are advisory and released by the OS when the process dies, so a crash never leaves a
stale lock (the lock file itself stays, empty, and is reused).

The lock is re-entrant within one thread (``HostStore.update`` calls ``replace``, both lock);
other threads of the same process wait like other processes do, because each holder opens the
file anew and both primitives lock per open file. Waiting polls with a short back-off and gives
up after ``timeout`` seconds with a :class:`~diagkit.errors.ConfigError`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from diagkit.errors import ConfigError

DEFAULT_TIMEOUT = 30.0
_held = threading.local()  # per thread: {lock path: depth}


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def hold(lock_path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive lock on ``lock_path`` for the ``with`` body (its folder must exist)."""
    depths: dict[str, int] = getattr(_held, "depths", None) or {}
    _held.depths = depths
    key = os.path.abspath(lock_path)
    if depths.get(key):
        depths[key] += 1
        try:
            yield
        finally:
            depths[key] -= 1
        return
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigError(f"Cannot create the lock file {lock_path}: {exc.strerror}. "
                          "Check the folder's permissions.") from exc
    try:
        deadline = time.monotonic() + timeout
        pause = 0.001
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise ConfigError(
                    f"Another diagkit process has held {lock_path} for {timeout:g} s. Close other "
                    "diagkit windows or commands that may be stuck, then try again.")
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        depths[key] = 1
        try:
            yield
        finally:
            depths.pop(key, None)
            _unlock(fd)
    finally:
        os.close(fd)
