"""Decision boundary: what the model predicts everywhere on the data's plane, under the points.

The picture students know from TensorFlow Playground: for two classes the colour is P(class 1)
(orange for class 0, white where the model cannot tell, blue for class 1) and the line is where
P(class 1) crosses the threshold the student set, so dragging the threshold moves the line at
once; for more classes the colour is the predicted class, paler where the model is less sure,
and the lines are the borders between classes. Training points are filled dots, validation
points hollow. Data with more than two features is drawn over a slice through input space,
which the note under the plot says in words.

Cheap by design: the view range is fixed from the ``DataView`` (no autorange per frame); the
points are set once per data view, the image once per ``DecisionBoundary``, and the contour —
a vectorized marching squares — once per boundary or threshold change.

A changed data knob in the Setup panel shows its new points here at once (``show_preview``),
labelled as a preview until a run on them starts.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QWidget

from trainscope.gui.contour import contour_segments
from trainscope.gui.panels.base import Panel

if TYPE_CHECKING:
    from trainscope.engine import events as ev
    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

PREVIEW_TITLE = "preview — press Apply to train on these"
WASH = 0.55  # the image's strongest colour is this share of the class colour over white
CONTOUR_COLOR = "#222222"


def diverging_lut(low: str, high: str, wash: float = WASH) -> np.ndarray:
    """(256, 3) uint8: ``low`` colour at 0, white at the middle, ``high`` at 1, washed towards
    white so the points drawn on top stay readable."""
    ramp = np.linspace(-1.0, 1.0, 256)[:, None]
    white = np.full(3, 255.0)
    low_rgb, high_rgb = _rgb(low), _rgb(high)
    strength = np.abs(ramp) * wash
    target = np.where(ramp < 0, low_rgb, high_rgb)
    return np.round(white + (target - white) * strength).astype(np.uint8)


def class_image(
    predicted: np.ndarray, confidence: np.ndarray, colors: list[str], wash: float = WASH
) -> np.ndarray:
    """(rows, cols, 3) uint8: each cell in its predicted class's colour, paler when less sure.

    Confidence runs from 1/K (a guess) to 1; a guess is white, certainty the washed class colour.
    """
    n_classes = len(colors)
    palette = np.array([_rgb(color) for color in colors])
    chance = 1.0 / n_classes
    sureness = np.clip((confidence.astype(np.float64) - chance) / (1.0 - chance), 0.0, 1.0)
    strength = (sureness * wash)[..., None]
    target = palette[np.clip(predicted, 0, n_classes - 1)]
    return np.round(255.0 + (target - 255.0) * strength).astype(np.uint8)


def smoothed(mask: np.ndarray) -> np.ndarray:
    """A 0/1 mask averaged over each cell's 3 x 3 neighbourhood: its 0.5 contour follows a
    class's region with diagonal lines instead of the grid's staircase."""
    padded = np.pad(mask.astype(np.float32), 1, mode="edge")
    rows, cols = mask.shape
    total = sum(padded[row : row + rows, col : col + cols] for row in range(3) for col in range(3))
    return total / 9.0


def _rgb(color: str) -> np.ndarray:
    qcolor = QColor(color)
    return np.array([qcolor.red(), qcolor.green(), qcolor.blue()], dtype=np.float64)


#: A watched loop's training rows are its own (``trainscope.watch``): there are none to draw.
OWN_LOOP_BOUNDARY = (
    "Your own training loop keeps its training rows to itself, so there is no boundary to draw "
    "here; trainscope.show trains your model in TrainScope's loop and draws it."
)


class BoundaryPanel(Panel):
    """The boundary image, its contour, and the training / validation points on the plane."""

    title = "Decision boundary"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.plot_widget = self.make_plot(self.title)
        self.plot = self.plot_widget.getPlotItem()
        self.content_layout.addWidget(self.plot_widget, 1)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.contour = pg.PlotCurveItem(connect="pairs")
        self.train_points = pg.ScatterPlotItem()
        self.validation_points = pg.ScatterPlotItem()
        for item in (self.image, self.contour, self.train_points, self.validation_points):
            self.plot.addItem(item)
        view_box = self.plot.getViewBox()
        view_box.setMouseEnabled(x=False, y=False)
        view_box.disableAutoRange()
        self.plot.hideButtons()
        self.legend_label = QLabel()
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        for label in (self.legend_label, self.note_label, self.message_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.content_layout.addWidget(label)
        self.preview: ev.DataView | None = None
        self.preview_error: str | None = None
        self._preview_classes: tuple[str, ...] = ()
        self._preview_version = 0
        self._preview_for: tuple | None = None  # the run's data view the preview replaces
        self.apply_theme(theme)

    # --- the preview of pending data knobs -----------------------------------------------
    def show_preview(self, view: ev.DataView, class_names: tuple[str, ...]) -> None:
        """Show these points (data the Setup panel would train on) until a new run starts."""
        self.preview, self._preview_classes, self.preview_error = view, tuple(class_names), None
        self._preview_version += 1

    def show_preview_error(self, sentence: str) -> None:
        """The pending knobs make no data: say why, and keep showing the run's own points."""
        self.preview, self.preview_error = None, sentence
        self._preview_version += 1

    def clear_preview(self) -> None:
        if self.preview is not None or self.preview_error is not None:
            self.preview, self.preview_error = None, None
            self._preview_version += 1

    # --- drawing -------------------------------------------------------------------------
    def refresh(self, state: RunState) -> None:
        insights = state.insights
        run_view_key = (state.run_key, insights.data_view_version)
        if self._preview_for is None:
            self._preview_for = run_view_key
        elif self._preview_for != run_view_key:  # a new run's data replaces any preview
            self._preview_for = run_view_key
            self.clear_preview()
        boundary = insights.boundary if self.preview is None else None
        binary = boundary is not None and boundary.positive_probability is not None
        points_key = (run_view_key, insights.inputs_version, self._preview_version)
        image_key = (points_key, insights.boundary_version)
        contour_key = (image_key, state.threshold if binary else None)
        if self._drawn is not None and self._drawn == (points_key, image_key, contour_key):
            return
        drawn_points, drawn_image, drawn_contour = self._drawn or (None, None, None)
        self._drawn = (points_key, image_key, contour_key)
        view = self.preview or insights.data_view
        class_names = self._preview_classes if self.preview is not None else state.class_names
        if points_key != drawn_points:
            self._draw_points(view, class_names)
            self._show_words(state, view, class_names)
        if image_key != drawn_image:
            self._draw_image(view, boundary, len(class_names))
        if contour_key != drawn_contour:
            self._draw_contour(view, boundary, state.threshold)
        self._set_title(state, view, boundary, class_names)

    def _draw_points(self, view: ev.DataView | None, class_names: tuple[str, ...]) -> None:
        if view is None:
            self.train_points.clear()
            self.validation_points.clear()
            return
        theme = self.theme
        fills = [QBrush(QColor(theme.palette.class_color(k))) for k in range(len(class_names))]
        outlines = [theme.pen(theme.palette.class_color(k), 1.6) for k in range(len(class_names))]
        white = pg.mkPen("#ffffff", width=0.8)
        size = theme.px(6.0)
        self.train_points.setData(
            pos=view.train_xy,
            brush=[fills[k % len(fills)] for k in view.train_y.tolist()] if fills else None,
            pen=white,
            size=size,
        )
        self.validation_points.setData(
            pos=view.validation_xy,
            brush=QBrush(Qt.BrushStyle.NoBrush),
            pen=[outlines[k % len(outlines)] for k in view.validation_y.tolist()]
            if outlines
            else None,
            size=size + theme.px(1.0),
        )
        self.plot.setLabel("bottom", view.x_label, **theme.label_style())
        self.plot.setLabel("left", view.y_label, **theme.label_style())
        self.plot.getViewBox().setRange(xRange=view.x_range, yRange=view.y_range, padding=0.0)

    def _draw_image(
        self, view: ev.DataView | None, boundary: ev.DecisionBoundary | None, n_classes: int
    ) -> None:
        if view is None or boundary is None:
            self.image.clear()
            self.image.setVisible(False)
            return
        palette = self.theme.palette
        if boundary.positive_probability is not None:
            lut = diverging_lut(palette.class_color(0), palette.class_color(1))
            self.image.setImage(
                boundary.positive_probability, levels=(0.0, 1.0), lut=lut, autoLevels=False
            )
        else:
            colors = [palette.class_color(k) for k in range(max(n_classes, 2))]
            rgb = class_image(boundary.predicted_class, boundary.confidence, colors)
            self.image.setImage(rgb, levels=(0, 255), lut=None, autoLevels=False)
        rows, cols = boundary.confidence.shape
        (x0, x1), (y0, y1) = view.x_range, view.y_range
        dx, dy = (x1 - x0) / max(cols - 1, 1), (y1 - y0) / max(rows - 1, 1)
        # Grid values are samples at the range's ends; pixel centres are put on them.
        self.image.setRect(QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy))
        self.image.setVisible(True)

    def _draw_contour(
        self, view: ev.DataView | None, boundary: ev.DecisionBoundary | None, threshold: float
    ) -> None:
        if view is None or boundary is None:
            self.contour.setData([], [])
            return
        if boundary.positive_probability is not None:
            segments = contour_segments(boundary.positive_probability, threshold)
        else:
            predicted = boundary.predicted_class
            borders = [
                contour_segments(smoothed(predicted == k), 0.5)
                for k in np.unique(predicted).tolist()
            ]
            segments = np.concatenate(borders) if borders else np.empty((0, 2))
        rows, cols = boundary.confidence.shape
        (x0, x1), (y0, y1) = view.x_range, view.y_range
        x = x0 + segments[:, 0] * (x1 - x0) / max(cols - 1, 1)
        y = y0 + segments[:, 1] * (y1 - y0) / max(rows - 1, 1)
        self.contour.setData(x, y, connect="pairs")

    # --- words ---------------------------------------------------------------------------
    def _set_title(
        self,
        state: RunState,
        view: ev.DataView | None,
        boundary: ev.DecisionBoundary | None,
        class_names: tuple[str, ...],
    ) -> None:
        if self.preview is not None:
            title = PREVIEW_TITLE
        elif view is None:
            title = self.title
        elif boundary is None:
            title = "the data — the boundary comes at the next evaluation"
        elif boundary.positive_probability is not None:
            positive = class_names[1] if len(class_names) > 1 else "class 1"
            title = f"P({positive}), step {boundary.step:,} · line at {state.threshold:.2f}"
        else:
            title = f"predicted class, step {boundary.step:,} · paler = less sure"
        if self.plot_title(self.plot) != title:
            self.set_plot_title(self.plot, title)

    def _show_words(
        self, state: RunState, view: ev.DataView | None, class_names: tuple[str, ...]
    ) -> None:
        palette = self.theme.palette
        dots = " ".join(
            f'<span style="color:{palette.class_color(k)}">●</span> {html.escape(name)}'
            for k, name in enumerate(class_names)
        )
        self.legend_label.setText(f"{dots} &nbsp;·&nbsp; ● training &nbsp;○ validation")
        self.legend_label.setVisible(view is not None and bool(class_names))
        note = view.note if view is not None else ""
        self.note_label.setText(note)
        self.note_label.setVisible(bool(note))
        if self.preview_error:
            message = f"No preview of the new data settings: {self.preview_error}"
        elif view is None and state.run is not None and state.run.own_loop:
            message = OWN_LOOP_BOUNDARY
        elif view is None and state.insights.validation_inputs is not None:
            message = "This data has a single input feature: there is no plane to draw."
        elif view is None:
            message = "Waiting for the run's data (the boundary is drawn live; recordings do not keep it)."
        else:
            message = ""
        self.message_label.setText(message)
        self.message_label.setVisible(bool(message))
        color = palette.error_text if self.preview_error else palette.muted
        self.message_label.setStyleSheet(
            self.theme.label_stylesheet(self.theme.annotation_pt, color)
        )

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        theme.style_plot(self.plot)
        self.plot.showGrid(x=False, y=False)
        self.contour.setPen(theme.pen(CONTOUR_COLOR, theme.curve_width))
        palette = theme.palette
        self.legend_label.setStyleSheet(theme.label_stylesheet(theme.annotation_pt))
        self.note_label.setStyleSheet(theme.label_stylesheet(theme.annotation_pt, palette.muted))
        self.invalidate()  # point sizes and colours follow the theme
