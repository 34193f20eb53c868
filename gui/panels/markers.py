"""Labelled vertical lines for ``RunState.markers`` on the time charts, labels never overlapping.

A lesson puts several markers close together: an lr change, the hint it provokes at the same
step, a rewind a moment later, a student pressing ↑ five times. Labels placed at fixed heights
printed over each other and over the hint labels. Here the labels are laid out in screen
pixels (``stack_labels``): each takes the highest free row of a band of the chart, beside its
line, in full text if it fits, shortened ("lr → 0.1") if only that fits, or not at all (its
text then joins the tooltip of the nearest shown label, and every label's tooltip gives its
full text and step). The layout is recomputed when the markers, the view range or the chart's
size change; markers are few, so that costs microseconds and nothing per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPen

from trainscope.gui.panels.base import cache_as_pixmap

if TYPE_CHECKING:
    from collections.abc import Sequence

    from PySide6.QtWidgets import QGraphicsItem

    from trainscope.gui.run_state import Marker
    from trainscope.gui.theme import Theme

LABEL_GAP_PX = 6.0
"""Free pixels kept between two labels in one row."""
ROW_GAP_PX = 2.0
LINE_GAP_PX = 2.0
"""Pixels between a line and its label."""

LOSS_BAND = (0.97, 0.4)
"""Where labels go, as shares of the view's height from the bottom (top row first): the upper
part, where a falling loss leaves room (the "best" label at 0.55 is stepped around)."""


#: Which labels get room first on a crowded chart: what went wrong and what the run did, before
#: setting changes (whose values the controls also show).
PRIORITY = {"diverged": 0, "hint": 1, "rewind": 2, "reset": 2, "test_opened": 3}


def short_label(marker: Marker) -> str:
    """A shorter text for a crowded chart: the new value of a setting, the kind of an event."""
    text = marker.label
    if marker.kind == "param" and " → " in text:
        key_and_old, new = text.rsplit(" → ", 1)
        return f"{key_and_old.split(' ')[0]} → {new}"
    if marker.kind in ("rewind", "diverged"):
        return marker.kind
    if marker.kind == "test_opened":
        return "test set"
    return text


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one label goes: its row (0 at the top), its side of the line, full or short text."""

    row: int
    right: bool
    short: bool
    left_px: float
    right_px: float


Box = tuple[float, float, float, float]
"""A rectangle in pixels: left, top, right, bottom (y grows downwards, as on screen)."""


def stack_labels(
    xs: Sequence[float],
    widths: Sequence[tuple[float, float]],
    span: tuple[float, float],
    rows: Sequence[tuple[float, float]],
    obstacles: Sequence[Box] = (),
    priorities: Sequence[int] | None = None,
) -> list[Placement | None]:
    """Lay labels out in ``rows`` so that no two overlap; None for a label that fits nowhere.

    ``xs`` are the lines' pixel positions in marker order, ``widths`` each label's (full,
    short) width in pixels, ``span`` the chart's pixel extent, ``rows`` the (top, bottom) pixel
    extent of each row, top row first, and ``obstacles`` what labels must not cover either (the
    chart's own reference labels). Labels are placed by ``priorities`` (lower first, default
    all equal), then left to right, each in the highest row where its full text fits beside
    its line (to the right in the left half of the chart, else to the left, then the other
    side), then its short text.
    """
    order = priorities if priorities is not None else [0] * len(xs)
    taken: list[Box] = list(obstacles)
    placements: list[Placement | None] = [None] * len(xs)
    middle = (span[0] + span[1]) / 2.0
    for index in sorted(range(len(xs)), key=lambda i: (order[i], xs[i], i)):
        x = xs[index]
        if not span[0] <= x <= span[1]:
            continue  # the line is out of view: so is its label
        full, short = widths[index]
        candidates = [(full, False)] + ([(short, True)] if short < full else [])
        placement = _first_free(x, candidates, x < middle, span, rows, taken)
        if placement is not None:
            top, bottom = rows[placement.row]
            taken.append((placement.left_px, top, placement.right_px, bottom))
        placements[index] = placement
    return placements


def _first_free(
    x: float,
    candidates: list[tuple[float, bool]],
    prefer_right: bool,
    span: tuple[float, float],
    rows: Sequence[tuple[float, float]],
    taken: list[Box],
) -> Placement | None:
    """The first (text, row, side) where the label lies inside ``span`` and clear of ``taken``."""
    for width, short in candidates:
        for row, (top, bottom) in enumerate(rows):
            for right in (prefer_right, not prefer_right):
                offset = LINE_GAP_PX
                low, high = (
                    (x + offset, x + offset + width) if right else (x - offset - width, x - offset)
                )
                if low >= span[0] and high <= span[1] and _clear((low, top, high, bottom), taken):
                    return Placement(row, right, short, low, high)
    return None


def _clear(box: Box, taken: Sequence[Box]) -> bool:
    """True when ``box`` keeps ``LABEL_GAP_PX`` from every taken box sideways (rows may touch)."""
    left, top, right, bottom = box
    return all(
        right + LABEL_GAP_PX <= other_left
        or left >= other_right + LABEL_GAP_PX
        or bottom <= other_top
        or top >= other_bottom
        for other_left, other_top, other_right, other_bottom in taken
    )


class MarkerLine:
    """One drawn marker: its step, pen and label (``value()`` as on a pyqtgraph line)."""

    def __init__(self, marker: Marker, pen: QPen, label: pg.TextItem) -> None:
        self.marker = marker
        self.step = marker.step
        self.pen = pen
        self.label = label
        self.short = False  # the label shows short_label(marker)

    def value(self) -> float:
        return self.step

    def tooltip(self) -> str:
        return f"{self.marker.label} (step {self.marker.step})"


class _VerticalLines(pg.GraphicsObject):
    """Every marker line in one item, drawn top to bottom of the view in one paint.

    One pyqtgraph ``InfiniteLine`` per marker cost a Python paint call each frame (the loss
    chart repaints every frame) and, being a rotated item, could not be cached.
    """

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[MarkerLine] = []
        self._bounds: QRectF | None = None

    def set_lines(self, lines: list[MarkerLine]) -> None:
        self.lines = lines
        self.update()

    def viewTransformChanged(self) -> None:  # noqa: N802 (pyqtgraph's name)
        """The view moved: the lines span its new height."""
        super().viewTransformChanged()  # forgets pyqtgraph's cached view rect
        self.prepareGeometryChange()
        self._bounds = None
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        if self._bounds is None:
            view = self.viewRect()
            self._bounds = QRectF(view) if view is not None else QRectF()
        return self._bounds

    def paint(self, painter: QPainter, *args: object) -> None:
        view = self.boundingRect()
        if not self.lines or view.isEmpty():
            return
        transform = painter.transform()
        top, bottom = transform.map(view.topLeft()).y(), transform.map(view.bottomLeft()).y()
        painter.resetTransform()  # pixel-exact, cosmetic pens whatever the view's scale
        for line in self.lines:
            if view.left() <= line.step <= view.right():
                x = transform.map(QPointF(line.step, view.top())).x()
                painter.setPen(line.pen)
                painter.drawLine(QPointF(x, top), QPointF(x, bottom))


class MarkerLines:
    """Labelled vertical lines for ``RunState.markers`` on a chart whose x axis is the step.

    Rebuilt only when ``markers_version`` moves (markers are few). The lines are one item; the
    labels are cached text items laid out by ``stack_labels`` in the band ``band`` (shares of
    the view's height from the bottom, top first), again whenever the view range or size
    changes.
    """

    def __init__(
        self,
        plot: pg.PlotItem,
        theme: Theme,
        band: tuple[float, float] = LOSS_BAND,
        avoid: Sequence[QGraphicsItem] = (),
    ) -> None:
        self.plot = plot
        self.theme = theme
        self.band = band
        self.avoid = tuple(avoid)  # the chart's reference labels: markers print beside them
        self.lines: list[MarkerLine] = []
        self._markers: list[Marker] = []
        self._layer = _VerticalLines()
        self._layer.setZValue(-2)
        plot.addItem(self._layer, ignoreBounds=True)
        view = plot.getViewBox()
        view.sigRangeChanged.connect(self._place_labels)
        view.sigResized.connect(self._place_labels)

    def color_for(self, kind: str) -> str:
        palette = self.theme.palette
        return {
            "diverged": palette.diverged,
            "rewind": palette.rewind,
            "reset": palette.rewind,
            "hint": palette.hint,
        }.get(kind, palette.test if kind == "test_opened" else palette.marker)

    def update(self, markers: list[Marker]) -> None:
        """Draw one line per marker; markers added after the drawn ones cost only themselves."""
        markers = list(markers)
        kept = len(self._markers) if markers[: len(self._markers)] == self._markers else 0
        for line in self.lines[kept:]:
            self.plot.removeItem(line.label)
        added = [self._line(marker) for marker in markers[kept:]]
        self._markers, self.lines = markers, self.lines[:kept] + added
        self._layer.set_lines(self.lines)
        self._place_labels()

    def _line(self, marker: Marker) -> MarkerLine:
        theme = self.theme
        color = self.color_for(marker.kind)
        style = {
            "rewind": Qt.PenStyle.DashDotLine,
            "reset": Qt.PenStyle.DashDotLine,
            "hint": Qt.PenStyle.DashLine,
        }.get(marker.kind, Qt.PenStyle.DotLine)
        label = pg.TextItem(
            marker.label, color=color, fill=theme.brush(theme.palette.background, 210)
        )
        label.setFont(theme.font(theme.annotation_pt))
        label.textItem.document().setDocumentMargin(1)  # tight boxes: more rows fit the band
        label.updateTextPos()
        label.setZValue(-2)
        cache_as_pixmap(label)
        self.plot.addItem(label, ignoreBounds=True)
        return MarkerLine(marker, theme.pen(color, theme.reference_width, style), label)

    def relayout(self) -> None:
        """Lay the labels out again: a label they avoid (``avoid``) has moved."""
        self._place_labels()

    def _place_labels(self) -> None:
        """Lay the labels out for the view as it is now (see ``stack_labels``)."""
        if not self.lines:
            return
        view = self.plot.getViewBox()
        area = view.sceneBoundingRect()
        if area.width() <= 0 or area.height() <= 0:
            return
        xs = [view.mapViewToScene(QPointF(line.step, 0.0)).x() for line in self.lines]
        span = (area.left(), area.right())
        rows = self._rows(area)
        widths = [self._widths(line) for line in self.lines]
        priorities = [PRIORITY.get(line.marker.kind, len(PRIORITY)) for line in self.lines]
        placements = stack_labels(xs, widths, span, rows, self._obstacles(), priorities)
        for line, placement in zip(self.lines, placements, strict=True):
            self._show(line, placement, rows)
        self._fold_hidden_into_tooltips(xs, placements, span)

    def _rows(self, area: QRectF) -> list[tuple[float, float]]:
        """As many rows of label height as fit in the band (at least one), top first, in pixels."""
        height = max(line.label.textItem.boundingRect().height() for line in self.lines)
        top = area.bottom() - self.band[0] * area.height()
        bottom = area.bottom() - self.band[1] * area.height()
        count = max(1, math.floor((bottom - top + ROW_GAP_PX) / (height + ROW_GAP_PX)))
        return [
            (top + row * (height + ROW_GAP_PX), top + row * (height + ROW_GAP_PX) + height)
            for row in range(count)
        ]

    def _obstacles(self) -> list[Box]:
        boxes = []
        for item in self.avoid:
            if item.isVisible():
                rect = item.sceneBoundingRect()
                boxes.append((rect.left(), rect.top(), rect.right(), rect.bottom()))
        return boxes

    def _widths(self, line: MarkerLine) -> tuple[float, float]:
        """The label's pixel width with its full and its short text (same padding for both)."""
        metrics = QFontMetricsF(line.label.textItem.font())
        shown = short_label(line.marker) if line.short else line.marker.label
        padding = line.label.textItem.boundingRect().width() - metrics.horizontalAdvance(shown)
        full = metrics.horizontalAdvance(line.marker.label) + padding
        return full, metrics.horizontalAdvance(short_label(line.marker)) + padding

    def _show(
        self, line: MarkerLine, placement: Placement | None, rows: list[tuple[float, float]]
    ) -> None:
        label = line.label
        label.setVisible(placement is not None)
        label.setToolTip(line.tooltip())
        if placement is None:
            return
        if placement.short != line.short:
            line.short = placement.short
            label.setText(short_label(line.marker) if line.short else line.marker.label)
        label.setAnchor((0.0, 0.5))  # at the left edge the layout chose, not at the line
        corner = QPointF(placement.left_px, sum(rows[placement.row]) / 2.0)
        label.setPos(self.plot.getViewBox().mapSceneToView(corner))

    def _fold_hidden_into_tooltips(
        self, xs: list[float], placements: list[Placement | None], span: tuple[float, float]
    ) -> None:
        """A marker in view with no room for its label is still read: in the nearest shown label's
        tooltip."""
        shown = [i for i, placement in enumerate(placements) if placement is not None]
        if not shown:
            return
        extra: dict[int, list[str]] = {}
        for index, line in enumerate(self.lines):
            if placements[index] is None and span[0] <= xs[index] <= span[1]:
                nearest = min(shown, key=lambda i: abs(xs[i] - xs[index]))
                extra.setdefault(nearest, []).append(line.tooltip())
        for index, texts in extra.items():
            line = self.lines[index]
            line.label.setToolTip("\n".join([line.tooltip(), *texts]))

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        markers, self._markers = self._markers, []  # every label takes the new fonts and colours
        self.update(markers)

    def labels(self) -> list[str]:
        """Every marker's full text, in marker order (a label may show it shortened, or not at all)."""
        return [line.marker.label for line in self.lines]

    def shown_labels(self) -> list[str]:
        """The label texts on screen now, in marker order (hidden ones left out)."""
        return [line.label.toPlainText() for line in self.lines if line.label.isVisible()]
