"""The Cases tab: the case list (SLA time left in colour) and the selected case's detail.

Every read and write goes through :class:`diagkit.cases.desk.CaseDesk` in a worker; a refused
change (invalid transition, stale copy, locked database) shows on the detail, next to the
button that asked for it. The view holds no rules: allowed transitions come from
:mod:`diagkit.cases.lifecycle`, severity from :mod:`diagkit.cases.triage`, SLA from the desk.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeySequence,
    QResizeEvent,
    QShortcut,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from diagkit.cases import lifecycle
from diagkit.cases.desk import format_duration
from diagkit.cases.lifecycle import Status
from diagkit.errors import DiagkitError
from diagkit.store.contract import Case, JournalEntry
from diagkit.ui.case_dialog import CaseDialog, severity_preview, triage_combos
from diagkit.ui.flow_layout import FlowLayout
from diagkit.ui.inline import error_label
from diagkit.ui.rows_model import RowsModel
from diagkit.ui.workers import run_in_background

if TYPE_CHECKING:
    from diagkit.cases.desk import CaseDesk, CaseSla
    from diagkit.cases.sla import SlaState

BREACHED_COLOUR = QColor("#d32f2f")
WARNING_COLOUR = QColor("#ef6c00")
OPEN_STATUSES = lifecycle.OPEN_STATUSES  # the lifecycle's list; main_window imports it here
COLUMNS = ("#", "Title", "Customer", "Severity", "Status", "SLA left", "Updated")
COL_ID, COL_TITLE, COL_CUSTOMER, COL_SEVERITY, COL_STATUS, COL_SLA, COL_UPDATED = range(7)
COLUMN_WIDTHS = {COL_ID: 36, COL_CUSTOMER: 80, COL_SEVERITY: 56, COL_STATUS: 90, COL_SLA: 110,
                 COL_UPDATED: 86}
SIDE_BY_SIDE_FROM = 900  # px of the Cases tab's width: list and detail side by side from here
TITLE_MIN = 220  # px the case list's Title column keeps before optional columns give way
ROLE_CASE = Qt.ItemDataRole.UserRole
ROLE_SORT = Qt.ItemDataRole.UserRole + 1

# How each journal kind is labelled in the timeline (label, colour).
KIND_LABELS: dict[str, tuple[str, str]] = {
    "created": ("Opened", "#455a64"),
    "note": ("Note", "#1565c0"),
    "correction": ("Correction", "#6a1b9a"),
    "status": ("Status", "#455a64"),
    "customer_update": ("Customer update", "#2e7d32"),
    "probe": ("Probe run", "#00838f"),
    "command": ("Command", "#4e342e"),
    "bundle": ("Bug report", "#5d4037"),
    "log_excerpt": ("Log excerpt", "#827717"),
    "kb_article": ("KB article", "#283593"),
    "known_issue": ("Known issue", "#c62828"),
    "csat": ("CSAT", "#f9a825"),
    "case_update": ("Fields edited", "#546e7a"),
    "host_link": ("Hosts linked", "#00695c"),
    "alert": ("Monitoring alert", "#e65100"),
    "finding": ("Finding", "#ad1457"),
}


def sla_text(state: SlaState | None) -> str:
    """What the SLA column says about one clock."""
    if state is None:
        return ""
    if state.breached:
        return f"breached {format_duration(state.overdue)}" if not state.stopped else "breached"
    if state.stopped:
        return "met"
    if state.paused:
        return f"paused ({format_duration(state.remaining)} left)"
    return f"{format_duration(state.remaining)} left"


def sla_colour(state: SlaState | None) -> QColor | None:
    """Red when breached, orange when close to breaching, None (normal text) otherwise."""
    if state is None:
        return None
    if state.breached:
        return BREACHED_COLOUR
    if state.warning:
        return WARNING_COLOUR
    return None


def _local(moment: datetime | None) -> str:
    return f"{moment.astimezone():%Y-%m-%d %H:%M}" if moment else ""


def _error_text(error: BaseException) -> str:
    if isinstance(error, DiagkitError):
        return str(error)
    return f"Unexpected error ({type(error).__name__}: {error}). Nothing was changed; see the log file."


@dataclass(frozen=True)
class CaseRow:
    case: Case
    sla: CaseSla | None


class CaseListModel(RowsModel[CaseRow]):
    """The cases as rows; the SLA column carries the clock closest to breaching."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)

    def row_of(self, case_id: int) -> int:
        return next((i for i, r in enumerate(self.rows) if r.case.id == case_id), -1)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        case, col = row.case, index.column()
        worst = row.sla.worst if row.sla is not None else None
        if role == ROLE_CASE:
            return case
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(case, col, worst)
        if role == ROLE_SORT:
            if col == COL_ID:
                return case.id
            if col == COL_SLA:
                # breached first (most overdue first), then least time left, then no SLA
                return worst.remaining.total_seconds() if worst is not None else float("inf")
            if col == COL_UPDATED:
                return case.updated.timestamp() if case.updated else 0.0
            return self._display(case, col, worst)
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_SLA:
            colour = sla_colour(worst)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_SLA and row.sla is not None:
            parts = [f"First response: {sla_text(row.sla.first_response) or 'n/a'}",
                     f"Resolution: {sla_text(row.sla.resolution) or 'n/a'}"]
            if worst is not None and worst.due_at is not None:
                parts.append(f"Due {_local(worst.due_at)}")
            return "\n".join(parts)
        return None

    @staticmethod
    def _display(case: Case, col: int, worst: SlaState | None) -> Any:
        if col == COL_ID:
            return str(case.id)
        if col == COL_TITLE:
            return case.title
        if col == COL_CUSTOMER:
            return case.customer
        if col == COL_SEVERITY:
            return case.severity or "—"
        if col == COL_STATUS:
            return Status(case.status).label if case.status in Status._value2member_map_ else case.status
        if col == COL_SLA:
            return sla_text(worst) if worst is not None else ("untriaged" if not case.severity else "")
        if col == COL_UPDATED:
            return f"{case.updated.astimezone():%m-%d %H:%M}" if case.updated else ""
        return None


class CaseFilter(QSortFilterProxyModel):
    """Search across id, title, customer, status, severity (case-insensitive substring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.needle = ""
        self.setSortRole(ROLE_SORT)

    def set_needle(self, text: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9; invalidateFilter is deprecated there
            self.beginFilterChange()
            self.needle = text.strip().lower()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.needle = text.strip().lower()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self.needle:
            return True
        case: Case = self.sourceModel().rows[row].case  # type: ignore[attr-defined]
        hay = " ".join([str(case.id), case.title, case.customer, case.status, case.severity or "",
                        case.ticket_ref, case.product, *case.tags, *case.hosts]).lower()
        return self.needle in hay


@dataclass(frozen=True)
class CaseDetails:
    """Everything the detail pane shows, read in one background job."""

    case: Case
    journal: tuple[JournalEntry, ...]
    sla: CaseSla | None


class CaseDetailView(QWidget):
    """One case: fields, triage, status actions, timeline, note, customer update, KB article."""

    changed = Signal(object)  # Case, after any successful write
    open_host_requested = Signal(str)
    open_path_requested = Signal(str)
    open_article_requested = Signal(str)  # slug
    active_requested = Signal(int)
    open_evidence_requested = Signal(object)  # TimelineEvent: a log record, probe card, alert

    def __init__(self, desk: Callable[[], CaseDesk], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._desk = desk
        self.details: CaseDetails | None = None
        self.update_dialog: QWidget | None = None

        self.heading = QLabel("Select a case on the left, or create one with New case.")
        self.heading.setObjectName("heading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.error = error_label("error")

        # fields
        self.fields = QLabel()
        self.fields.setWordWrap(True)
        self.fields.setTextFormat(Qt.TextFormat.RichText)
        self.fields.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.fields.linkActivated.connect(self._link)
        self.sla_label = QLabel()
        self.sla_label.setObjectName("sla")
        self.sla_label.setWordWrap(True)
        self.known_issues = QLabel()
        self.known_issues.setObjectName("known_issues")
        self.known_issues.setWordWrap(True)
        self.known_issues.setTextFormat(Qt.TextFormat.RichText)
        self.known_issues.linkActivated.connect(self._link)
        self.known_issues.hide()
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Edit title, customer, contact, product, tags, ticket")
        self.edit_button.clicked.connect(self.edit_case)
        self.active_button = QPushButton("Make active")
        self.active_button.setToolTip("Journal probe runs and console commands to this case")
        self.active_button.clicked.connect(self._make_active)

        # triage
        self.impact_combo, self.urgency_combo = triage_combos()
        self.severity_label = QLabel()
        self.triage_button = QPushButton("Triage")
        self.triage_button.setToolTip("Set the severity from impact x urgency (moves a new case to triaged)")
        self.triage_button.clicked.connect(self.apply_triage)
        self.impact_combo.currentIndexChanged.connect(self._preview_triage)
        self.urgency_combo.currentIndexChanged.connect(self._preview_triage)
        # Rows of actions wrap (FlowLayout) instead of hiding behind a horizontal scroll bar.
        triage_row = FlowLayout()
        triage_row.addWidget(QLabel("Impact:"))
        triage_row.addWidget(self.impact_combo)
        triage_row.addWidget(QLabel("Urgency:"))
        triage_row.addWidget(self.urgency_combo)
        triage_row.addWidget(self.severity_label)
        triage_row.addWidget(self.triage_button)

        # status actions: one button per state, enabled only for the allowed next states
        self.status_buttons: dict[str, QPushButton] = {}
        status_row = FlowLayout()
        status_row.addWidget(QLabel("Move to:"))
        for status in Status:
            button = QPushButton(status.label)
            button.setObjectName(f"status-{status.value}")
            button.clicked.connect(lambda _=False, s=status.value: self.request_status(s))
            self.status_buttons[status.value] = button
            status_row.addWidget(button)
        self.csat_combo = QComboBox()
        self.csat_combo.addItem("CSAT: –", None)
        for score in range(1, 6):
            self.csat_combo.addItem(f"CSAT: {score}", score)
        self.csat_combo.setToolTip("Customer satisfaction (1-5), saved when the case is closed "
                                   "(or now, for a closed case)")
        self.csat_combo.activated.connect(self._csat_chosen)
        self.status_note = QLineEdit(placeholderText="Optional note with the status change")
        note_status_row = QHBoxLayout()
        note_status_row.addWidget(self.status_note, 1)
        note_status_row.addWidget(self.csat_combo)

        # hosts
        self.hosts_edit = QLineEdit(placeholderText="Link hosts: names, comma-separated")
        self.hosts_button = QPushButton("Link")
        self.hosts_button.clicked.connect(self.link_hosts)
        self.hosts_edit.returnPressed.connect(self.link_hosts)
        hosts_row = QHBoxLayout()
        hosts_row.addWidget(self.hosts_edit, 1)
        hosts_row.addWidget(self.hosts_button)

        # timeline + note
        self.timeline = QTextBrowser()
        self.timeline.setObjectName("timeline")
        self.timeline.setOpenLinks(False)
        self.timeline.anchorClicked.connect(lambda url: self._link(url.toString()))
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText("Add a note (Markdown). Ctrl+Enter adds it.")
        self.note_edit.setMaximumHeight(90)
        self.note_button = QPushButton("Add note")
        self.note_button.clicked.connect(self.add_note)
        QShortcut(QKeySequence("Ctrl+Return"), self.note_edit, self.add_note)
        self.update_button = QPushButton("Customer update…")
        self.update_button.setToolTip("Compose an update for the customer from the case's journal")
        self.update_button.clicked.connect(self.compose_update)
        self.kb_button = QPushButton("Create KB article")
        self.kb_button.setToolTip("Draft a knowledge-base article from this case's findings and notes")
        self.kb_button.clicked.connect(self.create_kb_article)
        note_buttons = FlowLayout()
        note_buttons.addWidget(self.note_button)
        note_buttons.addWidget(self.update_button)
        note_buttons.addWidget(self.kb_button)
        note_row = QVBoxLayout()
        note_row.addWidget(self.note_edit, 1)
        note_row.addLayout(note_buttons)

        head_row = QVBoxLayout()
        head_row.addWidget(self.heading)
        head_actions = FlowLayout()
        head_actions.addWidget(self.active_button)
        head_actions.addWidget(self.edit_button)
        head_row.addLayout(head_actions)
        info = QGroupBox("Case")
        info_layout = QVBoxLayout(info)
        info_layout.addWidget(self.fields)
        info_layout.addWidget(self.sla_label)
        info_layout.addWidget(self.known_issues)
        info_layout.addLayout(hosts_row)
        work = QGroupBox("Triage and status")
        work_layout = QVBoxLayout(work)
        work_layout.addLayout(triage_row)
        work_layout.addLayout(status_row)
        work_layout.addLayout(note_status_row)

        self.body = QWidget()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head_row)
        layout.addWidget(self.error)
        layout.addWidget(info)
        layout.addWidget(work)
        # the journal as written, and the case's timeline: every source merged in time order
        from diagkit.ui.timeline_view import TimelineView

        self.timeline_view = TimelineView()
        self.timeline_view.evidence_requested.connect(self._open_evidence)
        self.journal_tabs = QTabWidget()
        self.journal_tabs.setDocumentMode(True)
        self.journal_tabs.addTab(self.timeline, "Journal")
        self.journal_tabs.addTab(self.timeline_view, "Timeline")
        self.journal_tabs.currentChanged.connect(lambda _i: self._load_timeline())
        # room for the events and what came first: the case pane scrolls rather than squash them
        self.journal_tabs.setMinimumHeight(420)
        layout.addWidget(self.journal_tabs, 1)
        layout.addLayout(note_row)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.body)
        self._set_enabled(False)

    # --- loading ---------------------------------------------------------------------------------

    @property
    def case(self) -> Case | None:
        return self.details.case if self.details is not None else None

    def load(self, case_id: int | None) -> None:
        """Read the case, its journal and SLA in the background, then show them."""
        if case_id is None:
            self.details = None
            self.heading.setText("Select a case on the left, or create one with New case.")
            self.timeline.clear()
            self.timeline_view.set_source(None)
            self._timeline_case = None
            self.fields.clear()
            self.sla_label.clear()
            self.known_issues.hide()
            self._set_enabled(False)
            return
        desk = self._desk()

        def job() -> CaseDetails:
            case = desk.store.get_case(case_id)
            return CaseDetails(case, tuple(desk.store.journal(case_id)), desk.sla(case))

        run_in_background(job, on_done=self.show_details, on_error=self.show_error, owner=self)

    def reload(self) -> None:
        if self.case is not None:
            self.load(self.case.id)

    def show_details(self, details: CaseDetails) -> None:
        self.details = details
        case = details.case
        self._set_enabled(True)
        self.heading.setText(f"#{case.id} {case.title}")
        rows = [("Customer", case.customer), ("Contact", case.contact), ("Product",
                " ".join(p for p in (case.product, case.version) if p)), ("Ticket", case.ticket_ref),
                ("Tags", ", ".join(case.tags)), ("Engineer", case.engineer),
                ("Severity", case.severity or "not triaged"),
                ("Status", Status(case.status).label), ("Opened", _local(case.created)),
                ("Updated", _local(case.updated))]
        if case.csat is not None:
            rows.append(("CSAT", f"{case.csat}/5"))
        cells = [f"<b>{html.escape(k)}:</b> {html.escape(v)}" for k, v in rows if v]
        if case.hosts:
            links = ", ".join(f'<a href="host:{html.escape(h, quote=True)}">{html.escape(h)}</a>'
                              for h in case.hosts)
            cells.append(f"<b>Hosts:</b> {links}")
        self.fields.setText(" &nbsp;·&nbsp; ".join(cells))
        self._show_sla(details.sla)
        self._show_known_issues(details.journal)
        self._show_status_actions(case)
        self.impact_combo.setCurrentIndex(max(0, self.impact_combo.findData(case.impact)))
        self.urgency_combo.setCurrentIndex(max(0, self.urgency_combo.findData(case.urgency)))
        self._preview_triage()
        self.csat_combo.setCurrentIndex(max(0, self.csat_combo.findData(case.csat)))
        self.render_timeline(details.journal)
        self._timeline_case: int | None = None  # the Timeline tab reads it again when shown
        self._load_timeline()
        pending = getattr(self, "_pending_entry", None)
        if pending is not None and any(e.id == pending for e in details.journal):
            self.show_journal_entry(pending)

    def _load_timeline(self) -> None:
        """Compute the case's timeline in a worker, when its tab is shown."""
        case = self.case
        if case is None or self.journal_tabs.currentWidget() is not self.timeline_view:
            return
        if getattr(self, "_timeline_case", None) == case.id:
            return
        self._timeline_case = case.id
        desk, case_id = self._desk(), case.id

        def job() -> Any:
            from diagkit.timeline import case_timeline, open_history

            samples = open_history()
            try:
                return case_timeline(desk.store, case_id, samples=samples)
            finally:
                if samples is not None:
                    samples.close()

        self.timeline_view.set_source(job)

    def _open_evidence(self, event: Any) -> None:
        evidence = event.evidence
        if evidence.entry_id is not None and evidence.kind != "log":
            self.show_journal_entry(evidence.entry_id)  # journaled: the entry says it all
        else:
            self.open_evidence_requested.emit(event)

    def show_journal_entry(self, entry_id: int) -> None:
        """The Journal tab, scrolled to the entry (once the case is shown, if it is loading)."""
        self.journal_tabs.setCurrentWidget(self.timeline)
        shown = self.details is not None and any(e.id == entry_id for e in self.details.journal)
        self._pending_entry = None if shown else entry_id
        if shown:
            self.timeline.scrollToAnchor(f"entry-{entry_id}")

    def _show_sla(self, sla: CaseSla | None) -> None:
        if sla is None or (sla.first_response is None and sla.resolution is None):
            self.sla_label.setText("SLA: starts when the case is triaged (severity known).")
            self.sla_label.setStyleSheet("")
            return
        text = (f"SLA: first response {sla_text(sla.first_response) or 'n/a'} · "
                f"resolution {sla_text(sla.resolution) or 'n/a'}")
        if sla.paused:
            text += " · clocks paused while waiting on the customer"
        self.sla_label.setText(text)
        colour = sla_colour(sla.worst)
        self.sla_label.setStyleSheet(f"color: {colour.name()}" if colour is not None else "")

    def _show_known_issues(self, journal: Sequence[JournalEntry]) -> None:
        lines, seen = [], set()
        for entry in journal:
            if entry.kind != "known_issue" or entry.data.get("slug") in seen:
                continue
            slug = str(entry.data.get("slug", ""))
            seen.add(slug)
            title = html.escape(str(entry.data.get("title", slug)))
            host = entry.data.get("host")
            where = f" (on {html.escape(str(host))})" if host else ""
            lines.append(f'<b>Known issue:</b> <a href="kb:{html.escape(slug, quote=True)}">'
                         f"{title}</a>{where}")
        self.known_issues.setText("<br>".join(lines))
        self.known_issues.setVisible(bool(lines))

    def _show_status_actions(self, case: Case) -> None:
        allowed = {s.value for s in lifecycle.allowed_next(case.status)}
        for value, button in self.status_buttons.items():
            button.setVisible(value != case.status)
            button.setEnabled(value in allowed)
            if value in allowed:
                button.setToolTip(f"Move the case to {Status(value).label}")
            else:
                try:
                    lifecycle.transition(case.status, value)
                except lifecycle.InvalidTransition as exc:
                    button.setToolTip(f"Not now: {exc.reason}")

    def render_timeline(self, journal: Sequence[JournalEntry]) -> None:
        """The journal, oldest first; notes as Markdown, other kinds as one labelled line."""
        self.timeline.clear()
        cursor = QTextCursor(self.timeline.document())
        corrected = {e.data.get("corrects") for e in journal if e.kind == "correction"}
        for entry in journal:
            label, colour = KIND_LABELS.get(entry.kind, (entry.kind.replace("_", " ").title(), "#616161"))
            stamp = f"{entry.time.astimezone():%Y-%m-%d %H:%M}"
            who = f" · {html.escape(entry.engineer)}" if entry.engineer else ""
            flag = " <i>(corrected below)</i>" if entry.id in corrected else ""
            self._plain_block(cursor, first=cursor.atStart())
            cursor.insertHtml(
                f'<a name="entry-{entry.id}"></a>'
                f'<span style="color:{colour}; font-weight:bold">[{html.escape(label)}]</span> '
                f'<span style="color:#757575">{stamp}{who}</span>{flag}')
            self._plain_block(cursor)
            if entry.kind in ("note", "correction"):
                cursor.insertMarkdown(entry.text or "")
            else:
                cursor.insertHtml(self._entry_html(entry))
        self.timeline.moveCursor(QTextCursor.MoveOperation.End)

    @staticmethod
    def _plain_block(cursor: QTextCursor, *, first: bool = False) -> None:
        # A fresh block outside any list, with default formats (Markdown lists and headings
        # would otherwise carry over into the next entry).
        if not first:
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        current = cursor.currentList()
        if current is not None:
            current.remove(cursor.block())
        fmt = QTextBlockFormat()
        fmt.setTopMargin(2)
        cursor.setBlockFormat(fmt)
        cursor.setCharFormat(QTextCharFormat())

    @staticmethod
    def _entry_html(entry: JournalEntry) -> str:
        d, esc = entry.data, html.escape
        text = esc(entry.text or "")
        if entry.kind == "status" and d.get("to"):
            moved = (f"{esc(str(d.get('from') or '—')).replace('_', ' ')} → "
                     f"<b>{esc(str(d['to'])).replace('_', ' ')}</b>")
            auto = entry.text.startswith("Status: ")
            return moved if auto else f"{moved}: {text}"
        if entry.kind == "customer_update":
            subject = esc(str(d.get("subject", "")))
            via = esc(str(d.get("channel", "")))
            path = d.get("path")
            where = (f' → <a href="file:{esc(str(path), quote=True)}">{esc(Path(str(path)).name)}</a>'
                     if path else "")
            kind = esc(str(d.get("update_kind", "")).replace("_", " "))
            return f"<b>{subject}</b> ({kind}, via {via}){where}"
        if entry.kind == "probe":
            host = esc(str(d.get("host", "")))
            findings = d.get("findings") or []
            items = "".join(f"<li>{esc(str(f.get('title', f)) if isinstance(f, dict) else str(f))}</li>"
                            for f in findings[:8])
            more = f"<li>… {len(findings) - 8} more</li>" if len(findings) > 8 else ""
            errors = d.get("errors") or []
            failed = f"<br>failed: {esc(', '.join(map(str, errors)))}" if errors else ""
            return (f'<a href="host:{host}">{host}</a>: {text}{failed}'
                    + (f"<ul>{items}{more}</ul>" if items else ""))
        if entry.kind == "command":
            exit_status = d.get("exit_status")
            return (f"<code>{text}</code> on {esc(str(d.get('host', '')))} "
                    f"(exit {esc(str(exit_status))}, {float(d.get('duration') or 0):.1f} s)")
        if entry.kind == "bundle":
            path = str(d.get("path", ""))
            return f'<a href="file:{esc(path, quote=True)}">{esc(path)}</a>'
        if entry.kind == "log_excerpt":
            sigs = "".join(f"<li>{esc(str(s))}</li>" for s in (d.get("signatures") or [])[:5])
            return (f"{esc(str(d.get('file', '')))}: {int(d.get('lines') or 0)} line(s)"
                    + (f"<ul>{sigs}</ul>" if sigs else "") + f"<pre>{text[:2000]}</pre>")
        if entry.kind in ("kb_article", "known_issue"):
            slug = esc(str(d.get("slug", "")), quote=True)
            title = esc(str(d.get("title", slug)))
            reasons = "".join(f"<li>{esc(str(r))}</li>" for r in d.get("reasons") or [])
            return f'<a href="kb:{slug}">{title}</a>' + (f"<ul>{reasons}</ul>" if reasons else "")
        if entry.kind == "csat":
            return f"Customer satisfaction {esc(str(d.get('score')))}/5"
        if entry.kind == "case_update":
            fields = d.get("fields") or {}
            return "; ".join(f"{esc(str(k))} = {esc(str(v))}" for k, v in fields.items()) or text
        if entry.kind == "host_link":
            return ", ".join(f'<a href="host:{esc(str(h), quote=True)}">{esc(str(h))}</a>'
                             for h in d.get("hosts") or []) or text
        return text

    # --- actions ---------------------------------------------------------------------------------

    def _write(self, job: Callable[[], Any], *, then: Callable[[Any], None] | None = None) -> None:
        """Run a store write in the background; on success reload the case and tell the list."""
        self.show_error("")

        def done(result: Any) -> None:
            if then is not None:
                then(result)
            if isinstance(result, Case):
                self.changed.emit(result)
            elif self.case is not None:
                self.changed.emit(self.case)
            self.reload()

        run_in_background(job, on_done=done, on_error=self.show_error, owner=self)

    def request_status(self, status: str) -> None:
        """Ask the desk to move the case; a refused move is explained on the pane."""
        case = self.case
        if case is None:
            return
        desk, note = self._desk(), self.status_note.text().strip()
        csat = self.csat_combo.currentData() if status == Status.CLOSED.value else None

        def job() -> Case:
            moved = desk.set_status(case.id, status, note=note)
            if csat is not None and moved.csat != csat:
                moved = desk.set_csat(case.id, int(csat))
            return moved

        self._write(job, then=lambda _case: self.status_note.clear())

    def _csat_chosen(self, _index: int) -> None:
        case, score = self.case, self.csat_combo.currentData()
        # Before closing, the choice waits for the Close button; on a closed case it saves now.
        if case is None or score is None or case.status != Status.CLOSED.value or score == case.csat:
            return
        desk = self._desk()
        self._write(lambda: desk.set_csat(case.id, int(score)))

    def _preview_triage(self) -> None:
        severity = severity_preview(self.impact_combo.currentData(), self.urgency_combo.currentData())
        self.severity_label.setText(f"→ <b>{severity}</b>" if severity else "")
        self.triage_button.setEnabled(bool(severity) and self.case is not None)

    def apply_triage(self) -> None:
        case = self.case
        impact, urgency = self.impact_combo.currentData(), self.urgency_combo.currentData()
        if case is None or not impact or not urgency:
            return
        desk = self._desk()
        self._write(lambda: desk.triage(case.id, impact, urgency))

    def add_note(self) -> None:
        case, text = self.case, self.note_edit.toPlainText().strip()
        if case is None or not text:
            return
        desk = self._desk()
        self._write(lambda: desk.add_note(case.id, text), then=lambda _e: self.note_edit.clear())

    def link_hosts(self) -> None:
        case = self.case
        hosts = [h.strip() for h in self.hosts_edit.text().replace(";", ",").split(",") if h.strip()]
        if case is None or not hosts:
            return
        desk = self._desk()
        self._write(lambda: desk.link_hosts(case.id, hosts), then=lambda _c: self.hosts_edit.clear())

    def edit_case(self) -> None:
        if self.case is None:
            return
        dialog = CaseDialog(self._desk(), self.case, parent=self)
        dialog.saved.connect(lambda case: (self.changed.emit(case), self.reload()))
        dialog.open()
        self.case_dialog = dialog

    def _make_active(self) -> None:
        if self.case is not None:
            self.active_requested.emit(self.case.id)

    def compose_update(self) -> None:
        """Gather findings and SLA in the background, then open the composer."""
        case = self.case
        if case is None:
            return
        desk = self._desk()

        def job() -> tuple[Case, list[JournalEntry], list, CaseSla | None]:
            fresh = desk.store.get_case(case.id)
            return fresh, desk.store.journal(case.id), desk.findings(case.id), desk.sla(fresh)

        run_in_background(job, on_done=self._open_composer, on_error=self.show_error, owner=self)

    def _open_composer(self, gathered: tuple) -> None:
        from diagkit.ui.update_dialog import UpdateDialog

        case, journal, findings, sla = gathered
        dialog = UpdateDialog(self._desk(), case, journal=journal, findings=findings, sla=sla,
                              parent=self)
        dialog.recorded.connect(lambda _entry: (self.changed.emit(case), self.reload()))
        dialog.open()
        self.update_dialog = dialog

    def create_kb_article(self) -> None:
        """Draft an article from the case (diagkit.kb.from_case) and open the article editor
        with it; saving there records the article in the case's journal."""
        details = self.details
        if details is None:
            return
        from diagkit.kb.from_case import draft_from_case
        from diagkit.timeline import batched_changes, journal_events
        from diagkit.ui.article_dialog import ArticleDialog

        shown = self.timeline_view.timeline
        if shown is not None and shown.case_id == details.case.id:
            events = shown.events  # what the Timeline tab computed (history and logs included)
        else:  # the journal's part of it, read now (no history or logs: no waiting)
            events = tuple(sorted(journal_events(details.case.id, details.journal),
                                  key=lambda e: e.time))
        try:
            draft = draft_from_case(details.case, details.journal, batched_changes(events))
        except DiagkitError as exc:
            self.show_error(str(exc))
            return
        dialog = ArticleDialog(self._desk().store, draft=draft, parent=self)
        dialog.saved.connect(self._article_saved)
        dialog.open()
        self.article_dialog = dialog

    def _article_saved(self, article: Any) -> None:
        case = self.case
        if case is None or article is None or not hasattr(article, "slug"):
            return
        desk = self._desk()
        self._write(lambda: desk.record_article(case.id, article))

    def _link(self, href: str) -> None:
        kind, _, value = href.partition(":")
        if kind == "host":
            self.open_host_requested.emit(value)
        elif kind == "file":
            self.open_path_requested.emit(value)
        elif kind == "kb":
            self.open_article_requested.emit(value)

    # --- display helpers -----------------------------------------------------------------------

    def show_error(self, error: BaseException | str) -> None:
        message = error if isinstance(error, str) else _error_text(error)
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.edit_button, self.active_button, self.impact_combo, self.urgency_combo,
                       self.csat_combo, self.status_note, self.hosts_edit, self.hosts_button,
                       self.note_edit, self.note_button, self.update_button, self.kb_button,
                       *self.status_buttons.values()):
            widget.setEnabled(enabled)
        if enabled:
            self._preview_triage()
        else:
            self.triage_button.setEnabled(False)


class CasesView(QWidget):
    """The Cases tab: filters and list on the left, the selected case on the right."""

    active_requested = Signal(int)
    cases_changed = Signal()

    def __init__(self, desk: Callable[[], CaseDesk], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._desk = desk
        self._selected_id: int | None = None
        self.loaded_once = False

        self.new_button = QPushButton("New case…")
        self.new_button.setToolTip("Open a new case (Ctrl+Shift+N)")
        self.new_button.clicked.connect(self.new_case)
        QShortcut(QKeySequence("Ctrl+Shift+N"), self, self.new_case)
        self.scope = QComboBox()
        self.scope.addItem("Open cases", "open")
        self.scope.addItem("All cases", "all")
        self.scope.currentIndexChanged.connect(lambda _i: self.reload())
        self.search = QLineEdit(placeholderText="Search: number, title, customer, tag, host")
        self.search.setClearButtonEnabled(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(lambda: self.reload())
        self.error = error_label("list-error")
        self.count_label = QLabel()

        self.model = CaseListModel(self)
        self.proxy = CaseFilter(self)
        self.proxy.setSourceModel(self.model)
        self.search.textChanged.connect(self.proxy.set_needle)
        self.table = QTableView()
        self.table.setObjectName("cases")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_SLA, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
        for col, width in COLUMN_WIDTHS.items():
            header.resizeSection(col, width)
        self.table.installEventFilter(self)
        self.table.setWordWrap(False)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

        self.detail = CaseDetailView(desk)
        self.detail.changed.connect(self._case_changed)
        self.detail.active_requested.connect(self.active_requested)

        bar = QHBoxLayout()
        bar.addWidget(self.new_button)
        bar.addWidget(self.scope)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.refresh_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(bar)
        left_layout.addWidget(self.error)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.count_label)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        # The detail fits the width (its action rows wrap); only up and down scroll.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.detail)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([560, 460])  # the list's Title column gets the room
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # Narrow (a 1024 px window with the hosts dock): list above the detail, so the list's
        # Title column and the detail's actions both get the full width.
        wanted = Qt.Orientation.Horizontal if self.width() >= SIDE_BY_SIDE_FROM \
            else Qt.Orientation.Vertical
        if self.splitter.orientation() != wanted:
            self.splitter.setOrientation(wanted)
            total = self.width() if wanted == Qt.Orientation.Horizontal else self.height()
            self.splitter.setSizes([total * 55 // 100, total * 45 // 100])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """Title keeps at least TITLE_MIN px: in a narrow list, Updated and then Customer make
        way (both are in the detail and the tooltip); they come back when there is room."""
        room = self.table.viewport().width() - TITLE_MIN - sum(
            COLUMN_WIDTHS[c] for c in (COL_ID, COL_SEVERITY, COL_STATUS, COL_SLA))
        for optional in (COL_CUSTOMER, COL_UPDATED):  # Customer matters more: it stays longer
            fits = room >= COLUMN_WIDTHS[optional]
            if fits:
                room -= COLUMN_WIDTHS[optional]
            if self.table.isColumnHidden(optional) == fits:
                self.table.setColumnHidden(optional, not fits)
                if fits:
                    self.table.horizontalHeader().resizeSection(optional, COLUMN_WIDTHS[optional])

    # --- list --------------------------------------------------------------------------------------

    def reload(self, *, select: int | None = None) -> None:
        """Re-read the cases (and their SLA) in the background."""
        try:
            desk = self._desk()
        except DiagkitError as exc:
            self._show_error(str(exc))
            return
        statuses = OPEN_STATUSES if self.scope.currentData() == "open" else None
        now = datetime.now(UTC)

        def job() -> list[CaseRow]:
            cases = desk.store.list_cases(status=statuses)
            return [CaseRow(c, desk.sla(c, now=now)) for c in cases]

        if select is not None:
            self._selected_id = select
        run_in_background(job, on_done=self._loaded, on_error=self._show_error, owner=self)

    def _loaded(self, rows: list[CaseRow]) -> None:
        self.loaded_once = True
        self._show_error("")
        self.model.set_rows(rows)
        breached = sum(1 for r in rows if r.sla is not None and r.sla.worst is not None
                       and r.sla.worst.breached)
        self.count_label.setText(f"{len(rows)} case(s)" + (f", {breached} breached" if breached else ""))
        if self._selected_id is not None:
            self.select_case(self._selected_id)

    def select_case(self, case_id: int) -> bool:
        row = self.model.row_of(case_id)
        if row < 0:
            self._selected_id = case_id
            self.detail.load(case_id)
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            self.table.selectRow(index.row())
            self.table.scrollTo(index)
        if self.detail.case is None or self.detail.case.id != case_id:
            self._selected_id = case_id
            self.detail.load(case_id)
        return True

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        case: Case = self.proxy.data(current, ROLE_CASE)
        if case is not None and case.id != (self.detail.case.id if self.detail.case else None):
            self._selected_id = case.id
            self.detail.load(case.id)

    def _case_changed(self, case: Case) -> None:
        self.cases_changed.emit()
        self.reload(select=case.id)

    def new_case(self) -> CaseDialog | None:
        try:
            desk = self._desk()
        except DiagkitError as exc:
            self._show_error(str(exc))
            return None
        dialog = CaseDialog(desk, parent=self)
        dialog.saved.connect(self._case_changed)
        dialog.open()
        self.case_dialog = dialog
        return dialog

    def _show_error(self, error: BaseException | str) -> None:
        message = error if isinstance(error, str) else _error_text(error)
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self.loaded_once:
            self.reload()


def open_url(path: str) -> None:
    """Open a file the journal points at with the desktop's default application."""
    from PySide6.QtGui import QDesktopServices

    QDesktopServices.openUrl(QUrl.fromLocalFile(path))
