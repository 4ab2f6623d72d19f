"""A remote machine over one reused SSH connection (paramiko).

``SshTransport.connect(SshTarget("web1"))`` resolves the target like OpenSSH does - explicit
fields, then ``~/.ssh/config`` (Host aliases, HostName, User, Port, IdentityFile, ProxyJump,
HostKeyAlias, ConnectTimeout, IdentitiesOnly), then defaults - connects hop by hop through any
ProxyJump chain (``direct-tcpip`` channels), checks every hop's host key against known_hosts
(:mod:`diagkit.transport.known_hosts`) itself, and authenticates with ssh-agent, key files
(passphrases from the keyring) and finally a password (argument or keyring).

Host keys: an unknown key raises :class:`~diagkit.errors.HostKeyUnknown` unless
``accept_new_host_key``; the UI may ask the user, call :func:`trust_host_key` and reconnect. A
changed or revoked key, or a key of another type when the host offers none of the types on
record, raises :class:`~diagkit.errors.HostKeyChanged`, and no flag overrides it.

Commands run as ``exec /bin/sh -c ...`` (like LocalTransport) behind a tiny wrapper that first
prints the shell's PID on stderr (stripped from the output). sshd starts every session command
in its own session/process group, so on timeout or cancel a second channel runs
``kill -TERM -PGID`` then ``kill -KILL``: the remote command really stops.

Files come back with ``copy_file`` over SFTP (pipelined reads) on the same connection; where the
host has no SFTP subsystem (busybox or dropbear hosts often lack ``sftp-server``) the copy runs
``cat`` over an exec channel instead, bytes kept as they are.

Errors: connecting maps each step's failure where it happens, because each has its own meaning
and next step (DNS, refused, banner timeout, host key, login, jump host). Once connected, every
paramiko call goes through :meth:`SshTransport._boundary`, and :meth:`SshTransport._map` is the
one place that turns paramiko's and the socket's errors into :mod:`diagkit.errors`: a dead
connection is ``ConnectionLost`` whatever paramiko called it, an SFTP answer about a file is
``RemoteFileError``, the rest ``TransportError``. No paramiko type leaves this module.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import logging
import os
import re
import select
import shlex
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import paramiko

from diagkit import config, credentials
from diagkit.connection import DEFAULT_LIVENESS, Liveness, lost_message
from diagkit.errors import (
    AuthError,
    CommandTimeout,
    ConfigError,
    ConnectError,
    ConnectionLost,
    ConnectionRefused,
    ConnectTimeout,
    HostKeyChanged,
    HostKeyError,
    HostKeyUnknown,
    HostNotFound,
    ProxyJumpError,
    RemoteFileError,
    TransportError,
)
from diagkit.transport import known_hosts
from diagkit.transport.base import (
    COPY_BLOCK,
    DEFAULT_TIMEOUT,
    CommandResult,
    ContextManagerMixin,
    OutputCallback,
    PartFile,
    Progress,
    utf8_decoder,
)
from diagkit.transport.shell import DEFAULT_TERM, ClosedSink, OutputSink, SshShell

log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 10.0
# OpenSSH's MaxSessions defaults to 10 channels per connection. A closed channel holds its slot
# until the server has processed the close, so stay well below: 6 open, room for closing ones
# and for kill commands.
MAX_PARALLEL_CHANNELS = 6
_KEEPALIVE = 15
_MAX_JUMPS = 8
_DEFAULT_KEYS = ("id_rsa", "id_ecdsa", "id_ed25519", "id_dsa")
_MARKER = b"__DIAGKIT_PID__="
_MARKER_RE = re.compile(rb"__DIAGKIT_PID__=(\d+)\n")
# Runs inside /bin/sh: print our PID (= PGID, sshd made us a session leader), then become the
# user's command; the command travels as $1 so its quoting is never re-parsed by us.
_WRAPPER = "printf '__DIAGKIT_PID__=%s\\n' \"$$\" >&2; exec /bin/sh -c \"$1\""


@dataclass(frozen=True)
class SshTarget:
    """Where to connect. Empty fields are filled from ``~/.ssh/config``, then defaults.

    ``host`` is an address or a ``~/.ssh/config`` alias; ``jump`` a ProxyJump spec
    (``"user@bastion:2222,host2"``, ``"none"`` to disable one from the config); ``label`` the
    display name (e.g. the saved host's name); ``password_account`` the keyring account of the
    password (default ``host:<label or host>``).
    """

    host: str
    port: int | None = None
    user: str | None = None
    jump: str | None = None
    identity_files: tuple[str, ...] = ()
    label: str = ""
    password_account: str = ""

    @property
    def display(self) -> str:
        return self.label or self.host

    @property
    def account(self) -> str:
        return self.password_account or credentials.host_account(self.display)


@dataclass(frozen=True)
class ResolvedHop:
    """One machine of the chain, after ``~/.ssh/config``."""

    name: str  # as given (alias or address)
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...]
    identities_only: bool = False
    host_key_alias: str = ""
    connect_timeout: float | None = None
    jumps: tuple[ResolvedHop, ...] = field(default=())

    @property
    def key_name(self) -> tuple[str, int]:
        """Name and port used in known_hosts (OpenSSH: the HostName, or HostKeyAlias)."""
        return (self.host_key_alias, 22) if self.host_key_alias else (self.hostname, self.port)

    @property
    def where(self) -> str:
        return f"{self.user}@{self.hostname}:{self.port}"


# --- resolution ------------------------------------------------------------------------------


def load_ssh_config(path: Path | None = None) -> paramiko.SSHConfig:
    path = path or config.ssh_config_file()
    try:
        return paramiko.SSHConfig.from_path(str(path))
    except FileNotFoundError:
        return paramiko.SSHConfig()
    except Exception as exc:  # paramiko raises several types for bad files
        raise ConfigError(f"Cannot read the SSH config {path}: {exc}. Fix the file or move it away.") from exc


def _parse_jump(spec: str) -> list[tuple[str | None, str, int | None]]:
    hops = []
    for part in spec.split(","):
        part = part.strip()
        part = part.removeprefix("ssh://")
        user, _, hostport = part.rpartition("@")
        host, port = hostport, None
        if hostport.startswith("["):
            host, _, rest = hostport[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else None
        elif hostport.count(":") == 1:
            host, port_text = hostport.split(":")
            port = int(port_text)
        hops.append((user or None, host, port))
    return hops


def resolve(
    host: str,
    *,
    port: int | None = None,
    user: str | None = None,
    jump: str | None = None,
    identity_files: tuple[str, ...] = (),
    ssh_config: paramiko.SSHConfig | None = None,
    _depth: int = 0,
) -> ResolvedHop:
    """Resolve one target and its ProxyJump chain through ``ssh_config``."""
    cfg = ssh_config or paramiko.SSHConfig()
    try:
        opts: dict[str, Any] = cfg.lookup(host)
    except Exception as exc:
        raise ConfigError(f"Cannot evaluate the SSH config for {host!r}: {exc}. Check the file.") from exc
    files = tuple(identity_files) + tuple(opts.get("identityfile", ()))
    if not files:
        files = tuple(f"~/.ssh/{name}" for name in _DEFAULT_KEYS)
    timeout = opts.get("connecttimeout")
    spec = jump if jump is not None else opts.get("proxyjump")
    jumps: tuple[ResolvedHop, ...] = ()
    if spec and spec.lower() != "none":
        if _depth >= _MAX_JUMPS:
            raise ConfigError(f"ProxyJump for {host!r} nests deeper than {_MAX_JUMPS} hops: check for a loop.")
        chain: list[ResolvedHop] = []
        for index, (j_user, j_host, j_port) in enumerate(_parse_jump(spec)):
            # Like `ssh -J a,b`: only the first hop may itself use a ProxyJump from the config.
            hop = resolve(j_host, port=j_port, user=j_user, ssh_config=cfg,
                          jump=None if index == 0 else "none", _depth=_depth + 1)
            chain.extend(hop.jumps)
            chain.append(replace(hop, jumps=()))
        jumps = tuple(chain)
    return ResolvedHop(
        name=host,
        hostname=opts.get("hostname", host),
        port=int(port or opts.get("port") or 22),
        user=user or opts.get("user") or getpass.getuser(),
        identity_files=tuple(os.path.expanduser(f) for f in files),
        identities_only=str(opts.get("identitiesonly", "no")).lower() == "yes",
        host_key_alias=opts.get("hostkeyalias", ""),
        connect_timeout=float(timeout) if timeout else None,
        jumps=jumps,
    )


# --- host keys -------------------------------------------------------------------------------


def trust_host_key(err: HostKeyUnknown) -> None:
    """Record the key of ``err`` in diagkit's known_hosts (after the user confirmed it)."""
    known_hosts.trust(err.host, err.port, err.key)  # type: ignore[arg-type]


def _prefer_known_key_types(transport: paramiko.Transport, host: str, port: int) -> None:
    # Ask for the key types we have on record first, as OpenSSH does; otherwise a host known by
    # its RSA key that also has an ed25519 one would negotiate ed25519 and look changed. If the
    # server offers none of them, _check_host_key refuses the key it offers instead.
    known = known_hosts.known_key_types(host, port)
    if not known:
        return
    options = transport.get_security_options()
    wanted: list[str] = []
    for key_type in known:
        wanted += ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] if key_type == "ssh-rsa" else [key_type]
    current = list(options.key_types)
    first = [k for k in wanted if k in current]
    options.key_types = tuple(first + [k for k in current if k not in first])


def _check_host_key(transport: paramiko.Transport, hop: ResolvedHop, accept_new: bool,
                    trusted_once: Sequence[object] = ()) -> None:
    key = transport.get_remote_server_key()
    host, port = hop.key_name
    match = known_hosts.lookup(host, port, key)
    if match.status is known_hosts.Status.KNOWN:
        return
    printed = known_hosts.fingerprint(key)
    if match.status is known_hosts.Status.REVOKED:
        raise HostKeyChanged(
            host=host, port=port, key_type=key.get_name(), fingerprint=printed,
            expected_fingerprint="that key as REVOKED", known_hosts_file=match.file,
            line=match.line, key=key, revoked=True,
        )
    if match.status in (known_hosts.Status.CHANGED, known_hosts.Status.OTHER_TYPE):
        # OTHER_TYPE: the host offers none of the key types on record (see known_hosts.lookup).
        raise HostKeyChanged(
            host=host, port=port, key_type=key.get_name(), fingerprint=printed,
            expected_fingerprint=match.recorded_fingerprint,
            expected_key_type=match.recorded_key_type,
            known_hosts_file=match.file, line=match.line, key=key,
        )
    if accept_new:
        known_hosts.trust(host, port, key)
        return
    if any(isinstance(k, paramiko.PKey) and k.asbytes() == key.asbytes() for k in trusted_once):
        return  # the user trusted this exact key for this connection only; nothing is saved
    raise HostKeyUnknown(host=host, port=port, key_type=key.get_name(), fingerprint=printed, key=key)


# --- authentication --------------------------------------------------------------------------


def _short(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if path.startswith(home + os.sep) else path


def _load_key(path: str) -> tuple[paramiko.PKey | None, str]:
    """The private key at ``path`` or (None, why it was skipped)."""
    try:
        return paramiko.PKey.from_path(path), ""
    except (paramiko.PasswordRequiredException, TypeError):
        # New-format OpenSSH keys report a missing passphrase as cryptography's TypeError.
        pass
    except (OSError, paramiko.SSHException, ValueError) as exc:
        return None, f"unreadable: {exc}"
    passphrase = credentials.get_key_passphrase(path)
    if passphrase is None:
        return None, "encrypted, no passphrase stored in the keyring"
    try:
        # cryptography wants the passphrase as bytes, whatever paramiko's hint says
        return paramiko.PKey.from_path(path, passphrase.encode()), ""  # type: ignore[arg-type]
    except (paramiko.SSHException, ValueError, TypeError):
        return None, "the stored passphrase does not open it"


def check_key_passphrase(path: str, passphrase: str) -> bool:
    """Whether ``passphrase`` opens the private key at ``path``.

    Returns False when the key is not encrypted at all (nothing to store). Raises
    :class:`ConfigError` when the file is not a readable key or the passphrase is wrong.
    """
    try:
        paramiko.PKey.from_path(path)
        return False
    except (paramiko.PasswordRequiredException, TypeError):
        pass
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise ConfigError(f"{path} could not be read as a private key ({exc}).") from exc
    try:
        paramiko.PKey.from_path(path, passphrase.encode())  # type: ignore[arg-type]  # as above
    except (paramiko.SSHException, ValueError, TypeError):
        raise ConfigError(f"That passphrase does not open {path}; nothing stored. Try again.") from None
    return True


def _authenticate(
    transport: paramiko.Transport, hop: ResolvedHop, *, password: str | None, account: str,
    hint_name: str,
) -> None:
    tried: list[str] = []
    user = hop.user

    def try_key(key: paramiko.PKey) -> bool:
        try:
            transport.auth_publickey(user, key)
        except paramiko.AuthenticationException:  # BadAuthenticationType included
            return False
        return transport.is_authenticated()

    if os.environ.get("SSH_AUTH_SOCK") and not hop.identities_only:
        agent = paramiko.Agent()
        try:
            keys = agent.get_keys()
            if not keys:
                tried.append("agent (no keys)")
            for key in keys:
                if try_key(key):
                    return
            if keys:
                tried.append(f"agent ({len(keys)} key(s) refused)")
        finally:
            agent.close()
    else:
        tried.append("agent (not running)" if not hop.identities_only else "agent (IdentitiesOnly)")

    explicit = [f for f in hop.identity_files if not f.endswith(tuple(_DEFAULT_KEYS))]
    for path in hop.identity_files:
        if not os.path.exists(path):
            if path in explicit:
                tried.append(f"key {_short(path)} (missing)")
            continue
        file_key, why = _load_key(path)
        if file_key is None:
            tried.append(f"key {_short(path)} ({why}: store it with 'diagkit keys set-passphrase')"
                         if "encrypted" in why else f"key {_short(path)} ({why})")
            continue
        if try_key(file_key):
            return
        tried.append(f"key {_short(path)} (refused)")

    secret = password if password is not None else credentials.get_password(account)
    if secret is None:
        tried.append(f"password (none stored: run 'diagkit hosts set-password {hint_name}')")
    else:
        outcome = "refused"
        try:
            transport.auth_password(user, secret)
        except paramiko.BadAuthenticationType as exc:
            outcome = "not allowed by the server"
            if "keyboard-interactive" in exc.allowed_types:
                try:
                    transport.auth_interactive(user, lambda _t, _i, prompts: [secret for _ in prompts])
                except paramiko.AuthenticationException:
                    outcome = "refused"
        except paramiko.AuthenticationException:
            pass
        if transport.is_authenticated():
            return
        tried.append(f"password ({outcome})")
    raise AuthError(
        f"{user}@{hop.hostname} refused every login method; tried: {', '.join(tried)}. Check the user "
        "name, add your public key to the host's ~/.ssh/authorized_keys, load it in ssh-agent, or "
        f"store the right password with 'diagkit hosts set-password {hint_name}'.",
        host=hop.hostname, methods_tried=tried,
    )


# --- the transport ---------------------------------------------------------------------------


def _open_socket(hop: ResolvedHop, timeout: float) -> socket.socket:
    where = f"{hop.hostname}:{hop.port}"
    try:
        return socket.create_connection((hop.hostname, hop.port), timeout=timeout)
    except socket.gaierror as exc:
        raise HostNotFound(
            f"The host name {hop.hostname!r} could not be resolved ({exc.strerror}). Check the spelling, "
            "your DNS / VPN, or use the IP address.", host=hop.hostname) from exc
    except ConnectionRefusedError as exc:
        raise ConnectionRefused(
            f"{where} refused the connection: no SSH server listens on that port. Check the port "
            "number and that sshd runs on the host.", host=hop.hostname) from exc
    except TimeoutError as exc:
        raise ConnectTimeout(
            f"{where} did not answer within {timeout:g} s. Check that the host is up and that no "
            "firewall drops SSH, or raise the connect timeout.", host=hop.hostname) from exc
    except OSError as exc:
        raise ConnectError(
            f"Cannot reach {where}: {exc.strerror or exc}. Check the network route to the host.",
            host=hop.hostname) from exc


class SshTransport(ContextManagerMixin):
    """One authenticated SSH connection; ``run`` opens a channel per command (thread-safe)."""

    def __init__(self, target: SshTarget, hop: ResolvedHop,
                 transports: list[paramiko.Transport], *,
                 liveness: Liveness | None = None) -> None:
        self._target = target
        self._hop = hop
        self._transports = transports  # jump hosts first, the target last
        self._transport = transports[-1]
        self._slots = threading.BoundedSemaphore(MAX_PARALLEL_CHANNELS)
        self._closed = False
        self._close_lock = threading.Lock()
        self._sftp_missing = False  # the host refused SFTP once: copies go straight to cat
        self.liveness = liveness
        self._lost_reason: str | None = None
        self._lost_listeners: list[Callable[[str], None]] = []
        self._stop_watch = threading.Event()
        self._poke = threading.Event()
        if liveness is not None:
            threading.Thread(target=self._watch_liveness, daemon=True,
                             name=f"ssh-liveness-{target.label or target.host}").start()

    # -- connecting --

    @classmethod
    def connect(
        cls,
        target: SshTarget,
        *,
        ssh_config_path: Path | None = None,
        accept_new_host_key: bool = False,
        trusted_once: Sequence[object] = (),
        connect_timeout: float | None = None,
        password: str | None = None,
        cancel: threading.Event | None = None,
        liveness: Liveness | None = DEFAULT_LIVENESS,
    ) -> SshTransport:
        """Connect and authenticate, or raise the matching :mod:`diagkit.errors` type.

        ``liveness``: keepalives the server must answer (None: none); a connection found dead
        or hung is closed, and :meth:`add_lost_listener`'s callbacks hear why.

        ``connect_timeout`` defaults to the config's ConnectTimeout, else 10 s, per hop.
        ``password`` is used for the target only (jump hosts use keys or their own keyring entry).
        ``trusted_once`` holds host keys (``HostKeyUnknown.key``) the user accepted for this
        connection only: an unknown host offering exactly that key is let through, nothing is
        saved. It never overrides a changed or revoked key.
        """
        cfg = load_ssh_config(ssh_config_path)
        hop = resolve(target.host, port=target.port, user=target.user, jump=target.jump,
                      identity_files=target.identity_files, ssh_config=cfg)
        chain = [*hop.jumps, replace(hop, jumps=())]
        transports: list[paramiko.Transport] = []
        watcher_stop = threading.Event()
        sockets: list[Any] = []
        if cancel is not None:
            def watch() -> None:
                while not watcher_stop.wait(0.1):
                    if cancel.is_set():
                        for s in sockets:
                            with contextlib.suppress(Exception):  # best effort
                                s.close()
                        return
            threading.Thread(target=watch, daemon=True, name="ssh-connect-cancel").start()
        try:
            for index, current in enumerate(chain):
                is_target = index == len(chain) - 1
                timeout = connect_timeout or current.connect_timeout or DEFAULT_CONNECT_TIMEOUT
                try:
                    if cancel is not None and cancel.is_set():
                        raise ConnectError(f"Connecting to {target.display} was cancelled.",
                                           host=target.display)
                    if index == 0:
                        sock: Any = _open_socket(current, timeout)
                    else:
                        sock = cls._open_tunnel(transports[-1], chain[index - 1], current, timeout)
                    sockets.append(sock)
                    transport = cls._handshake(
                        sock, current, timeout, accept_new_host_key, trusted_once,
                        password=password if is_target else None,
                        account=target.account if is_target else credentials.host_account(current.name),
                        hint_name=target.display if is_target else current.name,
                    )
                    transports.append(transport)
                except (HostKeyError, ProxyJumpError):
                    raise
                except (ConnectError, AuthError) as exc:
                    if is_target and index == 0:
                        raise
                    if cancel is not None and cancel.is_set():
                        raise ConnectError(f"Connecting to {target.display} was cancelled.",
                                           host=target.display) from exc
                    if is_target:
                        if isinstance(exc, AuthError):
                            raise
                        raise ProxyJumpError(
                            f"Through the jump host {chain[index - 1].name}: {exc}", host=target.display
                        ) from exc
                    raise ProxyJumpError(
                        f"The jump host {current.name} ({current.where}) failed: {exc}",
                        host=target.display) from exc
        except BaseException:
            for t in reversed(transports):
                t.close()
            for s in sockets:
                with contextlib.suppress(Exception):
                    s.close()
            if cancel is not None and cancel.is_set():
                raise ConnectError(f"Connecting to {target.display} was cancelled.", host=target.display) from None
            raise
        finally:
            watcher_stop.set()
        return cls(target, hop, transports, liveness=liveness)

    @staticmethod
    def _open_tunnel(via: paramiko.Transport, via_hop: ResolvedHop, hop: ResolvedHop,
                     timeout: float) -> paramiko.Channel:
        try:
            return via.open_channel("direct-tcpip", (hop.hostname, hop.port), ("127.0.0.1", 0),
                                    timeout=timeout)
        except paramiko.ChannelException as exc:
            raise ProxyJumpError(
                f"The jump host {via_hop.name} could not open a connection to {hop.hostname}:{hop.port} "
                f"({exc.text}). Check the address from the jump host's side and that it allows "
                "TCP forwarding (AllowTcpForwarding).", host=hop.name) from exc
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise ProxyJumpError(
                f"The jump host {via_hop.name} dropped the connection while forwarding to "
                f"{hop.hostname}:{hop.port}: {exc}. Try connecting to {via_hop.name} alone.",
                host=hop.name) from exc

    @staticmethod
    def _handshake(sock: Any, hop: ResolvedHop, timeout: float, accept_new: bool,
                   trusted_once: Sequence[object], *,
                   password: str | None, account: str, hint_name: str) -> paramiko.Transport:
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = timeout
            transport.auth_timeout = timeout
            _prefer_known_key_types(transport, *hop.key_name)
            begun = time.monotonic()
            try:
                transport.start_client(timeout=timeout)
                # paramiko can return from start_client with the transport already dead when the
                # banner read times out in its thread; asking for the key then fails too.
                server_key = transport.get_remote_server_key()
            except (paramiko.SSHException, EOFError, OSError) as exc:
                reason = transport.get_exception() or exc
                waited = time.monotonic() - begun
                if "banner" in str(reason).lower() or waited >= timeout * 0.9:
                    raise ConnectTimeout(
                        f"{hop.hostname}:{hop.port} accepted the connection but sent no SSH greeting "
                        f"within {timeout:g} s. Check that this port is an SSH server and that the "
                        "host is not overloaded; then try again.", host=hop.hostname) from exc
                raise ConnectError(
                    f"{hop.hostname}:{hop.port} accepted the connection but the SSH handshake failed "
                    f"({reason or type(reason).__name__}). Check that this port is an SSH server and "
                    "that it accepts this client (sshd logs say why).", host=hop.hostname) from exc
            del server_key
            _check_host_key(transport, hop, accept_new, trusted_once)
            try:
                _authenticate(transport, hop, password=password, account=account, hint_name=hint_name)
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise ConnectError(
                    f"{hop.hostname}:{hop.port} closed the connection during login ({exc}). "
                    "Check the server's logs (MaxStartups, AllowUsers...).", host=hop.hostname) from exc
            transport.set_keepalive(_KEEPALIVE)
            return transport
        except BaseException:
            transport.close()
            raise

    # -- the Transport protocol --

    @property
    def host(self) -> str:
        return self._target.label or f"{self._hop.user}@{self._target.host}"

    def _lost(self, detail: object) -> ConnectionLost:
        # the liveness check closed it: its reason ("no answer from the server for 15 s") is the
        # real one, not the closed socket that the interrupted call saw
        detail = self._lost_reason or detail
        return ConnectionLost(lost_message(self.host, detail), host=self.host)

    def _unreadable(self, path: str, why: str) -> RemoteFileError:
        return RemoteFileError(
            f"Cannot read {path} on {self.host}: {why}. Check the path and that {self._hop.user} "
            "may read it.", host=self.host, path=path, reason=why)

    def _map(self, exc: BaseException, failed: str, path: str = "") -> TransportError:
        """The one place where an error of paramiko (or of the socket under it) on the open
        connection becomes a diagkit error; see :meth:`_boundary`.

        A dead connection is :class:`ConnectionLost` whatever paramiko called it; with the
        connection up, the SFTP server's answer about ``path`` (an ``OSError``, as paramiko
        raises for SFTP status codes) is :class:`RemoteFileError`; anything else is ``failed`` (a
        sentence with ``{host}`` and ``{exc}`` to fill in) as a :class:`TransportError`.
        """
        # paramiko raises SFTP status codes as OSError (FileNotFoundError, PermissionError with
        # an errno; a bare OSError for "Failure"); a closed socket is an OSError without errno.
        sftp_answer = isinstance(exc, OSError) and not isinstance(exc, ConnectionError | TimeoutError)
        settled = (sftp_answer and getattr(exc, "errno", None) is not None) or isinstance(
            exc, paramiko.ChannelException)
        why = str(exc).strip().rstrip(":").strip() or type(exc).__name__
        if self._dropped(settled=settled):
            return self._lost(why)
        if path and sftp_answer:
            return self._unreadable(path, getattr(exc, "strerror", None) or why)
        return TransportError(failed.format(host=self.host, exc=why), host=self.host)

    def _dropped(self, *, settled: bool = False) -> bool:
        """Whether the connection is gone. paramiko can raise (an EOFError from its packet
        writer) a moment before it marks the transport inactive, so unless the error is an
        answer from the server (``settled``), give that ~0.5 s to show."""
        for _ in range(1 if settled else 10):
            if not self._transport.is_active():
                return True
            if not settled:
                time.sleep(0.05)
        return False

    @contextlib.contextmanager
    def _boundary(self, failed: str, path: str = "") -> Iterator[None]:
        """Around every paramiko call on the open connection: its errors leave as diagkit's.

        Keep local file writes outside: their ``OSError`` is this machine's, not the host's.
        """
        try:
            yield
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise self._map(exc, failed, path) from exc

    def _check_open(self) -> None:
        if self._lost_reason is not None:
            raise self._lost(self._lost_reason)
        if self._closed:
            raise TransportError(f"The connection to {self.host} was closed. Reconnect first.",
                                 host=self.host)

    def _open_channel(self) -> paramiko.Channel:
        self._check_open()
        # sshd frees a session slot only once both sides finished closing a channel, so right
        # after a burst of commands an open can be refused for a moment (MaxSessions): retry.
        deadline = time.monotonic() + 10.0
        delay = 0.02
        while True:
            try:
                return self._transport.open_session(timeout=DEFAULT_CONNECT_TIMEOUT)
            except (paramiko.SSHException, EOFError, OSError) as exc:
                if "timeout opening channel" in str(exc).lower():
                    # No answer at all is not a refusal (MaxSessions): the server is hung.
                    raise self._lost(
                        f"no answer from the server for {DEFAULT_CONNECT_TIMEOUT:g} s") from exc
                # paramiko reports a refused open as ChannelException, or - when two threads'
                # refusals race for its single saved exception - as a bare SSHException.
                error = self._map(exc, _CHANNEL_REFUSED)
                if isinstance(error, ConnectionLost) or time.monotonic() > deadline:
                    raise error from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def run(
        self,
        command: str,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        stdin: str | None = None,
        on_output: OutputCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> CommandResult:
        started = time.monotonic()
        out, err = bytearray(), bytearray()
        decoders = {"stdout": utf8_decoder(), "stderr": utf8_decoder()}

        def sink(stream: str, data: bytes) -> None:
            (out if stream == "stdout" else err).extend(data)
            if on_output is not None and data:
                text = decoders[stream].decode(data)
                if text:
                    on_output(stream, text)

        status, stopped = self._exec(
            command, timeout=timeout, stdin=stdin.encode() if stdin is not None else None,
            sink=sink, cancel=cancel)
        if on_output is not None:
            for stream, decoder in decoders.items():
                tail = decoder.decode(b"", final=True)
                if tail:
                    on_output(stream, tail)
        stdout = out.decode("utf-8", errors="replace")
        stderr = err.decode("utf-8", errors="replace")
        if stopped:
            raise CommandTimeout.killed(
                host=self.host, timeout=timeout, cancelled=cancel is not None and cancel.is_set(),
                stdout=stdout, stderr=stderr)
        return CommandResult(command, stdout, stderr, status, time.monotonic() - started)

    def _exec(
        self, command: str, *, timeout: float | None, stdin: bytes | None,
        sink: Callable[[str, bytes], None], cancel: threading.Event | None,
    ) -> tuple[int, bool]:
        """Run ``command`` with /bin/sh in a new channel: (exit status, was killed).

        Output goes to ``sink(stream, bytes)`` as it arrives, in this thread. If ``sink`` raises,
        the command is killed and the exception propagates.
        """
        wrapped = "exec /bin/sh -c " + shlex.quote(_WRAPPER) + " sh " + shlex.quote(command)
        if stdin is None:
            # No input: the remote side reads /dev/null and we never send EOF ourselves. A quick
            # command can finish before our EOF goes out, and paramiko may then send EOF after its
            # CLOSE reply; OpenSSH drops the whole connection for that ("ieof packet referred to
            # nonexistent channel").
            wrapped += " </dev/null"
        deadline = None if timeout is None else time.monotonic() + timeout
        marker = _PidMarker(sink)
        with self._slots:
            chan = self._open_channel()
            try:
                with self._boundary(_EXEC_REFUSED):
                    chan.exec_command(wrapped)
                    if stdin is not None:
                        chan.sendall(stdin)
                        # EOF right away: the command must not wait for more input.
                        chan.shutdown_write()
                try:
                    killed = self._pump(chan, marker, sink, deadline, cancel)
                except BaseException:
                    if marker.pid is not None and not chan.exit_status_ready():
                        self._kill(marker.pid)
                    raise
                if killed:
                    return -1, True
                status = chan.exit_status
                # paramiko marks channels closed just before the transport goes inactive: a
                # dropped connection and a command killed by a signal both lack an exit status.
                if status == -1 and self._dropped():
                    raise self._lost("the channel closed without an exit status")
                return status, False
            finally:
                chan.close()

    def _pump(self, chan: paramiko.Channel, marker: _PidMarker, sink: Callable[[str, bytes], None],
              deadline: float | None, cancel: threading.Event | None) -> bool:
        """Hand the channel's output on until the command ends (False) or is killed (True)."""
        fd = chan.fileno()
        while True:
            # Decide *before* draining: data always arrives ahead of EOF/CLOSE, so what was
            # buffered when the end was seen is read below, never left behind.
            finished = chan.closed or (chan.eof_received and chan.exit_status_ready())
            # stderr first: the wrapper's PID line goes out before the command's first byte, so
            # when a sink raises on that byte the PID is known and the command can be killed
            while data := self._recv(chan, stderr=True):
                marker.stderr(data)
            while data := self._recv(chan, stderr=False):
                sink("stdout", data)
            if finished:
                marker.flush()
                return False
            if (cancel is not None and cancel.is_set()) or (
                    deadline is not None and time.monotonic() > deadline):
                if marker.pid is not None:
                    self._kill(marker.pid)
                marker.flush()
                return True
            select.select([fd], [], [], 0.1)

    def _recv(self, chan: paramiko.Channel, *, stderr: bool) -> bytes:
        """What the channel holds now on one stream (b"" when nothing is waiting)."""
        # Reading can send (window adjustments), so a dead connection shows here too.
        with self._boundary(_CHANNEL_FAILED):
            if stderr:
                return chan.recv_stderr(65536) if chan.recv_stderr_ready() else b""
            return chan.recv(65536) if chan.recv_ready() else b""

    def _kill(self, pid: int) -> None:
        """TERM the command's process group, KILL it if still there after ~2 s; wait for that."""
        script = (
            f"kill -TERM -{pid} 2>/dev/null || kill -TERM {pid} 2>/dev/null; "
            "i=0; while [ $i -lt 20 ]; do "
            f"kill -0 -{pid} 2>/dev/null || kill -0 {pid} 2>/dev/null || exit 0; "
            "sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done; "
            f"kill -KILL -{pid} 2>/dev/null; kill -KILL {pid} 2>/dev/null; exit 0"
        )
        try:
            chan = self._open_channel()
        except TransportError:
            return  # the connection is gone; closing our channel is all we can do
        # Best effort: if this fails the connection is going, and the caller says so.
        with contextlib.suppress(TimeoutError, paramiko.SSHException, EOFError, OSError):
            chan.settimeout(15.0)
            chan.exec_command("exec /bin/sh -c " + shlex.quote(script) + " </dev/null")
            chan.recv_exit_status()
        chan.close()

    def copy_file(
        self,
        remote: str,
        local: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        resume: bool = False,
        max_bytes: int | None = None,
    ) -> int:
        """SFTP, else ``cat`` over an exec channel; see
        :meth:`diagkit.transport.base.Transport.copy_file`."""
        options = {"progress": progress, "cancel": cancel, "resume": resume,
                   "max_bytes": max_bytes}
        with self._slots:
            sftp = self._open_sftp()
            if sftp is not None:
                try:
                    return self._copy_sftp(sftp, remote, local, options)
                finally:
                    with contextlib.suppress(paramiko.SSHException, paramiko.SFTPError,
                                             EOFError, OSError):
                        sftp.close()
        return self._copy_cat(remote, local, options)

    def _open_sftp(self) -> paramiko.SFTPClient | None:
        """An SFTP session, or None where the host has no SFTP subsystem (busybox, dropbear)."""
        self._check_open()
        if self._sftp_missing:
            return None
        try:
            return paramiko.SFTPClient.from_transport(self._transport)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            error = self._map(exc, _CHANNEL_REFUSED)
            if isinstance(error, ConnectionLost):
                raise error from exc
            self._sftp_missing = True
            return None

    def _copy_sftp(self, sftp: paramiko.SFTPClient, remote: str, local: str | os.PathLike[str],
                   options: dict[str, Any]) -> int:
        with self._boundary(_SFTP_FAILED, remote):
            st = sftp.stat(remote)
            if stat.S_ISDIR(st.st_mode or 0):
                raise self._unreadable(remote, os.strerror(errno.EISDIR))
            fh = sftp.open(remote, "rb")
        total = st.st_size or 0
        close = True
        try:
            with PartFile(local, host=self.host, remote=remote, total=total, **options) as part:
                with self._boundary(_SFTP_FAILED, remote):
                    fh.seek(part.offset)  # resuming: only the rest
                    fh.prefetch(total)  # pipelined reads: far faster than one request at a time
                while True:
                    part.check_cancel()
                    with self._boundary(_SFTP_FAILED, remote):
                        block = fh.read(COPY_BLOCK)
                    if not block:
                        return part.commit(st.st_mtime, st.st_atime)
                    part.write(block)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                # Ctrl+C mid-read leaves the SFTP stream out of step: a CLOSE would wait for
                # an answer that never comes. The handle goes with the session.
                close = False
            raise
        finally:
            # Closing a read handle loses nothing; on a dead connection it cannot succeed.
            if close:
                with contextlib.suppress(paramiko.SSHException, paramiko.SFTPError, EOFError,
                                         OSError):
                    fh.close()

    def _copy_cat(self, remote: str, local: str | os.PathLike[str],
                  options: dict[str, Any]) -> int:
        """Without SFTP: ``cat`` over an exec channel, bytes kept as they are (``tail -c`` for
        the rest of a resumed copy)."""
        size, mtime = self._size_and_mtime(remote)
        err = bytearray()
        cancel = options["cancel"]
        with PartFile(local, host=self.host, remote=remote, total=size, **options) as part:

            def sink(stream: str, data: bytes) -> None:
                if stream == "stdout":
                    part.write(data)
                elif len(err) < 4096:
                    err.extend(data)

            command = (f"exec tail -c +{part.offset + 1} -- {shlex.quote(remote)}" if part.offset
                       else f"exec cat -- {shlex.quote(remote)}")
            status, killed = self._exec(command, timeout=None, stdin=None, sink=sink,
                                        cancel=cancel)
            if killed:
                raise part.stopped()
            if status != 0:
                raise self._unreadable(remote, _cat_reason(err) or f"exit status {status}")
            return part.commit(mtime)

    def _size_and_mtime(self, remote: str) -> tuple[int, float | None]:
        """The file's size and modification time by ``stat``; (0, None) where that fails."""
        out = bytearray()

        def sink(stream: str, data: bytes) -> None:
            if stream == "stdout":
                out.extend(data)

        status, _ = self._exec(f"stat -L -c '%s %Y' -- {shlex.quote(remote)} 2>/dev/null",
                               timeout=DEFAULT_TIMEOUT, stdin=None, sink=sink, cancel=None)
        words = out.split()
        if status != 0 or len(words) != 2 or not all(w.isdigit() for w in words):
            return 0, None
        return int(words[0]), float(words[1])

    # -- liveness --

    def add_lost_listener(self, listener: Callable[[str], None]) -> None:
        """``listener(reason)`` is called once, from the liveness thread, when the connection is
        found dead or hung (not when :meth:`close` is called). Called at once if it already
        is."""
        with self._close_lock:
            reason = self._lost_reason
            if reason is None:
                self._lost_listeners.append(listener)
        if reason is not None:
            listener(reason)

    @property
    def lost_reason(self) -> str | None:
        """Why the liveness check declared the connection lost; None while it is alive."""
        return self._lost_reason

    def check_now(self) -> None:
        """Ask the liveness thread for a keepalive now (another view saw the host drop)."""
        self._poke.set()

    def _watch_liveness(self) -> None:
        assert self.liveness is not None
        interval, dead_after = self.liveness.interval, self.liveness.dead_after
        last_answer = time.monotonic()
        while not self._stop_watch.is_set():
            # A closed socket shows at once (paramiko's reader sees EOF): look often, and ask
            # the server for an answer once per interval.
            next_ping = time.monotonic() + interval
            while time.monotonic() < next_ping and not self._poke.is_set():
                if not self._transport.is_active() or self._stop_watch.is_set():
                    break
                self._poke.wait(min(0.25, max(0.0, next_ping - time.monotonic())))
            self._poke.clear()
            if self._stop_watch.is_set():
                return
            if not self._transport.is_active():
                reason = self._transport.get_exception()
                self._declare_lost("the server closed the connection" if reason is None
                                   or isinstance(reason, EOFError) else str(reason))
                return
            answered = threading.Event()
            threading.Thread(target=self._keepalive, args=(answered,), daemon=True,
                             name="ssh-keepalive").start()
            while not answered.wait(0.1):
                if self._stop_watch.is_set():
                    return
                if time.monotonic() - last_answer >= dead_after:
                    self._declare_lost(self.liveness.no_answer())
                    return
            if self._transport.is_active():
                last_answer = time.monotonic()

    def _keepalive(self, answered: threading.Event) -> None:
        # OpenSSH answers an unknown global request with REQUEST_FAILURE: any answer proves the
        # server is alive (ssh's ServerAliveInterval sends the same). paramiko's own
        # set_keepalive asks for no answer, so it finds a killed server but never a hung one.
        try:
            self._transport.global_request("keepalive@openssh.com", wait=True)
        except Exception:  # the connection is going; the watcher says so
            log.debug("keepalive failed on %s", self.host, exc_info=True)
        finally:
            answered.set()

    def _declare_lost(self, reason: str) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._lost_reason = reason
            listeners, self._lost_listeners = self._lost_listeners, []
        self.close()  # what hangs on the dead connection now fails at once, as ConnectionLost
        for listener in listeners:
            try:
                listener(reason)
            except Exception:  # a view that went away must not stop the others hearing it
                log.exception("connection-lost listener failed for %s", self.host)

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._stop_watch.set()
        self._poke.set()
        for transport in reversed(self._transports):
            with contextlib.suppress(Exception):  # closing must not fail
                transport.close()

    @property
    def is_active(self) -> bool:
        return not self._closed and self._transport.is_active()

    def open_shell_channel(self, term: str, cols: int, rows: int) -> paramiko.Channel:
        """A session channel with a PTY of ``cols`` x ``rows`` running the login shell, for
        :class:`diagkit.transport.shell.SshShell` (the interactive terminal). It shares this
        connection; errors leave as :mod:`diagkit.errors` types like every other call here."""
        chan = self._open_channel()
        try:
            with self._boundary("{host} refused an interactive shell ({exc}). Check the "
                                "account's shell and that the server allows a PTY (PermitTTY)."):
                chan.get_pty(term=term, width=cols, height=rows)
                chan.invoke_shell()
        except BaseException:
            chan.close()
            raise
        return chan

    def lost(self, detail: object) -> ConnectionLost:
        """The error for this connection having dropped (``detail``: what noticed it)."""
        return self._lost(detail)

    def open_shell(self, *, cols: int, rows: int, on_output: OutputSink, on_closed: ClosedSink,
                   term: str = DEFAULT_TERM) -> SshShell:
        """The login shell over a channel of this connection (see
        :func:`diagkit.transport.shell.open_shell`)."""
        return SshShell(self, cols=cols, rows=rows, on_output=on_output, on_closed=on_closed,
                        term=term)


_CHANNEL_REFUSED = ("{host} refused to open a session channel ({exc}). The server may limit "
                    "sessions (MaxSessions); run fewer commands at once.")
_EXEC_REFUSED = "{host} refused to run the command ({exc}). Check the account's shell."
_CHANNEL_FAILED = "The channel to {host} failed mid-command ({exc}). Run the command again."
_SFTP_FAILED = "The SFTP session with {host} failed ({exc}). Try again."


def _cat_reason(stderr: bytes | bytearray) -> str:
    """Why cat failed, in the system's words: "cat: F: Permission denied" (GNU) or "cat: can't
    open 'F': No such file or directory" (busybox) give the part after the last colon."""
    text = stderr.decode("utf-8", errors="replace").strip()
    first = text.splitlines()[0] if text else ""
    return first.rsplit(": ", 1)[-1] if first.startswith(("cat: ", "tail: ")) else text


class _PidMarker:
    """Holds stderr back until the wrapper's PID line has passed, then hands the rest on."""

    def __init__(self, sink: Callable[[str, bytes], None]) -> None:
        self.pid: int | None = None
        self._sink = sink
        self._pending = bytearray()
        self._looking = True

    def stderr(self, data: bytes) -> None:
        if not self._looking:
            self._sink("stderr", data)
            return
        self._pending += data
        found = _MARKER_RE.search(self._pending)
        if found:
            self.pid = int(found.group(1))
            rest = bytes(self._pending[: found.start()] + self._pending[found.end():])
            self._pending.clear()
            self._looking = False
            self._sink("stderr", rest)
        elif len(self._pending) > 65536 and _MARKER not in self._pending:
            self._looking = False  # no wrapper output: give up looking
            self.flush()

    def flush(self) -> None:
        if self._pending:
            data = bytes(self._pending)
            self._pending.clear()
            self._sink("stderr", data)
