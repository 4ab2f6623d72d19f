"""What a person sees of a window: every button and input reachable, no widget drawn over
another. Used by tests/ui/test_layout.py on every view at the common window sizes.

A control counts as reachable when the part of it inside every ancestor is all of it, with one
allowance: inside a vertically scrolling area it may lie below or above the viewport (scrolling
brings it). A control beyond the right edge, even of a horizontally scrolling area, counts as
hidden: nobody scrolls sideways to find a button (issue 17, item 5).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QLineEdit,
    QMainWindow,
    QMenuBar,
    QScrollBar,
    QSizeGrip,
    QSplitterHandle,
    QStatusBar,
    QTabBar,
    QToolBar,
    QWidget,
)

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox)
SLACK = 2  # px: frames may touch and share a border line


def _rect_in(widget: QWidget, top: QWidget) -> QRect:
    return QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())


def _shown(widget: QWidget, top: QWidget) -> bool:
    return widget.isVisibleTo(top) and widget.width() > 0 and widget.height() > 0


def _scrolls_vertically(area: QAbstractScrollArea) -> bool:
    return area.verticalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def _internal(widget: QWidget) -> bool:
    """Parts of composite widgets (a combo box's line edit, a tab bar's scroll arrows, a dock's
    title buttons...), which their owner places."""
    parent = widget.parentWidget()
    if isinstance(parent, QDockWidget):
        return True
    while parent is not None and not parent.isWindow():
        if isinstance(parent, QComboBox | QAbstractSpinBox | QTabBar | QToolBar | QScrollBar):
            return True
        parent = parent.parentWidget()
    return False


def hidden_controls(top: QWidget) -> list[str]:
    """Buttons and inputs that are shown but partly or wholly out of reach."""
    out = []
    for widget in top.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or not _shown(widget, top) or _internal(widget):
            continue
        full = _rect_in(widget, top)
        seen = QRect(full)
        parent = widget.parentWidget()
        scrolled = False  # inside a vertically scrolling area: up and down are reachable
        while parent is not None:
            area = parent.parentWidget()
            box = _rect_in(parent, top) if parent is not top else top.rect()
            if isinstance(area, QAbstractScrollArea) and area.viewport() is parent \
                    and _scrolls_vertically(area):
                scrolled = True
            if scrolled:
                box = QRect(box.x(), seen.y(), box.width(), max(seen.height(), 1))
            seen = seen.intersected(box) if seen.height() else QRect(seen.x(), seen.y(), 0, 0)
            if parent is top or parent.isWindow():
                break
            parent = parent.parentWidget()
        if seen.width() < full.width() - SLACK or seen.height() < full.height() - SLACK:
            out.append(f"{_name(widget)} shows {seen.width()}x{seen.height()} of "
                       f"{full.width()}x{full.height()} at {full.x()},{full.y()}")
    return out


def _ignored_sibling(widget: QWidget) -> bool:
    return isinstance(widget, QScrollBar | QSizeGrip | QSplitterHandle | QStatusBar | QMenuBar) \
        or widget.isWindow() or (widget.testAttribute(Qt.WidgetAttribute.WA_NoSystemBackground) \
        and not widget.layout())


def overlapping_widgets(top: QWidget) -> list[str]:
    """Pairs of shown sibling widgets whose rectangles overlap (one drawn over the other)."""
    out = []
    containers = [top, *top.findChildren(QWidget)]
    for parent in containers:
        if not _shown(parent, top) and parent is not top:
            continue
        if isinstance(parent, QAbstractScrollArea | QMainWindow | QTabBar):
            continue  # viewport/scroll bars/corner; docks/central; tab scroll buttons
        kids = [w for w in parent.children() if isinstance(w, QWidget) and _shown(w, top)
                and not _ignored_sibling(w) and not _internal(w)]
        for i, a in enumerate(kids):
            for b in kids[i + 1:]:
                both = a.geometry().intersected(b.geometry())
                if both.width() > SLACK and both.height() > SLACK:
                    out.append(f"{_name(a)} {_geo(a)} overlaps {_name(b)} {_geo(b)} "
                               f"in {_name(parent)}")
    return out


def _geo(widget: QWidget) -> str:
    g = widget.geometry()
    return f"[{g.x()},{g.y()} {g.width()}x{g.height()}]"


def _name(widget: QWidget) -> str:
    text = ""
    for attr in ("text", "placeholderText", "windowTitle"):
        getter = getattr(widget, attr, None)
        if callable(getter):
            try:
                value = getter()
            except TypeError:
                continue
            if isinstance(value, str) and value:
                text = value[:40]
                break
    name = widget.objectName()
    return f"{type(widget).__name__}{'#' + name if name else ''}{' ' + repr(text) if text else ''}"


def layout_problems(top: QWidget) -> list[str]:
    return hidden_controls(top) + overlapping_widgets(top)
