"""Hostile bundles: hand-made zips with a valid manifest that try to crash, fool or flood the reader.

Each one must give a :class:`BundleError` naming the reason (``verify`` lists it as a problem;
``open_bundle`` raises), through the library, the real CLI and the GUI's "Open bug report" path:
exit status 1, no "OK", no traceback, names with control characters shown escaped. Zips that
:mod:`zipfile` cannot write (invalid UTF-8 names, a million members, foreign compression
methods) are built byte by byte with :func:`raw_zip`.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import struct
import subprocess
import sys
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest

from diagkit.cli import main
from diagkit.errors import BundleError
from diagkit.reports import reader
from diagkit.reports.bundle import SCHEMA
from diagkit.reports.reader import MAX_MEMBERS, open_bundle, verify
from diagkit.textsafe import printable
from tests.reports.test_reader import GOOD, make_zip, manifest_for

FORGED = "bundle.zip: OK (1 files, every checksum matches)."


def manifest_doc(files: dict[str, bytes]) -> dict:
    return json.loads(manifest_for(files))


def raw_zip(path: Path, members: list[tuple[bytes, bytes]], *, utf8: bool = True,
            method: int = 0, flags: int = 0, only: bytes = b"", count: int | None = None) -> Path:
    """A zip written byte by byte: ``(name bytes, data)`` stored as given. ``method`` and
    ``flags`` are only what the headers claim (for the member ``only``, else for all); ``count``
    overrides the member count in the end record."""
    local, central = bytearray(), bytearray()
    for name, data in members:
        mine = not only or name == only
        flag_bits = (flags if mine else 0) | (0x800 if utf8 else 0)
        method_here = method if mine else 0
        crc = zlib.crc32(data)
        offset = len(local)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flag_bits, method_here, 0, 0x21,
                             crc, len(data), len(data), len(name), 0) + name + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 0x0314, 20, flag_bits, method_here, 0,
                               0x21, crc, len(data), len(data), len(name), 0, 0, 0, 0,
                               0o100644 << 16, offset) + name
    n = len(members) if count is None else count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                      len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def with_manifest(files: dict[bytes, bytes], *, manifest: dict | None = None) -> list[tuple[bytes, bytes]]:
    """Members for :func:`raw_zip`, plus a manifest listing them (names decoded leniently)."""
    doc = manifest or manifest_doc({n.decode("utf-8", "replace"): d for n, d in files.items()})
    return [*files.items(), (b"manifest.json", json.dumps(doc).encode())]


def run_cli(*argv: str) -> tuple[int, str, str]:
    """The CLI in a subprocess, as a user runs it: exit status, stdout, stderr."""
    done = subprocess.run([sys.executable, "-m", "diagkit", *argv], capture_output=True, check=False,
                          timeout=120)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8",
                                                                                       "replace")


def assert_failed_output(out: str) -> None:
    """verify's output: problem lines (indented), then one FAILED line; no line says OK."""
    *problems, last = out.splitlines()
    assert problems and all(line.startswith("  ") for line in problems), out
    assert ": FAILED (" in last and not any(": OK (" in line.split("'")[0] for line in problems)
    assert FORGED not in out.splitlines()


def assert_refused(tmp_path: Path, z: Path, words: str) -> None:
    """verify() names ``words`` (or raises with them); open_bundle() raises; nothing written."""
    try:
        report = verify(z)
    except BundleError as exc:
        assert words in str(exc), str(exc)
    else:
        assert not report.ok
        assert any(words in p for p in report.problems), report.problems
    dest = tmp_path / "dest"
    with pytest.raises(BundleError) as info:
        open_bundle(z, dest=dest)
    assert words in str(info.value)
    assert "\x1b" not in str(info.value) and "\n" not in str(info.value)
    assert not dest.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dest.")]  # no staging left


# --- the cases of issue 12 ----------------------------------------------------------------------


def test_same_path_twice_in_the_manifest(tmp_path: Path) -> None:
    doc = manifest_doc(GOOD)
    doc["files"].append(dict(doc["files"][0]))
    z = make_zip(tmp_path / "b.zip", GOOD, manifest=json.dumps(doc).encode())
    assert_refused(tmp_path, z, "listed twice: 'report.html' appears more than once")


def test_listed_twice_with_different_checksums(tmp_path: Path) -> None:
    doc = manifest_doc(GOOD)
    doc["files"].append({"path": "report.html", "size": 3, "sha256": hashlib.sha256(b"abc").hexdigest()})
    z = make_zip(tmp_path / "b.zip", GOOD, manifest=json.dumps(doc).encode())
    assert_refused(tmp_path, z, "appears more than once in the manifest with different checksums")


def test_a_file_and_a_folder_of_the_same_name(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "b.zip", {**GOOD, "data": b"x", "data/x": b"y"})
    assert_refused(tmp_path, z, "file and folder: 'data' is a file, but 'data/x' needs a folder")
    # the same with an explicit folder entry, and folded to another case
    z = make_zip(tmp_path / "c.zip", {**GOOD, "Data": b"x", "data/x": b"y"})
    assert_refused(tmp_path, z, "file and folder: 'Data' is a file")
    z = make_zip(tmp_path / "d.zip", {**GOOD, "data": b"x"}, extra=[("data/", b"")])
    assert_refused(tmp_path, z, "'data' is both a file and a folder")


def test_invalid_utf8_name_with_the_utf8_flag(tmp_path: Path) -> None:
    z = raw_zip(tmp_path / "b.zip", with_manifest({b"logs/\xff\xfe-evil.log": b"x",
                                                   b"report.html": b"<html>"}))
    with pytest.raises(UnicodeDecodeError):
        zipfile.ZipFile(z)  # what the reader has to guard against
    assert_refused(tmp_path, z, "flagged as UTF-8 but is not valid UTF-8")


def test_manifest_nested_200000_levels(tmp_path: Path) -> None:
    deep = (b'{"schema": "' + SCHEMA.encode() + b'", "files": [], "x": ' + b"[" * 200_000
            + b"]" * 200_000 + b"}")
    z = make_zip(tmp_path / "b.zip", GOOD, manifest=deep)
    assert_refused(tmp_path, z, "nests deeper than 64 levels")
    # strings full of brackets and escaped quotes are not nesting
    doc = manifest_doc(GOOD)
    doc["title"] = '[[[[{{{{\\"' * 100
    z = make_zip(tmp_path / "ok.zip", GOOD, manifest=json.dumps(doc).encode())
    assert verify(z).ok


def test_control_characters_in_a_name_are_escaped_and_cannot_forge_output(tmp_path: Path) -> None:
    name = f"logs/x\n{FORGED}\x1b[2K\x1b]0;owned\x07"
    z = make_zip(tmp_path / "bundle.zip", {**GOOD, name: b"y"})
    report = verify(z)
    assert not report.ok
    text = "\n".join(report.problems)
    assert "\x1b" not in text and "\x07" not in text
    assert "control character" in text and "\\x1b[2K" in text and "\\n" in text
    assert_refused(tmp_path, z, "control character")
    code, out, err = run_cli("bundle", "verify", str(z))
    assert code == 1
    assert_failed_output(out)
    assert "\x1b" not in out + err and "Traceback" not in err
    code, out, err = run_cli("bundle", "open", str(z), "--to", str(tmp_path / "opened"))
    assert code == 1 and out == "" and "Traceback" not in err
    assert len(err.splitlines()) == 1 and "\x1b" not in err and err.startswith("diagkit: ")


def test_many_small_members_of_zeros_are_a_bomb_together(tmp_path: Path) -> None:
    zeros = b"\0" * ((1 << 20) - 1)  # each under the per-file ratio check's minimum size
    files = {**GOOD, **{f"logs/{i}.log": zeros for i in range(300)}}
    z = make_zip(tmp_path / "b.zip", files)
    assert z.stat().st_size < 400_000
    assert_refused(tmp_path, z, "together (ratio over 100)")


def test_total_size_counts_every_member(tmp_path: Path) -> None:
    chunk = bytes(range(256)) * 400  # 100 KiB, barely compressible
    z = make_zip(tmp_path / "b.zip", {**GOOD, **{f"logs/{i}.log": chunk for i in range(5)}})
    report = verify(z, max_total=300_000)
    assert any("unpack to" in p and "300,000 allowed" in p for p in report.problems)


def test_actual_bytes_are_counted_while_streaming(tmp_path: Path) -> None:
    # The declared sizes are checked first; the stream enforces the caps again on what comes
    # out, in case a zip reader ever trusts other headers than the checks did.
    big = bytes(range(256)) * 8192  # 2 MiB
    zeros = b"\0" * (2 << 20)
    z = make_zip(tmp_path / "b.zip", {"logs/big.log": big, "logs/zeros.log": zeros})
    entries = {f["path"]: f for f in manifest_doc({"logs/big.log": big, "logs/zeros.log": zeros})["files"]}
    with zipfile.ZipFile(z) as zf:
        with pytest.raises(BundleError, match="unpack to more than 1,000,000 bytes"):
            reader._check_member(zf, entries["logs/big.log"], None, reader._Budget(1_000_000, 200))
        with pytest.raises(BundleError, match="'logs/zeros.log' unpacks .*ratio over 200"):
            reader._check_member(zf, entries["logs/zeros.log"], None, reader._Budget(1 << 30, 200))
        budget = reader._Budget(1 << 30, 10_000)
        for _ in range(10):
            assert reader._check_member(zf, entries["logs/zeros.log"], None, budget) is None
        with pytest.raises(BundleError, match="together"):
            budget.finish()


# --- beyond the list: an attacker's other ideas -------------------------------------------------


@pytest.mark.parametrize("first, second", [
    ("logs/App.log", "logs/app.log"),
    ("LOGS/x.log", "logs/x.log"),
    (unicodedata.normalize("NFC", "logs/café.log"), unicodedata.normalize("NFD", "logs/café.log")),
])
def test_names_equal_once_folded_are_duplicates(tmp_path: Path, first: str, second: str) -> None:
    assert first != second
    z = make_zip(tmp_path / "b.zip", {**GOOD, first: b"one", second: b"two"})
    assert_refused(tmp_path, z, "are one file on Windows and macOS")


@pytest.mark.parametrize("size, words", [
    (-5, "invalid size in the manifest: 'report.md' is said to have -5 bytes"),
    (1 << 40, "invalid size in the manifest"),
])
def test_manifest_size_out_of_range(tmp_path: Path, size: int, words: str) -> None:
    doc = manifest_doc(GOOD)
    doc["files"][1]["size"] = size
    z = make_zip(tmp_path / "b.zip", GOOD, manifest=json.dumps(doc).encode())
    assert_refused(tmp_path, z, words)


def test_manifest_size_that_is_not_an_integer(tmp_path: Path) -> None:
    for size in (b"true", b"4.0", b'"4"', b"null", b"9" * 5000, b"1e400"):
        raw = manifest_for(GOOD).replace(b'"size": 4,', b'"size": ' + size + b",", 1)
        assert size in raw
        z = make_zip(tmp_path / "b.zip", GOOD, manifest=raw)
        with pytest.raises(BundleError, match="manifest.json of .*(no valid file list|not valid JSON)"):
            verify(z)


def test_manifest_size_that_differs_from_the_zip(tmp_path: Path) -> None:
    doc = manifest_doc(GOOD)
    doc["files"][1]["size"] = 3
    z = make_zip(tmp_path / "b.zip", GOOD, manifest=json.dumps(doc).encode())
    assert_refused(tmp_path, z, "tampered file: report.md has 4 bytes in the zip, but the manifest says 3")


def test_manifest_checksum_that_is_not_sha256(tmp_path: Path) -> None:
    doc = manifest_doc(GOOD)
    doc["files"][1]["sha256"] = "\x1b[31m" + "0" * 10
    z = make_zip(tmp_path / "b.zip", GOOD, manifest=json.dumps(doc).encode())
    assert_refused(tmp_path, z, "not 64 hexadecimal digits")
    assert "\\x1b[31m" in "; ".join(verify(z).problems)


def test_manifest_path_with_a_trailing_slash(tmp_path: Path) -> None:
    doc = manifest_doc(GOOD)
    doc["files"].append({"path": "logs/", "size": 0, "sha256": hashlib.sha256(b"").hexdigest()})
    z = make_zip(tmp_path / "b.zip", GOOD, manifest=json.dumps(doc).encode(), extra=[("logs/", b"")])
    assert_refused(tmp_path, z, "'logs/' has a trailing '/': it names a folder")


def test_manifest_listing_itself(tmp_path: Path) -> None:
    doc = manifest_doc(GOOD)
    doc["files"].append({"path": "manifest.json", "size": 1, "sha256": "0" * 64})
    z = make_zip(tmp_path / "b.zip", GOOD, manifest=json.dumps(doc).encode())
    assert_refused(tmp_path, z, "the manifest's own name")


@pytest.mark.parametrize("name, words", [
    ("logs/\uff0e\uff0e/evil.txt", "Unicode normalisation turns into a '..' component"),
    ("\u2025/evil.txt", "Unicode normalisation turns into a '..' component"),
    ("logs\uff0f..\uff0fevil.txt", "Unicode normalisation turns into a '..' component"),
    ("logs/evil\uff3c..\uff3cx.txt", "Unicode normalisation turns into a backslash"),
    ("report.html:evil", "a character Windows does not allow"),
    ("logs/evil.", "a part ending in a dot or space"),
    ("logs/evil ", "a part ending in a dot or space"),
    ("logs//evil.txt", "an empty or '.' part"),
    ("./evil.txt", "an empty or '.' part"),
    ("logs/" + "e" * 256, "longer than 255 bytes"),
    ("logs/evil\u0085.txt", "a control character"),  # C1 NEL
])
def test_names_refused_beyond_the_classics(tmp_path: Path, name: str, words: str) -> None:
    z = make_zip(tmp_path / "b.zip", {**GOOD, name: b"pwned"})
    assert_refused(tmp_path, z, words)
    assert not list(tmp_path.rglob("evil*"))


def test_real_names_with_look_alikes_still_open(tmp_path: Path) -> None:
    # Compatibility characters that do not turn into separators or dots are fine.
    files = {**GOOD, "logs/2-ﬁle-Ａ½.log": b"x\n", "logs/3-naïve ünïcode 日本.log": b"y\n"}
    z = make_zip(tmp_path / "b.zip", files)
    assert verify(z).ok, verify(z).problems
    assert open_bundle(z, dest=tmp_path / "dest").logs


@pytest.mark.parametrize("count", [1_000_000])
def test_a_million_empty_members_refused_before_listing(tmp_path: Path, count: int) -> None:
    # One local header shared by every directory entry keeps the file at ~54 MB.
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, 1, 0) + b"a"
    entry = struct.Struct("<4s6H3L5H2L")
    names = (f"{i:07d}".encode() for i in range(count))
    central = b"".join(entry.pack(b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0)
                       + name for name in names)
    z = tmp_path / "b.zip"
    for listed, words in ((0xFFFF, "lists 65,535 members"), (4, "lists about")):
        end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, listed, listed, len(central),
                          len(local), 0)
        z.write_bytes(local + central + end)
        assert_refused(tmp_path, z, words)


def test_member_count_walked_when_the_end_record_lies(tmp_path: Path) -> None:
    members = [(f"{i}".encode(), b"") for i in range(MAX_MEMBERS + 1)]
    z = raw_zip(tmp_path / "b.zip", members, count=3)
    assert_refused(tmp_path, z, f"lists more than {MAX_MEMBERS:,} members")


def test_zip64_end_record_is_read_too(tmp_path: Path) -> None:
    z = raw_zip(tmp_path / "b.zip", with_manifest({b"report.html": b"x"}))
    data = z.read_bytes()
    end = data[-22:]
    cd_size, cd_offset = struct.unpack_from("<2L", end, 12)
    zip64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 2_000_000, 2_000_000,
                        cd_size, cd_offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(data) - 22, 1)
    z.write_bytes(data[:-22] + zip64 + locator + end)
    assert_refused(tmp_path, z, "lists 2,000,000 members")


@pytest.mark.parametrize("raw, words", [
    (b'{"schema": "%s", "files": [], "files": []}', "the key 'files' appears twice in one object"),
    (b'{"schema": "%s", "files": [{"path": "report.html", "path": "x", "size": 1, "sha256": "0"}]}',
     "the key 'path' appears twice"),
    (b'{"schema": "%s", "files": [], "x": NaN}', "NaN is not a JSON number"),
    (b'{"schema": "%s", "files": [], "x": "\xff"}', "not UTF-8 text"),
    (b'{"schema": "%s", "files": [], "x": [' + b"[]," * 30000 + b"[]]}", "objects and lists"),
])
def test_manifest_json_tricks(tmp_path: Path, raw: bytes, words: str) -> None:
    z = make_zip(tmp_path / "b.zip", {"report.html": b"x"}, manifest=raw.replace(b"%s", SCHEMA.encode()))
    assert_refused(tmp_path, z, words)


def test_lone_surrogate_in_the_manifest_is_printed_escaped(tmp_path: Path) -> None:
    raw = manifest_for(GOOD).replace(b'"files": [', b'"files": [{"path": "logs/\\udc80\\u001b.log", '
                                     b'"size": 1, "sha256": "' + b"0" * 64 + b'"}, ')
    z = make_zip(tmp_path / "b.zip", GOOD, manifest=raw)
    assert_refused(tmp_path, z, "\\udc80\\x1b")
    code, out, err = run_cli("bundle", "verify", str(z))
    assert code == 1 and "\\udc80\\x1b" in out and "Traceback" not in err


def test_encrypted_and_foreign_compression_refused(tmp_path: Path) -> None:
    files = with_manifest({b"report.html": b"<html>"})
    z = raw_zip(tmp_path / "b.zip", files, flags=0x1, only=b"report.html")
    assert_refused(tmp_path, z, "encrypted file refused: 'report.html' needs a password")
    z = raw_zip(tmp_path / "c.zip", files, method=9, only=b"report.html")
    assert_refused(tmp_path, z, "unsupported compression: 'report.html' uses method 9")
    z = raw_zip(tmp_path / "d.zip", files, flags=0x1, only=b"manifest.json")
    assert_refused(tmp_path, z, "manifest.json of")
    with pytest.raises(BundleError, match="encrypted"):
        verify(z)
    z = raw_zip(tmp_path / "e.zip", files, method=99, only=b"manifest.json")
    with pytest.raises(BundleError, match="compression method 99"):
        verify(z)


@pytest.mark.parametrize("name", [b"", b"\x00report.html", b"report.html\x00.exe"])
def test_empty_and_nul_names(tmp_path: Path, name: bytes) -> None:
    # zipfile cuts a name at its NUL, and ZipInfo.is_dir() fails on an empty one.
    z = raw_zip(tmp_path / "b.zip", with_manifest({b"report.html": b"<html>", name: b"pwned"}))
    try:
        report = verify(z)
    except BundleError:
        pass
    else:
        assert not report.ok and report.problems
    with pytest.raises(BundleError):
        open_bundle(z, dest=tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_symlink_to_a_folder_then_file_inside(tmp_path: Path) -> None:
    import stat

    link = zipfile.ZipInfo("logs")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    z = make_zip(tmp_path / "b.zip", {"report.html": b"x", "logs/evil.log": b"pwned"},
                 extra=[(link, b"/tmp")])
    assert_refused(tmp_path, z, "symbolic link")


def test_random_damage_never_escapes_as_another_error(tmp_path: Path) -> None:
    """Seeded byte flips, cuts and splices of a real bundle: a BundleError or a report, never
    another exception (every one of these used to be a traceback waiting to happen)."""
    from diagkit.reports.bundle import write_bundle
    from diagkit.reports.model import Bundle, LogExcerpt

    good = tmp_path / "good.zip"
    write_bundle(Bundle(title="fuzz", logs=[LogExcerpt(source="/var/log/x.log",
                                                       lines=[f"line {i}" for i in range(50)])]),
                 good)
    assert verify(good).ok
    original = good.read_bytes()
    rng = random.Random(12)
    outcomes = {"report": 0, "error": 0}
    for i in range(1000):
        data = bytearray(original)
        kind = i % 4
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:
            del data[rng.randrange(len(data)):]
        elif kind == 2:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randint(1, 64))
        else:  # damage only the central directory and end record
            start = original.rfind(b"PK\x01\x02", 0, len(original) - 300)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(start, len(data))] = rng.randrange(256)
        z = tmp_path / "f.zip"
        z.write_bytes(bytes(data))
        try:
            verify(z)
            outcomes["report"] += 1
        except BundleError as exc:
            assert printable(str(exc)) == str(exc)
            outcomes["error"] += 1
        if i % 4:
            continue  # opening verifies again: every fourth one is enough
        try:
            opened = open_bundle(z, dest=tmp_path / f"out{i}")
        except BundleError:
            pass
        else:
            assert opened.folder.is_dir()
    assert outcomes["report"] and outcomes["error"]


# --- the CLI and the GUI ------------------------------------------------------------------------


def hostile_zips(tmp_path: Path) -> dict[str, Path]:
    doc = manifest_doc(GOOD)
    doc["files"].append(dict(doc["files"][0]))
    deep = (b'{"schema": "' + SCHEMA.encode() + b'", "files": [], "x": ' + b"[" * 200_000
            + b"]" * 200_000 + b"}")
    return {
        "twice": make_zip(tmp_path / "twice.zip", GOOD, manifest=json.dumps(doc).encode()),
        "file-and-folder": make_zip(tmp_path / "ff.zip", {**GOOD, "data": b"x", "data/x": b"y"}),
        "utf8": raw_zip(tmp_path / "utf8.zip", with_manifest({b"logs/\xff.log": b"x"})),
        "deep": make_zip(tmp_path / "deep.zip", GOOD, manifest=deep),
        "escape": make_zip(tmp_path / "esc.zip", {**GOOD, f"logs/a\n{FORGED}\x1b[8m": b"y"}),
        "bomb": make_zip(tmp_path / "bomb.zip",
                         {**GOOD, **{f"logs/{i}.log": b"\0" * ((1 << 20) - 1) for i in range(300)}}),
    }


def test_cli_verify_and_open_refuse_every_hostile_bundle(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    for label, z in hostile_zips(tmp_path).items():
        out = io.StringIO()
        code = main(["bundle", "verify", str(z)], stdout=out)
        err = capsys.readouterr().err
        text = out.getvalue() + err
        assert code == 1, (label, text)
        assert "Traceback" not in text, (label, text)
        if out.getvalue():  # else the bundle could not be checked at all: one error line
            assert_failed_output(out.getvalue())
        else:
            assert len(err.splitlines()) == 1 and err.startswith("diagkit: "), (label, err)
        assert "\x1b" not in text, label
        out = io.StringIO()
        code = main(["bundle", "open", str(z), "--to", str(tmp_path / f"o-{label}")], stdout=out)
        err = capsys.readouterr().err
        assert code == 1 and out.getvalue() == "", (label, out.getvalue())
        assert len(err.splitlines()) == 1 and err.startswith("diagkit: "), (label, err)
        assert not (tmp_path / f"o-{label}").exists()


def test_cli_open_escapes_the_names_it_prints(tmp_path: Path) -> None:
    # A clean bundle whose log names are legal but printed by 'open': nothing raw reaches the
    # terminal, whatever the file name of the zip itself.
    z = make_zip(tmp_path / "b\x1b[2J.zip", {**GOOD, "logs/2-\u202eevil.log": b"x\n"})
    code, out, err = run_cli("bundle", "verify", str(z))
    assert code == 0 and "b\\x1b[2J.zip: OK (4 files" in out, out + err
    code, out, err = run_cli("bundle", "open", str(z), "--to", str(tmp_path / "o"))
    assert code == 0, err
    assert "\x1b" not in out and "\u202e" not in out
    assert "Log:    " in out and "2-\\u202eevil.log" in out
    assert (tmp_path / "o" / "logs" / "2-\u202eevil.log").is_file()


def test_gui_open_bug_report_shows_the_reason(qtbot, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    from diagkit.ui.bundle_wizard import BundleView
    from diagkit.ui.main_window import MainWindow

    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda _p, _t, text: warned.append(text)))
    window = MainWindow(restore=False)
    qtbot.addWidget(window)
    zips = hostile_zips(tmp_path)
    for label, words in (("deep", "nests deeper"), ("escape", "control character"),
                         ("file-and-folder", "file and folder"), ("utf8", "not valid UTF-8"),
                         ("bomb", "zip bomb")):
        before = len(warned)
        window.open_bug_report(zips[label])
        qtbot.waitUntil(lambda before=before: len(warned) > before, timeout=30000)
        assert words in warned[-1] and "\x1b" not in warned[-1], (label, warned[-1])
        assert warned[-1].startswith("<p>"), "shown as escaped rich text, never raw HTML"
    assert not any(isinstance(window.tabs.widget(i), BundleView) for i in range(window.tabs.count()))


def test_destination_that_cannot_be_written_is_a_bundle_error(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "b.zip", GOOD)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for dest in (blocker, blocker / "sub"):
        with pytest.raises(BundleError, match="a-file is a file. Choose a folder"):
            open_bundle(z, dest=dest)
    with pytest.raises(BundleError, match="Cannot open the bundle .* into .*too long"):
        open_bundle(z, dest=tmp_path / ("d" * 300))
    code, _, err = run_cli("bundle", "open", str(z), "--to", str(blocker / "sub"))
    assert code == 1 and "Traceback" not in err and "is a file" in err
