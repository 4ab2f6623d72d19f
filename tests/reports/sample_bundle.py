"""A fixed, fully populated bug-report bundle for rendering tests (and for looking at)."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime

from diagkit.probes.base import Finding, Metric, ProbeData, ProbeResult, Severity, Table
from diagkit.reports.model import (
    Attachment,
    Bundle,
    HostEnvironment,
    JournalEntry,
    LogExcerpt,
    PlotImage,
)

CREATED = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def tiny_png(rgb: tuple[int, int, int] = (61, 143, 214), size: int = 4) -> bytes:
    """A valid solid-colour PNG built by hand (stable bytes, no Qt needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def full_bundle() -> Bundle:
    system = ProbeResult(
        probe="system", host="db-01.example.net",
        data=ProbeData(
            metrics=(Metric("uptime", 93784.0, "s"),),
            facts={"os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1.0-18-amd64",
                   "hostname": "db-01", "locale": "de_DE.UTF-8 — Größe"},
            summary="Debian 12, kernel 6.1, up 1 d 2 h",
        ),
        raw="@@section os\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n<b>not bold</b>\n",
        stderr="", exit_status=0, duration=0.4213,
    )
    disk = ProbeResult(
        probe="disk", host="db-01.example.net",
        data=ProbeData(
            tables=(Table("mounts", "Mounted file systems", ("mount", "size", "used %"),
                          (("/", "40G", 97), ("/var/lib/postgresql", "200G", 71),
                           ("/mnt/données", "1T", None))),),
            findings=(Finding(Severity.CRITICAL, "/ is 97 % full", "3 % left on /",
                              "Free space or grow the volume", "disk"),),
            notes=("smartctl not installed: no SMART data",),
        ),
        raw="/dev/sda1 40G 39G 1G 97% /\n", stderr="df: /mnt/x: Permission denied\n",
        exit_status=1, duration=0.05,
    )
    failed = ProbeResult(
        probe="network", host="web-02", data=ProbeData(), raw="", stderr="",
        exit_status=None, duration=15.0,
        error="The connection dropped while the probe ran. Reconnect and run it again.",
        error_kind="ConnectionLost",
    )
    return Bundle(
        title="PostgreSQL stops accepting connections after nightly backup — Überlauf",
        summary="Since the upgrade to 15.6 the server refuses new connections at ~02:10.\n"
                "Restarting the service helps for a day. Customer: Müller & Söhne <IT>.",
        severity="high",
        created=CREATED,
        hosts=(
            HostEnvironment("db-01.example.net", dict(system.data.facts), (system, disk)),
            HostEnvironment("web-02", {"os": "Ubuntu 22.04.4 LTS", "kernel": "5.15.0-105"},
                            (failed,)),
        ),
        steps=("Run the nightly backup job (`pg_dumpall | gzip`)",
               "Wait until 02:10 — 東京 time is irrelevant",
               "Connect with psql -h db-01 -U app"),
        expected="psql connects and shows the prompt.",
        actual="psql: FATAL:  sorry, too many clients already",
        findings=(
            Finding(Severity.INFO, "Swap is off", hint="Nothing to do", probe="memory"),
            Finding(Severity.CRITICAL, "/ is 97 % full", "3 % left on /",
                    "Free space or grow the volume", "disk"),
            Finding(Severity.WARNING, "Load per core above 1", "load 2.4 on 2 cores",
                    "Look at the top processes", "load"),
        ),
        logs=(
            LogExcerpt("/var/log/postgresql/postgresql-15-main.log", (
                "2026-03-14 02:09:58 UTC [811] LOG:  checkpoint starting: time",
                "2026-03-14 02:10:01 UTC [901] FATAL:  sorry, too many clients already",
                "2026-03-14 02:10:01 UTC [902] WARNING:  <script>alert('x')</script> in query",
                "2026-03-14 02:10:02 UTC [811] LOG:  checkpoint complete",
            ), first_line=10412, note="first refusal of the night"),
            LogExcerpt("journalctl -u backup.service", (
                "Mär 14 02:00:00 db-01 systemd[1]: Starting backup.service…",
                "Mär 14 02:14:41 db-01 backup.sh[4242]: done ```fenced``` 1.2 GiB",
            ), first_line=1),
        ),
        plots=(PlotImage("cpu", "CPU — db-01", tiny_png()),
               PlotImage("memory", "Memory and swap", tiny_png((242, 142, 43)))),
        journal=(
            JournalEntry(datetime(2026, 3, 14, 9, 1, 2, tzinfo=UTC), "command",
                         "df -h /", host="db-01.example.net", exit_status=0),
            JournalEntry(datetime(2026, 3, 14, 9, 3, 0, tzinfo=UTC), "command",
                         "systemctl status postgresql | grep -c 'x'", host="db-01.example.net",
                         exit_status=3),
            JournalEntry(datetime(2026, 3, 14, 9, 5, 0, tzinfo=UTC), "note",
                         "Kunde bestätigt: passiert jede Nacht"),
        ),
        attachments=(Attachment("postgresql.conf", b"max_connections = 100\n" * 40),
                     Attachment("Screenshot 2026-03-14.png", tiny_png())),
        case="CASE-4711",
        diagkit_version="0.1.0",
    )


FILES = ("manifest.json", "report.html", "report.md", "data/findings.json",
         "data/probes/db-01.example.net.json", "logs/1-postgresql-15-main.log",
         "plots/cpu.png", "attachments/postgresql.conf")
REDACTION = {"password": 2, "ip": 5, "bearer": 1}
