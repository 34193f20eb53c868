"""Reliability diagram: when the model says 80%, is it right 80% of the time?

Points are the observed frequency in each confidence bin against the bin's mean confidence;
the dashed diagonal is perfect calibration, and points below it mean the model is surer than it
should be. The histogram under it shows how many cases each bin holds, because a bin of three
cases says little. Bins, ECE and MCE come ready-made in the evaluation (``Calibration``).

A new evaluation redraws at most four times a second (``EvaluationThrottle``), and only what
moved: axis names change with the task, the histogram's y range only in 1-2-5 steps.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg

from trainscope.gui.panels.base import EvaluationThrottle, Panel

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from trainscope.engine.events import Calibration
    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

AXIS_WIDTH = 56  # both plots share the left axis width so their x axes line up

#: What the diagram bins and how, in the words of ``engine.metrics.reliability_bins`` (which the
#: README's "How calibration is measured" repeats): other tools bin differently, and a student
#: comparing numbers must know which convention these follow.
CALIBRATION_TOOLTIP = (
    "<p>What is binned: with two classes, P(class 1) — the probability of the positive class — "
    "against how often the case really is positive; with more classes, the top-label "
    "confidence (the largest probability) against how often that top label is right.</p>"
    "<p>Ten equal-width bins closed on the right: (0.0, 0.1], (0.1, 0.2] … (0.9, 1.0], with a "
    "probability of exactly 0 in the first bin and exactly 1 in the last — the convention of "
    "scikit-learn's calibration_curve.</p>"
    "<p>ECE: average gap between confidence and accuracy, weighted by bin size. "
    "MCE: the largest gap in any bin.</p>"
    "<p>torchmetrics' calibration error bins closed on the left, [0.0, 0.1) … [0.9, 1.0), with "
    "an extra bin for exactly 1.0, so its ECE and above all its MCE can differ from these when "
    "the model gives probabilities of exactly 1.0.</p>"
)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (1 for 0)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1.0, 2.0, 5.0, 10.0) if step * power >= value)


class ReliabilityPanel(Panel):
    """Calibration of the latest validation evaluation: curve, diagonal, per-bin counts, ECE/MCE."""

    title = "Calibration"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.curve_widget = self.make_plot(self.title)
        self.curve_widget.setToolTip(CALIBRATION_TOOLTIP)
        self.count_widget = self.make_plot()
        self.count_widget.setToolTip(CALIBRATION_TOOLTIP)
        self.content_layout.addWidget(self.curve_widget, 3)
        self.content_layout.addWidget(self.count_widget, 1)
        self.curve_plot = self.curve_widget.getPlotItem()
        self.count_plot = self.count_widget.getPlotItem()
        self._build_items()
        self.calibration: Calibration | None = None
        self.throttle = EvaluationThrottle()
        self._axis_names_for: bool | None = None  # binary or not: what the x axis names say
        self._count_top = 1.0
        self.apply_theme(theme)

    def _build_items(self) -> None:
        curve_plot, count_plot = self.curve_plot, self.count_plot
        for plot in (curve_plot, count_plot):
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            plot.setXRange(0.0, 1.0, padding=0.02)
            plot.getViewBox().setMouseEnabled(x=False, y=False)
            plot.hideButtons()
        curve_plot.setYRange(0.0, 1.0, padding=0.02)
        count_plot.setXLink(curve_plot)
        count_plot.setYRange(0.0, 1.0, padding=0.0)  # moved in 1-2-5 steps by _draw
        curve_plot.addLegend(offset=(10, 10))
        self.diagonal = curve_plot.plot([0.0, 1.0], [0.0, 1.0], name="perfectly calibrated")
        self.curve = curve_plot.plot(name="model")
        self.hint = pg.TextItem("below the diagonal = overconfident", anchor=(1, 1))
        self.hint.setPos(0.98, 0.02)
        curve_plot.addItem(self.hint, ignoreBounds=True)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.09)
        count_plot.addItem(self.bars)

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        palette = theme.palette
        for plot in (self.curve_plot, self.count_plot):
            theme.style_plot(plot)
        self.curve_plot.setLabel("left", "observed frequency", **theme.label_style())
        self.count_plot.setLabel("left", "cases", **theme.label_style())
        self.diagonal.setPen(theme.reference_pen())
        self.curve.setPen(theme.pen(palette.validation))
        self.curve.setSymbol("o")
        self.curve.setSymbolBrush(palette.validation)
        self.curve.setSymbolPen(palette.background)
        self.curve.setSymbolSize(theme.px(theme.symbol_size + 1))
        self.hint.setColor(palette.muted)
        hint_font = theme.font(theme.annotation_pt)
        hint_font.setItalic(True)
        self.hint.setFont(hint_font)
        self.bars.setOpts(brush=palette.histogram, pen=pg.mkPen(palette.muted, width=0.5))
        self._axis_names_for = None  # axis label fonts follow the theme
        self.invalidate()

    def refresh(self, state: RunState) -> None:
        key = (state.run_key, state.evaluation_version)
        if key == self._drawn or self.throttle.holds(self._drawn, key, evaluation_index=1):
            return
        self._drawn = key
        self._name_axes(state.is_binary)
        evaluation = state.latest_validation
        if evaluation is None:
            self.calibration = None
            self.curve.setData([], [])
            self.bars.setOpts(x=[], height=[])
            self._set_title(self.title)
            return
        self._draw(evaluation.calibration)
        self._set_title(self.title_text(evaluation.calibration))

    def _name_axes(self, binary: bool) -> None:
        """Axis names re-lay both plots out: set them only when the kind of task changes."""
        if binary == self._axis_names_for:
            return
        self._axis_names_for = binary
        x_label = "predicted P(positive)" if binary else "confidence (top-label)"
        self.count_plot.setLabel("bottom", x_label, **self.theme.label_style())
        self.curve_plot.setLabel("bottom", x_label, **self.theme.label_style())
        self.curve_plot.getAxis("bottom").showLabel(False)  # the histogram under it names the axis

    def _set_title(self, text: str) -> None:
        if text != self.plot_title(self.curve_plot):
            self.set_plot_title(self.curve_plot, text)

    def _draw(self, calibration: Calibration) -> None:
        self.calibration = calibration
        counts = np.asarray(calibration.counts, dtype=np.float64)
        filled = counts > 0
        self.curve.setData(
            np.asarray(calibration.mean_confidence)[filled],
            np.asarray(calibration.observed_frequency)[filled],
        )
        edges = np.asarray(calibration.bin_edges, dtype=np.float64)
        centres = (edges[:-1] + edges[1:]) / 2.0
        width = float(np.min(np.diff(edges))) * 0.9 if len(edges) > 1 else 0.09
        self.bars.setOpts(x=centres, height=counts, width=width)
        top = nice_ceiling(float(counts.max()) if counts.size else 0.0)
        if top != self._count_top:  # a steady histogram keeps its axis (no re-tick, no relayout)
            self._count_top = top
            self.count_plot.setYRange(0.0, top, padding=0.02)

    def title_text(self, calibration: Calibration) -> str:
        """The calibration errors in the title, where the eye lands first."""
        return f"{self.title} — ECE {calibration.ece:.3f} · MCE {calibration.mce:.3f}"
