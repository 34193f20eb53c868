"""The application icon, read from the installed ``assets`` package at every size it ships.

The PNGs are read as bytes through ``importlib.resources``, so the icon loads the same from a
checkout, an editable install or a wheel. The window and the application both carry it: the
taskbar, the window switcher and the window's own title bar then show TrainScope, not a
generic window.
"""

from __future__ import annotations

from PySide6.QtGui import QIcon, QPixmap

from trainscope.assets import ICON_SIZES, icon_png


def application_icon() -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap()
        # PySide6's stub asks for the format as bytes, which it refuses at run time (str works).
        if pixmap.loadFromData(icon_png(size), "PNG"):  # type: ignore[call-overload]
            icon.addPixmap(pixmap)
    return icon
