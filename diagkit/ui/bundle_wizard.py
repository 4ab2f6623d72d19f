""""New bug report": pick the evidence, write the story, check the redaction, save the bundle.
And "Open bug report": verify a bundle, read its report, browse its logs.

The dialog only gathers choices into the core's :class:`~diagkit.reports.model.Bundle`; the
core redacts, renders and writes (in a worker, with progress).
"""

from __future__ import annotations

import dataclasses
import html
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from diagkit.errors import DiagkitError
from diagkit.logs.model import Record
from diagkit.ui.inline import error_label
from diagkit.ui.workers import Worker, run_in_background

OBFUSCATE = (("ip", "IP addresses"), ("host", "Host and domain names"), ("mac", "MAC addresses"),
             ("user", "User names"), ("email", "E-mail addresses"))


def _complete(draft: tuple[object, list[Record]]):
    """A :meth:`BundleWizard.draft` with its log records read in (in a worker: it reads and
    indexes their logs to find private key blocks around them, see ``record_excerpts``)."""
    import dataclasses

    from diagkit.reports.bundle import record_excerpts

    bundle, records = draft
    if bundle.window is not None and bundle.case:
        # the case's timeline for the window: its findings, alerts, changes, notes...
        from diagkit.timeline import for_report, merge_unique

        events, _note = for_report(bundle.case, bundle.window.start, bundle.window.end)
        bundle = dataclasses.replace(bundle, timeline=merge_unique(bundle.timeline, events))
    if records and bundle.window is not None:
        # a time window: the records' logs cut by time (with precursors), not the picked records
        from diagkit.reports.bundle import log_excerpts
        from diagkit.reports.window import merge_timeline, window_timeline

        logs = [x for label in dict.fromkeys(r.file for r in records)
                for x in log_excerpts(label, window=bundle.window)]
        timeline = merge_timeline(bundle.timeline, window_timeline(bundle.window, logs=logs))
        return dataclasses.replace(bundle, logs=tuple(logs), timeline=timeline)
    return dataclasses.replace(bundle, logs=tuple(record_excerpts(records))) if records else bundle


def _texts(bundle) -> dict[str, str]:
    """The texts the redaction preview looks at, by source."""
    from diagkit.reports.textfiles import read_text

    texts = {"report": "\n".join([bundle.title, bundle.summary, *bundle.steps, bundle.expected,
                                  bundle.actual, bundle.product, bundle.product_version,
                                  bundle.customer_ref])}
    if bundle.timeline:
        texts["timeline"] = "\n".join(f"{e.text} {e.ref}" for e in bundle.timeline)
    for host in bundle.hosts:
        texts[f"host {host.name}"] = "\n".join(f"{k}={v}" for k, v in host.facts.items()) + "\n" + \
            "\n".join(r.raw for r in host.results)
    for excerpt in bundle.logs:
        texts[excerpt.source] = "\n".join(excerpt.lines)
    for entry in bundle.journal:
        texts.setdefault("journal", "")
        texts["journal"] += entry.text + "\n"
    for att in bundle.attachments:
        found = read_text(att.data)
        if found.text is not None:
            texts[f"attachment {att.name}"] = found.text
    return texts


class BundleWizard(QDialog):
    """Build a bug report bundle from open hosts, set-aside log records, live plots."""

    saved = Signal(object)  # BundleInfo

    def __init__(self, host_views: Sequence[object], records: Sequence[Record] = (),
                 parent: QWidget | None = None, *, log_views: Sequence[object] = ()) -> None:
        super().__init__(parent)
        self.setWindowTitle("New bug report")
        self.resize(980, 720)
        self.host_views = list(host_views)
        self.records = list(records)
        self.log_views = list(log_views)  # open log tabs: their selected records are offered
        self._worker: Worker | None = None
        self.info = None

        # --- 1. the story ---
        self.title_edit = QLineEdit(placeholderText="One line a developer understands: what breaks, where")
        self.severity_box = QComboBox()
        self.severity_box.addItems(["low", "medium", "high", "critical"])
        self.severity_box.setCurrentText("medium")
        self.case_edit = QLineEdit(placeholderText="optional: case or ticket reference")
        self.product_edit = QLineEdit(placeholderText="optional: the product the case is about")
        self.product_version_edit = QLineEdit(placeholderText="optional: its version")
        self.customer_edit = QLineEdit(placeholderText="optional: the customer's reference "
                                       "(redacted like everything else)")
        self.window_edit = QLineEdit(placeholderText="optional: START..END, e.g. "
                                     "2024-01-02T07:20..2024-01-02T08:05 or -2h..now")
        self.window_edit.setToolTip("Log excerpts are then the records of this time window and "
                                    "the warnings just before it, from the logs of the records "
                                    "set aside; the report gets a Timeline of the window.")
        self.summary_edit = QPlainTextEdit()
        self.summary_edit.setPlaceholderText("What happens, since when, who is affected.")
        self.steps_edit = QPlainTextEdit()
        self.steps_edit.setPlaceholderText("One step per line, in order.")
        self.expected_edit = QPlainTextEdit()
        self.actual_edit = QPlainTextEdit()
        story = QWidget()
        form = QFormLayout(story)
        form.addRow("&Title", self.title_edit)
        form.addRow("&Severity", self.severity_box)
        form.addRow("&Case", self.case_edit)
        form.addRow("&Product", self.product_edit)
        form.addRow("&Version", self.product_version_edit)
        form.addRow("Customer &reference", self.customer_edit)
        form.addRow("Time &window", self.window_edit)
        form.addRow("S&ummary", self.summary_edit)
        form.addRow("Reproduction &steps", self.steps_edit)
        form.addRow("&Expected", self.expected_edit)
        form.addRow("&Actual", self.actual_edit)

        # --- 2. the evidence ---
        self.evidence = QTreeWidget()
        self.evidence.setHeaderLabels(["Include", "Details"])
        self.evidence.setColumnWidth(0, 420)
        self._fill_evidence()
        evidence = QWidget()
        ev_layout = QVBoxLayout(evidence)
        ev_layout.addWidget(QLabel("Tick what goes into the bundle. Hosts bring their environment "
                                   "and probe results; findings, log records and live plots are "
                                   "listed below them."))
        ev_layout.addWidget(self.evidence)
        logs_note = QLabel("Log records: select them in a log tab and use <b>Add to bug report</b> "
                           "(or leave them selected: an open log tab's selection is offered above).")
        logs_note.setObjectName("logs-note")
        logs_note.setWordWrap(True)
        ev_layout.addWidget(logs_note)
        # attachments: checked when added (core.check_attachment), a binary file refused
        # right here with the reason unless the engineer lets it in as is
        self.attachments = QTreeWidget()
        self.attachments.setHeaderLabels(["Attachment", "How it goes in"])
        self.attachments.setColumnWidth(0, 420)
        self.attachments.setRootIsDecorated(False)
        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.clicked.connect(self.choose_attachments)
        self.allow_binary_box = QCheckBox("Include binary files as is, not redacted")
        self.allow_binary_box.setToolTip("A file that cannot be scanned as text (an archive, an "
                                         "image, a database) cannot be redacted: it goes into the "
                                         "bundle unchanged, and the report says so.")
        self.allow_binary_box.toggled.connect(self._binary_toggled)
        self.attach_error = error_label("attachment-error")
        self._refused: list[Path] = []
        attach_row = QHBoxLayout()
        attach_row.addWidget(self.add_files_button)
        attach_row.addWidget(self.allow_binary_box, 1)
        ev_layout.addWidget(QLabel("Attachments (text files are redacted like everything else):"))
        ev_layout.addLayout(attach_row)
        ev_layout.addWidget(self.attach_error)
        ev_layout.addWidget(self.attachments)

        # --- 3. redaction ---
        self.obfuscate = {key: QCheckBox(label) for key, label in OBFUSCATE}
        self.keywords_edit = QLineEdit(placeholderText="customer names, project code names… (comma separated)")
        self.preview_button = QPushButton("Preview what will be masked")
        self.preview_button.clicked.connect(self.preview_redaction)
        self.hits = QTreeWidget()
        # Enough of each original to judge "Not a secret": the value with its middle masked and
        # the line it sits in (issue 17, item 11); the full value never shows on screen.
        self.hits.setHeaderLabels(["Where / rule", "Masked as", "Not a secret", "In the line"])
        self.hits.setColumnWidth(0, 300)
        self.hits.setColumnWidth(1, 130)
        self.hits.setColumnWidth(2, 90)
        redaction = QWidget()
        red_layout = QVBoxLayout(redaction)
        red_layout.addWidget(QLabel("Passwords, tokens, keys, cookies and connection strings are "
                                    "always masked. Also replace, consistently (the same value "
                                    "always gets the same token; the map stays on this machine):"))
        boxes = QHBoxLayout()
        for box in self.obfuscate.values():
            boxes.addWidget(box)
        red_layout.addLayout(boxes)
        red_layout.addWidget(self.keywords_edit)
        red_layout.addWidget(self.preview_button)
        red_layout.addWidget(self.hits, 1)

        # --- 4. the report ---
        self.report = QTextBrowser()
        self.report.setOpenExternalLinks(False)
        self.render_button = QPushButton("Render again")
        self.render_button.setToolTip("The report renders when this page opens; render again "
                                      "after changing the story, evidence or redaction")
        self.render_button.clicked.connect(self.render_preview)
        report = QWidget()
        rep_layout = QVBoxLayout(report)
        rep_layout.addWidget(self.render_button)
        rep_layout.addWidget(self.report, 1)

        self.pages = QTabWidget()
        self.pages.addTab(story, "1. Story")
        self.pages.addTab(evidence, "2. Evidence")
        self.pages.addTab(redaction, "3. Redaction")
        self.pages.addTab(report, "4. Report")
        self.pages.currentChanged.connect(self._page_changed)
        self.state = QLabel("")
        self.state.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton("Save bundle…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.choose_and_save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.state)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)

    def _page_changed(self, index: int) -> None:
        if self.pages.widget(index) is self.report.parentWidget():
            self.render_preview()  # in a worker: the page shows the report without a click

    # --- evidence ------------------------------------------------------------------------------

    def _fill_evidence(self) -> None:
        for view in self.host_views:
            snap = getattr(view, "last_snapshot", None)
            host = QTreeWidgetItem([f"Host {view.ref.label}", "environment and probe results" if snap
                                    else "not probed yet: environment unknown"])
            host.setData(0, Qt.ItemDataRole.UserRole, ("host", view))
            host.setCheckState(0, Qt.CheckState.Checked if snap else Qt.CheckState.Unchecked)
            self.evidence.addTopLevelItem(host)
            # Probe findings, then forecasts from the monitoring history shown on the dashboard.
            extra = list(getattr(getattr(view, "dashboard", None), "extra_findings", []))
            for finding in [*(snap.findings if snap else []), *extra]:
                item = QTreeWidgetItem([f"{finding.severity.label.upper()}: {finding.title}",
                                        finding.hint])
                item.setData(0, Qt.ItemDataRole.UserRole, ("finding", finding))
                item.setCheckState(0, Qt.CheckState.Checked)
                host.addChild(item)
            plots = getattr(view, "plots", None)
            if plots is not None and getattr(plots, "samples_taken", 0) > 1:
                item = QTreeWidgetItem(["Live plots", f"{plots.samples_taken} samples"])
                item.setData(0, Qt.ItemDataRole.UserRole, ("plots", view))
                item.setCheckState(0, Qt.CheckState.Checked)
                host.addChild(item)
            journal = getattr(view, "journal", [])
            if journal:
                item = QTreeWidgetItem(["Console commands", f"{len(journal)} command(s) run"])
                item.setData(0, Qt.ItemDataRole.UserRole, ("journal", view))
                item.setCheckState(0, Qt.CheckState.Checked)
                host.addChild(item)
        for log_view in self.log_views:
            picked = len(log_view.selected_records())
            item = QTreeWidgetItem([f"Log tab {log_view.title}",
                                    f"{picked} selected record(s)" if picked else
                                    "nothing selected in the tab: select records there first"])
            item.setData(0, Qt.ItemDataRole.UserRole, ("logtab", log_view))
            item.setCheckState(0, Qt.CheckState.Checked if picked else Qt.CheckState.Unchecked)
            if not picked:
                item.setDisabled(True)
            self.evidence.addTopLevelItem(item)
        if self.records:
            item = QTreeWidgetItem([f"{len(self.records)} log record(s) from the log viewer",
                                    ", ".join(sorted({Path(r.file).name for r in self.records}))])
            item.setData(0, Qt.ItemDataRole.UserRole, ("logs", None))
            item.setCheckState(0, Qt.CheckState.Checked)
            self.evidence.addTopLevelItem(item)
        self.evidence.expandAll()

    # --- attachments ---------------------------------------------------------------------------

    def choose_attachments(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Attach files", str(Path.home()))
        self.add_attachments([Path(p) for p in paths])

    def add_attachments(self, paths: Sequence[Path]) -> None:
        """Add files; a binary one is refused inline (with the reason) unless allowed."""
        from diagkit.reports.bundle import check_attachment
        from diagkit.reports.textfiles import label

        problems = []
        for path in paths:
            try:
                data = path.read_bytes()
                found = check_attachment(path.name, data,
                                         allow_binary=self.allow_binary_box.isChecked())
            except OSError as exc:
                problems.append(f"Cannot read {path}: {exc.strerror or exc}.")
                continue
            except DiagkitError as exc:
                problems.append(str(exc))
                if path not in self._refused:
                    self._refused.append(path)
                continue
            if path in self._refused:
                self._refused.remove(path)
            how = (f"NOT redacted: binary ({found.why}), included as is" if not found.is_text
                   else f"{label(found.encoding)}, redacted"
                   + ("; written as UTF-8" if found.output_encoding != found.encoding else ""))
            item = QTreeWidgetItem([path.name, how])
            item.setData(0, Qt.ItemDataRole.UserRole, (path, data, not found.is_text))
            item.setToolTip(0, str(path))
            self.attachments.addTopLevelItem(item)
        self.attach_error.setText("\n".join(problems))
        self.attach_error.setVisible(bool(problems))

    def _binary_toggled(self, allowed: bool) -> None:
        if allowed:
            self.add_attachments(list(self._refused))
            return
        # binary files no longer allowed: they leave the list, and say why
        for i in reversed(range(self.attachments.topLevelItemCount())):
            path, _data, binary = self.attachments.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
            if binary:
                self.attachments.takeTopLevelItem(i)
                self._refused.append(path)
        if self._refused:
            self.attach_error.setText(
                "Left out, because binary files are not included any more: "
                + ", ".join(p.name for p in self._refused) + ".")
            self.attach_error.show()

    def _attachment_models(self) -> tuple:
        from diagkit.reports.model import Attachment

        out = []
        for i in range(self.attachments.topLevelItemCount()):
            path, data, binary = self.attachments.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
            out.append(Attachment(path.name, data, allow_binary=binary))
        return tuple(out)

    def _checked(self) -> list[tuple[str, object, QTreeWidgetItem]]:
        out = []
        for i in range(self.evidence.topLevelItemCount()):
            top = self.evidence.topLevelItem(i)
            if top.checkState(0) != Qt.CheckState.Checked:
                continue
            kind, obj = top.data(0, Qt.ItemDataRole.UserRole)
            out.append((kind, obj, top))
            for j in range(top.childCount()):
                child = top.child(j)
                if child.checkState(0) == Qt.CheckState.Checked:
                    ckind, cobj = child.data(0, Qt.ItemDataRole.UserRole)
                    out.append((ckind, cobj, child))
        return out

    def draft(self):
        """What the dialog describes: the Bundle without its logs, and the log records picked
        for it (read in by :func:`_complete`, in a worker). Not redacted yet: the writer does
        that."""
        from diagkit.reports.model import Bundle, HostEnvironment, JournalEntry
        from diagkit.reports.window import parse_window, window_timeline

        window_text = self.window_edit.text().strip()
        window = parse_window(window_text) if window_text else None  # BundleError: shown
        hosts, findings, plots, journal, runs = [], [], [], [], []
        records: list[Record] = []
        checked = self._checked()
        several = sum(1 for kind, _obj, _item in checked if kind == "host") > 1
        for kind, obj, item in checked:
            if kind == "host":
                snap = obj.last_snapshot
                system = snap.result("system") if snap else None
                facts = dict(system.data.facts) if system is not None else {}
                hosts.append(HostEnvironment(obj.ref.label, facts, tuple(snap.results) if snap else ()))
                if snap is not None:
                    runs.append((obj.ref.label, snap.started, snap.results))
            elif kind == "finding":
                host = item.parent().data(0, Qt.ItemDataRole.UserRole)[1] if item.parent() else None
                if several and host is not None:  # whose finding, when there are two hosts
                    obj = dataclasses.replace(obj, title=f"{host.ref.label}: {obj.title}")
                findings.append(obj)
            elif kind == "plots":
                from diagkit.ui.plot_export import plots_from_buffer

                plots.extend(plots_from_buffer(obj.plots.buffer, title_prefix=f"{obj.ref.label}: "))
            elif kind == "journal":
                journal.extend(JournalEntry(**entry) for entry in obj.journal)
            elif kind == "logs":
                records = [*records, *self.records]
            elif kind == "logtab":
                records = [*records, *obj.selected_records()]
        steps = tuple(s.strip() for s in self.steps_edit.toPlainText().splitlines() if s.strip())
        return Bundle(
            title=self.title_edit.text().strip() or "Untitled bug report",
            summary=self.summary_edit.toPlainText().strip(),
            severity=self.severity_box.currentText(),
            created=datetime.now(UTC),
            hosts=tuple(hosts),
            steps=steps,
            expected=self.expected_edit.toPlainText().strip(),
            actual=self.actual_edit.toPlainText().strip(),
            findings=tuple(findings),
            plots=tuple(plots),
            journal=tuple(sorted(journal, key=lambda e: e.time)),
            attachments=self._attachment_models(),
            case=self.case_edit.text().strip() or None,
            product=self.product_edit.text().strip(),
            product_version=self.product_version_edit.text().strip(),
            customer_ref=self.customer_edit.text().strip(),
            window=window,
            timeline=window_timeline(window, probe_runs=runs) if window else (),
        ), records

    def bundle(self):
        """The Bundle the dialog describes, its log records read in on this thread (the dialog
        itself does that in its workers)."""
        return _complete(self.draft())

    def options(self):
        from diagkit.reports.redact import RedactOptions, known_hosts

        chosen = {key for key, box in self.obfuscate.items() if box.isChecked()}
        keywords = tuple(k.strip() for k in self.keywords_edit.text().split(",") if k.strip())
        if keywords:
            chosen.add("keyword")
        hosts = known_hosts(v.ref.label for v in self.host_views) if "host" in chosen else ()
        return RedactOptions(obfuscate=frozenset(chosen), keywords=keywords, hosts=hosts)

    # --- redaction preview ---------------------------------------------------------------------

    def preview_redaction(self) -> None:
        from diagkit.reports.redact import Redactor

        try:
            draft, options = self.draft(), self.options()
        except DiagkitError as exc:
            self.state.setText(str(exc))
            return
        self.hits.clear()
        self.state.setText("Looking for secrets and identifying values…")

        def job() -> tuple[dict[str, str], dict[str, list]]:
            texts = _texts(_complete(draft))
            return texts, Redactor(options).preview(texts)

        def done(result: tuple[dict[str, str], dict[str, list]]) -> None:
            self._worker = None
            texts, found = result
            total = 0
            for source, hits in found.items():
                top = QTreeWidgetItem([source, f"{len(hits)} hit(s)", ""])
                self.hits.addTopLevelItem(top)
                for hit in hits:
                    value = hit.value or texts[source][hit.start:hit.end]
                    shown = value if hit.rule in IDENTIFIER_RULES else masked_middle(value)
                    line = _line_context(texts[source], hit.start, hit.end, shown)
                    item = QTreeWidgetItem([f"{hit.rule}: {shown}", hit.replacement, "", line])
                    item.setToolTip(3, line)
                    item.setData(0, Qt.ItemDataRole.UserRole, value)
                    item.setCheckState(2, Qt.CheckState.Unchecked)
                    top.addChild(item)
                    total += 1
            self.hits.expandAll()
            self.state.setText(f"{total} value(s) will be masked. Tick 'Not a secret' for false "
                               "positives: they are remembered and left alone from now on.")

        self._worker = run_in_background(job, on_done=done, on_error=self._failed, owner=self)

    def remember_false_positives(self) -> int:
        from diagkit.reports.redact import FalsePositives

        values = []
        for i in range(self.hits.topLevelItemCount()):
            top = self.hits.topLevelItem(i)
            for j in range(top.childCount()):
                item = top.child(j)
                if item.checkState(2) == Qt.CheckState.Checked:
                    values.append(item.data(0, Qt.ItemDataRole.UserRole))
        if values:
            fps = FalsePositives.load()
            for value in values:
                fps.add(value)
            fps.save()
        return len(values)

    # --- report preview and saving -------------------------------------------------------------

    def render_preview(self) -> None:
        from diagkit.reports.bundle import redact_bundle
        from diagkit.reports.redact import Redactor
        from diagkit.reports.render import render_html

        self.remember_false_positives()
        try:
            draft, options = self.draft(), self.options()
        except DiagkitError as exc:
            self.state.setText(str(exc))
            return
        self.state.setText("Rendering the (redacted) report…")

        def job() -> str:
            return render_html(redact_bundle(_complete(draft), Redactor(options)))

        def done(html: str) -> None:
            self._worker = None
            self.report.setHtml(html)
            self.state.setText("This is the report as developers will read it (secrets masked).")

        self._worker = run_in_background(job, on_done=done, on_error=self._failed, owner=self)

    def choose_and_save(self) -> None:
        default = Path.home() / (_slug(self.title_edit.text()) + ".zip")
        path, _ = QFileDialog.getSaveFileName(self, "Save bug report bundle", str(default),
                                              "Bundles (*.zip)")
        if path:
            self.save(Path(path))

    def save(self, path: Path) -> None:
        from diagkit.reports.bundle import write_bundle

        self.remember_false_positives()
        try:
            draft, options = self.draft(), self.options()
        except DiagkitError as exc:
            self.state.setText(str(exc))
            return
        self.progress.show()
        self.save_button.setEnabled(False)
        self.state.setText(f"Writing {path}…")

        def job(cancel: threading.Event):
            return write_bundle(_complete(draft), path, options=options)

        def done(info: object) -> None:
            self._worker = None
            self.progress.hide()
            self.info = info
            self.saved.emit(info)
            self.accept()

        self._worker = run_in_background(job, on_done=done, on_error=self._failed, owner=self)

    def _failed(self, error: BaseException) -> None:
        self._worker = None
        self.progress.hide()
        self.save_button.setEnabled(True)
        self.state.setText(str(error) if isinstance(error, DiagkitError | OSError)
                           else f"Unexpected error ({type(error).__name__}: {error}); see the log file.")

    def reject(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        super().reject()


# Values the engineer chose to replace (addresses, names): not secrets, shown in full so a
# false positive (a package version taken for an IPv4 address) is plain to see. Secrets
# (passwords, tokens, keys) show only their ends.
IDENTIFIER_RULES = frozenset({"ipv4", "ipv6", "mac", "email", "hostname", "domain", "user",
                              "keyword"})


def masked_middle(value: str) -> str:
    """``192.168.40.17`` -> ``192.1•••0.17``: both ends, to recognise the value; the middle
    masked, so the preview itself does not show a secret whole."""
    value = value.replace("\n", " ")
    if len(value) <= 4:
        return value[:1] + "•" * (len(value) - 1)
    keep = max(1, min(8, len(value) // 3))
    return f"{value[:keep]}•••{value[-keep:]}"


def _line_context(text: str, start: int, end: int, shown: str, width: int = 50) -> str:
    """The line around ``text[start:end]``, the value itself shown as ``shown``, cut to about
    ``width`` characters either side."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    before = text[max(line_start, start - width):start]
    after = text[end:min(line_end, end + width)]
    return ("…" if start - width > line_start else "") + before + shown + after \
        + ("…" if end + width < line_end else "")


class BundleView(QWidget):
    """An opened bundle: what verification found, the report, and its logs one click away."""

    open_logs = Signal(list)

    def __init__(self, opened, problems: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.opened = opened
        status = QLabel("<b style='color:#2e7d32'>All files present and unchanged.</b>" if not problems
                         else "<b style='color:#c62828'>Verification problems:</b> "
                         + html.escape("; ".join(problems)))
        status.setWordWrap(True)
        self.report = QTextBrowser()
        self.report.setOpenExternalLinks(False)
        html_path = Path(opened.report_html)
        if html_path.exists():
            self.report.setHtml(html_path.read_text(encoding="utf-8", errors="replace"))
        browser_button = QPushButton("Open report in browser")
        browser_button.setToolTip("The report as developers see it, with its full styling")
        browser_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(html_path))))
        logs_button = QPushButton(f"Browse its logs ({len(opened.logs)})")
        logs_button.setEnabled(bool(opened.logs))
        logs_button.clicked.connect(lambda: self.open_logs.emit([str(p) for p in opened.logs]))
        folder = QLabel(f"Extracted to {opened.folder}")
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(status, 1)
        top.addWidget(browser_button)
        top.addWidget(logs_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(folder)
        layout.addWidget(self.report, 1)


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in text.strip().lower())
    return "-".join(p for p in keep.split("-") if p)[:60] or "bug-report"
