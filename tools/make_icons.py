"""Render the application icon's PNGs from ``assets/icon/trainscope.svg``.

Desktops ask for an icon at several sizes (taskbar 16-32, launchers 48-64, app grids and
window switchers 128-256); a PNG per size renders crisply where an SVG is not supported. Run
after changing the SVG and commit the PNGs:  .venv/bin/python tools/make_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICON_DIR = Path(__file__).resolve().parents[1] / "assets" / "icon"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def main() -> int:
    QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICON_DIR / "trainscope.svg"))
    if not renderer.isValid():
        print("trainscope.svg could not be read", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format_ARGB32)
        image.fill(Qt.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICON_DIR / f"trainscope-{size}.png"))
        print(ICON_DIR / f"trainscope-{size}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
