"""Copying logs from a connected host into the local cache, and listing what is there.

``fetch`` copies ``remote_path`` to ``data_dir()/cache/fetched/<host>/<path>`` with the
transport's :meth:`~diagkit.transport.base.Transport.copy_file`: byte for byte, streamed, with
the remote modification time, owner-only, and never a partial file under the final name (SFTP or
``cat`` over SSH, a plain file copy for the local machine). An interrupted fetch keeps its part
file and the next fetch of the same file resumes it; ``max_bytes`` caps the size.

:func:`split_remote` reads the ``HOST:PATH`` the CLI takes (``diagkit logs fetch web1:/var/log/x``).
"""

from __future__ import annotations

import re
import shlex
import threading
from datetime import datetime
from pathlib import Path

from diagkit.config import data_dir, private_dir
from diagkit.errors import CommandTimeout, LogFormatError, RemoteFileError, RemoteFileTooLarge
from diagkit.transport.base import Progress, Transport

__all__ = ["DEFAULT_MAX_BYTES", "Progress", "cache_path", "fetch", "list_remote_logs",
           "split_remote"]

#: Fetches stop at this size unless told otherwise: a runaway log of many GiB should not fill
#: the engineer's disk by accident.
DEFAULT_MAX_BYTES = 2 << 30

_REMOTE = re.compile(r"^(?P<host>[^:/\\\s][^:/\\]+):(?P<path>/.*)$")


def split_remote(text: str) -> tuple[str, str] | None:
    """``HOST:PATH`` -> (host, path) when ``text`` names a file on a host, else None.

    ``PATH`` must be absolute; ``HOST`` may be ``user@host`` and is at least two characters, so
    a Windows path (``C:/logs/x``) is not taken for one. The caller checks first whether a local
    file of that name exists.
    """
    m = _REMOTE.match(text)
    return (m.group("host"), m.group("path")) if m else None


def _safe_host(host: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", host) or "host"


def cache_path(host: str, remote_path: str, cache_dir: Path | None = None) -> Path:
    base = cache_dir or data_dir() / "cache" / "fetched"
    parts = [p for p in remote_path.split("/") if p not in ("", ".", "..")]
    return base.joinpath(_safe_host(host), *parts)


def fetch(transport: Transport, remote_path: str, *, cache_dir: Path | None = None,
          progress: Progress | None = None, cancel: threading.Event | None = None,
          resume: bool = True, max_bytes: int | None = None) -> Path:
    """Copy a remote log into the local cache; return the local path.

    ``resume``: continue an interrupted fetch of the same file from where it stopped.
    ``max_bytes``: refuse a bigger file (:class:`RemoteFileTooLarge`, nothing kept).

    Errors: :class:`RemoteFileError` (cannot read it there), :class:`ConnectionLost` and other
    :class:`TransportError` types, :class:`CommandTimeout` (cancelled).
    """
    host = transport.host
    target = cache_path(host, remote_path, cache_dir)
    private_dir(target.parent)  # fetched logs hold customer data: owner only
    try:
        transport.copy_file(remote_path, target, progress=progress, cancel=cancel, resume=resume,
                            max_bytes=max_bytes)
    except RemoteFileTooLarge:
        raise
    except RemoteFileError as exc:
        raise RemoteFileError(
            f"Cannot fetch {remote_path} from {host}: {exc.reason}. Check the path and that the "
            "login user may read it (many logs need root or the adm group).",
            host=host, path=remote_path, reason=exc.reason) from exc
    except CommandTimeout as exc:
        again = " Fetch it again to resume from there." if resume else ""
        raise CommandTimeout(f"Fetching {remote_path} from {host} was stopped.{again}",
                             host=host, timeout=exc.timeout) from exc
    return target


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
