"""The logs probe scans application logs outside /var/log: a saved host's (and its group's)
paths and globs, expanded on the host by its sh. Real files planted on this machine, the probe
run locally and over a real sshd."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from diagkit.errors import ConfigError
from diagkit.hosts import HostStore, SavedHost
from diagkit.probes import logs
from diagkit.probes.registry import all_probes
from diagkit.probes.runner import run_probe
from diagkit.transport.base import Transport
from diagkit.transport.local import LocalTransport
from diagkit.transport.ssh import SshTarget, SshTransport
from tests.sshd_fixture import SshServer

# What the shop application wrote when its spool disk filled and its database went away.
APP_LOG = """\
2026-12-05 13:01:02,123 INFO shop.worker started
2026-12-05 13:01:05,456 ERROR shop.spool writing order 1234 failed
Traceback (most recent call last):
  File "/srv/shop/spool.py", line 88, in write
    fh.write(data)
OSError: [Errno 28] No space left on device
2026-12-05 13:01:30,000 INFO shop.worker retrying
2026-12-05 13:02:00,001 WARNING shop.db psycopg2.OperationalError: connection to server at \
"127.0.0.1", port 5432 failed: Connection refused
"""


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "shop app" / "logs"   # a blank in the path: quoting is tested too
    folder.mkdir(parents=True)
    (folder / "app.log").write_text(APP_LOG)
    (folder / "worker.log").write_text("2026-12-05 13:00:00 INFO all fine\n")
    with gzip.open(folder / "app.log.1.gz", "wt") as fh:
        fh.write("2026-12-04 ERROR old\n")
    return folder


@pytest.fixture(params=["local", "ssh"])
def target(request: pytest.FixtureRequest, sshd: SshServer) -> Transport:
    if request.param == "local":
        return LocalTransport()
    t = SshTransport.connect(SshTarget(sshd.address, port=sshd.port, user="root",
                                       identity_files=(str(sshd.client_key_path),)),
                             accept_new_host_key=True)
    request.addfinalizer(t.close)
    return t


def test_globs_expand_on_the_host_and_errors_are_found(target: Transport, app_dir: Path) -> None:
    result = run_probe(target, logs.with_paths([f"{app_dir}/*", "/nonexistent/dir/*.log"]))
    assert result.ok, result.error
    data = result.data
    app_log = f"{app_dir}/app.log"
    assert data.facts["app_files"] == f"{app_log}, {app_dir}/worker.log"
    finding = next(f for f in data.findings if app_log in f.title)
    assert finding.title == f"4 error lines in the application log {app_log}"
    assert "No space left on device" in finding.detail and "Connection refused" in finding.detail
    assert "diagkit logs 'HOST:" in finding.hint
    assert not any("worker.log" in f.title for f in data.findings)   # no errors there
    assert f"{app_dir}/app.log.1.gz is compressed: not scanned (fetch it with diagkit logs " \
           "fetch)" in data.notes
    assert "no file matches /nonexistent/dir/*.log" in data.notes
    rows = next(t for t in data.tables if t.name == "app_lines").rows
    assert [r["message"] for r in rows][-1].startswith("WARNING shop.db psycopg2.Operational")
    assert data.metric("logs.app_error_lines", file=app_log) == 4
    # The system log part still runs as before.
    assert data.facts["source"] in ("journal", "syslog", "files", "none")


def test_a_hostile_path_is_data_not_a_command(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = f"/tmp/x'; touch {marker}; echo '$(touch {marker})`touch {marker}`*"
    result = run_probe(LocalTransport(), logs.with_paths([hostile]))
    assert result.ok and not marker.exists()
    assert f"no file matches {hostile}" in result.data.notes


def test_caps_on_files_and_bytes(tmp_path: Path) -> None:
    for n in range(logs.APP_MAX_FILES + 5):
        (tmp_path / f"app{n:02d}.log").write_text("ERROR one\n")
    big = tmp_path / "zz-big.txt"
    # An error far from the end is past the byte cap; the one at the end is read.
    big.write_bytes(b"ERROR at the start\n" + b"x" * (2 * logs.APP_MAX_BYTES) + b"\nERROR at end\n")
    result = run_probe(LocalTransport(), logs.with_paths([str(big), f"{tmp_path}/*.log"]))
    files = result.data.facts["app_files"].split(", ")
    assert len(files) == logs.APP_MAX_FILES and files[0] == str(big)
    assert f"more than {logs.APP_MAX_FILES} application log files match: the rest were not " \
           "read" in result.data.notes
    rows = next(t for t in result.data.tables if t.name == "app_lines").rows
    assert [r["message"] for r in rows if r["file"] == str(big)] == ["ERROR at end"]


def test_saved_host_and_group_paths_feed_the_probe(app_dir: Path) -> None:
    store = HostStore()
    store.add(SavedHost("shop1", "127.0.0.1", group="shop", log_paths=(f"{app_dir}/app.log",)))
    store.set_group_log_paths("shop", ["/srv/shop/logs/*.log", f"{app_dir}/app.log"])
    host = store.get("shop1")
    assert store.log_paths(host) == (f"{app_dir}/app.log", "/srv/shop/logs/*.log")
    store.update("shop1", notes="edited")          # saving hosts keeps the group entry
    assert store.group_log_paths("shop") == ("/srv/shop/logs/*.log", f"{app_dir}/app.log")
    probes = logs.for_host(all_probes()[0], store.log_paths(host))
    scanned = next(p for p in probes if p.name == "logs")
    assert scanned is not logs.PROBE and f"'{app_dir}/app.log'" in scanned.script
    assert logs.for_host([logs.PROBE], ()) == [logs.PROBE]
    with pytest.raises(ConfigError, match="must be absolute"):
        store.update("shop1", log_paths=["logs/*.log"])
    with pytest.raises(ConfigError, match="one line"):
        store.set_group_log_paths("shop", ["/a\nb"])
