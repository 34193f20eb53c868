"""Layer health: is every layer learning, and learning at a sensible pace?

Per layer, from the newest ``LayerHealth``: the gradient norm (vanishing when tiny in the first
layers, exploding when huge), the weight norm, the update-to-weight ratio — how much one step
changes the weights, healthy around 1e-3, drawn on a log scale over a shaded 1e-4..1e-2 band —
and the share of ReLU units that never fire on the validation set ("dead"). Below, the
histogram of one layer's activations (pick it in the list or click its row).

Collecting these costs the training process time, so the window asks for them only while this
panel is on screen; the panel says so while it waits.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from trainscope.gui.panels.base import Panel

if TYPE_CHECKING:
    from trainscope.engine import events as ev
    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

HEALTHY_RATIO = (1e-4, 1e-2)
"""Update-to-weight ratios in this band are the usual healthy pace (about 1e-3, Karpathy's rule)."""
EXPLANATION = (
    "Healthy: each step changes a layer's weights by about 1/1000 (the green band, 1e-4 to "
    "1e-2), gradient norms are of a similar size in every layer, and few ReLU units are dead."
)
WAITING = "Collected while this panel is shown — waiting for the next evaluation."
OWN_LOOP = (
    "Layer health is measured inside TrainScope's own training step, which your own loop does "
    "not take: train your model with trainscope.show to see it."
)
COLUMNS = ("layer", "gradient", "weights", "update/w", "dead")
COLUMN_TIPS = (
    "The layer; hover for its shape.",
    "L2 norm of the layer's gradient (weights and bias) at that step, before clipping.",
    "L2 norm of the layer's weights.",
    "How much that step changed the weights, relative to their size (healthy near 1e-3).",
    "Share of the layer's ReLU units that never fire on the validation set.",
)
RATIO_AXIS = (-6.0, 0.0)  # log10 range always shown, widened to fit any ratio outside it


def short_name(layer_name: str) -> str:
    """'dense 1 (64→128)' → 'dense 1': the axis has room for the name, the table for the shape."""
    return layer_name.split(" (")[0]


def ratio_position(ratio: float) -> float:
    """log10 of the ratio; 0 and non-finite ratios are pinned near the axis's lower end."""
    if not math.isfinite(ratio) or ratio <= 0:
        return RATIO_AXIS[0] - 0.5 if ratio == 0 else RATIO_AXIS[1] + 0.5
    return math.log10(ratio)


def is_healthy(ratio: float) -> bool:
    return HEALTHY_RATIO[0] <= ratio <= HEALTHY_RATIO[1]


class LayerHealthPanel(Panel):
    """A table per layer, the update ratios on a log axis, and one layer's activation histogram."""

    title = "Layer health"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.explanation_label = QLabel(EXPLANATION)
        self.explanation_label.setWordWrap(True)
        self.waiting_label = QLabel(WAITING)
        self.waiting_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for column, tip in enumerate(COLUMN_TIPS):
            header_item = self.table.horizontalHeaderItem(column)
            assert header_item is not None  # setHorizontalHeaderLabels made one per column
            header_item.setToolTip(tip)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.ratio_widget = self.make_plot("update / weight per step (log scale)")
        self.ratio_plot = self.ratio_widget.getPlotItem()
        self.healthy_band = pg.LinearRegionItem(
            values=[math.log10(HEALTHY_RATIO[0]), math.log10(HEALTHY_RATIO[1])], movable=False
        )
        self.ratio_plot.addItem(self.healthy_band)
        self.ratio_dots = pg.ScatterPlotItem()
        self.ratio_plot.addItem(self.ratio_dots)
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip("Whose activations the histogram shows.")
        self.histogram_widget = self.make_plot()
        self.histogram_plot = self.histogram_widget.getPlotItem()
        self.histogram = pg.PlotDataItem(stepMode="center", fillLevel=0.0)
        self.histogram_plot.addItem(self.histogram)
        self.chooser_label = QLabel("activations of")
        chooser = QHBoxLayout()
        chooser.addWidget(self.chooser_label)
        chooser.addWidget(self.layer_combo, 1)
        for widget in (self.explanation_label, self.waiting_label, self.table):
            self.content_layout.addWidget(widget)
        self.content_layout.addWidget(self.ratio_widget, 2)
        self.content_layout.addLayout(chooser)
        self.content_layout.addWidget(self.histogram_widget, 3)
        for plot in (self.ratio_plot, self.histogram_plot):
            plot.getViewBox().setMouseEnabled(x=False, y=False)
            plot.hideButtons()
        self.health: ev.LayerHealth | None = None
        self._ratio_axes: tuple | None = None
        self._dot_brushes = (pg.mkBrush(theme.palette.best), pg.mkBrush(theme.palette.diverged))
        self.layer_combo.currentIndexChanged.connect(self._on_layer_chosen)
        self.table.currentCellChanged.connect(self._on_row_clicked)
        self.apply_theme(theme)
        self._show_content(False)

    # --- drawing -------------------------------------------------------------------------
    def refresh(self, state: RunState) -> None:
        key = (state.run_key, state.insights.layer_health_version)
        if key == self._drawn:
            return
        self._drawn = key
        self.health = state.insights.layer_health
        own_loop = state.run is not None and state.run.own_loop
        self.waiting_label.setText(OWN_LOOP if own_loop else WAITING)
        self._show_content(self.health is not None)
        if self.health is None:
            return
        self._fill_table(self.health)
        self._draw_ratios(self.health)
        self._fill_combo(self.health.layer_names)
        self._draw_histogram()

    def _show_content(self, shown: bool) -> None:
        self.waiting_label.setVisible(not shown)
        shown_with_numbers = (
            self.table,
            self.ratio_widget,
            self.histogram_widget,
            self.layer_combo,
            self.chooser_label,
        )
        for widget in shown_with_numbers:
            widget.setVisible(shown)

    def _fill_table(self, health: ev.LayerHealth) -> None:
        names = health.layer_names
        if self.table.rowCount() != len(names):
            self.table.setRowCount(len(names))
        palette = self.theme.palette
        for row, name in enumerate(names):
            ratio = float(health.update_ratio[row])
            dead = float(health.dead_fraction[row])
            cells = (
                short_name(name),
                f"{health.grad_norm[row]:.3g}",
                f"{health.weight_norm[row]:.3g}",
                f"{ratio:.1e}",
                "—" if math.isnan(dead) else f"{dead:.0%}",
            )
            items: list[QTableWidgetItem] = []
            for column, text in enumerate(cells):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    if column:
                        item.setTextAlignment(
                            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                        )
                    self.table.setItem(row, column, item)
                item.setText(text)
                items.append(item)
            items[0].setToolTip(name)  # a narrow panel cuts the layer's shape
            healthy_color = palette.best if is_healthy(ratio) else palette.diverged
            items[3].setForeground(QColor(healthy_color))
            dying = not math.isnan(dead) and dead >= 0.5
            items[4].setForeground(QColor(palette.diverged if dying else palette.foreground))
        self._fit_table_height()

    def _fit_table_height(self) -> None:
        """Exactly as tall as its rows: the plots below get the rest."""
        row_height = self.table.fontMetrics().height() + 6
        self.table.verticalHeader().setDefaultSectionSize(row_height)
        header = self.table.horizontalHeader().sizeHint().height()
        height = header + 2 * self.table.frameWidth() + row_height * self.table.rowCount()
        self.table.setFixedHeight(height)

    def _draw_ratios(self, health: ev.LayerHealth) -> None:
        """Dots on a log axis; the axes are re-laid out only when the layers or the span change."""
        ratios = [float(value) for value in health.update_ratio]
        x = np.array([ratio_position(ratio) for ratio in ratios])
        y = np.arange(len(ratios), dtype=np.float64)
        healthy, unhealthy = self._dot_brushes
        brushes = [healthy if is_healthy(ratio) else unhealthy for ratio in ratios]
        self.ratio_dots.setData(x=x, y=y, brush=brushes, size=self.theme.px(11), pen=None)
        low = min(RATIO_AXIS[0], math.floor(x.min())) if len(x) else RATIO_AXIS[0]
        high = max(RATIO_AXIS[1], math.ceil(x.max())) if len(x) else RATIO_AXIS[1]
        axes_key = (low, high, health.layer_names)
        if axes_key == self._ratio_axes:
            return
        self._ratio_axes = axes_key
        view_box = self.ratio_plot.getViewBox()
        view_box.setRange(
            xRange=(low - 0.3, high + 0.3), yRange=(-0.6, len(ratios) - 0.4), padding=0
        )
        bottom = self.ratio_plot.getAxis("bottom")
        bottom.setTicks([[(power, f"1e{power}") for power in range(int(low), int(high) + 1)]])
        left = self.ratio_plot.getAxis("left")
        left.setTicks(
            [[(index, short_name(name)) for index, name in enumerate(health.layer_names)]]
        )

    def _fill_combo(self, names: tuple[str, ...]) -> None:
        current = [self.layer_combo.itemText(index) for index in range(self.layer_combo.count())]
        if current == list(names):
            return
        with QSignalBlocker(self.layer_combo):
            chosen = self.layer_combo.currentIndex()
            self.layer_combo.clear()
            self.layer_combo.addItems(list(names))
            self.layer_combo.setCurrentIndex(chosen if 0 <= chosen < len(names) else 0)

    def _draw_histogram(self) -> None:
        health, layer = self.health, self.layer_combo.currentIndex()
        if health is None or not 0 <= layer < len(health.layer_names):
            self.histogram.setData([], [])
            return
        edges = np.asarray(health.activation_edges[layer], dtype=np.float64)
        counts = np.asarray(health.activation_counts[layer], dtype=np.float64)
        self.histogram.setData(edges, counts)
        dead = float(health.dead_fraction[layer])
        dead_text = "" if math.isnan(dead) else f" · {dead:.0%} of units dead"
        self.set_plot_title(
            self.histogram_plot,
            f"{short_name(health.layer_names[layer])} at step {health.step:,}{dead_text}",
        )
        with QSignalBlocker(self.table):
            self.table.selectRow(layer)

    @Slot(int)
    def _on_layer_chosen(self, _index: int) -> None:
        self._draw_histogram()

    @Slot(int, int, int, int)
    def _on_row_clicked(self, row: int, _column: int, _old_row: int, _old_column: int) -> None:
        if row >= 0 and row != self.layer_combo.currentIndex():
            self.layer_combo.setCurrentIndex(row)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        palette = theme.palette
        for plot in (self.ratio_plot, self.histogram_plot):
            theme.style_plot(plot)
        self.ratio_plot.showGrid(x=True, y=False, alpha=palette.grid_alpha)
        self.ratio_plot.invertY(True)  # the input side on top, as in the table
        self.healthy_band.setBrush(theme.brush(palette.best, 45))
        self._dot_brushes = (pg.mkBrush(palette.best), pg.mkBrush(palette.diverged))
        self._ratio_axes = None
        for line in self.healthy_band.lines:
            line.setPen(pg.mkPen(None))
        self.histogram.setPen(theme.pen(palette.train, 1.0))
        self.histogram.setBrush(theme.brush(palette.histogram))
        self.histogram_plot.setLabel("bottom", "activation value", **theme.label_style())
        self.histogram_plot.setLabel("left", "count", **theme.label_style())
        self.explanation_label.setStyleSheet(
            theme.label_stylesheet(theme.annotation_pt, palette.muted)
        )
        self.waiting_label.setStyleSheet(theme.label_stylesheet(theme.base_font_pt + 1))
        self.table.setFont(theme.font(theme.annotation_pt))
        self.invalidate()
