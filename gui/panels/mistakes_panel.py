"""Mistakes: the validation samples the model gets wrong, the most confident mistakes first.

A confusion matrix counts errors; looking at them teaches more — a "7" that really looks like
a "1", a label that is plainly wrong, a tumour whose numbers sit among the other class. Image
data (digits) shows each mistake as a small picture scaled up without smoothing, captioned
"pred 3 · true 8" and how sure the model was; other data shows the same as rows of a table.
Clicking one shows its whole probability vector with the true and the predicted class marked.

The list is ``engine.mistakes.worst_mistakes`` over the newest validation evaluation, with the
confusion matrix's rule (for two classes, at the current threshold), so its count of mistakes
is the matrix's off-diagonal sum. It is rebuilt only when a new evaluation, new inputs or a new
threshold arrives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Slot
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from trainscope.engine.mistakes import predictions, worst_mistakes
from trainscope.gui.panels.base import EvaluationThrottle, Panel

if TYPE_CHECKING:
    from trainscope.engine import events as ev
    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

SHOWN_MISTAKES = 40
IMAGE_PX = 48  # an 8 x 8 digit becomes 48 x 48 screen pixels, each pixel a 6 x 6 square
NUMBER_ALIGNMENT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
MIN_REBUILD_INTERVAL_S = 0.5
"""A run evaluating many times a second refreshes the gallery at most this often (a moved
threshold or a new run still shows at once)."""


def grayscale_icon(pixels: np.ndarray, darkest: float, size: int) -> QIcon:
    """Ink dark on white, as digits are written; nearest-neighbour scaling keeps pixels square."""
    scale = max(float(darkest), 1e-12)
    gray = 255.0 - np.clip(np.asarray(pixels, dtype=np.float64) / scale, 0.0, 1.0) * 255.0
    rows, cols = gray.shape
    factor = max(1, size // max(rows, cols))
    big = np.ascontiguousarray(np.kron(gray, np.ones((factor, factor))).astype(np.uint8))
    height, width = big.shape
    image = QImage(big.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    return QIcon(QPixmap.fromImage(image))


class MistakesPanel(Panel):
    """A gallery (images) or a table (other data) of the most confident mistakes, and one's
    probabilities on click."""

    title = "Mistakes"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.summary_label = QLabel("Waiting for the first validation evaluation.")
        self.summary_label.setWordWrap(True)
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setWordWrap(True)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table = QTableWidget()
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.probability_widget = self.make_plot()
        self.probability_plot = self.probability_widget.getPlotItem()
        self.probability_plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.probability_plot.hideButtons()
        self.probability_bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.probability_plot.addItem(self.probability_bars)
        self.content_layout.addWidget(self.summary_label)
        self.content_layout.addWidget(self.gallery, 3)
        self.content_layout.addWidget(self.table, 3)
        self.content_layout.addWidget(self.probability_widget, 2)
        self.gallery.hide()
        self.table.hide()
        self.probability_widget.hide()
        self.evaluation: ev.Evaluation | None = None
        self.mistakes = np.empty(0, dtype=np.int64)  # validation rows, most confident first
        self.total_mistakes = 0
        self.predicted = np.empty(0, dtype=np.int64)
        self.confidence = np.empty(0)
        self.selected: int | None = None  # the validation row whose probabilities are shown
        self._class_names: tuple[str, ...] = ()
        self._table_headers: list[str] = []
        self.throttle = EvaluationThrottle(MIN_REBUILD_INTERVAL_S)
        self.gallery.currentRowChanged.connect(self._on_item_chosen)
        self.table.currentCellChanged.connect(self._on_row_chosen)
        self.apply_theme(theme)

    # --- drawing -------------------------------------------------------------------------
    def refresh(self, state: RunState) -> None:
        evaluation = state.latest_validation
        inputs = state.insights.validation_inputs
        key = (
            state.run_key,
            id(evaluation),
            state.insights.inputs_version,
            state.threshold if state.is_binary else None,
        )
        if key == self._drawn:
            return
        if self.throttle.holds(self._drawn, key, evaluation_index=1):
            return  # a later frame: nobody reads a gallery that changes 20 times a second
        self._drawn = key
        self.evaluation = evaluation  # held, so its id stays unique while it is drawn
        self._class_names = state.class_names
        if evaluation is None:
            self._show_nothing("Waiting for the first validation evaluation.")
            return
        threshold = state.threshold if state.is_binary else None
        result = predictions(evaluation.probabilities, threshold)
        self.predicted, self.confidence = result.predicted, result.confidence
        every = worst_mistakes(evaluation.probabilities, evaluation.labels, threshold)
        self.total_mistakes = len(every)
        self.mistakes = every[:SHOWN_MISTAKES]
        if not self.total_mistakes:
            self._show_nothing(f"No mistakes on the validation set at step {evaluation.step:,}.")
            return
        where = f" at threshold {state.threshold:.2f}" if threshold is not None else ""
        self.summary_label.setText(
            f"{len(self.mistakes)} of {self.total_mistakes} mistakes at step {evaluation.step:,}"
            f"{where} — most confident first; click one for its probabilities"
        )
        usable = (
            inputs
            if inputs is not None and len(inputs.features) == len(evaluation.labels)
            else None
        )
        if usable is not None and usable.image_shape is not None:
            self._fill_gallery(usable, evaluation.labels)
        else:
            self._fill_table(usable, evaluation.labels)
        self._restore_selection()

    def _show_nothing(self, sentence: str) -> None:
        self.mistakes = np.empty(0, dtype=np.int64)
        self.total_mistakes = 0
        self.summary_label.setText(sentence)
        self.gallery.clear()
        self.table.setRowCount(0)
        self.gallery.hide()
        self.table.hide()
        self.probability_widget.hide()

    def caption(self, row: int, labels: np.ndarray) -> str:
        """'pred 3 · true 8' and how sure the model was, for validation row ``row``."""
        names = self._class_names
        predicted, true = int(self.predicted[row]), int(labels[row])
        return (
            f"pred {_name(names, predicted)} · true {_name(names, true)}\n"
            f"{self.confidence[row]:.0%} sure"
        )

    def _fill_gallery(self, inputs: ev.ValidationInputs, labels: np.ndarray) -> None:
        shape = inputs.image_shape
        assert shape is not None
        darkest = float(np.max(inputs.features)) if inputs.features.size else 1.0
        icon_px = round(self.theme.px(IMAGE_PX))
        self.gallery.setIconSize(QSize(icon_px, icon_px))
        captions = [self.caption(int(row), labels) for row in self.mistakes]
        metrics = self.gallery.fontMetrics()
        text_width = max(
            metrics.horizontalAdvance(line) for text in captions for line in text.split("\n")
        )
        self.gallery.setGridSize(
            QSize(max(icon_px, text_width) + 14, icon_px + 2 * metrics.height() + 14)
        )
        with QSignalBlocker(self.gallery):
            self.gallery.clear()
            for row, text in zip(self.mistakes.tolist(), captions, strict=True):
                pixels = inputs.features[row].reshape(shape)
                item = QListWidgetItem(grayscale_icon(pixels, darkest, icon_px), text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                item.setToolTip(f"validation row {row}")
                self.gallery.addItem(item)
        self.table.hide()
        self.gallery.show()

    def _fill_table(self, inputs: ev.ValidationInputs | None, labels: np.ndarray) -> None:
        """Rows of text, reusing the cells; columns are sized once at the end (sizing them to
        their contents on every cell costs a second for 40 rows of 30 features)."""
        feature_names = list(inputs.feature_names) if inputs is not None else []
        headers = ["predicted", "true", "confidence", *feature_names]
        names = self._class_names
        table = self.table
        with QSignalBlocker(table):
            if self._table_headers != headers:
                table.clear()
                table.setColumnCount(len(headers))
                table.setHorizontalHeaderLabels(headers)
                self._table_headers = headers
            table.setRowCount(len(self.mistakes))
            for line, row in enumerate(self.mistakes.tolist()):
                cells = [
                    _name(names, int(self.predicted[row])),
                    _name(names, int(labels[row])),
                    f"{self.confidence[row]:.0%}",
                ]
                if inputs is not None:
                    cells += [f"{value:.3g}" for value in inputs.features[row].tolist()]
                for column, text in enumerate(cells):
                    item = table.item(line, column)
                    if item is None:
                        item = QTableWidgetItem()
                        if column >= 2:
                            item.setTextAlignment(NUMBER_ALIGNMENT)
                        table.setItem(line, column, item)
                    item.setText(text)
            table.resizeColumnsToContents()
        self.gallery.hide()
        table.show()

    def _restore_selection(self) -> None:
        """Keep showing the sample the student chose while it is still among the mistakes."""
        shown = self.mistakes.tolist()
        if self.selected in shown:
            self.show_probabilities(self.selected)
            position = shown.index(self.selected)
            with QSignalBlocker(self.gallery), QSignalBlocker(self.table):
                self.gallery.setCurrentRow(position)
                self.table.selectRow(position)
        else:
            self.selected = None
            self.probability_widget.hide()

    def show_probabilities(self, row: int) -> None:
        """The probability of every class for validation row ``row``, true class in green."""
        evaluation = self.evaluation
        if evaluation is None:
            return
        self.selected = row
        probabilities = np.asarray(evaluation.probabilities[row], dtype=np.float64)
        true, predicted = int(evaluation.labels[row]), int(self.predicted[row])
        palette = self.theme.palette
        brushes = [
            palette.best if k == true else palette.diverged if k == predicted else palette.histogram
            for k in range(len(probabilities))
        ]
        self.probability_bars.setOpts(
            x=np.arange(len(probabilities)), height=probabilities, width=0.7, brushes=brushes
        )
        names = self._class_names
        ticks = [(k, _name(names, k)) for k in range(len(probabilities))]
        self.probability_plot.getAxis("bottom").setTicks([ticks])
        self.probability_plot.getViewBox().setRange(
            xRange=(-0.6, len(probabilities) - 0.4), yRange=(0.0, 1.0), padding=0.0
        )
        self.set_plot_title(
            self.probability_plot,
            f'<span style="color:{palette.best}">true {_name(names, true)}: '
            f"{probabilities[true]:.0%}</span> · "
            f'<span style="color:{palette.diverged}">predicted {_name(names, predicted)}: '
            f"{probabilities[predicted]:.0%}</span>",
        )
        self.probability_widget.show()

    @Slot(int)
    def _on_item_chosen(self, position: int) -> None:
        if 0 <= position < len(self.mistakes):
            self.show_probabilities(int(self.mistakes[position]))

    @Slot(int, int, int, int)
    def _on_row_chosen(self, line: int, _column: int, _old_line: int, _old_column: int) -> None:
        self._on_item_chosen(line)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        theme.style_plot(self.probability_plot)
        self.probability_plot.showGrid(x=False, y=True, alpha=theme.palette.grid_alpha)
        self.probability_plot.setLabel("left", "probability", **theme.label_style())
        self.summary_label.setStyleSheet(theme.label_stylesheet(theme.annotation_pt))
        for view in (self.gallery, self.table):
            view.setFont(theme.font(theme.annotation_pt))
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.invalidate()


def _name(names: tuple[str, ...], index: int) -> str:
    return names[index] if 0 <= index < len(names) else str(index)
