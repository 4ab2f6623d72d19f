"""A saved host's tab runs the logs probe with the host's and its group's application logs."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from diagkit.hosts import HostStore, SavedHost
from diagkit.probes import logs
from diagkit.session import HostRef
from diagkit.ui.host_view import HostView


def test_saved_host_tab_scans_its_application_logs(qtbot: QtBot) -> None:
    store = HostStore()
    host = SavedHost("shop1", "127.0.0.1", group="shop", log_paths=("/srv/shop/app.log",))
    store.add(host)
    store.set_group_log_paths("shop", ["/srv/shop/logs/*.log"])
    view = HostView(HostRef(label="shop1", address="127.0.0.1", saved=host))
    qtbot.addWidget(view)
    script = view.probes["logs"].script
    assert "for pat in /srv/shop/app.log '/srv/shop/logs/*.log'; do" in script
    plain = HostView(HostRef(label="adhoc", address="127.0.0.1"))
    qtbot.addWidget(plain)
    assert plain.probes["logs"] is logs.PROBE
