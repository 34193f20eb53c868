"""Every panel in its own dock, and the default arrangement "Restore default layout" goes back to.

Docks let a student pull the confusion matrix onto a second screen or close what a lesson does
not need; an instructor on a projector can give the loss chart half the wall. The default is a
plain grid that reads left to right: steering on the left (the lesson, the controls and the
setup as tabs, the hints under them), then how training goes (loss, accuracy), what the model
gets wrong (confusion), and how far to trust it (calibration, threshold) below. The insight
panels (decision boundary, mistakes, layer health) share one tabbed dock at the end of the top
row. A smaller screen gets fewer charts side by side (``layout_tier``), the rest in tabs, so
every panel in sight keeps a plot a person can read.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QWidget

#: The charts' area (the window less the controls column, in pixels at interface size 100%)
#: from which a layout tier applies; each keeps every visible panel's plot usable
#: (``tests/gui/layout_checks.py`` measures it at every size and zoom).
WIDE_CHARTS, WIDE_HEIGHT = 1250, 880  # four charts in the top row (1600 x 900 and up)
MEDIUM_CHARTS, MEDIUM_HEIGHT = 900, 740  # three (1366 x 768)
COMPACT_HEIGHT = 660  # loss over accuracy beside the tabs (1024 x 768); lower: side by side
COMPACT_LOSS_SHARE = 0.53
#: Top row of the wide tier: loss, accuracy, confusion, then the insight tabs.
TOP_ROW_SHARES = (0.26, 0.22, 0.24, 0.28)
#: The top row's share of the height per tier (the bottom row: calibration and threshold,
#: whose controls need more of a short screen).
TOP_ROW_SHARES_OF_HEIGHT = {"wide": 0.5, "medium": 0.45}
#: Share of the left column's height that the hints get under the lesson / controls tabs.
HINTS_SHARE = 0.25
#: The insight tabs, in order, behind the first of them.
INSIGHT_TABS = ("boundary", "mistakes", "layer_health")
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
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
    )
    dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
    return dock


def layout_tier(chart_width: int, height: int, scale: float = 1.0) -> str:
    """ "wide", "medium", "compact" or "narrow": how many charts share the window at this size
    (measured at interface size 100%: larger type needs the room a smaller screen lacks)."""
    # Smaller type does not earn more charts: the plot floor is in pixels, not points.
    scale = max(scale, 1.0)
    width_100, height_100 = chart_width / scale, height / scale
    if width_100 >= WIDE_CHARTS and height_100 >= WIDE_HEIGHT:
        return "wide"
    if width_100 >= MEDIUM_CHARTS and height_100 >= MEDIUM_HEIGHT:
        return "medium"
    return "compact" if height_100 >= COMPACT_HEIGHT else "narrow"


def controls_width(docks: dict[str, QDockWidget]) -> int:
    """The left column's minimum width: the widest of what it holds needs, and no more."""
    names = ("controls", "setup", "lesson", "hints")
    return max(docks[name].minimumSizeHint().width() for name in names)


def arrange_default(window: QMainWindow, docks: dict[str, QDockWidget], scale: float = 1.0) -> str:
    """Put every dock back in the default layout for the window's size; returns its tier.

    The controls column takes its minimum width and the charts the rest. Wide: loss, accuracy,
    confusion and the insight tabs in the top row, calibration and threshold below. Medium: the
    confusion matrix joins the insight tabs. Compact: loss over accuracy, every other chart in
    one tab group beside them, at full height. Narrow: the loss beside one tab group of all
    the others. ``docks`` needs the keys lesson, controls,
    setup, hints, loss, accuracy, confusion, calibration, threshold and the insight tabs.
    """
    column = controls_width(docks)
    tier = layout_tier(window.width() - column, window.height(), scale)
    for dock in docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks["controls"])
    window.splitDockWidget(docks["controls"], docks["hints"], Qt.Orientation.Vertical)
    window.tabifyDockWidget(docks["controls"], docks["setup"])
    window.tabifyDockWidget(docks["controls"], docks["lesson"])
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, docks["loss"])
    if tier in ("compact", "narrow"):
        _arrange_tabbed(window, docks, tier)
    else:
        _arrange_rows(window, docks, tier)
    for dock in docks.values():
        dock.show()
    docks["controls"].raise_()
    docks[{"wide": "boundary", "narrow": "accuracy"}.get(tier, "confusion")].raise_()
    _share(window, docks, tier, column)
    return tier


def _arrange_rows(window: QMainWindow, docks: dict[str, QDockWidget], tier: str) -> None:
    window.splitDockWidget(docks["loss"], docks["calibration"], Qt.Orientation.Vertical)
    window.splitDockWidget(docks["loss"], docks["accuracy"], Qt.Orientation.Horizontal)
    window.splitDockWidget(docks["accuracy"], docks["confusion"], Qt.Orientation.Horizontal)
    if tier == "wide":
        window.splitDockWidget(docks["confusion"], docks["boundary"], Qt.Orientation.Horizontal)
    else:
        window.tabifyDockWidget(docks["confusion"], docks["boundary"])
    for name in INSIGHT_TABS[1:]:
        window.tabifyDockWidget(docks["boundary"], docks[name])
    window.splitDockWidget(docks["calibration"], docks["threshold"], Qt.Orientation.Horizontal)


def _arrange_tabbed(window: QMainWindow, docks: dict[str, QDockWidget], tier: str) -> None:
    """Compact: loss over accuracy | tabs. Narrow: loss | tabs, accuracy the first of them."""
    first = "accuracy" if tier == "narrow" else "confusion"
    window.splitDockWidget(docks["loss"], docks[first], Qt.Orientation.Horizontal)
    if tier == "compact":
        window.splitDockWidget(docks["loss"], docks["accuracy"], Qt.Orientation.Vertical)
    tabs = ("confusion", "threshold", "calibration", *INSIGHT_TABS)
    for name in tabs:
        if name != first:
            window.tabifyDockWidget(docks[first], docks[name])


def _share(window: QMainWindow, docks: dict[str, QDockWidget], tier: str, column: int) -> None:
    """Share the window between the docks: the column its minimum, the charts the rest."""
    charts = window.width() - column
    window.resizeDocks(
        [docks["controls"], docks["loss"]], [column, charts], Qt.Orientation.Horizontal
    )
    height = window.height()
    hints = round(height * HINTS_SHARE)
    window.resizeDocks(
        [docks["controls"], docks["hints"]], [height - hints, hints], Qt.Orientation.Vertical
    )
    if tier in ("compact", "narrow"):
        half = charts // 2
        beside = "accuracy" if tier == "narrow" else "confusion"
        window.resizeDocks(
            [docks["loss"], docks[beside]], [half, charts - half], Qt.Orientation.Horizontal
        )
        if tier == "compact":  # the loss has a row of options over its plot: a little more
            loss = round(height * COMPACT_LOSS_SHARE)
            window.resizeDocks(
                [docks["loss"], docks["accuracy"]], [loss, height - loss], Qt.Orientation.Vertical
            )
        return
    shares = TOP_ROW_SHARES if tier == "wide" else (1 / 3, 1 / 3, 1 / 3)
    top_names = ("loss", "accuracy", "confusion", "boundary")[: len(shares)]
    top = [round(charts * share) for share in shares]
    window.resizeDocks([docks[name] for name in top_names], top, Qt.Orientation.Horizontal)
    third = charts // 3
    window.resizeDocks(
        [docks["calibration"], docks["threshold"]],
        [third, charts - third],
        Qt.Orientation.Horizontal,
    )
    top_height = round(height * TOP_ROW_SHARES_OF_HEIGHT[tier])
    window.resizeDocks(
        [docks["loss"], docks["calibration"]],
        [top_height, height - top_height],
        Qt.Orientation.Vertical,
    )


class VerticalScroller(QScrollArea):
    """Scrolls a tall column up and down, but is never narrower than the column itself.

    At a large interface size the controls grow wider too; a horizontal scroll bar would hide
    half of every slider, so the dock is made to give the column the width it needs instead.
    """

    def __init__(self, widget: QWidget) -> None:
        super().__init__()
        self.setWidget(widget)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        widget = self.widget()
        assert widget is not None  # set in __init__
        content = widget.minimumSizeHint()
        scroll_bar = self.verticalScrollBar().sizeHint().width()
        return QSize(content.width() + scroll_bar, min(content.height(), 200))
