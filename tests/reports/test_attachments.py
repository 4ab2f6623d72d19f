"""Attachments and logs in other encodings, and binaries (issue 12, item 3).

UTF-16/32 text is decoded, redacted and written as UTF-8; a file that cannot be scanned as text
is refused with a BundleError naming it, unless given with --attach-binary, and then the report,
data/bundle.json and the manifest say it was NOT redacted. Real tools make the material (iconv,
gzip, sqlite3, the binaries of this machine, real logs)."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest

from diagkit.cli import main
from diagkit.errors import BundleError
from diagkit.reports.bundle import check_attachment, write_bundle
from diagkit.reports.model import Attachment, Bundle
from diagkit.reports.textfiles import BINARY, read_text, sniff_wide
from tests.reports.sample_bundle import tiny_png

SECRET = "Hunter2xyz"
TOKEN = "ghp_" + "Zq3" * 12
CONFIG = (f"[db]\r\nhost = db1\r\npassword = {SECRET}\r\n# Größe: 日本語\r\nclone with {TOKEN}\r\n")
LOGHUB = Path("/work/shared/loghub-dev")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def iconv(text: str, codec: str) -> bytes:
    """``text`` encoded by the real iconv (UTF-16 gives a BOM, UTF-16LE none)."""
    done = subprocess.run(["iconv", "-f", "UTF-8", "-t", codec], input=text.encode(),
                          capture_output=True, check=True)
    return done.stdout


def zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.mark.parametrize(("codec", "expected"), [
    ("UTF-16", "utf-16-le"), ("UTF-16LE", "utf-16-le"), ("UTF-16BE", "utf-16-be"),
    ("UTF-32", "utf-32-le"), ("UTF-32LE", "utf-32-le"), ("UTF-32BE", "utf-32-be"),
])
def test_wide_text_is_decoded_redacted_and_written_as_utf8(tmp_path: Path, codec: str,
                                                           expected: str) -> None:
    src = tmp_path / "settings.ini"
    src.write_bytes(iconv(CONFIG, codec))
    out = tmp_path / "b.zip"
    code, text = run("bundle", "create", "--attach", str(src), "-o", str(out))
    assert code == 0, text
    assert "password" in text and "github_token" in text  # found: not "nothing to mask"
    members = zip_members(out)
    stored = members["attachments/settings.ini"].decode("utf-8")  # UTF-8 now
    assert stored == CONFIG.replace(SECRET, "[REDACTED:password]").replace(
        TOKEN, "[REDACTED:github_token]")
    for name, data in members.items():
        for secret in (SECRET, TOKEN):
            for enc in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
                assert secret.encode(enc) not in data, (name, enc)
    doc = json.loads(members["data/bundle.json"])
    (att,) = doc["attachments"]
    assert att["encoding"] == expected and att["stored_encoding"] == "utf-8"
    assert att["redacted"] is True and "written as UTF-8" in att["note"]
    assert "written as UTF-8" in members["report.md"].decode()


def test_utf8_bom_and_8bit_text_keep_their_bytes(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf" + CONFIG.encode()
    latin = CONFIG.replace("日本語", "ça").encode("latin-1")
    out = tmp_path / "b.zip"
    write_bundle(Bundle(title="t", attachments=(Attachment("bom.ini", bom),
                                                Attachment("latin.ini", latin))), out)
    members = zip_members(out)
    assert members["attachments/bom.ini"] == bom.replace(SECRET.encode(), b"[REDACTED:password]"
                                                         ).replace(TOKEN.encode(),
                                                                   b"[REDACTED:github_token]")
    assert members["attachments/latin.ini"] == latin.replace(
        SECRET.encode(), b"[REDACTED:password]").replace(TOKEN.encode(), b"[REDACTED:github_token]")
    doc = json.loads(members["data/bundle.json"])
    assert [a["encoding"] for a in doc["attachments"]] == ["utf-8-sig", "latin-1"]
    assert "byte for byte" in doc["attachments"][1]["note"]


def real_binaries(tmp_path: Path) -> dict[str, bytes]:
    log = (LOGHUB / "Linux" / "Linux_2k.log").read_bytes()
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as con:
        con.execute("create table t (k text, v text)")
        con.execute("insert into t values ('password', ?)", (SECRET,))
    con.close()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("secret.txt", f"password={SECRET}\n")
    return {"syslog.gz": gzip.compress(log), "screenshot.png": tiny_png(),
            "app.db": db.read_bytes(), "ls": Path("/usr/bin/ls").read_bytes(),
            "export.zip": zipped.getvalue()}


def test_binaries_are_refused_with_the_reason_and_the_way_out(tmp_path: Path) -> None:
    for name, data in real_binaries(tmp_path).items():
        src = tmp_path / name
        src.write_bytes(data)
        out = tmp_path / "b.zip"
        err = io.StringIO()
        import contextlib

        with contextlib.redirect_stderr(err):
            code, _ = run("bundle", "create", "--attach", str(src), "-o", str(out))
        message = err.getvalue()
        assert code == 1, name
        assert f"The attachment {src} cannot be scanned as text" in message, message
        assert "NUL bytes" in message and f"--attach-binary {src}" in message
        assert "Traceback" not in message and not out.exists()
        with pytest.raises(BundleError, match="cannot be scanned as text"):
            write_bundle(Bundle(title="t", attachments=(Attachment(name, data),)), out)
        assert not out.exists()


def test_attach_binary_includes_them_as_is_and_says_so_everywhere(tmp_path: Path) -> None:
    binaries = real_binaries(tmp_path)
    args = []
    for name in ("syslog.gz", "app.db"):
        (tmp_path / name).write_bytes(binaries[name])
        args += ["--attach-binary", str(tmp_path / name)]
    text_file = tmp_path / "notes.txt"
    text_file.write_text(f"password={SECRET}\n")  # text given as --attach-binary: redacted
    out = tmp_path / "b.zip"
    code, printed = run("bundle", "create", *args, "--attach-binary", str(text_file),
                        "-o", str(out))
    assert code == 0, printed
    assert "NOT redacted: attachments/syslog.gz" in printed
    assert "NOT redacted: attachments/app.db" in printed and "notes.txt" not in printed.split(
        "NOT redacted")[-1]
    members = zip_members(out)
    assert members["attachments/syslog.gz"] == binaries["syslog.gz"]
    assert members["attachments/app.db"] == binaries["app.db"]
    assert members["attachments/notes.txt"] == b"password=[REDACTED:password]\n"
    html = members["report.html"].decode()
    md = members["report.md"].decode()
    for report in (html, md):
        assert "NOT redacted" in report
        assert "attachments/syslog.gz" in report and "attachments/app.db" in report
    # said at the top, where a shortened report.md still has it
    assert md.index("NOT redacted") < md.index("## Files in the bundle")
    doc = json.loads(members["data/bundle.json"])
    flags = {a["path"]: (a["redacted"], a["encoding"]) for a in doc["attachments"]}
    assert flags == {"attachments/syslog.gz": (False, BINARY), "attachments/app.db": (False, BINARY),
                     "attachments/notes.txt": (True, "utf-8")}
    manifest = json.loads(members["manifest.json"])
    assert manifest["not_redacted"] == ["attachments/syslog.gz", "attachments/app.db"]
    assert run("bundle", "verify", str(out))[0] == 0


def test_the_rules_on_real_files() -> None:
    """Real logs are text, real binaries are not (the boundaries the docstring draws)."""
    texts = sorted(LOGHUB.glob("*/*.log")) + sorted(LOGHUB.glob("*/*.csv"))
    assert len(texts) >= 10
    for path in texts:
        found = read_text(path.read_bytes())
        assert found.encoding == "utf-8", path
        assert read_text(iconv(found.text or "", "UTF-16LE")).encoding == "utf-16-le", path
        assert read_text(iconv(found.text or "", "UTF-32BE")).encoding == "utf-32-be", path
    binaries = [p for p in sorted(Path("/usr/bin").iterdir())[:400]
                if p.is_file() and not p.is_symlink() and p.read_bytes()[:4] == b"\x7fELF"]
    assert len(binaries) >= 50
    for path in binaries:
        assert read_text(path.read_bytes()[:200_000]).encoding == BINARY, path
    # an ANSI-coloured log and a stray bell are text; a file of control characters is not
    assert read_text(b"\x1b[31mERROR\x1b[0m password=x\n" * 50).encoding == "utf-8"
    assert read_text(b"ring \x07 the bell\n").encoding == "utf-8"
    assert read_text(bytes(range(1, 32)) * 10).encoding == BINARY
    # a BOM that lies: refused, saying where the file stops being UTF-16
    lie = read_text(b"\xff\xfe" + "ok".encode("utf-16-le") + b"\x00\xd8")
    assert lie.encoding == BINARY and "UTF-16 LE by its byte-order mark" in lie.why
    assert sniff_wide(b"plain ascii text\n" * 10) is None


def test_check_attachment_is_the_early_check() -> None:
    assert check_attachment("a.txt", b"hello\n").encoding == "utf-8"
    assert check_attachment("a.bin", b"\0\1\2" * 100, allow_binary=True).encoding == BINARY
    with pytest.raises(BundleError, match=r"a\.bin cannot be scanned as text.*--attach-binary"):
        check_attachment("a.bin", b"\0\1\2" * 100)


@pytest.mark.parametrize("codec", ["UTF-16", "UTF-16LE", "UTF-32BE"])
def test_a_wide_log_is_read_as_text(tmp_path: Path, codec: str) -> None:
    """A log in UTF-16 (a Windows service's, PowerShell's Out-File) given to --log: its
    records are found and its secrets masked, as for UTF-8."""
    lines = (LOGHUB / "HDFS" / "HDFS_2k.log").read_text().splitlines()[:300]
    lines[150] = lines[150].replace(" INFO ", " ERROR ") + f" password={SECRET} {TOKEN}"
    src = tmp_path / "service.log"
    src.write_bytes(iconv("\n".join(lines) + "\n", codec))
    out = tmp_path / "b.zip"
    code, text = run("bundle", "create", "--log", str(src), "-o", str(out))
    assert code == 0, text
    members = zip_members(out)
    doc = json.loads(members["data/bundle.json"])
    (x,) = doc["logs"]
    excerpt = members[x["path"]].decode("utf-8")
    assert "\0" not in excerpt and len(excerpt.splitlines()) == 11
    assert "[REDACTED:password]" in excerpt and "[REDACTED:github_token]" in excerpt
    assert "converted to UTF-8" in x["note"] and "1 error record" in x["note"]
    assert x["first_line"] == 146
    for data in members.values():
        for enc in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-be"):
            assert SECRET.encode(enc) not in data
