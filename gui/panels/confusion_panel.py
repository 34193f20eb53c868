"""Confusion matrix of the latest validation evaluation: which classes get mistaken for which.

For a two-class task the matrix is recomputed from the cached probabilities at the current
decision threshold (``engine.metrics.confusion_matrix``, a single ``bincount``), so dragging the
threshold moves counts between cells at once, with no training step and no new event.
Cells are coloured by the share of their true class (row), so a rare class's misses stay
visible next to a large majority class whether counts or fractions are written in them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QWidget

from engine.metrics import confusion_matrix
from gui.panels.base import Panel
from gui.run_state import RunState
from gui.theme import Theme

MAX_ANNOTATED_CLASSES = 12  # above this, numbers in cells get too small to read


def binary_confusion_at(
    probabilities: np.ndarray, labels: np.ndarray, threshold: float
) -> np.ndarray:
    """(2, 2) counts when P(positive) >= threshold is called positive (the ThresholdTable rule)."""
    predictions = (np.asarray(probabilities)[:, 1] >= threshold).astype(np.int64)
    return confusion_matrix(labels, predictions, 2)


def row_fractions(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total (recall on the diagonal); empty rows stay 0."""
    totals = confusion.sum(axis=1, keepdims=True)
    return np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)


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
        self.cell_texts: list[list[pg.TextItem]] = []
        self._cell_font_pt = 0.0
        self.confusion: np.ndarray | None = None
        self.normalize_checkbox.toggled.connect(self._on_normalize_toggled)
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        theme.style_plot(self.plot)
        self.plot.showGrid(x=False, y=False)
        self.plot.setLabel("bottom", "predicted class", **theme.label_style())
        self.plot.setLabel("left", "true class", **theme.label_style())
        self.image.setColorMap(pg.colormap.get(theme.palette.heatmap))
        self.normalize_checkbox.setStyleSheet(theme.label_stylesheet())
        self.invalidate()  # cell fonts depend on the theme: rebuild on the next frame

    @Slot(bool)
    def _on_normalize_toggled(self, checked: bool) -> None:
        self.invalidate()

    def refresh(self, state: RunState) -> None:
        evaluation = state.latest_validation
        threshold_key = state.threshold_version if state.is_binary else None
        key = (
            state.run_key,
            state.evaluation_version,
            threshold_key,
            self.normalize_checkbox.isChecked(),
        )
        if key == self._drawn:
            return
        self._drawn = key
        if evaluation is None:
            self.image.clear()
            self._set_cells(0)
            self.confusion = None
            self.set_plot_title(self.plot, self.title)
            return
        if state.is_binary:
            confusion = binary_confusion_at(
                evaluation.probabilities, evaluation.labels, state.threshold
            )
        else:
            confusion = np.asarray(evaluation.confusion)
        self.confusion = confusion
        self._draw(confusion, state.class_names or tuple(str(i) for i in range(len(confusion))))
        total = int(confusion.sum())
        accuracy = float(np.trace(confusion)) / total if total else float("nan")
        where = f" at threshold {state.threshold:.2f}" if state.is_binary else ""
        self.set_plot_title(self.plot, f"accuracy {accuracy:.3f}{where}")
        self.plot_widget.setToolTip(f"validation split, step {evaluation.step}")

    def _draw(self, confusion: np.ndarray, class_names: tuple[str, ...]) -> None:
        n_classes = confusion.shape[0]
        fractions = row_fractions(confusion)
        self.image.setImage(fractions, levels=(0.0, 1.0), autoLevels=False)
        self.image.setRect(QRectF(-0.5, -0.5, n_classes, n_classes))
        ticks = [[(index, name) for index, name in enumerate(class_names[:n_classes])]]
        self.plot.getAxis("bottom").setTicks(ticks)
        self.plot.getAxis("left").setTicks(ticks)
        self.plot.getViewBox().setRange(
            xRange=(-0.5, n_classes - 0.5), yRange=(-0.5, n_classes - 0.5), padding=0.0
        )
        self._set_cells(n_classes if n_classes <= MAX_ANNOTATED_CLASSES else 0)
        normalized = self.normalize_checkbox.isChecked()
        for row, texts in enumerate(self.cell_texts):
            for column, text in enumerate(texts):
                value = fractions[row, column]
                text.setText(f"{value:.2f}" if normalized else str(int(confusion[row, column])))
                text.setColor(
                    "#000000" if value > 0.55 else "#ffffff"
                )  # viridis: dark low, light high

    def _set_cells(self, n_classes: int) -> None:
        """Keep exactly n x n cell labels (rebuilt only when the number of classes changes)."""
        if len(self.cell_texts) == n_classes and self._cell_font_pt == self.theme.pt(
            self._cell_font_size(n_classes)
        ):
            return
        for texts in self.cell_texts:
            for text in texts:
                self.plot.removeItem(text)
        font = self.theme.font(self._cell_font_size(n_classes), bold=True)
        self._cell_font_pt = font.pointSizeF()
        self.cell_texts = []
        for row in range(n_classes):
            texts = []
            for column in range(n_classes):
                text = pg.TextItem("", anchor=(0.5, 0.5))
                text.setFont(font)
                text.setPos(column, row)
                self.plot.addItem(text)
                texts.append(text)
            self.cell_texts.append(texts)

    def _cell_font_size(self, n_classes: int) -> float:
        """Numbers shrink a little as the grid gets finer, from the annotation size down."""
        return self.theme.annotation_pt * (
            1.3 if n_classes <= 3 else 1.0 if n_classes <= 8 else 0.9
        )

    def cell_strings(self) -> list[list[str]]:
        """What is written in each cell, row by row (for tests and tooltips)."""
        return [[text.toPlainText() for text in texts] for texts in self.cell_texts]
