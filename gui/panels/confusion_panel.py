"""Confusion matrix of the latest validation evaluation: which classes get mistaken for which.

For a two-class task the matrix is recomputed from the cached probabilities at the current
decision threshold (``engine.metrics.confusion_matrix``, a single ``bincount``), so dragging the
threshold moves counts between cells at once, with no training step and no new event.
Cells are coloured by the share of their true class (row), so a rare class's misses stay
visible next to a large majority class whether counts or fractions are written in them. With
more than two classes the counts stay the arg-max ones, and the threshold panel's one-vs-rest
positive class (``RunState.positive_class``) is outlined: its row and its column.

A new evaluation redraws at most four times a second (``EvaluationThrottle``); the numbers in
the cells are painted by one item rather than one text item per cell (100 text items cost
~4 ms a paint), and axes and range change only when the classes do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Slot
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QCheckBox, QGraphicsRectItem, QHBoxLayout, QWidget

from trainscope.engine.metrics import confusion_matrix
from trainscope.engine.mistakes import predictions
from trainscope.gui.panels.base import EvaluationThrottle, Panel

if TYPE_CHECKING:
    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

MAX_ANNOTATED_CLASSES = 12  # above this, numbers in cells get too small to read


def binary_confusion_at(
    probabilities: np.ndarray, labels: np.ndarray, threshold: float
) -> np.ndarray:
    """(2, 2) counts when P(positive) >= threshold is called positive (the ThresholdTable rule,
    shared with the mistakes gallery through ``engine.mistakes.predictions``)."""
    return confusion_matrix(labels, predictions(probabilities, threshold).predicted, 2)


def row_fractions(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total (recall on the diagonal); empty rows stay 0."""
    totals = confusion.sum(axis=1, keepdims=True)
    return np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)


class CellLabels(pg.GraphicsObject):
    """The text of every cell, centred in it, painted in one pass at a fixed pixel size."""

    DARK, LIGHT = QColor("#000000"), QColor("#ffffff")  # viridis: dark text on light cells

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[list[str]] = []
        self._dark: np.ndarray = np.zeros((0, 0), dtype=bool)
        self.font = QFont()

    def set_cells(self, texts: list[list[str]], dark: np.ndarray, font: QFont) -> None:
        """Texts row by row; ``dark[row, column]`` picks dark text (for a light cell)."""
        if len(texts) != len(self.texts):
            self.prepareGeometryChange()
        self.texts, self._dark, self.font = texts, dark, font
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        n = len(self.texts)
        return QRectF(-0.5, -0.5, n, n)

    def paint(self, painter: QPainter, *args: object) -> None:
        if not self.texts:
            return
        transform = painter.transform()
        cell = transform.mapRect(QRectF(0.0, 0.0, 1.0, 1.0))
        painter.resetTransform()  # text in pixels, not stretched by the view's scale
        painter.setFont(self.font)
        for row, texts in enumerate(self.texts):
            for column, text in enumerate(texts):
                centre = transform.map(QPointF(column, row))
                box = QRectF(
                    centre.x() - cell.width() / 2,
                    centre.y() - cell.height() / 2,
                    cell.width(),
                    cell.height(),
                )
                painter.setPen(self.DARK if self._dark[row, column] else self.LIGHT)
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class ConfusionPanel(Panel):
    """Heat map with true classes as rows, predicted as columns, and the numbers in each cell."""

    title = "Confusion matrix"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.normalize_checkbox = QCheckBox("row fractions")
        self.normalize_checkbox.setToolTip(
            "Divide each row by its class size: the diagonal then reads as recall per class."
        )
        controls = QHBoxLayout()
        controls.addWidget(self.normalize_checkbox)
        controls.addStretch(1)
        self.content_layout.addLayout(controls)
        self.plot_widget = self.make_plot(self.title)
        self.plot = self.plot_widget.getPlotItem()
        self.content_layout.addWidget(self.plot_widget, 1)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.plot.invertY(True)  # row 0 (first true class) on top, as matrices are written
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=False)
        self.cells = CellLabels()
        self.plot.addItem(self.cells)
        self.positive_outline = [QGraphicsRectItem(), QGraphicsRectItem()]  # row, column
        for outline in self.positive_outline:
            outline.setZValue(5)
            outline.hide()
            self.plot.addItem(outline, ignoreBounds=True)
        self.marked_class: int | None = None  # the outlined one-vs-rest class (K > 2)
        self.confusion: np.ndarray | None = None
        self._class_names: tuple[str, ...] | None = None  # what the axes and range show
        self.throttle = EvaluationThrottle()
        self.normalize_checkbox.toggled.connect(self._on_normalize_toggled)
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        theme.style_plot(self.plot)
        self.plot.showGrid(x=False, y=False)
        self.plot.setLabel("bottom", "predicted class", **theme.label_style())
        self.plot.setLabel("left", "true class", **theme.label_style())
        self.image.setColorMap(pg.colormap.get(theme.palette.heatmap))
        for outline in self.positive_outline:
            outline.setPen(theme.pen(theme.palette.operating_point, theme.reference_width + 1.5))
        self.normalize_checkbox.setStyleSheet(theme.label_stylesheet())
        self._class_names = None  # tick fonts follow the theme
        self.invalidate()  # cell fonts depend on the theme: rebuild on the next frame

    @Slot(bool)
    def _on_normalize_toggled(self, checked: bool) -> None:
        self.invalidate()

    def refresh(self, state: RunState) -> None:
        evaluation = state.latest_validation
        threshold_key = state.threshold_version if state.is_binary else None
        marked = None if state.is_binary else state.positive_class
        key = (
            state.run_key,
            state.evaluation_version,
            threshold_key,
            self.normalize_checkbox.isChecked(),
            marked,
        )
        if key == self._drawn or self.throttle.holds(self._drawn, key, evaluation_index=1):
            return
        self._drawn = key
        if evaluation is None:
            self.image.clear()
            self.cells.set_cells([], np.zeros((0, 0), dtype=bool), self.cells.font)
            self.confusion = None
            self._mark_class(None, 0)
            self._set_title(self.title)
            return
        if state.is_binary:
            confusion = binary_confusion_at(
                evaluation.probabilities, evaluation.labels, state.threshold
            )
        else:
            confusion = np.asarray(evaluation.confusion)
        self.confusion = confusion
        names = state.class_names or tuple(str(i) for i in range(len(confusion)))
        self._draw(confusion, names)
        self._mark_class(marked, len(confusion))
        total = int(confusion.sum())
        accuracy = float(np.trace(confusion)) / total if total else float("nan")
        where = f" at threshold {state.threshold:.2f}" if state.is_binary else ""
        if marked is not None and marked < len(names):
            where = f" · outlined: {names[marked]} vs rest"
        self._set_title(f"accuracy {accuracy:.3f}{where}")
        tooltip = f"validation split, step {evaluation.step}"
        if tooltip != self.plot_widget.toolTip():
            self.plot_widget.setToolTip(tooltip)

    def _mark_class(self, index: int | None, n_classes: int) -> None:
        """Outline the row and the column of class ``index`` (None: no outline)."""
        marked = index if index is not None and index < n_classes else None
        self.marked_class = marked
        row, column = self.positive_outline
        if marked is None:
            row.hide()
            column.hide()
            return
        row.setRect(QRectF(-0.5, marked - 0.5, n_classes, 1.0))
        column.setRect(QRectF(marked - 0.5, -0.5, 1.0, n_classes))
        row.show()
        column.show()

    def _set_title(self, text: str) -> None:
        """A new title text re-lays the plot out: only when the text changes."""
        if text != self.plot_title(self.plot):
            self.set_plot_title(self.plot, text)

    def _draw(self, confusion: np.ndarray, class_names: tuple[str, ...]) -> None:
        n_classes = confusion.shape[0]
        fractions = row_fractions(confusion)
        self.image.setImage(fractions, levels=(0.0, 1.0), autoLevels=False)
        names = tuple(class_names[:n_classes])
        if names != self._class_names:  # ticks and range re-lay the axes: only on a new task
            self._class_names = names
            self.image.setRect(QRectF(-0.5, -0.5, n_classes, n_classes))
            ticks = [list(enumerate(names))]
            self.plot.getAxis("bottom").setTicks(ticks)
            self.plot.getAxis("left").setTicks(ticks)
            self.plot.getViewBox().setRange(
                xRange=(-0.5, n_classes - 0.5), yRange=(-0.5, n_classes - 0.5), padding=0.0
            )
        if n_classes > MAX_ANNOTATED_CLASSES:
            self.cells.set_cells([], np.zeros((0, 0), dtype=bool), self.cells.font)
            return
        normalized = self.normalize_checkbox.isChecked()
        texts = [
            [f"{value:.2f}" for value in row]
            if normalized
            else [str(int(value)) for value in counts]
            for row, counts in zip(fractions, confusion, strict=True)
        ]
        font = self.theme.font(self._cell_font_size(n_classes), bold=True)
        self.cells.set_cells(texts, fractions > 0.55, font)

    def _cell_font_size(self, n_classes: int) -> float:
        """Numbers shrink a little as the grid gets finer, from the annotation size down."""
        return self.theme.annotation_pt * (
            1.3 if n_classes <= 3 else 1.0 if n_classes <= 8 else 0.9
        )

    def cell_strings(self) -> list[list[str]]:
        """What is written in each cell, row by row (for tests and tooltips)."""
        return [list(row) for row in self.cells.texts]
