"""Verify and open a bug-report bundle offline, treating the zip as hostile.

A bundle comes back from a developer, a ticket system or a USB stick: it may be damaged,
tampered with or crafted. :func:`verify` checks it without writing anything; :func:`open_bundle`
verifies and then extracts it, refusing

* a zip whose directory alone is out of proportion (more than :data:`MAX_MEMBERS` members): it is
  counted from the raw central directory *before* :mod:`zipfile` builds an object per member;
* names that escape the folder (``../x``, ``/etc/x``, ``C:\\x``, backslashes, ``..`` spelled with
  look-alike characters that Unicode normalisation turns into dots or slashes), links, names with
  control characters or characters Windows cannot store, and names that are not plain relative
  paths (``a//b``, ``./a``, a trailing dot or space);
* two names for one file: exact duplicates, names equal once case-folded or Unicode-normalised
  (Windows and macOS would extract ``A`` and ``a`` into one file), and a file that another
  member needs as a folder (``data`` and ``data/x``);
* zip bombs: caps on each file's compression ratio, on the total unpacked size and on the
  total ratio, checked on the declared sizes *before* anything is decompressed and enforced
  again on the actual bytes while reading;
* a manifest that is not plain JSON of bounded depth, has a key twice in one object (parsers
  disagree on which one wins), lists a path twice, or gives a size or checksum that cannot be;
* files missing from the manifest, listed but absent, or whose SHA-256 differs (named each time).

Every name that reaches a message goes through :func:`diagkit.textsafe.printable` first: control
characters are shown escaped (``\\x1b``, ``\\n``), so a crafted name cannot forge lines of output
or drive the terminal.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import lzma
import os
import re
import shutil
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from diagkit.config import make_tree_private, private_dir
from diagkit.errors import BundleError
from diagkit.reports.bundle import MANIFEST, SCHEMA
from diagkit.textsafe import printable

#: Total unpacked size allowed (declared and actual).
MAX_TOTAL = 2 << 30
#: Largest uncompressed/compressed ratio allowed for one file (real text logs compress 4-17x).
MAX_RATIO = 200
#: Files smaller than this are not ratio-checked (a tiny file of spaces is not a bomb).
RATIO_MIN_SIZE = 1 << 20
#: Largest ratio of all files together; many small files of zeros are a bomb too.
MAX_TOTAL_RATIO = 100
#: Totals smaller than this are not ratio-checked.
TOTAL_RATIO_MIN_SIZE = 16 << 20
#: Most members a bundle may have (diagkit writes 5, plus one per host, log, plot, attachment).
MAX_MEMBERS = 10_000
#: Largest central directory read at all (real bundles use ~100 bytes per member).
MAX_DIRECTORY = MAX_MEMBERS * 400
#: Largest manifest.json (a real one is ~200 bytes per file).
MAX_MANIFEST = 8 << 20
#: Deepest nesting of [ and { in the JSON files read (a manifest nests 3 levels).
MAX_JSON_DEPTH = 64
#: Longest member name (characters) and name part (bytes, the limit of common file systems).
MAX_NAME = 1024
MAX_PART_BYTES = 255
_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")
# Characters Windows refuses in file names; bundle.safe_name never writes them either.
_WINDOWS_CHARS = re.compile(r'[:*?"<>|]')
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


@dataclass(frozen=True)
class VerifyReport:
    """``ok`` when every check passed; ``problems`` name each file and what is wrong with it."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenedBundle:
    """An extracted, verified bundle."""

    folder: Path
    manifest: dict[str, Any]
    report_html: Path
    logs: list[Path]
    report_md: Path | None = None

    def bundle_doc(self) -> dict[str, Any]:
        """``data/bundle.json`` (title, steps, journal, index of logs and plots), or ``{}``."""
        path = self.folder / "data" / "bundle.json"
        try:
            if path.stat().st_size > 64 << 20:
                return {}
            doc = _load_json(path.read_bytes())
        except (OSError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}


def _q(name: str) -> str:
    """A name quoted for a message, unambiguous: backslashes and quotes escaped too."""
    return "'" + printable(name.replace("\\", "\\\\").replace("'", "\\'")) + "'"


# --- JSON ----------------------------------------------------------------------------------------


class _JsonProblem(ValueError):
    pass


_ESCAPE_PAIR = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = [0] * 256
for _b, _step in ((b"["[0], 1), (b"{"[0], 1), (b"]"[0], -1), (b"}"[0], -1)):
    _DEPTH_STEP[_b] = _step


def _shape(raw: bytes) -> tuple[int, int]:
    """(containers, deepest nesting) of JSON ``raw``, in linear time and without recursion.

    Escaped characters go first (so ``\\"`` cannot end a string), then strings; the brackets
    left over are counted and summed up in C (``accumulate``).
    """
    skeleton = _STRING.sub(b"", _ESCAPE_PAIR.sub(b"", raw)).translate(None, _NOT_BRACKETS)
    containers = skeleton.count(b"[") + skeleton.count(b"{")
    if containers <= MAX_JSON_DEPTH:
        return containers, containers
    return containers, max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, skeleton)))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _JsonProblem(f"the key {_q(key)} appears twice in one object, and JSON "
                                   "readers disagree on which one counts")
            seen.add(key)
    return doc


def _no_constant(name: str) -> Any:
    raise _JsonProblem(f"{name} is not a JSON number")


def _load_json(raw: bytes, *, max_containers: int | None = None) -> Any:
    """Strict JSON: UTF-8, bounded depth and size, no duplicate keys, no NaN/Infinity.

    Raises :class:`ValueError` (a readable sentence) for anything else. The shape is checked
    before parsing: the C parser recurses once per level and a worker thread's stack (512 KiB
    for Qt's threads on macOS) can be smaller than the interpreter's recursion limit assumes;
    and millions of empty ``[]`` would cost hundreds of MB.
    """
    containers, depth = _shape(raw)
    if depth > MAX_JSON_DEPTH:
        raise _JsonProblem(f"it nests deeper than {MAX_JSON_DEPTH} levels")
    if max_containers is not None and containers > max_containers:
        raise _JsonProblem(f"it holds {containers:,} objects and lists, more than a bundle's "
                           f"{max_containers:,}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _JsonProblem(f"it is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _JsonProblem:
        raise
    except RecursionError as exc:  # belt and braces after the depth check
        raise _JsonProblem("it nests too deeply") from exc
    except ValueError as exc:
        raise _JsonProblem(f"it is not valid JSON ({printable(exc)})") from exc


# --- opening the zip -----------------------------------------------------------------------------

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL_HEADER = 46


def _end_record(fh: BinaryIO) -> tuple[int, int, int] | None:
    """(members, directory size, directory end) as :mod:`zipfile` reads them, or None.

    Mirrors ``zipfile._EndRecData``: the end record without a comment first, else the last
    signature in the final 64 KiB; then the zip64 record right before its locator.
    """
    size = fh.seek(0, os.SEEK_END)
    if size < _EOCD.size:
        return None
    fh.seek(size - _EOCD.size)
    last = fh.read(_EOCD.size)
    if last.startswith(b"PK\x05\x06") and last.endswith(b"\0\0"):
        at, record = size - _EOCD.size, last
    else:
        start = max(size - (1 << 16) - _EOCD.size, 0)
        fh.seek(start)
        tail = fh.read()
        found = tail.rfind(b"PK\x05\x06")
        record = tail[found:found + _EOCD.size]
        if found < 0 or len(record) != _EOCD.size:
            return None
        at = start + found
    _, _, _, _, members, cd_size, _, _ = _EOCD.unpack(record)
    end = at
    if at >= _ZIP64_LOCATOR.size + _ZIP64_EOCD.size:
        fh.seek(at - _ZIP64_LOCATOR.size)
        if fh.read(4) == b"PK\x06\x07":
            fh.seek(at - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size)
            zip64 = fh.read(_ZIP64_EOCD.size)
            if zip64.startswith(b"PK\x06\x06"):
                fields = _ZIP64_EOCD.unpack(zip64)
                members, cd_size = fields[7], fields[8]
                end = at - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
    return members, cd_size, end


def _too_many(path: Path, count: str) -> BundleError:
    return BundleError(f"{printable(path)} is not a bundle diagkit can read: its zip directory "
                       f"lists {count} members, and a bundle has at most {MAX_MEMBERS:,}. It was "
                       "not written by diagkit; ask the sender for the bundle diagkit made.")


def _count_directory(fh: BinaryIO, path: Path) -> None:
    """Refuse a zip with too many members before :mod:`zipfile` makes an object for each.

    (A million empty members make a 54 MB zip that costs zipfile ~10 s and ~460 MB to list.)
    The end record's count and directory size come first, then the directory's headers are
    walked up to :data:`MAX_MEMBERS`. What cannot be made sense of is left to zipfile, which then
    says what is wrong.
    """
    found = _end_record(fh)
    if found is None:
        return
    members, cd_size, end = found
    if members > MAX_MEMBERS:
        raise _too_many(path, f"{members:,}")
    if cd_size > MAX_DIRECTORY:
        raise _too_many(path, f"about {cd_size // _CENTRAL_HEADER:,}")
    if cd_size > end:
        return
    fh.seek(end - cd_size)
    directory = fh.read(cd_size)
    pos = count = 0
    while pos + _CENTRAL_HEADER <= len(directory) and directory.startswith(b"PK\x01\x02", pos):
        name_len, extra_len, comment_len = struct.unpack_from("<3H", directory, pos + 28)
        pos += _CENTRAL_HEADER + name_len + extra_len + comment_len
        count += 1
        if count > MAX_MEMBERS:
            raise _too_many(path, f"more than {MAX_MEMBERS:,}")


def _open_zip(path: Path) -> zipfile.ZipFile:
    shown = printable(path)
    if not path.is_file():
        raise BundleError(f"There is no bundle at {shown}. Check the path.")
    try:
        with open(path, "rb") as fh:
            _count_directory(fh, path)
        return zipfile.ZipFile(path)
    except UnicodeDecodeError as exc:
        raise BundleError(
            f"The bundle {shown} is damaged or crafted: a member name is flagged as UTF-8 but is "
            f"not valid UTF-8 ({printable(exc.object[:60])}). Ask the sender for a fresh "
            "copy.") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError,
            struct.error, EOFError, OverflowError) as exc:
        raise BundleError(f"The bundle is truncated or not a zip: {shown} ({printable(exc)}). "
                          "Download or copy it again; diagkit bundles are .zip files.") from exc
    except OSError as exc:
        raise BundleError(f"Cannot read the bundle {shown}: {printable(exc.strerror or exc)}."
                          ) from exc


def _read_manifest(zf: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    shown = printable(path)
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        raise BundleError(f"{shown} has no {MANIFEST}: it is not a diagkit bundle, or it was "
                          "damaged. Ask the sender for a fresh copy.") from None
    if info.file_size > MAX_MANIFEST:
        raise BundleError(f"The {MANIFEST} of {shown} is implausibly large "
                          f"({info.file_size:,} bytes); refusing it. Ask the sender for the "
                          "bundle as diagkit made it.")
    if info.flag_bits & 0x1 or info.compress_type not in _METHODS:
        how = ("is encrypted" if info.flag_bits & 0x1
               else f"uses compression method {info.compress_type}, which diagkit cannot read")
        raise BundleError(f"The {MANIFEST} of {shown} {how}: diagkit writes neither. Ask the "
                          "sender for the bundle as diagkit made it.")
    try:
        with zf.open(info) as fh:
            raw = fh.read(MAX_MANIFEST + 1)
        if len(raw) > MAX_MANIFEST:
            raise BundleError(f"The {MANIFEST} of {shown} is implausibly large; refusing it. "
                              "Ask the sender for the bundle as diagkit made it.")
        doc = _load_json(raw, max_containers=2 * MAX_MEMBERS + 1000)
    except ValueError as exc:
        raise BundleError(f"The {MANIFEST} of {shown} is damaged or crafted: {exc}. "
                          "Ask the sender for a fresh copy.") from exc
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError,
            NotImplementedError, RuntimeError) as exc:
        raise BundleError(f"The {MANIFEST} of {shown} is damaged and cannot be read "
                          f"({printable(exc)}). Ask the sender for a fresh copy.") from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise BundleError(f"{shown} is not a {SCHEMA} bundle (its manifest says "
                          f"{printable(repr(found))[:80]}). It may come from a newer diagkit: "
                          "update diagkit and try again.")
    files = doc.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str) and type(f.get("size")) is int
        and isinstance(f.get("sha256"), str) for f in files
    ):
        raise BundleError(f"The {MANIFEST} of {shown} has no valid file list (each entry needs "
                          "path, size and sha256). Ask the sender for a fresh copy.")
    if len(files) > MAX_MEMBERS:
        raise BundleError(f"The {MANIFEST} of {shown} lists {len(files):,} files, and a bundle "
                          f"has at most {MAX_MEMBERS:,}; refusing it. Ask the sender for the "
                          "bundle as diagkit made it.")
    return doc


# --- names ---------------------------------------------------------------------------------------


def _name_reason(name: str) -> str | None:
    """Why ``name`` (a file path; a folder entry without its trailing '/') is refused, or None."""
    if not name or "\x00" in name:
        return "an empty or NUL-containing name"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "a control character in its name"
    if "\\" in name:
        return "a backslash in its name (a Windows path)"
    if name.startswith("/") or _DRIVE.match(name):
        return "an absolute path"
    parts = name.split("/")
    if ".." in parts:
        return "a '..' component that escapes the folder"
    if _WINDOWS_CHARS.search(name):
        return 'a character Windows does not allow in file names (one of :*?"<>|)'
    if any(p in ("", ".") for p in parts):
        return "an empty or '.' part: not a plain relative path"
    if any(p[-1] in ". " for p in parts):
        return "a part ending in a dot or space (Windows drops it, so two names could be one file)"
    if len(name) > MAX_NAME:
        return f"a name longer than {MAX_NAME:,} characters"
    if any(len(p.encode("utf-8", "surrogatepass")) > MAX_PART_BYTES for p in parts):
        return f"a name part longer than {MAX_PART_BYTES} bytes"
    compat = unicodedata.normalize("NFKC", name)
    if compat != name:
        hidden = _name_reason(compat)
        if hidden:
            return f"look-alike characters that Unicode normalisation turns into {hidden}"
    return None


def _fold(name: str) -> str:
    """One key per file on case-insensitive, normalising file systems (NTFS, APFS, HFS+)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).lower())


def _same_file(first: str, second: str, where: str) -> str:
    if first == second:
        return f"duplicate name: {_q(first)} appears more than once{where}"
    if first.rstrip("/") == second.rstrip("/"):
        return f"file and folder: {_q(first.rstrip('/'))}{where} is both a file and a folder"
    return (f"duplicate name: {_q(first)} and {_q(second)}{where} are one file on Windows and "
            "macOS (they differ only in letter case or Unicode normalisation)")


def _name_problems(names: Iterable[str], where: str = "") -> list[str]:
    """Two names for one file, and files that other names need as a folder."""
    problems: list[str] = []
    taken: dict[str, str] = {}  # folded name -> the member (file, or folder ending in '/')
    needed: dict[str, str] = {}  # folded folder -> the first member inside it
    for name in names:
        key = _fold(name.rstrip("/"))
        if key in taken:
            problems.append(_same_file(taken[key], name, where))
            continue
        taken[key] = name
        parts = key.split("/")
        for i in range(1, len(parts)):
            needed.setdefault("/".join(parts[:i]), name)
    for key, name in taken.items():
        if not name.endswith("/") and key in needed:
            problems.append(f"file and folder: {_q(name)}{where} is a file, but "
                            f"{_q(needed[key])} needs a folder of that name")
    return problems


# --- checks --------------------------------------------------------------------------------------


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _bad_type(info: zipfile.ZipInfo) -> bool:
    kind = stat.S_IFMT(info.external_attr >> 16)
    # 0: made by a tool that stores no Unix mode (DOS attributes): a plain file.
    return kind not in (0, stat.S_IFREG, stat.S_IFDIR)


def _member_problems(infos: list[zipfile.ZipInfo], *, max_total: int,
                     max_ratio: float) -> list[str]:
    problems: list[str] = []
    total = packed = 0
    for info in infos:
        name = info.filename
        reason = _name_reason(name.removesuffix("/"))
        if reason:
            problems.append(f"unsafe path: {_q(name)} has {reason}")
        if _is_link(info):
            problems.append(f"link refused: {_q(name)} is a symbolic link")
        elif _bad_type(info):
            problems.append(f"special file refused: {_q(name)} is not a regular file")
        if info.flag_bits & 0x1:
            problems.append(f"encrypted file refused: {_q(name)} needs a password")
        elif info.compress_type not in _METHODS:
            problems.append(f"unsupported compression: {_q(name)} uses method "
                            f"{info.compress_type}, which diagkit cannot check")
        total += info.file_size
        packed += info.compress_size
        if (info.file_size >= RATIO_MIN_SIZE
                and info.file_size > max_ratio * max(info.compress_size, 1)):
            problems.append(f"zip bomb refused: {_q(name)} would expand {info.compress_size:,} "
                            f"bytes to {info.file_size:,} (ratio over {max_ratio:g})")
    problems += _name_problems(i.filename for i in infos)
    if total > max_total:
        problems.append(f"zip bomb refused: the files would unpack to {total:,} bytes, more than "
                        f"the {max_total:,} allowed")
    elif total >= TOTAL_RATIO_MIN_SIZE and total > MAX_TOTAL_RATIO * max(packed, 1):
        problems.append(f"zip bomb refused: the files would expand {packed:,} bytes to "
                        f"{total:,} together (ratio over {MAX_TOTAL_RATIO:g})")
    return problems


def _manifest_problems(files: list[dict[str, Any]], members: dict[str, zipfile.ZipInfo], *,
                       max_total: int) -> tuple[list[str], list[str], set[str]]:
    """Problems of the file list: (blocking ones, tampered files, paths not to decompress)."""
    blocking: list[str] = []
    tampered: list[str] = []
    skip: set[str] = set()
    first: dict[str, dict[str, Any]] = {}
    for entry in files:
        p, size, digest = entry["path"], entry["size"], entry["sha256"]
        if p in first:
            other = first[p]
            differ = (" with different checksums"
                      if (other["sha256"], other["size"]) != (digest, size) else "")
            blocking.append(f"listed twice: {_q(p)} appears more than once in the "
                            f"manifest{differ}")
            continue
        first[p] = entry
        if p == MANIFEST:
            reason: str | None = "the manifest's own name (it cannot hold its own checksum)"
        elif p.endswith("/"):
            reason = "a trailing '/': it names a folder, not a file"
        else:  # a member's name was checked already, with the member
            reason = None if p in members else _name_reason(p)
        if reason:
            blocking.append(f"unsafe path in the manifest: {_q(p)} has {reason}")
        if not 0 <= size <= max_total:
            blocking.append(f"invalid size in the manifest: {_q(p)} is said to have {size:,} "
                            f"bytes (0 to {max_total:,} allowed)")
            continue
        if not _SHA256.fullmatch(digest):
            tampered.append(f"invalid checksum in the manifest: {_q(p)} has "
                            f"{_q(digest[:70])}, not 64 hexadecimal digits")
            skip.add(p)
        info = members.get(p)
        if info is not None and info.file_size != size:
            tampered.append(f"tampered file: {printable(p)} has {info.file_size:,} bytes in the "
                            f"zip, but the manifest says {size:,}")
            skip.add(p)
    # Clashes among members were named with the members; a listed path that is no member is
    # named as missing as well, so this is mostly for completeness.
    blocking += _name_problems((p for p in first if p not in members), " in the manifest")
    return blocking, tampered, skip


class _Budget:
    """What came out of the zip so far, against the caps (actual bytes, not declared ones)."""

    def __init__(self, max_total: int, max_ratio: float) -> None:
        self.max_total = max_total
        self.max_ratio = max_ratio
        self.out = 0
        self.packed = 0

    def add(self, info: zipfile.ZipInfo, produced: int, so_far: int) -> None:
        self.out += produced
        if self.out > self.max_total:
            raise BundleError(f"zip bomb refused: the files unpack to more than "
                              f"{self.max_total:,} bytes")
        if so_far >= RATIO_MIN_SIZE and so_far > self.max_ratio * max(info.compress_size, 1):
            raise BundleError(f"zip bomb refused: {_q(info.filename)} unpacks "
                              f"{info.compress_size:,} bytes to more than {so_far:,} (ratio over "
                              f"{self.max_ratio:g})")

    def finish(self) -> None:
        # The total ratio once every member is out: one order of reading must not refuse a
        # bundle that another order accepts.
        if self.out >= TOTAL_RATIO_MIN_SIZE and self.out > MAX_TOTAL_RATIO * max(self.packed, 1):
            raise BundleError(f"zip bomb refused: the files expand {self.packed:,} bytes to "
                              f"{self.out:,} together (ratio over {MAX_TOTAL_RATIO:g})")


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, sink: BinaryIO | None, limit: int,
            budget: _Budget) -> tuple[str, int] | None:
    """Decompress one member into ``sink`` (or nowhere), hashing it.

    Returns (sha256, size), or None once more than ``limit`` bytes came out. Raises
    :class:`BundleError` when the member or the whole bundle goes over the caps.
    """
    digest = hashlib.sha256()
    size = 0
    budget.packed += info.compress_size
    with zf.open(info) as src:
        while chunk := src.read(_CHUNK):
            size += len(chunk)
            budget.add(info, len(chunk), size)
            if size > limit:
                return None
            digest.update(chunk)
            if sink is not None:
                sink.write(chunk)
    return digest.hexdigest(), size


def _check_member(zf: zipfile.ZipFile, entry: dict[str, Any], sink: BinaryIO | None,
                  budget: _Budget) -> str | None:
    name = entry["path"]
    try:
        found = _stream(zf, zf.getinfo(name), sink, entry["size"], budget)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError) as exc:
        if sink is not None and isinstance(exc, OSError) and exc.errno is not None:
            raise  # writing failed (disk full...), not reading: open_bundle says so
        return f"damaged file: {printable(name)} cannot be read ({printable(exc)})"
    if found is None:
        return f"tampered file: {printable(name)} is larger than the manifest says"
    digest, size = found
    if size != entry["size"] or digest != entry["sha256"].lower():
        return (f"tampered file: {printable(name)} does not match its checksum in the manifest "
                f"(expected {entry['size']:,} bytes sha256 {printable(entry['sha256'][:12])}..., "
                f"found {size:,} bytes sha256 {digest[:12]}...)")
    return None


def verify(path: Path | str, *, max_total: int = MAX_TOTAL,
           max_ratio: float = MAX_RATIO) -> VerifyReport:
    """Check every file of the bundle against its manifest, writing nothing.

    Raises :class:`BundleError` only when the bundle cannot be checked at all (not a zip,
    truncated, too many members, no or invalid manifest); every other problem is listed in the
    report, each naming its file (escaped with :func:`printable`).
    """
    path = Path(path)
    with _open_zip(path) as zf:
        manifest = _read_manifest(zf, path)
        infos = zf.infolist()
        # (ZipInfo.is_dir() fails on an empty name)
        members = {i.filename: i for i in infos if not i.filename.endswith("/")}
        problems = _member_problems(infos, max_total=max_total, max_ratio=max_ratio)
        blocking, tampered, skip = _manifest_problems(manifest["files"], members,
                                                      max_total=max_total)
        # Decompress nothing unless the names and the declared sizes are sound.
        safe = not problems and not blocking
        problems += blocking + tampered
        paths = {f["path"] for f in manifest["files"]}
        for p in sorted(paths - set(members)):
            problems.append(f"missing file: {printable(p)} is listed in the manifest but not "
                            "in the bundle")
        for p in sorted(set(members) - paths - {MANIFEST}):
            problems.append(f"unexpected file: {printable(p)} is in the bundle but not in the "
                            "manifest")
        if safe:
            budget = _Budget(max_total, max_ratio)
            try:
                for entry in manifest["files"]:
                    if entry["path"] in members and entry["path"] not in skip:
                        problem = _check_member(zf, entry, None, budget)
                        if problem:
                            problems.append(problem)
                budget.finish()
            except BundleError as exc:
                problems.append(str(exc))
    return VerifyReport(ok=not problems, problems=problems, manifest=manifest)


# --- opening -------------------------------------------------------------------------------------


def default_dest(path: Path) -> Path:
    """``data_dir()/bundles/<name>-<first 10 hex of the zip's SHA-256>``."""
    from diagkit.config import data_dir

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in path.stem)[:60] or "bundle"
    return data_dir() / "bundles" / f"{stem}-{digest.hexdigest()[:10]}"


def open_bundle(path: Path | str, *, dest: Path | str | None = None, max_total: int = MAX_TOTAL,
                max_ratio: float = MAX_RATIO) -> OpenedBundle:
    """Verify ``path`` and extract it into ``dest`` (default :func:`default_dest`).

    Nothing is written unless every check passes; files are unpacked into a temporary folder
    beside ``dest`` and renamed into place. ``dest`` must not exist or be empty, except the
    default folder, which is replaced (it is the same bundle: its name holds the zip's hash).
    """
    path = Path(path)
    report = verify(path, max_total=max_total, max_ratio=max_ratio)
    if not report.ok:
        shown = "; ".join(report.problems[:10])
        more = f" (and {len(report.problems) - 10} more)" if len(report.problems) > 10 else ""
        raise BundleError(f"The bundle {printable(path)} failed verification and was not opened: "
                          f"{shown}{more}. Ask the sender for a fresh copy.")
    ours = dest is None
    try:
        target = default_dest(path) if dest is None else Path(dest).expanduser()
        existing = next((f for f in (target, *target.parents) if f.exists()), None)
        if existing is not None and not existing.is_dir():
            raise BundleError(f"{printable(existing)} is a file. Choose a folder to open the "
                              "bundle into.")
        if target.exists() and not ours and any(target.iterdir()):
            raise BundleError(f"The folder {printable(target)} is not empty. Choose an empty or "
                              "new folder so the bundle's files cannot be mixed with others.")
        private_dir(target.parent)  # data_dir()/bundles: customer data, owner only
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise BundleError(f"Cannot open the bundle {printable(path)} into "
                          f"{printable(dest or 'the data folder')}: "
                          f"{printable(exc.strerror or exc)}. Choose another folder.") from exc
    manifest = report.manifest
    try:
        _extract(path, manifest, staging, max_total, max_ratio)
        if ours:
            make_tree_private(staging)
        if target.exists():
            if ours:
                shutil.rmtree(target)
            else:
                target.rmdir()  # empty, checked above
        os.replace(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundleError(f"Cannot extract the bundle {printable(path)} into {printable(target)}: "
                          f"{printable(exc.strerror or exc)} ({printable(exc.filename or '')}). "
                          "Check the free space and permissions of that folder.") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logs = sorted(target / f["path"] for f in manifest["files"] if f["path"].startswith("logs/"))
    md = target / "report.md"
    return OpenedBundle(folder=target, manifest=manifest, report_html=target / "report.html",
                        logs=logs, report_md=md if md.is_file() else None)


def _extract(path: Path, manifest: dict[str, Any], root: Path, max_total: int,
             max_ratio: float) -> None:
    base = root.resolve()
    budget = _Budget(max_total, max_ratio)
    with _open_zip(path) as zf:
        # The zip may have been replaced since verify() read it: same manifest, or nothing.
        if _read_manifest(zf, path) != manifest:
            raise BundleError(f"The bundle {printable(path)} changed while it was opened: its "
                              "manifest is not the one verified. Open it again.")
        for entry in [*manifest["files"], {"path": MANIFEST}]:
            name = entry["path"]
            out = (base / name).resolve()
            # Belt and braces after _name_reason: the resolved path must stay inside.
            if not out.is_relative_to(base) or out == base:
                raise BundleError(f"The bundle {printable(path)} was not opened: {_q(name)} "
                                  "escapes the extraction folder. Ask the sender for the bundle "
                                  "as diagkit made it.")
            out.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            with os.fdopen(os.open(out, flags, 0o644), "wb") as sink:
                if name == MANIFEST:
                    sink.write(zf.read(MANIFEST))
                    continue
                # Re-check while writing: the members may have changed since verify() read them.
                problem = _check_member(zf, entry, sink, budget)
            if problem:
                raise BundleError(f"The bundle {printable(path)} changed while it was opened: "
                                  f"{problem}. Open it again.")
        budget.finish()
