"""The window on a team store (a real PostgreSQL on loopback): the store in use is shown, and a
connection cut while working shows inline in the Cases, KB and Metrics views, which keep what
they show and work again on the next action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from diagkit.store.contract import ArticleDraft, CaseDraft
from diagkit.store.postgres import PgStore
from diagkit.ui.main_window import MainWindow


def test_cut_connection_shows_inline_and_views_keep_their_data(qtbot, pg_server, pg_url,
                                                               monkeypatch):
    monkeypatch.setenv("DIAGKIT_STORE", pg_url)
    db = pg_url.rsplit("/", 1)[1]
    with PgStore(pg_url) as team:
        now = datetime.now(UTC)
        for i in range(2):
            team.create_case(CaseDraft(f"team case {i}", engineer="bob",
                                       created=now - timedelta(days=i)))
        team.create_article(ArticleDraft("Disk full", slug="disk-full",
                                         symptoms="no space left on device"))

    window = MainWindow(restore=False)
    qtbot.addWidget(window)
    assert window.store_label.text() == (
        f"Team store: postgresql://diagkit@127.0.0.1:{pg_server.port}/{db}")

    cases = window.cases_view
    cases.reload()
    qtbot.waitUntil(lambda: cases.loaded_once and cases.model.rowCount() == 2, timeout=15000)

    pg_server.terminate_backends(db)           # the network drops
    cases.reload()
    qtbot.waitUntil(lambda: cases.error.isVisibleTo(cases), timeout=15000)
    assert "cannot be reached" in cases.error.text() and "Nothing was saved" in cases.error.text()
    assert cases.model.rowCount() == 2         # what was shown stays
    cases.reload()                             # the next action reconnects
    qtbot.waitUntil(lambda: not cases.error.isVisibleTo(cases), timeout=15000)
    assert cases.model.rowCount() == 2

    kb = window.open_kb()
    qtbot.waitUntil(lambda: kb.result_slugs() != [] and "disk-full" in kb.result_slugs(),
                    timeout=15000)
    shown = kb.result_slugs()
    pg_server.terminate_backends(db)
    kb.search_edit.setText("space")
    kb.search()
    qtbot.waitUntil(lambda: "cannot be reached" in kb.state.text(), timeout=15000)
    assert kb.result_slugs() == shown
    kb.search()
    qtbot.waitUntil(lambda: "disk-full" in kb.result_slugs() and kb.result_slugs() != shown
                    and not kb.state.text(), timeout=15000)

    metrics = window.open_metrics()
    metrics.refresh()
    qtbot.waitUntil(lambda: metrics._worker is None, timeout=15000)
    pg_server.terminate_backends(db)
    failed = []
    metrics.failed.connect(failed.append)
    metrics.refresh()
    qtbot.waitUntil(lambda: bool(failed), timeout=15000)
    assert "cannot be reached" in metrics.state.text()


def test_an_unreachable_team_store_never_holds_up_the_window(qtbot, monkeypatch):
    """The window opens its team store lazily: nothing connects on the GUI thread; the first
    worker that reads finds the server down and says so where the work is shown."""
    from tests.sshd_fixture import free_port

    url = f"postgresql://diagkit@127.0.0.1:{free_port('127.0.0.1')}/team"  # nothing listens
    monkeypatch.setenv("DIAGKIT_STORE", url)
    window = MainWindow(restore=False)
    qtbot.addWidget(window)
    store = window.case_store()
    assert isinstance(store, PgStore) and store._conn is None   # not connected yet
    cases = window.cases_view
    cases.reload()
    qtbot.waitUntil(lambda: cases.error.isVisibleTo(cases), timeout=15000)
    assert "cannot be reached" in cases.error.text()
    window.close()
