"""Live sampling core: the script on real shells, parsing real captures, rate maths, buffers."""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from diagkit.errors import TransportError
from diagkit.monitor.live import (
    SCRIPT,
    SERIES,
    SERIES_BY_KEY,
    LiveSample,
    LiveSampler,
    RawSnapshot,
    SeriesBuffer,
    gauges,
    parse,
    rates,
)
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshClientEnv

DATA = Path(__file__).resolve().parent.parent / "data" / "monitor"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"


def _read(name: str) -> str:
    return (DATA / name).read_text()


def _sane(values: dict[str, float], *, rates_expected: bool) -> None:
    assert 0.0 <= values["mem.used"] <= 100.0
    assert 0.0 <= values["swap.used"] <= 100.0
    assert values["load.1"] >= 0 and values["load.per_core"] >= 0
    if rates_expected:
        assert 0.0 <= values["cpu.usage"] <= 100.0
        assert 0.0 <= values["cpu.iowait"] <= values["cpu.usage"] + 100.0
        for key in ("disk.read", "disk.write", "net.rx", "net.tx", "swap.in", "swap.out"):
            assert values[key] >= 0.0, key


# --- the script on real shells ----------------------------------------------------------------


def _run_sh(argv: list[str], script: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, check=False, input=script, capture_output=True, text=True, env=env, timeout=20)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    return done.stdout


def test_script_runs_under_dash_and_parses() -> None:
    snap = parse(_run_sh(["/bin/sh", "-s"], SCRIPT))
    assert snap.epoch is not None and snap.epoch % 1  # GNU date gives nanoseconds
    assert snap.uptime is not None and snap.uptime > 0
    assert snap.cpu is not None and len(snap.cpu) == 8
    assert snap.ncpu == os.cpu_count()
    assert snap.mem_total and snap.mem_available is not None
    assert snap.disks and not any(d.startswith(("loop", "zram")) for d in snap.disks)
    assert "lo" not in snap.interfaces


def test_script_runs_under_busybox(tmp_path: Path) -> None:
    bb = tmp_path / "bb"
    bb.mkdir()
    subprocess.run([BUSYBOX, "--install", "-s", str(bb)], check=True)
    out = _run_sh([str(bb / "sh"), "-s"], SCRIPT, env={"PATH": str(bb)})
    snap = parse(out)
    # busybox date has no %N: the script falls back to whole seconds, never prints "%N"
    assert "%N" not in out and snap.epoch is not None and snap.epoch == int(snap.epoch)
    assert snap.cpu is not None and snap.ncpu and snap.load1 is not None and snap.mem_total


def test_script_survives_missing_and_unreadable_proc_files() -> None:
    # A world-readable temp dir: as root the script runs as nobody, for whom mode 0 really is
    # unreadable (root reads anything).
    root = Path(tempfile.mkdtemp(prefix="diagkit-fakeproc-", dir="/tmp"))
    try:
        root.chmod(0o755)
        fake = root / "proc"
        (fake / "net").mkdir(parents=True)
        (fake / "loadavg").write_text("0.50 0.40 0.30 1/100 42\n")
        (fake / "stat").write_text("cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n")
        (fake / "meminfo").write_text("MemTotal: 100 kB\n")
        (fake / "meminfo").chmod(0)
        (fake / "diskstats").mkdir()  # a directory where a file should be
        script = SCRIPT.replace("p=/proc\n", f"p={fake}\n", 1)
        assert script != SCRIPT
        argv = ["/bin/sh", "-s"]
        if os.geteuid() == 0:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
        done = subprocess.run(argv, check=False, input=script, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin"}, timeout=20)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    snap = parse(done.stdout)
    assert snap.load1 == 0.5 and snap.ncpu == 1 and snap.cpu == (1, 2, 3, 4, 5, 6, 7, 8)
    assert snap.mem_total is None and snap.disks == () and snap.interfaces == ()
    assert gauges(snap) == {"load.1": 0.5, "load.per_core": 0.5}


# --- parsing captures -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["debian12.txt", "busybox.txt"])
def test_parse_captures_from_this_machine(name: str) -> None:
    snap = parse(_read(name))
    assert snap.cpu is not None and snap.ncpu == 2
    assert snap.disks == ("vda",)  # loop0-7 and zram0 dropped by the script
    assert snap.interfaces == ("ifb0", "ifb1", "eth0")
    assert snap.net_rx_bytes == 334948783 and snap.net_tx_bytes == 455146
    assert snap.mem_total == 24683656 and snap.swap_total == 0
    assert gauges(snap)["swap.used"] == 0.0


def test_parse_handmade_drops_partitions_and_lo() -> None:
    snap = parse(_read("handmade_t0.txt"))
    assert snap.disks == ("mmcblk0", "nvme0n1", "sda")
    assert snap.disk_read_sectors == 5000 and snap.disk_write_sectors == 10000
    assert snap.interfaces == ("eth0", "wlan0")  # "eth0:1000000" without a space is read too
    assert snap.net_rx_bytes == 1000500 and snap.net_tx_bytes == 2000500
    assert snap.ncpu == 4 and snap.load1 == 2.0
    assert snap.epoch == 1700000000.0 and snap.uptime == 1000.0


def test_parse_garbage_gives_empty_snapshot() -> None:
    assert parse("") == RawSnapshot()
    assert parse("@@section stat\ncpu x y\n@@section loadavg\nnope\n") == RawSnapshot()


def test_old_kernel_without_memavailable() -> None:
    text = _read("handmade_t0.txt").replace("MemAvailable: 250000\n", "")
    snap = parse(text)
    assert snap.mem_available == 100000 + 1000 + 2000


# --- rate maths -------------------------------------------------------------------------------


def test_rates_known_answers() -> None:
    a, b = parse(_read("handmade_t0.txt")), parse(_read("handmade_t1.txt"))
    v = rates(a, b, local_dt=99.0)  # the host's uptime wins over the local clock
    assert v["cpu.usage"] == pytest.approx(100 * 800 / 1900)
    assert v["cpu.iowait"] == pytest.approx(100 * 200 / 1900)
    assert v["load.1"] == 3.0 and v["load.per_core"] == 0.75
    assert v["mem.used"] == pytest.approx(90.0) and v["swap.used"] == pytest.approx(50.0)
    assert v["swap.in"] == 5.0 and v["swap.out"] == 20.0
    assert v["disk.read"] == 3000 * 512 / 2 and v["disk.write"] == 4000 * 512 / 2
    assert v["net.rx"] == 200200 / 2 and v["net.tx"] == 100000 / 2
    assert set(v) == {s.key for s in SERIES}


def test_clock_fallbacks() -> None:
    a, b = parse(_read("handmade_t0.txt")), parse(_read("handmade_t1.txt"))
    no_up_a, no_up_b = replace(a, uptime=None), replace(b, uptime=None)
    # host epoch with sub-second digits... here both are whole seconds: local clock is used
    assert rates(no_up_a, no_up_b, local_dt=4.0)["net.tx"] == 100000 / 4
    sub_b = replace(no_up_b, epoch=1700000001.5)
    assert rates(no_up_a, sub_b, local_dt=4.0)["net.tx"] == 100000 / 1.5
    # nothing to measure time with: gauges only
    assert "net.tx" not in rates(no_up_a, no_up_b, local_dt=None)


def test_counter_reset_gives_no_negative_rate() -> None:
    a, b = parse(_read("handmade_t0.txt")), parse(_read("handmade_t1.txt"))
    b_reset = replace(b, net_rx_bytes=10, pswpout=0, cpu=(1, 0, 1, 1, 1, 0, 0, 0))
    v = rates(a, b_reset)
    assert "net.rx" not in v and "swap.out" not in v and "cpu.usage" not in v
    assert v["net.tx"] == 50000.0 and v["swap.in"] == 5.0  # the others still count
    assert all(x >= 0 for x in v.values())


def test_reboot_gives_gauges_only() -> None:
    a, b = parse(_read("handmade_t0.txt")), parse(_read("handmade_t1.txt"))
    v = rates(a, replace(b, uptime=3.0))
    assert v == gauges(b)


def test_disk_or_interface_set_change_skips_that_sum() -> None:
    a, b = parse(_read("handmade_t0.txt")), parse(_read("handmade_t1.txt"))
    v = rates(a, replace(b, interfaces=("eth0",), disks=("sda",)))
    assert not {"net.rx", "net.tx", "disk.read", "disk.write"} & set(v)
    assert "cpu.usage" in v


def test_series_declared_once() -> None:
    keys = [s.key for s in SERIES]
    assert len(keys) == len(set(keys)) == 12
    assert SERIES_BY_KEY["disk.read"].unit == "B/s"
    assert SERIES_BY_KEY["cpu.usage"].threshold == 90.0


# --- SeriesBuffer -----------------------------------------------------------------------------


def test_buffer_window_and_growth() -> None:
    buf = SeriesBuffer(keys=("a", "b"), capacity=4)
    for i in range(100):
        buf.append(LiveSample(time=1000.0 + i, values={"a": float(i), "b": 2.0 * i}))
    assert len(buf) == 100 and buf._t.shape[0] == 128  # doubled 4 -> 128, not grown per append
    t, y = buf.window(10)
    assert t.tolist() == [1000.0 + i for i in range(89, 100)]
    assert y.shape == (2, 11) and y[0].tolist() == [float(i) for i in range(89, 100)]
    t, y1 = buf.series("b", 2.5)
    assert t.tolist() == [1097.0, 1098.0, 1099.0] and y1.tolist() == [194.0, 196.0, 198.0]
    assert buf.window()[0].shape == (100,)
    assert buf.nearest(1010.4) == (1010.0, {"a": 10.0, "b": 20.0})
    assert buf.nearest(1010.6)[0] == 1011.0
    assert buf.nearest(-5)[0] == 1000.0 and buf.nearest(1e12)[0] == 1099.0


def test_buffer_day_of_seconds_reallocates_rarely() -> None:
    buf = SeriesBuffer()
    reallocations = 0
    last = buf._t
    for i in range(86_400):
        buf.append_values(float(i), {"cpu.usage": 1.0})
        if buf._t is not last:
            reallocations, last = reallocations + 1, buf._t
    assert reallocations <= 5
    assert buf.window(3600)[0].shape == (3601,)


def test_buffer_missing_values_are_nan() -> None:
    buf = SeriesBuffer()
    buf.append(LiveSample(time=1.0, values={"load.1": 0.5}))
    _t, y = buf.series("cpu.usage")
    assert math.isnan(y[0])
    assert buf.series("load.1")[1].tolist() == [0.5]


def test_buffer_csv_is_exact(tmp_path: Path) -> None:
    buf = SeriesBuffer()
    rng = np.random.default_rng(1)
    samples = []
    for i in range(50):
        values = {s.key: float(rng.random() * 1e6) for s in SERIES if (i + len(s.key)) % 7}
        samples.append(LiveSample(time=1_700_000_000.123 + i * 0.5, values=values))
        buf.append(samples[-1])
    path = buf.to_csv(tmp_path / "live.csv")
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["time", "epoch", "cpu.usage [%]", "cpu.iowait [%]"]
    assert "disk.read [B/s]" in rows[0] and "load.1" in rows[0]
    assert len(rows) == 51
    for sample, row in zip(samples, rows[1:], strict=True):
        assert float(row[1]) == sample.time
        stamp = datetime.fromisoformat(row[0])
        assert stamp.tzinfo is not None and abs(stamp.timestamp() - sample.time) < 0.001
        for spec, cell in zip(SERIES, row[2:], strict=True):
            if spec.key in sample.values:
                assert float(cell) == sample.values[spec.key]
            else:
                assert cell == ""


# --- live sampling over real transports -------------------------------------------------------


def _sample_twice(sampler: LiveSampler) -> tuple[LiveSample, LiveSample]:
    first = sampler.sample()
    assert "cpu.usage" not in first.values  # no rate from one reading
    _sane(first.values, rates_expected=False)
    time.sleep(0.3)  # rates need the host's clock (1/100 s ticks) and CPU counters to move
    second = sampler.sample()
    _sane(second.values, rates_expected=True)
    assert second.time > first.time
    assert second.host_time is not None
    return first, second


def test_local_sampler_twice() -> None:
    with LocalTransport() as t:
        _first, second = _sample_twice(LiveSampler(t))
    assert abs(second.host_time - second.time) < 5  # same machine, same clock


def test_ssh_sampler_twice(ssh_client_env: SshClientEnv) -> None:
    with SshTransport.connect(SshTarget(ssh_client_env.alias)) as t:
        _sample_twice(LiveSampler(t))


def test_failing_command_raises_transport_error(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # `sh -s` cannot be found: a real failure
    with LocalTransport() as t, pytest.raises(TransportError) as info:
        LiveSampler(t).sample()
    assert "Live sampling on local failed" in str(info.value)
    assert "status 127" in str(info.value)
