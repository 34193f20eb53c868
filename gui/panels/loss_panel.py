"""Training and validation loss over steps: the heartbeat of a run.

The raw per-batch loss is long and noisy, so it is drawn thin and decimated (an incremental
min/max envelope while the whole run is in view, pyqtgraph's peak downsampling and clip-to-view
when zoomed in); the smoothed loss is drawn from a strided view. Either way a frame costs the
same after a million steps as after a thousand. Diverging runs send NaN/inf: pyqtgraph's finite
check is left on so they show as gaps instead of crashing the paint.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QWidget

from gui.panels.base import MarkerLines, Panel, horizontal_reference
from gui.run_state import RunState
from gui.series import PeakDecimator
from gui.theme import Theme

MAX_SMOOTHED_POINTS = 4000
RAW_NAME = "train, per batch"
MAX_SYMBOL_POINTS = 300  # beyond this many evaluations, symbols cost more than they tell


def strided(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Every n-th point of a smooth curve (plus the newest), so drawing it costs O(max_points)."""
    stride = max(1, math.ceil(len(x) / max_points))
    if stride == 1:
        return x, y
    return np.append(x[::stride], x[-1]), np.append(y[::stride], y[-1])


class LossPanel(Panel):
    """Smoothed (and optionally raw) training loss, validation loss, chance level and markers."""

    title = "Loss"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.raw_checkbox = QCheckBox("raw loss per batch")
        self.raw_checkbox.setToolTip("The unsmoothed loss of every batch: noisy by nature.")
        self.log_checkbox = QCheckBox("log scale")
        self.log_checkbox.setToolTip("A log axis shows late, small improvements and explosions.")
        controls = QHBoxLayout()
        controls.addWidget(self.raw_checkbox)
        controls.addWidget(self.log_checkbox)
        controls.addStretch(1)
        self.content_layout.addLayout(controls)
        self.plot_widget = self.make_plot(self.title)
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
        self.best_point = plot.plot()
        self.best_line = pg.InfiniteLine(
            angle=90, label="best", labelOpts={"position": 0.55, "fill": (255, 255, 255, 210)}
        )
        self.best_line.setVisible(False)
        plot.addItem(self.best_line, ignoreBounds=True)
        self.chance_line = horizontal_reference(self.theme, 0.0, "chance", position=0.98)
        self.chance_line.setVisible(False)
        plot.addItem(self.chance_line, ignoreBounds=True)
        self.markers = MarkerLines(plot, self.theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        palette = theme.palette
        self.theme.style_plot(self.plot)
        self.raw_curve.setPen(theme.long_pen(palette.train_raw))
        self.smoothed_curve.setPen(theme.pen(palette.train))
        self.validation_curve.setPen(theme.pen(palette.validation))
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
        for checkbox in (self.raw_checkbox, self.log_checkbox):
            checkbox.setStyleSheet(theme.label_stylesheet())

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
        full_resolution = not self.plot.getViewBox().autoRangeEnabled()[0]  # user zoomed in x
        curves = (state.series_version, full_resolution, self.raw_checkbox.isChecked())
        key = (state.run_key, curves, state.markers_version)
        if key == self._drawn:
            return
        previous = self._drawn or (None, None, None)
        new_run = previous[0] != key[0]  # another run (or RunState): everything is stale
        if new_run:
            self._on_new_run(state)
        if new_run or previous[1] != key[1]:
            self._draw_curves(state, full_resolution)
            self._draw_best(state)
        if new_run or previous[2] != key[2]:
            self.markers.update(state.markers)
        self._drawn = key

    def _on_new_run(self, state: RunState) -> None:
        self._decimator = PeakDecimator(state.train, "loss")
        self._chance = state.run.chance_loss if state.run is not None else None
        visible = self._chance is not None and self._chance > 0
        self.chance_line.setVisible(visible)
        if visible:
            k = state.n_classes
            self.chance_line.label.setFormat(f"chance (ln {k} = {self._chance:.2f})")
            self._place_chance_line()

    def _draw_curves(self, state: RunState, full_resolution: bool) -> None:
        train = state.train
        steps, smoothed = train["step"], train["smoothed_loss"]
        if not full_resolution:
            steps, smoothed = strided(steps, smoothed, MAX_SMOOTHED_POINTS)
        self.smoothed_curve.setData(steps, smoothed)
        if self.raw_checkbox.isChecked():
            if full_resolution or self._decimator is None:
                self.raw_curve.setData(train["step"], train["loss"])
            else:
                self.raw_curve.setData(*self._decimator.data())
        evaluations = state.evaluations
        self.validation_curve.setData(evaluations["step"], evaluations["val_loss"])
        self.validation_curve.setSymbol("o" if len(evaluations) <= MAX_SYMBOL_POINTS else None)

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
