"""Verify and open a bug-report bundle offline, treating the zip as hostile.

A bundle comes back from a developer, a ticket system or a USB stick: it may be damaged,
tampered with or crafted. :func:`verify` checks it without writing anything; :func:`open_bundle`
verifies and then extracts it, refusing

* names that escape the folder (``../x``, ``/etc/x``, ``C:\\x``, backslashes) and links;
* duplicate names (two members for one path: which one would be "the" file?);
* zip bombs: a cap on the total unpacked size and on each file's compression ratio, checked on
  the declared sizes *before* anything is decompressed and enforced again while reading;
* files missing from the manifest, listed but absent, or whose SHA-256 differs (named each time).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from diagkit.config import make_tree_private, private_dir
from diagkit.errors import BundleError
from diagkit.reports.bundle import MANIFEST, SCHEMA

#: Total unpacked size allowed (declared and actual).
MAX_TOTAL = 2 << 30
#: Largest uncompressed/compressed ratio allowed for one file (text logs reach ~20-50).
MAX_RATIO = 200
#: Files smaller than this are not ratio-checked (a tiny file of spaces is not a bomb).
RATIO_MIN_SIZE = 1 << 20
_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


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
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}


def _unsafe_reason(name: str) -> str | None:
    if not name or "\x00" in name:
        return "an empty or NUL-containing name"
    if "\\" in name:
        return "a backslash in its name (a Windows path)"
    if name.startswith("/") or _DRIVE.match(name):
        return "an absolute path"
    parts = PurePosixPath(name).parts
    if any(p == ".." for p in parts):
        return "a '..' component that escapes the folder"
    return None


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def _bad_type(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    # 0: made by a tool that stores no Unix mode (DOS attributes): a plain file.
    return kind not in (0, stat.S_IFREG, stat.S_IFDIR)


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise BundleError(f"There is no bundle at {path}. Check the path.")
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BundleError(f"The bundle is truncated or not a zip: {path} ({exc}). Download or "
                          "copy it again; diagkit bundles are .zip files.") from exc
    except OSError as exc:
        raise BundleError(f"Cannot read the bundle {path}: {exc.strerror or exc}.") from exc


def _read_manifest(zf: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        raise BundleError(f"{path} has no {MANIFEST}: it is not a diagkit bundle, or it was "
                          "damaged. Ask the sender for a fresh copy.") from None
    if info.file_size > 64 << 20:
        raise BundleError(f"The {MANIFEST} of {path} is implausibly large; refusing it.")
    try:
        doc = json.loads(zf.read(info).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise BundleError(f"The {MANIFEST} of {path} is damaged or not valid JSON ({exc}). "
                          "Ask the sender for a fresh copy.") from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise BundleError(f"{path} is not a {SCHEMA} bundle (its manifest says {found!r}). It "
                          "may come from a newer diagkit: update diagkit and try again.")
    files = doc.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("size"), int)
        and isinstance(f.get("sha256"), str) for f in files
    ):
        raise BundleError(f"The {MANIFEST} of {path} has no valid file list (each entry needs "
                          "path, size and sha256). Ask the sender for a fresh copy.")
    return doc


def _structure_problems(zf: zipfile.ZipFile, manifest: dict[str, Any], *, max_total: int,
                        max_ratio: float) -> tuple[list[str], bool]:
    """Problems found from the directory alone; second value: safe to decompress at all."""
    problems: list[str] = []
    safe = True
    seen: set[str] = set()
    total = 0
    for info in zf.infolist():
        name = info.filename
        reason = _unsafe_reason(name)
        if reason:
            problems.append(f"unsafe path: {name!r} has {reason}")
            safe = False
        if _is_link(info):
            problems.append(f"link refused: {name!r} is a symbolic link")
            safe = False
        elif _bad_type(info):
            problems.append(f"special file refused: {name!r} is not a regular file")
            safe = False
        key = name.rstrip("/")
        if key in seen:
            problems.append(f"duplicate name: {name!r} appears more than once")
            safe = False
        seen.add(key)
        total += info.file_size
        if (info.file_size >= RATIO_MIN_SIZE
                and info.file_size > max_ratio * max(info.compress_size, 1)):
            problems.append(f"zip bomb refused: {name!r} would expand {info.compress_size:,} "
                            f"bytes to {info.file_size:,} (ratio over {max_ratio:g})")
            safe = False
    if total > max_total:
        problems.append(f"zip bomb refused: the files would unpack to {total:,} bytes, more than "
                        f"the {max_total:,} allowed")
        safe = False
    listed = {f["path"] for f in manifest["files"]}
    for p in sorted(listed):
        reason = _unsafe_reason(p)
        if reason:
            problems.append(f"unsafe path in the manifest: {p!r} has {reason}")
            safe = False
    members = {i.filename for i in zf.infolist() if not i.is_dir()}
    for p in sorted(listed - members):
        problems.append(f"missing file: {p} is listed in the manifest but not in the bundle")
    for p in sorted(members - listed - {MANIFEST}):
        problems.append(f"unexpected file: {p} is in the bundle but not in the manifest")
    return problems, safe


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, sink: Any, limit: int) -> tuple[str, int]:
    """Decompress one member into ``sink`` (or nowhere), hashing it; never past ``limit`` bytes."""
    digest = hashlib.sha256()
    size = 0
    with zf.open(info) as src:
        while chunk := src.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise BundleError(f"zip bomb refused: {info.filename!r} unpacks to more than "
                                  f"{limit:,} bytes")
            digest.update(chunk)
            if sink is not None:
                sink.write(chunk)
    return digest.hexdigest(), size


def _check_member(zf: zipfile.ZipFile, entry: dict[str, Any], sink: Any, limit: int) -> str | None:
    name = entry["path"]
    try:
        digest, size = _stream(zf, zf.getinfo(name), sink, min(limit, entry["size"] + 1))
    except BundleError as exc:
        if entry["size"] + 1 <= limit:
            return f"tampered file: {name} is larger than the manifest says"
        return str(exc)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        return f"damaged file: {name} cannot be read ({exc})"
    if size != entry["size"] or digest != entry["sha256"].lower():
        return (f"tampered file: {name} does not match its checksum in the manifest "
                f"(expected {entry['size']:,} bytes sha256 {entry['sha256'][:12]}..., "
                f"found {size:,} bytes sha256 {digest[:12]}...)")
    return None


def verify(path: Path | str, *, max_total: int = MAX_TOTAL, max_ratio: float = MAX_RATIO) -> VerifyReport:
    """Check every file of the bundle against its manifest, writing nothing.

    Raises :class:`BundleError` only when the bundle cannot be checked at all (not a zip,
    truncated, no or invalid manifest); every other problem is listed in the report.
    """
    path = Path(path)
    with _open_zip(path) as zf:
        manifest = _read_manifest(zf, path)
        problems, safe = _structure_problems(zf, manifest, max_total=max_total, max_ratio=max_ratio)
        if safe:
            members = {i.filename for i in zf.infolist()}
            budget = max_total
            for entry in manifest["files"]:
                if entry["path"] not in members:
                    continue
                problem = _check_member(zf, entry, None, budget)
                if problem:
                    problems.append(problem)
                budget -= entry["size"]
    return VerifyReport(ok=not problems, problems=problems, manifest=manifest)


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
        raise BundleError(f"The bundle {path} failed verification and was not opened: "
                          f"{shown}{more}. Ask the sender for a fresh copy.")
    ours = dest is None
    target = default_dest(path) if dest is None else Path(dest).expanduser()
    if target.exists() and not ours:
        if not target.is_dir():
            raise BundleError(f"{target} is a file. Choose a folder to open the bundle into.")
        if any(target.iterdir()):
            raise BundleError(f"The folder {target} is not empty. Choose an empty or new folder "
                              "so the bundle's files cannot be mixed with others.")
    private_dir(target.parent)  # data_dir()/bundles: customer data, owner only
    manifest = report.manifest
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _extract(path, manifest, staging, max_total)
        if ours:
            make_tree_private(staging)
        if target.exists():
            if ours:
                shutil.rmtree(target)
            else:
                target.rmdir()  # empty, checked above
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logs = sorted(target / f["path"] for f in manifest["files"] if f["path"].startswith("logs/"))
    md = target / "report.md"
    return OpenedBundle(folder=target, manifest=manifest, report_html=target / "report.html",
                        logs=logs, report_md=md if md.is_file() else None)


def _extract(path: Path, manifest: dict[str, Any], root: Path, max_total: int) -> None:
    base = root.resolve()
    budget = max_total
    with _open_zip(path) as zf:
        for entry in [*manifest["files"], {"path": MANIFEST}]:
            name = entry["path"]
            out = (base / name).resolve()
            # Belt and braces after _unsafe_reason: the resolved path must stay inside.
            if not out.is_relative_to(base) or out == base:
                raise BundleError(f"unsafe path: {name!r} escapes the extraction folder")
            out.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            with os.fdopen(os.open(out, flags, 0o644), "wb") as sink:
                if name == MANIFEST:
                    sink.write(zf.read(MANIFEST))
                    continue
                # Re-check while writing: the zip may have changed since verify() read it.
                problem = _check_member(zf, entry, sink, budget)
            if problem:
                raise BundleError(f"The bundle {path} changed while it was opened: {problem}.")
            budget -= entry["size"]
