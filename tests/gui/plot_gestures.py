"""A user's hand on a pyqtgraph chart: real wheel and double-click events on its viewport."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    import pyqtgraph as pg


def _centre(widget: pg.PlotWidget) -> QPointF:
    return QPointF(widget.viewport().rect().center())


def wheel_zoom(widget: pg.PlotWidget, notches: int = 1) -> None:
    """Turn the mouse wheel over the middle of the chart (positive zooms in)."""
    viewport = widget.viewport()
    centre = _centre(widget)
    event = QWheelEvent(
        centre,
        QPointF(viewport.mapToGlobal(centre.toPoint())),
        QPoint(),
        QPoint(0, 120 * notches),
        Qt.NoButton,
        Qt.NoModifier,
        Qt.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)


def double_click(widget: pg.PlotWidget) -> None:
    """Press, release, double-click, release: the order a real double-click arrives in.

    (``QTest.mouseDClick`` sends a second press first, which pyqtgraph reads as a single click.)
    """
    viewport = widget.viewport()
    centre = _centre(widget)
    QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, centre.toPoint())
    QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, centre.toPoint())
    event = QMouseEvent(
        QEvent.MouseButtonDblClick,
        centre,
        QPointF(viewport.mapToGlobal(centre.toPoint())),
        Qt.LeftButton,
        Qt.LeftButton,
        Qt.NoModifier,
    )
    QApplication.sendEvent(viewport, event)
    QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, centre.toPoint())
