"""The loss panel draws exactly the state's series, survives NaN/inf, and stays cheap when long."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from tests import event_factory
from tests.gui.plot_gestures import double_click, wheel_zoom
from trainscope.engine.events import ParamChanged
from trainscope.gui.panels.loss_panel import MAX_SMOOTHED_POINTS, LossPanel
from trainscope.gui.run_state import TRAIN_COLUMNS, RunState
from trainscope.gui.series import CompactingSeries


@pytest.fixture
def panel(qtbot, theme) -> LossPanel:
    widget = LossPanel(theme)
    qtbot.addWidget(widget)
    widget.resize(700, 450)
    widget.show()
    return widget


def test_curves_hold_the_series(panel: LossPanel, ten_class_state: RunState) -> None:
    panel.raw_checkbox.setChecked(True)
    panel.safe_refresh(ten_class_state)
    train, evaluations = ten_class_state.train, ten_class_state.evaluations
    x, y = panel.smoothed_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, train["step"])
    np.testing.assert_array_equal(y, train["smoothed_loss"])
    x, y = panel.raw_curve.getOriginalDataset()
    np.testing.assert_array_equal(y, train["loss"])
    x, y = panel.validation_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, evaluations["step"])
    np.testing.assert_array_equal(y, evaluations["val_loss"])
    assert panel.legend_names() == ["train (smoothed)", "validation", "train (raw, per batch)"]
    assert panel.last_error is None


def test_chance_line_best_marker_and_param_marker(panel: LossPanel, ten_class_state) -> None:
    panel.safe_refresh(ten_class_state)
    assert panel.chance_line.isVisible()
    assert panel.chance_line.value() == pytest.approx(math.log(10))
    assert panel.chance_line.label.toPlainText() == "chance (ln 10 = 2.30)"
    assert panel.best_line.value() == ten_class_state.best_step
    assert panel.best_point.getOriginalDataset()[1][0] == pytest.approx(
        ten_class_state.best_val_loss
    )
    assert panel.markers.labels() == ["lr 0.001 → 0.0003"]
    assert panel.markers.lines[0].value() == 801
    ten_class_state.apply([ParamChanged(step=2001, key="dropout", old=0.0, new=0.5)])
    panel.safe_refresh(ten_class_state)
    assert panel.markers.labels() == ["lr 0.001 → 0.0003", "dropout 0 → 0.5"]


def test_log_scale_moves_reference_lines_into_log_space(panel: LossPanel, ten_class_state) -> None:
    panel.safe_refresh(ten_class_state)
    panel.log_checkbox.setChecked(True)
    panel.safe_refresh(ten_class_state)
    assert panel.chance_line.value() == pytest.approx(math.log10(math.log(10)))
    panel.grab()  # paint in log mode
    assert panel.last_error is None


def test_nan_and_inf_losses_do_not_crash_and_refresh_goes_on(panel: LossPanel) -> None:
    state = RunState()
    state.apply(event_factory.diverging_stream())
    panel.raw_checkbox.setChecked(True)
    assert panel.safe_refresh(state)
    panel.grab()  # paint the non-finite curve
    panel.log_checkbox.setChecked(True)
    assert panel.safe_refresh(state)
    panel.grab()
    assert "diverged (loss inf)" in panel.markers.labels()
    assert np.isnan(panel.raw_curve.getOriginalDataset()[1]).any()
    state.apply([event_factory.rewound(from_step=350, to_step=300)])
    state.apply([event_factory.step_metrics(np.arange(301, 326), np.full(25, 0.5))])
    assert panel.safe_refresh(state)
    x, _ = panel.smoothed_curve.getOriginalDataset()
    assert x[-1] == 325
    assert panel.last_error is None


def test_refresh_returns_early_when_nothing_changed(
    panel: LossPanel, ten_class_state, monkeypatch
) -> None:
    panel.safe_refresh(ten_class_state)
    calls: list[int] = []
    original = panel.smoothed_curve.setData

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(panel.smoothed_curve, "setData", counting)
    for _ in range(5):
        panel.safe_refresh(ten_class_state)
    assert calls == []
    ten_class_state.apply([event_factory.step_metrics(np.arange(2001, 2026), np.full(25, 0.1))])
    panel.safe_refresh(ten_class_state)
    assert calls == [1]


def test_rewind_truncates_the_drawn_curves(panel: LossPanel, ten_class_state) -> None:
    panel.safe_refresh(ten_class_state)
    ten_class_state.apply([event_factory.rewound(from_step=2000, to_step=1200)])
    panel.safe_refresh(ten_class_state)
    x, _ = panel.smoothed_curve.getOriginalDataset()
    assert x[-1] == 1200
    x, _ = panel.validation_curve.getOriginalDataset()
    assert x[-1] == 1200
    assert panel.markers.labels() == ["lr 0.001 → 0.0003", "rewind from 2000"]


def _long_state(total: int, recent_rows: int | None = None) -> tuple[RunState, np.ndarray]:
    state = RunState()
    if recent_rows is not None:
        state.train = CompactingSeries(TRAIN_COLUMNS, recent_rows=recent_rows)
    state.apply([event_factory.run_started()])
    steps = np.arange(1, total + 1)
    loss = event_factory.loss_curve(steps, math.log(10))
    for block in np.array_split(np.arange(steps.size), 20):
        state.apply([event_factory.step_metrics(steps[block], loss[block])])
    return state, loss


def test_long_runs_are_drawn_decimated_and_in_full_when_zoomed(panel: LossPanel) -> None:
    state, loss = _long_state(200_000)
    panel.raw_checkbox.setChecked(True)
    panel.safe_refresh(state)
    raw_x, raw_y = panel.raw_curve.getOriginalDataset()
    assert len(raw_x) <= 4 * 2048 + 2
    assert raw_y.max() == loss.max()  # peaks survive decimation
    assert len(panel.smoothed_curve.getOriginalDataset()[0]) <= MAX_SMOOTHED_POINTS + 1
    wheel_zoom(panel.plot_widget)  # the user takes the view...
    panel.plot.getViewBox().setXRange(1000, 2000, padding=0)  # ...and settles on these steps
    panel.safe_refresh(state)
    raw_x, raw_y = panel.raw_curve.getOriginalDataset()
    np.testing.assert_array_equal(raw_x, np.arange(1, 3000))  # the window and a width each side
    np.testing.assert_array_equal(raw_y, loss[:2999])


def test_zoom_into_compacted_history_shows_buckets_there_and_every_recent_step(
    panel: LossPanel,
) -> None:
    state, loss = _long_state(100_000, recent_rows=20_000)
    assert state.train.total_rows == 100_000
    assert len(state.train) < 30_000
    panel.raw_checkbox.setChecked(True)
    panel.safe_refresh(state)
    assert panel.raw_curve.getOriginalDataset()[1].max() == loss.max()
    exact_from = int(state.train["step"][0])  # older steps are in buckets
    wheel_zoom(panel.plot_widget)
    view_low, view_high = exact_from - 3_000, exact_from + 1_000
    panel.plot.getViewBox().setXRange(view_low, view_high, padding=0)
    panel.safe_refresh(state)
    start, stop = view_low - 4_000, view_high + 4_000  # drawn: a view width each side
    raw_x, raw_y = panel.raw_curve.getOriginalDataset()
    recent = raw_x >= exact_from
    np.testing.assert_array_equal(raw_x[recent], np.arange(exact_from, stop))
    np.testing.assert_array_equal(raw_y[recent], loss[exact_from - 1 : stop - 1])
    old = raw_x[~recent]
    assert old.min() >= start
    assert 0 < len(old) < (exact_from - start) / 8
    assert raw_y[~recent].max() == loss[int(old.min()) - 1 : exact_from - 1].max()


def test_view_follows_the_run_in_jumps_not_every_frame(panel: LossPanel) -> None:
    state = RunState()
    state.apply(event_factory.training_stream(10, total_steps=1000, lr_change_at=None))
    panel.safe_refresh(state)
    view = panel.plot.getViewBox()
    ranges = [tuple(view.viewRange()[0])]
    rng = np.random.default_rng(1)
    for start in range(1001, 3001, 25):  # 80 frames of 25 steps: the run triples
        steps = np.arange(start, start + 25)
        state.apply([event_factory.step_metrics(steps, 0.3 + 0.01 * rng.random(25))])
        panel.safe_refresh(state)
        x_low, x_high = view.viewRange()[0]
        assert x_low <= 1
        assert x_high >= steps[-1]
        if (x_low, x_high) != ranges[-1]:
            ranges.append((x_low, x_high))
    assert 2 <= len(ranges) <= 7  # 25% jumps: a handful of range changes, not 80
    y_high = view.viewRange()[1][1]
    state.apply([event_factory.step_metrics(np.arange(3001, 3011), np.full(10, 50.0))])
    panel.safe_refresh(state)
    spike = state.train.last("smoothed_loss")
    assert spike > y_high
    assert view.viewRange()[1][1] >= spike


def test_user_zoom_is_kept_until_a_double_click_or_the_a_button(
    panel: LossPanel, ten_class_state
) -> None:
    panel.safe_refresh(ten_class_state)
    view = panel.plot.getViewBox()
    wheel_zoom(panel.plot_widget, notches=3)
    assert not panel.live_range.following
    zoomed = view.viewRange()
    ten_class_state.apply([event_factory.step_metrics(np.arange(2001, 4001), np.full(2000, 5.0))])
    panel.safe_refresh(ten_class_state)
    assert view.viewRange() == zoomed  # new data does not take the view back
    double_click(panel.plot_widget)
    panel.safe_refresh(ten_class_state)
    assert panel.live_range.following
    (x_low, x_high), (_, y_high) = view.viewRange()
    assert x_low <= 1
    assert x_high >= 4000
    assert y_high >= 5.0
    wheel_zoom(panel.plot_widget)
    assert not panel.live_range.following
    panel.plot.autoBtnClicked()  # pyqtgraph's "A" button
    panel.safe_refresh(ten_class_state)
    assert panel.live_range.following
    assert view.viewRange()[0][1] >= 4000


def test_new_steps_outside_a_zoomed_window_cost_no_redraw(
    panel: LossPanel, ten_class_state, monkeypatch
) -> None:
    panel.safe_refresh(ten_class_state)
    wheel_zoom(panel.plot_widget)
    panel.plot.getViewBox().setXRange(100, 300, padding=0)
    panel.safe_refresh(ten_class_state)
    calls: list[int] = []
    original = panel.smoothed_curve.setData
    monkeypatch.setattr(
        panel.smoothed_curve, "setData", lambda *a, **k: (calls.append(1), original(*a, **k))
    )
    ten_class_state.apply([event_factory.step_metrics(np.arange(2001, 2026), np.full(25, 0.1))])
    panel.safe_refresh(ten_class_state)
    assert calls == []
    panel.plot.getViewBox().setXRange(1900, 2100, padding=0)  # panning to the present draws it
    panel.safe_refresh(ten_class_state)
    assert calls == [1]
    assert panel.smoothed_curve.getOriginalDataset()[0][-1] == 2025


def test_log_scale_refits_y_in_log_space(panel: LossPanel, ten_class_state) -> None:
    panel.safe_refresh(ten_class_state)
    panel.log_checkbox.setChecked(True)
    panel.safe_refresh(ten_class_state)
    low, high = panel.plot.getViewBox().viewRange()[1]
    smoothed = ten_class_state.train["smoothed_loss"]
    assert low <= math.log10(smoothed.min())
    assert math.log10(smoothed.max()) <= high
    assert high - low < 3  # log10 units, not the linear range of a loss


def _marker_pixels(panel: LossPanel, step: float, low: float, high: float) -> int:
    """Pixels of the marker colour on the column of ``step`` between two shares of the height."""
    view = panel.plot.getViewBox()
    image = panel.plot_widget.grab().toImage()
    (_, _), (y_low, y_high) = view.viewRange()
    colour = QColor(panel.markers.color_for("param"))
    count = 0
    for share in np.linspace(low, high, 40):
        point = view.mapViewToScene(QPointF(step, y_low + share * (y_high - y_low)))
        pixel = panel.plot_widget.mapFromScene(point)
        for dx in (-1, 0, 1):
            if image.pixelColor(pixel.x() + dx, pixel.y()) == colour:
                count += 1
    return count


def test_marker_lines_span_the_view_in_linear_and_log_scale(
    panel: LossPanel, ten_class_state
) -> None:
    panel.safe_refresh(ten_class_state)
    assert _marker_pixels(panel, 801, 0.05, 0.3) > 0  # the lr change, near the bottom
    panel.log_checkbox.setChecked(True)
    panel.safe_refresh(ten_class_state)
    assert _marker_pixels(panel, 801, 0.05, 0.3) > 0
    assert _marker_pixels(panel, 801, 0.7, 0.95) > 0
    (_, _), (y_low, y_high) = panel.plot.getViewBox().viewRange()
    label_y = panel.markers.lines[0].label.pos().y()
    assert y_low < label_y < y_high  # labels follow the view into log space


def _rewound_and_retrained(state: RunState) -> RunState:
    """The lr-too-high try-this: rewind from 2000 to 700, then 500 steps at the new rate."""
    state.apply([event_factory.rewound(from_step=2000, to_step=700)])
    state.apply([event_factory.step_metrics(np.arange(701, 1201), np.full(500, 0.6))])
    return state


def test_a_rewind_leaves_the_cut_off_curves_as_a_faded_ghost(
    panel: LossPanel, ten_class_state
) -> None:
    smoothed_before = ten_class_state.train["smoothed_loss"].copy()
    panel.safe_refresh(ten_class_state)
    assert "before rewind" not in panel.legend_names()
    state = _rewound_and_retrained(ten_class_state)
    panel.safe_refresh(state)
    train_ghost, validation_ghost = panel.ghost.curves
    x, y = train_ghost.getOriginalDataset()
    np.testing.assert_array_equal(x, np.arange(700, 2001))
    np.testing.assert_array_equal(y, smoothed_before[699:])
    np.testing.assert_array_equal(
        validation_ghost.getOriginalDataset()[0], np.arange(700, 2001, 100)
    )
    assert train_ghost.isVisible()
    assert validation_ghost.isVisible()
    assert panel.smoothed_curve.getOriginalDataset()[0][-1] == 1200  # the live run, cut and regrown
    assert panel.legend_names()[-1] == "before rewind"
    assert panel.plot.getViewBox().viewRange()[0][1] >= 2000  # the "before" stays in sight
    pen, live = train_ghost.opts["pen"], panel.smoothed_curve.opts["pen"]
    assert pen.color().rgb() == live.color().rgb()  # the same colour...
    assert pen.color().alpha() < 255
    assert pen.style() != live.style()


def test_the_ghost_is_set_once_per_rewind_not_every_frame(
    panel: LossPanel, ten_class_state, monkeypatch
) -> None:
    state = _rewound_and_retrained(ten_class_state)
    panel.safe_refresh(state)
    calls: list[int] = []
    curve = panel.ghost.curves[0]
    original = curve.setData
    monkeypatch.setattr(curve, "setData", lambda *a, **k: (calls.append(1), original(*a, **k)))
    for start in range(1201, 1301, 25):
        state.apply([event_factory.step_metrics(np.arange(start, start + 25), np.full(25, 0.5))])
        panel.safe_refresh(state)
    assert calls == []
    state.apply([event_factory.rewound(from_step=1300, to_step=1000)])
    panel.safe_refresh(state)
    assert calls == [1]
    assert curve.getOriginalDataset()[0][-1] == 1300


def test_a_reset_clears_the_ghost(panel: LossPanel, ten_class_state) -> None:
    state = _rewound_and_retrained(ten_class_state)
    panel.safe_refresh(state)
    state.apply([event_factory.run_started(10)])  # what a reset sends
    panel.safe_refresh(state)
    assert not any(curve.isVisible() for curve in panel.ghost.curves)
    x, _ = panel.ghost.curves[0].getOriginalDataset()
    assert x is None or len(x) == 0
    assert "before rewind" not in panel.legend_names()


def test_the_raw_loss_has_its_own_true_legend_entry(panel: LossPanel, ten_class_state) -> None:
    panel.safe_refresh(ten_class_state)
    assert panel.legend_names() == ["train (smoothed)", "validation"]
    panel.raw_checkbox.setChecked(True)
    assert panel.legend_names() == ["train (smoothed)", "validation", "train (raw, per batch)"]
    panel.raw_checkbox.setChecked(False)
    assert panel.legend_names() == ["train (smoothed)", "validation"]


def test_a_narrow_chart_wraps_its_legend_instead_of_cutting_an_entry_off(
    panel: LossPanel, ten_class_state
) -> None:
    panel.resize(300, 420)
    panel.raw_checkbox.setChecked(True)
    panel.safe_refresh(_rewound_and_retrained(ten_class_state))
    panel.plot_widget.grab()  # lay out and paint
    legend = panel.plot.legend
    assert len(legend.items) == 4
    assert legend.columnCount < 4
    chart = panel.plot_widget.sceneRect()
    for _sample, label in legend.items:
        assert chart.contains(label.sceneBoundingRect()), label.text
    panel.resize(1200, 420)
    panel.plot_widget.grab()
    assert legend.columnCount == 4  # room again: one row
