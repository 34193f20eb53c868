"""Training and validation loss over steps: the heartbeat of a run.

The raw per-batch loss is long and noisy, so it is drawn thin and decimated (an incremental
min/max envelope while the whole run is in view); the smoothed loss is drawn from a strided
view of the run (bucket means for old history, then exact rows). Either way a frame costs the
same after a million steps as after a thousand. The view follows the data with ``LiveRange``
(a few range changes per run instead of one per frame); once the user zooms or pans, only the
data around the visible window is drawn, at full resolution where the run still holds every
step, and new steps outside that window cost nothing. Diverging runs send NaN/inf:
pyqtgraph's finite check is left on so they show as gaps instead of crashing the paint.
"""

from __future__ import annotations

import math
from operator import attrgetter
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QWidget

from trainscope.gui.decimation import PeakDecimator, means, peak_bins, strided_means, thinned
from trainscope.gui.flow_layout import FlowLayout
from trainscope.gui.panels.base import Panel, cache_as_pixmap, horizontal_reference
from trainscope.gui.panels.ghost_curves import GhostCurves
from trainscope.gui.panels.live_range import LiveRange
from trainscope.gui.panels.markers import MarkerLines

if TYPE_CHECKING:
    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

MAX_SMOOTHED_POINTS = 2000  # ~2 per pixel of a wide chart: a smooth curve needs no more
MAX_WINDOW_POINTS = 20_000  # a zoomed window: every step up to this many, then peak bins
RAW_NAME = "train (raw, per batch)"
MAX_SYMBOL_POINTS = 300  # beyond this many evaluations, symbols cost more than they tell


class LossPanel(Panel):
    """Smoothed (and optionally raw) training loss, validation loss, chance level and markers."""

    title = "Loss"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.raw_checkbox = QCheckBox("raw loss per batch")
        self.raw_checkbox.setToolTip("The unsmoothed loss of every batch: noisy by nature.")
        self.log_checkbox = QCheckBox("log scale")
        self.log_checkbox.setToolTip("A log axis shows late, small improvements and explosions.")
        controls = FlowLayout()  # wraps rather than widen the panel on a small screen
        controls.addWidget(self.raw_checkbox)
        controls.addWidget(self.log_checkbox)
        self.content_layout.addLayout(controls)
        self.plot_widget = self.make_plot()  # the dock above it says "Loss" already
        self.plot = self.plot_widget.getPlotItem()
        self.content_layout.addWidget(self.plot_widget, 1)
        self._build_items()
        self.raw_checkbox.toggled.connect(self._on_raw_toggled)
        self.log_checkbox.toggled.connect(self._on_log_toggled)
        self._decimator: PeakDecimator | None = None
        self._chance: float | None = None
        self.apply_theme(theme)

    def _build_items(self) -> None:
        plot = self.plot
        plot.setLabel("bottom", "step")
        plot.setLabel("left", "loss (cross-entropy)")
        self.add_legend_below(plot)
        self.raw_curve = plot.plot()  # in the legend only while shown (see _on_raw_toggled)
        self.raw_curve.setDownsampling(auto=True, method="peak")
        self.raw_curve.setClipToView(True)
        self.raw_curve.setVisible(False)
        self.smoothed_curve = plot.plot(name="train (smoothed)")
        self.smoothed_curve.setDownsampling(auto=True, method="peak")
        self.smoothed_curve.setClipToView(True)
        self.validation_curve = plot.plot(name="validation")
        self.validation_curve.setDownsampling(auto=True, method="peak")
        self.validation_curve.setClipToView(True)
        self._validation_long = False  # many evaluations: thin line, no dots
        self.ghost = GhostCurves(
            plot,
            self.theme,
            [
                (attrgetter("train_steps"), attrgetter("train_smoothed_loss"), attrgetter("train")),
                (
                    attrgetter("evaluation_steps"),
                    attrgetter("validation_loss"),
                    attrgetter("validation"),
                ),
            ],
        )
        self.best_point = plot.plot()
        self.best_line = pg.InfiniteLine(
            angle=90, label="best", labelOpts={"position": 0.55, "fill": (255, 255, 255, 210)}
        )
        self.best_line.setVisible(False)
        plot.addItem(self.best_line, ignoreBounds=True)
        self.chance_line = horizontal_reference(self.theme, 0.0, "chance", position=0.98)
        self.chance_line.setVisible(False)
        plot.addItem(self.chance_line, ignoreBounds=True)
        self.markers = MarkerLines(
            plot, self.theme, avoid=(self.best_line.label, self.chance_line.label)
        )
        # Redrawn per evaluation, painted every frame (the smoothed curve repaints the plot):
        cache_as_pixmap(self.best_line, self.best_point.scatter, plot.legend)
        cache_as_pixmap(self.validation_curve.curve, self.validation_curve.scatter)
        self.live_range = LiveRange(plot)
        self._window_drawn: tuple[float, float] | None = None
        self._newest_drawn = -math.inf
        self._data_version_drawn = -1

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        palette = theme.palette
        self.theme.style_plot(self.plot)
        self.raw_curve.setPen(theme.long_pen(palette.train_raw))
        self.smoothed_curve.setPen(theme.long_pen(palette.train))  # thousands of points
        self._style_validation(self._validation_long)
        self.validation_curve.setSymbolBrush(palette.validation)
        self.validation_curve.setSymbolPen(palette.background)
        self.validation_curve.setSymbolSize(theme.px(theme.symbol_size))
        self.best_point.setPen(None)
        self.best_point.setSymbol("star")
        self.best_point.setSymbolBrush(palette.best)
        self.best_point.setSymbolPen(palette.foreground)
        self.best_point.setSymbolSize(theme.px(theme.symbol_size * 2.2))
        self.best_line.setPen(theme.marker_pen(palette.best))
        self.best_line.label.setColor(palette.best)
        self.best_line.label.setFont(theme.font(theme.annotation_pt))
        self.chance_line.setPen(theme.reference_pen())
        self.chance_line.label.setFont(theme.font(theme.annotation_pt))
        self.markers.apply_theme(theme)
        self.ghost.apply_theme(theme)
        self.plot.legend.fit()  # the entries took the theme's font size
        for checkbox in (self.raw_checkbox, self.log_checkbox):
            checkbox.setStyleSheet(theme.label_stylesheet())

    def _style_validation(self, long: bool) -> None:
        """Dots and a thick line while evaluations are few; a thin line when there are many."""
        palette, theme = self.theme.palette, self.theme
        pen = theme.long_pen(palette.validation) if long else theme.pen(palette.validation)
        self.validation_curve.setPen(pen)
        self.validation_curve.setSymbol(None if long else "o")
        self._validation_long = long

    @Slot(bool)
    def _on_raw_toggled(self, checked: bool) -> None:
        """Show or hide the raw loss; its data is filled on the next frame (it is skipped while hidden)."""
        self.raw_curve.setVisible(checked)
        legend = self.plot.legend
        legend.removeItem(self.raw_curve)
        if checked:
            legend.addItem(self.raw_curve, RAW_NAME)
            self.theme.style_legend(legend)
        self.invalidate()

    @Slot(bool)
    def _on_log_toggled(self, checked: bool) -> None:
        self.live_range.set_log_y(checked)
        self.plot.setLogMode(y=checked)
        self._place_chance_line()
        self.invalidate()

    def _place_chance_line(self) -> None:
        """Reference lines live in view coordinates, which are log10 values in log mode."""
        if self._chance is None:
            return
        value = self._chance
        self.chance_line.setValue(math.log10(value) if self.log_checkbox.isChecked() else value)

    def refresh(self, state: RunState) -> None:
        key = (
            state.run_key,
            self._curves_key(state),
            state.evaluation_version,
            state.markers_version,
            state.ghost_version,
        )
        if key == self._drawn:
            return
        previous = self._drawn or (None, None, None, None, None)
        new_run = previous[0] != key[0]  # another run (or RunState): everything is stale
        if new_run:
            self._on_new_run(state)
        if new_run or previous[2] != key[2]:  # steps alone leave these as they are
            self._draw_validation(state)
            self._draw_best(state)
        ghost_moved = new_run or previous[4] != key[4]
        if ghost_moved:  # once per rewind: the ghost is static
            self.ghost.update(state.ghost)
        if ghost_moved or previous[1] != key[1]:
            if self.live_range.following:
                self._draw_whole_run(state)
            else:
                self._draw_window(state)
        if new_run or previous[3] != key[3]:
            self.markers.update(state.markers)
        elif previous[2] != key[2]:
            self.markers.relayout()  # the "best" label they keep clear of may have moved
        self._drawn = key

    def _curves_key(self, state: RunState) -> tuple:
        """What the curves depend on; while the user holds the view, only data inside it counts."""
        raw = self.raw_checkbox.isChecked()
        if self.live_range.following:
            return ("run", state.series_version, raw)
        window = self._window()
        unchanged = (
            window == self._window_drawn
            and min(self._newest_drawn, state.step) >= window[1]  # new steps land right of it
        )
        version = self._data_version_drawn if unchanged else state.series_version
        return ("window", window, version, state.train.compactions, raw)

    def _window(self) -> tuple[float, float]:
        """The visible steps widened by one view width each side, so a small pan has data."""
        low, high = self.plot.getViewBox().viewRange()[0]
        width = high - low
        return (math.floor(low - width), math.ceil(high + width))

    def _on_new_run(self, state: RunState) -> None:
        self._decimator = PeakDecimator(state.train, "loss")
        self.live_range.reset()
        self._chance = state.run.chance_loss if state.run is not None else None
        visible = self._chance is not None and self._chance > 0
        self.chance_line.setVisible(visible)
        if visible:
            k = state.n_classes
            self.chance_line.label.setFormat(f"chance (ln {k} = {self._chance:.2f})")
            self._place_chance_line()

    def _draw_whole_run(self, state: RunState) -> None:
        """Every step in view: strided smoothed loss, decimated raw loss; the view follows."""
        train = state.train
        smoothed = strided_means(train, "smoothed_loss", MAX_SMOOTHED_POINTS)
        self.smoothed_curve.setData(*smoothed)
        drawn = [smoothed[1], state.evaluations["val_loss"], *self.ghost.ys()]
        if self.raw_checkbox.isChecked() and self._decimator is not None:
            raw = self._decimator.data()
            self.raw_curve.setData(*raw)
            drawn.append(raw[1])
        newest = max(float(state.step), self.ghost.last_step or 0.0)  # the "before" in sight
        self.live_range.follow(0.0, newest, drawn)  # from 0, like the accuracy chart
        self._window_drawn = None

    def _draw_window(self, state: RunState) -> None:
        """The user's window: every step the run still holds there, buckets for older history."""
        start, stop = window = self._window()
        train = state.train
        smoothed = means(train, "smoothed_loss", start, stop)
        self.smoothed_curve.setData(*thinned(*smoothed, MAX_WINDOW_POINTS))
        if self.raw_checkbox.isChecked():
            raw = train.envelope("loss", start, stop)
            self.raw_curve.setData(*peak_bins(raw, MAX_WINDOW_POINTS))
        self._window_drawn, self._newest_drawn = window, state.step
        self._data_version_drawn = state.series_version

    def _draw_validation(self, state: RunState) -> None:
        evaluations = state.evaluations
        long = len(evaluations) > MAX_SYMBOL_POINTS
        if long != self._validation_long:
            self._style_validation(long)
        self.validation_curve.setData(evaluations["step"], evaluations["val_loss"])

    def _draw_best(self, state: RunState) -> None:
        """Star and dotted line at the lowest validation loss: where early stopping would stop."""
        if state.best_step is None or state.best_val_loss is None:
            self.best_point.setData([], [])
            self.best_line.setVisible(False)
            return
        self.best_point.setData([state.best_step], [state.best_val_loss])
        self.best_line.setValue(state.best_step)
        self.best_line.setVisible(True)  # before setFormat: a hidden label ignores new text
        self.best_line.label.setFormat(f"best val {state.best_val_loss:.3g} @ {state.best_step}")

    def legend_names(self) -> list[str]:
        """Entries of the legend, as a user reads them."""
        return [label.text for _, label in self.plot.legend.items]
