"""Dashboard tables: rows in the probe's order with the header arrow on that order; human labels
for raw keys; no column that repeats another (issue 17, items 2 and 9)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from diagkit.probes.registry import builtin_probes
from diagkit.ui.dashboard_view import DashboardView, ProbeCard
from tests.ui.realistic import captured, scaled


def _card(qtbot, kind: str, capture: str, grow: tuple[str, int] | None = None) -> ProbeCard:
    probe = next(p for p in builtin_probes() if p.name == kind)
    card = ProbeCard(probe)
    qtbot.addWidget(card)
    result = captured(kind, capture)
    if grow:
        result = scaled(result, *grow)
    card.show_result(result)
    return card


def _column(card: ProbeCard, table: str, header: str) -> list[str]:
    from PySide6.QtWidgets import QTableWidget

    widget = card.findChild(QTableWidget, f"table-{table}")
    labels = [widget.horizontalHeaderItem(c).text() for c in range(widget.columnCount())]
    c = labels.index(header)
    return [widget.item(r, c).text() for r in range(widget.rowCount())]


def _table(card: ProbeCard, table: str):
    from PySide6.QtWidgets import QTableWidget

    return card.findChild(QTableWidget, f"table-{table}")


def test_top_memory_is_biggest_first_and_the_arrow_says_so(qtbot) -> None:
    card = _card(qtbot, "memory", "oom_pressure")
    result = captured("memory", "oom_pressure")
    expected = [r["rss_bytes"] for r in result.data.tables[0].rows]
    assert expected == sorted(expected, reverse=True)
    widget = _table(card, "top_rss")
    shown = [widget.item(r, 2).value for r in range(widget.rowCount())]
    assert shown == expected
    header = widget.horizontalHeader()
    assert header.sortIndicatorSection() == 2
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    # "rss" (the same number as text) is not shown twice beside "rss_bytes"
    assert widget.isColumnHidden(3) and not widget.isColumnHidden(2)
    assert widget.horizontalHeaderItem(2).text() == "RSS"


def test_filesystems_fullest_first(qtbot) -> None:
    card = _card(qtbot, "disk", "disk_full", grow=("filesystems", 30))
    used = [float(v) for v in _column(card, "filesystems", "Used %")]
    assert len(used) == 30 and used == sorted(used, reverse=True)
    captured_used = [r["used_pct"] for r in captured("disk", "disk_full").data.tables[0].rows]
    assert used[0] == max(captured_used)


def test_cpu_cores_in_number_order(qtbot) -> None:
    card = _card(qtbot, "cpu", "overloaded_vm")
    cores = _column(card, "per_core", "CPU")
    assert cores == sorted(cores, key=int) and cores[0] == "0"
    header = _table(card, "per_core").horizontalHeader()
    assert header.sortIndicatorSection() == 0
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder


def test_clicking_a_header_still_sorts_numerically(qtbot) -> None:
    card = _card(qtbot, "processes", "zombies", grow=("top_rss", 40))
    widget = _table(card, "top_rss")
    widget.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # PID, as numbers (9 before 10)
    pids = [widget.item(r, 0).value for r in range(widget.rowCount())]
    assert pids == sorted(pids)


def test_facts_have_human_labels(qtbot) -> None:
    card = _card(qtbot, "memory", "oom_pressure")
    cpu = _card(qtbot, "cpu", "overloaded_vm")
    system = _card(qtbot, "system", "normal")
    text = card.facts.text() + cpu.facts.text() + system.facts.text()
    for raw in (">os_id<", ">sample_seconds<", ">swap_rate_sample<"):
        assert raw not in text
    assert "Sampled over (s)" in cpu.facts.text()
    assert ">OS<" in system.facts.text() and ">Distribution ID<" in system.facts.text()


def test_known_issue_banner_shows_title_and_slug_not_the_rule(qtbot) -> None:
    from types import SimpleNamespace

    view = DashboardView()
    qtbot.addWidget(view)
    probe = next(p for p in builtin_probes() if p.name == "memory")
    view.set_probes([probe])

    class Matcher:
        def match(self, evidence):
            return [SimpleNamespace(slug="oom-killer", title="Processes killed by the OOM killer",
                                    reasons=["finding title matches /Out of memory: .*/"])]

    view.set_matcher(Matcher())
    view.show_result(captured("memory", "oom_pressure"))
    text = view.known_banner.text()
    assert "Processes killed by the OOM killer" in text and "oom-killer" in text
    assert "matches" not in text and "Out of memory: .*" not in text


def test_what_to_do_wraps_in_full(qtbot) -> None:
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QFontMetrics

    from tests.ui.realistic import busy_host_results

    view = DashboardView()
    qtbot.addWidget(view)
    view.set_probes(list(builtin_probes()))
    for result in busy_host_results():
        view.show_result(result)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(50)
    tree = view.findings
    assert tree.textElideMode() == Qt.TextElideMode.ElideNone
    longest = max((tree.topLevelItem(i) for i in range(tree.topLevelItemCount())),
                  key=lambda item: len(item.text(3)))
    hint = longest.text(3)
    assert len(hint) > 80
    rect = tree.visualItemRect(longest)
    width = tree.columnWidth(3) - 8
    needed = QFontMetrics(tree.font()).boundingRect(QRect(0, 0, width, 10000),
                                                    int(Qt.TextFlag.TextWordWrap), hint)
    assert rect.height() >= needed.height()


def test_a_stretched_card_keeps_its_table_at_the_top(qtbot) -> None:
    card = _card(qtbot, "memory", "oom_pressure")
    card.resize(480, 1200)  # as tall as a neighbour with its raw output open
    card.show()
    qtbot.waitExposed(card)
    table = _table(card, "top_rss")
    assert table.geometry().bottom() < card.height() / 2
