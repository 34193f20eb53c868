"""Accuracy per evaluation beside the zero-rule and random baselines."""

from __future__ import annotations

import numpy as np
import pytest

from tests import event_factory
from tests.gui.plot_gestures import wheel_zoom
from trainscope.gui.panels.accuracy_panel import AccuracyPanel
from trainscope.gui.run_state import RunState


@pytest.fixture
def panel(qtbot, theme) -> AccuracyPanel:
    widget = AccuracyPanel(theme)
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    return widget


def test_curves_follow_the_evaluations(panel: AccuracyPanel, ten_class_state) -> None:
    panel.safe_refresh(ten_class_state)
    evaluations = ten_class_state.evaluations
    x, y = panel.train_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, evaluations["step"])
    np.testing.assert_array_equal(y, evaluations["train_accuracy"])
    _, y = panel.validation_curve.getOriginalDataset()
    np.testing.assert_array_equal(y, evaluations["val_accuracy"])
    low, high = panel.plot.getViewBox().viewRange()[1]
    assert low <= 0.0
    assert 1.0 <= high < 1.1
    assert panel.plot_title(panel.plot) == f"validation {evaluations.last('val_accuracy'):.3f}"
    assert panel.markers.labels() == ["lr 0.001 → 0.0003"]


def test_baselines_are_labelled(panel: AccuracyPanel, binary_state, ten_class_state) -> None:
    panel.safe_refresh(binary_state)
    evaluation = binary_state.latest_validation
    assert panel.zero_rule_line.value() == pytest.approx(evaluation.zero_rule_accuracy)
    assert panel.random_line.value() == pytest.approx(evaluation.random_accuracy)
    assert panel.baseline_labels() == [
        f"zero-rule {evaluation.zero_rule_accuracy:.2f}",
        f"random {evaluation.random_accuracy:.2f}",
    ]
    panel.safe_refresh(ten_class_state)  # a new run in the same panel; baselines nearly equal
    evaluation = ten_class_state.latest_validation
    (merged,) = panel.baseline_labels()
    assert merged.startswith(f"zero-rule {evaluation.zero_rule_accuracy:.2f}")


def test_steps_without_an_evaluation_redraw_nothing_but_the_x_range_follows(
    panel: AccuracyPanel, ten_class_state, monkeypatch
) -> None:
    now = [0.0]
    panel.throttle.clock = lambda: now[0]
    panel.safe_refresh(ten_class_state)
    calls: list[object] = []
    original_set_data = panel.validation_curve.setData
    monkeypatch.setattr(
        panel.validation_curve,
        "setData",
        lambda *a, **k: (calls.append(1), original_set_data(*a, **k)),
    )
    original_title = panel.set_plot_title
    monkeypatch.setattr(
        panel, "set_plot_title", lambda *a: (calls.append("title"), original_title(*a))
    )
    view = panel.plot.getViewBox()
    for start in range(2001, 4001, 25):  # 80 frames of steps, no evaluation
        steps = np.arange(start, start + 25)
        ten_class_state.apply([event_factory.step_metrics(steps, np.full(25, 0.2))])
        panel.safe_refresh(ten_class_state)
        assert view.viewRange()[0][1] >= steps[-1]  # the x range keeps up with training
    assert calls == []
    low, high = view.viewRange()[1]
    assert low <= 0.0
    assert 1.0 <= high < 1.1
    evaluation = event_factory.evaluation(
        4000,
        ten_class_state.latest_validation.probabilities,
        ten_class_state.latest_validation.labels,
    )
    ten_class_state.apply([evaluation])
    now[0] += 0.1
    panel.safe_refresh(ten_class_state)
    assert calls == []  # evaluations redraw at most four times a second
    now[0] += 0.2
    panel.safe_refresh(ten_class_state)
    assert calls.count(1) == 1
    assert panel.validation_curve.getOriginalDataset()[0][-1] == 4000


def test_many_evaluations_are_drawn_thin_without_dots(panel: AccuracyPanel) -> None:
    state = RunState()
    state.apply(
        event_factory.training_stream(10, total_steps=4000, eval_every=10, publish_every=10)
    )
    panel.safe_refresh(state)
    assert len(state.evaluations) > 300
    assert panel.validation_curve.opts["symbol"] is None
    assert panel.validation_curve.opts["pen"].widthF() <= 1.0


def test_zooming_the_steps_keeps_y_on_zero_to_one_and_a_resets(
    panel: AccuracyPanel, ten_class_state
) -> None:
    panel.safe_refresh(ten_class_state)
    view = panel.plot.getViewBox()
    wheel_zoom(panel.plot_widget, notches=3)
    assert not panel.live_range.following
    x_low, x_high = view.viewRange()[0]
    assert x_high - x_low < 2000
    panel.plot.autoBtnClicked()  # pyqtgraph's auto-range looks at the curves, y included...
    panel.safe_refresh(ten_class_state)
    low, high = view.viewRange()[1]
    assert panel.live_range.following
    assert low <= 0.0
    assert 1.0 <= high < 1.1
    assert view.viewRange()[0][1] >= ten_class_state.step


def test_a_rewind_leaves_both_accuracies_as_a_ghost_until_a_reset(
    panel: AccuracyPanel, ten_class_state
) -> None:
    before = {name: ten_class_state.evaluations[name].copy() for name in ("step", "val_accuracy")}
    panel.safe_refresh(ten_class_state)
    ten_class_state.apply([event_factory.rewound(from_step=2000, to_step=700)])
    panel.safe_refresh(ten_class_state)
    train_ghost, validation_ghost = panel.ghost.curves
    kept = before["step"] >= 700
    x, y = validation_ghost.getOriginalDataset()
    np.testing.assert_array_equal(x, before["step"][kept])
    np.testing.assert_array_equal(y, before["val_accuracy"][kept])
    assert train_ghost.isVisible()
    assert len(train_ghost.getOriginalDataset()[0]) == kept.sum()
    assert panel.validation_curve.getOriginalDataset()[0][-1] == 700
    assert [label.text for _, label in panel.plot.legend.items][-1] == "before rewind"
    assert panel.plot.getViewBox().viewRange()[0][1] >= 2000
    ten_class_state.apply([event_factory.run_started(10)])
    panel.safe_refresh(ten_class_state)
    assert not validation_ghost.isVisible()
    assert "before rewind" not in [label.text for _, label in panel.plot.legend.items]
