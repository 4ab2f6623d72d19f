"""User probes: your own scripts, run on the target like the built-in probes.

Put an **executable** file in the user probes folder (:func:`diagkit.config.user_probes_dir`,
on Linux ``~/.config/diagkit/probes/``) with a header line among its first lines::

    #!/bin/sh
    # diagkit-probe: name=disk-latency title="Disk latency" timeout=10 description="fio-less check"

The header is parsed with :mod:`shlex` (quote values with spaces). ``name`` is required (lower
case letters, digits, ``-`` and ``_``; it may not reuse a built-in probe's name); ``title``
defaults to the name, ``timeout`` to 15 seconds.

**How it runs.** The file's *content* is sent to the target on stdin; nothing is copied there.
The shebang picks the interpreter (see :func:`command_for`): ``sh``-family shebangs (sh, bash,
dash, ash, ksh, zsh) or none run as ``SHELL -s``; any other (``#!/usr/bin/env python3``,
``#!/usr/bin/perl -w``) runs as ``INTERPRETER [ARGS] -``, reading the program from stdin. The
interpreter must exist on the *target* machine; diagkit does not install anything there.

**What it prints.** Either

* a JSON object (stdout starting with ``{``)::

    {"metrics":  [{"name": "latency", "value": 3.2, "unit": "ms", "labels": {"dev": "sda"}}],
     "findings": [{"severity": "warning", "title": "...", "detail": "...", "hint": "..."}],
     "facts":    {"key": "value"},
     "tables":   [{"name": "t", "title": "T", "columns": ["a", "b"], "rows": [[1, 2]]}],
     "notes":    ["what could not be checked"]}

  every key optional; anything malformed raises :class:`~diagkit.errors.ProbeError` naming the
  probe and the fault; or
* plain text, kept as raw output, where lines starting with ``CRITICAL:``, ``WARNING:`` or
  ``INFO:`` become findings (the text after the colon is the title; an optional
  `` -- hint`` part becomes the hint) and ``@@note TEXT`` lines become notes.
"""

from __future__ import annotations

import functools
import json
import os
import pkgutil
import re
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from diagkit import config
from diagkit.errors import ProbeError
from diagkit.probes.base import (
    Finding,
    Metric,
    Probe,
    ProbeData,
    Severity,
    Table,
    notes,
)

#: Header marker searched for in the first ``HEADER_LINES`` lines of a script.
HEADER = "diagkit-probe:"
HEADER_LINES = 10
#: Scripts larger than this are refused (they travel on stdin with every run).
MAX_SCRIPT_BYTES = 256 * 1024
DEFAULT_TIMEOUT = 15.0
MAX_TIMEOUT = 600.0
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
SH_FAMILY = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"})

# Modules of diagkit.probes that are machinery, not probes.
_NOT_PROBES = frozenset({"base", "runner", "registry", "user"})
_HEADER_KEYS = frozenset({"name", "title", "description", "timeout"})
_TOP_KEYS = frozenset({"metrics", "findings", "facts", "tables", "notes"})
_TEXT_FINDING = re.compile(r"^(CRITICAL|WARNING|INFO):\s*(.+)$")


def builtin_names() -> frozenset[str]:
    """Names of the built-in probe modules (read from the package, nothing imported)."""
    import diagkit.probes as pkg

    return frozenset(
        m.name for m in pkgutil.iter_modules(pkg.__path__)
        if not m.name.startswith("_") and m.name not in _NOT_PROBES
    )


def example_probes_dir() -> Path:
    """The folder of example user probes shipped with diagkit (``resources/probes``)."""
    try:
        from importlib.resources import files

        path = Path(str(files("diagkit.resources") / "probes"))
        if path.is_dir():
            return path
    except ModuleNotFoundError:  # running from a source tree: resources/ is not a package yet
        pass
    return Path(__file__).resolve().parents[2] / "resources" / "probes"


def load_user_probes(
    directory: Path | None = None,
    *,
    reserved: Iterable[str] | None = None,
    require_executable: bool = True,
) -> tuple[list[Probe], list[str]]:
    """Load the user probes in ``directory`` (default: the user probes folder).

    Returns ``(probes, problems)``: each problem is a sentence naming the file, what is wrong
    and what to do. A broken file never stops the others from loading. ``reserved`` are names
    that may not be used (default: the built-in probes). ``require_executable=False`` is for
    listing the shipped examples, whose executable bit a wheel may not keep.
    """
    folder = directory if directory is not None else config.user_probes_dir()
    taken = set(builtin_names() if reserved is None else reserved)
    probes: list[Probe] = []
    problems: list[str] = []
    if not folder.is_dir():
        return probes, problems
    seen: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.endswith(("~", ".bak", ".swp", ".md", ".txt")):
            continue
        if path.name == "__init__.py" or not path.is_file():
            continue
        try:
            probe = load_probe_file(path, require_executable=require_executable)
        except ProbeError as exc:
            problems.append(str(exc))
            continue
        if probe.name in taken:
            problems.append(
                f"{path}: the name {probe.name!r} is a built-in probe's name. Rename it in the "
                "'# diagkit-probe: name=...' header."
            )
            continue
        if probe.name in seen:
            problems.append(
                f"{path}: the name {probe.name!r} is already used by {seen[probe.name]}. Give one "
                "of them another name."
            )
            continue
        seen[probe.name] = path
        probes.append(probe)
    return probes, problems


def load_probe_file(path: Path, *, require_executable: bool = True) -> Probe:
    """One user probe from its file; :class:`ProbeError` says what is wrong with it."""
    if require_executable and not os.access(path, os.X_OK):
        raise ProbeError(f"{path} is not executable, so it is not loaded as a probe. Make it "
                         f"executable with: chmod +x {shlex.quote(str(path))}")
    try:
        size = path.stat().st_size
        if size > MAX_SCRIPT_BYTES:
            raise ProbeError(f"{path} is {size} bytes; a probe script may be at most "
                             f"{MAX_SCRIPT_BYTES} bytes. Move data out of the script.")
        script = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProbeError(f"{path} is not a UTF-8 text file; probes must be scripts.") from exc
    except OSError as exc:
        raise ProbeError(f"Cannot read {path}: {exc.strerror or exc}. Check its permissions.") \
            from exc
    header = _parse_header(path, script)
    name = header.get("name", "")
    if not NAME_RE.match(name):
        raise ProbeError(f"{path}: probe name {name!r} is not valid. Use lower-case letters, "
                         "digits, '-' and '_', starting with a letter (e.g. name=disk-latency).")
    timeout = DEFAULT_TIMEOUT
    if "timeout" in header:
        try:
            timeout = float(header["timeout"])
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= MAX_TIMEOUT:
            raise ProbeError(f"{path}: timeout={header['timeout']!r} must be a number of seconds "
                             f"between 0 and {MAX_TIMEOUT:g}.")
    return Probe(
        name=name,
        title=header.get("title") or name,
        description=header.get("description", ""),
        script=script,
        parse=functools.partial(parse_output, name),
        timeout=timeout,
        source=str(path),
    )


def _parse_header(path: Path, script: str) -> dict[str, str]:
    for line in script.splitlines()[:HEADER_LINES]:
        marker = line.find(HEADER)
        if marker < 0 or not line.lstrip().startswith(("#", "//", "--")):
            continue
        try:
            words = shlex.split(line[marker + len(HEADER):])
        except ValueError as exc:
            raise ProbeError(f"{path}: the diagkit-probe header cannot be read ({exc}). Check "
                             "its quotes: title=\"Two words\".") from exc
        header: dict[str, str] = {}
        for word in words:
            key, eq, value = word.partition("=")
            if not eq or key not in _HEADER_KEYS:
                raise ProbeError(f"{path}: unknown item {word!r} in the diagkit-probe header. "
                                 f"Allowed: {', '.join(sorted(_HEADER_KEYS))} (as key=value).")
            header[key] = value
        return header
    raise ProbeError(f"{path} has no '# {HEADER} name=...' line in its first {HEADER_LINES} "
                     "lines, so diagkit does not know it is a probe. Add one, e.g. "
                     f"'# {HEADER} name=my-check title=\"My check\"'.")


def interpreter(script: str) -> list[str]:
    """The shebang's interpreter and arguments (``[]`` when there is none).

    ``#!/usr/bin/env python3`` gives ``["python3"]``: env looks it up on the target's PATH.
    """
    first = script.split("\n", 1)[0]
    if not first.startswith("#!"):
        return []
    words = first[2:].split()
    if words and os.path.basename(words[0]) == "env":
        words = words[1:]
        if words and words[0] == "-S":
            words = words[1:]
    return words


def command_for(probe: Probe) -> tuple[str, str | None]:
    """``(command, stdin)`` that runs ``probe`` on a target through a Transport.

    Built-in probes and sh-family scripts: ``("sh -s", script)`` (or ``bash -s`` etc. per the
    shebang). Other interpreters: ``("python3 -", script)``, with shebang arguments kept. The
    whole script goes on stdin, so nothing is written on the target.
    """
    words = interpreter(probe.script)
    if not words:
        return "sh -s", probe.script
    if os.path.basename(words[0]) in SH_FAMILY:
        shell = words[0] if os.path.basename(words[0]) != "busybox" else "sh"
        return f"{shlex.quote(shell)} -s", probe.script
    return " ".join(shlex.quote(w) for w in words) + " -", probe.script


# --- output parsing ------------------------------------------------------------------------------


def parse_output(name: str, output: str) -> ProbeData:
    """A user probe's stdout to ProbeData: JSON when it starts with ``{``, else plain text."""
    if output.lstrip().startswith("{"):
        try:
            value = json.loads(output)
        except json.JSONDecodeError as exc:
            raise ProbeError(f"User probe {name!r} printed invalid JSON (line {exc.lineno}, "
                             f"column {exc.colno}: {exc.msg}). Fix the script's output, e.g. "
                             "check it with 'SCRIPT | python3 -m json.tool'.") from exc
        return _from_json(name, value)
    findings = []
    for line in output.splitlines():
        m = _TEXT_FINDING.match(line.strip())
        if m:
            title, _, hint = m.group(2).partition(" -- ")
            findings.append(Finding(Severity.parse(m.group(1)), title.strip(), "", hint.strip(),
                                    name))
    return ProbeData(findings=tuple(findings), notes=notes(output))


def _fail(name: str, where: str, what: str) -> ProbeError:
    return ProbeError(f"User probe {name!r} printed JSON with a problem at {where}: {what}. "
                      "See the format in the diagkit.probes.user documentation.")


def _text(name: str, where: str, value: Any, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise _fail(name, where, f"expected a non-empty string, got {value!r}" if required
                    else f"expected a string, got {value!r}")
    return value


def _labels(name: str, where: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(name, where, f"expected an object of strings, got {value!r}")
    return {str(k): str(v) for k, v in value.items()}


def _list(name: str, where: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(name, where, f"expected a list, got {type(value).__name__}")
    return value


def _from_json(name: str, value: Any) -> ProbeData:
    if not isinstance(value, dict):
        raise _fail(name, "the top level", "expected an object")
    unknown = set(value) - _TOP_KEYS
    if unknown:
        raise _fail(name, "the top level", f"unknown key(s) {', '.join(sorted(unknown))}; "
                    f"allowed: {', '.join(sorted(_TOP_KEYS))}")
    metrics = []
    for i, m in enumerate(_list(name, "metrics", value.get("metrics"))):
        where = f"metrics[{i}]"
        if not isinstance(m, dict):
            raise _fail(name, where, "expected an object")
        number = m.get("value")
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise _fail(name, f"{where}.value", f"expected a number, got {number!r}")
        metrics.append(Metric(_text(name, f"{where}.name", m.get("name"), required=True),
                              float(number), _text(name, f"{where}.unit", m.get("unit")),
                              _labels(name, f"{where}.labels", m.get("labels"))))
    findings = []
    for i, f in enumerate(_list(name, "findings", value.get("findings"))):
        where = f"findings[{i}]"
        if not isinstance(f, dict):
            raise _fail(name, where, "expected an object")
        try:
            severity = Severity.parse(_text(name, f"{where}.severity", f.get("severity"),
                                            required=True))
        except ValueError as exc:
            raise _fail(name, f"{where}.severity", str(exc)) from None
        findings.append(Finding(severity,
                                _text(name, f"{where}.title", f.get("title"), required=True),
                                _text(name, f"{where}.detail", f.get("detail")),
                                _text(name, f"{where}.hint", f.get("hint")), name))
    facts_value = value.get("facts")
    if facts_value is not None and not isinstance(facts_value, dict):
        raise _fail(name, "facts", "expected an object")
    facts = {}
    for k, v in (facts_value or {}).items():
        if isinstance(v, (dict, list)):
            raise _fail(name, f"facts.{k}", "expected a string or number, not a list or object")
        facts[str(k)] = "" if v is None else str(v)
    tables = []
    for i, t in enumerate(_list(name, "tables", value.get("tables"))):
        where = f"tables[{i}]"
        if not isinstance(t, dict):
            raise _fail(name, where, "expected an object")
        columns = _list(name, f"{where}.columns", t.get("columns"))
        if not columns or not all(isinstance(c, str) for c in columns):
            raise _fail(name, f"{where}.columns", "expected a non-empty list of strings")
        rows = []
        for j, row in enumerate(_list(name, f"{where}.rows", t.get("rows"))):
            if not isinstance(row, list) or len(row) != len(columns):
                raise _fail(name, f"{where}.rows[{j}]",
                            f"expected a list of {len(columns)} values (one per column)")
            rows.append(tuple(row))
        tname = _text(name, f"{where}.name", t.get("name"), required=True)
        tables.append(Table(tname, _text(name, f"{where}.title", t.get("title")) or tname,
                            tuple(columns), tuple(rows)))
    note_list = _list(name, "notes", value.get("notes"))
    return ProbeData(metrics=tuple(metrics), tables=tuple(tables), findings=tuple(findings),
                     facts=facts, notes=tuple(str(n) for n in note_list))
