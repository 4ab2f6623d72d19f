"""`diagkit watch` and `diagkit history` end to end on the local machine."""

from __future__ import annotations

import csv
import io
import json

import pytest

from diagkit.cli import main
from diagkit.store.sqlite import SqliteSampleStore


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdout=out), out.getvalue()


def test_watch_prints_samples_writes_csv_and_history(tmp_path):
    out_csv = tmp_path / "watch.csv"
    code, text = run("watch", "local", "--interval", "0.3s", "--for", "1.5s", "--csv", str(out_csv))
    assert code == 0, text
    lines = text.splitlines()
    assert lines[0].endswith("UP     local")
    assert any(" local " in ln and "cpu " in ln and "disk /" in ln for ln in lines)
    assert lines[-1].startswith("-- watched 1 host(s); 0 alert(s) active") or any(
        ln.startswith("-- watched 1 host(s)") for ln in lines)
    rows = list(csv.DictReader(out_csv.open()))
    assert {"cpu.usage", "mem.used", "disk.used:/"} <= {r["metric"] for r in rows}
    assert all(r["host"] == "local" for r in rows)

    with SqliteSampleStore() as store:  # the isolated data dir of this test
        assert store.hosts() == ["local"]
        assert "mem.used" in store.metrics("local")

    code, text = run("history", "local", "-m", "mem.used", "-m", "disk.used:*")
    assert code == 0
    assert "mem.used" in text and "disk.used:/" in text and "cpu.usage" not in text
    code, text = run("history", "local", "-m", "mem.used", "--json")
    series = json.loads(text)["series"]
    assert series[0]["metric"] == "mem.used" and len(series[0]["t"]) >= 3
    code, text = run("history")
    assert text.strip() == "local"


def test_watch_json_lines():
    _, text = run("watch", "--interval", "0.3s", "--for", "1s", "--json", "--no-history")
    events = [json.loads(line) for line in text.splitlines()]
    assert events[0]["event"] == "up" and events[1]["event"] == "sample"
    assert "mem.used" in events[1]["values"]
    with SqliteSampleStore() as store:
        assert store.hosts() == []


def test_history_errors_name_the_next_step(capsys):
    code, _ = run("history", "nosuch")
    assert code == 2
    assert "diagkit watch nosuch" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        run("watch", "--interval", "soon")
    assert exc.value.code == 2
    assert "not a duration: 'soon'; use e.g. 5s" in capsys.readouterr().err


def test_watch_journals_alerts_into_the_active_case(tmp_path):
    from diagkit import config
    from diagkit.store.sqlite import SqliteStore

    path = config.config_dir() / "thresholds.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Every machine runs more than one process: this alert fires on the first sample.
    path.write_text('{"thresholds": [{"metric": "procs.count", "warning": 1, "label": "Procs"}]}')
    code, text = run("case", "new", "Slow box", "--use")
    assert code == 0
    code, text = run("watch", "local", "--interval", "0.3s", "--for", "1s", "--journal")
    assert code == 0 and "ALERT  local: Procs warning" in text
    with SqliteStore() as store:
        alerts = [e for e in store.journal(1) if e.kind == "alert"]
    assert len(alerts) == 1 and alerts[0].data["metric"] == "procs.count"


def test_watch_samples_a_user_probes_metrics():
    from diagkit import config

    probes = config.user_probes_dir()
    probes.mkdir(parents=True, exist_ok=True)
    script = probes / "queue-depth.sh"
    script.write_text('#!/bin/sh\n# diagkit-probe: name=queue-depth title="Queue depth"\n'
                      'echo \'{"metrics": [{"name": "depth", "value": 42, '
                      '"labels": {"queue": "mail"}}]}\'\n')
    script.chmod(0o755)
    code, text = run("watch", "local", "--interval", "0.3s", "--for", "1s", "--json",
                     "--probe", "queue-depth")
    assert code == 0
    samples = [json.loads(line) for line in text.splitlines()]
    values = next(e["values"] for e in samples if e["event"] == "sample")
    assert values["queue-depth.depth:queue=mail"] == 42
    code, text = run("history", "local", "-m", "queue-depth.*")
    assert "queue-depth.depth:queue=mail" in text
