"""The window's layout over time: its size on this screen, a saved layout only if it still
fits, the charts (not the controls) taking a resize, and a zoom round trip that comes back
exactly to where it started.

``gui.docks`` knows what the default arrangement is for a size; this keeps it true as the
window, the screen and the interface size change.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

from gui.docks import arrange_default
from gui.window_settings import LAYOUT_VERSION, WindowSettings

#: The window's size where no screen says otherwise (tests, benchmarks, ``--quit-after``).
DEFAULT_SIZE = (1600, 1000)


def screen_area() -> QRect | None:
    screen = QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def size_for_screen() -> tuple[int, int]:
    """``DEFAULT_SIZE``, or the whole available screen where that is smaller (a laptop)."""
    area = screen_area()
    if area is None:
        return DEFAULT_SIZE
    return min(DEFAULT_SIZE[0], area.width()), min(DEFAULT_SIZE[1], area.height())


def fits_screen(size: QSize) -> bool:
    area = screen_area()
    return area is None or (size.width() <= area.width() and size.height() <= area.height())


class WindowLayout:
    """Arranges, restores and keeps the window's docks for its size and interface scale."""

    def __init__(
        self, window: QMainWindow, docks: dict[str, QDockWidget], settings: WindowSettings
    ) -> None:
        self.window, self.docks, self.settings = window, docks, settings
        self.tier: str | None = None
        self.scale = 1.0  # the interface size the layout was made for
        # Whether a person has moved, floated or closed a dock since the default was arranged:
        # a zoom then keeps their layout instead of arranging the default for the new size.
        self.customized = False
        self._arranging = False
        for dock in docks.values():
            dock.dockLocationChanged.connect(self._changed_by_user)
            dock.topLevelChanged.connect(self._changed_by_user)
        # The layout on screen at each interface scale visited since it was last arranged:
        # going back to a scale puts back exactly what was there.
        self._at_scale: dict[float, QByteArray] = {}

    def _changed_by_user(self, *_: object) -> None:
        if not self._arranging:
            self.customized = True

    def arrange_default(self, scale: float | None = None, forget: bool = True) -> None:
        """The default layout for the window's size at ``scale`` (default: the current one);
        ``forget`` drops the layouts remembered per interface size."""
        if forget:
            self._at_scale.clear()
        self.scale = self.scale if scale is None else scale
        self._arranging = True
        try:
            self.tier = arrange_default(self.window, self.docks, self.scale)
        finally:
            self._arranging = False
        self.customized = False
        self.show_whole_tab_titles()

    def restore_saved(self) -> bool:
        """The last launch's layout, unless it no longer fits this screen (then: the default).

        True when a saved layout was put back."""
        restored = self.settings.restore_window(self.window)
        if restored and not fits_screen(self.window.size()):
            size = size_for_screen()
            self.window.resize(*size)
            self.arrange_default()
            return False
        self.show_whole_tab_titles()
        return restored

    def show_whole_tab_titles(self) -> None:
        """Dock tabs scroll rather than cut their titles ('Deci…' says nothing)."""
        for bar in self.window.findChildren(QTabBar):
            bar.setElideMode(Qt.ElideNone)
            bar.setUsesScrollButtons(True)

    def before_rescale(self, scale: float) -> None:
        self._at_scale.setdefault(scale, self.window.saveState(LAYOUT_VERSION))

    def after_rescale(self, scale: float) -> None:
        """Back at a scale seen before: its layout exactly. A new scale: the default layout for
        it, or (a layout the person arranged) the column's new minimum width."""
        saved = self._at_scale.get(scale)
        self.scale = scale
        if saved is not None:
            self._arranging = True
            try:
                self.window.restoreState(saved, LAYOUT_VERSION)
            finally:
                self._arranging = False
        elif not self.customized:
            self.arrange_default(scale, forget=False)
        else:
            self.keep_column(self.docks["controls"].minimumSizeHint().width())
        self.show_whole_tab_titles()

    def keep_column(self, width: int) -> None:
        """Give the controls column ``width`` (after Qt's own pass) and the charts the rest."""
        controls = self.docks["controls"]
        if controls.isFloating() or not controls.isVisible():
            return
        width = max(width, controls.minimumSizeHint().width())
        QTimer.singleShot(0, lambda: self.window.resizeDocks([controls], [width], Qt.Horizontal))
