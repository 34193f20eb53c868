"""Training and validation accuracy per evaluation, against the baselines that give them meaning.

An accuracy means nothing until it sits beside what a know-nothing strategy scores: the
zero-rule (always the majority class) and random guessing by the label distribution. On a task
with 94% negatives, 0.94 is the zero-rule, not a success; the dashed grey lines say so.

Accuracy comes with each evaluation, so the curves are redrawn only when one arrives, and at
most four times a second (``EvaluationThrottle``: a fast run evaluates ten times a second).
Every frame only checks (in microseconds) whether the run has outgrown the x range, which
follows the training step in the same 25% jumps as the loss chart so the two stay comparable.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt

from trainscope.gui.panels.base import EvaluationThrottle, Panel, horizontal_reference
from trainscope.gui.panels.ghost_curves import GhostCurves
from trainscope.gui.panels.live_range import LiveRange
from trainscope.gui.panels.markers import MarkerLines

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

MAX_SYMBOL_POINTS = 300
CLOSE_BASELINES = 0.04  # closer than this, one label names both lines (they would overprint)
ACCURACY_BAND = (0.5, 0.15)  # marker labels: under the curves, which climb to the top


class AccuracyPanel(Panel):
    """Train accuracy (full pass, eval mode) and validation accuracy, y fixed to [0, 1]."""

    title = "Accuracy"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.plot_widget = self.make_plot(self.title)
        self.plot = self.plot_widget.getPlotItem()
        self.content_layout.addWidget(self.plot_widget, 1)
        plot = self.plot
        plot.setLabel("bottom", "step")
        plot.setLabel("left", "accuracy")
        plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.live_range = LiveRange(plot, fixed_y=(0.0, 1.0))
        self.add_legend_below(plot)
        self.train_curve = plot.plot(name="train")
        self.validation_curve = plot.plot(name="validation")
        for curve in (self.train_curve, self.validation_curve):
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
        self.zero_rule_line = horizontal_reference(theme, 0.0, "zero-rule", position=0.98)
        self.random_line = horizontal_reference(theme, 0.0, "random", position=0.6)
        for line in (self.zero_rule_line, self.random_line):
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
        self.markers = MarkerLines(
            plot,
            theme,
            band=ACCURACY_BAND,
            avoid=(self.zero_rule_line.label, self.random_line.label),
        )
        self.ghost = GhostCurves(
            plot,
            theme,
            [
                (attrgetter("evaluation_steps"), attrgetter(name), attrgetter(color))
                for name, color in (
                    ("train_accuracy", "train"),
                    ("validation_accuracy", "validation"),
                )
            ],
        )
        self._long = False  # many evaluations: thin lines, no dots
        self.throttle = EvaluationThrottle()
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        palette = theme.palette
        theme.style_plot(self.plot)
        for curve, color in (
            (self.train_curve, palette.train),
            (self.validation_curve, palette.validation),
        ):
            curve.setPen(theme.long_pen(color) if self._long else theme.pen(color))
            curve.setSymbolBrush(color)
            curve.setSymbolPen(palette.background)
            curve.setSymbolSize(theme.px(theme.symbol_size))
        self.zero_rule_line.setPen(theme.reference_pen())
        self.random_line.setPen(
            theme.pen(palette.baseline, theme.reference_width, style=Qt.PenStyle.DotLine)
        )
        for line in (self.zero_rule_line, self.random_line):
            line.label.setFont(theme.font(theme.annotation_pt))
        self.markers.apply_theme(theme)
        self.ghost.apply_theme(theme)
        self.plot.legend.fit()  # the entries took the theme's font size

    def refresh(self, state: RunState) -> None:
        key = (state.run_key, state.evaluation_version, state.markers_version, state.ghost_version)
        if key != self._drawn and not self.throttle.holds(self._drawn, key, evaluation_index=1):
            previous = self._drawn or (None, None, None, None)
            new_run = previous[0] != key[0]  # another run (or RunState): everything is stale
            if new_run:
                self.live_range.reset()
            if new_run or previous[1] != key[1]:
                self._draw_curves(state)
                self._draw_baselines(state)
            if new_run or previous[2] != key[2]:
                self.markers.update(state.markers)
            elif previous[1] != key[1]:
                self.markers.relayout()  # the baseline labels they keep clear of may have moved
            if new_run or previous[3] != key[3]:  # once per rewind: the ghost is static
                self.ghost.update(state.ghost)
            self._drawn = key
        newest = max(float(state.step), self.ghost.last_step or 0.0)  # the "before" in sight
        self.live_range.follow(0.0, newest)  # y is fixed: nothing to scan

    def _draw_curves(self, state: RunState) -> None:
        evaluations = state.evaluations
        steps = evaluations["step"]
        long = len(evaluations) > MAX_SYMBOL_POINTS
        if long != self._long:
            self._long = long
            self.apply_theme(self.theme)  # thin pens for long curves
        symbol = None if long else "o"
        train = evaluations["train_accuracy"]
        scored = bool(len(train)) and not np.isnan(train).all()  # a watched loop's are unknown
        self.train_curve.setVisible(scored or not len(train))
        self.train_curve.setData(*((steps, train) if scored else ([], [])), symbol=symbol)
        self.validation_curve.setData(steps, evaluations["val_accuracy"], symbol=symbol)
        latest = evaluations.last("val_accuracy")
        title = self.title if latest is None else f"validation {latest:.3f}"
        if title != self.plot_title(self.plot):  # a new title text re-lays the plot out
            self.set_plot_title(self.plot, title)

    def _draw_baselines(self, state: RunState) -> None:
        """Baselines come with every evaluation (they depend on the split's label distribution)."""
        evaluation = state.latest_validation
        for line in (self.zero_rule_line, self.random_line):
            line.setVisible(evaluation is not None)
        if evaluation is None:
            return
        zero_rule, random = evaluation.zero_rule_accuracy, evaluation.random_accuracy
        self.zero_rule_line.setValue(zero_rule)
        self.random_line.setValue(random)
        merged = abs(zero_rule - random) < CLOSE_BASELINES
        self.random_line.label.setVisible(not merged)
        self.random_line.label.setFormat(f"random {random:.2f}")
        both = f"zero-rule {zero_rule:.2f} · random {random:.2f}"
        self.zero_rule_line.label.setFormat(both if merged else f"zero-rule {zero_rule:.2f}")

    def baseline_labels(self) -> list[str]:
        """The baseline texts on screen (a label merged into the other one is left out)."""
        lines = (self.zero_rule_line, self.random_line)
        return [line.label.toPlainText() for line in lines if line.label.isVisible()]
