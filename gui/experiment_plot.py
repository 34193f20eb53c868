"""The Experiments view's chart: every run's validation curve, faded, and the mean ± 1 std band.

The band is drawn only at the evaluation steps at least two runs have reached (a spread of one
run would be a lie); it grows to the right as the runs train, which is the point of watching.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg

if TYPE_CHECKING:
    from trainscope.gui.theme import Theme

METRICS = {"accuracy": "validation accuracy", "loss": "validation loss"}


def mean_band(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """(steps, mean, std) over the steps that two or more curves have a finite value at."""
    values: dict[int, list[float]] = {}
    for steps, ys in curves:
        for step, y in zip(steps.tolist(), ys.tolist(), strict=True):
            if np.isfinite(y):
                values.setdefault(int(step), []).append(float(y))
    shared = sorted(step for step, ys in values.items() if len(ys) >= 2)
    if not shared:
        empty = np.empty(0)
        return empty, empty, empty
    means = np.array([np.mean(values[step]) for step in shared])
    stds = np.array([np.std(values[step], ddof=1) for step in shared])
    return np.array(shared, dtype=float), means, stds


class ExperimentPlot(pg.PlotWidget):
    """Faded run curves, the highlighted (selected) run, the mean and its ± 1 std band."""

    def __init__(self, theme: Theme) -> None:
        super().__init__(background=theme.palette.background)
        self.theme = theme
        # Not "metric": that is QPaintDevice.metric(), which Qt calls to paint; shadowing it
        # with a string crashes the process.
        self.shown_metric = "accuracy"
        plot = self.getPlotItem()
        plot.setLabel("bottom", "step")
        plot.setLabel("left", METRICS[self.shown_metric])
        plot.addLegend(offset=(-10, 10))
        theme.style_plot(plot, "Every run, and their mean ± 1 std")
        self._runs: list[pg.PlotDataItem] = []
        # Curves with an invisible pen, not none: a PlotDataItem without a pen keeps no curve
        # data, so the band between them had an empty path and never showed (seen on screen).
        self._upper = pg.PlotCurveItem(pen=pg.mkPen(0, 0, 0, 0))
        self._lower = pg.PlotCurveItem(pen=pg.mkPen(0, 0, 0, 0))
        self._band = pg.FillBetweenItem(
            self._lower, self._upper, brush=theme.brush(theme.palette.validation, 70)
        )
        plot.addItem(self._band)
        self._mean = plot.plot(pen=theme.pen(theme.palette.validation, 3.0), name="mean")
        self._band_legend = pg.PlotDataItem(pen=theme.pen(theme.palette.validation, 8.0))
        plot.legend.addItem(self._band_legend, "± 1 std")
        self._selected = plot.plot(pen=theme.pen(theme.palette.train, 2.5), name="selected run")
        self._references: list[pg.InfiniteLine] = []
        self._drawn_points: list[int] = []  # per run: how many points its curve was given

    def apply_theme(self, theme: Theme) -> None:
        """Fonts and line widths of a new interface size (Ctrl+= / Ctrl+-), colours kept."""
        self.theme = theme
        plot = self.getPlotItem()
        theme.style_plot(plot)
        for item in self._runs:
            item.setPen(theme.pen(theme.palette.muted, 1.0))
        self._mean.setPen(theme.pen(theme.palette.validation, 3.0))
        self._selected.setPen(theme.pen(theme.palette.train, 2.5))
        self._band_legend.setPen(theme.pen(theme.palette.validation, 8.0))
        for line in self._references:
            line.setPen(theme.reference_pen())

    def set_metric(self, metric: str) -> None:
        self.shown_metric = metric
        self._drawn_points = []  # every curve's values are another metric's now
        self.getPlotItem().setLabel("left", METRICS[metric], **self.theme.label_style())

    def show_runs(self, curves: list[tuple[np.ndarray, np.ndarray]], selected: int | None) -> None:
        """Redraw with each run's (steps, values); ``selected`` is drawn on top in blue."""
        plot = self.getPlotItem()
        while len(self._runs) < len(curves):
            item = pg.PlotDataItem(pen=self.theme.pen(self.theme.palette.muted, 1.0))
            item.setOpacity(0.55)
            plot.addItem(item)
            self._runs.append(item)
        self._drawn_points += [-1] * (len(curves) - len(self._drawn_points))
        for index, (item, (steps, ys)) in enumerate(zip(self._runs, curves, strict=False)):
            if len(steps) != self._drawn_points[index]:  # a run's evaluations only ever grow
                item.setData(steps, ys)
                self._drawn_points[index] = len(steps)
        steps, means, stds = mean_band(curves)
        self._mean.setData(steps, means)
        # The band stays where the metric can be: an accuracy in [0, 1], a loss at least 0.
        high = 1.0 if self.shown_metric == "accuracy" else np.inf
        self._upper.setData(steps, np.clip(means + stds, 0.0, high))
        self._lower.setData(steps, np.clip(means - stds, 0.0, high))
        if selected is not None and selected < len(curves):
            self._selected.setData(*curves[selected])
        else:
            self._selected.setData([], [])

    def show_references(self, lines: list[tuple[str, float]]) -> None:
        """Dashed horizontal lines, e.g. the scikit-learn baselines' validation accuracy."""
        plot = self.getPlotItem()
        for line in self._references:
            plot.removeItem(line)
        self._references = []
        for name, value in lines:
            line = pg.InfiniteLine(
                value,
                angle=0,
                pen=self.theme.reference_pen(),
                label=f"{name} {value:.3f}",
                labelOpts={
                    "position": 0.05,
                    "color": self.theme.palette.muted,
                    "anchors": [(0, 1), (0, 1)],
                },
            )
            plot.addItem(line)
            self._references.append(line)
