"""Every free-text field ends up redacted (issue 12, item 4).

A distinct secret is planted in EVERY string of the model, found by walking the dataclasses'
type hints (a field added later is planted too, or the test fails), and none may survive
anywhere in the zip: report.html, report.md, every data file, every member's name, the manifest.
Then the same through the real CLI, whose options carry the free text."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import types
import typing
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from diagkit.cli import main
from diagkit.probes.base import Severity
from diagkit.reports import bundle as bundle_mod
from diagkit.reports.bundle import write_bundle
from diagkit.reports.model import Bundle
from diagkit.reports.redact import RedactOptions
from tests.reports.sample_bundle import tiny_png


class Planter:
    """Hands out a distinct GitHub token (found by the redactor in any context) per place."""

    def __init__(self) -> None:
        self.planted: dict[str, str] = {}

    def __call__(self, where: str) -> str:
        secret = f"ghp_{len(self.planted):04d}" + "Xy7" * 11
        self.planted[secret] = where
        return secret


# Fields that are not free text (see bundle._NOT_TEXT): a validated severity, our own version,
# an exception class name of ours. Nothing else may be left out.
EXEMPT = {("Bundle", "severity"), ("Bundle", "diagkit_version"), ("ProbeResult", "error_kind")}


def plant(cls: type, plant_: Planter, where: str) -> Any:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        here = f"{where}.{f.name}"
        if (cls.__name__, f.name) in EXEMPT:
            continue
        values[f.name] = value_for(hints[f.name], plant_, here, cls.__name__, f.name)
    return cls(**values)


def value_for(hint: Any, plant_: Planter, where: str, owner: str, name: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return value_for(next(a for a in args if a is not type(None)), plant_, where, owner, name)
    if hint is str:
        return plant_(where)
    if hint is bytes:
        if owner == "PlotImage":
            return tiny_png()
        # an attachment: the text inside is planted too
        return f"config\nvalue {plant_(where + '[data]')}\n".encode()
    if hint is bool:
        return False
    if hint in (int, float):
        return 1
    if hint is datetime:
        return datetime(2024, 1, 2, tzinfo=UTC)
    if hint is Severity:
        return Severity.CRITICAL
    if dataclasses.is_dataclass(hint):
        return plant(hint, plant_, where)
    if origin in (Mapping, dict, typing.Mapping):
        return {plant_(where + "[key]"): plant_(where + "[value]")}
    if origin is tuple:
        if name == "masked_keys":
            return ()
        if name == "rows":  # Table rows: any values
            return ((plant_(where + "[0][0]"), plant_(where + "[0][1]"), 3),)
        inner = args[0]
        return tuple(value_for(inner, plant_, f"{where}[{i}]", owner, name) for i in range(2))
    raise AssertionError(f"no planting rule for {owner}.{name}: {hint!r} (add one)")


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        out = {f"<member name {n}>": n.encode() for n in zf.namelist()}
        out.update({n: zf.read(n) for n in zf.namelist()})
    return out


def survivors(path: Path, planted: Mapping[str, str]) -> list[str]:
    found = []
    for member, data in members(path).items():
        text = data.decode("utf-8", "replace")
        for secret, where in planted.items():
            if secret in text:
                found.append(f"{where} -> {member}")
    return found


def test_exemptions_are_the_writers() -> None:
    assert EXEMPT == bundle_mod._NOT_TEXT


@pytest.mark.parametrize("obfuscate", [frozenset(), frozenset({"ip", "host", "user", "email"})])
def test_a_secret_in_every_string_field_survives_nowhere(tmp_path: Path,
                                                        obfuscate: frozenset[str]) -> None:
    planter = Planter()
    model = plant(Bundle, planter, "bundle")
    assert len(planter.planted) > 60  # every field of every nested dataclass got one
    places = " ".join(planter.planted.values())
    for expected in ("bundle.hosts[0].facts[key]", "bundle.hosts[0].results[0].data.tables[0].rows",
                     "bundle.findings[0].title", "bundle.findings[0].hint",
                     "bundle.journal[0].text", "bundle.logs[0].note", "bundle.logs[0].source",
                     "bundle.attachments[0].name", "bundle.plots[0].title", "bundle.case",
                     "bundle.steps[1]", "bundle.attachments[0].note", "bundle.hosts[0].name",
                     "bundle.hosts[0].results[0].data.metrics[0].labels[value]",
                     "bundle.product", "bundle.product_version", "bundle.customer_ref",
                     "bundle.timeline[1].text", "bundle.timeline[0].ref",
                     "bundle.timeline[0].host"):
        assert expected in places, expected
    out = tmp_path / f"{planter('the output file name')}.zip"
    write_bundle(model, out, options=RedactOptions(obfuscate=obfuscate))
    assert survivors(out, planter.planted) == []
    # and it is all still there, masked: e.g. the title, a table cell, an attachment name
    doc = json.loads(members(out)["data/bundle.json"])
    assert doc["title"] == "[REDACTED:github_token]"
    assert any(n.startswith("attachments/REDACTED-github_token") for n in members(out))


def test_values_that_are_secret_by_their_key_or_column(tmp_path: Path) -> None:
    """Facts, metric labels and table cells whose key (the fact's name, the column's title, the
    cell before) says "password": the value alone looks harmless."""
    from diagkit.probes.base import Metric, ProbeData, ProbeResult, Table
    from diagkit.reports.model import HostEnvironment

    data = ProbeData(
        metrics=(Metric("m", 1.0, labels={"token": "plainvalue4"}),),
        tables=(Table("env", "Environment", ("name", "value"),
                      (("DB_PASSWORD", "plainvalue2"), ("PATH", "/usr/bin"))),
                Table("users", "Accounts", ("user", "password"), (("bob", "plainvalue3"),))),
        facts={"password": "plainvalue1"})
    result = ProbeResult("custom", "h", data, "", "", 0, 0.1)
    out = tmp_path / "b.zip"
    write_bundle(Bundle(title="t", hosts=(HostEnvironment("h", {"api_key": "plainvalue5"},
                                                          (result,)),)), out)
    blob = b"".join(members(out).values())
    for n in range(1, 6):
        assert f"plainvalue{n}".encode() not in blob, n
    assert b"/usr/bin" in blob  # other cells stay


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def test_every_free_text_option_of_the_cli(tmp_path: Path) -> None:
    planter = Planter()
    steps = tmp_path / "steps.txt"
    key = ["-----BEGIN OPENSSH PRIVATE KEY-----",
           "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
           "QyNTUxOQAAACDsecretkeymaterialAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
           "-----END OPENSSH PRIVATE KEY-----"]
    # a key pasted into the steps spreads over several "steps": redacted as one text
    steps.write_text(f"open the app {planter('steps[0]')}\n" + "\n".join(key) + "\n"
                     f"log in with password={planter('steps[password]')}\n")
    attach = tmp_path / f"dump-{planter('attachment file name')}.txt"
    attach.write_text(f"inside {planter('attachment text')}\n")
    log = tmp_path / f"app-{planter('log file name')}.log"
    log.write_text(f"2024-01-02T10:00:00Z h app: ERROR failed {planter('log line')}\n")
    out = tmp_path / f"bug-{planter('output name')}.zip"
    code, text = run("bundle", "create", "--title", planter("title"),
                     "--summary", f"summary ssh2 {planter('summary')}",
                     "--expected", planter("expected"), "--actual", planter("actual"),
                     "--case", planter("case"), "--steps", str(steps), "--attach", str(attach),
                     "--product", planter("product"), "--product-version", planter("version"),
                     "--customer-ref", planter("customer_ref"),
                     "--window", "2024-01-02T09:00Z..2024-01-02T11:00Z",
                     "--log", str(log), "--keyword", "AcmeCorp", "-o", str(out))
    assert code == 0, text
    assert survivors(out, planter.planted) == []
    blob = b"".join(members(out).values())
    assert b"secretkeymaterial" not in blob and b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA" not in blob
    doc = json.loads(members(out)["data/bundle.json"])
    assert doc["steps"][1] == "[REDACTED:private_key]" and len(doc["steps"]) == 3
    # the window's Timeline repeats the log line: redacted there too
    assert [e["kind"] for e in doc["timeline"]] == ["log"]
    assert doc["customer_ref"] == doc["product"] == "[REDACTED:github_token]"


def test_text_that_is_not_utf8_from_the_command_line(tmp_path: Path) -> None:
    """Arguments and file names with bytes that are not UTF-8 reach Python as lone surrogates:
    the bundle is written (they show as \\xff), not a UnicodeEncodeError traceback."""
    odd = "caf\udce9 password=Hunter2xyz"
    out = tmp_path / "b.zip"
    code, text = run("bundle", "create", "--summary", odd, "--title", "t\udcff", "-o", str(out))
    assert code == 0, text
    doc = json.loads(members(out)["data/bundle.json"])
    assert doc["summary"] == "caf\\xe9 password=[REDACTED:password]"
    assert doc["title"] == "t\\xff"
    assert re.search(rb"Hunter2xyz", b"".join(members(out).values())) is None
