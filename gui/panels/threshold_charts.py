"""How the threshold panel's three charts are built and styled (the panel decides what they show).

Split from ``threshold_panel`` so that file holds what the panel does with an evaluation, the
threshold and the positive class; this one holds the pyqtgraph items it does it with: the
metric-vs-threshold chart with its second (cost) axis and two vertical lines, and the ROC and
precision-recall charts with their operating points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot

from trainscope.gui.panels.base import horizontal_reference

if TYPE_CHECKING:
    from trainscope.gui.theme import Theme


class ThresholdCharts:
    """Mixed into ``ThresholdPanel``: expects ``sweep_widget``, ``roc_widget``, ``pr_widget``
    (from ``Panel.make_plot``) and ``theme``, and adds the plots, curves and lines on them."""

    sweep_widget: pg.PlotWidget
    roc_widget: pg.PlotWidget
    pr_widget: pg.PlotWidget
    theme: Theme

    def _build_sweep_plot(self) -> None:
        plot = self.sweep_plot = self.sweep_widget.getPlotItem()
        plot.setLabel("bottom", "threshold")
        plot.setLabel("left", "precision · recall · F1")
        plot.setXRange(0.0, 1.0, padding=0.02)
        plot.setYRange(0.0, 1.0, padding=0.02)
        plot.getViewBox().setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        self.precision_curve, self.recall_curve, self.f1_curve = (plot.plot() for _ in range(3))
        self.cost_view = pg.ViewBox(enableMouse=False)
        plot.showAxis("right")
        plot.scene().addItem(self.cost_view)
        plot.getAxis("right").linkToView(self.cost_view)
        plot.setLabel("right", "expected cost per case")
        self.cost_view.setXLink(plot)
        self.cost_curve = pg.PlotDataItem()
        self.cost_view.addItem(self.cost_curve)
        plot.getViewBox().sigResized.connect(self._sync_cost_view)
        self.min_cost_line = pg.InfiniteLine(
            angle=90, label="lowest cost", labelOpts={"position": 0.1, "fill": (255, 255, 255, 210)}
        )
        plot.addItem(self.min_cost_line, ignoreBounds=True)
        self.threshold_line = pg.InfiniteLine(
            pos=0.5,
            angle=90,
            movable=True,
            bounds=(0.0, 1.0),
            label="{value:.2f}",
            labelOpts={"position": 0.93, "fill": (255, 255, 255, 210)},
        )
        plot.addItem(self.threshold_line, ignoreBounds=True)

    def _build_curve_plots(self) -> None:
        roc = self.roc_plot = self.roc_widget.getPlotItem()
        pr = self.pr_plot = self.pr_widget.getPlotItem()
        roc.setLabel("bottom", "false positive rate")
        roc.setLabel("left", "true positive rate")
        pr.setLabel("bottom", "recall")
        pr.setLabel("left", "precision")
        for plot in (roc, pr):
            plot.setXRange(0.0, 1.0, padding=0.02)
            plot.setYRange(0.0, 1.0, padding=0.02)
            plot.getViewBox().setMouseEnabled(x=False, y=False)
            plot.hideButtons()
        roc.addLegend(offset=(-10, -10))
        pr.addLegend(offset=(10, -10))
        self.roc_diagonal = roc.plot([0.0, 1.0], [0.0, 1.0])
        self.roc_curve = roc.plot(name="ROC")
        self.roc_point = roc.plot(name="at threshold")
        self.pr_baseline = horizontal_reference(self.theme, 0.0, "random", position=0.02)
        pr.addItem(self.pr_baseline, ignoreBounds=True)
        self.pr_curve = pr.plot(name="PR")
        self.pr_point = pr.plot(name="at threshold")

    def _style_curves(self, theme: Theme) -> None:
        palette = theme.palette
        colours = [
            palette.precision,
            palette.recall,
            palette.f1,
            palette.validation,
            palette.validation,
        ]
        curves = [
            self.precision_curve,
            self.recall_curve,
            self.f1_curve,
            self.roc_curve,
            self.pr_curve,
        ]
        for curve, colour in zip(curves, colours, strict=True):
            curve.setPen(theme.pen(colour))
        self.cost_curve.setPen(theme.pen(palette.cost, style=Qt.PenStyle.DashLine))
        self.roc_diagonal.setPen(theme.reference_pen())
        self.pr_baseline.setPen(theme.reference_pen())
        for point in (self.roc_point, self.pr_point):
            point.setPen(None)
            point.setSymbol("o")
            point.setSymbolBrush(palette.operating_point)
            point.setSymbolPen(palette.foreground)
            point.setSymbolSize(theme.px(theme.symbol_size * 1.8))
        width = theme.reference_width
        self.threshold_line.setPen(theme.pen(palette.operating_point, width + 0.5))
        self.threshold_line.setHoverPen(theme.pen(palette.operating_point, width + 2))
        self.min_cost_line.setPen(theme.marker_pen(palette.cost))
        lines = [self.threshold_line, self.min_cost_line, self.pr_baseline]
        for line, colour in zip(
            lines, [palette.operating_point, palette.cost, palette.muted], strict=True
        ):
            line.label.setColor(colour)
            line.label.setFont(theme.font(theme.annotation_pt))

    @Slot()
    def _sync_cost_view(self) -> None:
        """Keep the cost axis's view box exactly over the main one (pyqtgraph's two-axis recipe)."""
        main_view = self.sweep_plot.getViewBox()
        self.cost_view.setGeometry(main_view.sceneBoundingRect())
        self.cost_view.linkedViewChanged(main_view, self.cost_view.XAxis)
