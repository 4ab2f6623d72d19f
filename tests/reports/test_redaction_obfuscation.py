"""Obfuscation precision (issue 12 item 4): ordinary words never become host tokens, JSON user
fields are tokenised, and the saved host names and aliases are tokenised everywhere."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from diagkit import config
from diagkit.cli import main
from diagkit.hosts import HostStore, SavedHost
from diagkit.reports.redact import (
    FalsePositives,
    RedactOptions,
    Redactor,
    TokenMap,
    known_hosts,
)

HOST_USER = RedactOptions(obfuscate=frozenset({"host", "user", "ip"}))


def redactor(options: RedactOptions = HOST_USER) -> Redactor:
    return Redactor(options, token_map=TokenMap(Path("/nonexistent/m.json")),
                    false_positives=FalsePositives(Path("/nonexistent/f.json")))


@pytest.mark.parametrize("text", [
    "could not connect to server: Connection refused",
    'psql: error: connection to server at "127.0.0.1", port 55433 failed: Connection refused',
    "Mar  3 10:15:22 reported 3 errors in the last hour",
    "2024-03-01T10:00:00Z reported by the watchdog",
    "2024-03-01T10:00:00.123+01:00 Started Session 5 of user root.",
    "server: Error while reading the response",
    "host: unknown",
    "Upgrade: gpg-wks-server:amd64 (2.2.40-1.1, 2.2.40-1.1+deb12u2)",
    "You can test the MariaDB daemon with mysql-test-run.pl",
    "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=",
    "waiting for data from the upstream",
])
def test_ordinary_words_stay(text: str) -> None:
    r = redactor()
    assert r.redact(text) == text, r.hits


def test_connection_refused_keeps_connection_and_masks_the_host() -> None:
    out = redactor().redact("could not connect to server: Connection refused "
                            "(host=db-prod1 port=5432)")
    assert "server: Connection refused" in out and "db-prod1" not in out


def test_syslog_host_before_the_program_tag() -> None:
    out = redactor().redact("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; "
                            "rhost=61-220-159-99.hinet-ip.hinet.net  user=bob")
    assert "combo" not in out and "hinet" not in out and "bob" not in out
    assert re.match(r"Jun 14 15:16:01 host-\d+ sshd\(pam_unix\)\[19939\]: ", out)


@pytest.mark.parametrize("text", ['{"user": "svc", "level": "info"}', "{'user': 'svc'}",
                                  '{\\"username\\": \\"svc\\"}', "user=svc", "login: svc",
                                  "Accepted publickey for svc from 10.0.0.1 port 22 ssh2"])
def test_user_fields_are_tokenised(text: str) -> None:
    out = redactor().redact(text)
    assert "svc" not in out and "user-1" in out


def test_known_hosts_are_tokenised_as_whole_words_anywhere() -> None:
    opts = RedactOptions(obfuscate=frozenset({"host"}),
                         hosts=("prod-db", "Bastion", "web1.acme.lan", "local", "localhost"))
    assert opts.hosts == ("prod-db", "Bastion", "web1.acme.lan")
    r = redactor(opts)
    out = r.redact("Hosts: prod-db, BASTION; reached web1.acme.lan from bastion via prod-db2 and "
                   "preprod-db; localhost ok")
    assert "prod-db," not in out and "BASTION" not in out and "bastion" not in out
    assert "web1" not in out and "acme" not in out
    assert "prod-db2" in out and "preprod-db" in out and "localhost ok" in out
    tokens = re.findall(r"host-\d+", out)  # prod-db, BASTION, web1(.acme.lan), bastion
    assert tokens[1] == tokens[3] and len(set(tokens)) == 3
    # file names: the alias before an extension or an underscore goes too
    assert r.redact_name("prod-db.log") == f"{tokens[0]}.log"
    assert r.redact_name("bastion_app.log") == f"{tokens[1]}_app.log"


def test_known_hosts_need_host_obfuscation() -> None:
    r = redactor(RedactOptions(obfuscate=frozenset({"ip"}), hosts=("prod-db",)))
    assert r.redact("prod-db is down") == "prod-db is down"


def test_known_hosts_collects_saved_hosts_targets_and_ssh_aliases(isolated_home: Path) -> None:
    store = HostStore()
    store.add(SavedHost(name="billing-db", address="db7.internal.acme.lan", user="ops"))
    store.add(SavedHost(name="edge", address="203.0.113.7"))
    (isolated_home / ".ssh" / "config").write_text(
        "Host jump bastion-eu *.corp\n  HostName 10.1.1.1\nHost local\n  HostName x\n")
    names = known_hosts(["billing-db", "deploy@build-7.acme.lan:2222", "local", "10.9.9.9"])
    assert set(names) == {"billing-db", "db7.internal.acme.lan", "edge", "jump", "bastion-eu",
                          "build-7.acme.lan"}


def test_bundle_create_tokenises_saved_names_and_aliases(tmp_path: Path, isolated_home: Path
                                                         ) -> None:
    HostStore().add(SavedHost(name="billing-db", address="db7.internal.acme.lan"))
    (isolated_home / ".ssh" / "config").write_text("Host jumpbox\n  HostName 10.1.1.1\n")
    log = tmp_path / "app.log"
    log.write_text("".join(f"2024-01-02T10:00:{i:02d}Z app[1]: INFO request {i} ok\n"
                           for i in range(30))
                   + "2024-01-02T10:01:00Z app[1]: ERROR billing-db unreachable via jumpbox\n",
                   encoding="utf-8")
    out = tmp_path / "b.zip"
    code = main(["bundle", "create", "--log", str(log), "--obfuscate", "host", "--title",
                 "billing-db down", "--summary", "jumpbox cannot reach billing-db", "-o", str(out)],
                stdout=io.StringIO())
    assert code == 0
    with zipfile.ZipFile(out) as zf:
        blob = b"".join(zf.read(n) + n.encode() for n in zf.namelist())
    text = blob.decode("utf-8", errors="replace")
    assert "jumpbox" not in text
    assert "unreachable via" in text
    # the log line is tokenised (the title and summary are free text: another part of item 4)
    log_text = "".join(line for line in text.splitlines() if "unreachable via" in line)
    assert "billing-db" not in log_text and "host-" in log_text
    assert config.data_dir().exists()


def test_bundle_wizard_gives_the_saved_names_with_host_obfuscation(
        qtbot, isolated_home: Path) -> None:
    from diagkit.ui.bundle_wizard import BundleWizard

    HostStore().add(SavedHost(name="billing-db", address="db7.internal.acme.lan"))
    wizard = BundleWizard([], [])
    qtbot.addWidget(wizard)
    assert wizard.options().hosts == ()  # host obfuscation off: nothing to look up
    wizard.obfuscate["host"].setChecked(True)
    options = wizard.options()
    assert "host" in options.obfuscate
    assert set(options.hosts) == {"billing-db", "db7.internal.acme.lan"}
