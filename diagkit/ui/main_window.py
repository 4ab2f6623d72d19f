"""The main window: saved hosts on the left, one tab per open host with its latest snapshot."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from diagkit import __version__
from diagkit.errors import DiagkitError
from diagkit.hosts import LOCAL_NAME, HostStore
from diagkit.session import LOCAL, HostRef, resolve
from diagkit.ui.host_view import HostView
from diagkit.ui.workers import cancel_all_and_wait

ROLE_REF = Qt.ItemDataRole.UserRole


class MainWindow(QMainWindow):
    def __init__(self, store: HostStore | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"diagkit {__version__}")
        self.resize(1200, 780)
        self.store = store or HostStore()
        self._items: dict[str, QTreeWidgetItem] = {}

        self.tabs = QTabWidget()
        self.tabs.setTabsClosable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.setCentralWidget(self.tabs)

        self.search = QLineEdit(placeholderText="Filter hosts (name, address, tag)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.host_tree = QTreeWidget()
        self.host_tree.setHeaderLabels(["Host", "Status"])
        header = self.host_tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.host_tree.itemActivated.connect(self._activated)
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.host_tree)
        dock = QDockWidget("Hosts", self)
        dock.setObjectName("hosts-dock")
        dock.setWidget(panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

        self._build_menu()
        self.statusBar().showMessage("Ready. Double-click a host (or press Enter) to open it.")
        self.reload_hosts()
        self._restore()

    # --- hosts ---------------------------------------------------------------------------------

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        reload = QAction("&Reload hosts", self, shortcut=QKeySequence("Ctrl+R"))
        reload.triggered.connect(self.reload_hosts)
        quit_ = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_.triggered.connect(self.close)
        menu.addAction(reload)
        menu.addAction(quit_)
        host_menu = self.menuBar().addMenu("&Host")
        snap = QAction("Run &snapshot", self, shortcut=QKeySequence("F5"))
        snap.triggered.connect(self._refresh_current)
        host_menu.addAction(snap)
        close_tab = QAction("&Close tab", self, shortcut=QKeySequence("Ctrl+W"))
        close_tab.triggered.connect(lambda: self.close_tab(self.tabs.currentIndex()))
        host_menu.addAction(close_tab)

    def reload_hosts(self) -> None:
        self.host_tree.clear()
        self._items.clear()
        local = QTreeWidgetItem(["This machine (local)", "ready"])
        local.setData(0, ROLE_REF, LOCAL_NAME)
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
                self.host_tree.addTopLevelItem(groups[group])
            item = QTreeWidgetItem([host.name, "disconnected"])
            item.setToolTip(0, f"{host.destination}\n{', '.join(host.tags)}\n{host.notes}".strip())
            item.setData(0, ROLE_REF, host.name)
            item.setData(0, Qt.ItemDataRole.UserRole + 1, " ".join([host.address, *host.tags]))
            groups[group].addChild(item)
            self._items[host.name] = item
        self.host_tree.expandAll()

    def _filter(self, text: str) -> None:
        needle = text.lower().strip()
        for i in range(self.host_tree.topLevelItemCount()):
            top = self.host_tree.topLevelItem(i)
            children = [top.child(j) for j in range(top.childCount())]
            for child in children:
                hay = f"{child.text(0)} {child.data(0, Qt.ItemDataRole.UserRole + 1)}".lower()
                child.setHidden(bool(needle) and needle not in hay)
            if children:
                top.setHidden(all(c.isHidden() for c in children))
            elif top.data(0, ROLE_REF):
                top.setHidden(bool(needle) and needle not in top.text(0).lower())

    def set_host_status(self, name: str, status: str, error: str | None = None) -> None:
        item = self._items.get(name)
        if item is None:
            return
        item.setText(1, status)
        item.setToolTip(1, error or status)
        colour = {"error": QColor("#c62828"), "connected": QColor("#2e7d32")}.get(status)
        item.setForeground(1, QBrush(colour) if colour else QBrush())

    # --- tabs ----------------------------------------------------------------------------------

    def _activated(self, item: QTreeWidgetItem) -> None:
        name = item.data(0, ROLE_REF)
        if name:
            self.open_host(name)

    def open_host(self, name: str) -> HostView | None:
        for i in range(self.tabs.count()):
            view = self.tabs.widget(i)
            if isinstance(view, HostView) and view.ref.label == name:
                self.tabs.setCurrentIndex(i)
                return view
        try:
            ref: HostRef = LOCAL if name == LOCAL_NAME else resolve(name, self.store)
        except DiagkitError as exc:
            self.statusBar().showMessage(str(exc))
            return None
        view = HostView(ref, status=self.set_host_status, parent=self)
        self.tabs.addTab(view, "local" if ref.is_local else ref.label)
        self.tabs.setCurrentWidget(view)
        view.refresh()
        return view

    def close_tab(self, index: int) -> None:
        view = self.tabs.widget(index)
        if isinstance(view, HostView):
            view.shutdown()
            self.tabs.removeTab(index)
            view.deleteLater()

    def _refresh_current(self) -> None:
        view = self.tabs.currentWidget()
        if isinstance(view, HostView):
            view.refresh()

    # --- lifecycle -----------------------------------------------------------------------------

    def _restore(self) -> None:
        settings = QSettings("diagkit", "diagkit")
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def closeEvent(self, event) -> None:
        QSettings("diagkit", "diagkit").setValue("main/geometry", self.saveGeometry())
        for i in range(self.tabs.count()):
            view = self.tabs.widget(i)
            if isinstance(view, HostView):
                view.shutdown()
        if not cancel_all_and_wait(8000):
            QMessageBox.warning(self, "diagkit", "Some background work did not stop in time.")
        super().closeEvent(event)


def status_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label
