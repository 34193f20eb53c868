"""The contract every live panel keeps with the window.

The window's frame timer (~30 Hz) calls ``safe_refresh(state)`` on each visible panel. A panel
compares the state's version counters with those it last drew and returns at once when nothing
changed, so an idle panel costs nothing. Any exception in one panel is caught here, logged and
shown as one red line inside that panel: a plotting bug must never take a live run down.
"""

from __future__ import annotations

import logging

import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.run_state import Marker, RunState
from gui.theme import Theme

log = logging.getLogger(__name__)


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
        self.content_layout.setSpacing(4)
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
        """A plot title in the theme's title font (titles carry live numbers, e.g. accuracy)."""
        self.theme.set_title(plot, text)

    @staticmethod
    def plot_title(plot: pg.PlotItem) -> str:
        """The title as a user reads it (what tests assert on)."""
        return plot.titleLabel.text

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
        """A PlotWidget in the theme's colours, with antialiasing off (it costs on long curves)."""
        widget = pg.PlotWidget(background=self.theme.palette.background)
        widget.setAntialiasing(False)
        widget.getPlotItem().setMenuEnabled(False, enableViewBoxMenu=True)
        _use_shrinkable_title(widget.getPlotItem())
        self.theme.style_plot(widget.getPlotItem(), title)
        return widget


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
    return line


class MarkerLines:
    """Labelled vertical lines for ``RunState.markers`` on a chart whose x axis is the step.

    Rebuilt only when ``markers_version`` moves (markers are few). Labels are staggered down
    the line so nearby changes do not print over each other.
    """

    LABEL_POSITIONS = (0.95, 0.83, 0.71, 0.59)

    def __init__(
        self, plot: pg.PlotItem, theme: Theme, label_positions: tuple[float, ...] | None = None
    ) -> None:
        self.plot = plot
        self.theme = theme
        self.label_positions = label_positions or self.LABEL_POSITIONS
        self.lines: list[pg.InfiniteLine] = []
        self._markers: list[Marker] = []

    def color_for(self, kind: str) -> str:
        palette = self.theme.palette
        return {
            "diverged": palette.diverged,
            "rewind": palette.rewind,
            "reset": palette.rewind,
            "hint": palette.hint,
        }.get(kind, palette.test if kind == "test_opened" else palette.marker)

    def update(self, markers: list[Marker]) -> None:
        """Replace the drawn lines with one per marker."""
        for line in self.lines:
            self.plot.removeItem(line)
        self.lines = []
        self._markers = list(markers)
        for index, marker in enumerate(self._markers):
            color = self.color_for(marker.kind)
            style = {"rewind": Qt.DashDotLine, "reset": Qt.DashDotLine, "hint": Qt.DashLine}.get(
                marker.kind, Qt.DotLine
            )
            line = pg.InfiniteLine(
                pos=marker.step,
                angle=90,
                pen=self.theme.pen(color, self.theme.reference_width, style),
                label=marker.label,
                labelOpts={
                    "position": self.label_positions[index % len(self.label_positions)],
                    "color": color,
                    "fill": self.theme.brush(self.theme.palette.background, 210),
                },
            )
            line.label.setFont(self.theme.font(self.theme.annotation_pt))
            line.setZValue(-2)
            self.plot.addItem(line, ignoreBounds=True)
            self.lines.append(line)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update(self._markers)

    def labels(self) -> list[str]:
        """The texts on screen, in marker order (what a test or a tooltip wants)."""
        return [line.label.toPlainText() for line in self.lines]
