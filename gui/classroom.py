"""Classroom mode's layout: the lesson and the panels it talks about, nothing else, big.

On a projector every dock competes for a wall seen from the back row, and a class can only
follow one story at a time. So classroom mode gives the lesson the full height of the left
column and the rest of the screen to the panels its "watch for" notes name, the loss chart
(when that leaves them room) and the hints; the controls, the setup and the panels the lesson does not mention are hidden
(View menu brings any of them back). The layout that was on screen before is kept and comes
back, exactly, when classroom mode is switched off. The theme's half (fonts, line widths,
contrast) is ``Theme.for_scale(..., classroom=True)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, Qt, Slot
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar

from trainscope.gui.docks import SCENARIO_PANEL_DOCKS
from trainscope.gui.window_settings import LAYOUT_VERSION

if TYPE_CHECKING:
    from trainscope.engine.scenario import Scenario

WITHOUT_LESSON = ("loss", "accuracy", "confusion")  # a class with no lesson open: how it learns
#: Panels that need the whole width of the chart area at classroom sizes: a row of their own.
WIDE_DOCKS = ("threshold",)
#: With this many panels named, the loss chart is left out: it would squeeze them unreadable.
CROWDED = 3
LESSON_COLUMN_SHARE = 0.36
#: Below this window height two rows of charts at classroom type leave each too short to
#: read (a 1024 x 640 laptop): the second row goes into tabs behind the first.
TWO_ROWS_HEIGHT = 800
CROWDED_COLUMN_SHARE = 0.31  # three panels side by side: the lesson gives up some width


def focus_docks(scenario: Scenario | None) -> list[str]:
    """The docks beside the lesson: the ones it names (loss first, unless crowded), then hints."""
    if scenario is None:
        return [*WITHOUT_LESSON, "hints"]
    named: list[str] = []
    for watch in scenario.watch_for:
        dock = SCENARIO_PANEL_DOCKS.get(watch.panel)
        if dock is not None and dock not in named and dock != "hints":
            named.append(dock)
    if "loss" not in named and len(named) < CROWDED:
        named.insert(0, "loss")
    return [*named, "hints"]


class ClassroomLayout(QObject):
    """Enters and leaves the classroom arrangement of a window's docks."""

    def __init__(self, window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
        super().__init__(window)
        self.window = window
        self.docks = docks
        self._saved: QByteArray | None = None

    @property
    def active(self) -> bool:
        return self._saved is not None

    def follow(self, classroom: bool, scenario: Scenario | None) -> None:
        """Enter or leave with the theme's classroom flag; toolbars (the problem banner) keep
        whatever visibility they have now, not the one of the layout being restored. Already
        there: nothing moves (a zoom in classroom mode keeps the docks where the user put them)."""
        if classroom == self.active:
            return
        hidden = {bar: bar.isHidden() for bar in self.window.findChildren(QToolBar)}
        if classroom:
            self.enter(scenario)
        else:
            self.leave()
        for bar, was_hidden in hidden.items():
            bar.setHidden(was_hidden)

    @Slot(object)
    def follow_lesson(self, scenario: Scenario | None) -> None:
        """A new lesson in classroom mode: its panels, nothing else."""
        if self.active:
            self.arrange(scenario)

    def enter(self, scenario: Scenario | None) -> None:
        """Remember the current layout (once) and arrange the classroom one."""
        if self._saved is None:
            self._saved = self.window.saveState(LAYOUT_VERSION)
        self.arrange(scenario)

    def leave(self) -> None:
        """Put back the layout that was on screen before classroom mode."""
        if self._saved is None:
            return
        saved, self._saved = self._saved, None
        self.window.restoreState(saved, LAYOUT_VERSION)

    def normal_state(self) -> QByteArray:
        """The layout to remember for the next launch: never the classroom one."""
        return self._saved if self._saved is not None else self.window.saveState(LAYOUT_VERSION)

    def arrange(self, scenario: Scenario | None) -> None:
        """The lesson down the left; its panels and the hints in one or two rows on the right."""
        window, docks = self.window, self.docks
        top_names, bottom_names = _rows([name for name in focus_docks(scenario) if name in docks])
        top, bottom = [docks[name] for name in top_names], [docks[name] for name in bottom_names]
        shown = {docks["lesson"], *top, *bottom}
        for dock in docks.values():
            dock.setFloating(False)
            window.removeDockWidget(dock)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks["lesson"])
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, top[0])
        tabbed = bool(bottom) and window.height() < TWO_ROWS_HEIGHT
        if bottom and not tabbed:
            window.splitDockWidget(top[0], bottom[0], Qt.Orientation.Vertical)
        for row in (top, [] if tabbed else bottom):
            for left, right in zip(row, row[1:], strict=False):
                window.splitDockWidget(left, right, Qt.Orientation.Horizontal)
        if tabbed:
            for index, dock in enumerate(bottom):
                window.tabifyDockWidget(top[min(index, len(top) - 1)], dock)
            bottom = []
        for dock in docks.values():
            if dock not in shown:
                window.addDockWidget(
                    Qt.DockWidgetArea.RightDockWidgetArea, dock
                )  # a place to come back to
            dock.setVisible(dock in shown)
        for dock in top:  # in front of the tabs a short screen puts behind them
            dock.raise_()
        self._share_space(top, bottom)

    def _share_space(self, top: list[QDockWidget], bottom: list[QDockWidget]) -> None:
        window, docks = self.window, self.docks
        width, height = max(window.width(), 800), max(window.height(), 600)
        crowded = max(len(top), len(bottom)) >= CROWDED
        column = round(width * (CROWDED_COLUMN_SHARE if crowded else LESSON_COLUMN_SHARE))
        window.resizeDocks(
            [docks["lesson"], top[0]], [column, width - column], Qt.Orientation.Horizontal
        )
        for row in (top, bottom):
            if len(row) > 1:
                share = (width - column) // len(row)
                window.resizeDocks(row, [share] * len(row), Qt.Orientation.Horizontal)
        if bottom:
            window.resizeDocks(
                [top[0], bottom[0]], [height // 2, height // 2], Qt.Orientation.Vertical
            )


def _rows(charts: list[str]) -> tuple[list[str], list[str]]:
    """Wide panels get the bottom row to themselves; otherwise one chart fills the area, two
    stack, three put the loss on top of two, four make a 2x2."""
    wide = [name for name in charts if name in WIDE_DOCKS]
    narrow = [name for name in charts if name not in WIDE_DOCKS]
    if wide and narrow:
        return narrow, wide
    if len(charts) <= 1:
        return charts, []
    split = len(charts) // 2
    return charts[:split], charts[split:]
