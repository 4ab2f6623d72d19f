"""Write a bug-report bundle: redact the whole model, render it, zip it with a manifest.

Order matters and is the point of this module: **every string of the model is redacted first**
(:func:`redact_bundle`), file names inside the zip are redacted, and only then is anything
rendered or written. The zip is written to a temporary file next to ``out`` and renamed into
place, so a crash never leaves a half-written bundle under the final name.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagkit import __version__
from diagkit.errors import BundleError
from diagkit.reports.model import Bundle

if TYPE_CHECKING:  # the redaction module is imported lazily: it is another engineer's part
    from diagkit.reports.redact import RedactOptions, Redactor

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


# --- redaction of the model ----------------------------------------------------------------------


def make_redactor(options: RedactOptions | None = None) -> Redactor:
    """A redactor with the engineer's private token map and remembered false positives."""
    from diagkit.reports.redact import FalsePositives, RedactOptions, Redactor, TokenMap

    return Redactor(options or RedactOptions(), token_map=TokenMap.load(),
                    false_positives=FalsePositives.load())


def redact_bundle(bundle: Bundle, redactor: Redactor) -> Bundle:
    """A copy of ``bundle`` with every string (and text attachment) passed through ``redactor``."""
    return _scrub(bundle, redactor, "report")


def _scrub(value: Any, r: Redactor, source: str) -> Any:
    if isinstance(value, str):
        return r.redact(value, source=source) if value else value
    if isinstance(value, (enum.Enum, bool, int, float, datetime)) or value is None:
        return value
    if isinstance(value, (bytes, bytearray)):
        return value  # binary payloads (PNG, attachments) are handled by their owners
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value).__name__
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            if (kind, f.name) in _NOT_TEXT or not f.init:
                continue
            old = getattr(value, f.name)
            if kind == "Attachment" and f.name == "data":
                new = _scrub_attachment(old, r, f"{source}/attachment")
            elif kind == "PlotImage" and f.name == "png":
                new = old
            elif (kind, f.name) in (("LogExcerpt", "source"), ("Attachment", "name"),
                                    ("PlotImage", "name")):
                new = _redact_path(r, old)
            elif kind == "LogExcerpt" and f.name == "lines":
                # One pass over the joined text: multi-line secrets (private key blocks) are
                # only recognisable whole, and one call is much faster than one per line.
                text = "\n".join(old)
                red = r.redact(text, source=f"log:{value.source}") if text else text
                new = old if red == text else tuple(red.split("\n"))
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
            # Redact "key=value" as one line so that key-based secret rules see the key
            # (a fact called "password" must have its value masked even though the value
            # alone looks harmless).
            line = r.redact(f"{k}={v}", source=source)
            prefix = f"{key}="
            out[key] = line[len(prefix):] if line.startswith(prefix) else r.redact(v, source=source)
        else:
            out[key] = _scrub(v, r, source)
    return out


def _scrub_attachment(data: bytes, r: Redactor, source: str) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Binary: redact what is readable as text byte for byte (latin-1 maps bytes 1:1), so a
        # secret inside a binary file is still masked. A replacement that cannot be written
        # back is refused rather than silently dropped.
        text = data.decode("latin-1")
        new = r.redact(text, source=source)
        if new == text:
            return data
        try:
            return new.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise BundleError(
                "A binary attachment contains text that must be redacted and cannot be "
                "rewritten safely. Remove the attachment or attach a text export of it."
            ) from exc
    new = r.redact(text, source=source)
    return data if new == text else new.encode("utf-8")


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
        raise BundleError(f"{out} is a folder. Give the bundle's file name, e.g. {out / 'bug.zip'}.")
    if not out.parent.is_dir():
        raise BundleError(f"The folder {out.parent} does not exist. Create it or choose another "
                          "place for the bundle.")
    report = progress or (lambda _m, _f: None)
    r = redactor if redactor is not None else make_redactor(options)

    # 1. Names inside the zip come from the ORIGINAL names through redact_name (file-name rules),
    #    then made safe; the contents come from the redacted model.
    report("Redacting", 0.0)
    names = _Names()
    host_paths = [names.add("data/probes", safe_name(_redact_path(r, h.name, name=True), default="host"), ".json")
                  for h in bundle.hosts]
    log_paths = []
    for n, excerpt in enumerate(bundle.logs, 1):
        base = _strip_ext(safe_name(_redact_path(r, Path(excerpt.source).name or "log", name=True),
                                    default="log"), ".log")
        log_paths.append(names.add("logs", f"{n}-{base}", ".log"))
    plot_paths = [names.add("plots", _strip_ext(safe_name(_redact_path(r, p.name, name=True), default="plot"),
                                                ".png"), ".png") for p in bundle.plots]
    attach_paths = [names.add("attachments", safe_name(_redact_path(r, a.name, name=True), default="attachment"))
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
    bundle_name = safe_name(out.name, default="bundle.zip")
    summary = dict(r.summary())
    view = _report_view(clean, log_paths)
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
                      redaction_summary=summary)


def _report_view(b: Bundle, log_paths: list[str]) -> Bundle:
    """The bundle as the reports show it: very long log excerpts cut to their last lines.

    The whole excerpt is in ``logs/``; a report page with millions of lines would be unusable
    (and slow to render), so it shows the end, where the failure usually is, and says so.
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
    return dataclasses.replace(b, logs=tuple(logs))


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
                  "note": x.note, "path": p} for x, p in zip(b.logs, log_paths, strict=True)],
        "plots": [{"name": x.name, "title": x.title, "path": p}
                  for x, p in zip(b.plots, plot_paths, strict=True)],
        "attachments": [{"name": x.name, "size": len(x.data), "path": p}
                        for x, p in zip(b.attachments, attach_paths, strict=True)],
        "journal": [{"time": j.time.isoformat(), "kind": j.kind, "text": j.text, "host": j.host,
                     "exit_status": j.exit_status} for j in b.journal],
    }


# --- collecting (CLI and wizard) -----------------------------------------------------------------


def collect_host(target: str, *, probes: list[str] | None = None,
                 accept_new_host_key: bool = False) -> tuple[Any, Any]:
    """Run the probes live on ``target`` (``local``, a saved host, an alias, ``user@host``).

    Returns ``(HostEnvironment, HostSnapshot)``; the system probe's facts become the host's
    environment. Connection problems raise the :mod:`diagkit.errors` transport errors.
    """
    from diagkit import session
    from diagkit.hosts import HostStore
    from diagkit.probes.registry import all_probes, select
    from diagkit.probes.runner import snapshot
    from diagkit.reports.model import HostEnvironment

    chosen, _problems = all_probes()
    if probes:
        chosen = select(chosen, probes)
    ref = session.resolve(target, HostStore())
    with session.connect(ref, accept_new_host_key=accept_new_host_key) as transport:
        snap = snapshot(transport, chosen)
    system = snap.result("system")
    facts = {str(k): str(v) for k, v in (system.data.facts if system else {}).items()}
    return HostEnvironment(name=ref.label, facts=facts, results=snap.results), snap


def log_excerpts(path: str | os.PathLike[str], *, lines: int = 200, context: int = 5) -> list[Any]:
    """Excerpts of one log (file, compressed file, rotated set or folder of logs).

    When the log has records at level *error* or worse, the excerpts are those records with
    ``context`` records before and after (overlapping windows merged), keeping the latest
    windows within ``lines`` lines; otherwise the last ``lines`` lines. Each excerpt's ``note``
    says which. Errors: :class:`~diagkit.errors.LogFormatError`.
    """
    from diagkit.logs.logfile import open_logs
    from diagkit.logs.model import Level
    from diagkit.reports.model import LogExcerpt

    found: list[LogExcerpt] = []
    for log in open_logs([path]):
        with log:
            count = log.record_count
            if not count:
                found.append(LogExcerpt(source=log.label, lines=(), first_line=1,
                                        note="the log is empty"))
                continue
            levels = log.levels()
            errors = [int(i) for i in (levels[:count] >= Level.ERROR).nonzero()[0]]
            if errors:
                windows: list[list[int]] = []
                for i in errors:
                    lo, hi = max(0, i - context), min(count - 1, i + context)
                    if windows and lo <= windows[-1][1] + 1:
                        windows[-1][1] = max(windows[-1][1], hi)
                    else:
                        windows.append([lo, hi])
                picked: list[LogExcerpt] = []
                budget = lines
                for lo, hi in reversed(windows):  # latest first: the end is what broke
                    if budget <= 0:
                        break
                    text: list[str] = []
                    for rec in log.records(lo, hi + 1):
                        text.extend(rec.raw.splitlines() or [""])
                    first = log.record(lo).first_line + 1
                    if len(text) > budget:
                        cut = len(text) - budget
                        text, first = text[cut:], first + cut
                    budget -= len(text)
                    n_err = sum(1 for i in errors if lo <= i <= hi)
                    picked.append(LogExcerpt(
                        source=log.label, lines=tuple(text), first_line=first,
                        note=f"{n_err} error record(s) with {context} record(s) of context"))
                found.extend(reversed(picked))
                if len(windows) > len(picked):
                    found[-1] = dataclasses.replace(
                        found[-1], note=found[-1].note + f"; {len(windows) - len(picked)} "
                        f"earlier error window(s) left out (--log-lines {lines})")
            else:
                text = []
                i = count - 1
                while i >= 0 and len(text) < lines:
                    text[:0] = log.record(i).raw.splitlines() or [""]
                    i -= 1
                first = log.record(i + 1).first_line + 1
                if len(text) > lines:
                    first += len(text) - lines
                    text = text[-lines:]
                found.append(LogExcerpt(source=log.label, lines=tuple(text), first_line=first,
                                        note=f"last {len(text)} line(s); no errors found"))
    return found
