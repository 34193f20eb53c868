"""Comparing recorded runs: their loss curves in one plot, what differs and how they ended.

One colour per run; its validation loss is the solid line with dots, its training loss the
thin dashed line under it (decimated, so a long run draws as fast as a short one). The table
lists only the settings that differ (``engine.runs.compare_runs`` works that out), then the
final and best numbers side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from trainscope.engine.runs.compare import Comparison, compare_runs
from trainscope.engine.runs.timeline import Timeline
from trainscope.gui.run_state import format_value

if TYPE_CHECKING:
    from trainscope.gui.recording import RunLibrary
    from trainscope.gui.theme import Theme

#: Okabe-Ito hues in an order that keeps neighbours apart.
RUN_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MAX_TRAIN_POINTS = 2000

METRIC_LABELS = {
    "steps": "steps",
    "val_loss": "final validation loss",
    "val_accuracy": "final validation accuracy",
    "train_loss": "final training loss",
    "train_accuracy": "final training accuracy",
    "ece": "final ECE",
    "test_loss": "test loss",
    "test_accuracy": "test accuracy",
    "deployment_loss": "deployment loss",
    "deployment_accuracy": "deployment accuracy",
    "best_val_loss": "best validation loss",
    "best_step": "best step",
    "best_val_accuracy": "best validation accuracy",
}


def decimated(
    steps: np.ndarray, values: np.ndarray, limit: int = MAX_TRAIN_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """Every k-th point so at most ``limit`` remain (the view is a comparison, not a zoom)."""
    if len(steps) <= limit:
        return steps, values
    stride = int(np.ceil(len(steps) / limit))
    return steps[::stride], values[::stride]


def cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, tuple):
        return ", ".join(cell(item) for item in value) or "–"
    if isinstance(value, float | int | np.number) and not isinstance(value, bool):
        return format_value(value)
    return str(value)


class CompareView(QDialog):
    """Two or more recorded runs side by side."""

    def __init__(
        self,
        library: RunLibrary,
        run_ids: list[int],
        theme: Theme,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        with library.open_store() as store:
            self.comparison: Comparison = compare_runs(store, run_ids)
            timelines = [Timeline.from_events(store.iter_events(run_id)) for run_id in run_ids]
        self.setWindowTitle("Compare runs: " + " · ".join(self.comparison.names))
        self.theme = theme
        self.plot_widget = pg.PlotWidget(background="w")
        plot = self.plot_widget.getPlotItem()
        plot.addLegend(offset=(-10, 10))
        plot.setLabel("bottom", "step")
        plot.setLabel("left", "loss")
        theme.style_plot(plot, "Loss: validation (solid) and training (dashed)")
        self.curves: dict[tuple[int, str], pg.PlotDataItem] = {}
        for index, (run_id, timeline) in enumerate(zip(run_ids, timelines, strict=True)):
            self._add_curves(plot, index, run_id, timeline)
        self.table = QTableWidget()
        self._fill_table()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.plot_widget)
        splitter.addWidget(self.table)
        splitter.setSizes([420, 300])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.resize(1000, 760)

    def _add_curves(self, plot: pg.PlotItem, index: int, run_id: int, timeline: Timeline) -> None:
        colour = RUN_COLOURS[index % len(RUN_COLOURS)]
        name = f"{run_id}: {self.comparison.names[index]}"
        steps, loss = decimated(timeline.train["step"], timeline.train["loss"])
        train = plot.plot(
            steps,
            loss,
            pen=pg.mkPen(colour, width=self.theme.long_width, style=Qt.PenStyle.DashLine),
            name=f"{name} (training)",
        )
        train.setOpacity(0.6)
        rows = [row for row in timeline.evaluations if row["split"] == "validation"]
        validation = plot.plot(
            np.array([row["step"] for row in rows], dtype=float),
            np.array([np.nan if row["loss"] is None else row["loss"] for row in rows], float),
            pen=pg.mkPen(colour, width=self.theme.curve_width),
            symbol="o",
            symbolSize=self.theme.px(5),
            symbolBrush=colour,
            symbolPen=None,
            name=f"{name} (validation)",
        )
        self.curves[(run_id, "training")] = train
        self.curves[(run_id, "validation")] = validation

    def rows(self) -> list[tuple[str, tuple[Any, ...]]]:
        """The table's rows: differing settings, live changes, then final and best numbers."""
        comparison = self.comparison
        rows: list[tuple[str, tuple[Any, ...]]] = [("status", comparison.statuses)]
        rows += [(key, values) for key, values in comparison.differing.items()]
        if any(comparison.changes):
            rows.append(("live changes", tuple("; ".join(c) for c in comparison.changes)))
        for key, values in {**comparison.final, **comparison.best}.items():
            rows.append((METRIC_LABELS.get(key, key), values))
        return rows

    def _fill_table(self) -> None:
        comparison, rows = self.comparison, self.rows()
        self.table.setColumnCount(len(comparison.run_ids))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(
            [
                f"{run_id}: {name}"
                for run_id, name in zip(comparison.run_ids, comparison.names, strict=True)
            ]
        )
        self.table.setVerticalHeaderLabels([label for label, _ in rows])
        for row, (label, values) in enumerate(rows):
            differs = label in comparison.differing
            for column, value in enumerate(values):
                item = QTableWidgetItem(cell(value))
                if differs:
                    item.setFont(self.theme.font(bold=True))
                self.table.setItem(row, column, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

    def cell_text(self, label: str, run_id: int) -> str:
        """What the table says for ``label`` and run ``run_id`` (tests, screenshots)."""
        row = [name for name, _ in self.rows()].index(label)
        column = self.comparison.run_ids.index(run_id)
        item = self.table.item(row, column)
        if item is None:
            raise LookupError(f"no cell for {label!r} and run {run_id}")
        return item.text()
