"""Known-error matching on real captured probe outputs, against the shipped starter set."""

from __future__ import annotations

import pytest

from diagkit.kb import STARTER_KEY, open_kb
from diagkit.kb.markdown import starter_drafts
from diagkit.kb.match import Evidence, KnownErrorMatcher, evidence_from_snapshot, load_matcher
from diagkit.store.contract import MatchRule
from diagkit.store.sqlite import SqliteStore

from .conftest import PROBES, snapshot


@pytest.fixture
def matcher(store: SqliteStore) -> KnownErrorMatcher:
    return load_matcher(open_kb(store))


def slugs(matcher: KnownErrorMatcher, *pairs: tuple[str, str]) -> set[str]:
    return {k.slug for k in matcher.match(evidence_from_snapshot(snapshot(*pairs)))}


def test_starter_set_is_installed_once(store: SqliteStore) -> None:
    open_kb(store)
    n = store.article_count()
    assert n == len(starter_drafts()) >= 25
    first = store.list_articles()[0]
    store.delete_article(first.id)
    open_kb(store)  # remembered in kb_meta: a deleted starter article stays deleted
    assert store.article_count() == n - 1 and store.get_kb_meta(STARTER_KEY) is None


def test_every_starter_article_has_rules_and_all_sections() -> None:
    for d in starter_drafts():
        assert d.rules and d.symptoms and d.cause and d.resolution and d.environment, d.slug


def test_healthy_host_matches_nothing(matcher: KnownErrorMatcher) -> None:
    assert slugs(matcher, *[(p, "normal.txt") for p in PROBES]) == set()


def test_full_disk_capture_fires_disk_full_and_inodes(matcher: KnownErrorMatcher) -> None:
    found = matcher.match(evidence_from_snapshot(snapshot(("disk", "disk_full.txt"))))
    by_slug = {k.slug: k for k in found}
    assert {"disk-full", "inode-exhaustion", "read-only-filesystem"} <= set(by_slug)
    assert 'finding "Filesystem / is 97 % full" matches' in by_slug["disk-full"].reasons[0]
    assert any(r == "metric disk.used_percent{mount=/} = 97.4 >= 95"
               for r in by_slug["disk-full"].reasons)


def test_oom_captures_fire_the_oom_article(matcher: KnownErrorMatcher) -> None:
    assert "oom-killer" in slugs(matcher, ("kernel", "oom_and_io_errors.txt"))
    assert {"oom-killer", "swap-thrashing"} <= slugs(matcher, ("memory", "oom_pressure.txt"))
    assert "disk-io-errors" in slugs(matcher, ("kernel", "oom_and_io_errors.txt"))


@pytest.mark.parametrize(("probe", "capture", "slug"), [
    ("services", "failed_units.txt", "failed-systemd-units"),
    ("services", "failed_units.txt", "certificate-expired"),  # certbot.service failed
    ("services", "maintenance_mode.txt", "failed-systemd-units"),
    ("system", "old_server_unsynced.txt", "time-drift-ntp"),
    ("network", "troubled_host.txt", "dns-misconfiguration"),
    ("kernel", "journal_fallback.txt", "read-only-filesystem"),
])
def test_captures_fire_their_article(matcher: KnownErrorMatcher, probe: str, capture: str,
                                     slug: str) -> None:
    assert slug in slugs(matcher, (probe, capture))


def test_log_lines_fire_articles(matcher: KnownErrorMatcher) -> None:
    cases = {
        "Mar 1 10:00:00 db1 postgres[811]: could not write to file: No space left on device":
            "disk-full",
        "nginx: [crit] accept4() failed (24: Too many open files)": "too-many-open-files",
        "curl: (6) Could not resolve host: example.com": "dns-misconfiguration",
        "@@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@@": "ssh-host-key-changed",
        "x509: certificate has expired or is not yet valid": "certificate-expired",
        "EXT4-fs (sda1): Remounting filesystem read-only": "read-only-filesystem",
        "kernel: Out of memory: Killed process 4242 (java)": "oom-killer",
    }
    for line, slug in cases.items():
        assert slug in {k.slug for k in matcher.match_line(line)}, line
    assert matcher.match_line("GET /index.html 200 OK") == []


def test_log_lines_from_the_logs_probe_are_evidence(matcher: KnownErrorMatcher) -> None:
    ev = evidence_from_snapshot(snapshot(("logs", "journal_errors.txt")))
    assert ev.log_lines and ev.signatures and len(ev.signatures) < len(ev.log_lines)
    assert "failed-systemd-units" in {k.slug for k in matcher.match(ev)}


def test_rule_kinds_and_filters() -> None:
    from diagkit.probes.base import Finding, Severity
    from diagkit.store.contract import Article

    art = Article(id=1, slug="a", title="A", rules=(
        MatchRule("metric", metric="disk.used_percent", op=">", value=90, probe="disk",
                  labels={"mount": "/var"}),
        MatchRule("finding", "full", probe="disk"),
        MatchRule("signature", r"^conn refused <IP>$"),
    ))
    m = KnownErrorMatcher([art, Article(id=2, slug="b", title="B")])
    assert len(m) == 1
    assert m.match(Evidence(metrics=[("disk.used_percent", {"mount": "/"}, 99.0, "disk")])) == []
    assert m.match(Evidence(metrics=[("disk.used_percent", {"mount": "/var"}, 91.0, "x")])) == []
    hit = m.match(Evidence(metrics=[("disk.used_percent", {"mount": "/var"}, 91.0, "disk")]))
    assert hit[0].reasons == ("metric disk.used_percent{mount=/var} = 91 > 90",)
    other_probe = Finding(Severity.WARNING, "Mailbox full", probe="mail")
    assert m.match(Evidence(findings=[other_probe])) == []
    assert m.match(Evidence(signatures=["conn refused <IP>"]))[0].slug == "a"
    assert m.match_line("conn refused 10.0.0.1")[0].slug == "a"
