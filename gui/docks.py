"""Every panel in its own dock, and the default arrangement "Restore default layout" goes back to.

Docks let a student pull the confusion matrix onto a second screen or close what a lesson does
not need; an instructor on a projector can give the loss chart half the wall. The default is a
plain grid that reads left to right: steering on the left (the lesson, the controls and the
setup as tabs, the hints under them), then how training goes (loss, accuracy), what the model
gets wrong (confusion), and how far to trust it (calibration, threshold) below. The insight
panels (decision boundary, mistakes, layer health) share one tabbed dock at the end of the top
row, so every other panel stays in sight.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QWidget

#: Default widths at 1600 x 1000: the controls column, then the charts.
CONTROLS_WIDTH = 330
TOP_ROW_HEIGHT = 500
#: Loss, accuracy, confusion, then the insight tabs (decision boundary, mistakes, layer health).
TOP_ROW_SHARES = (0.24, 0.19, 0.27, 0.30)
#: Share of the left column's height that the hints get under the lesson / controls tabs.
HINTS_SHARE = 0.25
#: The panels a scenario's watch-for notes may name → the dock that shows it (where one exists).
SCENARIO_PANEL_DOCKS = {
    "loss": "loss",
    "accuracy": "accuracy",
    "confusion": "confusion",
    "reliability": "calibration",
    "threshold": "threshold",
    "hints": "hints",
    "settings": "controls",
}


def make_dock(window: QMainWindow, name: str, title: str, widget: QWidget) -> QDockWidget:
    """A movable, closable, floatable dock; ``name`` is its key in the saved layout."""
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock_{name}")
    dock.setWidget(widget)
    dock.setFeatures(
        QDockWidget.DockWidgetMovable
        | QDockWidget.DockWidgetClosable
        | QDockWidget.DockWidgetFloatable
    )
    dock.setAllowedAreas(Qt.AllDockWidgetAreas)
    return dock


def arrange_default(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Put every dock back in the default grid (also brings back closed and floating ones).

    ``docks`` needs the keys lesson, controls, setup, hints, loss, accuracy, confusion,
    calibration, threshold, and the insight tabs boundary, mistakes, layer_health.
    """
    for dock in docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    window.addDockWidget(Qt.LeftDockWidgetArea, docks["controls"])
    window.splitDockWidget(docks["controls"], docks["hints"], Qt.Vertical)
    window.tabifyDockWidget(docks["controls"], docks["setup"])
    window.tabifyDockWidget(docks["controls"], docks["lesson"])
    window.addDockWidget(Qt.RightDockWidgetArea, docks["loss"])
    window.splitDockWidget(docks["loss"], docks["calibration"], Qt.Vertical)
    window.splitDockWidget(docks["loss"], docks["accuracy"], Qt.Horizontal)
    window.splitDockWidget(docks["accuracy"], docks["confusion"], Qt.Horizontal)
    window.splitDockWidget(docks["confusion"], docks["boundary"], Qt.Horizontal)
    window.tabifyDockWidget(docks["boundary"], docks["mistakes"])
    window.tabifyDockWidget(docks["boundary"], docks["layer_health"])
    window.splitDockWidget(docks["calibration"], docks["threshold"], Qt.Horizontal)
    for dock in docks.values():
        dock.show()
    docks["controls"].raise_()
    docks["boundary"].raise_()
    resize_default(window, docks)


def resize_default(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Share the window's size between the docks in the default proportions."""
    width = max(window.width(), 800)
    charts = width - CONTROLS_WIDTH
    window.resizeDocks([docks["controls"], docks["loss"]], [CONTROLS_WIDTH, charts], Qt.Horizontal)
    third = charts // 3
    top_row = [round(charts * share) for share in TOP_ROW_SHARES]
    top_docks = [docks[name] for name in ("loss", "accuracy", "confusion", "boundary")]
    window.resizeDocks(top_docks, top_row, Qt.Horizontal)
    window.resizeDocks(
        [docks["calibration"], docks["threshold"]], [third, charts - third], Qt.Horizontal
    )
    height = max(window.height(), 600)
    top = round(height * TOP_ROW_HEIGHT / 1000)
    window.resizeDocks([docks["loss"], docks["calibration"]], [top, top], Qt.Vertical)
    hints = round(height * HINTS_SHARE)
    window.resizeDocks([docks["controls"], docks["hints"]], [height - hints, hints], Qt.Vertical)


def fit_bottom_row(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Give the threshold panel two thirds of the calibration / threshold row.

    It fills with three charts on every task (two classes, or one class against the rest), and
    the share it had on multi-class tasks when it only said why it was empty (a third) has to
    be given back. Docks the user floated, closed or tabbed are left alone.
    """
    calibration, threshold = docks["calibration"], docks["threshold"]
    if calibration.isFloating() or threshold.isFloating():
        return
    if not (calibration.isVisible() and threshold.isVisible()):
        return
    total = calibration.width() + threshold.width()
    wanted = total * 2 // 3
    window.resizeDocks([calibration, threshold], [total - wanted, wanted], Qt.Horizontal)


class VerticalScroller(QScrollArea):
    """Scrolls a tall column up and down, but is never narrower than the column itself.

    At a large interface size the controls grow wider too; a horizontal scroll bar would hide
    half of every slider, so the dock is made to give the column the width it needs instead.
    """

    def __init__(self, widget: QWidget) -> None:
        super().__init__()
        self.setWidget(widget)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        content = self.widget().minimumSizeHint()
        scroll_bar = self.verticalScrollBar().sizeHint().width()
        return QSize(content.width() + scroll_bar, min(content.height(), 200))
