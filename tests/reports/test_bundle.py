"""write_bundle: redaction of every string before writing, layout, manifest, round trip."""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from diagkit.errors import BundleError
from diagkit.probes.base import Finding, Metric, ProbeData, ProbeResult, Severity, Table
from diagkit.reports.bundle import write_bundle
from diagkit.reports.model import (
    Attachment,
    Bundle,
    HostEnvironment,
    JournalEntry,
    LogExcerpt,
    PlotImage,
)
from diagkit.reports.reader import open_bundle, verify
from diagkit.reports.redact import RedactOptions

SECRET = "Hunter2xyz"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def every_byte(path: Path) -> list[tuple[str, bytes]]:
    """The raw zip, each member name and each decompressed member."""
    out = [("<zip>", path.read_bytes())]
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            out.append((f"<name {info.filename}>", info.filename.encode("utf-8")))
            out.append((info.filename, zf.read(info)))
    return out


def assert_absent(path: Path, *values: str) -> None:
    for where, data in every_byte(path):
        for v in values:
            assert v.encode() not in data, f"{v!r} leaked in {where}"


def full_bundle(secret: str = SECRET) -> Bundle:
    result = ProbeResult(
        probe="custom", host="db1.example.com",
        data=ProbeData(
            metrics=(Metric("load", 1.5, labels={"who": f"password={secret}"}),),
            tables=(Table("env", "Env", ("k", "v"), ((f"password={secret}", 3),)),),
            findings=(Finding(Severity.WARNING, "disk", detail=f"password={secret}"),),
            facts={"password": secret, "os": "Debian"},
            notes=(f"note password={secret}",),
        ),
        raw=f"output\npassword={secret}\n", stderr=f"password={secret}", exit_status=0,
        duration=0.1)
    return Bundle(
        title="Crash in Größe 日本 ünïcode", summary=f"summary password={secret}",
        severity="high", hosts=(HostEnvironment("db1.example.com", {"kernel": "6.1"}, (result,)),),
        steps=("open the app", f"log in with password={secret}"),
        expected="works", actual="crashes ✗",
        findings=(Finding(Severity.CRITICAL, "boom", detail=f"password={secret}"),),
        logs=(LogExcerpt("/var/log/app-ünï.log", ("ok", f"ERROR password={secret}", "日本語"), 41,
                         "errors with context"),),
        plots=(PlotImage("cpu load", f"CPU password={secret}", PNG),),
        journal=(JournalEntry(datetime(2024, 1, 2, tzinfo=UTC), "command",
                              f"mysql -u root --password={secret}", host="db1", exit_status=0),),
        attachments=(Attachment("config.ini", f"[db]\npassword={secret}\n".encode()),),
        case="4711",
    )


def test_round_trip_write_verify_open(tmp_path: Path) -> None:
    out = tmp_path / "bug.zip"
    seen: list[float] = []
    info = write_bundle(full_bundle(), out, progress=lambda _m, f: seen.append(f))
    assert info.path == out and out.is_file() and info.size == out.stat().st_size
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert info.files[-1] == "manifest.json"
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
        for entry in manifest["files"]:
            data = zf.read(entry["path"])
            assert entry["size"] == len(data)
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert {"report.html", "report.md", "data/bundle.json", "data/findings.json",
            "manifest.json"} <= set(names)
    assert any(n.startswith("data/probes/") for n in names)
    assert any(n.startswith("logs/1-") and n.endswith(".log") for n in names)
    assert any(n.startswith("plots/") and n.endswith(".png") for n in names)
    assert "attachments/config.ini" in names
    assert manifest["schema"] == "diagkit.bundle/1"
    assert manifest["created"].endswith("+00:00")
    assert sum(manifest["redaction"].values()) >= 10
    assert all(isinstance(v, int) for v in manifest["redaction"].values())
    assert verify(out).ok
    opened = open_bundle(out, dest=tmp_path / "opened")
    assert opened.report_html.is_file()
    assert len(opened.logs) == 1
    doc = opened.bundle_doc()
    assert doc["title"] == "Crash in Größe 日本 ünïcode" and doc["case"] == "4711"
    log_text = opened.logs[0].read_text(encoding="utf-8")
    assert "日本語" in log_text and SECRET not in log_text
    # nothing left behind but the bundle
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bug.zip", "opened"]


def test_secret_in_no_byte_of_the_bundle(tmp_path: Path) -> None:
    out = tmp_path / "bug.zip"
    write_bundle(full_bundle(), out)
    assert_absent(out, SECRET)


def test_file_names_redacted_with_host_obfuscation(tmp_path: Path) -> None:
    host = "db-prod-7.corp.acme-internal.net"
    b = Bundle(title=f"Problem on {host}",
               hosts=(HostEnvironment(host, {"hostname": host}),),
               logs=(LogExcerpt(f"/var/log/{host}.log", (f"{host} failed",), 1),),
               attachments=(Attachment(f"{host}.txt", f"see {host}".encode()),))
    out = tmp_path / "b.zip"
    write_bundle(b, out, options=RedactOptions(obfuscate=frozenset({"host"})))
    assert_absent(out, host, "acme-internal")
    assert verify(out).ok


def test_empty_bundle(tmp_path: Path) -> None:
    out = tmp_path / "empty.zip"
    info = write_bundle(Bundle(title="nothing"), out)
    assert verify(out).ok
    assert set(info.files) == {"report.html", "report.md", "data/bundle.json",
                               "data/findings.json", "manifest.json"}
    opened = open_bundle(out, dest=tmp_path / "x")
    assert opened.logs == []


def test_non_ascii_file_names(tmp_path: Path) -> None:
    b = Bundle(title="日本語のバグ",
               logs=(LogExcerpt("C:/Journaux/événements-日本.log", ("ligne é", "行"), 1),),
               attachments=(Attachment("Ærø ✓.txt", "ça".encode()),),
               plots=(PlotImage("mémoire/ü", "Mémoire", PNG),))
    out = tmp_path / "bündle-日本.zip"
    info = write_bundle(b, out)
    assert verify(out).ok
    assert any("événements" in f for f in info.files)
    assert "attachments/Ærø ✓.txt" in info.files
    assert any(f.startswith("plots/mémoire_ü") for f in info.files)  # no '/' smuggled in
    opened = open_bundle(out, dest=tmp_path / "dést")
    assert opened.logs[0].read_text(encoding="utf-8") == "ligne é\n行\n"


def test_atomic_no_partial_file_on_failure(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="does not exist"):
        write_bundle(Bundle(title="x"), tmp_path / "missing" / "b.zip")
    with pytest.raises(BundleError, match="is a folder"):
        write_bundle(Bundle(title="x"), tmp_path)
    out = tmp_path / "b.zip"
    out.write_bytes(b"old bundle")
    # a plot that is not bytes fails while writing: the old file stays, no temp file remains
    bad = Bundle(title="x", plots=(PlotImage("p", "p", "not bytes"),))  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017 - any failure will do
        write_bundle(bad, out)
    assert out.read_bytes() == b"old bundle"
    assert [p.name for p in tmp_path.iterdir()] == ["b.zip"]


def test_bad_severity() -> None:
    with pytest.raises(BundleError, match="severity"):
        Bundle(title="x", severity="urgent")


def test_huge_bundle(tmp_path: Path) -> None:
    line = "2024-01-02 10:00:00 web1 app[42]: INFO request served in 12 ms ok\n"
    n = (50 << 20) // len(line)
    lines = tuple(line.rstrip("\n") + f" #{i}" for i in range(n))
    b = Bundle(title="huge", logs=(LogExcerpt("/var/log/huge.log", lines, 1),))
    out = tmp_path / "huge.zip"
    t0 = time.monotonic()
    write_bundle(b, out)
    rep = verify(out)
    elapsed = time.monotonic() - t0
    assert rep.ok
    assert out.stat().st_size < 50 << 20
    assert elapsed < 30, elapsed
