"""network: interfaces and their counters, addresses, default route, listening sockets, DNS."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity, Table
from diagkit.units import human_bytes

NAME = "network"

SCRIPT = (
    base.SCRIPT_PREAMBLE
    + r"""
echo "@@section netdev"
if [ -r /proc/net/dev ]; then cat /proc/net/dev
else echo "@@note /proc/net/dev is not readable: no interface counters"; fi
echo "@@section links"
for d in /sys/class/net/*; do
  [ -d "$d" ] || continue
  o=; m=; a=; f=
  { read -r o < "$d/operstate"; read -r m < "$d/mtu"; read -r a < "$d/address"; read -r f < "$d/flags"; } 2>/dev/null
  echo "${d##*/} ${o:-?} ${m:-?} ${a:-?} ${f:-?}"
done
if command -v ip >/dev/null 2>&1 && ip -o addr show >/dev/null 2>&1; then
  echo "@@section addr_ip"
  ip -o addr show 2>/dev/null
elif command -v ifconfig >/dev/null 2>&1; then
  echo "@@section addr_ifconfig"
  ifconfig -a 2>/dev/null
else
  echo "@@note neither ip nor ifconfig is installed: addresses from /proc (IPv6 per interface, IPv4 local addresses without interface)"
  echo "@@section addr_inet6"
  cat /proc/net/if_inet6 2>/dev/null
  echo "@@section addr_fib"
  [ -r /proc/net/fib_trie ] && awk '/\/32 host LOCAL/ { print prev } { prev = $2 }' /proc/net/fib_trie
fi
echo "@@section route"
if [ -r /proc/net/route ]; then cat /proc/net/route
else echo "@@note /proc/net/route is not readable: default route unknown"; fi
echo "@@section route6"
[ -r /proc/net/ipv6_route ] && awk '$1 == "00000000000000000000000000000000" && $2 == "00"' /proc/net/ipv6_route
listed=
if command -v ss >/dev/null 2>&1; then
  out=$(ss -Htulnp 2>/dev/null) || out=$(ss -tulnp 2>/dev/null) || out=$(ss -tuln 2>/dev/null)
  if [ -n "$out" ]; then echo "@@section listen_ss"; echo "$out"; listed=1; fi
fi
if [ -z "$listed" ]; then
  files=
  for f in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do [ -r "$f" ] && files="$files $f"; done
  if [ -n "$files" ]; then
    echo "@@section listen_proc"
    # tcp state 0A is LISTEN; udp 07 (unconnected) is what ss -l shows as a bound UDP socket.
    awk '($4 == "0A" && FILENAME ~ /tcp/) || ($4 == "07" && FILENAME ~ /udp/) {
      n = split(FILENAME, p, "/"); print p[n], $2, $8 }' $files
  else
    echo "@@note no ss and /proc/net/tcp is not readable: no listening sockets"
  fi
fi
echo "@@section resolv"
if [ -r /etc/resolv.conf ]; then cat /etc/resolv.conf
else echo "@@note /etc/resolv.conf is missing or not readable"; fi
exit 0
"""
)

_IFF_UP = 0x1


# --- reading: text -> NetworkReading ------------------------------------------------------------


@dataclass(frozen=True)
class Counters:
    """An interface's /proc/net/dev counters since boot."""

    rx_bytes: int
    rx_packets: int
    rx_errors: int
    rx_dropped: int
    tx_bytes: int
    tx_packets: int
    tx_errors: int
    tx_dropped: int

    @property
    def errors(self) -> int:
        return self.rx_errors + self.tx_errors

    @property
    def drops(self) -> int:
        return self.rx_dropped + self.tx_dropped

    @property
    def packets(self) -> int:
        return self.rx_packets + self.tx_packets


@dataclass(frozen=True)
class Interface:
    name: str
    state: str = "?"  # operstate ("up", "down", "unknown"...); "?" when unreadable
    mtu: int | None = None
    mac: str = ""
    flags: int | None = None  # IFF_* bits from /sys; None when unreadable
    addresses: tuple[str, ...] = ()  # "192.0.2.2/24", "fd00::2/64"...
    counters: Counters | None = None

    @property
    def is_down(self) -> bool:
        return self.state == "down" or (self.flags is not None and not self.flags & _IFF_UP)


@dataclass(frozen=True)
class Route:
    interface: str
    gateway: str
    metric: int = 0


@dataclass(frozen=True)
class Socket:
    """A listening TCP or bound UDP socket."""

    proto: str
    address: str
    port: int
    process: str  # "sshd (pid 812)" from ss, "uid 0" from /proc, "" when not shown


@dataclass(frozen=True)
class NetworkReading:
    interfaces: tuple[Interface, ...] = ()  # by name
    local_ipv4: tuple[str, ...] = ()  # from /proc/net/fib_trie: addresses without interface
    default_routes: tuple[Route, ...] = ()  # IPv4
    default_routes_v6: tuple[Route, ...] = ()
    routes_read: bool = False  # /proc/net/route was read: a missing default route means one
    listening: tuple[Socket, ...] = ()
    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _netdev(text: str) -> dict[str, Counters]:
    out: dict[str, Counters] = {}
    for line in text.splitlines():
        name, found, rest = line.partition(":")
        values = rest.split()
        if not found or len(values) < 16 or not values[0].isdigit():
            continue
        nums = [int(v) for v in values]
        out[name.strip()] = Counters(*nums[0:4], *nums[8:12])
    return out


def _links(text: str) -> dict[str, tuple[str, str, str, int | None]]:
    links: dict[str, tuple[str, str, str, int | None]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 5:
            flags = int(parts[4], 16) if parts[4].startswith("0x") else None
            links[parts[0]] = (parts[1], parts[2], parts[3], flags)
    return links


def _addresses(sections: dict[str, str]) -> dict[str, list[str]]:
    """Interface -> ['192.0.2.2/24', 'fd00::2/64', ...] from whichever source the script used."""
    out: dict[str, list[str]] = {}
    for line in sections.get("addr_ip", "").splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] in ("inet", "inet6"):
            out.setdefault(parts[1].rstrip(":").split("@")[0], []).append(parts[3])
    current = ""
    for line in sections.get("addr_ifconfig", "").splitlines():
        if line and not line[0].isspace():
            current = line.split()[0].rstrip(":")
            continue
        # busybox/old net-tools: 'inet addr:1.2.3.4  Mask:255.255.255.0', 'inet6 addr: fe80::1/64'
        # new net-tools: 'inet 1.2.3.4  netmask 255.255.255.0', 'inet6 fe80::1  prefixlen 64'
        if m := re.search(r"\binet (?:addr:)?(\d+\.\d+\.\d+\.\d+).*?(?:Mask:|netmask )(\S+)", line):
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{m.group(2)}").prefixlen
            out.setdefault(current, []).append(f"{m.group(1)}/{prefix}")
        elif m := re.search(r"\binet6 (?:addr: ?)?([0-9a-fA-F:]+)(/\d+)?(?:.*prefixlen (\d+))?", line):
            suffix = m.group(2) or (f"/{m.group(3)}" if m.group(3) else "")
            out.setdefault(current, []).append(f"{m.group(1)}{suffix}")
    for line in sections.get("addr_inet6", "").splitlines():
        parts = line.split()
        if len(parts) == 6 and len(parts[0]) == 32:
            addr = ipaddress.IPv6Address(bytes.fromhex(parts[0]))
            out.setdefault(parts[5], []).append(f"{addr}/{int(parts[2], 16)}")
    for line in sections.get("addr_fib", "").splitlines():
        if line.strip() and not line.startswith("127."):
            out.setdefault("?", []).append(line.strip())
    return out


def _hex_ip4(text: str) -> str:
    """/proc/net hex IPv4 (host byte order, little-endian here) -> dotted quad."""
    return str(ipaddress.IPv4Address(bytes.fromhex(text)[::-1]))


def _hex_ip6(text: str) -> str:
    raw = bytes.fromhex(text)
    # four 32-bit words, each in host byte order
    addr = ipaddress.IPv6Address(b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
    return str(addr.ipv4_mapped) if addr.ipv4_mapped else str(addr)


def _listening(sections: dict[str, str]) -> list[tuple[str, str, int, str]]:
    """(proto, address, port, process) for every listening TCP / bound UDP socket."""
    out: list[tuple[str, str, int, str]] = []
    for line in sections.get("listen_ss", "").splitlines():
        parts = line.split()
        if len(parts) < 5 or parts[0] == "Netid":
            continue
        local = parts[4]
        addr, _, port = local.rpartition(":")
        if not port.isdigit():
            continue
        m = re.search(r'\(\("([^"]+)",pid=(\d+)', line)
        proc = f"{m.group(1)} (pid {m.group(2)})" if m else ""
        out.append((parts[0], addr.strip("[]"), int(port), proc))
    for line in sections.get("listen_proc", "").splitlines():
        parts = line.split()
        if len(parts) < 2 or ":" not in parts[1]:
            continue
        hex_addr, _, hex_port = parts[1].partition(":")
        proto = parts[0].rstrip("6")
        addr = _hex_ip4(hex_addr) if len(hex_addr) == 8 else _hex_ip6(hex_addr)
        uid = f"uid {parts[2]}" if len(parts) > 2 else ""
        out.append((proto, addr, int(hex_port, 16), uid))
    return sorted(set(out), key=lambda r: (r[0], r[2], r[1]))


def _default_routes(sections: dict[str, str]) -> tuple[tuple[Route, ...], tuple[Route, ...]]:
    default4 = []
    for line in sections.get("route", "").splitlines():
        parts = line.split()
        # Default route: destination 0 with mask 0 and RTF_UP set.
        is_default = len(parts) >= 8 and parts[1] == "00000000" and parts[7] == "00000000"
        if is_default and int(parts[3], 16) & 0x1:
            default4.append(Route(parts[0], _hex_ip4(parts[2]), int(parts[6])))
    default6 = []
    for line in sections.get("route6", "").splitlines():
        parts = line.split()
        # reject routes (RTF_REJECT 0x200) on lo are the kernel's 'unreachable' placeholders
        if len(parts) == 10 and int(parts[8], 16) & 0x1 and not int(parts[8], 16) & 0x200:
            # unlike /proc/net/tcp6, ipv6_route prints addresses in network byte order
            default6.append(Route(parts[9], str(ipaddress.IPv6Address(bytes.fromhex(parts[4])))))
    return tuple(default4), tuple(default6)


def _resolv(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    nameservers: list[str] = []
    search: list[str] = []
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            nameservers.append(parts[1])
        elif parts and parts[0] in ("search", "domain"):
            search.extend(parts[1:])
    return tuple(nameservers), tuple(search)


def read(output: str) -> NetworkReading:
    sections = base.split_sections(output)
    counters = _netdev(sections.get("netdev", ""))
    addresses = _addresses(sections)
    links = _links(sections.get("links", ""))
    interfaces = []
    for name in sorted(set(links) | set(counters)):
        state, mtu, mac, flags = links.get(name, ("?", "?", "?", None))
        interfaces.append(Interface(
            name, state, int(mtu) if mtu.isdigit() else None, mac if mac != "?" else "", flags,
            tuple(addresses.get(name, [])), counters.get(name)))
    default4, default6 = _default_routes(sections)
    nameservers, search = _resolv(sections.get("resolv", ""))
    return NetworkReading(
        interfaces=tuple(interfaces),
        local_ipv4=tuple(addresses.get("?", [])),
        default_routes=default4,
        default_routes_v6=default6,
        routes_read="route" in sections and bool(sections["route"].strip()),
        listening=tuple(Socket(*row) for row in _listening(sections)),
        nameservers=nameservers,
        search=search,
        notes=base.notes(output),
    )


# --- describing: NetworkReading -> metrics, tables, facts ---------------------------------------


def describe(r: NetworkReading) -> ProbeData:
    metrics: list[Metric] = []
    rows = []
    for i in r.interfaces:
        c = i.counters
        rows.append((i.name, i.state, i.mtu, i.mac, ", ".join(i.addresses),
                     *((None,) * 6 if c is None else (c.rx_bytes, c.tx_bytes, c.rx_errors,
                                                      c.tx_errors, c.rx_dropped, c.tx_dropped))))
        if c is not None:
            labels = {"interface": i.name}
            metrics.append(Metric("net.rx_bytes", c.rx_bytes, "B", labels))
            metrics.append(Metric("net.tx_bytes", c.tx_bytes, "B", labels))
            metrics.append(Metric("net.errors", c.errors, "packets", labels))
            metrics.append(Metric("net.drops", c.drops, "packets", labels))
    facts = {"interfaces": str(len(rows))}
    if r.local_ipv4:
        # /proc/net/fib_trie names local IPv4 addresses but not their interface
        facts["local_ipv4"] = ", ".join(dict.fromkeys(r.local_ipv4))
    counted = [i for i in r.interfaces if i.counters is not None]
    if counted:
        facts["received_since_boot"] = human_bytes(
            sum(i.counters.rx_bytes for i in counted if i.counters and i.name != "lo"))
    if r.default_routes:
        best = min(r.default_routes, key=lambda route: route.metric)
        facts["default_gateway"] = best.gateway
        facts["default_interface"] = best.interface
    if r.default_routes_v6:
        first = r.default_routes_v6[0]
        facts["default_gateway_v6"] = f"{first.gateway} via {first.interface}"
    sockets = [(s.proto, s.address, s.port, s.process) for s in r.listening]
    metrics.append(Metric("net.listening_sockets", len(sockets), "sockets"))
    facts["listening_ports"] = ", ".join(
        f"{proto}/{port}"
        for proto, port in sorted({(s.proto, s.port) for s in r.listening}, key=lambda x: (x[1], x[0])))
    facts["nameservers"] = ", ".join(r.nameservers)
    if r.search:
        facts["dns_search"] = " ".join(r.search)
    if "127.0.0.53" in r.nameservers:
        facts["dns_note"] = "systemd-resolved stub: real servers in resolvectl status"
    tables = (
        Table("interfaces", "Network interfaces (counters since boot)",
              ("interface", "state", "mtu", "mac", "addresses", "rx_bytes", "tx_bytes",
               "rx_errors", "tx_errors", "rx_dropped", "tx_dropped"), rows),
        Table("listening", "Listening sockets", ("proto", "address", "port", "process"), sockets),
    )
    return ProbeData(metrics=tuple(metrics), tables=tables, facts=facts, notes=r.notes)


# --- judging: NetworkReading + thresholds -> findings -------------------------------------------


@dataclass(frozen=True)
class NetworkThresholds:
    error_ratio_warning: float = 0.1  # % of an interface's packets with errors or drops


THRESHOLDS = NetworkThresholds()


def judge(r: NetworkReading, limits: NetworkThresholds) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for i in r.interfaces:
        c = i.counters
        if c is not None and c.errors + c.drops > 0:
            ratio = base.pct(c.errors + c.drops, c.packets)
            findings.append(Finding(
                Severity.WARNING if ratio > limits.error_ratio_warning else Severity.INFO,
                f"Interface {i.name} has errors or drops",
                f"{i.name}: {c.rx_errors} rx / {c.tx_errors} tx errors, "
                f"{c.rx_dropped} rx / {c.tx_dropped} tx drops since boot "
                f"({ratio:.3f} % of {c.packets} packets).",
                "Errors point to cabling, duplex or driver trouble (ethtool -S); drops to "
                "full ring buffers or a busy CPU (ethtool -g, softirq load). Counters are "
                "since boot: check again to see whether they still grow.",
                NAME,
            ))
        if i.is_down and i.addresses:
            findings.append(Finding(
                Severity.INFO,
                f"Interface {i.name} is down but has an address",
                f"{i.name} is {i.state} with {', '.join(i.addresses)} configured.",
                "Expected for a standby or unplugged port; otherwise check the cable/link "
                f"(ip link show {i.name}) and why it did not come up.",
                NAME,
            ))
    if r.routes_read and not r.default_routes and not r.default_routes_v6:
        findings.append(Finding(
            Severity.WARNING,
            "No default route",
            "Neither IPv4 nor IPv6 has a default route: only directly connected networks "
            "are reachable.",
            "Check the gateway in the network configuration (ip route, DHCP lease); an "
            "isolated host or a container on an internal network may be meant this way.",
            NAME,
        ))
    if not r.nameservers:
        findings.append(Finding(
            Severity.WARNING,
            "No DNS server configured",
            "/etc/resolv.conf lists no nameserver: name lookups go to 127.0.0.1 and fail "
            "unless a local resolver runs there.",
            "Add a nameserver (or fix the DHCP / NetworkManager / systemd-resolved set-up "
            "that writes /etc/resolv.conf).",
            NAME,
        ))
    return tuple(findings)


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


def summarize(data: ProbeData) -> str:
    f = data.facts
    parts = [f"{f.get('interfaces', '?')} interfaces"]
    if f.get("default_gateway"):
        parts.append(f"gateway {f['default_gateway']} via {f.get('default_interface', '?')}")
    else:
        parts.append("no default route")
    listening = data.metric("net.listening_sockets")
    if listening is not None:
        parts.append(f"{listening:.0f} listening sockets")
    parts.append(f"DNS {f['nameservers']}" if f.get("nameservers") else "no DNS server")
    return ", ".join(parts)


PROBE = Probe(
    name=NAME, title="Network", script=SCRIPT, parse=parse, summarize=summarize,
    timeout=10.0,
    description="Interfaces with state, MTU, MAC, addresses and error/drop counters; default "
    "route; listening TCP and UDP sockets; DNS servers and search domains.")
