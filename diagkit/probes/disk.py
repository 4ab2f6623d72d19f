"""disk: filesystem space and inodes, read-only mounts, I/O rates per device."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from diagkit.probes.base import (
    SAMPLE_SLEEP,
    SCRIPT_PREAMBLE,
    Finding,
    Metric,
    Probe,
    ProbeData,
    Severity,
    Table,
    notes,
    pct,
    split_sections,
    to_float,
)
from diagkit.units import human_bytes

NAME = "disk"

USAGE_WARNING = 90.0  # % of a filesystem's space used
USAGE_CRITICAL = 95.0
INODES_WARNING = 90.0  # % of a filesystem's inodes used
INODES_CRITICAL = 95.0
UTIL_WARNING = 90.0  # % of the sample a device was busy with I/O
DF_TIMEOUT_SECONDS = 5  # a hung NFS mount makes df wait forever

# Kernel and virtual filesystems: no space to run out of, or not ours to judge.
PSEUDO_FS = frozenset(
    {
        "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs",
        "tracefs", "pstore", "bpf", "mqueue", "hugetlbfs", "configfs", "fusectl", "autofs",
        "binfmt_misc", "rpc_pipefs", "nsfs", "efivarfs", "selinuxfs", "ramfs", "fuse.gvfsd-fuse",
        "fuse.portal", "nfsd", "tmpfs",
    }
)  # fmt: skip
# tmpfs is skipped except where filling it breaks things (sockets, PID files, shared memory).
TMPFS_KEPT = frozenset({"/tmp", "/run", "/dev/shm"})
# Read-only by nature: never a finding.
ALWAYS_RO_FS = frozenset({"squashfs", "iso9660", "erofs", "udf", "cramfs"})

SCRIPT = (
    SCRIPT_PREAMBLE
    + r"""
echo "@@section mounts"
if [ -r /proc/mounts ]; then cat /proc/mounts
else echo "@@note /proc/mounts is not readable: no mount options or read-only check"; fi
echo "@@section fstab"
[ -r /etc/fstab ] && cat /etc/fstab
echo "@@section blockdevs"
for d in /sys/block/*; do [ -e "$d" ] && echo "${d##*/}"; done
ds() {
  echo "@@section $1"
  { read -r up _ < /proc/uptime; echo "uptime $up"; } 2>/dev/null
  cat /proc/diskstats 2>/dev/null
}
if [ -r /proc/diskstats ]; then
  ds diskstats1
  # df runs while the sample interval passes, so the probe costs the sleep and no more.
  ( """
    + SAMPLE_SLEEP
    + r""" ) &
  sampler=$!
else
  echo "@@note /proc/diskstats is not readable: no I/O rates"
  sampler=
fi
T=
command -v timeout >/dev/null 2>&1 && T="timeout DF_TIMEOUT"
echo "@@section df"
out=$($T df -P -k 2>/dev/null); rc=$?
echo "$out"
case "$rc" in 124|137|143) echo "@@note df did not answer within DF_TIMEOUT s (a hung network mount?): space figures may be missing";; esac
[ -n "$out" ] || echo "@@note df printed nothing: no space figures"
echo "@@section dfi"
out=$($T df -P -i 2>/dev/null); rc=$?
echo "$out"
case "$rc" in 124|137|143) echo "@@note df -i did not answer within DF_TIMEOUT s: inode figures may be missing";; esac
[ -n "$out" ] || echo "@@note df -i is not supported here (busybox without inode support?): no inode figures"
if [ -n "$sampler" ]; then
  wait "$sampler"
  ds diskstats2
fi
exit 0
""".replace("DF_TIMEOUT", str(DF_TIMEOUT_SECONDS))
)


@dataclass(frozen=True)
class _Mount:
    device: str
    point: str
    fstype: str
    options: tuple[str, ...]

    @property
    def read_only(self) -> bool:
        return "ro" in self.options


_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(text: str) -> str:
    """/proc/mounts writes spaces and tabs in paths as \\040 and \\011."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), text)


def _mounts(text: str) -> dict[str, _Mount]:
    """Mount point -> the mount on top (a later line for the same point hides the earlier)."""
    out: dict[str, _Mount] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            point = _unescape(parts[1])
            out[point] = _Mount(_unescape(parts[0]), point, parts[2], tuple(parts[3].split(",")))
    return out


def _fstab(text: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 4:
            out[_unescape(parts[1])] = tuple(parts[3].split(","))
    return out


def _df(text: str) -> Iterator[tuple[str, int, int, int, str]]:
    """(filesystem, total, used, available, mount point) rows of ``df -P`` (either -k or -i)."""
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6 or not parts[1].isdigit():
            continue  # header, or a row without numbers (busybox prints '-' for some fs)
        if not (parts[2].isdigit() and parts[3].isdigit()):
            continue
        yield parts[0], int(parts[1]), int(parts[2]), int(parts[3]), parts[5]


def _diskstats(text: str) -> tuple[float | None, dict[str, tuple[int, int, int, int, int]]]:
    """(uptime, {device: (reads, sectors read, writes, sectors written, io ms)})."""
    uptime: float | None = None
    out: dict[str, tuple[int, int, int, int, int]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "uptime":
            uptime = to_float(parts[1])
        elif len(parts) >= 14 and parts[3].isdigit():
            out[parts[2]] = (int(parts[3]), int(parts[5]), int(parts[7]), int(parts[9]), int(parts[12]))
    return uptime, out


def _kept(mount: _Mount | None, point: str) -> bool:
    if mount is None:
        return True  # df knows it, /proc/mounts was unreadable: keep rather than hide
    if mount.fstype == "tmpfs":
        return point in TMPFS_KEPT
    return mount.fstype not in PSEUDO_FS


def parse(output: str) -> ProbeData:
    sections = split_sections(output)
    mounts = _mounts(sections.get("mounts", ""))
    fstab = _fstab(sections.get("fstab", ""))
    metrics: list[Metric] = []
    tables: list[Table] = []
    findings: list[Finding] = []
    facts: dict[str, str] = {}
    container_root = mounts.get("/", _Mount("", "/", "", ())).fstype == "overlay"

    inodes: dict[str, float] = {}
    for _fs, total, used, _avail, point in _df(sections.get("dfi", "")):
        if total > 0:
            inodes[point] = pct(used, total)

    rows = []
    seen: set[str] = set()
    seen_fs: set[tuple[str, int, int, int]] = set()
    for fs, blocks, used_k, avail_k, point in _df(sections.get("df", "")):
        mount = mounts.get(point)
        if point in seen or blocks == 0 or not _kept(mount, point):
            continue
        if mount is not None and mount.fstype in ALWAYS_RO_FS:
            continue  # snaps and CD images are always 100 % full, by design
        # Bind mounts (containers mount files like /etc/hosts from the host disk) repeat the
        # same filesystem: report it once, under the first mount point df lists.
        same_fs = (fs, blocks, used_k, avail_k)
        if same_fs in seen_fs and (mount is None or mount.fstype != "tmpfs"):
            continue
        seen.add(point)
        seen_fs.add(same_fs)
        size, used, avail = blocks * 1024, used_k * 1024, avail_k * 1024
        # Same formula as df's Use%: space usable by normal users, reserved blocks left out.
        used_pct = pct(used, used + avail)
        labels = {"mount": point}
        metrics.append(Metric("disk.used_percent", round(used_pct, 1), "%", labels))
        metrics.append(Metric("disk.size", size, "B", labels))
        metrics.append(Metric("disk.free", avail, "B", labels))
        inode_pct = inodes.get(point)
        if inode_pct is not None:
            metrics.append(Metric("disk.inodes_used_percent", round(inode_pct, 1), "%", labels))
        fstype = mount.fstype if mount else ""
        remark = "container overlay" if fstype == "overlay" else ""
        rows.append(
            (
                point,
                fs,
                fstype,
                size,
                used,
                avail,
                round(used_pct, 1),
                None if inode_pct is None else round(inode_pct, 1),
                "ro" if mount and mount.read_only else "rw",
                remark,
            )
        )
        if used_pct > USAGE_WARNING:
            findings.append(
                Finding(
                    Severity.CRITICAL if used_pct > USAGE_CRITICAL else Severity.WARNING,
                    f"Filesystem {point} is {used_pct:.0f} % full",
                    f"{point} ({fs}, {fstype or 'unknown type'}): {human_bytes(avail)} free of "
                    f"{human_bytes(size)}.",
                    f"Find what grew: du -xh --max-depth=2 {shlex.quote(point)} | sort -h | tail; check for "
                    "deleted files still held open (lsof +L1) and old logs or core dumps.",
                    NAME,
                )
            )
        if inode_pct is not None and inode_pct > INODES_WARNING:
            findings.append(
                Finding(
                    Severity.CRITICAL if inode_pct > INODES_CRITICAL else Severity.WARNING,
                    f"Filesystem {point} is out of inodes ({inode_pct:.0f} % used)",
                    f"{point} has used {inode_pct:.1f} % of its inodes: new files will fail with "
                    "'No space left on device' even if space remains.",
                    "Look for directories with huge numbers of small files (sessions, mail "
                    "queues, caches): find {point} -xdev -type d -size +1M.".replace(
                        "{point}", shlex.quote(point)
                    ),
                    NAME,
                )
            )
    tables.append(
        Table(
            "filesystems",
            "Filesystems",
            ("mount", "filesystem", "type", "size_bytes", "used_bytes", "avail_bytes", "used_pct",
             "inodes_used_pct", "mode", "remark"),
            tuple(rows),
        )
    )
    facts["filesystems"] = str(len(rows))

    # Read-only mounts that should be writable: the kernel remounts ext4/xfs read-only after
    # I/O errors, and a silent ro root is a classic cause of 'the app cannot write'.
    for point, mount in mounts.items():
        if not mount.read_only or mount.fstype in PSEUDO_FS or mount.fstype in ALWAYS_RO_FS:
            continue
        if point == "/":
            severity = Severity.WARNING if container_root else Severity.CRITICAL
            detail = f"The root filesystem ({mount.device}, {mount.fstype}) is mounted read-only."
            if container_root:
                detail += " This is a container: it may run with a read-only root on purpose."
        elif point in fstab and "ro" not in fstab[point]:
            severity = Severity.WARNING
            detail = (
                f"{point} ({mount.device}, {mount.fstype}) is mounted read-only although "
                "/etc/fstab mounts it read-write."
            )
        else:
            continue
        findings.append(
            Finding(
                severity,
                f"Filesystem {point} is read-only",
                detail,
                "The kernel does this after I/O errors: check dmesg for EXT4-fs/XFS errors and "
                "the disk's health before remounting (mount -o remount,rw).",
                NAME,
            )
        )

    up1, ds1 = _diskstats(sections.get("diskstats1", ""))
    up2, ds2 = _diskstats(sections.get("diskstats2", ""))
    whole = {line.strip() for line in sections.get("blockdevs", "").splitlines() if line.strip()}
    interval = (up2 - up1) if up1 is not None and up2 is not None else 0.0
    io_rows = []
    if interval > 0:
        facts["io_sample_seconds"] = f"{interval:.2f}"
        for dev in sorted(ds2):
            if dev not in ds1 or dev.startswith(("loop", "ram")):
                continue
            if whole and dev not in whole:
                continue  # a partition: its disk already counts its I/O
            before, after = ds1[dev], ds2[dev]
            if not any(after):
                continue  # never used since boot (an empty drive slot, a zram left unused)
            d = [max(a - b, 0) for a, b in zip(after, before, strict=True)]
            read_bps, write_bps = d[1] * 512 / interval, d[3] * 512 / interval
            read_iops, write_iops = d[0] / interval, d[2] / interval
            util = min(100.0, d[4] / (interval * 1000) * 100)
            labels = {"device": dev}
            metrics.append(Metric("disk.read_rate", round(read_bps, 1), "B/s", labels))
            metrics.append(Metric("disk.write_rate", round(write_bps, 1), "B/s", labels))
            metrics.append(Metric("disk.read_iops", round(read_iops, 1), "IO/s", labels))
            metrics.append(Metric("disk.write_iops", round(write_iops, 1), "IO/s", labels))
            metrics.append(Metric("disk.util", round(util, 1), "%", labels))
            io_rows.append(
                (dev, round(read_bps, 1), round(write_bps, 1), round(read_iops, 1),
                 round(write_iops, 1), round(util, 1))
            )
            if util > UTIL_WARNING:
                findings.append(
                    Finding(
                        Severity.WARNING,
                        f"Device {dev} is saturated",
                        f"{dev} was busy {util:.0f} % of a {interval:.1f} s sample "
                        f"({human_bytes(read_bps)}/s read, {human_bytes(write_bps)}/s written, "
                        f"{read_iops + write_iops:.0f} IO/s).",
                        "Find who does the I/O (iotop, /proc/*/io) and compare with the device's "
                        "limits; on a VM or cloud disk, check its IOPS/throughput quota.",
                        NAME,
                    )
                )
    tables.append(
        Table(
            "io",
            "I/O per device during the sample",
            ("device", "read_Bps", "write_Bps", "read_iops", "write_iops", "util_pct"),
            tuple(io_rows),
        )
    )

    return ProbeData(
        metrics=tuple(metrics),
        tables=tuple(tables),
        findings=tuple(findings),
        facts=facts,
        notes=notes(output),
    )


def summarize(data: ProbeData) -> str:
    table = data.table("filesystems")
    if table is None or not table.rows:
        return "no filesystems seen"
    cols = table.columns
    fullest = max(table.rows, key=lambda r: float(r[cols.index("used_pct")] or 0))
    mount, pct = fullest[cols.index("mount")], float(fullest[cols.index("used_pct")] or 0)
    free = human_bytes(float(fullest[cols.index("avail_bytes")] or 0))
    return f"{len(table.rows)} filesystems; fullest {mount} at {pct:.0f} % ({free} free)"


PROBE = Probe(
    name=NAME,
    title="Disks and filesystems",
    description="Space and inodes per filesystem, read-only mounts, and read/write rates, IOPS "
    "and utilisation per device over a 0.5 s sample.",
    script=SCRIPT,
    parse=parse,
    timeout=15.0,
    summarize=summarize,
)
