"""network probe: parser on real and hand-made captures, and the script run live."""

from __future__ import annotations

from pathlib import Path

from diagkit.probes import network
from diagkit.probes.base import ProbeData, Row, Severity
from diagkit.transport.local import LocalTransport
from tests.probes.helpers import by_title, table

DATA = Path(__file__).parent.parent / "data" / "probes" / "network"


def load(name: str) -> ProbeData:
    return network.parse((DATA / name).read_text())


def interfaces(data: ProbeData) -> dict[str, Row]:
    return {r["interface"]: r for r in table(data, "interfaces").rows}


def test_normal_capture_with_ip_and_ss() -> None:
    data = load("normal.txt")
    ifaces = interfaces(data)
    assert set(ifaces) == {"eth0", "ifb0", "ifb1", "lo"}
    eth0 = ifaces["eth0"]
    assert (eth0["state"], eth0["mtu"], eth0["mac"]) == ("up", 1400, "02:fc:00:00:00:01")
    assert eth0["addresses"] == "192.0.2.2/24, fd00::2/64, fe80::fc:ff:fe00:1/64"
    assert eth0["rx_bytes"] == 141296469 and eth0["tx_bytes"] == 202456
    assert data.facts["default_gateway"] == "192.0.2.1"
    assert data.facts["default_interface"] == "eth0"
    assert data.facts["default_gateway_v6"] == "fd00::1 via eth0"
    assert data.facts["nameservers"] == "10.255.255.53"
    listening = table(data, "listening").rows
    assert ("tcp", "0.0.0.0", 2024, "") in listening
    assert ("tcp", "127.0.0.1", 60547, "sshd (pid 10979)") in listening
    # ifb0/ifb1 are down but carry no address: not worth a finding.
    assert data.findings == () and data.notes == ()


def test_busybox_capture_reads_sockets_from_proc() -> None:
    data = load("busybox.txt")
    listening = table(data, "listening").rows
    assert ("tcp", "0.0.0.0", 2024, "uid 0") in listening  # 00000000:07E8
    assert ("tcp", "127.0.0.1", 60547, "uid 0") in listening  # 0100007F:EC83
    assert interfaces(data)["eth0"]["addresses"].startswith("192.0.2.2/24")
    assert data.facts["default_gateway"] == "192.0.2.1"
    assert data.findings == ()


def test_nonroot_capture_has_no_process_names() -> None:
    data = load("nonroot.txt")
    assert set(table(data, "listening").column("process")) == {""}
    assert data.facts["listening_ports"] == "tcp/2024, tcp/60547"


def test_troubled_host_without_tools_route_or_dns() -> None:
    data = load("troubled_host.txt")
    assert by_title(data) == {
        "Interface eth0 has errors or drops": Severity.WARNING,  # 0.135 % of packets
        "Interface eth1 has errors or drops": Severity.INFO,  # 37 drops in 5 M packets
        "Interface eth2 is down but has an address": Severity.INFO,
        "No default route": Severity.WARNING,
        "No DNS server configured": Severity.WARNING,
    }
    eth0 = next(f for f in data.findings if f.title.startswith("Interface eth0"))
    assert "191234 rx / 0 tx errors" in eth0.detail and "ethtool" in eth0.hint
    ifaces = interfaces(data)
    assert ifaces["eth2"]["addresses"] == "2001:db8::42/64"  # from /proc/net/if_inet6
    assert data.facts["local_ipv4"] == "10.20.30.40"  # from fib_trie, no interface known
    assert data.facts["dns_search"] == "corp.example.com example.com"
    listening = table(data, "listening").rows
    assert ("tcp", "::", 80, "uid 33") in listening
    assert ("tcp", "127.0.0.1", 8080, "uid 33") in listening  # ::ffff:127.0.0.1
    assert ("udp", "127.0.0.53", 53, "uid 101") in listening
    assert len(data.notes) == 1 and "neither ip nor ifconfig" in data.notes[0]


def test_net_tools_ifconfig_and_old_ss_with_header() -> None:
    data = load("nettools_old_ss.txt")
    ens = interfaces(data)["ens192"]
    assert ens["addresses"] == "172.16.5.20/23, fe80::250:56ff:feab:cdef/64"
    # Two default routes: the lower metric wins.
    assert data.facts["default_gateway"] == "192.168.4.1"
    assert data.facts["nameservers"] == "172.16.0.10, 172.16.0.11"
    listening = table(data, "listening").rows
    assert ("tcp", "::", 3306, "") in listening and ("udp", "127.0.0.1", 323, "") in listening
    assert len(listening) == 5
    assert data.findings == ()


def test_reader_gives_typed_values_without_thresholds() -> None:
    r = network.read((DATA / "normal.txt").read_text())
    eth0 = next(i for i in r.interfaces if i.name == "eth0")
    assert (eth0.state, eth0.mtu, eth0.is_down) == ("up", 1400, False)
    assert eth0.counters is not None and eth0.counters.rx_bytes == 141296469
    assert r.default_routes[0].gateway == "192.0.2.1" and r.routes_read
    assert network.Socket("tcp", "127.0.0.1", 60547, "sshd (pid 10979)") in r.listening
    assert r.nameservers == ("10.255.255.53",)


def test_judge_works_on_data_with_the_thresholds_given() -> None:
    noisy = network.Counters(rx_bytes=10**9, rx_packets=10_000, rx_errors=5, rx_dropped=0,
                             tx_bytes=10**8, tx_packets=10_000, tx_errors=0, tx_dropped=0)
    reading = network.NetworkReading(
        interfaces=(network.Interface("eth1", "down", addresses=("10.0.0.5/24",), counters=noisy),),
        routes_read=True, nameservers=("10.0.0.53",))
    assert [(f.title, f.severity) for f in network.judge(reading, network.THRESHOLDS)] == [
        ("Interface eth1 has errors or drops", Severity.INFO),  # 0.025 % of packets
        ("Interface eth1 is down but has an address", Severity.INFO),
        ("No default route", Severity.WARNING),
    ]
    strict = network.NetworkThresholds(error_ratio_warning=0.01)
    assert network.judge(reading, strict)[0].severity is Severity.WARNING


def test_live_local_run() -> None:
    result = LocalTransport().run(network.PROBE.script, timeout=network.PROBE.timeout)
    assert result.exit_status == 0, result.stderr
    data = network.parse(result.stdout)
    ifaces = interfaces(data)
    assert "lo" in ifaces and ifaces["lo"]["addresses"].startswith("127.0.0.1/8")
    assert data.facts["interfaces"] and data.facts["nameservers"]
    assert "net.listening_sockets" in {m.name for m in data.metrics}
    assert all(m.unit for m in data.metrics)
    assert data.notes == ()
