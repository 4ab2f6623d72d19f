"""Verify and open bundles, including hostile zips built by hand with zipfile."""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from pathlib import Path

import pytest

from diagkit.errors import BundleError
from diagkit.reports.bundle import SCHEMA
from diagkit.reports.reader import open_bundle, verify


def manifest_for(files: dict[str, bytes]) -> bytes:
    doc = {"schema": SCHEMA, "diagkit_version": "0", "created": "2024-01-01T00:00:00+00:00",
           "title": "t", "redaction": {}, "options": {},
           "files": [{"path": p, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                     for p, d in files.items()]}
    return json.dumps(doc).encode()


def make_zip(path: Path, files: dict[str, bytes], *, manifest: bytes | None = None,
             extra: list[tuple[zipfile.ZipInfo | str, bytes]] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for info, data in extra:
            zf.writestr(info, data)
        zf.writestr("manifest.json", manifest if manifest is not None else manifest_for(files))
    return path


GOOD = {"report.html": "<html>ok ü</html>".encode(), "report.md": b"# ok",
        "logs/1-syslog.log": b"line 1\nline 2\n"}


def assert_nothing_outside(tmp_path: Path, dest: Path) -> None:
    # Nothing named "evil" anywhere under tmp_path but inside dest (which must not exist here).
    hits = list(tmp_path.rglob("*evil*"))
    assert hits == [], hits
    assert not dest.exists()


def test_round_trip_default_destination(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "b.zip", GOOD)
    rep = verify(z)
    assert rep.ok and rep.problems == []
    opened = open_bundle(z)
    assert opened.folder.is_relative_to(Path.home().parent)  # data dir of the isolated test
    assert "bundles" in opened.folder.parts and opened.folder.name.startswith("b-")
    assert opened.report_html.read_text(encoding="utf-8") == "<html>ok ü</html>"
    assert [p.name for p in opened.logs] == ["1-syslog.log"]
    assert (opened.folder / "manifest.json").is_file()
    # opening the same bundle again replaces our own folder
    again = open_bundle(z)
    assert again.folder == opened.folder


def test_open_to_given_folder_must_be_empty(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "b.zip", GOOD)
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "other.txt").write_text("x")
    with pytest.raises(BundleError, match="not empty"):
        open_bundle(z, dest=dest)
    opened = open_bundle(z, dest=tmp_path / "new" / "folder")
    assert opened.report_md is not None and opened.report_md.read_bytes() == b"# ok"


@pytest.mark.parametrize("name, words", [
    ("../evil.txt", "unsafe path"),
    ("logs/../../evil.txt", "unsafe path"),
    ("/tmp/evil-abs.txt", "absolute path"),
    ("C:/evil.txt", "absolute path"),
    ("logs\\..\\evil.txt", "backslash"),
])
def test_escaping_names_refused(tmp_path: Path, name: str, words: str) -> None:
    files = {**GOOD, name: b"pwned"}
    z = make_zip(tmp_path / "b.zip", files)
    rep = verify(z)
    assert not rep.ok
    assert any(words in p and repr(name) in p for p in rep.problems), rep.problems
    dest = tmp_path / "dest"
    with pytest.raises(BundleError, match=words):
        open_bundle(z, dest=dest)
    assert_nothing_outside(tmp_path, dest)
    assert not Path("/tmp/evil-abs.txt").exists()


def test_symlink_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("logs/evil-link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    files = {**GOOD}
    target = b"/etc/passwd"
    z = make_zip(tmp_path / "b.zip", files, extra=[(info, target)])
    # list it in the manifest too, so only the link check can refuse it
    mani = json.loads(manifest_for({**files, "logs/evil-link": target}))
    z = make_zip(tmp_path / "b2.zip", files, manifest=json.dumps(mani).encode(), extra=[(info, target)])
    rep = verify(z)
    assert not rep.ok and any("symbolic link" in p and "evil-link" in p for p in rep.problems)
    dest = tmp_path / "dest"
    with pytest.raises(BundleError, match="symbolic link"):
        open_bundle(z, dest=dest)
    assert_nothing_outside(tmp_path, dest)


def test_zip_bomb_ratio_refused_before_decompressing(tmp_path: Path) -> None:
    bomb = b"\0" * (20 << 20)  # 20 MiB of zeros deflates ~1000:1
    z = make_zip(tmp_path / "b.zip", {**GOOD, "logs/evil-bomb.log": bomb})
    rep = verify(z)
    assert not rep.ok and any("zip bomb" in p and "evil-bomb" in p for p in rep.problems)
    dest = tmp_path / "dest"
    with pytest.raises(BundleError, match="zip bomb"):
        open_bundle(z, dest=dest)
    assert_nothing_outside(tmp_path, dest)


def test_total_size_cap(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "b.zip", {**GOOD, "logs/big.log": bytes(range(256)) * 4096})
    rep = verify(z, max_total=100_000)
    assert not rep.ok and any("unpack to" in p for p in rep.problems)
    with pytest.raises(BundleError, match="zip bomb"):
        open_bundle(z, dest=tmp_path / "dest", max_total=100_000)
    assert not (tmp_path / "dest").exists()


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_duplicate_names_refused(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "b.zip", GOOD, extra=[("report.html", b"<html>second</html>")])
    rep = verify(z)
    assert any("duplicate name" in p and "report.html" in p for p in rep.problems)
    with pytest.raises(BundleError, match="duplicate"):
        open_bundle(z, dest=tmp_path / "dest")


def test_tampered_missing_and_extra_files_named(tmp_path: Path) -> None:
    listed = {**GOOD, "data/findings.json": b"{}"}
    manifest = manifest_for(listed)
    actual = {**GOOD, "report.md": b"# changed!"}  # tampered; findings.json missing
    z = make_zip(tmp_path / "b.zip", actual, manifest=manifest,
                 extra=[("logs/9-smuggled.log", b"extra")])
    rep = verify(z)
    text = "\n".join(rep.problems)
    assert "tampered file: report.md" in text
    assert "missing file: data/findings.json" in text
    assert "unexpected file: logs/9-smuggled.log" in text
    assert len(rep.problems) == 3
    with pytest.raises(BundleError, match="tampered file: report.md"):
        open_bundle(z, dest=tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_truncated_zip(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "b.zip", {**GOOD, "logs/2-x.log": bytes(range(256)) * 2000})
    data = z.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match="truncated or not a zip"):
        verify(cut)
    with pytest.raises(BundleError, match="truncated or not a zip"):
        open_bundle(cut, dest=tmp_path / "dest")
    notzip = tmp_path / "n.zip"
    notzip.write_text("hello")
    with pytest.raises(BundleError, match="truncated or not a zip"):
        verify(notzip)
    with pytest.raises(BundleError, match="no bundle at"):
        verify(tmp_path / "absent.zip")


def test_corrupted_member_data(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 400
    z = make_zip(tmp_path / "b.zip", {**GOOD, "logs/2-x.log": payload})
    raw = bytearray(z.read_bytes())
    # flip bytes inside the compressed data of logs/2-x.log
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("logs/2-x.log")
    start = info.header_offset + 30 + len(info.filename.encode()) + 40
    for k in range(start, start + 20):
        raw[k] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    rep = verify(bad)
    assert not rep.ok and any("logs/2-x.log" in p for p in rep.problems), rep.problems


@pytest.mark.parametrize("manifest, words", [
    (None, "no manifest.json"),
    (b"{not json", "not valid JSON"),
    (json.dumps({"schema": "other/9", "files": []}).encode(), "not a diagkit.bundle/1"),
    (json.dumps({"schema": SCHEMA, "files": [{"path": "x"}]}).encode(), "no valid file list"),
])
def test_manifest_missing_or_invalid(tmp_path: Path, manifest: bytes | None, words: str) -> None:
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("report.html", b"x")
        if manifest is not None:
            zf.writestr("manifest.json", manifest)
    with pytest.raises(BundleError, match=words):
        verify(z)
    with pytest.raises(BundleError, match=words):
        open_bundle(z, dest=tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_manifest_listing_escaping_path(tmp_path: Path) -> None:
    files = {**GOOD}
    mani = json.loads(manifest_for(files))
    mani["files"].append({"path": "../evil.txt", "size": 1, "sha256": "00"})
    z = make_zip(tmp_path / "b.zip", files, manifest=json.dumps(mani).encode())
    rep = verify(z)
    assert any("unsafe path in the manifest" in p for p in rep.problems)
    with pytest.raises(BundleError):
        open_bundle(z, dest=tmp_path / "dest")
    assert_nothing_outside(tmp_path, tmp_path / "dest")


def test_non_ascii_member_names(tmp_path: Path) -> None:
    files = {**GOOD, "logs/2-journal-Ærø-日本.log": "Größe 日本語\n".encode()}
    z = make_zip(tmp_path / "b.zip", files)
    assert verify(z).ok
    opened = open_bundle(z, dest=tmp_path / "dést")
    assert (opened.folder / "logs" / "2-journal-Ærø-日本.log").read_text(encoding="utf-8") == "Größe 日本語\n"
