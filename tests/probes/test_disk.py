"""disk probe: parser on real and hand-made captures, and the script run live."""

from __future__ import annotations

from pathlib import Path

from diagkit.probes import disk
from diagkit.probes.base import ProbeData, Row, Severity
from diagkit.transport.local import LocalTransport
from tests.probes.helpers import by_title, metric, table

DATA = Path(__file__).parent.parent / "data" / "probes" / "disk"
KIB = 1024


def load(name: str) -> ProbeData:
    return disk.parse((DATA / name).read_text())


def rows_by_mount(data: ProbeData) -> dict[str, Row]:
    return {r["mount"]: r for r in table(data, "filesystems").rows}


def test_normal_capture_root_and_shm_only() -> None:
    data = load("normal.txt")
    rows = rows_by_mount(data)
    # devtmpfs, cgroup tmpfs and the tiny read-only tmpfs are pseudo filesystems: left out.
    assert set(rows) == {"/", "/dev/shm"}
    root = rows["/"]
    assert (root["filesystem"], root["type"]) == ("/dev/vda", "ext4")
    assert root["size_bytes"] == 264212084 * KIB and root["avail_bytes"] == 83359592 * KIB
    assert root["used_pct"] == 21.6 and root["inodes_used_pct"] == 2.5 and root["mode"] == "rw"
    assert metric(data, "disk.free", mount="/") == 83359592 * KIB
    io = {r["device"]: r for r in table(data, "io").rows}
    assert set(io) == {"vda"}  # loops skipped, zram0 never used
    assert io["vda"]["read_Bps"] == 280 * 512 / 0.5  # 280 sectors read in 0.5 s
    assert metric(data, "disk.util", device="vda") == 0.0
    assert data.facts["io_sample_seconds"] == "0.50"
    assert data.findings == () and data.notes == ()


def test_busybox_and_nonroot_captures() -> None:
    for name in ("busybox.txt", "nonroot.txt"):
        data = load(name)
        rows = rows_by_mount(data)
        assert set(rows) == {"/", "/dev/shm"}, name
        assert rows["/"]["inodes_used_pct"] == 2.5, name  # this busybox has df -i
        assert set(table(data, "io").column("device")) == {"vda"}
        assert data.findings == ()


def test_disk_full_server() -> None:
    data = load("disk_full.txt")
    rows = rows_by_mount(data)
    # squashfs snaps and CD images are always full: not listed, never a finding.
    assert "/snap/core20/2318" not in rows and "/media/cdrom" not in rows
    assert set(rows) == {"/run", "/", "/dev/shm", "/boot", "/var", "/data", "/srv/My Files"}
    assert rows["/data"]["mode"] == "ro"
    assert by_title(data) == {
        "Filesystem / is 97 % full": Severity.CRITICAL,
        "Filesystem /var is 91 % full": Severity.WARNING,
        "Filesystem /var is out of inodes (96 % used)": Severity.CRITICAL,
        "Filesystem /srv/My Files is out of inodes (91 % used)": Severity.WARNING,
        "Filesystem /data is read-only": Severity.WARNING,
        "Device sda is saturated": Severity.WARNING,
        "Device dm-0 is saturated": Severity.WARNING,
    }
    root = next(f for f in data.findings if f.title.startswith("Filesystem / is"))
    assert root.detail == "/ (/dev/mapper/vg0-root, ext4): 1.2 GiB free of 48.9 GiB."
    spaced = next(f for f in data.findings if "My Files" in f.title)
    assert "'/srv/My Files'" in spaced.hint  # quoted, ready to paste
    assert metric(data, "disk.util", device="sda") == 98.0
    assert metric(data, "disk.write_iops", device="sda") == 4000.0
    assert metric(data, "disk.read_rate", device="dm-0") == 100000 * 512 / 0.5
    assert "sda1" not in table(data, "io").column("device")  # partitions count in sda


def test_full_application_tmpfs_and_loop_disk_planted_here() -> None:
    # Captured on the test machine with a 200 MiB ext4 loop disk and a 20 MiB tmpfs at
    # /srv/app/cache, both filled with dd until ENOSPC.
    data = load("app_tmpfs_full.txt")
    rows = rows_by_mount(data)
    assert set(rows) == {"/", "/dev/shm", "/srv/data", "/srv/app/cache"}
    assert by_title(data) == {
        "Filesystem /srv/data is 100 % full": Severity.CRITICAL,
        "Filesystem /srv/app/cache is 100 % full": Severity.CRITICAL,
    }
    cache = next(f for f in data.findings if "/srv/app/cache" in f.title)
    assert cache.detail == "/srv/app/cache (tmpfs, tmpfs): 0 B free of 20.0 MiB."
    assert "remount,size=" in cache.hint and "remount,size=" not in data.findings[0].hint
    # Every filesystem df listed and the probe does not judge is there with its reason.
    assert {r["mount"]: r["reason"] for r in table(data, "skipped").rows} == {
        "/dev": "devtmpfs, a kernel pseudo filesystem",
        "/sys/fs/cgroup": "tmpfs of the kernel's own tree",
    }


def test_skip_reasons_of_snaps_read_only_tmpfs_and_bind_mounts() -> None:
    reasons = {r["mount"]: r["reason"] for r in table(load("disk_full.txt"), "skipped").rows}
    assert reasons["/snap/core20/2318"] == "squashfs, read-only by design"
    reasons = {r["mount"]: r["reason"]
               for r in table(load("container_overlay_ro.txt"), "skipped").rows}
    assert reasons["/etc/config"] == "same filesystem as /etc/hosts (a bind mount)"
    assert reasons["/dev"] == "tmpfs holding device nodes (a container's /dev)"


def test_container_with_readonly_overlay_root_and_busybox_df() -> None:
    data = load("container_overlay_ro.txt")
    rows = rows_by_mount(data)
    assert rows["/"]["remark"] == "container overlay" and rows["/"]["mode"] == "ro"
    # /etc/config is the same host filesystem as /etc/hosts: listed once.
    assert set(rows) == {"/", "/dev/shm", "/etc/hosts", "/tmp"}
    assert rows["/"]["inodes_used_pct"] is None  # no inode figures from this df
    assert by_title(data) == {
        "Filesystem / is 97 % full": Severity.CRITICAL,
        "Filesystem /dev/shm is 100 % full": Severity.CRITICAL,
        "Filesystem /etc/hosts is 97 % full": Severity.CRITICAL,
        "Filesystem / is read-only": Severity.WARNING,  # containers may run --read-only
    }
    assert table(data, "io").rows == ()
    assert len(data.notes) == 2 and "df -i" in data.notes[1]


def test_reader_gives_typed_values_without_thresholds() -> None:
    r = disk.read((DATA / "disk_full.txt").read_text())
    by_mount = {f.mount: f for f in r.filesystems}
    assert by_mount["/data"].read_only and by_mount["/"].fstype == "ext4"
    assert round(by_mount["/"].used_percent) == 97
    assert {"sda", "dm-0"} <= {d.device for d in r.devices} and r.io_sample_seconds == 0.5
    assert "sda1" not in {d.device for d in r.devices}  # a partition: counted in sda
    assert not r.container_root
    assert disk.read((DATA / "container_overlay_ro.txt").read_text()).container_root


def test_judge_works_on_data_with_the_thresholds_given() -> None:
    full = disk.Filesystem(mount="/var", device="/dev/sdb1", fstype="xfs", size=100 * KIB,
                           used=93 * KIB, avail=7 * KIB, used_percent=93.0,
                           inodes_used_percent=10.0, read_only=False)
    reading = disk.DiskReading(filesystems=(full,))
    assert [(f.title, f.severity) for f in disk.judge(reading, disk.THRESHOLDS)] == [
        ("Filesystem /var is 93 % full", Severity.WARNING)]
    assert disk.judge(reading, disk.DiskThresholds(usage_warning=95.0)) == ()
    ro_root = disk.DiskReading(mounts=(disk.Mount("/dev/vda1", "/", "ext4", ("ro",)),))
    assert [(f.title, f.severity) for f in disk.judge(ro_root, disk.THRESHOLDS)] == [
        ("Filesystem / is read-only", Severity.CRITICAL)]


def test_live_local_run() -> None:
    result = LocalTransport().run(disk.PROBE.script, timeout=disk.PROBE.timeout)
    assert result.exit_status == 0, result.stderr
    data = disk.parse(result.stdout)
    rows = rows_by_mount(data)
    assert "/" in rows and rows["/"]["size_bytes"] > 0
    assert metric(data, "disk.used_percent", mount="/") >= 0
    assert table(data, "io").rows, "no block device with I/O found"
    assert all(m.unit for m in data.metrics)
    assert data.notes == ()
