"""Copying logs from a connected host into the local cache, and listing what is there.

``fetch`` copies ``remote_path`` to ``data_dir()/cache/fetched/<host>/<path>``: over SFTP on the
SSH transport's own connection (streamed in 1 MiB blocks, no size limit), as a plain file copy for
the local machine, and for any other transport by streaming ``cat`` through ``run``.
"""

from __future__ import annotations

import re
import shlex
import shutil
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from diagkit.config import data_dir, make_private, private_dir
from diagkit.errors import CommandTimeout, LogFormatError, TransportError
from diagkit.transport.base import Transport

BLOCK = 1 << 20
Progress = Callable[[int, int], None]  # (bytes done, bytes total or 0 when unknown)


def _safe_host(host: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", host) or "host"


def cache_path(host: str, remote_path: str, cache_dir: Path | None = None) -> Path:
    base = cache_dir or data_dir() / "cache" / "fetched"
    parts = [p for p in remote_path.split("/") if p not in ("", ".", "..")]
    return base.joinpath(_safe_host(host), *parts)


def _sftp_of(transport: Transport) -> Any:
    """An SFTP client on the SSH transport's connection, or None (not SSH / no subsystem)."""
    inner = getattr(transport, "_transport", None)
    if inner is None:
        return None
    import paramiko

    try:
        return paramiko.SFTPClient.from_transport(inner)
    except (paramiko.SSHException, EOFError, OSError):
        return None


def fetch(transport: Transport, remote_path: str, *, cache_dir: Path | None = None,
          progress: Progress | None = None, cancel: threading.Event | None = None) -> Path:
    """Copy a remote log into the local cache; return the local path.

    Errors: :class:`TransportError` (cannot read it there), :class:`CommandTimeout` (cancelled).
    """
    target = cache_path(transport.host, remote_path, cache_dir)
    private_dir(target.parent)  # fetched logs hold customer data: owner only
    tmp = target.with_name(f".{target.name}.part")
    try:
        from diagkit.transport.local import LocalTransport

        if isinstance(transport, LocalTransport):
            _copy_local(remote_path, tmp, transport.host, progress, cancel)
        else:
            sftp = _sftp_of(transport)
            if sftp is not None:
                try:
                    _copy_sftp(sftp, remote_path, tmp, transport.host, progress, cancel)
                finally:
                    sftp.close()
            else:
                _copy_cat(transport, remote_path, tmp, progress, cancel)
        make_private(tmp)  # copystat may have brought the source's group bits
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _cannot(path: str, host: str, why: str) -> TransportError:
    return TransportError(f"Cannot fetch {path} from {host}: {why}. Check the path and that the "
                          "login user may read it (many logs need root or the adm group).", host=host)


def _stopped(host: str) -> CommandTimeout:
    return CommandTimeout(f"Fetching from {host} was stopped.", host=host, timeout=0.0)


def _copy_local(path: str, tmp: Path, host: str, progress: Progress | None,
                cancel: threading.Event | None) -> None:
    try:
        src = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise _cannot(path, host, exc.strerror or str(exc)) from exc
    with src, open(tmp, "wb") as out:
        total = Path(path).stat().st_size
        done = 0
        while block := src.read(BLOCK):
            if cancel is not None and cancel.is_set():
                raise _stopped(host)
            out.write(block)
            done += len(block)
            if progress:
                progress(done, total)
    shutil.copystat(path, tmp)


def _copy_sftp(sftp: Any, path: str, tmp: Path, host: str, progress: Progress | None,
               cancel: threading.Event | None) -> None:
    import os

    try:
        st = sftp.stat(path)
        fh = sftp.open(path, "rb")
    except OSError as exc:
        raise _cannot(path, host, exc.strerror or str(exc)) from exc
    total = st.st_size or 0
    done = 0
    with fh, open(tmp, "wb") as out:
        fh.prefetch(total)  # pipelined reads: far faster than one request at a time
        while True:
            if cancel is not None and cancel.is_set():
                raise _stopped(host)
            block = fh.read(BLOCK)
            if not block:
                break
            out.write(block)
            done += len(block)
            if progress:
                progress(done, total)
    if st.st_mtime:
        os.utime(tmp, (st.st_mtime, st.st_mtime))  # the mtime dates syslog lines without a year


def _copy_cat(transport: Transport, path: str, tmp: Path, progress: Progress | None,
              cancel: threading.Event | None) -> None:
    # Fallback without SFTP: the transport hands text; latin-1 would be lossless but run()
    # decodes UTF-8 with replacement, so this path may alter invalid bytes (said in the docs).
    done = 0
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        def sink(stream: str, text: str) -> None:
            nonlocal done
            if stream == "stdout":
                out.write(text)
                done += len(text)
                if progress:
                    progress(done, 0)

        res = transport.run(f"cat -- {shlex.quote(path)}", timeout=None, on_output=sink,
                            cancel=cancel)
    if not res.ok:
        raise _cannot(path, transport.host, res.stderr.strip() or f"exit status {res.exit_status}")


def list_remote_logs(transport: Transport, directory: str = "/var/log"
                     ) -> list[tuple[str, int, datetime]]:
    """Regular files under ``directory`` as (path, size, mtime), largest folders' order kept.

    One ``find`` command (GNU find's ``-printf``; busybox/BSD fall back to ``ls -ln`` per file).
    Unreadable sub-folders are skipped silently.
    """
    d = shlex.quote(directory)
    script = (f"if find {d} -maxdepth 0 -printf '' 2>/dev/null; then "
              f"find {d} -type f -printf '%s %T@ %p\\n' 2>/dev/null; else "
              f"find {d} -type f -exec stat -c '%s %Y %n' {{}} + 2>/dev/null; fi; "
              f"test -d {d} || {{ echo 'no such folder' >&2; exit 2; }}")
    res = transport.run(script, timeout=60)
    if res.exit_status == 2:
        raise LogFormatError(f"There is no folder {directory} on {transport.host}. "
                             "Give another folder.")
    out: list[tuple[str, int, datetime]] = []
    for line in res.stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) != 3:
            continue
        try:
            size, mtime = int(parts[0]), float(parts[1])
        except ValueError:
            continue
        out.append((parts[2], size, datetime.fromtimestamp(mtime)))
    out.sort(key=lambda t: t[0])
    return out
