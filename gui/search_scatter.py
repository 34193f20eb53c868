"""A search's results at a glance: each trial's best validation accuracy against one of its values.

One point per trial that has been evaluated, on a log axis for a log-scale knob; pruned trials
are drawn hollow (they stopped early, so their best is a lower bound of what they would
have reached). A person sees at once where in the range the good trials lie.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pyqtgraph as pg

from trainscope.engine import experiment_report as report

if TYPE_CHECKING:
    from trainscope.engine.experiment_runner import RunProgress
    from trainscope.engine.search_space import Dimension, Value
    from trainscope.gui.theme import Theme


class SearchScatter(pg.PlotWidget):
    """Best validation accuracy of each trial against the value of ``dimension``."""

    def __init__(self, theme: Theme, dimension: Dimension) -> None:
        super().__init__(background=theme.palette.background)
        self.dimension = dimension
        plot = self.getPlotItem()
        theme.style_plot(plot, f"Best validation accuracy against {dimension.name}")
        plot.setLabel("bottom", dimension.name)
        plot.setLabel("left", "best val acc")
        if dimension.is_choice:
            ticks = [(index, str(choice)) for index, choice in enumerate(dimension.choices)]
            plot.getAxis("bottom").setTicks([ticks])
        elif dimension.log:  # log10 of the value, one labelled tick per decade (pyqtgraph's
            # own log axis labelled every minor tick of a few decades, unreadably)
            plot.setLabel("bottom", f"{dimension.name} (log scale)")
            decades = range(
                math.floor(math.log10(dimension.low)), math.ceil(math.log10(dimension.high)) + 1
            )
            plot.getAxis("bottom").setTicks([[(k, f"{10.0**k:g}") for k in decades]])
        brush = theme.brush(theme.palette.validation)
        self._finished = pg.ScatterPlotItem(size=11, brush=brush, pen=theme.pen("#333333", 1.0))
        hollow = theme.pen(theme.palette.validation, 2.0)
        self._pruned = pg.ScatterPlotItem(size=11, brush=None, pen=hollow)
        plot.addItem(self._finished)
        plot.addItem(self._pruned)

    def apply_theme(self, theme: Theme) -> None:
        """Fonts of a new interface size (Ctrl+= / Ctrl+-)."""
        theme.style_plot(self.getPlotItem())

    def show_trials(self, runs: list[RunProgress]) -> None:
        points: dict[bool, tuple[list[float], list[float]]] = {True: ([], []), False: ([], [])}
        for run in runs:
            best = report.run_metrics(run)["best_val_accuracy"]
            params = run.planned.params
            if best is None or params is None or self.dimension.name not in params:
                continue
            xs, ys = points[run.status == "pruned"]
            xs.append(self._x(params[self.dimension.name]))
            ys.append(best)
        self._finished.setData(*points[False])
        self._pruned.setData(*points[True])

    def _x(self, value: Value) -> float:
        if self.dimension.is_choice:
            return float(self.dimension.choices.index(value))
        number = float(value)
        return math.log10(number) if self.dimension.log else number
