"""disk: filesystem space and inodes, read-only mounts, I/O rates per device."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity, Table
from diagkit.units import human_bytes

NAME = "disk"

DF_TIMEOUT_SECONDS = 5  # a hung NFS mount makes df wait forever

# Kernel and virtual filesystems: no space to run out of, or not ours to judge.
PSEUDO_FS = frozenset(
    {
        "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs",
        "tracefs", "pstore", "bpf", "mqueue", "hugetlbfs", "configfs", "fusectl", "autofs",
        "binfmt_misc", "rpc_pipefs", "nsfs", "efivarfs", "selinuxfs", "fuse.gvfsd-fuse",
        "fuse.portal", "nfsd",
    }
)  # fmt: skip
# Memory-backed filesystems are judged wherever an application mounts them (a full 20 MiB tmpfs
# cache breaks its application as surely as a full /tmp), except the kernel's own under /sys and
# /proc and read-only ones (a container's masked paths, systemd credentials).
MEMORY_FS = frozenset({"tmpfs", "ramfs"})
KERNEL_TREES = ("/sys/", "/proc/")
# Read-only by nature: never a finding.
ALWAYS_RO_FS = frozenset({"squashfs", "iso9660", "erofs", "udf", "cramfs"})

SCRIPT = (
    base.SCRIPT_PREAMBLE
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
    + base.SAMPLE_SLEEP
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


# --- reading: text -> DiskReading ---------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    """One line of /proc/mounts (the one on top where several share a mount point)."""

    device: str
    point: str
    fstype: str
    options: tuple[str, ...]

    @property
    def read_only(self) -> bool:
        return "ro" in self.options


@dataclass(frozen=True)
class Filesystem:
    """One filesystem worth reporting, as df saw it, in bytes."""

    mount: str
    device: str  # df's Filesystem column
    fstype: str  # from /proc/mounts; "" when that was unreadable
    size: int
    used: int
    avail: int
    used_percent: float  # df's Use%: reserved blocks left out
    inodes_used_percent: float | None  # None: no inode figures (df -i missing)
    read_only: bool


@dataclass(frozen=True)
class Skipped:
    """A filesystem df listed that is not judged, and why."""

    mount: str
    fstype: str
    reason: str


@dataclass(frozen=True)
class DeviceIO:
    """One whole disk's I/O over the sample."""

    device: str
    read_bps: float
    write_bps: float
    read_iops: float
    write_iops: float
    util: float  # % of the sample the device was busy, at most 100


@dataclass(frozen=True)
class DiskReading:
    filesystems: tuple[Filesystem, ...] = ()  # pseudo, always-read-only and bind repeats left out
    skipped: tuple[Skipped, ...] = ()  # what df listed and was left out, with the reason
    mounts: tuple[Mount, ...] = ()  # every mount point of /proc/mounts, in its order
    fstab: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # mount point -> options
    io_sample_seconds: float = 0.0  # 0: no I/O sample
    devices: tuple[DeviceIO, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def container_root(self) -> bool:
        return any(m.point == "/" and m.fstype == "overlay" for m in self.mounts)


_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(text: str) -> str:
    """/proc/mounts writes spaces and tabs in paths as \\040 and \\011."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), text)


def _mounts(text: str) -> dict[str, Mount]:
    """Mount point -> the mount on top (a later line for the same point hides the earlier)."""
    out: dict[str, Mount] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            point = _unescape(parts[1])
            out[point] = Mount(_unescape(parts[0]), point, parts[2], tuple(parts[3].split(",")))
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
            uptime = base.to_float(parts[1])
        elif len(parts) >= 14 and parts[3].isdigit():
            out[parts[2]] = (int(parts[3]), int(parts[5]), int(parts[7]), int(parts[9]), int(parts[12]))
    return uptime, out


def _skip_reason(mount: Mount | None, point: str, blocks: int) -> str:
    """Why a filesystem df listed is left out of the judgement; "" when it is kept."""
    if mount is None:
        return ""  # df knows it, /proc/mounts was unreadable: keep rather than hide
    kind = mount.fstype
    if kind in ALWAYS_RO_FS:
        return f"{kind}, read-only by design"  # snaps and CD images are always 100 % full
    if kind in MEMORY_FS:
        if point.startswith(KERNEL_TREES):
            return f"{kind} of the kernel's own tree"
        if point == "/dev":
            return f"{kind} holding device nodes (a container's /dev)"
        if mount.read_only:
            return f"{kind}, mounted read-only"
        if blocks == 0:
            return f"{kind} without a size limit: grows until RAM runs out (see the memory probe)"
        return ""
    if kind in PSEUDO_FS:
        return f"{kind}, a kernel pseudo filesystem"
    if blocks == 0:
        return f"{kind or 'unknown type'} reporting no size"
    return ""


def _filesystems(sections: dict[str, str], mounts: dict[str, Mount],
                 skipped: list[Skipped]) -> tuple[Filesystem, ...]:
    """The filesystems judged; those df listed but left out go to ``skipped`` with the reason."""
    inodes: dict[str, float] = {}
    for _fs, total, used, _avail, point in _df(sections.get("dfi", "")):
        if total > 0:
            inodes[point] = base.pct(used, total)
    found: list[Filesystem] = []
    seen: set[str] = set()
    seen_fs: dict[tuple[str, int, int, int], str] = {}  # -> the first mount point seen
    for fs, blocks, used_k, avail_k, point in _df(sections.get("df", "")):
        mount = mounts.get(point)
        if point in seen:
            continue
        seen.add(point)
        if reason := _skip_reason(mount, point, blocks):
            skipped.append(Skipped(point, mount.fstype if mount else "", reason))
            continue
        # Bind mounts (containers mount files like /etc/hosts from the host disk) repeat the
        # same filesystem: report it once, under the first mount point df lists.
        same_fs = (fs, blocks, used_k, avail_k)
        if same_fs in seen_fs and (mount is None or mount.fstype not in MEMORY_FS):
            skipped.append(Skipped(point, mount.fstype if mount else "",
                                   f"same filesystem as {seen_fs[same_fs]} (a bind mount)"))
            continue
        seen_fs[same_fs] = point
        used, avail = used_k * 1024, avail_k * 1024
        found.append(Filesystem(
            mount=point, device=fs, fstype=mount.fstype if mount else "", size=blocks * 1024,
            used=used, avail=avail, used_percent=base.pct(used, used + avail),
            inodes_used_percent=inodes.get(point), read_only=bool(mount and mount.read_only),
        ))
    return tuple(found)


def _devices(sections: dict[str, str]) -> tuple[float, tuple[DeviceIO, ...]]:
    up1, ds1 = _diskstats(sections.get("diskstats1", ""))
    up2, ds2 = _diskstats(sections.get("diskstats2", ""))
    whole = {line.strip() for line in sections.get("blockdevs", "").splitlines() if line.strip()}
    interval = (up2 - up1) if up1 is not None and up2 is not None else 0.0
    if interval <= 0:
        return 0.0, ()
    found = []
    for dev in sorted(ds2):
        if dev not in ds1 or dev.startswith(("loop", "ram")):
            continue
        if whole and dev not in whole:
            continue  # a partition: its disk already counts its I/O
        before, after = ds1[dev], ds2[dev]
        if not any(after):
            continue  # never used since boot (an empty drive slot, a zram left unused)
        d = [max(a - b, 0) for a, b in zip(after, before, strict=True)]
        found.append(DeviceIO(
            dev, read_bps=d[1] * 512 / interval, write_bps=d[3] * 512 / interval,
            read_iops=d[0] / interval, write_iops=d[2] / interval,
            util=min(100.0, d[4] / (interval * 1000) * 100),
        ))
    return interval, tuple(found)


def read(output: str) -> DiskReading:
    sections = base.split_sections(output)
    mounts = _mounts(sections.get("mounts", ""))
    interval, devices = _devices(sections)
    skipped: list[Skipped] = []
    filesystems = _filesystems(sections, mounts, skipped)
    return DiskReading(
        filesystems=filesystems,
        skipped=tuple(skipped),
        mounts=tuple(mounts.values()),
        fstab=_fstab(sections.get("fstab", "")),
        io_sample_seconds=interval,
        devices=devices,
        notes=base.notes(output),
    )


# --- describing: DiskReading -> metrics, tables, facts ------------------------------------------


def describe(r: DiskReading) -> ProbeData:
    metrics: list[Metric] = []
    rows = []
    # Fullest first: the table answers "which filesystem is about to fill" (metrics keep df order).
    fullest = sorted(r.filesystems, key=lambda f: -f.used_percent)
    for f in r.filesystems:
        labels = {"mount": f.mount}
        metrics.append(Metric("disk.used_percent", round(f.used_percent, 1), "%", labels))
        metrics.append(Metric("disk.size", f.size, "B", labels))
        metrics.append(Metric("disk.free", f.avail, "B", labels))
        inodes = None if f.inodes_used_percent is None else round(f.inodes_used_percent, 1)
        if inodes is not None:
            metrics.append(Metric("disk.inodes_used_percent", inodes, "%", labels))
    for f in fullest:
        inodes = None if f.inodes_used_percent is None else round(f.inodes_used_percent, 1)
        rows.append((f.mount, f.device, f.fstype, f.size, f.used, f.avail,
                     round(f.used_percent, 1), inodes, "ro" if f.read_only else "rw",
                     "container overlay" if f.fstype == "overlay" else ""))
    io_rows = []
    for d in r.devices:
        values = tuple(round(v, 1) for v in (d.read_bps, d.write_bps, d.read_iops, d.write_iops,
                                             d.util))
        for name, unit, value in zip(("read_rate", "write_rate", "read_iops", "write_iops", "util"),
                                     ("B/s", "B/s", "IO/s", "IO/s", "%"), values, strict=True):
            metrics.append(Metric(f"disk.{name}", value, unit, {"device": d.device}))
        io_rows.append((d.device, *values))
    facts = {"filesystems": str(len(rows))}
    if r.io_sample_seconds > 0:
        facts["io_sample_seconds"] = f"{r.io_sample_seconds:.2f}"
    tables = (
        Table("filesystems", "Filesystems",
              ("mount", "filesystem", "type", "size_bytes", "used_bytes", "avail_bytes", "used_pct",
               "inodes_used_pct", "mode", "remark"), rows, sorted_by="-used_pct"),
        Table("io", "I/O per device during the sample",
              ("device", "read_Bps", "write_Bps", "read_iops", "write_iops", "util_pct"), io_rows),
        Table("skipped", "Filesystems not judged, and why", ("mount", "type", "reason"),
              [(k.mount, k.fstype, k.reason) for k in r.skipped]),
    )
    return ProbeData(metrics=tuple(metrics), tables=tables, facts=facts, notes=r.notes)


# --- judging: DiskReading + thresholds -> findings ----------------------------------------------


@dataclass(frozen=True)
class DiskThresholds:
    usage_warning: float = 90.0  # % of a filesystem's space used
    usage_critical: float = 95.0
    inodes_warning: float = 90.0  # % of a filesystem's inodes used
    inodes_critical: float = 95.0
    util_warning: float = 90.0  # % of the sample a device was busy with I/O


THRESHOLDS = DiskThresholds()


def judge(r: DiskReading, limits: DiskThresholds) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for f in r.filesystems:
        findings += _space_findings(f, limits)
    findings += _read_only_findings(r)
    for d in r.devices:
        if d.util > limits.util_warning:
            findings.append(Finding(
                Severity.WARNING,
                f"Device {d.device} is saturated",
                f"{d.device} was busy {d.util:.0f} % of a {r.io_sample_seconds:.1f} s sample "
                f"({human_bytes(d.read_bps)}/s read, {human_bytes(d.write_bps)}/s written, "
                f"{d.read_iops + d.write_iops:.0f} IO/s).",
                "Find who does the I/O (iotop, /proc/*/io) and compare with the device's "
                "limits; on a VM or cloud disk, check its IOPS/throughput quota.",
                NAME,
            ))
    return tuple(findings)


def _space_findings(f: Filesystem, limits: DiskThresholds) -> list[Finding]:
    found = []
    point = f.mount
    if f.used_percent > limits.usage_warning:
        found.append(Finding(
            Severity.CRITICAL if f.used_percent > limits.usage_critical else Severity.WARNING,
            f"Filesystem {point} is {f.used_percent:.0f} % full",
            f"{point} ({f.device}, {f.fstype or 'unknown type'}): {human_bytes(f.avail)} free of "
            f"{human_bytes(f.size)}.",
            f"Find what grew: du -xh --max-depth=2 {shlex.quote(point)} | sort -h | tail; check for "
            "deleted files still held open (lsof +L1) and old logs or core dumps."
            + (f" It lives in RAM: clear what its application caches there, or enlarge it "
               f"(mount -o remount,size=... {shlex.quote(point)}) if memory allows."
               if f.fstype in MEMORY_FS else ""),
            NAME,
        ))
    inodes = f.inodes_used_percent
    if inodes is not None and inodes > limits.inodes_warning:
        found.append(Finding(
            Severity.CRITICAL if inodes > limits.inodes_critical else Severity.WARNING,
            f"Filesystem {point} is out of inodes ({inodes:.0f} % used)",
            f"{point} has used {inodes:.1f} % of its inodes: new files will fail with "
            "'No space left on device' even if space remains.",
            "Look for directories with huge numbers of small files (sessions, mail queues, "
            f"caches): find {shlex.quote(point)} -xdev -type d -size +1M.",
            NAME,
        ))
    return found


def _read_only_findings(r: DiskReading) -> list[Finding]:
    # Read-only mounts that should be writable: the kernel remounts ext4/xfs read-only after
    # I/O errors, and a silent ro root is a classic cause of 'the app cannot write'.
    found = []
    for mount in r.mounts:
        if not mount.read_only or mount.fstype in PSEUDO_FS | MEMORY_FS | ALWAYS_RO_FS:
            continue
        point = mount.point
        if point == "/":
            severity = Severity.WARNING if r.container_root else Severity.CRITICAL
            detail = f"The root filesystem ({mount.device}, {mount.fstype}) is mounted read-only."
            if r.container_root:
                detail += " This is a container: it may run with a read-only root on purpose."
        elif point in r.fstab and "ro" not in r.fstab[point]:
            severity = Severity.WARNING
            detail = (f"{point} ({mount.device}, {mount.fstype}) is mounted read-only although "
                      "/etc/fstab mounts it read-write.")
        else:
            continue
        found.append(Finding(
            severity,
            f"Filesystem {point} is read-only",
            detail,
            "The kernel does this after I/O errors: check dmesg for EXT4-fs/XFS errors and "
            "the disk's health before remounting (mount -o remount,rw).",
            NAME,
        ))
    return found


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


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
    name=NAME, title="Disks and filesystems", script=SCRIPT, parse=parse, summarize=summarize,
    timeout=15.0,
    description="Space and inodes per filesystem, read-only mounts, and read/write rates, IOPS "
    "and utilisation per device over a 0.5 s sample.")
