"""The threshold panel: readout equals ThresholdTable, widgets stay in sync, drags stay cheap.

With more than two classes it works one-vs-rest on ``RunState.positive_class``; the expected
numbers there come from scikit-learn, not from the panel's own ThresholdTable.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from tests import event_factory
from trainscope.engine.metrics import ThresholdTable, roc_auc
from trainscope.gui.panels import threshold_panel as threshold_module
from trainscope.gui.panels.threshold_panel import (
    NO_RUN_MESSAGE,
    SWEEP_THRESHOLDS,
    ThresholdPanel,
)
from trainscope.gui.run_state import RunState


@pytest.fixture
def panel(qtbot, theme) -> ThresholdPanel:
    widget = ThresholdPanel(theme)
    qtbot.addWidget(widget)
    widget.resize(1000, 550)
    widget.show()
    return widget


def wire(panel: ThresholdPanel, state: RunState) -> None:
    """What the window does: the panel emits, the state takes the value."""
    panel.threshold_changed.connect(state.set_threshold)
    panel.costs_changed.connect(state.set_costs)
    panel.positive_class_changed.connect(state.set_positive_class)


def table_of(state: RunState) -> ThresholdTable:
    evaluation = state.latest_validation
    return ThresholdTable.from_scores(evaluation.probabilities[:, 1], evaluation.labels)


def three_class_state(weak_class: int = 2) -> RunState:
    """A 3-class run whose first validation evaluation has ``weak_class`` recall lowest."""
    state = RunState()
    state.apply(
        [event_factory.run_started(3), event_factory.weak_class_evaluation(100, weak_class)]
    )
    return state


def legend_names(plot) -> list[str]:
    return [label.text for _, label in plot.legend.items]


def test_no_run_shows_a_sentence_and_ten_classes_show_the_analysis(
    panel: ThresholdPanel, ten_class_state
) -> None:
    panel.safe_refresh(RunState())
    assert panel.stack.currentWidget() is panel.message
    assert panel.message.text() == NO_RUN_MESSAGE
    panel.safe_refresh(ten_class_state)
    assert panel.stack.currentWidget() is not panel.message
    positive = ten_class_state.positive_class
    assert positive is not None
    assert panel.table is not None
    assert panel.class_picker.isVisible()
    assert panel.class_picker.count() == 10
    assert panel.class_picker.currentText() == ten_class_state.class_names[positive]
    assert f"positive: {ten_class_state.class_names[positive]} vs rest" in panel.readout.text()
    panel.grab()
    assert panel.last_error is None


def test_two_classes_keep_class_1_positive_with_no_picker(panel, binary_state) -> None:
    panel.safe_refresh(binary_state)
    assert binary_state.positive_class == 1
    assert not panel.class_picker.isVisible()
    assert panel.class_picker.count() == 0
    assert "vs rest" not in panel.readout.text()
    assert panel.plot_title(panel.sweep_plot) == "Metrics vs threshold"
    assert panel.table.n_positive == int(np.sum(binary_state.latest_validation.labels == 1))


def test_default_positive_is_the_first_evaluations_lowest_recall_class_and_stays(
    panel: ThresholdPanel,
) -> None:
    state = three_class_state(weak_class=2)
    assert int(np.argmin(state.latest_validation.recall)) == 2
    panel.safe_refresh(state)
    assert state.positive_class == 2
    assert panel.class_picker.currentText() == "class 2"
    assert "positive: class 2 vs rest" in panel.readout.text()
    assert "positive: class 2 vs rest" in panel.plot_title(panel.sweep_plot)
    later = event_factory.weak_class_evaluation(200, weak_class=0, seed=1)
    assert int(np.argmin(later.recall)) == 0
    state.apply([later])
    panel.safe_refresh(state)
    assert state.positive_class == 2
    assert panel.class_picker.currentText() == "class 2"
    assert panel.table.n_positive == int(np.sum(later.labels == 2))  # the new evaluation's


def test_the_users_pick_sticks_until_a_new_run(panel: ThresholdPanel, qtbot) -> None:
    state = three_class_state(weak_class=2)
    wire(panel, state)
    panel.safe_refresh(state)
    with qtbot.waitSignal(panel.positive_class_changed) as blocker:
        panel.class_picker.setCurrentIndex(0)
    assert blocker.args == [0]
    assert state.positive_class == 0
    panel.safe_refresh(state)
    assert "positive: class 0 vs rest" in panel.readout.text()
    state.apply([event_factory.weak_class_evaluation(200, weak_class=1, seed=1)])
    panel.safe_refresh(state)
    assert state.positive_class == 0
    assert panel.class_picker.currentText() == "class 0"
    emitted: list[int] = []
    panel.positive_class_changed.connect(emitted.append)
    state.apply([event_factory.run_started(3)])  # a new run: its first evaluation chooses again
    panel.safe_refresh(state)
    assert state.positive_class is None
    assert panel.class_picker.currentIndex() == -1
    state.apply([event_factory.weak_class_evaluation(100, weak_class=1, seed=1)])
    panel.safe_refresh(state)
    assert state.positive_class == 1
    assert panel.class_picker.currentText() == "class 1"
    assert emitted == []  # showing the state's choice is not a pick


def test_one_vs_rest_numbers_match_sklearn(panel: ThresholdPanel) -> None:
    state = three_class_state(weak_class=2)
    state.set_positive_class(0)
    state.set_threshold(0.3)
    state.set_costs(1.0, 4.0)
    panel.safe_refresh(state)
    evaluation = state.latest_validation
    positive, score = evaluation.labels == 0, evaluation.probabilities[:, 0]
    flagged = score >= 0.3
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        positive, flagged, average="binary", zero_division=0
    )
    point = panel.point
    assert (point.precision, point.recall, point.f1) == pytest.approx((precision, recall, f1))
    fp, fn = int(np.sum(flagged & ~positive)), int(np.sum(~flagged & positive))
    assert point.expected_cost == pytest.approx((1.0 * fp + 4.0 * fn) / positive.size)
    auc, ap = skm.roc_auc_score(positive, score), skm.average_precision_score(positive, score)
    assert f"ROC, AUC {auc:.3f}" in legend_names(panel.roc_plot)
    assert f"PR, AP {ap:.3f}" in legend_names(panel.pr_plot)
    assert f"recall {recall:.3f}" in panel.readout.text()
    assert panel.pr_baseline.value() == pytest.approx(np.mean(positive))
    panel.grab()
    assert panel.last_error is None


def test_lowest_cost_on_separable_saturated_scores_is_mid_gap_not_one(panel, qtbot) -> None:
    labels = np.repeat([0, 1], 50).astype(np.int64)
    positive_probability = np.where(labels == 1, 1.0, np.linspace(0.0, 0.02, 100))
    probabilities = np.column_stack((1.0 - positive_probability, positive_probability))
    state = RunState()
    state.apply(
        [event_factory.run_started(2), event_factory.evaluation(100, probabilities, labels)]
    )
    wire(panel, state)
    panel.safe_refresh(state)
    with qtbot.waitSignal(panel.threshold_changed):
        panel.min_cost_button.click()
    assert 0.4 < state.threshold < 0.6  # (highest negative + 1.0) / 2, not the edge at 1.0
    panel.safe_refresh(state)
    assert panel.point.expected_cost == 0.0
    assert panel.min_cost == 0.0
    assert f"lowest cost 0.000 at threshold {state.threshold:.2f}" in panel.readout.text()


def test_readout_matches_the_threshold_table(panel: ThresholdPanel, binary_state) -> None:
    binary_state.set_threshold(0.3)
    binary_state.set_costs(1.0, 5.0)
    panel.safe_refresh(binary_state)
    table = table_of(binary_state)
    expected = table.at(0.3, 1.0, 5.0)
    assert panel.point == expected
    text = panel.readout.text()
    for part in (f"precision {expected.precision:.3f}", f"recall {expected.recall:.3f}"):
        assert part in text
    assert f"F1 {expected.f1:.3f}" in text
    assert f"expected cost {expected.expected_cost:.3f}" in text
    best = table.central_cost_threshold(1.0, 5.0)
    assert panel.min_cost_threshold == pytest.approx(best)
    assert f"at threshold {best:.2f}" in text
    sweep = table.sweep(SWEEP_THRESHOLDS, 1.0, 5.0)
    np.testing.assert_allclose(panel.cost_curve.getOriginalDataset()[1], sweep.expected_cost)
    np.testing.assert_allclose(panel.f1_curve.getOriginalDataset()[1], sweep.f1)
    evaluation = binary_state.latest_validation
    auc = roc_auc(evaluation.probabilities[:, 1], evaluation.labels)
    names = [label.text for _, label in panel.roc_plot.legend.items]
    assert f"ROC, AUC {auc:.3f}" in names
    assert panel.roc_point.getOriginalDataset()[1][0] == pytest.approx(expected.recall)
    panel.grab()
    assert panel.last_error is None


def test_slider_spinbox_and_line_stay_in_sync_without_echo(panel, binary_state, qtbot) -> None:
    wire(panel, binary_state)
    panel.safe_refresh(binary_state)
    emitted: list[float] = []
    panel.threshold_changed.connect(emitted.append)
    with qtbot.waitSignal(panel.threshold_changed):
        panel.slider.setValue(30)
    assert emitted == [pytest.approx(0.3)]
    assert binary_state.threshold == pytest.approx(0.3)
    assert panel.threshold_spin.value() == pytest.approx(0.3)
    panel.safe_refresh(binary_state)
    assert panel.threshold_line.value() == pytest.approx(0.3)
    assert emitted == [pytest.approx(0.3)]  # refreshing the widgets did not emit again
    panel.threshold_spin.setValue(0.655)
    assert emitted[-1] == pytest.approx(0.655)
    assert panel.slider.value() == 66
    panel.threshold_line.setValue(0.42)  # what a drag of the line does
    assert emitted[-1] == pytest.approx(0.42)
    assert panel.slider.value() == 42
    assert len(emitted) == 3


def test_costs_and_the_lowest_cost_button(panel, binary_state, qtbot) -> None:
    wire(panel, binary_state)
    panel.safe_refresh(binary_state)
    with qtbot.waitSignal(panel.costs_changed) as blocker:
        panel.cost_fn_spin.setValue(10.0)
    assert blocker.args == [1.0, 10.0]
    assert (binary_state.cost_fp, binary_state.cost_fn) == (1.0, 10.0)
    panel.safe_refresh(binary_state)
    best = table_of(binary_state).central_cost_threshold(1.0, 10.0)
    assert panel.min_cost_threshold == pytest.approx(best)
    panel.min_cost_button.click()
    assert binary_state.threshold == pytest.approx(best)


def test_dragging_does_not_rebuild_the_table_or_the_sweep(panel, binary_state, monkeypatch) -> None:
    panel.safe_refresh(binary_state)
    builds: list[int] = []
    sweeps: list[int] = []
    original_build = ThresholdTable.from_scores.__func__
    original_sweep = ThresholdTable.sweep

    def counting_build(cls, *args, **kwargs):
        builds.append(1)
        return original_build(cls, *args, **kwargs)

    def counting_sweep(self, *args, **kwargs):
        sweeps.append(1)
        return original_sweep(self, *args, **kwargs)

    monkeypatch.setattr(threshold_module.ThresholdTable, "from_scores", classmethod(counting_build))
    monkeypatch.setattr(threshold_module.ThresholdTable, "sweep", counting_sweep)
    for value in np.linspace(0.05, 0.95, 30):
        binary_state.set_threshold(float(value))
        panel.safe_refresh(binary_state)
    assert builds == []
    assert sweeps == []
    assert panel.point.threshold == pytest.approx(0.95)


def test_refresh_returns_early_when_nothing_changed(panel, binary_state, monkeypatch) -> None:
    panel.safe_refresh(binary_state)
    calls: list[int] = []
    monkeypatch.setattr(panel, "_show_threshold", lambda threshold: calls.append(1))
    panel.safe_refresh(binary_state)
    assert calls == []
    binary_state.set_threshold(0.7)
    panel.safe_refresh(binary_state)
    assert calls == [1]
