"""Control characters from hosts, probe output, log lines, KB articles and case data reach the
terminal escaped (``\\x1b``, ``\\r``, ``\\u009b``), never raw: a log line must not clear the
screen or retitle the window, a finding title must not forge a line of output.

Every command runs as a user runs it: a real ``diagkit`` subprocess (its stdout and stderr are
what a terminal would receive), real files, a real SQLite store, a real ``sshd`` for the remote
host. ``--json`` stays valid JSON carrying the exact original text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from diagkit import config
from diagkit.textsafe import escape_controls, one_line, printable
from tests.sshd_fixture import SshClientEnv

REPO = Path(__file__).resolve().parents[1]
# What a terminal obeys: C0 controls but TAB and LF, DEL, C1 controls, bidi overrides.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")

CLEAR = "\x1b[2J\x1b[H"
RETITLE = "\x1b]0;pwned\x07"
HOSTILE = f"hello {CLEAR} world {RETITLE} bell\x07 back\x08\x08 csi\x9b31m rtl\u202eevil cr\rOK"
SHOWN = ("\\x1b[2J\\x1b[H", "\\x1b]0;pwned\\x07", "bell\\x07", "back\\x08\\x08",
         "csi\\u009b31m", "rtl\\u202eevil", "cr\\rOK")


def dk(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "diagkit", *args], check=False, input=stdin,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    return result


def assert_safe(result: subprocess.CompletedProcess[str], *shown: str) -> None:
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        bad = RAW_CONTROL.search(text)
        assert bad is None, f"raw {bad.group(0)!r} on {name}: {text!r}"
    for s in shown:
        assert s in result.stdout + result.stderr, (s, result.stdout, result.stderr)


def test_escape_controls_keeps_text_and_shows_controls() -> None:
    assert escape_controls("a\tb\nc") == "a\tb\nc"
    assert escape_controls(HOSTILE) == ("hello \\x1b[2J\\x1b[H world \\x1b]0;pwned\\x07 bell\\x07 "
                                        "back\\x08\\x08 csi\\u009b31m rtl\\u202eevil cr\\rOK")
    assert one_line("a\nb\r\n") == "a\\nb\\r\\n"
    assert escape_controls("\ud800\x7f\u2028") == "\\ud800\\u007f\\u2028"


def test_printable_escapes_what_does_not_print_in_the_same_forms() -> None:
    """Names in messages (a hostile zip's members): one_line's escapes, the same form for each
    character, plus TAB, zero-width and odd spaces, format characters."""
    assert printable(HOSTILE) == one_line(HOSTILE)
    assert printable("a\nb\x85\udc80") == one_line("a\nb\x85\udc80") == "a\\nb\\u0085\\udc80"
    assert printable("a\tb\u200bc\u00a0d\U000e0041") == "a\\tb\\u200bc\\u00a0d\\U000e0041"
    assert printable("Grüße 日本") == "Grüße 日本"


# --- logs ----------------------------------------------------------------------------------------


def test_logs_show_stats_signatures_histogram_are_escaped(tmp_path: Path) -> None:
    name = tmp_path / f"app{CLEAR}.log"  # a hostile file name, too
    name.write_text(f"2026-03-14 02:10:00 ERROR {HOSTILE}\n"
                    "2026-03-14 02:10:01 INFO plain line\n", encoding="utf-8")
    shown = dk("logs", str(name))
    assert shown.returncode == 0, shown.stderr
    assert_safe(shown, *SHOWN)
    assert shown.stdout.count("\n") == 2  # the CR did not start a line of its own

    for action, expect in (("stats", "app\\x1b[2J\\x1b[H.log"), ("signatures", "\\x1b]"),
                           ("histogram", "#")):
        result = dk("logs", action, str(name))
        assert result.returncode == 0, (action, result.stderr)
        assert_safe(result, expect)


def test_logs_json_stays_valid_and_exact(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(f"2026-03-14 02:10:00 ERROR {HOSTILE}\n", encoding="utf-8")
    result = dk("logs", str(log), "--json")
    assert_safe(result)
    (record,) = json.loads(result.stdout)["records"]
    assert HOSTILE in record["raw"]  # the exact text, C1 and bidi included


def test_errors_on_stderr_are_escaped() -> None:
    result = dk("hosts", "remove", f"web{RETITLE}")
    assert result.returncode == 2
    assert_safe(result, "web\\x1b]0;pwned\\x07")


# --- probes and run, from a local and a remote host ----------------------------------------------


def _hostile_probe() -> None:
    folder = config.user_probes_dir()
    folder.mkdir(parents=True, exist_ok=True)
    finding = json.dumps({"findings": [
        {"severity": "warning", "title": f"Disk {CLEAR}full\n== forged line ==",
         "detail": f"detail {RETITLE}", "hint": "hint\x9b2J"}],
        "facts": {"k": "v"}})
    script = folder / "evil.sh"
    script.write_text("#!/bin/sh\n# diagkit-probe: name=evil title=Evil\n"
                      f"cat <<'EOF'\n{finding}\nEOF\n"
                      "printf 'raw \\033[31mred\\033]0;t\\007\\n' >&2\n", encoding="utf-8")
    script.chmod(0o755)


def test_probe_text_and_raw_output_are_escaped() -> None:
    _hostile_probe()
    result = dk("probe", "-p", "evil", "--raw")
    assert result.returncode == 0, result.stderr
    assert_safe(result, "Disk \\x1b[2J\\x1b[Hfull\\n== forged line ==", "detail \\x1b]0;pwned\\x07",
                "hint\\u009b2J")
    # the newline in the title did not make a line of its own
    assert not any(line.startswith("== forged") for line in result.stdout.splitlines())
    as_json = dk("probe", "-p", "evil", "--json")
    finding = json.loads(as_json.stdout)["hosts"][0]["results"][0]["findings"][0]
    assert finding["title"] == f"Disk {CLEAR}full\n== forged line =="


def test_run_escapes_unless_asked_not_to() -> None:
    command = ["printf", f"out {RETITLE}{CLEAR}\\n"]
    escaped = dk("run", "local", "--", *command)
    assert escaped.returncode == 0
    assert_safe(escaped, "out \\x1b]0;pwned\\x07\\x1b[2J\\x1b[H")
    raw = dk("run", "local", "--no-escape", "--", *command)
    assert raw.returncode == 0 and raw.stdout == f"out {RETITLE}{CLEAR}\n"


def test_a_remote_host_cannot_drive_the_terminal(ssh_client_env: SshClientEnv) -> None:
    _hostile_probe()
    probe = dk("probe", ssh_client_env.alias, "-p", "evil", "--raw")
    assert probe.returncode == 0, probe.stderr
    assert_safe(probe, "Disk \\x1b[2J\\x1b[Hfull\\n== forged line ==")
    run = dk("run", ssh_client_env.alias, "--", "printf 'x\\033]0;pwned\\007\\033[2J\\r\\n'")
    assert run.returncode == 0, run.stderr
    assert_safe(run, "x\\x1b]0;pwned\\x07\\x1b[2J\\r")


# --- saved hosts, cases, KB, metrics ---------------------------------------------------------------


def test_hosts_cases_kb_and_metrics_output_is_escaped(tmp_path: Path) -> None:
    assert dk("hosts", "add", "web1", "10.0.0.5", "--notes", f"rack 4{CLEAR}\nsecond").returncode == 0
    listing = dk("hosts", "list")
    assert_safe(listing, "rack 4\\x1b[2J\\x1b[H\\nsecond")
    assert len(listing.stdout.strip().splitlines()) == 2  # header + one row

    assert dk("case", "new", f"Printer {RETITLE}offline", "--customer", f"ACME{CLEAR}",
              "--use").returncode == 0
    assert dk("case", "note", "1", f"Cause: {HOSTILE}").returncode == 0
    assert_safe(dk("case", "show", "1"), "Printer \\x1b]0;pwned\\x07offline", *SHOWN)
    assert_safe(dk("case", "list"), "Printer \\x1b]0;pwned\\x07offline")

    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "evil.md").write_text(f"---\ntitle: Evil {RETITLE}article\nslug: evil\n---\n"
                                f"## Symptoms\nscreen {CLEAR} cleared\n", encoding="utf-8")
    assert dk("kb", "import", str(kb)).returncode == 0
    assert_safe(dk("kb", "show", "evil"), "Evil \\x1b]0;pwned\\x07article",
                "screen \\x1b[2J\\x1b[H cleared")
    assert_safe(dk("kb", "show", "evil", "--markdown"), "screen \\x1b[2J\\x1b[H cleared")
    assert_safe(dk("kb", "search", "cleared"), "Evil \\x1b]0;pwned\\x07article")
    assert_safe(dk("metrics", "--engineer", f"ana{RETITLE}"), "ana\\x1b]0;pwned\\x07")
