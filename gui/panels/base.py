"""The contract every live panel keeps with the window.

The window's frame timer (~30 Hz) calls ``safe_refresh(state)`` on each visible panel. A panel
compares the state's version counters with those it last drew and returns at once when nothing
changed, so an idle panel costs nothing. Any exception in one panel is caught here, logged and
shown as one red line inside that panel: a plotting bug must never take a live run down.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

from gui.run_state import Marker, RunState
from gui.theme import Theme

log = logging.getLogger(__name__)
TITLE_MARGIN_PX = 4


def title_variants(text: str) -> list[str]:
    """A title and shorter forms of it, longest first.

    Titles read "Name — figure · figure · …". Shorter forms drop the name first (the dock's
    title names the panel already), then the trailing figures one by one: the first figure
    is what the title is for.
    """
    variants = [text]
    head, dash, tail = text.partition(" — ")
    body = tail if dash else text
    if dash:
        variants.append(body)
    parts = body.split(" · ")
    for keep in range(len(parts) - 1, 0, -1):
        variants.append(" · ".join(parts[:keep]))
    return variants


class Panel(QWidget):
    """Base of the live panels: a content area above a hidden one-line error label."""

    title: str = "Panel"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.setObjectName(type(self).__name__)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        outer.setSpacing(2)
        self.content_layout = QVBoxLayout()
        self.content_layout.setContentsMargins(0, 0, 0, 0)
        self.content_layout.setSpacing(2)
        outer.addLayout(self.content_layout, 1)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("panelError")
        self.error_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_label.hide()
        outer.addWidget(self.error_label)
        self.last_error: str | None = None
        self._drawn: tuple | None = None  # the version key of what is on screen
        self._style_error_label()

    def refresh(self, state: RunState) -> None:
        """Redraw what changed since the last call; return at once when no version moved."""
        raise NotImplementedError

    def safe_refresh(self, state: RunState) -> bool:
        """``refresh`` that never raises: on error, log it and show one red line; False if it failed."""
        try:
            self.refresh(state)
        except Exception as error:  # the boundary that keeps the app alive
            message = f"{self.title}: {type(error).__name__}: {error}".splitlines()[0]
            if message != self.last_error:  # once per distinct error, not 30 times a second
                log.exception("panel %r failed to refresh", self.title)
            self.last_error = message
            self.invalidate()  # retry a full redraw next frame instead of trusting half a frame
            self.error_label.setText(message[:200])
            self.error_label.setToolTip(message)
            self.error_label.show()
            return False
        if self.last_error is not None:
            self.last_error = None
            self.error_label.clear()
            self.error_label.hide()
        return True

    def invalidate(self) -> None:
        """Forget what was drawn, so the next ``refresh`` redraws everything."""
        self._drawn = None

    def apply_theme(self, theme: Theme) -> None:
        """Adopt new sizes/colours; subclasses restyle their plots and then call this."""
        self.theme = theme
        self.setFont(theme.font())  # checkboxes, spin boxes and labels inherit the interface size
        self._style_error_label()

    def _style_error_label(self) -> None:
        theme = self.theme
        self.error_label.setStyleSheet(
            theme.label_stylesheet(theme.annotation_pt, theme.palette.error_text)
        )

    def set_plot_title(self, plot: pg.PlotItem, text: str) -> None:
        """A plot title in the theme's title font (titles carry live numbers, e.g. accuracy).

        Where the plot is too narrow for it, the title loses its least needed parts
        (``title_variants``) rather than being cut at the plot's edges; the whole title stays
        in the plot's tooltip. It is fitted again whenever the plot changes size.
        """
        if getattr(plot, "full_title", None) is None:
            plot.getViewBox().sigResized.connect(lambda *_: self._fit_title(plot))
        plot.full_title = text
        self._fit_title(plot)

    def _fit_title(self, plot: pg.PlotItem) -> None:
        text = plot.full_title
        available = plot.boundingRect().width() - 2 * TITLE_MARGIN_PX
        variants = title_variants(text)
        for variant in variants:
            if variant == variants[-1] or self.theme.title_width(variant) <= available:
                break
        if plot.titleLabel.text != variant:
            self.theme.set_title(plot, variant)
        widget = plot.getViewWidget()
        if widget is not None:
            widget.setToolTip(text if variant != text else "")

    @staticmethod
    def plot_title(plot: pg.PlotItem) -> str:
        """The whole title (what tests assert on); a narrow plot may show a shorter one."""
        full = getattr(plot, "full_title", None)
        return full if full is not None else plot.titleLabel.text

    def rename_legend_entry(self, plot: pg.PlotItem, item: pg.GraphicsObject, name: str) -> None:
        """Change an item's legend text in place (legend names carry live numbers such as AUC)."""
        theme = self.theme
        for sample, label in plot.legend.items:
            if sample.item is item:
                label.setText(
                    name, color=theme.palette.foreground, size=theme.css_size(theme.annotation_pt)
                )

    def add_legend_below(self, plot: pg.PlotItem, columns: int = 4) -> pg.LegendItem:
        """A one-row legend under the x axis: on a live chart every corner is data sooner or later."""
        legend = pg.LegendItem(colCount=columns)
        plot.layout.addItem(legend, 4, 1)
        plot.legend = legend  # so plot.plot(name=...) adds entries, as with addLegend()
        self.theme.style_legend(legend)
        return legend

    def make_plot(self, title: str | None = None) -> pg.PlotWidget:
        """A PlotWidget in the theme's colours, with antialiasing off (it costs on long curves).

        Axes are cached as pixmaps: they draw the grid over the whole plot, so every curve
        update repainted their ticks and lines from a QPicture (~1.5 ms per axis per frame);
        a cached axis costs a blit until its range or size changes.
        """
        widget = pg.PlotWidget(background=self.theme.palette.background)
        widget.setAntialiasing(False)
        plot = widget.getPlotItem()
        plot.setMenuEnabled(False, enableViewBoxMenu=True)
        for name in ("left", "bottom", "right", "top"):
            plot.getAxis(name).setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        _use_shrinkable_title(plot)
        self.theme.style_plot(plot, title)
        return widget


EVALUATION_REDRAW_INTERVAL_S = 0.25
"""Panels drawn from evaluations redraw at most this often for new evaluations alone."""


class EvaluationThrottle:
    """Lets a panel redraw for a new evaluation at most once per interval.

    A fast run evaluates ten times a second, faster than anyone reads a confusion matrix, and
    each redraw of an evaluation panel costs several milliseconds of the GUI thread. A change
    held back is drawn on a later frame (the window asks every frame), so what is on screen is
    never more than ``interval_s`` behind. Anything else in the key (a threshold drag, a
    toggle, another run) is drawn at once.
    """

    def __init__(
        self,
        interval_s: float = EVALUATION_REDRAW_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self._last = -math.inf

    def holds(self, drawn: tuple | None, key: tuple, evaluation_index: int) -> bool:
        """True to skip this frame: only ``key[evaluation_index]`` moved, and too recently.

        When it returns False the caller is expected to draw, and the interval starts again.
        """
        now = self.clock()
        only_evaluation = drawn is not None and all(
            old == new
            for index, (old, new) in enumerate(zip(drawn, key, strict=True))
            if index != evaluation_index
        )
        if only_evaluation and now - self._last < self.interval_s:
            return True
        self._last = now
        return False


class ShrinkableLabel(pg.LabelItem):
    """A plot title that lets the plot be narrower than the text (which is then cut at the edges).

    pyqtgraph makes a title's text width the plot's minimum width, so a long live title on a
    narrow panel, or in classroom mode, would push the plot itself out of its panel.
    """

    def sizeHint(self, which: Qt.SizeHint, constraint: QSizeF = QSizeF()) -> QSizeF:  # noqa: B008
        size = super().sizeHint(which, constraint)
        if which in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            return QSizeF(0.0, size.height())
        return size

    def updateMin(self) -> None:
        super().updateMin()
        self.setMinimumWidth(0.0)


def _use_shrinkable_title(plot: pg.PlotItem) -> None:
    """Swap the plot's title label for a ShrinkableLabel in the same layout cell."""
    old = plot.titleLabel
    plot.layout.removeItem(old)
    old.setParentItem(None)
    if old.scene() is not None:
        old.scene().removeItem(old)
    plot.titleLabel = ShrinkableLabel("", size="11pt", parent=plot)
    plot.layout.addItem(plot.titleLabel, 0, 1)
    plot.layout.setRowFixedHeight(0, 0)
    plot.titleLabel.setVisible(False)


def cache_as_pixmap(*items: QGraphicsItem) -> None:
    """Paint items that rarely change from a pixmap cache instead of their ``paint`` code.

    A curve that changes every frame makes the whole plot area repaint; every reference line,
    label, legend and evaluation curve then ran pyqtgraph's Python paint code and Qt's text
    layout again. Cached, Qt blits them until they move or change. An ``InfiniteLine``'s label
    is cached with it. Qt does not use the cache of a rotated item, and a vertical
    ``InfiniteLine`` is a rotated one: for step markers only the labels (the text, the costly
    part) come from the cache; the line itself is still drawn each time (~0.05 ms).
    """
    for item in items:
        item.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        label = getattr(item, "label", None)
        if isinstance(label, QGraphicsItem):
            label.setCacheMode(QGraphicsItem.DeviceCoordinateCache)


def horizontal_reference(
    theme: Theme, value: float, label: str, color: str | None = None, position: float = 0.98
) -> pg.InfiniteLine:
    """A dashed horizontal baseline with its name written on it, aligned to the nearer end."""
    align = 1.0 if position > 0.75 else 0.0 if position < 0.25 else 0.5
    line = pg.InfiniteLine(
        pos=value,
        angle=0,
        pen=theme.reference_pen(color),
        label=label,
        labelOpts={
            "position": position,
            # A little off the line: a curve that sits on its baseline (the lesson of a model no
            # better than the zero-rule) must not print over the baseline's name.
            "anchors": [(align, -0.3), (align, 1.3)],
            "color": color or theme.palette.muted,
            "fill": theme.brush(theme.palette.background, 200),
        },
    )
    line.label.setFont(theme.font(theme.annotation_pt))
    line.setZValue(-5)
    cache_as_pixmap(line)
    return line


class MarkerLine:
    """One drawn marker: its step, pen and label (``value()`` as on a pyqtgraph line)."""

    def __init__(self, step: float, pen: QPen, label: pg.TextItem, position: float) -> None:
        self.step = step
        self.pen = pen
        self.label = label
        self.position = position  # the label's height, as a share of the view from the bottom

    def value(self) -> float:
        return self.step


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
    labels are cached text items placed at a share of the view's height (staggered so nearby
    changes do not print over each other) and moved only when the view range changes.
    """

    LABEL_POSITIONS = (0.95, 0.83, 0.71, 0.59)

    def __init__(
        self, plot: pg.PlotItem, theme: Theme, label_positions: tuple[float, ...] | None = None
    ) -> None:
        self.plot = plot
        self.theme = theme
        self.label_positions = label_positions or self.LABEL_POSITIONS
        self.lines: list[MarkerLine] = []
        self._markers: list[Marker] = []
        self._layer = _VerticalLines()
        self._layer.setZValue(-2)
        plot.addItem(self._layer, ignoreBounds=True)
        plot.getViewBox().sigRangeChanged.connect(self._place_labels)

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
        added = [self._line(index, markers[index]) for index in range(kept, len(markers))]
        self._markers, self.lines = markers, self.lines[:kept] + added
        self._layer.set_lines(self.lines)
        self._place_labels()

    def _line(self, index: int, marker: Marker) -> MarkerLine:
        theme = self.theme
        color = self.color_for(marker.kind)
        style = {"rewind": Qt.DashDotLine, "reset": Qt.DashDotLine, "hint": Qt.DashLine}.get(
            marker.kind, Qt.DotLine
        )
        label = pg.TextItem(
            marker.label, color=color, fill=theme.brush(theme.palette.background, 210)
        )
        label.setFont(theme.font(theme.annotation_pt))
        label.setZValue(-2)
        cache_as_pixmap(label)
        self.plot.addItem(label, ignoreBounds=True)
        position = self.label_positions[index % len(self.label_positions)]
        return MarkerLine(
            marker.step, theme.pen(color, theme.reference_width, style), label, position
        )

    def _place_labels(self) -> None:
        """Each label at its height on its line, on the side with room (right of centre: left)."""
        if not self.lines:
            return
        (x_low, x_high), (y_low, y_high) = self.plot.getViewBox().viewRange()
        middle = (x_low + x_high) / 2.0
        for line in self.lines:
            line.label.setAnchor((0.0, 0.5) if line.step < middle else (1.0, 0.5))
            line.label.setPos(line.step, y_low + line.position * (y_high - y_low))

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        markers, self._markers = self._markers, []  # every label takes the new fonts and colours
        self.update(markers)

    def labels(self) -> list[str]:
        """The texts on screen, in marker order (what a test or a tooltip wants)."""
        return [line.label.toPlainText() for line in self.lines]
