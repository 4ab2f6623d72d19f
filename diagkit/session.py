"""Turn what an engineer types ("local", a saved host name, ``user@host:port``, an SSH alias)
into an open :class:`~diagkit.transport.base.Transport`."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from diagkit.connection import DEFAULT_LIVENESS, Liveness
from diagkit.errors import ConfigError
from diagkit.hosts import LOCAL_NAME, HostStore, SavedHost
from diagkit.transport.base import Transport
from diagkit.transport.local import LocalTransport

_DEST_RE = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?P<host>\[[^\]]+\]|[^:\s]+)(?::(?P<port>\d+))?$")


@dataclass(frozen=True)
class HostRef:
    """A target as resolved from the user's words. ``saved`` is set for saved hosts."""

    label: str
    address: str
    port: int | None = None
    user: str | None = None
    jump: str | None = None
    saved: SavedHost | None = None

    @property
    def is_local(self) -> bool:
        return self.address == LOCAL_NAME


LOCAL = HostRef(label=LOCAL_NAME, address=LOCAL_NAME)


def resolve(text: str, store: HostStore | None = None) -> HostRef:
    """``local`` -> this machine; a saved name -> that host; else ``[user@]host[:port]``."""
    text = text.strip()
    if text in (LOCAL_NAME, ""):
        return LOCAL
    saved = (store or HostStore()).find(text)
    if saved is not None:
        return HostRef(
            label=saved.name,
            address=saved.address,
            port=saved.port,
            user=saved.user,
            jump=saved.jump,
            saved=saved,
        )
    m = _DEST_RE.match(text)
    if not m:
        raise ConfigError(
            f"{text!r} is neither a saved host nor a destination like user@host:port. "
            "See 'diagkit hosts list'."
        )
    host = m.group("host").strip("[]")
    port = int(m.group("port")) if m.group("port") else None
    return HostRef(label=text, address=host, port=port, user=m.group("user"))


def expand_jump(spec: str | None, store: HostStore | None = None, _depth: int = 0) -> str | None:
    """Replace saved-host names in a ProxyJump chain by their ``user@address:port``.

    A saved jump host's own jump chain goes in front of it. Other hops (``~/.ssh/config`` aliases,
    plain addresses) are left for the SSH transport to resolve.
    """
    if not spec or spec.strip().lower() == "none":
        return spec
    if _depth > 8:
        raise ConfigError(f"The jump host chain {spec!r} loops through saved hosts; fix their --jump.")
    store = store or HostStore()
    hops: list[str] = []
    for hop in (h.strip() for h in spec.split(",")):
        saved = store.find(hop) if hop else None
        if saved is None:
            hops.append(hop)
            continue
        before = expand_jump(saved.jump, store, _depth + 1)
        if before:
            hops.append(before)
        hops.append(saved.destination)
    return ",".join(h for h in hops if h)


def connect(
    ref: HostRef | str,
    *,
    accept_new_host_key: bool = False,
    trusted_once: tuple[object, ...] = (),
    password: str | None = None,
    connect_timeout: float = 10.0,
    cancel: threading.Event | None = None,
    liveness: Liveness | None = DEFAULT_LIVENESS,
) -> Transport:
    """Open a transport to ``ref``. Raises the :mod:`diagkit.errors` of the transport.

    ``liveness``: the keepalives that find a dead or hung SSH server (None: none)."""
    if isinstance(ref, str):
        ref = resolve(ref)
    if ref.is_local:
        return LocalTransport()
    from diagkit.transport.ssh import SshTarget, SshTransport

    target = SshTarget(
        host=ref.address,
        port=ref.port,
        user=ref.user,
        jump=expand_jump(ref.jump),
        identity_files=(ref.saved.identity_file,) if ref.saved and ref.saved.identity_file else (),
        label=ref.label,
        password_account=ref.saved.password_account if ref.saved else f"host:{ref.label}",
    )
    return SshTransport.connect(
        target,
        accept_new_host_key=accept_new_host_key,
        trusted_once=trusted_once,
        connect_timeout=connect_timeout,
        password=password,
        cancel=cancel,
        liveness=liveness,
    )
