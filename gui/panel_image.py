"""A panel as an image worth putting on a slide: its charts, sharp, without its checkboxes.

``QWidget.grab`` gives the panel at screen size, controls and all: a loss panel in its dock
came out as 327 × 500 pixels with the "raw loss per batch" row on top, too small to project.
Here only the panel's charts are painted, at their on-screen arrangement, scaled so the image
is at least ``MIN_WIDTH_PX`` wide (and never less than ``MIN_SCALE`` times the screen size).
Painting through a scaled painter redraws the text and lines at that size, rather than
enlarging a screen capture. A panel without charts (the lesson, the hints) is painted whole,
at the same scale.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QWidget

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MIN_WIDTH_PX = 1200
MIN_SCALE = 2.0


def chart_views(widget: QWidget) -> list[pg.GraphicsView]:
    """The charts shown inside ``widget`` (pyqtgraph views), in the order Qt lists them."""
    return [
        view
        for view in widget.findChildren(pg.GraphicsView)
        if view.isVisibleTo(widget) and view.width() > 0 and view.height() > 0
    ]


def panel_image(
    widget: QWidget, min_width: int = MIN_WIDTH_PX, min_scale: float = MIN_SCALE
) -> QImage:
    """The charts of ``widget`` (or all of it, when it has none) painted at a useful size."""
    views = chart_views(widget)
    parts = [(view, QRect(view.mapTo(widget, QPoint(0, 0)), view.size())) for view in views]
    if not parts:
        parts = [(widget, widget.rect())]
    area = parts[0][1]
    for _, rect in parts[1:]:
        area = area.united(rect)
    scale = max(min_scale, min_width / max(area.width(), 1))
    image = QImage(
        math.ceil(area.width() * scale),
        math.ceil(area.height() * scale),
        QImage.Format.Format_RGB32,
    )
    image.fill(_background(views[0] if views else widget))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.scale(scale, scale)
    try:
        for part, rect in parts:
            _paint(painter, part, rect.translated(-area.topLeft()))
    finally:
        painter.end()
    return image


def _paint(painter: QPainter, part: QWidget, target: QRect) -> None:
    """A chart's scene as its view shows it (drawn afresh at the painter's scale), else the widget."""
    if isinstance(part, pg.GraphicsView):
        with _drawn_at_scale(part.scene()):
            part.render(painter, QRectF(target), part.viewport().rect())
    else:
        part.render(painter, target.topLeft())


@contextmanager
def _drawn_at_scale(scene: QGraphicsScene) -> Iterator[None]:
    """Let every item follow the painter's scale while the image is painted.

    The charts cache items as screen-size pixmaps (``gui.panels.base.cache_as_pixmap``), and
    pyqtgraph's legends ignore transformations (so they keep their size when the view zooms):
    under a scaled painter both came out at screen size, a fraction of the image's. Both are
    put back afterwards.
    """
    items = [item for item in scene.items() if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    modes = [item.cacheMode() for item in items]
    legends = [
        item
        for item in scene.items()
        if isinstance(item, pg.LegendItem)
        and item.flags() & QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations
    ]
    for item in items:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    for legend in legends:
        legend.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, False)
    try:
        yield
    finally:
        for item, mode in zip(items, modes, strict=True):
            item.setCacheMode(mode)
        for legend in legends:
            legend.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)


def save_panel_png(widget: QWidget, path: str | Path) -> str | None:
    """Write ``panel_image(widget)`` to ``path``; a sentence when it cannot be written."""
    # PySide6's stub asks for the format as bytes, which it refuses at run time (str works).
    if not panel_image(widget).save(str(path), "PNG"):  # type: ignore[call-overload]
        return f"could not write the image to {path}"
    return None


def _background(widget: QWidget) -> QColor:
    """The chart's own background colour (white, or the theme's), for the gaps between charts."""
    if isinstance(widget, pg.GraphicsView):
        return widget.backgroundBrush().color()
    return widget.palette().window().color()
