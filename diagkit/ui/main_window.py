"""The main window: saved hosts on the left (local machine first), one tab per open host."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTabBar,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from diagkit import __version__, credentials
from diagkit.connection import DISCONNECTED, LOST, ConnectionState
from diagkit.errors import DiagkitError
from diagkit.hosts import LOCAL_NAME, HostStore
from diagkit.session import LOCAL, HostRef, resolve
from diagkit.ui.connection_model import ConnectionModel
from diagkit.ui.host_view import CONNECTED, CONNECTING, ERROR, HostView
from diagkit.ui.inline import ElidedLabel
from diagkit.ui.log_view import LogView
from diagkit.ui.workers import cancel_all_and_wait
from diagkit.workspace import Workspace, kb_ready

if TYPE_CHECKING:
    from diagkit.kb.match import KnownErrorMatcher
    from diagkit.store.contract import SampleStore, Store

ROLE_NAME = Qt.ItemDataRole.UserRole
ROLE_SEARCH = Qt.ItemDataRole.UserRole + 1
STATUS_COLOURS = {ERROR: QColor("#d32f2f"), CONNECTED: QColor("#2e7d32"), CONNECTING: QColor("#1e88e5"),
                  LOST: QColor("#e65100")}
DOCK_MIN_WIDTH = 200  # px: a host name and its status side by side
DOCK_DEFAULT_WIDTH = 260


def log_dialog_folder() -> str:
    """Where the Open log files dialog starts: the folder last opened from, else /var/log (where
    the logs are on this kind of machine), else the home folder; never the process's cwd."""
    last = settings().value("logs/last_folder")
    for folder in (str(last) if last else "", "/var/log", str(Path.home())):
        if folder and Path(folder).is_dir():
            return folder
    return str(Path.home())


def settings() -> QSettings:
    """The window's own state (geometry, open tabs); kept next to diagkit's config.

    It names the open hosts, so it is private like the rest: the folder is made here before Qt
    would make it with its default mode, and :meth:`MainWindow.save_state` tightens the file
    Qt writes."""
    from diagkit import config

    path = config.config_dir() / "window.ini"
    try:
        config.private_dir(path.parent)
    except OSError:
        pass  # Qt then fails to save the window state quietly, as it always did
    return QSettings(str(path), QSettings.Format.IniFormat)


class _Notices(QObject):
    """Carries a line from any thread (a connection reading a password) to the status bar."""

    line = Signal(str)


class MainWindow(QMainWindow):
    def __init__(self, store: HostStore | None = None, *, restore: bool = True,
                 case_store_path: Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"diagkit {__version__}")
        self.resize(1280, 820)
        self.store = store or HostStore()
        self._items: dict[str, QTreeWidgetItem] = {}
        # The one connection state per host that the host list, the tabs and Fleet follow.
        self.connections = ConnectionModel(parent=self)
        self.connections.changed.connect(self._show_host_state)
        self.report_records: list = []  # log records set aside for the bug report
        # The stores, the active case and the known-issue matcher (Qt-free, shared with the CLI)
        self.workspace = Workspace(case_store_path=case_store_path, lazy=True)
        self.kb_view: QWidget | None = None  # Knowledge base tab (kept when closed; reopens as left)
        self.metrics_view: QWidget | None = None
        self.fleet_view: QWidget | None = None  # Fleet tab: watching many hosts (issue 7)
        self.history_view: QWidget | None = None  # Monitoring history tab
        self._matcher_loading = False
        self.setAcceptDrops(True)

        self.tabs = QTabWidget()
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.welcome = QLabel(
            "<h2>diagkit</h2><p>Double-click a host on the left (or select it and press Enter) to "
            "connect and run every probe.</p><p><b>Ctrl+N</b> add a host · <b>Ctrl+O</b> open the "
            "selected host · <b>F5</b> refresh · <b>Ctrl+W</b> close the tab · <b>Ctrl+F</b> find a "
            "host</p><p><b>Ctrl+L</b> opens log files for offline inspection (or drop them on this "
            "window); <b>Ctrl+Shift+L</b> fetches logs from the connected host.</p>"
            "<p><b>Ctrl+Shift+B</b> bundles what you found into a bug report for developers.</p>"
            "<p><b>Ctrl+Shift+C</b> cases · <b>Ctrl+Shift+K</b> knowledge base · "
            "<b>Ctrl+Shift+M</b> metrics · <b>Ctrl+Shift+W</b> watch hosts (fleet view)</p>")
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome.setWordWrap(True)
        self.setCentralWidget(self.tabs)

        self.search = QLineEdit(placeholderText="Filter hosts (name, address, tag)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._open_single_match)
        self.host_tree = QTreeWidget()
        self.host_tree.setObjectName("hosts")
        self.host_tree.setHeaderLabels(["Host", "Status"])
        header = self.host_tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.host_tree.itemActivated.connect(self._activated)
        self.host_tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.host_tree.customContextMenuRequested.connect(self._host_menu)
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.host_tree)
        # Never narrower than a host name and its status (a restored state once gave 65 px with
        # the Status column pushed out of sight: issue 17, item 8).
        panel.setMinimumWidth(DOCK_MIN_WIDTH)
        self.dock = QDockWidget("Hosts", self)
        self.dock.setObjectName("hosts-dock")
        self.dock.setWidget(panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)

        self._build_actions()
        self._build_cases()
        self.reload_hosts()
        self._show_welcome()
        self.statusBar().showMessage("Ready.")
        # The insecure-keyring opt-in warns on every use: here, in the status bar, not stderr.
        self._notices = _Notices(self)
        self._notices.line.connect(lambda text: self.statusBar().showMessage(
            f"Warning: {text}.", 30000))
        credentials.set_warning_handler(self._notices.line.emit)
        self._show_store_in_use()
        if restore:
            self.restore_state()

    # --- actions and menus ---------------------------------------------------------------------

    def _action(self, text: str, slot, shortcut: QKeySequence | str | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        # triggered(bool) would hand its `checked` flag to slots with optional arguments
        # (open_fleet(hosts=False) crashed): menu items and shortcuts call the slot bare.
        action.triggered.connect(lambda _checked=False, slot=slot: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.act_add = self._action("&Add host…", self.add_host, "Ctrl+N", "Save a new host")
        self.act_edit = self._action("&Edit host…", self.edit_selected, "Ctrl+E")
        self.act_remove = self._action("&Remove host", self.remove_selected, QKeySequence.StandardKey.Delete)
        self.act_import = self._action("&Import from ~/.ssh/config…", self.import_ssh_config)
        self.act_open = self._action("&Open selected host", self.open_selected, "Ctrl+O")
        self.act_reconnect = self._action("Re&connect", self.reconnect_selected,
                                          tip="Connect to the selected host again")
        self.act_refresh = self._action("&Refresh all probes", self._refresh_current, "F5")
        self.act_close = self._action("&Close tab", lambda: self.close_tab(self.tabs.currentIndex()),
                                      "Ctrl+W")
        self.act_find = self._action("&Find host", self._focus_search, "Ctrl+F")
        self.act_dashboard = self._action("Dashboard", lambda: self._switch_view(0), "Ctrl+1")
        self.act_live = self._action("Live plots", lambda: self._switch_view(1), "Ctrl+2")
        self.act_console = self._action("Console", lambda: self._switch_view(2), "Ctrl+3")
        self.act_terminal = self._action("Terminal", lambda: self._switch_view(3), "Ctrl+4",
                                         "An interactive shell on the host (also this machine)")
        self.act_open_logs = self._action("Open &log files…", self.open_logs_dialog, "Ctrl+L",
                                          "Open log files for offline inspection (also: drop them here)")
        self.act_fetch_logs = self._action("&Fetch logs from host…", self.fetch_logs_from_host,
                                           "Ctrl+Shift+L", "Copy logs from the connected host")
        self.act_new_report = self._action("&New bug report…", self.new_bug_report, "Ctrl+Shift+B",
                                           "Bundle evidence, steps and logs for developers")
        self.act_open_report = self._action("Open &bug report…", self.open_bug_report_dialog,
                                            tip="Verify a bundle and read its report")
        self.act_quit = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.act_open_logs)
        file_menu.addAction(self.act_fetch_logs)
        file_menu.addSeparator()
        file_menu.addAction(self.act_new_report)
        file_menu.addAction(self.act_open_report)
        file_menu.addSeparator()
        file_menu.addAction(self.act_import)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        host_menu = self.menuBar().addMenu("&Host")
        for action in (self.act_add, self.act_edit, self.act_remove, None, self.act_open,
                       self.act_reconnect, self.act_refresh, self.act_close):
            host_menu.addSeparator() if action is None else host_menu.addAction(action)
        self.act_kb = self._action("&Knowledge base", self.open_kb, "Ctrl+Shift+K",
                                   "Search and write knowledge-base articles")
        self.act_metrics = self._action("&Metrics", self.open_metrics, "Ctrl+Shift+M",
                                        "Support metrics: response and resolution times, SLA, CSAT")
        view_menu = self.menuBar().addMenu("&View")
        for action in (self.act_find, self.act_dashboard, self.act_live, self.act_console,
                       self.act_terminal):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.act_kb)
        view_menu.addAction(self.act_metrics)
        self.act_fleet = self._action("&Fleet (watch hosts)", self.open_fleet, "Ctrl+Shift+W",
                                      "Watch many hosts: live values, alerts, forecasts")
        self.act_watch = self._action("&Watch in fleet view", self.watch_selected,
                                      tip="Add the selected host to the fleet view and watch it")
        self.act_history = self._action("Monitoring &history", self.open_history, "Ctrl+Shift+H",
                                        "Any window of the watched hosts' stored samples")
        view_menu.addAction(self.act_fleet)
        view_menu.addAction(self.act_history)
        view_menu.addAction(self.dock.toggleViewAction())
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("&About diagkit", self._about))

    def _host_menu(self, pos: QPoint) -> None:
        name = self.selected_name()
        menu = QMenu(self)
        if name and self.connections.get(name).reconnectable:
            menu.addAction(self.act_reconnect)
        if name:
            menu.addAction(self.act_open)
            menu.addAction(self.act_watch)
        if name and name != LOCAL_NAME:
            menu.addAction(self.act_edit)
            menu.addAction(self.act_remove)
        menu.addSeparator()
        menu.addAction(self.act_add)
        menu.addAction(self.act_import)
        menu.exec(self.host_tree.viewport().mapToGlobal(pos))

    # --- host list -----------------------------------------------------------------------------

    def reload_hosts(self) -> None:
        self.host_tree.clear()
        self._items.clear()
        local = QTreeWidgetItem(["This machine (local)", ""])
        local.setData(0, ROLE_NAME, LOCAL_NAME)
        local.setData(0, ROLE_SEARCH, "local localhost")
        self.host_tree.addTopLevelItem(local)
        self._items[LOCAL_NAME] = local
        try:
            hosts = self.store.load()
        except DiagkitError as exc:
            self.statusBar().showMessage(str(exc))
            hosts = []
        groups: dict[str, QTreeWidgetItem] = {}
        for host in hosts:
            group = host.group or "Saved hosts"
            if group not in groups:
                groups[group] = QTreeWidgetItem([group, ""])
                groups[group].setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = groups[group].font(0)
                font.setBold(True)
                groups[group].setFont(0, font)
                self.host_tree.addTopLevelItem(groups[group])
            item = QTreeWidgetItem([host.name, ""])
            tip = [host.destination]
            if host.jump:
                tip.append(f"via {host.jump}")
            if host.tags:
                tip.append("tags: " + ", ".join(host.tags))
            if host.notes:
                tip.append(host.notes)
            item.setToolTip(0, "\n".join(tip))
            item.setData(0, ROLE_NAME, host.name)
            item.setData(0, ROLE_SEARCH, " ".join([host.name, host.address, host.group, *host.tags]))
            groups[group].addChild(item)
            self._items[host.name] = item
        self.host_tree.expandAll()
        for name in self._items:
            self._show_host_state(self.connections.get(name))
        self._filter(self.search.text())

    def selected_name(self) -> str | None:
        item = self.host_tree.currentItem()
        return item.data(0, ROLE_NAME) if item is not None else None

    def _filter(self, text: str) -> None:
        needle = text.lower().strip()
        for i in range(self.host_tree.topLevelItemCount()):
            top = self.host_tree.topLevelItem(i)
            children = [top.child(j) for j in range(top.childCount())]
            for child in children:
                child.setHidden(bool(needle) and needle not in str(child.data(0, ROLE_SEARCH)).lower())
            if children:
                top.setHidden(all(c.isHidden() for c in children))
            else:
                top.setHidden(bool(needle) and needle not in str(top.data(0, ROLE_SEARCH)).lower())

    def set_host_status(self, name: str, status: str, error: str | None = None) -> None:
        """A host tab reports its connection: recorded as the host's one state, which the
        host list (and Fleet) follow through :attr:`connections`."""
        self.connections.set(name, status, error, source="tab")

    def _show_host_state(self, state: ConnectionState) -> None:
        item = self._items.get(state.host)
        if item is None:
            return
        item.setText(1, state.status if state.status != DISCONNECTED else "")
        item.setToolTip(1, state.message or state.status)
        colour = STATUS_COLOURS.get(state.status)
        item.setForeground(1, QBrush(colour) if colour else QBrush())
        if state.status in (ERROR, LOST) and state.message:
            self.statusBar().showMessage(f"{state.host}: {state.message}", 15000)

    def reconnect_selected(self) -> None:
        name = self.selected_name()
        view = self.open_host(name, connect=False) if name else None
        if view is not None:
            view.reconnect()

    def _fleet_saw(self, host: str, kind: str, message: str) -> None:
        """The Fleet watcher's own connection to ``host`` went down or came up."""
        view = next((v for v in self.host_views() if v.ref.label == host), None)
        if view is not None:
            if kind == "down":
                view.check_connection()  # the tab's own keepalive decides, now
            return
        state = self.connections.get(host)
        if kind == "down":
            self.connections.set(host, LOST, message, source="fleet")
        elif state.status == LOST and state.source == "fleet":
            self.connections.set(host, DISCONNECTED, source="fleet")

    def _open_single_match(self) -> None:
        """Enter in the host filter: one host left visible -> open it; several -> go to the
        list, on the first of them."""
        visible = [item for item in self._items.values() if not item.isHidden()
                   and (item.parent() is None or not item.parent().isHidden())]
        if len(visible) == 1:
            self.host_tree.setCurrentItem(visible[0])
            self.open_host(str(visible[0].data(0, ROLE_NAME)))
        elif visible:
            self.host_tree.setCurrentItem(visible[0])
            self.host_tree.setFocus()

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # --- host management -----------------------------------------------------------------------

    def add_host(self) -> None:
        from diagkit.ui.host_dialog import HostDialog

        dialog = HostDialog(self.store, parent=self)
        if dialog.exec():
            self.reload_hosts()
            self.statusBar().showMessage(f"Saved host {dialog.saved_host.name}.", 5000)

    def edit_selected(self) -> None:
        from diagkit.ui.host_dialog import HostDialog

        name = self.selected_name()
        if not name or name == LOCAL_NAME:
            return
        try:
            host = self.store.get(name)
        except DiagkitError as exc:
            self.statusBar().showMessage(str(exc))
            return
        dialog = HostDialog(self.store, host, parent=self)
        if dialog.exec():
            self.reload_hosts()
            self.statusBar().showMessage(f"Saved host {dialog.saved_host.name}.", 5000)

    def remove_selected(self) -> None:
        name = self.selected_name()
        if not name or name == LOCAL_NAME:
            return
        answer = QMessageBox.question(
            self, "Remove host", f"Forget the saved host {name} and its stored password?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            host = self.store.remove(name)
        except DiagkitError as exc:
            self.statusBar().showMessage(str(exc))
            return
        try:
            credentials.delete_password(host.password_account)
        except DiagkitError:
            pass  # no keyring: nothing was stored there either
        self.reload_hosts()
        self.statusBar().showMessage(f"Removed host {name}.", 5000)

    def import_ssh_config(self) -> None:
        from diagkit.ui.host_dialog import import_from_ssh_config

        count = import_from_ssh_config(self, self.store)
        self.reload_hosts()
        self.statusBar().showMessage(f"Imported {count} host(s) from ~/.ssh/config.", 5000)

    # --- tabs ----------------------------------------------------------------------------------

    def _activated(self, item: QTreeWidgetItem) -> None:
        name = item.data(0, ROLE_NAME)
        if name:
            self.open_host(name)

    def open_selected(self) -> None:
        name = self.selected_name()
        if name:
            self.open_host(name)

    def host_views(self) -> list[HostView]:
        return [w for i in range(self.tabs.count()) if isinstance(w := self.tabs.widget(i), HostView)]

    def open_host(self, name: str, *, connect: bool = True) -> HostView | None:
        for view in self.host_views():
            if view.ref.label == name:
                self.tabs.setCurrentWidget(view)
                return view
        try:
            ref: HostRef = LOCAL if name == LOCAL_NAME else resolve(name, self.store)
        except DiagkitError as exc:
            self.statusBar().showMessage(str(exc))
            return None
        view = HostView(ref, status=self.set_host_status, parent=self)
        view.fetch_logs_requested.connect(self.fetch_logs_from_host)
        view.case_journal = self._active_case_target
        view.forecasts = self._forecasts_for
        view.case_journaled.connect(self._case_journaled)
        view.evidence_requested.connect(self.open_evidence)
        view.dashboard.article_requested.connect(self.show_article)
        self._give_matcher(view.dashboard)
        self._hide_welcome()
        self.tabs.addTab(view, "local" if ref.is_local else ref.label)
        self.tabs.setTabToolTip(self.tabs.indexOf(view), "This machine" if ref.is_local else
                                (ref.saved.destination if ref.saved else ref.label))
        self.tabs.setCurrentWidget(view)
        if connect:
            view.start()
        return view

    def close_tab(self, index: int) -> None:
        view = self.tabs.widget(index)
        if view is self.cases_view:
            return  # the Cases tab is permanent
        if isinstance(view, HostView):
            view.shutdown()
            self.tabs.removeTab(index)
            self.set_host_status(view.ref.label, "disconnected")
            view.deleteLater()
        elif isinstance(view, LogView):
            view.shutdown()
            self.tabs.removeTab(index)
            view.deleteLater()
        elif view is not None and view is self.fleet_view:
            self.fleet_view.stop()  # closing stops watching; reopening keeps hosts and alerts
            self.tabs.removeTab(index)
        elif view is not None and view in (self.kb_view, self.metrics_view, self.history_view):
            self.tabs.removeTab(index)  # kept: reopening shows the same search and period
        elif view is not None and view is not self.welcome:
            self.tabs.removeTab(index)
            view.deleteLater()
        if all(self.tabs.widget(i) is self.cases_view for i in range(self.tabs.count())):
            self._show_welcome()

    # --- logs ----------------------------------------------------------------------------------

    def log_views(self) -> list[LogView]:
        return [w for i in range(self.tabs.count()) if isinstance(w := self.tabs.widget(i), LogView)]

    def open_logs(self, paths: list[str] | list[Path], *, title: str | None = None) -> LogView:
        """A log viewer tab for ``paths`` (several files: one timeline, merged by time)."""
        view = LogView(paths, title=title)
        view.add_to_report.connect(self._records_for_report)
        view.add_to_case.connect(lambda records, v=view: self._records_to_case(v, records))
        view.article_requested.connect(self.show_article)
        self._give_matcher(view)
        self._hide_welcome()
        self.tabs.addTab(view, "Log: " + (title or view.title))
        self.tabs.setTabToolTip(self.tabs.indexOf(view), "\n".join(str(p) for p in paths))
        self.tabs.setCurrentWidget(view)
        return view

    def open_logs_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        # "All files" first: syslog, messages, kern.log.1... often have no extension to match.
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open log files", log_dialog_folder(),
            "All files (*);;Logs (*.log *.txt *.gz *.bz2 *.xz *.json *.1 *.2)")
        if paths:
            state = settings()
            state.setValue("logs/last_folder", str(Path(paths[0]).parent))
            state.sync()
            self.open_logs(paths)

    def fetch_logs_from_host(self) -> None:
        from diagkit.ui.fetch_dialog import FetchLogsDialog

        view = self.tabs.currentWidget()
        if not isinstance(view, HostView) or view.transport is None:
            self.statusBar().showMessage("Open and connect a host tab first, then fetch its logs.", 8000)
            return
        dialog = FetchLogsDialog(view.transport, view.ref.label, parent=self)
        dialog.fetched.connect(lambda paths: self.open_logs(paths, title=f"{view.ref.label}"))
        dialog.open()

    # --- bug reports ---------------------------------------------------------------------------

    def new_bug_report(self) -> None:
        from diagkit.ui.bundle_wizard import BundleWizard

        wizard = BundleWizard(self.host_views(), self.report_records, parent=self,
                              log_views=self.log_views())
        wizard.saved.connect(self._bundle_saved)
        wizard.open()
        self.bundle_wizard = wizard

    def _bundle_saved(self, info: object) -> None:
        self.report_records.clear()
        path = getattr(info, "path", info)
        self.statusBar().showMessage(f"Bug report written to {path}.", 15000)
        target = self._active_case_target()
        if target is not None:
            from diagkit.ui.workers import run_in_background

            desk, case_id = target
            run_in_background(lambda: desk.record_bundle(case_id, Path(str(path))),
                              on_done=self._case_journaled,
                              on_error=lambda e: self.statusBar().showMessage(
                                  f"Bug report written to {path}; not journaled: {e}"),
                              owner=self)

    def open_bug_report_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Open bug report bundle", "", "Bundles (*.zip)")
        if path:
            self.open_bug_report(path)

    def open_bug_report(self, path: str | Path) -> None:
        """Verify and extract a bundle in the background, then show it in a tab."""
        from diagkit.reports.reader import open_bundle, verify
        from diagkit.ui.bundle_wizard import BundleView
        from diagkit.ui.workers import run_in_background

        self.statusBar().showMessage(f"Checking {path}…")

        def job() -> tuple[object, list[str]]:
            report = verify(path)
            return open_bundle(path), list(report.problems)

        def done(result: tuple) -> None:
            opened, problems = result
            view = BundleView(opened, problems)
            view.open_logs.connect(lambda paths: self.open_logs(paths, title=Path(path).stem))
            self._hide_welcome()
            self.tabs.addTab(view, "Report: " + Path(path).stem)
            self.tabs.setCurrentWidget(view)
            self.statusBar().showMessage(
                "Bundle verified." if not problems else f"Bundle has problems: {'; '.join(problems)}", 15000)

        def failed(error: BaseException) -> None:
            import html

            self.statusBar().showMessage(str(error))
            # Escaped rich text: Qt would render a name like 'logs/<b>x</b>' from the bundle
            # as HTML if the message were passed as it is.
            QMessageBox.warning(self, "Cannot open the bundle", f"<p>{html.escape(str(error))}</p>")

        run_in_background(job, on_done=done, on_error=failed)

    def _records_to_case(self, view: LogView, records: list) -> None:
        """Journal log records and their masked signatures into the active case (worker)."""
        from diagkit.logs.signatures import mask
        from diagkit.ui.workers import run_in_background

        target = self._active_case_target()
        if target is None:
            view.state.setText("No active case: choose one in the toolbar (Active case), then "
                               "add the records again.")
            return
        desk, case_id = target
        files = sorted({r.file for r in records})
        lines = [line for r in records for line in r.raw.splitlines()][:2000]
        signatures = sorted({mask(r.message) for r in records})[:50]

        def done(entry: object) -> None:
            view.state.setText(f"{len(records)} record(s) journaled to case {case_id}.")
            self._case_journaled(entry)

        run_in_background(
            lambda: desk.record_log_excerpt(case_id, ", ".join(files), lines, signatures),
            on_done=done, on_error=lambda e: view.state.setText(f"Not journaled: {e}"),
            owner=view)

    def _records_for_report(self, records: list) -> None:
        # kept until the next bug report takes them (BundleWizard reads them in again from
        # their logs, to mask the private keys around them)
        self.report_records.extend(records)
        self.statusBar().showMessage(f"{len(self.report_records)} log record(s) set aside for the "
                                     "bug report.", 5000)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_logs(paths)
            event.acceptProposedAction()

    def _show_welcome(self) -> None:
        if self.tabs.indexOf(self.welcome) < 0:
            self.tabs.addTab(self.welcome, "Welcome")
            self.tabs.tabBar().setTabButton(self.tabs.indexOf(self.welcome),
                                            QTabBar.ButtonPosition.RightSide, None)
            self.tabs.setCurrentWidget(self.welcome)

    def _hide_welcome(self) -> None:
        index = self.tabs.indexOf(self.welcome)
        if index >= 0:
            self.tabs.removeTab(index)

    def _tab_changed(self, index: int) -> None:
        view = self.tabs.widget(index)
        if isinstance(view, HostView):
            item = self._items.get(view.ref.label)
            if item is not None:
                self.host_tree.setCurrentItem(item)

    def _refresh_current(self) -> None:
        view = self.tabs.currentWidget()
        if isinstance(view, HostView):
            view.refresh_all()

    def _switch_view(self, index: int) -> None:
        view = self.tabs.currentWidget()
        if isinstance(view, HostView):
            view.views.setCurrentIndex(index)
            if view.views.currentWidget() is view.console:
                view.console.command_edit.setFocus()  # Ctrl+3: ready to type a command
            elif view.views.currentWidget() is view.terminal:
                view.terminal.activate()  # Ctrl+4: the shell starts (once) and takes the keys

    def _about(self) -> None:
        from diagkit import config

        QMessageBox.about(
            self, "About diagkit",
            f"<b>diagkit {__version__}</b><br>A diagnostic toolkit for support engineers.<br><br>"
            f"Config: {config.config_dir()}<br>Data and log: {config.data_dir()}<br>"
            f"Case store: {self.store_description()}")

    # --- cases (one case store per window, shared by the Cases, KB and Metrics tabs) ---------

    @property
    def known_matcher(self) -> KnownErrorMatcher | None:
        """The known-issue matcher, once loaded (the workspace's)."""
        return self.workspace.matcher

    def store_description(self) -> str:
        """Where this window's cases, KB and history live (a path or the team store's URL)."""
        return self.workspace.describe()

    def _show_store_in_use(self) -> None:
        team = self.workspace.is_team_store
        self.store_label = ElidedLabel(f"{'Team store' if team else 'Store'}: "
                                  f"{self.store_description()}")
        self.store_label.setObjectName("store-label")
        self.statusBar().addPermanentWidget(self.store_label)

    def case_store(self) -> Store:
        """The window's case/KB database (:meth:`diagkit.workspace.Workspace.store`), opened
        on first use: the configured store (a team store connects in the first worker), or
        the SQLite file ``case_store_path`` (tests). Every view of this window shares it.
        Raises :class:`diagkit.errors.StoreError` when it cannot be opened."""
        return self.workspace.store()

    # --- knowledge base, metrics, known issues ------------------------------------------------

    def _show_tab(self, view: QWidget, title: str) -> None:
        if self.tabs.indexOf(view) < 0:
            self._hide_welcome()
            self.tabs.addTab(view, title)
        self.tabs.setCurrentWidget(view)

    def open_kb(self) -> QWidget | None:
        """The Knowledge base tab (created on first use, with the starter articles if new)."""
        if self.kb_view is None:
            from diagkit.ui.kb_view import KbView

            try:
                store = self.case_store()
            except DiagkitError as exc:
                self.statusBar().showMessage(str(exc))
                return None
            self.kb_view = KbView(store, prepare=kb_ready)
            self.kb_view.changed.connect(self.reload_known_issues)
            self.kb_view.use_requested.connect(self._article_to_case)
        self._show_tab(self.kb_view, "Knowledge base")
        return self.kb_view

    def open_metrics(self) -> QWidget | None:
        if self.metrics_view is None:
            from diagkit.ui.metrics_view import MetricsView

            try:
                store = self.case_store()
            except DiagkitError as exc:
                self.statusBar().showMessage(str(exc))
                return None
            self.metrics_view = MetricsView(store)
        self._show_tab(self.metrics_view, "Metrics")
        return self.metrics_view

    def open_fleet(self, hosts: list[str] | None = None) -> QWidget | None:
        """The Fleet tab (created on first use); ``hosts`` replaces the watched hosts."""
        if self.fleet_view is None:
            from diagkit.monitor.thresholds import DEFAULT_THRESHOLDS, AlertTracker, load_thresholds
            from diagkit.ui.fleet_view import FleetView, tray_notifier

            try:
                thresholds = load_thresholds()
            except DiagkitError as exc:
                self.statusBar().showMessage(f"{exc} Using the default thresholds.")
                thresholds = DEFAULT_THRESHOLDS
            groups = {h.name: [h.group] for h in self.store.load() if h.group}
            samples = self.sample_store()
            if samples is None:
                self.statusBar().showMessage(self.statusBar().currentMessage()
                                             + " Watching without history.")
            self.fleet_view = FleetView(
                samples=samples, notify=tray_notifier(self),
                tracker=AlertTracker(thresholds, groups=groups),
                candidates=lambda: [LOCAL_NAME] + [h.name for h in self.store.load()],
                journal=self._active_case_target, connections=self.connections)
            self.fleet_view.host_event.connect(self._fleet_saw)
            self.fleet_view.open_host_requested.connect(lambda name: self.open_host(name))
            self.fleet_view.history_requested.connect(self._show_history)
        if hosts is not None:
            self.fleet_view.set_hosts(hosts)
            self.fleet_view.start()
        self._show_tab(self.fleet_view, "Fleet")
        return self.fleet_view

    def sample_store(self) -> SampleStore | None:
        """The monitoring history (the team store's, or ``data_dir()/history.db``), opened on
        first use; None (with the reason in the status bar) when it cannot be opened."""
        try:
            return self.workspace.samples()
        except DiagkitError as exc:
            self.statusBar().showMessage(str(exc))
            return None

    def _forecasts_for(self, host: str) -> list:
        """Forecast findings from the monitoring history (worker thread; [] without history)."""
        return self.workspace.forecasts_for(host)

    def open_history(self) -> QWidget | None:
        if self.history_view is None:
            from diagkit.ui.history_view import HistoryView

            samples = self.sample_store()
            if samples is None:
                return None
            self.history_view = HistoryView(samples)
        elif not self.history_view.isVisible():
            self.history_view.reload_hosts()
        self._show_tab(self.history_view, "History")
        return self.history_view

    def _show_history(self, host: str, metric: str) -> None:
        view = self.open_history()
        if view is None:
            return
        view.show_series(host, [metric])

    def watch_selected(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        current = list(self.fleet_view.hosts) if self.fleet_view is not None else []
        self.open_fleet(current + [name] if name not in current else current)

    def _article_to_case(self, article: object) -> None:
        from diagkit.ui.workers import run_in_background

        target = self._active_case_target()
        if target is None:
            self.statusBar().showMessage("No active case: choose one in the toolbar (Active "
                                         "case) to journal the article into it.", 10000)
            return
        desk, case_id = target

        def done(entry: object) -> None:
            self.statusBar().showMessage(f"Article journaled to case {case_id}.", 8000)
            self._case_journaled(entry)

        run_in_background(lambda: desk.record_article(case_id, article), on_done=done,
                          on_error=lambda e: self.statusBar().showMessage(f"Not journaled: {e}"),
                          owner=self)

    def show_article(self, slug: str) -> None:
        """Open the Knowledge base tab on the article ``slug`` (known-issue banners call this)."""
        view = self.open_kb()
        if view is not None:
            view.show_article(slug)

    def reload_known_issues(self) -> None:
        """Load the articles' match rules again (in a worker) and give them to every view."""
        from diagkit.ui.workers import run_in_background

        try:
            self.case_store()
        except DiagkitError as exc:
            self.statusBar().showMessage(str(exc))
            return
        self._matcher_loading = True

        def done(matcher: KnownErrorMatcher) -> None:
            self._matcher_loading = False
            self.workspace.matcher = matcher
            for host in self.host_views():
                host.dashboard.set_matcher(matcher)
            for logs in self.log_views():
                logs.set_matcher(matcher)

        def failed(error: BaseException) -> None:
            self._matcher_loading = False
            self.statusBar().showMessage(f"Known issues are not checked: {error}", 15000)

        run_in_background(self.workspace.read_matcher, on_done=done, on_error=failed,
                          owner=self)

    def _give_matcher(self, view: QWidget) -> None:
        # The rules are loaded when the first view that shows evidence opens, not at start-up.
        if self.known_matcher is not None:
            view.set_matcher(self.known_matcher)
        elif not self._matcher_loading:
            self.reload_known_issues()

    # --- cases tab and the active case ----------------------------------------------------------

    def _build_cases(self) -> None:
        from PySide6.QtWidgets import QComboBox, QToolBar

        from diagkit.ui.cases_view import CasesView

        self.cases_view = CasesView(self.case_desk, parent=self)
        self.cases_view.active_requested.connect(self.set_active_case)
        self.cases_view.cases_changed.connect(self.refresh_active_cases)
        self.cases_view.detail.open_host_requested.connect(lambda name: self.open_host(name))
        self.cases_view.detail.open_path_requested.connect(self._open_case_path)
        self.cases_view.detail.open_article_requested.connect(self._open_case_article)
        self.cases_view.detail.open_evidence_requested.connect(self.open_evidence)
        self.tabs.insertTab(0, self.cases_view, "Cases")
        self.tabs.tabBar().setTabButton(0, QTabBar.ButtonPosition.RightSide, None)
        self.tabs.tabBar().setTabButton(0, QTabBar.ButtonPosition.LeftSide, None)
        self.act_cases = self._action("&Cases", self.show_cases, "Ctrl+Shift+C",
                                      "Support cases: list, SLA, journal, customer updates")
        view_menu = next((a.menu() for a in self.menuBar().actions() if a.text() == "&View"), None)
        if view_menu is not None:
            view_menu.insertAction(view_menu.actions()[0] if view_menu.actions() else None,
                                   self.act_cases)

        self.active_combo = QComboBox()
        self.active_combo.setObjectName("active-case")
        self.active_combo.setMinimumContentsLength(28)
        self.active_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.active_combo.setToolTip("While a case is active, probe runs and console commands are "
                                     "recorded in its journal")
        self.active_combo.addItem("(none)", None)
        self.active_combo.currentIndexChanged.connect(self._active_chosen)
        toolbar = QToolBar("Case")
        toolbar.setObjectName("case-toolbar")
        toolbar.addWidget(QLabel(" Active case: "))
        toolbar.addWidget(self.active_combo)
        self.addToolBar(toolbar)
        self.case_toolbar = toolbar
        self.active_label = ElidedLabel()
        self.active_label.setObjectName("active-case-label")
        self.statusBar().addPermanentWidget(self.active_label)
        self.refresh_active_cases()

    def case_desk(self):  # -> CaseDesk, imported lazily (the core stays unloaded until used)
        """The window's :class:`diagkit.cases.desk.CaseDesk` on :meth:`case_store`."""
        return self.workspace.desk()

    def set_engineer(self, name: str | None) -> None:
        """The engineer's name was set (first-run prompt): sign from now on with it."""
        if name:
            self.workspace.set_engineer(name)

    def show_cases(self) -> None:
        self._hide_welcome()
        self.tabs.setCurrentWidget(self.cases_view)

    def refresh_active_cases(self) -> None:
        """Fill the active-case selector with the open cases (read in a worker)."""
        from diagkit.ui.workers import run_in_background

        try:
            self.case_store()
            current = self.workspace.saved_active_case()
        except DiagkitError as exc:
            self.active_label.setText(str(exc))
            return

        def job() -> list:
            return self.workspace.open_cases(including=current)

        def done(cases: list) -> None:
            nonlocal current
            # The engineer may have chosen another case while the list was read: the saved
            # choice (a small settings file) is the truth, not the one seen at the start.
            try:
                current = self.workspace.saved_active_case()
            except DiagkitError:
                pass
            self.active_combo.blockSignals(True)
            self.active_combo.clear()
            self.active_combo.addItem("(none)", None)
            for case in cases:
                self.active_combo.addItem(f"#{case.id} {case.title}", case.id)
            if current is not None and self.active_combo.findData(current) < 0:
                self.active_combo.addItem(f"#{current}", current)
            self.active_combo.setCurrentIndex(max(0, self.active_combo.findData(current)))
            self.active_combo.blockSignals(False)
            self.workspace.active_case = self.active_combo.currentData()
            self._show_active()

        run_in_background(job, on_done=done,
                          on_error=lambda e: self.active_label.setText(str(e)), owner=self)

    def set_active_case(self, case_id: int | None) -> None:
        index = self.active_combo.findData(case_id)
        if index < 0 and case_id is not None:
            self.active_combo.addItem(f"#{case_id}", case_id)
            index = self.active_combo.count() - 1
        self.active_combo.setCurrentIndex(max(0, index))
        self._active_chosen(self.active_combo.currentIndex())

    def _active_chosen(self, _index: int) -> None:
        try:
            self.workspace.choose_case(self.active_combo.currentData())
        except DiagkitError as exc:
            self.statusBar().showMessage(f"The active case was not saved: {exc}", 15000)
        self._show_active()

    def _show_active(self) -> None:
        case_id = self.active_combo.currentData()
        self.active_label.setText(f"Journaling to {self.active_combo.currentText()}"
                                  if case_id is not None else "No active case")

    def _active_case_target(self) -> tuple[object, int] | None:
        return self.workspace.active_target()

    def _case_journaled(self, entry: object) -> None:
        shown = self.cases_view.detail.case
        if shown is not None and getattr(entry, "case_id", None) == shown.id:
            self.cases_view.detail.reload()

    def open_evidence(self, event: object) -> None:
        """Open a timeline event's evidence: the log record in the log viewer, the journal
        entry in the case, the probe card in the host's tab, the alert's series in History."""
        ev = getattr(event, "evidence", None)
        if ev is None:
            return
        if ev.kind == "log" and ev.file:
            self._open_log_record(ev.file, ev.record)
        elif ev.case_id is not None and ev.entry_id is not None:
            self.show_cases()
            self.cases_view.select_case(ev.case_id)
            self.cases_view.detail.show_journal_entry(ev.entry_id)
        elif ev.kind == "probe" and ev.host:
            view = self.open_host(ev.host, connect=False)
            if view is not None:
                view.views.setCurrentWidget(view.dashboard)
                view.dashboard.show_card(ev.probe)
        elif ev.kind == "alert" and ev.host:
            self._show_history(ev.host, ev.metric)

    def _open_log_record(self, path: str, record: int | None) -> None:
        for view in self.log_views():
            if [str(p) for p in view.paths] == [path]:
                self.tabs.setCurrentWidget(view)
                if record is not None:
                    view.go_to_row(record)
                return
        view = self.open_logs([path])
        if record is not None:
            view.opened.connect(lambda v=view, r=record: v.go_to_row(r))

    def _open_case_path(self, path: str) -> None:
        if path.endswith(".zip"):
            self.open_bug_report(path)
        else:
            from diagkit.ui.cases_view import open_url

            open_url(path)

    def _open_case_article(self, slug: str) -> None:
        show = getattr(self, "show_article", None)  # the Knowledge base tab, when present
        if show is not None:
            show(slug)
        else:
            self.statusBar().showMessage(f"Knowledge base article {slug}", 8000)

    # --- state across restarts -----------------------------------------------------------------

    def save_state(self) -> None:
        state = settings()
        state.setValue("main/geometry", self.saveGeometry())
        state.setValue("main/state", self.saveState())
        state.setValue("main/dock_width", self.dock.width())
        views = self.host_views()
        state.setValue("main/open_hosts", [v.ref.label for v in views])
        current = self.tabs.currentWidget()
        state.setValue("main/current_host", current.ref.label if isinstance(current, HostView) else "")
        state.setValue("main/current_views",
                       json.dumps({v.ref.label: v.views.currentIndex() for v in views}))
        state.sync()
        from diagkit import config

        try:
            config.make_private(Path(state.fileName()))  # Qt writes it with the default mode
        except OSError:
            pass

    def restore_state(self) -> None:
        state = settings()
        geometry = state.value("main/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(geometry)
        window_state = state.value("main/state")
        if isinstance(window_state, QByteArray | bytes):
            self.restoreState(window_state)
        try:
            saved = int(state.value("main/dock_width") or DOCK_DEFAULT_WIDTH)
            self._dock_width = max(DOCK_MIN_WIDTH, saved)
        except (TypeError, ValueError):
            self._dock_width = DOCK_DEFAULT_WIDTH
        names = state.value("main/open_hosts") or []
        names = [names] if isinstance(names, str) else list(names)
        try:
            views = json.loads(str(state.value("main/current_views") or "{}"))
        except ValueError:
            views = {}
        for name in names:
            if name == LOCAL_NAME or name in self._items:
                view = self.open_host(name)
                if view is not None and isinstance(views, dict):
                    view.views.setCurrentIndex(int(views.get(name, 0)))
        current = state.value("main/current_host") or ""
        for view in self.host_views():
            if view.ref.label == current:
                self.tabs.setCurrentWidget(view)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Dock sizes in a restored state only hold once the window has its real size: set the
        # saved width after the first show, when the layout can honour it.
        width = getattr(self, "_dock_width", DOCK_DEFAULT_WIDTH)
        if not getattr(self, "_dock_sized", False):
            self._dock_sized = True
            QTimer.singleShot(0, lambda: self.resizeDocks([self.dock], [width],
                                                          Qt.Orientation.Horizontal))

    def closeEvent(self, event) -> None:
        credentials.set_warning_handler(None)
        self.save_state()
        for view in self.host_views():
            view.shutdown()
        for log_view in self.log_views():
            log_view.shutdown()
        if self.fleet_view is not None:
            self.fleet_view.stop()
        cancel_all_and_wait(8000)
        self.workspace.close()
        super().closeEvent(event)
