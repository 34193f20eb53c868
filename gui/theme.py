"""Colours, fonts and line widths in one place, so every panel looks like part of one app.

The palette is Okabe-Ito (safe for the common colour-vision deficiencies): train is blue and
validation orange everywhere, so a student learns the colour once. ``scale`` follows the
interface-size shortcut (Ctrl+= / Ctrl+-); ``classroom`` is for projectors seen from the back
row: larger fonts, thicker lines, black on white, and every colour darkened until it keeps at
least 3.5:1 contrast against white (a projector washes out light colours first: Okabe-Ito's
orange is only 2.3:1, which reads as a faint yellow line from the back of a room).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPen

MIN_SCALE = 0.6
MAX_SCALE = 3.0


@dataclass(frozen=True)
class Palette:
    """Named colours (hex strings) for what a chart shows, not for where it is drawn."""

    background: str = "#ffffff"
    foreground: str = "#333333"
    muted: str = "#777777"
    grid_alpha: float = 0.15
    train: str = "#0072B2"  # blue
    train_raw: str = "#56B4E9"  # sky blue: the noisy per-batch curve under the smoothed one
    validation: str = "#E69F00"  # orange
    test: str = "#009E73"  # bluish green
    baseline: str = "#8c8c8c"  # grey, dashed
    marker: str = "#882E72"  # purple
    best: str = "#009E73"  # green: the early-stopping point
    diverged: str = "#D55E00"  # vermillion, reads as red
    rewind: str = "#555555"
    precision: str = "#0072B2"
    recall: str = "#E69F00"
    f1: str = "#009E73"
    cost: str = "#CC79A7"
    operating_point: str = "#D55E00"
    hint: str = "#CC79A7"  # reddish purple: a diagnosis hint's step on the time charts
    histogram: str = "#b7c9dd"
    error_text: str = "#c0392b"
    heatmap: str = "viridis"
    #: One colour per class (decision boundary, mistakes): Okabe-Ito first, class 0 orange and
    #: class 1 blue as in TensorFlow Playground, so a two-class boundary reads orange–white–blue.
    classes: tuple[str, ...] = (
        "#E69F00",
        "#0072B2",
        "#009E73",
        "#CC79A7",
        "#D55E00",
        "#56B4E9",
        "#882E72",
        "#8C564B",
        "#555555",
        "#BBAA00",
    )

    def class_color(self, index: int) -> str:
        """The colour of class ``index`` (colours repeat past the tenth class)."""
        return self.classes[index % len(self.classes)]


#: The same hues, darker: each colour has at least 3.5:1 contrast on white (the normal palette's
#: orange and sky blue have 2.3:1), and grid lines are strong enough to survive a projector.
CLASSROOM_PALETTE = Palette(
    foreground="#000000",
    muted="#333333",
    grid_alpha=0.3,
    train="#005A8C",
    train_raw="#3A8FC7",
    validation="#C26A00",
    test="#007A5A",
    baseline="#555555",
    marker="#6E2160",
    best="#007A5A",
    diverged="#B3001B",
    rewind="#333333",
    precision="#005A8C",
    recall="#C26A00",
    f1="#007A5A",
    cost="#A8447F",
    operating_point="#B3001B",
    hint="#A8447F",
    histogram="#8FA8C4",
    error_text="#B3001B",
)


@dataclass(frozen=True)
class Theme:
    """Sizes are in points / pixels at scale 1.0; read them through the scaled properties."""

    scale: float = 1.0
    classroom: bool = False
    palette: Palette = Palette()
    base_font_pt: float = 9.5
    title_font_pt: float = 11.0
    axis_label_pt: float = 9.5
    tick_font_pt: float = 8.5
    annotation_pt: float = 9.0
    curve_width: float = 2.0  # short series: evaluations, smoothed/decimated curves
    long_width: float = 1.0  # long series (raw per-step loss): thick pens cost a lot here
    reference_width: float = 1.5
    symbol_size: float = 7.0

    @classmethod
    def for_scale(cls, scale: float = 1.0, classroom: bool = False) -> Theme:
        """The theme for an interface size; classroom mode enlarges and thickens everything."""
        scale = min(max(float(scale), MIN_SCALE), MAX_SCALE)
        if not classroom:
            return cls(scale=scale)
        return cls(
            scale=scale,
            classroom=True,
            palette=CLASSROOM_PALETTE,
            base_font_pt=14.0,
            title_font_pt=17.0,
            axis_label_pt=14.0,
            tick_font_pt=13.0,
            annotation_pt=13.5,
            curve_width=4.0,
            long_width=1.5,
            reference_width=2.5,
            symbol_size=12.0,
        )

    def scaled(self, factor: float) -> Theme:
        """The same theme at ``scale * factor`` (what Ctrl+= / Ctrl+- ask for)."""
        return replace(self, scale=min(max(self.scale * factor, MIN_SCALE), MAX_SCALE))

    # --- sizes ---------------------------------------------------------------------------
    def pt(self, size: float) -> float:
        """A font size scaled to the interface size."""
        return round(size * self.scale, 1)

    def px(self, size: float) -> float:
        """A line width or symbol size scaled to the interface size (never below 1)."""
        return max(1.0, size * self.scale)

    def font(self, size: float | None = None, bold: bool = False) -> QFont:
        font = QFont()
        font.setPointSizeF(self.pt(size if size is not None else self.base_font_pt))
        font.setBold(bold)
        return font

    def css_size(self, size: float) -> str:
        """A scaled font size in the form pyqtgraph's labels and titles accept."""
        return f"{self.pt(size)}pt"

    # --- pens ----------------------------------------------------------------------------
    def pen(
        self, color: str, width: float | None = None, style: Qt.PenStyle = Qt.PenStyle.SolidLine
    ) -> QPen:
        """A cosmetic pen; ``width`` None means the width for short curves."""
        return pg.mkPen(color=color, width=self.px(width or self.curve_width), style=style)

    def long_pen(self, color: str) -> QPen:
        """Width-1 pen for series that grow with the run (see PERF-NOTES: thick pens cost 20x)."""
        return pg.mkPen(color=color, width=self.long_width if self.classroom else 1.0)

    def reference_pen(self, color: str | None = None) -> QPen:
        """Dashed pen for baselines and reference lines (chance, zero-rule, the diagonal)."""
        return self.pen(color or self.palette.baseline, self.reference_width, Qt.PenStyle.DashLine)

    def marker_pen(self, color: str | None = None) -> QPen:
        """Dotted pen for vertical event markers (setting changes, rewinds, the best step)."""
        return self.pen(color or self.palette.marker, self.reference_width, Qt.PenStyle.DotLine)

    def ghost_pen(self, color: str) -> QPen:
        """Faded, dashed pen for the curves a rewind cut off: the same colour, clearly "before".

        Fainter than the live curves but not so faint that a projector loses it (classroom
        mode keeps more of the colour); as thin as the long live curves, which are width 1.
        """
        return pg.mkPen(
            color=self.brush(color, 150 if self.classroom else 110),
            width=self.long_width if self.classroom else 1.0,
            style=Qt.PenStyle.DashLine,
        )

    def brush(self, color: str, alpha: int = 255) -> QColor:
        qcolor = QColor(color)
        qcolor.setAlpha(alpha)
        return qcolor

    def style_plot(self, plot: pg.PlotItem, title: str | None = None) -> None:
        """Fonts, colours and grid of one plot; called on creation and on every theme change.

        ``title`` None keeps the plot's current title text (panels put live numbers in it).
        """
        foreground = self.palette.foreground
        for name in ("left", "bottom", "right", "top"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(foreground, width=1))
            axis.setTextPen(pg.mkPen(foreground))
            # maxTickLevel 0: major ticks and grid only; the minor grid tripled a frame's paint
            axis.setStyle(
                tickFont=self.font(self.tick_font_pt),
                tickTextOffset=int(self.px(4)),
                maxTickLevel=0,
            )
            without_si_prefix(axis)
            if axis.labelText:
                axis.setLabel(axis.labelText, units=axis.labelUnits, **self.label_style())
        plot.showGrid(x=True, y=True, alpha=self.palette.grid_alpha)
        title = title if title is not None else plot.titleLabel.text  # restyle the current one
        if title:
            self.set_title(plot, title)
        if plot.legend is not None:
            self.style_legend(plot.legend)

    def style_legend(self, legend: pg.LegendItem) -> None:
        """Readable legend on a light, almost opaque box; pyqtgraph only restyles new entries."""
        if legend.opts.get("offset") is not None:  # floating over data: give it a backing
            legend.setBrush(self.brush(self.palette.background, 225))
            legend.setPen(pg.mkPen(self.palette.muted, width=0.5))
        legend.setLabelTextSize(self.css_size(self.annotation_pt))
        legend.setLabelTextColor(self.palette.foreground)
        for _, label in legend.items:
            label.setText(
                label.text, color=self.palette.foreground, size=self.css_size(self.annotation_pt)
            )

    def set_title(self, plot: pg.PlotItem, text: str) -> None:
        """Set a plot's title in the theme's title font and colour."""
        plot.setTitle(text, color=self.palette.foreground, size=self.css_size(self.title_font_pt))

    def label_style(self) -> dict[str, str]:
        """Keyword arguments for ``AxisItem.setLabel`` (HTML style of the axis title)."""
        return {"color": self.palette.foreground, "font-size": self.css_size(self.axis_label_pt)}

    def label_stylesheet(self, size: float | None = None, color: str | None = None) -> str:
        """Stylesheet for a QLabel in a panel (readouts, hints, the error line)."""
        size_pt = self.pt(size if size is not None else self.base_font_pt)
        return f"color: {color or self.palette.foreground}; font-size: {size_pt}pt;"


def without_si_prefix(axis: pg.AxisItem) -> None:
    """Ticks in the data's own units: no automatic SI prefix, and no scale left over from one.

    An "(x1e+12)" after an axis title confuses students, so the prefix is off. pyqtgraph's
    ``enableAutoSIPrefix(False)`` still recomputes the prefix's scale (it checks only that the
    label is visible) and the ticks keep using it with nothing shown: a loss axis read 0-800.
    """
    axis.enableAutoSIPrefix(False)
    if axis.autoSIPrefixScale != 1.0 or axis.labelUnitPrefix:
        axis.autoSIPrefixScale, axis.labelUnitPrefix = 1.0, ""
        axis._updateLabel()  # pyqtgraph's own refresh of the label and the tick picture
