"""The decision-boundary panel: points first, then the boundary; the line follows the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from tests import event_factory
from trainscope.gui.panels.boundary_panel import PREVIEW_TITLE, BoundaryPanel
from trainscope.gui.run_state import RunState


@pytest.fixture
def panel(qtbot, theme) -> BoundaryPanel:
    widget = BoundaryPanel(theme)
    qtbot.addWidget(widget)
    widget.resize(450, 480)
    widget.show()
    return widget


def _moons_state(with_boundary: bool = True) -> tuple[RunState, object]:
    view = event_factory.moons_view()
    events = event_factory.training_stream(2, total_steps=300)
    state = RunState()
    state.apply([events[0], view, *events[1:]])
    if with_boundary:
        state.apply([event_factory.decision_boundary(view, step=300)])
    return state, view


def _contour_points(panel: BoundaryPanel) -> np.ndarray:
    x, y = panel.contour.getData()
    return np.column_stack((x, y)) if x is not None else np.empty((0, 2))


def _p_positive_at(state: RunState, view, points: np.ndarray) -> np.ndarray:
    """P(class 1) of the boundary grid at plane points, interpolated as the contour assumes."""
    grid = state.insights.boundary.positive_probability
    rows, cols = grid.shape
    col = (points[:, 0] - view.x_range[0]) / (view.x_range[1] - view.x_range[0]) * (cols - 1)
    row = (points[:, 1] - view.y_range[0]) / (view.y_range[1] - view.y_range[0]) * (rows - 1)
    c0 = np.clip(np.floor(col).astype(int), 0, cols - 2)
    r0 = np.clip(np.floor(row).astype(int), 0, rows - 2)
    fc, fr = col - c0, row - r0
    return (
        grid[r0, c0] * (1 - fc) * (1 - fr)
        + grid[r0, c0 + 1] * fc * (1 - fr)
        + grid[r0 + 1, c0] * (1 - fc) * fr
        + grid[r0 + 1, c0 + 1] * fc * fr
    )


def test_before_the_first_boundary_the_points_show_alone(panel: BoundaryPanel) -> None:
    state, view = _moons_state(with_boundary=False)
    panel.safe_refresh(state)
    assert panel.last_error is None
    assert len(panel.train_points.data) == len(view.train_xy)
    assert len(panel.validation_points.data) == len(view.validation_xy)
    assert not panel.image.isVisible()
    assert "boundary comes at the next evaluation" in panel.plot_title(panel.plot)
    x_range, y_range = panel.plot.getViewBox().viewRange()
    assert x_range == pytest.approx(view.x_range)
    assert y_range == pytest.approx(view.y_range)
    assert panel.plot.getAxis("bottom").labelText == "x1"


def test_the_boundary_is_drawn_over_the_data_ranges_with_the_contour_at_the_threshold(
    panel: BoundaryPanel,
) -> None:
    state, view = _moons_state()
    panel.safe_refresh(state)
    assert panel.image.isVisible()
    assert panel.image.image is not None
    assert panel.image.image.shape == (100, 100)
    rect = panel.image.mapRectToParent(panel.image.boundingRect())
    half_x = (view.x_range[1] - view.x_range[0]) / 99 / 2
    assert rect.left() == pytest.approx(view.x_range[0] - half_x)
    assert rect.right() == pytest.approx(view.x_range[1] + half_x)
    points = _contour_points(panel)
    assert len(points) > 20
    np.testing.assert_allclose(_p_positive_at(state, view, points), 0.5, atol=1e-5)
    assert panel.plot_title(panel.plot) == "P(malignant), step 300 · line at 0.50"
    panel.grab()
    assert panel.last_error is None


def test_the_threshold_moves_the_line_without_redrawing_the_image(
    panel: BoundaryPanel, monkeypatch
) -> None:
    state, view = _moons_state()
    panel.safe_refresh(state)
    before = _contour_points(panel)
    images = []
    monkeypatch.setattr(panel.image, "setImage", lambda *a, **k: images.append(1))
    state.set_threshold(0.2)
    panel.safe_refresh(state)
    after = _contour_points(panel)
    assert images == []
    assert not np.array_equal(before, after)
    np.testing.assert_allclose(_p_positive_at(state, view, after), 0.2, atol=1e-5)
    assert panel.plot_title(panel.plot).endswith("line at 0.20")


def test_nothing_new_means_nothing_redrawn(panel: BoundaryPanel, monkeypatch) -> None:
    state, _ = _moons_state()
    panel.safe_refresh(state)
    calls = []
    for item in (panel.image, panel.train_points):
        monkeypatch.setattr(
            item,
            "setData" if item is panel.train_points else "setImage",
            lambda *a, **k: calls.append(1),
        )
    state.apply(event_factory.training_stream(2, total_steps=50)[2:4])  # steps, no insights
    panel.safe_refresh(state)
    assert calls == []


def test_many_classes_colour_by_predicted_class_and_say_what_is_held(panel: BoundaryPanel) -> None:
    view = event_factory.blobs_view(3)
    events = event_factory.training_stream(3, total_steps=200)
    state = RunState()
    state.apply([events[0], view, *events[1:], event_factory.decision_boundary(view, step=200)])
    panel.safe_refresh(state)
    assert panel.image.image.shape == (100, 100, 3)
    assert len(_contour_points(panel)) > 0  # the borders between classes
    assert panel.plot_title(panel.plot).startswith("predicted class, step 200")
    assert panel.note_label.isVisible()
    assert "principal components" in panel.note_label.text()
    assert panel.plot.getAxis("left").labelText == "PC 2"


def test_a_preview_shows_new_points_until_a_new_run_brings_its_own(panel: BoundaryPanel) -> None:
    state, view = _moons_state()
    panel.safe_refresh(state)
    noisier = event_factory.moons_view(n_train=350, noise=0.3, seed=5)
    panel.show_preview(noisier, ("upper moon", "lower moon"))
    panel.safe_refresh(state)
    assert len(panel.train_points.data) == 350
    assert panel.plot_title(panel.plot) == PREVIEW_TITLE
    assert not panel.image.isVisible()
    assert len(_contour_points(panel)) == 0
    assert "upper moon" in panel.legend_label.text()
    state.apply([event_factory.run_started(2), noisier])  # Apply: the run on the new data
    panel.safe_refresh(state)
    assert panel.preview is None
    assert panel.plot_title(panel.plot) != PREVIEW_TITLE
    assert len(panel.train_points.data) == 350


def test_a_preview_error_is_one_sentence_in_the_panel(panel: BoundaryPanel) -> None:
    state, view = _moons_state()
    panel.safe_refresh(state)
    panel.show_preview_error("noise must be between 0 and 0.5 for spiral (got 0.8)")
    panel.safe_refresh(state)
    assert panel.message_label.isVisible()
    assert "noise must be between 0 and 0.5" in panel.message_label.text()
    assert len(panel.train_points.data) == len(view.train_xy)  # the run's own points stay
    assert panel.last_error is None


def test_data_with_one_feature_says_there_is_no_plane(panel: BoundaryPanel) -> None:
    state = RunState()
    labels = event_factory.synthetic_labels(2)
    state.apply([event_factory.run_started(2), event_factory.tabular_inputs(len(labels), 1)])
    panel.safe_refresh(state)
    assert "single input feature" in panel.message_label.text()


def test_classroom_theme_restyles_and_redraws(panel: BoundaryPanel) -> None:
    from trainscope.gui.theme import Theme

    state, _ = _moons_state()
    panel.safe_refresh(state)
    panel.apply_theme(Theme.for_scale(1.2, classroom=True))
    panel.safe_refresh(state)
    assert panel.last_error is None
    assert panel.image.isVisible()
