"""Decision threshold and error costs: what each choice buys and costs.

Two classes: class 1 is positive. More classes: one-vs-rest, the picked class against all others
(``RunState.positive_class``, chosen at a run's first evaluation, then the user's); the threshold
changes only this view, every other panel keeps the arg-max predictions.

Everything here works from the latest validation evaluation's cached probabilities. A
``ThresholdTable`` is built once per evaluation (one sort) and the sweep curves once per
evaluation or cost change; dragging the threshold then only moves lines and points and rewrites
the readout (one ``searchsorted``), so the slider stays smooth however large the split.

The panel is one-way: it emits ``threshold_changed`` / ``costs_changed`` and the window applies
them to ``RunState``, whose ``threshold_version`` brings the new value back on the next frame.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from trainscope.engine.metrics import (
    ThresholdPoint,
    ThresholdSweep,
    ThresholdTable,
    average_precision,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)
from trainscope.gui.flow_layout import FlowLayout
from trainscope.gui.panels.base import EvaluationThrottle, Panel
from trainscope.gui.panels.threshold_charts import ThresholdCharts

if TYPE_CHECKING:
    import pyqtgraph as pg

    from trainscope.engine.events import Evaluation
    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

SWEEP_THRESHOLDS = np.linspace(0.0, 1.0, 201)
SLIDER_STEPS = 100  # the slider moves in 0.01 steps; the spin box takes exact values
SWEEP_TITLE = "Metrics vs threshold"
NO_RUN_MESSAGE = "Waiting for a run to start"


class ThresholdPanel(ThresholdCharts, Panel):
    """Threshold slider and costs, a readout, metric-vs-threshold, ROC and PR curves."""

    title = "Threshold"
    threshold_changed = Signal(float)
    costs_changed = Signal(float, float)
    positive_class_changed = Signal(int)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.stack = QStackedWidget()
        self.message = QLabel(NO_RUN_MESSAGE)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.stack.addWidget(self.message)
        self.stack.addWidget(self._build_analysis())
        self.content_layout.addWidget(self.stack, 1)
        self.table: ThresholdTable | None = None
        self.sweep: ThresholdSweep | None = None
        self.point: ThresholdPoint | None = None
        self.min_cost_threshold: float | None = None
        self.min_cost = math.nan
        self._evaluation: Evaluation | None = None
        self._positive: int | None = None  # the class the table and curves were built for
        self._picker_names: tuple[str, ...] = ()  # the classes listed (none for two classes)
        self.positive_name = ""  # "" for two classes, else the one-vs-rest class's name
        self._costs: tuple[float, float] | None = None
        self.throttle = EvaluationThrottle()  # a drag (threshold_version) is never held back
        self._connect()
        self.apply_theme(theme)

    def _build_analysis(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_controls())
        self.readout = QLabel("waiting for the first evaluation")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setWordWrap(True)
        layout.addWidget(self.readout)
        plots = QHBoxLayout()
        self.sweep_widget = self.make_plot(SWEEP_TITLE)
        self.roc_widget = self.make_plot("ROC")
        self.pr_widget = self.make_plot("Precision–recall")
        plots.addWidget(self.sweep_widget, 2)
        plots.addWidget(self.roc_widget, 1)
        plots.addWidget(self.pr_widget, 1)
        layout.addLayout(plots, 1)
        self._build_sweep_plot()
        self._build_curve_plots()
        return page

    def _build_controls(self) -> QVBoxLayout:
        """The threshold on the first row; the positive class, the two costs and the button
        after it, wrapping onto more lines where the panel is narrow (a laptop)."""
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setValue(SLIDER_STEPS // 2)
        self.slider.setToolTip(
            "Cases with P(positive) at or above the threshold count as positive."
        )
        self.threshold_spin = _spin(1.0, 0.01, 3, 0.5)
        self.cost_fp_spin = _spin(1e6, 1.0, 2, 1.0)
        self.cost_fn_spin = _spin(1e6, 1.0, 2, 1.0)
        self.cost_fp_spin.setToolTip("What one false alarm costs (e.g. a needless review).")
        self.cost_fn_spin.setToolTip("What one miss costs (e.g. an undetected fraud).")
        self.min_cost_button = QPushButton("go to lowest cost")
        self.min_cost_button.setToolTip("Move the threshold to where the expected cost is lowest.")
        texts = ("threshold", "cost of a false positive", "cost of a false negative", "positive")
        self.control_labels = [QLabel(text) for text in texts]
        self.class_picker = QComboBox()
        self.class_picker.setToolTip(
            "One-vs-rest: cases of this class are positive, all other classes negative. The "
            "threshold changes only this view; predictions elsewhere stay the most probable class."
        )
        self.class_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.control_labels[0])
        threshold_row.addWidget(self.slider, 1)
        threshold_row.addWidget(self.threshold_spin)
        self.picker_unit = _unit(self.control_labels[3], self.class_picker)
        rest = FlowLayout()
        rest.addWidget(self.picker_unit)
        rest.addWidget(_unit(self.control_labels[1], self.cost_fp_spin))
        rest.addWidget(_unit(self.control_labels[2], self.cost_fn_spin))
        rest.addWidget(self.min_cost_button)
        self._show_class_picker(False)
        controls = QVBoxLayout()
        controls.addLayout(threshold_row)
        controls.addLayout(rest)
        return controls

    def _connect(self) -> None:
        self.slider.valueChanged.connect(self._on_slider_moved)
        self.threshold_spin.valueChanged.connect(self._on_threshold_typed)
        self.threshold_line.sigPositionChanged.connect(self._on_line_dragged)
        self.cost_fp_spin.valueChanged.connect(self._on_cost_edited)
        self.cost_fn_spin.valueChanged.connect(self._on_cost_edited)
        self.min_cost_button.clicked.connect(self._on_min_cost_clicked)
        self.class_picker.currentIndexChanged.connect(self._on_class_picked)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        palette = theme.palette
        for plot in (self.sweep_plot, self.roc_plot, self.pr_plot):
            theme.style_plot(plot)
        cost_axis_style = {"color": palette.cost, "font-size": theme.css_size(theme.axis_label_pt)}
        cost_axis = self.sweep_plot.getAxis("right")
        cost_axis.setLabel("expected cost per case", **cost_axis_style)
        cost_axis.setGrid(False)  # its lines would cross the left axis's grid at other heights
        cost_axis.setStyle(maxTickLevel=1)
        self._style_curves(theme)
        self.message.setStyleSheet(theme.label_stylesheet(theme.title_font_pt, palette.muted))
        self.readout.setStyleSheet(theme.label_stylesheet(theme.base_font_pt + 1))
        for label in self.control_labels:
            label.setStyleSheet(theme.label_stylesheet())
        self.invalidate()

    @Slot(int)
    def _on_slider_moved(self, value: int) -> None:
        threshold = value / SLIDER_STEPS
        with QSignalBlocker(self.threshold_spin):
            self.threshold_spin.setValue(threshold)
        self.threshold_changed.emit(threshold)

    @Slot(float)
    def _on_threshold_typed(self, value: float) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(round(value * SLIDER_STEPS))
        self.threshold_changed.emit(float(value))

    @Slot(object)
    def _on_line_dragged(self, line: pg.InfiniteLine) -> None:
        threshold = round(min(max(float(self.threshold_line.value()), 0.0), 1.0), 3)
        with QSignalBlocker(self.slider), QSignalBlocker(self.threshold_spin):
            self.slider.setValue(round(threshold * SLIDER_STEPS))
            self.threshold_spin.setValue(threshold)
        self.threshold_changed.emit(threshold)

    @Slot(float)
    def _on_cost_edited(self, _value: float) -> None:
        self.costs_changed.emit(float(self.cost_fp_spin.value()), float(self.cost_fn_spin.value()))

    @Slot()
    def _on_min_cost_clicked(self) -> None:
        if self.min_cost_threshold is not None:
            self.threshold_changed.emit(self.min_cost_threshold)

    @Slot(int)
    def _on_class_picked(self, index: int) -> None:
        if index >= 0:
            self.positive_class_changed.emit(index)

    def refresh(self, state: RunState) -> None:
        positive = state.positive_class
        key = (state.run_key, state.evaluation_version, state.threshold_version, positive)
        if key == self._drawn or self.throttle.holds(self._drawn, key, evaluation_index=1):
            return
        self._drawn = key
        has_run = state.run is not None
        self.stack.setCurrentIndex(1 if has_run else 0)
        # The hidden analysis page must not keep the dock 665 px wide around one sentence.
        horizontal = QSizePolicy.Policy.Preferred if has_run else QSizePolicy.Policy.Ignored
        self.stack.widget(1).setSizePolicy(horizontal, QSizePolicy.Policy.Preferred)
        if not has_run:
            return
        self._sync_class_picker(state)
        evaluation = state.latest_validation
        costs = (state.cost_fp, state.cost_fn)
        new_view = evaluation is not self._evaluation or positive != self._positive
        if new_view:
            self._on_new_evaluation(evaluation, positive)
        if new_view or costs != self._costs:
            self._on_costs(*costs)
        self._show_threshold(state.threshold)

    def _sync_class_picker(self, state: RunState) -> None:
        """List the run's classes (only with more than two) and show its positive one."""
        names = state.class_names if state.n_classes > 2 else ()
        if names != self._picker_names:
            self._picker_names = names
            with QSignalBlocker(self.class_picker):
                self.class_picker.clear()
                self.class_picker.addItems(list(names))
            self._show_class_picker(bool(names))
        positive = state.positive_class
        index = positive if names and positive is not None else -1
        self.positive_name = names[index] if index >= 0 else ""
        if self.class_picker.currentIndex() != index:
            with QSignalBlocker(self.class_picker):
                self.class_picker.setCurrentIndex(index)

    def _show_class_picker(self, visible: bool) -> None:
        self.picker_unit.setVisible(visible)

    def _on_new_evaluation(self, evaluation: Evaluation | None, positive: int | None) -> None:
        """Once per evaluation or positive class: sort the scores, draw ROC and PR curves."""
        self._evaluation, self._positive = evaluation, positive
        versus = f"positive: {self.positive_name} vs rest" if self.positive_name else ""
        self.set_plot_title(self.sweep_plot, f"{SWEEP_TITLE} — {versus}" if versus else SWEEP_TITLE)
        if evaluation is None or positive is None:
            self.table = self.sweep = self.point = self.min_cost_threshold = None
            for curve in self._data_items():
                curve.setData([], [])
            self.readout.setText("waiting for the first evaluation")
            return
        # One-vs-rest: P(class k) against "is it class k?"; for two classes k = 1, as always.
        scores = evaluation.probabilities[:, positive]
        labels = (evaluation.labels == positive).astype(np.int64)
        self.table = ThresholdTable.from_scores(scores, labels)
        fpr, tpr, _ = roc_curve(scores, labels)
        precision, recall, _ = precision_recall_curve(scores, labels)
        self.roc_curve.setData(fpr, tpr)
        self.pr_curve.setData(recall, precision)
        auc, ap = roc_auc(scores, labels), average_precision(scores, labels)
        self.rename_legend_entry(self.roc_plot, self.roc_curve, f"ROC, AUC {auc:.3f}")
        self.rename_legend_entry(self.pr_plot, self.pr_curve, f"PR, AP {ap:.3f}")
        positive_rate = self.table.n_positive / self.table.n_cases if self.table.n_cases else 0.0
        self.pr_baseline.setValue(positive_rate)
        self.pr_baseline.label.setFormat(f"random {positive_rate:.2f}")

    def _data_items(self) -> list[pg.PlotDataItem]:
        sweep = [self.precision_curve, self.recall_curve, self.f1_curve, self.cost_curve]
        return [self.roc_curve, self.pr_curve, self.roc_point, self.pr_point, *sweep]

    def _on_costs(self, cost_fp: float, cost_fn: float) -> None:
        """Once per evaluation or cost change: the sweep curves and the lowest-cost threshold."""
        self._costs = (cost_fp, cost_fn)
        self._sync_costs(cost_fp, cost_fn)
        if self.table is None:
            return
        sweep = self.sweep = self.table.sweep(SWEEP_THRESHOLDS, cost_fp, cost_fn)
        self.precision_curve.setData(sweep.thresholds, sweep.precision)
        self.recall_curve.setData(sweep.thresholds, sweep.recall)
        self.f1_curve.setData(sweep.thresholds, sweep.f1)
        self.cost_curve.setData(sweep.thresholds, sweep.expected_cost)
        top = float(np.max(sweep.expected_cost)) if sweep.expected_cost.size else 1.0
        self.cost_view.setYRange(0.0, top if top > 0 else 1.0, padding=0.05)
        best = self.table.central_cost_threshold(cost_fp, cost_fn)  # mid-run among ties
        self.min_cost_threshold = best
        self.min_cost = self.table.at(best, cost_fp, cost_fn).expected_cost
        self.min_cost_line.setValue(self.min_cost_threshold)
        self.min_cost_line.label.setFormat(f"lowest cost {self.min_cost_threshold:.2f}")
        self._sync_cost_view()

    def _sync_costs(self, cost_fp: float, cost_fn: float) -> None:
        with QSignalBlocker(self.cost_fp_spin), QSignalBlocker(self.cost_fn_spin):
            self.cost_fp_spin.setValue(cost_fp)
            self.cost_fn_spin.setValue(cost_fn)

    def _show_threshold(self, threshold: float) -> None:
        """The cheap part, run on every slider move: one searchsorted, two points, one label."""
        with (
            QSignalBlocker(self.slider),
            QSignalBlocker(self.threshold_spin),
            QSignalBlocker(self.threshold_line),
        ):
            self.slider.setValue(round(threshold * SLIDER_STEPS))
            self.threshold_spin.setValue(threshold)
            self.threshold_line.setValue(threshold)
        self.threshold_line.label.valueChanged()  # the label listens to the blocked signal
        if self.table is None or self._costs is None:
            return
        point = self.point = self.table.at(threshold, *self._costs)
        negatives = point.fp + point.tn
        fpr = point.fp / negatives if negatives else math.nan
        self.roc_point.setData([fpr], [point.recall])
        self.pr_point.setData([point.recall], [point.precision])
        readout = self.readout_html(point)
        if readout != self.readout.text():  # a word-wrapped label re-lays the panel out
            self.readout.setText(readout)

    def readout_html(self, point: ThresholdPoint) -> str:
        """The numbers at the threshold, each in its curve's colour (the readout is the legend)."""
        palette = self.theme.palette

        def coloured(color: str, text: str) -> str:
            return f'<span style="color:{color}">■ {text}</span>'

        versus = f"<b>positive: {self.positive_name} vs rest</b> —" if self.positive_name else ""
        parts = [
            *([versus] if versus else []),
            f"<b>at threshold {point.threshold:.2f}</b>:",
            coloured(palette.precision, f"precision {point.precision:.3f}"),
            coloured(palette.recall, f"recall {point.recall:.3f}"),
            coloured(palette.f1, f"F1 {point.f1:.3f}"),
            coloured(palette.cost, f"expected cost {point.expected_cost:.3f} per case"),
        ]
        if self.min_cost_threshold is not None:
            best = f"lowest cost {self.min_cost:.3f} at threshold {self.min_cost_threshold:.2f}"
            parts.append(f"&nbsp;— {best}")
        return " &nbsp; ".join(parts)


def _spin(high: float, step: float, decimals: int, value: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0, high)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    spin.setValue(value)
    spin.setKeyboardTracking(False)  # typing "0.35" should not fire for "0." and "0.3" first
    return spin


def _unit(label: QLabel, field: QWidget) -> QWidget:
    """A label and its field kept on one line when the row wraps."""
    unit = QWidget()
    layout = QHBoxLayout(unit)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(label)
    layout.addWidget(field)
    return unit
