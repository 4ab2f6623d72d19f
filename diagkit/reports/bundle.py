"""Write a bug-report bundle: redact the whole model, render it, zip it with a manifest.

Order matters and is the point of this module: **every string of the model is redacted first**
(:func:`redact_bundle`), file names inside the zip are redacted, and only then is anything
rendered or written. Log excerpts have their private key lines masked from blocks found in the
whole log before they were cut (:mod:`.keyblocks`; :func:`log_excerpts` for a log file,
:func:`record_excerpts` for records picked in the app); attachments are read as text in their
encoding or refused as binary unless allowed (:mod:`.textfiles`). The zip is written to a
temporary file next to ``out`` and renamed into place, so a crash never leaves a half-written
bundle under the final name.

Layout (see ``docs/bundle-format.md``)::

    manifest.json               schema, versions, created (UTC), files with size + SHA-256,
                                redaction counts per rule
    report.html                 one self-contained page
    report.md                   paste-ready issue body
    data/bundle.json            title, steps, expected/actual, journal, index of logs/plots...
    data/findings.json
    data/probes/<host>.json     facts and every probe result of one host
    logs/<n>-<name>.log         log excerpts (raw lines)
    plots/<name>.png
    attachments/<name>
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagkit import __version__
from diagkit.errors import BundleError
from diagkit.reports.model import Bundle

if TYPE_CHECKING:  # the redaction module is imported lazily: it is another engineer's part
    from diagkit.logs.model import Record
    from diagkit.reports.model import TimeWindow
    from diagkit.reports.redact import RedactOptions, Redactor
    from diagkit.reports.textfiles import TextFile

SCHEMA = "diagkit.bundle/1"
#: Log lines per excerpt shown in report.html / report.md (logs/ always has all of them).
REPORT_LOG_LINES = 2000
MANIFEST = "manifest.json"

#: ``progress(message, fraction)``; fraction runs from 0.0 to 1.0.
Progress = Callable[[str, float], None]

# Fields that are not free text: redacting them could only break them (a validated severity,
# our own version string, an exception class name).
_NOT_TEXT = {
    ("Bundle", "severity"),
    ("Bundle", "diagkit_version"),
    ("ProbeResult", "error_kind"),
}


@dataclass(frozen=True)
class BundleInfo:
    """What :func:`write_bundle` wrote."""

    path: Path
    files: tuple[str, ...]  # paths inside the zip, manifest.json last
    size: int  # bytes of the zip
    redaction_summary: dict[str, int]  # hits per rule; never values
    not_redacted: tuple[str, ...] = ()  # zip paths of binary attachments included as is


# --- redaction of the model ----------------------------------------------------------------------


def make_redactor(options: RedactOptions | None = None) -> Redactor:
    """A redactor with the engineer's private token map and remembered false positives."""
    from diagkit.reports.redact import FalsePositives, RedactOptions, Redactor, TokenMap

    return Redactor(options or RedactOptions(), token_map=TokenMap.load(),
                    false_positives=FalsePositives.load())


def redact_bundle(bundle: Bundle, redactor: Redactor) -> Bundle:
    """A copy of ``bundle`` with every string (and text attachment) passed through ``redactor``.

    Raises :class:`BundleError` for an attachment that cannot be scanned as text and was not
    allowed in as is (:attr:`Attachment.allow_binary`).
    """
    return _scrub(bundle, redactor, "report")


def _scrub(value: Any, r: Redactor, source: str) -> Any:
    if isinstance(value, str):
        return r.redact(_encodable(value), source=source) if value else value
    if isinstance(value, (enum.Enum, bool, int, float, datetime)) or value is None:
        return value
    if isinstance(value, (bytes, bytearray)):
        return value  # binary payloads (PNG, attachments) are handled by their owners
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value).__name__
        if kind == "Attachment":
            return _scrub_attachment(value, r, f"{source}/attachment")
        if kind == "LogExcerpt":
            return _scrub_excerpt(value, r)
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            if (kind, f.name) in _NOT_TEXT or not f.init:
                continue
            old = getattr(value, f.name)
            if kind == "PlotImage" and f.name == "png":
                new = old
            elif kind == "PlotImage" and f.name == "name":
                new = _redact_path(r, _encodable(old))
            elif kind == "Bundle" and f.name == "steps":
                new = _scrub_joined(old, r, source)
            elif kind == "Table" and f.name == "rows":
                new = _scrub_rows(value, r, source)
            else:
                new = _scrub(old, r, _source_for(kind, f.name, value, source))
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, Mapping):
        return _scrub_mapping(value, r, source)
    if isinstance(value, tuple):
        return tuple(_scrub(v, r, source) for v in value)
    if isinstance(value, list):
        return [_scrub(v, r, source) for v in value]
    return value


def _encodable(text: str) -> str:
    """``text`` without lone surrogates, which cannot be written as UTF-8 (a file name or an
    argument with bytes that are not UTF-8 arrives so: they are shown as ``\\xff``)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = text.encode("utf-8", "surrogatepass")
        return raw.decode("utf-8", "backslashreplace")


def _scrub_joined(lines: tuple[str, ...], r: Redactor, source: str) -> tuple[str, ...]:
    """Lines that belong together (the steps, often pasted from a terminal or a config file)
    redacted as ONE text, so a secret spread over lines (a key block, a JSON value on the line
    after its key) is seen whole. A masked key block becomes one line."""
    clean = tuple(_encodable(x) for x in lines)
    text = "\n".join(clean)
    red = r.redact(text, source=source) if text else text
    return clean if red == text else tuple(red.split("\n"))


def _scrub_rows(table: Any, r: Redactor, source: str) -> tuple[tuple[Any, ...], ...]:
    """Table cells redacted with their context: a cell is a value whose key is its column's
    title or the cell before it (``("DB_PASSWORD", "hunter2")``, a column called "password")."""
    columns = tuple(table.columns)
    rows = []
    for row in table.rows:
        cells = list(row)
        for i, cell in enumerate(row):
            if not isinstance(cell, str) or not cell:
                cells[i] = _scrub(cell, r, source)
                continue
            value = _encodable(cell)
            if i < len(columns) and isinstance(columns[i], str) and columns[i]:
                value = _redact_value(r, _encodable(columns[i]), value, source)
            else:
                value = r.redact(value, source=source)
            if i > 0 and isinstance(row[i - 1], str) and row[i - 1]:
                value = _redact_value(r, _encodable(row[i - 1]), value, source)
            cells[i] = value
        rows.append(tuple(cells))
    return tuple(rows)


def _redact_value(r: Redactor, key: str, value: str, source: str, *,
                  redacted_key: str | None = None) -> str:
    """``value`` redacted as the value of ``key`` (``key=value`` as one line, so that key-based
    secret rules see the key; a fact called "password" has its value masked even though the
    value alone looks harmless). The line's key part is expected as ``redacted_key`` (the key
    redacted alone, when the caller has it) or as ``key``; when the key came out otherwise, the
    value is redacted alone."""
    line = r.redact(f"{key}={value}", source=source)
    prefix = f"{key if redacted_key is None else redacted_key}="
    return line[len(prefix):] if line.startswith(prefix) else r.redact(value, source=source)


def _source_for(kind: str, name: str, value: Any, source: str) -> str:
    # The preview groups hits by source: name the place in the bundle a string ends up in.
    if kind == "HostEnvironment":
        return "host"
    if kind == "ProbeResult":
        return f"probe:{value.probe}"
    if kind == "LogExcerpt":
        return f"log:{value.source}"
    if kind == "JournalEntry":
        return "journal"
    if kind == "PlotImage":
        return "plot"
    return source


def _scrub_mapping(value: Mapping[Any, Any], r: Redactor, source: str) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for k, v in value.items():
        key = _scrub(k, r, source)
        if isinstance(k, str) and isinstance(v, str) and v:
            out[key] = _redact_value(r, _encodable(k), _encodable(v), source, redacted_key=key)
        else:
            out[key] = _scrub(v, r, source)
    return out


def _scrub_excerpt(x: Any, r: Redactor) -> Any:
    """A log excerpt: key blocks cut by its edges masked (:func:`keyblocks.mask_excerpt`: the
    fallback for excerpts not cut by :func:`log_excerpts`, which finds blocks in the whole log),
    then its lines redacted as one text (multi-line secrets are only recognisable whole, and one
    call is much faster than one per line)."""
    from diagkit.reports import keyblocks

    source = f"log:{x.source}"
    lines = x.lines
    text = "\n".join(lines)
    if _encodable(text) is not text:
        lines = tuple(_encodable(line) for line in lines)
    masked, runs = keyblocks.mask_excerpt(lines)
    note = x.note
    keys = x.masked_keys
    if runs:
        lines = tuple(masked)
        found = tuple((x.first_line + a, x.first_line + b) for a, b in runs)
        keys = keys + found
        note = keyblocks.with_key_note(note, found)
    text = "\n".join(lines)
    red = r.redact(text, source=source) if text else text
    return dataclasses.replace(
        x, source=_redact_path(r, _encodable(x.source)),
        lines=lines if red == text else tuple(red.split("\n")),
        note=r.redact(_encodable(note), source=source) if note else note, masked_keys=keys)


def check_attachment(name: str, data: bytes, *, allow_binary: bool = False) -> TextFile:
    """How attachment ``name`` will be read (see :mod:`diagkit.reports.textfiles`).

    Raises :class:`BundleError` when it cannot be scanned as text and ``allow_binary`` is off:
    the CLI and the wizard call this as soon as a file is chosen, before any probe runs.
    """
    from diagkit.reports.textfiles import read_text

    found = read_text(data)
    if found.text is None and not allow_binary:
        raise BundleError(
            f"The attachment {_encodable(name)} cannot be scanned as text: {found.why}. Secrets "
            "in it could not be found or masked, so it was refused. Attach a text export of it "
            f"instead, or include it as is, NOT redacted, with --attach-binary {_encodable(name)} "
            "(in the wizard: 'Include binary files as is, not redacted')."
        )
    return found


def _scrub_attachment(att: Any, r: Redactor, source: str) -> Any:
    from diagkit.reports.textfiles import BINARY, label

    found = check_attachment(att.name, att.data, allow_binary=att.allow_binary)
    name = _redact_path(r, _encodable(att.name))
    if found.text is None:
        return dataclasses.replace(
            att, name=name, encoding=BINARY,
            note=f"binary: {found.why}; included as is on request (--attach-binary)")
    red = r.redact(found.text, source=source)
    out = found.output_encoding
    assert out is not None
    note = ""
    if out != found.encoding:
        note = f"{found.why}; redacted and written as UTF-8"
    elif found.encoding == "latin-1":
        note = "8-bit text, not UTF-8: read as Latin-1 and written back byte for byte"
    if red == found.text and out == found.encoding:
        data = att.data  # nothing masked: the file exactly as it was
    else:
        try:
            data = red.encode(out)
        except UnicodeEncodeError:  # a token the 8-bit encoding cannot hold: UTF-8 then
            data = red.encode("utf-8")
            note = f"{label(found.encoding)} text, redacted and written as UTF-8"
    return dataclasses.replace(att, name=name, data=data, encoding=found.encoding, note=note)


def _redact_path(r: Redactor, text: str, *, name: bool = False) -> str:
    """Redact a path or file name one component at a time, the extension apart.

    A host name followed by ``.log`` reads as a longer, unknown domain to the host rule;
    redacting ``db1.corp.net`` and ``.log`` separately keeps the file name's host maskable.
    """
    redact = r.redact_name if name else (lambda t: r.redact(t, source="file name"))
    whole = redact(text)
    parts = []
    for part in whole.split("/"):
        stem, dot, ext = part.rpartition(".")
        if dot and stem and 0 < len(ext) <= 5 and ext.isalnum():
            parts.append(redact(stem) + "." + ext)
        else:
            parts.append(part)
    return "/".join(parts)


# --- file names ----------------------------------------------------------------------------------

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_name(name: str, *, default: str = "file", max_len: int = 80) -> str:
    """One path component that is safe in a zip and on every OS (no separators, no ``..``)."""
    name = unicodedata.normalize("NFC", name)
    name = _UNSAFE.sub("_", name).strip(" .")
    name = name.replace("..", "_")
    if not name:
        name = default
    if len(name) > max_len:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: max_len - len(ext) - 1] + "." + ext
        else:
            name = name[:max_len]
    return name


class _Names:
    """Unique zip paths (case-insensitively, for Windows and macOS extractors)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def add(self, folder: str, name: str, ext: str = "") -> str:
        base = f"{folder}/{name}" if folder else name
        path, n = base + ext, 2
        while path.lower() in self._seen:
            path, n = f"{base}-{n}{ext}", n + 1
        self._seen.add(path.lower())
        return path


def _strip_ext(name: str, ext: str) -> str:
    return name[: -len(ext)] if name.lower().endswith(ext) else name


# --- writing -------------------------------------------------------------------------------------


def write_bundle(
    bundle: Bundle,
    out: Path,
    *,
    options: RedactOptions | None = None,
    redactor: Redactor | None = None,
    progress: Progress | None = None,
    markdown_max_bytes: int = 60000,
) -> BundleInfo:
    """Redact, render and write ``bundle`` to ``out`` (a ``.zip``) atomically.

    ``redactor`` (e.g. the wizard's, holding the engineer's false positives) wins over
    ``options``; by default a redactor with ``options`` and the private token map is used. The
    token map is saved afterwards so ``diagkit bundle unredact`` can reverse the tokens.
    Errors: :class:`BundleError`.
    """
    from diagkit.reports.render import render_html, render_markdown

    out = Path(out)
    if out.is_dir():
        raise BundleError(f"{out} is a folder. Give the bundle's file name, e.g. "
                          f"{out / 'bug.zip'}.")
    if not out.parent.is_dir():
        raise BundleError(f"The folder {out.parent} does not exist. Create it or choose another "
                          "place for the bundle.")
    report = progress or (lambda _m, _f: None)
    r = redactor if redactor is not None else make_redactor(options)

    # 1. Names inside the zip come from the ORIGINAL names through redact_name (file-name rules),
    #    then made safe; the contents come from the redacted model.
    report("Redacting", 0.0)
    names = _Names()
    def zip_name(text: str, default: str) -> str:
        return safe_name(_redact_path(r, _encodable(text), name=True), default=default)

    host_paths = [names.add("data/probes", zip_name(h.name, "host"), ".json") for h in bundle.hosts]
    log_paths = []
    for n, excerpt in enumerate(bundle.logs, 1):
        base = _strip_ext(zip_name(Path(excerpt.source).name or "log", "log"), ".log")
        log_paths.append(names.add("logs", f"{n}-{base}", ".log"))
    plot_paths = [names.add("plots", _strip_ext(zip_name(p.name, "plot"), ".png"), ".png")
                  for p in bundle.plots]
    attach_paths = [names.add("attachments", zip_name(a.name, "attachment"))
                    for a in bundle.attachments]
    for fixed in ("report.html", "report.md", "data/bundle.json", "data/findings.json", MANIFEST):
        names.add("", fixed)

    clean = redact_bundle(bundle, r)
    report("Rendering", 0.4)

    files: list[tuple[str, bytes, int]] = []  # (path, data, compression)
    deflate, stored = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
    data_files: list[tuple[str, bytes, int]] = [
        ("data/bundle.json", _json(_bundle_doc(clean, log_paths, plot_paths, attach_paths,
                                               host_paths)), deflate),
        ("data/findings.json", _json({"findings": [f.to_dict() for f in clean.findings]}), deflate),
    ]
    for path, host in zip(host_paths, clean.hosts, strict=True):
        data_files.append((path, _json({"host": host.name, "facts": dict(host.facts),
                                        "results": [x.to_dict() for x in host.results]}), deflate))
    for path, excerpt in zip(log_paths, clean.logs, strict=True):
        text = "\n".join(excerpt.lines) + ("\n" if excerpt.lines else "")
        data_files.append((path, text.encode("utf-8", "surrogateescape"), deflate))
    for path, plot in zip(plot_paths, clean.plots, strict=True):
        data_files.append((path, plot.png, stored))  # PNG is compressed already
    for path, att in zip(attach_paths, clean.attachments, strict=True):
        data_files.append((path, att.data, deflate))

    listed = ["report.html", "report.md"] + [p for p, _, _ in data_files]
    bundle_name = safe_name(_redact_path(r, _encodable(out.name), name=True), default="bundle.zip")
    summary = dict(r.summary())
    # key blocks masked line by line (keyblocks) count as private keys too, one per block
    blocks = sum(len(x.masked_keys) for x in clean.logs)
    if blocks:
        summary["private_key"] = summary.get("private_key", 0) + blocks
        summary = dict(sorted(summary.items()))
    not_redacted = tuple(p for p, a in zip(attach_paths, clean.attachments, strict=True)
                         if a.unredacted)
    view = _report_view(clean, log_paths, attach_paths)
    html = render_html(view, files=listed, redaction=summary)
    md = render_markdown(view, max_bytes=markdown_max_bytes, bundle_name=bundle_name,
                         files=listed, redaction=summary)
    files.append(("report.html", html.encode("utf-8"), deflate))
    files.append(("report.md", md.encode("utf-8"), deflate))
    files.extend(data_files)

    opts = getattr(r, "options", options)
    manifest = {
        "schema": SCHEMA,
        "diagkit_version": __version__,
        "created": clean.created.astimezone(UTC).isoformat(timespec="seconds"),
        "title": clean.title,
        "files": [{"path": p, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                  for p, d, _ in files],
        "redaction": summary,
        # binary attachments the engineer included as is: NOT redacted
        "not_redacted": list(not_redacted),
        # Which rules were on; user keywords are themselves sensitive, so only their number.
        "options": {"obfuscate": sorted(getattr(opts, "obfuscate", ()) or ()),
                    "keywords": len(getattr(opts, "keywords", ()) or ())},
    }
    files.append((MANIFEST, _json(manifest), deflate))

    report("Writing", 0.6)
    total = sum(len(d) for _, d, _ in files) or 1
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
                done = 0
                for path, data, method in files:
                    info = zipfile.ZipInfo(path, date_time=_zip_time(clean.created))
                    info.compress_type = method
                    info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
                    zf.writestr(info, data, compress_type=method,
                                compresslevel=6 if method == deflate else None)
                    done += len(data)
                    report("Writing", 0.6 + 0.4 * done / total)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BundleError(f"Could not write the bundle {out}: {exc.strerror or exc}. Check the "
                          "free space and permissions of that folder.") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    r.save()
    report("Done", 1.0)
    return BundleInfo(path=out, files=tuple(p for p, _, _ in files), size=out.stat().st_size,
                      redaction_summary=summary, not_redacted=not_redacted)


def _report_view(b: Bundle, log_paths: list[str], attach_paths: list[str]) -> Bundle:
    """The bundle as the reports show it: very long log excerpts cut to their last lines, and
    attachments under the names they have in the zip.

    The whole excerpt is in ``logs/``; a report page with millions of lines would be unusable
    (and slow to render), so it shows the end, where the failure usually is, and says so. The
    excerpt is already redacted, key blocks included, so the cut cannot uncover a key's lines.
    """
    logs = []
    for x, path in zip(b.logs, log_paths, strict=True):
        if len(x.lines) > REPORT_LOG_LINES:
            cut = len(x.lines) - REPORT_LOG_LINES
            note = (f"{x.note}; " if x.note else "") + (
                f"the report shows the last {REPORT_LOG_LINES:,} of {len(x.lines):,} lines; "
                f"all of them are in {path}")
            x = dataclasses.replace(x, lines=x.lines[cut:], first_line=x.first_line + cut,
                                    note=note)
        logs.append(x)
    attachments = tuple(dataclasses.replace(a, name=p.split("/", 1)[1])
                        for a, p in zip(b.attachments, attach_paths, strict=True))
    return dataclasses.replace(b, logs=tuple(logs), attachments=attachments)


def _zip_time(created: datetime) -> tuple[int, int, int, int, int, int]:
    t = created.astimezone(UTC)
    return (max(1980, t.year), t.month, t.day, t.hour, t.minute, t.second)


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _bundle_doc(b: Bundle, log_paths: list[str], plot_paths: list[str],
                attach_paths: list[str], host_paths: list[str]) -> dict[str, Any]:
    """The model minus bulky parts, with the zip path of each log, plot, attachment and host."""
    return {
        "title": b.title,
        "summary": b.summary,
        "severity": b.severity,
        "created": b.created.isoformat(),
        "case": b.case,
        "diagkit_version": b.diagkit_version,
        "steps": list(b.steps),
        "expected": b.expected,
        "actual": b.actual,
        "hosts": [{"name": h.name, "facts": dict(h.facts), "path": p}
                  for h, p in zip(b.hosts, host_paths, strict=True)],
        "logs": [{"source": x.source, "first_line": x.first_line, "lines": len(x.lines),
                  "note": x.note, "path": p,
                  "masked_private_key_lines": [list(run) for run in x.masked_keys],
                  "first_time": x.first_time.isoformat() if x.first_time else None}
                 for x, p in zip(b.logs, log_paths, strict=True)],
        "plots": [{"name": x.name, "title": x.title, "path": p}
                  for x, p in zip(b.plots, plot_paths, strict=True)],
        "attachments": [_attachment_doc(x, p)
                        for x, p in zip(b.attachments, attach_paths, strict=True)],
        "journal": [{"time": j.time.isoformat(), "kind": j.kind, "text": j.text, "host": j.host,
                     "exit_status": j.exit_status} for j in b.journal],
        "product": b.product,
        "product_version": b.product_version,
        "customer_ref": b.customer_ref,
        "window": ({"start": b.window.start.isoformat(), "end": b.window.end.isoformat()}
                   if b.window else None),
        "timeline": [{"time": e.time.isoformat(), "kind": e.kind, "text": e.text, "ref": e.ref,
                      "host": e.host} for e in b.timeline],
    }


def _attachment_doc(a: Any, path: str) -> dict[str, Any]:
    from diagkit.reports.textfiles import TextFile

    stored = TextFile(a.encoding, "", "").output_encoding if not a.unredacted else None
    return {"name": a.name, "size": len(a.data), "path": path, "redacted": not a.unredacted,
            "encoding": a.encoding, "stored_encoding": stored, "note": a.note}


# --- collecting (CLI and wizard) -----------------------------------------------------------------


def collect_host(target: str, *, probes: list[str] | None = None,
                 accept_new_host_key: bool = False,
                 window: TimeWindow | None = None) -> tuple[Any, Any]:
    """Run the probes live on ``target`` (``local``, a saved host, an alias, ``user@host``).

    Returns ``(HostEnvironment, HostSnapshot)``; the system probe's facts become the host's
    environment. With a ``window`` that starts earlier than the changes probe looks back, that
    probe looks back to it. Connection problems raise the :mod:`diagkit.errors` transport errors.
    """
    from diagkit import session
    from diagkit.hosts import HostStore
    from diagkit.probes.registry import all_probes, select
    from diagkit.probes.runner import snapshot
    from diagkit.reports.model import HostEnvironment

    chosen, _problems = all_probes()
    if probes:
        chosen = select(chosen, probes)
    if window is not None:
        from diagkit.reports.window import changes_probe_for

        chosen = [changes_probe_for(window) if p.name == "changes" else p for p in chosen]
    ref = session.resolve(target, HostStore())
    with session.connect(ref, accept_new_host_key=accept_new_host_key) as transport:
        snap = snapshot(transport, chosen)
    system = snap.result("system")
    facts = {str(k): str(v) for k, v in (system.data.facts if system else {}).items()}
    return HostEnvironment(name=ref.label, facts=facts, results=snap.results), snap


def log_excerpts(path: str | os.PathLike[str], *, lines: int = 200, context: int = 5,
                 window: TimeWindow | None = None) -> list[Any]:
    """Excerpts of one log (file, compressed file, rotated set or folder of logs).

    With a ``window``, the excerpts are the records inside it and the warnings just before it
    (:func:`diagkit.reports.window.window_excerpts_of`). Otherwise, when the log has records at
    level *error* or worse, the excerpts are those records with ``context`` records before and
    after (overlapping windows merged), keeping the latest windows within ``lines`` lines;
    otherwise the last ``lines`` lines. Each excerpt's note says which.

    Private key blocks are found in the WHOLE log first (:mod:`diagkit.reports.keyblocks`), and
    the lines of a window that fall inside one are masked, wherever the window starts or ends.
    A UTF-16 or UTF-32 log is read as such (through a UTF-8 copy in a temporary folder).
    Errors: :class:`~diagkit.errors.LogFormatError`.
    """
    from diagkit.logs.logfile import open_logs

    def excerpts_of(log: Any) -> list[Any]:
        if window is None:
            return _excerpts_of(log, lines=lines, context=context)
        from diagkit.reports.window import window_excerpts_of

        return list(window_excerpts_of(log, window, lines=lines))

    found: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="diagkit-log-") as tmp:
        for log in open_logs([path]):
            with log:
                wide = _wide_log(log, Path(tmp))
                if wide is None:
                    found.extend(excerpts_of(log))
                    continue
                copy, how = wide
                from diagkit.logs.logfile import LogFile

                with LogFile.open(copy, label=log.label) as converted:
                    for x in excerpts_of(converted):
                        found.append(dataclasses.replace(x, note=f"{x.note}; {how}"))
    return found


def _wide_log(log: Any, tmp: Path) -> tuple[Path, str] | None:
    """A UTF-8 copy of ``log`` in ``tmp`` when it is UTF-16/32 text, and a note saying so."""
    import codecs

    from diagkit.logs.logfile import COMPRESSED
    from diagkit.reports.textfiles import SNIFF_BYTES, label, sniff_wide

    def opener(part: Path) -> Any:
        kind = COMPRESSED.get(part.suffix.lower())
        if kind == "gzip":
            import gzip
            return gzip.open(part, "rb")
        if kind == "bzip2":
            import bz2
            return bz2.open(part, "rb")
        if kind == "xz":
            import lzma
            return lzma.open(part, "rb")
        return open(part, "rb")

    codecs_found = []
    for part in log.segments:
        try:
            with opener(part) as fh:
                codecs_found.append(sniff_wide(fh.read(SNIFF_BYTES)))
        except (OSError, EOFError, ValueError):
            codecs_found.append(None)  # unreadable here: the LogFile said so already
    if not any(codecs_found):
        return None
    copy = tmp / f"{len(list(tmp.iterdir()))}.log"
    names = []
    try:
        with open(copy, "w", encoding="utf-8", newline="") as out:
            for part, wide in zip(log.segments, codecs_found, strict=True):
                codec, bom = wide if wide else ("utf-8", False)
                names.append(label(codec))
                decoder = codecs.getincrementaldecoder(codec)("replace")
                with opener(part) as fh:
                    first = True
                    while block := fh.read(1 << 20):
                        text = decoder.decode(block)
                        if first and bom and text.startswith("\ufeff"):
                            text = text[1:]
                        first = False
                        out.write(text)
                    out.write(decoder.decode(b"", final=True))
    except (OSError, EOFError, ValueError) as exc:
        from diagkit.errors import LogFormatError

        raise LogFormatError(f"Cannot read {log.label} as {names[-1] if names else 'text'}: "
                             f"{exc}. Convert it to UTF-8 (iconv) and give that file.") from exc
    how = ", ".join(sorted(set(names)))
    return copy, f"read as {how} and converted to UTF-8"


def record_excerpts(records: Sequence[Record]) -> list[Any]:
    """Log records picked by hand (the app's log viewer) as excerpts, one per run of adjacent
    records of a log, in line order, with the lines inside private key blocks masked as
    :func:`log_excerpts` masks them: each log is opened again by its label (the file, or the
    rotated set, it was opened as) and its key blocks are found in the WHOLE log, since a
    selection of a key's body lines alone shows no BEGIN or END line. It reads and indexes
    every log: run it off the GUI thread.

    Errors: :class:`~diagkit.errors.LogFormatError` when a log cannot be opened again, or no
    longer holds the records (rotated or rewritten since they were picked).
    """
    from diagkit.errors import LogFormatError
    from diagkit.logs.logfile import open_logs
    from diagkit.reports import keyblocks

    by_log: dict[str, list[Record]] = {}
    for rec in records:
        by_log.setdefault(rec.file, []).append(rec)
    found: list[Any] = []
    for label, picked in by_log.items():
        picked = sorted({r.first_line: r for r in picked}.values(), key=lambda r: r.first_line)
        again = ("Set the records aside again from the log as it is now, or leave the log "
                 "records out of the bug report.")
        try:
            logs = open_logs([label])
        except LogFormatError as exc:
            raise LogFormatError(f"Cannot read {label} again to look for private keys around "
                                 f"the {len(picked)} record(s) set aside from it: {exc} "
                                 f"{again}") from exc
        try:
            log = logs[0]
            for rec in picked:
                shown = rec.raw.split("\n", 1)[0]
                if rec.first_line >= log.line_count or log.line_text(rec.first_line) != shown:
                    raise LogFormatError(
                        f"{label} has changed since its records were set aside: line "
                        f"{rec.first_line + 1} is no longer the one picked, so private keys "
                        f"around the records cannot be found. {again}")
            blocks = keyblocks.find_blocks(log)  # the whole log, not just the picked lines
            runs: list[list[Record]] = []
            for rec in picked:
                if runs and rec.first_line == runs[-1][-1].last_line + 1:
                    runs[-1].append(rec)
                else:
                    runs.append([rec])
            for run in runs:
                texts: list[str] = []
                numbers: list[int | None] = []
                for rec in run:
                    t, n = keyblocks.record_lines(rec)
                    texts += t
                    numbers += n
                found.append(keyblocks.excerpt(log, texts, numbers, blocks,
                                      f"{len(run)} record(s) selected in the log viewer"))
        finally:
            for log in logs:
                log.close()
    return found


def _excerpts_of(log: Any, *, lines: int, context: int) -> list[Any]:
    from diagkit.logs.model import Level
    from diagkit.reports import keyblocks
    from diagkit.reports.model import LogExcerpt

    count = log.record_count
    if not count:
        return [LogExcerpt(source=log.label, lines=(), first_line=1, note="the log is empty")]
    blocks = keyblocks.find_blocks(log)  # over the whole log, before any window is cut
    levels = log.levels()
    errors = [int(i) for i in (levels[:count] >= Level.ERROR).nonzero()[0]]
    found: list[Any] = []
    if errors:
        windows: list[list[int]] = []
        for i in errors:
            lo, hi = max(0, i - context), min(count - 1, i + context)
            if windows and lo <= windows[-1][1] + 1:
                windows[-1][1] = max(windows[-1][1], hi)
            else:
                windows.append([lo, hi])
        picked: list[Any] = []
        budget = lines
        for lo, hi in reversed(windows):  # latest first: the end is what broke
            if budget <= 0:
                break
            texts: list[str] = []
            numbers: list[int | None] = []
            for rec in log.records(lo, hi + 1):
                t, n = keyblocks.record_lines(rec)
                texts.extend(t)
                numbers.extend(n)
            if len(texts) > budget:
                cut = len(texts) - budget
                texts, numbers = texts[cut:], numbers[cut:]
            budget -= len(texts)
            n_err = sum(1 for i in errors if lo <= i <= hi)
            picked.append(keyblocks.excerpt(log, texts, numbers, blocks,
                                   f"{n_err} error record(s) with {context} record(s) of context"))
        found.extend(reversed(picked))
        if len(windows) > len(picked):
            found[-1] = dataclasses.replace(
                found[-1], note=found[-1].note + f"; {len(windows) - len(picked)} "
                f"earlier error window(s) left out (--log-lines {lines})")
        return found
    texts, numbers = [], []
    i = count - 1
    while i >= 0 and len(texts) < lines:
        t, n = keyblocks.record_lines(log.record(i))
        texts[:0] = t
        numbers[:0] = n
        i -= 1
    if len(texts) > lines:
        texts, numbers = texts[-lines:], numbers[-lines:]
    return [keyblocks.excerpt(log, texts, numbers, blocks,
                     f"last {len(texts)} line(s); no errors found")]
