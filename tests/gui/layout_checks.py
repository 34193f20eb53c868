"""What a person would call a broken layout, measured on a real window.

Every visible panel must keep a usable main plot (its largest plot: at least ``MIN_PLOT``
pixels of plot area), no title, readout, tab or status field may be cut, and the charts get
the width the controls column does not need. ``layout_problems`` lists each breach in words,
so a failing test says which panel and by how much.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QTabBar, QWidget

if TYPE_CHECKING:
    from trainscope.gui.main_window import MainWindow

MIN_PLOT = (200, 150)  # width, height in pixels of plot area
SLACK_PX = 1  # rounding between a text's advance and the widget's width


def settle(window: MainWindow) -> None:
    """Let Qt lay everything out (docks resize over a few event-loop passes)."""
    for _ in range(5):
        QApplication.processEvents()


def main_plot_size(panel: QWidget) -> tuple[int, int] | None:
    """The plot area of the panel's largest visible plot (None: the panel has no plot)."""
    sizes = []
    for widget in panel.findChildren(pg.PlotWidget):
        if widget.isVisible():
            rect = widget.getPlotItem().getViewBox().sceneBoundingRect()
            sizes.append((round(rect.width()), round(rect.height())))
    return max(sizes, key=lambda size: size[0] * size[1]) if sizes else None


def visible_panels(window: MainWindow) -> dict[str, QWidget]:
    """The panels a person can see now (their dock shown and, if tabbed, its tab in front)."""
    return {
        name: panel
        for name, panel in window.panels.items()
        if panel.isVisible() and not panel.visibleRegion().isEmpty()
    }


def clipped_labels(root: QWidget, exempt: tuple[QWidget, ...] = ()) -> list[str]:
    """One-line labels whose text is wider than the label (cut off at the edge)."""
    problems = []
    for label in root.findChildren(QLabel):
        if label in exempt or not label.isVisible() or label.wordWrap():
            continue
        text = label.text()
        if not text or label.textFormat() == 1 or "<" in text:  # rich text: not measured
            continue
        needed = label.fontMetrics().horizontalAdvance(text)
        available = label.contentsRect().width()
        if needed > available + SLACK_PX:
            problems.append(f"label {text!r} needs {needed} px, has {available}")
    return problems


def clipped_buttons(root: QWidget) -> list[str]:
    """Buttons and check boxes whose text is cut (narrower than they would like)."""
    problems = []
    for button in root.findChildren(QAbstractButton):
        if button.isVisible() and button.text() and button.width() < button.sizeHint().width():
            problems.append(
                f"button {button.text()!r} is {button.width()} px, needs {button.sizeHint().width()}"
            )
    return problems


def elided_tabs(window: MainWindow) -> list[str]:
    """Dock tabs whose title does not fit its tab (Qt would show 'Deci…')."""
    problems = []
    for bar in window.findChildren(QTabBar):
        if not bar.isVisible():
            continue
        metrics = bar.fontMetrics()
        for index in range(bar.count()):
            text = bar.tabText(index)
            needed = metrics.horizontalAdvance(text)
            if bar.tabRect(index).width() < needed:
                problems.append(f"tab {text!r} is {bar.tabRect(index).width()} px, needs {needed}")
    return problems


def clipped_plot_titles(panel: QWidget) -> list[str]:
    """Plot titles wider than their plot (pyqtgraph cuts them at the plot's edges)."""
    problems = []
    for widget in panel.findChildren(pg.PlotWidget):
        if not widget.isVisible():
            continue
        plot = widget.getPlotItem()
        title = plot.titleLabel
        if not title.isVisible() or not title.text:
            continue
        needed = title.item.boundingRect().width()
        available = plot.boundingRect().width()
        if needed > available + SLACK_PX:
            problems.append(f"plot title {title.text!r} needs {needed:.0f} px, has {available:.0f}")
    return problems


def layout_problems(window: MainWindow) -> list[str]:
    """Every way the window's current layout fails a person, in words (empty: it holds)."""
    settle(window)
    problems = []
    for name, panel in visible_panels(window).items():
        size = main_plot_size(panel)
        if size is not None and (size[0] < MIN_PLOT[0] or size[1] < MIN_PLOT[1]):
            problems.append(f"{name}: plot area {size[0]}x{size[1]} px, below {MIN_PLOT}")
        problems += [f"{name}: {problem}" for problem in clipped_plot_titles(panel)]
        problems += [f"{name}: {problem}" for problem in clipped_labels(panel)]
        problems += [f"{name}: {problem}" for problem in clipped_buttons(panel)]
    for name in ("controls", "setup"):
        dock = window.docks[name]
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            problems += [f"{name}: {p}" for p in clipped_labels(dock) + clipped_buttons(dock)]
    problems += elided_tabs(window)
    status = window.status
    problems += [
        f"status bar: {p}" for p in clipped_labels(window.statusBar(), (status.message_label,))
    ]
    return problems
