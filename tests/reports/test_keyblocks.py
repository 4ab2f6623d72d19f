"""Private key blocks and excerpt windows (issue 12, item 2): a window that starts or ends inside
a key block must not carry any line of it, whatever cut it (error windows, the tail,
--log-lines, the report's REPORT_LOG_LINES, report.md's shortening, a file chunk of
``Redactor.redact_file``), in the whole log (``find_blocks``) and in one text (``find_spans``,
what the redactor masks first).

Keys are real (openssl, ssh-keygen, gpg, a PuTTY file built as PuTTY builds it), logs are real
files read by the real CLI into real zips; real logs of other programs check that nothing else
is taken for a key."""

from __future__ import annotations

import io
import json
import random
import string
import zipfile
from pathlib import Path

import pytest

from diagkit.cli import main
from diagkit.errors import LogFormatError
from diagkit.logs.logfile import CHUNK, LogFile, open_logs
from diagkit.reports import keyblocks
from diagkit.reports.bundle import REPORT_LOG_LINES, log_excerpts, record_excerpts, write_bundle
from diagkit.reports.keyblocks import (
    TOKEN,
    KeyBlock,
    TextLines,
    find_blocks,
    find_spans,
    mask_excerpt,
)
from diagkit.reports.model import Bundle, LogExcerpt
from diagkit.reports.redact import FalsePositives, RedactOptions, Redactor, TokenMap
from tests.reports import keymaterial

LOGHUB = Path(__file__).resolve().parents[3] / "shared" / "loghub-dev"
if not LOGHUB.is_dir():
    LOGHUB = Path("/work/shared/loghub-dev")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def zip_texts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        out = {f"<name {n}>": n for n in zf.namelist()}
        out.update({n: zf.read(n).decode("utf-8", "replace") for n in zf.namelist()})
    return out


def leaked(path: Path, secret_lines: list[str]) -> list[str]:
    """The secret lines found anywhere in the zip (each checked on its own)."""
    texts = zip_texts(path)
    return [s for s in secret_lines if any(s in t for t in texts.values())]


def stamp(i: int) -> str:
    return f"2024-01-02T10:{i // 60 % 60:02d}:{i % 60:02d}Z"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    tmp = tmp_path_factory.mktemp("keys")
    return {"pem": keymaterial.pem_key(tmp), "openssh": keymaterial.openssh_key(tmp),
            "pgp": keymaterial.pgp_key(tmp), "putty": keymaterial.putty_key()}


def per_line_log(path: Path, key: list[str], *, before: int = 30, after: int = 30,
                 errors: dict[int, str] | None = None) -> Path:
    """A journald-style log: every line of the key is its own record (a program printing its
    key file to stderr), with INFO records around it and ERROR records where asked (index into
    the key's lines, or len(key) for the record right after it)."""
    lines = [f"{stamp(i)} web1 app[42]: INFO request {i} ok" for i in range(before)]
    errors = errors or {}
    for j, text in enumerate(key):
        if j in errors:
            lines.append(f"{stamp(before + j)} web1 app[42]: ERROR {errors[j]}")
        lines.append(f"{stamp(before + j)} web1 app[42]: {text}")
    if len(key) in errors:
        lines.append(f"{stamp(before + len(key))} web1 app[42]: ERROR {errors[len(key)]}")
    lines += [f"{stamp(before + len(key) + i)} web1 app[42]: INFO request {i} ok"
              for i in range(after)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reproduce_window_starting_inside_a_25_line_pem_key(tmp_path: Path,
                                                            keys: dict[str, list[str]]) -> None:
    """The issue's case: the error window opens inside the key, its BEGIN line outside; before
    the fix 19 of the 25 lines went into the bundle (as in the issue)."""
    key = keys["pem"]
    assert len(key) == 25
    log = per_line_log(tmp_path / "app.log", key, errors={len(key): "TLS handshake failed"})
    out = tmp_path / "b.zip"
    code, text = run("bundle", "create", "--log", str(log), "--log-context", "19", "-o", str(out))
    assert code == 0, text
    secret = keymaterial.body(key) + [key[-1]]
    assert leaked(out, secret) == []
    with zipfile.ZipFile(out) as zf:
        doc = json.loads(zf.read("data/bundle.json"))
        excerpt = zf.read(doc["logs"][0]["path"]).decode().splitlines()
    # the window is the 19 records before the error (key lines 6-24), the error, 19 after
    assert len(excerpt) == 39 and excerpt[19].endswith("ERROR TLS handshake failed")
    assert all(line.endswith(TOKEN) for line in excerpt[:19])
    assert excerpt[20].endswith("INFO request 0 ok")
    (x,) = doc["logs"]
    first = x["first_line"]
    assert x["masked_private_key_lines"] == [[first, first + 18]]
    assert f"lines {first}-{first + 18} masked: they belong to a private key block" in x["note"]
    assert "private_key 1" in text  # counted in "Redacted: ..."
    # line numbers are those of the file: the masked lines keep their places
    file_lines = log.read_text().splitlines()
    for i, line in enumerate(excerpt[19:], 19):
        assert file_lines[first - 1 + i] == line


def test_a_record_of_another_writer_inside_a_key_is_masked_with_it(
        tmp_path: Path, keys: dict[str, list[str]]) -> None:
    """Every line between BEGIN and END goes, also an error another thread logged in between:
    which lines of a block are key material cannot be told safely in every log format."""
    key = keys["pem"]
    log = per_line_log(tmp_path / "app.log", key, errors={6: "worker 2 crashed"})
    excerpts = log_excerpts(log, context=3)
    assert len(excerpts) == 1
    assert all(line.endswith(TOKEN) for line in excerpts[0].lines)
    out = tmp_path / "b.zip"
    write_bundle(Bundle(title="t", logs=tuple(excerpts)), out)
    assert leaked(out, keymaterial.body(key)) == []


@pytest.mark.parametrize("kind", ["pem", "openssh", "pgp", "putty"])
@pytest.mark.parametrize("where", ["starts inside", "ends inside", "inside"])
def test_every_armour_and_window_edge(tmp_path: Path, keys: dict[str, list[str]], kind: str,
                                      where: str) -> None:
    key = keys[kind]
    errors = {"starts inside": {len(key): "after the key"},
              "ends inside": {0: "before the key"},
              "inside": {len(key) // 2: "in the middle"}}[where]
    log = per_line_log(tmp_path / "app.log", key, errors=errors)
    context = 2 if where == "inside" else 4
    excerpts = log_excerpts(log, context=context)
    out = tmp_path / "b.zip"
    write_bundle(Bundle(title="t", logs=tuple(excerpts)), out)
    assert leaked(out, keymaterial.body(key)) == []
    assert sum(len(x.masked_keys) for x in excerpts) == 1


@pytest.mark.parametrize("kind", ["pem", "openssh", "pgp", "putty"])
def test_key_inside_a_multi_line_record_cut_by_log_lines(tmp_path: Path,
                                                        keys: dict[str, list[str]],
                                                        kind: str) -> None:
    """The key is the continuation of one record; --log-lines keeps the record's last lines
    only, cutting the BEGIN off (the redactor then saw no key)."""
    key = keys[kind]
    lines = [f"{stamp(i)} ERROR loading the key failed, it was:" if i == 20
             else f"{stamp(i)} INFO request {i} ok" for i in range(40)]
    lines[21:21] = key
    log = tmp_path / "app.log"
    log.write_text("\n".join(lines) + "\n")
    out = tmp_path / "b.zip"
    code, text = run("bundle", "create", "--log", str(log), "--log-lines", "12",
                     "--log-context", "0", "-o", str(out))
    assert code == 0, text
    assert leaked(out, keymaterial.body(key) + [key[-1]]) == []


def test_the_tail_of_a_quiet_log_starting_inside_a_key(tmp_path: Path,
                                                      keys: dict[str, list[str]]) -> None:
    key = keys["openssh"]
    log = per_line_log(tmp_path / "quiet.log", key, after=3)
    out = tmp_path / "b.zip"
    code, _ = run("bundle", "create", "--log", str(log), "--log-lines", "10", "-o", str(out))
    assert code == 0
    assert leaked(out, keymaterial.body(key)) == []
    doc = json.loads(zip_texts(out)["data/bundle.json"])
    assert "last 10 line(s)" in doc["logs"][0]["note"] and "private key" in doc["logs"][0]["note"]


def test_the_report_cut_of_a_long_excerpt_and_the_markdown_shortening(
        tmp_path: Path, keys: dict[str, list[str]]) -> None:
    """An excerpt made elsewhere (the API, the wizard) with a key straddling the report's
    REPORT_LOG_LINES cut, and a report.md short enough to be shortened around the error."""
    key = keys["pem"]
    n = REPORT_LOG_LINES + 100
    lines = [f"{stamp(i)} INFO line {i}" for i in range(n)]
    at = n - REPORT_LOG_LINES - 10  # the cut falls 10 lines into the key
    lines[at:at + len(key)] = key
    lines[at + len(key) + 1] = f"{stamp(0)} ERROR after the key"
    out = tmp_path / "b.zip"
    info = write_bundle(Bundle(title="t", logs=(LogExcerpt("/var/log/app.log", tuple(lines), 1),)),
                        out, markdown_max_bytes=4000)
    assert leaked(out, keymaterial.body(key) + [key[-1]]) == []
    assert info.redaction_summary.get("private_key") == 1
    texts = zip_texts(out)
    excerpt = texts["logs/1-app.log"].splitlines()
    assert len(excerpt) == n  # masked line by line: numbering unchanged
    assert excerpt[at + len(key) + 1].endswith("ERROR after the key")
    assert "report shows the last" in texts["report.html"]


def test_excerpt_fallback_masks_from_its_edges() -> None:
    body = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
            "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu"]
    start_inside = [*body, "-----END PRIVATE KEY----- and then", "app: next record"]
    masked, runs = mask_excerpt(start_inside)
    assert masked == [TOKEN, TOKEN, f"{TOKEN} and then", "app: next record"] and runs == [(0, 2)]
    end_inside = ["app: loading", "app: key -----BEGIN RSA PRIVATE KEY-----", *body]
    masked, runs = mask_excerpt(end_inside)
    assert masked == ["app: loading", f"app: key {TOKEN}", TOKEN, TOKEN] and runs == [(1, 3)]
    putty = ["x", "Private-Lines: 2", *body, "Private-MAC: 0123abcd", "y"]
    assert mask_excerpt(putty)[0] == ["x", TOKEN, TOKEN, TOKEN, TOKEN, "y"]
    mac_only = [*body, "Private-MAC: 0123abcd", "y"]
    assert mask_excerpt(mac_only)[0] == [TOKEN, TOKEN, TOKEN, "y"]
    # BEGIN and END on one line (JSON with \n escapes): the redactor masks just the key
    one = ['{"key": "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----"}']
    assert mask_excerpt(one) == (one, [])
    assert mask_excerpt(["Public key: -----BEGIN PUBLIC KEY-----", "MIIB"]) == (
        ["Public key: -----BEGIN PUBLIC KEY-----", "MIIB"], [])


def test_blocks_cut_short_in_the_whole_source(keys: dict[str, list[str]]) -> None:
    key = keys["pem"]
    log = ["app: start", *key[:10], "app: crashed while printing", "app: restart"]
    # a BEGIN whose END never came: the block runs over the lines that look like key material,
    # and one more that ends in a short word (it could be the body's short last line)
    assert find_blocks(TextLines(log)) == [KeyBlock(1, 11, "armour")]
    assert find_blocks(TextLines([*log[:-2], "app: crashed, 2 workers left."])) == [
        KeyBlock(1, 10, "armour")]
    # an END whose BEGIN is before the file's first line (a rotated log): reaches back
    rotated = [*key[12:], "app: next"]
    assert find_blocks(TextLines(rotated)) == [KeyBlock(0, len(key) - 13, "armour")]
    # the short last line of a body is taken (backwards and forwards)
    short = ["app: x", key[5], "AbC=", "-----END RSA PRIVATE KEY-----"]
    assert find_blocks(TextLines(short)) == [KeyBlock(1, 3, "armour")]
    # two keys, END and BEGIN on one line: one block
    two = ["a", key[0], key[1], key[-1] + " " + key[0], key[2], key[-1], "b"]
    assert find_blocks(TextLines(two)) == [KeyBlock(1, 5, "armour", head=False)]
    # a BEGIN far from any END: not one block of 20,000 lines
    far = ["a", key[0], key[1], *(["app: INFO request served."] * 20_000), key[-1], "b"]
    blocks = find_blocks(TextLines(far))
    assert blocks == [KeyBlock(1, 2, "armour"), KeyBlock(20_003, 20_003, "armour")]


def test_prefix_and_suffix_of_marker_lines_are_kept(tmp_path: Path,
                                                   keys: dict[str, list[str]]) -> None:
    key = keys["pem"]
    lines = ["Jan  2 10:00:00 web1 app[1]: ERROR bad key " + key[0], *key[1:-1],
             key[-1] + " (end of dump)", "Jan  2 10:00:01 web1 app[1]: INFO next"]
    log = tmp_path / "k.log"
    log.write_text("\n".join(lines) + "\n")
    with LogFile.open(log) as lf:
        blocks = find_blocks(lf)
    out, runs = keyblocks.mask(lines, range(len(lines)), blocks)
    assert out[0] == f"Jan  2 10:00:00 web1 app[1]: ERROR bad key {TOKEN}"
    assert out[-2] == f"{TOKEN} (end of dump)" and out[-1] == lines[-1]
    assert runs == [(0, len(key) - 1)]


def test_lines_containing_finds_needles_across_chunks(tmp_path: Path) -> None:
    """LogFile.lines_containing scans the mapped file chunk by chunk: a needle straddling a
    chunk's end, several on one line, and lines of every length are found exactly."""
    path = tmp_path / "big.log"
    line = b"2024-01-02T10:00:00Z h app: INFO nothing to see here\n"
    n = CHUNK // len(line) + 1
    with open(path, "wb") as fh:
        fh.write(line * (n - 1))
        pos = fh.tell()
        # this line straddles the first chunk's end, its needle right on it
        pad = CHUNK - pos - 5
        fh.write(b"x" * pad + b"-----BEGIN RSA PRIVATE KEY----- PRIVATE KEY\n")
        fh.write(line * 10)
        fh.write(b"Private-Lines: 3\n")
    with LogFile.open(path) as lf:
        assert lf.lines_containing(keyblocks.NEEDLES) == [n - 1, n + 10]
        assert lf.lines_containing(["nothing"])[:3] == [0, 1, 2]
        assert lf.lines_containing([]) == [] and lf.lines_containing(["zzz"]) == []
        assert lf.line_text(n + 10) == "Private-Lines: 3"


def real_logs() -> list[Path]:
    found = sorted(p for p in LOGHUB.glob("*/*.log") if p.is_file())
    found += sorted(p for p in Path("/var/log").rglob("*.log")
                    if p.is_file() and p.stat().st_size and _readable(p))
    return found


def _readable(p: Path) -> bool:
    try:
        with open(p, "rb"):
            return True
    except OSError:
        return False


def test_real_logs_hold_no_key_blocks() -> None:
    """No false positives: logs of real programs (loghub, this machine's /var/log)."""
    logs = real_logs()
    assert len(logs) >= 10
    total = 0
    for path in logs:
        for log in open_logs([path]):
            with log:
                total += log.line_count
                assert find_blocks(log) == [], path
    assert total > 20_000


def test_records_picked_by_hand_inside_a_key(tmp_path: Path, keys: dict[str, list[str]]) -> None:
    """record_excerpts (the app's "add to report"): body lines picked with no BEGIN or END in
    reach are masked from the whole log; records apart from each other make excerpts of their
    own, numbered as in the file; a log rewritten since is refused with the way out."""
    key = keys["pem"]
    log = per_line_log(tmp_path / "app.log", key, before=30)
    with LogFile.open(log) as lf:
        inside = lf.records(30 + 8, 30 + 12)  # key lines 8-11: body only
        apart = lf.records(2, 3) + lf.records(30 + 14, 30 + 15)
    body_lines = [r.raw for r in inside]
    ordinary, masked, other = record_excerpts([*inside, *apart])
    assert ordinary.lines == (apart[0].raw,) and ordinary.first_line == 3
    assert masked.first_line == 39 and masked.lines == (TOKEN,) * 4
    assert masked.masked_keys == ((39, 42),) and other.masked_keys == ((45, 45),)
    assert not any(b in "\n".join(x.lines) for x in (masked, ordinary, other) for b in body_lines)
    log.write_text("2024-01-02T10:00:00Z web1 app[42]: INFO rotated\n" * 100)
    with pytest.raises(LogFormatError, match="has changed since its records were set aside"):
        record_excerpts(inside)
    log.unlink()
    with pytest.raises(LogFormatError, match="Cannot read .* again .* Set the records aside"):
        record_excerpts(inside)


def test_a_key_planted_in_a_real_log(tmp_path: Path, keys: dict[str, list[str]]) -> None:
    """A real OpenStack log with a key printed line by line in the middle of its error records."""
    src = LOGHUB / "OpenStack" / "OpenStack_2k.log"
    lines = src.read_text(encoding="utf-8", errors="replace").splitlines()
    prefix = lines[1000].split(" INFO ")[0] if " INFO " in lines[1000] else lines[1000][:60]
    key = keys["openssh"]
    planted = lines[:1000] + [f"{prefix} INFO {k}" for k in key] + \
        [f"{prefix} ERROR could not load the key above"] + lines[1000:]
    log = tmp_path / "openstack.log"
    log.write_text("\n".join(planted) + "\n")
    out = tmp_path / "b.zip"
    code, text = run("bundle", "create", "--log", str(log), "--log-lines", "2000", "-o", str(out))
    assert code == 0, text
    assert leaked(out, keymaterial.body(key) + [key[-1]]) == []
    doc = json.loads(zip_texts(out)["data/bundle.json"])
    assert any("could not load the key above" in zip_texts(out)[x["path"]] for x in doc["logs"])


# --- in one text: find_spans and the redactor built on it, also across redact_file's chunks -------
# (random base64 bodies in every armour; the real keys above run through the whole pipeline)

B64 = string.ascii_letters + string.digits + "+/"
RND = random.Random(7)


def random_body(n: int, width: int = 64) -> list[str]:
    return ["".join(RND.choice(B64) for _ in range(width)) for _ in range(n)]


def pem(kind: str, n: int = 20) -> tuple[list[str], list[str]]:
    lines = random_body(n)
    return [f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"], lines


def pem_encrypted() -> tuple[list[str], list[str]]:
    lines = random_body(18)
    return (["-----BEGIN RSA PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED",
             "DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF", "", *lines,
             "-----END RSA PRIVATE KEY-----"], lines)


def pgp() -> tuple[list[str], list[str]]:
    lines = random_body(20) + ["=" + "".join(RND.choice(B64) for _ in range(4))]
    return (["-----BEGIN PGP PRIVATE KEY BLOCK-----", "Version: GnuPG v2", "", *lines,
             "-----END PGP PRIVATE KEY BLOCK-----"], lines)


def ssh2() -> tuple[list[str], list[str]]:
    lines = random_body(12, 70)
    return (["---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", 'Comment: "rsa-key-20240501"', *lines,
             "---- END SSH2 ENCRYPTED PRIVATE KEY ----"], lines)


def putty() -> tuple[list[str], list[str]]:
    public, private = random_body(6), random_body(14)
    mac = "".join(RND.choice("0123456789abcdef") for _ in range(64))
    return (["PuTTY-User-Key-File-3: ssh-rsa", "Encryption: none", "Comment: k",
             "Public-Lines: 6", *public, "Private-Lines: 14", *private, f"Private-MAC: {mac}"],
            [*private, mac])


BLOCKS = {
    "rsa": lambda: pem("RSA PRIVATE KEY"), "ec": lambda: pem("EC PRIVATE KEY", 4),
    "dsa": lambda: pem("DSA PRIVATE KEY", 9), "pkcs8": lambda: pem("PRIVATE KEY"),
    "pkcs8-encrypted": lambda: pem("ENCRYPTED PRIVATE KEY"),
    "openssh": lambda: pem("OPENSSH PRIVATE KEY", 7), "pem-legacy-encrypted": pem_encrypted,
    "pgp": pgp, "ssh2": ssh2, "putty": putty,
}
BEFORE = [f"2024-05-02 10:00:{i:02d} INFO app[12]: request {i} done" for i in range(4)]
AFTER = [f"2024-05-02 10:01:{i:02d} INFO app[12]: request {i + 4} done" for i in range(4)]


def redactor() -> Redactor:
    return Redactor(RedactOptions(), token_map=TokenMap(Path("/nonexistent/m.json")),
                    false_positives=FalsePositives(Path("/nonexistent/f.json")))


def marks(lines: list[str]) -> tuple[int, int]:
    """Index of the block's opening mark (BEGIN or Private-Lines) and closing mark (END or
    Private-MAC) within ``lines``."""
    first = next(i for i, x in enumerate(lines) if "BEGIN" in x or x.startswith("Private-Lines"))
    last = next(i for i in range(len(lines) - 1, -1, -1)
                if "END" in lines[i] or lines[i].startswith("Private-MAC"))
    return first, last


@pytest.mark.parametrize("kind", sorted(BLOCKS))
def test_every_window_that_holds_a_mark_is_masked(kind: str) -> None:
    """Every excerpt window over log lines + block + log lines that holds the block's opening
    or closing mark (it starts inside the block, ends inside it, or holds all of it) shows
    none of the block's secret lines. A window of body lines only, with no mark at all, is left
    to find_blocks, which finds blocks in the whole log before windows are cut (above)."""
    block, secrets = BLOCKS[kind]()
    lines = [*BEFORE, *block, *AFTER]
    first, last = marks(lines)
    r = redactor()
    for i in range(len(lines)):
        for j in range(i + 1, len(lines) + 1):
            if not (i <= first < j or i <= last < j):
                continue
            window = lines[i:j]
            out = r.redact("\n".join(window))
            shown = [s for s in secrets if s in window and s in out]
            assert shown == [], (kind, i, j, out)
            for log_line in BEFORE + AFTER:  # the log lines around the block stay
                if log_line in window:
                    assert log_line in out, (kind, i, j, out)


def test_blocks_found_in_a_whole_text() -> None:
    texts, secrets = [], []
    for make in BLOCKS.values():
        block, s = make()
        texts += [*BEFORE, *block]
        secrets += s
    text = "\n".join(texts + AFTER)
    spans = find_spans(text)
    assert len(spans) == len(BLOCKS)
    covered = "".join(text[a:b] for a, b in spans)
    assert all(s in covered for s in secrets)
    assert not any(x in covered for x in BEFORE + AFTER)


def test_a_window_starting_inside_keeps_the_line_before_the_block() -> None:
    block, secrets = pem("RSA PRIVATE KEY")
    text = "\n".join(["Apr 1 10:00:00 host app: dumping config", *block[5:], *AFTER])
    spans = find_spans(text)
    assert len(spans) == 1 and text[spans[0][0]:].startswith(block[5])
    out = redactor().redact(text)
    assert "dumping config" in out and not any(s in out for s in secrets)


def test_certificates_and_public_keys_are_not_key_blocks() -> None:
    cert = ["-----BEGIN CERTIFICATE-----", *random_body(10), "-----END CERTIFICATE-----"]
    pub = ["-----BEGIN PUBLIC KEY-----", *random_body(4), "-----END PUBLIC KEY-----"]
    text = "\n".join(cert + pub + cert[3:])  # also a certificate window starting inside
    assert find_spans(text) == []
    assert redactor().redact(text) == text


def test_private_keys_are_masked_even_when_marked_false_positive(tmp_path: Path) -> None:
    block, secrets = BLOCKS["putty"]()
    fp = FalsePositives(tmp_path / "fp.json", secrets)
    r = Redactor(RedactOptions(), token_map=TokenMap(tmp_path / "m.json"), false_positives=fp)
    out = r.redact("\n".join(block))
    assert not any(s in out for s in secrets)
    assert r.summary() == {"private_key": 1}


@pytest.mark.parametrize("chunk", [64, 333, 1000, 4096])
def test_redact_file_never_splits_a_block(tmp_path: Path, chunk: int) -> None:
    parts, secrets = [], []
    for _ in range(3):
        for make in BLOCKS.values():
            block, s = make()
            parts += [*BEFORE, *block]
            secrets += s
        # a block whose window started inside, and one cut off at the end of the log
        block, s = pem("OPENSSH PRIVATE KEY", 12)
        parts += [*BEFORE, *block[4:]]
        secrets += s[3:]
    block, s = pem("EC PRIVATE KEY", 9)
    parts += [*BEFORE, *block[:6]]
    secrets += s[:5]
    src, dst = tmp_path / "in.log", tmp_path / "out.log"
    src.write_text("\n".join(parts) + "\n", encoding="utf-8")
    redactor().redact_file(src, dst, chunk_chars=chunk)
    out = dst.read_text(encoding="utf-8")
    assert [s for s in secrets if s in out] == []
    assert out.count("request 0 done") == parts.count(BEFORE[0])
