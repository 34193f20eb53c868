"""Accuracy per evaluation beside the zero-rule and random baselines."""

from __future__ import annotations

import numpy as np
import pytest

from gui.panels.accuracy_panel import AccuracyPanel


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
    assert low <= 0.0 and 1.0 <= high < 1.1
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
