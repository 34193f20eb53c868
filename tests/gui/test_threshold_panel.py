"""The threshold panel: readout equals ThresholdTable, widgets stay in sync, drags stay cheap."""

from __future__ import annotations

import numpy as np
import pytest

from engine.metrics import ThresholdTable, roc_auc
from gui.panels import threshold_panel as threshold_module
from gui.panels.threshold_panel import (
    MULTICLASS_MESSAGE,
    NO_RUN_MESSAGE,
    SWEEP_THRESHOLDS,
    ThresholdPanel,
)
from gui.run_state import RunState


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


def table_of(state: RunState) -> ThresholdTable:
    evaluation = state.latest_validation
    return ThresholdTable.from_scores(evaluation.probabilities[:, 1], evaluation.labels)


def test_multiclass_shows_a_sentence(panel: ThresholdPanel, ten_class_state) -> None:
    panel.safe_refresh(RunState())
    assert panel.message.text() == NO_RUN_MESSAGE
    panel.safe_refresh(ten_class_state)
    assert panel.stack.currentWidget() is panel.message
    assert panel.message.text() == MULTICLASS_MESSAGE


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
    assert f"F1 {expected.f1:.3f}" in text and f"expected cost {expected.expected_cost:.3f}" in text
    best = min(table.best_cost_threshold(1.0, 5.0), 1.0)
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
    assert emitted == [pytest.approx(0.3)] and binary_state.threshold == pytest.approx(0.3)
    assert panel.threshold_spin.value() == pytest.approx(0.3)
    panel.safe_refresh(binary_state)
    assert panel.threshold_line.value() == pytest.approx(0.3)
    assert emitted == [pytest.approx(0.3)]  # refreshing the widgets did not emit again
    panel.threshold_spin.setValue(0.655)
    assert emitted[-1] == pytest.approx(0.655) and panel.slider.value() == 66
    panel.threshold_line.setValue(0.42)  # what a drag of the line does
    assert emitted[-1] == pytest.approx(0.42) and panel.slider.value() == 42
    assert len(emitted) == 3


def test_costs_and_the_lowest_cost_button(panel, binary_state, qtbot) -> None:
    wire(panel, binary_state)
    panel.safe_refresh(binary_state)
    with qtbot.waitSignal(panel.costs_changed) as blocker:
        panel.cost_fn_spin.setValue(10.0)
    assert blocker.args == [1.0, 10.0]
    assert (binary_state.cost_fp, binary_state.cost_fn) == (1.0, 10.0)
    panel.safe_refresh(binary_state)
    best = min(table_of(binary_state).best_cost_threshold(1.0, 10.0), 1.0)
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
    assert builds == [] and sweeps == []
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
