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
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt, Slot
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from collections.abc import Callable

    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

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
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        for variant in variants:  # measured as drawn: the title's own font and markup
            if plot.titleLabel.text != variant:
                self.theme.set_title(plot, variant)
            if plot.titleLabel.item.boundingRect().width() <= available:
                break
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

    def add_legend_below(self, plot: pg.PlotItem, columns: int = 4) -> WrappingLegend:
        """A legend under the x axis: on a live chart every corner is data sooner or later.

        One row of up to ``columns`` entries, wrapped into more rows on a chart too narrow.
        """
        legend = WrappingLegend(plot, columns)
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
            plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        _use_shrinkable_title(plot)
        self.theme.style_plot(plot, title)
        return widget


class WrappingLegend(pg.LegendItem):
    """A legend that takes as many columns as fit under its plot, so no entry runs off the edge.

    The loss chart's legend grows when the raw loss or a rewind's ghost is shown, and its dock
    is a quarter of the window: four entries in one row were cut off at "before rew".
    """

    def __init__(self, plot: pg.PlotItem, max_columns: int) -> None:
        super().__init__(colCount=max_columns)
        self.max_columns = max_columns
        self._laid_out: tuple[int, int] | None = None  # (columns, entries) as now laid out
        self._view = plot.getViewBox()  # the legend's layout cell is as wide as the view
        self._view.sigResized.connect(self.fit)

    def addItem(self, item: pg.GraphicsObject, name: str) -> None:  # noqa: N802 (Qt's name)
        super().addItem(item, name)
        self.fit()

    def removeItem(self, item: pg.GraphicsObject | str) -> None:  # noqa: N802 (Qt's name)
        super().removeItem(item)
        self.fit()

    @Slot()
    def fit(self) -> None:
        """Re-lay the entries in the most columns (up to ``max_columns``) that fit the width."""
        widths = [
            sample.boundingRect().width() + label.item.boundingRect().width() + 6.0
            for sample, label in self.items
        ]
        available = self._view.width()
        columns = max(1, min(self.max_columns, len(widths)))
        while columns > 1 and sum(max(widths[c::columns]) for c in range(columns)) > available:
            columns -= 1
        if (columns, len(widths)) == self._laid_out:
            return  # a resize that changes nothing must not re-lay (its height resizes the view)
        self._laid_out = (columns, len(widths))
        self.columnCount = 0  # re-lay even at the same count: a removed entry leaves a hole
        self.setColumnCount(columns)
        self.updateGeometry()  # pyqtgraph put the legend at (0, 0): the plot's layout places it


EVALUATION_REDRAW_INTERVAL_S = 0.25
"""Panels drawn from evaluations redraw at most this often for new evaluations alone."""


class RedrawSlots:
    """How many held-back evaluation redraws one frame may do: one, so they take turns.

    Each throttled panel redraws at most every ``interval_s``; started by the same evaluation,
    their intervals run out together and one frame would pay for all five (confusion,
    reliability, threshold, accuracy, mistakes: the frame time's p95). The window makes one of
    these, hands it to every panel's throttle and calls ``next_frame`` each frame; a panel whose
    turn is taken draws on one of the next frames (30 a second, so a frame or four later).
    """

    def __init__(self, per_frame: int = 1) -> None:
        self.per_frame = per_frame
        self._left = per_frame

    def next_frame(self) -> None:
        self._left = self.per_frame

    def take(self) -> bool:
        """Claim a redraw in this frame; False when this frame's are used up."""
        if self._left <= 0:
            return False
        self._left -= 1
        return True


class EvaluationThrottle:
    """Lets a panel redraw for a new evaluation at most once per interval.

    A fast run evaluates ten times a second, faster than anyone reads a confusion matrix, and
    each redraw of an evaluation panel costs several milliseconds of the GUI thread. A change
    held back is drawn on a later frame (the window asks every frame), so what is on screen is
    never more than ``interval_s`` (and the few frames ``slots`` may add) behind. Anything else
    in the key (a threshold drag, a toggle, another run) is drawn at once.
    """

    def __init__(
        self,
        interval_s: float = EVALUATION_REDRAW_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        slots: RedrawSlots | None = None,
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.slots = slots  # the window's, shared by every panel; None: no turns to take
        self._last = -math.inf

    def holds(self, drawn: tuple | None, key: tuple, evaluation_index: int) -> bool:
        """True to skip this frame: only ``key[evaluation_index]`` moved, and too recently (or
        another panel already took this frame's turn).

        When it returns False the caller is expected to draw, and the interval starts again.
        """
        now = self.clock()
        only_evaluation = drawn is not None and all(
            old == new
            for index, (old, new) in enumerate(zip(drawn, key, strict=True))
            if index != evaluation_index
        )
        if only_evaluation:
            if now - self._last < self.interval_s:
                return True
            if self.slots is not None and not self.slots.take():
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
        item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        label = getattr(item, "label", None)
        if isinstance(label, QGraphicsItem):
            label.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


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
