"""Private key blocks of every armour are masked wherever a text starts or ends: the regex side
of issue 12 item 2 (``find_key_blocks`` and the redactor built on it), also across the chunks
of ``redact_file``."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from diagkit.reports.redact import (
    FalsePositives,
    RedactOptions,
    Redactor,
    TokenMap,
    find_key_blocks,
)

B64 = string.ascii_letters + string.digits + "+/"
RND = random.Random(7)


def body(n: int, width: int = 64) -> list[str]:
    return ["".join(RND.choice(B64) for _ in range(width)) for _ in range(n)]


def pem(kind: str, n: int = 20) -> tuple[list[str], list[str]]:
    lines = body(n)
    return [f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"], lines


def pem_encrypted() -> tuple[list[str], list[str]]:
    lines = body(18)
    return (["-----BEGIN RSA PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED",
             "DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF", "", *lines,
             "-----END RSA PRIVATE KEY-----"], lines)


def pgp() -> tuple[list[str], list[str]]:
    lines = body(20) + ["=" + "".join(RND.choice(B64) for _ in range(4))]
    return (["-----BEGIN PGP PRIVATE KEY BLOCK-----", "Version: GnuPG v2", "", *lines,
             "-----END PGP PRIVATE KEY BLOCK-----"], lines)


def ssh2() -> tuple[list[str], list[str]]:
    lines = body(12, 70)
    return (["---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", 'Comment: "rsa-key-20240501"', *lines,
             "---- END SSH2 ENCRYPTED PRIVATE KEY ----"], lines)


def putty() -> tuple[list[str], list[str]]:
    public, private = body(6), body(14)
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
    to diagkit.reports.keyblocks, which finds blocks in the whole log before windows are cut."""
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
    spans = find_key_blocks(text)
    assert len(spans) == len(BLOCKS)
    covered = "".join(text[a:b] for a, b in spans)
    assert all(s in covered for s in secrets)
    assert not any(x in covered for x in BEFORE + AFTER)


def test_a_window_starting_inside_keeps_the_line_before_the_block() -> None:
    block, secrets = pem("RSA PRIVATE KEY")
    text = "\n".join(["Apr 1 10:00:00 host app: dumping config", *block[5:], *AFTER])
    spans = find_key_blocks(text)
    assert len(spans) == 1 and text[spans[0][0]:].startswith(block[5])
    out = redactor().redact(text)
    assert "dumping config" in out and not any(s in out for s in secrets)


def test_certificates_and_public_keys_are_not_key_blocks() -> None:
    cert = ["-----BEGIN CERTIFICATE-----", *body(10), "-----END CERTIFICATE-----"]
    pub = ["-----BEGIN PUBLIC KEY-----", *body(4), "-----END PUBLIC KEY-----"]
    text = "\n".join(cert + pub + cert[3:])  # also a certificate window starting inside
    assert find_key_blocks(text) == []
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
