"""Logs: recent error lines from the system log, counted per source.

Sources, first that works: the journal (``journalctl -p err --since -1h``, the last
``MAX_LINES`` entries of priority err and worse), else the tails of ``/var/log/syslog`` and
``/var/log/messages``, else of ``/var/log/*.log`` files, filtered for words like error, failed,
critical. The window differs by source: one hour for the journal, the last ``FILE_TAIL`` lines of
each file otherwise (``facts['window']`` says which). Files the user may not read are noted.

Application logs outside /var/log (a saved host's or its group's ``log_paths``, paths or globs)
are scanned too by the probe :func:`with_paths` builds: globs are expanded on the host by its
``sh``, each pattern passed single-quoted; at most ``APP_MAX_FILES`` files and the last
``APP_MAX_BYTES`` of each are read, and compressed or unreadable files are noted, not read.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from diagkit.probes import base
from diagkit.probes.base import Finding, Metric, Probe, ProbeData, Severity, Table

NAME = "logs"

#: Error lines fetched from the journal or from each main syslog file.
MAX_LINES = 200
#: Lines read from the end of each log file before filtering.
FILE_TAIL = 5000
#: Matching lines kept per secondary ``/var/log/*.log`` file, and how many such files.
PER_FILE_LINES = 20
MAX_FILES = 20
# Word-ish boundaries without \b (busybox grep -E): "libgpg-error0" in dpkg.log is not an error.
_GREP = r"(^|[^a-z0-9_-])(error|errors|failed|failure|fatal|critical|crit|panic|emerg|alert|segfault)([^a-z0-9_-]|$)"

SCRIPT = (
    r"""export LC_ALL=C
N="""
    + str(MAX_LINES)
    + "\nT="
    + str(FILE_TAIL)
    + "\nP="
    + str(PER_FILE_LINES)
    + "\nRE='"
    + _GREP
    + r"""'
echo "@@section source"
src=""
if command -v journalctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  j=$(journalctl -q -p err -n "$N" --no-pager -o short-iso --since "-1h" 2>&1)
  case "$j" in
    *"not seeing messages from other users"*)
      echo "@@note journalctl: this user may not read the system journal (add it to group adm or systemd-journal)" ;;
    "") src=journal ;;
    *) if printf '%s\n' "$j" | grep -q '^[0-9][0-9][0-9][0-9]-'; then src=journal
       else echo "@@note journalctl failed: $(printf '%s\n' "$j" | head -n 1)"; fi ;;
  esac
fi
if [ "$src" = journal ]; then
  echo "source=journal"
  echo "window=1h"
  echo "@@section journal"
  printf '%s\n' "$j" | grep '^[0-9][0-9][0-9][0-9]-' | tail -n "$N"
  exit 0
fi
echo "window=last $T lines per file"
main=""
for f in /var/log/syslog /var/log/messages; do
  [ -e "$f" ] || continue
  if [ -r "$f" ]; then main="$main $f"; else echo "@@note $f exists but is not readable (not root? group adm?)"; fi
done
if [ -n "$main" ]; then
  echo "source=syslog"
  for f in $main; do
    echo "@@section file:$f"
    tail -n "$T" "$f" 2>/dev/null | grep -aiE "$RE" | tail -n "$N"
  done
  exit 0
fi
echo "source=files"
k=0
for f in /var/log/*.log /var/log/*/*.log; do
  [ -f "$f" ] || continue
  case "$f" in
    */dpkg.log|*/alternatives.log|*/bootstrap.log|*/fontconfig.log|*/apt/*|*/installer/*) continue ;;
  esac
  if [ ! -r "$f" ]; then echo "@@note $f is not readable"; continue; fi
  k=$((k + 1))
  [ "$k" -le """
    + str(MAX_FILES)
    + r""" ] || { echo "@@note more than """
    + str(MAX_FILES)
    + r""" log files: the rest were not read"; break; }
  echo "@@section file:$f"
  tail -n "$T" "$f" 2>/dev/null | grep -aiE "$RE" | tail -n "$P"
done
[ "$k" -gt 0 ] || echo "@@note no journal and no readable log file in /var/log"
exit 0
"""
)

#: Application logs (``with_paths``): files read at most, bytes read from the end of each, and
#: matching lines kept per file.
APP_MAX_FILES = 20
APP_MAX_BYTES = 1 << 20
APP_LINES = 50
# Applications name their errors inside words ("OSError", "ConnectionRefusedError") and often
# write no level word at all ("connection refused", "No space left on device").
_APP_GREP = (r"error|exception|traceback|fatal|critical|panic|refused|no space left|denied|"
             r"timed out|timeout|unreachable|failed|failure|cannot |could not|out of memory")


def app_script(paths: Sequence[str]) -> str:
    """The ``sh`` that scans application logs: each of ``paths`` (absolute paths or globs) is
    expanded on the host, one ``@@section app:N`` per file: its path, then its error lines."""
    patterns = " ".join(shlex.quote(p) for p in paths)
    return (r"""export LC_ALL=C
ARE='""" + _APP_GREP + r"""'
nl='
'
n=0
for pat in """ + patterns + r"""; do
  found=
  # Expand the glob only: no splitting on blanks (paths with spaces), restored right after.
  IFS=$nl
  set -- $pat
  unset IFS
  for f in "$@"; do
    [ -e "$f" ] || continue
    found=1
    [ -f "$f" ] || { echo "@@note $f is not a regular file: not scanned"; continue; }
    case "$f" in
      *.gz|*.xz|*.bz2|*.zst|*.lz4|*.zip)
        echo "@@note $f is compressed: not scanned (fetch it with diagkit logs fetch)"; continue ;;
    esac
    if [ ! -r "$f" ]; then echo "@@note $f is not readable by this user"; continue; fi
    n=$((n + 1))
    if [ "$n" -gt MAXF ]; then
      echo "@@note more than MAXF application log files match: the rest were not read"; break 2
    fi
    echo "@@section app:$n"
    printf '%s
' "$f"
    tail -c MAXB "$f" 2>/dev/null | grep -aiE "$ARE" | tail -n LINES
  done
  [ -n "$found" ] || echo "@@note no file matches $pat"
done
""").replace("MAXF", str(APP_MAX_FILES)).replace("MAXB", str(APP_MAX_BYTES)).replace(
        "LINES", str(APP_LINES))


def with_paths(paths: Sequence[str]) -> Probe:
    """The logs probe that also scans these application logs (``PROBE`` itself when none)."""
    if not paths:
        return PROBE
    from diagkit.hosts import parse_log_paths

    return replace(PROBE, script=app_script(parse_log_paths(paths)) + SCRIPT)


def for_host(probes: Sequence[Probe], paths: Sequence[str]) -> list[Probe]:
    """``probes`` with the built-in logs probe replaced by one scanning ``paths`` too."""
    if not paths:
        return list(probes)
    return [with_paths(paths) if p is PROBE or (p.name == NAME and p.source == "builtin")
            else p for p in probes]


def for_saved_host(probes: Sequence[Probe], saved: object | None) -> list[Probe]:
    """``probes`` for a saved host (a :class:`~diagkit.hosts.SavedHost`, None for an ad-hoc
    target): the logs probe scans its and its group's ``log_paths`` too."""
    from diagkit.hosts import HostStore, SavedHost

    if not isinstance(saved, SavedHost):
        return list(probes)
    return for_host(probes, HostStore().log_paths(saved))


# --- reading: text -> LogsReading ---------------------------------------------------------------

# "2026-11-27T12:00:01+0000 host unit[123]: message" (journal short-iso, rsyslog RFC 3339)
_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+(?:[+-][\d:]+|Z)?)\s+\S+\s+([^:\[\s]+)(?:\[\d+\])?:\s?(.*)$")
# "Nov 27 12:00:01 host prog[123]: message" (classic syslog)
_BSD = re.compile(r"^(\w{3} +\d+ [\d:]{8})\s+\S+\s+([^:\[\s]+)(?:\[\d+\])?:\s?(.*)$")
# Any other log: a leading date or [date] if there is one.
_LEAD_TIME = re.compile(r"^\[?(\d{4}[-/]\d\d[-/]\d\d[ T][\d:.,]+(?:\s?[+-]\d\d:?\d\d|Z)?)\]?\s*(.*)$")

_NORMALISE = (
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE), "<uuid>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.IGNORECASE), "<hex>"),
    (re.compile(r"\b[0-9a-f]*\d[0-9a-f]*\b", re.IGNORECASE), "#"),
    (re.compile(r"\d+"), "#"),
)


def normalise(message: str) -> str:
    """The message with numbers, hex, IPs and UUIDs replaced, to group repeats."""
    for pattern, repl in _NORMALISE:
        message = pattern.sub(repl, message)
    return re.sub(r"\s+", " ", message).strip()


def split_line(line: str, default_source: str) -> tuple[str, str, str]:
    """``(time, source, message)`` of one log line."""
    for pattern in (_ISO, _BSD):
        m = pattern.match(line)
        if m:
            return m.group(1), m.group(2), m.group(3).strip()
    m = _LEAD_TIME.match(line)
    if m:
        return m.group(1), default_source, m.group(2).strip()
    return "", default_source, line.strip()


@dataclass(frozen=True)
class LogLine:
    """One error line."""

    time: str  # as the log wrote it; "" when the line has none
    source: str  # the program (syslog tag, journal identifier), else the file's name
    message: str
    file: str = ""  # the log file it came from; "" for the journal

    @property
    def signature(self) -> str:
        """``source: message`` with numbers, hex, IPs and UUIDs masked: repeats share it."""
        return f"{self.source}: {normalise(self.message)}"


@dataclass(frozen=True)
class LogsReading:
    source: str = "none"  # "journal", "syslog", "files" or "none"
    window: str = ""  # "1h" or "last N lines per file"
    lines: tuple[LogLine, ...] = ()
    notes: tuple[str, ...] = ()
    app_lines: tuple[LogLine, ...] = ()  # from application logs (``with_paths``)
    app_files: tuple[str, ...] = ()  # the application log files read

    @property
    def capped(self) -> bool:
        """The journal gave as many lines as were asked for: there may be more."""
        return self.source == "journal" and len(self.lines) >= MAX_LINES


def read(output: str) -> LogsReading:
    sections = base.split_sections(output)
    info = base.key_values(sections.get("source", ""))
    source = info.get("source", "none")
    lines: list[LogLine] = []
    if source == "journal":
        lines += (LogLine(*split_line(line, "journal"))
                  for line in sections.get("journal", "").splitlines() if line.strip())
    else:
        for name, text in sections.items():
            if not name.startswith("file:"):
                continue
            path = name[len("file:"):]
            file_name = path.rsplit("/", 1)[-1]
            lines += (LogLine(*split_line(line, file_name), file=path)
                      for line in text.splitlines() if line.strip())
    app_files: list[str] = []
    app_lines: list[LogLine] = []
    for name, text in sections.items():
        if not name.startswith("app:"):
            continue
        path, _, body = text.partition("\n")
        app_files.append(path)
        file_name = path.rsplit("/", 1)[-1]
        app_lines += (LogLine(*split_line(line, file_name), file=path)
                      for line in body.splitlines() if line.strip())
    return LogsReading(source, info.get("window", ""), tuple(lines), base.notes(output),
                       tuple(app_lines), tuple(app_files))


# --- describing: LogsReading -> metrics, table, facts -------------------------------------------


def describe(r: LogsReading) -> ProbeData:
    facts = {"source": r.source, "window": r.window}
    files = dict.fromkeys(line.file for line in r.lines if line.file)
    if files:
        facts["files"] = ", ".join(files)
    per_source = Counter(line.source for line in r.lines)
    metrics = [Metric("logs.error_lines", len(r.lines), "lines")]
    metrics += [Metric("logs.error_lines_by_source", n, "lines", {"source": s})
                for s, n in per_source.most_common()]
    table = Table("lines", "Recent error lines", ("time", "source", "message"),
                  [(line.time, line.source, line.message) for line in r.lines])
    tables = [table]
    if r.app_files:
        facts["app_files"] = ", ".join(r.app_files)
        metrics += [Metric("logs.app_error_lines", sum(1 for x in r.app_lines if x.file == f),
                           "lines", {"file": f}) for f in r.app_files]
        tables.append(Table("app_lines", "Error lines in application logs",
                            ("file", "time", "message"),
                            [(x.file, x.time, x.message) for x in r.app_lines]))
    return ProbeData(metrics=tuple(metrics), tables=tuple(tables), facts=facts, notes=r.notes)


# --- judging: LogsReading + thresholds -> findings ----------------------------------------------


@dataclass(frozen=True)
class LogsThresholds:
    error_lines_warning: int = 50  # more error lines than this in the window is a warning
    repeat_min: int = 3  # a message seen this many times is reported as the most frequent


THRESHOLDS = LogsThresholds()


def judge(r: LogsReading, limits: LogsThresholds) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    where = "in the last hour" if r.source == "journal" else f"in the {r.window}"
    if len(r.lines) > limits.error_lines_warning:
        per_source = Counter(line.source for line in r.lines)
        top = ", ".join(f"{s} ({n})" for s, n in per_source.most_common(5))
        findings.append(Finding(
            Severity.WARNING,
            f"High error rate in the system log: {len(r.lines)} error lines {where}"
            + (" (capped)" if r.capped else ""),
            f"Most lines come from: {top}.",
            "Start with the loudest source; 'journalctl -p err -S -1h -u UNIT' (or the file "
            "named) shows the full context around the first occurrence.",
            NAME,
        ))
    if r.lines:
        groups = Counter(line.signature for line in r.lines)
        example: dict[str, LogLine] = {}
        for line in r.lines:
            example.setdefault(line.signature, line)
        key, count = groups.most_common(1)[0]
        if count >= limits.repeat_min:
            first = example[key]
            findings.append(Finding(
                Severity.INFO,
                f"Most frequent error ({count}x) from {first.source}",
                f"{first.message[:300]}",
                "A message repeating this often is usually one cause: fix it first, the rest of "
                "the log gets much easier to read.",
                NAME,
            ))
    findings += _app_findings(r)
    return tuple(findings)


def _app_findings(r: LogsReading) -> list[Finding]:
    """One finding per application log with error lines, quoting the last ones (the newest
    usually says what the application is stuck on)."""
    out = []
    for path in r.app_files:
        lines = [x for x in r.app_lines if x.file == path]
        if not lines:
            continue
        last = [x.message[:200] for x in lines[-3:]]
        capped = " (at least; only the last lines were read)" if len(lines) >= APP_LINES else ""
        out.append(Finding(
            Severity.WARNING,
            f"{len(lines)} error lines in the application log {path}",
            f"{len(lines)} error lines{capped} in the last {APP_MAX_BYTES // 1024} KiB; the "
            "newest: " + " | ".join(last),
            f"Read them in context: 'diagkit logs {shlex.quote('HOST:' + path)}' fetches the "
            "file and opens it.",
            NAME,
        ))
    return out


parse = base.read_then_judge(read, describe, judge, THRESHOLDS)


def summarize(data: ProbeData) -> str:
    lines = data.metric("logs.error_lines", 0.0) or 0.0
    return f"{lines:.0f} error lines from {data.facts.get('source', '?')} ({data.facts.get('window', '?')})"


PROBE = Probe(
    name=NAME, title="System log errors", script=SCRIPT, parse=parse, summarize=summarize,
    timeout=15.0,
    description="Error lines of the last hour from the journal, or from /var/log when there is "
    "no journal; counts per source and the most repeated message.")
