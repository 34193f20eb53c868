"""What the window remembers between launches: geometry, dock layout, interface size.

A thin typed layer over ``QSettings``: ini files hand values back as strings, and a damaged or
old file must never stop the app from opening (it falls back to the defaults).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, QSize

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

LAYOUT_VERSION = 3  # bump when the set of docks changes, so an old layout is ignored
SCALE_KEY = "interface/scale"
CLASSROOM_KEY = "interface/classroom"
GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"
SIZE_KEY = "window/size"  # the size the layout was made at (the geometry's, screen-clamped)


class WindowSettings:
    """Typed reads and writes of the window's remembered state."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def scale(self) -> float:
        try:
            return float(self.settings.value(SCALE_KEY, 1.0))
        except (TypeError, ValueError):
            return 1.0

    def classroom(self) -> bool:
        value = self.settings.value(CLASSROOM_KEY, False)
        return value is True or str(value).lower() in ("true", "1")

    def save_interface(self, scale: float, classroom: bool) -> None:
        self.settings.setValue(SCALE_KEY, float(scale))
        self.settings.setValue(CLASSROOM_KEY, bool(classroom))
        self.settings.sync()

    def restore_window(self, window: QMainWindow) -> bool:
        """Geometry and dock layout from the last launch; False when there was none to restore."""
        geometry = self.settings.value(GEOMETRY_KEY)
        state = self.settings.value(STATE_KEY)
        restored = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            restored = window.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            restored = window.restoreState(state, LAYOUT_VERSION) and restored
        return restored

    def saved_size(self) -> QSize | None:
        """The window's size when its layout was saved (None: none saved, or unreadable)."""
        value = self.settings.value(SIZE_KEY)
        if isinstance(value, QSize):
            return value
        try:
            width, height = (int(part) for part in str(value).split("x"))
        except (TypeError, ValueError):
            return None
        return QSize(width, height)

    def save_window(self, window: QMainWindow, state: QByteArray | None = None) -> None:
        """Remember geometry and dock layout; ``state`` is the layout to keep instead of the
        current one (classroom mode hands back the layout it will restore, not its own)."""
        self.settings.setValue(GEOMETRY_KEY, window.saveGeometry())
        self.settings.setValue(SIZE_KEY, f"{window.width()}x{window.height()}")
        self.settings.setValue(
            STATE_KEY, state if state is not None else window.saveState(LAYOUT_VERSION)
        )
        self.settings.sync()
