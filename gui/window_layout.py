"""The window's layout over time: its size on this screen, a saved layout only if it still
fits, the charts (not the controls) taking a resize, and a zoom round trip that comes back
exactly to where it started.

``gui.docks`` knows what the default arrangement is for a size; this keeps it true as the
window, the screen and the interface size change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

from trainscope.gui.docks import arrange_default, controls_width
from trainscope.gui.window_settings import LAYOUT_VERSION, WindowSettings

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import QChildEvent
    from PySide6.QtGui import QResizeEvent

#: The window's size where no screen says otherwise (tests, benchmarks, ``--quit-after``).
DEFAULT_SIZE = (1600, 1000)
#: A window being resized by hand sends many sizes: lay out once it has stopped.
REARRANGE_AFTER_MS = 150


def screen_area() -> QRect | None:
    screen = QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def size_for_screen() -> tuple[int, int]:
    """The whole available screen: a laptop's, or a projector's for the charts to use."""
    area = screen_area()
    if area is None:
        return DEFAULT_SIZE
    return area.width(), area.height()


class WindowLayout(QObject):
    """Arranges, restores and keeps the window's docks for its size and interface scale."""

    def __init__(
        self, window: QMainWindow, docks: dict[str, QDockWidget], settings: WindowSettings
    ) -> None:
        super().__init__(window)
        self.window, self.docks, self.settings = window, docks, settings
        window.installEventFilter(self)  # every dock tab bar Qt makes, as it makes it
        self.tier: str | None = None
        self.scale = 1.0  # the interface size the layout was made for
        # Whether a person has moved or floated a dock, or dragged a separator, since the
        # default was arranged: a zoom or resize then keeps their layout.
        self.customized = False
        self._arranging = False
        self.held: Callable[[], bool] = lambda: False  # e.g. classroom mode's own layout
        self._rearrange = QTimer(self)
        self._rearrange.setSingleShot(True)
        self._rearrange.setInterval(REARRANGE_AFTER_MS)
        self._rearrange.timeout.connect(self._rearrange_keeping_tabs)
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

    def _rearrange_keeping_tabs(self) -> None:
        """The default layout for the new size, with the same tab in front of each group."""
        if self.customized or self.held():
            return
        in_front = [dock for dock in self.docks.values() if not dock.visibleRegion().isEmpty()]
        self.arrange_default(forget=False)
        for dock in in_front:
            dock.raise_()

    def restore_saved(self) -> bool:
        """The last launch's layout, unless it was made for a bigger window than this one is
        (sized for this screen, or by ``--size``): then the default layout stays.

        True when a saved layout was put back."""
        saved, now = self.settings.saved_size(), self.window.size()
        if saved is not None and (saved.width() > now.width() or saved.height() > now.height()):
            return False  # made for a bigger screen: the default layout for this one stays
        restored = self.settings.restore_window(self.window)
        self.customized = restored  # the person's own layout from last time: kept on resize
        self.show_whole_tab_titles()
        return restored

    def show_whole_tab_titles(self) -> None:
        """Dock tabs scroll rather than cut their titles ('Deci…' says nothing)."""
        for bar in self.window.findChildren(QTabBar):
            _whole_titles(bar)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Qt makes a dock area's tab bar when docks are first tabbed: fix it up at once.

        A resized window in the default layout gets the default layout for its new size (Qt
        alone would give the new width to the controls column). One a person arranged keeps
        theirs: a moved or floated dock, or a dragged separator (the separators are the
        window's own, so a mouse release on the window itself is one)."""
        if event.type() == QEvent.Type.ChildPolished:
            child = cast("QChildEvent", event).child()
            if isinstance(child, QTabBar):
                _whole_titles(child)
        elif event.type() == QEvent.Type.Resize and cast("QResizeEvent", event).oldSize().isValid():
            if not self.customized:
                self._rearrange.start()  # once the resizing stops
        elif event.type() == QEvent.Type.MouseButtonRelease:
            self.customized = True  # the window's own mouse events are its dock separators
        return False

    def before_rescale(self, scale: float) -> None:
        self._at_scale.setdefault(round(scale, 4), self.window.saveState(LAYOUT_VERSION))

    def after_rescale(self, scale: float) -> None:
        """Back at a scale seen before: its layout exactly. A new scale: the default layout for
        it, or (a layout the person arranged) the column's new minimum width."""
        saved = self._at_scale.get(round(scale, 4))
        self.scale = scale
        if saved is not None:
            self._restore(saved)
            # Once more when the new type sizes have settled: the first pass is held by the
            # old minimum sizes and can land a pixel or two off.
            QTimer.singleShot(0, lambda: self._restore(saved))
        elif not self.customized:
            self.arrange_default(scale, forget=False)
        else:
            self.keep_column(controls_width(self.docks))
        self.show_whole_tab_titles()

    def _restore(self, state: QByteArray) -> None:
        self._arranging = True
        try:
            self.window.restoreState(state, LAYOUT_VERSION)
        finally:
            self._arranging = False

    def keep_column(self, width: int) -> None:
        """Give the controls column ``width`` (after Qt's own pass) and the charts the rest."""
        controls, loss = self.docks["controls"], self.docks["loss"]
        if controls.isFloating() or not controls.isVisible() or loss.isFloating():
            return
        width = max(width, controls_width(self.docks))

        def share() -> None:
            rest = max(1, self.window.width() - width)
            self.window.resizeDocks([controls, loss], [width, rest], Qt.Orientation.Horizontal)

        QTimer.singleShot(0, share)


def _whole_titles(bar: QTabBar) -> None:
    bar.setElideMode(Qt.TextElideMode.ElideNone)
    bar.setUsesScrollButtons(True)
