"""Redaction of everything that goes into a bug-report bundle.

Two kinds of rules:

* **Secrets** are always masked, as ``[REDACTED:<rule>]``. Nothing maps them back: a secret is
  never recoverable from a bundle, and it is never stored in the token map either.
  First ``private_key``: :func:`diagkit.reports.keyblocks.find_spans` finds PEM (RSA, EC, DSA,
  PKCS#8, encrypted), OpenSSH, PGP, ssh.com and PuTTY (``Private-Lines``) blocks, also when the
  text starts inside a block (its body lines before an END line) or ends inside one; they are
  cut out before any other rule runs. Then the rules of :data:`_SECRET_RULES` (the families
  gitleaks, detect-secrets and trufflehog document), among them: ``authorization``, ``cookie``, ``url_credentials``
  (``scheme://user:PASS@host``), ``command_line_password`` (``--password X``, ``sshpass -p``,
  ``mysql -pX``, ``docker login -p``, ``redis-cli -a``, ``smbclient -U u%PASS`` ...),
  ``basic_auth`` (``curl -u user:PASS``), ``password`` (``.netrc``, JDBC Oracle ``user/PASS@``,
  ``sqlplus``, ``IDENTIFIED BY``, ``PASSWORD '...'``, XML ``<add key="DbPassword" value=>`` and
  ``<password>``, a JSON/YAML/XML value on the line after its key, free text such as
  ``(pw TEBHtzLrN)`` when the value looks like a password), prefixed tokens (``github_token``,
  ``gitlab_token``, ``slack_token``/``slack_webhook``, ``discord_webhook``, ``teams_webhook``,
  ``telegram_bot_token``, ``stripe_key`` incl. ``whsec_``, ``sendgrid_key``, ``openai_key``,
  ``anthropic_key``, ``huggingface_token``, ``npm_token``, ``pypi_token``, ``docker_token``,
  cloud keys ...), base64 PEM keys (``LS0tLS1CRUdJTi...``), JWK private members, ``jwt``,
  crypt(3) ``password_hash``, ``generic_secret`` (32+ token characters after "token"/"key"...),
  and the key/value rules ``password`` / ``aws_secret_key`` / ``secret`` (``key=value``,
  ``key: value``, ``key := value``, JSON, YAML, ADO and JDBC connection strings ...).
  ``tests/data/redaction`` holds the labelled corpus they are measured on
  (``benchmarks/redaction_eval.py``).
* **Obfuscation** (opt-in through :class:`RedactOptions`) of IPv4/IPv6 addresses, host and domain
  names, MACs, user names, e-mail addresses and the engineer's own keywords. Each value gets a
  token that is the same in every file and every bundle (the :class:`TokenMap`, kept privately in
  the data dir with mode 0600, never inside a bundle) and that keeps relationships visible:
  ``10.1.2.3`` and ``10.1.2.9`` become ``240.0.7.3`` and ``240.0.7.9`` (same /24, and addresses of
  one /16 share a mapped /16); ``web1.acme.com`` becomes ``host-3.domain-1.com`` and ``web1``
  alone ``host-3``. :meth:`TokenMap.unredact` turns a developer's reply back into real values.

Decisions (documented so the tests can hold them):

* IPv4 never obfuscated: ``0.0.0.0``, ``255.255.255.255``, loopback ``127.0.0.0/8``, netmasks
  (``255.255.255.0`` ...), and ``240.0.0.0/4`` (reserved, never routed: it is the token space, so
  redacting twice changes nothing). IPv6 tokens live in ``fd00:0::/32``; ``::``/``::1`` are kept.
  MAC tokens are ``02:00:00:xx:xx:xx`` (locally administered).
* Common system accounts (root, nobody, www-data, postgres ...) are not obfuscated: they identify
  nobody and developers need them. A few public domains (example.com, github.com, debian.org ...)
  are kept too.
* False positives (:class:`FalsePositives`): a value the engineer marked is never masked again,
  by any rule, except private key blocks, which are always masked.

Speed: every rule (secret or obfuscation) has its own regex and runs only on the lines holding
one of its triggers, found on a lower-cased copy (folded like ``re.IGNORECASE``): trigger words,
grouped by first letter into one prefix-tree regex pass each (``p(?:ass|sk|w)``: each pass costs
about as much as the next, so a rule's triggers are chosen among the letters already scanned,
``ocker`` for docker, ``ebhook`` for webhook), or finder regexes
(``.1.2.3`` digits and dots for IPv4); cheap checks drop lines that cannot match (a kv rule needs
``=``/``:`` and a trigger that ends a key word: not ``passed``). Rules whose regex starts with a
literal run over the whole text. :func:`_scan` merges the rules' matches exactly as one
alternation would; a property test checks the spans against searching every line.
Obfuscation caches value -> token per text. See ``benchmarks/bundle_bench.py``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import heapq
import ipaddress
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagkit import config
from diagkit.errors import BundleError
from diagkit.reports import keyblocks

OBFUSCATION_KINDS = frozenset({"ip", "host", "mac", "user", "email", "keyword"})


def _redaction_dir() -> Path:
    return config.data_dir() / "redaction"


def _write_private_json(path: Path, value: Any) -> None:
    """Atomic write, readable by the owner only (mkstemp creates 0600): the map holds real names."""
    try:
        config.private_dir(path.parent)  # and the data dir above it, when new
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(value, fh, indent=1, sort_keys=True, ensure_ascii=False)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise BundleError(
            f"Cannot write {path}: {exc.strerror}. Check the data folder's permissions."
        ) from exc


def _read_private_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except OSError as exc:
        raise BundleError(f"Cannot read {path}: {exc.strerror}. Check its permissions.") from exc
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"{path} is not valid JSON (line {exc.lineno}). Without it earlier bundles cannot be "
            "un-redacted: restore it from a backup, or move it away to start a new mapping."
        ) from exc


# --- options, hits ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RedactOptions:
    """What to obfuscate besides secrets (always masked).

    ``obfuscate`` is a subset of :data:`OBFUSCATION_KINDS`; ``keywords`` are exact words (customer
    names, project names) matched case-insensitively as whole words when "keyword" is on (giving
    keywords turns it on); ``users`` are known local user names, masked anywhere as whole words
    when "user" is on; ``hosts`` are known host names and aliases (saved hosts, ``~/.ssh/config``
    aliases), masked anywhere as whole words when "host" is on, so a bare alias in free text or a
    file name is tokenised like the same name found in a log.
    """

    obfuscate: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.obfuscate) - OBFUSCATION_KINDS
        if unknown:
            raise BundleError(
                f"Unknown obfuscation kind(s): {', '.join(sorted(unknown))}. "
                f"Choose from: {', '.join(sorted(OBFUSCATION_KINDS))}."
            )
        object.__setattr__(self, "obfuscate", frozenset(self.obfuscate))
        object.__setattr__(self, "keywords", tuple(k for k in self.keywords if k.strip()))
        object.__setattr__(self, "users", tuple(u for u in self.users if u.strip()))
        # "local" and "localhost" name this machine, not a host worth hiding
        object.__setattr__(self, "hosts", tuple(dict.fromkeys(
            h.strip() for h in self.hosts
            if h.strip() and h.strip().lower() not in ("local", "localhost"))))


def _preview(value: str) -> str:
    return value[:2] + "…" if len(value) > 2 else "…"


@dataclass(frozen=True)
class Hit:
    """One masked value. ``start``/``end`` index the text given to the pass that masked it
    (obfuscation offsets refer to the text after secrets were masked). ``value`` is the full
    original, kept in memory only so a preview can mark it as a false positive: never write it."""

    source: str
    rule: str
    start: int
    end: int
    original_preview: str
    replacement: str
    value: str = field(default="", repr=False, compare=False)


# --- token map -------------------------------------------------------------------------------

_SECTIONS = ("ip4_16", "ip4_24", "ip6", "mac", "host", "domain", "user", "keyword")
_WORD_TOKEN = re.compile(r"\b(host|domain|user|keyword)-(\d+)\b")
_IP4_TOKEN = re.compile(r"(?<![\w.])(2(?:4\d|5[0-5])\.\d{1,3}\.\d{1,3})\.(\d{1,3})(?![\w]|\.\d)")
_MAC_TOKEN = re.compile(r"(?<![\w:-])02:00:00(?::[0-9a-f]{2}){3}(?![\w:-])", re.IGNORECASE)
_LEADING_ZERO = re.compile(r"(?:^|\.)0\d")
_IP6_TOKEN = re.compile(r"(?<![\w:.])fd00:0:[0-9a-f:]+(?![\w:])", re.IGNORECASE)


class TokenMap:
    """The private value -> token mapping shared by every bundle of this user.

    Same value -> same token, in every file and every bundle, as long as the map is saved after
    each bundle (:meth:`save`; ``Redactor.save`` does it). The file holds real names and
    addresses: mode 0600 in the data dir, never inside a bundle. Secrets are never put here.
    """

    def __init__(self, path: Path, data: dict[str, dict[str, str]] | None = None) -> None:
        self.path = path
        self._maps: dict[str, dict[str, str]] = {s: dict((data or {}).get(s, {})) for s in _SECTIONS}
        self._reverse: dict[str, dict[str, str]] = {
            s: {v: k for k, v in m.items()} for s, m in self._maps.items()
        }
        self._next24: Counter[str] = Counter(v.rsplit(".", 1)[0] for v in self._maps["ip4_24"].values())
        self.dirty = False

    @classmethod
    def default_path(cls) -> Path:
        return _redaction_dir() / "map.json"

    @classmethod
    def load(cls, path: Path | None = None) -> TokenMap:
        path = Path(path) if path else cls.default_path()
        data = _read_private_json(path, {})
        if not isinstance(data, dict):
            raise BundleError(f"{path} must hold a JSON object. Move it away to start afresh.")
        return cls(path, data.get("maps", {}))

    def save(self) -> None:
        _write_private_json(self.path, {"version": 1, "maps": self._maps})
        self.dirty = False

    def copy(self) -> TokenMap:
        return TokenMap(self.path, copy.deepcopy(self._maps))

    def __len__(self) -> int:
        return sum(len(m) for m in self._maps.values())

    # allocation ------------------------------------------------------------------------------

    def _put(self, section: str, key: str, token: str) -> str:
        self._maps[section][key] = token
        self._reverse[section][token] = key
        self.dirty = True
        return token

    def word(self, section: str, value: str) -> str:
        """Token for a host label, domain, user or keyword (``host-3``, ``domain-1`` ...)."""
        key = value if section == "user" else value.lower()
        token = self._maps[section].get(key)
        if token is None:
            token = self._put(section, key, f"{section}-{len(self._maps[section]) + 1}")
        return token

    def is_token(self, section: str, value: str) -> bool:
        return value in self._reverse[section]

    def ip4(self, addr: str) -> str:
        if addr.isascii() and not _LEADING_ZERO.search(addr):  # already canonical: the usual case
            a, b, c, d = addr.split(".")
        else:
            a, b, c, d = (str(int(x)) for x in addr.split("."))
        p24 = self._maps["ip4_24"].get(f"{a}.{b}.{c}")
        if p24 is None:
            p16 = self._maps["ip4_16"].get(f"{a}.{b}")
            if p16 is None:
                n = len(self._maps["ip4_16"])
                if n >= 4096:
                    raise BundleError("More than 4096 distinct /16 networks to obfuscate; "
                                      "turn IP obfuscation off for this bundle.")
                p16 = self._put("ip4_16", f"{a}.{b}", f"{240 + n // 256}.{n % 256}")
            k = self._next24[p16]
            if k >= 256:
                raise BundleError(f"More than 256 /24 networks in {a}.{b}.0.0/16 to obfuscate; "
                                  "turn IP obfuscation off for this bundle.")
            self._next24[p16] += 1
            p24 = self._put("ip4_24", f"{a}.{b}.{c}", f"{p16}.{k}")
        return f"{p24}.{d}"

    def ip6(self, addr: ipaddress.IPv6Address) -> str:
        key = addr.compressed
        token = self._maps["ip6"].get(key)
        if token is None:
            prefix = int(addr) >> 64
            prefixes = {int(ipaddress.IPv6Address(k)) >> 64 for k in self._maps["ip6"]}
            # n-th /64 seen keeps its own mapped /64; addresses within it count up
            ordered = sorted({(int(ipaddress.IPv6Address(v)) >> 64) & 0xFFFFFFFF
                              for v in self._maps["ip6"].values()})
            same = [v for k, v in self._maps["ip6"].items()
                    if int(ipaddress.IPv6Address(k)) >> 64 == prefix]
            if same:
                n = (int(ipaddress.IPv6Address(same[0])) >> 64) & 0xFFFFFFFF
            else:
                n = len(prefixes) + 1
                while n in ordered:
                    n += 1
            token = ipaddress.IPv6Address((0xFD000000 << 96) | (n << 64) | (len(same) + 1)).compressed
            self._put("ip6", key, token)
        return token

    def mac(self, value: str) -> str:
        key = value.lower().replace("-", ":")
        token = self._maps["mac"].get(key)
        if token is None:
            n = len(self._maps["mac"]) + 1
            token = self._put("mac", key, "02:00:00:" + ":".join(
                f"{(n >> s) & 0xFF:02x}" for s in (16, 8, 0)))
        return token

    # reverse ---------------------------------------------------------------------------------

    def unredact(self, text: str) -> str:
        """Turn tokens in ``text`` (e.g. a developer's reply) back into the real values.
        ``[REDACTED:...]`` secrets stay as they are: they were never recorded."""
        rev = self._reverse

        def word(m: re.Match[str]) -> str:
            return rev[m.group(1)].get(m.group(0), m.group(0))

        def ip4(m: re.Match[str]) -> str:
            orig = rev["ip4_24"].get(m.group(1))
            return f"{orig}.{m.group(2)}" if orig else m.group(0)

        def mac(m: re.Match[str]) -> str:
            return rev["mac"].get(m.group(0).lower(), m.group(0))

        def ip6(m: re.Match[str]) -> str:
            try:
                norm = ipaddress.IPv6Address(m.group(0)).compressed
            except ValueError:
                return m.group(0)
            return rev["ip6"].get(norm, m.group(0))

        text = _IP6_TOKEN.sub(ip6, text)
        text = _MAC_TOKEN.sub(mac, text)
        text = _IP4_TOKEN.sub(ip4, text)
        return _WORD_TOKEN.sub(word, text)


class FalsePositives:
    """Values the engineer marked as "not a secret / not sensitive": never masked again.
    Private key blocks are the exception: they are always masked."""

    def __init__(self, path: Path, values: Iterable[str] = ()) -> None:
        self.path = path
        self._values: set[str] = set(values)

    @classmethod
    def load(cls, path: Path | None = None) -> FalsePositives:
        path = Path(path) if path else _redaction_dir() / "false-positives.json"
        data = _read_private_json(path, [])
        if not isinstance(data, list):
            raise BundleError(f"{path} must hold a JSON list. Move it away to start afresh.")
        return cls(path, (str(v) for v in data))

    def add(self, value: str | Hit) -> None:
        self._values.add(value.value if isinstance(value, Hit) else value)

    def discard(self, value: str | Hit) -> None:
        self._values.discard(value.value if isinstance(value, Hit) else value)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __len__(self) -> int:
        return len(self._values)

    def save(self) -> None:
        _write_private_json(self.path, sorted(self._values))


# --- secret rules ----------------------------------------------------------------------------

_KV_LONG = (r"password|passwd|passphrase|passcode|secret|token|api[_-]?key|access[_-]?key|"
            r"private[_-]?key(?:[_-]?id)?|secret[_-]?key|account[_-]?key|"
            r"shared[_-]?access[_-]?key|credentials?|cookie|session[_-]?id|signature|"
            r"(?:auth|master|encryption|signing|subscription|functions|client|app|consumer|"
            r"license)[_-]?key|client[_-]?key[_-]?data")
_KV_SHORT = r"pass|pwd|pw|auth|psk|pat"
# A key that ends with a secret word (``db_password``, ``X-Api-Key``, ``client.secret``); short words
# only as a whole key or after ``_ . -`` (``db.pw`` yes, ``mypw`` no). Checking the word inside the
# regex (rather than matching any key and checking it afterwards) keeps a harmless ``key: value``
# from swallowing the ``secret_key: value`` that follows it.
_KEY_WORD = rf"(?i:(?:{_KV_LONG})|(?<![^\W_])(?:{_KV_SHORT}))"
# (not right after "/": /etc/passwd is a file)
_KEY = rf"(?<![\w./-])[\w.-]*?{_KEY_WORD}(?![\w.-])"
_KEYCHECK = re.compile(rf"(?:{_KV_LONG})\Z|(?:\A|(?<=[_.-]))(?:{_KV_SHORT})\Z", re.IGNORECASE)
_QVAL = r"\\\"(?:[^\"\\\n]|\\[^\"\n])*\\\"|\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'"
_ARG = r"\"[^\"\n]*\"|'[^'\n]*'|[^\s\"']+"
_KV_TRIGGERS = ("pass", "pw", "secret", "token", "key", "auth", "credential", "cookie",
                "sessionid", "session_id", "session-id", "sig", "psk", "pat")

# (name, regex, triggers) in priority order: where two rules match at the same place the first
# wins, exactly as in one big alternation. ``triggers`` are lower-case words one of which every
# match contains: a rule only runs on the lines holding one. A rule without triggers runs over
# the whole text, so its regex must start with a literal (Python's re then skips ahead in C):
# word boundaries go in a look-behind after that literal. A rule's value is its ``<name>_v``
# group (else the whole match); a ``<name>_k`` group is a key whose words choose the label
# (password / aws_secret_key / secret). Private key blocks are not here: keyblocks.find_spans
# cuts them out before these rules run (see Redactor._mask_secrets).
_SECRET_RULES: list[tuple[str, str, tuple[str, ...]]] = [
    ("authorization", r"(?i:\b(?:proxy-)?authorization)\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
                      r"(?:(?i:bearer|basic|digest|token|negotiate|ntlm|aws4-hmac-sha256|"
                      r"sharedkey|sso-key)[ \t]+)?(?P<authorization_v>[^\n\r\"'\\]+)", ("auth",)),
    ("cookie", r"(?i:\b(?:set-)?cookie)\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
               r"(?P<cookie_v>[^\n\r\"'\\]+)", ("cookie",)),
    ("url_credentials", r"(?i:\b[a-z][a-z0-9+.-]*://)[^\s:/@?#]*:(?P<url_credentials_v>[^\s/?]+)@",
     ("@",)),
    # jdbc:oracle:thin:scott/tiger@//db:1521/ORCL
    ("jdbc_oracle", r"(?i:jdbc:oracle:[a-z0-9]+:)[\"']?[\w$#.-]+/(?P<jdbc_oracle_v>[^\s@/\"']+)@",
     ("acle:",)),
    ("cli", rf"(?<![\w-])--?(?i:[\w-]*?(?:password|passwd|pass|token|secret|api-?key|access-?key|"
            rf"secret-?key|auth-?token))[ \t]+(?P<cli_v>(?!-){_ARG})", ("pass", "token", "secret", "key")),
    ("sshpass", rf"(?i:\bsshpass\b)[^\n]*?[ \t]-p[ \t]*(?P<sshpass_v>{_ARG})", ("sshpass",)),
    ("mysqlp", rf"(?i:\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b)[^\n]*?[ \t]-p"
               rf"(?P<mysqlp_v>{_ARG})", ("mysql", "mariadb")),
    # the short password options of other clients: docker/podman/helm login -p, redis-cli -a,
    # ldapsearch -w, cqlsh/mongo -p, az login -p, snmpwalk -c/-A/-X
    # (the last such option of the line: the line before it is searched again, see _secret_repl)
    ("toolpw", r"(?:(?i:\b(?:docker|podman|nerdctl|buildah|skopeo|helm|oras)\b[^\n]*\blogin\b)"
               r"[^\n]*[ \t]-p|(?i:\bredis-cli\b)[^\n]*[ \t]-a|(?i:\bldap\w*\b)[^\n]*[ \t]-w|"
               r"(?i:\b(?:cqlsh|mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport)\b)"
               r"[^\n]*[ \t]-p|(?i:\baz login\b)[^\n]*[ \t]-p|(?i:\bsnmp\w*\b)[^\n]*[ \t]-[cAX])"
               rf"[ \t]*(?P<toolpw_v>(?!-){_ARG})",
     ("cker", "podman", "rdctl", "buildah", "skopeo", "helm", "ras login", "az login", "-cli",
      "ldap", "qlsh", "mongo", "snmp")),
    # curl -u user:pass, curl --user "user:pass", curl -U proxyuser:pass
    ("curl_user", r"(?i:\bcurl\b)[^\n]*?[ \t](?:-u|-U|--user|--proxy-user)(?:[ \t]+|=)?[\"']?"
                  r"[^\s:\"']*:(?P<curl_user_v>[^\s\"']+)", ("curl",)),
    ("lftp", r"(?i:\blftp\b)[^\n]*?[ \t]-u[ \t]+[\"']?[^\s,\"']*,(?P<lftp_v>[^\s\"']+)", ("lftp",)),
    # smbclient -U user%pass
    ("smb", r"(?i:\b(?:smbclient|rpcclient|smbmap|smbget|smbcacls)\b)[^\n]*?[ \t]"
            r"(?:-U|--user(?:name)?)[ \t=]*[\"']?[^\s%\"']*%(?P<smb_v>[^\s\"']+)",
     ("smbclient", "pcclient", "smbmap", "smbget", "smbcacls")),
    # net use Z: \\srv\share PASS /user:bob ; net user bob PASS /add
    ("netuse", r"(?i:\bnet (?:use\b[^\n]*?[ \t]\\\\\S+|user[ \t]+(?:\"[^\"\n]+\"|[^\s/\"]+)))[ \t]+"
               r"(?P<netuse_v>\"[^\"\n]*\"|[^\s/*\"]\S*)", ("t use",)),
    # sqlplus scott/tiger@orcl ; expdp system/pw ; userid=scott/tiger
    ("sqlplus", r"(?i:\b(?:sqlplus|expdp|impdp|sqlldr)\b)(?:[ \t]+-\w+)*[ \t]+[\"']?"
                r"[\w$#.-]+/(?P<sqlplus_v>[^\s@/\"']+)",
     ("sqlplus", "xpdp", "mpdp", "sqlldr")),
    ("userid", r"(?i:\buserid)[ \t]*=[ \t]*[\"']?[\w$#.-]+/(?P<userid_v>[^\s@/\"',]+)", ("serid",)),
    ("sqlconn", r"^[ \t]*(?i:conn(?:ect)?)[ \t]+[\w$#.-]+/(?P<sqlconn_v>[^\s@/;]+)", ()),
    # aws configure set aws_secret_access_key VALUE
    ("aws_configure", rf"(?i:\baws configure set)[ \t]+[\w.-]*(?i:secret|token|key)[\w.-]*[ \t]+"
                      rf"(?P<aws_configure_v>{_ARG})", ("aws configure",)),
    # echo PASS | sudo -S ... ; echo 'bob:PASS' | chpasswd ; echo PASS | passwd --stdin bob
    ("echo_pipe", r"(?i:\b(?:echo|printf))[ \t]+(?:-[a-z]+[ \t]+)?(?P<echo_pipe_v>\"[^\"\n]*\"|"
                  r"'[^'\n]*'|[^\s|;]+)[ \t]*\|[ \t]*(?i:sudo[ \t]+(?:-[a-z]+[ \t]+)*?-[a-z]*S\b|"
                  r"(?:sudo[ \t]+)?chpasswd\b|(?:sudo[ \t]+)?passwd[ \t]+--stdin)",
     ("|",)),  # line_start: the echo comes before the pipe
    # htpasswd -b[c] FILE USER PASS / htpasswd -nb USER PASS: the last word of the command
    ("htpasswd", r"(?i:\bhtpasswd\b)[ \t]+-[a-zA-Z]*b[^\n]*[ \t](?P<htpasswd_v>[^\s]+)[ \t]*$",
     ("passwd",)),
    # .netrc: machine HOST login USER password PASS (one line), or login and password lines
    ("netrc", r"(?i:\b(?:machine|login)\b(?:[ \t]+[^\s]+)*?[ \t]+password[ \t]+)"
              r"(?P<netrc_v>(?![=:])[^\s]+)",
     ("machine", "login")),
    ("netrc_lines", r"(?i:\blogin[ \t]+[^\s]+[ \t]*\r?\n[ \t]*password[ \t]+)"
                    r"(?P<netrc_lines_v>[^\s]+)",
     ("login",)),
    # SQL: IDENTIFIED BY 'x', IDENTIFIED WITH plugin BY 'x', PASSWORD 'x', PASSWORD('x')
    ("identified", r"(?i:\bidentified[ \t]+(?:with[ \t]+['\"]?\w+['\"]?[ \t]+)?(?:by|as)"
                   r"(?:[ \t]+password)?)[ \t]+"
                   r"(?P<identified_v>'(?:[^'\\\n]|\\.|'')*'|\"[^\"\n]*\"|"
                   r"[^\s;,)'\"]+)", ("tified",)),
    ("sqlpw", r"(?i:\bpassword)[ \t]*(?:\([ \t]*)?(?P<sqlpw_v>'(?:[^'\\\n]|\\.|'')+')", ("pass",)),
    ("requirepass", r"(?i:\b(?:requirepass|masterauth))[ \t]+(?P<requirepass_v>\"[^\"\n]*\"|"
                    r"'[^'\n]*'|[^\s]+)", ("quirepass", "terauth")),
    ("snmpcomm", r"(?i:(?<![\w-])r[ow]community6?)[ \t]+(?P<snmpcomm_v>[^\s]+)", ("community",)),
    # XML: <add key="DbPassword" value="..."/>, <property name="db.password" value="..."/>
    ("xml_attr", rf"(?i:\b(?:key|name)=)(?P<xml_attr_q>[\"'])(?P<xml_attr_k>[^\"'\n]*?{_KEY_WORD})"
                 r"(?P=xml_attr_q)[^>\n]*?(?i:\bvalue[ \t]*=[ \t]*)"
                 r"(?P<xml_attr_v>\"[^\"\n]*\"|'[^'\n]*')", _KV_TRIGGERS),
    # <entry key="mail.smtp.password">...</entry>
    ("xml_entry", rf"(?i:\b(?:key|name)=)(?P<xml_entry_q>[\"'])"
                  rf"(?P<xml_entry_k>[^\"'\n]*?{_KEY_WORD})"
                  r"(?P=xml_entry_q)[^>\n]*>(?P<xml_entry_v>[^<\n]+)</", _KV_TRIGGERS),
    # $pw = ConvertTo-SecureString "..." -AsPlainText
    ("securestring", r"(?i:\bconvertto-securestring)[ \t]+(?:-string[ \t]+)?"
                     r"(?P<securestring_v>\"[^\"\n]*\"|'[^'\n]*')", ("convertto-securestring",)),
    # <password>...</password>, <db.secret attr="x">...</db.secret>
    ("xml_elem", rf"<(?P<xml_elem_k>{_KEY})(?:[ \t][^>\n]*)?>(?P<xml_elem_v>[^<\n]+)</",
     _KV_TRIGGERS),
    # a value on the line after its key: pretty-printed JSON, YAML block scalars, unattend.xml
    ("json_next", rf"\"(?P<json_next_k>{_KEY})\"[ \t]*:[ \t]*\r?\n[ \t]*"
                  r"(?P<json_next_v>\"(?:[^\"\\\n]|\\.)*\"|[^\s,}\]\"]+)", _KV_TRIGGERS),
    ("xml_next", rf"<(?P<xml_next_k>{_KEY})(?:[ \t][^>\n]*)?>[ \t]*\r?\n[ \t]*<(?i:value)>"
                 r"(?P<xml_next_v>[^<\n]+)<", _KV_TRIGGERS),
    ("yaml_next", rf"^[ \t]*(?:-[ \t]+)?(?P<yaml_next_k>{_KEY})[ \t]*:[ \t]*[|>][-+]?[0-9]?[ \t]*"
                  r"\r?\n[ \t]+(?P<yaml_next_v>[^\n\r]*[^\s])", _KV_TRIGGERS),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}",
     ("yj",)),
    # base64 of '{"auths":' (a Docker config.json in a Kubernetes secret)
    ("docker_config", r"eyJhdXRocyI6[A-Za-z0-9+/=]{20,}", ("yjhdxrocyi6",)),
    # a token with a prefix of its own is one after a hyphen too (app-ghp_....log); the rules
    # for shapes that could be part of another word (key-, sk-, LTAI, AKIA...) stay off hyphens
    ("github_token", r"(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})",
     ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    ("gitlab_token", r"(?<!\w)(?:gl(?:pat|dt|rt|ptt|ft|imt|cbt|soat|oas|agent|ffct|wt)-|"
                     r"GR1348941)[\w-]{20,}(?:\.[\w-]+)*",
     ("glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glimt-", "glcbt-", "glsoat-", "gloas-",
      "glagent-", "glffct-", "glwt-", "gr1348941")),
    ("atlassian_token", r"(?<!\w)(?:ATBB|ATATT3|ATCTT3|ATOA)[A-Za-z0-9_=.+/-]{24,}",
     ("atbb", "atatt3", "atctt3", "atoa")),
    ("slack_token", r"\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xoxe\.xox[bp]-[A-Za-z0-9-]{10,}|"
                    r"xapp-[A-Za-z0-9-]{10,})", ("xox", "xapp-")),
    ("slack_webhook", r"(?i:hooks\.slack\.com)/(?P<slack_webhook_v>(?:services|workflows|triggers)/"
                      r"[A-Za-z0-9_/+-]{10,})", ("slack.com/",)),
    ("discord_webhook", r"(?i:discord(?:app)?\.com)/api/(?:v\d+/)?webhooks/"
                        r"(?P<discord_webhook_v>\d+/[\w-]{20,})", ("scord",)),
    ("teams_webhook", r"(?i:\.webhook\.office\.com/webhookb2/|outlook\.office(?:365)?\.com/"
                      r"webhook(?:b2)?/)(?P<teams_webhook_v>[^\s\"'<>]+)", ("hook",)),
    ("telegram_bot_token", r"(?:(?<=bot)|(?<![\w:]))\d{6,12}:AA[A-Za-z0-9_-]{30,40}(?![\w-])",
     (":aa",)),
    ("stripe_key", r"\b(?:[rs]k_(?:live|test|prod)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{20,})",
     ("k_live_", "k_test_", "k_prod_", "hsec_")),
    ("square_token", r"(?<!\w)(?:sq0(?:atp|csp|idp)-[\w-]{20,}|EAAA[\w-]{40,})",
     ("sq0", "aaa")),
    ("braintree_token", r"access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}",
     ("access_token$",)),
    ("sendgrid_key", r"\bSG\.[\w-]{16,32}\.[\w-]{30,50}", ("sg.",)),
    ("mailgun_key", r"(?<![\w-])key-[0-9a-f]{32}(?![\w-])", ("key-",)),
    ("mailchimp_key", r"(?<![\w-])[0-9a-f]{32}-us\d{1,2}(?![\w-])", ("-us",)),
    ("openai_key", r"(?<![\w-])sk-(?!ant-)(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{20,}",
     ("sk-",)),
    ("anthropic_key", r"(?<!\w)sk-ant-[a-z]+\d*-[\w-]{20,}", ("sk-ant-",)),
    ("huggingface_token", r"(?<!\w)(?:hf_|api_org_)[A-Za-z0-9]{30,}", ("hf_", "api_org_")),
    ("ai_api_key", r"(?<!\w)(?:r8_[A-Za-z0-9]{30,}|gsk_[A-Za-z0-9]{40,}|pplx-[A-Za-z0-9]{40,}|"
                   r"xai-[A-Za-z0-9]{40,})", ("r8_", "gsk_", "pplx-", "xai-")),
    ("npm_token", r"(?<!\w)npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])", ("pm_",)),
    ("pypi_token", r"(?<!\w)pypi-AgE[A-Za-z0-9_-]{50,}", ("pypi-age",)),
    ("rubygems_key", r"(?<!\w)rubygems_[a-f0-9]{48}", ("gems_",)),
    ("docker_token", r"(?<!\w)dckr_(?:pat|oat)_[\w-]{20,}", ("ckr_",)),
    ("artifactory_key", r"(?<!\w)(?:AKCp[A-Za-z0-9]{60,}|cmVmdGtu[A-Za-z0-9]{50,})",
     ("akcp", "cmvmdgtu")),
    ("digitalocean_token", r"(?<!\w)do[opr]_v1_[a-f0-9]{64}", ("v1_",)),
    ("alibaba_access_key_id", r"(?<![\w-])LTAI[A-Za-z0-9]{12,24}(?![A-Za-z0-9])", ("ltai",)),
    ("gcp_token", r"(?<!\w)(?:GOCSPX-[\w-]{24,}|ya29\.[\w-]{20,})", ("gocspx-", "a29.")),
    # Discord bot tokens: base64 of the bot's id, a timestamp, an HMAC (found by the dots)
    ("discord_bot_token", r"(?<![\w-])[MNO][A-Za-z\d_-]{23,25}\.[\w-]{6}\.[\w-]{27,38}(?![\w-])",
     ()),
    ("azure_client_secret", r"(?<![\w~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])",
     ("q~",)),
    ("heroku_api_key", r"(?<!\w)HRKU-[\w-]{30,}", ("ku-",)),
    ("vault_token", r"(?<![\w.-])hv[sbr]\.[\w-]{24,}", ("hvs.", "hvb.", "hvr.")),
    ("terraform_token", r"(?<![\w-])[A-Za-z0-9]{14}\.atlasv1\.[\w=-]{60,}", ("atlasv1",)),
    ("shopify_token", r"(?<!\w)shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
     ("shpat_", "shpca_", "shppa_", "shpss_")),
    # tokens of other SaaS APIs that gitleaks knows by their prefix
    ("api_token", r"(?<!\w)(?:sntry[su]_[A-Za-z0-9+/=_]{40,}|glc_[A-Za-z0-9+/]{32,}={0,3}|"
                  r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|NRAK-[A-Z0-9]{27}|NRII-[\w-]{32}|"
                  r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}|lin_api_[A-Za-z0-9]{40}|"
                  r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}|pul-[a-f0-9]{40}|"
                  r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}|pscale_(?:tkn|oauth|pw)_[\w=.-]{32,}|"
                  r"AGE-SECRET-KEY-1[0-9A-Z]{58}|ops_eyJ[A-Za-z0-9+/]{100,}={0,3}|"
                  r"ntn_\d{11}[A-Za-z0-9]{35}|pnu_[A-Za-z0-9]{36}|rdme_[a-z0-9]{70}|"
                  r"sha256~[\w-]{43}|tfp_[\w.=-]{59}|"
                  r"FLWSECK(?:_TEST)?-[a-f0-9]{32}-X|shippo_(?:live|test)_[a-f0-9]{40}|"
                  r"CLOJARS_[a-z0-9]{60}|"
                  r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})",
     ("sntry", "glc_", "glsa_", "rak-", "rii-", "pmak-", "lin_api_", "p.pt.", "p.st.", "p.sa.",
      "p.ct.", "p.scim.", "p.audit.", "pul-", "t0c01.", "pscale_", "age-secret-key-1",
      "ps_eyj", "tn_", "pnu_", "rdme_", "sha256~", "tfp_", "lwseck", "shippo_",
      "clojars_", "xkeysib-")),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}", ("aiza",)),
    # an access key id and its secret side by side (credentials.csv, "id secret" lines)
    ("aws_pair", r"(?<![A-Z0-9])A(?:KIA|SIA)[A-Z0-9]{16}[,;| \t]+[\"']?"
                 r"(?P<aws_pair_v>[A-Za-z0-9/+]{40})(?![\w/+=])", ("akia", "asia")),
    ("aws_access_key_id", r"(?<![\w-])A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA|BIA|CCA|3T[A-Z0-9])"
                          r"[A-Z0-9]{16}\b",
     ("akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa", "abia", "acca", "a3t")),
    ("azure_sas", r"[?&](?i:sig)=(?P<azure_sas_v>[^&\s\"']+)", ("sig",)),
    # a base64-encoded PEM block ("LS0tLS1CRUdJTi" is "-----BEGIN"), wrapped over lines or not;
    # kept when it is not a private key (a certificate)
    ("b64_pem", r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,}={0,2}"
                r"(?:\r?\n[ \t]*(?:[A-Za-z0-9+/]{20,}={0,2}|[A-Za-z0-9+/]{1,19}={1,2}))*",
     ()),
    # the private members of a JSON Web Key
    ("jwk", r"\"(?:d|p|q|dp|dq|qi)\"[ \t]*:[ \t]*\"(?P<jwk_v>[A-Za-z0-9_-]{20,})\"",
     ("\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"dq\"", "\"qi\"")),
    # crypt(3) password hashes: /etc/shadow, htpasswd, useradd -p
    ("password_hash", r"(?<![\w$])\$(?:1|2[abxy]|5|6|7|y|gy|apr1|argon2(?:id|i|d)|sha1)\$"
                      r"[^\s:'\",;]{8,}",
     ("$1$", "$2a$", "$2b$", "$2x$", "$2y$", "$5$", "$6$", "$7$", "$y$", "$gy$", "$apr1$",
      "$argon2", "$sha1$")),
    ("generic_secret", r"(?i:\b(?:token|key|secret|password|passphrase)\b)[ \t]+"
                       r"(?:(?i:is|was)[ \t]+)?(?P<generic_secret_v>[A-Za-z0-9+/_-]{32,}={0,2})",
     ("token", "key", "secret", "pass")),
    ("yaml", rf"^[ \t]*(?:-[ \t]+)?(?P<yaml_k>{_KEY})[ \t]*:[ \t]+"
             r"(?P<yaml_v>(?![\"'\[{|>])[^\n\r]*[^\s])", _KV_TRIGGERS),
    # key=value, key: value, key => value, key := value (Go), key = @"value" (Objective-C),
    # key[] = value (PHP), dict["key"] = value
    ("kv", rf"(?P<kv_k>{_KEY})(?:\\?[\"'])?\]?(?:\[\])?[ \t]*(?:=>|:=|=|:)[ \t]*@?"
           rf"(?P<kv_v>{_QVAL}|(?!\[REDACTED)[^\s\"'&;,<>]+)", _KV_TRIGGERS),
    # key "value"; (nginx-style directives, C-like statements)
    ("kv_quoted", rf"(?P<kv_quoted_k>{_KEY})[ \t]*(?P<kv_quoted_v>\"[^\"\n]*\"|'[^'\n]*')[ \t]*;",
     _KV_TRIGGERS),
    ("bearer", r"(?i:\bbearer)[ \t]+(?P<bearer_v>[A-Za-z0-9\-._~+/]{8,}=*)", ("bearer",)),
    # free text: "(pw TEBHtzLrN)", "password is Hunter2!", "token 8f2Kq..."; the value must look
    # like a password (_looks_like_password), so "password for bob" stays
    ("freetext", r"(?i:(?<![\w./-])"
                 r"(?:password|passwd|passphrase|passcode|pass|pwd|pw|secret|token))"
                 r"[ \t]+"
                 r"(?:(?i:is|was)[ \t]+)?(?P<freetext_v>(?![\[=:(])[^\s]+?)"
                 r"(?=[)\]}>.,;:!?'\"]*(?:\s|$))", ("pass", "pw", "secret", "token")),
]
_RULE_NAME = {"cli": "command_line_password", "sshpass": "command_line_password",
              "mysqlp": "command_line_password", "toolpw": "command_line_password",
              "lftp": "command_line_password", "smb": "command_line_password",
              "netuse": "command_line_password", "curl_user": "basic_auth",
              "netrc": "password", "netrc_lines": "password", "jdbc_oracle": "password",
              "sqlplus": "password", "userid": "password", "sqlconn": "password",
              "aws_configure": "secret", "echo_pipe": "password", "htpasswd": "password",
              "identified": "password", "sqlpw": "password", "requirepass": "password",
              "snmpcomm": "password", "freetext": "password", "b64_pem": "private_key",
              "securestring": "password",
              "jwk": "private_key", "aws_pair": "aws_secret_key"}
_PASSWORDISH = re.compile(r"pass|pwd|pw\b|pw_|psk", re.IGNORECASE)
# a PowerShell cmdlet is what "$pw = " is set to, not the password
_CMDLET = re.compile(r"(?:ConvertTo|ConvertFrom|Get|Read|New|Import)-[A-Z]\w+\Z")
# a Java object printed by toString(): "AppWindowToken{9f4ef63", "android.os.BinderProxy@2bd79ce"
_CODE_REF = re.compile(r"(?:[a-z_]\w*\.)*[A-Z]\w*(?:\{|@[0-9a-f]{4,}\Z)")
_STRONG = frozenset("!@#$%^&*+=?~")


def _looks_like_password(value: str, word: str) -> bool:
    """Whether a free-text value after a password word is a secret rather than a word:
    letters with digits or symbols (``Hunter2``, ``s3cr3t!``), mixed case inside the word
    (``TEBHtzLrN``), or six digits or more after a password word (not after "token")."""
    if not 6 <= len(value) <= 128 or value.startswith(("/", "[REDACTED")) or "://" in value:
        return False
    letters = digits = upper_inside = lower = strong = False
    for i, c in enumerate(value):
        if c.isalpha():
            letters = True
            if c.isupper():
                upper_inside = upper_inside or i > 0
            else:
                lower = True
        elif c.isdigit():
            digits = True
        elif c in _STRONG:
            strong = True
    if letters:
        return digits or strong or (upper_inside and lower)
    return digits and not strong and word.lower().startswith("p")


def _is_b64_private_key(value: str) -> bool:
    """Whether a base64 blob starting like ``-----BEGIN`` encodes a private key (not a
    certificate): its first line decoded says PRIVATE."""
    head = value[:80]
    head = head[:len(head) // 4 * 4]
    try:
        return b"PRIVATE" in base64.b64decode(head, validate=False)
    except (binascii.Error, ValueError):  # pragma: no cover - the regex admits base64 only
        return True


@dataclass(frozen=True)
class _Rule:
    """One rule of a :func:`_scan`: its regex and how its candidate lines are found.

    ``triggers`` are lower-case words, ``finders`` regexes (run over the lower-cased text), one of
    which every match holds. A rule with neither runs over the whole text, so its regex must start
    with a literal (Python's re then skips ahead in C). A candidate span starts after the last blank
    before the first trigger of the line (the match holds no blank before its trigger) or, with
    ``line_start``, at the line start; with ``word_before``, one word earlier (``for user x``).
    ``anchored``: the regex starts with ``^[ \t-]*`` (blanks, a YAML list dash) and is only tried
    at the starts of lines holding nothing else before the trigger's word. ``after``:
    characters one of which must follow the trigger on the line (a ``key=value`` rule needs
    ``=`` or ``:``): a cheap check that spares a regex search. ``reach``
    (finders only): no match (look-ahead included) goes further than this past the start of a
    finder hit, so the span ends there instead of at the line end. ``lead``: a whole-text regex
    starting with this many characters of context that are not part of the match (``\\n`` in
    place of ``^``: re skips ahead to a literal, not to a line start). ``first_line``: an anchored
    rule tried on the first line only (the one a ``\\n``-led twin cannot see). ``ends``: a
    key-word rule, whose match holds a trigger word that ends a word of :data:`_WORD_ENDS`
    (``passed`` and ``keyerror`` do not count). ``next_line``: every match starts on a trigger's
    line and ends on the line after it (a JSON value on the line after its key), so the span
    reaches the end of that next line. ``line_end``: characters one of which the trigger's line
    must end with (blanks aside): a JSON key whose value is on the next line ends with ``:``."""

    name: str
    regex: re.Pattern[str]
    triggers: tuple[str, ...] = ()
    finders: tuple[str, ...] = ()
    line_start: bool = False
    word_before: bool = False
    anchored: bool = False
    after: tuple[str, ...] = ()
    reach: int = 0
    lead: int = 0
    first_line: bool = False
    ends: bool = False
    next_line: bool = False
    line_end: str = ""


def _compile_rules(rules: Iterable[tuple[str, str, tuple[str, ...]]]) -> tuple[_Rule, ...]:
    out = []
    for n, p, t in rules:
        anchored = n in _ANCHORED
        out.append(_Rule(n, re.compile(f"(?P<{n}>{p})", re.MULTILINE), t,
                         finders=_FINDERS.get(n, ()), line_start=anchored or n in _LINE_START,
                         anchored=anchored, after=_AFTER.get(n, ()), ends=n in _ENDS_RULES,
                         next_line=n in _NEXT_LINE, line_end=_LINE_END.get(n, "")))
    return tuple(out)


# rules whose regex starts with ``^`` (MULTILINE)
_ANCHORED = frozenset({"yaml", "yaml_next", "sqlconn"})
# rules whose match starts words before the trigger (``echo PASS | sudo -S``)
_LINE_START = frozenset({"echo_pipe"})
# every kv match has ``=`` or ``:`` after its key word, every yaml match ``:`` ...
_AFTER = {"kv": ("=", ":"), "kv_quoted": ("\";", "';", "\" ;", "' ;"), "yaml": (":",),
          "yaml_next": (":",), "json_next": (":",), "xml_attr": ("value",), "xml_entry": ("</",),
          "xml_elem": ("</",), "xml_next": (">",), "sqlpw": ("'",)}
# finder regexes (over the lower-cased text) of rules that no trigger word fits
_FINDERS = {"sqlconn": (r"conn(?:ect)?[ \t]+[a-z0-9_$#.-]+/",),
            "discord_bot_token": (r"\.[a-z0-9_-]{6}\.[a-z0-9_-]{27}",)}
_NEXT_LINE = frozenset({"json_next", "xml_next", "yaml_next", "netrc_lines"})
_LINE_END = {"json_next": ":", "xml_next": ">", "yaml_next": "|>-+0123456789"}
# What may follow a trigger word inside the key words of the kv, yaml, cli and generic rules
# (password, pwd, private_key_id, credentials, signature ...) before the word ends: each of their
# matches holds an occurrence of a trigger word followed by this (checked on the lower-cased text).
# "secret" in "secret_key" is not, but that "key" is.
_ENDS_RULES = frozenset({"kv", "kv_quoted", "yaml", "cli", "generic_secret", "xml_attr",
                         "xml_entry", "xml_elem",
                         "json_next", "xml_next", "yaml_next", "freetext", "sqlpw"})
_WORD_ENDS = {w: re.compile(f"(?:{tail})(?!\\w)") for w, tail in {
    "pass": "word|wd|phrase|code|", "pw": "d?", "secret": "", "token": "",
    "key": "(?:[_-]?id|[_-]?data)?", "auth": "", "credential": "s?", "cookie": "", "sessionid": "",
    "session_id": "", "session-id": "", "sig": "nature", "psk": "", "pat": "",
}.items()}
assert set(_WORD_ENDS) == set(_KV_TRIGGERS)
_SECRET_COMPILED = _compile_rules(_SECRET_RULES)

# the end of a line whose value may be on the next line: a JSON or YAML key, a block scalar,
# an XML start tag, a .netrc login
_DANGLING = re.compile(r"(?:[:|>]|\blogin[ \t]+[^\s]+)[ \t]*\r?\Z", re.IGNORECASE)


def _back_off(text: str, cut: int, limit: int = 1 << 20) -> int:
    """A chunk cut at ``cut`` (a line start), moved back before the lines that may belong to
    what the next chunk holds: a line whose value is on the next line, and lines that look like
    a key's body (its END line may come later: :func:`keyblocks.body_start`). At most ``limit``
    characters back."""
    lo = max(0, cut - limit)
    while cut > lo:
        start = max(text.rfind("\n", 0, cut - 1) + 1, lo)
        if _DANGLING.search(text, start, cut - 1) is None:
            start = keyblocks.body_start(text, cut, lo)
            if start == cut:
                return cut
        cut = start
    return cut


# characters re.IGNORECASE matches to an ASCII letter although lower() does not give that letter
_FOLD = str.maketrans({"ı": "i", "ſ": "s"})


def _lowered(text: str) -> str:
    """``text`` lower-cased with the same length, so that a trigger word found in it is found
    wherever the rules' ``(?i:...)`` would match it (``paſſword`` holds "pass")."""
    if text.isascii():
        return text.lower()
    low = text.lower()
    if len(low) != len(text):  # a few characters lower-case to two: keep offsets aligned
        low = "".join(c if len(c) == 1 else ("i" if ch == "İ" else "?")
                      for ch in text for c in (ch.lower(),))
    return low.translate(_FOLD)


@functools.lru_cache(maxsize=64)
def _trigger_plan(rules: tuple[_Rule, ...]) -> tuple[tuple[re.Pattern[str], Any], ...]:
    """The regexes to run over the lower-cased text for ``rules``: the trigger words grouped by
    first character into one prefix tree each (one pass of re's fast first-character skip
    instead of one ``str.find`` pass per word), each with a dict from the word it matched to
    the (word, rule indices) of every trigger word that word starts with; plus each distinct
    finder, with ``(None, rule indices)``. A group where a word could hide inside another
    (``abab`` holds ``ab`` at 2) matches zero-width, so every start is seen."""
    words: dict[str, list[int]] = {}
    finders: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        for w in rule.triggers:
            words.setdefault(w, []).append(i)
        for f in rule.finders:
            finders.setdefault(f, []).append(i)
    by_first: dict[str, list[str]] = {}
    for w in words:
        by_first.setdefault(w[0], []).append(w)
    plan: list[tuple[re.Pattern[str], Any]] = []
    for first, group in sorted(by_first.items()):
        tree = re.escape(first) + _trie(w[1:] for w in group)
        inner = any(w2 in w1[1:] for w1 in group for w2 in group)
        rx = re.compile(f"(?=({tree}))" if inner else f"({tree})")
        heads = {w: tuple((len(p), _WORD_ENDS.get(p), tuple(
            (k, r.ends, r.after, r.line_start, r.anchored, r.word_before, r.next_line, r.line_end)
            for k in words[p] for r in (rules[k],))) for p in group if w.startswith(p))
            for w in group}
        plan.append((rx, heads))
    for f, idxs in finders.items():
        plan.append((re.compile(f), (None, tuple(idxs))))
    return tuple(plan)


def _candidate_lines(text: str, rules: tuple[_Rule, ...], low: str | None = None
                     ) -> list[list[tuple[int, int]] | None]:
    """For each rule, sorted (start, end) spans of the lines holding one of its triggers
    (``None``: the rule runs over the whole text); see :class:`_Rule`. Each plan regex runs
    once over the lower-cased text. A trigger word is handled where it is found, for its own
    rules only; a finder on its line's first hit (further hits only matter to ``reach``)."""
    found: list[dict[int, list[int]] | None] = [
        {} if (r.triggers or r.finders) else None for r in rules]
    plan = _trigger_plan(rules)
    if plan:
        if low is None:
            low = _lowered(text)
        n = len(low)
        for rx, entry in plan:
            if isinstance(entry, dict):
                _word_hits(low, n, rx, entry, rules, found)
            else:
                _finder_hits(low, n, rx, entry[1], rules, found)
    first = text.find("\n")
    return [[(0, len(text) if first < 0 else first)] if r.first_line
            else None if d is None else [(b, end) for _, (b, end) in sorted(d.items())]
            for r, d in zip(rules, found, strict=True)]


def _add_span(d: dict[int, list[int]], e: int, b: int, end: int) -> list[int]:
    span = d.get(e)
    if span is None:
        span = d[e] = [b, end]
    else:
        if b < span[0]:
            span[0] = b
        if end > span[1]:
            span[1] = end
    return span


def _word_hits(low: str, n: int, rx: re.Pattern[str], heads: dict[str, Any],
               rules: tuple[_Rule, ...], found: list[dict[int, list[int]] | None]) -> None:
    """The spans of the rules of one trigger-word group (see :func:`_trigger_plan`): each hit
    is handled for the rules of the words it starts with; the checks of :class:`_Rule`."""
    s = e = -1
    for m in rx.finditer(low):
        i = m.start()
        if i >= e:  # a new line
            s = low.rfind("\n", 0, i) + 1
            e = low.find("\n", i)
            if e < 0:
                e = n
        bound = -1
        seen: dict[str, bool] = {}  # after-strings looked for on this hit
        for size, ends, infos in heads[m.group(1)]:
            ends_ok = None
            for k, needs_ends, after, line_start, anchored, word_before, next_line, line_end in infos:
                if needs_ends and ends is not None:
                    if ends_ok is None:
                        ends_ok = ends.match(low, i + size) is not None
                    if not ends_ok:
                        continue  # "passed", "keyerror": a later hit may end a key word
                if after:
                    for c in after:
                        hit = seen.get(c)
                        if hit is None:
                            hit = seen[c] = low.find(c, i, e) >= 0
                        if hit:
                            break
                    else:
                        continue
                if line_end:
                    last = e - 1
                    while last > i and low[last] in " \t\r":
                        last -= 1
                    if low[last] not in line_end:
                        continue
                if bound < 0:
                    bound = max(low.rfind(" ", s, i), low.rfind("\t", s, i), s - 1) + 1
                if line_start:
                    b = s
                    if anchored and bound > s and low[s:bound].strip(" \t-"):
                        continue  # ``^[ \t-]*key``: something else before the word
                else:
                    b = bound
                    if word_before and b > s:
                        b = max(low.rfind(" ", s, b - 1), low.rfind("\t", s, b - 1), s - 1) + 1
                if next_line:
                    nxt = low.find("\n", e + 1) if e < n else -1
                    end = n if nxt < 0 else nxt
                else:
                    end = e
                _add_span(found[k], e, b, end)


def _finder_hits(low: str, n: int, rx: re.Pattern[str], idxs: tuple[int, ...],
                 rules: tuple[_Rule, ...], found: list[dict[int, list[int]] | None]) -> None:
    e = -1
    reached: list[tuple[list[int], int]] = []  # this line's spans that end at hit + reach
    # finders whose rules need nothing but the bound (most obfuscation rules): fast path
    simple = all(not (r.after or r.line_start or r.word_before or r.anchored or r.ends
                      or r.next_line) for r in (rules[k] for k in idxs))
    for m in rx.finditer(low):
        i = m.start()
        if i < e:  # another hit on the same line
            for span, reach in reached:
                if i + reach > span[1]:
                    span[1] = min(e, i + reach)
            continue
        s = low.rfind("\n", 0, i) + 1
        e = low.find("\n", i)
        if e < 0:
            e = n
        reached = []
        bound = max(low.rfind(" ", s, i), low.rfind("\t", s, i), s - 1) + 1
        for k in idxs:
            rule = rules[k]
            if not simple:
                if rule.after:
                    for c in rule.after:
                        if low.find(c, i, e) >= 0:
                            break
                    else:
                        continue
                if rule.line_start:
                    b = s
                    if rule.anchored and bound > s and low[s:bound].strip(" \t-"):
                        continue
                else:
                    b = bound
                    if rule.word_before and b > s:
                        b = max(low.rfind(" ", s, b - 1), low.rfind("\t", s, b - 1), s - 1) + 1
            else:
                b = bound
            end = min(e, i + rule.reach) if rule.reach else e
            span = _add_span(found[k], e, b, end)  # type: ignore[arg-type]
            if rule.reach:
                reached.append((span, rule.reach))


def _scan(text: str, rules: Sequence[_Rule], spans: Sequence[list[tuple[int, int]] | None]
          ) -> Generator[tuple[int, re.Match[str]], int | None, None]:
    """The matches one alternation of all ``rules`` (in order) would find, left to right and
    without overlaps, as (rule index, match); each rule searches only its own candidate lines.

    A heap holds each rule's next match; a head that starts before the end of the last accepted
    match is searched again from there, just as the alternation would carry on."""
    heap: list[tuple[int, int, re.Match[str]]] = []
    cursor = [0] * len(rules)

    def advance(k: int, pos: int) -> None:
        regex = rules[k].regex
        lines = spans[k]
        anchored = rules[k].anchored
        if lines is None:
            lead = rules[k].lead
            m = regex.search(text, pos - lead if pos >= lead else 0)
            if m:
                heapq.heappush(heap, (m.start() + lead, k, m))
            return
        j = cursor[k]
        while j < len(lines):
            s, e = lines[j]
            if e > pos:
                if anchored:  # ``^...``: only at the line start, if that is still free
                    m = regex.match(text, s, e) if s >= pos else None
                else:
                    m = regex.search(text, s if s > pos else pos, e)
                if m:
                    cursor[k] = j
                    heapq.heappush(heap, (m.start(), k, m))
                    return
            j += 1
        cursor[k] = j

    for k in range(len(rules)):
        if spans[k] is None or spans[k]:
            advance(k, 0)
    pos = 0
    while heap:
        start, k, m = heapq.heappop(heap)
        if start < pos:
            advance(k, pos)
            continue
        # the consumer may send where to go on from (past a match it turned down), else m's end
        resume = yield k, m
        pos = m.end() if resume is None else max(resume, start + 1)
        advance(k, pos)


# --- obfuscation rules -----------------------------------------------------------------------

_TLDS = ("com|net|org|io|co|ai|dev|cloud|info|biz|edu|gov|mil|int|arpa|local|lan|internal|corp|"
         "intra|intranet|home|localdomain|example|test|invalid|us|uk|de|fr|nl|ch|se|dk|fi|jp|cn|"
         "ru|br|au|ca|eu|nz|ie|cz|pt|za|kr|mx|tw|hk|sg|es|pl|online|site|tech")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_H4 = r"[0-9A-Fa-f]{1,4}"
_OBF_RULES: dict[str, list[tuple[str, str]]] = {
    "email": [("email", rf"(?<![\w.+%-])(?P<email_u>[A-Za-z0-9._%+-]+)@(?P<email_d>(?:{_LABEL}\.)+"
                        r"[A-Za-z]{2,63})(?![\w-])")],
    "ip": [
        ("ipv4", rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)"),
        ("ipv6", rf"(?<![\w:.])(?:(?:{_H4}:){{7}}{_H4}|(?:{_H4}(?::{_H4})*)?::(?:{_H4}(?::{_H4})*)?)"
                 r"(?![\w:])"),
    ],
    "mac": [("mac", r"(?<![\w:-])[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}(?![\w:-])")],
    "host": [
        ("sysloghost", r"(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+"
                       r"(?:Z|[+-]\d\d:?\d\d)?) (?P<sysloghost_v>[A-Za-z][\w-]*(?:\.[\w-]+)*)"
                       # a syslog host is followed by the program's tag ("sshd[12]:", "kernel:"),
                       # a message right after the time ("reported ...") is not a host
                       r"(?= [^\s:\[]+(?:\[\d+\])?:(?:\s|$))"),
        # (not inside a word with dashes: "gpg-wks-server:amd64" is a package)
        ("hostctx", r"(?i:(?<![A-Za-z0-9-])(?:host(?:name)?|server|node|rhost)\\?[\"']?[ \t]*[=:]"
                    r"[ \t]*\\?[\"']?)"
                    r"(?P<hostctx_v>[A-Za-z][\w-]*(?:\.[A-Za-z0-9][\w-]*)*)(?![=\w.-])"),
        ("fqdn", rf"(?<![\w.-])(?<!(?<!/)/)(?:{_LABEL}\.)+(?i:{_TLDS})(?![\w-]|\.[A-Za-z0-9])"),
    ],
    "user": [
        ("userctx", r"(?:(?i:\b(?:user(?:name)?|login|logname|ruser|suser|owner)\\?[\"']?[ \t]*[=:]"
                    r"[ \t]*\\?[\"']?"
                    r"|\b(?:for|invalid|by|illegal) user[ \t]+)|/home/|/Users/|\buid=\d+\()"
                    # (not the next key of "ruser= rhost=x")
                    r"(?P<userctx_v>[A-Za-z_][A-Za-z0-9._-]{0,31})(?![=\w.-])"),
        # sshd: "Accepted publickey for bob from ..." (not "waiting for data from ...")
        ("sshfor", r"(?<![\w-])(?:password|publickey|keyboard-interactive(?:/pam)?|hostbased|"
                   r"gssapi-with-mic|gssapi-keyex|none) for "
                   r"(?P<sshfor_v>[A-Za-z_][A-Za-z0-9._-]{0,31}) from\b"),
        ("urluser", r"://(?P<urluser_v>[A-Za-z_][\w.-]{0,31})(?=:[^\s@/]*@|@)"),
    ],
}
def _trie(words: Iterable[str]) -> str:
    """An alternation of ``words`` as a prefix tree: re tries the alternatives one after the
    other, so ``com|co|cloud`` costs three tries per position where ``c(?:o(?:m|)|loud)`` costs
    one."""
    tree: dict[str, Any] = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if "" in node:
            alts.append("")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    return emit(tree)


_H = "[0-9a-f]"
# How each obfuscation rule finds its candidate lines (see _Rule; finders run over the lower-cased
# text). Rules not listed run over the whole text: their regex starts with a literal or with ``^``.
_OBF_TRIGGERS: dict[str, dict[str, Any]] = {
    "email": {"triggers": ("@",)},
    # a hit is the address's first dot: ".255.255.255" and the look-ahead's 2 characters follow
    "ipv4": {"finders": (r"\.\d{1,3}\.\d{1,3}\.\d",), "reach": 16},
    # the full form holds ":h:h:h:" (a time of day "12:34:56 " does not), the short one "::"
    "ipv6": {"finders": (rf":(?::|{_H}{{1,4}}:{_H}{{1,4}}:{_H}{{1,4}}:)",)},
    # the separator after the first byte, then three more bytes: ":bb:cc:dd" or "-bb-cc-dd"
    "mac": {"finders": (rf":{_H}{{2}}[:-]{_H}{{2}}[:-]{_H}{{2}}[:-]",
                        rf"-{_H}{{2}}[:-]{_H}{{2}}[:-]{_H}{{2}}[:-]")},
    "hostctx": {"finders": (r"host(?:name)?\\?[\"']?[ \t]*[=:]", r"server\\?[\"']?[ \t]*[=:]",
                            r"node\\?[\"']?[ \t]*[=:]")},
    # not followed by ".label" (com.example.svc); i, k and s may come from ı, K, ſ, which the
    # rule's [A-Za-z0-9] does not match, so they do not rule a line out
    "fqdn": {"finders": (rf"\.{_trie(_TLDS.split('|'))}(?![\w-]|\.[0-9a-hjlmnopqrt-z])",)},
    # "for user bob": the match may start one word before the trigger word
    "sshfor": {"triggers": ("password for", "publickey for", "interactive for",
                            "interactive/pam for", "hostbased for", "gssapi-with-mic for",
                            "gssapi-keyex for", "none for")},
    "userctx": {"triggers": ("user", "login", "logname", "owner", "/home/", "uid="),
                "word_before": True},
}


_SYSTEM_USERS = frozenset(
    ["root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data", "backup", "list", "irc", "gnats", "nobody", "nogroup", "systemd-network", "systemd-resolve", "systemd-timesync", "systemd-journal", "messagebus", "syslog", "_apt", "sshd", "postgres", "mysql", "redis", "nginx", "apache", "http", "polkitd", "avahi", "dnsmasq", "chrony", "ntp", "unknown", "invalid", "admin", "user", "guest", "default"]
)
_PUBLIC_DOMAINS = frozenset(
    ["example.com", "example.org", "example.net", "github.com", "githubusercontent.com", "gitlab.com", "google.com", "debian.org", "ubuntu.com", "python.org", "pypi.org", "microsoft.com", "apple.com", "redhat.com", "kernel.org", "mozilla.org", "w3.org", "schema.org", "apache.org", "nginx.org", "docker.com", "docker.io", "mariadb.org", "mariadb.com", "postgresql.org",
     "mysql.com", "redis.io", "openssh.com"]
)
# top-level domains that are also common file extensions: a name with one dot ending so is a file
_FILE_EXT_TLDS = frozenset(["pl", "pt", "ai", "sh", "md", "cs", "so", "ts", "rs"])
_TOKEN_LABEL = re.compile(r"(?:host|domain|user|keyword)-\d+\Z")


# words that follow "host:" or "server:" in messages without being a host name
_NOT_HOSTS = frozenset(["unknown", "none", "null", "nil", "true", "false", "error", "default",
                        "any", "all", "local", "localhost", "yes", "no", "n", "y", "empty",
                        "undefined", "missing", "invalid", "not", "is", "was", "the", "a", "an"])


def _host_like(m: re.Match[str], value: str) -> bool:
    """Whether the word after "host:"/"server:" names a host: after ``=`` (key=value), or with a
    digit, dot, dash or underscore in it, or an all-lower-case word that ends the line or the
    field; "server: Connection refused" names none."""
    if value.lower() in _NOT_HOSTS:
        return False
    head = m.string[m.start():m.start("hostctx_v")]
    if "=" in head or any(c.isdigit() or c in ".-_" for c in value):
        return True
    after = m.string[m.end():m.end() + 1]
    return value.islower() and (after == "" or after in "\r\n\"',;)]}")


def _is_kept_ip4(addr: str) -> bool:
    head = addr[:addr.find(".")]
    if head.isascii() and 0 < int(head) < 240 and head != "127" and head[0] != "0":
        return False  # not 0/8, loopback, reserved, broadcast or a netmask: the usual case
    parts = [int(x) for x in addr.split(".")]
    if parts[0] == 127 or parts[0] >= 240 or addr in ("0.0.0.0",):  # noqa: S104 - an address read, not bound
        return True
    bits = "".join(f"{p:08b}" for p in parts)
    return parts[0] == 255 and "01" not in bits  # a netmask: ones then zeros


class Redactor:
    """Masks secrets (always) and obfuscates what the options ask for, consistently.

    One Redactor per bundle: it collects :attr:`hits` and the per-rule counts of :meth:`summary`
    over every text it redacts. Call :meth:`save` once the bundle is written so the tokens it
    handed out are remembered for the next bundle and for ``unredact``.
    """

    def __init__(self, options: RedactOptions | None = None, *, token_map: TokenMap | None = None,
                 false_positives: FalsePositives | None = None, max_hits: int = 100_000) -> None:
        self.options = options or RedactOptions()
        self.token_map = token_map if token_map is not None else TokenMap.load()
        self.false_positives = (false_positives if false_positives is not None
                                else FalsePositives.load())
        self.hits: list[Hit] = []
        self.max_hits = max_hits
        self._counts: Counter[str] = Counter()
        kinds = set(self.options.obfuscate)
        if self.options.keywords:
            kinds.add("keyword")
        rules: list[_Rule] = []
        for kind in ("email", "ip", "mac", "user", "host"):
            if kind in kinds:
                for n, p in _OBF_RULES[kind]:
                    if n == "sysloghost":  # at line starts: after a "\n", and on the first line
                        rules.append(_Rule(n, re.compile(f"(?P<{n}>{p})"), anchored=True,
                                           first_line=True))
                        rules.append(_Rule(n, re.compile(f"\n(?P<{n}>{p})"), lead=1))
                    else:
                        rules.append(_Rule(n, re.compile(f"(?P<{n}>{p})", re.MULTILINE),
                                           **_OBF_TRIGGERS.get(n, {})))
        # known words: found as trigger words when plain ASCII (re's case folding then equals
        # lower()), else by their regex over the whole text
        if "keyword" in kinds and self.options.keywords:
            kws = sorted(self.options.keywords, key=len, reverse=True)
            words = "|".join(re.escape(k) for k in kws)
            trig = tuple(k.lower() for k in kws) if all(k.isascii() for k in kws) else ()
            rules.insert(0, _Rule("keyword", re.compile(f"(?P<keyword>(?<!\\w)(?i:{words})(?!\\w))"),
                                  triggers=trig))
        if "user" in kinds and self.options.users:
            us = sorted(self.options.users, key=len, reverse=True)
            words = "|".join(re.escape(u) for u in us)
            trig = tuple(u.lower() for u in us) if all(u.isascii() for u in us) else ()
            rules.insert(0, _Rule("knownuser",
                                  re.compile(f"(?P<knownuser>(?<![\\w.-])(?:{words})(?![\\w-]|\\.\\w))"),
                                  triggers=trig))
        if "host" in kinds and self.options.hosts:
            hs = sorted(self.options.hosts, key=len, reverse=True)
            words = "|".join(re.escape(h) for h in hs)
            trig = tuple(h.lower() for h in hs) if all(h.isascii() for h in hs) else ()
            # a whole word ("_" ends it: prod-db_app.log), not a label of a longer name
            # (prod-db.acme.lan is the fqdn rule's); a file extension may follow (prod-db.log)
            rules.insert(0, _Rule("knownhost",
                                  re.compile(f"(?P<knownhost>(?<![A-Za-z0-9.-])(?i:{words})"
                                             f"(?![A-Za-z0-9-]|\\.[A-Za-z0-9-]+\\.[A-Za-z]))"),
                                  triggers=trig))
        # each rule searches its own candidate lines; _scan merges them as one alternation would
        self._obf_rules: tuple[_Rule, ...] | None = tuple(rules) if rules else None

    # public ----------------------------------------------------------------------------------

    def redact(self, text: str, *, source: str = "") -> str:
        """``text`` with every secret masked and the chosen values replaced by their tokens."""
        if not text:
            return text
        text = self._mask_secrets(text, source)
        if self._obf_rules is not None:
            text = self._obfuscate(text, source)
        return text

    def redact_lines(self, lines: Sequence[str], *, source: str = "") -> tuple[str, ...]:
        """Redact many lines in one pass (much faster than one call per line)."""
        if not lines:
            return ()
        if any("\n" in line for line in lines):
            return tuple(self.redact(line, source=source) for line in lines)
        out = self.redact("\n".join(lines), source=source).split("\n")
        return tuple(out)

    def redact_file(self, src: Path, dst: Path, *, source: str = "",
                    chunk_chars: int = 1 << 20) -> None:
        """Stream ``src`` to ``dst`` redacted, in chunks cut at line ends (a private key block is
        never cut in two). A chunk of about a megabyte is faster than a big one: the passes over
        it stay in the CPU cache and reuse the same memory."""
        with open(src, encoding="utf-8", errors="replace", newline="") as fin, \
                open(dst, "w", encoding="utf-8", newline="") as fout:
            carry = ""
            while True:
                block = fin.read(chunk_chars)
                buf = carry + block
                if not block:
                    if buf:
                        fout.write(self.redact(buf, source=source))
                    return
                cut = _back_off(buf, buf.rfind("\n") + 1)
                begin = keyblocks.open_block(buf, cut)
                if begin >= 0 and len(buf) - begin < 64 << 20:
                    cut = buf.rfind("\n", 0, begin) + 1
                if cut <= 0:
                    carry = buf
                    continue
                fout.write(self.redact(buf[:cut], source=source))
                carry = buf[cut:]

    def redact_name(self, name: str) -> str:
        """A file name with secrets and chosen values replaced, still a valid file name."""
        out = self.redact(name, source=name)
        return re.sub(r"\[REDACTED:(\w+)\]", r"REDACTED-\1", out).replace("/", "_").replace("\\", "_")

    def summary(self) -> dict[str, int]:
        """Counts per rule (no values): goes into the bundle manifest."""
        return dict(sorted(self._counts.items()))

    def preview(self, texts: dict[str, str]) -> dict[str, list[Hit]]:
        """What would be masked in each text, without touching this Redactor's state or map."""
        probe = Redactor(self.options, token_map=self.token_map.copy(),
                         false_positives=self.false_positives, max_hits=10**9)
        result: dict[str, list[Hit]] = {}
        for name, text in texts.items():
            before = len(probe.hits)
            probe.redact(text, source=name)
            result[name] = probe.hits[before:]
        return result

    def save(self) -> None:
        """Persist the token map (only if new tokens were handed out)."""
        if self.token_map.dirty:
            self.token_map.save()

    # internals -------------------------------------------------------------------------------

    def _record(self, source: str, rule: str, start: int, end: int, value: str, repl: str) -> None:
        self._counts[rule] += 1
        if len(self.hits) < self.max_hits:
            self.hits.append(Hit(source, rule, start, end, _preview(value), repl, value))

    def _mask_secrets(self, text: str, source: str, offset: int = 0) -> str:
        blocks = keyblocks.find_spans(text)
        if not blocks:
            return self._mask_rules(text, source, offset)
        # key blocks first and always (false positives or not); the rules run between them
        out: list[str] = []
        pos = 0
        token = keyblocks.TOKEN
        for s, e in blocks:
            out.append(self._mask_rules(text[pos:s], source, offset + pos))
            self._record(source, "private_key", offset + s, offset + e, text[s:e], token)
            out.append(token)
            pos = e
        out.append(self._mask_rules(text[pos:], source, offset + pos))
        return "".join(out)

    def _mask_rules(self, text: str, source: str, offset: int) -> str:
        if not text:
            return text
        rules = _SECRET_COMPILED
        scan = _scan(text, rules, _candidate_lines(text, rules))
        out: list[str] = []
        pos = 0
        item = next(scan, None)
        while item is not None:
            k, m = item
            kind = rules[k].name
            repl = self._secret_repl(kind, m, source, offset)
            if repl is None:  # not a secret after all: the rules go on from its value
                vgroup = f"{kind}_v"
                try:
                    item = scan.send(m.start(vgroup) if vgroup in m.re.groupindex else m.end())
                except StopIteration:
                    item = None
                continue
            out.append(text[pos:m.start()])
            out.append(repl)
            pos = m.end()
            item = next(scan, None)
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)

    def _secret_repl(self, kind: str, m: re.Match[str], source: str, offset: int) -> str | None:
        """The replacement of match ``m`` of rule ``kind``: ``m``'s text when it stays, None when
        it was no secret at all (the other rules then get its value's text)."""
        groups = m.re.groupindex
        vgroup = f"{kind}_v"
        if vgroup in groups and m.group(vgroup) is not None:
            vs, ve = m.span(vgroup)
        else:
            vs, ve = m.span()
        value = m.string[vs:ve]
        kgroup = f"{kind}_k"
        if kgroup in groups:
            key = m.group(kgroup)
            if not _KEYCHECK.search(key) and kind in ("kv", "yaml"):  # pragma: no cover
                return m.group(0)  # the key regex checks it already
            rule = "password" if _PASSWORDISH.search(key) else (
                "aws_secret_key" if "aws" in key.lower() else "secret")
        else:
            rule = _RULE_NAME.get(kind, kind)
        if kind == "freetext" and not _looks_like_password(value, m.group(0)):
            return None
        if kind == "b64_pem" and not _is_b64_private_key(value):
            return m.group(0)
        if kind in ("kv", "yaml", "kv_quoted") and (_CMDLET.match(value) or _CODE_REF.match(value)):
            return None  # $pw = ConvertTo-SecureString "...", token=Token{a64f992 ...}
        # keep quotes around a quoted value: the structure (JSON, YAML) stays readable
        for q in ('\\"', '"', "'"):
            if len(value) >= 2 * len(q) and value.startswith(q) and value.endswith(q):
                vs, ve = vs + len(q), ve - len(q)
                value = m.string[vs:ve]
                break
        if not value or value.startswith("[REDACTED:") or (
                rule != "private_key" and value in self.false_positives):
            return m.group(0)
        token = f"[REDACTED:{rule}]"
        self._record(source, rule, offset + vs, offset + ve, value, token)
        ms = m.start()
        head = m.string[ms:vs]
        if kind in ("sshpass", "mysqlp") and len(head) > 8:
            # the command line before -p may hold other secrets (--password=..., URLs)
            head = head[:5] + self._mask_rules(head[5:], source, offset + ms + 5)
        elif kind == "toolpw":  # the last password option: the ones before it are in ``head``
            head = self._mask_rules(head, source, offset + ms)
        elif kind == "aws_pair":  # the key id goes too
            kid = m.string[ms:ms + 20]
            self._record(source, "aws_access_key_id", offset + ms, offset + ms + 20, kid,
                         "[REDACTED:aws_access_key_id]")
            head = "[REDACTED:aws_access_key_id]" + head[20:]
        return head + token + m.string[ve:m.end()]

    def _obfuscate(self, text: str, source: str) -> str:
        tm = self.token_map
        fps = self.false_positives
        counts, hits, max_hits = self._counts, self.hits, self.max_hits

        def host(name: str, *, is_host: bool) -> str:
            labels = name.split(".")
            low = name.lower()
            if len(labels) >= 2 and ".".join(labels[-2:]).lower() in _PUBLIC_DOMAINS:
                return name
            tokenish = low in ("localhost", "localdomain") or all(
                _TOKEN_LABEL.match(x) for x in labels[:-1])
            if tokenish and (len(labels) > 1 or tm.is_token("host", name)):
                return name
            if len(labels) == 1:
                return tm.word("host", name)
            if len(labels) == 2 and not is_host:
                return f"{tm.word('domain', labels[0])}.{labels[1]}"
            mid = ".".join(labels[1:-1])
            head = tm.word("host", labels[0])
            return f"{head}.{tm.word('domain', mid)}.{labels[-1]}" if mid else f"{head}.{labels[-1]}"

        def user(name: str) -> str:
            if name in _SYSTEM_USERS or name.lower() in _SYSTEM_USERS or tm.is_token("user", name):
                return name
            return tm.word("user", name)

        def compute(kind: str, m: re.Match[str], value: str) -> tuple[str, str] | None:
            """(rule, token) for ``value``, None to keep it."""
            if value in fps:
                return None
            rule = kind
            if kind == "ipv4":
                if _is_kept_ip4(value):
                    return None
                token = tm.ip4(value)
            elif kind == "ipv6":
                try:
                    addr = ipaddress.IPv6Address(value)
                except ValueError:
                    return None
                if addr.is_loopback or addr.is_unspecified or (int(addr) >> 96) == 0xFD000000:
                    return None
                token = tm.ip6(addr)
            elif kind == "mac":
                if value.lower().startswith(("02:00:00", "00:00:00:00:00:00", "ff:ff:ff:ff")):
                    return None
                token = tm.mac(value)
            elif kind == "email":
                u, d = m.group("email_u"), m.group("email_d")
                if _TOKEN_LABEL.match(u) and tm.is_token("user", u):
                    return None
                token = f"{tm.word('user', u)}@{host(d, is_host=False)}"
            elif kind in ("sysloghost", "hostctx", "fqdn", "knownhost"):
                if kind == "hostctx" and not _host_like(m, value):
                    return None
                if kind == "fqdn" and value.count(".") == 1 and \
                        value.rsplit(".", 1)[1].lower() in _FILE_EXT_TLDS:
                    return None  # mysql-test-run.pl is a Perl script, wsi.edu.pl a host
                rule = "hostname"
                token = host(value, is_host=kind != "fqdn")
            elif kind in ("userctx", "sshfor", "urluser", "knownuser"):
                rule = "user"
                token = user(value)
            elif kind == "keyword":
                if tm.is_token("keyword", value):
                    return None
                token = tm.word("keyword", value)
            else:  # pragma: no cover - every rule is handled above
                return None
            return None if token == value else (rule, token)

        rules = self._obf_rules
        assert rules is not None
        names = [r.name for r in rules]
        vgroups = [f"{n}_v" if f"{n}_v" in r.regex.groupindex else None
                   for n, r in zip(names, rules, strict=True)]
        # the same value gets the same token: compute it once per text (a dict hit afterwards);
        # the map and the false positives do not change while one text is redacted
        cache: dict[tuple[str, str], tuple[str, str] | None] = {}
        out: list[str] = []
        pos = 0
        for k, m in _scan(text, rules, _candidate_lines(text, rules)):
            vg = vgroups[k]
            vs, ve = m.span(vg) if vg else m.span()
            value = text[vs:ve]
            kind = names[k]
            key = (kind, value)
            try:
                hit = cache[key]
            except KeyError:
                hit = cache[key] = compute(kind, m, value)
            if hit is None:
                continue
            counts[hit[0]] += 1  # _record, inlined: this loop runs once per masked value
            if len(hits) < max_hits:
                hits.append(Hit(source, hit[0], vs, ve, _preview(value), hit[1], value))
            out.append(text[pos:vs])
            out.append(hit[1])
            pos = ve
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)


_TARGET_HOST = re.compile(r"(?:[^@\s]*@)?(?P<host>\[[^\]]+\]|[^:\s]+)(?::\d+)?\Z")


def known_hosts(targets: Iterable[str] = ()) -> tuple[str, ...]:
    """The host names to give :class:`RedactOptions` ``hosts`` under ``--obfuscate host``: each
    target's saved name and address (``user@host:port`` targets: the host), the name and
    address of every saved host, and the ``~/.ssh/config`` aliases. Addresses that are IPs are
    left to the ip rule. A broken hosts file is an error (its names would leak otherwise)."""
    from diagkit.hosts import LOCAL_NAME, HostStore, hosts_from_ssh_config

    saved = {h.name: h for h in HostStore().load()}
    names: list[str] = []
    for target in targets:
        target = target.strip()
        if target in saved or target == LOCAL_NAME:
            continue  # saved: added below with the others
        m = _TARGET_HOST.match(target)
        if m:
            names.append(m.group("host").strip("[]"))
    for host in saved.values():
        names += [host.name, host.address]
    ssh_config = config.ssh_config_file()
    if ssh_config.is_file():
        names += [h.name for h in hosts_from_ssh_config(ssh_config)]
    out: list[str] = []
    for name in names:
        try:
            ipaddress.ip_address(name)
            continue
        except ValueError:
            pass
        if name and name.lower() not in (LOCAL_NAME, "localhost") and name not in out:
            out.append(name)
    return tuple(out)


def redact_text(text: str, options: RedactOptions | None = None) -> str:
    """One-off redaction with the user's map (saved afterwards)."""
    r = Redactor(options)
    out = r.redact(text)
    r.save()
    return out


__all__ = ["OBFUSCATION_KINDS", "FalsePositives", "Hit", "RedactOptions", "Redactor", "TokenMap",
           "known_hosts", "redact_text"]
