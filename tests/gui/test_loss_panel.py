"""The loss panel draws exactly the state's series, survives NaN/inf, and stays cheap when long."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.events import ParamChanged
from gui.panels.loss_panel import MAX_SMOOTHED_POINTS, LossPanel
from gui.run_state import RunState
from tests.gui import fake_events


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
    assert panel.legend_names() == ["train (smoothed)", "validation", "train, per batch"]
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
    state.apply(fake_events.diverging_stream())
    panel.raw_checkbox.setChecked(True)
    assert panel.safe_refresh(state)
    panel.grab()  # paint the non-finite curve
    panel.log_checkbox.setChecked(True)
    assert panel.safe_refresh(state)
    panel.grab()
    assert "diverged (loss inf)" in panel.markers.labels()
    assert np.isnan(panel.raw_curve.getOriginalDataset()[1]).any()
    state.apply([fake_events.rewound(from_step=350, to_step=300)])
    state.apply([fake_events.step_metrics(np.arange(301, 326), np.full(25, 0.5))])
    assert panel.safe_refresh(state)
    x, _ = panel.smoothed_curve.getOriginalDataset()
    assert x[-1] == 325 and panel.last_error is None


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
    ten_class_state.apply([fake_events.step_metrics(np.arange(2001, 2026), np.full(25, 0.1))])
    panel.safe_refresh(ten_class_state)
    assert calls == [1]


def test_rewind_truncates_the_drawn_curves(panel: LossPanel, ten_class_state) -> None:
    panel.safe_refresh(ten_class_state)
    ten_class_state.apply([fake_events.rewound(from_step=2000, to_step=1200)])
    panel.safe_refresh(ten_class_state)
    x, _ = panel.smoothed_curve.getOriginalDataset()
    assert x[-1] == 1200
    x, _ = panel.validation_curve.getOriginalDataset()
    assert x[-1] == 1200
    assert panel.markers.labels() == ["lr 0.001 → 0.0003", "rewind from 2000"]


def test_long_runs_are_drawn_decimated_and_in_full_when_zoomed(panel: LossPanel) -> None:
    state = RunState()
    state.apply([fake_events.run_started()])
    steps = np.arange(1, 200_001)
    loss = fake_events.loss_curve(steps, math.log(10))
    for block in np.array_split(np.arange(steps.size), 20):
        state.apply([fake_events.step_metrics(steps[block], loss[block])])
    panel.raw_checkbox.setChecked(True)
    panel.safe_refresh(state)
    raw_x, raw_y = panel.raw_curve.getOriginalDataset()
    assert len(raw_x) <= 4 * 2048 + 2
    assert raw_y.max() == loss.max()  # peaks survive decimation
    assert len(panel.smoothed_curve.getOriginalDataset()[0]) <= MAX_SMOOTHED_POINTS + 1
    panel.plot.getViewBox().setXRange(1000, 2000)  # the user zooms in: autorange is off
    panel.safe_refresh(state)
    assert len(panel.raw_curve.getOriginalDataset()[0]) == steps.size
